/*
 * Relay codec: frames, the admission token (Ed25519) and the boxes of
 * BIND and BOUND (crypto_box).  Decoders fill a local struct and copy
 * it out only on success; encoders build a frame whole and append it
 * at once.  Layouts and rules: proto/relay.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "relay.h"
#include "../lib/wire.h"

#define RELAY_PADLEN		8	/* PING: after the txid */
#define RELAY_PONG_PADLEN	7	/* PONG: after the load */
#define RELAY_BIND_PLAIN	8	/* time u64 */
#define RELAY_BOUND_PLAIN	6	/* lifetime u16, nbound u32 */

_Static_assert(RELAY_SIGLEN == crypto_sign_BYTES, "signature size");
_Static_assert(RELAY_SIGNKEYLEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(RELAY_SIGNSECLEN == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(RELAY_NONCELEN == crypto_box_NONCEBYTES, "nonce size");
_Static_assert(RELAY_MACLEN == crypto_box_MACBYTES, "MAC size");
_Static_assert(RELAY_BOUNDLEN < RELAY_BINDLEN, "BOUND amplifies");
_Static_assert(RELAY_TOKENLEN == 153, "token size");

bool
relay_is_relay(const void *p, size_t len)
{
	const uint8_t	*q = p;

	return (len > 0 && (q[0] & 0xf0) == 0xe0);
}

void
relay_tag(uint8_t tag[RELAY_TAGLEN], const uint8_t key[RELAY_KEYLEN])
{
	memcpy(tag, key, RELAY_TAGLEN);
}

/* Token */

static bool
token_fields_valid(const struct relay_token *t)
{
	return (t->version == RELAY_TOKEN_VERSION &&
	    !sodium_is_zero(t->relay_key, RELAY_KEYLEN) &&
	    !sodium_is_zero(t->party, RELAY_IDLEN) &&
	    !sodium_is_zero(t->node_key, RELAY_KEYLEN));
}

/* The signed part: version .. expiry. */
static void
token_put_signed(uint8_t out[RELAY_TOKEN_SIGNED], const struct relay_token *t)
{
	size_t	 i;

	out[0] = t->version;
	memcpy(out + 1, t->relay_key, RELAY_KEYLEN);
	memcpy(out + 1 + RELAY_KEYLEN, t->party, RELAY_IDLEN);
	memcpy(out + 1 + RELAY_KEYLEN + RELAY_IDLEN, t->node_key,
	    RELAY_KEYLEN);
	for (i = 0; i < 8; i++)
		out[RELAY_TOKEN_SIGNED - 8 + i] =
		    (uint8_t)(t->expiry >> (56 - 8 * i));
}

int
relay_token_enc(uint8_t out[RELAY_TOKENLEN], const struct relay_token *t)
{
	if (!token_fields_valid(t))
		return (wire_fail(EINVAL));
	token_put_signed(out, t);
	memcpy(out + RELAY_TOKEN_SIGNED, t->sig, RELAY_SIGLEN);
	return (0);
}

int
relay_token_dec(const uint8_t in[RELAY_TOKENLEN], struct relay_token *out)
{
	struct relay_token	 t;
	struct bufr		 r;

	memset(&t, 0, sizeof(t));
	bufr_init(&r, in, RELAY_TOKENLEN);
	if (bufr_get_u8(&r, &t.version) == -1 ||
	    bufr_get(&r, t.relay_key, RELAY_KEYLEN) == -1 ||
	    bufr_get(&r, t.party, RELAY_IDLEN) == -1 ||
	    bufr_get(&r, t.node_key, RELAY_KEYLEN) == -1 ||
	    bufr_get_u64(&r, &t.expiry) == -1 ||
	    bufr_get(&r, t.sig, RELAY_SIGLEN) == -1 ||
	    !token_fields_valid(&t))
		return (wire_fail(EBADMSG));
	*out = t;
	return (0);
}

/* What is signed: the context, then the token's first 89 bytes. */
static void
token_message(uint8_t m[RELAY_TOKEN_CONTEXTLEN + RELAY_TOKEN_SIGNED],
    const struct relay_token *t)
{
	memcpy(m, RELAY_TOKEN_CONTEXT, RELAY_TOKEN_CONTEXTLEN);
	token_put_signed(m + RELAY_TOKEN_CONTEXTLEN, t);
}

int
relay_token_sign(struct relay_token *t, const uint8_t sk[RELAY_SIGNSECLEN])
{
	uint8_t	 m[RELAY_TOKEN_CONTEXTLEN + RELAY_TOKEN_SIGNED];

	t->version = RELAY_TOKEN_VERSION;
	if (!token_fields_valid(t))
		return (wire_fail(EINVAL));
	token_message(m, t);
	crypto_sign_detached(t->sig, NULL, m, sizeof(m), sk);
	return (0);
}

int
relay_token_verify(const struct relay_token *t,
    const uint8_t pk[RELAY_SIGNKEYLEN], const uint8_t relay_key[RELAY_KEYLEN],
    uint64_t now)
{
	uint8_t	 m[RELAY_TOKEN_CONTEXTLEN + RELAY_TOKEN_SIGNED];

	if (!token_fields_valid(t))
		return (wire_fail(EBADMSG));
	token_message(m, t);
	if (crypto_sign_verify_detached(t->sig, m, sizeof(m), pk) != 0)
		return (wire_fail(EBADMSG));
	if (sodium_memcmp(t->relay_key, relay_key, RELAY_KEYLEN) != 0)
		return (wire_fail(EXDEV));
	if (t->expiry <= now)
		return (wire_fail(ESTALE));
	return (0);
}

/* Decoding */

static int
dec_bind(struct bufr *r, struct relay_msg *m)
{
	const uint8_t	*tok;

	if ((tok = bufr_ptr(r, RELAY_TOKENLEN)) == NULL ||
	    relay_token_dec(tok, &m->token) == -1 ||
	    bufr_get(r, m->nonce, RELAY_NONCELEN) == -1 ||
	    bufr_get(r, m->box, RELAY_MACLEN + RELAY_BIND_PLAIN) == -1)
		return (-1);
	return (0);
}

static int
dec_bound(struct bufr *r, struct relay_msg *m)
{
	if (bufr_get(r, m->nonce, RELAY_NONCELEN) == -1 ||
	    bufr_get(r, m->box, RELAY_MACLEN + RELAY_BOUND_PLAIN) == -1)
		return (-1);
	return (0);
}

static int
dec_fwd(struct bufr *r, struct relay_msg *m)
{
	size_t	 n;

	if (bufr_get(r, m->tag, RELAY_TAGLEN) == -1)
		return (-1);
	n = bufr_left(r);
	if (n == 0 || n > RELAY_MAX_PAYLOAD)
		return (-1);
	m->payload = bufr_ptr(r, n);
	m->payload_len = n;
	return (0);
}

static int
dec_zero(struct bufr *r, size_t n)
{
	const uint8_t	*pad;

	if ((pad = bufr_ptr(r, n)) == NULL || !sodium_is_zero(pad, n))
		return (-1);
	return (0);
}

static int
dec_ping(struct bufr *r, struct relay_msg *m)
{
	if (bufr_get(r, m->txid, RELAY_TXIDLEN) == -1)
		return (-1);
	return (dec_zero(r, RELAY_PADLEN));
}

static int
dec_pong(struct bufr *r, struct relay_msg *m)
{
	if (bufr_get(r, m->txid, RELAY_TXIDLEN) == -1 ||
	    bufr_get_u8(r, &m->load) == -1)
		return (-1);
	return (dec_zero(r, RELAY_PONG_PADLEN));
}

int
relay_decode(const void *p, size_t len, struct relay_msg *out)
{
	struct relay_msg	 m;
	struct bufr		 r;
	int			 rc;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u8(&r, &m.type) == -1)
		return (wire_fail(EBADMSG));
	switch (m.type) {
	case RELAY_BIND:
		rc = dec_bind(&r, &m);
		break;
	case RELAY_BOUND:
		rc = dec_bound(&r, &m);
		break;
	case RELAY_SEND:
	case RELAY_RECV:
		rc = dec_fwd(&r, &m);
		break;
	case RELAY_PING:
		rc = dec_ping(&r, &m);
		break;
	case RELAY_PONG:
		rc = dec_pong(&r, &m);
		break;
	default:
		rc = -1;
		break;
	}
	if (rc == -1 || bufr_end(&r) == -1)
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* Encoding */

static int
enc_fwd(struct buf *b, uint8_t type, const uint8_t tag[RELAY_TAGLEN],
    const void *payload, size_t len)
{
	size_t	 mark = b->len;

	if (len == 0 || len > RELAY_MAX_PAYLOAD)
		return (wire_fail(EINVAL));
	if (buf_put_u8(b, type) == -1 || buf_put(b, tag, RELAY_TAGLEN) == -1 ||
	    buf_put(b, payload, len) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
relay_enc_send(struct buf *b, const uint8_t tag[RELAY_TAGLEN],
    const void *payload, size_t len)
{
	return (enc_fwd(b, RELAY_SEND, tag, payload, len));
}

int
relay_enc_recv(struct buf *b, const uint8_t tag[RELAY_TAGLEN],
    const void *payload, size_t len)
{
	return (enc_fwd(b, RELAY_RECV, tag, payload, len));
}

int
relay_enc_ping(struct buf *b, const uint8_t txid[RELAY_TXIDLEN])
{
	size_t	 mark = b->len;

	if (buf_put_u8(b, RELAY_PING) == -1 ||
	    buf_put(b, txid, RELAY_TXIDLEN) == -1 ||
	    buf_put_zero(b, RELAY_PADLEN) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
relay_enc_pong(struct buf *b, const uint8_t txid[RELAY_TXIDLEN],
    uint8_t load)
{
	size_t	 mark = b->len;

	if (buf_put_u8(b, RELAY_PONG) == -1 ||
	    buf_put(b, txid, RELAY_TXIDLEN) == -1 ||
	    buf_put_u8(b, load) == -1 ||
	    buf_put_zero(b, RELAY_PONG_PADLEN) == -1)
		return (wire_undo(b, mark));
	return (0);
}

/* BIND: the token, then a box of the node's clock for the relay. */
int
relay_enc_bind_nonce(struct buf *b, const struct relay_token *t,
    const uint8_t node_priv[32], uint64_t time_ms,
    const uint8_t nonce[RELAY_NONCELEN])
{
	uint8_t		 frame[RELAY_BINDLEN], plain[RELAY_BIND_PLAIN];
	uint8_t		*box;
	size_t		 i;

	frame[0] = RELAY_BIND;
	if (relay_token_enc(frame + 1, t) == -1)
		return (-1);
	memcpy(frame + 1 + RELAY_TOKENLEN, nonce, RELAY_NONCELEN);
	for (i = 0; i < RELAY_BIND_PLAIN; i++)
		plain[i] = (uint8_t)(time_ms >> (56 - 8 * i));
	box = frame + 1 + RELAY_TOKENLEN + RELAY_NONCELEN;
	if (crypto_box_easy(box, plain, sizeof(plain), nonce, t->relay_key,
	    node_priv) != 0)
		return (wire_fail(EINVAL));
	return (buf_put(b, frame, sizeof(frame)) == -1 ?
	    wire_fail(ENOBUFS) : 0);
}

int
relay_enc_bind(struct buf *b, const struct relay_token *t,
    const uint8_t node_priv[32], uint64_t time_ms)
{
	uint8_t	 nonce[RELAY_NONCELEN];

	randombytes_buf(nonce, sizeof(nonce));
	return (relay_enc_bind_nonce(b, t, node_priv, time_ms, nonce));
}

int
relay_bind_open(const struct relay_msg *m, const uint8_t relay_priv[32],
    uint64_t *time_ms)
{
	uint8_t		 plain[RELAY_BIND_PLAIN];
	uint64_t	 v = 0;
	size_t		 i;

	if (m->type != RELAY_BIND ||
	    crypto_box_open_easy(plain, m->box, RELAY_MACLEN +
	    RELAY_BIND_PLAIN, m->nonce, m->token.node_key, relay_priv) != 0)
		return (wire_fail(EBADMSG));
	for (i = 0; i < RELAY_BIND_PLAIN; i++)
		v = v << 8 | plain[i];
	*time_ms = v;
	return (0);
}

/* BOUND: the binding's lifetime and the party's size, for the node. */
int
relay_enc_bound_nonce(struct buf *b, const uint8_t relay_priv[32],
    const uint8_t node_pub[32], uint16_t lifetime, uint32_t nbound,
    const uint8_t nonce[RELAY_NONCELEN])
{
	uint8_t	 frame[RELAY_BOUNDLEN], plain[RELAY_BOUND_PLAIN];

	plain[0] = (uint8_t)(lifetime >> 8);
	plain[1] = (uint8_t)lifetime;
	plain[2] = (uint8_t)(nbound >> 24);
	plain[3] = (uint8_t)(nbound >> 16);
	plain[4] = (uint8_t)(nbound >> 8);
	plain[5] = (uint8_t)nbound;
	frame[0] = RELAY_BOUND;
	memcpy(frame + 1, nonce, RELAY_NONCELEN);
	if (sodium_is_zero(node_pub, 32) ||
	    crypto_box_easy(frame + 1 + RELAY_NONCELEN, plain, sizeof(plain),
	    nonce, node_pub, relay_priv) != 0)
		return (wire_fail(EINVAL));
	return (buf_put(b, frame, sizeof(frame)) == -1 ?
	    wire_fail(ENOBUFS) : 0);
}

int
relay_enc_bound(struct buf *b, const uint8_t relay_priv[32],
    const uint8_t node_pub[32], uint16_t lifetime, uint32_t nbound)
{
	uint8_t	 nonce[RELAY_NONCELEN];

	randombytes_buf(nonce, sizeof(nonce));
	return (relay_enc_bound_nonce(b, relay_priv, node_pub, lifetime,
	    nbound, nonce));
}

int
relay_bound_open(const struct relay_msg *m, const uint8_t node_priv[32],
    const uint8_t relay_pub[32], uint16_t *lifetime, uint32_t *nbound)
{
	uint8_t	 plain[RELAY_BOUND_PLAIN];

	if (m->type != RELAY_BOUND ||
	    crypto_box_open_easy(plain, m->box, RELAY_MACLEN +
	    RELAY_BOUND_PLAIN, m->nonce, relay_pub, node_priv) != 0)
		return (wire_fail(EBADMSG));
	*lifetime = (uint16_t)(plain[0] << 8 | plain[1]);
	*nbound = (uint32_t)plain[2] << 24 | (uint32_t)plain[3] << 16 |
	    (uint32_t)plain[4] << 8 | plain[5];
	return (0);
}
