/*
 * netd_recv_<op>(): decode one request from lanraged, check it against
 * the policy, perform it with kif_<op>(), record what was made in the
 * ledger, and send the one reply.  A frame that does not decode ends the
 * session; a request that decodes but breaks policy gets NETD_MSG_ERROR.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-netd/netd.h"
#include "lanrage-netd/kif.h"
#include "lib/log.h"
#include "lib/proc.h"

struct netd_conf	*netd_policy;

static void
netd_send(struct proc_chan *c, uint16_t type, uint32_t id, int fd,
    const struct buf *b)
{
	if (proc_chan_send(c, type, NETD_VERSION, id, fd,
	    b ? b->data : NULL, b ? b->len : 0) == -1)
		netd_client_drop(c, "reply queue full");
}

static void
netd_reply_ok(struct proc_chan *c, uint32_t id)
{
	netd_send(c, NETD_MSG_OK, id, -1, NULL);
}

static void
netd_reply_error(struct proc_chan *c, uint32_t id, enum netd_err code,
    int sys_errno, const char *fmt, ...) LR_LOG_PRINTF(5, 6);

/* Refusals are the client's business, but an operator wants to see them. */
static void
netd_reply_error(struct proc_chan *c, uint32_t id, enum netd_err code,
    int sys_errno, const char *fmt, ...)
{
	struct netd_error	 e;
	struct buf		 b;
	uint8_t			 mem[NETD_ERRTEXT_MAX + 16];
	char			 detail[NETD_ERRTEXT_MAX], text[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (sys_errno != 0)
		snprintf(text, sizeof(text), "%s: %s: %s", netd_err_str(code),
		    detail, strerror(sys_errno));
	else
		snprintf(text, sizeof(text), "%s: %s", netd_err_str(code),
		    detail);
	/* The wire bounds the text; a long one is cut, not refused. */
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.sys_errno = sys_errno;
	memcpy(e.text, text, NETD_ERRTEXT_MAX);
	e.text[NETD_ERRTEXT_MAX] = '\0';
	log_info("refused: %s", e.text);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_error(&b, &e) == -1) {
		netd_client_drop(c, "cannot encode error");
		return;
	}
	netd_send(c, NETD_MSG_ERROR, id, -1, &b);
}

static void
netd_reply_kernel(struct proc_chan *c, uint32_t id, const char *what)
{
	netd_reply_error(c, id, NETD_E_KERNEL, errno, "%s", what);
}

/*
 * The interface must be one netd created and still carry the name it was
 * given; an index the kernel reused for another link is not ours.
 */
static struct ledger_link *
netd_own_link(struct proc_chan *c, uint32_t id, uint32_t ifindex)
{
	struct ledger_link	*l;
	char			 name[NETD_IFNAMSIZ];

	if ((l = ledger_link(ifindex)) == NULL) {
		netd_reply_error(c, id, NETD_E_NOT_OURS, 0, "ifindex %u",
		    ifindex);
		return NULL;
	}
	if (kif_ifname(ifindex, name) == -1 || strcmp(name, l->name) != 0) {
		netd_reply_error(c, id, NETD_E_IFACE, 0, "%s is gone",
		    l->name);
		ledger_forget_link(ifindex);
		return NULL;
	}
	return l;
}

static void
netd_to_prefix(uint8_t family, const uint8_t *bytes, uint8_t len,
    struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.af = family == NETD_AF_INET ? AF_INET : AF_INET6;
	memcpy(p->addr.bytes, bytes, addr_len(p->addr.af));
	p->len = len;
}

static void
netd_recv_tun_create(struct proc_chan *c, struct msg *m)
{
	struct netd_tun_create	 req;
	struct netd_tun_fd	 rep;
	struct buf		 b;
	uint8_t			 mem[64];
	unsigned int		 ifindex;
	int			 fd;

	if (netd_dec_tun_create(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed TUN_CREATE");
		return;
	}
	if (!netd_policy_ifname(netd_policy, req.ifname)) {
		netd_reply_error(c, m->hdr.id, NETD_E_IFNAME, 0,
		    "%s does not start with %s", req.ifname,
		    netd_policy->prefix);
		return;
	}
	if (kif_tun_create(req.ifname, req.flags, &fd, &ifindex) == -1) {
		if (errno == EEXIST)
			netd_reply_error(c, m->hdr.id, NETD_E_EXISTS, 0, "%s",
			    req.ifname);
		else
			netd_reply_kernel(c, m->hdr.id, req.ifname);
		return;
	}
	if (ledger_add_link(ifindex, req.ifname, req.flags) == -1) {
		kif_link_del(ifindex);
		close(fd);
		netd_reply_error(c, m->hdr.id, NETD_E_LIMIT, 0,
		    "at most %d interfaces", NETD_MAX_LINKS);
		return;
	}
	log_info("created %s (index %u)", req.ifname, ifindex);
	memset(&rep, 0, sizeof(rep));
	rep.ifindex = ifindex;
	memcpy(rep.ifname, req.ifname, sizeof(rep.ifname));
	rep.flags = req.flags;
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_tun_fd(&b, &rep);
	/* The client's copy keeps the device; netd holds none. */
	netd_send(c, NETD_MSG_TUN_FD, m->hdr.id, fd, &b);
	close(fd);
}

static void
netd_recv_tun_queue(struct proc_chan *c, struct msg *m)
{
	struct netd_ifindex	 req;
	struct netd_tun_fd	 rep;
	struct ledger_link	*l;
	struct buf		 b;
	uint8_t			 mem[64];
	int			 fd;

	if (netd_dec_ifindex(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed TUN_QUEUE");
		return;
	}
	if ((l = netd_own_link(c, m->hdr.id, req.ifindex)) == NULL)
		return;
	if (!(l->flags & NETD_TUN_MULTI_QUEUE)) {
		netd_reply_error(c, m->hdr.id, NETD_E_KERNEL, EINVAL,
		    "%s is not multiqueue", l->name);
		return;
	}
	if (kif_tun_queue(l->ifindex, l->flags, &fd) == -1) {
		netd_reply_kernel(c, m->hdr.id, l->name);
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.ifindex = l->ifindex;
	memcpy(rep.ifname, l->name, sizeof(rep.ifname));
	rep.flags = l->flags;
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_tun_fd(&b, &rep);
	netd_send(c, NETD_MSG_TUN_FD, m->hdr.id, fd, &b);
	close(fd);
}

static void
netd_recv_link_del(struct proc_chan *c, struct msg *m)
{
	struct netd_ifindex	 req;
	struct ledger_link	*l;

	if (netd_dec_ifindex(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed LINK_DEL");
		return;
	}
	if ((l = netd_own_link(c, m->hdr.id, req.ifindex)) == NULL)
		return;
	if (kif_link_del(req.ifindex) == -1) {
		netd_reply_kernel(c, m->hdr.id, l->name);
		return;
	}
	log_info("removed interface %s", l->name);
	ledger_forget_link(req.ifindex);
	netd_reply_ok(c, m->hdr.id);
}

static void
netd_recv_link_set(struct proc_chan *c, struct msg *m)
{
	struct netd_link_set	 req;
	struct ledger_link	*l;

	if (netd_dec_link_set(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed LINK_SET");
		return;
	}
	if ((l = netd_own_link(c, m->hdr.id, req.ifindex)) == NULL)
		return;
	if (req.mtu != NETD_MTU_KEEP && (req.mtu < 68 || req.mtu > 65535)) {
		netd_reply_error(c, m->hdr.id, NETD_E_MTU, 0, "%u", req.mtu);
		return;
	}
	if (kif_link_set(req.ifindex, req.mtu, req.state) == -1) {
		netd_reply_kernel(c, m->hdr.id, l->name);
		return;
	}
	netd_reply_ok(c, m->hdr.id);
}

static void
netd_recv_addr(struct proc_chan *c, struct msg *m, int add)
{
	struct netd_addr	 req;
	struct prefix		 p;
	char			 buf[LR_PREFIX_STRLEN];

	if (netd_dec_addr(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed ADDR");
		return;
	}
	if (netd_own_link(c, m->hdr.id, req.ifindex) == NULL)
		return;
	netd_to_prefix(req.family, req.addr, req.prefixlen, &p);
	prefix_fmt(&p, buf, sizeof(buf));
	if (!netd_policy_addr(netd_policy, &p)) {
		netd_reply_error(c, m->hdr.id, NETD_E_ADDR, 0, "%s", buf);
		return;
	}
	if (add && ledger_add_addr(req.ifindex, &p) == -1) {
		netd_reply_error(c, m->hdr.id, NETD_E_LIMIT, 0,
		    "at most %d addresses", NETD_MAX_ADDRS);
		return;
	}
	if (kif_addr(add, req.ifindex, &p) == -1) {
		if (add)
			ledger_forget_addr(req.ifindex, &p);
		netd_reply_kernel(c, m->hdr.id, buf);
		return;
	}
	if (!add)
		ledger_forget_addr(req.ifindex, &p);
	netd_reply_ok(c, m->hdr.id);
}

static void
netd_recv_route(struct proc_chan *c, struct msg *m, int add)
{
	struct netd_route	 req;
	struct prefix		 p;
	char			 buf[LR_PREFIX_STRLEN];

	if (netd_dec_route(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed ROUTE");
		return;
	}
	if (netd_own_link(c, m->hdr.id, req.ifindex) == NULL)
		return;
	netd_to_prefix(req.family, req.dst, req.prefixlen, &p);
	prefix_fmt(&p, buf, sizeof(buf));
	if (!netd_policy_route(netd_policy, &p)) {
		netd_reply_error(c, m->hdr.id, NETD_E_ROUTE, 0, "%s", buf);
		return;
	}
	if (add && ledger_add_route(req.ifindex, &p, req.metric) == -1) {
		netd_reply_error(c, m->hdr.id, NETD_E_LIMIT, 0,
		    "at most %d routes", NETD_MAX_ROUTES);
		return;
	}
	if (kif_route(add, req.ifindex, &p, req.metric) == -1) {
		if (add)
			ledger_forget_route(req.ifindex, &p, req.metric);
		netd_reply_kernel(c, m->hdr.id, buf);
		return;
	}
	if (!add)
		ledger_forget_route(req.ifindex, &p, req.metric);
	netd_reply_ok(c, m->hdr.id);
}

/*
 * Capture and inject: netd's own interfaces, or the one LAN interface the
 * config names (a passed packet socket could transmit on it: see
 * proto/netd.md).
 */
static bool
netd_lan_target(struct proc_chan *c, uint32_t id, uint32_t ifindex)
{
	char	 name[NETD_IFNAMSIZ];

	if (ledger_link(ifindex) != NULL)
		return netd_own_link(c, id, ifindex) != NULL;
	if (netd_policy->lan_if[0] != '\0' &&
	    kif_ifname(ifindex, name) == 0 &&
	    strcmp(name, netd_policy->lan_if) == 0)
		return true;
	netd_reply_error(c, id, NETD_E_NOT_OURS, 0, "ifindex %u", ifindex);
	return false;
}

static void
netd_recv_capture_open(struct proc_chan *c, struct msg *m)
{
	struct netd_capture_open req;
	struct netd_capture_fd	 rep;
	struct buf		 b;
	uint8_t			 mem[16];
	char			 name[NETD_IFNAMSIZ];
	size_t			 i;
	int			 fd;

	if (netd_dec_capture_open(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed CAPTURE_OPEN");
		return;
	}
	for (i = 0; i < req.nranges; i++) {
		if (!netd_policy_ports(netd_policy, req.ranges[i].lo,
		    req.ranges[i].hi)) {
			netd_reply_error(c, m->hdr.id, NETD_E_PORT, 0,
			    "%u-%u", req.ranges[i].lo, req.ranges[i].hi);
			return;
		}
	}
	if (kif_ifname(req.ifindex, name) == -1) {
		netd_reply_error(c, m->hdr.id, NETD_E_IFACE, 0, "ifindex %u",
		    req.ifindex);
		return;
	}
	if (!netd_lan_target(c, m->hdr.id, req.ifindex))
		return;
	if (kif_capture_open(req.ifindex, req.ranges, req.nranges, &fd) == -1) {
		netd_reply_kernel(c, m->hdr.id, name);
		return;
	}
	rep.ifindex = req.ifindex;
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_capture_fd(&b, &rep);
	netd_send(c, NETD_MSG_CAPTURE_FD, m->hdr.id, fd, &b);
	close(fd);
}

static void
netd_recv_inject(struct proc_chan *c, struct msg *m)
{
	struct netd_inject	 req;
	struct addr		 src, dst;
	char			 sbuf[LR_ADDR_STRLEN], dbuf[LR_ADDR_STRLEN];

	if (netd_dec_inject(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed INJECT");
		return;
	}
	if (req.proto != 17) {
		netd_reply_error(c, m->hdr.id, NETD_E_PROTO, 0,
		    "protocol %u", req.proto);
		return;
	}
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.af = dst.af = AF_INET;
	memcpy(&src.v4, req.src, 4);
	memcpy(&dst.v4, req.dst, 4);
	addr_fmt(&src, sbuf, sizeof(sbuf));
	addr_fmt(&dst, dbuf, sizeof(dbuf));
	if (!netd_policy_overlay_addr(netd_policy, &src) ||
	    !netd_policy_inject_dst(netd_policy, &dst)) {
		netd_reply_error(c, m->hdr.id, NETD_E_INJECT, 0, "%s -> %s",
		    sbuf, dbuf);
		return;
	}
	if (!netd_policy_ports(netd_policy, req.dport, req.dport)) {
		netd_reply_error(c, m->hdr.id, NETD_E_PORT, 0, "%u",
		    req.dport);
		return;
	}
	if (!netd_lan_target(c, m->hdr.id, req.ifindex))
		return;
	if (kif_inject(&req) == -1) {
		netd_reply_kernel(c, m->hdr.id, dbuf);
		return;
	}
	netd_reply_ok(c, m->hdr.id);
}

static void
netd_recv_qos_set(struct proc_chan *c, struct msg *m)
{
	struct netd_qos_set	 req;
	struct ledger_link	*l;

	if (netd_dec_qos_set(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed QOS_SET");
		return;
	}
	if ((l = netd_own_link(c, m->hdr.id, req.ifindex)) == NULL)
		return;
	if (kif_qos_set(req.ifindex, req.rules, req.nrules) == -1) {
		netd_reply_kernel(c, m->hdr.id, l->name);
		return;
	}
	l->qos = true;
	netd_reply_ok(c, m->hdr.id);
}

static void
netd_recv_qos_clear(struct proc_chan *c, struct msg *m)
{
	struct netd_ifindex	 req;
	struct ledger_link	*l;

	if (netd_dec_ifindex(m->data, m->len, &req) == -1) {
		netd_client_drop(c, "malformed QOS_CLEAR");
		return;
	}
	if ((l = netd_own_link(c, m->hdr.id, req.ifindex)) == NULL)
		return;
	if (kif_qos_clear(req.ifindex) == -1) {
		netd_reply_kernel(c, m->hdr.id, l->name);
		return;
	}
	l->qos = false;
	netd_reply_ok(c, m->hdr.id);
}

/* The client never sends descriptors nor speaks another version. */
void
netd_dispatch_lanraged(struct proc_chan *c, struct msg *m, void *arg)
{
	if (m->hdr.version != NETD_VERSION) {
		netd_client_drop(c, "wrong protocol version");
		return;
	}
	if (m->fd != -1) {
		netd_client_drop(c, "unexpected descriptor");
		return;
	}
	switch (m->hdr.type) {
	case NETD_MSG_TUN_CREATE:
		netd_recv_tun_create(c, m);
		break;
	case NETD_MSG_TUN_QUEUE:
		netd_recv_tun_queue(c, m);
		break;
	case NETD_MSG_LINK_DEL:
		netd_recv_link_del(c, m);
		break;
	case NETD_MSG_LINK_SET:
		netd_recv_link_set(c, m);
		break;
	case NETD_MSG_ADDR_ADD:
	case NETD_MSG_ADDR_DEL:
		netd_recv_addr(c, m, m->hdr.type == NETD_MSG_ADDR_ADD);
		break;
	case NETD_MSG_ROUTE_ADD:
	case NETD_MSG_ROUTE_DEL:
		netd_recv_route(c, m, m->hdr.type == NETD_MSG_ROUTE_ADD);
		break;
	case NETD_MSG_CAPTURE_OPEN:
		netd_recv_capture_open(c, m);
		break;
	case NETD_MSG_INJECT:
		netd_recv_inject(c, m);
		break;
	case NETD_MSG_QOS_SET:
		netd_recv_qos_set(c, m);
		break;
	case NETD_MSG_QOS_CLEAR:
		netd_recv_qos_clear(c, m);
		break;
	default:
		netd_reply_error(c, m->hdr.id, NETD_E_UNSUPPORTED, 0,
		    "type 0x%04x", m->hdr.type);
		break;
	}
}
