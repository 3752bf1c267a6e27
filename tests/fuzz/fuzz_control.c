/*
 * libFuzzer harness for the control protocol decoders and the invite link
 * parser.  The first two bytes (big-endian) pick what the rest is: a
 * message type (its payload), 0x0000 (a whole message: header and
 * payload) or 0xffff (an invite link).  A decoder must fail with EBADMSG
 * or succeed; on success the encoder must accept the struct and give
 * back the input byte for byte.  The same holds for invite links, with
 * EINVAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"

#define FUZZ_HEADER	0x0000
#define FUZZ_INVITE	0xffff

typedef int	(*rt_fn)(const uint8_t *, size_t, struct buf *);

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static union {
	struct control_hello		 hello;
	struct control_welcome		 welcome;
	struct control_party_create	 party_create;
	struct control_party		 party;
	struct control_invite_create	 invite_create;
	struct control_invite		 invite;
	struct control_join		 join;
	struct control_party_ref	 party_ref;
	struct control_kick		 kick;
	struct control_approve		 approve;
	struct control_approval_pending	 approval_pending;
	struct control_join_request	 join_request;
	struct control_endpoints	 endpoints;
	struct control_state		 state;
	struct control_delta		 delta;
	struct control_error		 error;
	struct control_relay_hello	 relay_hello;
	struct control_relay_welcome	 relay_welcome;
	struct control_relay_report	 relay_report;
	struct control_relay_list	 relay_list;
} u;
static uint8_t	 out[CONTROL_HDRLEN + CONTROL_MAXMSG];

/* Decode p, then encode what came out into b; -1 when decoding failed. */
#define ROUNDTRIP(f)							\
static int								\
rt_##f(const uint8_t *p, size_t len, struct buf *b)			\
{									\
	if (control_dec_##f(p, len, &u.f) == -1) {			\
		if (errno != EBADMSG)					\
			abort();					\
		return (-1);						\
	}								\
	if (control_enc_##f(b, &u.f) == -1)				\
		abort();						\
	return (0);							\
}

ROUNDTRIP(hello)
ROUNDTRIP(welcome)
ROUNDTRIP(party_create)
ROUNDTRIP(party)
ROUNDTRIP(invite_create)
ROUNDTRIP(invite)
ROUNDTRIP(join)
ROUNDTRIP(party_ref)
ROUNDTRIP(kick)
ROUNDTRIP(approve)
ROUNDTRIP(approval_pending)
ROUNDTRIP(join_request)
ROUNDTRIP(endpoints)
ROUNDTRIP(state)
ROUNDTRIP(delta)
ROUNDTRIP(error)
ROUNDTRIP(relay_hello)
ROUNDTRIP(relay_welcome)
ROUNDTRIP(relay_report)
ROUNDTRIP(relay_list)

static int
rt_empty(const uint8_t *p, size_t len, struct buf *b)
{
	(void)b;
	if (control_dec_empty(p, len) == -1) {
		if (errno != EBADMSG)
			abort();
		return (-1);
	}
	return (0);
}

/* Header, then the payload copied through. */
static int
rt_header(const uint8_t *p, size_t len, struct buf *b)
{
	struct control_hdr	 h;

	if (control_dec_hdr(p, len, &h) == -1) {
		if (errno != EBADMSG)
			abort();
		return (-1);
	}
	if (h.len > CONTROL_MAXMSG || h.len != len - CONTROL_HDRLEN ||
	    control_enc_hdr(b, h.type, h.id) == -1 ||
	    (h.len > 0 && buf_put(b, h.payload, h.len) == -1))
		abort();
	return (0);
}

/* A NUL-terminated copy of the link; format must give it back. */
static int
rt_invite_link(const uint8_t *p, size_t len, struct buf *b)
{
	struct lr_invite v;
	char		 s[LR_INVITE_MAXLEN + 2];
	char		 f[LR_INVITE_MAXLEN + 1];

	if (len > LR_INVITE_MAXLEN + 1 || memchr(p, '\0', len) != NULL)
		return (-1);
	memcpy(s, p, len);
	s[len] = '\0';
	if (lr_invite_parse(s, &v) == -1) {
		if (errno != EINVAL)
			abort();
		return (-1);
	}
	if (lr_invite_format(&v, f, sizeof(f)) == -1 ||
	    buf_put(b, f, strlen(f)) == -1)
		abort();
	return (0);
}

static rt_fn
rt_find(unsigned int type)
{
	switch (type) {
	case FUZZ_HEADER:			return (rt_header);
	case FUZZ_INVITE:			return (rt_invite_link);
	case CONTROL_MSG_HELLO:			return (rt_hello);
	case CONTROL_MSG_PARTY_CREATE:		return (rt_party_create);
	case CONTROL_MSG_INVITE_CREATE:		return (rt_invite_create);
	case CONTROL_MSG_JOIN:			return (rt_join);
	case CONTROL_MSG_LEAVE:
	case CONTROL_MSG_CLOSE:
	case CONTROL_MSG_RELAYS:		return (rt_party_ref);
	case CONTROL_MSG_KICK:			return (rt_kick);
	case CONTROL_MSG_ENDPOINTS:		return (rt_endpoints);
	case CONTROL_MSG_APPROVE:		return (rt_approve);
	case CONTROL_MSG_HEARTBEAT:
	case CONTROL_MSG_HEARTBEAT_ACK:
	case CONTROL_MSG_OK:			return (rt_empty);
	case CONTROL_MSG_ERROR:			return (rt_error);
	case CONTROL_MSG_WELCOME:		return (rt_welcome);
	case CONTROL_MSG_PARTY:			return (rt_party);
	case CONTROL_MSG_INVITE:		return (rt_invite);
	case CONTROL_MSG_APPROVAL_PENDING:	return (rt_approval_pending);
	case CONTROL_MSG_STATE:			return (rt_state);
	case CONTROL_MSG_DELTA:			return (rt_delta);
	case CONTROL_MSG_JOIN_REQUEST:		return (rt_join_request);
	case CONTROL_MSG_RELAY_HELLO:		return (rt_relay_hello);
	case CONTROL_MSG_RELAY_WELCOME:		return (rt_relay_welcome);
	case CONTROL_MSG_RELAY_REPORT:		return (rt_relay_report);
	case CONTROL_MSG_RELAY_LIST:		return (rt_relay_list);
	}
	return (NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rt_fn		 rt;
	struct buf	 b;

	if (size < 2 || (rt = rt_find(data[0] << 8 | data[1])) == NULL)
		return (0);
	buf_init_fixed(&b, out, sizeof(out));
	if (rt(data + 2, size - 2, &b) == -1)
		return (0);
	if (b.len != size - 2 || memcmp(out, data + 2, b.len) != 0)
		abort();
	return (0);
}
