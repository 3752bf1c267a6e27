/*
 * WireGuard UAPI: an incremental request parser and the GET serializer.
 * The parser never applies anything: a SET comes out whole or not at all.
 * Key material passes through the line buffer and the set; both are wiped
 * as soon as they are done with.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/wg/uapi.h"

enum {
	UAPI_ST_OP,		/* expecting "get=1" or "set=1" */
	UAPI_ST_GET,		/* in a GET, expecting the blank line */
	UAPI_ST_SET,		/* in a SET */
	UAPI_ST_DEAD		/* framing lost; input ignored */
};

enum {
	UAPI_CTX_DEV,		/* only before the first public_key */
	UAPI_CTX_PEER,		/* only after a public_key */
	UAPI_CTX_ANY
};

struct uapi_key {
	const char	*name;
	int		 ctx;
	int		(*fn)(struct wg_uapi_set *, const char *);
};

static int	 uapi_private_key(struct wg_uapi_set *, const char *);
static int	 uapi_listen_port(struct wg_uapi_set *, const char *);
static int	 uapi_fwmark(struct wg_uapi_set *, const char *);
static int	 uapi_replace_peers(struct wg_uapi_set *, const char *);
static int	 uapi_public_key(struct wg_uapi_set *, const char *);
static int	 uapi_remove(struct wg_uapi_set *, const char *);
static int	 uapi_update_only(struct wg_uapi_set *, const char *);
static int	 uapi_preshared_key(struct wg_uapi_set *, const char *);
static int	 uapi_endpoint(struct wg_uapi_set *, const char *);
static int	 uapi_keepalive(struct wg_uapi_set *, const char *);
static int	 uapi_replace_aips(struct wg_uapi_set *, const char *);
static int	 uapi_allowed_ip(struct wg_uapi_set *, const char *);
static int	 uapi_protocol_version(struct wg_uapi_set *, const char *);

static const struct uapi_key uapi_keys[] = {
	{ "private_key",		UAPI_CTX_DEV,	uapi_private_key },
	{ "listen_port",		UAPI_CTX_DEV,	uapi_listen_port },
	{ "fwmark",			UAPI_CTX_DEV,	uapi_fwmark },
	{ "replace_peers",		UAPI_CTX_DEV,	uapi_replace_peers },
	{ "public_key",			UAPI_CTX_ANY,	uapi_public_key },
	{ "remove",			UAPI_CTX_PEER,	uapi_remove },
	{ "update_only",		UAPI_CTX_PEER,	uapi_update_only },
	{ "preshared_key",		UAPI_CTX_PEER,	uapi_preshared_key },
	{ "endpoint",			UAPI_CTX_PEER,	uapi_endpoint },
	{ "persistent_keepalive_interval", UAPI_CTX_PEER, uapi_keepalive },
	{ "replace_allowed_ips",	UAPI_CTX_PEER,	uapi_replace_aips },
	{ "allowed_ip",			UAPI_CTX_PEER,	uapi_allowed_ip },
	{ "protocol_version",		UAPI_CTX_PEER,	uapi_protocol_version },
};

#define UAPI_NKEYS	(sizeof(uapi_keys) / sizeof(uapi_keys[0]))

static int
uapi_einval(void)
{
	errno = EINVAL;
	return -1;
}

/* The section being filled: the last one, or NULL before public_key. */
static struct wg_uapi_peer *
uapi_peer(struct wg_uapi_set *set)
{
	return set->npeers > 0 ? &set->peers[set->npeers - 1] : NULL;
}

/* Exactly 64 hex digits, either case. */
static int
uapi_hex_key(uint8_t key[WG_UAPI_KEY_LEN], const char *v)
{
	size_t	 n;

	if (strlen(v) != WG_UAPI_KEY_LEN * 2 ||
	    sodium_hex2bin(key, WG_UAPI_KEY_LEN, v, WG_UAPI_KEY_LEN * 2,
	    NULL, &n, NULL) != 0 || n != WG_UAPI_KEY_LEN)
		return uapi_einval();
	return 0;
}

/* Decimal without sign or leading zeros, at most max. */
static int
uapi_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t	 n = 0;
	unsigned	 d;

	if (v[0] == '\0' || (v[0] == '0' && v[1] != '\0'))
		return uapi_einval();
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return uapi_einval();
		d = *v - '0';
		if (n > (max - d) / 10)
			return uapi_einval();
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/* The only value a flag key takes, as in wireguard-go. */
static int
uapi_true(const char *v)
{
	return strcmp(v, "true") == 0 ? 0 : uapi_einval();
}

/*
 * Grow a key-holding array to hold one more element.  realloc() would
 * leave a copy of the old block unwiped, hence copy, wipe and free.
 */
static int
uapi_grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return 0;
	if (n >= max) {
		errno = E2BIG;
		return -1;
	}
	ncap = *cap == 0 ? 8 : *cap * 2;
	if (ncap > max)
		ncap = max;
	if ((p = calloc(ncap, size)) == NULL)
		return -1;
	if (*arr != NULL) {
		memcpy(p, *arr, n * size);
		sodium_memzero(*arr, *cap * size);
		free(*arr);
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

static int
uapi_private_key(struct wg_uapi_set *set, const char *v)
{
	if (uapi_hex_key(set->private_key, v) == -1)
		return -1;
	set->flags |= WG_UAPI_SET_PRIVATE_KEY;
	return 0;
}

static int
uapi_listen_port(struct wg_uapi_set *set, const char *v)
{
	uint64_t	 n;

	if (uapi_uint(v, UINT16_MAX, &n) == -1)
		return -1;
	set->listen_port = n;
	set->flags |= WG_UAPI_SET_LISTEN_PORT;
	return 0;
}

static int
uapi_fwmark(struct wg_uapi_set *set, const char *v)
{
	uint64_t	 n;

	if (uapi_uint(v, UINT32_MAX, &n) == -1)
		return -1;
	set->fwmark = n;
	set->flags |= WG_UAPI_SET_FWMARK;
	return 0;
}

static int
uapi_replace_peers(struct wg_uapi_set *set, const char *v)
{
	if (uapi_true(v) == -1)
		return -1;
	set->flags |= WG_UAPI_SET_REPLACE_PEERS;
	return 0;
}

static int
uapi_public_key(struct wg_uapi_set *set, const char *v)
{
	uint8_t			 key[WG_UAPI_KEY_LEN];
	struct wg_uapi_peer	*peer;

	if (uapi_hex_key(key, v) == -1)
		return -1;
	if (uapi_grow((void **)&set->peers, &set->peers_cap, set->npeers,
	    sizeof(*set->peers), WG_UAPI_PEERS_MAX) == -1)
		return -1;
	peer = &set->peers[set->npeers++];
	memset(peer, 0, sizeof(*peer));
	memcpy(peer->public_key, key, sizeof(key));
	peer->aips_off = set->naips;
	return 0;
}

static int
uapi_remove(struct wg_uapi_set *set, const char *v)
{
	if (uapi_true(v) == -1)
		return -1;
	uapi_peer(set)->flags |= WG_UAPI_PEER_REMOVE;
	return 0;
}

static int
uapi_update_only(struct wg_uapi_set *set, const char *v)
{
	if (uapi_true(v) == -1)
		return -1;
	uapi_peer(set)->flags |= WG_UAPI_PEER_UPDATE_ONLY;
	return 0;
}

static int
uapi_preshared_key(struct wg_uapi_set *set, const char *v)
{
	struct wg_uapi_peer	*peer = uapi_peer(set);

	if (uapi_hex_key(peer->preshared_key, v) == -1)
		return -1;
	peer->flags |= WG_UAPI_PEER_PRESHARED_KEY;
	return 0;
}

static int
uapi_endpoint(struct wg_uapi_set *set, const char *v)
{
	struct wg_uapi_peer	*peer = uapi_peer(set);

	if (sockaddr_parse(v, &peer->endpoint, &peer->endpoint_len) == -1)
		return uapi_einval();
	peer->flags |= WG_UAPI_PEER_ENDPOINT;
	return 0;
}

static int
uapi_keepalive(struct wg_uapi_set *set, const char *v)
{
	struct wg_uapi_peer	*peer = uapi_peer(set);
	uint64_t		 n;

	if (uapi_uint(v, UINT16_MAX, &n) == -1)
		return -1;
	peer->keepalive = n;
	peer->flags |= WG_UAPI_PEER_KEEPALIVE;
	return 0;
}

/* This section's earlier allowed_ip lines are the tail of set->aips. */
static int
uapi_replace_aips(struct wg_uapi_set *set, const char *v)
{
	struct wg_uapi_peer	*peer = uapi_peer(set);

	if (uapi_true(v) == -1)
		return -1;
	set->naips = peer->aips_off;
	peer->flags |= WG_UAPI_PEER_REPLACE_AIPS;
	return 0;
}

/* The "/len" is required, as in wireguard-go; host bits are cleared. */
static int
uapi_allowed_ip(struct wg_uapi_set *set, const char *v)
{
	struct prefix	 p;

	if (strchr(v, '/') == NULL || prefix_parse(v, &p) == -1)
		return uapi_einval();
	prefix_mask(&p);
	if (uapi_grow((void **)&set->aips, &set->aips_cap, set->naips,
	    sizeof(*set->aips), WG_UAPI_AIPS_MAX) == -1)
		return -1;
	set->aips[set->naips++] = p;
	return 0;
}

static int
uapi_protocol_version(struct wg_uapi_set *set, const char *v)
{
	return strcmp(v, "1") == 0 ? 0 : uapi_einval();
}

void
wg_uapi_set_free(struct wg_uapi_set *set)
{
	if (set == NULL)
		return;
	if (set->peers != NULL) {
		sodium_memzero(set->peers,
		    set->peers_cap * sizeof(*set->peers));
		free(set->peers);
	}
	free(set->aips);
	sodium_memzero(set, sizeof(*set));
	free(set);
}

void
wg_uapi_parser_init(struct wg_uapi_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = UAPI_ST_OP;
}

void
wg_uapi_parser_free(struct wg_uapi_parser *p)
{
	wg_uapi_set_free(p->set);
	sodium_memzero(p, sizeof(*p));
	p->state = UAPI_ST_DEAD;
}

/* Remember the first error of the request and drop what was built. */
static void
uapi_fail(struct wg_uapi_parser *p, int error)
{
	if (p->error == 0)
		p->error = error;
	wg_uapi_set_free(p->set);
	p->set = NULL;
}

/* Framing is lost: answer once, then ignore the stream. */
static void
uapi_fatal(struct wg_uapi_parser *p, struct wg_uapi_req *req, int error)
{
	uapi_fail(p, error);
	p->state = UAPI_ST_DEAD;
	req->kind = WG_UAPI_ERROR;
	req->error = error;
	req->close = true;
}

static void
uapi_op_line(struct wg_uapi_parser *p, struct wg_uapi_req *req)
{
	if (p->longline)
		uapi_fatal(p, req, EPROTO);
	else if (strcmp(p->line, "get=1") == 0)
		p->state = UAPI_ST_GET;
	else if (strcmp(p->line, "set=1") == 0) {
		p->state = UAPI_ST_SET;
		if ((p->set = calloc(1, sizeof(*p->set))) == NULL)
			uapi_fail(p, ENOMEM);
	} else
		uapi_fatal(p, req, EPROTO);
}

static const struct uapi_key *
uapi_key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < UAPI_NKEYS; i++)
		if (strcmp(uapi_keys[i].name, name) == 0)
			return &uapi_keys[i];
	return NULL;
}

/* One "key=value" line of a SET; 0, or -1 with the errno to answer. */
static int
uapi_set_line(struct wg_uapi_set *set, char *line, size_t len)
{
	const struct uapi_key	*k;
	char			*eq;
	size_t			 i;

	if ((eq = memchr(line, '=', len)) == NULL) {
		errno = EPROTO;
		return -1;
	}
	/* A NUL would cut the value short; no key or value needs these. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return uapi_einval();
	*eq = '\0';
	if ((k = uapi_key_find(line)) == NULL)
		return uapi_einval();
	if ((k->ctx == UAPI_CTX_DEV && set->npeers > 0) ||
	    (k->ctx == UAPI_CTX_PEER && set->npeers == 0))
		return uapi_einval();
	return k->fn(set, eq + 1);
}

static void
uapi_body_line(struct wg_uapi_parser *p)
{
	if (p->longline)
		uapi_fail(p, EMSGSIZE);
	else if (p->error != 0)
		return;
	else if (p->state == UAPI_ST_GET)
		uapi_fail(p, EINVAL);
	else if (uapi_set_line(p->set, p->line, p->linelen) == -1)
		uapi_fail(p, errno);
}

/* The blank line: hand the request over and start the next one. */
static void
uapi_end(struct wg_uapi_parser *p, struct wg_uapi_req *req)
{
	struct wg_uapi_set	*set = p->set;
	size_t			 i, end;

	if (p->error != 0) {
		req->kind = WG_UAPI_ERROR;
		req->error = p->error;
	} else if (p->state == UAPI_ST_GET)
		req->kind = WG_UAPI_GET;
	else {
		for (i = 0; i < set->npeers; i++) {
			end = i + 1 < set->npeers ?
			    set->peers[i + 1].aips_off : set->naips;
			set->peers[i].aips = set->aips + set->peers[i].aips_off;
			set->peers[i].naips = end - set->peers[i].aips_off;
		}
		req->kind = WG_UAPI_SET;
		req->set = set;
	}
	p->set = NULL;
	p->state = UAPI_ST_OP;
	p->error = 0;
	p->reqlen = 0;
}

static void
uapi_line(struct wg_uapi_parser *p, struct wg_uapi_req *req)
{
	p->line[p->linelen] = '\0';
	if (p->state == UAPI_ST_OP)
		uapi_op_line(p, req);
	else if (p->linelen == 0 && !p->longline)
		uapi_end(p, req);
	else
		uapi_body_line(p);
	sodium_memzero(p->line, p->linelen);
	p->linelen = 0;
	p->longline = false;
}

/* Buffer part of a line; an overlong line is dropped, not truncated. */
static void
uapi_append(struct wg_uapi_parser *p, const char *s, size_t n)
{
	if (p->longline)
		return;
	if (n > WG_UAPI_LINE_MAX - p->linelen) {
		sodium_memzero(p->line, p->linelen);
		p->linelen = 0;
		p->longline = true;
		return;
	}
	memcpy(p->line + p->linelen, s, n);
	p->linelen += n;
}

size_t
wg_uapi_parse(struct wg_uapi_parser *p, const void *data, size_t len,
    struct wg_uapi_req *req)
{
	const char	*s = data, *nl;
	size_t		 used = 0, n;

	memset(req, 0, sizeof(*req));
	while (used < len && p->state != UAPI_ST_DEAD) {
		nl = memchr(s + used, '\n', len - used);
		n = nl != NULL ? (size_t)(nl - (s + used)) : len - used;
		if (n + (nl != NULL) > WG_UAPI_REQ_MAX - p->reqlen) {
			uapi_fatal(p, req, E2BIG);
			break;
		}
		p->reqlen += n + (nl != NULL);
		uapi_append(p, s + used, n);
		used += n;
		if (nl == NULL)
			break;
		used++;
		uapi_line(p, req);
		if (req->kind != WG_UAPI_NONE)
			break;
	}
	if (p->state == UAPI_ST_DEAD)
		return len;
	return used;
}

/* GET output. */

static int
uapi_putf(struct buf *b, const char *fmt, ...)
{
	char		 line[128];
	va_list		 ap;
	int		 r;

	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(line)) {
		errno = ENOBUFS;
		return -1;
	}
	return buf_put(b, line, r);
}

static int
uapi_put_key(struct buf *b, const char *name, const uint8_t *key)
{
	char	 hex[WG_UAPI_KEY_LEN * 2 + 1];
	int	 r;

	sodium_bin2hex(hex, sizeof(hex), key, WG_UAPI_KEY_LEN);
	r = uapi_putf(b, "%s=%s\n", name, hex);
	sodium_memzero(hex, sizeof(hex));
	return r;
}

/*
 * Go's netip spelling, which differs from inet_ntop() for IPv4-compatible
 * IPv6 addresses: only ::ffff:0:0/96 gets a dotted quad; the first
 * longest run of two or more zero groups becomes "::".
 */
static void
uapi_fmt_v6(const uint8_t *a, char *out, size_t len)
{
	static const uint8_t	 mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned		 w[8], i, j, zs = 8, ze = 8;
	size_t			 o = 0;

	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		snprintf(out, len, "::ffff:%u.%u.%u.%u",
		    a[12], a[13], a[14], a[15]);
		return;
	}
	for (i = 0; i < 8; i++)
		w[i] = a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && w[j] == 0; j++)
			;
		if (j - i >= 2 && j - i > ze - zs) {
			zs = i;
			ze = j;
		}
	}
	out[0] = '\0';
	for (i = 0; i < 8 && o < len; i++) {
		if (i == zs) {
			o += snprintf(out + o, len - o, "::");
			i = ze - 1;
			continue;
		}
		o += snprintf(out + o, len - o, "%s%x",
		    i > 0 && i != ze ? ":" : "", w[i]);
	}
}

static int
uapi_fmt_addr(const struct addr *a, char *out, size_t len)
{
	switch (a->af) {
	case AF_INET:
		snprintf(out, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1],
		    a->bytes[2], a->bytes[3]);
		return 0;
	case AF_INET6:
		uapi_fmt_v6(a->bytes, out, len);
		return 0;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
}

static int
uapi_put_endpoint(struct buf *b, const struct sockaddr_storage *ss)
{
	char		 host[LR_ADDR_STRLEN];
	struct addr	 a;
	uint16_t	 port;

	if (ss->ss_family == 0)
		return 0;
	if (addr_from_sockaddr((const struct sockaddr *)ss, &a, &port) == -1 ||
	    uapi_fmt_addr(&a, host, sizeof(host)) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (a.af == AF_INET6)
		return uapi_putf(b, "endpoint=[%s]:%u\n", host, port);
	return uapi_putf(b, "endpoint=%s:%u\n", host, port);
}

static int
uapi_put_aips(struct buf *b, const struct prefix *aips, size_t n)
{
	char	 host[LR_ADDR_STRLEN];
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (uapi_fmt_addr(&aips[i].addr, host, sizeof(host)) == -1 ||
		    uapi_putf(b, "allowed_ip=%s/%u\n", host, aips[i].len) == -1)
			return -1;
	}
	return 0;
}

static int
uapi_put_peer(struct buf *b, const struct wg_uapi_peer_info *pi)
{
	if (uapi_put_key(b, "public_key", pi->public_key) == -1 ||
	    uapi_put_key(b, "preshared_key", pi->preshared_key) == -1 ||
	    uapi_putf(b, "protocol_version=1\n") == -1 ||
	    uapi_put_endpoint(b, &pi->endpoint) == -1 ||
	    uapi_putf(b, "last_handshake_time_sec=%" PRId64 "\n"
	    "last_handshake_time_nsec=%" PRId64 "\n",
	    pi->last_handshake_sec, pi->last_handshake_nsec) == -1 ||
	    uapi_putf(b, "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n",
	    pi->tx_bytes, pi->rx_bytes) == -1 ||
	    uapi_putf(b, "persistent_keepalive_interval=%u\n",
	    pi->keepalive) == -1)
		return -1;
	return uapi_put_aips(b, pi->aips, pi->naips);
}

static int
uapi_put_dev(struct buf *b, const struct wg_uapi_dev_info *di)
{
	if (!sodium_is_zero(di->private_key, WG_UAPI_KEY_LEN) &&
	    uapi_put_key(b, "private_key", di->private_key) == -1)
		return -1;
	if (di->listen_port != 0 &&
	    uapi_putf(b, "listen_port=%u\n", di->listen_port) == -1)
		return -1;
	if (di->fwmark != 0 &&
	    uapi_putf(b, "fwmark=%" PRIu32 "\n", di->fwmark) == -1)
		return -1;
	return 0;
}

/* Undo a partial write, wiping what may be key material. */
static int
uapi_put_undo(struct buf *b, size_t start)
{
	int	 saved = errno;

	if (b->len > start)
		sodium_memzero(b->data + start, b->len - start);
	b->len = start;
	errno = saved;
	return -1;
}

int
wg_uapi_write_get(struct buf *b, const struct wg_uapi_dev_info *di)
{
	size_t	 start = b->len, i;

	if (uapi_put_dev(b, di) == -1)
		goto fail;
	for (i = 0; i < di->npeers; i++)
		if (uapi_put_peer(b, &di->peers[i]) == -1)
			goto fail;
	if (wg_uapi_write_errno(b, 0) == -1)
		goto fail;
	return 0;
fail:
	return uapi_put_undo(b, start);
}

static int
uapi_put_flag(struct buf *b, unsigned flags, unsigned flag, const char *name)
{
	if ((flags & flag) == 0)
		return 0;
	return uapi_putf(b, "%s=true\n", name);
}

static int
uapi_put_set_dev(struct buf *b, const struct wg_uapi_set *set)
{
	if ((set->flags & WG_UAPI_SET_PRIVATE_KEY) &&
	    uapi_put_key(b, "private_key", set->private_key) == -1)
		return -1;
	if ((set->flags & WG_UAPI_SET_LISTEN_PORT) &&
	    uapi_putf(b, "listen_port=%u\n", set->listen_port) == -1)
		return -1;
	if ((set->flags & WG_UAPI_SET_FWMARK) &&
	    uapi_putf(b, "fwmark=%" PRIu32 "\n", set->fwmark) == -1)
		return -1;
	return uapi_put_flag(b, set->flags, WG_UAPI_SET_REPLACE_PEERS,
	    "replace_peers");
}

static int
uapi_put_set_peer(struct buf *b, const struct wg_uapi_peer *peer)
{
	unsigned	 f = peer->flags;

	if (uapi_put_key(b, "public_key", peer->public_key) == -1 ||
	    uapi_put_flag(b, f, WG_UAPI_PEER_REMOVE, "remove") == -1 ||
	    uapi_put_flag(b, f, WG_UAPI_PEER_UPDATE_ONLY, "update_only") == -1)
		return -1;
	if ((f & WG_UAPI_PEER_PRESHARED_KEY) &&
	    uapi_put_key(b, "preshared_key", peer->preshared_key) == -1)
		return -1;
	if ((f & WG_UAPI_PEER_ENDPOINT) &&
	    uapi_put_endpoint(b, &peer->endpoint) == -1)
		return -1;
	if ((f & WG_UAPI_PEER_KEEPALIVE) &&
	    uapi_putf(b, "persistent_keepalive_interval=%u\n",
	    peer->keepalive) == -1)
		return -1;
	if (uapi_put_flag(b, f, WG_UAPI_PEER_REPLACE_AIPS,
	    "replace_allowed_ips") == -1)
		return -1;
	return uapi_put_aips(b, peer->aips, peer->naips);
}

int
wg_uapi_write_set(struct buf *b, const struct wg_uapi_set *set)
{
	size_t	 start = b->len, i;

	if (uapi_putf(b, "set=1\n") == -1 || uapi_put_set_dev(b, set) == -1)
		goto fail;
	for (i = 0; i < set->npeers; i++)
		if (uapi_put_set_peer(b, &set->peers[i]) == -1)
			goto fail;
	if (uapi_putf(b, "\n") == -1)
		goto fail;
	return 0;
fail:
	return uapi_put_undo(b, start);
}

int
wg_uapi_write_errno(struct buf *b, int error)
{
	if (error == 0)
		return uapi_putf(b, "errno=0\n\n");
	return uapi_putf(b, "errno=%d\n\n", -error);
}
