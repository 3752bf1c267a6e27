/*
 * Relay frames: lanraged ↔ lanrage-relayd, on the node's WireGuard UDP
 * socket.  A relay forwards WireGuard datagrams between two nodes bound
 * in the same party, unread; admission is a token the control server
 * signed (Ed25519), and binding proves the node holds the token's key
 * (crypto_box from the node key to the relay key).  Decoders are pure
 * and bounded and check no signature; relay_token_verify() and
 * relay_bind_open() do.  Spec and vectors: proto/relay.md.
 */
#ifndef LR_PROTO_RELAY_H
#define LR_PROTO_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"

#define RELAY_KEYLEN		32	/* X25519 public key */
#define RELAY_IDLEN		16	/* party id */
#define RELAY_TAGLEN		8	/* a node key's first bytes */
#define RELAY_TXIDLEN		8
#define RELAY_NONCELEN		24
#define RELAY_MACLEN		16
#define RELAY_SIGLEN		64	/* Ed25519 */
#define RELAY_SIGNKEYLEN	32	/* Ed25519 public key */
#define RELAY_SIGNSECLEN	64	/* Ed25519 secret key (libsodium) */
#define RELAY_TOKEN_VERSION	1
#define RELAY_TOKEN_SIGNED	89	/* version .. expiry */
#define RELAY_TOKENLEN		(RELAY_TOKEN_SIGNED + RELAY_SIGLEN)
#define RELAY_TOKEN_CONTEXT	"LANrage relay v1"
#define RELAY_TOKEN_CONTEXTLEN	16
#define RELAY_MAX_PAYLOAD	1452
#define RELAY_FWD_HDRLEN	(1 + RELAY_TAGLEN)	/* SEND, RECV */
#define RELAY_BINDLEN		(1 + RELAY_TOKENLEN + RELAY_NONCELEN + \
				 RELAY_MACLEN + 8)
#define RELAY_BOUNDLEN		(1 + RELAY_NONCELEN + RELAY_MACLEN + 6)
#define RELAY_PINGLEN		(1 + RELAY_TXIDLEN + 8)
#define RELAY_PONGLEN		RELAY_PINGLEN
#define RELAY_MAXMSG		(RELAY_FWD_HDRLEN + RELAY_MAX_PAYLOAD)
#define RELAY_MAX_SKEW_S	60
#define RELAY_BIND_LIFETIME_S	120
#define RELAY_DEFAULT_PORT	51820

enum relay_type {
	RELAY_BIND	= 0xe1,
	RELAY_BOUND	= 0xe2,
	RELAY_SEND	= 0xe3,
	RELAY_RECV	= 0xe4,
	RELAY_PING	= 0xe5,
	RELAY_PONG	= 0xe6,
};

struct relay_token {
	uint8_t		 version;		/* RELAY_TOKEN_VERSION */
	uint8_t		 relay_key[RELAY_KEYLEN];
	uint8_t		 party[RELAY_IDLEN];
	uint8_t		 node_key[RELAY_KEYLEN];
	uint64_t	 expiry;		/* Unix seconds */
	uint8_t		 sig[RELAY_SIGLEN];
};

/*
 * One decoded frame.  BIND: token, nonce, box (still sealed); BOUND:
 * nonce, box; SEND/RECV: tag, payload (points into the datagram);
 * PING/PONG: txid, and load for PONG.
 */
struct relay_msg {
	uint8_t			 type;		/* enum relay_type */
	struct relay_token	 token;
	uint8_t			 nonce[RELAY_NONCELEN];
	uint8_t			 box[RELAY_MACLEN + 8];	/* BIND 24, BOUND 22 */
	uint8_t			 tag[RELAY_TAGLEN];
	const uint8_t		*payload;
	size_t			 payload_len;
	uint8_t			 txid[RELAY_TXIDLEN];
	uint8_t			 load;		/* PONG */
};

/* Could this datagram be a relay frame (its first byte)? */
bool	 relay_is_relay(const void *, size_t);
/*
 * Decode one datagram: 0, or -1/EBADMSG leaving m untouched (wrong
 * length for its type, unknown type, bad token fields, nonzero padding,
 * empty or oversized payload).
 */
int	 relay_decode(const void *, size_t, struct relay_msg *m);

/* Encoders append one whole frame, or nothing: -1/EINVAL, ENOBUFS. */
int	 relay_enc_send(struct buf *, const uint8_t tag[RELAY_TAGLEN],
	    const void *payload, size_t len);
int	 relay_enc_recv(struct buf *, const uint8_t tag[RELAY_TAGLEN],
	    const void *payload, size_t len);
int	 relay_enc_ping(struct buf *, const uint8_t txid[RELAY_TXIDLEN]);
int	 relay_enc_pong(struct buf *, const uint8_t txid[RELAY_TXIDLEN],
	    uint8_t load);

/* The token, encoded (153 bytes) or decoded alone (no signature check). */
int	 relay_token_enc(uint8_t out[RELAY_TOKENLEN],
	    const struct relay_token *);
int	 relay_token_dec(const uint8_t in[RELAY_TOKENLEN],
	    struct relay_token *);
/* Fill in t->version and t->sig with the signing secret key. */
int	 relay_token_sign(struct relay_token *t,
	    const uint8_t sk[RELAY_SIGNSECLEN]);
/*
 * 0 when t is signed by pk, names relay_key, and has not expired at
 * now (Unix seconds); -1 with errno EBADMSG (bad signature or fields),
 * ESTALE (expired), EXDEV (another relay).
 */
int	 relay_token_verify(const struct relay_token *t,
	    const uint8_t pk[RELAY_SIGNKEYLEN],
	    const uint8_t relay_key[RELAY_KEYLEN], uint64_t now);

/*
 * BIND: the token and a box of time_ms from the node (node_priv) to the
 * relay (relay_pub), with a random nonce (tests: the given one).
 */
int	 relay_enc_bind(struct buf *, const struct relay_token *,
	    const uint8_t node_priv[32], uint64_t time_ms);
int	 relay_enc_bind_nonce(struct buf *, const struct relay_token *,
	    const uint8_t node_priv[32], uint64_t time_ms,
	    const uint8_t nonce[RELAY_NONCELEN]);
/* Open a decoded BIND's box with the relay's private key: its time. */
int	 relay_bind_open(const struct relay_msg *,
	    const uint8_t relay_priv[32], uint64_t *time_ms);

/* BOUND: lifetime (s) and nodes bound in the party, relay → node. */
int	 relay_enc_bound(struct buf *, const uint8_t relay_priv[32],
	    const uint8_t node_pub[32], uint16_t lifetime, uint32_t nbound);
int	 relay_enc_bound_nonce(struct buf *, const uint8_t relay_priv[32],
	    const uint8_t node_pub[32], uint16_t lifetime, uint32_t nbound,
	    const uint8_t nonce[RELAY_NONCELEN]);
int	 relay_bound_open(const struct relay_msg *,
	    const uint8_t node_priv[32], const uint8_t relay_pub[32],
	    uint16_t *lifetime, uint32_t *nbound);

/* A node key's tag: its first RELAY_TAGLEN bytes. */
void	 relay_tag(uint8_t tag[RELAY_TAGLEN], const uint8_t key[RELAY_KEYLEN]);

#endif
