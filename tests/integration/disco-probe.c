/*
 * disco-probe: disco datagrams to a node's WireGuard port for the
 * integration tests, built with proto/disco.h.  KEYFILE is our private
 * key (a key file as lanrage-controld -g writes it; the node must know
 * its public key as a party member's), PEERKEY the node's public key in
 * standard base64, as lanragectl -j status shows it (.node.public_key).
 *
 *	disco-probe ADDR:PORT KEYFILE PEERKEY ping
 *		one PING; prints "pong seen A:P", the address the node saw
 *	disco-probe ADDR:PORT KEYFILE PEERKEY replay
 *		a PING and its PONG, then the very same datagram 3 times;
 *		prints "replay answers N", the PONGs within 1 s
 *	disco-probe ADDR:PORT KEYFILE PEERKEY stale | future
 *		one PING dated 120 s in the past or ahead; prints
 *		"stale answers N" or "future answers N" (within 1 s)
 *	disco-probe ADDR:PORT KEYFILE PEERKEY forged N
 *		N datagrams that claim our key, with a random nonce and box;
 *		prints "forged answers M": any datagram within 1 s but the
 *		node's own PINGs (a node pings a path it learned)
 *	disco-probe ADDR:PORT KEYFILE PEERKEY unknown N
 *		the same, each from a fresh random key; "unknown answers M"
 *	disco-probe ADDR:PORT KEYFILE PEERKEY flood N
 *		N valid PINGs, each its own txid, sealed beforehand and sent
 *		at 16000/s (16 back to back every millisecond); prints
 *		"flood answers M", their PONGs until 1.5 s after the last
 *	disco-probe ADDR:PORT KEYFILE PEERKEY size
 *		one PING; prints "sizes PING PONG", the datagrams' lengths
 *
 * A PONG counts only when it opens (PEERKEY to us), and, but for forged
 * and unknown, carries the txid of one of our PINGs, once per txid.
 * N is 1 to 100000.  Exit status 0 when the probe did its part (ping,
 * replay, size: the PONG came), 1 otherwise, 2 on a usage error.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "proto/disco.h"
#include "tests/lib/keyfile.h"

#define TIMEOUT_MS	2000	/* for the PONG of ping, replay, size */
#define COUNT_MS	1000	/* answers counted after the last send */
#define FLOOD_MS	1500
#define SKEW_MS		120000	/* stale, future: twice DISCO_MAX_AGE_MS */
#define REPLAYS		3
#define MAXN		100000
#define DRAIN_EVERY	64	/* forged, unknown: read answers between sends */
#define FLOOD_BATCH	16	/* flood: datagrams back to back, */
#define FLOOD_GAP_US	1000	/* a batch a millisecond: 16000/s */
#define RCVBUF		(1 << 21)

/* What counts as an answer, and how many came. */
struct want {
	uint8_t		(*txid)[DISCO_TXIDLEN];	/* sorted; NULL: anything */
	bool		*got;
	size_t		 n;
	long		 answers;
	struct disco_msg last;			/* the last PONG counted */
	size_t		 last_len;
};

static struct {
	int		 fd;
	uint8_t		 priv[DISCO_KEYLEN];
	uint8_t		 pub[DISCO_KEYLEN];
	uint8_t		 peer[DISCO_KEYLEN];
} P = { .fd = -1 };

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: disco-probe ADDR:PORT KEYFILE PEERKEY "
	    "ping | replay | stale | future | size\n"
	    "       disco-probe ADDR:PORT KEYFILE PEERKEY "
	    "forged | unknown | flood N\n");
	exit(2);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "disco-probe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

static uint64_t
clock_us(clockid_t c)
{
	struct timespec	 ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
clock_ms(clockid_t c)
{
	return clock_us(c) / 1000;
}

/* Sleep until t, monotonic us. */
static void
sleep_until(uint64_t t)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)(t / 1000000);
	ts.tv_nsec = (long)(t % 1000000) * 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static int
txid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, DISCO_TXIDLEN);
}

/* A PING for txid dated time_ms into d (DISCO_MAXMSG): its length. */
static size_t
ping_seal(const uint8_t *txid, uint64_t time_ms, uint8_t *d)
{
	struct disco_msg	 m;
	struct buf		 b;

	memset(&m, 0, sizeof(m));
	m.type = DISCO_PING;
	memcpy(m.txid, txid, DISCO_TXIDLEN);
	m.time_ms = time_ms;
	buf_init_fixed(&b, d, DISCO_MAXMSG);
	if (disco_seal(&b, &m, P.priv, P.pub, P.peer) == -1)
		die(1, "disco_seal: %s", strerror(errno));
	return b.len;
}

static void
send_dgram(const uint8_t *d, size_t len)
{
	ssize_t	 n;

	/* an ICMP error for an earlier datagram may surface here once */
	if ((n = send(P.fd, d, len, 0)) == -1 && errno == ECONNREFUSED)
		n = send(P.fd, d, len, 0);
	if (n != (ssize_t)len)
		die(1, "send: %s", n == -1 ? strerror(errno) : "short");
}

/* The next datagram until deadline (monotonic ms; 0: only if queued). */
static ssize_t
recv_next(uint8_t *b, size_t cap, uint64_t deadline)
{
	struct pollfd	 pfd = { .fd = P.fd, .events = POLLIN };
	uint64_t	 now;
	ssize_t		 n;
	int		 ms, r;

	for (;;) {
		ms = 0;
		if (deadline != 0) {
			if ((now = clock_ms(CLOCK_MONOTONIC)) >= deadline)
				return -1;
			ms = (int)(deadline - now);
		}
		if ((r = poll(&pfd, 1, ms)) == -1 && errno != EINTR)
			return -1;
		if (r == 0 && deadline == 0)
			return -1;
		if (r == 1 && (n = recv(P.fd, b, cap, 0)) >= 0)
			return n;
	}
}

/* Does datagram b count for w?  Counts it if so. */
static bool
answer(struct want *w, const uint8_t *b, size_t len)
{
	struct disco_msg	 m;
	uint8_t			(*t)[DISCO_TXIDLEN];

	if (disco_open(b, len, P.priv, P.peer, &m) == -1) {
		if (w->txid != NULL)
			return false;
		w->answers++;
		return true;
	}
	if (m.type != DISCO_PONG)
		return false;		/* the node pinging a learned path */
	if (w->txid != NULL) {
		if ((t = bsearch(m.txid, w->txid, w->n, DISCO_TXIDLEN,
		    txid_cmp)) == NULL || w->got[t - w->txid])
			return false;
		w->got[t - w->txid] = true;
	}
	w->answers++;
	w->last = m;
	w->last_len = len;
	return true;
}

/* Count answers until deadline (0: those queued); first: stop at one. */
static void
take(struct want *w, uint64_t deadline, bool first)
{
	uint8_t	 b[2048];
	ssize_t	 n;

	while ((n = recv_next(b, sizeof(b), deadline)) >= 0)
		if (answer(w, b, (size_t)n) && first)
			return;
}

static uint64_t
after(int ms)
{
	return clock_ms(CLOCK_MONOTONIC) + (uint64_t)ms;
}

/* One PING dated now + skew_ms, sent; w wants its PONG. */
static size_t
ping_one(struct want *w, int64_t skew_ms, uint8_t *d)
{
	static uint8_t	 txid[1][DISCO_TXIDLEN];
	static bool	 got[1];
	size_t		 len;

	randombytes_buf(txid[0], DISCO_TXIDLEN);
	memset(w, 0, sizeof(*w));
	w->txid = txid;
	w->got = got;
	w->n = 1;
	len = ping_seal(txid[0], clock_ms(CLOCK_REALTIME) + (uint64_t)skew_ms,
	    d);
	send_dgram(d, len);
	return len;
}

static int
mode_ping(void)
{
	struct sockaddr_storage	 ss;
	struct want		 w;
	uint8_t			 d[DISCO_MAXMSG];
	char			 s[LR_SOCKADDR_STRLEN];

	ping_one(&w, 0, d);
	take(&w, after(TIMEOUT_MS), true);
	if (w.answers == 0)
		die(1, "no pong");
	addr_to_sockaddr(&w.last.seen, w.last.seen_port, &ss);
	printf("pong seen %s\n", sockaddr_fmt((struct sockaddr *)&ss, s,
	    sizeof(s)));
	return 0;
}

static int
mode_replay(void)
{
	struct want	 w;
	uint8_t		 d[DISCO_MAXMSG];
	size_t		 len;
	int		 i;

	len = ping_one(&w, 0, d);
	take(&w, after(TIMEOUT_MS), true);
	if (w.answers == 0)
		die(1, "no pong to the first ping");
	w.answers = 0;
	w.got[0] = false;
	for (i = 0; i < REPLAYS; i++)
		send_dgram(d, len);
	take(&w, after(COUNT_MS), false);
	printf("replay answers %ld\n", w.answers);
	return 0;
}

static int
mode_skew(const char *name, int64_t skew_ms)
{
	struct want	 w;
	uint8_t		 d[DISCO_MAXMSG];

	ping_one(&w, skew_ms, d);
	take(&w, after(COUNT_MS), false);
	printf("%s answers %ld\n", name, w.answers);
	return 0;
}

static int
mode_size(void)
{
	struct want	 w;
	uint8_t		 d[DISCO_MAXMSG];
	size_t		 len;

	len = ping_one(&w, 0, d);
	take(&w, after(TIMEOUT_MS), true);
	if (w.answers == 0)
		die(1, "no pong");
	printf("sizes %zu %zu\n", len, w.last_len);
	return 0;
}

/* Magic and a sender (ours, or fresh if fresh), random after that. */
static int
mode_junk(const char *name, long n, bool fresh)
{
	struct want	 w;
	uint8_t		 d[DISCO_MAXMSG];
	long		 i;

	memset(&w, 0, sizeof(w));
	memcpy(d, DISCO_MAGIC, DISCO_MAGICLEN);
	for (i = 0; i < n; i++) {
		if (fresh)
			randombytes_buf(d + DISCO_MAGICLEN, DISCO_KEYLEN);
		else
			memcpy(d + DISCO_MAGICLEN, P.pub, DISCO_KEYLEN);
		randombytes_buf(d + DISCO_MAGICLEN + DISCO_KEYLEN,
		    sizeof(d) - DISCO_MAGICLEN - DISCO_KEYLEN);
		send_dgram(d, sizeof(d));
		if (i % DRAIN_EVERY == 0)
			take(&w, 0, false);
	}
	take(&w, after(COUNT_MS), false);
	printf("%s answers %ld\n", name, w.answers);
	return 0;
}

/*
 * Sealed first, then sent in batches at FLOOD_BATCH / FLOOD_GAP_US: a
 * flood much faster than lanraged can open boxes only overflows its
 * side-channel queue, and its per-peer rate limit never sees it.
 */
static int
mode_flood(long n)
{
	struct want	 w;
	uint8_t		(*d)[DISCO_MAXMSG];
	size_t		*len;
	uint64_t	 t0;
	long		 i;

	memset(&w, 0, sizeof(w));
	if ((w.txid = calloc((size_t)n, DISCO_TXIDLEN)) == NULL ||
	    (w.got = calloc((size_t)n, sizeof(bool))) == NULL ||
	    (d = calloc((size_t)n, DISCO_MAXMSG)) == NULL ||
	    (len = calloc((size_t)n, sizeof(size_t))) == NULL)
		die(1, "calloc: %s", strerror(errno));
	w.n = (size_t)n;
	randombytes_buf(w.txid, w.n * DISCO_TXIDLEN);
	qsort(w.txid, w.n, DISCO_TXIDLEN, txid_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && txid_cmp(w.txid[i - 1], w.txid[i]) == 0)
			die(1, "random txids collided");
		len[i] = ping_seal(w.txid[i], clock_ms(CLOCK_REALTIME), d[i]);
	}
	t0 = clock_us(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		if (i % FLOOD_BATCH == 0) {
			take(&w, 0, false);
			sleep_until(t0 + (uint64_t)(i / FLOOD_BATCH) *
			    FLOOD_GAP_US);
		}
		send_dgram(d[i], len[i]);
	}
	take(&w, after(FLOOD_MS), false);
	printf("flood answers %ld\n", w.answers);
	free(w.txid);
	free(w.got);
	free(d);
	free(len);
	return 0;
}

static long
parse_n(const char *s)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > MAXN) {
		fprintf(stderr, "disco-probe: N: %s: not 1 to %d\n", s, MAXN);
		usage();
	}
	return n;
}

static void
setup(const char *where, const char *keyfile, const char *peerkey)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	size_t			 n;
	int			 rcvbuf = RCVBUF;

	if (sockaddr_parse(where, &ss, &len) == -1) {
		fprintf(stderr, "disco-probe: %s: not ADDR:PORT\n", where);
		usage();
	}
	if (sodium_base642bin(P.peer, sizeof(P.peer), peerkey,
	    strlen(peerkey), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != sizeof(P.peer)) {
		fprintf(stderr, "disco-probe: %s: not a public key in "
		    "standard base64\n", peerkey);
		usage();
	}
	if (tkey_read(keyfile, P.priv) == -1)
		die(1, "%s: %s", keyfile, errno == EINVAL ?
		    "not a base64 key" : strerror(errno));
	if (crypto_scalarmult_base(P.pub, P.priv) != 0)
		die(1, "%s: not a usable private key", keyfile);
	if ((P.fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    connect(P.fd, (struct sockaddr *)&ss, len) == -1)
		die(1, "%s: %s", where, strerror(errno));
	/* flood: room for every answer; FORCE works for root only */
	if (setsockopt(P.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		setsockopt(P.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
}

/* 1: MODE takes N, 0: it does not, -1: no such mode. */
static int
mode_arity(const char *mode)
{
	static const char *const one[] = { "ping", "replay", "stale",
	    "future", "size" };
	static const char *const counted[] = { "forged", "unknown", "flood" };
	size_t	 i;

	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		if (strcmp(mode, one[i]) == 0)
			return 0;
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		if (strcmp(mode, counted[i]) == 0)
			return 1;
	return -1;
}

static int
run(const char *mode, long n)
{
	if (strcmp(mode, "ping") == 0)
		return mode_ping();
	if (strcmp(mode, "replay") == 0)
		return mode_replay();
	if (strcmp(mode, "stale") == 0)
		return mode_skew(mode, -SKEW_MS);
	if (strcmp(mode, "future") == 0)
		return mode_skew(mode, SKEW_MS);
	if (strcmp(mode, "size") == 0)
		return mode_size();
	if (strcmp(mode, "forged") == 0)
		return mode_junk(mode, n, false);
	if (strcmp(mode, "unknown") == 0)
		return mode_junk(mode, n, true);
	return mode_flood(n);
}

int
main(int argc, char *argv[])
{
	long	 n = 0;
	int	 arity, rc;

	if (argc != 5 && argc != 6)
		usage();
	if ((arity = mode_arity(argv[4])) == -1) {
		fprintf(stderr, "disco-probe: %s: no such mode\n", argv[4]);
		usage();
	}
	if (argc - 5 != arity) {
		fprintf(stderr, "disco-probe: %s: %s\n", argv[4], arity ?
		    "needs N" : "takes no N");
		usage();
	}
	if (arity)
		n = parse_n(argv[5]);
	if (sodium_init() < 0)
		die(1, "sodium_init");
	setup(argv[1], argv[2], argv[3]);
	rc = run(argv[4], n);
	fflush(stdout);
	close(P.fd);
	sodium_memzero(P.priv, sizeof(P.priv));
	return rc;
}
