/*
 * Control protocol, message layer: what lanraged (a node) and
 * lanrage-controld (the server) say to each other inside the encrypted,
 * mutually authenticated session of proto/control-session.md.  The
 * session names the node by its WireGuard public key, so no message
 * carries its sender's key.
 *
 * A message is a 6-byte header (type u16, id u32) and a payload.  Requests
 * (node -> server) are 0x01xx and carry a nonzero id; replies (server ->
 * node) are 0x02xx and echo it; pushes (server -> node) are 0x03xx with id
 * 0.  HELLO carries the protocol version, WELCOME confirms it, and every
 * later message of the session implies it.  Numbers are append-only.
 *
 * Payloads are encoded field by field, big-endian; decoders are pure and
 * bounded, reject short input, trailing bytes, unknown enum values and
 * flags, and never trust a sent count.  Spec and vectors: proto/control.md.
 *
 * Also here: invite links, lanrage://HOST:PORT/v1/KEY/CODE.
 */
#ifndef LR_PROTO_CONTROL_H
#define LR_PROTO_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/addr.h"
#include "../lib/buf.h"

#define CONTROL_VERSION		1
#define CONTROL_HDRLEN		6
#define CONTROL_MAXMSG		65513	/* 65519 session plaintext - header */
#define CONTROL_NAME_MAX	32	/* bytes of UTF-8 */
#define CONTROL_MAX_CANDS	16	/* endpoint candidates per node */
#define CONTROL_MAX_MEMBERS	128	/* per party: STATE fits a record */
#define CONTROL_MAX_PARTIES	32	/* per node, in WELCOME */
#define CONTROL_ERRTEXT_MAX	128
#define CONTROL_KEYLEN		32	/* X25519 public key */
#define CONTROL_IDLEN		16	/* party id */
#define CONTROL_CODELEN		16	/* invite join code */
#define CONTROL_HEARTBEAT_MIN	1	/* seconds */
#define CONTROL_HEARTBEAT_MAX	3600
#define CONTROL_MAX_RELAYS	16	/* in one RELAY_LIST */
#define CONTROL_TOKENLEN	153	/* a relay token (proto/relay.h) */
#define CONTROL_SIGNKEYLEN	32	/* Ed25519 public key */

enum control_msg_type {
	/* requests: node -> server, id != 0 */
	CONTROL_MSG_HELLO		= 0x0101,	/* -> WELCOME */
	CONTROL_MSG_PARTY_CREATE	= 0x0102,	/* -> PARTY */
	CONTROL_MSG_INVITE_CREATE	= 0x0103,	/* -> INVITE */
	CONTROL_MSG_JOIN		= 0x0104,	/* -> PARTY | APPROVAL_PENDING */
	CONTROL_MSG_LEAVE		= 0x0105,	/* -> OK */
	CONTROL_MSG_KICK		= 0x0106,	/* -> OK */
	CONTROL_MSG_CLOSE		= 0x0107,	/* -> OK */
	CONTROL_MSG_ENDPOINTS		= 0x0108,	/* -> OK */
	CONTROL_MSG_HEARTBEAT		= 0x0109,	/* -> HEARTBEAT_ACK */
	CONTROL_MSG_APPROVE		= 0x010a,	/* -> OK */
	CONTROL_MSG_RELAY_HELLO		= 0x010b,	/* relay -> RELAY_WELCOME */
	CONTROL_MSG_RELAY_REPORT	= 0x010c,	/* relay -> OK */
	CONTROL_MSG_RELAYS		= 0x010d,	/* -> RELAY_LIST */

	/* replies: server -> node, echo the request's id */
	CONTROL_MSG_OK			= 0x0201,
	CONTROL_MSG_ERROR		= 0x0202,
	CONTROL_MSG_WELCOME		= 0x0203,
	CONTROL_MSG_PARTY		= 0x0204,
	CONTROL_MSG_INVITE		= 0x0205,
	CONTROL_MSG_APPROVAL_PENDING	= 0x0206,
	CONTROL_MSG_HEARTBEAT_ACK	= 0x0207,
	CONTROL_MSG_RELAY_WELCOME	= 0x0208,
	CONTROL_MSG_RELAY_LIST		= 0x0209,

	/* pushes: server -> node, id 0 */
	CONTROL_MSG_STATE		= 0x0301,
	CONTROL_MSG_DELTA		= 0x0302,
	CONTROL_MSG_JOIN_REQUEST	= 0x0303,
};

#define CONTROL_CLASS_REQUEST	0x01
#define CONTROL_CLASS_REPLY	0x02
#define CONTROL_CLASS_PUSH	0x03

/* Refusal reasons carried by ERROR. */
enum control_err {
	CONTROL_E_MALFORMED	= 1,	/* payload did not decode */
	CONTROL_E_VERSION	= 2,	/* protocol version not supported */
	CONTROL_E_UNSUPPORTED	= 3,	/* unknown request type */
	CONTROL_E_ORDER		= 4,	/* HELLO missing or repeated */
	CONTROL_E_NO_PARTY	= 5,	/* no such party, or not a member */
	CONTROL_E_NOT_HOST	= 6,	/* only the party's host may do it */
	CONTROL_E_INVITE	= 7,	/* unknown, expired or used-up code */
	CONTROL_E_DENIED	= 8,	/* the host refused the join */
	CONTROL_E_LIMIT		= 9,	/* too many parties, members, invites */
	CONTROL_E_NO_MEMBER	= 10,	/* kick/approve target unknown */
	CONTROL_E_SELF		= 11,	/* the host cannot kick itself */
	CONTROL_E_ALREADY	= 12,	/* already a member */
	CONTROL_E_RATE		= 13,	/* rate limited: retry later */
	CONTROL_E_INTERNAL	= 14,	/* server-side failure */
	CONTROL_E_MAX		= 14
};

/* Endpoint candidate kinds. */
#define CONTROL_EP_LAN		1	/* an address of a local interface */
#define CONTROL_EP_STUN		2	/* the mapping a STUN server saw */
#define CONTROL_EP_CONFIGURED	3	/* set by the operator */
/*
 * A port the node's endpoint-dependent ("symmetric") NAT is expected to
 * give its next mapping: its allocator looked sequential to netcheck.
 * Peers probe it and the next CONTROL_EP_PREDICT_SPAN - 1 ports.
 */
#define CONTROL_EP_PREDICTED	4
#define CONTROL_EP_PREDICT_SPAN	16
/*
 * STUN-observed, with the NAT's behaviour as netcheck found it:
 * CONTROL_EP_STUN_NAT | mapping << 2 | filtering.  Peers use it to
 * choose how to punch and to say why a pair cannot be direct.
 */
#define CONTROL_EP_STUN_NAT	0x10
#define CONTROL_NAT_MAP_UNKNOWN		0
#define CONTROL_NAT_MAP_INDEPENDENT	1	/* endpoint-independent */
#define CONTROL_NAT_MAP_DEPENDENT	2	/* address (and port) dependent */
#define CONTROL_NAT_FILT_UNKNOWN	0
#define CONTROL_NAT_FILT_INDEPENDENT	1
#define CONTROL_NAT_FILT_ADDRESS	2	/* address-dependent */
#define CONTROL_NAT_FILT_PORT		3	/* address-and-port-dependent */
#define CONTROL_EP_IS_STUN(k)	((k) == CONTROL_EP_STUN || \
	((k) & 0xf0) == CONTROL_EP_STUN_NAT)
#define CONTROL_EP_NAT_MAP(k)	(((k) >> 2) & 3)
#define CONTROL_EP_NAT_FILT(k)	((k) & 3)

#define CONTROL_PARTY_HOST	0x01	/* summary flag: the node hosts it */
#define CONTROL_MEMBER_ONLINE	0x01	/* member flag */
#define CONTROL_INVITE_APPROVAL	0x01	/* invite flag: host approves joins */

#define CONTROL_APPROVE_ACCEPT	1
#define CONTROL_APPROVE_DENY	2

enum control_delta_kind {
	CONTROL_DELTA_JOINED	= 1,	/* member: the whole record */
	CONTROL_DELTA_LEFT	= 2,	/* member.key, reason */
	CONTROL_DELTA_ENDPOINTS	= 3,	/* member.key, member.ep */
	CONTROL_DELTA_CLOSED	= 4,	/* nothing more */
	CONTROL_DELTA_PRESENCE	= 5,	/* member.key, member.flags */
};

enum control_leave_reason {
	CONTROL_LEFT_LEFT	= 1,
	CONTROL_LEFT_KICKED	= 2,
	CONTROL_LEFT_EXPIRED	= 3,
};

/*
 * Header.  On decode, payload borrows the rest of the input (len bytes).
 * Requests and replies have id != 0, pushes id 0; types outside the three
 * classes are malformed, unknown types inside them are not (so that the
 * server can answer ERROR UNSUPPORTED).
 */
struct control_hdr {
	uint16_t	 type;
	uint32_t	 id;
	const uint8_t	*payload;
	size_t		 len;		/* <= CONTROL_MAXMSG */
};

/* Names are 1..CONTROL_NAME_MAX bytes of UTF-8 without control characters,
 * NUL-terminated here, length-prefixed on the wire. */
#define CONTROL_NAMESIZ		(CONTROL_NAME_MAX + 1)

/* One endpoint candidate: af AF_INET/AF_INET6, not unspecified; port != 0. */
struct control_endpoint {
	uint8_t		 kind;		/* CONTROL_EP_* */
	struct addr	 addr;
	uint16_t	 port;
};

struct control_endpoints {
	uint8_t		 n;		/* 0..CONTROL_MAX_CANDS */
	struct control_endpoint c[CONTROL_MAX_CANDS];
};

/* HELLO: node -> server, first message of a session. */
struct control_hello {
	uint16_t	 version;	/* CONTROL_VERSION */
	uint16_t	 listen_port;	/* WireGuard UDP port, != 0 */
	char		 name[CONTROL_NAMESIZ];
	struct control_endpoints ep;
};

struct control_party_summary {
	uint8_t		 id[CONTROL_IDLEN];	/* nonzero */
	char		 name[CONTROL_NAMESIZ];
	uint8_t		 flags;			/* CONTROL_PARTY_HOST */
	uint16_t	 nmembers;		/* 1..CONTROL_MAX_MEMBERS */
};

/* WELCOME: server -> node, reply to HELLO; party ids are distinct. */
struct control_welcome {
	uint16_t	 version;	/* CONTROL_VERSION */
	uint64_t	 server_time;	/* Unix seconds */
	uint16_t	 heartbeat;	/* seconds, HEARTBEAT_MIN..MAX */
	uint8_t		 nparties;	/* 0..CONTROL_MAX_PARTIES */
	struct control_party_summary parties[CONTROL_MAX_PARTIES];
};

/* PARTY_CREATE: node -> server; the sender becomes the host. */
struct control_party_create {
	char		 name[CONTROL_NAMESIZ];
};

/*
 * PARTY: server -> node, reply to PARTY_CREATE or JOIN.  subnet is
 * canonical (v4 /8../30, v6 /8../126); addr lies inside it and is neither
 * its first address nor (v4) its last.
 */
struct control_party {
	uint8_t		 id[CONTROL_IDLEN];
	char		 name[CONTROL_NAMESIZ];
	struct prefix	 subnet;
	struct addr	 addr;		/* the receiving member's address */
};

/* INVITE_CREATE: node -> server (host only); 0 means no expiry / no cap. */
struct control_invite_create {
	uint8_t		 id[CONTROL_IDLEN];
	uint32_t	 expiry;	/* seconds from creation */
	uint16_t	 max_uses;
	uint8_t		 flags;		/* CONTROL_INVITE_APPROVAL */
};

/* INVITE: server -> node; code is secret and nonzero. */
struct control_invite {
	uint8_t		 code[CONTROL_CODELEN];
	uint8_t		 id[CONTROL_IDLEN];
	uint32_t	 expiry;
	uint16_t	 max_uses;
	uint8_t		 flags;
};

/* JOIN: node -> server. */
struct control_join {
	uint8_t		 code[CONTROL_CODELEN];
};

/* LEAVE, CLOSE (host only): node -> server. */
struct control_party_ref {
	uint8_t		 id[CONTROL_IDLEN];
};

/* KICK: node -> server (host only). */
struct control_kick {
	uint8_t		 id[CONTROL_IDLEN];
	uint8_t		 key[CONTROL_KEYLEN];	/* nonzero */
};

/* APPROVE: node -> server (host only), answers a JOIN_REQUEST. */
struct control_approve {
	uint8_t		 id[CONTROL_IDLEN];
	uint8_t		 key[CONTROL_KEYLEN];
	uint8_t		 verdict;	/* CONTROL_APPROVE_* */
};

/* APPROVAL_PENDING: server -> joiner, interim reply to JOIN. */
struct control_approval_pending {
	uint8_t		 id[CONTROL_IDLEN];
	char		 name[CONTROL_NAMESIZ];	/* the party's */
};

/* JOIN_REQUEST: server -> host, push: a node waits for APPROVE. */
struct control_join_request {
	uint8_t		 id[CONTROL_IDLEN];
	uint8_t		 key[CONTROL_KEYLEN];
	char		 name[CONTROL_NAMESIZ];	/* the joiner's */
};

/* One party member as STATE and DELTA carry it. */
struct control_member {
	uint8_t		 key[CONTROL_KEYLEN];	/* nonzero */
	char		 name[CONTROL_NAMESIZ];
	struct addr	 addr;			/* virtual address */
	uint8_t		 flags;			/* CONTROL_MEMBER_ONLINE */
	struct control_endpoints ep;
};

/*
 * STATE: server -> node, push on join and after WELCOME for each party.
 * A snapshot as of seq: the next DELTA has seq + 1.  Member keys and
 * addresses are distinct, host_key is a member, addresses lie in subnet
 * (same rule as PARTY).  Large: allocate it, do not put it on a stack.
 */
struct control_state {
	uint8_t		 id[CONTROL_IDLEN];
	char		 name[CONTROL_NAMESIZ];
	struct prefix	 subnet;
	uint8_t		 host_key[CONTROL_KEYLEN];
	uint64_t	 seq;
	uint16_t	 nmembers;	/* 1..CONTROL_MAX_MEMBERS */
	struct control_member members[CONTROL_MAX_MEMBERS];
};

/*
 * DELTA: server -> node, push: one change to a party, seq != 0.  Only the
 * fields of member that the kind names are carried; the decoder zeroes
 * the others and the encoder ignores them.
 */
struct control_delta {
	uint8_t		 id[CONTROL_IDLEN];
	uint64_t	 seq;
	uint8_t		 kind;		/* enum control_delta_kind */
	uint8_t		 reason;	/* LEFT: enum control_leave_reason */
	struct control_member member;
};

/* ERROR: server -> node; text is printable ASCII, for logs only. */
struct control_error {
	uint16_t	 code;		/* enum control_err */
	char		 text[CONTROL_ERRTEXT_MAX + 1];
};

/*
 * RELAY_HELLO: a relay's first message (instead of HELLO).  region:
 * 1..32 of [a-z0-9-]; capacity: packets/s, nonzero; ep: its public
 * addresses, kind CONFIGURED only, none meaning "where this session
 * comes from".
 */
struct control_relay_hello {
	uint16_t	 version;
	uint16_t	 port;		/* the relay's UDP port */
	char		 region[CONTROL_NAMESIZ];
	uint32_t	 capacity;
	struct control_endpoints ep;
};

/* RELAY_WELCOME: report every `report` s; tokens are signed by sign_key. */
struct control_relay_welcome {
	uint16_t	 version;
	uint16_t	 report;	/* seconds, 1..3600 */
	uint8_t		 sign_key[CONTROL_SIGNKEYLEN];
};

/* RELAY_REPORT: the relay's load (0..255) and nodes bound. */
struct control_relay_report {
	uint8_t		 load;
	uint32_t	 nbound;
};

/* One relay in RELAY_LIST, with the asking node's token for it. */
struct control_relay {
	uint8_t		 key[CONTROL_KEYLEN];
	char		 region[CONTROL_NAMESIZ];
	uint8_t		 load;
	struct addr	 addr;
	uint16_t	 port;
	uint8_t		 token[CONTROL_TOKENLEN];
};

/* RELAY_LIST: the reply to RELAYS (whose payload is a party id). */
struct control_relay_list {
	uint8_t		 n;		/* 0..CONTROL_MAX_RELAYS */
	struct control_relay r[CONTROL_MAX_RELAYS];
};

/*
 * Encoders append to a buf and return 0, or -1 (ENOBUFS when full,
 * nothing written; EINVAL when the struct breaks its own invariants).
 * Decoders read exactly len bytes and return 0, or -1/EBADMSG leaving
 * the output untouched.  ENDPOINTS's payload is a bare candidate list;
 * OK, HEARTBEAT and HEARTBEAT_ACK have empty payloads.
 */
int	control_enc_hdr(struct buf *, uint16_t type, uint32_t id);
int	control_dec_hdr(const void *, size_t, struct control_hdr *);

int	control_enc_hello(struct buf *, const struct control_hello *);
int	control_dec_hello(const void *, size_t, struct control_hello *);
/* The version field of a HELLO, even one control_dec_hello refuses. */
int	control_hello_version(const void *, size_t, uint16_t *);
int	control_enc_welcome(struct buf *, const struct control_welcome *);
int	control_dec_welcome(const void *, size_t, struct control_welcome *);
int	control_enc_party_create(struct buf *,
	    const struct control_party_create *);
int	control_dec_party_create(const void *, size_t,
	    struct control_party_create *);
int	control_enc_party(struct buf *, const struct control_party *);
int	control_dec_party(const void *, size_t, struct control_party *);
int	control_enc_invite_create(struct buf *,
	    const struct control_invite_create *);
int	control_dec_invite_create(const void *, size_t,
	    struct control_invite_create *);
int	control_enc_invite(struct buf *, const struct control_invite *);
int	control_dec_invite(const void *, size_t, struct control_invite *);
int	control_enc_join(struct buf *, const struct control_join *);
int	control_dec_join(const void *, size_t, struct control_join *);
int	control_enc_party_ref(struct buf *, const struct control_party_ref *);
int	control_dec_party_ref(const void *, size_t,
	    struct control_party_ref *);
int	control_enc_kick(struct buf *, const struct control_kick *);
int	control_dec_kick(const void *, size_t, struct control_kick *);
int	control_enc_approve(struct buf *, const struct control_approve *);
int	control_dec_approve(const void *, size_t, struct control_approve *);
int	control_enc_approval_pending(struct buf *,
	    const struct control_approval_pending *);
int	control_dec_approval_pending(const void *, size_t,
	    struct control_approval_pending *);
int	control_enc_join_request(struct buf *,
	    const struct control_join_request *);
int	control_dec_join_request(const void *, size_t,
	    struct control_join_request *);
int	control_enc_endpoints(struct buf *, const struct control_endpoints *);
int	control_dec_endpoints(const void *, size_t,
	    struct control_endpoints *);
int	control_enc_state(struct buf *, const struct control_state *);
int	control_dec_state(const void *, size_t, struct control_state *);
int	control_enc_delta(struct buf *, const struct control_delta *);
int	control_dec_delta(const void *, size_t, struct control_delta *);
int	control_enc_error(struct buf *, const struct control_error *);
int	control_dec_error(const void *, size_t, struct control_error *);
int	control_enc_relay_hello(struct buf *,
	    const struct control_relay_hello *);
int	control_dec_relay_hello(const void *, size_t,
	    struct control_relay_hello *);
int	control_enc_relay_welcome(struct buf *,
	    const struct control_relay_welcome *);
int	control_dec_relay_welcome(const void *, size_t,
	    struct control_relay_welcome *);
int	control_enc_relay_report(struct buf *,
	    const struct control_relay_report *);
int	control_dec_relay_report(const void *, size_t,
	    struct control_relay_report *);
int	control_enc_relay_list(struct buf *, const struct control_relay_list *);
int	control_dec_relay_list(const void *, size_t,
	    struct control_relay_list *);
/* A relay region: 1..32 bytes of [a-z0-9-]. */
bool	control_region_valid(const char *);
/* OK, HEARTBEAT, HEARTBEAT_ACK: 0 when len is 0, else -1/EBADMSG. */
int	control_dec_empty(const void *, size_t);

/* A NUL-terminated name within CONTROL_NAME_MAX that follows the rules. */
bool	control_name_valid(const char *);

/* Fixed English text for a refusal code ("unknown error" otherwise). */
const char *control_err_str(unsigned int code);
/* Name of a message type for logs ("unknown" otherwise). */
const char *control_msg_name(unsigned int type);

/*
 * Invite links: lanrage://HOST:PORT/v1/KEY/CODE, KEY and CODE in
 * unpadded base64url.  HOST is a lowercase DNS name, a dotted IPv4
 * address or a bracketed IPv6 address, each in canonical form.
 */
#define LR_INVITE_HOSTSIZ	254	/* DNS name of 253 bytes + NUL */
#define LR_INVITE_MAXLEN	339	/* without the NUL */

struct lr_invite {
	char		 host[LR_INVITE_HOSTSIZ];	/* IPv6 without [] */
	uint16_t	 port;				/* != 0 */
	uint8_t		 server_key[CONTROL_KEYLEN];	/* nonzero */
	uint8_t		 code[CONTROL_CODELEN];		/* nonzero */
};

/* Write the link with its NUL; -1/EINVAL for a bad struct, ENOBUFS. */
int	lr_invite_format(const struct lr_invite *, char *, size_t);
/* Parse a NUL-terminated link; -1/EINVAL, output untouched, on error. */
int	lr_invite_parse(const char *, struct lr_invite *);
/*
 * HOST:PORT alone, with the link's rules for HOST ([IPv6]:PORT); host
 * gets the host without brackets.  -1/EINVAL, output untouched.
 */
#define LR_HOSTPORT_MAXLEN	(LR_INVITE_HOSTSIZ - 1 + 2 + 6)
int	lr_hostport_parse(const char *, char *host, size_t hostlen,
	    uint16_t *port);

#endif
