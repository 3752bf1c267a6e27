/*
 * Internals of the WireGuard device, shared by device.c (configuration,
 * peers, index table), packet.c (the workers) and timers.c.  Not for use
 * outside lib/wg.
 */
#ifndef LR_WG_DEVICE_INT_H
#define LR_WG_DEVICE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "lib/wg/allowedips.h"
#include "lib/wg/device.h"
#include "lib/wg/noise.h"

#define WG_INDEX_BUCKETS	4096	/* power of two */
#define WG_INDEX_MAX		(4 * WG_DEVICE_MAX_PEERS)
#define WG_PKT_MAX		65536	/* largest UDP payload we take */
#define WG_SLOT_SIZE		2048	/* one packet buffer */
#define WG_HANDSHAKE_LOAD	200	/* handshake msgs/s: "under load" */

/* A packet held while the peer has no session. */
struct wg_staged {
	struct wg_staged	*next;
	size_t			 len;
	uint8_t			 data[];
};

struct wg_peer {
	uint8_t			 public_key[WG_KEY_LEN];
	struct wg_peer_noise	 noise;		/* device write lock */
	uint8_t			 psk[WG_KEY_LEN];
	uint16_t		 keepalive;	/* persistent, seconds */

	pthread_mutex_t		 lock;		/* the fields below */
	struct sockaddr_storage	 endpoint;
	socklen_t		 endpoint_len;
	bool			 endpoint_relayed;	/* a relay's address */
	struct wg_keypair	*kp_current;
	struct wg_keypair	*kp_previous;
	struct wg_keypair	*kp_next;	/* responder, unconfirmed */
	struct wg_staged	*staged_head;
	struct wg_staged	*staged_tail;
	size_t			 nstaged;

	/* Timer inputs, monotonic ns; written by any thread. */
	_Atomic uint64_t	 last_sent;
	_Atomic uint64_t	 last_data_sent;
	_Atomic uint64_t	 last_recv;
	_Atomic uint64_t	 last_data_recv;
	_Atomic uint64_t	 handshake_sent;	/* last initiation */
	_Atomic uint64_t	 attempt_start;		/* 0: not trying */
	_Atomic uint64_t	 last_session;		/* last new keypair */
	_Atomic bool		 want_handshake;
	_Atomic int64_t		 hs_sec;		/* realtime, UAPI */
	_Atomic int64_t		 hs_nsec;
	_Atomic uint64_t	 rx_bytes;
	_Atomic uint64_t	 tx_bytes;
	uint64_t		 jitter;		/* of this attempt */
};

/* Index table entry: a handshake in flight or a keypair. */
struct wg_index_ent {
	struct wg_index_ent	*next;
	uint32_t		 index;
	struct wg_peer		*peer;
	struct wg_keypair	*kp;		/* NULL: handshake */
};

struct wg_worker {
	struct wg_device	*dev;
	pthread_t		 thread;
	int			 tun_fd;
	int			 udp_fd;
	int			 epfd;
	int			 stopfd;	/* eventfd: stop */
	bool			 started;
};

/* Retired keypairs wait here until no reader can hold them. */
struct wg_grave {
	struct wg_grave		*next;
	struct wg_keypair	*kp;
};

struct wg_device {
	pthread_rwlock_t	 lock;
	struct wg_local		 local;
	uint16_t		 port;
	int			 af;		/* of the UDP sockets */
	size_t			 mtu;
	bool			 vnet_hdr;	/* TUN queues carry one */
	_Atomic bool		 udp_gso;	/* UDP_SEGMENT works */
	bool			 udp_gro;	/* sockets take UDP_GRO */
	struct wg_peer		**peers;
	size_t			 npeers;
	struct wg_allowedips	 aips;
	struct wg_index_ent	**index;	/* WG_INDEX_BUCKETS */
	size_t			 nindex;
	struct wg_worker	 workers[WG_DEVICE_MAX_THREADS];
	size_t			 nworkers;
	pthread_t		 timer;
	bool			 timer_started;
	int			 timer_stopfd;
	int			 timer_kickfd;	/* eventfd: handshakes wanted */
	int			 dead_fd;	/* eventfd: a TUN queue died */
	pthread_mutex_t		 grave_lock;
	struct wg_grave		*grave;
	wg_other_cb		 other_cb;
	void			*other_arg;
	struct sockaddr_storage	 relays[WG_DEVICE_MAX_RELAYS];	/* lock */
	socklen_t		 relay_len[WG_DEVICE_MAX_RELAYS];
	size_t			 nrelays;
	struct wg_lan_hooks	 lan;		/* lock */
	bool			 lan_on;
	_Atomic uint64_t	 hs_window;	/* second of hs_count */
	_Atomic uint64_t	 hs_count;	/* handshake msgs that second */
	_Atomic uint64_t	 under_load_until;
	struct {
		_Atomic uint64_t rx_packets, tx_packets, drop_malformed,
				 drop_no_index, drop_auth, drop_replay,
				 drop_expired, drop_source, drop_no_route,
				 drop_no_endpoint, drop_staged,
				 drop_handshake, drop_other, drop_relay,
				 lan_copies,
				 cookies_sent,
				 handshakes_done;
	} st;
};

#define WG_STAT(dev, f)	atomic_fetch_add_explicit(&(dev)->st.f, 1, \
			    memory_order_relaxed)

/* device.c */
uint64_t wg_now(void);
struct wg_peer *wg_peer_by_key(struct wg_device *, const uint8_t *);
/* An address as people write it: v4-mapped IPv6 becomes IPv4. */
void	 wg_endpoint_show(const struct sockaddr_storage *, socklen_t,
	    struct sockaddr_storage *);
/* Index table; callers hold the device write lock. */
uint32_t wg_index_add(struct wg_device *, struct wg_peer *,
	    struct wg_keypair *);
void	 wg_index_del(struct wg_device *, uint32_t);
/* Readers hold the device lock shared. */
struct wg_index_ent *wg_index_get(struct wg_device *, uint32_t);
void	 wg_keypair_retire(struct wg_device *, struct wg_keypair *);
void	 wg_grave_sweep(struct wg_device *);

/* handshake.c; all with the device write lock held. */
int	 wg_handshake_initiate(struct wg_device *, struct wg_peer *,
	    int udp_fd);
void	 wg_handshake_receive(struct wg_device *, int udp_fd,
	    uint8_t *msg, size_t len, const struct sockaddr *, socklen_t,
	    bool relayed);
bool	 wg_under_load(struct wg_device *);

/* packet.c */
void	*wg_worker_main(void *);
/* Encrypt and send one packet (or a keepalive, len 0) to the peer. */
int	 wg_send_one(struct wg_device *, struct wg_peer *, int udp_fd,
	    const uint8_t *, size_t);
int	 wg_peer_flush_staged(struct wg_device *, struct wg_peer *, int);
int	 wg_send_to_peer(struct wg_peer *, int udp_fd, const uint8_t *,
	    size_t);
/*
 * One datagram to sa; with a tag (relayed), framed as a relay SEND to
 * the peer whose key starts with it.
 */
ssize_t	 wg_sendto_framed(int udp_fd, const void *, size_t,
	    const struct sockaddr *, socklen_t, const uint8_t *tag);

/* timers.c */
void	*wg_timer_main(void *);

/*
 * Which relay carries a relayed peer is the owner's choice, measured end
 * to end (wg_device_set_endpoint); the peer may send through another,
 * and both work, so a packet from a relay does not move an endpoint
 * that is a relay already.  Peer lock held.
 */
static inline bool
wg_endpoint_follows(const struct wg_peer *p, bool relayed)
{
	return !(relayed && p->endpoint_relayed && p->endpoint_len > 0);
}

#endif
