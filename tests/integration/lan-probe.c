/*
 * lan-probe: LAN broadcast and multicast traffic for the integration
 * tests and bench/lan.sh, as a game's server browser makes it: plain
 * UDP sockets, libc only.
 *
 *	lan-probe listen PORT [-g GROUP [-I IFNAME]] [-t SECS] [-n COUNT]
 *	    [-r] [-T]
 *		binds 0.0.0.0:PORT (SO_REUSEADDR), joins GROUP on IFNAME
 *		with -g (on the interface the kernel picks without -I);
 *		prints "from A:P LEN PAYLOAD" for each datagram (the
 *		payload's first 64 bytes, non-printables as \xNN), with -T
 *		followed by " lat_us N": now minus the CLOCK_MONOTONIC
 *		nanoseconds after the payload's "t=" (namespaces share the
 *		clock); with -r answers each with "reply:PAYLOAD" to its
 *		sender.  Stops after COUNT datagrams or SECS (5) seconds,
 *		prints "count N".
 *	lan-probe send DST PORT MSG [-c COUNT] [-i INTERVAL_US] [-w SECS]
 *	    [-b SRCPORT] [-I IFNAME] [-T]
 *		COUNT (1) datagrams to DST:PORT with SO_BROADCAST, one every
 *		INTERVAL_US (0: as fast as the socket takes them), from
 *		0.0.0.0:SRCPORT with -b; multicast goes out on IFNAME with
 *		-I (IP_MULTICAST_IF), with TTL 1; broadcasts follow the
 *		routes (255.255.255.255 needs one).  The payload is MSG,
 *		then " seq=N" when COUNT is above 1 (so no two are alike),
 *		then " t=NS" with -T.  Prints "reply from A:P PAYLOAD" for
 *		each answer until SECS (2) after the last send, then
 *		"sent N", "replies M" and, when any sendto failed,
 *		"errors E" (the first few are printed on stderr).
 *
 * Exit status: listen 0 when COUNT datagrams came (without -n: at least
 * one), 1 otherwise; send 0 when every datagram was sent, 1 otherwise;
 * 2 on a usage error.  Both end by their deadlines.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXDGRAM	65535
#define SHOWLEN		64		/* payload bytes printed */
#define MAXCOUNT	1000000
#define MAXSECS		600
#define MAXERRSHOWN	10		/* sendto errors printed */
#define RCVBUF		(1 << 21)
#define REPLY		"reply:"

struct opts {
	const char	*group;
	const char	*ifname;
	long		 secs;
	long		 count;
	long		 interval_us;
	long		 srcport;
	bool		 reply;
	bool		 stamp;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: lan-probe listen PORT [-g GROUP [-I IFNAME]] "
	    "[-t SECS] [-n COUNT] [-r] [-T]\n"
	    "       lan-probe send DST PORT MSG [-c COUNT] [-i INTERVAL_US] "
	    "[-w SECS] [-b SRCPORT] [-I IFNAME] [-T]\n");
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "lan-probe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	exit(1);
}

static uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* A decimal option argument within [lo, hi], or a usage error. */
static long
num_arg(const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

static void
parse_opts(int argc, char *argv[], const char *optstr, struct opts *o)
{
	int	 ch;

	opterr = 0;
	while ((ch = getopt(argc, argv, optstr)) != -1) {
		switch (ch) {
		case 'g':
			o->group = optarg;
			break;
		case 'I':
			o->ifname = optarg;
			break;
		case 't':
		case 'w':
			o->secs = num_arg(optarg, 0, MAXSECS);
			break;
		case 'n':
		case 'c':
			o->count = num_arg(optarg, 1, MAXCOUNT);
			break;
		case 'i':
			o->interval_us = num_arg(optarg, 0, 10000000);
			break;
		case 'b':
			o->srcport = num_arg(optarg, 1, 65535);
			break;
		case 'r':
			o->reply = true;
			break;
		case 'T':
			o->stamp = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static struct in_addr
parse_ip(const char *s)
{
	struct in_addr	 a;

	if (inet_pton(AF_INET, s, &a) != 1)
		usage();
	return a;
}

static unsigned int
ifindex_of(const char *name)
{
	unsigned int	 i;

	if ((i = if_nametoindex(name)) == 0)
		die("interface %s", name);
	return i;
}

/* A UDP socket bound to 0.0.0.0:port (port 0: any). */
static int
udp_socket(long port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1, rcvbuf = RCVBUF;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		die("SO_REUSEADDR");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind 0.0.0.0:%ld", port);
	return fd;
}

/* Prints up to SHOWLEN bytes of p, escaping what is not printable. */
static void
print_payload(const uint8_t *p, size_t len)
{
	size_t	 i;

	if (len > SHOWLEN)
		len = SHOWLEN;
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static const char *
fmt_sin(const struct sockaddr_in *sin, char *s, size_t len)
{
	char	 ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(s, len, "%s:%u", ip, ntohs(sin->sin_port));
	return s;
}

/* The microseconds since the "t=" stamp in p, or -1 without one. */
static long long
latency_us(const uint8_t *p, size_t len, uint64_t now)
{
	char		 s[SHOWLEN * 2 + 1], *t, *end;
	uint64_t	 then;

	if (len >= sizeof(s))
		len = sizeof(s) - 1;
	memcpy(s, p, len);
	s[len] = '\0';
	if ((t = strstr(s, "t=")) == NULL)
		return -1;
	then = strtoull(t + 2, &end, 10);
	if (end == t + 2 || then > now)
		return -1;
	return (long long)((now - then) / 1000);
}

static void
listen_join(int fd, const struct opts *o)
{
	struct ip_mreqn	 mr;

	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr = parse_ip(o->group);
	if (!IN_MULTICAST(ntohl(mr.imr_multiaddr.s_addr)))
		usage();
	if (o->ifname != NULL)
		mr.imr_ifindex = (int)ifindex_of(o->ifname);
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		die("join %s", o->group);
}

/* One datagram: its line, and the reply with -r. */
static void
listen_one(int fd, const struct opts *o, const uint8_t *p, size_t len,
    const struct sockaddr_in *from)
{
	static uint8_t	 out[sizeof(REPLY) - 1 + MAXDGRAM];
	char		 s[INET_ADDRSTRLEN + 8];
	long long	 lat;
	size_t		 n;

	lat = o->stamp ? latency_us(p, len, mono_ns()) : -1;
	printf("from %s %zu ", fmt_sin(from, s, sizeof(s)), len);
	print_payload(p, len);
	if (o->stamp)
		printf(" lat_us %lld", lat);
	printf("\n");
	fflush(stdout);
	if (!o->reply)
		return;
	n = len;
	if (n > sizeof(out) - (sizeof(REPLY) - 1))
		n = sizeof(out) - (sizeof(REPLY) - 1);
	memcpy(out, REPLY, sizeof(REPLY) - 1);
	memcpy(out + sizeof(REPLY) - 1, p, n);
	if (sendto(fd, out, sizeof(REPLY) - 1 + n, 0,
	    (const struct sockaddr *)from, sizeof(*from)) == -1)
		fprintf(stderr, "lan-probe: reply to %s: %s\n", s,
		    strerror(errno));
}

static int
cmd_listen(int argc, char *argv[])
{
	static uint8_t		 buf[MAXDGRAM];
	struct opts		 o = { .secs = 5 };
	struct sockaddr_in	 from;
	struct pollfd		 pfd;
	socklen_t		 flen;
	uint64_t		 end, now;
	ssize_t			 n;
	long			 port, got = 0;

	if (argc < 3)
		usage();
	port = num_arg(argv[2], 1, 65535);
	parse_opts(argc - 2, argv + 2, "g:I:t:n:rT", &o);
	if (o.ifname != NULL && o.group == NULL)
		usage();
	pfd.fd = udp_socket(port);
	pfd.events = POLLIN;
	if (o.group != NULL)
		listen_join(pfd.fd, &o);
	end = mono_ns() + (uint64_t)o.secs * 1000000000;
	while (o.count == 0 || got < o.count) {
		if ((now = mono_ns()) >= end || poll(&pfd, 1,
		    (int)((end - now + 999999) / 1000000)) <= 0)
			break;
		flen = sizeof(from);
		n = recvfrom(pfd.fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		got++;
		listen_one(pfd.fd, &o, buf, (size_t)n, &from);
	}
	printf("count %ld\n", got);
	if (o.count != 0)
		return got == o.count ? 0 : 1;
	return got > 0 ? 0 : 1;
}

static void
send_setup(int fd, struct in_addr dst, const struct opts *o)
{
	struct ip_mreqn	 mr;
	unsigned char	 ttl = 1;
	int		 on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == -1)
		die("SO_BROADCAST");
	if (o->ifname != NULL) {
		memset(&mr, 0, sizeof(mr));
		mr.imr_ifindex = (int)ifindex_of(o->ifname);
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
		    sizeof(mr)) == -1)
			die("IP_MULTICAST_IF %s", o->ifname);
	}
	if (IN_MULTICAST(ntohl(dst.s_addr)) && setsockopt(fd, IPPROTO_IP,
	    IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1)
		die("IP_MULTICAST_TTL");
}

/* Prints the replies that come until the deadline (ns); their count. */
static long
send_replies(int fd, uint64_t until)
{
	static uint8_t		 buf[MAXDGRAM];
	struct sockaddr_in	 from;
	struct pollfd		 pfd = { .fd = fd, .events = POLLIN };
	socklen_t		 flen;
	char			 s[INET_ADDRSTRLEN + 8];
	ssize_t			 n;
	long			 got = 0;
	uint64_t		 now;
	int			 ms;

	for (;;) {
		now = mono_ns();
		ms = now < until ? (int)((until - now + 999999) / 1000000) : 0;
		if (poll(&pfd, 1, ms) <= 0)
			break;
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		printf("reply from %s ", fmt_sin(&from, s, sizeof(s)));
		print_payload(buf, (size_t)n);
		printf("\n");
		fflush(stdout);
		got++;
	}
	return got;
}

static int
cmd_send(int argc, char *argv[])
{
	struct opts		 o = { .secs = 2, .count = 1 };
	struct sockaddr_in	 dst;
	char			 msg[512];
	long			 i, errors = 0, replies = 0;
	uint64_t		 t0;
	int			 fd, len;

	if (argc < 5)
		usage();
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr = parse_ip(argv[2]);
	dst.sin_port = htons((uint16_t)num_arg(argv[3], 1, 65535));
	if (strlen(argv[4]) > 256)
		usage();
	parse_opts(argc - 4, argv + 4, "c:i:w:b:I:T", &o);
	fd = udp_socket(o.srcport);
	send_setup(fd, dst.sin_addr, &o);
	t0 = mono_ns();
	for (i = 0; i < o.count; i++) {
		len = snprintf(msg, sizeof(msg), "%s", argv[4]);
		if (o.count > 1)
			len += snprintf(msg + len, sizeof(msg) - len,
			    " seq=%ld", i);
		if (o.stamp)
			len += snprintf(msg + len, sizeof(msg) - len,
			    " t=%llu", (unsigned long long)mono_ns());
		if (sendto(fd, msg, (size_t)len, 0, (struct sockaddr *)&dst,
		    sizeof(dst)) == -1 && errors++ < MAXERRSHOWN)
			fprintf(stderr, "lan-probe: sendto #%ld: %s\n", i,
			    strerror(errno));
		if (o.interval_us > 0)
			replies += send_replies(fd,
			    t0 + (uint64_t)(i + 1) * o.interval_us * 1000);
	}
	replies += send_replies(fd, mono_ns() +
	    (uint64_t)o.secs * 1000000000);
	printf("sent %ld\nreplies %ld\n", o.count - errors, replies);
	if (errors > 0)
		printf("errors %ld\n", errors);
	return errors == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "listen") == 0)
		return cmd_listen(argc, argv);
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc, argv);
	usage();
}
