/*
 * Relay codec: the vectors of proto/relay.md (computed with PyNaCl by
 * tests/proto/relay_vectors.py), which the C encoders must reproduce
 * byte for byte; every bad vector refused; truncation at every offset;
 * tokens: signature, each field flipped, expiry, another relay;
 * boxes: wrong keys, flipped bytes; the no-amplification sizes.
 *
 * The spec is read from $LR_SRCDIR/proto/relay.md, or proto/relay.md
 * relative to the current directory (the repository root under make).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tests/lib/vectors.h"

#include "proto/relay.h"

#define SPEC		"relay.md"
#define EXPIRY		1800000000ULL
#define BIND_TIME	1700000000000ULL

static uint8_t		 sign_pk[RELAY_SIGNKEYLEN], sign_sk[RELAY_SIGNSECLEN];
static uint8_t		 relay_priv[32], relay_pub[32];
static uint8_t		 node_priv[32], node_pub[32];
static const struct tvec *vecs;
static size_t		 nvecs;

/* The keys of the spec, from their seeds. */
static void
setup(void)
{
	uint8_t	 seed[32];

	ck_assert_int_ge(sodium_init(), 0);
	memset(seed, 0x01, sizeof(seed));
	crypto_sign_seed_keypair(sign_pk, sign_sk, seed);
	memset(relay_priv, 0x02, 32);
	memset(node_priv, 0x03, 32);
	crypto_scalarmult_base(relay_pub, relay_priv);
	crypto_scalarmult_base(node_pub, node_priv);
	if (vecs == NULL)
		vecs = tvec_load(SPEC, &nvecs);
}

static void
spec_token(struct relay_token *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->relay_key, relay_pub, 32);
	memset(t->party, 0xa1, RELAY_IDLEN);
	memcpy(t->node_key, node_pub, 32);
	t->expiry = EXPIRY;
	ck_assert_int_eq(relay_token_sign(t, sign_sk), 0);
}

static const struct tvec *
vec(const char *name)
{
	return tvec_find(vecs, nvecs, SPEC, name);
}

static void
ck_bytes(const struct buf *b, const struct tvec *v)
{
	ck_assert_uint_eq(b->len, v->len);
	ck_assert_mem_eq(b->data, v->data, v->len);
}

START_TEST(test_token_vector)
{
	struct relay_token	 t, d;
	uint8_t			 enc[RELAY_TOKENLEN];
	const struct tvec	*v = vec("token");

	spec_token(&t);
	ck_assert_int_eq(relay_token_enc(enc, &t), 0);
	ck_assert_uint_eq(v->len, RELAY_TOKENLEN);
	ck_assert_mem_eq(enc, v->data, RELAY_TOKENLEN);
	ck_assert_int_eq(relay_token_dec(v->data, &d), 0);
	ck_assert_mem_eq(&d, &t, sizeof(t));
	ck_assert_int_eq(relay_token_verify(&d, sign_pk, relay_pub,
	    EXPIRY - 1), 0);
}
END_TEST

START_TEST(test_frame_vectors)
{
	static const uint8_t	 nonce4[24] = { 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4 };
	static const uint8_t	 nonce5[24] = { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 };
	static const uint8_t	 txid[8] = { 0x10, 0x11, 0x12, 0x13, 0x14,
	    0x15, 0x16, 0x17 };
	uint8_t			 mem[RELAY_MAXMSG], tag[RELAY_TAGLEN];
	const struct tvec	*v;
	struct relay_token	 t;
	struct buf		 b;

	spec_token(&t);
	relay_tag(tag, node_pub);
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_bind_nonce(&b, &t, node_priv, BIND_TIME,
	    nonce4), 0);
	ck_bytes(&b, vec("bind"));
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_bound_nonce(&b, relay_priv, node_pub, 120,
	    4, nonce5), 0);
	ck_bytes(&b, vec("bound"));
	v = vec("send");
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_send(&b, tag, v->data + RELAY_FWD_HDRLEN,
	    v->len - RELAY_FWD_HDRLEN), 0);
	ck_bytes(&b, v);
	v = vec("recv");
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_recv(&b, tag, v->data + RELAY_FWD_HDRLEN,
	    v->len - RELAY_FWD_HDRLEN), 0);
	ck_bytes(&b, v);
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_ping(&b, txid), 0);
	ck_bytes(&b, vec("ping"));
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_pong(&b, txid, 0x80), 0);
	ck_bytes(&b, vec("pong"));
}
END_TEST

/* Every ok frame decodes; the boxes open with the right keys only. */
START_TEST(test_decode_and_open)
{
	struct relay_msg	 m;
	const struct tvec	*v;
	uint64_t		 ms;
	uint32_t		 nbound;
	uint16_t		 life;

	v = vec("bind");
	ck_assert_int_eq(relay_decode(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.type, RELAY_BIND);
	ck_assert_int_eq(relay_bind_open(&m, relay_priv, &ms), 0);
	ck_assert_uint_eq(ms, BIND_TIME);
	ck_assert_int_eq(relay_bind_open(&m, node_priv, &ms), -1);
	ck_assert_int_eq(errno, EBADMSG);
	m.box[3] ^= 1;
	ck_assert_int_eq(relay_bind_open(&m, relay_priv, &ms), -1);

	v = vec("bound");
	ck_assert_int_eq(relay_decode(v->data, v->len, &m), 0);
	ck_assert_int_eq(relay_bound_open(&m, node_priv, relay_pub, &life,
	    &nbound), 0);
	ck_assert_uint_eq(life, 120);
	ck_assert_uint_eq(nbound, 4);
	/* from another relay: does not open */
	ck_assert_int_eq(relay_bound_open(&m, node_priv, node_pub, &life,
	    &nbound), -1);

	v = vec("send");
	ck_assert_int_eq(relay_decode(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.type, RELAY_SEND);
	ck_assert_mem_eq(m.tag, node_pub, RELAY_TAGLEN);
	ck_assert_ptr_eq(m.payload, v->data + RELAY_FWD_HDRLEN);
	ck_assert_uint_eq(m.payload_len, v->len - RELAY_FWD_HDRLEN);
	v = vec("pong");
	ck_assert_int_eq(relay_decode(v->data, v->len, &m), 0);
	ck_assert_uint_eq(m.load, 0x80);
}
END_TEST

START_TEST(test_bad_vectors)
{
	struct relay_msg	 m, before;
	size_t			 i, nbad = 0;

	for (i = 0; i < nvecs; i++) {
		if (vecs[i].ok)
			continue;
		memset(&m, 0x5a, sizeof(m));
		before = m;
		errno = 0;
		ck_assert_msg(relay_decode(vecs[i].data, vecs[i].len,
		    &m) == -1, "bad vector on line %d decoded", vecs[i].line);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_mem_eq(&m, &before, sizeof(m));
		nbad++;
	}
	ck_assert_uint_ge(nbad, 10);
}
END_TEST

/* Any ok frame cut short, or one byte longer, is refused. */
START_TEST(test_truncation)
{
	uint8_t		 buf[RELAY_MAXMSG + 1];
	struct relay_msg m;
	size_t		 i, n;

	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || strcmp(vecs[i].name, "token") == 0)
			continue;
		memcpy(buf, vecs[i].data, vecs[i].len);
		for (n = 0; n < vecs[i].len; n++) {
			/* a shorter SEND is a SEND still */
			if ((buf[0] == RELAY_SEND || buf[0] == RELAY_RECV) &&
			    n > RELAY_FWD_HDRLEN)
				continue;
			ck_assert_msg(relay_decode(buf, n, &m) == -1,
			    "line %d cut to %zu decoded", vecs[i].line, n);
		}
		if (vecs[i].len == RELAY_MAXMSG)
			continue;	/* a longer one is refused above */
		buf[vecs[i].len] = 0;
		if (buf[0] != RELAY_SEND && buf[0] != RELAY_RECV)
			ck_assert_int_eq(relay_decode(buf, vecs[i].len + 1,
			    &m), -1);
	}
}
END_TEST

START_TEST(test_token_verify)
{
	struct relay_token	 t, x;
	uint8_t			 enc[RELAY_TOKENLEN];
	size_t			 i;

	spec_token(&t);
	ck_assert_int_eq(relay_token_verify(&t, sign_pk, relay_pub, 0), 0);
	/* expired when expiry <= now */
	ck_assert_int_eq(relay_token_verify(&t, sign_pk, relay_pub, EXPIRY),
	    -1);
	ck_assert_int_eq(errno, ESTALE);
	/* for another relay */
	ck_assert_int_eq(relay_token_verify(&t, sign_pk, node_pub, 0), -1);
	ck_assert_int_eq(errno, EXDEV);
	/* signed by another key */
	ck_assert_int_eq(relay_token_verify(&t, relay_pub, relay_pub, 0), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* every byte but the version flipped breaks the signature */
	ck_assert_int_eq(relay_token_enc(enc, &t), 0);
	for (i = 1; i < RELAY_TOKENLEN; i++) {
		enc[i] ^= 0x40;
		if (relay_token_dec(enc, &x) == 0)
			ck_assert_msg(relay_token_verify(&x, sign_pk,
			    x.relay_key, 0) == -1, "byte %zu flipped", i);
		enc[i] ^= 0x40;
	}
	/* zero fields are refused before any signature */
	x = t;
	memset(x.party, 0, sizeof(x.party));
	ck_assert_int_eq(relay_token_sign(&x, sign_sk), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(relay_token_verify(&x, sign_pk, relay_pub, 0), -1);
}
END_TEST

START_TEST(test_sizes_and_refusals)
{
	uint8_t		 mem[RELAY_MAXMSG + 16], tag[RELAY_TAGLEN] = { 1 };
	uint8_t		 big[RELAY_MAX_PAYLOAD + 1];
	struct buf	 b;

	/* no answer is larger than what it answers */
	ck_assert_uint_lt(RELAY_BOUNDLEN, RELAY_BINDLEN);
	ck_assert_uint_eq(RELAY_PONGLEN, RELAY_PINGLEN);
	ck_assert_uint_eq(RELAY_BINDLEN, 202);
	ck_assert_uint_eq(RELAY_BOUNDLEN, 47);
	memset(big, 7, sizeof(big));
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(relay_enc_send(&b, tag, big, 0), -1);
	ck_assert_int_eq(relay_enc_send(&b, tag, big, sizeof(big)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(relay_enc_send(&b, tag, big, RELAY_MAX_PAYLOAD), 0);
	ck_assert_uint_eq(b.len, RELAY_MAXMSG);
	/* no room: nothing written */
	buf_init_fixed(&b, mem, RELAY_PINGLEN - 1);
	ck_assert_int_eq(relay_enc_ping(&b, tag), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(relay_is_relay("\xe3", 1));
	ck_assert(!relay_is_relay("\x04", 1));
	ck_assert(!relay_is_relay("L", 1));
	ck_assert(!relay_is_relay("", 0));
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite	*s = suite_create("relay");
	TCase	*tc = tcase_create("codec");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_token_vector);
	tcase_add_test(tc, test_frame_vectors);
	tcase_add_test(tc, test_decode_and_open);
	tcase_add_test(tc, test_bad_vectors);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_token_verify);
	tcase_add_test(tc, test_sizes_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(relay_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
