/*
 * STUN codec: the hex vectors of proto/stun.md (RFC 5769 samples with
 * their decoded fields, LANrage's own), round trips of random messages,
 * FINGERPRINT on both sides, truncation at every offset, trailing
 * bytes, bit flips under FINGERPRINT, limits, encoders that refuse
 * invalid structs, and stun_is_stun; the same for the classic (RFC 3489)
 * codec and its vectors, and that no datagram is both.
 *
 * The spec is read from $LR_SRCDIR/proto/stun.md, or proto/stun.md
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

#include "proto/stun.h"

#define ROUNDS		2000
#define FP_XOR		0x5354554e

static const struct tvec	*vecs;		/* proto/stun.md, loaded once */
static size_t		 nvecs;
static uint32_t		 rng = 0x2545f491;
static const uint8_t	 txid[STUN_TXIDLEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb
};
static const uint8_t	 rfc_txid[STUN_TXIDLEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};
static const uint8_t	 classic_txid[STUN_CLASSIC_TXIDLEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff
};

static void
vec_load(void)
{
	if (vecs == NULL)
		vecs = tvec_load("stun.md", &nvecs);
}

static const struct tvec *
vec_find(const char *name)
{
	vec_load();
	return (tvec_find(vecs, nvecs, "stun.md", name));
}

/* An RFC 3489 vector, for the classic codec. */
static bool
vec_classic(const struct tvec *v)
{
	return (strncmp(v->name, "classic", 7) == 0);
}

/* Byte for byte unless it carries MESSAGE-INTEGRITY or is normalised. */
static bool
vec_roundtrips(const struct tvec *v)
{
	return (strncmp(v->name, "rfc5769", 7) != 0 &&
	    strcmp(v->name, "lenient") != 0 &&
	    strcmp(v->name, "classic-lenient") != 0);
}

static bool
saddr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	if (a->present != b->present)
		return (false);
	return (!a->present ||
	    (a->port == b->port && addr_eq(&a->addr, &b->addr)));
}

static bool
msg_eq(const struct stun_msg *a, const struct stun_msg *b)
{
	if (a->method != b->method || a->cls != b->cls ||
	    memcmp(a->txid, b->txid, STUN_TXIDLEN) != 0 ||
	    !saddr_eq(&a->xor_mapped, &b->xor_mapped) ||
	    !saddr_eq(&a->mapped, &b->mapped) ||
	    !saddr_eq(&a->response_origin, &b->response_origin) ||
	    !saddr_eq(&a->other_address, &b->other_address))
		return (false);
	if (a->has_change != b->has_change ||
	    (a->has_change && a->change != b->change))
		return (false);
	if (a->has_error != b->has_error || (a->has_error &&
	    (a->error_code != b->error_code ||
	    strcmp(a->reason, b->reason) != 0)))
		return (false);
	return (strcmp(a->software, b->software) == 0 &&
	    a->nunknown == b->nunknown &&
	    memcmp(a->unknown, b->unknown,
	    a->nunknown * sizeof(a->unknown[0])) == 0 &&
	    a->fingerprint == b->fingerprint);
}

/* Either decoder, with the message as an opaque buffer. */
typedef int (*dec_fn)(const uint8_t *, size_t, void *);

static int
dec_msg(const uint8_t *p, size_t len, void *m)
{
	return (stun_decode(p, len, m));
}

static int
dec_classic(const uint8_t *p, size_t len, void *m)
{
	return (stun_classic_decode(p, len, m));
}

/* Decode from an exact-size heap copy, so that ASan sees any overread. */
static int
dec_copy(dec_fn dec, const uint8_t *p, size_t len, void *m)
{
	uint8_t	*copy;
	int	 rc, saved;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = dec(copy, len, m);
	saved = errno;
	free(copy);
	errno = saved;
	return (rc);
}

static int
dec_exact(const uint8_t *p, size_t len, struct stun_msg *m)
{
	return (dec_copy(dec_msg, p, len, m));
}

static int
classic_dec_exact(const uint8_t *p, size_t len, struct stun_classic *m)
{
	return (dec_copy(dec_classic, p, len, m));
}

/* Refused with EBADMSG, the output (size bytes) untouched. */
static void
refused(dec_fn dec, size_t size, const uint8_t *p, size_t len,
    const char *what, int line)
{
	union {
		struct stun_msg		 msg;
		struct stun_classic	 classic;
	}			 m, before;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	errno = 0;
	ck_assert_msg(dec_copy(dec, p, len, &m) == -1,
	    "%s (line %d, %zu bytes): decoded", what, line, len);
	ck_assert_msg(errno == EBADMSG, "%s (line %d): errno %d", what, line,
	    errno);
	ck_assert_msg(memcmp(&m, &before, size) == 0,
	    "%s (line %d): output touched on failure", what, line);
}

static void
expect_bad(const uint8_t *p, size_t len, const char *what, int line)
{
	refused(dec_msg, sizeof(struct stun_msg), p, len, what, line);
}

static void
expect_ok(const struct tvec *v)
{
	struct stun_msg	 m, m2;
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;

	memset(&m, 0, sizeof(m));
	ck_assert_msg(dec_exact(v->data, v->len, &m) == 0,
	    "line %d (%s): does not decode: %s", v->line, v->name,
	    strerror(errno));
	ck_assert_msg(stun_is_stun(v->data, v->len),
	    "line %d: stun_is_stun says no", v->line);
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(stun_encode(&b, &m) == 0, "line %d: re-encode: %s",
	    v->line, strerror(errno));
	if (vec_roundtrips(v))
		ck_assert_msg(b.len == v->len &&
		    memcmp(out, v->data, v->len) == 0,
		    "line %d: re-encodes differently", v->line);
	ck_assert_msg(dec_exact(out, b.len, &m2) == 0,
	    "line %d: re-encoding does not decode", v->line);
	ck_assert_msg(msg_eq(&m, &m2), "line %d: re-encoding decodes "
	    "to another message", v->line);
}

static bool
classic_eq(const struct stun_classic *a, const struct stun_classic *b)
{
	return (a->cls == b->cls &&
	    memcmp(a->txid, b->txid, STUN_CLASSIC_TXIDLEN) == 0 &&
	    saddr_eq(&a->mapped, &b->mapped) &&
	    saddr_eq(&a->source, &b->source) &&
	    saddr_eq(&a->changed, &b->changed) &&
	    a->has_change == b->has_change &&
	    (!a->has_change || a->change == b->change));
}

static void
classic_bad(const uint8_t *p, size_t len, const char *what, int line)
{
	refused(dec_classic, sizeof(struct stun_classic), p, len, what,
	    line);
}

static void
classic_ok(const struct tvec *v)
{
	struct stun_classic	 m, m2;
	uint8_t			 out[STUN_MAXMSG];
	struct buf		 b;

	memset(&m, 0, sizeof(m));
	ck_assert_msg(classic_dec_exact(v->data, v->len, &m) == 0,
	    "line %d (%s): does not decode: %s", v->line, v->name,
	    strerror(errno));
	ck_assert_msg(stun_is_classic(v->data, v->len),
	    "line %d: stun_is_classic says no", v->line);
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(stun_classic_encode(&b, &m) == 0,
	    "line %d: re-encode: %s", v->line, strerror(errno));
	if (vec_roundtrips(v))
		ck_assert_msg(b.len == v->len &&
		    memcmp(out, v->data, v->len) == 0,
		    "line %d: re-encodes differently", v->line);
	ck_assert_msg(classic_dec_exact(out, b.len, &m2) == 0,
	    "line %d: re-encoding does not decode", v->line);
	ck_assert_msg(classic_eq(&m, &m2), "line %d: re-encoding decodes "
	    "to another message", v->line);
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

static void
gen_addr(struct stun_addr *a)
{
	size_t	 i;

	memset(a, 0, sizeof(*a));
	if (rnd() % 2 == 0)
		return;
	a->present = true;
	a->addr.af = rnd() % 2 ? AF_INET : AF_INET6;
	for (i = 0; i < addr_len(a->addr.af); i++)
		a->addr.bytes[i] = rnd();
	a->port = rnd();
}

static void
gen_text(char *s)
{
	size_t	 i, n;

	n = rnd() % 4 == 0 ? STUN_TEXT_MAX : rnd_range(0, STUN_TEXT_MAX);
	for (i = 0; i < n; i++)
		s[i] = (char)rnd_range(0x20, 0x7e);
	s[n] = '\0';
}

static void
gen_unknown(struct stun_msg *m)
{
	size_t		 i, want = rnd() % (STUN_MAX_UNKNOWN + 1);
	uint16_t	 t;

	while (m->nunknown < want) {
		t = rnd() % 0x8000;
		for (i = 0; i < m->nunknown && m->unknown[i] != t; i++)
			;
		if (i == m->nunknown)
			m->unknown[m->nunknown++] = t;
	}
}

static void
gen_msg(struct stun_msg *m)
{
	size_t	 i;

	memset(m, 0, sizeof(*m));
	m->method = rnd() % 4 == 0 ? rnd() % 0x1000 : STUN_METHOD_BINDING;
	m->cls = rnd() % 4;
	for (i = 0; i < STUN_TXIDLEN; i++)
		m->txid[i] = rnd();
	gen_addr(&m->xor_mapped);
	gen_addr(&m->mapped);
	gen_addr(&m->response_origin);
	gen_addr(&m->other_address);
	if ((m->has_change = rnd() % 3 == 0))
		m->change = rnd() & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
	if ((m->has_error = m->cls == STUN_ERROR)) {
		m->error_code = rnd_range(300, 699);
		gen_text(m->reason);
	}
	if (rnd() % 2)
		gen_text(m->software);
	gen_unknown(m);
	m->fingerprint = rnd() % 2;
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* FINGERPRINT as RFC 8489 defines it, checked independently. */
static void
check_fingerprint(const uint8_t *p, size_t len, const char *what)
{
	ck_assert_msg(len >= STUN_HDRLEN + 8, "%s: too short", what);
	ck_assert_msg(p[len - 8] == 0x80 && p[len - 7] == 0x28 &&
	    p[len - 6] == 0 && p[len - 5] == 4,
	    "%s: FINGERPRINT is not last", what);
	ck_assert_msg(get32(p + len - 4) ==
	    (stun_crc32(p, len - 8) ^ FP_XOR), "%s: wrong FINGERPRINT", what);
}

/* One attribute with zero padding; returns the bytes written. */
static size_t
attr(uint8_t *p, uint16_t type, const void *v, size_t n)
{
	size_t	 pad = (4 - n % 4) % 4;

	put16(p, type);
	put16(p + 2, n);
	if (n > 0)
		memcpy(p + 4, v, n);
	memset(p + 4 + n, 0, pad);
	return (4 + n + pad);
}

/* A message of type with the given attribute bytes, FINGERPRINT if fp. */
static size_t
build(uint8_t *out, uint16_t type, const uint8_t *attrs, size_t n, bool fp)
{
	size_t	 len = STUN_HDRLEN + n;

	put16(out, type);
	put16(out + 2, n + (fp ? 8 : 0));
	put32(out + 4, STUN_MAGIC);
	memcpy(out + 8, txid, STUN_TXIDLEN);
	if (n > 0)
		memmove(out + STUN_HDRLEN, attrs, n);
	if (fp) {
		put16(out + len, STUN_ATTR_FINGERPRINT);
		put16(out + len + 2, 4);
		put32(out + len + 4, stun_crc32(out, len) ^ FP_XOR);
		len += 8;
	}
	return (len);
}

static void
expect_addr(const struct stun_addr *a, const char *ip, uint16_t port)
{
	struct addr	 want;

	ck_assert(a->present);
	ck_assert_int_eq(addr_parse(ip, &want), 0);
	ck_assert_msg(addr_eq(&a->addr, &want), "address is not %s", ip);
	ck_assert_uint_eq(a->port, port);
}

START_TEST(test_vectors_present)
{
	size_t	 i, nok = 0, nbad = 0, nrt = 0, nclassic = 0;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vec_classic(&vecs[i]))
			nclassic++;
		else if (!vecs[i].ok)
			nbad++;
		else if (vec_roundtrips(&vecs[i]))
			nrt++;
		else
			nok++;
	}
	ck_assert_uint_gt(nbad, 0);
	ck_assert_uint_gt(nrt, 0);
	ck_assert_uint_gt(nok, 0);
	ck_assert(vec_find("rfc5769-request")->ok);
	ck_assert(vec_find("rfc5769-ipv4")->ok);
	ck_assert(vec_find("rfc5769-ipv6")->ok);
	ck_assert_uint_gt(nclassic, 0);
	ck_assert(vec_find("classic-debian")->ok);
	ck_assert(vec_find("classic-response")->ok);
}
END_TEST

START_TEST(test_vectors)
{
	size_t	 i;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vec_classic(&vecs[i]) && vecs[i].ok)
			classic_ok(&vecs[i]);
		else if (vec_classic(&vecs[i]))
			classic_bad(vecs[i].data, vecs[i].len, "bad vector",
			    vecs[i].line);
		else if (vecs[i].ok)
			expect_ok(&vecs[i]);
		else
			expect_bad(vecs[i].data, vecs[i].len, "bad vector",
			    vecs[i].line);
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
			if (vec_classic(&vecs[i]))
				classic_bad(vecs[i].data, k, "truncated",
				    vecs[i].line);
			else
				expect_bad(vecs[i].data, k, "truncated",
				    vecs[i].line);
	}
}
END_TEST

START_TEST(test_trailing)
{
	uint8_t	 p[STUN_MAXMSG + 4];
	size_t	 i, len, k;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		len = vecs[i].len;
		ck_assert_uint_le(len + 4, sizeof(p));
		memcpy(p, vecs[i].data, len);
		for (k = 1; k <= 4; k++) {
			memset(p + len, k == 4 ? 0x00 : 0xff, k);
			if (vec_classic(&vecs[i]))
				classic_bad(p, len + k, "trailing bytes",
				    vecs[i].line);
			else
				expect_bad(p, len + k, "trailing bytes",
				    vecs[i].line);
		}
	}
}
END_TEST

/*
 * No single flipped bit passes FINGERPRINT.  A flip may still leave a
 * valid message without it: one in FINGERPRINT's own type makes it
 * another attribute, one in a length can make an attribute swallow it.
 */
START_TEST(test_bitflips)
{
	struct stun_msg	 m;
	uint8_t		 p[STUN_MAXMSG];
	size_t		 i, k, n = 0, nbad = 0, nflip = 0;
	int		 bit;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || vec_classic(&vecs[i]) ||
		    vecs[i].len < STUN_HDRLEN + 8 ||
		    get32(vecs[i].data + vecs[i].len - 8) != 0x80280004)
			continue;
		n++;
		nflip += 8 * vecs[i].len;
		ck_assert_uint_le(vecs[i].len, sizeof(p));
		memcpy(p, vecs[i].data, vecs[i].len);
		for (k = 0; k < vecs[i].len; k++)
			for (bit = 0; bit < 8; bit++) {
				p[k] ^= 1 << bit;
				if (dec_exact(p, vecs[i].len, &m) == 0)
					ck_assert_msg(!m.fingerprint,
					    "line %d: byte %zu bit %d passes",
					    vecs[i].line, k, bit);
				else
					nbad++;
				p[k] ^= 1 << bit;
			}
	}
	ck_assert_uint_ge(n, 3);
	/* Nearly all of them fail outright. */
	ck_assert_uint_gt(nbad, nflip - nflip / 20);
}
END_TEST

START_TEST(test_enobufs)
{
	struct stun_msg	 m;
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;
	size_t		 i, cap, need;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || vec_classic(&vecs[i]))
			continue;
		ck_assert_int_eq(dec_exact(vecs[i].data, vecs[i].len, &m), 0);
		buf_init_fixed(&b, out, sizeof(out));
		ck_assert_int_eq(stun_encode(&b, &m), 0);
		need = b.len;
		for (cap = 0; cap < need; cap++) {
			buf_init_fixed(&b, out, cap);
			errno = 0;
			ck_assert_int_eq(stun_encode(&b, &m), -1);
			ck_assert_int_eq(errno, ENOBUFS);
			ck_assert_uint_eq(b.len, 0);
		}
	}
}
END_TEST

START_TEST(test_rfc5769_request)
{
	const struct tvec	*v = vec_find("rfc5769-request");
	struct stun_msg		 m;

	ck_assert_uint_eq(v->len, 108);
	ck_assert_int_eq(dec_exact(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_mem_eq(m.txid, rfc_txid, STUN_TXIDLEN);
	ck_assert_str_eq(m.software, "STUN test client");
	ck_assert(m.fingerprint);
	ck_assert(!m.has_error && !m.has_change);
	ck_assert(!m.xor_mapped.present && !m.mapped.present);
	/* PRIORITY (0x0024) is ICE's: comprehension-required, unknown. */
	ck_assert_uint_eq(m.nunknown, 1);
	ck_assert_uint_eq(m.unknown[0], 0x0024);
	check_fingerprint(v->data, v->len, "rfc5769-request");
	ck_assert_uint_eq(get32(v->data + v->len - 4), 0xe57a3bcf);
}
END_TEST

START_TEST(test_rfc5769_ipv4)
{
	const struct tvec	*v = vec_find("rfc5769-ipv4");
	struct stun_msg		 m;

	ck_assert_uint_eq(v->len, 80);
	ck_assert_int_eq(dec_exact(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_SUCCESS);
	ck_assert_mem_eq(m.txid, rfc_txid, STUN_TXIDLEN);
	ck_assert_str_eq(m.software, "test vector");
	expect_addr(&m.xor_mapped, "192.0.2.1", 32853);
	ck_assert(!m.mapped.present && !m.response_origin.present &&
	    !m.other_address.present);
	ck_assert(m.fingerprint);
	ck_assert_uint_eq(m.nunknown, 0);
	check_fingerprint(v->data, v->len, "rfc5769-ipv4");
	ck_assert_uint_eq(get32(v->data + v->len - 4), 0xc07d4c96);
}
END_TEST

START_TEST(test_rfc5769_ipv6)
{
	const struct tvec	*v = vec_find("rfc5769-ipv6");
	struct stun_msg		 m;

	ck_assert_uint_eq(v->len, 92);
	ck_assert_int_eq(dec_exact(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_SUCCESS);
	ck_assert_mem_eq(m.txid, rfc_txid, STUN_TXIDLEN);
	ck_assert_str_eq(m.software, "test vector");
	expect_addr(&m.xor_mapped, "2001:db8:1234:5678:11:2233:4455:6677",
	    32853);
	ck_assert(m.fingerprint);
	ck_assert_uint_eq(m.nunknown, 0);
	check_fingerprint(v->data, v->len, "rfc5769-ipv6");
	ck_assert_uint_eq(get32(v->data + v->len - 4), 0xc8fb0b4c);
}
END_TEST

/* The RFC 5769 answers, rebuilt by our encoder without the HMAC. */
START_TEST(test_rfc5769_reencode)
{
	static const char *const names[] = { "rfc5769-ipv4", "rfc5769-ipv6" };
	struct stun_msg	 m, m2;
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		const struct tvec *v = vec_find(names[i]);

		ck_assert_int_eq(dec_exact(v->data, v->len, &m), 0);
		buf_init_fixed(&b, out, sizeof(out));
		ck_assert_int_eq(stun_encode(&b, &m), 0);
		/* XOR-MAPPED-ADDRESS is the same bytes as in the RFC. */
		ck_assert_mem_eq(out + STUN_HDRLEN, v->data + 36,
		    i == 0 ? 12 : 24);
		check_fingerprint(out, b.len, names[i]);
		ck_assert_int_eq(dec_exact(out, b.len, &m2), 0);
		ck_assert(msg_eq(&m, &m2));
	}
}
END_TEST

START_TEST(test_crc32)
{
	ck_assert_uint_eq(stun_crc32("123456789", 9), 0xcbf43926);
	ck_assert_uint_eq(stun_crc32("", 0), 0);
	ck_assert_uint_eq(stun_crc32("a", 1), 0xe8b7be43);
}
END_TEST

/* Random valid messages: encode, decode, compare, re-encode. */
START_TEST(test_roundtrip)
{
	static struct stun_msg	 a, b;
	uint8_t			 out1[STUN_MAXMSG], out2[STUN_MAXMSG];
	struct buf		 b1, b2;
	int			 n;

	for (n = 0; n < ROUNDS; n++) {
		gen_msg(&a);
		buf_init_fixed(&b1, out1, sizeof(out1));
		ck_assert_msg(stun_encode(&b1, &a) == 0, "round %d: enc: %s",
		    n, strerror(errno));
		ck_assert(stun_is_stun(out1, b1.len));
		if (a.fingerprint)
			check_fingerprint(out1, b1.len, "random");
		memset(&b, 0x5a, sizeof(b));
		ck_assert_msg(dec_exact(out1, b1.len, &b) == 0,
		    "round %d: dec: %s", n, strerror(errno));
		ck_assert_msg(msg_eq(&a, &b), "round %d: fields differ", n);
		buf_init_fixed(&b2, out2, sizeof(out2));
		ck_assert_int_eq(stun_encode(&b2, &b), 0);
		ck_assert_msg(b1.len == b2.len &&
		    memcmp(out1, out2, b1.len) == 0,
		    "round %d: re-encoding differs", n);
	}
}
END_TEST

/* The largest message: every attribute at its longest, IPv6. */
START_TEST(test_largest)
{
	struct stun_msg	 m, m2;
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;
	size_t		 i;

	memset(&m, 0, sizeof(m));
	m.cls = STUN_ERROR;
	m.method = 0xfff;
	m.xor_mapped.present = m.mapped.present = true;
	m.response_origin.present = m.other_address.present = true;
	m.xor_mapped.addr.af = m.mapped.addr.af = AF_INET6;
	m.response_origin.addr.af = m.other_address.addr.af = AF_INET6;
	m.has_change = true;
	m.has_error = true;
	m.error_code = 699;
	memset(m.reason, 'r', STUN_TEXT_MAX);
	memset(m.software, 's', STUN_TEXT_MAX);
	for (i = 0; i < STUN_MAX_UNKNOWN; i++)
		m.unknown[m.nunknown++] = 0x7ff0 + i;
	m.fingerprint = true;
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(stun_encode(&b, &m), 0);
	ck_assert_uint_eq(b.len, 420);
	ck_assert_int_eq(dec_exact(out, b.len, &m2), 0);
	ck_assert(msg_eq(&m, &m2));
}
END_TEST

/* Encoding after bytes already in the buffer: length and CRC are ours. */
START_TEST(test_append)
{
	struct stun_msg	 m, m2;
	uint8_t		 out[64 + STUN_MAXMSG];
	struct buf	 b;

	memset(&m, 0, sizeof(m));
	m.method = STUN_METHOD_BINDING;
	memcpy(m.txid, txid, STUN_TXIDLEN);
	m.has_change = true;
	m.change = STUN_CHANGE_IP;
	m.fingerprint = true;
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "xyz", 3), 0);
	ck_assert_int_eq(stun_encode(&b, &m), 0);
	ck_assert_uint_eq(b.len, 3 + STUN_HDRLEN + 8 + 8);
	ck_assert_mem_eq(out, "xyz", 3);
	check_fingerprint(out + 3, b.len - 3, "appended");
	ck_assert_int_eq(dec_exact(out + 3, b.len - 3, &m2), 0);
	ck_assert(msg_eq(&m, &m2));
	/* A dynamic buffer that has to grow. */
	ck_assert_int_eq(buf_init(&b, 0, 4096), 0);
	ck_assert_int_eq(buf_put(&b, "xyz", 3), 0);
	ck_assert_int_eq(stun_encode(&b, &m), 0);
	ck_assert_mem_eq(b.data + 3, out + 3, b.len - 3);
	buf_free(&b);
}
END_TEST

static void
refuse(const struct stun_msg *m, const char *what)
{
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "ab", 2), 0);
	errno = 0;
	ck_assert_msg(stun_encode(&b, m) == -1, "%s: encoded", what);
	ck_assert_msg(errno == EINVAL, "%s: errno %d", what, errno);
	ck_assert_msg(b.len == 2, "%s: wrote %zu bytes", what, b.len - 2);
}

static void
fixture(struct stun_msg *m, uint8_t cls)
{
	memset(m, 0, sizeof(*m));
	m->method = STUN_METHOD_BINDING;
	m->cls = cls;
	memcpy(m->txid, txid, STUN_TXIDLEN);
	if (cls == STUN_ERROR) {
		m->has_error = true;
		m->error_code = 420;
		snprintf(m->reason, sizeof(m->reason), "Unknown Attribute");
	}
}

START_TEST(test_refuse)
{
	struct stun_msg	 m;

	fixture(&m, STUN_SUCCESS);
	m.method = 0x1000;
	refuse(&m, "method 0x1000");
	fixture(&m, STUN_SUCCESS);
	m.cls = 4;
	refuse(&m, "class 4");
	fixture(&m, STUN_SUCCESS);
	m.xor_mapped.present = true;
	refuse(&m, "XOR-MAPPED-ADDRESS without a family");
	fixture(&m, STUN_SUCCESS);
	m.other_address.present = true;
	m.other_address.addr.af = AF_UNIX;
	refuse(&m, "OTHER-ADDRESS AF_UNIX");
	fixture(&m, STUN_REQUEST);
	m.has_change = true;
	m.change = 0x01;
	refuse(&m, "CHANGE-REQUEST 0x01");
	fixture(&m, STUN_REQUEST);
	m.has_change = true;
	m.change = 0x100;
	refuse(&m, "CHANGE-REQUEST 0x100");
	fixture(&m, STUN_ERROR);
	m.has_error = false;
	refuse(&m, "error response without ERROR-CODE");
	fixture(&m, STUN_SUCCESS);
	m.has_error = true;
	m.error_code = 420;
	refuse(&m, "ERROR-CODE in a success response");
	fixture(&m, STUN_ERROR);
	m.error_code = 299;
	refuse(&m, "code 299");
	fixture(&m, STUN_ERROR);
	m.error_code = 700;
	refuse(&m, "code 700");
}
END_TEST

START_TEST(test_refuse_texts_unknown)
{
	struct stun_msg	 m;

	fixture(&m, STUN_ERROR);
	m.reason[3] = '\n';
	refuse(&m, "newline in reason");
	fixture(&m, STUN_ERROR);
	memset(m.reason, 'x', sizeof(m.reason));
	refuse(&m, "reason not terminated");
	fixture(&m, STUN_SUCCESS);
	snprintf(m.software, sizeof(m.software), "caf\xc3\xa9");
	refuse(&m, "8-bit SOFTWARE");
	fixture(&m, STUN_SUCCESS);
	memset(m.software, 'x', sizeof(m.software));
	refuse(&m, "SOFTWARE not terminated");
	fixture(&m, STUN_ERROR);
	m.nunknown = STUN_MAX_UNKNOWN + 1;
	refuse(&m, "nine unknown types");
	fixture(&m, STUN_ERROR);
	m.nunknown = 1;
	m.unknown[0] = 0x8022;
	refuse(&m, "optional type as unknown");
	fixture(&m, STUN_ERROR);
	m.nunknown = 3;
	m.unknown[0] = 0x0024;
	m.unknown[1] = 0x0003;
	m.unknown[2] = 0x0024;
	refuse(&m, "repeated unknown type");
}
END_TEST

/* Every method and class lands where RFC 8489 puts the bits. */
START_TEST(test_method_class)
{
	static const uint16_t	 binding[4] = {
		0x0001, 0x0011, 0x0101, 0x0111
	};
	struct stun_msg		 m, m2;
	uint8_t			 out[STUN_MAXMSG];
	struct buf		 b;
	unsigned int		 method, cls;

	for (method = 0; method < 0x1000; method++)
		for (cls = 0; cls < 4; cls++) {
			fixture(&m, cls);
			m.method = method;
			buf_init_fixed(&b, out, sizeof(out));
			ck_assert_int_eq(stun_encode(&b, &m), 0);
			ck_assert_uint_eq(out[0] & 0xc0, 0);
			if (method == STUN_METHOD_BINDING)
				ck_assert_uint_eq(out[0] << 8 | out[1],
				    binding[cls]);
			ck_assert_int_eq(dec_exact(out, b.len, &m2), 0);
			ck_assert_uint_eq(m2.method, method);
			ck_assert_uint_eq(m2.cls, cls);
		}
}
END_TEST

START_TEST(test_error_codes)
{
	uint8_t		 v[4], a[16], p[STUN_MAXMSG];
	struct stun_msg	 m;
	unsigned int	 cls, num;
	size_t		 len;

	for (cls = 0; cls < 8; cls++)
		for (num = 0; num < 256; num++) {
			v[0] = v[1] = 0;
			v[2] = cls;
			v[3] = num;
			len = build(p, 0x0111, a, attr(a, STUN_ATTR_ERROR_CODE,
			    v, 4), false);
			if (cls < 3 || cls > 6 || num > 99) {
				expect_bad(p, len, "error code", __LINE__);
				continue;
			}
			ck_assert_int_eq(dec_exact(p, len, &m), 0);
			ck_assert_uint_eq(m.error_code, cls * 100 + num);
			ck_assert_str_eq(m.reason, "");
		}
}
END_TEST

/* SOFTWARE and the reason: 763 bytes at most, 127 kept, '?' for others. */
START_TEST(test_texts)
{
	uint8_t		 v[800], a[900], p[STUN_MAXMSG];
	struct stun_msg	 m;
	char		 want[STUN_TEXT_MAX + 1];
	size_t		 len, i;

	for (i = 0; i < sizeof(v); i++)
		v[i] = i % 2 ? 'a' + i % 26 : (uint8_t)(0x7d + i % 7);
	for (i = 0; i < STUN_TEXT_MAX; i++)
		want[i] = v[i] >= 0x20 && v[i] <= 0x7e ? (char)v[i] : '?';
	want[STUN_TEXT_MAX] = '\0';
	len = build(p, 0x0101, a, attr(a, STUN_ATTR_SOFTWARE, v, 763), true);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert_str_eq(m.software, want);
	len = build(p, 0x0101, a, attr(a, STUN_ATTR_SOFTWARE, v, 764), true);
	expect_bad(p, len, "SOFTWARE of 764 bytes", __LINE__);

	memset(v, 0, 4);
	v[2] = 5;
	len = build(p, 0x0111, a, attr(a, STUN_ATTR_ERROR_CODE, v, 4 + 763),
	    false);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert_uint_eq(m.error_code, 500 + v[3]);
	ck_assert_uint_eq(strlen(m.reason), STUN_TEXT_MAX);
	len = build(p, 0x0111, a, attr(a, STUN_ATTR_ERROR_CODE, v, 4 + 764),
	    false);
	expect_bad(p, len, "reason of 764 bytes", __LINE__);

	len = build(p, 0x0101, a, attr(a, STUN_ATTR_SOFTWARE,
	    "a\0b\x7f\xff", 5), false);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert_str_eq(m.software, "a?b??");
}
END_TEST

/* STUN_MAXMSG bytes decode; one word more does not. */
START_TEST(test_maxmsg)
{
	static uint8_t	 a[STUN_MAXMSG], v[STUN_MAXMSG];
	static uint8_t	 p[STUN_MAXMSG + 4];
	struct stun_msg	 m;
	size_t		 len;

	memset(v, 0x42, sizeof(v));
	len = build(p, 0x0001, a, attr(a, 0x8055, v,
	    STUN_MAXMSG - STUN_HDRLEN - 4), false);
	ck_assert_uint_eq(len, STUN_MAXMSG);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert(stun_is_stun(p, len));
	len = build(p, 0x0001, a, attr(a, 0x8055, v,
	    STUN_MAXMSG - STUN_HDRLEN), false);
	ck_assert_uint_eq(len, STUN_MAXMSG + 4);
	expect_bad(p, len, "over STUN_MAXMSG", __LINE__);
	ck_assert(!stun_is_stun(p, len));
}
END_TEST

START_TEST(test_unknown)
{
	uint8_t		 a[256], p[STUN_MAXMSG], list[2 * 9];
	struct stun_msg	 m;
	size_t		 n = 0, len, i;

	/* Eight distinct types, one of them twice, merged with a list. */
	for (i = 0; i < 7; i++)
		n += attr(a + n, 0x7000 + i, "", 0);
	n += attr(a + n, 0x7000, "zz", 2);
	put16(list, 0x7001);
	put16(list + 2, 0x0003);
	n += attr(a + n, STUN_ATTR_UNKNOWN_ATTRIBUTES, list, 4);
	n += attr(a + n, 0x8123, "", 0);	/* optional: ignored */
	len = build(p, 0x0001, a, n, true);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert_uint_eq(m.nunknown, 8);
	for (i = 0; i < 7; i++)
		ck_assert_uint_eq(m.unknown[i], 0x7000 + i);
	ck_assert_uint_eq(m.unknown[7], 0x0003);
	/* A ninth type is too many. */
	n += attr(a + n, 0x0024, "", 0);
	len = build(p, 0x0001, a, n, true);
	expect_bad(p, len, "nine unknown types", __LINE__);
	/* Attributes after MESSAGE-INTEGRITY are not collected. */
	n = attr(a, STUN_ATTR_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	n += attr(a + n, 0x0024, "", 0);
	len = build(p, 0x0001, a, n, true);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert_uint_eq(m.nunknown, 0);
}
END_TEST

START_TEST(test_duplicates)
{
	uint8_t		 a[128], p[STUN_MAXMSG];
	struct stun_msg	 m;
	size_t		 n = 0, len;

	n += attr(a + n, STUN_ATTR_CHANGE_REQUEST, "\0\0\0\x02", 4);
	n += attr(a + n, STUN_ATTR_CHANGE_REQUEST, "\0\0\0\x04", 4);
	n += attr(a + n, STUN_ATTR_SOFTWARE, "one", 3);
	n += attr(a + n, STUN_ATTR_SOFTWARE, "two", 3);
	n += attr(a + n, STUN_ATTR_MAPPED_ADDRESS,
	    "\0\x01\x12\x34\x0a\0\0\x01", 8);
	n += attr(a + n, STUN_ATTR_MAPPED_ADDRESS, "\0\x09", 2);
	len = build(p, 0x0001, a, n, false);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	ck_assert(m.has_change);
	ck_assert_uint_eq(m.change, STUN_CHANGE_PORT);
	ck_assert_str_eq(m.software, "one");
	expect_addr(&m.mapped, "10.0.0.1", 0x1234);
}
END_TEST

/* Reserved bits and padding are ignored; the lenient vectors agree. */
START_TEST(test_ignored_bits)
{
	uint8_t		 a[64], p[STUN_MAXMSG];
	struct stun_msg	 m;
	size_t		 n, len;

	n = attr(a, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    "\xff\x01\x21\x13\xe1\x12\xa6\x43", 8);
	n += attr(a + n, STUN_ATTR_SOFTWARE, "abc", 3);
	a[n - 1] = 0xff;
	len = build(p, 0x0101, a, n, true);
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	expect_addr(&m.xor_mapped, "192.0.2.1", 1);
	ck_assert_str_eq(m.software, "abc");
}
END_TEST

START_TEST(test_is_stun)
{
	uint8_t	 p[STUN_MAXMSG];
	size_t	 i, len;

	vec_load();
	for (i = 0; i < nvecs; i++)
		ck_assert_msg(stun_is_stun(vecs[i].data, vecs[i].len) ==
		    (strcmp(vecs[i].name, "header") != 0 &&
		    !vec_classic(&vecs[i])),
		    "line %d: stun_is_stun disagrees with the group",
		    vecs[i].line);
	len = build(p, 0x0001, NULL, 0, false);
	ck_assert(stun_is_stun(p, len));
	ck_assert(!stun_is_stun(p, len - 1));
	ck_assert(!stun_is_stun(NULL, 0));
	/* WireGuard: a type byte, three zero bytes, then its index. */
	memset(p, 0, sizeof(p));
	p[0] = 1;
	put32(p + 4, STUN_MAGIC);
	ck_assert(!stun_is_stun(p, 148));
	ck_assert(!stun_is_stun(p, 32));
	p[0] = 4;
	ck_assert(!stun_is_stun(p, 32));
}
END_TEST

/* ---- classic (RFC 3489) ---- */

/* Each codec takes its own vectors and nothing of the other's. */
START_TEST(test_classic_is_classic)
{
	struct stun_msg		 m;
	struct stun_classic	 c;
	uint8_t			 p[STUN_MAXMSG];
	size_t			 i, len;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vec_classic(&vecs[i])) {
			ck_assert_msg(stun_is_classic(vecs[i].data,
			    vecs[i].len) == (strcmp(vecs[i].name,
			    "classic-header") != 0), "line %d: "
			    "stun_is_classic disagrees with the group",
			    vecs[i].line);
			expect_bad(vecs[i].data, vecs[i].len, "classic as "
			    "RFC 8489", vecs[i].line);
		} else if (strcmp(vecs[i].name, "header") == 0 &&
		    stun_is_classic(vecs[i].data, vecs[i].len)) {
			/* A wrong magic cookie: a classic request. */
			ck_assert_int_eq(classic_dec_exact(vecs[i].data,
			    vecs[i].len, &c), 0);
		} else
			classic_bad(vecs[i].data, vecs[i].len, "RFC 8489 as "
			    "classic", vecs[i].line);
	}
	/* An RFC 8489 Binding request is not classic, even a bare one. */
	len = build(p, 0x0001, NULL, 0, false);
	ck_assert(!stun_is_classic(p, len));
	ck_assert_int_eq(dec_exact(p, len, &m), 0);
	p[7] ^= 1;
	ck_assert(stun_is_classic(p, len));
	ck_assert_int_eq(classic_dec_exact(p, len, &c), 0);
	ck_assert(!stun_is_classic(NULL, 0));
}
END_TEST

START_TEST(test_classic_fields)
{
	const struct tvec	*v;
	struct stun_classic	 m;

	v = vec_find("classic-debian");
	ck_assert_uint_eq(v->len, 28);
	ck_assert_int_eq(classic_dec_exact(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_mem_eq(m.txid, v->data + 4, STUN_CLASSIC_TXIDLEN);
	ck_assert_uint_eq(m.txid[0], 1);	/* stun-client's test I */
	ck_assert(m.has_change);
	ck_assert_uint_eq(m.change, 0);
	ck_assert(!m.mapped.present && !m.source.present &&
	    !m.changed.present);

	v = vec_find("classic-response");
	ck_assert_uint_eq(v->len, 56);
	ck_assert_int_eq(classic_dec_exact(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.cls, STUN_SUCCESS);
	ck_assert_mem_eq(m.txid, classic_txid, STUN_CLASSIC_TXIDLEN);
	expect_addr(&m.mapped, "203.0.113.7", 51820);
	expect_addr(&m.source, "198.51.100.1", 3478);
	expect_addr(&m.changed, "198.51.100.2", 3479);
	ck_assert(!m.has_change);
}
END_TEST

static void
gen_classic_addr(struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (rnd() % 3 == 0)
		return;
	a->present = true;
	a->addr.af = AF_INET;
	put32(a->addr.bytes, rnd());
	a->port = rnd();
}

static void
gen_classic(struct stun_classic *m)
{
	size_t	 i;

	memset(m, 0, sizeof(*m));
	m->cls = rnd() % 2 ? STUN_SUCCESS : STUN_REQUEST;
	for (i = 0; i < STUN_CLASSIC_TXIDLEN; i++)
		m->txid[i] = rnd();
	if (rnd() % 8 == 0)	/* the cookie but for one bit */
		put32(m->txid, STUN_MAGIC ^ (1u << rnd() % 32));
	gen_classic_addr(&m->mapped);
	gen_classic_addr(&m->source);
	gen_classic_addr(&m->changed);
	if ((m->has_change = rnd() % 2 == 0))
		m->change = rnd() & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
}

START_TEST(test_classic_roundtrip)
{
	struct stun_classic	 a, b;
	uint8_t			 out1[STUN_MAXMSG], out2[STUN_MAXMSG];
	struct buf		 b1, b2;
	int			 n;

	for (n = 0; n < ROUNDS; n++) {
		gen_classic(&a);
		buf_init_fixed(&b1, out1, sizeof(out1));
		ck_assert_msg(stun_classic_encode(&b1, &a) == 0,
		    "round %d: enc: %s", n, strerror(errno));
		ck_assert_uint_le(b1.len, 64);
		ck_assert(stun_is_classic(out1, b1.len));
		ck_assert(!stun_is_stun(out1, b1.len));
		memset(&b, 0x5a, sizeof(b));
		ck_assert_msg(classic_dec_exact(out1, b1.len, &b) == 0,
		    "round %d: dec: %s", n, strerror(errno));
		ck_assert_msg(classic_eq(&a, &b), "round %d: fields differ",
		    n);
		buf_init_fixed(&b2, out2, sizeof(out2));
		ck_assert_int_eq(stun_classic_encode(&b2, &b), 0);
		ck_assert(b1.len == b2.len && memcmp(out1, out2, b1.len) == 0);
	}
}
END_TEST

START_TEST(test_classic_enobufs)
{
	struct stun_classic	 m;
	uint8_t			 out[STUN_MAXMSG];
	struct buf		 b;
	size_t			 i, cap, need;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || !vec_classic(&vecs[i]))
			continue;
		ck_assert_int_eq(classic_dec_exact(vecs[i].data, vecs[i].len,
		    &m), 0);
		buf_init_fixed(&b, out, sizeof(out));
		ck_assert_int_eq(stun_classic_encode(&b, &m), 0);
		need = b.len;
		for (cap = 0; cap < need; cap++) {
			buf_init_fixed(&b, out, cap);
			errno = 0;
			ck_assert_int_eq(stun_classic_encode(&b, &m), -1);
			ck_assert_int_eq(errno, ENOBUFS);
			ck_assert_uint_eq(b.len, 0);
		}
	}
}
END_TEST

static void
classic_refuse(const struct stun_classic *m, const char *what)
{
	uint8_t		 out[STUN_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "ab", 2), 0);
	errno = 0;
	ck_assert_msg(stun_classic_encode(&b, m) == -1, "%s: encoded", what);
	ck_assert_msg(errno == EINVAL, "%s: errno %d", what, errno);
	ck_assert_msg(b.len == 2, "%s: wrote %zu bytes", what, b.len - 2);
}

static void
classic_fixture(struct stun_classic *m)
{
	memset(m, 0, sizeof(*m));
	m->cls = STUN_SUCCESS;
	memcpy(m->txid, classic_txid, STUN_CLASSIC_TXIDLEN);
	m->mapped.present = true;
	m->mapped.addr.af = AF_INET;
}

START_TEST(test_classic_refuse)
{
	struct stun_classic	 m;
	uint8_t			 out[STUN_MAXMSG];
	struct buf		 b;

	classic_fixture(&m);
	m.cls = STUN_ERROR;
	classic_refuse(&m, "error response");
	classic_fixture(&m);
	m.cls = STUN_INDICATION;
	classic_refuse(&m, "indication");
	classic_fixture(&m);
	m.cls = 4;
	classic_refuse(&m, "class 4");
	classic_fixture(&m);
	m.mapped.addr.af = AF_INET6;
	classic_refuse(&m, "IPv6 MAPPED-ADDRESS");
	classic_fixture(&m);
	m.source.present = true;
	classic_refuse(&m, "SOURCE-ADDRESS without a family");
	classic_fixture(&m);
	m.changed.present = true;
	m.changed.addr.af = AF_UNIX;
	classic_refuse(&m, "CHANGED-ADDRESS AF_UNIX");
	classic_fixture(&m);
	m.has_change = true;
	m.change = 0x01;
	classic_refuse(&m, "CHANGE-REQUEST 0x01");
	classic_fixture(&m);
	put32(m.txid, STUN_MAGIC);
	classic_refuse(&m, "txid that starts with the magic cookie");
	/* Unset fields are not looked at. */
	classic_fixture(&m);
	m.change = 0xffffffff;
	m.source.addr.af = AF_INET6;
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(stun_classic_encode(&b, &m), 0);
	ck_assert_uint_eq(b.len, STUN_HDRLEN + 12);
}
END_TEST

static Suite *
stun_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("stun");

	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vectors_present);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_bitflips);
	tcase_add_test(tc, test_enobufs);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc5769");
	tcase_add_test(tc, test_rfc5769_request);
	tcase_add_test(tc, test_rfc5769_ipv4);
	tcase_add_test(tc, test_rfc5769_ipv6);
	tcase_add_test(tc, test_rfc5769_reencode);
	tcase_add_test(tc, test_crc32);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_largest);
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_method_class);
	suite_add_tcase(s, tc);

	tc = tcase_create("decoder");
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_texts);
	tcase_add_test(tc, test_maxmsg);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_ignored_bits);
	tcase_add_test(tc, test_is_stun);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoder");
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_refuse_texts_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("classic");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_classic_is_classic);
	tcase_add_test(tc, test_classic_fields);
	tcase_add_test(tc, test_classic_roundtrip);
	tcase_add_test(tc, test_classic_enobufs);
	tcase_add_test(tc, test_classic_refuse);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(stun_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
