/*
 * Disco codec: the hex vectors of proto/disco.md (plaintexts, and
 * datagrams sealed with the documented test keys and nonce), round
 * trips, truncation at every offset, trailing bytes, bit flips in
 * sealed datagrams, other receivers and senders, disco_is_disco and
 * disco_sender, the no-amplification sizes, encoders that refuse bad
 * structs and keys, and ENOBUFS at every buffer size.
 *
 * The spec is read from $LR_SRCDIR/proto/disco.md, or proto/disco.md
 * relative to the current directory (the repository root under make).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tests/lib/vectors.h"

#include "proto/disco.h"
#include "proto/stun.h"

#define VECMAX		256
#define ROUNDS		500
#define NONCEOFF	(DISCO_MAGICLEN + DISCO_KEYLEN)
#define PING_TIME	1700000000000ULL
#define PONG_TIME	1700000000123ULL


/* The test keys of proto/disco.md: RFC 7748 section 6.1, and Carol. */
static const char	*hex_alice_priv =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char	*hex_alice_pub =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char	*hex_bob_priv =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char	*hex_bob_pub =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char	*hex_carol_priv =
    "6361726f6c277320646973636f2074657374206b65792c206e6f74207265616c";
static const char	*hex_carol_pub =
    "8aa21e95c28359e445460f93e0401867117f67657418227a3123c9f66abf2662";
/* X25519(Alice, Bob) of RFC 7748; its HSalsa20, NaCl's "firstkey". */
static const char	*hex_shared =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
static const char	*hex_beforenm =
    "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";
/* Points of small order: u = 1 (order 4) and one of order 8. */
static const char	*hex_order4 =
    "0100000000000000000000000000000000000000000000000000000000000000";
static const char	*hex_order8 =
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800";

static uint8_t		 alice_priv[32], alice_pub[32], bob_priv[32];
static uint8_t		 bob_pub[32], carol_priv[32], carol_pub[32];
static const uint8_t	 zero_key[32];
static const uint8_t	 txid[DISCO_TXIDLEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb
};

static const struct tvec	*vecs;		/* proto/disco.md, loaded once */
static size_t		 nvecs;
static uint32_t		 rng = 0x9e3779b9;

static void
unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t	 got;

	ck_assert_int_eq(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got,
	    NULL), 0);
	ck_assert_uint_eq(got, n);
}

static void
keys_load(void)
{
	unhex(hex_alice_priv, alice_priv, 32);
	unhex(hex_alice_pub, alice_pub, 32);
	unhex(hex_bob_priv, bob_priv, 32);
	unhex(hex_bob_pub, bob_pub, 32);
	unhex(hex_carol_priv, carol_priv, 32);
	unhex(hex_carol_pub, carol_pub, 32);
}

static void
vec_load(void)
{
	if (vecs == NULL)
		vecs = tvec_load("disco.md", &nvecs);
}

static const struct tvec *
vec_find(const char *name)
{
	vec_load();
	return (tvec_find(vecs, nvecs, "disco.md", name));
}

/* A whole datagram, Alice to Bob; the rest are plaintexts. */
static bool
vec_sealed(const struct tvec *v)
{
	return (strncmp(v->name, "sealed", 6) == 0);
}

static bool
vec_header(const struct tvec *v)
{
	return (strcmp(v->name, "sealed-header") == 0);
}

static bool
msg_eq(const struct disco_msg *a, const struct disco_msg *b)
{
	if (a->type != b->type || a->time_ms != b->time_ms ||
	    memcmp(a->txid, b->txid, DISCO_TXIDLEN) != 0)
		return (false);
	if (a->type != DISCO_PONG)
		return (true);
	return (a->seen_port == b->seen_port && addr_eq(&a->seen, &b->seen));
}

/* Decode from an exact-size heap copy, so that ASan sees any overread. */
static int
dec_exact(const uint8_t *p, size_t len, struct disco_msg *m)
{
	uint8_t	*copy;
	int	 rc, saved;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = disco_dec_plain(copy, len, m);
	saved = errno;
	free(copy);
	errno = saved;
	return (rc);
}

static int
open_exact(const uint8_t *p, size_t len, const uint8_t *priv,
    const uint8_t *peer, struct disco_msg *m)
{
	uint8_t	*copy;
	int	 rc, saved;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = disco_open(copy, len, priv, peer, m);
	saved = errno;
	free(copy);
	errno = saved;
	return (rc);
}

/* Bob opens what claims to come from Alice. */
static int
bob_open(const uint8_t *p, size_t len, struct disco_msg *m)
{
	return (open_exact(p, len, bob_priv, alice_pub, m));
}

static void
expect_plain_bad(const uint8_t *p, size_t len, const char *what, int line)
{
	struct disco_msg	 m, before;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	errno = 0;
	ck_assert_msg(dec_exact(p, len, &m) == -1,
	    "%s (line %d, %zu bytes): decoded", what, line, len);
	ck_assert_msg(errno == EBADMSG, "%s (line %d): errno %d", what, line,
	    errno);
	ck_assert_msg(memcmp(&m, &before, sizeof(m)) == 0,
	    "%s (line %d): output touched on failure", what, line);
}

static void
expect_open_bad(const uint8_t *p, size_t len, const uint8_t *priv,
    const uint8_t *peer, const char *what, int line)
{
	struct disco_msg	 m, before;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	errno = 0;
	ck_assert_msg(open_exact(p, len, priv, peer, &m) == -1,
	    "%s (line %d, %zu bytes): opened", what, line, len);
	ck_assert_msg(errno == EBADMSG, "%s (line %d): errno %d", what, line,
	    errno);
	ck_assert_msg(memcmp(&m, &before, sizeof(m)) == 0,
	    "%s (line %d): output touched on failure", what, line);
}

static void
expect_plain_ok(const struct tvec *v)
{
	struct disco_msg	 m;
	uint8_t			 out[DISCO_PLAIN_MAX];
	struct buf		 b;

	ck_assert_msg(dec_exact(v->data, v->len, &m) == 0,
	    "line %d (%s): does not decode: %s", v->line, v->name,
	    strerror(errno));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(disco_enc_plain(&b, &m) == 0, "line %d: re-encode: %s",
	    v->line, strerror(errno));
	ck_assert_msg(b.len == v->len && memcmp(out, v->data, v->len) == 0,
	    "line %d: re-encodes differently", v->line);
}

/* Bob opens it; Alice's seal with its nonce gives the same bytes. */
static void
expect_sealed_ok(const struct tvec *v)
{
	struct disco_msg	 m;
	uint8_t			 out[DISCO_MAXMSG];
	struct buf		 b;

	ck_assert_msg(bob_open(v->data, v->len, &m) == 0,
	    "line %d (%s): does not open: %s", v->line, v->name,
	    strerror(errno));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(disco_seal_nonce(&b, &m, alice_priv, alice_pub, bob_pub,
	    v->data + NONCEOFF) == 0, "line %d: re-seal: %s", v->line,
	    strerror(errno));
	ck_assert_msg(b.len == v->len && memcmp(out, v->data, v->len) == 0,
	    "line %d: re-seals differently", v->line);
}

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (rng);
}

static void
gen_msg(struct disco_msg *m)
{
	size_t	 i;

	memset(m, 0, sizeof(*m));
	m->type = rnd() % 2 ? DISCO_PING : DISCO_PONG;
	for (i = 0; i < DISCO_TXIDLEN; i++)
		m->txid[i] = rnd();
	m->time_ms = (uint64_t)rnd() << 32 | rnd();
	if (m->type == DISCO_PING)
		return;
	m->seen.af = rnd() % 2 ? AF_INET : AF_INET6;
	for (i = 0; i < addr_len(m->seen.af); i++)
		m->seen.bytes[i] = rnd();
	m->seen_port = rnd();
}

static void
fixture(struct disco_msg *m, uint8_t type, sa_family_t af)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	memcpy(m->txid, txid, DISCO_TXIDLEN);
	m->time_ms = type == DISCO_PING ? PING_TIME : PONG_TIME;
	if (type != DISCO_PONG)
		return;
	m->seen_port = 51820;
	ck_assert_int_eq(addr_parse(af == AF_INET ? "203.0.113.7" :
	    "2001:db8::7", &m->seen), 0);
}

static size_t
plain_size(const struct disco_msg *m)
{
	uint8_t		 out[DISCO_PLAIN_MAX];
	struct buf	 b;

	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(disco_enc_plain(&b, m), 0);
	return (b.len);
}

static size_t
sealed_size(const struct disco_msg *m)
{
	uint8_t		 out[DISCO_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(disco_seal(&b, m, alice_priv, alice_pub, bob_pub),
	    0);
	return (b.len);
}

START_TEST(test_vectors_present)
{
	static const char *const ok[] = { "ping", "pong4", "pong6",
	    "sealed-ping", "sealed-pong4", "sealed-pong6" };
	static const char *const bad[] = { "length", "type", "padding",
	    "family", "sealed-forged", "sealed-sender", "sealed-plain",
	    "sealed-header" };
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(vec_find(ok[i])->ok, "%s is not ok", ok[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!vec_find(bad[i])->ok, "%s is not bad", bad[i]);
	for (i = 0; i < nvecs; i++)
		ck_assert_msg(!vecs[i].ok || !vec_header(&vecs[i]),
		    "line %d: an ok sealed-header vector", vecs[i].line);
}
END_TEST

START_TEST(test_plain_vectors)
{
	size_t	 i, n = 0;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vec_sealed(&vecs[i]))
			continue;
		n++;
		if (vecs[i].ok)
			expect_plain_ok(&vecs[i]);
		else
			expect_plain_bad(vecs[i].data, vecs[i].len,
			    "bad vector", vecs[i].line);
	}
	ck_assert_uint_ge(n, 20);
}
END_TEST

START_TEST(test_sealed_vectors)
{
	size_t	 i, n = 0;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vec_sealed(&vecs[i]))
			continue;
		n++;
		if (vecs[i].ok)
			expect_sealed_ok(&vecs[i]);
		else
			expect_open_bad(vecs[i].data, vecs[i].len, bob_priv,
			    alice_pub, "bad vector", vecs[i].line);
	}
	ck_assert_uint_ge(n, 20);
}
END_TEST

/* The decoded fields, and each sealed vector holds its plaintext. */
START_TEST(test_vector_fields)
{
	static const char *const names[] = { "ping", "pong4", "pong6" };
	struct disco_msg	 m, want, sm;
	char			 sealed[TVEC_NAMEMAX];
	const struct tvec	*v;
	size_t			 i;

	for (i = 0; i < 3; i++) {
		fixture(&want, i == 0 ? DISCO_PING : DISCO_PONG,
		    i == 2 ? AF_INET6 : AF_INET);
		v = vec_find(names[i]);
		memset(&m, 0x5a, sizeof(m));
		ck_assert_int_eq(dec_exact(v->data, v->len, &m), 0);
		ck_assert_msg(msg_eq(&m, &want), "%s: fields", names[i]);
		if (i == 0) {
			ck_assert_uint_eq(m.seen.af, 0);
			ck_assert_uint_eq(m.seen_port, 0);
		}
		snprintf(sealed, sizeof(sealed), "sealed-%s", names[i]);
		v = vec_find(sealed);
		ck_assert_int_eq(bob_open(v->data, v->len, &sm), 0);
		ck_assert_msg(msg_eq(&sm, &want), "%s: fields", sealed);
		ck_assert_mem_eq(v->data + DISCO_MAGICLEN, alice_pub, 32);
	}
}
END_TEST

/* The documented keys agree with RFC 7748 and NaCl. */
START_TEST(test_keys)
{
	uint8_t	 pub[32], want[32], k[crypto_box_BEFORENMBYTES];

	ck_assert_int_eq(crypto_scalarmult_base(pub, alice_priv), 0);
	ck_assert_mem_eq(pub, alice_pub, 32);
	ck_assert_int_eq(crypto_scalarmult_base(pub, bob_priv), 0);
	ck_assert_mem_eq(pub, bob_pub, 32);
	ck_assert_int_eq(crypto_scalarmult_base(pub, carol_priv), 0);
	ck_assert_mem_eq(pub, carol_pub, 32);
	ck_assert_mem_eq(carol_priv, "carol's disco test key, not real", 32);
	unhex(hex_shared, want, 32);
	ck_assert_int_eq(crypto_scalarmult(pub, alice_priv, bob_pub), 0);
	ck_assert_mem_eq(pub, want, 32);
	ck_assert_int_eq(crypto_scalarmult(pub, bob_priv, alice_pub), 0);
	ck_assert_mem_eq(pub, want, 32);
	unhex(hex_beforenm, want, 32);
	ck_assert_int_eq(crypto_box_beforenm(k, bob_pub, alice_priv), 0);
	ck_assert_mem_eq(k, want, 32);
}
END_TEST

static void
check_sender(const struct tvec *v)
{
	bool		 want = vec_sealed(v) && !vec_header(v);
	const uint8_t	*s;

	ck_assert_msg(disco_is_disco(v->data, v->len) == want,
	    "line %d: disco_is_disco is %d", v->line, !want);
	errno = 0;
	s = disco_sender(v->data, v->len);
	if (want)
		ck_assert_msg(s == v->data + DISCO_MAGICLEN,
		    "line %d: disco_sender", v->line);
	else
		ck_assert_msg(s == NULL && errno == EBADMSG,
		    "line %d: disco_sender", v->line);
	/* Whatever its other bytes, a datagram with the magic is no STUN. */
	if (v->len >= DISCO_MAGICLEN &&
	    memcmp(v->data, DISCO_MAGIC, DISCO_MAGICLEN) == 0)
		ck_assert_msg(!stun_is_stun(v->data, v->len),
		    "line %d: stun_is_stun", v->line);
}

START_TEST(test_is_disco)
{
	uint8_t	 p[256];
	size_t	 i, len;
	int	 t;

	vec_load();
	for (i = 0; i < nvecs; i++)
		check_sender(&vecs[i]);
	ck_assert(!disco_is_disco(NULL, 0));
	ck_assert_ptr_null(disco_sender(NULL, 0));
	/* The magic and nothing else: only the two lengths. */
	memset(p, 0, sizeof(p));
	memcpy(p, DISCO_MAGIC, DISCO_MAGICLEN);
	for (len = 0; len < sizeof(p); len++)
		ck_assert_msg(disco_is_disco(p, len) ==
		    (len == 104 || len == DISCO_MAXMSG), "length %zu", len);
	/* WireGuard: a type 1..4 and three zero bytes. */
	for (t = 1; t <= 4; t++) {
		p[0] = t;
		p[1] = p[2] = p[3] = 0;
		ck_assert(!disco_is_disco(p, 104));
		ck_assert(!disco_is_disco(p, DISCO_MAXMSG));
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
			if (vec_sealed(&vecs[i]))
				expect_open_bad(vecs[i].data, k, bob_priv,
				    alice_pub, "truncated", vecs[i].line);
			else
				expect_plain_bad(vecs[i].data, k, "truncated",
				    vecs[i].line);
	}
}
END_TEST

START_TEST(test_trailing)
{
	uint8_t	 p[VECMAX + 4];
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
			if (vec_sealed(&vecs[i]))
				expect_open_bad(p, len + k, bob_priv,
				    alice_pub, "trailing", vecs[i].line);
			else
				expect_plain_bad(p, len + k, "trailing",
				    vecs[i].line);
		}
	}
}
END_TEST

/* Magic, sender, nonce, MAC, ciphertext: no flipped bit opens. */
START_TEST(test_bitflips)
{
	uint8_t	 p[DISCO_MAXMSG];
	size_t	 i, k, n = 0;
	int	 bit;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || !vec_sealed(&vecs[i]))
			continue;
		n++;
		ck_assert_uint_le(vecs[i].len, sizeof(p));
		memcpy(p, vecs[i].data, vecs[i].len);
		for (k = 0; k < vecs[i].len; k++)
			for (bit = 0; bit < 8; bit++) {
				p[k] ^= 1 << bit;
				expect_open_bad(p, vecs[i].len, bob_priv,
				    alice_pub, "bit flip", vecs[i].line);
				p[k] ^= 1 << bit;
			}
	}
	ck_assert_uint_ge(n, 3);
}
END_TEST

/* Sealed for Carol: Bob cannot open it, Carol can. */
START_TEST(test_other_receiver)
{
	struct disco_msg	 m, got;
	uint8_t			 out[DISCO_MAXMSG];
	struct buf		 b;

	fixture(&m, DISCO_PONG, AF_INET6);
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(disco_seal(&b, &m, alice_priv, alice_pub, carol_pub),
	    0);
	expect_open_bad(out, b.len, bob_priv, alice_pub, "for Carol",
	    __LINE__);
	ck_assert_int_eq(open_exact(out, b.len, carol_priv, alice_pub, &got),
	    0);
	ck_assert(msg_eq(&m, &got));
	/* Carol cannot pass it on to Bob as hers, nor as Alice's. */
	memcpy(out + DISCO_MAGICLEN, carol_pub, 32);
	expect_open_bad(out, b.len, bob_priv, carol_pub, "passed on",
	    __LINE__);
}
END_TEST

/*
 * Alice's datagram to Bob, sent back to Alice, does not open; relabelled
 * with Bob's key it does, because crypto_box has one key for both
 * directions (proto/disco.md, "Reflection").  This pins that limit.
 */
START_TEST(test_reflection)
{
	const struct tvec	*v = vec_find("sealed-ping");
	struct disco_msg	 m, want;
	uint8_t			 p[DISCO_MAXMSG];

	expect_open_bad(v->data, v->len, alice_priv, alice_pub, "reflected",
	    __LINE__);
	expect_open_bad(v->data, v->len, alice_priv, bob_pub, "reflected",
	    __LINE__);
	ck_assert_uint_le(v->len, sizeof(p));
	memcpy(p, v->data, v->len);
	memcpy(p + DISCO_MAGICLEN, bob_pub, 32);
	ck_assert_int_eq(open_exact(p, v->len, alice_priv, bob_pub, &m), 0);
	ck_assert_int_eq(bob_open(v->data, v->len, &want), 0);
	ck_assert(msg_eq(&m, &want));
}
END_TEST

/* Zero keys, small-order senders, a wrong private key. */
START_TEST(test_open_keys)
{
	const struct tvec	*v = vec_find("sealed-ping");
	uint8_t			 p[DISCO_MAXMSG], small[32];

	expect_open_bad(v->data, v->len, zero_key, alice_pub, "zero priv",
	    __LINE__);
	expect_open_bad(v->data, v->len, carol_priv, alice_pub, "Carol's priv",
	    __LINE__);
	ck_assert_uint_le(v->len, sizeof(p));
	memcpy(p, v->data, v->len);
	memset(p + DISCO_MAGICLEN, 0, 32);
	expect_open_bad(p, v->len, bob_priv, zero_key, "zero sender",
	    __LINE__);
	unhex(hex_order4, small, 32);
	memcpy(p + DISCO_MAGICLEN, small, 32);
	expect_open_bad(p, v->len, bob_priv, small, "order-4 sender",
	    __LINE__);
	unhex(hex_order8, small, 32);
	memcpy(p + DISCO_MAGICLEN, small, 32);
	expect_open_bad(p, v->len, bob_priv, small, "order-8 sender",
	    __LINE__);
}
END_TEST

/* Random messages: plaintext and sealed round trips, exact sizes. */
START_TEST(test_roundtrip)
{
	struct disco_msg	 a, b;
	uint8_t			 p1[DISCO_PLAIN_MAX], p2[DISCO_PLAIN_MAX];
	uint8_t			 d1[DISCO_MAXMSG], d2[DISCO_MAXMSG];
	struct buf		 bp, bd;
	size_t			 want;
	int			 n;

	for (n = 0; n < ROUNDS; n++) {
		gen_msg(&a);
		want = a.type == DISCO_PONG && a.seen.af == AF_INET ? 28 : 40;
		buf_init_fixed(&bp, p1, sizeof(p1));
		ck_assert_int_eq(disco_enc_plain(&bp, &a), 0);
		ck_assert_uint_eq(bp.len, want);
		memset(&b, 0x5a, sizeof(b));
		ck_assert_int_eq(dec_exact(p1, bp.len, &b), 0);
		ck_assert_msg(msg_eq(&a, &b), "round %d: fields differ", n);
		buf_init_fixed(&bp, p2, sizeof(p2));
		ck_assert_int_eq(disco_enc_plain(&bp, &b), 0);
		ck_assert_mem_eq(p1, p2, want);

		buf_init_fixed(&bd, d1, sizeof(d1));
		ck_assert_int_eq(disco_seal(&bd, &a, alice_priv, alice_pub,
		    bob_pub), 0);
		ck_assert_uint_eq(bd.len, DISCO_HDRLEN + DISCO_MACLEN + want);
		ck_assert(disco_is_disco(d1, bd.len));
		ck_assert(!stun_is_stun(d1, bd.len));
		memset(&b, 0x5a, sizeof(b));
		ck_assert_int_eq(bob_open(d1, bd.len, &b), 0);
		ck_assert_msg(msg_eq(&a, &b), "round %d: sealed differs", n);
		/* A fresh nonce each time. */
		buf_init_fixed(&bd, d2, sizeof(d2));
		ck_assert_int_eq(disco_seal(&bd, &a, alice_priv, alice_pub,
		    bob_pub), 0);
		ck_assert(memcmp(d1 + NONCEOFF, d2 + NONCEOFF,
		    DISCO_NONCELEN) != 0);
	}
}
END_TEST

/* No PONG, plaintext or datagram, is larger than any PING. */
START_TEST(test_amplification)
{
	struct disco_msg	 ping, pong4, pong6, m;
	size_t			 i, s, maxpong[2] = { 0, 0 };
	size_t			 minping[2] = { SIZE_MAX, SIZE_MAX };

	fixture(&ping, DISCO_PING, 0);
	fixture(&pong4, DISCO_PONG, AF_INET);
	fixture(&pong6, DISCO_PONG, AF_INET6);
	ck_assert_uint_eq(plain_size(&ping), DISCO_PLAIN_MAX);
	ck_assert_uint_eq(plain_size(&pong4), 28);
	ck_assert_uint_eq(plain_size(&pong6), 40);
	ck_assert_uint_ge(plain_size(&ping), plain_size(&pong4));
	ck_assert_uint_ge(plain_size(&ping), plain_size(&pong6));
	ck_assert_uint_eq(sealed_size(&ping), DISCO_MAXMSG);
	ck_assert_uint_ge(sealed_size(&ping), sealed_size(&pong4));
	ck_assert_uint_ge(sealed_size(&ping), sealed_size(&pong6));
	/* The same over the vectors, plaintexts and datagrams apart. */
	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		s = vec_sealed(&vecs[i]);
		if (s)
			ck_assert_int_eq(bob_open(vecs[i].data, vecs[i].len,
			    &m), 0);
		else
			ck_assert_int_eq(dec_exact(vecs[i].data, vecs[i].len,
			    &m), 0);
		if (m.type == DISCO_PING && vecs[i].len < minping[s])
			minping[s] = vecs[i].len;
		if (m.type == DISCO_PONG && vecs[i].len > maxpong[s])
			maxpong[s] = vecs[i].len;
	}
	for (s = 0; s < 2; s++) {
		ck_assert_uint_gt(maxpong[s], 0);
		ck_assert_uint_ge(minping[s], maxpong[s]);
	}
}
END_TEST

/* Each bad sealed group fails for the reason its name gives. */
START_TEST(test_sealed_groups)
{
	struct disco_msg	 m;
	uint8_t			 plain[VECMAX];
	const struct tvec	*v;
	size_t			 i, clen, n = 0;
	int			 rc;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		v = &vecs[i];
		if (!vec_sealed(v) || vec_header(v))
			continue;
		n++;
		ck_assert_uint_ge(v->len, DISCO_HDRLEN + DISCO_MACLEN);
		clen = v->len - DISCO_HDRLEN;
		rc = crypto_box_open_easy(plain, v->data + DISCO_HDRLEN, clen,
		    v->data + NONCEOFF, alice_pub, bob_priv);
		if (strcmp(v->name, "sealed-sender") == 0) {
			ck_assert_msg(memcmp(v->data + DISCO_MAGICLEN,
			    alice_pub, 32) != 0, "line %d: Alice", v->line);
			continue;
		}
		ck_assert_mem_eq(v->data + DISCO_MAGICLEN, alice_pub, 32);
		if (strcmp(v->name, "sealed-forged") == 0) {
			ck_assert_msg(rc == -1, "line %d: opens", v->line);
			continue;
		}
		ck_assert_msg(rc == 0, "line %d: does not open", v->line);
		ck_assert_int_eq(dec_exact(plain, clen - DISCO_MACLEN, &m),
		    v->ok ? 0 : -1);
	}
	ck_assert_uint_ge(n, 10);
}
END_TEST

static void
refuse(const struct disco_msg *m, const uint8_t *priv, const uint8_t *pub,
    const uint8_t *peer, bool plain_too, const char *what)
{
	uint8_t		 out[8 + DISCO_MAXMSG], nonce[DISCO_NONCELEN];
	struct buf	 b;

	memset(nonce, 0x11, sizeof(nonce));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "ab", 2), 0);
	errno = 0;
	ck_assert_msg(disco_seal(&b, m, priv, pub, peer) == -1,
	    "%s: sealed", what);
	ck_assert_msg(errno == EINVAL, "%s: seal errno %d", what, errno);
	errno = 0;
	ck_assert_msg(disco_seal_nonce(&b, m, priv, pub, peer, nonce) == -1,
	    "%s: sealed with a nonce", what);
	ck_assert_msg(errno == EINVAL, "%s: errno %d", what, errno);
	ck_assert_msg(b.len == 2 && memcmp(out, "ab", 2) == 0,
	    "%s: wrote %zu bytes", what, b.len - 2);
	if (!plain_too)
		return;
	errno = 0;
	ck_assert_msg(disco_enc_plain(&b, m) == -1, "%s: encoded", what);
	ck_assert_msg(errno == EINVAL, "%s: enc errno %d", what, errno);
	ck_assert_msg(b.len == 2, "%s: wrote %zu bytes", what, b.len - 2);
}

START_TEST(test_refuse)
{
	static const uint8_t	 types[] = { 0, 3, 4, 0x80, 0xff };
	struct disco_msg	 m;
	uint8_t			 small[32];
	size_t			 i;

	for (i = 0; i < sizeof(types); i++) {
		fixture(&m, DISCO_PING, 0);
		m.type = types[i];
		refuse(&m, alice_priv, alice_pub, bob_pub, true, "bad type");
	}
	fixture(&m, DISCO_PONG, AF_INET);
	m.seen.af = 0;
	refuse(&m, alice_priv, alice_pub, bob_pub, true, "PONG without af");
	m.seen.af = AF_UNIX;
	refuse(&m, alice_priv, alice_pub, bob_pub, true, "PONG AF_UNIX");
	m.seen.af = 4;
	refuse(&m, alice_priv, alice_pub, bob_pub, true, "PONG af 4");
	fixture(&m, DISCO_PING, 0);
	refuse(&m, zero_key, alice_pub, bob_pub, false, "zero priv");
	refuse(&m, alice_priv, zero_key, bob_pub, false, "zero pub");
	refuse(&m, alice_priv, alice_pub, zero_key, false, "zero peer");
	unhex(hex_order4, small, 32);
	refuse(&m, alice_priv, alice_pub, small, false, "order-4 peer");
	unhex(hex_order8, small, 32);
	refuse(&m, alice_priv, alice_pub, small, false, "order-8 peer");
}
END_TEST

/* A PING's seen fields are not sent. */
START_TEST(test_ping_ignores_seen)
{
	struct disco_msg	 m;
	const struct tvec	*v = vec_find("ping");
	uint8_t			 out[DISCO_PLAIN_MAX];
	struct buf		 b;

	fixture(&m, DISCO_PING, 0);
	memset(&m.seen, 0xee, sizeof(m.seen));
	m.seen_port = 1234;
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(disco_enc_plain(&b, &m), 0);
	ck_assert_uint_eq(b.len, v->len);
	ck_assert_mem_eq(out, v->data, v->len);
}
END_TEST

/* pre bytes already in a buffer with room for fewer than m needs. */
static void
enobufs_one(const struct disco_msg *m, const uint8_t *nonce, size_t pre,
    size_t room)
{
	uint8_t		 out[3 + DISCO_MAXMSG], before[sizeof(out)];
	struct buf	 b;

	memset(out, 0xa5, sizeof(out));
	buf_init_fixed(&b, out, pre + room);
	ck_assert_int_eq(buf_put(&b, "xyz", pre), 0);
	memcpy(before, out, sizeof(out));
	errno = 0;
	if (nonce != NULL)
		ck_assert_int_eq(disco_seal_nonce(&b, m, alice_priv, alice_pub,
		    bob_pub, nonce), -1);
	else
		ck_assert_int_eq(disco_enc_plain(&b, m), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(b.len, pre);
	/* A datagram is appended whole or not at all. */
	ck_assert_mem_eq(out, before, nonce != NULL ? sizeof(out) : pre);
}

/* Every capacity short of the message: ENOBUFS, nothing appended. */
START_TEST(test_enobufs)
{
	struct disco_msg	 m;
	const uint8_t		*nonce;
	size_t			 i, room, pre;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		nonce = NULL;
		if (vec_sealed(&vecs[i])) {
			nonce = vecs[i].data + NONCEOFF;
			ck_assert_int_eq(bob_open(vecs[i].data, vecs[i].len,
			    &m), 0);
		} else
			ck_assert_int_eq(dec_exact(vecs[i].data, vecs[i].len,
			    &m), 0);
		for (pre = 0; pre <= 3; pre += 3)
			for (room = 0; room < vecs[i].len; room++)
				enobufs_one(&m, nonce, pre, room);
	}
}
END_TEST

/* Appending after bytes already there, to fixed and growing buffers. */
START_TEST(test_append)
{
	const struct tvec	*v = vec_find("sealed-pong6");
	const struct tvec	*pv = vec_find("pong6");
	struct disco_msg	 m;
	uint8_t			 out[3 + DISCO_MAXMSG];
	struct buf		 b;

	ck_assert_int_eq(bob_open(v->data, v->len, &m), 0);
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put(&b, "xyz", 3), 0);
	ck_assert_int_eq(disco_seal_nonce(&b, &m, alice_priv, alice_pub,
	    bob_pub, v->data + NONCEOFF), 0);
	ck_assert_uint_eq(b.len, 3 + v->len);
	ck_assert_mem_eq(out, "xyz", 3);
	ck_assert_mem_eq(out + 3, v->data, v->len);
	ck_assert_int_eq(buf_init(&b, 0, 4096), 0);
	ck_assert_int_eq(buf_put(&b, "xyz", 3), 0);
	ck_assert_int_eq(disco_seal_nonce(&b, &m, alice_priv, alice_pub,
	    bob_pub, v->data + NONCEOFF), 0);
	ck_assert_int_eq(disco_enc_plain(&b, &m), 0);
	ck_assert_uint_eq(b.len, 3 + v->len + pv->len);
	ck_assert_mem_eq(b.data + 3, v->data, v->len);
	ck_assert_mem_eq(b.data + 3 + v->len, pv->data, pv->len);
	buf_free(&b);
}
END_TEST

static Suite *
disco_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("disco");

	tc = tcase_create("vectors");
	tcase_add_checked_fixture(tc, keys_load, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vectors_present);
	tcase_add_test(tc, test_plain_vectors);
	tcase_add_test(tc, test_sealed_vectors);
	tcase_add_test(tc, test_sealed_groups);
	tcase_add_test(tc, test_vector_fields);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_is_disco);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_bitflips);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, keys_load, NULL);
	tcase_add_test(tc, test_other_receiver);
	tcase_add_test(tc, test_reflection);
	tcase_add_test(tc, test_open_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_checked_fixture(tc, keys_load, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_amplification);
	tcase_add_test(tc, test_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoder");
	tcase_add_checked_fixture(tc, keys_load, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_ping_ignores_seen);
	tcase_add_test(tc, test_enobufs);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return (EXIT_FAILURE);
	}
	sr = srunner_create(disco_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
