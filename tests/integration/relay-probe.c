/*
 * relay-probe: lanrage-relayd's clients for the integration tests,
 * built with proto/relay.h.  Tokens are signed with a test key (Ed25519
 * from the seed 07 x 32), which the relay under test has as TokenKey;
 * nodes have keys from seeds too, and each its own UDP socket.
 *
 *	relay-probe tokenkey
 *		prints the test token key (base64) for the relay's config
 *	relay-probe check ADDR:PORT RELAYKEY
 *		two nodes of one party bind, exchange SEND/RECV both ways
 *		(payloads and tags checked) and PING/PONG; then BINDs that
 *		must get no BOUND: expired, forged, for another relay, with
 *		a clock 10 min off, another node's token; a node of another
 *		party cannot reach the first two; a BIND replayed from
 *		another port cannot move a binding.  One "ok - ..." line each; exit 1 at
 *		the first failure.
 *	relay-probe flood ADDR:PORT RELAYKEY N
 *		a bound pair exchanges a datagram every 10 ms while N
 *		garbage datagrams, unbound SENDs and PINGs and bad-token
 *		BINDs go out from 64 sockets; prints how many of the pair's
 *		datagrams arrived and the largest answer any flood socket
 *		got against the smallest request it sent; exit 1 when the
 *		pair lost more than 5% or an answer was larger.
 *
 *	relay-probe load ADDR:PORT RELAYKEY|raw SECONDS SIZE BPORT
 *		for bench/relay.sh: node A sends SEND frames of SIZE bytes of
 *		payload (raw: plain datagrams of SIZE + 9 bytes, to a plain
 *		forwarder) as fast as it can for SECONDS; node B, on
 *		127.0.0.1:BPORT, counts what arrives; prints "load SIZE
 *		sent N received M pps P"
 *	relay-probe latency ADDR:PORT RELAYKEY|raw|direct N SIZE BPORT
 *		N datagrams one at a time from A to B (direct: to B itself);
 *		prints "latency MODE p50 X p99 Y p999 Z lost L" in
 *		microseconds
 *
 * RELAYKEY is the relay's public key in base64 (lanrage-relayd -g).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "proto/relay.h"

#define WAIT_MS		1000
#define FLOOD_SOCKS	64
#define MAXN		1000000
#define LOAD_BATCH	64
#define LAT_MAX		100000
#define RELAYD_PROBE_SLOT	2048

struct node {
	int		 fd;
	uint8_t		 priv[32], pub[32];
	uint8_t		 party[RELAY_IDLEN];
};

static struct sockaddr_storage	 relay_sa;
static socklen_t		 relay_len;
static uint8_t			 relay_pub[32];
static uint8_t			 sign_pk[32], sign_sk[64];

static void
fail(const char *what)
{
	printf("not ok - %s\n", what);
	exit(1);
}

static uint64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sign_keys(void)
{
	uint8_t	 seed[32];

	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(sign_pk, sign_sk, seed);
}

static void
node_new(struct node *n, uint8_t seed, uint8_t party)
{
	memset(n, 0, sizeof(*n));
	memset(n->priv, seed, sizeof(n->priv));
	crypto_scalarmult_base(n->pub, n->priv);
	memset(n->party, party, sizeof(n->party));
	if ((n->fd = socket(relay_sa.ss_family, SOCK_DGRAM, 0)) == -1)
		fail("socket");
}

/* A token for n, changed as a test wants it. */
static void
token(const struct node *n, struct relay_token *t, int64_t expiry_delta,
    const uint8_t *relay_key)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->relay_key, relay_key, 32);
	memcpy(t->party, n->party, RELAY_IDLEN);
	memcpy(t->node_key, n->pub, 32);
	t->expiry = (uint64_t)((int64_t)(wall_ms() / 1000) + expiry_delta);
	relay_token_sign(t, sign_sk);
}

static void
send_buf(int fd, const struct buf *b)
{
	if (sendto(fd, b->data, b->len, 0, (struct sockaddr *)&relay_sa,
	    relay_len) == -1)
		fail("sendto");
}

/* One datagram within ms, or -1. */
static ssize_t
recv_one(int fd, uint8_t *p, size_t len, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return recv(fd, p, len, 0);
}

static void
bind_send(const struct node *n, const struct relay_token *t, uint64_t ms)
{
	uint8_t		 mem[RELAY_BINDLEN];
	struct buf	 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	if (relay_enc_bind(&b, t, n->priv, ms) == -1)
		fail("encode BIND");
	send_buf(n->fd, &b);
}

/* True when a BOUND that opens comes back. */
static bool
bound(const struct node *n)
{
	uint8_t			 p[2048];
	struct relay_msg	 m;
	uint32_t		 nb;
	uint16_t		 life;
	ssize_t			 r;

	while ((r = recv_one(n->fd, p, sizeof(p), WAIT_MS)) >= 0)
		if (relay_decode(p, (size_t)r, &m) == 0 &&
		    m.type == RELAY_BOUND && relay_bound_open(&m, n->priv,
		    relay_pub, &life, &nb) == 0)
			return life == RELAY_BIND_LIFETIME_S;
	return false;
}

static bool
bind_with(const struct node *n, int64_t expiry_delta,
    const uint8_t *relay_key, int64_t skew_ms)
{
	struct relay_token	 t;

	token(n, &t, expiry_delta, relay_key);
	bind_send(n, &t, (uint64_t)((int64_t)wall_ms() + skew_ms));
	return bound(n);
}

static void
send_to(const struct node *from, const struct node *to, const void *p,
    size_t len)
{
	uint8_t		 mem[RELAY_MAXMSG], tag[RELAY_TAGLEN];
	struct buf	 b;

	relay_tag(tag, to->pub);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (relay_enc_send(&b, tag, p, len) == -1)
		fail("encode SEND");
	send_buf(from->fd, &b);
}

/* A RECV at `to` from `from` with exactly this payload. */
static bool
received(const struct node *to, const struct node *from, const void *p,
    size_t len, int ms)
{
	uint8_t			 in[2048];
	struct relay_msg	 m;
	ssize_t			 r;

	while ((r = recv_one(to->fd, in, sizeof(in), ms)) >= 0)
		if (relay_decode(in, (size_t)r, &m) == 0 &&
		    m.type == RELAY_RECV &&
		    memcmp(m.tag, from->pub, RELAY_TAGLEN) == 0 &&
		    m.payload_len == len && memcmp(m.payload, p, len) == 0)
			return true;
	return false;
}

static bool
pong(const struct node *n)
{
	uint8_t			 txid[RELAY_TXIDLEN], mem[64], in[2048];
	struct relay_msg	 m;
	struct buf		 b;
	ssize_t			 r;

	randombytes_buf(txid, sizeof(txid));
	buf_init_fixed(&b, mem, sizeof(mem));
	relay_enc_ping(&b, txid);
	send_buf(n->fd, &b);
	while ((r = recv_one(n->fd, in, sizeof(in), WAIT_MS)) >= 0)
		if (relay_decode(in, (size_t)r, &m) == 0 &&
		    m.type == RELAY_PONG &&
		    memcmp(m.txid, txid, sizeof(txid)) == 0)
			return (size_t)r == RELAY_PINGLEN;
	return false;
}

static void
check_pair(struct node *a, struct node *b)
{
	static const char	 hello[] = "through the relay";
	uint8_t			 big[RELAY_MAX_PAYLOAD];

	if (!bind_with(a, 600, relay_pub, 0) || !bind_with(b, 600, relay_pub,
	    0))
		fail("two nodes of one party bind");
	printf("ok - two nodes bound in one party\n");
	send_to(a, b, hello, sizeof(hello));
	if (!received(b, a, hello, sizeof(hello), WAIT_MS))
		fail("a -> b");
	randombytes_buf(big, sizeof(big));
	send_to(b, a, big, sizeof(big));
	if (!received(a, b, big, sizeof(big), WAIT_MS))
		fail("b -> a, 1452 bytes");
	printf("ok - SEND/RECV both ways, tags and payloads intact\n");
	if (!pong(a))
		fail("PING/PONG");
	printf("ok - PING answered by a PONG of the same size\n");
}

static void
check_refusals(struct node *a)
{
	struct relay_token	 t;
	struct node		 x, y;
	uint8_t			 other[32];

	node_new(&x, 0x31, 0xa1);
	if (bind_with(&x, -1, relay_pub, 0))
		fail("an expired token bound");
	memset(other, 0x55, sizeof(other));
	if (bind_with(&x, 600, other, 0))
		fail("a token for another relay bound");
	if (bind_with(&x, 600, relay_pub, 600000))
		fail("a BIND 10 minutes ahead bound");
	token(&x, &t, 600, relay_pub);
	t.sig[5] ^= 1;
	bind_send(&x, &t, wall_ms());
	if (bound(&x))
		fail("a forged token bound");
	/* a's token with a box from another key: it proves nothing */
	token(a, &t, 600, relay_pub);
	y = x;
	bind_send(&y, &t, wall_ms());
	if (bound(&x))
		fail("a stolen token bound");
	printf("ok - expired, other-relay, skewed, forged, stolen tokens: "
	    "no BOUND\n");
	close(x.fd);
}

/* Another party cannot reach the first: its SENDs find no one. */
static void
check_parties(struct node *a, struct node *b)
{
	static const char	 msg[] = "cross-party";
	struct node		 c;

	node_new(&c, 0x41, 0xb2);
	if (!bind_with(&c, 600, relay_pub, 0))
		fail("a node of another party binds");
	send_to(&c, a, msg, sizeof(msg));
	if (received(a, &c, msg, sizeof(msg), 300))
		fail("another party's node reached a");
	printf("ok - a node of another party cannot reach them\n");
	close(c.fd);
	(void)b;
}

/* a's BIND, sent again from another port, cannot move a's binding. */
static void
check_replay(struct node *a, struct node *b)
{
	static const char	 msg[] = "still here";
	struct relay_token	 t;
	uint8_t			 mem[RELAY_BINDLEN];
	struct buf		 f;
	struct node		 z;

	token(a, &t, 600, relay_pub);
	buf_init_fixed(&f, mem, sizeof(mem));
	if (relay_enc_bind(&f, &t, a->priv, wall_ms()) == -1)
		fail("encode BIND");
	send_buf(a->fd, &f);
	if (!bound(a))
		fail("a binds again");
	node_new(&z, 0x11, 0xa1);	/* a's key, another socket */
	send_buf(z.fd, &f);
	if (bound(&z))
		fail("a replayed BIND moved a's binding");
	send_to(b, a, msg, sizeof(msg));
	if (!received(a, b, msg, sizeof(msg), WAIT_MS))
		fail("a lost its binding to a replay");
	printf("ok - a replayed BIND from another port: no BOUND, "
	    "the binding stays\n");
	close(z.fd);
}

static int
cmd_check(void)
{
	struct node	 a, b;

	node_new(&a, 0x11, 0xa1);
	node_new(&b, 0x21, 0xa1);
	check_pair(&a, &b);
	check_refusals(&a);
	check_parties(&a, &b);
	check_replay(&a, &b);
	return 0;
}

/* One flood datagram of kind k (0..3) from socket fd. */
static size_t
flood_one(int fd, unsigned k, const struct relay_token *bad)
{
	uint8_t		 mem[RELAY_BINDLEN], tag[RELAY_TAGLEN] = { 1 };
	uint8_t		 priv[32] = { 9 };
	struct buf	 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	switch (k) {
	case 0:
		randombytes_buf(mem, 64);
		b.len = 1 + randombytes_uniform(63);
		break;
	case 1:
		relay_enc_send(&b, tag, "x", 1);
		break;
	case 2:
		relay_enc_ping(&b, tag);
		break;
	default:
		relay_enc_bind(&b, bad, priv, wall_ms());
		break;
	}
	(void)sendto(fd, b.data, b.len, MSG_DONTWAIT,
	    (struct sockaddr *)&relay_sa, relay_len);
	return b.len;
}

/* The largest answer any flood socket got. */
static size_t
flood_drain(const int *fds)
{
	uint8_t	 in[2048];
	size_t	 max = 0, i;
	ssize_t	 r;

	for (i = 0; i < FLOOD_SOCKS; i++)
		while ((r = recv(fds[i], in, sizeof(in), MSG_DONTWAIT)) > 0)
			if ((size_t)r > max)
				max = (size_t)r;
	return max;
}

static int
cmd_flood(unsigned long n)
{
	struct relay_token	 bad;
	struct node		 a, b, junk;
	int			 fds[FLOOD_SOCKS];
	unsigned long		 i, sent = 0, got = 0;
	size_t			 min_req = SIZE_MAX, len, max_ans = 0, j;

	node_new(&a, 0x11, 0xa1);
	node_new(&b, 0x21, 0xa1);
	if (!bind_with(&a, 600, relay_pub, 0) || !bind_with(&b, 600,
	    relay_pub, 0))
		fail("the pair binds");
	node_new(&junk, 0x71, 0xa1);
	token(&junk, &bad, 600, relay_pub);
	bad.sig[0] ^= 1;
	for (j = 0; j < FLOOD_SOCKS; j++)
		if ((fds[j] = socket(relay_sa.ss_family, SOCK_DGRAM, 0)) == -1)
			fail("socket");
	for (i = 0; i < n; i++) {
		len = flood_one(fds[i % FLOOD_SOCKS], (unsigned)(i % 4), &bad);
		if (len < min_req)
			min_req = len;
		if (i % 2000 == 0) {
			send_to(&a, &b, &i, sizeof(i));
			sent++;
			got += received(&b, &a, &i, sizeof(i), 10);
			len = flood_drain(fds);
			max_ans = len > max_ans ? len : max_ans;
		}
	}
	usleep(200000);
	len = flood_drain(fds);
	max_ans = len > max_ans ? len : max_ans;
	printf("flood: %lu sent; pair: %lu/%lu arrived; largest answer %zu "
	    "bytes, smallest request %zu\n", n, got, sent, max_ans, min_req);
	return got * 100 >= sent * 95 && max_ans <= min_req ? 0 : 1;
}

/* ---- bench/relay.sh ---- */

struct load {
	int			 fd;
	uint8_t			 frame[RELAY_MAXMSG];
	size_t			 len;
	const struct sockaddr_storage *to;
	socklen_t		 tolen;
	uint64_t		 until_ms, sent;
};

static uint64_t
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void *
load_send(void *arg)
{
	struct load	*l = arg;
	struct mmsghdr	 m[LOAD_BATCH];
	struct iovec	 iov = { l->frame, l->len };
	int		 i, r;

	for (i = 0; i < LOAD_BATCH; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = (void *)(uintptr_t)l->to;
		m[i].msg_hdr.msg_namelen = l->tolen;
	}
	while (mono_us() / 1000 < l->until_ms)
		if ((r = sendmmsg(l->fd, m, LOAD_BATCH, 0)) > 0)
			l->sent += (uint64_t)r;
	return NULL;
}

/* B on 127.0.0.1:port (the forwarders under test send there). */
static void
node_at(struct node *n, uint8_t seed, uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 big = 8 << 20;

	node_new(n, seed, 0xa1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	if (bind(n->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fail("bind B");
	(void)setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

/* A's datagram: a SEND to B, or for raw, the same bytes unframed. */
static size_t
load_frame(const struct node *b, bool raw, size_t size, uint8_t *out)
{
	uint8_t		 payload[RELAY_MAX_PAYLOAD], tag[RELAY_TAGLEN];
	struct buf	 f;

	memset(payload, 0x42, sizeof(payload));
	relay_tag(tag, b->pub);
	buf_init_fixed(&f, out, RELAY_MAXMSG);
	if (raw) {
		memset(out, 0x42, size + RELAY_FWD_HDRLEN);
		return size + RELAY_FWD_HDRLEN;
	}
	if (relay_enc_send(&f, tag, payload, size) == -1)
		fail("encode SEND");
	return f.len;
}

static void
pair_up(struct node *a, struct node *b, bool raw, uint16_t bport)
{
	node_new(a, 0x11, 0xa1);
	node_at(b, 0x21, bport);
	if (!raw && (!bind_with(a, 600, relay_pub, 0) ||
	    !bind_with(b, 600, relay_pub, 0)))
		fail("bind the pair");
}

static int
cmd_load(bool raw, unsigned secs, size_t size, uint16_t bport)
{
	struct node	 a, b;
	struct load	 l;
	pthread_t	 t;
	struct timeval	 tv = { 0, 200000 };
	uint8_t		 in[RELAYD_PROBE_SLOT];
	uint64_t	 got = 0, start;

	pair_up(&a, &b, raw, bport);
	memset(&l, 0, sizeof(l));
	l.fd = a.fd;
	l.len = load_frame(&b, raw, size, l.frame);
	l.to = &relay_sa;
	l.tolen = relay_len;
	start = mono_us() / 1000;
	l.until_ms = start + secs * 1000;
	setsockopt(b.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pthread_create(&t, NULL, load_send, &l) != 0)
		fail("thread");
	while (mono_us() / 1000 < l.until_ms + 300)
		if (recv(b.fd, in, sizeof(in), 0) > 0)
			got++;
	pthread_join(t, NULL);
	printf("load %zu sent %llu received %llu pps %llu\n", size,
	    (unsigned long long)l.sent, (unsigned long long)got,
	    (unsigned long long)(got / secs));
	return 0;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t	 a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmd_latency(const char *mode, unsigned long n, size_t size, uint16_t bport)
{
	static uint64_t		 lat[LAT_MAX];
	struct sockaddr_in	 bsin;
	struct node		 a, b;
	uint8_t			 frame[RELAY_MAXMSG], in[RELAYD_PROBE_SLOT];
	struct timeval		 tv = { 0, 100000 };
	bool			 raw = strcmp(mode, "relay") != 0;
	unsigned long		 i, k = 0;
	uint64_t		 t0;
	size_t			 len;

	pair_up(&a, &b, raw, bport);
	len = load_frame(&b, raw, size, frame);
	setsockopt(b.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&bsin, 0, sizeof(bsin));
	bsin.sin_family = AF_INET;
	bsin.sin_port = htons(bport);
	bsin.sin_addr.s_addr = htonl(0x7f000001);
	for (i = 0; i < n; i++) {
		t0 = mono_us() * 1000;
		if (strcmp(mode, "direct") == 0)
			(void)sendto(a.fd, frame, len, 0,
			    (struct sockaddr *)&bsin, sizeof(bsin));
		else
			(void)sendto(a.fd, frame, len, 0,
			    (struct sockaddr *)&relay_sa, relay_len);
		if (recv(b.fd, in, sizeof(in), 0) <= 0)
			continue;
		lat[k++] = mono_us() * 1000 - t0;
	}
	if (k == 0)
		fail("no datagram arrived");
	qsort(lat, k, sizeof(lat[0]), cmp_u64);
	printf("latency %s p50 %.1f p99 %.1f p999 %.1f lost %lu\n", mode,
	    lat[k / 2] / 1000.0, lat[k * 99 / 100] / 1000.0,
	    lat[k * 999 / 1000] / 1000.0, n - k);
	return 0;
}

static void	 usage(void);

/* load and latency: RELAYKEY may be raw (or direct), sizes bounded. */
static int
cmd_bench(char *argv[])
{
	unsigned long	 n = strtoul(argv[4], NULL, 10);
	unsigned long	 size = strtoul(argv[5], NULL, 10);
	unsigned long	 port = strtoul(argv[6], NULL, 10);
	const char	*mode = "relay";
	size_t		 got;

	if (strcmp(argv[3], "raw") == 0 || strcmp(argv[3], "direct") == 0)
		mode = argv[3];
	else if (sodium_base642bin(relay_pub, 32, argv[3], strlen(argv[3]),
	    NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != 32)
		usage();
	if (size == 0 || size > RELAY_MAX_PAYLOAD || port == 0 ||
	    port > 65535 || n == 0 || n > LAT_MAX)
		usage();
	if (strcmp(argv[1], "load") == 0)
		return cmd_load(strcmp(mode, "raw") == 0, (unsigned)n, size,
		    (uint16_t)port);
	return cmd_latency(mode, n, size, (uint16_t)port);
}

static void
usage(void)
{
	fprintf(stderr, "usage: relay-probe tokenkey\n"
	    "       relay-probe check ADDR:PORT RELAYKEY\n"
	    "       relay-probe flood ADDR:PORT RELAYKEY N\n"
	    "       relay-probe load ADDR:PORT RELAYKEY|raw SECS SIZE BPORT\n"
	    "       relay-probe latency ADDR:PORT RELAYKEY|raw|direct N SIZE "
	    "BPORT\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char		 b64[64];
	unsigned long	 n;
	size_t		 got;

	if (sodium_init() < 0 || argc < 2)
		usage();
	sign_keys();
	if (strcmp(argv[1], "tokenkey") == 0) {
		sodium_bin2base64(b64, sizeof(b64), sign_pk, sizeof(sign_pk),
		    sodium_base64_VARIANT_ORIGINAL);
		printf("%s\n", b64);
		return 0;
	}
	if (argc < 4 || sockaddr_parse(argv[2], &relay_sa, &relay_len) == -1)
		usage();
	if (argc == 7 && (strcmp(argv[1], "load") == 0 ||
	    strcmp(argv[1], "latency") == 0))
		return cmd_bench(argv);
	if (sodium_base642bin(relay_pub, 32, argv[3], strlen(argv[3]), NULL,
	    &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || got != 32)
		usage();
	if (strcmp(argv[1], "check") == 0 && argc == 4)
		return cmd_check();
	if (strcmp(argv[1], "flood") == 0 && argc == 5) {
		n = strtoul(argv[4], NULL, 10);
		if (n == 0 || n > MAXN)
			usage();
		return cmd_flood(n);
	}
	usage();
	return 2;
}
