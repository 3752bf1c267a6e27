/*
 * The userspace WireGuard device: peers, the index table, allowed IPs,
 * timers and the packet path between TUN queues and UDP sockets.
 *
 * Threads: one worker per TUN queue, each with its own SO_REUSEPORT UDP
 * socket on the listen port (the kernel keeps each peer's flow on one
 * socket, so packets stay in order), moving batches with recvmmsg() and
 * sendmmsg(); and one timer thread for handshake retransmits, keepalives,
 * rekeying and key expiry.  None of them is the caller's event loop.
 *
 * Locking: one device rwlock (writers preferred).  Workers and the timer
 * thread hold it shared for a batch; configuration and every handshake
 * take it exclusively, so keypairs and peers are freed only when no
 * packet is in flight.  A per-peer mutex guards the endpoint and the
 * keypair slots, which the packet path changes under the shared lock
 * (roaming, key confirmation).
 *
 * Datagrams that are not WireGuard messages (STUN, disco, relay frames)
 * go to the "other" handler when one is set, else they are counted and
 * dropped.
 */
#ifndef LR_WG_DEVICE_H
#define LR_WG_DEVICE_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/wg/uapi.h"

#define WG_DEVICE_MAX_THREADS	16
#define WG_DEVICE_MAX_PEERS	4096
#define WG_DEVICE_MAX_RELAYS	16	/* addresses RECV frames may come from */
#define WG_DEVICE_BATCH		64	/* packets per recvmmsg/sendmmsg */
#define WG_DEVICE_STAGED_MAX	128	/* packets held per peer while
					   waiting for a handshake */

struct wg_device;

#define WG_LAN_MAX_BCAST	4	/* directed broadcasts the hooks see */

/* Called from a worker thread for a datagram that is not WireGuard's. */
typedef void (*wg_other_cb)(const uint8_t *, size_t,
    const struct sockaddr *, socklen_t, void *arg);

struct wg_device_params {
	const int	*tun_fds;	/* one per worker; the device owns them */
	size_t		 ntun;		/* 1..WG_DEVICE_MAX_THREADS */
	size_t		 mtu;		/* of the TUN interface */
	bool		 vnet_hdr;	/* queues made with IFF_VNET_HDR */
	uint16_t	 listen_port;	/* 0: any */
};

/* Why packets were dropped; read with wg_device_stats(). */
struct wg_device_stats {
	uint64_t	 rx_packets;
	uint64_t	 tx_packets;
	uint64_t	 drop_malformed;	/* bad length or type */
	uint64_t	 drop_no_index;		/* unknown receiver index */
	uint64_t	 drop_auth;		/* failed decryption / mac1 */
	uint64_t	 drop_replay;		/* counter seen or too old */
	uint64_t	 drop_expired;		/* keypair too old */
	uint64_t	 drop_source;		/* inner source not allowed */
	uint64_t	 drop_no_route;		/* no peer for a destination */
	uint64_t	 drop_no_endpoint;	/* peer has no endpoint yet */
	uint64_t	 drop_staged;		/* staging queue overflow */
	uint64_t	 drop_handshake;	/* refused handshake messages */
	uint64_t	 drop_other;		/* not WireGuard, no handler */
	uint64_t	 drop_relay;		/* RECV from no relay, or odd */
	uint64_t	 lan_copies;		/* LAN-wide packets sent, each */
	uint64_t	 cookies_sent;
	uint64_t	 handshakes_done;
};

/*
 * Bind the UDP sockets and take the TUN fds.  Threads start with
 * wg_device_start().  NULL with errno on failure (fds not taken).
 */
struct wg_device *wg_device_new(const struct wg_device_params *);
int	 wg_device_start(struct wg_device *);
/* Stop the threads, wipe every key, close every fd. */
void	 wg_device_free(struct wg_device *);

/*
 * Apply a validated UAPI SET as one transaction: either all of it takes
 * effect, or (returning a positive errno) none of it.
 */
int	 wg_device_apply(struct wg_device *, const struct wg_uapi_set *);
/* Append the UAPI GET answer to b. */
int	 wg_device_get(struct wg_device *, struct buf *b);
/*
 * One peer's GET snapshot; the caller frees pi->aips.  -1/ENOENT when no
 * peer has that key.
 */
/*
 * An initiation in flight to this peer since before "before" (ns of
 * CLOCK_MONOTONIC), before any session: again now.
 */
int	 wg_device_handshake_again(struct wg_device *, const uint8_t key[32],
	    uint64_t before);
int	 wg_device_peer(struct wg_device *, const uint8_t key[32],
	    struct wg_uapi_peer_info *pi);

uint16_t wg_device_port(struct wg_device *);
/* Readable once a TUN queue fails for good (the interface was deleted). */
int	 wg_device_dead_fd(struct wg_device *);
void	 wg_device_stats(struct wg_device *, struct wg_device_stats *);
void	 wg_device_set_other(struct wg_device *, wg_other_cb, void *arg);
/*
 * The relays (proto/relay.md) whose RECV frames carry WireGuard: from
 * these addresses, 0xE4 | tag (8) | datagram is taken apart and the
 * datagram handled as if it came from the relay, "relayed"; a peer
 * whose endpoint is relayed (WG_UAPI_PEER_RELAYED) is sent SEND frames.
 * At most WG_DEVICE_MAX_RELAYS; -1/EINVAL beyond.
 */
int	 wg_device_set_relays(struct wg_device *,
	    const struct sockaddr_storage *, const socklen_t *, size_t n);
/*
 * LAN emulation (lanraged/lan.c).  Inner IPv4 packets to a LAN-wide
 * destination (255.255.255.255, 224.0.0.0/4, or one of bcast[], in
 * network order) are not routed by allowed IPs: read from the TUN, they
 * go to carry(), and a copy goes to every peer when it says true; from
 * a peer (key), deliver() says whether to write them to the TUN.  Both
 * run on worker threads, with the device lock held shared.  NULL hooks:
 * none (such packets from the TUN are dropped, from peers delivered).
 */
struct wg_lan_hooks {
	bool		(*carry)(const uint8_t *pkt, size_t len, void *arg);
	bool		(*deliver)(const uint8_t key[32], const uint8_t *pkt,
			    size_t len, void *arg);
	void		*arg;
	uint32_t	 bcast[WG_LAN_MAX_BCAST];
	size_t		 nbcast;
};

int	 wg_device_set_lan(struct wg_device *, const struct wg_lan_hooks *);

/* Send a non-WireGuard datagram from the device's port. */
int	 wg_device_send_other(struct wg_device *, const void *, size_t,
	    const struct sockaddr *, socklen_t);

#endif
