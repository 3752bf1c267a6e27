/*
 * Session layer of the control protocol (lanraged/relayd <-> controld):
 * Noise_IK_25519_ChaChaPoly_BLAKE2s with prologue "lanrage control v1",
 * framed on a TCP stream as u16 big-endian length || body.  The first
 * frame from the initiator (a node) is handshake message 1, the first
 * frame back is message 2, every later frame is a transport message.
 * See proto/control-session.md.
 *
 * A pure state machine: no I/O, no logging, no allocation except in the
 * frame reader.  Randomness (ephemeral keys) comes from libsodium; the
 * clock is read only when the caller passes no timestamp.
 *
 * Errors: 0 / -1 with errno.  EINVAL wrong state or bad argument,
 * EBADMSG malformed or unauthenticated input, EMSGSIZE payload or frame
 * too large, ENOBUFS output buffer full (nothing written, state
 * unchanged), EOVERFLOW message counter exhausted.  Any failure other
 * than ENOBUFS leaves the session dead: its secrets are wiped and every
 * later call fails with EINVAL; the caller drops the connection.
 *
 * Not thread-safe; one struct csess per connection.
 */
#ifndef LR_LIB_CSESS_H
#define LR_LIB_CSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define CSESS_KEY_LEN		32
#define CSESS_HASH_LEN		32
#define CSESS_TAG_LEN		16
#define CSESS_TAI64N_LEN	12
#define CSESS_HDR_LEN		2	/* u16 big-endian body length */
#define CSESS_BODY_MAX		65535	/* largest frame body */
#define CSESS_BODY_MIN		CSESS_TAG_LEN
/* Fixed bytes of each message body around the caller's payload. */
#define CSESS_MSG1_OVERHEAD	(CSESS_KEY_LEN + CSESS_KEY_LEN + \
				 CSESS_TAG_LEN + CSESS_TAI64N_LEN + \
				 CSESS_TAG_LEN)			/* 108 */
#define CSESS_MSG2_OVERHEAD	(CSESS_KEY_LEN + CSESS_TAG_LEN)	/* 48 */
#define CSESS_MSG1_PAYLOAD_MAX	(CSESS_BODY_MAX - CSESS_MSG1_OVERHEAD)
#define CSESS_MSG2_PAYLOAD_MAX	(CSESS_BODY_MAX - CSESS_MSG2_OVERHEAD)
#define CSESS_PLAINTEXT_MAX	(CSESS_BODY_MAX - CSESS_TAG_LEN) /* 65519 */
/* Transport messages per direction; past this the session is dead. */
#define CSESS_MAX_MESSAGES	(1ULL << 60)

enum csess_state {
	CSESS_DEAD = 0,		/* zeroed, failed or wiped */
	CSESS_INI_START,	/* initiator: may write message 1 */
	CSESS_INI_SENT,		/* initiator: waits for message 2 */
	CSESS_RESP_START,	/* responder: waits for message 1 */
	CSESS_RESP_READ,	/* responder: may write message 2 */
	CSESS_ESTABLISHED	/* transport */
};

/* One direction of transport: key and next nonce. */
struct csess_cipher {
	uint8_t		 k[CSESS_KEY_LEN];
	uint64_t	 n;
};

/* Owned by the caller; every field is private to lib/csess.c. */
struct csess {
	enum csess_state	 state;
	bool			 fixed_e;
	uint8_t			 s_priv[CSESS_KEY_LEN];
	uint8_t			 s_pub[CSESS_KEY_LEN];
	uint8_t			 rs[CSESS_KEY_LEN];	/* remote static */
	uint8_t			 e_priv[CSESS_KEY_LEN];
	uint8_t			 e_pub[CSESS_KEY_LEN];
	uint8_t			 re[CSESS_KEY_LEN];	/* remote ephemeral */
	uint8_t			 ck[CSESS_HASH_LEN];
	uint8_t			 h[CSESS_HASH_LEN];
	uint8_t			 k[CSESS_KEY_LEN];	/* handshake key */
	uint64_t		 n;			/* and its nonce */
	struct csess_cipher	 send;
	struct csess_cipher	 recv;
};

/*
 * Incremental frame reader over a byte stream.  Holds at most one frame
 * (2 + max bytes, allocated as needed).  After an error it stays failed.
 */
struct csess_reader {
	struct buf	 b;
	size_t		 max;		/* largest accepted body */
	size_t		 want;		/* body length once the header is in */
	int		 err;		/* sticky errno, 0 while healthy */
};

/*
 * A node starts a session to the server whose static public key it has
 * pinned.  s_priv is the node's (WireGuard) private key; both keys are
 * copied.  -1/EINVAL on a key that gives no public key.
 */
int	 csess_init_initiator(struct csess *, const uint8_t s_priv[32],
	    const uint8_t server_pub[32]);
/* The server waits for message 1 with its static private key. */
int	 csess_init_responder(struct csess *, const uint8_t s_priv[32]);
/* Tests only: use e_priv as the next ephemeral instead of a random one. */
void	 csess_set_ephemeral(struct csess *, const uint8_t e_priv[32]);
/* Zero every key and hash; the session is dead. */
void	 csess_wipe(struct csess *);

/*
 * Initiator: append the frame of message 1 (-> e, es, s, ss) to out.  Its
 * encrypted payload is ts || payload[len]; ts NULL means now (TAI64N).
 */
int	 csess_write_msg1(struct csess *, struct buf *out,
	    const uint8_t ts[12], const void *payload, size_t len);
/*
 * Responder: read message 1 (a frame body from the reader).  On success
 * rs gets the initiator's static public key (its identity), ts the
 * timestamp it sent, and payload the rest of its plaintext (appended).
 * rs and ts may be NULL.  The caller must check ts against the last one
 * accepted from rs before acting on the payload: message 1 is replayable.
 */
int	 csess_read_msg1(struct csess *, const uint8_t *msg, size_t len,
	    uint8_t rs[32], uint8_t ts[12], struct buf *payload);
/* Responder: append the frame of message 2 (<- e, ee, se); established. */
int	 csess_write_msg2(struct csess *, struct buf *out, const void *payload,
	    size_t len);
/* Initiator: read message 2, append its payload; established. */
int	 csess_read_msg2(struct csess *, const uint8_t *msg, size_t len,
	    struct buf *payload);

/* Append one transport frame carrying pt[len] (len <= 65519) to out. */
int	 csess_seal(struct csess *, struct buf *out, const void *pt,
	    size_t len);
/* Decrypt the next transport frame body; append the plaintext to pt. */
int	 csess_open(struct csess *, const uint8_t *msg, size_t len,
	    struct buf *pt);

bool	 csess_established(const struct csess *);
/* The peer's static public key, or NULL before the handshake has it. */
const uint8_t *csess_remote_static(const struct csess *);
/* h after the handshake (channel binding), or NULL before it ends. */
const uint8_t *csess_handshake_hash(const struct csess *);
/* TAI64N of now, the encoding message 1 carries. */
void	 csess_tai64n_now(uint8_t ts[12]);

/* Frame bodies of at most max bytes (CSESS_BODY_MIN..CSESS_BODY_MAX). */
int	 csess_reader_init(struct csess_reader *, size_t max);
void	 csess_reader_free(struct csess_reader *);
/*
 * Consume bytes from *in (advancing *in and *inlen) until one frame is
 * complete: then return 1 with *body and *len set to its body, valid
 * until the next call.  Return 0 when *in is used up without a complete
 * frame, -1 with EMSGSIZE (length over max) or EBADMSG (under
 * CSESS_BODY_MIN), after which the reader only fails.
 */
int	 csess_reader_next(struct csess_reader *, const uint8_t **in,
	    size_t *inlen, const uint8_t **body, size_t *len);

#endif
