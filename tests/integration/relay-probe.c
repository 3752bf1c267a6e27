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
 * RELAYKEY is the relay's public key in base64 (lanrage-relayd -g).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
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

static void
usage(void)
{
	fprintf(stderr, "usage: relay-probe tokenkey\n"
	    "       relay-probe check ADDR:PORT RELAYKEY\n"
	    "       relay-probe flood ADDR:PORT RELAYKEY N\n");
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
	if (argc < 4 || sockaddr_parse(argv[2], &relay_sa, &relay_len) == -1 ||
	    sodium_base642bin(relay_pub, 32, argv[3], strlen(argv[3]), NULL,
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
