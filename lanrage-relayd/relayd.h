/*
 * lanrage-relayd: the stateless relay (proto/relay.md).  Worker threads
 * own one SO_REUSEPORT socket each and move batches; the bindings table
 * (rtab) is the only shared state, soft and bounded; the main thread
 * runs the event loop: expiry, the metrics listener, signals and the
 * registration with lanrage-controld.  See lanrage-relayd(8).
 */
#ifndef LR_LANRAGE_RELAYD_RELAYD_H
#define LR_LANRAGE_RELAYD_RELAYD_H

#include <sys/socket.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/conf.h"
#include "proto/control.h"
#include "proto/relay.h"

#define RELAYD_MAX_WORKERS	16
#define RELAYD_BATCH		64
#define RELAYD_PATH_MAX		256
#define RELAYD_B64_MAX		64
#define RELAYD_PARTY_MAX	CONTROL_MAX_MEMBERS	/* nodes per party */

/* relayd.conf, section [Relayd]. */
struct relayd_conf {
	char			 listen[LR_SOCKADDR_STRLEN];
	char			 keyfile[RELAYD_PATH_MAX];
	char			 token_key[RELAYD_B64_MAX];
	unsigned long		 workers;	/* 0: one per CPU */
	char			 control[LR_HOSTPORT_MAXLEN + 1];
	char			 control_key[RELAYD_B64_MAX];
	char			 region[CONTROL_NAMESIZ];
	unsigned long		 capacity;	/* packets/s */
	char			 public_addr[LR_SOCKADDR_STRLEN];
	char			 metrics[LR_SOCKADDR_STRLEN];
	struct conf_user	 user;
	char			 chroot[RELAYD_PATH_MAX];
	unsigned long		 max_bindings;
	unsigned long		 bind_rate;	/* BINDs/s per source address */
	unsigned long		 bind_burst;
	unsigned long		 bind_budget;	/* BINDs/s per worker, all */
	unsigned long		 packet_rate;	/* SENDs/s per bound node */
	/* parsed */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct sockaddr_storage	 mss;		/* metrics; family 0: off */
	socklen_t		 msslen;
	bool			 have_token_key;
	uint8_t			 token_pk[RELAY_SIGNKEYLEN];
	uint8_t			 control_pk[32];
	bool			 have_public;
	struct addr		 public_addr_a;
};

/* Drop reasons, counted per worker; names in relayd_drop_name(). */
enum relayd_drop {
	RD_MALFORMED,		/* not a relay frame, or a bad one */
	RD_UNBOUND,		/* SEND or PING from no binding */
	RD_RATE,		/* per-source or per-node rate */
	RD_BUDGET,		/* the worker's BIND budget */
	RD_BAD_TOKEN,		/* signature or fields */
	RD_EXPIRED,		/* token expired */
	RD_WRONG_RELAY,		/* token for another relay */
	RD_NO_KEY,		/* no token key yet */
	RD_BAD_BOX,		/* BIND box does not open */
	RD_SKEW,		/* BIND time too far from ours */
	RD_REPLAY,		/* BIND older than the binding's */
	RD_TAG_CONFLICT,	/* tag bound to another key in the party */
	RD_ADDR_BUSY,		/* source bound to another node */
	RD_FULL,		/* MaxBindings, or the party is full */
	RD_NO_DEST,		/* destination tag not bound in the party */
	RD_SEND_FAILED,
	RD_NDROPS
};

struct relayd_stats {
	_Atomic uint64_t	 rx_packets, rx_bytes;
	_Atomic uint64_t	 fwd_packets, fwd_bytes;
	_Atomic uint64_t	 tx_packets, tx_bytes;	/* all we sent */
	_Atomic uint64_t	 binds, pongs;
	_Atomic uint64_t	 drops[RD_NDROPS];
};

/* rtab.c: the bindings, shared by every worker. */
struct rtab;

struct rtab_bind_req {
	uint8_t			 node[RELAY_KEYLEN];
	uint8_t			 party[RELAY_IDLEN];
	uint64_t		 time_ms;	/* from the BIND box */
	const struct sockaddr	*sa;
	socklen_t		 salen;
};

/* A destination found for a SEND: where, and the sender's tag. */
struct rtab_fwd {
	struct sockaddr_storage	 dst;
	socklen_t		 dstlen;
	uint8_t			 src_tag[RELAY_TAGLEN];
};

struct rtab	*rtab_new(size_t max_bindings, unsigned packet_rate);
void		 rtab_free(struct rtab *);
/* Readers (the forwarding path) hold it shared, a batch at a time. */
void		 rtab_rdlock(struct rtab *);
void		 rtab_wrlock(struct rtab *);
void		 rtab_unlock(struct rtab *);
/*
 * Bind (write lock held): 0 and *nbound (nodes of the party), or -1
 * with the drop reason in *why.  now: monotonic seconds.
 */
int		 rtab_bind(struct rtab *, const struct rtab_bind_req *,
		    uint64_t now, uint32_t *nbound, enum relayd_drop *why);
/* Is sa bound (read lock held)? */
bool		 rtab_bound(struct rtab *, const struct sockaddr *, socklen_t);
/* Route a SEND from sa to tag (read lock held): 0, or -1 and *why. */
int		 rtab_route(struct rtab *, const struct sockaddr *, socklen_t,
		    const uint8_t tag[RELAY_TAGLEN], uint64_t now,
		    struct rtab_fwd *, enum relayd_drop *why);
/* Drop bindings that expired (write lock held); how many went. */
size_t		 rtab_expire(struct rtab *, uint64_t now);
size_t		 rtab_nbindings(struct rtab *);
size_t		 rtab_nparties(struct rtab *);

/* worker.c */
struct relayd_worker {
	pthread_t		 thread;
	int			 fd;
	int			 stopfd;	/* eventfd */
	size_t			 id;
	bool			 gro, gso;
	struct relayd_stats	 st;
	/* BIND budget, per-source buckets (this worker's sources only) */
	uint64_t		 budget_sec;
	uint32_t		 budget_used;
	uint64_t		*src_tokens;	/* milli-BINDs, RELAYD_SRC_BUCKETS */
	uint64_t		*src_ms;
};

struct relayd_ctx {
	const struct relayd_conf *conf;
	struct rtab		*tab;
	uint8_t			 priv[32];
	uint8_t			 pub[32];
	_Atomic bool		 have_key;
	uint8_t			 token_pk[RELAY_SIGNKEYLEN];	/* key_lock */
	pthread_mutex_t		 key_lock;
	struct relayd_worker	 w[RELAYD_MAX_WORKERS];
	size_t			 nworkers;
	_Atomic uint64_t	 fwd_window;	/* forwarded, last second */
};

int		 relayd_worker_socket(const struct relayd_conf *, bool *gro);
int		 relayd_workers_start(struct relayd_ctx *);
void		 relayd_workers_stop(struct relayd_ctx *);
/* The token verification key, replaced at any time (controld's). */
void		 relayd_set_token_key(struct relayd_ctx *,
		    const uint8_t pk[RELAY_SIGNKEYLEN]);
/* Sum of every worker's counters. */
void		 relayd_stats_sum(struct relayd_ctx *, struct relayd_stats *);
const char	*relayd_drop_name(enum relayd_drop);
/* Forwarding load over Capacity, 0..255. */
uint8_t		 relayd_load(struct relayd_ctx *);

/* metrics.c: Prometheus text on a loopback port; and to the log. */
int		 relayd_metrics_text(struct relayd_ctx *, char *, size_t);
int		 relayd_metrics_listen(struct relayd_ctx *);
int		 relayd_metrics_start(struct relayd_ctx *);
void		 relayd_metrics_log(struct relayd_ctx *);
void		 relayd_metrics_free(void);

/* register.c: the session with lanrage-controld. */
int		 relayd_register_start(struct relayd_ctx *);
void		 relayd_register_stop(void);

#endif
