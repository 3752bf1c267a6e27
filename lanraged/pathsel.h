/*
 * Path selection for one peer, without I/O: which candidate addresses
 * to ping and when, what their pongs say (RTT, jitter, loss), which path
 * is best, and in words why a peer has the path it has.  paths.c does
 * the sending; this is what tests/unit/check_pathsel.c checks.
 *
 * Times are milliseconds of a monotonic clock; RTTs microseconds.
 */
#ifndef LR_LANRAGED_PATHSEL_H
#define LR_LANRAGED_PATHSEL_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_MAX_PATHS	24	/* published candidates + learned ones */
#define PS_MAX_LEARNED	8	/* of them, from where pings came */
#define PS_DEAD_MISSES	3	/* unanswered pings in a row: path dead */
#define PS_PONG_WAIT_MS	2000	/* a ping unanswered this long is lost */
#define PS_BEST_EVERY	1000	/* ping the chosen path (measurement) */
#define PS_OTHER_EVERY	10000	/* re-validate the others */
#define PS_LOSS_WINDOW	32	/* pings the loss figure covers */
#define PS_REASON_MAX	96
/* Punching: 0, 100, 200, 400, 800 ms, then every second up to 10 s,
 * then every 5 s up to a minute, then every 30 s. */
#define PS_PUNCH_FAST_MS	1000
#define PS_PUNCH_MID_MS		10000
#define PS_PUNCH_SLOW_MS	60000

enum ps_kind {
	PS_LAN = 1,		/* an address of the peer's host */
	PS_STUN,		/* its NAT's mapping, seen by STUN */
	PS_CONFIGURED,
	PS_LEARNED,		/* where its authenticated disco came from */
	PS_RELAY,		/* a relay, measured end to end (paths.c) */
};

/* A NAT as netcheck classifies it (control.h's CONTROL_NAT_* codes). */
struct ps_nat {
	bool		 known;		/* netcheck ran and found a mapping */
	bool		 behind;	/* mapped address is not a local one */
	uint8_t		 mapping;
	uint8_t		 filtering;
};

struct ps_path {
	struct sockaddr_storage	 sa;
	uint8_t			 kind;		/* enum ps_kind */
	bool			 published;	/* in the peer's candidates */
	uint64_t		 since_ms;	/* punching schedule start */
	uint64_t		 last_ping_ms;
	uint64_t		 last_pong_ms;	/* 0: never validated */
	uint32_t		 pings;		/* sent since since_ms */
	uint32_t		 rtt_us, srtt_us, jitter_us;
	uint32_t		 window;	/* bit set: ping answered */
	uint8_t			 nwindow;	/* pings in window */
	uint8_t			 misses;	/* in a row */
};

struct ps_peer {
	struct ps_path		 paths[PS_MAX_PATHS];
	size_t			 npaths;
	int			 best;		/* index, or -1 */
	int			 in_use;	/* WireGuard's endpoint, or -1:
						   roaming may differ from best */
	struct ps_nat		 nat;		/* the peer's, from its kinds */
	uint64_t		 appeared_ms;	/* candidates first known */
	uint64_t		 direct_ms;	/* first validated (0: not yet) */
	char			 why[PS_REASON_MAX];	/* last switch */
};

void	 ps_peer_init(struct ps_peer *, uint64_t now);
/*
 * Add a path (or find it): its index, or -1 when full.  A learned path
 * replaces the oldest dead learned one when the learned share is full.
 */
int	 ps_path_add(struct ps_peer *, const struct sockaddr *, socklen_t,
	    uint8_t kind, uint64_t now);
int	 ps_path_find(const struct ps_peer *, const struct sockaddr *);
/* Drop published paths not marked published, keeping learned ones. */
void	 ps_prune(struct ps_peer *);

/* Is a ping to path i due now? */
bool	 ps_ping_due(const struct ps_peer *, size_t i, uint64_t now);
void	 ps_ping_sent(struct ps_path *, uint64_t now);
/* A pong after rtt_us; a ping given up on. */
void	 ps_pong(struct ps_path *, uint32_t rtt_us, uint64_t now);
void	 ps_lost(struct ps_path *, uint64_t now);
bool	 ps_alive(const struct ps_path *);
/* Percent of the window's pings unanswered; -1 with none in it. */
int	 ps_loss_pct(const struct ps_path *);

/*
 * Choose the best live path (the peer's own LAN before anything public,
 * then the lowest RTT; a live current path is left only for a clearly
 * better one).  True when best changed; why says how.
 */
bool	 ps_select(struct ps_peer *, uint64_t now);

const char *ps_kind_name(uint8_t kind);
const char *ps_nat_name(const struct ps_nat *);
/* Can a direct path exist between NATs a and b? If not, why. */
bool	 ps_direct_possible(const struct ps_nat *a, const struct ps_nat *b,
	    char *why, size_t len);
/* The reason lanragectl shows: "direct: ..." or "none: ...". */
void	 ps_reason(const struct ps_peer *, const struct ps_nat *self,
	    uint64_t now, char *buf, size_t len);

/*
 * Birthday probing (RFC-less, after the birthday paradox): a peer behind
 * an endpoint-dependent NAT whose ports cannot be predicted, this node
 * behind an endpoint-independent mapping; worth it only then.
 */
bool	 ps_birthday_wanted(const struct ps_peer *, const struct ps_nat *self,
	    uint64_t now);

#endif
