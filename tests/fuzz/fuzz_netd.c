/*
 * libFuzzer harness for the netd IPC decoders.  The first two bytes
 * (big-endian) are the message type, the rest is its payload.  A decoder
 * must fail with EBADMSG or succeed; on success the encoder must accept
 * the struct and give back the input byte for byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/netd.h"

typedef int	(*rt_fn)(const uint8_t *, size_t, struct buf *);

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

union netd_any {
	struct netd_tun_create	 tun_create;
	struct netd_ifindex	 ifindex;
	struct netd_tun_fd	 tun_fd;
	struct netd_link_set	 link_set;
	struct netd_addr	 addr;
	struct netd_route	 route;
	struct netd_capture_open capture_open;
	struct netd_capture_fd	 capture_fd;
	struct netd_inject	 inject;
	struct netd_qos_set	 qos_set;
	struct netd_error	 error;
};

/* Decode p, then encode what came out into b; -1 when decoding failed. */
#define ROUNDTRIP(f)							\
static int								\
rt_##f(const uint8_t *p, size_t len, struct buf *b)			\
{									\
	union netd_any	 u;						\
									\
	if (netd_dec_##f(p, len, &u.f) == -1) {				\
		if (errno != EBADMSG)					\
			abort();					\
		return (-1);						\
	}								\
	if (netd_enc_##f(b, &u.f) == -1)				\
		abort();						\
	return (0);							\
}

ROUNDTRIP(tun_create)
ROUNDTRIP(ifindex)
ROUNDTRIP(tun_fd)
ROUNDTRIP(link_set)
ROUNDTRIP(addr)
ROUNDTRIP(route)
ROUNDTRIP(capture_open)
ROUNDTRIP(capture_fd)
ROUNDTRIP(inject)
ROUNDTRIP(qos_set)
ROUNDTRIP(error)

static int
rt_empty(const uint8_t *p, size_t len, struct buf *b)
{
	(void)p;
	(void)b;
	return (len == 0 ? 0 : -1);
}

static rt_fn
rt_find(unsigned int type)
{
	switch (type) {
	case NETD_MSG_TUN_CREATE:
		return (rt_tun_create);
	case NETD_MSG_TUN_QUEUE:
	case NETD_MSG_LINK_DEL:
	case NETD_MSG_QOS_CLEAR:
		return (rt_ifindex);
	case NETD_MSG_LINK_SET:
		return (rt_link_set);
	case NETD_MSG_ADDR_ADD:
	case NETD_MSG_ADDR_DEL:
		return (rt_addr);
	case NETD_MSG_ROUTE_ADD:
	case NETD_MSG_ROUTE_DEL:
		return (rt_route);
	case NETD_MSG_CAPTURE_OPEN:
		return (rt_capture_open);
	case NETD_MSG_INJECT:
		return (rt_inject);
	case NETD_MSG_QOS_SET:
		return (rt_qos_set);
	case NETD_MSG_OK:
		return (rt_empty);
	case NETD_MSG_ERROR:
		return (rt_error);
	case NETD_MSG_TUN_FD:
		return (rt_tun_fd);
	case NETD_MSG_CAPTURE_FD:
		return (rt_capture_fd);
	}
	return (NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rt_fn		 rt;
	uint8_t		 out[NETD_MAXMSG];
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
