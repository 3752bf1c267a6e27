/*
 * STUN (RFC 8489) as LANrage uses it: Binding requests and responses
 * between a node and the responder built into lanrage-controld, on the
 * node's WireGuard UDP socket, plus the NAT-behaviour attributes of
 * RFC 5780 (CHANGE-REQUEST, RESPONSE-ORIGIN, OTHER-ADDRESS).
 *
 * No credentials: the responder answers anyone, and a node accepts a
 * response only for a transaction it started (random 96-bit id) from
 * the server it asked.  MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256
 * are recognised and skipped, never verified.  FINGERPRINT (CRC-32 of
 * RFC 8489 section 14.7) is checked when present and added on request.
 *
 * Decoders are pure and bounded: they reject short input, a length that
 * disagrees with the datagram, attributes that overrun, bad padding,
 * malformed known attributes and a wrong FINGERPRINT.  Unknown
 * comprehension-required attributes (type < 0x8000) are collected, so a
 * server can answer 420; unknown optional ones are ignored.  Spec and
 * vectors (RFC 5769 included): proto/stun.md.
 *
 * Classic STUN (RFC 3489, no magic cookie) has a codec of its own,
 * stun_classic_*, for the responder's opt-in answers to old clients.
 */
#ifndef LR_PROTO_STUN_H
#define LR_PROTO_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/addr.h"
#include "../lib/buf.h"

#define STUN_HDRLEN		20
#define STUN_MAGIC		0x2112a442
#define STUN_TXIDLEN		12
#define STUN_MAXMSG		1280	/* largest datagram decoded or built */
#define STUN_TEXT_MAX		127	/* SOFTWARE, error reason: bytes kept */
#define STUN_MAX_UNKNOWN	8
#define STUN_PADDING_MAX	512	/* bytes of PADDING encoded */

#define STUN_METHOD_BINDING	0x001

enum stun_class {
	STUN_REQUEST		= 0,
	STUN_INDICATION		= 1,
	STUN_SUCCESS		= 2,
	STUN_ERROR		= 3,
};

/* Attribute types. */
#define STUN_ATTR_MAPPED_ADDRESS	0x0001
#define STUN_ATTR_CHANGE_REQUEST	0x0003
#define STUN_ATTR_SOURCE_ADDRESS	0x0004	/* RFC 3489 */
#define STUN_ATTR_CHANGED_ADDRESS	0x0005	/* RFC 3489 */
#define STUN_ATTR_USERNAME		0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY	0x0008
#define STUN_ATTR_ERROR_CODE		0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES	0x000a
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001c
#define STUN_ATTR_XOR_MAPPED_ADDRESS	0x0020
#define STUN_ATTR_PADDING		0x0026	/* RFC 5780 */
#define STUN_ATTR_SOFTWARE		0x8022
#define STUN_ATTR_FINGERPRINT		0x8028
#define STUN_ATTR_RESPONSE_ORIGIN	0x802b
#define STUN_ATTR_OTHER_ADDRESS		0x802c

/* CHANGE-REQUEST flags (RFC 5780). */
#define STUN_CHANGE_IP		0x04
#define STUN_CHANGE_PORT	0x02

/* An address attribute: af AF_INET or AF_INET6, port any. */
struct stun_addr {
	bool		 present;
	struct addr	 addr;
	uint16_t	 port;
};

struct stun_msg {
	uint16_t	 method;		/* 12 bits */
	uint8_t		 cls;			/* enum stun_class */
	uint8_t		 txid[STUN_TXIDLEN];
	struct stun_addr xor_mapped;		/* XOR-MAPPED-ADDRESS */
	struct stun_addr mapped;		/* MAPPED-ADDRESS (old servers) */
	struct stun_addr response_origin;
	struct stun_addr other_address;
	bool		 has_change;
	uint32_t	 change;		/* STUN_CHANGE_* */
	bool		 has_error;
	uint16_t	 error_code;		/* 300..699 */
	char		 reason[STUN_TEXT_MAX + 1];	/* printable ASCII */
	char		 software[STUN_TEXT_MAX + 1];	/* printable ASCII */
	uint8_t		 nunknown;		/* comprehension-required */
	uint16_t	 unknown[STUN_MAX_UNKNOWN];
	/*
	 * PADDING value bytes (RFC 5780): a request made as large as its
	 * answer, which no unauthenticated answer may exceed (STYLE.md).
	 * Decoded: the first PADDING's length.  Encoded: that many zeros.
	 */
	uint16_t	 padding;
	bool		 fingerprint;		/* present (decode), add (encode) */
};

/* A quick test: could this datagram be STUN (top bits, magic cookie)? */
bool	 stun_is_stun(const void *, size_t);
/* Decode a whole datagram; 0, or -1/EBADMSG leaving m untouched. */
int	 stun_decode(const void *, size_t, struct stun_msg *m);
/*
 * Append m: header, the attributes that are set in the order of the
 * struct, FINGERPRINT last when m->fingerprint.  -1/EINVAL for a bad
 * struct, ENOBUFS when it does not fit (nothing written).
 */
int	 stun_encode(struct buf *, const struct stun_msg *m);
/* CRC-32 (ISO-HDLC, as FINGERPRINT uses it before the XOR). */
uint32_t stun_crc32(const void *, size_t);

#define STUN_CLASSIC_TXIDLEN	16

/*
 * A classic (RFC 3489) Binding request or response: no magic cookie, so
 * the 16 bytes after type and length are the transaction id; addresses
 * plain, IPv4 only.  Only what the responder reads and writes: a request
 * with CHANGE-REQUEST, a response with MAPPED-ADDRESS, SOURCE-ADDRESS
 * and CHANGED-ADDRESS.  The first four bytes of txid are never the
 * magic cookie (the message would be RFC 8489's).
 */
struct stun_classic {
	uint8_t		 cls;		/* STUN_REQUEST or STUN_SUCCESS */
	uint8_t		 txid[STUN_CLASSIC_TXIDLEN];
	struct stun_addr mapped;	/* MAPPED-ADDRESS */
	struct stun_addr source;	/* SOURCE-ADDRESS */
	struct stun_addr changed;	/* CHANGED-ADDRESS */
	bool		 has_change;
	uint32_t	 change;	/* STUN_CHANGE_* */
};

/* Could this datagram be a classic Binding request or response? */
bool	 stun_is_classic(const void *, size_t);
/*
 * Decode a whole datagram; 0, or -1/EBADMSG leaving m untouched.
 * Stricter than stun_decode(): any other message type, an address that
 * is not IPv4, or a comprehension-required attribute other than the
 * four of struct stun_classic is malformed.
 */
int	 stun_classic_decode(const void *, size_t, struct stun_classic *m);
/*
 * Append m: header, MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS,
 * CHANGE-REQUEST, those that are set.  -1/EINVAL for a struct the
 * decoder could not have produced, ENOBUFS when it does not fit
 * (nothing written).
 */
int	 stun_classic_encode(struct buf *, const struct stun_classic *m);

#endif
