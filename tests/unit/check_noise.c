/* Unit tests for lib/wg/noise.c. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/wg/noise.h"

/*
 * Known answers computed independently from the protocol description
 * (Python: hashlib.blake2s, the "cryptography" package's X25519 and
 * ChaCha20Poly1305).  Statics 0x01..0x20 (initiator) and 0x21..0x40
 * (responder), ephemerals 0x41..0x60 and 0x61..0x80, PSK 0xaa * 32, TAI64N
 * 2^62 + 10 + 1700000000 s, indices 0x11223344 and 0x55667788, a cookie
 * 0xc0..0xcf held by the initiator, "hello" sent padded to 16.
 */
static const uint8_t kat_initiation[148] = {
	0x01, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, 0x64, 0xb1, 0x01, 0xb1,
	0xd0, 0xbe, 0x5a, 0x87, 0x04, 0xbd, 0x07, 0x8f, 0x98, 0x95, 0x00, 0x1f,
	0xc0, 0x3e, 0x8e, 0x9f, 0x95, 0x22, 0xf1, 0x88, 0xdd, 0x12, 0x8d, 0x98,
	0x46, 0xd4, 0x84, 0x66, 0x15, 0x8a, 0x0e, 0x4c, 0xa2, 0x42, 0xd1, 0x51,
	0xca, 0x97, 0xab, 0x90, 0x15, 0x9a, 0x98, 0xb6, 0x7e, 0x61, 0x66, 0x25,
	0xe6, 0x8b, 0x40, 0x65, 0xd3, 0x57, 0x37, 0x6b, 0x65, 0x98, 0xe6, 0x44,
	0xad, 0x7d, 0x67, 0x8c, 0x02, 0x95, 0xd2, 0x2d, 0xe4, 0xcb, 0x43, 0xd5,
	0x13, 0x55, 0x81, 0xed, 0x36, 0x34, 0x6b, 0xfa, 0x7c, 0xf4, 0x2a, 0x12,
	0x21, 0x39, 0xf8, 0x93, 0x99, 0x35, 0xec, 0x57, 0x44, 0x14, 0xe9, 0x1f,
	0x3b, 0x45, 0x7e, 0x44, 0x77, 0x09, 0xb4, 0xdb, 0x02, 0x77, 0x48, 0x05,
	0x86, 0xab, 0x0a, 0x99, 0xb2, 0xd7, 0x8c, 0xf7, 0x4b, 0xf0, 0xac, 0xad,
	0x11, 0xfa, 0xef, 0x82, 0x3c, 0x2d, 0xc7, 0x46, 0xb5, 0x10, 0x2f, 0x95,
	0xa7, 0x5b, 0x9e, 0xed,
};

static const uint8_t kat_response[92] = {
	0x02, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	0x24, 0x4f, 0xe3, 0xb9, 0x63, 0xe8, 0x99, 0xdd, 0x29, 0x5b, 0xaf, 0xfc,
	0xe2, 0x48, 0xd3, 0x53, 0x0f, 0x3a, 0x9a, 0x74, 0x79, 0xba, 0x06, 0x30,
	0x02, 0x68, 0x0e, 0xbf, 0xe7, 0xad, 0xad, 0x49, 0x67, 0x66, 0x38, 0xf4,
	0x5b, 0xb0, 0xdb, 0x3a, 0x8d, 0x9a, 0x9b, 0x38, 0x7a, 0x28, 0xe9, 0x9d,
	0x51, 0xdf, 0x6a, 0x05, 0x55, 0xf4, 0xc1, 0x46, 0x6c, 0x10, 0xd1, 0x18,
	0xcb, 0x31, 0x4d, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t kat_data_i2r[48] = {
	0x04, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x17, 0x19, 0xc6, 0xa2, 0xcf, 0xf0, 0x42, 0x7a,
	0x7d, 0x80, 0x4f, 0xa9, 0x0c, 0xcf, 0x02, 0x54, 0xad, 0x04, 0x91, 0x0f,
	0x64, 0xdd, 0xd4, 0xd7, 0x81, 0xc4, 0xca, 0xbf, 0x0d, 0x93, 0x6d, 0xe2,
};

static const uint8_t kat_keepalive_r2i[32] = {
	0x04, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x33, 0x2d, 0x52, 0x10, 0x6e, 0xc4, 0x4b, 0x20,
	0xb9, 0x4f, 0x9c, 0x90, 0xaf, 0x13, 0x6b, 0x21,
};

#define T0		(1000 * WG_NSEC)
#define I_IDX		0x11223344
#define R_IDX		0x55667788
#define MTU		1420

struct side {
	struct wg_local		 l;
	struct wg_peer_noise	 p;	/* the other side */
	struct wg_keypair	 kp;
};

static struct side	 ini, rsp;
static const uint8_t	 src_a[] = { 192, 0, 2, 1, 0xca, 0x6c };
static const uint8_t	 src_b[] = { 192, 0, 2, 2, 0xca, 0x6c };

static void
fill(uint8_t *p, size_t len, uint8_t first)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = first + i;
}

static void
pair_keys(const uint8_t si[WG_KEY_LEN], const uint8_t sr[WG_KEY_LEN],
    const uint8_t *psk)
{
	memset(&ini, 0, sizeof(ini));
	memset(&rsp, 0, sizeof(rsp));
	ck_assert_int_eq(wg_local_set_key(&ini.l, si), 0);
	ck_assert_int_eq(wg_local_set_key(&rsp.l, sr), 0);
	ck_assert_int_eq(wg_peer_noise_init(&ini.p, &ini.l, rsp.l.public_key,
	    psk), 0);
	ck_assert_int_eq(wg_peer_noise_init(&rsp.p, &rsp.l, ini.l.public_key,
	    psk), 0);
}

static void
pair(const uint8_t *psk)
{
	uint8_t	 si[WG_KEY_LEN], sr[WG_KEY_LEN];

	wg_noise_generate_private(si);
	wg_noise_generate_private(sr);
	pair_keys(si, sr, psk);
}

/* Responder side of an initiation: mac1, open, accept. */
static int
consume_init(struct side *s, const uint8_t *msg, size_t len, uint64_t now)
{
	struct wg_initiation	 w;

	if (!wg_noise_check_mac1(&s->l, msg, len)) {
		errno = EPERM;
		return (-1);
	}
	if (wg_noise_initiation_open(&s->l, msg, len, &w) == -1)
		return (-1);
	ck_assert_mem_eq(w.remote_static, s->p.remote_static, WG_KEY_LEN);
	return (wg_noise_initiation_accept(&s->l, &s->p, &w, now));
}

static void
fixed_ts(uint8_t ts[WG_TAI64N_LEN], uint32_t sec)
{
	memset(ts, 0, WG_TAI64N_LEN);
	ts[0] = 0x40;
	ts[4] = sec >> 24;
	ts[5] = sec >> 16;
	ts[6] = sec >> 8;
	ts[7] = sec;
}

/*
 * Real TAI64N timestamps are whitened to ~16 ms, so initiations created
 * back to back would look replayed; give each one a greater timestamp.
 */
static void
next_ts(struct wg_peer_noise *p)
{
	static uint32_t	 sec = 100000;
	uint8_t		 ts[WG_TAI64N_LEN];

	fixed_ts(ts, sec++);
	wg_noise_test_fix(p, NULL, ts);
}

/* A whole handshake at time now; both keypairs filled in. */
static void
handshake(uint64_t now)
{
	uint8_t	 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];

	next_ts(&ini.p);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    now, m1), 0);
	ck_assert_int_eq(ini.p.state, WG_HS_INITIATION_SENT);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), now), 0);
	ck_assert_int_eq(rsp.p.state, WG_HS_INITIATION_CONSUMED);
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX, now,
	    m2, &rsp.kp), 0);
	ck_assert_int_eq(rsp.p.state, WG_HS_NONE);
	ck_assert(wg_noise_check_mac1(&ini.l, m2, sizeof(m2)));
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), now, &ini.kp), 0);
	ck_assert_int_eq(ini.p.state, WG_HS_NONE);
}

static void
check_keypairs(void)
{
	ck_assert_mem_eq(ini.kp.send_key, rsp.kp.recv_key, WG_KEY_LEN);
	ck_assert_mem_eq(ini.kp.recv_key, rsp.kp.send_key, WG_KEY_LEN);
	ck_assert(memcmp(ini.kp.send_key, ini.kp.recv_key, WG_KEY_LEN) != 0);
	ck_assert_uint_eq(ini.kp.local_index, I_IDX);
	ck_assert_uint_eq(ini.kp.remote_index, R_IDX);
	ck_assert_uint_eq(rsp.kp.local_index, R_IDX);
	ck_assert_uint_eq(rsp.kp.remote_index, I_IDX);
	ck_assert(ini.kp.initiator);
	ck_assert(!rsp.kp.initiator);
	ck_assert(atomic_load(&ini.kp.valid));
}

/* Send len bytes from a to b, in place on both ends, and compare. */
static void
transfer(struct wg_keypair *a, struct wg_keypair *b, size_t len,
    uint64_t now)
{
	uint8_t	 pkt[2048], orig[1500];
	size_t	 n, plen;

	fill(orig, len, (uint8_t)len);
	memcpy(pkt + WG_DATA_HDR_LEN, orig, len);
	ck_assert_int_eq(wg_noise_encrypt(a, now, pkt + WG_DATA_HDR_LEN, len,
	    MTU, pkt, sizeof(pkt), &n), 0);
	ck_assert_uint_eq(n, wg_noise_data_len(len, MTU));
	ck_assert_int_eq(wg_noise_msg_type(pkt, n), WG_MSG_DATA);
	ck_assert_int_eq(wg_noise_decrypt(b, now, pkt, n,
	    pkt + WG_DATA_HDR_LEN, &plen), 0);
	ck_assert_uint_eq(plen, n - WG_DATA_MIN_LEN);
	ck_assert_mem_eq(pkt + WG_DATA_HDR_LEN, orig, len);
	for (n = len; n < plen; n++)
		ck_assert_uint_eq(pkt[WG_DATA_HDR_LEN + n], 0);
}

static void
wipe_pair(void)
{
	wg_keypair_wipe(&ini.kp);
	wg_keypair_wipe(&rsp.kp);
	wg_peer_noise_wipe(&ini.p);
	wg_peer_noise_wipe(&rsp.p);
	wg_local_wipe(&ini.l);
	wg_local_wipe(&rsp.l);
}

START_TEST(known_answer)
{
	uint8_t		 si[32], sr[32], ei[32], er[32], psk[32], ts[12];
	uint8_t		 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	uint8_t		 pkt[64], pt[64];
	size_t		 n, plen;

	fill(si, 32, 0x01);
	fill(sr, 32, 0x21);
	fill(ei, 32, 0x41);
	fill(er, 32, 0x61);
	memset(psk, 0xaa, sizeof(psk));
	fixed_ts(ts, 1700000000 + 10);
	pair_keys(si, sr, psk);
	fill(ini.p.cookie, WG_COOKIE_LEN, 0xc0);
	ini.p.has_cookie = true;
	ini.p.cookie_birth = T0;

	wg_noise_test_fix(&ini.p, ei, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    T0, m1), 0);
	ck_assert_mem_eq(m1, kat_initiation, sizeof(m1));
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0), 0);
	ck_assert_mem_eq(rsp.p.last_timestamp, ts, sizeof(ts));
	wg_noise_test_fix(&rsp.p, er, NULL);
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX, T0,
	    m2, &rsp.kp), 0);
	ck_assert_mem_eq(m2, kat_response, sizeof(m2));
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), T0, &ini.kp), 0);
	check_keypairs();

	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0,
	    (const uint8_t *)"hello", 5, MTU, pkt, sizeof(pkt), &n), 0);
	ck_assert_uint_eq(n, sizeof(kat_data_i2r));
	ck_assert_mem_eq(pkt, kat_data_i2r, n);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n, pt, &plen), 0);
	ck_assert_uint_eq(plen, 16);
	ck_assert_mem_eq(pt, "hello", 6);
	ck_assert_int_eq(wg_noise_encrypt(&rsp.kp, T0, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), 0);
	ck_assert_uint_eq(n, sizeof(kat_keepalive_r2i));
	ck_assert_mem_eq(pkt, kat_keepalive_r2i, n);
	ck_assert_int_eq(wg_noise_decrypt(&ini.kp, T0, pkt, n, pt, &plen), 0);
	ck_assert_uint_eq(plen, 0);
	wipe_pair();
}
END_TEST

START_TEST(handshake_no_psk)
{
	pair(NULL);
	handshake(T0);
	check_keypairs();
	transfer(&ini.kp, &rsp.kp, 100, T0);
	transfer(&rsp.kp, &ini.kp, 1420, T0);
	transfer(&rsp.kp, &ini.kp, 0, T0);	/* keepalive */
	transfer(&ini.kp, &rsp.kp, 0, T0);
	wipe_pair();
}
END_TEST

START_TEST(handshake_psk)
{
	uint8_t	 psk[WG_KEY_LEN], m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];

	randombytes_buf(psk, sizeof(psk));
	pair(psk);
	handshake(T0);
	check_keypairs();
	transfer(&ini.kp, &rsp.kp, 1, T0);
	transfer(&rsp.kp, &ini.kp, 1419, T0);

	/* A PSK on one side only: the response does not authenticate. */
	wg_peer_noise_set_psk(&rsp.p, NULL);
	next_ts(&ini.p);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    T0 + WG_NSEC, m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC), 0);
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX,
	    T0 + WG_NSEC, m2, &rsp.kp), 0);
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), T0 + WG_NSEC, &ini.kp), -1);
	ck_assert_int_eq(errno, EBADMSG);
	wipe_pair();
}
END_TEST

START_TEST(tampered_initiation)
{
	uint8_t			 m1[WG_INITIATION_LEN], bad[WG_INITIATION_LEN];
	struct wg_initiation	 w;
	size_t			 i;
	uint64_t		 now = T0;

	pair(NULL);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    now, m1), 0);
	for (i = 0; i < WG_INITIATION_LEN - WG_MAC_LEN; i++) {
		memcpy(bad, m1, sizeof(bad));
		bad[i] ^= 0x01;
		ck_assert(!wg_noise_check_mac1(&rsp.l, bad, sizeof(bad)));
		if (i < 8 || i >= 116)
			continue;	/* only mac1 covers these */
		now += WG_NSEC;
		if (wg_noise_initiation_open(&rsp.l, bad, sizeof(bad),
		    &w) == 0)
			ck_assert_int_eq(wg_noise_initiation_accept(&rsp.l,
			    &rsp.p, &w, now), -1);
		ck_assert_int_eq(rsp.p.state, WG_HS_NONE);
	}
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), now + WG_NSEC),
	    0);
	wipe_pair();
}
END_TEST

START_TEST(tampered_response)
{
	uint8_t	 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	uint8_t	 bad[WG_RESPONSE_LEN];
	size_t	 i;

	pair(NULL);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0), 0);
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX, T0,
	    m2, &rsp.kp), 0);
	for (i = 0; i < WG_RESPONSE_LEN - WG_MAC_LEN; i++) {
		memcpy(bad, m2, sizeof(bad));
		bad[i] ^= 0x80;
		ck_assert(!wg_noise_check_mac1(&ini.l, bad, sizeof(bad)));
		if (i < 8 || i >= 60)
			continue;
		/* Forgeries fail and leave the handshake in progress. */
		ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p,
		    bad, sizeof(bad), T0, &ini.kp), -1);
		ck_assert_int_eq(ini.p.state, WG_HS_INITIATION_SENT);
	}
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), T0, &ini.kp), 0);
	check_keypairs();
	/* A second copy finds no handshake in progress. */
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), T0, &ini.kp), -1);
	ck_assert_int_eq(errno, EINVAL);
	wipe_pair();
}
END_TEST

START_TEST(tampered_data)
{
	uint8_t	 pkt[128], bad[128], pt[128];
	size_t	 i, n, plen;

	pair(NULL);
	handshake(T0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0,
	    (const uint8_t *)"0123456789abcdefXYZ", 19, MTU, pkt, sizeof(pkt),
	    &n), 0);
	ck_assert_uint_eq(n, 16 + 32 + 16);
	for (i = 0; i < n; i++) {
		memcpy(bad, pkt, n);
		bad[i] ^= 0x04;
		ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, bad, n, pt,
		    &plen), -1);
		ck_assert_int_eq(errno, i < 8 ? EINVAL : EBADMSG);
	}
	/* Truncated. */
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n - 1, pt,
	    &plen), -1);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, 31, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n, pt, &plen), 0);
	ck_assert_mem_eq(pt, "0123456789abcdefXYZ", 19);
	wipe_pair();
}
END_TEST

START_TEST(replayed_initiation)
{
	uint8_t	 m1[WG_INITIATION_LEN], ts[WG_TAI64N_LEN];

	pair(NULL);
	fixed_ts(ts, 5000);
	wg_noise_test_fix(&ini.p, NULL, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC),
	    -1);
	ck_assert_int_eq(errno, EALREADY);

	/* Same timestamp in a fresh initiation, and an older one. */
	wg_noise_test_fix(&ini.p, NULL, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC),
	    -1);
	ck_assert_int_eq(errno, EALREADY);
	fixed_ts(ts, 4999);
	wg_noise_test_fix(&ini.p, NULL, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC),
	    -1);
	ck_assert_int_eq(errno, EALREADY);

	/* The real clock is far past 5000 s after the TAI64 epoch. */
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC), 0);
	wipe_pair();
}
END_TEST

START_TEST(initiation_flood)
{
	uint8_t		 m1[WG_INITIATION_LEN], ts[WG_TAI64N_LEN];
	uint32_t	 sec = 7000;

	pair(NULL);
	fixed_ts(ts, sec++);
	wg_noise_test_fix(&ini.p, NULL, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0), 0);

	fixed_ts(ts, sec++);
	wg_noise_test_fix(&ini.p, NULL, ts);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1),
	    T0 + WG_INITIATION_MIN_GAP), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + 10000000),
	    -1);
	ck_assert_int_eq(errno, EBUSY);
	/* Refused ones do not move the limit: 21 ms after the first. */
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1),
	    T0 + WG_INITIATION_MIN_GAP + 1000000), 0);
	ck_assert_uint_eq(WG_INITIATION_MIN_GAP, 20000000);
	wipe_pair();
}
END_TEST

START_TEST(wrong_mac1)
{
	uint8_t			 m1[WG_INITIATION_LEN], other[WG_KEY_LEN];
	struct wg_local		 third;
	struct wg_initiation	 w;

	pair(NULL);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	/* Addressed to rsp, so a third party's mac1 key does not match. */
	memset(&third, 0, sizeof(third));
	wg_noise_generate_private(other);
	ck_assert_int_eq(wg_local_set_key(&third, other), 0);
	ck_assert(!wg_noise_check_mac1(&third, m1, sizeof(m1)));
	ck_assert_int_eq(wg_noise_initiation_open(&third, m1, sizeof(m1), &w),
	    -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert(wg_noise_check_mac1(&rsp.l, m1, sizeof(m1)));
	m1[WG_INITIATION_LEN - 2 * WG_MAC_LEN] ^= 1;
	ck_assert(!wg_noise_check_mac1(&rsp.l, m1, sizeof(m1)));
	ck_assert(!wg_noise_check_mac1(&rsp.l, m1, sizeof(m1) - 1));
	wg_local_wipe(&third);
	wipe_pair();
}
END_TEST

START_TEST(cookie_flow)
{
	uint8_t	 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	uint8_t	 cr[WG_COOKIE_REPLY_LEN], bad[WG_COOKIE_REPLY_LEN];
	uint8_t	 zero[WG_MAC_LEN] = { 0 };
	size_t	 i;

	pair(NULL);
	/* Nothing sent yet: a cookie reply cannot be ours. */
	memset(cr, 0, sizeof(cr));
	cr[0] = WG_MSG_COOKIE_REPLY;
	ck_assert_int_eq(wg_noise_cookie_reply_consume(&ini.p, cr, sizeof(cr),
	    T0), -1);
	ck_assert_int_eq(errno, ESTALE);

	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_mem_eq(m1 + WG_INITIATION_LEN - WG_MAC_LEN, zero,
	    WG_MAC_LEN);
	/* Under load: mac1 good, mac2 missing, so answer with a cookie. */
	ck_assert(wg_noise_check_mac1(&rsp.l, m1, sizeof(m1)));
	ck_assert(!wg_noise_check_mac2(&rsp.l, m1, sizeof(m1), src_a,
	    sizeof(src_a), T0));
	ck_assert_int_eq(wg_noise_cookie_reply_create(&rsp.l, m1, sizeof(m1),
	    src_a, sizeof(src_a), T0, cr), 0);
	ck_assert_int_eq(wg_noise_msg_type(cr, sizeof(cr)),
	    WG_MSG_COOKIE_REPLY);
	ck_assert_uint_eq(wg_noise_get_u32(cr, WG_OFF_RECEIVER), I_IDX);

	for (i = 0; i < sizeof(cr); i++) {
		memcpy(bad, cr, sizeof(bad));
		bad[i] ^= 0x10;
		if (i >= 4 && i < 8)
			continue;	/* the receiver index only routes */
		ck_assert_int_eq(wg_noise_cookie_reply_consume(&ini.p, bad,
		    sizeof(bad), T0), -1);
		ck_assert_int_eq(errno, i < 4 ? EINVAL : EBADMSG);
	}
	ck_assert(!ini.p.has_cookie);
	ck_assert_int_eq(wg_noise_cookie_reply_consume(&ini.p, cr, sizeof(cr),
	    T0), 0);

	/* The re-sent initiation carries a mac2 bound to src_a only. */
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    T0 + WG_NSEC, m1), 0);
	ck_assert(memcmp(m1 + WG_INITIATION_LEN - WG_MAC_LEN, zero,
	    WG_MAC_LEN) != 0);
	ck_assert(wg_noise_check_mac1(&rsp.l, m1, sizeof(m1)));
	ck_assert(wg_noise_check_mac2(&rsp.l, m1, sizeof(m1), src_a,
	    sizeof(src_a), T0 + WG_NSEC));
	ck_assert(!wg_noise_check_mac2(&rsp.l, m1, sizeof(m1), src_b,
	    sizeof(src_b), T0 + WG_NSEC));
	ck_assert(!wg_noise_check_mac2(&rsp.l, m1, sizeof(m1), src_a,
	    sizeof(src_a) - 1, T0 + WG_NSEC));
	/* Once the secret is too old, mac2 no longer passes. */
	ck_assert(!wg_noise_check_mac2(&rsp.l, m1, sizeof(m1), src_a,
	    sizeof(src_a), T0 + WG_COOKIE_SECRET_MAX_AGE + 1));
	ck_assert_int_eq(consume_init(&rsp, m1, sizeof(m1), T0 + WG_NSEC), 0);

	/* The response also carries mac2 while the cookie is fresh. */
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX,
	    T0 + WG_NSEC, m2, &rsp.kp), 0);
	ck_assert_int_eq(wg_noise_response_consume(&ini.l, &ini.p, m2,
	    sizeof(m2), T0 + WG_NSEC, &ini.kp), 0);

	/* The old reply is bound to an older mac1. */
	ck_assert_int_eq(wg_noise_cookie_reply_consume(&ini.p, cr, sizeof(cr),
	    T0 + WG_NSEC), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* A stale cookie is not used. */
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX,
	    T0 + WG_NSEC + WG_COOKIE_MAX_AGE + 1, m1), 0);
	ck_assert_mem_eq(m1 + WG_INITIATION_LEN - WG_MAC_LEN, zero,
	    WG_MAC_LEN);
	wipe_pair();
}
END_TEST

START_TEST(cookie_secret_rotation)
{
	uint8_t	 m1[WG_INITIATION_LEN], cr[WG_COOKIE_REPLY_LEN];
	uint8_t	 secret[WG_HASH_LEN];

	pair(NULL);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(wg_noise_cookie_reply_create(&rsp.l, m1, sizeof(m1),
	    src_a, sizeof(src_a), T0, cr), 0);
	memcpy(secret, rsp.l.cookie_secret, sizeof(secret));
	ck_assert_int_eq(wg_noise_cookie_reply_create(&rsp.l, m1, sizeof(m1),
	    src_a, sizeof(src_a), T0 + WG_COOKIE_SECRET_MAX_AGE, cr), 0);
	ck_assert_mem_eq(rsp.l.cookie_secret, secret, sizeof(secret));
	ck_assert_int_eq(wg_noise_cookie_reply_create(&rsp.l, m1, sizeof(m1),
	    src_a, sizeof(src_a), T0 + WG_COOKIE_SECRET_MAX_AGE + 1, cr), 0);
	ck_assert(memcmp(rsp.l.cookie_secret, secret, sizeof(secret)) != 0);
	ck_assert(rsp.l.secret_birth == T0 + WG_COOKIE_SECRET_MAX_AGE + 1);
	wipe_pair();
}
END_TEST

START_TEST(replayed_data)
{
	uint8_t	 p0[64], p1[64], p2[64], pt[64];
	size_t	 n0, n1, n2, plen;

	pair(NULL);
	handshake(T0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, p0,
	    sizeof(p0), &n0), 0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, p1,
	    sizeof(p1), &n1), 0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, p2,
	    sizeof(p2), &n2), 0);
	ck_assert_uint_eq(p2[WG_OFF_COUNTER], 2);
	/* Out of order is fine, twice is not. */
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, p2, n2, pt, &plen), 0);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, p0, n0, pt, &plen), 0);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, p2, n2, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EALREADY);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, p0, n0, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EALREADY);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, p1, n1, pt, &plen), 0);
	wipe_pair();
}
END_TEST

START_TEST(data_counter_limit)
{
	uint8_t	 pkt[64], pt[64];
	size_t	 n, plen;

	pair(NULL);
	handshake(T0);
	ck_assert(!wg_keypair_should_rekey_send(&ini.kp, T0));
	atomic_store(&ini.kp.send_counter, WG_REKEY_AFTER_MESSAGES + 1);
	ck_assert(wg_keypair_should_rekey_send(&ini.kp, T0));
	atomic_store(&ini.kp.send_counter, WG_REJECT_AFTER_MESSAGES - 1);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), 0);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n, pt, &plen), 0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), -1);
	ck_assert_int_eq(errno, EOVERFLOW);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), -1);
	ck_assert(atomic_load(&ini.kp.send_counter) ==
	    WG_REJECT_AFTER_MESSAGES);
	/* The receiver refuses a counter at the limit before decrypting. */
	memset(pkt + WG_OFF_COUNTER, 0xff, 8);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EALREADY);
	/* Too small an output buffer consumes no counter. */
	ck_assert_int_eq(wg_noise_encrypt(&rsp.kp, T0, NULL, 0, MTU, pkt, 31,
	    &n), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert(atomic_load(&rsp.kp.send_counter) == 0);
	wipe_pair();
}
END_TEST

START_TEST(wrong_keypair)
{
	uint8_t			 pkt[64], pt[64];
	size_t			 n, plen;
	struct wg_keypair	 other;

	pair(NULL);
	handshake(T0);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), 0);
	/* Index of another keypair. */
	ck_assert_int_eq(wg_noise_decrypt(&ini.kp, T0, pkt, n, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Right index, keys of an older session. */
	memcpy(&other, &rsp.kp, sizeof(other));
	handshake(T0 + WG_NSEC);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0, pkt, n, pt, &plen),
	    -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_int_eq(wg_noise_decrypt(&other, T0, pkt, n, pt, &plen), 0);
	/* Expired and retired keypairs. */
	ck_assert(!wg_keypair_should_rekey_recv(&ini.kp, T0 + WG_NSEC));
	ck_assert(wg_keypair_should_rekey_recv(&ini.kp,
	    T0 + WG_NSEC + 166 * WG_NSEC));
	ck_assert(!wg_keypair_should_rekey_recv(&rsp.kp,
	    T0 + WG_NSEC + 166 * WG_NSEC));
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp,
	    T0 + WG_NSEC + WG_REJECT_AFTER_TIME, NULL, 0, MTU, pkt,
	    sizeof(pkt), &n), -1);
	ck_assert_int_eq(errno, EKEYEXPIRED);
	ck_assert_int_eq(wg_noise_encrypt(&ini.kp, T0 + WG_NSEC, NULL, 0, MTU,
	    pkt, sizeof(pkt), &n), 0);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp,
	    T0 + WG_NSEC + WG_REJECT_AFTER_TIME, pkt, n, pt, &plen), -1);
	ck_assert_int_eq(errno, EKEYEXPIRED);
	atomic_store(&rsp.kp.valid, false);
	ck_assert_int_eq(wg_noise_decrypt(&rsp.kp, T0 + WG_NSEC, pkt, n, pt,
	    &plen), -1);
	ck_assert_int_eq(errno, EKEYEXPIRED);
	wg_keypair_wipe(&other);
	wipe_pair();
}
END_TEST

START_TEST(padding)
{
	ck_assert_uint_eq(wg_noise_data_len(0, MTU), 32);
	ck_assert_uint_eq(wg_noise_data_len(1, MTU), 48);
	ck_assert_uint_eq(wg_noise_data_len(16, MTU), 48);
	ck_assert_uint_eq(wg_noise_data_len(17, MTU), 64);
	ck_assert_uint_eq(wg_noise_data_len(1410, MTU), 32 + 1420);
	ck_assert_uint_eq(wg_noise_data_len(1419, MTU), 32 + 1420);
	ck_assert_uint_eq(wg_noise_data_len(1420, MTU), 32 + 1420);
	ck_assert_uint_eq(wg_noise_data_len(1421, MTU), 32 + 1421);
	ck_assert_uint_eq(wg_noise_data_len(1419, 0), 32 + 1424);
}
END_TEST

START_TEST(bad_keys_and_states)
{
	uint8_t			 m1[WG_INITIATION_LEN], m2[WG_RESPONSE_LEN];
	uint8_t			 zero[WG_KEY_LEN] = { 0 };
	struct wg_peer_noise	 p;
	struct wg_initiation	 w;
	struct wg_keypair	 kp;

	pair(NULL);
	/* A small-order peer key gives an all-zero DH. */
	ck_assert_int_eq(wg_peer_noise_init(&p, &ini.l, zero, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &p, I_IDX, T0,
	    m1), -1);
	ck_assert_int_eq(errno, EBADMSG);
	wg_peer_noise_wipe(&p);
	/* ... and so does a small-order ephemeral. */
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	memset(m1 + 8, 0, WG_KEY_LEN);
	ck_assert_int_eq(wg_noise_initiation_open(&rsp.l, m1, sizeof(m1), &w),
	    -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* Responses need a consumed initiation. */
	ck_assert_int_eq(wg_noise_response_create(&rsp.l, &rsp.p, R_IDX, T0,
	    m2, &kp), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Message framing. */
	ck_assert_int_eq(wg_noise_msg_type(m1, sizeof(m1)), 1);
	ck_assert_int_eq(wg_noise_msg_type(m1, sizeof(m1) + 1), -1);
	m1[3] = 1;
	ck_assert_int_eq(wg_noise_msg_type(m1, sizeof(m1)), -1);
	m1[0] = 5;
	m1[3] = 0;
	ck_assert_int_eq(wg_noise_msg_type(m1, 64), -1);
	ck_assert_int_eq(wg_noise_msg_type(m1, 3), -1);
	/* A new local key rederives ss and drops the handshake. */
	ck_assert_int_eq(wg_noise_initiation_create(&ini.l, &ini.p, I_IDX, T0,
	    m1), 0);
	ck_assert_int_eq(wg_peer_noise_set_local(&ini.p, &ini.l), 0);
	ck_assert_int_eq(ini.p.state, WG_HS_NONE);
	wipe_pair();
}
END_TEST

static Suite *
noise_suite(void)
{
	Suite	*s = suite_create("noise");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, known_answer);
	tcase_add_test(tc, handshake_no_psk);
	tcase_add_test(tc, handshake_psk);
	tcase_add_test(tc, tampered_initiation);
	tcase_add_test(tc, tampered_response);
	tcase_add_test(tc, tampered_data);
	tcase_add_test(tc, replayed_initiation);
	tcase_add_test(tc, initiation_flood);
	tcase_add_test(tc, wrong_mac1);
	tcase_add_test(tc, cookie_flow);
	tcase_add_test(tc, cookie_secret_rotation);
	tcase_add_test(tc, replayed_data);
	tcase_add_test(tc, data_counter_limit);
	tcase_add_test(tc, wrong_keypair);
	tcase_add_test(tc, padding);
	tcase_add_test(tc, bad_keys_and_states);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (sodium_init() < 0)
		return (EXIT_FAILURE);
	sr = srunner_create(noise_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
