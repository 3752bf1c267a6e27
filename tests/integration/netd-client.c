/*
 * netd-client: a scripted lanrage-netd client for the integration tests.
 * It reads one command a line from stdin, sends it to netd over one
 * connection, and checks the reply.  A line "!CODE cmd ..." expects
 * NETD_MSG_ERROR with that numeric code; any other line expects success.
 * The first failed expectation ends the run with exit status 1.
 *
 *	tun NAME [vnet] [mq]		TUN_CREATE; $ is then its ifindex
 *	queue IF			TUN_QUEUE
 *	linkset IF MTU up|down|keep	LINK_SET
 *	addr add|del IF PREFIX		ADDR_ADD / ADDR_DEL
 *	route add|del IF PREFIX [METRIC] ROUTE_ADD / ROUTE_DEL
 *	capture IF LO-HI[,LO-HI...]	CAPTURE_OPEN; keeps the fd
 *	inject IF PROTO SRC SPORT DST DPORT TEXT
 *	qos IF PROTO:LO-HI:CLASS ...	QOS_SET
 *	qosclear IF			QOS_CLEAR
 *	linkdel IF			LINK_DEL
 *	frame TYPE VERSION FLAGS HEX	any frame, header fields as given
 *	raw HEX				raw bytes on the socket
 *	expect-close			netd must close within 2 s
 *	disconnect			close the socket, keep the TUN fd
 *	tun-ping SRC DST		ICMP echo into the TUN fd, reply back
 *	tun-expect-udp DPORT [SRC]	a UDP datagram to DPORT (from SRC)
 *					leaves the TUN
 *	capture-expect DPORT		the capture fd sees one to DPORT
 *	capture-none DPORT		... and sees none for 500 ms
 *	udp-send DST PORT TEXT		a UDP datagram (SO_BROADCAST set)
 *	udp-recv PORT SRC TEXT		a socket on 0.0.0.0:PORT gets TEXT
 *					from SRC within 2 s
 *	sh COMMAND			run COMMAND; it must exit 0
 *
 * IF is a number, "$" (the last TUN) or "@name".  With SOCKET "-" no
 * connection is made, for the commands that need none.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/msg.h"
#include "proto/netd.h"

#define MAXARGS	16

static struct msgchan	 chan;
static int		 sock = -1;
static int		 tun_fd = -1;
static int		 cap_fd = -1;
static unsigned int	 last_if;
static uint32_t		 next_id = 1;
static int		 lineno;
static uint8_t		 want_src[4];	/* 0.0.0.0: any source */

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stdout, "FAIL: line %d: ", lineno);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	exit(1);
}

static void
client_connect(const char *path)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		printf("FAIL: connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (msgchan_init(&chan, sock, NETD_MAXMSG, MSG_WQMAX_DEFAULT) == -1)
		fail("msgchan_init: %s", strerror(errno));
}

static int
wait_readable(int fd, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms);
}

static void
send_frame(uint16_t type, uint8_t version, const struct buf *b)
{
	if (msgchan_compose(&chan, type, version, next_id++, getpid(), -1,
	    b->data, b->len) == -1)
		fail("compose: %s", strerror(errno));
	while (msgchan_flush(&chan) == 1)
		;
}

/* One reply: OK, an error, or an fd-carrying frame. */
static void
recv_reply(struct msg *m)
{
	int	 r;

	for (;;) {
		if ((r = msgchan_get(&chan, m)) == 1)
			return;
		if (r == -1)
			fail("bad reply: %s", strerror(errno));
		if (wait_readable(sock, 3000) <= 0)
			fail("no reply within 3 s");
		if (msgchan_read(&chan) == 0)
			fail("netd closed the connection");
	}
}

/* Compare the reply with what the line expected; returns the frame. */
static void
check_reply(struct msg *m, int expect_code)
{
	struct netd_error	 e;

	recv_reply(m);
	if (m->hdr.type == NETD_MSG_ERROR) {
		if (netd_dec_error(m->data, m->len, &e) == -1)
			fail("undecodable error reply");
		printf("  error %u: %s\n", e.code, e.text);
		if (expect_code == 0)
			fail("unexpected error %u: %s", e.code, e.text);
		if (e.code != expect_code)
			fail("error %u, expected %d", e.code, expect_code);
		return;
	}
	if (expect_code != 0)
		fail("success, expected error %d", expect_code);
	printf("  ok\n");
}

static unsigned int
parse_if(const char *s)
{
	unsigned int	 i;

	if (strcmp(s, "$") == 0)
		return last_if;
	if (s[0] == '@') {
		if ((i = if_nametoindex(s + 1)) == 0)
			fail("no interface %s", s + 1);
		return i;
	}
	return (unsigned int)strtoul(s, NULL, 0);
}

static void
to_wire_prefix(const char *s, uint8_t *family, uint8_t *len, uint8_t *out)
{
	struct prefix	 p;

	if (prefix_parse(s, &p) == -1)
		fail("bad prefix %s", s);
	*family = p.addr.af == AF_INET ? NETD_AF_INET : NETD_AF_INET6;
	*len = p.len;
	memset(out, 0, 16);
	memcpy(out, p.addr.bytes, addr_len(p.addr.af));
}

static void
cmd_tun(int argc, char **argv, int expect)
{
	struct netd_tun_create	 req;
	struct netd_tun_fd	 rep;
	struct msg		 m;
	struct buf		 b;
	uint8_t			 mem[64];
	int			 i;

	memset(&req, 0, sizeof(req));
	snprintf(req.ifname, sizeof(req.ifname), "%s", argv[1]);
	for (i = 2; i < argc; i++)
		req.flags |= strcmp(argv[i], "vnet") == 0 ? NETD_TUN_VNET_HDR :
		    NETD_TUN_MULTI_QUEUE;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_tun_create(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	send_frame(NETD_MSG_TUN_CREATE, NETD_VERSION, &b);
	check_reply(&m, expect);
	if (m.hdr.type == NETD_MSG_TUN_FD) {
		if (netd_dec_tun_fd(m.data, m.len, &rep) == -1 || m.fd == -1)
			fail("bad TUN_FD reply");
		tun_fd = msg_take_fd(&m);
		last_if = rep.ifindex;
		printf("  %s index %u fd %d\n", rep.ifname, rep.ifindex,
		    tun_fd);
	}
	msg_free(&m);
}

static void
simple_request(uint16_t type, const struct buf *b, int expect)
{
	struct msg	 m;

	send_frame(type, NETD_VERSION, b);
	check_reply(&m, expect);
	msg_free(&m);
}

static void
cmd_ifindex(uint16_t type, int argc, char **argv, int expect)
{
	struct netd_ifindex	 req = { .ifindex = parse_if(argv[1]) };
	struct msg		 m;
	struct buf		 b;
	uint8_t			 mem[16];

	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_ifindex(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	send_frame(type, NETD_VERSION, &b);
	check_reply(&m, expect);
	if (m.fd != -1)
		printf("  got fd (queue)\n");
	msg_free(&m);
}

static void
cmd_linkset(int argc, char **argv, int expect)
{
	struct netd_link_set	 req;
	struct buf		 b;
	uint8_t			 mem[16];

	if (argc != 4)
		fail("linkset IF MTU up|down|keep");
	req.ifindex = parse_if(argv[1]);
	req.mtu = (uint32_t)strtoul(argv[2], NULL, 10);
	req.state = strcmp(argv[3], "up") == 0 ? NETD_LINK_UP :
	    strcmp(argv[3], "down") == 0 ? NETD_LINK_DOWN : NETD_LINK_KEEP;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_link_set(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	simple_request(NETD_MSG_LINK_SET, &b, expect);
}

static void
cmd_addr(int argc, char **argv, int expect)
{
	struct netd_addr	 req;
	struct buf		 b;
	uint8_t			 mem[32];
	int			 add;

	if (argc != 4)
		fail("addr add|del IF PREFIX");
	add = strcmp(argv[1], "add") == 0;
	req.ifindex = parse_if(argv[2]);
	to_wire_prefix(argv[3], &req.family, &req.prefixlen, req.addr);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_addr(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	simple_request(add ? NETD_MSG_ADDR_ADD : NETD_MSG_ADDR_DEL, &b,
	    expect);
}

static void
cmd_route(int argc, char **argv, int expect)
{
	struct netd_route	 req;
	struct buf		 b;
	uint8_t			 mem[32];
	int			 add;

	if (argc != 4 && argc != 5)
		fail("route add|del IF PREFIX [METRIC]");
	add = strcmp(argv[1], "add") == 0;
	req.ifindex = parse_if(argv[2]);
	to_wire_prefix(argv[3], &req.family, &req.prefixlen, req.dst);
	req.metric = argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_route(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	simple_request(add ? NETD_MSG_ROUTE_ADD : NETD_MSG_ROUTE_DEL, &b,
	    expect);
}

static void
parse_range(char *s, uint16_t *lo, uint16_t *hi)
{
	char	*dash = strchr(s, '-');

	*lo = (uint16_t)strtoul(s, NULL, 10);
	*hi = dash ? (uint16_t)strtoul(dash + 1, NULL, 10) : *lo;
}

static void
cmd_capture(int argc, char **argv, int expect)
{
	struct netd_capture_open req;
	struct msg		 m;
	struct buf		 b;
	uint8_t			 mem[256];
	char			*tok, *save = NULL;

	if (argc != 3)
		fail("capture IF LO-HI[,LO-HI...]");
	memset(&req, 0, sizeof(req));
	req.ifindex = parse_if(argv[1]);
	for (tok = strtok_r(argv[2], ",", &save); tok != NULL &&
	    req.nranges < NETD_MAX_PORT_RANGES;
	    tok = strtok_r(NULL, ",", &save), req.nranges++)
		parse_range(tok, &req.ranges[req.nranges].lo,
		    &req.ranges[req.nranges].hi);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_capture_open(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	send_frame(NETD_MSG_CAPTURE_OPEN, NETD_VERSION, &b);
	check_reply(&m, expect);
	if (m.hdr.type == NETD_MSG_CAPTURE_FD) {
		if (m.fd == -1)
			fail("CAPTURE_FD without fd");
		if (cap_fd != -1)
			close(cap_fd);
		cap_fd = msg_take_fd(&m);
	}
	msg_free(&m);
}

static void
cmd_inject(int argc, char **argv, int expect)
{
	struct netd_inject	 req;
	struct buf		 b;
	uint8_t			 mem[NETD_MAXMSG];

	if (argc != 8)
		fail("inject IF PROTO SRC SPORT DST DPORT TEXT");
	memset(&req, 0, sizeof(req));
	req.ifindex = parse_if(argv[1]);
	req.proto = (uint8_t)strtoul(argv[2], NULL, 10);
	req.ttl = 1;
	if (inet_pton(AF_INET, argv[3], req.src) != 1 ||
	    inet_pton(AF_INET, argv[5], req.dst) != 1)
		fail("bad address");
	req.sport = (uint16_t)strtoul(argv[4], NULL, 10);
	req.dport = (uint16_t)strtoul(argv[6], NULL, 10);
	req.len = (uint16_t)strlen(argv[7]);
	req.payload = (const uint8_t *)argv[7];
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_inject(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	simple_request(NETD_MSG_INJECT, &b, expect);
}

static void
cmd_qos(int argc, char **argv, int expect)
{
	struct netd_qos_set	 req;
	struct buf		 b;
	uint8_t			 mem[512];
	char			*p1, *p2;
	int			 i;

	if (argc < 3 || argc - 2 > NETD_MAX_QOS_RULES)
		fail("qos IF PROTO:LO-HI:CLASS ...");
	memset(&req, 0, sizeof(req));
	req.ifindex = parse_if(argv[1]);
	for (i = 2; i < argc; i++) {
		if ((p1 = strchr(argv[i], ':')) == NULL ||
		    (p2 = strchr(p1 + 1, ':')) == NULL)
			fail("bad rule %s", argv[i]);
		*p2 = '\0';
		req.rules[req.nrules].proto = (uint8_t)atoi(argv[i]);
		parse_range(p1 + 1, &req.rules[req.nrules].port_lo,
		    &req.rules[req.nrules].port_hi);
		req.rules[req.nrules].class = (uint8_t)atoi(p2 + 1);
		req.nrules++;
	}
	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_qos_set(&b, &req) == -1)
		fail("encode: %s", strerror(errno));
	simple_request(NETD_MSG_QOS_SET, &b, expect);
}

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t		 n = 0;
	unsigned int	 v;

	while (s[0] && s[1] && n < max && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
cmd_frame(int argc, char **argv, int expect)
{
	static uint8_t	 payload[64 * 1024];
	struct buf	 b;
	size_t		 n = argc > 4 ? unhex(argv[4], payload,
			    sizeof(payload)) : 0;
	uint8_t		 hdr[MSG_HDR_LEN];

	if (argc < 4)
		fail("frame TYPE VERSION FLAGS [HEX]");
	buf_init_fixed(&b, hdr, sizeof(hdr));
	buf_put_u16(&b, (uint16_t)strtoul(argv[1], NULL, 0));
	buf_put_u8(&b, (uint8_t)strtoul(argv[2], NULL, 0));
	buf_put_u8(&b, (uint8_t)strtoul(argv[3], NULL, 0));
	buf_put_u32(&b, (uint32_t)n);
	buf_put_u32(&b, next_id++);
	buf_put_u32(&b, (uint32_t)getpid());
	if (write(sock, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    (n > 0 && write(sock, payload, n) != (ssize_t)n))
		fail("write: %s", strerror(errno));
	if (expect != 0) {
		struct msg m;
		check_reply(&m, expect);
		msg_free(&m);
	}
}

static void
cmd_raw(int argc, char **argv)
{
	uint8_t	 bytes[4096];
	size_t	 n = unhex(argv[1], bytes, sizeof(bytes));

	if (write(sock, bytes, n) != (ssize_t)n)
		fail("write: %s", strerror(errno));
}

/* netd must hang up on us, and send nothing first. */
static void
cmd_expect_close(void)
{
	uint8_t	 b[64];
	ssize_t	 n;

	if (wait_readable(sock, 2000) <= 0)
		fail("connection still open after 2 s");
	n = read(sock, b, sizeof(b));
	if (n > 0)
		fail("got %zd bytes instead of a close", n);
	printf("  closed\n");
}

static uint16_t
cksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t	*p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Read datagrams from fd for up to ms; match() picks the one wanted. */
static int
read_until(int fd, int ms, int (*match)(const uint8_t *, ssize_t, long),
    long arg)
{
	uint8_t		 pkt[2048];
	struct timespec	 t0, t1;
	ssize_t		 n;
	long		 left = ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0 && wait_readable(fd, (int)left) > 0) {
		if ((n = read(fd, pkt, sizeof(pkt))) > 0 && match(pkt, n, arg))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = ms - ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return 0;
}

static int
match_echo_reply(const uint8_t *p, ssize_t n, long id)
{
	return n >= 28 && (p[0] >> 4) == 4 && p[9] == IPPROTO_ICMP &&
	    p[20] == ICMP_ECHOREPLY && ((p[24] << 8) | p[25]) == id;
}

static void
cmd_tun_ping(int argc, char **argv)
{
	uint8_t		 pkt[28 + 8];
	uint16_t	 id = (uint16_t)getpid(), c;

	if (argc != 3 || tun_fd == -1)
		fail("tun-ping SRC DST after tun");
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = sizeof(pkt);
	pkt[8] = 64;
	pkt[9] = IPPROTO_ICMP;
	if (inet_pton(AF_INET, argv[1], pkt + 12) != 1 ||
	    inet_pton(AF_INET, argv[2], pkt + 16) != 1)
		fail("bad address");
	c = cksum(pkt, 20, 0);
	pkt[10] = c >> 8;
	pkt[11] = c & 0xff;
	pkt[20] = ICMP_ECHO;
	pkt[24] = id >> 8;
	pkt[25] = id & 0xff;
	pkt[27] = 1;
	memcpy(pkt + 28, "lanrage!", 8);
	c = cksum(pkt + 20, sizeof(pkt) - 20, 0);
	pkt[22] = c >> 8;
	pkt[23] = c & 0xff;
	if (write(tun_fd, pkt, sizeof(pkt)) != sizeof(pkt))
		fail("write tun: %s", strerror(errno));
	if (!read_until(tun_fd, 2000, match_echo_reply, id))
		fail("no echo reply from the kernel through the TUN");
	printf("  echo reply read from the TUN fd\n");
}

static int
match_udp_port(const uint8_t *p, ssize_t n, long port)
{
	size_t	 ihl;

	if (n < 28 || (p[0] >> 4) != 4 || p[9] != IPPROTO_UDP)
		return 0;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if ((ssize_t)ihl + 8 > n)
		return 0;
	if (((p[ihl + 2] << 8) | p[ihl + 3]) != port)
		return 0;
	if (memcmp(want_src, "\0\0\0\0", 4) != 0 &&
	    memcmp(want_src, p + 12, 4) != 0)
		return 0;
	printf("  udp %u.%u.%u.%u:%u -> %u.%u.%u.%u:%ld\n", p[12], p[13],
	    p[14], p[15], (p[ihl] << 8) | p[ihl + 1], p[16], p[17], p[18],
	    p[19], port);
	if (cksum(p, ihl, 0) != 0)
		fail("bad IPv4 header checksum");
	return 1;
}

static void
cmd_expect_udp(int fd, const char *what, const char *port, int want)
{
	int	 got;

	if (fd == -1)
		fail("no %s fd", what);
	got = read_until(fd, want ? 2000 : 500, match_udp_port,
	    strtol(port, NULL, 10));
	if (got != want)
		fail("%s: UDP to port %s %s", what, port,
		    want ? "not seen" : "seen");
	printf("  %s: %s\n", what, want ? "seen" : "none, as expected");
}

static void
cmd_udp_send(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	int			 s, on = 1;

	if (argc != 4)
		fail("udp-send DST PORT TEXT");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		fail("bad address %s", argv[1]);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == -1 ||
	    sendto(s, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1)
		fail("udp-send: %s", strerror(errno));
	close(s);
}

static void
cmd_udp_recv(int argc, char **argv)
{
	struct sockaddr_in	 sin, from;
	socklen_t		 flen = sizeof(from);
	char			 buf[2048], src[INET_ADDRSTRLEN];
	ssize_t			 n;
	int			 s, on = 1;

	if (argc != 4)
		fail("udp-recv PORT SRC TEXT");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)strtoul(argv[1], NULL, 10));
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fail("udp-recv: %s", strerror(errno));
	printf("  listening on 0.0.0.0:%s\n", argv[1]);
	fflush(stdout);
	if (wait_readable(s, 2000) <= 0)
		fail("udp-recv: nothing within 2 s");
	n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
	    &flen);
	if (n < 0)
		fail("udp-recv: %s", strerror(errno));
	buf[n] = '\0';
	inet_ntop(AF_INET, &from.sin_addr, src, sizeof(src));
	printf("  got \"%s\" from %s:%u\n", buf, src, ntohs(from.sin_port));
	if (strcmp(src, argv[2]) != 0 || strcmp(buf, argv[3]) != 0)
		fail("udp-recv: wanted \"%s\" from %s", argv[3], argv[2]);
	close(s);
}

static void
cmd_sh(const char *line)
{
	int	 st;

	fflush(stdout);
	st = system(line);
	if (st != 0)
		fail("command exited %d: %s", st, line);
}

static void
dispatch(int argc, char **argv, const char *rest, int expect)
{
	const char	*c = argv[0];

	if (strcmp(c, "tun") == 0 && argc >= 2)
		cmd_tun(argc, argv, expect);
	else if (strcmp(c, "queue") == 0 && argc == 2)
		cmd_ifindex(NETD_MSG_TUN_QUEUE, argc, argv, expect);
	else if (strcmp(c, "linkdel") == 0 && argc == 2)
		cmd_ifindex(NETD_MSG_LINK_DEL, argc, argv, expect);
	else if (strcmp(c, "qosclear") == 0 && argc == 2)
		cmd_ifindex(NETD_MSG_QOS_CLEAR, argc, argv, expect);
	else if (strcmp(c, "linkset") == 0)
		cmd_linkset(argc, argv, expect);
	else if (strcmp(c, "addr") == 0)
		cmd_addr(argc, argv, expect);
	else if (strcmp(c, "route") == 0)
		cmd_route(argc, argv, expect);
	else if (strcmp(c, "capture") == 0)
		cmd_capture(argc, argv, expect);
	else if (strcmp(c, "inject") == 0)
		cmd_inject(argc, argv, expect);
	else if (strcmp(c, "qos") == 0)
		cmd_qos(argc, argv, expect);
	else if (strcmp(c, "frame") == 0)
		cmd_frame(argc, argv, expect);
	else if (strcmp(c, "raw") == 0 && argc == 2)
		cmd_raw(argc, argv);
	else if (strcmp(c, "disconnect") == 0) {
		close(sock);
		printf("  disconnected\n");
	} else if (strcmp(c, "expect-close") == 0)
		cmd_expect_close();
	else if (strcmp(c, "tun-ping") == 0)
		cmd_tun_ping(argc, argv);
	else if (strcmp(c, "tun-expect-udp") == 0 && argc == 2)
		cmd_expect_udp(tun_fd, "tun", argv[1], 1);
	else if (strcmp(c, "tun-expect-udp") == 0 && argc == 3) {
		if (inet_pton(AF_INET, argv[2], want_src) != 1)
			fail("bad address %s", argv[2]);
		cmd_expect_udp(tun_fd, "tun", argv[1], 1);
		memset(want_src, 0, sizeof(want_src));
	}
	else if (strcmp(c, "capture-expect") == 0 && argc == 2)
		cmd_expect_udp(cap_fd, "capture", argv[1], 1);
	else if (strcmp(c, "capture-none") == 0 && argc == 2)
		cmd_expect_udp(cap_fd, "capture", argv[1], 0);
	else if (strcmp(c, "udp-recv") == 0)
		cmd_udp_recv(argc, argv);
	else if (strcmp(c, "udp-send") == 0)
		cmd_udp_send(argc, argv);
	else if (strcmp(c, "sh") == 0)
		cmd_sh(rest);
	else
		fail("unknown command %s", c);
}

static void
run_line(char *line)
{
	char	*argv[MAXARGS], *rest, *p;
	int	 argc = 0, expect = 0;

	line[strcspn(line, "\n")] = '\0';
	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return;
	printf("> %s\n", p);
	if (*p == '!') {
		expect = (int)strtol(p + 1, &p, 10);
		p += strspn(p, " \t");
	}
	rest = p + strcspn(p, " \t");
	rest += strspn(rest, " \t");
	rest = strdup(rest);
	while (argc < MAXARGS - 1 && (argv[argc] = strsep(&p, " \t")) != NULL)
		if (*argv[argc] != '\0')
			argc++;
	argv[argc] = NULL;
	dispatch(argc, argv, rest, expect);
	free(rest);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	char	 line[8192];

	if (argc != 2) {
		fprintf(stderr, "usage: netd-client SOCKET < script\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "-") != 0)
		client_connect(argv[1]);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		run_line(line);
	}
	printf("done: %d lines\n", lineno);
	return 0;
}
