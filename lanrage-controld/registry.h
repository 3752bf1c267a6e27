/*
 * The registry of lanrage-controld: nodes, parties, members, address
 * allocations, invites and relays, kept in SQLite (lib/db.h).  No
 * networking and no logging: the caller decides what an event means.
 *
 * Every function returns 0, or -1 with errno (EINVAL for a bad argument,
 * EIO for a database failure, including a write lock that another process
 * held longer than DB_BUSY_TIMEOUT_MS; ENOMEM).  Every mutating call is one
 * IMMEDIATE transaction, so a crash (kill -9) at any point leaves the
 * database as it was before or after that call.  The database runs with
 * synchronous = NORMAL: after a power loss the last commits may be lost,
 * never consistency; a process crash loses nothing committed.
 *
 * Keys are WireGuard public keys (REG_KEY_LEN bytes); parties are named by
 * REG_PARTY_ID_LEN random bytes.  Times are seconds (any epoch, >= 0) given
 * by the caller, so tests control the clock.
 *
 * Callbacks run while a statement is active: they must not call reg_*.
 * The reg handle is for one thread.
 *
 * Membership states.  A node becomes INVITED (or PENDING, when the invite
 * needs the host's approval) by redeeming an invite; an INVITED or EXPIRED
 * node may join, which makes it ACTIVE.  An ACTIVE member that leaves is
 * LEFT, one that the host removes is KICKED, one that misses heartbeats is
 * EXPIRED.  LEFT and KICKED nodes need a new invite to come back; an
 * EXPIRED one (a dropped connection) rejoins directly.
 *
 * Addresses (IPv4 only).  A party's subnet is a canonical prefix from /8 to
 * /30 (default 10.66.0.0/16).  Host number n of the subnet is address
 * network + n; 0 (network) and the last one (broadcast) are never given
 * out, 1 is the host's for the life of the party.  A joining node gets
 * its earlier allocation back if it had one, else the lowest free host
 * number.  Allocations outlive membership (leave, kick, expiry), so a
 * returning member keeps its address; only when the subnet has no free
 * number left is the allocation of a non-member reclaimed, the one whose
 * membership ended longest ago (never the host's).  ENOSPC when every
 * number belongs to an active, pending or invited member.
 *
 * Heartbeats are batched: reg_heartbeat() only records (node, time) in
 * memory; reg_flush() writes all recorded heartbeats in one transaction
 * (one UPDATE of members by the members(node) index, one of nodes, per
 * entry).  The server calls reg_flush() once a second or so: 10,000 nodes
 * beating every 10 s cost one commit a second instead of 1000.  The
 * buffer holds REG_HB_BATCH entries and is flushed when full;
 * reg_expire() and reg_close() flush first.  Until flushed, the
 * last_heartbeat values that readers see lag by up to one interval.
 * After a restart every member's last heartbeat is old: the server should
 * wait one member timeout after start before its first reg_expire().
 */
#ifndef LR_LANRAGE_CONTROLD_REGISTRY_H
#define LR_LANRAGE_CONTROLD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define REG_KEY_LEN		32
#define REG_PARTY_ID_LEN	16
#define REG_CODE_LEN		16	/* invite secret; only its hash is kept */
#define REG_NAME_MAX		64	/* bytes, names of nodes and parties */
#define REG_REGION_MAX		32
#define REG_MAX_PARTIES_PER_HOST 16
#define REG_MAX_MEMBERS		256	/* ACTIVE + PENDING per party */
#define REG_MAX_INVITES		64	/* unexpired invites per party */
#define REG_INVITE_MAX_USES	1024
#define REG_HB_BATCH		4096
#define REG_DEFAULT_SUBNET	"10.66.0.0/16"
#define REG_SUBNET_MINLEN	8
#define REG_SUBNET_MAXLEN	30

enum reg_state {
	REG_MEMBER_ACTIVE = 1,
	REG_MEMBER_INVITED = 2,
	REG_MEMBER_PENDING = 3,
	REG_MEMBER_LEFT = 4,
	REG_MEMBER_KICKED = 5,
	REG_MEMBER_EXPIRED = 6,
};

enum reg_event_type {
	REG_EV_MEMBER_EXPIRED = 1,	/* party, node */
	REG_EV_PARTY_REMOVED = 2,	/* party; node is zero */
	REG_EV_RELAY_EXPIRED = 3,	/* node is the relay's key */
};

struct reg;

/* One member of a party, as reg_party_members() reports it. */
struct reg_member {
	uint8_t		 node[REG_KEY_LEN];
	char		 name[REG_NAME_MAX + 1];
	enum reg_state	 state;		/* ACTIVE or PENDING */
	bool		 is_host;
	bool		 has_addr;	/* PENDING members have none yet */
	struct addr	 addr;
	int64_t		 joined_at;	/* 0 if never joined */
	int64_t		 last_heartbeat;
};

/* One party of a node, as reg_node_parties() reports it. */
struct reg_party {
	uint8_t		 id[REG_PARTY_ID_LEN];
	char		 name[REG_NAME_MAX + 1];
	uint8_t		 host[REG_KEY_LEN];
	struct prefix	 subnet;
	struct addr	 addr;		/* this node's address in it */
	int64_t		 created;
};

struct reg_relay {
	uint8_t		 key[REG_KEY_LEN];
	char		 addr[LR_SOCKADDR_STRLEN];	/* "ip:port" */
	char		 region[REG_REGION_MAX + 1];
	uint32_t	 capacity;
	uint32_t	 load;
	int64_t		 last_report;
};

struct reg_event {
	enum reg_event_type type;
	uint8_t		 party[REG_PARTY_ID_LEN];
	uint8_t		 node[REG_KEY_LEN];
};

/* Open (creating and migrating) the database at path; *out owns it. */
int	 reg_open(const char *path, struct reg **out);
/* Flush heartbeats and close; NULL is a no-op. */
void	 reg_close(struct reg *);

/* Register a node or refresh its name and last_seen. */
int	 reg_node_seen(struct reg *, const uint8_t key[REG_KEY_LEN],
	    const char *name, int64_t now);

/*
 * Create a party hosted by a registered node (ENOENT otherwise), with the
 * host as its first ACTIVE member at host number 1.  subnet NULL means
 * REG_DEFAULT_SUBNET.  EDQUOT when the host already has
 * REG_MAX_PARTIES_PER_HOST parties.
 */
int	 reg_party_create(struct reg *, const uint8_t host[REG_KEY_LEN],
	    const char *name, const struct prefix *subnet, int64_t now,
	    uint8_t id_out[REG_PARTY_ID_LEN], struct addr *host_addr);
/* Remove a party and, by cascade, its members, invites, allocations. */
int	 reg_party_close(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t host[REG_KEY_LEN]);

/*
 * Store an invite under the hash of code (random, made by the caller),
 * valid until expires_at (> now) for max_uses redemptions (1 to
 * REG_INVITE_MAX_USES).  EPERM unless host is the party's host; ENOENT
 * for an unknown party; EEXIST if the code is already in use; EDQUOT at
 * REG_MAX_INVITES unexpired invites.
 */
int	 reg_invite_create(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t host[REG_KEY_LEN], const uint8_t code[REG_CODE_LEN],
	    int64_t now, int64_t expires_at, unsigned max_uses,
	    bool needs_approval);
/*
 * Redeem an invite for a registered node: ENOENT unknown code (or node),
 * ETIMEDOUT expired, EUSERS used up.  On success the use is counted and
 * the node is INVITED (PENDING if the invite needs approval); a node that
 * is already ACTIVE, PENDING or INVITED uses nothing.  *party_out and
 * *state_out (either may be NULL) say where it stands.
 */
int	 reg_invite_redeem(struct reg *, const uint8_t code[REG_CODE_LEN],
	    const uint8_t node[REG_KEY_LEN], int64_t now,
	    uint8_t party_out[REG_PARTY_ID_LEN], enum reg_state *state_out);
/* The host lets a PENDING node in (it becomes INVITED).  ENOENT if none. */
int	 reg_member_approve(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t host[REG_KEY_LEN], const uint8_t node[REG_KEY_LEN]);

/*
 * Make an INVITED or EXPIRED node ACTIVE with its address in *addr.  An
 * ACTIVE node gets its address again.  ENOENT unknown party; EPERM no
 * admission (never invited, LEFT or KICKED); EACCES still PENDING;
 * EDQUOT at REG_MAX_MEMBERS; ENOSPC subnet full.
 */
int	 reg_member_join(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t node[REG_KEY_LEN], int64_t now, struct addr *addr);
/* An ACTIVE member leaves (LEFT); ENOENT if it is not ACTIVE. */
int	 reg_member_leave(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t node[REG_KEY_LEN], int64_t now);
/*
 * The host removes an ACTIVE, PENDING or INVITED member (KICKED).  EPERM
 * unless host is the host; EINVAL for the host itself; ENOENT if none.
 */
int	 reg_member_kick(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    const uint8_t host[REG_KEY_LEN], const uint8_t member[REG_KEY_LEN],
	    int64_t now);

/* Record a heartbeat of node for all its ACTIVE memberships (batched). */
int	 reg_heartbeat(struct reg *, const uint8_t node[REG_KEY_LEN],
	    int64_t now);
/* Write the recorded heartbeats in one transaction. */
int	 reg_flush(struct reg *);

/*
 * Flush, then in one transaction: ACTIVE members whose last heartbeat is
 * older than now - member_timeout become EXPIRED (allocation kept);
 * parties empty since now - party_grace or earlier are removed; invites
 * past their expiry are deleted.  After the commit cb (may be NULL) is
 * called once per expired member and per removed party.
 */
int	 reg_expire(struct reg *, int64_t now, int64_t member_timeout,
	    int64_t party_grace,
	    void (*cb)(const struct reg_event *, void *), void *arg);

/* The ACTIVE and PENDING members of a party (ENOENT if no such party). */
int	 reg_party_members(struct reg *, const uint8_t party[REG_PARTY_ID_LEN],
	    void (*cb)(const struct reg_member *, void *), void *arg);
/* The parties where node is ACTIVE. */
int	 reg_node_parties(struct reg *, const uint8_t node[REG_KEY_LEN],
	    void (*cb)(const struct reg_party *, void *), void *arg);

/*
 * A relay reports itself: addr is "ip:port", region 1 to REG_REGION_MAX
 * bytes, load <= capacity.  Inserted or replaced by key.
 */
int	 reg_relay_report(struct reg *, const uint8_t key[REG_KEY_LEN],
	    const char *addr, const char *region, uint32_t capacity,
	    uint32_t load, int64_t now);
/* Relays by region, then load. */
int	 reg_relay_list(struct reg *,
	    void (*cb)(const struct reg_relay *, void *), void *arg);
/* Remove relays silent since now - timeout; cb after the commit. */
int	 reg_relay_expire(struct reg *, int64_t now, int64_t timeout,
	    void (*cb)(const struct reg_event *, void *), void *arg);

#endif
