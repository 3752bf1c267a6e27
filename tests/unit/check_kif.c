/*
 * kif against the real kernel: each test runs in its own forked child
 * inside a fresh network namespace, so nothing leaks onto the host.
 * Needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN for unshare);
 * without it the suite reports that it skipped and runs no test.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>

#include <check.h>

#include "../../lanrage-netd/kif.h"
#include "../../lib/addr.h"
#include "../../lib/log.h"

#define TUN		"lrt0"
#define PKTMAX		2048

static int	 nfds_before;

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

static void
if_flags_set(const char *name, short flags)
{
	struct ifreq	 ifr;
	int		 s;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(s, -1);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= flags;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static void
setup(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s",
	    strerror(errno));
	if_flags_set("lo", IFF_UP);
	nfds_before = count_fds();
	ck_assert_int_eq(kif_init(), 0);
}

/* Every fd a test opened is closed again, kif's own included. */
static void
teardown(void)
{
	kif_shutdown();
	ck_assert_int_eq(count_fds(), nfds_before);
}

static struct prefix
pfx(const char *s)
{
	struct prefix	 p;

	ck_assert_msg(prefix_parse(s, &p) == 0, "prefix_parse %s", s);
	return p;
}

/* Output of a shell command run in the test's namespace. */
static char *
run(const char *fmt, ...)
{
	static char	 out[16384];
	char		 cmd[512];
	va_list		 ap;
	FILE		*f;
	size_t		 n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_ptr_nonnull(f = popen(cmd, "re"));
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static int
count_str(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* TUN up with 10.66.0.1/16; returns its queue fd. */
static int
tun_up(const char *name, unsigned int *idx)
{
	struct prefix	 p = pfx("10.66.0.1/16");
	int		 fd;

	ck_assert_int_eq(kif_tun_create(name, 0, &fd, idx), 0);
	ck_assert_int_eq(kif_link_set(*idx, NETD_MTU_KEEP, NETD_LINK_UP), 0);
	ck_assert_int_eq(kif_addr(1, *idx, &p), 0);
	return fd;
}

static uint16_t
csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t	*p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += p[0] << 8 | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint16_t
get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

/* Next IPv4 packet of protocol proto on fd (others skipped), or 0. */
static ssize_t
read_ip(int fd, int proto, uint8_t *buf, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	ssize_t		 n;

	for (;;) {
		if (poll(&pfd, 1, ms) != 1)
			return 0;
		n = read(fd, buf, PKTMAX);
		ck_assert_int_gt(n, 0);
		if (n >= 20 && buf[0] >> 4 == 4 && buf[9] == proto)
			return n;
	}
}

static int
udp_socket(const char *dev, uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 s, one = 1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(s, -1);
	ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof(one)), 0);
	if (dev != NULL)
		ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE,
		    dev, strlen(dev)), 0);
	if (port != 0) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		ck_assert_int_eq(bind(s, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	return s;
}

static void
udp_send(int s, const char *dst, uint16_t port, const char *msg)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, dst, &sin.sin_addr), 1);
	ck_assert_int_eq(sendto(s, msg, strlen(msg), 0,
	    (struct sockaddr *)&sin, sizeof(sin)), (ssize_t)strlen(msg));
}

static void
assert_fd_flags(int fd)
{
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

START_TEST(test_tun_create)
{
	struct ifreq	 ifr;
	unsigned int	 idx, idx2, mq;
	char		 name[NETD_IFNAMSIZ];
	int		 fd, fd2, q;

	ck_assert_int_eq(kif_tun_create(TUN, 0, &fd, &idx), 0);
	ck_assert_int_gt(idx, 1);
	assert_fd_flags(fd);
	ck_assert_int_eq(kif_ifindex(TUN, &idx2), 0);
	ck_assert_uint_eq(idx, idx2);
	ck_assert_int_eq(kif_ifname(idx, name), 0);
	ck_assert_str_eq(name, TUN);
	ck_assert_int_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI |
	    IFF_VNET_HDR | IFF_MULTI_QUEUE), IFF_TUN | IFF_NO_PI);
	/* A single-queue device takes no second queue. */
	ck_assert_int_eq(kif_tun_queue(idx, 0, &q), -1);

	ck_assert_int_eq(kif_tun_create("lrt1", NETD_TUN_VNET_HDR |
	    NETD_TUN_MULTI_QUEUE, &fd2, &mq), 0);
	ck_assert_int_eq(ioctl(fd2, TUNGETIFF, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_flags & (IFF_VNET_HDR | IFF_MULTI_QUEUE),
	    IFF_VNET_HDR | IFF_MULTI_QUEUE);
	ck_assert_int_eq(kif_tun_queue(mq, NETD_TUN_VNET_HDR |
	    NETD_TUN_MULTI_QUEUE, &q), 0);
	assert_fd_flags(q);
	ck_assert_int_eq(ioctl(q, TUNGETIFF, &ifr), 0);
	ck_assert_str_eq(ifr.ifr_name, "lrt1");
	ck_assert_int_eq(kif_tun_queue(idx + 1000, 0, &fd2 /* untouched */),
	    -1);
	ck_assert_int_eq(errno, ENODEV);
	close(q);
	close(fd2);
	close(fd);
}
END_TEST

START_TEST(test_tun_exists)
{
	unsigned int	 idx, idx2;
	int		 fd, fd2 = -1;

	ck_assert_int_eq(kif_tun_create(TUN, 0, &fd, &idx), 0);
	ck_assert_int_eq(kif_tun_create(TUN, 0, &fd2, &idx2), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(kif_tun_create("lo", 0, &fd2, &idx2), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(fd2, -1);
	close(fd);
}
END_TEST

START_TEST(test_bad_input)
{
	unsigned int	 idx;
	char		 name[NETD_IFNAMSIZ];
	int		 fd;

	ck_assert_int_eq(kif_tun_create("lrt%d", 0, &fd, &idx), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_tun_create("", 0, &fd, &idx), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_tun_create("lrt0123456789abc", 0, &fd, &idx),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_tun_create("lrt 0", 0, &fd, &idx), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_tun_create(TUN, 0x4, &fd, &idx), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_ifindex("lrtnone", &idx), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(kif_ifname(9999, name), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(kif_ifname(0, name), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(kif_link_set(9999, 1400, NETD_LINK_UP), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(kif_link_del(9999), -1);
	ck_assert_int_eq(errno, ENODEV);

	ck_assert_int_eq(kif_init(), -1);
	ck_assert_int_eq(errno, EALREADY);
	kif_shutdown();
	ck_assert_int_eq(kif_ifindex("lo", &idx), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	ck_assert_int_eq(kif_init(), 0);
	ck_assert_int_eq(kif_ifindex("lo", &idx), 0);
	ck_assert_uint_eq(idx, 1);
}
END_TEST

START_TEST(test_link_set)
{
	struct ifreq	 ifr;
	unsigned int	 idx;
	int		 fd, s;

	ck_assert_int_eq(kif_tun_create(TUN, 0, &fd, &idx), 0);
	ck_assert_int_eq(kif_link_set(idx, 1380, NETD_LINK_UP), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TUN);
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 1380);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(ifr.ifr_flags & IFF_UP);

	ck_assert_int_eq(kif_link_set(idx, NETD_MTU_KEEP, NETD_LINK_DOWN), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(!(ifr.ifr_flags & IFF_UP));
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 1380);

	ck_assert_int_eq(kif_link_set(idx, 1420, NETD_LINK_KEEP), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 1420);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(!(ifr.ifr_flags & IFF_UP));
	ck_assert_int_eq(kif_link_set(idx, 1420, 7), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(s);
	close(fd);
}
END_TEST

START_TEST(test_addr_route)
{
	struct prefix	 a4 = pfx("10.66.0.1/16"), a6 = pfx("fd66::1/64");
	struct prefix	 r1 = pfx("10.66.5.7/24"), bc = pfx("255.255.255.255");
	struct prefix	 r6 = pfx("fd66:1::/64");
	unsigned int	 idx;
	char		*out;
	int		 fd;

	ck_assert_int_eq(kif_tun_create(TUN, 0, &fd, &idx), 0);
	ck_assert_int_eq(kif_link_set(idx, 1380, NETD_LINK_UP), 0);
	ck_assert_int_eq(kif_addr(1, idx, &a4), 0);
	ck_assert_int_eq(kif_addr(1, idx, &a4), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(kif_addr(1, idx, &a6), 0);
	out = run("ip -o addr show dev %s", TUN);
	ck_assert_msg(strstr(out, "inet 10.66.0.1/16 brd 10.66.255.255 ") !=
	    NULL, "%s", out);
	ck_assert_msg(strstr(out, "inet6 fd66::1/64 ") != NULL, "%s", out);

	/* Host bits of a route are cleared: 10.66.5.7/24 is 10.66.5.0/24. */
	ck_assert_int_eq(kif_route(1, idx, &r1, 10), 0);
	ck_assert_int_eq(kif_route(1, idx, &r1, 10), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(kif_route(1, idx, &bc, 0), 0);
	ck_assert_int_eq(kif_route(1, idx, &r6, 5), 0);
	out = run("ip -4 route show dev %s", TUN);
	ck_assert_msg(strstr(out, "10.66.5.0/24 proto 76 scope link metric 10")
	    != NULL, "%s", out);
	ck_assert_msg(strstr(out, "255.255.255.255 proto 76 scope link") !=
	    NULL, "%s", out);
	ck_assert_msg(strstr(out, "10.66.0.0/16 proto kernel scope link") !=
	    NULL, "%s", out);
	out = run("ip -6 route show dev %s", TUN);
	ck_assert_msg(strstr(out, "fd66:1::/64 proto 76 metric 5") != NULL,
	    "%s", out);

	ck_assert_int_eq(kif_route(0, idx, &r1, 10), 0);
	ck_assert_int_eq(kif_route(0, idx, &r1, 10), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(kif_route(0, idx, &r6, 5), 0);
	out = run("ip route show dev %s; ip -6 route show dev %s", TUN, TUN);
	ck_assert_msg(strstr(out, "10.66.5.0") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "fd66:1::") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "255.255.255.255") != NULL, "%s", out);

	ck_assert_int_eq(kif_addr(0, idx, &a4), 0);
	ck_assert_int_eq(kif_addr(0, idx, &a4), -1);
	ck_assert_int_eq(errno, EADDRNOTAVAIL);
	ck_assert_int_eq(kif_addr(0, idx, &a6), 0);
	out = run("ip -o addr show dev %s", TUN);
	ck_assert_msg(strstr(out, "10.66.0.1") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "fd66::1") == NULL, "%s", out);
	close(fd);
}
END_TEST

/* An ICMP echo request written into the TUN is answered through it. */
START_TEST(test_tun_icmp)
{
	uint8_t		 pkt[PKTMAX] = {
		0x45, 0, 0, 35, 0x12, 0x34, 0, 0, 64, 1, 0, 0,
		10, 66, 0, 2, 10, 66, 0, 1,
		8, 0, 0, 0, 0xab, 0xcd, 0, 1, 'l', 'a', 'n', 'r', 'a', 'g', 'e'
	};
	unsigned int	 idx;
	uint16_t	 ck;
	ssize_t		 n;
	int		 fd;

	fd = tun_up(TUN, &idx);
	ck = csum(pkt, 20, 0);
	pkt[10] = ck >> 8;
	pkt[11] = ck & 0xff;
	ck = csum(pkt + 20, 15, 0);
	pkt[22] = ck >> 8;
	pkt[23] = ck & 0xff;
	ck_assert_int_eq(write(fd, pkt, 35), 35);

	ck_assert_int_eq(n = read_ip(fd, IPPROTO_ICMP, pkt, 2000), 35);
	ck_assert_int_eq(pkt[20], 0);	/* echo reply */
	ck_assert_mem_eq(pkt + 12, "\x0a\x42\x00\x01\x0a\x42\x00\x02", 8);
	ck_assert_mem_eq(pkt + 24, "\xab\xcd\x00\x01lanrage", 11);
	ck_assert_uint_eq(csum(pkt, 20, 0), 0);
	ck_assert_uint_eq(csum(pkt + 20, n - 20, 0), 0);
	close(fd);
}
END_TEST

/* A local datagram routed to the TUN comes out of its fd. */
START_TEST(test_tun_udp_out)
{
	struct prefix	 r = pfx("10.66.5.0/24");
	uint8_t		 pkt[PKTMAX];
	unsigned int	 idx;
	int		 fd, s;

	fd = tun_up(TUN, &idx);
	ck_assert_int_eq(kif_route(1, idx, &r, 0), 0);
	s = udp_socket(NULL, 0);
	udp_send(s, "10.66.5.9", 7777, "ping");
	ck_assert_int_eq(read_ip(fd, IPPROTO_UDP, pkt, 2000), 32);
	ck_assert_mem_eq(pkt + 16, "\x0a\x42\x05\x09", 4);
	ck_assert_uint_eq(get16(pkt + 22), 7777);
	ck_assert_mem_eq(pkt + 28, "ping", 4);
	close(s);
	close(fd);
}
END_TEST

/* The next captured packet's payload, or NULL when none is queued. */
static const char *
capture_next(int cfd, char *buf, size_t size)
{
	struct sockaddr_ll	 sll;
	socklen_t		 slen = sizeof(sll);
	uint8_t			 pkt[PKTMAX];
	struct pollfd		 pfd = { cfd, POLLIN, 0 };
	ssize_t			 n;

	if (poll(&pfd, 1, 500) != 1)
		return NULL;
	n = recvfrom(cfd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sll,
	    &slen);
	ck_assert_int_ge(n, 28);
	ck_assert_int_eq(sll.sll_pkttype, PACKET_OUTGOING);
	ck_assert_int_eq(ntohs(sll.sll_protocol), ETH_P_IP);
	ck_assert_int_eq(pkt[0], 0x45);
	ck_assert_int_eq(pkt[9], IPPROTO_UDP);
	ck_assert_uint_eq(get16(pkt + 22), 4445);
	ck_assert_uint_lt((size_t)n - 28, size);
	memcpy(buf, pkt + 28, n - 28);
	buf[n - 28] = '\0';
	return buf;
}

START_TEST(test_capture)
{
	struct netd_port_range	 rg[2] = { { 4445, 4445 }, { 6000, 6010 } };
	struct prefix		 bc = pfx("255.255.255.255/32");
	struct ip_mreqn		 mr;
	unsigned int		 idx;
	char			 buf[64];
	int			 fd, cfd, s;

	fd = tun_up(TUN, &idx);
	ck_assert_int_eq(kif_route(1, idx, &bc, 0), 0);
	ck_assert_int_eq(kif_capture_open(idx, rg, 0, &cfd), -1);
	ck_assert_int_eq(errno, EINVAL);
	rg[1].lo = 6011;
	ck_assert_int_eq(kif_capture_open(idx, rg, 2, &cfd), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_capture_open(idx, rg, 1, &cfd), 0);
	assert_fd_flags(cfd);

	s = udp_socket(TUN, 0);
	memset(&mr, 0, sizeof(mr));
	mr.imr_ifindex = idx;
	ck_assert_int_eq(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mr,
	    sizeof(mr)), 0);
	udp_send(s, "10.66.5.9", 4445, "unicast");
	udp_send(s, "255.255.255.255", 4446, "otherport");
	udp_send(s, "255.255.255.255", 4445, "limited");
	udp_send(s, "10.66.255.255", 4445, "directed");
	udp_send(s, "224.0.0.251", 4445, "multicast");
	udp_send(s, "255.255.255.255", 4444, "otherport");

	ck_assert_str_eq(capture_next(cfd, buf, sizeof(buf)), "limited");
	ck_assert_str_eq(capture_next(cfd, buf, sizeof(buf)), "directed");
	ck_assert_str_eq(capture_next(cfd, buf, sizeof(buf)), "multicast");
	ck_assert_ptr_null(capture_next(cfd, buf, sizeof(buf)));
	/* The holder cannot lift the filter. */
	ck_assert_int_eq(setsockopt(cfd, SOL_SOCKET, SO_DETACH_FILTER, NULL,
	    0), -1);
	close(s);
	close(cfd);
	close(fd);
}
END_TEST

static void
assert_udp4(const uint8_t *pkt, ssize_t n, const struct netd_inject *inj)
{
	uint8_t		 ph[12];

	ck_assert_int_eq(n, 28 + inj->len);
	ck_assert_int_eq(pkt[0], 0x45);
	ck_assert_uint_eq(get16(pkt + 2), n);
	ck_assert_uint_eq(get16(pkt + 6), 0);	/* no DF, no fragment */
	ck_assert_int_eq(pkt[8], inj->ttl);
	ck_assert_int_eq(pkt[9], IPPROTO_UDP);
	ck_assert_mem_eq(pkt + 12, inj->src, 4);
	ck_assert_mem_eq(pkt + 16, inj->dst, 4);
	ck_assert_uint_eq(csum(pkt, 20, 0), 0);
	ck_assert_uint_eq(get16(pkt + 20), inj->sport);
	ck_assert_uint_eq(get16(pkt + 22), inj->dport);
	ck_assert_uint_eq(get16(pkt + 24), 8 + inj->len);
	ck_assert_uint_ne(get16(pkt + 26), 0);
	memcpy(ph, pkt + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	ph[10] = pkt[24];
	ph[11] = pkt[25];
	ck_assert_uint_eq(csum(pkt + 20, n - 20, 0xffff & ~csum(ph, 12, 0)),
	    0);
	ck_assert_mem_eq(pkt + 28, inj->payload, inj->len);
}

START_TEST(test_inject_tun)
{
	static uint8_t		 big[NETD_INJECT_MAX];
	struct netd_port_range	 rg = { 4445, 4445 };
	struct netd_inject	 inj = {
		0, IPPROTO_UDP, 64, { 10, 66, 0, 7 }, 5000,
		{ 255, 255, 255, 255 }, 4445, 5, (const uint8_t *)"hello"
	};
	uint8_t			 pkt[PKTMAX];
	unsigned int		 idx;
	char			 buf[64];
	ssize_t			 n;
	int			 fd, cfd;

	fd = tun_up(TUN, &idx);
	ck_assert_int_eq(kif_capture_open(idx, &rg, 1, &cfd), 0);
	inj.ifindex = idx;
	ck_assert_int_eq(kif_inject(&inj), 0);
	n = read_ip(fd, IPPROTO_UDP, pkt, 2000);
	assert_udp4(pkt, n, &inj);
	/* What netd injects, the capture sees: the reader breaks loops. */
	ck_assert_str_eq(capture_next(cfd, buf, sizeof(buf)), "hello");

	memcpy(inj.dst, "\xe0\x00\x00\xfb", 4);
	inj.ttl = 1;
	inj.len = 0;
	ck_assert_int_eq(kif_inject(&inj), 0);
	n = read_ip(fd, IPPROTO_UDP, pkt, 2000);
	assert_udp4(pkt, n, &inj);

	memset(big, 0xa5, sizeof(big));
	inj.payload = big;
	inj.len = NETD_INJECT_MAX;
	ck_assert_int_eq(kif_inject(&inj), 0);
	n = read_ip(fd, IPPROTO_UDP, pkt, 2000);
	assert_udp4(pkt, n, &inj);
	ck_assert_int_eq(kif_link_set(idx, 1380, NETD_LINK_KEEP), 0);
	ck_assert_int_eq(kif_inject(&inj), -1);
	ck_assert_int_eq(errno, EMSGSIZE);

	inj.len = NETD_INJECT_MAX + 1;
	ck_assert_int_eq(kif_inject(&inj), -1);
	ck_assert_int_eq(errno, EINVAL);
	inj.len = 0;
	inj.ttl = 0;
	ck_assert_int_eq(kif_inject(&inj), -1);
	ck_assert_int_eq(errno, EINVAL);
	inj.ttl = 1;
	inj.proto = IPPROTO_TCP;
	ck_assert_int_eq(kif_inject(&inj), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	close(cfd);
	close(fd);
}
END_TEST

/* Next Ethernet frame carrying IPv4 UDP on a raw packet socket. */
static ssize_t
read_frame(int s, uint8_t *buf)
{
	struct pollfd	 pfd = { s, POLLIN, 0 };
	ssize_t		 n;

	for (;;) {
		ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
		n = read(s, buf, PKTMAX);
		if (n >= 14 + 28 && buf[12] == 0x08 && buf[13] == 0 &&
		    buf[14 + 9] == IPPROTO_UDP)
			return n;
	}
}

/* On Ethernet the frame gets the right MAC and reaches local sockets. */
START_TEST(test_inject_ether)
{
	struct netd_inject	 inj = {
		0, IPPROTO_UDP, 64, { 10, 77, 0, 7 }, 5000,
		{ 255, 255, 255, 255 }, 4445, 5, (const uint8_t *)"hello"
	};
	struct prefix		 a = pfx("10.77.0.2/24");
	struct sockaddr_ll	 sll;
	struct sockaddr_in	 from;
	socklen_t		 flen = sizeof(from);
	unsigned int		 v0, v1;
	uint8_t			 f[PKTMAX];
	char			 buf[16];
	int			 raw, s;

	ck_assert_str_eq(run("ip link add lrv0 type veth peer name lrv1 "
	    "2>&1; echo $?"), "0\n");
	ck_assert_int_eq(kif_ifindex("lrv0", &v0), 0);
	ck_assert_int_eq(kif_ifindex("lrv1", &v1), 0);
	ck_assert_int_eq(kif_link_set(v0, NETD_MTU_KEEP, NETD_LINK_UP), 0);
	ck_assert_int_eq(kif_link_set(v1, NETD_MTU_KEEP, NETD_LINK_UP), 0);
	ck_assert_int_eq(kif_addr(1, v1, &a), 0);
	run("sysctl -qw net.ipv4.conf.all.rp_filter=0 "
	    "net.ipv4.conf.lrv1.rp_filter=0");

	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
	ck_assert_int_ne(raw, -1);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = v1;
	ck_assert_int_eq(bind(raw, (struct sockaddr *)&sll, sizeof(sll)), 0);
	s = udp_socket("lrv1", 4445);

	inj.ifindex = v0;
	ck_assert_int_eq(kif_inject(&inj), 0);
	ck_assert_int_ge(read_frame(raw, f), 14 + 33);
	ck_assert_mem_eq(f, "\xff\xff\xff\xff\xff\xff", 6);
	assert_udp4(f + 14, 33, &inj);
	ck_assert_int_eq(recvfrom(s, buf, sizeof(buf), 0,
	    (struct sockaddr *)&from, &flen), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_mem_eq(&from.sin_addr, inj.src, 4);
	ck_assert_uint_eq(ntohs(from.sin_port), 5000);

	memcpy(inj.dst, "\xef\xff\xff\xfa", 4);	/* 239.255.255.250 */
	ck_assert_int_eq(kif_inject(&inj), 0);
	ck_assert_int_ge(read_frame(raw, f), 14 + 33);
	ck_assert_mem_eq(f, "\x01\x00\x5e\x7f\xff\xfa", 6);
	close(s);
	close(raw);
}
END_TEST

/* "Sent B bytes P pkt" of class 1:cls of the root qdisc. */
static long
class_pkts(const char *dev, int cls)
{
	char		 key[32];
	const char	*out, *p;
	long		 bytes, pkts;

	out = run("tc -s class show dev %s", dev);
	snprintf(key, sizeof(key), "class htb 1:%d ", cls);
	ck_assert_msg((p = strstr(out, key)) != NULL, "%s", out);
	ck_assert_ptr_nonnull(p = strstr(p, "Sent "));
	ck_assert_int_eq(sscanf(p, "Sent %ld bytes %ld pkt", &bytes, &pkts),
	    2);
	return pkts;
}

START_TEST(test_qos)
{
	struct netd_qos_rule	 rules[2] = {
		{ IPPROTO_UDP, 27015, 27030, NETD_QOS_REALTIME },
		{ IPPROTO_TCP, 80, 80, NETD_QOS_BULK },
	};
	struct sockaddr_in	 sin;
	unsigned int		 idx;
	char			*out;
	int			 fd, s, t, i;

	fd = tun_up(TUN, &idx);
	ck_assert_int_eq(kif_qos_clear(idx), 0);	/* nothing there */
	ck_assert_int_eq(kif_qos_set(idx, rules, 2), 0);
	ck_assert_int_eq(kif_qos_set(idx, rules, 2), 0);	/* replaces */
	out = run("tc qdisc show dev %s", TUN);
	ck_assert_msg(strstr(out, "qdisc htb 1: root") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "default 0x2 ") != NULL, "%s", out);
	out = run("tc class show dev %s", TUN);
	ck_assert_msg(strstr(out, "class htb 1:1 root prio 0 ") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "class htb 1:2 root prio 1 ") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, "class htb 1:3 root prio 2 ") != NULL, "%s",
	    out);
	out = run("tc filter show dev %s", TUN);
	/* 27015 27016-23 27024-27 27028-29 27030, each as dst and src. */
	ck_assert_int_eq(count_str(out, "flowid 1:1"), 10);
	ck_assert_int_eq(count_str(out, "flowid 1:3"), 2);
	ck_assert_int_eq(count_str(out, "flowid"), 12);

	s = udp_socket(NULL, 27016);
	for (i = 0; i < 3; i++)
		udp_send(s, "10.66.5.9", 27020 + i * 5, "dst");
	udp_send(s, "10.66.5.9", 9999, "src");
	close(s);
	s = udp_socket(NULL, 0);
	udp_send(s, "10.66.5.9", 27031, "none");
	udp_send(s, "10.66.5.9", 80, "udp80");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	inet_pton(AF_INET, "10.66.5.9", &sin.sin_addr);
	t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(t, (struct sockaddr *)&sin, sizeof(sin)),
	    -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	ck_assert_int_eq(class_pkts(TUN, 1), 4);
	ck_assert_int_ge(class_pkts(TUN, 2), 2);
	ck_assert_int_ge(class_pkts(TUN, 3), 1);
	close(t);
	close(s);

	rules[0].class = 3;
	ck_assert_int_eq(kif_qos_set(idx, rules, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_qos_clear(idx), 0);
	out = run("tc qdisc show dev %s; tc filter show dev %s", TUN, TUN);
	ck_assert_msg(strstr(out, "htb") == NULL, "%s", out);
	ck_assert_msg(strstr(out, "u32") == NULL, "%s", out);
	ck_assert_int_eq(kif_qos_clear(idx), 0);
	close(fd);
}
END_TEST

START_TEST(test_link_del)
{
	unsigned int	 idx, idx2;
	char		 name[NETD_IFNAMSIZ];
	uint8_t		 pkt[64];
	int		 fd;

	fd = tun_up(TUN, &idx);
	ck_assert_int_eq(kif_link_del(idx), 0);
	ck_assert_int_eq(kif_ifindex(TUN, &idx2), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_int_eq(kif_ifname(idx, name), -1);
	ck_assert_int_eq(errno, ENODEV);
	ck_assert_msg(strstr(run("ip link show"), TUN) == NULL, "still there");
	/* The queue fd outlives its device but is dead. */
	ck_assert_int_eq(read(fd, pkt, sizeof(pkt)), -1);
	ck_assert_int_eq(errno, EBADFD);
	ck_assert_int_eq(kif_link_del(idx), -1);
	ck_assert_int_eq(errno, ENODEV);
	close(fd);
}
END_TEST

START_TEST(test_sweep)
{
	unsigned int	 idx0, idx1, removed, idx;
	int		 fd0, fd1;

	ck_assert_int_eq(kif_tun_create("lrt0", 0, &fd0, &idx0), 0);
	ck_assert_int_eq(kif_tun_create("lrt1", NETD_TUN_MULTI_QUEUE, &fd1,
	    &idx1), 0);
	ck_assert_str_eq(run("ip link add lrtv0 type veth peer name lrtv1 "
	    "2>&1; ip link add keep0 type veth peer name keep1 2>&1; "
	    "echo $?"), "0\n");
	ck_assert_int_eq(kif_sweep("", &removed), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(kif_sweep("lrt", &removed), 0);
	/* lrtv1 goes with its peer lrtv0. */
	ck_assert_uint_eq(removed, 3);
	ck_assert_int_eq(kif_ifindex("lrt0", &idx), -1);
	ck_assert_int_eq(kif_ifindex("lrt1", &idx), -1);
	ck_assert_int_eq(kif_ifindex("lrtv0", &idx), -1);
	ck_assert_int_eq(kif_ifindex("lrtv1", &idx), -1);
	ck_assert_int_eq(kif_ifindex("keep0", &idx), 0);
	ck_assert_int_eq(kif_ifindex("keep1", &idx), 0);
	ck_assert_int_eq(kif_ifindex("lo", &idx), 0);
	ck_assert_int_eq(kif_sweep("lrt", &removed), 0);
	ck_assert_uint_eq(removed, 0);
	close(fd0);
	close(fd1);
}
END_TEST

/* unshare and /dev/net/tun work here: otherwise there is nothing to test. */
static int
can_run(void)
{
	pid_t	 pid;
	int	 st, fd;

	if (geteuid() != 0)
		return 0;
	if ((pid = fork()) == -1)
		return 0;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) == -1 ||
		    (fd = open("/dev/net/tun", O_RDWR)) == -1)
			_exit(1);
		_exit(0);
	}
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
}

static Suite *
kif_suite(int runnable)
{
	Suite	*s = suite_create("kif");
	TCase	*tc = tcase_create("netns");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	if (runnable) {
		tcase_add_test(tc, test_tun_create);
		tcase_add_test(tc, test_tun_exists);
		tcase_add_test(tc, test_bad_input);
		tcase_add_test(tc, test_link_set);
		tcase_add_test(tc, test_addr_route);
		tcase_add_test(tc, test_tun_icmp);
		tcase_add_test(tc, test_tun_udp_out);
		tcase_add_test(tc, test_capture);
		tcase_add_test(tc, test_inject_tun);
		tcase_add_test(tc, test_inject_ether);
		tcase_add_test(tc, test_qos);
		tcase_add_test(tc, test_link_del);
		tcase_add_test(tc, test_sweep);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 runnable, failed;

	log_init("check_kif", 1, getenv("KIF_DEBUG") != NULL);
	if (!(runnable = can_run()))
		printf("check_kif: skipped: needs root, network namespaces "
		    "and /dev/net/tun\n");
	sr = srunner_create(kif_suite(runnable));
	/* Each test needs its own child: it unshares the network. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
