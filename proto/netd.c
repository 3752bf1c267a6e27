/*
 * netd IPC codec: encoders and decoders side by side, one validity
 * predicate per payload shared by both directions.  Decoders fill a local
 * struct and copy it out only on success; encoders undo a partial write.
 * The byte layouts are in proto/netd.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "netd.h"
#include "../lib/wire.h"

#define NETD_MTU_MIN	68
#define NETD_MTU_MAX	65535
#define IPPROTO_TCP_NUM	6
#define IPPROTO_UDP_NUM	17

static bool
ifname_valid(const char *name)
{
	size_t	 n;

	n = strnlen(name, NETD_IFNAMSIZ);
	return (n > 0 && n < NETD_IFNAMSIZ);
}

/* The name, then NULs up to NETD_IFNAMSIZ; name already validated. */
static int
put_ifname(struct buf *b, const char *name)
{
	size_t	 n;

	n = strnlen(name, NETD_IFNAMSIZ);
	if (buf_put(b, name, n) == -1 ||
	    buf_put_zero(b, NETD_IFNAMSIZ - n) == -1)
		return (-1);
	return (0);
}

/* Every byte after the first NUL must be NUL as well. */
static int
get_ifname(struct bufr *r, char *name)
{
	size_t	 i;

	if (bufr_get(r, name, NETD_IFNAMSIZ) == -1)
		return (-1);
	if (!ifname_valid(name))
		return (wire_fail(EBADMSG));
	for (i = strnlen(name, NETD_IFNAMSIZ); i < NETD_IFNAMSIZ; i++)
		if (name[i] != '\0')
			return (wire_fail(EBADMSG));
	return (0);
}

static bool
host_bits_zero(const uint8_t *a, size_t alen, unsigned int plen)
{
	size_t	 i = plen / 8;

	if (plen % 8 != 0) {
		if (a[i] & (0xff >> (plen % 8)))
			return (false);
		i++;
	}
	for (; i < alen; i++)
		if (a[i] != 0)
			return (false);
	return (true);
}

/* family 4 or 6, prefixlen in range, v4 tail zero, host bits if asked. */
static bool
prefix_valid(uint8_t family, uint8_t plen, const uint8_t a[16],
    bool network)
{
	size_t	 alen, i;

	if (family == NETD_AF_INET)
		alen = 4;
	else if (family == NETD_AF_INET6)
		alen = 16;
	else
		return (false);
	if (plen > alen * 8)
		return (false);
	for (i = alen; i < 16; i++)
		if (a[i] != 0)
			return (false);
	return (!network || host_bits_zero(a, alen, plen));
}

/* TUN_CREATE */

static bool
tun_create_valid(const struct netd_tun_create *m)
{
	return (ifname_valid(m->ifname) && (m->flags & ~NETD_TUN_FLAGS) == 0);
}

int
netd_enc_tun_create(struct buf *b, const struct netd_tun_create *m)
{
	size_t	 mark = b->len;

	if (!tun_create_valid(m))
		return (wire_fail(EINVAL));
	if (put_ifname(b, m->ifname) == -1 ||
	    buf_put_u32(b, m->flags) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_tun_create(const void *p, size_t len, struct netd_tun_create *out)
{
	struct netd_tun_create	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (get_ifname(&r, m.ifname) == -1 ||
	    bufr_get_u32(&r, &m.flags) == -1 ||
	    bufr_end(&r) == -1 || !tun_create_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* TUN_QUEUE, LINK_DEL, QOS_CLEAR */

int
netd_enc_ifindex(struct buf *b, const struct netd_ifindex *m)
{
	if (m->ifindex == 0)
		return (wire_fail(EINVAL));
	return (buf_put_u32(b, m->ifindex));
}

int
netd_dec_ifindex(const void *p, size_t len, struct netd_ifindex *out)
{
	struct bufr	 r;
	uint32_t	 ifindex;

	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &ifindex) == -1 || bufr_end(&r) == -1 ||
	    ifindex == 0)
		return (wire_fail(EBADMSG));
	out->ifindex = ifindex;
	return (0);
}

/* TUN_FD */

static bool
tun_fd_valid(const struct netd_tun_fd *m)
{
	return (m->ifindex != 0 && ifname_valid(m->ifname) &&
	    (m->flags & ~NETD_TUN_FLAGS) == 0);
}

int
netd_enc_tun_fd(struct buf *b, const struct netd_tun_fd *m)
{
	size_t	 mark = b->len;

	if (!tun_fd_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u32(b, m->ifindex) == -1 ||
	    put_ifname(b, m->ifname) == -1 ||
	    buf_put_u32(b, m->flags) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_tun_fd(const void *p, size_t len, struct netd_tun_fd *out)
{
	struct netd_tun_fd	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &m.ifindex) == -1 ||
	    get_ifname(&r, m.ifname) == -1 ||
	    bufr_get_u32(&r, &m.flags) == -1 ||
	    bufr_end(&r) == -1 || !tun_fd_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* LINK_SET */

static bool
link_set_valid(const struct netd_link_set *m)
{
	if (m->ifindex == 0 || m->state > NETD_LINK_KEEP)
		return (false);
	return (m->mtu == NETD_MTU_KEEP ||
	    (m->mtu >= NETD_MTU_MIN && m->mtu <= NETD_MTU_MAX));
}

int
netd_enc_link_set(struct buf *b, const struct netd_link_set *m)
{
	size_t	 mark = b->len;

	if (!link_set_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u32(b, m->ifindex) == -1 ||
	    buf_put_u32(b, m->mtu) == -1 ||
	    buf_put_u8(b, m->state) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_link_set(const void *p, size_t len, struct netd_link_set *out)
{
	struct netd_link_set	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &m.ifindex) == -1 ||
	    bufr_get_u32(&r, &m.mtu) == -1 ||
	    bufr_get_u8(&r, &m.state) == -1 ||
	    bufr_end(&r) == -1 || !link_set_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* ADDR_* and ROUTE_* share: ifindex u32, family u8, prefixlen u8, 16 bytes. */

static int
put_ifprefix(struct buf *b, uint32_t ifindex, uint8_t family,
    uint8_t prefixlen, const uint8_t *bytes)
{
	if (buf_put_u32(b, ifindex) == -1 || buf_put_u8(b, family) == -1 ||
	    buf_put_u8(b, prefixlen) == -1 || buf_put(b, bytes, 16) == -1)
		return (-1);
	return (0);
}

static int
get_ifprefix(struct bufr *r, uint32_t *ifindex, uint8_t *family,
    uint8_t *prefixlen, uint8_t *bytes)
{
	if (bufr_get_u32(r, ifindex) == -1 || bufr_get_u8(r, family) == -1 ||
	    bufr_get_u8(r, prefixlen) == -1 || bufr_get(r, bytes, 16) == -1)
		return (-1);
	return (0);
}

/* ADDR_ADD, ADDR_DEL */

static bool
addr_valid(const struct netd_addr *m)
{
	return (m->ifindex != 0 &&
	    prefix_valid(m->family, m->prefixlen, m->addr, false));
}

int
netd_enc_addr(struct buf *b, const struct netd_addr *m)
{
	size_t	 mark = b->len;

	if (!addr_valid(m))
		return (wire_fail(EINVAL));
	if (put_ifprefix(b, m->ifindex, m->family, m->prefixlen,
	    m->addr) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_addr(const void *p, size_t len, struct netd_addr *out)
{
	struct netd_addr	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (get_ifprefix(&r, &m.ifindex, &m.family, &m.prefixlen,
	    m.addr) == -1 || bufr_end(&r) == -1 || !addr_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* ROUTE_ADD, ROUTE_DEL */

static bool
route_valid(const struct netd_route *m)
{
	return (m->ifindex != 0 &&
	    prefix_valid(m->family, m->prefixlen, m->dst, true));
}

int
netd_enc_route(struct buf *b, const struct netd_route *m)
{
	size_t	 mark = b->len;

	if (!route_valid(m))
		return (wire_fail(EINVAL));
	if (put_ifprefix(b, m->ifindex, m->family, m->prefixlen,
	    m->dst) == -1 || buf_put_u32(b, m->metric) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_route(const void *p, size_t len, struct netd_route *out)
{
	struct netd_route	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (get_ifprefix(&r, &m.ifindex, &m.family, &m.prefixlen,
	    m.dst) == -1 || bufr_get_u32(&r, &m.metric) == -1 ||
	    bufr_end(&r) == -1 || !route_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* CAPTURE_OPEN */

static bool
capture_open_valid(const struct netd_capture_open *m)
{
	size_t	 i;

	if (m->ifindex == 0 || m->nranges == 0 ||
	    m->nranges > NETD_MAX_PORT_RANGES)
		return (false);
	for (i = 0; i < m->nranges; i++)
		if (m->ranges[i].lo == 0 || m->ranges[i].lo > m->ranges[i].hi)
			return (false);
	return (true);
}

int
netd_enc_capture_open(struct buf *b, const struct netd_capture_open *m)
{
	size_t	 i, mark = b->len;

	if (!capture_open_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u32(b, m->ifindex) == -1 ||
	    buf_put_u8(b, m->nranges) == -1)
		return (wire_undo(b, mark));
	for (i = 0; i < m->nranges; i++)
		if (buf_put_u16(b, m->ranges[i].lo) == -1 ||
		    buf_put_u16(b, m->ranges[i].hi) == -1)
			return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_capture_open(const void *p, size_t len,
    struct netd_capture_open *out)
{
	struct netd_capture_open m;
	struct bufr		 r;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &m.ifindex) == -1 ||
	    bufr_get_u8(&r, &m.nranges) == -1 ||
	    m.nranges > NETD_MAX_PORT_RANGES)
		return (wire_fail(EBADMSG));
	for (i = 0; i < m.nranges; i++)
		if (bufr_get_u16(&r, &m.ranges[i].lo) == -1 ||
		    bufr_get_u16(&r, &m.ranges[i].hi) == -1)
			return (wire_fail(EBADMSG));
	if (bufr_end(&r) == -1 || !capture_open_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* CAPTURE_FD: the same 4 bytes as the ifindex payload. */

int
netd_enc_capture_fd(struct buf *b, const struct netd_capture_fd *m)
{
	struct netd_ifindex	 i = { .ifindex = m->ifindex };

	return (netd_enc_ifindex(b, &i));
}

int
netd_dec_capture_fd(const void *p, size_t len, struct netd_capture_fd *out)
{
	struct netd_ifindex	 i;

	if (netd_dec_ifindex(p, len, &i) == -1)
		return (-1);
	out->ifindex = i.ifindex;
	return (0);
}

/* INJECT: proto is only carried here; netd's policy wants UDP. */

static bool
inject_valid(const struct netd_inject *m)
{
	return (m->ifindex != 0 && m->ttl != 0 &&
	    m->len <= NETD_INJECT_MAX && (m->len == 0 || m->payload != NULL));
}

int
netd_enc_inject(struct buf *b, const struct netd_inject *m)
{
	size_t	 mark = b->len;

	if (!inject_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u32(b, m->ifindex) == -1 ||
	    buf_put_u8(b, m->proto) == -1 ||
	    buf_put_u8(b, m->ttl) == -1 ||
	    buf_put(b, m->src, sizeof(m->src)) == -1 ||
	    buf_put_u16(b, m->sport) == -1 ||
	    buf_put(b, m->dst, sizeof(m->dst)) == -1 ||
	    buf_put_u16(b, m->dport) == -1 ||
	    buf_put_u16(b, m->len) == -1 ||
	    (m->len > 0 && buf_put(b, m->payload, m->len) == -1))
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_inject(const void *p, size_t len, struct netd_inject *out)
{
	struct netd_inject	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &m.ifindex) == -1 ||
	    bufr_get_u8(&r, &m.proto) == -1 ||
	    bufr_get_u8(&r, &m.ttl) == -1 ||
	    bufr_get(&r, m.src, sizeof(m.src)) == -1 ||
	    bufr_get_u16(&r, &m.sport) == -1 ||
	    bufr_get(&r, m.dst, sizeof(m.dst)) == -1 ||
	    bufr_get_u16(&r, &m.dport) == -1 ||
	    bufr_get_u16(&r, &m.len) == -1 || m.len > NETD_INJECT_MAX)
		return (wire_fail(EBADMSG));
	if (m.len > 0 && (m.payload = bufr_ptr(&r, m.len)) == NULL)
		return (wire_fail(EBADMSG));
	if (bufr_end(&r) == -1 || !inject_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* QOS_SET */

static bool
qos_rule_valid(const struct netd_qos_rule *q)
{
	return ((q->proto == IPPROTO_TCP_NUM || q->proto == IPPROTO_UDP_NUM) &&
	    q->port_lo != 0 && q->port_lo <= q->port_hi &&
	    q->class <= NETD_QOS_BULK);
}

static bool
qos_set_valid(const struct netd_qos_set *m)
{
	size_t	 i;

	if (m->ifindex == 0 || m->nrules == 0 ||
	    m->nrules > NETD_MAX_QOS_RULES)
		return (false);
	for (i = 0; i < m->nrules; i++)
		if (!qos_rule_valid(&m->rules[i]))
			return (false);
	return (true);
}

static int
put_qos_rule(struct buf *b, const struct netd_qos_rule *q)
{
	if (buf_put_u8(b, q->proto) == -1 ||
	    buf_put_u16(b, q->port_lo) == -1 ||
	    buf_put_u16(b, q->port_hi) == -1 ||
	    buf_put_u8(b, q->class) == -1)
		return (-1);
	return (0);
}

static int
get_qos_rule(struct bufr *r, struct netd_qos_rule *q)
{
	if (bufr_get_u8(r, &q->proto) == -1 ||
	    bufr_get_u16(r, &q->port_lo) == -1 ||
	    bufr_get_u16(r, &q->port_hi) == -1 ||
	    bufr_get_u8(r, &q->class) == -1)
		return (-1);
	return (0);
}

int
netd_enc_qos_set(struct buf *b, const struct netd_qos_set *m)
{
	size_t	 i, mark = b->len;

	if (!qos_set_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u32(b, m->ifindex) == -1 ||
	    buf_put_u8(b, m->nrules) == -1)
		return (wire_undo(b, mark));
	for (i = 0; i < m->nrules; i++)
		if (put_qos_rule(b, &m->rules[i]) == -1)
			return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_qos_set(const void *p, size_t len, struct netd_qos_set *out)
{
	struct netd_qos_set	 m;
	struct bufr		 r;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u32(&r, &m.ifindex) == -1 ||
	    bufr_get_u8(&r, &m.nrules) == -1 ||
	    m.nrules > NETD_MAX_QOS_RULES)
		return (wire_fail(EBADMSG));
	for (i = 0; i < m.nrules; i++)
		if (get_qos_rule(&r, &m.rules[i]) == -1)
			return (wire_fail(EBADMSG));
	if (bufr_end(&r) == -1 || !qos_set_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* ERROR */

static bool
error_valid(const struct netd_error *m)
{
	size_t	 n;

	n = strnlen(m->text, sizeof(m->text));
	return (m->code >= 1 && m->code <= NETD_E_MAX &&
	    n <= NETD_ERRTEXT_MAX && wire_printable(m->text, n));
}

int
netd_enc_error(struct buf *b, const struct netd_error *m)
{
	size_t	 n, mark = b->len;

	if (!error_valid(m))
		return (wire_fail(EINVAL));
	n = strnlen(m->text, sizeof(m->text));
	if (buf_put_u16(b, m->code) == -1 ||
	    buf_put_u32(b, m->sys_errno) == -1 ||
	    buf_put_u8(b, n) == -1 ||
	    buf_put(b, m->text, n) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
netd_dec_error(const void *p, size_t len, struct netd_error *out)
{
	struct netd_error	 m;
	struct bufr		 r;
	uint8_t			 n;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.code) == -1 ||
	    bufr_get_u32(&r, &m.sys_errno) == -1 ||
	    bufr_get_u8(&r, &n) == -1 || n > NETD_ERRTEXT_MAX ||
	    bufr_get(&r, m.text, n) == -1 ||
	    bufr_end(&r) == -1)
		return (wire_fail(EBADMSG));
	/* A NUL inside the text would shorten it: not printable either. */
	if (!wire_printable(m.text, n) || !error_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

const char *
netd_err_str(unsigned int code)
{
	static const char *const str[NETD_E_MAX + 1] = {
		[NETD_E_IFNAME] = "interface name outside the allowed prefix",
		[NETD_E_NOT_OURS] = "interface not created by netd",
		[NETD_E_ADDR] = "address outside the overlay",
		[NETD_E_ROUTE] = "route outside the overlay",
		[NETD_E_PORT] = "port not allowed for capture",
		[NETD_E_PROTO] = "protocol not allowed for injection",
		[NETD_E_INJECT] = "source or destination not allowed",
		[NETD_E_MTU] = "MTU out of range",
		[NETD_E_LIMIT] = "too many objects",
		[NETD_E_KERNEL] = "the kernel refused",
		[NETD_E_UNSUPPORTED] = "unsupported request",
		[NETD_E_EXISTS] = "interface name already in use",
		[NETD_E_IFACE] = "no such interface",
	};

	if (code == 0 || code > NETD_E_MAX)
		return ("unknown error");
	return (str[code]);
}

const char *
netd_msg_name(unsigned int type)
{
	switch (type) {
	case NETD_MSG_TUN_CREATE:	return ("tun_create");
	case NETD_MSG_TUN_QUEUE:	return ("tun_queue");
	case NETD_MSG_LINK_DEL:		return ("link_del");
	case NETD_MSG_LINK_SET:		return ("link_set");
	case NETD_MSG_ADDR_ADD:		return ("addr_add");
	case NETD_MSG_ADDR_DEL:		return ("addr_del");
	case NETD_MSG_ROUTE_ADD:	return ("route_add");
	case NETD_MSG_ROUTE_DEL:	return ("route_del");
	case NETD_MSG_CAPTURE_OPEN:	return ("capture_open");
	case NETD_MSG_INJECT:		return ("inject");
	case NETD_MSG_QOS_SET:		return ("qos_set");
	case NETD_MSG_QOS_CLEAR:	return ("qos_clear");
	case NETD_MSG_OK:		return ("ok");
	case NETD_MSG_ERROR:		return ("error");
	case NETD_MSG_TUN_FD:		return ("tun_fd");
	case NETD_MSG_CAPTURE_FD:	return ("capture_fd");
	}
	return ("unknown");
}
