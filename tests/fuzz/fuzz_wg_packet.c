/*
 * libFuzzer harness for the WireGuard message parsers in lib/wg/noise.c,
 * as the device meets them on its UDP port.  One real handshake between
 * two fixed identities is done at start-up (fixed ephemerals and
 * timestamps, so the seeds stay valid); every input is then handed to each
 * parser, always on a scratch copy of the pristine state:
 *
 *   type 1  mac1, mac2, initiation open and accept, response, cookie reply
 *   type 2  response consume (the initiator's side)
 *   type 3  cookie reply consume
 *   type 4  decrypt, out of place and in place, then the replay window
 *   any     encrypt it as a plaintext, decrypt, compare
 *
 * A parser must refuse a message of another type, leave the peer state
 * alone when it refuses, and agree with itself.  A decrypted plaintext
 * goes through the allowed-IPs lookup as the receive path does it.
 *
 * With WG_PACKET_SEEDS=<dir> the start-up writes real messages of each
 * type there: the seeds of tests/fuzz/corpus/wg_packet.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/wg/allowedips.h"
#include "lib/wg/noise.h"

#define NOW		(1000 * WG_NSEC)
#define INIT_INDEX	0x01020304U
#define RESP_INDEX	0x0a0b0c0dU
#define FUZZ_MTU	1420
#define MAX_PT		4096

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The sender of every message, as the device encodes it for mac2. */
static const uint8_t	 SRC[6] = { 127, 0, 0, 1, 0xca, 0xfe };

static struct wg_local		 resp_local;	/* R */
static struct wg_local		 init_local;	/* I */
static struct wg_peer_noise	 resp_fresh;	/* R's view of I, idle */
static struct wg_peer_noise	 init_sent;	/* I's view of R, sent 1 */
static struct wg_keypair	 resp_kp;	/* R's session */
static struct wg_keypair	 init_kp;	/* I's session */
static struct wg_allowedips	 aips;
static int			 peer_i, peer_other; /* aips owners */

/* A struct copy, with the atomics initialized as atomics. */
static void
kp_copy(struct wg_keypair *dst, struct wg_keypair *src)
{
	memcpy(dst, src, sizeof(*dst));
	atomic_init(&dst->valid, atomic_load(&src->valid));
	atomic_init(&dst->send_counter, atomic_load(&src->send_counter));
	atomic_flag_clear(&dst->replay_lock);
}

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_wg_packet: %s\n", what);
		abort();
	}
}

/* Where an IP packet comes from, as the receive path reads it. */
static void
ip_source(const uint8_t *pt, size_t len)
{
	size_t	 n;
	void	*p = NULL;

	if (len >= 20 && pt[0] >> 4 == 4) {
		n = (size_t)pt[2] << 8 | pt[3];
		if (n <= len && n >= 20)
			p = wg_allowedips_lookup(&aips, AF_INET, pt + 12);
	} else if (len >= 40 && pt[0] >> 4 == 6) {
		n = ((size_t)pt[4] << 8 | pt[5]) + 40;
		if (n <= len)
			p = wg_allowedips_lookup(&aips, AF_INET6, pt + 8);
	}
	check(p == NULL || p == &peer_i || p == &peer_other, "aip owner");
}

static void
write_seed(const char *dir, const char *name, const uint8_t *m, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	check((f = fopen(path, "wb")) != NULL, path);
	check(fwrite(m, 1, len, f) == len && fclose(f) == 0, path);
}

/* An IPv4 (v6 false) or IPv6 packet from I's allowed address. */
static size_t
make_ip(uint8_t *p, bool v6)
{
	static const char	 pl[] = "seed payload";
	size_t			 hl = v6 ? 40 : 20, len = hl + sizeof(pl);

	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		p[5] = sizeof(pl);
		p[6] = 17;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[3] = (uint8_t)len;
		p[9] = 17;
		p[12] = 10;
		p[15] = 1;
		p[16] = 10;
		p[19] = 2;
	}
	memcpy(p + hl, pl, sizeof(pl));
	return len;
}

static void
seed_data(const char *dir)
{
	struct wg_keypair	 kp;
	uint8_t			 pt[128], out[256];
	size_t			 len, outlen;

	kp_copy(&kp, &init_kp);
	check(wg_noise_encrypt(&kp, NOW, NULL, 0, FUZZ_MTU, out, sizeof(out),
	    &outlen) == 0, "keepalive");
	write_seed(dir, "4-keepalive", out, outlen);
	len = make_ip(pt, false);
	check(wg_noise_encrypt(&kp, NOW, pt, len, FUZZ_MTU, out, sizeof(out),
	    &outlen) == 0, "data v4");
	write_seed(dir, "4-data-ipv4", out, outlen);
	len = make_ip(pt, true);
	check(wg_noise_encrypt(&kp, NOW, pt, len, FUZZ_MTU, out, sizeof(out),
	    &outlen) == 0, "data v6");
	write_seed(dir, "4-data-ipv6", out, outlen);
	write_seed(dir, "0-ipv4-plain", pt, make_ip(pt, false));
}

/*
 * The handshake: I initiates, R responds, and R's cookie reply to the
 * initiation lets I send a second one with mac2.
 */
static void
handshake(const char *dir)
{
	static const uint8_t	 ts1[WG_TAI64N_LEN] = { 0x40, 0, 0, 0, 1 };
	static const uint8_t	 ts2[WG_TAI64N_LEN] = { 0x40, 0, 0, 0, 2 };
	struct wg_initiation	 ini;
	struct wg_peer_noise	 r, i2;
	struct wg_local		 l;
	uint8_t			 m1[WG_INITIATION_LEN];
	uint8_t			 m1b[WG_INITIATION_LEN];
	uint8_t			 m2[WG_RESPONSE_LEN];
	uint8_t			 m3[WG_COOKIE_REPLY_LEN];
	uint8_t			 e[WG_KEY_LEN];

	memset(e, 0x21, sizeof(e));
	wg_noise_test_fix(&init_sent, e, ts1);
	check(wg_noise_initiation_create(&init_local, &init_sent, INIT_INDEX,
	    NOW, m1) == 0, "initiation");
	r = resp_fresh;
	check(wg_noise_check_mac1(&resp_local, m1, sizeof(m1)) &&
	    wg_noise_initiation_open(&resp_local, m1, sizeof(m1), &ini) == 0 &&
	    wg_noise_initiation_accept(&resp_local, &r, &ini, NOW) == 0,
	    "accept");
	memset(e, 0x42, sizeof(e));
	wg_noise_test_fix(&r, e, NULL);
	check(wg_noise_response_create(&resp_local, &r, RESP_INDEX, NOW, m2,
	    &resp_kp) == 0, "response");
	i2 = init_sent;
	check(wg_noise_response_consume(&init_local, &i2, m2, sizeof(m2), NOW,
	    &init_kp) == 0, "consume");
	l = resp_local;
	check(wg_noise_cookie_reply_create(&l, m1, sizeof(m1), SRC,
	    sizeof(SRC), NOW, m3) == 0, "cookie reply");
	i2 = init_sent;
	memset(e, 0x63, sizeof(e));
	wg_noise_test_fix(&i2, e, ts2);
	check(wg_noise_cookie_reply_consume(&i2, m3, sizeof(m3), NOW) == 0 &&
	    wg_noise_initiation_create(&init_local, &i2, INIT_INDEX + 1, NOW,
	    m1b) == 0 && wg_noise_check_mac2(&resp_local, m1b, sizeof(m1b),
	    SRC, sizeof(SRC), NOW), "mac2");
	if (dir == NULL)
		return;
	write_seed(dir, "1-initiation", m1, sizeof(m1));
	write_seed(dir, "1-initiation-mac2", m1b, sizeof(m1b));
	write_seed(dir, "2-response", m2, sizeof(m2));
	write_seed(dir, "3-cookie-reply", m3, sizeof(m3));
	seed_data(dir);
}

static void
aips_init(void)
{
	static const uint8_t	 v4[4] = { 10, 0, 0, 0 };
	static const uint8_t	 v6[16] = { 0xfd };
	static const uint8_t	 any[16];

	wg_allowedips_init(&aips);
	check(wg_allowedips_insert(&aips, AF_INET, v4, 24, &peer_i) == 0 &&
	    wg_allowedips_insert(&aips, AF_INET, any, 0, &peer_other) == 0 &&
	    wg_allowedips_insert(&aips, AF_INET6, v6, 64, &peer_i) == 0 &&
	    wg_allowedips_insert(&aips, AF_INET6, any, 1, &peer_other) == 0,
	    "aips");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t	 k[WG_KEY_LEN], psk[WG_KEY_LEN];

	check(sodium_init() >= 0, "sodium_init");
	memset(k, 0x11, sizeof(k));
	check(wg_local_set_key(&resp_local, k) == 0, "R key");
	memset(k, 0x22, sizeof(k));
	check(wg_local_set_key(&init_local, k) == 0, "I key");
	/* A fixed cookie secret, so seeds with mac2 stay valid. */
	memset(resp_local.cookie_secret, 0x33, WG_HASH_LEN);
	resp_local.secret_birth = NOW;
	resp_local.has_secret = true;
	memset(psk, 0x44, sizeof(psk));
	check(wg_peer_noise_init(&resp_fresh, &resp_local,
	    init_local.public_key, psk) == 0 &&
	    wg_peer_noise_init(&init_sent, &init_local, resp_local.public_key,
	    psk) == 0, "peers");
	aips_init();
	handshake(getenv("WG_PACKET_SEEDS"));
	return 0;
}

/* R, under load, answers with a cookie; only I's last mac1 opens it. */
static void
fuzz_cookie_roundtrip(const uint8_t *m, size_t len)
{
	struct wg_local		 l = resp_local;
	struct wg_peer_noise	 p = init_sent;
	uint8_t			 reply[WG_COOKIE_REPLY_LEN];
	bool			 mine;
	int			 rc;

	check(wg_noise_cookie_reply_create(&l, m, len, SRC, sizeof(SRC), NOW,
	    reply) == 0, "cookie reply create");
	check(wg_noise_msg_type(reply, sizeof(reply)) == WG_MSG_COOKIE_REPLY &&
	    memcmp(reply + WG_OFF_RECEIVER, m + WG_OFF_SENDER, 4) == 0,
	    "cookie reply header");
	mine = memcmp(m + len - 2 * WG_MAC_LEN, init_sent.last_mac1,
	    WG_MAC_LEN) == 0;
	rc = wg_noise_cookie_reply_consume(&p, reply, sizeof(reply), NOW);
	check(mine ? rc == 0 : rc == -1 && errno == EBADMSG,
	    "cookie reply consume");
	sodium_memzero(&l, sizeof(l));
}

/* The responder's side of a type 1 message. */
static void
fuzz_initiation(const uint8_t *m, size_t len, int type)
{
	struct wg_initiation	 ini;
	struct wg_peer_noise	 p = resp_fresh;
	struct wg_keypair	 kp;
	uint8_t			 out[WG_RESPONSE_LEN];
	bool			 mac1;

	mac1 = wg_noise_check_mac1(&resp_local, m, len);
	check(!mac1 || type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE,
	    "mac1 of a non-handshake");
	if (wg_noise_check_mac2(&resp_local, m, len, SRC, sizeof(SRC), NOW))
		check(type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE,
		    "mac2 of a non-handshake");
	if (mac1)
		fuzz_cookie_roundtrip(m, len);
	if (wg_noise_initiation_open(&resp_local, m, len, &ini) == -1) {
		check(sodium_is_zero((uint8_t *)&ini, sizeof(ini)),
		    "open left state");
		return;
	}
	check(type == WG_MSG_INITIATION, "open of a non-initiation");
	if (wg_noise_initiation_accept(&resp_local, &p, &ini, NOW) == 0 &&
	    wg_noise_response_create(&resp_local, &p, RESP_INDEX + 1, NOW, out,
	    &kp) == 0) {
		check(p.state == WG_HS_NONE, "response state");
		wg_keypair_wipe(&kp);
	}
	check(sodium_is_zero((uint8_t *)&ini, sizeof(ini)), "ini not wiped");
	wg_peer_noise_wipe(&p);
}

/* The initiator's side of a type 2 message. */
static void
fuzz_response(const uint8_t *m, size_t len, int type)
{
	struct wg_peer_noise	 p;
	struct wg_keypair	 kp;
	uint8_t			 out[64];
	size_t			 outlen;

	(void)wg_noise_check_mac1(&init_local, m, len);
	memcpy(&p, &init_sent, sizeof(p));
	if (wg_noise_response_consume(&init_local, &p, m, len, NOW, &kp) ==
	    -1) {
		check(memcmp(&p, &init_sent, sizeof(p)) == 0,
		    "failed consume changed the peer");
		return;
	}
	check(type == WG_MSG_RESPONSE &&
	    wg_noise_get_u32(m, WG_OFF_RESP_RECEIVER) == INIT_INDEX,
	    "consumed a bad response");
	check(p.state == WG_HS_NONE && kp.initiator &&
	    kp.local_index == INIT_INDEX, "keypair");
	check(wg_noise_encrypt(&kp, NOW, NULL, 0, FUZZ_MTU, out, sizeof(out),
	    &outlen) == 0 && outlen == WG_DATA_MIN_LEN, "new session");
	wg_keypair_wipe(&kp);
}

static void
fuzz_cookie(const uint8_t *m, size_t len, int type)
{
	struct wg_peer_noise	 p;

	memcpy(&p, &init_sent, sizeof(p));
	if (wg_noise_cookie_reply_consume(&p, m, len, NOW + 1) == -1) {
		check(memcmp(&p, &init_sent, sizeof(p)) == 0,
		    "failed cookie changed the peer");
		return;
	}
	check(type == WG_MSG_COOKIE_REPLY && p.has_cookie &&
	    p.cookie_birth == NOW + 1, "cookie");
}

/* Decrypt with a fresh copy of kp, into pt; the rc. */
static int
decrypt_fresh(struct wg_keypair *pristine, const uint8_t *m, size_t len,
    uint8_t *pt, size_t *ptlen)
{
	struct wg_keypair	 kp;
	int			 rc;

	kp_copy(&kp, pristine);
	rc = wg_noise_decrypt(&kp, NOW + 1, m, len, pt, ptlen);
	if (rc == 0) {
		/* the same counter again is a replay */
		check(wg_noise_decrypt(&kp, NOW + 1, m, len, pt, ptlen) == -1 &&
		    errno == EALREADY, "replay accepted");
	}
	wg_keypair_wipe(&kp);
	return rc;
}

/* A type 4 message to R: out of place and in place must agree. */
static void
fuzz_data(const uint8_t *m, size_t len, int type)
{
	uint8_t		*pt, *copy;
	size_t		 ptlen = 0, iplen = 0, room;
	int		 rc, rc2;

	room = len > WG_DATA_MIN_LEN ? len - WG_DATA_MIN_LEN : 1;
	pt = malloc(room);
	copy = malloc(len + 1);
	check(pt != NULL && copy != NULL, "malloc");
	memcpy(copy, m, len);
	rc = decrypt_fresh(&resp_kp, m, len, pt, &ptlen);
	rc2 = decrypt_fresh(&resp_kp, copy, len, copy + WG_DATA_HDR_LEN,
	    &iplen);
	check(rc == rc2, "in place differs");
	if (rc == 0) {
		check(type == WG_MSG_DATA && ptlen == len - WG_DATA_MIN_LEN &&
		    iplen == ptlen && memcmp(pt, copy + WG_DATA_HDR_LEN,
		    ptlen) == 0, "decrypted");
		ip_source(pt, ptlen);
	}
	(void)decrypt_fresh(&init_kp, m, len, pt, &ptlen);
	free(pt);
	free(copy);
}

/*
 * The input as a plaintext from I to R, sent with the counter its first
 * eight bytes name: encrypt, decrypt, compare, then the padding is zeros.
 */
static void
fuzz_roundtrip(const uint8_t *m, size_t len)
{
	struct wg_keypair	 kp;
	uint8_t			*out, *pt;
	uint64_t		 ctr = 0;
	size_t			 need, outlen, ptlen, i;
	int			 rc;

	if (len > MAX_PT)
		return;
	if (len >= 8)
		memcpy(&ctr, m, 8);
	need = wg_noise_data_len(len, FUZZ_MTU);
	out = malloc(need);
	pt = malloc(need);
	check(out != NULL && pt != NULL, "malloc");
	kp_copy(&kp, &init_kp);
	atomic_store(&kp.send_counter, ctr);
	rc = wg_noise_encrypt(&kp, NOW, m, len, FUZZ_MTU, out, need, &outlen);
	wg_keypair_wipe(&kp);
	if (ctr >= WG_REJECT_AFTER_MESSAGES) {
		check(rc == -1 && errno == EOVERFLOW, "counter overflow");
		goto out;
	}
	check(rc == 0 && outlen == need, "encrypt");
	check(decrypt_fresh(&resp_kp, out, outlen, pt, &ptlen) == 0 &&
	    ptlen == need - WG_DATA_MIN_LEN && memcmp(pt, m, len) == 0,
	    "roundtrip");
	for (i = len; i < ptlen; i++)
		check(pt[i] == 0, "padding");
	ip_source(pt, ptlen);
 out:
	free(out);
	free(pt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	int	 type = wg_noise_msg_type(data, len);

	check(type == -1 || (type == WG_MSG_INITIATION &&
	    len == WG_INITIATION_LEN) || (type == WG_MSG_RESPONSE &&
	    len == WG_RESPONSE_LEN) || (type == WG_MSG_COOKIE_REPLY &&
	    len == WG_COOKIE_REPLY_LEN) || (type == WG_MSG_DATA &&
	    len >= WG_DATA_MIN_LEN), "msg_type");
	fuzz_initiation(data, len, type);
	fuzz_response(data, len, type);
	fuzz_cookie(data, len, type);
	fuzz_data(data, len, type);
	fuzz_roundtrip(data, len);
	return 0;
}
