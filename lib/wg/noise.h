/*
 * WireGuard protocol engine: the Noise_IKpsk2 handshake, cookies (mac1,
 * mac2, cookie replies) and transport data messages, as described in the
 * WireGuard paper and https://www.wireguard.com/protocol/.  No I/O, no
 * threads, no index table, no timers: the device owns those and passes
 * "now" (CLOCK_MONOTONIC, nanoseconds) wherever time matters.  TAI64N
 * timestamps read CLOCK_REALTIME internally.
 *
 * Wire layouts (all integers little-endian):
 *   1 initiation  148: type, 0[3], sender u32, ephemeral[32],
 *                      static[32+16], timestamp[12+16], mac1[16], mac2[16]
 *   2 response     92: type, 0[3], sender u32, receiver u32, ephemeral[32],
 *                      empty[0+16], mac1[16], mac2[16]
 *   3 cookie reply 64: type, 0[3], receiver u32, nonce[24], cookie[16+16]
 *   4 data       >=32: type, 0[3], receiver u32, counter u64,
 *                      packet[n*16 (padded) + 16]
 *
 * Locking (the caller's job):
 *   - struct wg_local: read-only for every function here except
 *     wg_local_set_key() and wg_noise_cookie_reply_create() (rotates the
 *     cookie secret).  Serialize those against every other use of the
 *     struct wg_local, e.g. with one device handshake lock.
 *   - struct wg_peer_noise: hold a per-peer lock around every call taking
 *     one.
 *   - struct wg_keypair: wg_noise_encrypt() and wg_noise_decrypt() may run
 *     concurrently on the same keypair from any number of threads (atomic
 *     send counter; the replay window is guarded by a spinlock inside the
 *     keypair).  Wiping or freeing a keypair requires that no thread still
 *     uses it (e.g. RCU or a reference count in the device).
 *
 * Errors: 0 / -1 with errno.  EINVAL malformed message or wrong state,
 * EBADMSG failed authentication or bad DH result, EALREADY replayed
 * timestamp or counter, EBUSY initiation flood, EKEYEXPIRED keypair too old
 * or not valid, EOVERFLOW send counter exhausted, ENOBUFS output too small,
 * ESTALE no usable cookie state.
 */
#ifndef LR_WG_NOISE_H
#define LR_WG_NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wg/replay.h"

#define WG_KEY_LEN		32
#define WG_HASH_LEN		32
#define WG_MAC_LEN		16	/* mac1, mac2 and a cookie */
#define WG_COOKIE_LEN		16
#define WG_AEAD_TAG_LEN		16
#define WG_TAI64N_LEN		12
#define WG_COOKIE_NONCE_LEN	24

#define WG_MSG_INITIATION	1
#define WG_MSG_RESPONSE		2
#define WG_MSG_COOKIE_REPLY	3
#define WG_MSG_DATA		4

#define WG_INITIATION_LEN	148
#define WG_RESPONSE_LEN		92
#define WG_COOKIE_REPLY_LEN	64
#define WG_DATA_HDR_LEN		16
#define WG_DATA_MIN_LEN		(WG_DATA_HDR_LEN + WG_AEAD_TAG_LEN)	/* 32 */
#define WG_PADDING_MULTIPLE	16

/* Offsets of the fields the device reads to route a message. */
#define WG_OFF_SENDER		4	/* types 1 and 2 */
#define WG_OFF_RESP_RECEIVER	8	/* type 2 */
#define WG_OFF_RECEIVER		4	/* types 3 and 4 */
#define WG_OFF_COUNTER		8	/* type 4 */

/* Every duration below, and every "now", is in nanoseconds. */
#define WG_NSEC			1000000000ULL
#define WG_REKEY_AFTER_MESSAGES	(1ULL << 60)
/* 2^64 - 2^13 - 1, the same as WG_REPLAY_LIMIT */
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define WG_REKEY_AFTER_TIME	(120 * WG_NSEC)
#define WG_REJECT_AFTER_TIME	(180 * WG_NSEC)
#define WG_REKEY_ATTEMPT_TIME	(90 * WG_NSEC)
#define WG_REKEY_TIMEOUT	(5 * WG_NSEC)
#define WG_REKEY_TIMEOUT_JITTER	(WG_NSEC / 3)	/* max random extra */
#define WG_KEEPALIVE_TIMEOUT	(10 * WG_NSEC)
#define WG_COOKIE_SECRET_MAX_AGE (120 * WG_NSEC)
#define WG_COOKIE_MAX_AGE	(120 * WG_NSEC)	/* a received cookie */
#define WG_INITIATIONS_PER_SECOND 50
#define WG_INITIATION_MIN_GAP	(WG_NSEC / WG_INITIATIONS_PER_SECOND)

/*
 * This interface's identity and cookie checker.  Set with
 * wg_local_set_key(); wipe with wg_local_wipe().
 */
struct wg_local {
	bool		 has_key;
	uint8_t		 private_key[WG_KEY_LEN];
	uint8_t		 public_key[WG_KEY_LEN];
	uint8_t		 mac1_key[WG_HASH_LEN];	/* HASH("mac1----" || pub) */
	uint8_t		 cookie_key[WG_HASH_LEN]; /* HASH("cookie--" || pub) */
	uint8_t		 resp_hash[WG_HASH_LEN]; /* H0 mixed with our pub */
	bool		 has_secret;
	uint8_t		 cookie_secret[WG_HASH_LEN];
	uint64_t	 secret_birth;		/* monotonic ns */
};

enum wg_hs_state {
	WG_HS_NONE = 0,
	WG_HS_INITIATION_SENT,		/* we initiated, await a response */
	WG_HS_INITIATION_CONSUMED,	/* we accepted one, owe a response */
};

/*
 * Per-peer handshake state.  Created with wg_peer_noise_init(); must be
 * re-derived with wg_peer_noise_set_local() whenever the local key
 * changes.  Wipe with wg_peer_noise_wipe().
 */
struct wg_peer_noise {
	uint8_t		 remote_static[WG_KEY_LEN];
	uint8_t		 psk[WG_KEY_LEN];	/* zeros when none */
	uint8_t		 ss[WG_KEY_LEN];	/* DH(local priv, remote pub) */
	bool		 ss_ok;			/* ss is not all zeros */
	uint8_t		 mac1_key[WG_HASH_LEN];	/* for messages we send it */
	uint8_t		 cookie_key[WG_HASH_LEN]; /* for its cookie replies */
	uint8_t		 init_hash[WG_HASH_LEN]; /* H0 mixed with its pub */

	enum wg_hs_state state;
	uint8_t		 ck[WG_HASH_LEN];	/* chaining key */
	uint8_t		 hash[WG_HASH_LEN];
	uint8_t		 e_priv[WG_KEY_LEN];	/* our ephemeral */
	uint8_t		 e_pub[WG_KEY_LEN];
	uint8_t		 remote_e[WG_KEY_LEN];	/* its ephemeral */
	uint32_t	 local_index;
	uint32_t	 remote_index;

	uint8_t		 last_timestamp[WG_TAI64N_LEN];	/* greatest accepted */
	bool		 has_last_initiation;
	uint64_t	 last_initiation;	/* ns of last accepted one */

	bool		 has_cookie;
	uint8_t		 cookie[WG_COOKIE_LEN];
	uint64_t	 cookie_birth;
	bool		 has_last_mac1;
	uint8_t		 last_mac1[WG_MAC_LEN];	/* of our last handshake msg */

	/* Tests only: a one-shot fixed ephemeral and timestamp. */
	bool		 fixed_e;
	bool		 fixed_ts;
	uint8_t		 fixed_e_priv[WG_KEY_LEN];
	uint8_t		 fixed_tai64n[WG_TAI64N_LEN];
};

/*
 * Result of the first half of consuming an initiation: everything up to
 * and including the initiator's static key.  The device looks the peer up
 * by "remote_static", then calls wg_noise_initiation_accept(), which wipes
 * it; call wg_noise_initiation_wipe() if it drops the message instead.
 */
struct wg_initiation {
	uint32_t	 sender_index;
	uint8_t		 remote_static[WG_KEY_LEN];
	uint8_t		 remote_e[WG_KEY_LEN];
	uint8_t		 ck[WG_HASH_LEN];
	uint8_t		 hash[WG_HASH_LEN];
	uint8_t		 enc_timestamp[WG_TAI64N_LEN + WG_AEAD_TAG_LEN];
};

/*
 * A transport session.  The handshake functions fill one in (valid set,
 * counters zero, replay window initialized).  "initiator" matters to the
 * device: the responder must not send on a new keypair before it has
 * received a data packet on it (key confirmation).  The device clears
 * "valid" to retire a keypair; both transport functions then refuse it.
 */
struct wg_keypair {
	uint8_t		 send_key[WG_KEY_LEN];
	uint8_t		 recv_key[WG_KEY_LEN];
	uint32_t	 local_index;	/* receiver index of incoming data */
	uint32_t	 remote_index;	/* receiver index we put in outgoing */
	uint64_t	 birth;		/* monotonic ns */
	bool		 initiator;
	_Atomic bool	 valid;
	_Atomic uint64_t send_counter;	/* next counter to use */
	atomic_flag	 replay_lock;
	struct wg_replay replay;
};

/* Local identity.  A NULL private key clears it. */
int	 wg_local_set_key(struct wg_local *, const uint8_t priv[WG_KEY_LEN]);
void	 wg_local_wipe(struct wg_local *);
/* Random, clamped X25519 private key; and its public key. */
void	 wg_noise_generate_private(uint8_t priv[WG_KEY_LEN]);
int	 wg_noise_public_from_private(uint8_t pub[WG_KEY_LEN],
	    const uint8_t priv[WG_KEY_LEN]);

/*
 * Peer setup: psk may be NULL.  Fails with EINVAL (but still fills in
 * everything) when the static-static DH is all zeros; handshakes with such
 * a peer then fail with EBADMSG until the keys change.
 */
int	 wg_peer_noise_init(struct wg_peer_noise *, const struct wg_local *,
	    const uint8_t remote_pub[WG_KEY_LEN], const uint8_t *psk);
int	 wg_peer_noise_set_local(struct wg_peer_noise *,
	    const struct wg_local *);
void	 wg_peer_noise_set_psk(struct wg_peer_noise *, const uint8_t *psk);
/* Forget any handshake in progress (keeps keys, timestamp, cookie). */
void	 wg_peer_noise_clear_handshake(struct wg_peer_noise *);
void	 wg_peer_noise_wipe(struct wg_peer_noise *);

/*
 * Routing: the message type when len is valid for it (exactly 148, 92, 64,
 * or >= 32 for data), else -1.  Then read indices with wg_noise_get_u32().
 */
int	 wg_noise_msg_type(const uint8_t *msg, size_t len);
uint32_t wg_noise_get_u32(const uint8_t *msg, size_t off);

/*
 * Initiator: writes a type 1 message with sender index local_index, mac1,
 * and mac2 when a cookie younger than WG_COOKIE_MAX_AGE is held.  Moves the
 * peer to WG_HS_INITIATION_SENT (overwriting any handshake in progress).
 */
int	 wg_noise_initiation_create(const struct wg_local *,
	    struct wg_peer_noise *, uint32_t local_index, uint64_t now,
	    uint8_t out[WG_INITIATION_LEN]);

/*
 * Responder, step 1: decrypt a type 1 message up to the initiator's static
 * key.  Does not check mac1/mac2: call wg_noise_check_mac1() (and mac2
 * under load) first.
 */
int	 wg_noise_initiation_open(const struct wg_local *,
	    const uint8_t *msg, size_t len, struct wg_initiation *);
/*
 * Responder, step 2, for the peer whose remote static matches: decrypt the
 * timestamp, require it to be greater than any accepted before (EALREADY)
 * and the previous accepted initiation to be more than
 * WG_INITIATION_MIN_GAP old (EBUSY), then move the state into the peer
 * (WG_HS_INITIATION_CONSUMED).  Always wipes the struct wg_initiation.
 */
int	 wg_noise_initiation_accept(const struct wg_local *,
	    struct wg_peer_noise *, struct wg_initiation *, uint64_t now);
void	 wg_noise_initiation_wipe(struct wg_initiation *);

/*
 * Responder: in state WG_HS_INITIATION_CONSUMED, write a type 2 message
 * (sender local_index, receiver the initiator's index, macs as above) and
 * derive the keypair (initiator = false, birth = now).  The handshake
 * state is wiped and the peer returns to WG_HS_NONE.
 */
int	 wg_noise_response_create(const struct wg_local *,
	    struct wg_peer_noise *, uint32_t local_index, uint64_t now,
	    uint8_t out[WG_RESPONSE_LEN], struct wg_keypair *);

/*
 * Initiator: in state WG_HS_INITIATION_SENT, with the receiver index equal
 * to the peer's local_index (the device found the peer by that index),
 * consume a type 2 message and derive the keypair (initiator = true).  The
 * handshake state is wiped on success only, so a forged response does not
 * abort a genuine handshake.  Does not check the macs.
 */
int	 wg_noise_response_consume(const struct wg_local *,
	    struct wg_peer_noise *, const uint8_t *msg, size_t len,
	    uint64_t now, struct wg_keypair *);

/*
 * Under-load path for types 1 and 2.  src is the sender's address as
 * bytes, followed by its port (wireguard-go uses the 4 or 16 address bytes
 * then the port little-endian; any stable encoding works, only we read
 * it).  check_mac2 fails when the cookie secret is older than
 * WG_COOKIE_SECRET_MAX_AGE or unset, so the sender gets a fresh cookie.
 */
bool	 wg_noise_check_mac1(const struct wg_local *, const uint8_t *msg,
	    size_t len);
bool	 wg_noise_check_mac2(const struct wg_local *, const uint8_t *msg,
	    size_t len, const void *src, size_t srclen, uint64_t now);
/*
 * Reply to a type 1 or 2 message (whose mac1 the caller has checked) with
 * a type 3 message to its sender index.  Rotates the cookie secret when it
 * is too old.  The reply (64 bytes) is smaller than the request.
 */
int	 wg_noise_cookie_reply_create(struct wg_local *, const uint8_t *msg,
	    size_t len, const void *src, size_t srclen, uint64_t now,
	    uint8_t out[WG_COOKIE_REPLY_LEN]);
/*
 * Initiator of the refused message: decrypt the cookie with the peer's
 * cookie key and our last mac1 as associated data, and keep it for mac2 of
 * the next handshake messages.  ESTALE when we never sent a mac1.
 */
int	 wg_noise_cookie_reply_consume(struct wg_peer_noise *,
	    const uint8_t *msg, size_t len, uint64_t now);

/*
 * Bytes a data message for a plaintext of len bytes will take: header,
 * plaintext padded with zeros to a multiple of 16 but never beyond
 * max(len, mtu) (mtu 0: no cap), tag.  A keepalive (len 0) gives 32.
 */
size_t	 wg_noise_data_len(size_t len, size_t mtu);
/*
 * Write a type 4 message to out (outsize >= wg_noise_data_len()): header,
 * padded ciphertext, tag; *outlen gets its length.  In place is allowed:
 * pt may be exactly out + WG_DATA_HDR_LEN (the padding is written after
 * it).  Fails with EKEYEXPIRED when the keypair is invalid or older than
 * WG_REJECT_AFTER_TIME, EOVERFLOW once the counter would reach
 * WG_REJECT_AFTER_MESSAGES.
 */
int	 wg_noise_encrypt(struct wg_keypair *, uint64_t now,
	    const uint8_t *pt, size_t len, size_t mtu, uint8_t *out,
	    size_t outsize, size_t *outlen);
/*
 * Authenticate a type 4 message for this keypair (receiver index must be
 * its local_index), then check and set the replay window.  Writes the
 * plaintext, padding included, to pt (room for len - 32 bytes; pt may be
 * exactly msg + WG_DATA_HDR_LEN for in place) and its length to *ptlen;
 * 0 means a keepalive.  The caller trims the padding by the inner IP
 * header's length.  On failure pt may hold garbage.
 */
int	 wg_noise_decrypt(struct wg_keypair *, uint64_t now,
	    const uint8_t *msg, size_t len, uint8_t *pt, size_t *ptlen);

/* Timers' view of a keypair, as wireguard-go does it. */
bool	 wg_keypair_should_rekey_send(struct wg_keypair *, uint64_t now);
bool	 wg_keypair_should_rekey_recv(const struct wg_keypair *,
	    uint64_t now);
void	 wg_keypair_wipe(struct wg_keypair *);

/* Tests only: the next initiation/response uses these, once. */
void	 wg_noise_test_fix(struct wg_peer_noise *,
	    const uint8_t e_priv[WG_KEY_LEN],
	    const uint8_t tai64n[WG_TAI64N_LEN]);

#endif
