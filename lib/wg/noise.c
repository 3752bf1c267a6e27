/*
 * WireGuard's Noise_IKpsk2 handshake, cookies and transport messages.
 * Variable names follow the protocol description: ck the chaining key, h
 * the hash, e an ephemeral, ss the static-static DH, psk the preshared key.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/wg/blake2s.h"
#include "lib/wg/noise.h"

static const char	 CONSTRUCTION[] =
	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char	 IDENTIFIER[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char	 LABEL_MAC1[] = "mac1----";
static const char	 LABEL_COOKIE[] = "cookie--";

/* Offsets inside the handshake and cookie messages. */
#define INI_EPHEMERAL	8
#define INI_STATIC	40
#define INI_TIMESTAMP	88
#define RESP_EPHEMERAL	12
#define RESP_EMPTY	44
#define COOKIE_NONCE	8
#define COOKIE_ENC	32
#define STATIC_ENC_LEN	(WG_KEY_LEN + WG_AEAD_TAG_LEN)
#define TS_ENC_LEN	(WG_TAI64N_LEN + WG_AEAD_TAG_LEN)

#define TAI64_BASE	0x400000000000000aULL
/* Whitening: timestamps carry no more than ~16 ms of precision. */
#define TAI64N_NSEC_MASK 0xffffffU

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get_le64(const uint8_t *p)
{
	return (uint64_t)wg_noise_get_u32(p, 0) |
	    (uint64_t)wg_noise_get_u32(p, 4) << 32;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint64_t
age(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* out = HASH(a || b); out may alias a. */
static void
hash2(uint8_t out[WG_HASH_LEN], const void *a, size_t alen, const void *b,
    size_t blen)
{
	struct blake2s_state	 s;

	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

static void
mix_hash(uint8_t h[WG_HASH_LEN], const void *in, size_t len)
{
	hash2(h, h, WG_HASH_LEN, in, len);
}

static void
initial_ck_h(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN])
{
	blake2s(ck, WG_HASH_LEN, NULL, 0, CONSTRUCTION,
	    sizeof(CONSTRUCTION) - 1);
	hash2(h, ck, WG_HASH_LEN, IDENTIFIER, sizeof(IDENTIFIER) - 1);
}

/* HASH(H0 || pub): the hash both sides start from for responder "pub". */
static void
initial_hash(uint8_t out[WG_HASH_LEN], const uint8_t pub[WG_KEY_LEN])
{
	uint8_t	 ck[WG_HASH_LEN], h[WG_HASH_LEN];

	initial_ck_h(ck, h);
	hash2(out, h, WG_HASH_LEN, pub, WG_KEY_LEN);
}

static void
label_key(uint8_t out[WG_HASH_LEN], const char *label,
    const uint8_t pub[WG_KEY_LEN])
{
	hash2(out, label, 8, pub, WG_KEY_LEN);
}

/* ck = KDF1(ck, in), optionally k = second output.  wg_kdf may not alias. */
static void
mix_key(uint8_t ck[WG_HASH_LEN], uint8_t *k, const void *in, size_t len)
{
	uint8_t	 t1[WG_HASH_LEN];

	wg_kdf(t1, k, NULL, ck, in, len);
	memcpy(ck, t1, WG_HASH_LEN);
	sodium_memzero(t1, sizeof(t1));
}

/* X25519 that refuses an all-zero (small order) result. */
static int
dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
    const uint8_t pub[WG_KEY_LEN])
{
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0 ||
	    sodium_is_zero(out, WG_KEY_LEN)) {
		sodium_memzero(out, WG_KEY_LEN);
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

/* ck = KDF1(ck, DH(priv, pub)). */
static int
mix_dh(uint8_t ck[WG_HASH_LEN], uint8_t *k, const uint8_t priv[WG_KEY_LEN],
    const uint8_t pub[WG_KEY_LEN])
{
	uint8_t	 shared[WG_KEY_LEN];

	if (dh(shared, priv, pub) == -1)
		return (-1);
	mix_key(ck, k, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return (0);
}

static void
aead_nonce(uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
    uint64_t counter)
{
	memset(n, 0, 4);
	put_le64(n + 4, counter);
}

/* AEAD(k, 0, pt, h) as the handshake uses it; writes len + 16 bytes. */
static void
seal0(uint8_t *out, const uint8_t k[WG_KEY_LEN], const void *pt, size_t len,
    const uint8_t h[WG_HASH_LEN])
{
	uint8_t	 n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	aead_nonce(n, 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, h,
	    WG_HASH_LEN, NULL, n, k);
}

static int
open0(uint8_t *out, const uint8_t k[WG_KEY_LEN], const uint8_t *ct,
    size_t len, const uint8_t h[WG_HASH_LEN])
{
	uint8_t	 n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	aead_nonce(n, 0);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct,
	    len, h, WG_HASH_LEN, n, k) != 0) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

static void
tai64n_now(uint8_t out[WG_TAI64N_LEN])
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	put_be32(out, (uint32_t)((TAI64_BASE + ts.tv_sec) >> 32));
	put_be32(out + 4, (uint32_t)(TAI64_BASE + ts.tv_sec));
	put_be32(out + 8, (uint32_t)ts.tv_nsec & ~TAI64N_NSEC_MASK);
}

static void
new_ephemeral(struct wg_peer_noise *p)
{
	if (p->fixed_e) {
		memcpy(p->e_priv, p->fixed_e_priv, WG_KEY_LEN);
		sodium_memzero(p->fixed_e_priv, WG_KEY_LEN);
		p->fixed_e = false;
	} else
		wg_noise_generate_private(p->e_priv);
	crypto_scalarmult_curve25519_base(p->e_pub, p->e_priv);
}

void
wg_noise_generate_private(uint8_t priv[WG_KEY_LEN])
{
	randombytes_buf(priv, WG_KEY_LEN);
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

int
wg_noise_public_from_private(uint8_t pub[WG_KEY_LEN],
    const uint8_t priv[WG_KEY_LEN])
{
	if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

int
wg_local_set_key(struct wg_local *l, const uint8_t priv[WG_KEY_LEN])
{
	uint8_t	 pub[WG_KEY_LEN];

	if (priv == NULL) {
		wg_local_wipe(l);
		return (0);
	}
	if (wg_noise_public_from_private(pub, priv) == -1)
		return (-1);
	memcpy(l->private_key, priv, WG_KEY_LEN);
	memcpy(l->public_key, pub, WG_KEY_LEN);
	label_key(l->mac1_key, LABEL_MAC1, pub);
	label_key(l->cookie_key, LABEL_COOKIE, pub);
	initial_hash(l->resp_hash, pub);
	l->has_key = true;
	return (0);
}

void
wg_local_wipe(struct wg_local *l)
{
	sodium_memzero(l, sizeof(*l));
}

int
wg_peer_noise_init(struct wg_peer_noise *p, const struct wg_local *l,
    const uint8_t remote_pub[WG_KEY_LEN], const uint8_t *psk)
{
	sodium_memzero(p, sizeof(*p));
	memcpy(p->remote_static, remote_pub, WG_KEY_LEN);
	label_key(p->mac1_key, LABEL_MAC1, remote_pub);
	label_key(p->cookie_key, LABEL_COOKIE, remote_pub);
	initial_hash(p->init_hash, remote_pub);
	wg_peer_noise_set_psk(p, psk);
	return (wg_peer_noise_set_local(p, l));
}

int
wg_peer_noise_set_local(struct wg_peer_noise *p, const struct wg_local *l)
{
	wg_peer_noise_clear_handshake(p);
	sodium_memzero(p->ss, sizeof(p->ss));
	p->ss_ok = l->has_key &&
	    dh(p->ss, l->private_key, p->remote_static) == 0;
	if (!p->ss_ok) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

void
wg_peer_noise_set_psk(struct wg_peer_noise *p, const uint8_t *psk)
{
	if (psk != NULL)
		memcpy(p->psk, psk, WG_KEY_LEN);
	else
		sodium_memzero(p->psk, WG_KEY_LEN);
}

void
wg_peer_noise_clear_handshake(struct wg_peer_noise *p)
{
	p->state = WG_HS_NONE;
	sodium_memzero(p->ck, sizeof(p->ck));
	sodium_memzero(p->hash, sizeof(p->hash));
	sodium_memzero(p->e_priv, sizeof(p->e_priv));
	sodium_memzero(p->e_pub, sizeof(p->e_pub));
	sodium_memzero(p->remote_e, sizeof(p->remote_e));
	p->local_index = p->remote_index = 0;
}

void
wg_peer_noise_wipe(struct wg_peer_noise *p)
{
	sodium_memzero(p, sizeof(*p));
}

void
wg_noise_test_fix(struct wg_peer_noise *p, const uint8_t e_priv[WG_KEY_LEN],
    const uint8_t tai64n[WG_TAI64N_LEN])
{
	if ((p->fixed_e = e_priv != NULL))
		memcpy(p->fixed_e_priv, e_priv, WG_KEY_LEN);
	if ((p->fixed_ts = tai64n != NULL))
		memcpy(p->fixed_tai64n, tai64n, WG_TAI64N_LEN);
}

uint32_t
wg_noise_get_u32(const uint8_t *msg, size_t off)
{
	const uint8_t	*p = msg + off;

	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

int
wg_noise_msg_type(const uint8_t *msg, size_t len)
{
	if (len < 4 || msg[1] != 0 || msg[2] != 0 || msg[3] != 0)
		return (-1);
	switch (msg[0]) {
	case WG_MSG_INITIATION:
		return (len == WG_INITIATION_LEN ? msg[0] : -1);
	case WG_MSG_RESPONSE:
		return (len == WG_RESPONSE_LEN ? msg[0] : -1);
	case WG_MSG_COOKIE_REPLY:
		return (len == WG_COOKIE_REPLY_LEN ? msg[0] : -1);
	case WG_MSG_DATA:
		return (len >= WG_DATA_MIN_LEN ? msg[0] : -1);
	}
	return (-1);
}

static void
put_header(uint8_t *out, uint8_t type)
{
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
}

static bool
cookie_fresh(const struct wg_peer_noise *p, uint64_t now)
{
	return (p->has_cookie && age(now, p->cookie_birth) <=
	    WG_COOKIE_MAX_AGE);
}

/* mac1 and mac2 of an outgoing handshake message; remembers mac1. */
static void
add_macs(struct wg_peer_noise *p, uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t	*mac1 = msg + len - 2 * WG_MAC_LEN;
	uint8_t	*mac2 = msg + len - WG_MAC_LEN;

	blake2s(mac1, WG_MAC_LEN, p->mac1_key, WG_HASH_LEN, msg,
	    len - 2 * WG_MAC_LEN);
	memcpy(p->last_mac1, mac1, WG_MAC_LEN);
	p->has_last_mac1 = true;
	if (cookie_fresh(p, now))
		blake2s(mac2, WG_MAC_LEN, p->cookie, WG_COOKIE_LEN, msg,
		    len - WG_MAC_LEN);
	else
		memset(mac2, 0, WG_MAC_LEN);
}

/* The encrypted static and timestamp of an initiation. */
static int
initiation_payload(const struct wg_local *l, struct wg_peer_noise *p,
    uint8_t *out)
{
	uint8_t	 k[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	int	 rc = -1;

	if (mix_dh(p->ck, k, p->e_priv, p->remote_static) == -1)
		goto done;
	seal0(out + INI_STATIC, k, l->public_key, WG_KEY_LEN, p->hash);
	mix_hash(p->hash, out + INI_STATIC, STATIC_ENC_LEN);
	mix_key(p->ck, k, p->ss, WG_KEY_LEN);
	if (p->fixed_ts) {
		memcpy(ts, p->fixed_tai64n, sizeof(ts));
		p->fixed_ts = false;
	} else
		tai64n_now(ts);
	seal0(out + INI_TIMESTAMP, k, ts, sizeof(ts), p->hash);
	mix_hash(p->hash, out + INI_TIMESTAMP, TS_ENC_LEN);
	rc = 0;
 done:
	sodium_memzero(k, sizeof(k));
	return (rc);
}

int
wg_noise_initiation_create(const struct wg_local *l, struct wg_peer_noise *p,
    uint32_t local_index, uint64_t now, uint8_t out[WG_INITIATION_LEN])
{
	wg_peer_noise_clear_handshake(p);
	if (!l->has_key || !p->ss_ok) {
		errno = EBADMSG;
		return (-1);
	}
	initial_ck_h(p->ck, p->hash);
	memcpy(p->hash, p->init_hash, WG_HASH_LEN);
	new_ephemeral(p);

	put_header(out, WG_MSG_INITIATION);
	put_le32(out + WG_OFF_SENDER, local_index);
	memcpy(out + INI_EPHEMERAL, p->e_pub, WG_KEY_LEN);
	mix_hash(p->hash, p->e_pub, WG_KEY_LEN);
	mix_key(p->ck, NULL, p->e_pub, WG_KEY_LEN);
	if (initiation_payload(l, p, out) == -1) {
		wg_peer_noise_clear_handshake(p);
		return (-1);
	}
	add_macs(p, out, WG_INITIATION_LEN, now);
	p->local_index = local_index;
	p->state = WG_HS_INITIATION_SENT;
	return (0);
}

void
wg_noise_initiation_wipe(struct wg_initiation *ini)
{
	sodium_memzero(ini, sizeof(*ini));
}

int
wg_noise_initiation_open(const struct wg_local *l, const uint8_t *msg,
    size_t len, struct wg_initiation *ini)
{
	uint8_t	 k[WG_KEY_LEN];
	int	 rc = -1;

	sodium_memzero(ini, sizeof(*ini));
	if (wg_noise_msg_type(msg, len) != WG_MSG_INITIATION || !l->has_key) {
		errno = EINVAL;
		return (-1);
	}
	initial_ck_h(ini->ck, ini->hash);
	memcpy(ini->hash, l->resp_hash, WG_HASH_LEN);
	memcpy(ini->remote_e, msg + INI_EPHEMERAL, WG_KEY_LEN);
	mix_hash(ini->hash, ini->remote_e, WG_KEY_LEN);
	mix_key(ini->ck, NULL, ini->remote_e, WG_KEY_LEN);
	if (mix_dh(ini->ck, k, l->private_key, ini->remote_e) == -1)
		goto done;
	if (open0(ini->remote_static, k, msg + INI_STATIC, STATIC_ENC_LEN,
	    ini->hash) == -1)
		goto done;
	mix_hash(ini->hash, msg + INI_STATIC, STATIC_ENC_LEN);
	memcpy(ini->enc_timestamp, msg + INI_TIMESTAMP, TS_ENC_LEN);
	ini->sender_index = wg_noise_get_u32(msg, WG_OFF_SENDER);
	rc = 0;
 done:
	sodium_memzero(k, sizeof(k));
	if (rc == -1)
		wg_noise_initiation_wipe(ini);
	return (rc);
}

/* Decrypt the timestamp into ts, advancing ini's ck and hash. */
static int
initiation_timestamp(struct wg_peer_noise *p, struct wg_initiation *ini,
    uint8_t ts[WG_TAI64N_LEN])
{
	uint8_t	 k[WG_KEY_LEN];
	int	 rc;

	mix_key(ini->ck, k, p->ss, WG_KEY_LEN);
	rc = open0(ts, k, ini->enc_timestamp, TS_ENC_LEN, ini->hash);
	if (rc == 0)
		mix_hash(ini->hash, ini->enc_timestamp, TS_ENC_LEN);
	sodium_memzero(k, sizeof(k));
	return (rc);
}

/* Replay and flood limits; errno set when refused. */
static int
initiation_allowed(const struct wg_peer_noise *p,
    const uint8_t ts[WG_TAI64N_LEN], uint64_t now)
{
	if (memcmp(ts, p->last_timestamp, WG_TAI64N_LEN) <= 0) {
		errno = EALREADY;
		return (-1);
	}
	if (p->has_last_initiation &&
	    age(now, p->last_initiation) <= WG_INITIATION_MIN_GAP) {
		errno = EBUSY;
		return (-1);
	}
	return (0);
}

int
wg_noise_initiation_accept(const struct wg_local *l, struct wg_peer_noise *p,
    struct wg_initiation *ini, uint64_t now)
{
	uint8_t	 ts[WG_TAI64N_LEN];
	int	 rc = -1;

	if (sodium_memcmp(ini->remote_static, p->remote_static,
	    WG_KEY_LEN) != 0) {
		errno = EINVAL;
		goto done;
	}
	if (!p->ss_ok) {
		errno = EBADMSG;
		goto done;
	}
	if (initiation_timestamp(p, ini, ts) == -1 ||
	    initiation_allowed(p, ts, now) == -1)
		goto done;
	wg_peer_noise_clear_handshake(p);
	memcpy(p->ck, ini->ck, WG_HASH_LEN);
	memcpy(p->hash, ini->hash, WG_HASH_LEN);
	memcpy(p->remote_e, ini->remote_e, WG_KEY_LEN);
	p->remote_index = ini->sender_index;
	memcpy(p->last_timestamp, ts, WG_TAI64N_LEN);
	p->last_initiation = now;
	p->has_last_initiation = true;
	p->state = WG_HS_INITIATION_CONSUMED;
	rc = 0;
 done:
	wg_noise_initiation_wipe(ini);
	return (rc);
}

/*
 * The part of the response both sides compute once the responder's
 * ephemeral "re" is known: on the responder e_priv is its own and the two
 * DHs are with the initiator's ephemeral and static; on the initiator they
 * are DH(e_i, re) and DH(s_i, re).  k receives the key for "empty".
 */
static int
response_mix(uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
    const uint8_t re[WG_KEY_LEN], const uint8_t *priv1, const uint8_t *pub1,
    const uint8_t *priv2, const uint8_t *pub2, const uint8_t psk[WG_KEY_LEN],
    uint8_t k[WG_KEY_LEN])
{
	uint8_t	 ck2[WG_HASH_LEN], t[WG_HASH_LEN];

	mix_hash(h, re, WG_KEY_LEN);
	mix_key(ck, NULL, re, WG_KEY_LEN);
	if (mix_dh(ck, NULL, priv1, pub1) == -1 ||
	    mix_dh(ck, NULL, priv2, pub2) == -1)
		return (-1);
	wg_kdf(ck2, t, k, ck, psk, WG_KEY_LEN);
	memcpy(ck, ck2, WG_HASH_LEN);
	mix_hash(h, t, WG_HASH_LEN);
	sodium_memzero(ck2, sizeof(ck2));
	sodium_memzero(t, sizeof(t));
	return (0);
}

/* Transport keys from the final chaining key; wipes ck. */
static void
derive_keypair(struct wg_keypair *kp, uint8_t ck[WG_HASH_LEN],
    bool initiator, uint32_t local_index, uint32_t remote_index,
    uint64_t now)
{
	uint8_t	 t1[WG_KEY_LEN], t2[WG_KEY_LEN];

	sodium_memzero(kp, sizeof(*kp));
	wg_kdf(t1, t2, NULL, ck, NULL, 0);
	memcpy(kp->send_key, initiator ? t1 : t2, WG_KEY_LEN);
	memcpy(kp->recv_key, initiator ? t2 : t1, WG_KEY_LEN);
	kp->local_index = local_index;
	kp->remote_index = remote_index;
	kp->birth = now;
	kp->initiator = initiator;
	atomic_init(&kp->send_counter, 0);
	atomic_flag_clear(&kp->replay_lock);
	wg_replay_init(&kp->replay);
	atomic_init(&kp->valid, true);
	sodium_memzero(t1, sizeof(t1));
	sodium_memzero(t2, sizeof(t2));
	sodium_memzero(ck, WG_HASH_LEN);
}

int
wg_noise_response_create(const struct wg_local *l, struct wg_peer_noise *p,
    uint32_t local_index, uint64_t now, uint8_t out[WG_RESPONSE_LEN],
    struct wg_keypair *kp)
{
	uint8_t	 k[WG_KEY_LEN];
	int	 rc = -1;

	if (p->state != WG_HS_INITIATION_CONSUMED) {
		errno = EINVAL;
		return (-1);
	}
	new_ephemeral(p);
	put_header(out, WG_MSG_RESPONSE);
	put_le32(out + WG_OFF_SENDER, local_index);
	put_le32(out + WG_OFF_RESP_RECEIVER, p->remote_index);
	memcpy(out + RESP_EPHEMERAL, p->e_pub, WG_KEY_LEN);
	if (response_mix(p->ck, p->hash, p->e_pub, p->e_priv, p->remote_e,
	    p->e_priv, p->remote_static, p->psk, k) == -1)
		goto done;
	seal0(out + RESP_EMPTY, k, NULL, 0, p->hash);
	mix_hash(p->hash, out + RESP_EMPTY, WG_AEAD_TAG_LEN);
	add_macs(p, out, WG_RESPONSE_LEN, now);
	derive_keypair(kp, p->ck, false, local_index, p->remote_index, now);
	rc = 0;
 done:
	sodium_memzero(k, sizeof(k));
	wg_peer_noise_clear_handshake(p);
	return (rc);
}

int
wg_noise_response_consume(const struct wg_local *l, struct wg_peer_noise *p,
    const uint8_t *msg, size_t len, uint64_t now, struct wg_keypair *kp)
{
	uint8_t	 ck[WG_HASH_LEN], h[WG_HASH_LEN], k[WG_KEY_LEN], empty[1];
	int	 rc = -1;

	if (wg_noise_msg_type(msg, len) != WG_MSG_RESPONSE ||
	    p->state != WG_HS_INITIATION_SENT ||
	    wg_noise_get_u32(msg, WG_OFF_RESP_RECEIVER) != p->local_index) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(ck, p->ck, sizeof(ck));
	memcpy(h, p->hash, sizeof(h));
	if (response_mix(ck, h, msg + RESP_EPHEMERAL, p->e_priv,
	    msg + RESP_EPHEMERAL, l->private_key, msg + RESP_EPHEMERAL,
	    p->psk, k) == -1 ||
	    open0(empty, k, msg + RESP_EMPTY, WG_AEAD_TAG_LEN, h) == -1)
		goto done;
	derive_keypair(kp, ck, true, p->local_index,
	    wg_noise_get_u32(msg, WG_OFF_SENDER), now);
	wg_peer_noise_clear_handshake(p);
	rc = 0;
 done:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(k, sizeof(k));
	return (rc);
}

static bool
is_handshake(const uint8_t *msg, size_t len)
{
	int	 t = wg_noise_msg_type(msg, len);

	return (t == WG_MSG_INITIATION || t == WG_MSG_RESPONSE);
}

bool
wg_noise_check_mac1(const struct wg_local *l, const uint8_t *msg,
    size_t len)
{
	uint8_t	 mac[WG_MAC_LEN];

	if (!is_handshake(msg, len) || !l->has_key)
		return (false);
	blake2s(mac, WG_MAC_LEN, l->mac1_key, WG_HASH_LEN, msg,
	    len - 2 * WG_MAC_LEN);
	return (sodium_memcmp(mac, msg + len - 2 * WG_MAC_LEN,
	    WG_MAC_LEN) == 0);
}

static void
make_cookie(const struct wg_local *l, const void *src, size_t srclen,
    uint8_t cookie[WG_COOKIE_LEN])
{
	blake2s(cookie, WG_COOKIE_LEN, l->cookie_secret, WG_HASH_LEN, src,
	    srclen);
}

bool
wg_noise_check_mac2(const struct wg_local *l, const uint8_t *msg,
    size_t len, const void *src, size_t srclen, uint64_t now)
{
	uint8_t	 cookie[WG_COOKIE_LEN], mac[WG_MAC_LEN];
	bool	 ok;

	if (!is_handshake(msg, len) || !l->has_secret ||
	    age(now, l->secret_birth) > WG_COOKIE_SECRET_MAX_AGE)
		return (false);
	make_cookie(l, src, srclen, cookie);
	blake2s(mac, WG_MAC_LEN, cookie, WG_COOKIE_LEN, msg,
	    len - WG_MAC_LEN);
	ok = sodium_memcmp(mac, msg + len - WG_MAC_LEN, WG_MAC_LEN) == 0;
	sodium_memzero(cookie, sizeof(cookie));
	return (ok);
}

int
wg_noise_cookie_reply_create(struct wg_local *l, const uint8_t *msg,
    size_t len, const void *src, size_t srclen, uint64_t now,
    uint8_t out[WG_COOKIE_REPLY_LEN])
{
	uint8_t	 cookie[WG_COOKIE_LEN];

	if (!is_handshake(msg, len) || !l->has_key) {
		errno = EINVAL;
		return (-1);
	}
	if (!l->has_secret ||
	    age(now, l->secret_birth) > WG_COOKIE_SECRET_MAX_AGE) {
		randombytes_buf(l->cookie_secret, WG_HASH_LEN);
		l->secret_birth = now;
		l->has_secret = true;
	}
	make_cookie(l, src, srclen, cookie);
	put_header(out, WG_MSG_COOKIE_REPLY);
	memcpy(out + WG_OFF_RECEIVER, msg + WG_OFF_SENDER, 4);
	randombytes_buf(out + COOKIE_NONCE, WG_COOKIE_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + COOKIE_ENC, NULL,
	    cookie, WG_COOKIE_LEN, msg + len - 2 * WG_MAC_LEN, WG_MAC_LEN,
	    NULL, out + COOKIE_NONCE, l->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
	return (0);
}

int
wg_noise_cookie_reply_consume(struct wg_peer_noise *p, const uint8_t *msg,
    size_t len, uint64_t now)
{
	uint8_t	 cookie[WG_COOKIE_LEN];

	if (wg_noise_msg_type(msg, len) != WG_MSG_COOKIE_REPLY) {
		errno = EINVAL;
		return (-1);
	}
	if (!p->has_last_mac1) {
		errno = ESTALE;
		return (-1);
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL,
	    msg + COOKIE_ENC, WG_COOKIE_LEN + WG_AEAD_TAG_LEN, p->last_mac1,
	    WG_MAC_LEN, msg + COOKIE_NONCE, p->cookie_key) != 0) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(p->cookie, cookie, WG_COOKIE_LEN);
	p->cookie_birth = now;
	p->has_cookie = true;
	sodium_memzero(cookie, sizeof(cookie));
	return (0);
}

size_t
wg_noise_data_len(size_t len, size_t mtu)
{
	size_t	 padded;

	padded = (len + WG_PADDING_MULTIPLE - 1) &
	    ~(size_t)(WG_PADDING_MULTIPLE - 1);
	if (mtu != 0 && padded > mtu)
		padded = len > mtu ? len : mtu;
	return (WG_DATA_HDR_LEN + padded + WG_AEAD_TAG_LEN);
}

static bool
keypair_usable(struct wg_keypair *kp, uint64_t now)
{
	if (!atomic_load(&kp->valid) ||
	    age(now, kp->birth) >= WG_REJECT_AFTER_TIME) {
		errno = EKEYEXPIRED;
		return (false);
	}
	return (true);
}

/* The next send counter, or -1 (EOVERFLOW) once it is exhausted. */
static int
next_counter(struct wg_keypair *kp, uint64_t *ctr)
{
	*ctr = atomic_fetch_add(&kp->send_counter, 1);
	if (*ctr >= WG_REJECT_AFTER_MESSAGES) {
		/* Keep it pinned so concurrent adds can never wrap it. */
		atomic_store(&kp->send_counter, WG_REJECT_AFTER_MESSAGES);
		errno = EOVERFLOW;
		return (-1);
	}
	return (0);
}

int
wg_noise_encrypt(struct wg_keypair *kp, uint64_t now, const uint8_t *pt,
    size_t len, size_t mtu, uint8_t *out, size_t outsize, size_t *outlen)
{
	uint8_t		 n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t		*body = out + WG_DATA_HDR_LEN;
	size_t		 need, padded;
	uint64_t	 ctr;

	if (!keypair_usable(kp, now))
		return (-1);
	need = wg_noise_data_len(len, mtu);
	if (outsize < need) {
		errno = ENOBUFS;
		return (-1);
	}
	if (next_counter(kp, &ctr) == -1)
		return (-1);
	padded = need - WG_DATA_MIN_LEN;
	if (len > 0 && pt != body)
		memmove(body, pt, len);
	memset(body + len, 0, padded - len);
	put_header(out, WG_MSG_DATA);
	put_le32(out + WG_OFF_RECEIVER, kp->remote_index);
	put_le64(out + WG_OFF_COUNTER, ctr);
	aead_nonce(n, ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, body, padded,
	    NULL, 0, NULL, n, kp->send_key);
	*outlen = need;
	return (0);
}

static bool
replay_check(struct wg_keypair *kp, uint64_t ctr, bool commit)
{
	bool	 ok;

	while (atomic_flag_test_and_set_explicit(&kp->replay_lock,
	    memory_order_acquire))
		;
	if (commit)
		ok = wg_replay_check(&kp->replay, ctr,
		    WG_REJECT_AFTER_MESSAGES);
	else
		ok = wg_replay_peek(&kp->replay, ctr,
		    WG_REJECT_AFTER_MESSAGES);
	atomic_flag_clear_explicit(&kp->replay_lock, memory_order_release);
	return (ok);
}

int
wg_noise_decrypt(struct wg_keypair *kp, uint64_t now, const uint8_t *msg,
    size_t len, uint8_t *pt, size_t *ptlen)
{
	uint8_t			 n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long	 plen;
	uint64_t		 ctr;

	if (wg_noise_msg_type(msg, len) != WG_MSG_DATA ||
	    wg_noise_get_u32(msg, WG_OFF_RECEIVER) != kp->local_index) {
		errno = EINVAL;
		return (-1);
	}
	if (!keypair_usable(kp, now))
		return (-1);
	ctr = get_le64(msg + WG_OFF_COUNTER);
	/* Cheap pre-filter; the committing check follows authentication. */
	if (!replay_check(kp, ctr, false)) {
		errno = EALREADY;
		return (-1);
	}
	aead_nonce(n, ctr);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &plen, NULL,
	    msg + WG_DATA_HDR_LEN, len - WG_DATA_HDR_LEN, NULL, 0, n,
	    kp->recv_key) != 0) {
		errno = EBADMSG;
		return (-1);
	}
	if (!replay_check(kp, ctr, true)) {
		errno = EALREADY;
		return (-1);
	}
	*ptlen = plen;
	return (0);
}

bool
wg_keypair_should_rekey_send(struct wg_keypair *kp, uint64_t now)
{
	return (atomic_load(&kp->send_counter) > WG_REKEY_AFTER_MESSAGES ||
	    (kp->initiator && age(now, kp->birth) > WG_REKEY_AFTER_TIME));
}

bool
wg_keypair_should_rekey_recv(const struct wg_keypair *kp, uint64_t now)
{
	return (kp->initiator && age(now, kp->birth) > WG_REJECT_AFTER_TIME -
	    WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT);
}

void
wg_keypair_wipe(struct wg_keypair *kp)
{
	atomic_store(&kp->valid, false);
	sodium_memzero(kp, sizeof(*kp));
}
