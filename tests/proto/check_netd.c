/*
 * netd IPC codec: the hex vectors of proto/netd.md, round trips of every
 * payload, truncation at every offset, trailing bytes, bad enums and
 * flags, and encoders that refuse invalid structs.
 *
 * The spec is read from $LR_SRCDIR/proto/netd.md, or proto/netd.md
 * relative to the current directory (the repository root under make).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/lib/vectors.h"

#include "proto/netd.h"

#define MAXVEC		512
#define ROUNDS		2000

union netd_any {
	struct netd_tun_create	 tun_create;
	struct netd_ifindex	 ifindex;
	struct netd_tun_fd	 tun_fd;
	struct netd_link_set	 link_set;
	struct netd_addr	 addr;
	struct netd_route	 route;
	struct netd_capture_open capture_open;
	struct netd_capture_fd	 capture_fd;
	struct netd_inject	 inject;
	struct netd_qos_set	 qos_set;
	struct netd_error	 error;
};

typedef int	(*dec_fn)(const void *, size_t, union netd_any *);
typedef int	(*enc_fn)(struct buf *, const union netd_any *);
typedef void	(*gen_fn)(union netd_any *);
typedef bool	(*eq_fn)(const union netd_any *, const union netd_any *);

/* One message type: its codec, a generator of valid structs, equality. */
struct codec {
	const char	*name;
	unsigned int	 type;
	dec_fn		 dec;
	enc_fn		 enc;
	gen_fn		 gen;
	eq_fn		 eq;
};

struct vec {
	const struct codec *c;
	bool		 ok;
	int		 line;
	size_t		 len;
	uint8_t		 data[NETD_MAXMSG];
};

static struct vec	 vecs[MAXVEC];
static size_t		 nvecs;
static bool		 loaded;
static uint32_t		 rng = 0x2545f491;
static uint8_t		 junk[NETD_INJECT_MAX];

#define CODEC(f)							\
static int								\
dec_##f(const void *p, size_t len, union netd_any *u)			\
{									\
	return (netd_dec_##f(p, len, &u->f));				\
}									\
static int								\
enc_##f(struct buf *b, const union netd_any *u)				\
{									\
	return (netd_enc_##f(b, &u->f));				\
}

CODEC(tun_create)
CODEC(ifindex)
CODEC(tun_fd)
CODEC(link_set)
CODEC(addr)
CODEC(route)
CODEC(capture_open)
CODEC(capture_fd)
CODEC(inject)
CODEC(qos_set)
CODEC(error)

/* OK has no payload and no codec in netd.h: it must be empty. */
static int
dec_empty(const void *p, size_t len, union netd_any *u)
{
	(void)p;
	(void)u;
	if (len != 0) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

static int
enc_empty(struct buf *b, const union netd_any *u)
{
	(void)b;
	(void)u;
	return (0);
}

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (rng);
}

static uint32_t
rnd_range(uint32_t lo, uint32_t hi)
{
	return (lo + (uint32_t)((uint64_t)rnd() % ((uint64_t)hi - lo + 1)));
}

static uint32_t
rnd_ifindex(void)
{
	return (rnd_range(1, UINT32_MAX));
}

/* 1..15 bytes, any value but NUL, then NULs. */
static void
gen_ifname(char *name)
{
	size_t	 i, n;

	memset(name, 0, NETD_IFNAMSIZ);
	n = rnd_range(1, NETD_IFNAMSIZ - 1);
	for (i = 0; i < n; i++)
		name[i] = (char)rnd_range(1, 255);
}

static void
gen_tun_create(union netd_any *u)
{
	gen_ifname(u->tun_create.ifname);
	u->tun_create.flags = rnd() & NETD_TUN_FLAGS;
}

static bool
eq_tun_create(const union netd_any *a, const union netd_any *b)
{
	return (strcmp(a->tun_create.ifname, b->tun_create.ifname) == 0 &&
	    a->tun_create.flags == b->tun_create.flags);
}

static void
gen_ifindex(union netd_any *u)
{
	u->ifindex.ifindex = rnd_ifindex();
}

static bool
eq_ifindex(const union netd_any *a, const union netd_any *b)
{
	return (a->ifindex.ifindex == b->ifindex.ifindex);
}

static void
gen_tun_fd(union netd_any *u)
{
	u->tun_fd.ifindex = rnd_ifindex();
	gen_ifname(u->tun_fd.ifname);
	u->tun_fd.flags = rnd() & NETD_TUN_FLAGS;
}

static bool
eq_tun_fd(const union netd_any *a, const union netd_any *b)
{
	return (a->tun_fd.ifindex == b->tun_fd.ifindex &&
	    strcmp(a->tun_fd.ifname, b->tun_fd.ifname) == 0 &&
	    a->tun_fd.flags == b->tun_fd.flags);
}

static void
gen_link_set(union netd_any *u)
{
	static const uint32_t	 edge[] = { 0, 68, 1420, 65535 };

	u->link_set.ifindex = rnd_ifindex();
	if (rnd() % 2)
		u->link_set.mtu = edge[rnd() % 4];
	else
		u->link_set.mtu = rnd_range(68, 65535);
	u->link_set.state = rnd_range(0, 2);
}

static bool
eq_link_set(const union netd_any *a, const union netd_any *b)
{
	return (a->link_set.ifindex == b->link_set.ifindex &&
	    a->link_set.mtu == b->link_set.mtu &&
	    a->link_set.state == b->link_set.state);
}

static size_t
gen_prefix(uint8_t *family, uint8_t *plen, uint8_t a[16])
{
	size_t	 alen, i;

	*family = rnd() % 2 ? NETD_AF_INET : NETD_AF_INET6;
	alen = *family == NETD_AF_INET ? 4 : 16;
	*plen = rnd_range(0, alen * 8);
	memset(a, 0, 16);
	for (i = 0; i < alen; i++)
		a[i] = rnd();
	return (alen);
}

static void
gen_addr(union netd_any *u)
{
	u->addr.ifindex = rnd_ifindex();
	gen_prefix(&u->addr.family, &u->addr.prefixlen, u->addr.addr);
}

static bool
eq_addr(const union netd_any *a, const union netd_any *b)
{
	return (a->addr.ifindex == b->addr.ifindex &&
	    a->addr.family == b->addr.family &&
	    a->addr.prefixlen == b->addr.prefixlen &&
	    memcmp(a->addr.addr, b->addr.addr, 16) == 0);
}

static void
gen_route(union netd_any *u)
{
	struct netd_route	*r = &u->route;
	size_t			 i;

	r->ifindex = rnd_ifindex();
	gen_prefix(&r->family, &r->prefixlen, r->dst);
	for (i = 0; i < 16; i++) {
		if (i * 8 >= r->prefixlen)
			r->dst[i] = 0;
		else if (i * 8 + 8 > r->prefixlen)
			r->dst[i] &= 0xff << (8 - r->prefixlen % 8);
	}
	r->metric = rnd();
}

static bool
eq_route(const union netd_any *a, const union netd_any *b)
{
	return (a->route.ifindex == b->route.ifindex &&
	    a->route.family == b->route.family &&
	    a->route.prefixlen == b->route.prefixlen &&
	    memcmp(a->route.dst, b->route.dst, 16) == 0 &&
	    a->route.metric == b->route.metric);
}

static void
gen_capture_open(union netd_any *u)
{
	struct netd_capture_open *c = &u->capture_open;
	size_t			 i;

	c->ifindex = rnd_ifindex();
	c->nranges = rnd_range(1, NETD_MAX_PORT_RANGES);
	for (i = 0; i < c->nranges; i++) {
		c->ranges[i].lo = rnd_range(1, 65535);
		c->ranges[i].hi = rnd_range(c->ranges[i].lo, 65535);
	}
}

static bool
eq_capture_open(const union netd_any *a, const union netd_any *b)
{
	size_t	 i;

	if (a->capture_open.ifindex != b->capture_open.ifindex ||
	    a->capture_open.nranges != b->capture_open.nranges)
		return (false);
	for (i = 0; i < a->capture_open.nranges; i++)
		if (a->capture_open.ranges[i].lo !=
		    b->capture_open.ranges[i].lo ||
		    a->capture_open.ranges[i].hi !=
		    b->capture_open.ranges[i].hi)
			return (false);
	return (true);
}

static void
gen_capture_fd(union netd_any *u)
{
	u->capture_fd.ifindex = rnd_ifindex();
}

static bool
eq_capture_fd(const union netd_any *a, const union netd_any *b)
{
	return (a->capture_fd.ifindex == b->capture_fd.ifindex);
}

static void
gen_inject(union netd_any *u)
{
	struct netd_inject	*m = &u->inject;
	size_t			 i;

	m->ifindex = rnd_ifindex();
	m->proto = rnd();
	m->ttl = rnd_range(1, 255);
	for (i = 0; i < 4; i++) {
		m->src[i] = rnd();
		m->dst[i] = rnd();
	}
	m->sport = rnd();
	m->dport = rnd();
	m->len = rnd() % 4 == 0 ? NETD_INJECT_MAX : rnd_range(0, 300);
	for (i = 0; i < m->len; i++)
		junk[i] = rnd();
	m->payload = m->len > 0 ? junk : NULL;
}

static bool
eq_inject(const union netd_any *a, const union netd_any *b)
{
	const struct netd_inject *x = &a->inject, *y = &b->inject;

	return (x->ifindex == y->ifindex && x->proto == y->proto &&
	    x->ttl == y->ttl && memcmp(x->src, y->src, 4) == 0 &&
	    x->sport == y->sport && memcmp(x->dst, y->dst, 4) == 0 &&
	    x->dport == y->dport && x->len == y->len &&
	    (x->len == 0 || memcmp(x->payload, y->payload, x->len) == 0));
}

static void
gen_qos_set(union netd_any *u)
{
	struct netd_qos_set	*m = &u->qos_set;
	size_t			 i;

	m->ifindex = rnd_ifindex();
	m->nrules = rnd_range(1, NETD_MAX_QOS_RULES);
	for (i = 0; i < m->nrules; i++) {
		m->rules[i].proto = rnd() % 2 ? 6 : 17;
		m->rules[i].port_lo = rnd_range(1, 65535);
		m->rules[i].port_hi = rnd_range(m->rules[i].port_lo, 65535);
		m->rules[i].class = rnd_range(0, NETD_QOS_BULK);
	}
}

static bool
eq_qos_set(const union netd_any *a, const union netd_any *b)
{
	const struct netd_qos_rule *x, *y;
	size_t			 i;

	if (a->qos_set.ifindex != b->qos_set.ifindex ||
	    a->qos_set.nrules != b->qos_set.nrules)
		return (false);
	for (i = 0; i < a->qos_set.nrules; i++) {
		x = &a->qos_set.rules[i];
		y = &b->qos_set.rules[i];
		if (x->proto != y->proto || x->port_lo != y->port_lo ||
		    x->port_hi != y->port_hi || x->class != y->class)
			return (false);
	}
	return (true);
}

static void
gen_error(union netd_any *u)
{
	size_t	 i, n;

	u->error.code = rnd_range(1, NETD_E_MAX);
	u->error.sys_errno = rnd();
	n = rnd() % 4 == 0 ? NETD_ERRTEXT_MAX : rnd_range(0, 40);
	for (i = 0; i < n; i++)
		u->error.text[i] = (char)rnd_range(0x20, 0x7e);
	u->error.text[n] = '\0';
}

static bool
eq_error(const union netd_any *a, const union netd_any *b)
{
	return (a->error.code == b->error.code &&
	    a->error.sys_errno == b->error.sys_errno &&
	    strcmp(a->error.text, b->error.text) == 0);
}

static void
gen_empty(union netd_any *u)
{
	(void)u;
}

static bool
eq_empty(const union netd_any *a, const union netd_any *b)
{
	(void)a;
	(void)b;
	return (true);
}

#define C(n, t, f)	{ n, t, dec_##f, enc_##f, gen_##f, eq_##f }

static const struct codec codecs[] = {
	C("tun_create",		NETD_MSG_TUN_CREATE,	tun_create),
	C("tun_queue",		NETD_MSG_TUN_QUEUE,	ifindex),
	C("link_del",		NETD_MSG_LINK_DEL,	ifindex),
	C("link_set",		NETD_MSG_LINK_SET,	link_set),
	C("addr_add",		NETD_MSG_ADDR_ADD,	addr),
	C("addr_del",		NETD_MSG_ADDR_DEL,	addr),
	C("route_add",		NETD_MSG_ROUTE_ADD,	route),
	C("route_del",		NETD_MSG_ROUTE_DEL,	route),
	C("capture_open",	NETD_MSG_CAPTURE_OPEN,	capture_open),
	C("inject",		NETD_MSG_INJECT,	inject),
	C("qos_set",		NETD_MSG_QOS_SET,	qos_set),
	C("qos_clear",		NETD_MSG_QOS_CLEAR,	ifindex),
	C("ok",			NETD_MSG_OK,		empty),
	C("error",		NETD_MSG_ERROR,		error),
	C("tun_fd",		NETD_MSG_TUN_FD,	tun_fd),
	C("capture_fd",		NETD_MSG_CAPTURE_FD,	capture_fd),
};
#define NCODECS		(sizeof(codecs) / sizeof(codecs[0]))

static const struct codec *
codec_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCODECS; i++)
		if (strcmp(codecs[i].name, name) == 0)
			return (&codecs[i]);
	return (NULL);
}

/* The vectors of proto/netd.md, each tied to its message's codec. */
static void
vec_load(void)
{
	const struct tvec	*t;
	size_t			 i, n;

	if (loaded)
		return;
	t = tvec_load("netd.md", &n);
	ck_assert_msg(n <= MAXVEC, "netd.md: more than %d vectors", MAXVEC);
	for (i = 0; i < n; i++) {
		vecs[i].c = codec_find(t[i].name);
		ck_assert_msg(vecs[i].c != NULL, "netd.md:%d: unknown message %s",
		    t[i].line, t[i].name);
		ck_assert_msg(t[i].len <= sizeof(vecs[i].data),
		    "netd.md:%d: vector too long", t[i].line);
		vecs[i].ok = t[i].ok;
		vecs[i].line = t[i].line;
		vecs[i].len = t[i].len;
		memcpy(vecs[i].data, t[i].data, t[i].len);
	}
	nvecs = n;
	loaded = true;
}

/* Decode from an exact-size heap copy, so that ASan sees any overread. */
static int
dec_exact(const struct codec *c, const uint8_t *p, size_t len,
    union netd_any *u)
{
	uint8_t	*copy;
	int	 rc, saved;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = c->dec(copy, len, u);
	saved = errno;
	/* inject borrows: move its payload out of the copy before free. */
	if (rc == 0 && c->dec == dec_inject && u->inject.len > 0) {
		memcpy(junk, u->inject.payload, u->inject.len);
		u->inject.payload = junk;
	}
	free(copy);
	errno = saved;
	return (rc);
}

static void
expect_bad(const struct codec *c, const uint8_t *p, size_t len,
    const char *what, int line)
{
	union netd_any	 u, before;

	memset(&u, 0xa5, sizeof(u));
	before = u;
	errno = 0;
	ck_assert_msg(dec_exact(c, p, len, &u) == -1,
	    "%s (line %d, %zu bytes): %s decoded", what, line, len, c->name);
	ck_assert_msg(errno == EBADMSG, "%s (line %d): %s errno %d",
	    what, line, c->name, errno);
	ck_assert_msg(memcmp(&u, &before, sizeof(u)) == 0,
	    "%s (line %d): %s touched its output on failure", what, line,
	    c->name);
}

static void
expect_ok(const struct codec *c, const uint8_t *p, size_t len,
    const char *what, int line)
{
	union netd_any	 u;
	uint8_t		 out[NETD_MAXMSG];
	struct buf	 b;

	memset(&u, 0, sizeof(u));
	ck_assert_msg(dec_exact(c, p, len, &u) == 0,
	    "%s (line %d): %s does not decode: %s", what, line, c->name,
	    strerror(errno));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(c->enc(&b, &u) == 0, "%s (line %d): %s re-encode: %s",
	    what, line, c->name, strerror(errno));
	ck_assert_msg(b.len == len && memcmp(out, p, len) == 0,
	    "%s (line %d): %s re-encodes differently", what, line, c->name);
}

START_TEST(test_vectors_cover_every_type)
{
	size_t	 i, j, nok, nbad;

	vec_load();
	for (i = 0; i < NCODECS; i++) {
		ck_assert_str_eq(netd_msg_name(codecs[i].type), codecs[i].name);
		for (nok = nbad = j = 0; j < nvecs; j++) {
			if (vecs[j].c != &codecs[i])
				continue;
			if (vecs[j].ok)
				nok++;
			else
				nbad++;
		}
		ck_assert_msg(nok > 0, "proto/netd.md has no ok vector for %s",
		    codecs[i].name);
		ck_assert_msg(nok + nbad > 1,
		    "proto/netd.md has a single vector for %s", codecs[i].name);
	}
}
END_TEST

START_TEST(test_vectors)
{
	size_t	 i;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vecs[i].ok)
			expect_ok(vecs[i].c, vecs[i].data, vecs[i].len,
			    "ok vector", vecs[i].line);
		else
			expect_bad(vecs[i].c, vecs[i].data, vecs[i].len,
			    "bad vector", vecs[i].line);
	}
}
END_TEST

START_TEST(test_truncation)
{
	size_t	 i, k;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		for (k = 0; k < vecs[i].len; k++)
			expect_bad(vecs[i].c, vecs[i].data, k, "truncated",
			    vecs[i].line);
	}
}
END_TEST

START_TEST(test_trailing)
{
	uint8_t	 p[NETD_MAXMSG + 1];
	size_t	 i, len;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		len = vecs[i].len;
		memcpy(p, vecs[i].data, len);
		p[len] = 0x00;
		expect_bad(vecs[i].c, p, len + 1, "trailing 00", vecs[i].line);
		p[len] = 0xff;
		expect_bad(vecs[i].c, p, len + 1, "trailing ff", vecs[i].line);
	}
}
END_TEST

/* An encoder that runs out of room leaves the buffer as it found it. */
START_TEST(test_enobufs)
{
	uint8_t		 out[NETD_MAXMSG];
	union netd_any	 u;
	struct buf	 b;
	size_t		 i, cap;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || vecs[i].len == 0)
			continue;
		ck_assert_int_eq(dec_exact(vecs[i].c, vecs[i].data,
		    vecs[i].len, &u), 0);
		for (cap = 0; cap < vecs[i].len; cap++) {
			buf_init_fixed(&b, out, cap);
			errno = 0;
			ck_assert_int_eq(vecs[i].c->enc(&b, &u), -1);
			ck_assert_int_eq(errno, ENOBUFS);
			ck_assert_uint_eq(b.len, 0);
		}
	}
}
END_TEST

/* Random valid structs of each type: encode, decode, compare, re-encode. */
START_TEST(test_roundtrip)
{
	const struct codec *c = &codecs[_i];
	union netd_any	 a, d;
	uint8_t		 out1[NETD_MAXMSG], out2[NETD_MAXMSG];
	struct buf	 b1, b2;
	int		 n;

	rng = 0x9e3779b9u + _i;
	for (n = 0; n < ROUNDS; n++) {
		memset(&a, 0, sizeof(a));
		c->gen(&a);
		buf_init_fixed(&b1, out1, sizeof(out1));
		ck_assert_msg(c->enc(&b1, &a) == 0, "%s: round %d: enc: %s",
		    c->name, n, strerror(errno));
		memset(&d, 0x5a, sizeof(d));
		ck_assert_msg(c->dec(out1, b1.len, &d) == 0,
		    "%s: round %d: dec: %s", c->name, n, strerror(errno));
		ck_assert_msg(c->eq(&a, &d), "%s: round %d: fields differ",
		    c->name, n);
		buf_init_fixed(&b2, out2, sizeof(out2));
		ck_assert_int_eq(c->enc(&b2, &d), 0);
		ck_assert_msg(b1.len == b2.len &&
		    memcmp(out1, out2, b1.len) == 0,
		    "%s: round %d: re-encoding differs", c->name, n);
	}
}
END_TEST

/* Encoding into a dynamic buffer appends after what is there. */
START_TEST(test_append)
{
	struct netd_link_set	 ls = { 3, 1420, NETD_LINK_UP };
	struct netd_ifindex	 ix = { 7 };
	static const uint8_t	 want[] = {
		0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x05, 0x8c, 0x01,
		0x00, 0x00, 0x00, 0x07,
	};
	struct buf		 b;

	ck_assert_int_eq(buf_init(&b, 4, NETD_MAXMSG), 0);
	ck_assert_int_eq(netd_enc_link_set(&b, &ls), 0);
	ck_assert_int_eq(netd_enc_ifindex(&b, &ix), 0);
	ck_assert_uint_eq(b.len, sizeof(want));
	ck_assert_mem_eq(b.data, want, sizeof(want));
	buf_free(&b);
}
END_TEST

static uint8_t *
enc_vec(const struct codec *c, const union netd_any *u, uint8_t *out,
    size_t *len)
{
	struct buf	 b;

	buf_init_fixed(&b, out, NETD_MAXMSG);
	ck_assert_int_eq(c->enc(&b, u), 0);
	*len = b.len;
	return (out);
}

/* Set byte off of a valid encoding to every value; ok() says which pass. */
static void
sweep_byte(const char *name, const union netd_any *u, size_t off,
    bool (*ok)(unsigned int))
{
	const struct codec *c = codec_find(name);
	uint8_t		 p[NETD_MAXMSG];
	size_t		 len;
	unsigned int	 v;

	enc_vec(c, u, p, &len);
	ck_assert_uint_lt(off, len);
	for (v = 0; v < 256; v++) {
		p[off] = v;
		if (ok(v))
			expect_ok(c, p, len, "sweep ok", (int)off);
		else
			expect_bad(c, p, len, "sweep bad", (int)off);
	}
}

static bool
is_link_state(unsigned int v)
{
	return (v <= 2);
}

static bool
is_family(unsigned int v)
{
	return (v == 4 || v == 6);
}

static bool
is_v6_plen(unsigned int v)
{
	return (v <= 128);
}

static bool
is_v4_plen(unsigned int v)
{
	return (v <= 32);
}

static bool
is_l4(unsigned int v)
{
	return (v == 6 || v == 17);
}

static bool
is_class(unsigned int v)
{
	return (v <= NETD_QOS_BULK);
}

static bool
is_ttl(unsigned int v)
{
	return (v != 0);
}

static bool
is_any(unsigned int v)
{
	(void)v;
	return (true);
}

static bool
is_printable(unsigned int v)
{
	return (v >= 0x20 && v <= 0x7e);
}

static bool
is_zero(unsigned int v)
{
	return (v == 0);
}

START_TEST(test_bad_enums)
{
	union netd_any	 u;

	memset(&u, 0, sizeof(u));
	u.link_set = (struct netd_link_set){ 3, 1420, 1 };
	sweep_byte("link_set", &u, 8, is_link_state);

	memset(&u, 0, sizeof(u));
	u.addr = (struct netd_addr){ 3, 4, 0, { 10, 66, 0, 1 } };
	sweep_byte("addr_add", &u, 4, is_family);
	sweep_byte("addr_add", &u, 5, is_v4_plen);
	sweep_byte("addr_add", &u, 10, is_zero);	/* v4 tail */
	u.addr.family = 6;
	sweep_byte("addr_del", &u, 5, is_v6_plen);

	memset(&u, 0, sizeof(u));
	u.route = (struct netd_route){ 3, 4, 0, { 0 }, 9 };
	sweep_byte("route_add", &u, 4, is_family);
	sweep_byte("route_add", &u, 6, is_zero);	/* /0: all host */
	u.route.prefixlen = 32;
	sweep_byte("route_add", &u, 9, is_any);		/* /32: no host bits */
	u.route.prefixlen = 24;
	sweep_byte("route_add", &u, 9, is_zero);	/* /24: last octet */

	memset(&u, 0, sizeof(u));
	u.qos_set.ifindex = 3;
	u.qos_set.nrules = 1;
	u.qos_set.rules[0] = (struct netd_qos_rule){ 17, 27015, 27030, 0 };
	sweep_byte("qos_set", &u, 5, is_l4);
	sweep_byte("qos_set", &u, 10, is_class);

	memset(&u, 0, sizeof(u));
	u.inject = (struct netd_inject){ 3, 17, 64, { 10, 66, 0, 1 }, 1,
	    { 255, 255, 255, 255 }, 2, 0, NULL };
	sweep_byte("inject", &u, 4, is_any);		/* proto: policy's */
	sweep_byte("inject", &u, 5, is_ttl);

	memset(&u, 0, sizeof(u));
	u.error.code = 1;
	strcpy(u.error.text, "abc");
	sweep_byte("error", &u, 8, is_printable);
}
END_TEST

START_TEST(test_bad_flags)
{
	struct netd_tun_create	 tc = { "lanrage0", 0 };
	struct netd_tun_fd	 tf = { 3, "lanrage0", 0 };
	uint8_t			 p[NETD_MAXMSG];
	struct buf		 b;
	unsigned int		 bit;
	uint32_t		 f;

	for (bit = 0; bit < 32; bit++) {
		f = 1u << bit;
		buf_init_fixed(&b, p, sizeof(p));
		tc.flags = 0;
		ck_assert_int_eq(netd_enc_tun_create(&b, &tc), 0);
		p[16] = f >> 24;
		p[17] = f >> 16;
		p[18] = f >> 8;
		p[19] = f;
		if (f & NETD_TUN_FLAGS)
			expect_ok(codec_find("tun_create"), p, b.len,
			    "flag", bit);
		else
			expect_bad(codec_find("tun_create"), p, b.len,
			    "flag", bit);
		buf_init_fixed(&b, p, sizeof(p));
		ck_assert_int_eq(netd_enc_tun_fd(&b, &tf), 0);
		p[20] = f >> 24;
		p[21] = f >> 16;
		p[22] = f >> 8;
		p[23] = f;
		if (f & NETD_TUN_FLAGS)
			expect_ok(codec_find("tun_fd"), p, b.len, "flag", bit);
		else
			expect_bad(codec_find("tun_fd"), p, b.len, "flag", bit);
	}
}
END_TEST

START_TEST(test_error_codes)
{
	const struct codec *c = codec_find("error");
	uint8_t		 p[7] = { 0 };
	unsigned int	 code;

	for (code = 0; code <= 0xffff; code++) {
		p[0] = code >> 8;
		p[1] = code;
		if (code >= 1 && code <= NETD_E_MAX)
			expect_ok(c, p, sizeof(p), "code", code);
		else if (code < 64 || code % 251 == 0)
			expect_bad(c, p, sizeof(p), "code", code);
	}
}
END_TEST

START_TEST(test_mtu_edges)
{
	const struct codec *c = codec_find("link_set");
	uint8_t		 p[9] = { 0, 0, 0, 3, 0, 0, 0, 0, 1 };
	static const struct { uint32_t mtu; bool ok; } t[] = {
		{ 0, true }, { 1, false }, { 67, false }, { 68, true },
		{ 1420, true }, { 65535, true }, { 65536, false },
		{ 0xffffffff, false },
	};
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p[4] = t[i].mtu >> 24;
		p[5] = t[i].mtu >> 16;
		p[6] = t[i].mtu >> 8;
		p[7] = t[i].mtu;
		if (t[i].ok)
			expect_ok(c, p, sizeof(p), "mtu", t[i].mtu);
		else
			expect_bad(c, p, sizeof(p), "mtu", t[i].mtu);
	}
}
END_TEST

/* nranges / nrules from 0 to 255, each with that many valid entries. */
START_TEST(test_counts)
{
	const struct codec *co = codec_find("capture_open");
	const struct codec *cq = codec_find("qos_set");
	static uint8_t	 p[5 + 6 * 255];
	size_t		 n, i;

	for (n = 0; n < 256; n++) {
		memset(p, 0, sizeof(p));
		p[3] = 1;
		p[4] = n;
		for (i = 0; i < n; i++) {
			p[5 + 4 * i + 1] = 1;		/* lo 1 */
			p[5 + 4 * i + 3] = 2;		/* hi 2 */
		}
		if (n >= 1 && n <= NETD_MAX_PORT_RANGES)
			expect_ok(co, p, 5 + 4 * n, "nranges", n);
		else
			expect_bad(co, p, 5 + 4 * n, "nranges", n);
		for (i = 0; i < n; i++) {
			p[5 + 6 * i] = 17;
			p[5 + 6 * i + 1] = 0;
			p[5 + 6 * i + 2] = 1;		/* lo 1 */
			p[5 + 6 * i + 3] = 0;
			p[5 + 6 * i + 4] = 2;		/* hi 2 */
			p[5 + 6 * i + 5] = 1;		/* normal */
		}
		if (n >= 1 && n <= NETD_MAX_QOS_RULES)
			expect_ok(cq, p, 5 + 6 * n, "nrules", n);
		else
			expect_bad(cq, p, 5 + 6 * n, "nrules", n);
	}
}
END_TEST

START_TEST(test_inject_len)
{
	const struct codec *c = codec_find("inject");
	static uint8_t	 p[20 + NETD_INJECT_MAX + 1];
	size_t		 n;

	memset(p, 0x41, sizeof(p));
	p[0] = p[1] = p[2] = 0;
	p[3] = 3;
	for (n = NETD_INJECT_MAX - 1; n <= NETD_INJECT_MAX + 1; n++) {
		p[18] = n >> 8;
		p[19] = n;
		if (n <= NETD_INJECT_MAX)
			expect_ok(c, p, 20 + n, "inject len", n);
		else
			expect_bad(c, p, 20 + n, "inject len", n);
	}
	/* The payload pointer borrows from the input. */
	{
		struct netd_inject	 m;

		p[18] = NETD_INJECT_MAX >> 8;
		p[19] = NETD_INJECT_MAX & 0xff;
		ck_assert_int_eq(netd_dec_inject(p, 20 + NETD_INJECT_MAX, &m),
		    0);
		ck_assert_ptr_eq(m.payload, p + 20);
	}
}
END_TEST

/* The encoder must refuse u with EINVAL and leave b as it was. */
static void
refuse(enc_fn enc, const union netd_any *u, const char *what)
{
	uint8_t		 out[NETD_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "abc", 3), 0);
	errno = 0;
	ck_assert_msg(enc(&b, u) == -1, "%s: encoded", what);
	ck_assert_msg(errno == EINVAL, "%s: errno %d", what, errno);
	ck_assert_msg(b.len == 3, "%s: wrote %zu bytes", what, b.len - 3);
}

START_TEST(test_refuse_names)
{
	union netd_any	 u;

	memset(&u, 0, sizeof(u));
	refuse(enc_tun_create, &u, "empty name");
	memset(u.tun_create.ifname, 'a', NETD_IFNAMSIZ);
	refuse(enc_tun_create, &u, "unterminated name");
	strcpy(u.tun_create.ifname, "lanrage0");
	u.tun_create.flags = 4;
	refuse(enc_tun_create, &u, "flag 4");
	u.tun_create.flags = 0x80000000u;
	refuse(enc_tun_create, &u, "flag 1<<31");

	memset(&u, 0, sizeof(u));
	strcpy(u.tun_fd.ifname, "lanrage0");
	refuse(enc_tun_fd, &u, "tun_fd ifindex 0");
	u.tun_fd.ifindex = 3;
	u.tun_fd.flags = 8;
	refuse(enc_tun_fd, &u, "tun_fd flag 8");
	u.tun_fd.flags = 0;
	u.tun_fd.ifname[0] = '\0';
	refuse(enc_tun_fd, &u, "tun_fd empty name");

	memset(&u, 0, sizeof(u));
	refuse(enc_ifindex, &u, "ifindex 0");
	refuse(enc_capture_fd, &u, "capture_fd ifindex 0");
}
END_TEST

START_TEST(test_refuse_link_addr_route)
{
	static const uint32_t	 badmtu[] = { 1, 67, 65536, 0xffffffff };
	union netd_any		 u;
	size_t			 i;

	u.link_set = (struct netd_link_set){ 0, 1420, 1 };
	refuse(enc_link_set, &u, "link_set ifindex 0");
	u.link_set.ifindex = 3;
	for (i = 0; i < sizeof(badmtu) / sizeof(badmtu[0]); i++) {
		u.link_set.mtu = badmtu[i];
		refuse(enc_link_set, &u, "link_set mtu");
	}
	u.link_set.mtu = 0;
	u.link_set.state = 3;
	refuse(enc_link_set, &u, "link_set state 3");

	memset(&u, 0, sizeof(u));
	u.addr = (struct netd_addr){ 3, 5, 16, { 10, 66, 0, 1 } };
	refuse(enc_addr, &u, "addr family 5");
	u.addr.family = 4;
	u.addr.prefixlen = 33;
	refuse(enc_addr, &u, "addr v4 /33");
	u.addr.prefixlen = 16;
	u.addr.addr[15] = 1;
	refuse(enc_addr, &u, "addr v4 tail");
	u.addr.family = 6;
	u.addr.prefixlen = 129;
	refuse(enc_addr, &u, "addr v6 /129");
	u.addr.prefixlen = 128;
	u.addr.ifindex = 0;
	refuse(enc_addr, &u, "addr ifindex 0");

	memset(&u, 0, sizeof(u));
	u.route = (struct netd_route){ 3, 4, 16, { 10, 66, 0, 1 }, 0 };
	refuse(enc_route, &u, "route host bits");
	u.route.dst[3] = 0;
	u.route.dst[4] = 1;
	refuse(enc_route, &u, "route v4 tail");
	u.route.dst[4] = 0;
	u.route.family = 0;
	refuse(enc_route, &u, "route family 0");
	u.route.family = 6;
	u.route.prefixlen = 129;
	refuse(enc_route, &u, "route v6 /129");
	u.route.prefixlen = 127;
	u.route.dst[15] = 1;
	refuse(enc_route, &u, "route v6 host bit");
}
END_TEST

START_TEST(test_refuse_lists)
{
	union netd_any	 u;

	memset(&u, 0, sizeof(u));
	gen_capture_open(&u);
	u.capture_open.nranges = 0;
	refuse(enc_capture_open, &u, "nranges 0");
	u.capture_open.nranges = NETD_MAX_PORT_RANGES + 1;
	refuse(enc_capture_open, &u, "nranges 33");
	u.capture_open.nranges = NETD_MAX_PORT_RANGES;
	u.capture_open.ranges[31] = (struct netd_port_range){ 0, 5 };
	refuse(enc_capture_open, &u, "range lo 0");
	u.capture_open.ranges[31] = (struct netd_port_range){ 6, 5 };
	refuse(enc_capture_open, &u, "range lo > hi");

	memset(&u, 0, sizeof(u));
	u.qos_set.ifindex = 3;
	u.qos_set.nrules = 0;
	refuse(enc_qos_set, &u, "nrules 0");
	u.qos_set.nrules = NETD_MAX_QOS_RULES + 1;
	refuse(enc_qos_set, &u, "nrules 33");
	u.qos_set.nrules = 2;
	u.qos_set.rules[0] = (struct netd_qos_rule){ 6, 80, 80, 2 };
	u.qos_set.rules[1] = (struct netd_qos_rule){ 1, 80, 80, 2 };
	refuse(enc_qos_set, &u, "proto 1");
	u.qos_set.rules[1] = (struct netd_qos_rule){ 17, 80, 80, 3 };
	refuse(enc_qos_set, &u, "class 3");
	u.qos_set.rules[1] = (struct netd_qos_rule){ 17, 0, 80, 0 };
	refuse(enc_qos_set, &u, "port_lo 0");
	u.qos_set.rules[1] = (struct netd_qos_rule){ 17, 81, 80, 0 };
	refuse(enc_qos_set, &u, "lo > hi");
}
END_TEST

START_TEST(test_refuse_inject_error)
{
	union netd_any	 u;

	memset(&u, 0, sizeof(u));
	u.inject = (struct netd_inject){ 3, 17, 0, { 10, 66, 0, 1 }, 1,
	    { 255, 255, 255, 255 }, 1, 0, NULL };
	refuse(enc_inject, &u, "ttl 0");
	u.inject.ttl = 1;
	u.inject.len = 5;
	refuse(enc_inject, &u, "payload NULL");
	u.inject.payload = junk;
	u.inject.len = NETD_INJECT_MAX + 1;
	refuse(enc_inject, &u, "len 1473");
	u.inject.len = 1;
	u.inject.ifindex = 0;
	refuse(enc_inject, &u, "inject ifindex 0");

	memset(&u, 0, sizeof(u));
	refuse(enc_error, &u, "code 0");
	u.error.code = NETD_E_MAX + 1;
	refuse(enc_error, &u, "code 14");
	u.error.code = NETD_E_KERNEL;
	strcpy(u.error.text, "a\nb");
	refuse(enc_error, &u, "newline");
	strcpy(u.error.text, "a\x7f");
	refuse(enc_error, &u, "DEL");
	strcpy(u.error.text, "\x80");
	refuse(enc_error, &u, "8-bit");
	memset(u.error.text, 'a', sizeof(u.error.text));
	refuse(enc_error, &u, "unterminated text");
	u.error.text[NETD_ERRTEXT_MAX] = '\0';
	{
		uint8_t		 out[NETD_MAXMSG];
		struct buf	 b;

		buf_init_fixed(&b, out, sizeof(out));
		ck_assert_int_eq(netd_enc_error(&b, &u.error), 0);
		ck_assert_uint_eq(b.len, 7 + NETD_ERRTEXT_MAX);
		ck_assert_uint_eq(out[6], NETD_ERRTEXT_MAX);
	}
}
END_TEST

START_TEST(test_strings)
{
	unsigned int	 code;
	size_t		 i, j;

	for (code = 1; code <= NETD_E_MAX; code++)
		ck_assert_str_ne(netd_err_str(code), "unknown error");
	ck_assert_str_eq(netd_err_str(0), "unknown error");
	ck_assert_str_eq(netd_err_str(NETD_E_MAX + 1), "unknown error");
	ck_assert_str_eq(netd_err_str(~0u), "unknown error");
	ck_assert_str_eq(netd_msg_name(0), "unknown");
	ck_assert_str_eq(netd_msg_name(0x0100), "unknown");
	ck_assert_str_eq(netd_msg_name(0x010d), "unknown");
	ck_assert_str_eq(netd_msg_name(0x8005), "unknown");
	for (i = 0; i < NCODECS; i++)
		for (j = i + 1; j < NCODECS; j++)
			ck_assert_uint_ne(codecs[i].type, codecs[j].type);
}
END_TEST

static Suite *
netd_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("netd");

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_vectors_cover_every_type);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_enobufs);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_loop_test(tc, test_roundtrip, 0, NCODECS);
	tcase_add_test(tc, test_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("decoder");
	tcase_add_test(tc, test_bad_enums);
	tcase_add_test(tc, test_bad_flags);
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_mtu_edges);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_inject_len);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoder");
	tcase_add_test(tc, test_refuse_names);
	tcase_add_test(tc, test_refuse_link_addr_route);
	tcase_add_test(tc, test_refuse_lists);
	tcase_add_test(tc, test_refuse_inject_error);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(netd_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
