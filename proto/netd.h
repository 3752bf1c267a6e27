/*
 * netd IPC: the whole privileged surface between lanraged (client) and
 * lanrage-netd (server).  Frames use lib/msg.h with version NETD_VERSION;
 * every request carries an id that its one reply echoes.  Payloads are
 * encoded field by field, big-endian; decoders are pure and bounded,
 * reject short input, trailing bytes, unknown flags and enum values, and
 * never trust a sent length.  The spec with hex vectors is proto/netd.md.
 *
 * Requests (client -> netd) are 0x01xx; replies (netd -> client) 0x80xx.
 * Numbers are append-only: a changed meaning gets a new number.
 */
#ifndef LR_PROTO_NETD_H
#define LR_PROTO_NETD_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"

#define NETD_VERSION		1
#define NETD_MAXMSG		2048	/* largest payload either side sends */
#define NETD_IFNAMSIZ		16	/* IFNAMSIZ, NUL included */
#define NETD_MAX_PORT_RANGES	32
#define NETD_MAX_QOS_RULES	32
#define NETD_INJECT_MAX		1472	/* UDP payload: 1500 - 20 - 8 */
#define NETD_ERRTEXT_MAX	200

enum netd_msg_type {
	NETD_MSG_TUN_CREATE	= 0x0101,	/* -> TUN_FD + fd */
	NETD_MSG_TUN_QUEUE	= 0x0102,	/* -> TUN_FD + fd */
	NETD_MSG_LINK_DEL	= 0x0103,	/* -> OK */
	NETD_MSG_LINK_SET	= 0x0104,	/* -> OK */
	NETD_MSG_ADDR_ADD	= 0x0105,	/* -> OK */
	NETD_MSG_ADDR_DEL	= 0x0106,	/* -> OK */
	NETD_MSG_ROUTE_ADD	= 0x0107,	/* -> OK */
	NETD_MSG_ROUTE_DEL	= 0x0108,	/* -> OK */
	NETD_MSG_CAPTURE_OPEN	= 0x0109,	/* -> CAPTURE_FD + fd */
	NETD_MSG_INJECT		= 0x010a,	/* -> OK */
	NETD_MSG_QOS_SET	= 0x010b,	/* -> OK */
	NETD_MSG_QOS_CLEAR	= 0x010c,	/* -> OK */

	NETD_MSG_OK		= 0x8001,
	NETD_MSG_ERROR		= 0x8002,
	NETD_MSG_TUN_FD		= 0x8003,
	NETD_MSG_CAPTURE_FD	= 0x8004,
};

/* Refusal reasons carried by NETD_MSG_ERROR. */
enum netd_err {
	NETD_E_IFNAME		= 1,	/* name outside the allowed prefix */
	NETD_E_NOT_OURS		= 2,	/* interface netd did not create */
	NETD_E_ADDR		= 3,	/* address outside the overlay */
	NETD_E_ROUTE		= 4,	/* route outside the overlay */
	NETD_E_PORT		= 5,	/* port not allowed for capture */
	NETD_E_PROTO		= 6,	/* inject: not UDP */
	NETD_E_INJECT		= 7,	/* inject: bad source or destination */
	NETD_E_MTU		= 8,	/* MTU out of range */
	NETD_E_LIMIT		= 9,	/* too many objects in the ledger */
	NETD_E_KERNEL		= 10,	/* the kernel refused: see errno */
	NETD_E_UNSUPPORTED	= 11,	/* unknown request type */
	NETD_E_EXISTS		= 12,	/* interface name already in use */
	NETD_E_IFACE		= 13,	/* interface does not exist */
	NETD_E_MAX		= 13
};

#define NETD_TUN_VNET_HDR	0x00000001u
#define NETD_TUN_MULTI_QUEUE	0x00000002u
#define NETD_TUN_FLAGS		(NETD_TUN_VNET_HDR | NETD_TUN_MULTI_QUEUE)

#define NETD_LINK_DOWN		0
#define NETD_LINK_UP		1
#define NETD_LINK_KEEP		2	/* leave the state as it is */
#define NETD_MTU_KEEP		0

#define NETD_AF_INET		4
#define NETD_AF_INET6		6

enum netd_qos_class {
	NETD_QOS_REALTIME	= 0,	/* game traffic: highest band */
	NETD_QOS_NORMAL		= 1,
	NETD_QOS_BULK		= 2,
};

/* TUN_CREATE: name must start with netd's prefix; flags NETD_TUN_*. */
struct netd_tun_create {
	char		 ifname[NETD_IFNAMSIZ];	/* NUL-terminated */
	uint32_t	 flags;
};

/* TUN_QUEUE, LINK_DEL, QOS_CLEAR: one interface by index. */
struct netd_ifindex {
	uint32_t	 ifindex;
};

/* TUN_FD (with the queue's fd) */
struct netd_tun_fd {
	uint32_t	 ifindex;
	char		 ifname[NETD_IFNAMSIZ];
	uint32_t	 flags;
};

/* LINK_SET: mtu NETD_MTU_KEEP or 68..65535; state NETD_LINK_*. */
struct netd_link_set {
	uint32_t	 ifindex;
	uint32_t	 mtu;
	uint8_t		 state;
};

/* ADDR_ADD/DEL: an interface address with its prefix length. */
struct netd_addr {
	uint32_t	 ifindex;
	uint8_t		 family;	/* NETD_AF_INET or NETD_AF_INET6 */
	uint8_t		 prefixlen;
	uint8_t		 addr[16];	/* v4 in the first 4, rest zero */
};

/* ROUTE_ADD/DEL: a destination prefix through one of netd's links. */
struct netd_route {
	uint32_t	 ifindex;
	uint8_t		 family;
	uint8_t		 prefixlen;
	uint8_t		 dst[16];	/* host bits must be zero */
	uint32_t	 metric;
};

struct netd_port_range {
	uint16_t	 lo;
	uint16_t	 hi;		/* lo <= hi */
};

/* CAPTURE_OPEN: UDP broadcast/multicast to these ports on ifindex. */
struct netd_capture_open {
	uint32_t	 ifindex;
	uint8_t		 nranges;	/* 1..NETD_MAX_PORT_RANGES */
	struct netd_port_range ranges[NETD_MAX_PORT_RANGES];
};

/* CAPTURE_FD (with the AF_PACKET socket) */
struct netd_capture_fd {
	uint32_t	 ifindex;
};

/* INJECT: one IPv4 datagram that netd builds and sends on ifindex. */
struct netd_inject {
	uint32_t	 ifindex;
	uint8_t		 proto;		/* must be 17 (UDP) */
	uint8_t		 ttl;		/* 1..255 */
	uint8_t		 src[4];
	uint16_t	 sport;
	uint8_t		 dst[4];
	uint16_t	 dport;
	uint16_t	 len;		/* 0..NETD_INJECT_MAX */
	const uint8_t	*payload;	/* borrowed from the frame */
};

struct netd_qos_rule {
	uint8_t		 proto;		/* 6 (TCP) or 17 (UDP) */
	uint16_t	 port_lo;
	uint16_t	 port_hi;
	uint8_t		 class;		/* enum netd_qos_class */
};

/* QOS_SET: replaces every rule on ifindex. */
struct netd_qos_set {
	uint32_t	 ifindex;
	uint8_t		 nrules;	/* 1..NETD_MAX_QOS_RULES */
	struct netd_qos_rule rules[NETD_MAX_QOS_RULES];
};

/* ERROR: code from enum netd_err, errno for NETD_E_KERNEL, a text. */
struct netd_error {
	uint16_t	 code;
	uint32_t	 sys_errno;
	char		 text[NETD_ERRTEXT_MAX + 1];	/* NUL-terminated */
};

/*
 * Encoders append to a buf and return 0, or -1 (ENOBUFS when full,
 * EINVAL when the struct breaks its own invariants).  Decoders read
 * exactly len bytes and return 0, or -1/EBADMSG.
 */
int	netd_enc_tun_create(struct buf *, const struct netd_tun_create *);
int	netd_dec_tun_create(const void *, size_t, struct netd_tun_create *);
int	netd_enc_ifindex(struct buf *, const struct netd_ifindex *);
int	netd_dec_ifindex(const void *, size_t, struct netd_ifindex *);
int	netd_enc_tun_fd(struct buf *, const struct netd_tun_fd *);
int	netd_dec_tun_fd(const void *, size_t, struct netd_tun_fd *);
int	netd_enc_link_set(struct buf *, const struct netd_link_set *);
int	netd_dec_link_set(const void *, size_t, struct netd_link_set *);
int	netd_enc_addr(struct buf *, const struct netd_addr *);
int	netd_dec_addr(const void *, size_t, struct netd_addr *);
int	netd_enc_route(struct buf *, const struct netd_route *);
int	netd_dec_route(const void *, size_t, struct netd_route *);
int	netd_enc_capture_open(struct buf *, const struct netd_capture_open *);
int	netd_dec_capture_open(const void *, size_t,
	    struct netd_capture_open *);
int	netd_enc_capture_fd(struct buf *, const struct netd_capture_fd *);
int	netd_dec_capture_fd(const void *, size_t, struct netd_capture_fd *);
int	netd_enc_inject(struct buf *, const struct netd_inject *);
int	netd_dec_inject(const void *, size_t, struct netd_inject *);
int	netd_enc_qos_set(struct buf *, const struct netd_qos_set *);
int	netd_dec_qos_set(const void *, size_t, struct netd_qos_set *);
int	netd_enc_error(struct buf *, const struct netd_error *);
int	netd_dec_error(const void *, size_t, struct netd_error *);

/* Fixed English text for a refusal code ("unknown error" otherwise). */
const char *netd_err_str(unsigned int code);
/* Name of a message type for logs ("unknown" otherwise). */
const char *netd_msg_name(unsigned int type);

#endif
