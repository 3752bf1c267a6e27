/*
 * Disco: LANrage's peer-to-peer path discovery messages, sent on the
 * node's WireGuard UDP socket to validate candidate paths and measure
 * them (RTT, jitter, loss).  Each datagram is authenticated and
 * encrypted with crypto_box (X25519, XSalsa20-Poly1305) between the two
 * nodes' WireGuard static keys, which the control server publishes: a
 * stranger can neither forge nor read one.
 *
 *	magic "LRd1" (4) | sender public key (32) | nonce (24) |
 *	box: MAC (16) | plaintext
 *
 *	plaintext: type u8 | txid (12) | time u64 (ms, sender's clock) |
 *	    PING: zero padding to the size of the largest PONG
 *	    PONG: seen family u8 (4 or 6) | port u16 | address (4 or 16)
 *
 * A PONG answers the PING with the same txid and tells where that PING
 * came from (the "observed" address).  A PING is never smaller than any
 * PONG, so answering cannot amplify.  Replays: a PONG counts only for a
 * txid the node is waiting for; a PING older than DISCO_MAX_AGE_MS (by
 * the sender's clock against ours) is dropped, and the receiver also
 * rate-limits answers.  Decoders are pure and bounded; spec and vectors:
 * proto/disco.md.
 */
#ifndef LR_PROTO_DISCO_H
#define LR_PROTO_DISCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/addr.h"
#include "../lib/buf.h"

#define DISCO_MAGIC		"LRd1"
#define DISCO_MAGICLEN		4
#define DISCO_KEYLEN		32
#define DISCO_NONCELEN		24
#define DISCO_MACLEN		16
#define DISCO_TXIDLEN		12
#define DISCO_HDRLEN		(DISCO_MAGICLEN + DISCO_KEYLEN + DISCO_NONCELEN)
#define DISCO_PLAIN_MAX		40	/* PONG with an IPv6 address */
#define DISCO_MAXMSG		(DISCO_HDRLEN + DISCO_MACLEN + DISCO_PLAIN_MAX)
#define DISCO_MAX_AGE_MS	60000

enum disco_type {
	DISCO_PING	= 1,
	DISCO_PONG	= 2,
};

struct disco_msg {
	uint8_t		 type;			/* enum disco_type */
	uint8_t		 txid[DISCO_TXIDLEN];
	uint64_t	 time_ms;
	struct addr	 seen;			/* PONG: AF_INET or AF_INET6 */
	uint16_t	 seen_port;		/* PONG */
};

/* The plaintext alone: encoders append, decoders read exactly len. */
int	 disco_enc_plain(struct buf *, const struct disco_msg *);
int	 disco_dec_plain(const void *, size_t, struct disco_msg *);

/* Could this datagram be disco (magic, and a length disco can have)? */
bool	 disco_is_disco(const void *, size_t);
/* The sender key a datagram claims (not yet proven), or NULL. */
const uint8_t *disco_sender(const void *, size_t);
/*
 * Seal m from us (priv, pub) to peer, with a random nonce (tests: the
 * given one), appending the whole datagram.  -1/EINVAL bad struct or
 * keys, ENOBUFS (nothing written).
 */
int	 disco_seal(struct buf *, const struct disco_msg *,
	    const uint8_t priv[32], const uint8_t pub[32],
	    const uint8_t peer[32]);
int	 disco_seal_nonce(struct buf *, const struct disco_msg *,
	    const uint8_t priv[32], const uint8_t pub[32],
	    const uint8_t peer[32], const uint8_t nonce[24]);
/*
 * Open a datagram from peer (whose key the caller looked up from
 * disco_sender() and knows) with our priv: 0, or -1/EBADMSG (not disco,
 * wrong sender, forged, malformed) leaving m untouched.
 */
int	 disco_open(const void *, size_t, const uint8_t priv[32],
	    const uint8_t peer[32], struct disco_msg *m);
/*
 * The same with the key crypto_box derives from priv and peer, computed
 * once (one X25519 for every datagram between two nodes): disco_shared()
 * -1/EINVAL for a zero or small-order key; the _shared functions are
 * disco_seal() and disco_open() given that key.
 */
int	 disco_shared(uint8_t shared[32], const uint8_t priv[32],
	    const uint8_t peer[32]);
int	 disco_seal_shared(struct buf *, const struct disco_msg *,
	    const uint8_t shared[32], const uint8_t pub[32]);
int	 disco_open_shared(const void *, size_t, const uint8_t shared[32],
	    const uint8_t peer[32], struct disco_msg *m);

#endif
