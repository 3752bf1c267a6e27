/*
 * lanraged.conf: the daemon's own settings, sections [Interface] and
 * [Node] (party mode).  What a user changes at run time lives in the
 * settings database instead (settings.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lib/addr.h"
#include "lib/log.h"

#define LR_SPEC(key, type, field, sz, lo, hi)				\
	{ "Interface", key, type, offsetof(struct lanraged_conf, field), \
	    sz, lo, hi }
#define LR_NODE(key, type, field, sz)					\
	{ "Node", key, type, offsetof(struct lanraged_conf, field), sz, 0, 0 }
#define LR_FIELDSZ(field)	sizeof(((struct lanraged_conf *)0)->field)

static const struct conf_spec lanraged_specs[] = {
	LR_SPEC("Name", CONF_IFNAME, ifname, LR_FIELDSZ(ifname), 0, 0),
	LR_SPEC("MTU", CONF_UINT, mtu, 0, 68, 65535),
	LR_SPEC("ListenPort", CONF_UINT, listen_port, 0, 0, 65535),
	/*
	 * An interface address keeps its host bits (10.66.0.5/16), which
	 * CONF_PREFIX_LIST refuses: it is read as text and parsed below.
	 */
	LR_SPEC("Address", CONF_STRING, address_text,
	    LR_FIELDSZ(address_text), 0, 0),
	LR_SPEC("Route", CONF_PREFIX_LIST, route, 0, 0, 0),
	LR_SPEC("User", CONF_USER, user, 0, 0, 0),
	LR_SPEC("NetdSocket", CONF_PATH, netd_sock, LR_FIELDSZ(netd_sock),
	    0, 0),
	LR_SPEC("UapiDir", CONF_PATH, uapi_dir, LR_FIELDSZ(uapi_dir), 0, 0),
	LR_SPEC("Threads", CONF_UINT, threads, 0, 1, LANRAGED_MAX_THREADS),
	LR_NODE("Party", CONF_BOOL, party, 0),
	LR_NODE("Database", CONF_PATH, database, LR_FIELDSZ(database)),
	LR_NODE("ControlSocket", CONF_PATH, ctl_sock, LR_FIELDSZ(ctl_sock)),
	LR_NODE("Group", CONF_STRING, group_text, LR_FIELDSZ(group_text)),
	LR_NODE("HttpAddress", CONF_STRING, http_addr, LR_FIELDSZ(http_addr)),
	LR_NODE("UiDir", CONF_PATH, ui_dir, LR_FIELDSZ(ui_dir)),
};

void
lanraged_conf_defaults(struct lanraged_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", LANRAGED_IFNAME);
	c->mtu = LANRAGED_MTU;
	c->listen_port = LANRAGED_PORT;
	snprintf(c->user.name, sizeof(c->user.name), "%s", "_lanrage");
	c->user.uid = (uid_t)-1;
	snprintf(c->netd_sock, sizeof(c->netd_sock), "%s",
	    LANRAGED_NETD_SOCK);
	snprintf(c->uapi_dir, sizeof(c->uapi_dir), "%s", LANRAGED_UAPI_DIR);
	c->party = true;
	snprintf(c->database, sizeof(c->database), "%s", LANRAGED_DATABASE);
	snprintf(c->ctl_sock, sizeof(c->ctl_sock), "%s", LANRAGED_CTL_SOCK);
	snprintf(c->http_addr, sizeof(c->http_addr), "%s", LANRAGED_HTTP_ADDR);
	snprintf(c->ui_dir, sizeof(c->ui_dir), "%s", LANRAGED_UI_DIR);
}

/*
 * The group of the control socket: Group when set (it must exist), else
 * "lanrage" when it exists, else User's own group.
 */
static int
lanraged_conf_group(struct lanraged_conf *c, const char **why)
{
	struct group	*gr;
	unsigned long	 v;
	char		*end;

	if (c->group_text[0] == '\0') {
		gr = getgrnam(LANRAGED_GROUP);
		c->group = gr != NULL ? gr->gr_gid : c->user.gid;
		return 0;
	}
	if ((gr = getgrnam(c->group_text)) != NULL) {
		c->group = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(c->group_text, &end, 10);
	if (c->group_text[0] < '0' || c->group_text[0] > '9' || *end != '\0' ||
	    errno != 0 || v >= (gid_t)-1) {
		*why = "no such group";
		return -1;
	}
	c->group = (gid_t)v;
	return 0;
}

/* The file, whole, NUL-terminated; NULL with err filled. */
static char *
lanraged_conf_read(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		*text = NULL;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_FILE_MAX) {
		errno = !S_ISREG(st.st_mode) ? EINVAL : EFBIG;
		goto fail;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size &&
	    (n = read(fd, text + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	if (off < (size_t)st.st_size) {
		errno = EIO;
		goto fail;
	}
	close(fd);
	text[off] = '\0';
	*len = off;
	return text;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(text);
	if (fd != -1)
		close(fd);
	return NULL;
}

static char *
lanraged_trim(char *s)
{
	char	*e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The line of the first "key =" in [Interface], for error messages. */
static unsigned int
lanraged_conf_keyline(const char *text, const char *key)
{
	char		 line[CONF_LINE_MAX + 1], *s, *eq;
	const char	*p = text, *nl;
	unsigned int	 n = 0;
	int		 inside = 0;
	size_t		 l;

	for (; *p != '\0'; p = nl != NULL ? nl + 1 : p + l) {
		n++;
		nl = strchr(p, '\n');
		l = nl != NULL ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		s = lanraged_trim(line);
		if (*s == '[') {
			inside = strncasecmp(s, "[Interface]", 11) == 0;
			continue;
		}
		if (!inside || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcasecmp(lanraged_trim(s), key) == 0)
			return n;
	}
	return 0;
}

/* "off", or an IP literal (the port is the setting api.port). */
static bool
lanraged_conf_http_ok(const char *s)
{
	struct addr	 a;

	return strcmp(s, "off") == 0 || addr_parse(s, &a) == 0;
}

static int
lanraged_conf_check(const char *path, const char *text,
    struct lanraged_conf *c, char *err, size_t errlen)
{
	const char	*why;
	char		 sock[LANRAGED_PATH_MAX];
	long		 ncpu;

	if (conf_parse_addresses(c->address_text, &c->address, &why) == -1) {
		snprintf(err, errlen, "%s:%u: Address: %s", path,
		    lanraged_conf_keyline(text, "Address"), why);
		return -1;
	}
	/* A name that did not resolve must not silently become uid -1. */
	if (c->user.uid == (uid_t)-1 &&
	    conf_parse_user(c->user.name, &c->user, &why) == -1) {
		snprintf(err, errlen, "%s: User: %s: %s", path, c->user.name,
		    why);
		return -1;
	}
	if (lanraged_conf_group(c, &why) == -1) {
		snprintf(err, errlen, "%s: Group: %s: %s", path, c->group_text,
		    why);
		return -1;
	}
	if (lanraged_conf_uapi_path(c, sock, sizeof(sock)) == -1) {
		snprintf(err, errlen, "%s:%u: UapiDir: too long for a socket "
		    "path", path, lanraged_conf_keyline(text, "UapiDir"));
		return -1;
	}
	if (!lanraged_conf_http_ok(c->http_addr)) {
		snprintf(err, errlen, "%s: HttpAddress: %s: want an IP address "
		    "(127.0.0.1, ::1 ...) or off", path, c->http_addr);
		return -1;
	}
	if (c->threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		c->threads = ncpu < 1 ? 1 : ncpu > LANRAGED_MAX_THREADS ?
		    LANRAGED_MAX_THREADS : (unsigned long)ncpu;
	}
	return 0;
}

int
lanraged_conf_load(const char *path, struct lanraged_conf *c, char *err,
    size_t errlen)
{
	char	*text;
	size_t	 len;
	int	 rc = -1;

	lanraged_conf_defaults(c);
	if ((text = lanraged_conf_read(path, &len, err, errlen)) == NULL)
		return -1;
	if (conf_load_buf(path, text, len, lanraged_specs,
	    sizeof(lanraged_specs) / sizeof(lanraged_specs[0]), c, err,
	    errlen) == -1)
		goto done;
	rc = lanraged_conf_check(path, text, c, err, errlen);
done:
	free(text);
	return rc;
}

int
lanraged_conf_uapi_path(const struct lanraged_conf *c, char *dst,
    size_t dstlen)
{
	int	 n;

	n = snprintf(dst, dstlen, "%s/%s.sock", c->uapi_dir, c->ifname);
	if (n < 0 || (size_t)n >= dstlen || (size_t)n >= LANRAGED_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
