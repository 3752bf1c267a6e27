/*
 * delay-tun: a one-way delay for chosen destinations, for tests on a
 * kernel without netem.  It opens the TUN device IFNAME; the test routes
 * the packets it wants slowed into it, and each comes back out of the
 * same device after the delay of its destination, to be routed on (the
 * namespace forwards, and accepts its own source addresses on IFNAME).
 *
 *	delay-tun IFNAME RULES
 *
 * RULES is a file of "IPV4 MS" lines (MS 0..10000); it is read again on
 * SIGHUP, so a test can change a delay under traffic.  A destination
 * without a rule passes at once.  At most DT_QUEUE packets wait; beyond
 * that they are dropped and counted (printed on SIGTERM).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DT_QUEUE	4096
#define DT_MTU		2048
#define DT_RULES	16
#define DT_MAX_MS	10000

struct dt_rule {
	uint32_t	 dst;		/* network order */
	unsigned	 ms;
};

struct dt_pkt {
	uint64_t	 due_us;
	size_t		 len;
	uint8_t		 data[DT_MTU];
};

/* One FIFO per rule keeps its packets in order. */
struct dt_fifo {
	struct dt_pkt	*q;
	size_t		 head, n;
};

static struct dt_rule		 rules[DT_RULES];
static size_t			 nrules;
static struct dt_fifo		 fifos[DT_RULES];
static volatile sig_atomic_t	 reload, stop;
static unsigned long		 dropped;

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static int
rules_read(const char *path)
{
	struct dt_rule	 next[DT_RULES];
	char		 line[128], ip[64];
	struct in_addr	 a;
	unsigned	 ms;
	size_t		 n = 0;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "delay-tun: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%63s %u", ip, &ms) != 2 || ms > DT_MAX_MS ||
		    inet_pton(AF_INET, ip, &a) != 1 || n == DT_RULES) {
			fprintf(stderr, "delay-tun: %s: bad line: %s", path,
			    line);
			fclose(f);
			return -1;
		}
		next[n].dst = a.s_addr;
		next[n].ms = ms;
		n++;
	}
	fclose(f);
	memcpy(rules, next, n * sizeof(next[0]));
	nrules = n;
	return 0;
}

static int
tun_open(const char *name)
{
	struct ifreq	 ifr;
	int		 fd;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The rule of an IPv4 packet's destination, or -1: no delay. */
static int
rule_of(const uint8_t *p, size_t len)
{
	uint32_t	 dst;
	size_t		 i;

	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	memcpy(&dst, p + 16, sizeof(dst));
	for (i = 0; i < nrules; i++)
		if (rules[i].dst == dst && rules[i].ms > 0)
			return (int)i;
	return -1;
}

static void
packet_in(int fd, const uint8_t *p, size_t len)
{
	struct dt_fifo	*f;
	struct dt_pkt	*k;
	int		 r;

	if ((r = rule_of(p, len)) < 0) {
		(void)write(fd, p, len);
		return;
	}
	f = &fifos[r];
	if (f->n == DT_QUEUE) {
		dropped++;
		return;
	}
	k = &f->q[(f->head + f->n++) % DT_QUEUE];
	k->due_us = now_us() + (uint64_t)rules[r].ms * 1000;
	k->len = len;
	memcpy(k->data, p, len);
}

/* Sends what is due; the ms until the next, or -1 with none waiting. */
static int
flush_due(int fd)
{
	uint64_t	 now = now_us(), next = UINT64_MAX;
	struct dt_fifo	*f;
	struct dt_pkt	*k;
	size_t		 i;

	for (i = 0; i < DT_RULES; i++) {
		f = &fifos[i];
		while (f->n > 0 && (k = &f->q[f->head])->due_us <= now) {
			(void)write(fd, k->data, k->len);
			f->head = (f->head + 1) % DT_QUEUE;
			f->n--;
		}
		if (f->n > 0 && f->q[f->head].due_us < next)
			next = f->q[f->head].due_us;
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now + 999) / 1000);
}

int
main(int argc, char **argv)
{
	uint8_t		 buf[DT_MTU];
	struct pollfd	 pfd;
	ssize_t		 n;
	size_t		 i;
	int		 fd, wait;

	if (argc != 3) {
		fprintf(stderr, "usage: delay-tun IFNAME RULES\n");
		return 2;
	}
	if (rules_read(argv[2]) == -1)
		return 1;
	for (i = 0; i < DT_RULES; i++)
		if ((fifos[i].q = calloc(DT_QUEUE, sizeof(struct dt_pkt))) ==
		    NULL)
			return 1;
	if ((fd = tun_open(argv[1])) == -1) {
		fprintf(stderr, "delay-tun: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	signal(SIGHUP, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop) {
		if (reload) {
			reload = 0;
			(void)rules_read(argv[2]);	/* keeps the old ones */
		}
		wait = flush_due(fd);
		if (poll(&pfd, 1, wait) == -1 && errno != EINTR)
			break;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			packet_in(fd, buf, (size_t)n);
	}
	printf("delay-tun: %lu dropped\n", dropped);
	return 0;
}
