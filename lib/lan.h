/*
 * LAN discovery traffic carried across a party (lanraged/lan.c): the
 * parser of the IPv4 and UDP headers it is sorted by, the policy of what
 * is carried (destination kinds, ports, groups, loops), duplicate
 * suppression and token buckets.  Pure: no I/O, no locks, no clock of
 * its own; callers pass the time in milliseconds.
 */
#ifndef LR_LIB_LAN_H
#define LR_LIB_LAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

#define LAN_MAX_GROUPS		16
#define LAN_DUP_SLOTS		1024	/* power of two */
#define LAN_DUP_PROBE		8
#define LAN_DUP_MS		100	/* a copy within this is a duplicate */
#define LAN_PORT_BUCKETS	128	/* ports with a bucket of their own */
#define LAN_RATE_MAX		100000	/* datagrams/s, a setting's bound */

/* A UDP datagram in an IPv4 packet; addresses in host order. */
struct lan_dgram {
	uint32_t	 src;
	uint32_t	 dst;
	uint16_t	 sport;
	uint16_t	 dport;
	uint16_t	 ipid;
	const uint8_t	*payload;	/* inside the packet parsed */
	size_t		 plen;
};

/*
 * Parse an IPv4 packet carrying one whole UDP datagram: version 4, a
 * header length within the packet, no fragment, protocol 17, UDP length
 * equal to what the IP length leaves.  -1/EINVAL otherwise.  Bytes after
 * the IP total length (padding) are ignored.
 */
int	 lan_parse(const uint8_t *pkt, size_t len, struct lan_dgram *);

enum lan_dst {
	LAN_DST_OTHER = 0,	/* unicast, or a broadcast not ours */
	LAN_DST_LIMITED,	/* 255.255.255.255 */
	LAN_DST_SUBNET,		/* the party subnet's directed broadcast */
	LAN_DST_GROUP,		/* a multicast group we carry */
	LAN_DST_MCAST_OTHER,	/* multicast, not a group we carry */
};

/* What is carried; set from the settings and the party address. */
struct lan_policy {
	struct conf_ports ports;		/* destination ports */
	uint32_t	 groups[LAN_MAX_GROUPS];
	size_t		 ngroups;
	uint32_t	 self;			/* our address; 0: none */
	uint32_t	 net;			/* the party subnet */
	uint32_t	 mask;
};

enum lan_verdict {
	LAN_CARRY = 0,
	LAN_FILTERED,		/* a port, group or kind we do not carry */
	LAN_LOOP,		/* not from the node it should come from */
};

enum lan_dst lan_dst_kind(const struct lan_policy *, uint32_t dst);
bool	 lan_port_carried(const struct lan_policy *, uint16_t port);
/* A datagram this host sent: carry it to the party? */
enum lan_verdict lan_check_out(const struct lan_policy *,
	    const struct lan_dgram *);
/* One from the peer at peer_addr: deliver it here? */
enum lan_verdict lan_check_in(const struct lan_policy *,
	    const struct lan_dgram *, uint32_t peer_addr);
/*
 * "224.0.0.251, 239.255.255.250": at most LAN_MAX_GROUPS IPv4 multicast
 * addresses (224.0.0.0/4).  -1 with a reason in why.
 */
int	 lan_parse_groups(const char *, uint32_t *groups, size_t *n,
	    const char **why);

/*
 * Duplicate suppression: a keyed hash (the key is random per table) of
 * source, destination, ports, IP identification and payload, kept for
 * LAN_DUP_MS in a bounded open-addressed table.
 */
struct lan_dedup {
	uint64_t	 hash[LAN_DUP_SLOTS];
	uint64_t	 until[LAN_DUP_SLOTS];	/* ms; 0: free */
	uint8_t		 key[16];
};

void	 lan_dedup_init(struct lan_dedup *);
/* True when d was seen within LAN_DUP_MS; else it is remembered. */
bool	 lan_dedup_seen(struct lan_dedup *, const struct lan_dgram *,
	    uint64_t now_ms);

/* A token bucket of rate per second and a burst of twice that. */
struct lan_bucket {
	uint64_t	 last_ms;
	uint64_t	 milli;		/* tokens, in thousandths */
};

bool	 lan_bucket_take(struct lan_bucket *, uint32_t rate, uint64_t now_ms);

/* One bucket per destination port, the least recently used recycled. */
struct lan_port_buckets {
	uint16_t	 port[LAN_PORT_BUCKETS];
	bool		 used[LAN_PORT_BUCKETS];
	struct lan_bucket b[LAN_PORT_BUCKETS];
};

bool	 lan_port_take(struct lan_port_buckets *, uint16_t port,
	    uint32_t rate, uint64_t now_ms);

#endif
