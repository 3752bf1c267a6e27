/*
 * WireGuard-style INI parser, driven by a table of struct conf_spec.
 * The whole file is parsed into a scratch copy of the caller's struct and
 * copied back only when it is valid, so a failed load leaves dst alone.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define CONF_IFNAMSIZ	16
#define CONF_ELEM_MAX	64	/* one list element: a prefix or a range */
#define CONF_PWBUF	16384

struct conf_ctx {
	const char		*name;
	const struct conf_spec	*specs;
	size_t			 nspecs;
	char			*dst;		/* scratch copy */
	unsigned		*seen;		/* per spec: line first seen */
	const char		*section;	/* NULL: no section yet */
	const char		*key;
	unsigned		 line;
	char			*err;
	size_t			 errlen;
};

static void	conf_errf(char *, size_t, const char *, ...)
		    LR_LOG_PRINTF(3, 4);
static int	conf_err(struct conf_ctx *, const char *, const char *, ...)
		    LR_LOG_PRINTF(3, 4);

static void
conf_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "name:line: key: reason", or without the key; always -1, EINVAL. */
static int
conf_err(struct conf_ctx *ctx, const char *key, const char *fmt, ...)
{
	char	reason[CONF_ERR_MAX], k[64];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (key != NULL) {
		log_escape(k, sizeof(k), key, strlen(key));
		conf_errf(ctx->err, ctx->errlen, "%s:%u: %s: %s", ctx->name,
		    ctx->line, k, reason);
	} else
		conf_errf(ctx->err, ctx->errlen, "%s:%u: %s", ctx->name,
		    ctx->line, reason);
	errno = EINVAL;
	return -1;
}

static char *
conf_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

/* '#' starts a comment at the start of a line or after whitespace. */
static void
conf_strip_comment(char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '#' &&
		    (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
			s[i] = '\0';
			return;
		}
	}
}

static bool
conf_has_cntrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool
conf_is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int
conf_parse_bool(const char *s, bool *out, const char **why)
{
	static const struct {
		const char	*word;
		bool		 val;
	} words[] = {
		{ "true", true }, { "yes", true }, { "on", true },
		{ "1", true }, { "false", false }, { "no", false },
		{ "off", false }, { "0", false },
	};
	size_t	i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			*out = words[i].val;
			return 0;
		}
	}
	*why = "not a boolean";
	errno = EINVAL;
	return -1;
}

/* Decimal only: no sign, no spaces, no base prefix. */
int
conf_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, const char **why)
{
	unsigned long	v;

	if (!conf_is_digits(s)) {
		*why = "not a number";
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno == ERANGE || v < min || v > max) {
		*why = "out of range";
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

static int
conf_user_by_uid(const char *s, struct conf_user *u, const char **why)
{
	struct passwd		 pw, *res;
	char			 buf[CONF_PWBUF];
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno == ERANGE || v >= (uid_t)-1) {
		*why = "uid out of range";
		return -1;
	}
	u->uid = (uid_t)v;
	if (getpwuid_r(u->uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && strlen(pw.pw_name) < sizeof(u->name)) {
		u->gid = pw.pw_gid;
		memcpy(u->name, pw.pw_name, strlen(pw.pw_name) + 1);
	} else {
		/* A uid without a passwd entry runs with the same gid. */
		u->gid = (gid_t)u->uid;
		snprintf(u->name, sizeof(u->name), "%lu",
		    (unsigned long)u->uid);
	}
	return 0;
}

static int
conf_user_by_name(const char *s, struct conf_user *u, const char **why)
{
	struct passwd	 pw, *res;
	char		 buf[CONF_PWBUF];
	int		 rc;

	if (strlen(s) >= sizeof(u->name)) {
		*why = "user name too long";
		return -1;
	}
	rc = getpwnam_r(s, &pw, buf, sizeof(buf), &res);
	if (rc != 0) {
		*why = "cannot look up user";
		return -1;
	}
	if (res == NULL) {
		*why = "no such user";
		return -1;
	}
	memcpy(u->name, s, strlen(s) + 1);
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return 0;
}

/* A name is looked up; all digits is a uid, with or without an entry. */
int
conf_parse_user(const char *s, struct conf_user *out, const char **why)
{
	struct conf_user	u;
	int			rc;

	memset(&u, 0, sizeof(u));
	if (*s == '\0' || conf_has_cntrl(s)) {
		*why = "invalid user name";
		rc = -1;
	} else if (conf_is_digits(s))
		rc = conf_user_by_uid(s, &u, why);
	else
		rc = conf_user_by_name(s, &u, why);
	if (rc == -1) {
		errno = EINVAL;
		return -1;
	}
	*out = u;
	return 0;
}

/*
 * Copy the next comma-separated element of *sp, trimmed, into elem.
 * 1: an element, 0: the end, -1: an empty or oversized element.
 */
static int
conf_list_next(const char **sp, char *elem, size_t elemsz,
    const char **why)
{
	const char	*s = *sp, *e;
	size_t		 n;

	if (s == NULL)
		return 0;
	e = strchr(s, ',');
	n = e != NULL ? (size_t)(e - s) : strlen(s);
	*sp = e != NULL ? e + 1 : NULL;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		*why = "empty list element";
		return -1;
	}
	if (n >= elemsz) {
		*why = "list element too long";
		return -1;
	}
	memcpy(elem, s, n);
	elem[n] = '\0';
	return 1;
}

/* An empty or blank value is an empty list. */
static const char *
conf_list_start(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' ? NULL : s;
}

static int
conf_parse_prefix(const char *s, struct prefix *p, const char **why)
{
	if (prefix_parse(s, p) == -1) {
		*why = "invalid prefix";
		return -1;
	}
	if (!prefix_is_canonical(p)) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

typedef int (*conf_elem_fn)(char *, void *, const char **);

/*
 * A comma-separated list into arr (elements of size sz, at most
 * CONF_LIST_MAX), counted in *n; both untouched on error.
 */
static int
conf_parse_list(const char *s, void *arr, size_t sz, size_t *n,
    conf_elem_fn parse, const char **why)
{
	union {				/* aligned for every element */
		struct prefix		p;
		struct conf_port_range	r;
	}		 tmp[CONF_LIST_MAX];
	char		 elem[CONF_ELEM_MAX];
	const char	*p = conf_list_start(s);
	size_t		 k = 0;
	int		 rc;

	while ((rc = conf_list_next(&p, elem, sizeof(elem), why)) == 1) {
		if (k == CONF_LIST_MAX) {
			*why = "too many entries";
			rc = -1;
			break;
		}
		if ((rc = parse(elem, (uint8_t *)tmp + k * sz, why)) == -1)
			break;
		k++;
	}
	if (rc == -1) {
		errno = EINVAL;
		return -1;
	}
	memcpy(arr, tmp, k * sz);
	*n = k;
	return 0;
}

static int
conf_elem_prefix(char *e, void *out, const char **why)
{
	return conf_parse_prefix(e, out, why);
}

static int
conf_elem_address(char *e, void *out, const char **why)
{
	if (prefix_parse(e, out) == -1) {
		*why = "invalid address/prefix";
		return -1;
	}
	return 0;
}

int
conf_parse_addresses(const char *s, struct conf_prefixes *out,
    const char **why)
{
	return conf_parse_list(s, out->p, sizeof(out->p[0]), &out->n,
	    conf_elem_address, why);
}

/* Fills out from scratch; out is untouched on error. */
int
conf_parse_prefixes(const char *s, struct conf_prefixes *out,
    const char **why)
{
	return conf_parse_list(s, out->p, sizeof(out->p[0]), &out->n,
	    conf_elem_prefix, why);
}

static int
conf_parse_port(const char *s, uint16_t *port, const char **why)
{
	unsigned long	v;

	if (conf_parse_uint(s, 1, 65535, &v, why) == -1) {
		*why = errno == ERANGE ? "port out of range" : "invalid port";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* "N" or "N-M", spaces allowed around the dash. */
static int
conf_parse_range(char *s, struct conf_port_range *r, const char **why)
{
	char	*dash;

	if ((dash = strchr(s, '-')) == NULL) {
		if (conf_parse_port(s, &r->lo, why) == -1)
			return -1;
		r->hi = r->lo;
		return 0;
	}
	*dash = '\0';
	if (conf_parse_port(conf_trim(s), &r->lo, why) == -1 ||
	    conf_parse_port(conf_trim(dash + 1), &r->hi, why) == -1)
		return -1;
	if (r->lo > r->hi) {
		*why = "port range reversed";
		return -1;
	}
	return 0;
}

static int
conf_elem_range(char *e, void *out, const char **why)
{
	return conf_parse_range(e, out, why);
}

/* Fills out from scratch; out is untouched on error. */
int
conf_parse_ports(const char *s, struct conf_ports *out, const char **why)
{
	return conf_parse_list(s, out->r, sizeof(out->r[0]), &out->n,
	    conf_elem_range, why);
}

bool
conf_ifname_valid(const char *s)
{
	size_t	n, i;

	n = strnlen(s, CONF_IFNAMSIZ);
	if (n == 0 || n >= CONF_IFNAMSIZ)
		return false;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]) == NULL)
			return false;
	}
	return true;
}

static bool
conf_is_list(enum conf_type t)
{
	return t == CONF_PREFIX_LIST || t == CONF_PORT_LIST;
}

/* Bytes a spec writes at its offset; 0 for a malformed spec. */
static size_t
conf_field_size(const struct conf_spec *s)
{
	switch (s->type) {
	case CONF_BOOL:
		return sizeof(bool);
	case CONF_UINT:
		return sizeof(unsigned long);
	case CONF_STRING:
	case CONF_PATH:
		return s->size;
	case CONF_USER:
		return sizeof(struct conf_user);
	case CONF_PREFIX_LIST:
		return sizeof(struct conf_prefixes);
	case CONF_PORT_LIST:
		return sizeof(struct conf_ports);
	case CONF_IFNAME:
		return CONF_IFNAMSIZ;
	}
	return 0;
}

static const char *
conf_spec_section(const struct conf_spec *s)
{
	return s->section != NULL ? s->section : "";
}

static int
conf_set_bool(struct conf_ctx *ctx, void *field, const char *val)
{
	const char	*why;
	bool		 b;

	if (conf_parse_bool(val, &b, &why) == -1)
		return conf_err(ctx, ctx->key, "%s", why);
	memcpy(field, &b, sizeof(b));
	return 0;
}

static int
conf_set_uint(struct conf_ctx *ctx, const struct conf_spec *spec,
    void *field, const char *val)
{
	const char	*why;
	unsigned long	 v;
	int		 rc;

	rc = conf_parse_uint(val, 0, ULONG_MAX, &v, &why);
	if (rc == -1 && errno != ERANGE)
		return conf_err(ctx, ctx->key, "%s", why);
	if (rc == -1 || v < spec->min || v > spec->max)
		return conf_err(ctx, ctx->key, "must be between %lu and %lu",
		    spec->min, spec->max);
	memcpy(field, &v, sizeof(v));
	return 0;
}

static int
conf_set_string(struct conf_ctx *ctx, const struct conf_spec *spec,
    void *field, const char *val)
{
	size_t	n = strlen(val);

	if (n >= spec->size)
		return conf_err(ctx, ctx->key, "too long (max %zu bytes)",
		    spec->size - 1);
	if (conf_has_cntrl(val))
		return conf_err(ctx, ctx->key, "control character in value");
	if (spec->type == CONF_PATH && val[0] != '/')
		return conf_err(ctx, ctx->key, "not an absolute path");
	memcpy(field, val, n + 1);
	return 0;
}

static int
conf_set_user(struct conf_ctx *ctx, void *field, const char *val)
{
	struct conf_user	 u;
	const char		*why;

	if (conf_parse_user(val, &u, &why) == -1)
		return conf_err(ctx, ctx->key, "%s", why);
	memcpy(field, &u, sizeof(u));
	return 0;
}

static int
conf_set_ifname(struct conf_ctx *ctx, void *field, const char *val)
{
	char	name[CONF_IFNAMSIZ];

	if (!conf_ifname_valid(val))
		return conf_err(ctx, ctx->key, "invalid interface name");
	memset(name, 0, sizeof(name));
	memcpy(name, val, strlen(val));
	memcpy(field, name, sizeof(name));
	return 0;
}

/*
 * The first use in a file replaces the default, later ones append: *n
 * counts the elements of arr, add holds addn more of size elsize.
 */
static int
conf_list_append(struct conf_ctx *ctx, size_t *n, void *arr,
    const void *add, size_t addn, size_t elsize, bool first)
{
	size_t	 cur = first ? 0 : *n;

	if (cur > CONF_LIST_MAX || addn > CONF_LIST_MAX - cur)
		return conf_err(ctx, ctx->key, "too many entries (max %d)",
		    CONF_LIST_MAX);
	memcpy((uint8_t *)arr + cur * elsize, add, addn * elsize);
	*n = cur + addn;
	return 0;
}

static int
conf_set_prefixes(struct conf_ctx *ctx, void *field, const char *val,
    bool first)
{
	struct conf_prefixes	*cur = field, add;
	const char		*why;

	if (conf_parse_prefixes(val, &add, &why) == -1)
		return conf_err(ctx, ctx->key, "%s", why);
	return conf_list_append(ctx, &cur->n, cur->p, add.p, add.n,
	    sizeof(add.p[0]), first);
}

static int
conf_set_ports(struct conf_ctx *ctx, void *field, const char *val,
    bool first)
{
	struct conf_ports	*cur = field, add;
	const char		*why;

	if (conf_parse_ports(val, &add, &why) == -1)
		return conf_err(ctx, ctx->key, "%s", why);
	return conf_list_append(ctx, &cur->n, cur->r, add.r, add.n,
	    sizeof(add.r[0]), first);
}

static int
conf_set(struct conf_ctx *ctx, size_t i, const char *val)
{
	const struct conf_spec	*spec = &ctx->specs[i];
	void			*field = ctx->dst + spec->offset;
	bool			 first = ctx->seen[i] == 0;

	if (!first && !conf_is_list(spec->type))
		return conf_err(ctx, ctx->key,
		    "duplicate key (first on line %u)", ctx->seen[i]);
	if (*val == '\0' && !conf_is_list(spec->type))
		return conf_err(ctx, ctx->key, "missing value");
	if (first)
		ctx->seen[i] = ctx->line;
	switch (spec->type) {
	case CONF_BOOL:
		return conf_set_bool(ctx, field, val);
	case CONF_UINT:
		return conf_set_uint(ctx, spec, field, val);
	case CONF_STRING:
	case CONF_PATH:
		return conf_set_string(ctx, spec, field, val);
	case CONF_USER:
		return conf_set_user(ctx, field, val);
	case CONF_PREFIX_LIST:
		return conf_set_prefixes(ctx, field, val, first);
	case CONF_PORT_LIST:
		return conf_set_ports(ctx, field, val, first);
	case CONF_IFNAME:
		return conf_set_ifname(ctx, field, val);
	}
	return conf_err(ctx, ctx->key, "bad spec");
}

static int
conf_section(struct conf_ctx *ctx, char *s)
{
	char	*name, esc[64];
	size_t	 i, n = strlen(s);

	if (n < 2 || s[n - 1] != ']')
		return conf_err(ctx, NULL, "malformed section header");
	s[n - 1] = '\0';
	name = conf_trim(s + 1);
	for (i = 0; *name != '\0' && i < ctx->nspecs; i++) {
		if (strcasecmp(conf_spec_section(&ctx->specs[i]), name) == 0) {
			ctx->section = conf_spec_section(&ctx->specs[i]);
			return 0;
		}
	}
	log_escape(esc, sizeof(esc), name, strlen(name));
	return conf_err(ctx, NULL, "unknown section [%s]", esc);
}

static int
conf_keyval(struct conf_ctx *ctx, char *s)
{
	char	*eq, *val;
	size_t	 i;

	if ((eq = strchr(s, '=')) == NULL)
		return conf_err(ctx, NULL, "expected \"key = value\"");
	*eq = '\0';
	ctx->key = conf_trim(s);
	val = conf_trim(eq + 1);
	if (*ctx->key == '\0')
		return conf_err(ctx, NULL, "missing key");
	if (ctx->section == NULL)
		return conf_err(ctx, ctx->key, "key outside of any section");
	for (i = 0; i < ctx->nspecs; i++) {
		if (strcasecmp(conf_spec_section(&ctx->specs[i]),
		    ctx->section) == 0 &&
		    strcasecmp(ctx->specs[i].key, ctx->key) == 0)
			return conf_set(ctx, i, val);
	}
	return conf_err(ctx, ctx->key, "unknown key");
}

static int
conf_line(struct conf_ctx *ctx, const char *p, size_t n)
{
	char	 buf[CONF_LINE_MAX + 1], *s;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > CONF_LINE_MAX)
		return conf_err(ctx, NULL, "line too long (max %d bytes)",
		    CONF_LINE_MAX);
	if (memchr(p, '\0', n) != NULL)
		return conf_err(ctx, NULL, "NUL byte in line");
	memcpy(buf, p, n);
	buf[n] = '\0';
	conf_strip_comment(buf);
	s = conf_trim(buf);
	ctx->key = NULL;
	if (*s == '\0')
		return 0;
	if (*s == '[')
		return conf_section(ctx, s);
	return conf_keyval(ctx, s);
}

/* Size of the caller's struct the specs reach into; 0 if one is bad. */
static size_t
conf_extent(const struct conf_spec *specs, size_t nspecs)
{
	size_t	i, sz, end = 0;

	for (i = 0; i < nspecs; i++) {
		sz = conf_field_size(&specs[i]);
		if (sz == 0 || specs[i].key == NULL ||
		    specs[i].offset > SIZE_MAX - sz ||
		    (specs[i].type == CONF_IFNAME && specs[i].size != 0 &&
		    specs[i].size < CONF_IFNAMSIZ))
			return 0;
		if (specs[i].offset + sz > end)
			end = specs[i].offset + sz;
	}
	return end;
}

/* Keys may precede any header only when some spec has section "". */
static const char *
conf_initial_section(const struct conf_spec *specs, size_t nspecs)
{
	size_t	i;

	for (i = 0; i < nspecs; i++)
		if (*conf_spec_section(&specs[i]) == '\0')
			return "";
	return NULL;
}

static int
conf_parse_text(struct conf_ctx *ctx, const char *text, size_t len)
{
	const char	*nl;
	size_t		 off = 0, n;

	while (off < len) {
		ctx->line++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (conf_line(ctx, text + off, n) == -1)
			return -1;
		off += n + (nl != NULL);
	}
	return 0;
}

int
conf_load_buf(const char *name, const char *text, size_t len,
    const struct conf_spec *specs, size_t nspecs, void *dst,
    char *err, size_t errlen)
{
	struct conf_ctx	 ctx;
	size_t		 extent;
	int		 rc = -1;

	memset(&ctx, 0, sizeof(ctx));
	if (len > CONF_FILE_MAX) {
		conf_errf(err, errlen, "%s: file too large (max %d bytes)",
		    name, CONF_FILE_MAX);
		errno = EFBIG;
		return -1;
	}
	if ((extent = conf_extent(specs, nspecs)) == 0 && nspecs > 0) {
		conf_errf(err, errlen, "%s: invalid conf_spec table", name);
		errno = EINVAL;
		return -1;
	}
	ctx.name = name;
	ctx.specs = specs;
	ctx.nspecs = nspecs;
	ctx.err = err;
	ctx.errlen = errlen;
	ctx.section = conf_initial_section(specs, nspecs);
	if ((ctx.dst = malloc(extent + 1)) == NULL ||
	    (ctx.seen = calloc(nspecs + 1, sizeof(*ctx.seen))) == NULL) {
		conf_errf(err, errlen, "%s: %s", name, strerror(errno));
		goto done;
	}
	if (extent > 0)
		memcpy(ctx.dst, dst, extent);
	if (conf_parse_text(&ctx, text, len) == -1)
		goto done;
	if (extent > 0)
		memcpy(dst, ctx.dst, extent);
	rc = 0;
done:
	free(ctx.dst);
	free(ctx.seen);
	return rc;
}

/* Opens path and checks its type, size and, for secrets, its mode. */
static int
conf_open(const char *path, bool secret, char *err, size_t errlen)
{
	struct stat	st;
	int		fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		conf_errf(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_errf(err, errlen, "%s: not a regular file", path);
		saved = EINVAL;
	} else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		conf_errf(err, errlen, "%s: secret file is accessible by "
		    "group or others (mode %04o, want 0600)", path,
		    (unsigned)(st.st_mode & 07777));
		saved = EPERM;
	} else if (st.st_size > CONF_FILE_MAX) {
		conf_errf(err, errlen, "%s: file too large (max %d bytes)",
		    path, CONF_FILE_MAX);
		saved = EFBIG;
	} else
		return fd;
fail:
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/* Reads to EOF; a file that grows past CONF_FILE_MAX fails with EFBIG. */
static int
conf_read(int fd, char **bufp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (len == cap) {
			if (cap > CONF_FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > CONF_FILE_MAX + 1)
				cap = CONF_FILE_MAX + 1;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		len += r;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return -1;
}

int
conf_load(const char *path, const struct conf_spec *specs, size_t nspecs,
    void *dst, bool secret, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len;
	int	 fd, rc = -1, saved;

	if ((fd = conf_open(path, secret, err, errlen)) == -1)
		return -1;
	if (conf_read(fd, &buf, &len) == -1) {
		saved = errno;
		if (saved == EFBIG)
			conf_errf(err, errlen, "%s: file too large "
			    "(max %d bytes)", path, CONF_FILE_MAX);
		else
			conf_errf(err, errlen, "%s: %s", path,
			    strerror(saved));
		goto done;
	}
	rc = conf_load_buf(path, buf, len, specs, nspecs, dst, err, errlen);
	saved = errno;
done:
	free(buf);
	close(fd);
	errno = saved;
	return rc;
}
