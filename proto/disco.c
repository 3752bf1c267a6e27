/*
 * Disco codec: the plaintext of PING and PONG, and the crypto_box
 * (X25519, XSalsa20-Poly1305) around it.  The decoders fill a local
 * struct and copy it out only on success; the plaintext encoder undoes
 * a partial write, and a datagram is built whole on the stack and
 * appended at once.  Layouts and rules: proto/disco.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "disco.h"
#include "../lib/wire.h"

#define DISCO_FAMILY_V4		4
#define DISCO_FAMILY_V6		6
#define DISCO_COMMONLEN		(1 + DISCO_TXIDLEN + 8)
#define DISCO_PONG4LEN		(DISCO_COMMONLEN + 1 + 2 + 4)
#define DISCO_PONG6LEN		(DISCO_COMMONLEN + 1 + 2 + 16)
#define DISCO_PINGLEN		DISCO_PLAIN_MAX
#define DISCO_PADLEN		(DISCO_PINGLEN - DISCO_COMMONLEN)
#define DISCO_OVERHEAD		(DISCO_HDRLEN + DISCO_MACLEN)
#define DISCO_NONCEOFF		(DISCO_MAGICLEN + DISCO_KEYLEN)

_Static_assert(DISCO_PONG6LEN == DISCO_PLAIN_MAX, "PLAIN_MAX is PONG6");
_Static_assert(DISCO_PINGLEN >= DISCO_PONG6LEN, "PING amplifies");
_Static_assert(DISCO_KEYLEN == crypto_box_PUBLICKEYBYTES &&
    DISCO_KEYLEN == crypto_box_SECRETKEYBYTES, "key size");
_Static_assert(DISCO_NONCELEN == crypto_box_NONCEBYTES, "nonce size");
_Static_assert(DISCO_MACLEN == crypto_box_MACBYTES, "MAC size");

/* A plaintext is a PONG with an IPv4 address, or 40 bytes. */
static bool
plain_len_valid(size_t len)
{
	return (len == DISCO_PONG4LEN || len == DISCO_PLAIN_MAX);
}

/* The rest of a PING: zero padding to DISCO_PINGLEN. */
static int
dec_ping(struct bufr *r)
{
	const uint8_t	*pad;

	if ((pad = bufr_ptr(r, DISCO_PADLEN)) == NULL ||
	    !sodium_is_zero(pad, DISCO_PADLEN))
		return (-1);
	return (0);
}

/* The rest of a PONG: family u8 (4 or 6), port u16, 4 or 16 bytes. */
static int
dec_pong(struct bufr *r, struct disco_msg *m)
{
	uint8_t	 fam;

	if (bufr_get_u8(r, &fam) == -1 ||
	    bufr_get_u16(r, &m->seen_port) == -1)
		return (-1);
	if (fam == DISCO_FAMILY_V4)
		m->seen.af = AF_INET;
	else if (fam == DISCO_FAMILY_V6)
		m->seen.af = AF_INET6;
	else
		return (-1);
	return (bufr_get(r, m->seen.bytes, addr_len(m->seen.af)));
}

int
disco_dec_plain(const void *p, size_t len, struct disco_msg *out)
{
	struct disco_msg	 m;
	struct bufr		 r;
	int			 rc;

	if (!plain_len_valid(len))
		return (wire_fail(EBADMSG));
	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u8(&r, &m.type) == -1 ||
	    bufr_get(&r, m.txid, DISCO_TXIDLEN) == -1 ||
	    bufr_get_u64(&r, &m.time_ms) == -1)
		return (wire_fail(EBADMSG));
	switch (m.type) {
	case DISCO_PING:
		rc = dec_ping(&r);
		break;
	case DISCO_PONG:
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

/* What the decoder can produce; a PING's seen fields are not sent. */
static bool
msg_valid(const struct disco_msg *m)
{
	switch (m->type) {
	case DISCO_PING:
		return (true);
	case DISCO_PONG:
		return (m->seen.af == AF_INET || m->seen.af == AF_INET6);
	}
	return (false);
}

static int
put_pong(struct buf *b, const struct disco_msg *m)
{
	uint8_t	 fam;

	fam = m->seen.af == AF_INET ? DISCO_FAMILY_V4 : DISCO_FAMILY_V6;
	if (buf_put_u8(b, fam) == -1 || buf_put_u16(b, m->seen_port) == -1 ||
	    buf_put(b, m->seen.bytes, addr_len(m->seen.af)) == -1)
		return (-1);
	return (0);
}

int
disco_enc_plain(struct buf *b, const struct disco_msg *m)
{
	size_t	 mark = b->len;
	int	 rc;

	if (!msg_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u8(b, m->type) == -1 ||
	    buf_put(b, m->txid, DISCO_TXIDLEN) == -1 ||
	    buf_put_u64(b, m->time_ms) == -1)
		return (wire_undo(b, mark));
	if (m->type == DISCO_PING)
		rc = buf_put_zero(b, DISCO_PADLEN);
	else
		rc = put_pong(b, m);
	if (rc == -1)
		return (wire_undo(b, mark));
	return (0);
}

/* The lengths of a PONG with an IPv4 address and of any other message. */
bool
disco_is_disco(const void *p, size_t len)
{
	if (len != DISCO_OVERHEAD + DISCO_PONG4LEN && len != DISCO_MAXMSG)
		return (false);
	return (memcmp(p, DISCO_MAGIC, DISCO_MAGICLEN) == 0);
}

const uint8_t *
disco_sender(const void *p, size_t len)
{
	if (!disco_is_disco(p, len)) {
		errno = EBADMSG;
		return (NULL);
	}
	return ((const uint8_t *)p + DISCO_MAGICLEN);
}

int
disco_shared(uint8_t shared[32], const uint8_t priv[32],
    const uint8_t peer[32])
{
	if (sodium_is_zero(priv, DISCO_KEYLEN) ||
	    sodium_is_zero(peer, DISCO_KEYLEN))
		return (wire_fail(EINVAL));
	/* Fails for a peer key of small order: no shared secret. */
	if (crypto_box_beforenm(shared, peer, priv) != 0)
		return (wire_fail(EINVAL));
	return (0);
}

static int
seal_shared_nonce(struct buf *b, const struct disco_msg *m,
    const uint8_t shared[32], const uint8_t pub[32], const uint8_t nonce[24])
{
	uint8_t		 plain[DISCO_PLAIN_MAX], dg[DISCO_MAXMSG];
	struct buf	 pb;
	int		 rc = -1;

	if (sodium_is_zero(pub, DISCO_KEYLEN))
		return (wire_fail(EINVAL));
	buf_init_fixed(&pb, plain, sizeof(plain));
	if (disco_enc_plain(&pb, m) == -1)
		goto out;
	memcpy(dg, DISCO_MAGIC, DISCO_MAGICLEN);
	memcpy(dg + DISCO_MAGICLEN, pub, DISCO_KEYLEN);
	memcpy(dg + DISCO_NONCEOFF, nonce, DISCO_NONCELEN);
	if (crypto_box_easy_afternm(dg + DISCO_HDRLEN, plain, pb.len, nonce,
	    shared) != 0) {
		errno = EINVAL;
		goto out;
	}
	rc = buf_put(b, dg, DISCO_OVERHEAD + pb.len);
out:
	sodium_memzero(plain, sizeof(plain));
	return (rc);
}

int
disco_seal_shared(struct buf *b, const struct disco_msg *m,
    const uint8_t shared[32], const uint8_t pub[32])
{
	uint8_t	 nonce[DISCO_NONCELEN];

	randombytes_buf(nonce, sizeof(nonce));
	return (seal_shared_nonce(b, m, shared, pub, nonce));
}

int
disco_seal_nonce(struct buf *b, const struct disco_msg *m,
    const uint8_t priv[32], const uint8_t pub[32], const uint8_t peer[32],
    const uint8_t nonce[24])
{
	uint8_t	 shared[32];
	int	 rc;

	if (disco_shared(shared, priv, peer) == -1)
		return (-1);
	rc = seal_shared_nonce(b, m, shared, pub, nonce);
	sodium_memzero(shared, sizeof(shared));
	return (rc);
}

int
disco_seal(struct buf *b, const struct disco_msg *m, const uint8_t priv[32],
    const uint8_t pub[32], const uint8_t peer[32])
{
	uint8_t	 nonce[DISCO_NONCELEN];

	randombytes_buf(nonce, sizeof(nonce));
	return (disco_seal_nonce(b, m, priv, pub, peer, nonce));
}

int
disco_open_shared(const void *p, size_t len, const uint8_t shared[32],
    const uint8_t peer[32], struct disco_msg *m)
{
	const uint8_t	*d = p;
	uint8_t		 plain[DISCO_PLAIN_MAX];
	size_t		 clen;
	int		 rc = -1;

	if (!disco_is_disco(p, len) || sodium_is_zero(peer, DISCO_KEYLEN) ||
	    sodium_memcmp(d + DISCO_MAGICLEN, peer, DISCO_KEYLEN) != 0)
		return (wire_fail(EBADMSG));
	clen = len - DISCO_HDRLEN;
	if (crypto_box_open_easy_afternm(plain, d + DISCO_HDRLEN, clen,
	    d + DISCO_NONCEOFF, shared) != 0) {
		errno = EBADMSG;
		goto out;
	}
	rc = disco_dec_plain(plain, clen - DISCO_MACLEN, m);
out:
	sodium_memzero(plain, sizeof(plain));
	return (rc);
}

int
disco_open(const void *p, size_t len, const uint8_t priv[32],
    const uint8_t peer[32], struct disco_msg *m)
{
	uint8_t	 shared[32];
	int	 rc;

	if (sodium_is_zero(priv, DISCO_KEYLEN) ||
	    disco_shared(shared, priv, peer) == -1)
		return (wire_fail(EBADMSG));
	rc = disco_open_shared(p, len, shared, peer, m);
	sodium_memzero(shared, sizeof(shared));
	return (rc);
}
