/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2s for the control protocol, written
 * from the Noise Protocol Framework (revision 34): a SymmetricState (ck,
 * h, k, n) that runs the IK pattern, then two CipherStates from Split().
 * Names follow the spec: e/s ephemeral/static, re/rs the remote ones.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/csess.h"
#include "lib/wg/blake2s.h"

static const char	 PROTOCOL_NAME[] = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
static const char	 PROLOGUE[] = "lanrage control v1";

#define NONCE_LEN	crypto_aead_chacha20poly1305_IETF_NPUBBYTES
#define TAI64_BASE	0x400000000000000aULL

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Noise ChaChaPoly nonce: 32 zero bits, then n little-endian. */
static void
aead_nonce(uint8_t out[NONCE_LEN], uint64_t n)
{
	int	 i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(n >> (8 * i));
}

static int
fail(struct csess *cs, int err)
{
	csess_wipe(cs);
	errno = err;
	return (-1);
}

/* h = HASH(h || data) */
static void
mix_hash(struct csess *cs, const void *data, size_t len)
{
	struct blake2s_state	 st;

	blake2s_init(&st, CSESS_HASH_LEN, NULL, 0);
	blake2s_update(&st, cs->h, CSESS_HASH_LEN);
	blake2s_update(&st, data, len);
	blake2s_final(&st, cs->h);
}

/* ck, k = HKDF(ck, ikm, 2); the handshake nonce restarts at 0. */
static void
mix_key(struct csess *cs, const uint8_t *ikm, size_t len)
{
	uint8_t	 ck[CSESS_HASH_LEN];

	wg_kdf(ck, cs->k, NULL, cs->ck, ikm, len);
	memcpy(cs->ck, ck, sizeof(ck));
	sodium_memzero(ck, sizeof(ck));
	cs->n = 0;
}

/* MixKey(DH(priv, pub)); an all-zero (small order) result is refused. */
static int
mix_dh(struct csess *cs, const uint8_t priv[CSESS_KEY_LEN],
    const uint8_t pub[CSESS_KEY_LEN])
{
	uint8_t	 shared[CSESS_KEY_LEN];
	int	 rc = -1;

	if (crypto_scalarmult_curve25519(shared, priv, pub) != 0 ||
	    sodium_is_zero(shared, sizeof(shared)))
		goto out;
	mix_key(cs, shared, sizeof(shared));
	rc = 0;
out:
	sodium_memzero(shared, sizeof(shared));
	return (rc);
}

/*
 * EncryptAndHash with the handshake key; p[len] is encrypted in place and
 * len + 16 bytes are written.
 */
static void
encrypt_and_hash(struct csess *cs, uint8_t *p, size_t len)
{
	uint8_t	 n[NONCE_LEN];

	aead_nonce(n, cs->n++);
	crypto_aead_chacha20poly1305_ietf_encrypt(p, NULL, p, len, cs->h,
	    CSESS_HASH_LEN, NULL, n, cs->k);
	mix_hash(cs, p, len + CSESS_TAG_LEN);
}

/* DecryptAndHash: ct[len] (tag included) into out[len - 16]. */
static int
decrypt_and_hash(struct csess *cs, uint8_t *out, const uint8_t *ct,
    size_t len)
{
	uint8_t	 n[NONCE_LEN];

	aead_nonce(n, cs->n++);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct,
	    len, cs->h, CSESS_HASH_LEN, n, cs->k) != 0)
		return (-1);
	mix_hash(cs, ct, len);
	return (0);
}

/* InitializeSymmetric(name), MixHash(prologue), MixHash(responder s). */
static void
symmetric_init(struct csess *cs, const uint8_t resp_pub[CSESS_KEY_LEN])
{
	blake2s(cs->h, CSESS_HASH_LEN, NULL, 0, PROTOCOL_NAME,
	    sizeof(PROTOCOL_NAME) - 1);
	memcpy(cs->ck, cs->h, CSESS_HASH_LEN);
	mix_hash(cs, PROLOGUE, sizeof(PROLOGUE) - 1);
	mix_hash(cs, resp_pub, CSESS_KEY_LEN);
}

static int
set_static(struct csess *cs, const uint8_t s_priv[CSESS_KEY_LEN])
{
	memset(cs, 0, sizeof(*cs));
	memcpy(cs->s_priv, s_priv, CSESS_KEY_LEN);
	if (crypto_scalarmult_curve25519_base(cs->s_pub, s_priv) != 0) {
		csess_wipe(cs);
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

int
csess_init_initiator(struct csess *cs, const uint8_t s_priv[CSESS_KEY_LEN],
    const uint8_t server_pub[CSESS_KEY_LEN])
{
	if (set_static(cs, s_priv) == -1)
		return (-1);
	memcpy(cs->rs, server_pub, CSESS_KEY_LEN);
	symmetric_init(cs, server_pub);
	cs->state = CSESS_INI_START;
	return (0);
}

int
csess_init_responder(struct csess *cs, const uint8_t s_priv[CSESS_KEY_LEN])
{
	if (set_static(cs, s_priv) == -1)
		return (-1);
	symmetric_init(cs, cs->s_pub);
	cs->state = CSESS_RESP_START;
	return (0);
}

void
csess_set_ephemeral(struct csess *cs, const uint8_t e_priv[CSESS_KEY_LEN])
{
	memcpy(cs->e_priv, e_priv, CSESS_KEY_LEN);
	cs->fixed_e = true;
}

void
csess_wipe(struct csess *cs)
{
	sodium_memzero(cs, sizeof(*cs));
	cs->state = CSESS_DEAD;
}

/* GENERATE_KEYPAIR() then the "e" token of a writer: MixHash(e.pub). */
static int
write_e(struct csess *cs, uint8_t *out)
{
	if (!cs->fixed_e)
		randombytes_buf(cs->e_priv, CSESS_KEY_LEN);
	cs->fixed_e = false;
	if (crypto_scalarmult_curve25519_base(cs->e_pub, cs->e_priv) != 0)
		return (-1);
	memcpy(out, cs->e_pub, CSESS_KEY_LEN);
	mix_hash(cs, cs->e_pub, CSESS_KEY_LEN);
	return (0);
}

static void
read_e(struct csess *cs, const uint8_t *in)
{
	memcpy(cs->re, in, CSESS_KEY_LEN);
	mix_hash(cs, cs->re, CSESS_KEY_LEN);
}

/* Append the u16 length header and reserve room for a body of len. */
static uint8_t *
frame_start(struct buf *out, size_t len)
{
	uint8_t	*p;

	if (len > CSESS_BODY_MAX) {
		errno = EMSGSIZE;
		return (NULL);
	}
	if (buf_reserve(out, CSESS_HDR_LEN + len) == -1)
		return (NULL);
	p = out->data + out->len;
	p[0] = (uint8_t)(len >> 8);
	p[1] = (uint8_t)len;
	return (p + CSESS_HDR_LEN);
}

static void
frame_end(struct buf *out, size_t len)
{
	out->len += CSESS_HDR_LEN + len;
}

/* Room in out for n more bytes, without failing the session. */
static uint8_t *
reserve(struct buf *out, size_t n)
{
	if (buf_reserve(out, n) == -1)
		return (NULL);
	return (out->data + out->len);
}

void
csess_tai64n_now(uint8_t ts[CSESS_TAI64N_LEN])
{
	struct timespec	 now;
	uint64_t	 sec;

	clock_gettime(CLOCK_REALTIME, &now);
	sec = TAI64_BASE + (uint64_t)now.tv_sec;
	put_be32(ts, (uint32_t)(sec >> 32));
	put_be32(ts + 4, (uint32_t)sec);
	put_be32(ts + 8, (uint32_t)now.tv_nsec);
}

int
csess_write_msg1(struct csess *cs, struct buf *out,
    const uint8_t ts[CSESS_TAI64N_LEN], const void *payload, size_t len)
{
	uint8_t	*p, *pt;
	size_t	 blen;

	if (cs->state != CSESS_INI_START || (payload == NULL && len > 0)) {
		errno = EINVAL;
		return (-1);
	}
	if (len > CSESS_MSG1_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	blen = CSESS_MSG1_OVERHEAD + len;
	if ((p = frame_start(out, blen)) == NULL)
		return (-1);
	if (write_e(cs, p) == -1 || mix_dh(cs, cs->e_priv, cs->rs) == -1)
		return (fail(cs, EINVAL));
	memcpy(p + 32, cs->s_pub, CSESS_KEY_LEN);
	encrypt_and_hash(cs, p + 32, CSESS_KEY_LEN);
	if (mix_dh(cs, cs->s_priv, cs->rs) == -1)
		return (fail(cs, EINVAL));
	pt = p + 32 + CSESS_KEY_LEN + CSESS_TAG_LEN;
	if (ts != NULL)
		memcpy(pt, ts, CSESS_TAI64N_LEN);
	else
		csess_tai64n_now(pt);
	if (len > 0)
		memcpy(pt + CSESS_TAI64N_LEN, payload, len);
	encrypt_and_hash(cs, pt, CSESS_TAI64N_LEN + len);
	frame_end(out, blen);
	cs->state = CSESS_INI_SENT;
	return (0);
}

/* Message 1 up to its payload: e, es, s, ss.  Fills cs->rs. */
static int
read_msg1_keys(struct csess *cs, const uint8_t *msg)
{
	read_e(cs, msg);
	if (mix_dh(cs, cs->s_priv, cs->re) == -1)
		return (-1);
	if (decrypt_and_hash(cs, cs->rs, msg + 32,
	    CSESS_KEY_LEN + CSESS_TAG_LEN) == -1)
		return (-1);
	return (mix_dh(cs, cs->s_priv, cs->rs));
}

int
csess_read_msg1(struct csess *cs, const uint8_t *msg, size_t len,
    uint8_t rs[CSESS_KEY_LEN], uint8_t ts[CSESS_TAI64N_LEN],
    struct buf *payload)
{
	const uint8_t	*ct;
	uint8_t		*pt;
	size_t		 ctlen;

	if (cs->state != CSESS_RESP_START) {
		errno = EINVAL;
		return (-1);
	}
	if (len < CSESS_MSG1_OVERHEAD || len > CSESS_BODY_MAX)
		return (fail(cs, EBADMSG));
	ct = msg + CSESS_MSG1_OVERHEAD - CSESS_TAI64N_LEN - CSESS_TAG_LEN;
	ctlen = len - (CSESS_MSG1_OVERHEAD - CSESS_TAI64N_LEN - CSESS_TAG_LEN);
	if ((pt = reserve(payload, ctlen - CSESS_TAG_LEN)) == NULL)
		return (-1);
	if (read_msg1_keys(cs, msg) == -1 ||
	    decrypt_and_hash(cs, pt, ct, ctlen) == -1)
		return (fail(cs, EBADMSG));
	if (rs != NULL)
		memcpy(rs, cs->rs, CSESS_KEY_LEN);
	if (ts != NULL)
		memcpy(ts, pt, CSESS_TAI64N_LEN);
	ctlen -= CSESS_TAG_LEN + CSESS_TAI64N_LEN;
	memmove(pt, pt + CSESS_TAI64N_LEN, ctlen);
	sodium_memzero(pt + ctlen, CSESS_TAI64N_LEN);
	payload->len += ctlen;
	cs->state = CSESS_RESP_READ;
	return (0);
}

/* Split(): the initiator sends with the first key, receives with the 2nd. */
static void
split(struct csess *cs, bool initiator)
{
	uint8_t	 k1[CSESS_KEY_LEN], k2[CSESS_KEY_LEN], empty[1] = { 0 };

	wg_kdf(k1, k2, NULL, cs->ck, empty, 0);
	memcpy(cs->send.k, initiator ? k1 : k2, CSESS_KEY_LEN);
	memcpy(cs->recv.k, initiator ? k2 : k1, CSESS_KEY_LEN);
	cs->send.n = cs->recv.n = cs->n = 0;
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	sodium_memzero(cs->ck, sizeof(cs->ck));
	sodium_memzero(cs->k, sizeof(cs->k));
	sodium_memzero(cs->e_priv, sizeof(cs->e_priv));
	sodium_memzero(cs->s_priv, sizeof(cs->s_priv));
	cs->state = CSESS_ESTABLISHED;
}

int
csess_write_msg2(struct csess *cs, struct buf *out, const void *payload,
    size_t len)
{
	uint8_t	*p;
	size_t	 blen;

	if (cs->state != CSESS_RESP_READ || (payload == NULL && len > 0)) {
		errno = EINVAL;
		return (-1);
	}
	if (len > CSESS_MSG2_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	blen = CSESS_MSG2_OVERHEAD + len;
	if ((p = frame_start(out, blen)) == NULL)
		return (-1);
	if (write_e(cs, p) == -1 || mix_dh(cs, cs->e_priv, cs->re) == -1 ||
	    mix_dh(cs, cs->e_priv, cs->rs) == -1)
		return (fail(cs, EINVAL));
	if (len > 0)
		memcpy(p + CSESS_KEY_LEN, payload, len);
	encrypt_and_hash(cs, p + CSESS_KEY_LEN, len);
	frame_end(out, blen);
	split(cs, false);
	return (0);
}

int
csess_read_msg2(struct csess *cs, const uint8_t *msg, size_t len,
    struct buf *payload)
{
	uint8_t	*pt;
	size_t	 ctlen;

	if (cs->state != CSESS_INI_SENT) {
		errno = EINVAL;
		return (-1);
	}
	if (len < CSESS_MSG2_OVERHEAD || len > CSESS_BODY_MAX)
		return (fail(cs, EBADMSG));
	ctlen = len - CSESS_KEY_LEN;
	if ((pt = reserve(payload, ctlen - CSESS_TAG_LEN)) == NULL)
		return (-1);
	read_e(cs, msg);
	if (mix_dh(cs, cs->e_priv, cs->re) == -1 ||
	    mix_dh(cs, cs->s_priv, cs->re) == -1 ||
	    decrypt_and_hash(cs, pt, msg + CSESS_KEY_LEN, ctlen) == -1)
		return (fail(cs, EBADMSG));
	payload->len += ctlen - CSESS_TAG_LEN;
	split(cs, true);
	return (0);
}

int
csess_seal(struct csess *cs, struct buf *out, const void *pt, size_t len)
{
	uint8_t	 n[NONCE_LEN];
	uint8_t	*p;

	if (cs->state != CSESS_ESTABLISHED || (pt == NULL && len > 0)) {
		errno = EINVAL;
		return (-1);
	}
	if (len > CSESS_PLAINTEXT_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (cs->send.n >= CSESS_MAX_MESSAGES)
		return (fail(cs, EOVERFLOW));
	if ((p = frame_start(out, len + CSESS_TAG_LEN)) == NULL)
		return (-1);
	aead_nonce(n, cs->send.n++);
	crypto_aead_chacha20poly1305_ietf_encrypt(p, NULL, pt, len, NULL, 0,
	    NULL, n, cs->send.k);
	frame_end(out, len + CSESS_TAG_LEN);
	return (0);
}

int
csess_open(struct csess *cs, const uint8_t *msg, size_t len, struct buf *pt)
{
	uint8_t	 n[NONCE_LEN];
	uint8_t	*p;

	if (cs->state != CSESS_ESTABLISHED) {
		errno = EINVAL;
		return (-1);
	}
	if (len < CSESS_TAG_LEN || len > CSESS_BODY_MAX)
		return (fail(cs, EBADMSG));
	if (cs->recv.n >= CSESS_MAX_MESSAGES)
		return (fail(cs, EOVERFLOW));
	if ((p = reserve(pt, len - CSESS_TAG_LEN)) == NULL)
		return (-1);
	aead_nonce(n, cs->recv.n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(p, NULL, NULL, msg, len,
	    NULL, 0, n, cs->recv.k) != 0)
		return (fail(cs, EBADMSG));
	cs->recv.n++;
	pt->len += len - CSESS_TAG_LEN;
	return (0);
}

bool
csess_established(const struct csess *cs)
{
	return (cs->state == CSESS_ESTABLISHED);
}

const uint8_t *
csess_remote_static(const struct csess *cs)
{
	switch (cs->state) {
	case CSESS_INI_START:
	case CSESS_INI_SENT:
	case CSESS_RESP_READ:
	case CSESS_ESTABLISHED:
		return (cs->rs);
	default:
		return (NULL);
	}
}

const uint8_t *
csess_handshake_hash(const struct csess *cs)
{
	return (cs->state == CSESS_ESTABLISHED ? cs->h : NULL);
}

int
csess_reader_init(struct csess_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	if (max < CSESS_BODY_MIN || max > CSESS_BODY_MAX) {
		errno = EINVAL;
		return (-1);
	}
	r->max = max;
	return (buf_init(&r->b, 0, CSESS_HDR_LEN + max));
}

void
csess_reader_free(struct csess_reader *r)
{
	if (r->b.data != NULL)
		sodium_memzero(r->b.data, r->b.cap);
	buf_free(&r->b);
	r->err = EINVAL;
}

/* Move up to need - have bytes from the input into the reader. */
static int
take(struct csess_reader *r, const uint8_t **in, size_t *inlen, size_t need)
{
	size_t	 n;

	n = need - r->b.len;
	if (n > *inlen)
		n = *inlen;
	if (buf_put(&r->b, *in, n) == -1)
		return (-1);
	*in += n;
	*inlen -= n;
	return (0);
}

static int
reader_fail(struct csess_reader *r, int err)
{
	r->err = err;
	errno = err;
	return (-1);
}

int
csess_reader_next(struct csess_reader *r, const uint8_t **in,
    size_t *inlen, const uint8_t **body, size_t *len)
{
	if (r->err != 0)
		return (reader_fail(r, r->err));
	if (r->want != 0 && r->b.len == CSESS_HDR_LEN + r->want) {
		/* The previous frame was returned: start the next one. */
		r->b.len = 0;
		r->want = 0;
	}
	if (r->want == 0) {
		if (take(r, in, inlen, CSESS_HDR_LEN) == -1)
			return (reader_fail(r, errno));
		if (r->b.len < CSESS_HDR_LEN)
			return (0);
		r->want = (size_t)r->b.data[0] << 8 | r->b.data[1];
		if (r->want > r->max)
			return (reader_fail(r, EMSGSIZE));
		if (r->want < CSESS_BODY_MIN)
			return (reader_fail(r, EBADMSG));
	}
	if (take(r, in, inlen, CSESS_HDR_LEN + r->want) == -1)
		return (reader_fail(r, errno));
	if (r->b.len < CSESS_HDR_LEN + r->want)
		return (0);
	*body = r->b.data + CSESS_HDR_LEN;
	*len = r->want;
	return (1);
}
