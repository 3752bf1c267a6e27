/*
 * kif: the kernel side of netd's verbs, over rtnetlink (libnl-route),
 * /dev/net/tun and AF_PACKET.  See kif.h for the contract.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>

#include <pcap/pcap.h>

#include "../lib/log.h"
#include "kif.h"

#define KIF_IPHDR	20
#define KIF_UDPHDR	8
#define KIF_EXPRMAX	4096	/* capture filter text */
#define KIF_SNAPLEN	65535
#define KIF_QOS_RATE	12500000000ull	/* 100 Gbit/s: never the limit */
#define KIF_QOS_QUANTUM	60000

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

struct kif_text {
	char		*buf;
	size_t		 size;
	size_t		 len;
};

static struct nl_sock	*kif_nl;
static int		 kif_pkt = -1;	/* AF_PACKET, for sending */
static int		 kif_kerrno;	/* errno of the last NACK */

static int
kif_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	(void)arg;
	kif_kerrno = -e->error;
	return NL_STOP;
}

/* libnl folds errno into its own codes; keep the kernel's when we can. */
static int
kif_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_INTR:		return EINTR;
	case NLE_BAD_SOCK:	return EBADF;
	case NLE_AGAIN:		return EAGAIN;
	case NLE_NOMEM:		return ENOMEM;
	case NLE_EXIST:		return EEXIST;
	case NLE_INVAL:		return EINVAL;
	case NLE_RANGE:		return ERANGE;
	case NLE_MSGSIZE:	return EMSGSIZE;
	case NLE_OPNOTSUPP:	return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:	return ENOENT;
	case NLE_NOADDR:	return EADDRNOTAVAIL;
	case NLE_BUSY:		return EBUSY;
	case NLE_NOACCESS:	return EACCES;
	case NLE_PERM:		return EPERM;
	case NLE_NODEV:		return ENODEV;
	default:		return EIO;
	}
}

static int
kif_nlfail(int nlerr)
{
	errno = kif_kerrno != 0 ? kif_kerrno : kif_errno(nlerr);
	kif_kerrno = 0;
	return -1;
}

static int
kif_ready(void)
{
	if (kif_nl == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	kif_kerrno = 0;
	return 0;
}

int
kif_init(void)
{
	struct nl_cb	*cb;
	int		 rc;

	if (kif_nl != NULL) {
		errno = EALREADY;
		return -1;
	}
	if ((kif_nl = nl_socket_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	cb = nl_socket_get_cb(kif_nl);
	nl_cb_err(cb, NL_CB_CUSTOM, kif_nl_error, NULL);
	nl_cb_put(cb);
	if ((rc = nl_connect(kif_nl, NETLINK_ROUTE)) < 0) {
		errno = kif_errno(rc);
		goto fail;
	}
	kif_pkt = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (kif_pkt == -1)
		goto fail;
	return 0;
fail:
	log_debug("%s: %s", __func__, strerror(errno));
	kif_shutdown();
	return -1;
}

void
kif_shutdown(void)
{
	int	 saved = errno;

	if (kif_nl != NULL)
		nl_socket_free(kif_nl);
	kif_nl = NULL;
	if (kif_pkt != -1)
		close(kif_pkt);
	kif_pkt = -1;
	errno = saved;
}

/* Names the kernel takes literally: no "%d" template, no path tricks. */
static int
kif_name_ok(const char *name)
{
	size_t	 len = strnlen(name, IFNAMSIZ);
	size_t	 i;

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (name[i] == '%' || name[i] == '/' || name[i] == ':' ||
		    isspace((unsigned char)name[i]))
			return 0;
	return 1;
}

static int
kif_tun_open(const char *name, uint32_t flags, short extra, int *fd)
{
	struct ifreq	 ifr;
	int		 t, saved;

	if ((flags & ~NETD_TUN_FLAGS) != 0 || !kif_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if ((t = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | extra;
	if (flags & NETD_TUN_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (flags & NETD_TUN_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (ioctl(t, TUNSETIFF, &ifr) == -1) {
		saved = errno;
		close(t);
		errno = saved;
		return -1;
	}
	*fd = t;
	return 0;
}

int
kif_tun_create(const char *name, uint32_t flags, int *fd,
    unsigned int *ifindex)
{
	unsigned int	 idx;
	int		 t, saved;

	if (kif_ready() == -1)
		return -1;
	if (!kif_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (kif_ifindex(name, &idx) == 0) {
		errno = EEXIST;
		goto fail;
	}
	if (errno != ENODEV)
		goto fail;
	/* IFF_TUN_EXCL closes the race with a device created meanwhile. */
	if (kif_tun_open(name, flags, IFF_TUN_EXCL, &t) == -1) {
		if (errno == EBUSY)
			errno = EEXIST;
		goto fail;
	}
	if (kif_ifindex(name, &idx) == -1) {
		saved = errno;
		close(t);
		errno = saved;
		goto fail;
	}
	*fd = t;
	*ifindex = idx;
	return 0;
fail:
	log_debug("%s: %s: %s", __func__, name, strerror(errno));
	return -1;
}

int
kif_tun_queue(unsigned int ifindex, uint32_t flags, int *fd)
{
	char		 name[NETD_IFNAMSIZ];
	unsigned int	 idx;
	int		 t;

	if (kif_ifname(ifindex, name) == -1)
		goto fail;
	if (kif_tun_open(name, flags, 0, &t) == -1)
		goto fail;
	/* The name may have moved to another link in between. */
	if (kif_ifindex(name, &idx) == -1 || idx != ifindex) {
		close(t);
		errno = ENODEV;
		goto fail;
	}
	*fd = t;
	return 0;
fail:
	log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
	return -1;
}

static struct rtnl_link *
kif_link_alloc(unsigned int ifindex)
{
	struct rtnl_link	*link;

	if (ifindex == 0 || ifindex > INT_MAX) {
		errno = ENODEV;
		return NULL;
	}
	if ((link = rtnl_link_alloc()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rtnl_link_set_ifindex(link, (int)ifindex);
	return link;
}

int
kif_link_del(unsigned int ifindex)
{
	struct rtnl_link	*link;
	int			 rc;

	if (kif_ready() == -1 || (link = kif_link_alloc(ifindex)) == NULL)
		return -1;
	rc = rtnl_link_delete(kif_nl, link);
	rtnl_link_put(link);
	if (rc < 0) {
		kif_nlfail(rc);
		log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
		return -1;
	}
	return 0;
}

int
kif_link_set(unsigned int ifindex, uint32_t mtu, int state)
{
	struct rtnl_link	*link, *change;
	int			 rc = -1;

	if (state != NETD_LINK_UP && state != NETD_LINK_DOWN &&
	    state != NETD_LINK_KEEP) {
		errno = EINVAL;
		return -1;
	}
	if (kif_ready() == -1 || (link = kif_link_alloc(ifindex)) == NULL)
		return -1;
	if ((change = rtnl_link_alloc()) == NULL) {
		errno = ENOMEM;
		goto done;
	}
	if (mtu != NETD_MTU_KEEP)
		rtnl_link_set_mtu(change, mtu);
	if (state == NETD_LINK_UP)
		rtnl_link_set_flags(change, IFF_UP);
	else if (state == NETD_LINK_DOWN)
		rtnl_link_unset_flags(change, IFF_UP);
	if ((rc = rtnl_link_change(kif_nl, link, change, 0)) < 0)
		rc = kif_nlfail(rc);
	rtnl_link_put(change);
done:
	rtnl_link_put(link);
	if (rc == -1)
		log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
	return rc;
}

/* An nl_addr for p; host bits cleared when mask is set. */
static struct nl_addr *
kif_nladdr(const struct prefix *p, int mask)
{
	struct prefix	 q = *p;
	struct nl_addr	*a;
	size_t		 len = addr_len(p->addr.af);

	if (len == 0) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (p->len > addr_maxlen(p->addr.af)) {
		errno = EINVAL;
		return NULL;
	}
	if (mask)
		prefix_mask(&q);
	if ((a = nl_addr_build(q.addr.af, q.addr.bytes, len)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	nl_addr_set_prefixlen(a, q.len);
	return a;
}

/* The subnet broadcast of IPv4 address a/len (len < 32). */
static struct in_addr
kif_bcast4(struct in_addr a, unsigned int len)
{
	uint32_t	 host = len == 0 ? 0xffffffffu : (1u << (32 - len)) - 1;

	a.s_addr |= htonl(host);
	return a;
}

static struct nl_addr *
kif_nlbcast(const struct prefix *p)
{
	struct in_addr	 b = kif_bcast4(p->addr.v4, p->len);

	return nl_addr_build(AF_INET, &b, sizeof(b));
}

int
kif_addr(int add, unsigned int ifindex, const struct prefix *p)
{
	struct rtnl_addr	*a = NULL;
	struct nl_addr		*local = NULL, *bcast = NULL;
	int			 rc = -1;

	if (kif_ready() == -1)
		return -1;
	if ((local = kif_nladdr(p, 0)) == NULL)
		goto done;
	if ((a = rtnl_addr_alloc()) == NULL) {
		errno = ENOMEM;
		goto done;
	}
	rtnl_addr_set_ifindex(a, (int)ifindex);
	rtnl_addr_set_family(a, p->addr.af);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, p->len);
	if (add && p->addr.af == AF_INET && p->len < 31) {
		if ((bcast = kif_nlbcast(p)) == NULL) {
			errno = ENOMEM;
			goto done;
		}
		rtnl_addr_set_broadcast(a, bcast);
	}
	if (add)
		rc = rtnl_addr_add(kif_nl, a, NLM_F_EXCL);
	else
		rc = rtnl_addr_delete(kif_nl, a, 0);
	if (rc < 0)
		rc = kif_nlfail(rc);
done:
	if (rc == -1)
		log_debug("%s: %s %u: %s", __func__, add ? "add" : "del",
		    ifindex, strerror(errno));
	if (a != NULL)
		rtnl_addr_put(a);
	nl_addr_put(local);
	nl_addr_put(bcast);
	return rc;
}

static struct rtnl_route *
kif_route_build(unsigned int ifindex, const struct prefix *dst,
    uint32_t metric)
{
	struct rtnl_route	*r;
	struct rtnl_nexthop	*nh;
	struct nl_addr		*a;

	if ((a = kif_nladdr(dst, 1)) == NULL)
		return NULL;
	if ((r = rtnl_route_alloc()) == NULL ||
	    (nh = rtnl_route_nh_alloc()) == NULL) {
		if (r != NULL)
			rtnl_route_put(r);
		nl_addr_put(a);
		errno = ENOMEM;
		return NULL;
	}
	rtnl_route_set_family(r, dst->addr.af);
	rtnl_route_set_dst(r, a);
	nl_addr_put(a);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_scope(r, RT_SCOPE_LINK);
	rtnl_route_set_protocol(r, KIF_RTPROT);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_priority(r, metric);
	rtnl_route_nh_set_ifindex(nh, (int)ifindex);
	rtnl_route_add_nexthop(r, nh);
	return r;
}

int
kif_route(int add, unsigned int ifindex, const struct prefix *dst,
    uint32_t metric)
{
	struct rtnl_route	*r;
	int			 rc;

	if (kif_ready() == -1)
		return -1;
	if ((r = kif_route_build(ifindex, dst, metric)) == NULL)
		goto fail;
	if (add)
		rc = rtnl_route_add(kif_nl, r, NLM_F_EXCL);
	else
		rc = rtnl_route_delete(kif_nl, r, 0);
	rtnl_route_put(r);
	if (rc < 0) {
		kif_nlfail(rc);
		goto fail;
	}
	return 0;
fail:
	log_debug("%s: %s %u: %s", __func__, add ? "add" : "del", ifindex,
	    strerror(errno));
	return -1;
}

static int LR_LOG_PRINTF(2, 3)
kif_text_add(struct kif_text *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->size - t->len) {
		errno = ENOBUFS;
		return -1;
	}
	t->len += n;
	return 0;
}

/* " or dst host B" for each subnet broadcast of ifindex's IPv4 addresses. */
static int
kif_text_bcasts(struct kif_text *t, unsigned int ifindex)
{
	struct nl_cache		*cache;
	struct nl_object	*o;
	struct rtnl_addr	*a;
	struct nl_addr		*local;
	struct in_addr		 b;
	unsigned int		 len;
	char			 s[INET_ADDRSTRLEN];
	int			 rc;

	if ((rc = rtnl_addr_alloc_cache(kif_nl, &cache)) < 0)
		return kif_nlfail(rc);
	rc = 0;
	for (o = nl_cache_get_first(cache); o != NULL && rc == 0;
	    o = nl_cache_get_next(o)) {
		a = (struct rtnl_addr *)o;
		local = rtnl_addr_get_local(a);
		if (rtnl_addr_get_ifindex(a) != (int)ifindex ||
		    rtnl_addr_get_family(a) != AF_INET || local == NULL ||
		    nl_addr_get_len(local) != 4)
			continue;
		if ((len = rtnl_addr_get_prefixlen(a)) >= 31)
			continue;
		memcpy(&b, nl_addr_get_binary_addr(local), sizeof(b));
		b = kif_bcast4(b, len);
		inet_ntop(AF_INET, &b, s, sizeof(s));
		rc = kif_text_add(t, " or dst host %s", s);
	}
	nl_cache_free(cache);
	return rc;
}

static int
kif_capture_expr(unsigned int ifindex, const struct netd_port_range *r,
    size_t n, struct kif_text *t)
{
	size_t	 i;

	if (kif_text_add(t, "udp and (dst host 255.255.255.255 or "
	    "dst net 224.0.0.0/4") == -1 ||
	    kif_text_bcasts(t, ifindex) == -1 ||
	    kif_text_add(t, ") and (") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (kif_text_add(t, "%sdst portrange %u-%u", i ? " or " : "",
		    r[i].lo, r[i].hi) == -1)
			return -1;
	}
	return kif_text_add(t, ")");
}

/* Compile expr for packets that start with the IPv4 header. */
static int
kif_bpf_compile(const char *expr, struct bpf_program *prog)
{
	pcap_t	*p;

	if ((p = pcap_open_dead(DLT_RAW, KIF_SNAPLEN)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		log_debug("%s: \"%s\": %s", __func__, expr, pcap_geterr(p));
		pcap_close(p);
		errno = EINVAL;
		return -1;
	}
	pcap_close(p);
	return 0;
}

/*
 * Attach prog behind an skb->protocol == ETH_P_IP check (an ETH_P_ALL
 * socket also sees ARP and IPv6) and lock it, so that the unprivileged
 * holder of the socket cannot lift or widen it.
 */
static int
kif_bpf_attach(int s, const struct bpf_program *prog)
{
	static const struct sock_filter	 ipv4[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
		    (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter		*f;
	struct sock_fprog		 fp;
	size_t				 n = nitems(ipv4);
	int				 one = 1, rc = -1, saved;

	if (prog->bf_len > BPF_MAXINSNS - n) {
		errno = E2BIG;
		return -1;
	}
	if ((f = calloc(n + prog->bf_len, sizeof(*f))) == NULL)
		return -1;
	memcpy(f, ipv4, sizeof(ipv4));
	memcpy(f + n, prog->bf_insns, prog->bf_len * sizeof(*f));
	fp.len = n + prog->bf_len;
	fp.filter = f;
	if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == 0 &&
	    setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) == 0)
		rc = 0;
	saved = errno;
	free(f);
	errno = saved;
	return rc;
}

static int
kif_ranges_ok(const struct netd_port_range *r, size_t n)
{
	size_t	 i;

	if (n == 0 || n > NETD_MAX_PORT_RANGES)
		return 0;
	for (i = 0; i < n; i++)
		if (r[i].lo > r[i].hi)
			return 0;
	return 1;
}

/*
 * The socket is created with protocol 0, which receives nothing, and only
 * bound once the filter is on: nothing unfiltered is ever queued.  It is
 * bound to ETH_P_ALL because the kernel shows outgoing packets only to
 * all-protocol taps.
 */
int
kif_capture_open(unsigned int ifindex, const struct netd_port_range *r,
    size_t n, int *fd)
{
	struct sockaddr_ll	 sll;
	struct bpf_program	 prog = { 0, NULL };
	struct kif_text		 t;
	char			 expr[KIF_EXPRMAX];
	int			 s = -1, saved;

	if (kif_ready() == -1)
		return -1;
	t.buf = expr;
	t.size = sizeof(expr);
	t.len = 0;
	if (!kif_ranges_ok(r, n) || ifindex == 0 || ifindex > INT_MAX) {
		errno = EINVAL;
		goto fail;
	}
	if (kif_capture_expr(ifindex, r, n, &t) == -1 ||
	    kif_bpf_compile(expr, &prog) == -1)
		goto fail;
	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s == -1 || kif_bpf_attach(s, &prog) == -1)
		goto fail;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		goto fail;
	pcap_freecode(&prog);
	log_debug("%s: %u: %s", __func__, ifindex, expr);
	*fd = s;
	return 0;
fail:
	saved = errno;
	log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
	pcap_freecode(&prog);
	if (s != -1)
		close(s);
	errno = saved;
	return -1;
}

static uint32_t
kif_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
kif_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
kif_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* IPv4 + UDP headers and payload into pkt; returns the total length. */
static size_t
kif_inject_build(const struct netd_inject *inj, uint8_t *pkt)
{
	uint8_t		*udp = pkt + KIF_IPHDR;
	size_t		 ulen = KIF_UDPHDR + inj->len;
	uint32_t	 sum;
	uint16_t	 ck;

	memset(pkt, 0, KIF_IPHDR + KIF_UDPHDR);
	pkt[0] = 0x45;
	kif_put16(pkt + 2, KIF_IPHDR + ulen);
	kif_put16(pkt + 4, arc4random() & 0xffff);
	pkt[8] = inj->ttl;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, inj->src, 4);
	memcpy(pkt + 16, inj->dst, 4);
	kif_put16(pkt + 10, kif_fold(kif_sum(pkt, KIF_IPHDR, 0)));

	kif_put16(udp, inj->sport);
	kif_put16(udp + 2, inj->dport);
	kif_put16(udp + 4, ulen);
	if (inj->len > 0)
		memcpy(udp + KIF_UDPHDR, inj->payload, inj->len);
	sum = kif_sum(pkt + 12, 8, IPPROTO_UDP + ulen);
	ck = kif_fold(kif_sum(udp, ulen, sum));
	kif_put16(udp + 6, ck == 0 ? 0xffff : ck);
	return KIF_IPHDR + ulen;
}

/* Link-layer destination: the IPv4 multicast MAC, or broadcast. */
static void
kif_inject_dst(const struct netd_inject *inj, struct sockaddr_ll *sll)
{
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(ETH_P_IP);
	sll->sll_ifindex = (int)inj->ifindex;
	sll->sll_halen = ETH_ALEN;
	memset(sll->sll_addr, 0xff, ETH_ALEN);
	if ((inj->dst[0] & 0xf0) == 0xe0) {
		sll->sll_addr[0] = 0x01;
		sll->sll_addr[1] = 0x00;
		sll->sll_addr[2] = 0x5e;
		sll->sll_addr[3] = inj->dst[1] & 0x7f;
		sll->sll_addr[4] = inj->dst[2];
		sll->sll_addr[5] = inj->dst[3];
	}
}

int
kif_inject(const struct netd_inject *inj)
{
	static uint8_t		 pkt[KIF_IPHDR + KIF_UDPHDR +
				     NETD_INJECT_MAX];
	struct sockaddr_ll	 sll;
	size_t			 len;
	ssize_t			 n;

	if (kif_ready() == -1)
		return -1;
	if (inj->proto != IPPROTO_UDP) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (inj->ttl == 0 || inj->len > NETD_INJECT_MAX ||
	    (inj->len > 0 && inj->payload == NULL) || inj->ifindex == 0 ||
	    inj->ifindex > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	len = kif_inject_build(inj, pkt);
	kif_inject_dst(inj, &sll);
	n = sendto(kif_pkt, pkt, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	if (n == -1 || (size_t)n != len) {
		if (n != -1)
			errno = EIO;
		log_debug("%s: %u: %s", __func__, inj->ifindex,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
kif_qdisc_add(unsigned int ifindex)
{
	struct rtnl_qdisc	*q;
	int			 rc;

	if ((q = rtnl_qdisc_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), (int)ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(KIF_QOS_HANDLE, 0));
	if ((rc = rtnl_tc_set_kind(TC_CAST(q), "htb")) == 0 &&
	    (rc = rtnl_htb_set_defcls(q, TC_HANDLE(0,
	    NETD_QOS_NORMAL + 1))) == 0)
		rc = rtnl_qdisc_add(kif_nl, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	return rc < 0 ? kif_nlfail(rc) : 0;
}

/* Band class 1:(band + 1): never rate-limited, served by priority. */
static int
kif_band_add(unsigned int ifindex, unsigned int band)
{
	struct rtnl_class	*c;
	int			 rc;

	if ((c = rtnl_class_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_tc_set_ifindex(TC_CAST(c), (int)ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(KIF_QOS_HANDLE, 0));
	rtnl_tc_set_handle(TC_CAST(c), TC_HANDLE(KIF_QOS_HANDLE, band + 1));
	if ((rc = rtnl_tc_set_kind(TC_CAST(c), "htb")) == 0 &&
	    (rc = rtnl_htb_set_rate64(c, KIF_QOS_RATE)) == 0 &&
	    (rc = rtnl_htb_set_ceil64(c, KIF_QOS_RATE)) == 0 &&
	    (rc = rtnl_htb_set_quantum(c, KIF_QOS_QUANTUM)) == 0 &&
	    (rc = rtnl_htb_set_prio(c, band)) == 0)
		rc = rtnl_class_add(kif_nl, c, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_class_put(c);
	return rc < 0 ? kif_nlfail(rc) : 0;
}

/* One u32 filter: IHL 5, first fragment, proto, port block, to class. */
static int
kif_u32_add(unsigned int ifindex, uint16_t prio,
    const struct netd_qos_rule *rule, uint16_t port, uint16_t mask, int off)
{
	struct rtnl_cls	*c;
	int		 rc;

	if ((c = rtnl_cls_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_tc_set_ifindex(TC_CAST(c), (int)ifindex);
	rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(KIF_QOS_HANDLE, 0));
	rtnl_cls_set_prio(c, prio);
	rtnl_cls_set_protocol(c, ETH_P_IP);
	if ((rc = rtnl_tc_set_kind(TC_CAST(c), "u32")) < 0 ||
	    (rc = rtnl_u32_add_key_uint8(c, 0x05, 0x0f, 0, 0)) < 0 ||
	    (rc = rtnl_u32_add_key_uint16(c, 0, 0x1fff, 6, 0)) < 0 ||
	    (rc = rtnl_u32_add_key_uint8(c, rule->proto, 0xff, 9, 0)) < 0 ||
	    (rc = rtnl_u32_add_key_uint16(c, port, mask, off, 0)) < 0 ||
	    (rc = rtnl_u32_set_classid(c,
	    TC_HANDLE(KIF_QOS_HANDLE, rule->class + 1))) < 0 ||
	    (rc = rtnl_u32_set_cls_terminal(c)) < 0)
		goto done;
	rc = rtnl_cls_add(kif_nl, c, NLM_F_CREATE);
done:
	rtnl_cls_put(c);
	return rc < 0 ? kif_nlfail(rc) : 0;
}

/* The largest aligned power-of-two block that starts at lo, within hi. */
static uint32_t
kif_block(uint32_t lo, uint32_t hi)
{
	uint32_t	 size = lo == 0 ? 0x10000 : lo & -lo;

	while (lo + size - 1 > hi)
		size >>= 1;
	return size;
}

static int
kif_qos_rule(unsigned int ifindex, const struct netd_qos_rule *rule,
    uint16_t prio)
{
	uint32_t	 lo, size;
	uint16_t	 mask;

	for (lo = rule->port_lo; lo <= rule->port_hi; lo += size) {
		size = kif_block(lo, rule->port_hi);
		mask = (uint16_t)~(size - 1);
		/* Source or destination port: replies come from the game. */
		if (kif_u32_add(ifindex, prio, rule, lo, mask, 22) == -1 ||
		    kif_u32_add(ifindex, prio, rule, lo, mask, 20) == -1)
			return -1;
	}
	return 0;
}

static int
kif_rules_ok(const struct netd_qos_rule *r, size_t n)
{
	size_t	 i;

	if (n == 0 || n > NETD_MAX_QOS_RULES)
		return 0;
	for (i = 0; i < n; i++)
		if ((r[i].proto != IPPROTO_TCP && r[i].proto != IPPROTO_UDP) ||
		    r[i].port_lo > r[i].port_hi || r[i].class >= KIF_QOS_BANDS)
			return 0;
	return 1;
}

int
kif_qos_set(unsigned int ifindex, const struct netd_qos_rule *r, size_t n)
{
	size_t	 i;
	int	 saved;

	if (kif_ready() == -1)
		return -1;
	if (!kif_rules_ok(r, n) || ifindex == 0 || ifindex > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (kif_qos_clear(ifindex) == -1 || kif_qdisc_add(ifindex) == -1)
		goto fail;
	for (i = 0; i < KIF_QOS_BANDS; i++)
		if (kif_band_add(ifindex, i) == -1)
			goto undo;
	for (i = 0; i < n; i++)
		if (kif_qos_rule(ifindex, &r[i], (uint16_t)(i + 1)) == -1)
			goto undo;
	return 0;
undo:
	saved = errno;
	kif_qos_clear(ifindex);
	errno = saved;
fail:
	log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
	return -1;
}

int
kif_qos_clear(unsigned int ifindex)
{
	struct rtnl_qdisc	*q;
	int			 rc;

	if (kif_ready() == -1)
		return -1;
	if (ifindex == 0 || ifindex > INT_MAX) {
		errno = ENODEV;
		return -1;
	}
	if ((q = rtnl_qdisc_alloc()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_tc_set_ifindex(TC_CAST(q), (int)ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rc = rtnl_qdisc_delete(kif_nl, q);
	rtnl_qdisc_put(q);
	if (rc < 0) {
		kif_nlfail(rc);
		if (errno == ENOENT)
			return 0;
		log_debug("%s: %u: %s", __func__, ifindex, strerror(errno));
		return -1;
	}
	return 0;
}

int
kif_sweep(const char *prefix, unsigned int *removed)
{
	struct nl_cache		*cache;
	struct nl_object	*o;
	struct rtnl_link	*link;
	const char		*name;
	size_t			 plen = strlen(prefix);
	int			 rc, first = 0;

	*removed = 0;
	if (kif_ready() == -1)
		return -1;
	if (plen == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((rc = rtnl_link_alloc_cache(kif_nl, AF_UNSPEC, &cache)) < 0)
		return kif_nlfail(rc);
	for (o = nl_cache_get_first(cache); o != NULL;
	    o = nl_cache_get_next(o)) {
		link = (struct rtnl_link *)o;
		name = rtnl_link_get_name(link);
		if (name == NULL || strncmp(name, prefix, plen) != 0)
			continue;
		if (kif_link_del(rtnl_link_get_ifindex(link)) == 0)
			(*removed)++;
		else if (errno != ENODEV && first == 0)
			first = errno;
	}
	nl_cache_free(cache);
	if (first != 0) {
		errno = first;
		return -1;
	}
	return 0;
}

static int
kif_link_get(unsigned int ifindex, const char *name, struct rtnl_link **lp)
{
	int	 rc;

	if (kif_ready() == -1)
		return -1;
	if ((rc = rtnl_link_get_kernel(kif_nl, (int)ifindex, name, lp)) < 0) {
		kif_nlfail(rc);
		if (errno == ENOENT)
			errno = ENODEV;
		return -1;
	}
	return 0;
}

int
kif_ifname(unsigned int ifindex, char name[NETD_IFNAMSIZ])
{
	struct rtnl_link	*link;
	const char		*s;

	if (ifindex == 0 || ifindex > INT_MAX) {
		errno = ENODEV;
		return -1;
	}
	if (kif_link_get(ifindex, NULL, &link) == -1)
		return -1;
	s = rtnl_link_get_name(link);
	if (s == NULL || strlen(s) >= NETD_IFNAMSIZ) {
		rtnl_link_put(link);
		errno = EIO;
		return -1;
	}
	memcpy(name, s, strlen(s) + 1);
	rtnl_link_put(link);
	return 0;
}

int
kif_ifindex(const char *name, unsigned int *ifindex)
{
	struct rtnl_link	*link;
	int			 idx;
	size_t			 len = strnlen(name, IFNAMSIZ);

	if (len == 0 || len >= IFNAMSIZ) {
		errno = EINVAL;
		return -1;
	}
	if (kif_link_get(0, name, &link) == -1)
		return -1;
	idx = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	if (idx <= 0) {
		errno = EIO;
		return -1;
	}
	*ifindex = (unsigned int)idx;
	return 0;
}
