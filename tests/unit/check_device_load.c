/*
 * The WireGuard device under attack, end to end in one process: two
 * devices on loopback UDP (socketpairs stand in for their TUN queues, as
 * in check_device.c) and an attacker that knows B's public key, so its
 * initiations carry a valid mac1 and cost B a Diffie-Hellman each until
 * B is under load and answers with cookie replies instead.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/wg/device.h"
#include "lib/wg/noise.h"

#define FLOOD_NMSG	256		/* distinct initiations, resent */
#define FLOOD_BURST	5		/* per round */
#define FLOOD_GAP_US	4000		/* between rounds: ~1000/s */
#define FLOOD_ROUNDS	5000		/* bound on a flood: ~20 s */
#define FLOOD_INDEX	0xa5000000U	/* sender indices of the flood */
#define PROBE_INDEX	0x5a000000U	/* of the probe's initiations */
#define GARBAGE_N	10000
#define GARBAGE_WINDOW	64		/* sent but not yet read by B */

struct node {
	struct wg_device	*dev;
	int			 tun[2];	/* [0] device's, [1] ours */
	uint8_t			 priv[32];
	uint8_t			 pub[32];
};

/* Not B's peer, but holds B's public key. */
struct flood {
	struct wg_local		 local;
	struct wg_peer_noise	 pn;
	int			 s;
	struct sockaddr_in	 dst;
	uint8_t			 msgs[FLOOD_NMSG][WG_INITIATION_LEN];
	pthread_t		 thread;
	bool			 running;
	atomic_bool		 stop;
	atomic_ulong		 sent;
	atomic_ulong		 cookies;	/* 64-byte type 3 to us */
	atomic_ulong		 bad;		/* any other reply */
	atomic_ulong		 bytes_out;
	atomic_ulong		 bytes_in;
};

static struct node	 a, b;
static struct flood	 fl;

static uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC + (uint64_t)ts.tv_nsec;
}

static void
node_up(struct node *n)
{
	struct wg_device_params	 p;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0,
	    n->tun), 0);
	memset(&p, 0, sizeof(p));
	p.tun_fds = &n->tun[0];
	p.ntun = 1;
	p.mtu = 1420;
	n->dev = wg_device_new(&p);
	ck_assert_ptr_nonnull(n->dev);
	wg_noise_generate_private(n->priv);
	ck_assert_int_eq(wg_noise_public_from_private(n->pub, n->priv), 0);
}

/* Give n its key and one peer (the other node) with an allowed prefix. */
static void
node_config(struct node *n, const struct node *peer, const char *aip,
    bool endpoint)
{
	struct wg_uapi_set	 set;
	struct wg_uapi_peer	 up;
	struct prefix		 pfx;
	struct sockaddr_in	*sin;

	memset(&set, 0, sizeof(set));
	memset(&up, 0, sizeof(up));
	ck_assert_int_eq(prefix_parse(aip, &pfx), 0);
	set.flags = WG_UAPI_SET_PRIVATE_KEY;
	memcpy(set.private_key, n->priv, 32);
	memcpy(up.public_key, peer->pub, 32);
	up.aips = &pfx;
	up.naips = 1;
	if (endpoint) {
		up.flags |= WG_UAPI_PEER_ENDPOINT;
		sin = (struct sockaddr_in *)&up.endpoint;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(wg_device_port(peer->dev));
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		up.endpoint_len = sizeof(*sin);
	}
	set.peers = &up;
	set.npeers = 1;
	ck_assert_int_eq(wg_device_apply(n->dev, &set), 0);
}

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	node_up(&a);
	node_up(&b);
	ck_assert_int_eq(wg_device_start(a.dev), 0);
	ck_assert_int_eq(wg_device_start(b.dev), 0);
	fl.s = -1;
}

static void
teardown(void)
{
	if (fl.running) {
		atomic_store(&fl.stop, true);
		pthread_join(fl.thread, NULL);
	}
	if (fl.s != -1) {
		close(fl.s);
		wg_peer_noise_wipe(&fl.pn);
		wg_local_wipe(&fl.local);
	}
	wg_device_free(a.dev);
	wg_device_free(b.dev);
	close(a.tun[1]);
	close(b.tun[1]);
}

static uint16_t
cksum(const uint8_t *p, size_t len)
{
	uint32_t	 sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4/UDP packet src -> dst carrying payload. */
static size_t
make_pkt(uint8_t *pkt, const char *src, const char *dst, const char *pl)
{
	size_t		 plen = strlen(pl), len = 28 + plen;
	uint16_t	 c;

	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 17;
	inet_pton(AF_INET, src, pkt + 12);
	inet_pton(AF_INET, dst, pkt + 16);
	c = cksum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	pkt[21] = 9;
	pkt[23] = 9;
	pkt[24] = (uint8_t)((8 + plen) >> 8);
	pkt[25] = (uint8_t)(8 + plen);
	memcpy(pkt + 28, pl, plen);
	return len;
}

/* Read one packet from fd within ms; its length, or 0. */
static size_t
recv_pkt(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	n = recv(fd, buf, cap, 0);
	return n > 0 ? (size_t)n : 0;
}

static void
expect_through(struct node *from, struct node *to, const char *src,
    const char *dst, const char *payload)
{
	uint8_t		 pkt[2048], got[2048];
	size_t		 len = make_pkt(pkt, src, dst, payload), n;

	ck_assert_int_eq(send(from->tun[1], pkt, len, 0), (ssize_t)len);
	n = recv_pkt(to->tun[1], got, sizeof(got), 3000);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(got, pkt, len);
}

/* A nonblocking UDP socket on loopback, any port. */
static int
udp_open(void)
{
	struct sockaddr_in	 sin;
	int			 s;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ne(s, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return s;
}

static void
addr_of(const struct node *n, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(wg_device_port(n->dev));
}

static uint64_t
drops(const struct wg_device_stats *st)
{
	return st->drop_malformed + st->drop_no_index + st->drop_auth +
	    st->drop_replay + st->drop_expired + st->drop_source +
	    st->drop_no_route + st->drop_no_endpoint + st->drop_staged +
	    st->drop_handshake + st->drop_other + st->drop_relay;
}

/* The attacker: its key, B's as the responder, and its initiations. */
static void
flood_init(struct flood *f, const struct node *target)
{
	uint8_t		 priv[32];
	uint32_t	 i;

	memset(f, 0, sizeof(*f));
	wg_noise_generate_private(priv);
	ck_assert_int_eq(wg_local_set_key(&f->local, priv), 0);
	ck_assert_int_eq(wg_peer_noise_init(&f->pn, &f->local, target->pub,
	    NULL), 0);
	for (i = 0; i < FLOOD_NMSG; i++)
		ck_assert_int_eq(wg_noise_initiation_create(&f->local, &f->pn,
		    FLOOD_INDEX + i, mono_ns(), f->msgs[i]), 0);
	addr_of(target, &f->dst);
	f->s = udp_open();
	sodium_memzero(priv, sizeof(priv));
}

/* Count what B sent back: only cookie replies to our indices are fine. */
static void
flood_drain(struct flood *f)
{
	uint8_t		 buf[2048];
	uint32_t	 rcv;
	ssize_t		 n;

	while ((n = recv(f->s, buf, sizeof(buf), 0)) >= 0) {
		atomic_fetch_add(&f->bytes_in, (unsigned long)n);
		rcv = n >= 8 ? wg_noise_get_u32(buf, WG_OFF_RECEIVER) : 0;
		if (n == WG_COOKIE_REPLY_LEN &&
		    wg_noise_msg_type(buf, (size_t)n) == WG_MSG_COOKIE_REPLY &&
		    rcv - FLOOD_INDEX < FLOOD_NMSG)
			atomic_fetch_add(&f->cookies, 1);
		else
			atomic_fetch_add(&f->bad, 1);
	}
}

static void
flood_round(struct flood *f)
{
	unsigned long	 k;
	int		 i;

	for (i = 0; i < FLOOD_BURST; i++) {
		k = atomic_fetch_add(&f->sent, 1) % FLOOD_NMSG;
		if (sendto(f->s, f->msgs[k], WG_INITIATION_LEN, 0,
		    (struct sockaddr *)&f->dst, sizeof(f->dst)) ==
		    WG_INITIATION_LEN)
			atomic_fetch_add(&f->bytes_out, WG_INITIATION_LEN);
	}
	flood_drain(f);
	usleep(FLOOD_GAP_US);
}

static void *
flood_main(void *arg)
{
	struct flood	*f = arg;
	int		 r;

	for (r = 0; r < FLOOD_ROUNDS && !atomic_load(&f->stop); r++)
		flood_round(f);
	return NULL;
}

/* Start flooding target; wait (<= 8 s) until it answers with cookies. */
static void
flood_start(struct flood *f, const struct node *target)
{
	uint64_t	 t0;

	flood_init(f, target);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, flood_main, f), 0);
	f->running = true;
	t0 = mono_ns();
	while (atomic_load(&f->cookies) == 0 && mono_ns() - t0 < 8 * WG_NSEC)
		usleep(10000);
	ck_assert_msg(atomic_load(&f->cookies) > 0,
	    "no cookie reply after %lu initiations", atomic_load(&f->sent));
}

static void
flood_stop(struct flood *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	f->running = false;
	usleep(100000);
	flood_drain(f);
}

/* Wait (<= ms) for a reply to index on s; its length, or 0. */
static size_t
await_reply(int s, uint32_t index, uint8_t *buf, size_t cap, int ms)
{
	uint64_t	 end = mono_ns() + (uint64_t)ms * 1000000;
	size_t		 n;

	while (mono_ns() < end) {
		n = recv_pkt(s, buf, cap, 10);
		if (n >= 8 && wg_noise_get_u32(buf, WG_OFF_RECEIVER) == index)
			return n;
	}
	return 0;
}

static bool
is_zero(const uint8_t *p, size_t len)
{
	while (len-- > 0)
		if (*p++ != 0)
			return false;
	return true;
}

/*
 * Under load, the cookie B sends is usable: an initiation that carries
 * mac2 made with it gets no cookie, while one sent right after it from the
 * same socket without mac2 does (so B was under load for both).
 */
static void
probe_mac2(struct flood *f)
{
	struct wg_peer_noise	 with, without;
	uint8_t			 x[WG_INITIATION_LEN];
	uint8_t			 y[WG_INITIATION_LEN];
	uint8_t			 z[WG_INITIATION_LEN];
	uint8_t			 buf[2048];
	int			 s = udp_open();
	size_t			 n;

	ck_assert_int_eq(wg_peer_noise_init(&with, &f->local, b.pub, NULL), 0);
	ck_assert_int_eq(wg_peer_noise_init(&without, &f->local, b.pub, NULL),
	    0);
	ck_assert_int_eq(wg_noise_initiation_create(&f->local, &with,
	    PROBE_INDEX + 1, mono_ns(), x), 0);
	ck_assert(is_zero(x + WG_INITIATION_LEN - WG_MAC_LEN, WG_MAC_LEN));
	ck_assert_int_eq(sendto(s, x, sizeof(x), 0,
	    (struct sockaddr *)&f->dst, sizeof(f->dst)), (ssize_t)sizeof(x));
	n = await_reply(s, PROBE_INDEX + 1, buf, sizeof(buf), 2000);
	ck_assert_uint_eq(n, WG_COOKIE_REPLY_LEN);
	ck_assert_int_eq(wg_noise_cookie_reply_consume(&with, buf, n,
	    mono_ns()), 0);

	ck_assert_int_eq(wg_noise_initiation_create(&f->local, &with,
	    PROBE_INDEX + 2, mono_ns(), y), 0);
	ck_assert(!is_zero(y + WG_INITIATION_LEN - WG_MAC_LEN, WG_MAC_LEN));
	ck_assert_int_eq(wg_noise_initiation_create(&f->local, &without,
	    PROBE_INDEX + 3, mono_ns(), z), 0);
	ck_assert_int_eq(sendto(s, y, sizeof(y), 0,
	    (struct sockaddr *)&f->dst, sizeof(f->dst)), (ssize_t)sizeof(y));
	ck_assert_int_eq(sendto(s, z, sizeof(z), 0,
	    (struct sockaddr *)&f->dst, sizeof(f->dst)), (ssize_t)sizeof(z));
	n = await_reply(s, PROBE_INDEX + 3, buf, sizeof(buf), 2000);
	ck_assert_msg(n == WG_COOKIE_REPLY_LEN,
	    "no cookie for the initiation without mac2: B not under load?");
	ck_assert_uint_eq(await_reply(s, PROBE_INDEX + 2, buf, sizeof(buf),
	    300), 0);
	wg_peer_noise_wipe(&with);
	wg_peer_noise_wipe(&without);
	close(s);
}

/*
 * More than 200 initiations a second with a valid mac1: B answers with
 * 64-byte cookie replies, never anything larger than the request, and a
 * cookie makes the next initiation pass.
 */
START_TEST(test_flood_cookies)
{
	struct wg_device_stats	 st;
	unsigned long		 sent, cookies;

	node_config(&b, &a, "10.66.0.1/32", false);
	flood_start(&fl, &b);
	probe_mac2(&fl);
	flood_stop(&fl);
	wg_device_stats(b.dev, &st);
	sent = atomic_load(&fl.sent);
	cookies = atomic_load(&fl.cookies);
	fprintf(stderr, "flood: %lu initiations sent, %lu cookie replies "
	    "received, B: cookies_sent %llu drop_handshake %llu\n", sent,
	    cookies, (unsigned long long)st.cookies_sent,
	    (unsigned long long)st.drop_handshake);
	ck_assert_uint_gt(cookies, 0);
	ck_assert_uint_eq(atomic_load(&fl.bad), 0);
	ck_assert_uint_gt(st.cookies_sent, 0);
	ck_assert_uint_ge(st.cookies_sent, cookies);
	ck_assert_uint_eq(atomic_load(&fl.bytes_in),
	    cookies * WG_COOKIE_REPLY_LEN);
	ck_assert_uint_lt(atomic_load(&fl.bytes_in),
	    atomic_load(&fl.bytes_out));
	/* the first 200 of the flood were not under load: opened, no peer */
	ck_assert_uint_ge(st.drop_handshake, 200);
	ck_assert_uint_le(cookies, sent - 200);
	ck_assert_uint_eq(st.handshakes_done, 0);
}
END_TEST

/* A session made before the flood keeps carrying data during and after. */
START_TEST(test_session_survives_flood)
{
	struct wg_device_stats	 st;
	char			 msg[32];
	int			 i;

	node_config(&a, &b, "10.66.0.2/32", true);
	node_config(&b, &a, "10.66.0.1/32", true);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "before");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "before reply");
	flood_start(&fl, &b);
	for (i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg), "during %d", i);
		expect_through(&a, &b, "10.66.0.1", "10.66.0.2", msg);
		expect_through(&b, &a, "10.66.0.2", "10.66.0.1", msg);
		usleep(50000);
	}
	wg_device_stats(b.dev, &st);
	ck_assert_uint_gt(st.cookies_sent, 0);
	flood_stop(&fl);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "after");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "after reply");
	wg_device_stats(b.dev, &st);
	ck_assert_uint_eq(st.handshakes_done, 1);
	ck_assert_uint_eq(atomic_load(&fl.bad), 0);
}
END_TEST

/*
 * A real peer starts its handshake while B is under load: its first
 * initiation gets a cookie instead of a response, and the retransmit
 * (REKEY_TIMEOUT later) carries mac2 and completes.
 */
START_TEST(test_handshake_under_flood)
{
	struct wg_device_stats	 st;
	uint8_t			 pkt[256], got[256];
	uint64_t		 t0, ms;
	size_t			 len, n;

	node_config(&b, &a, "10.66.0.1/32", false);
	flood_start(&fl, &b);
	node_config(&a, &b, "10.66.0.2/32", true);
	len = make_pkt(pkt, "10.66.0.1", "10.66.0.2", "under fire");
	t0 = mono_ns();
	ck_assert_int_eq(send(a.tun[1], pkt, len, 0), (ssize_t)len);
	n = recv_pkt(b.tun[1], got, sizeof(got), 12000);
	ms = (mono_ns() - t0) / 1000000;
	wg_device_stats(b.dev, &st);
	fprintf(stderr, "handshake under flood: data after %llu ms; "
	    "B cookies_sent %llu, flood sent %lu\n", (unsigned long long)ms,
	    (unsigned long long)st.cookies_sent, atomic_load(&fl.sent));
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(got, pkt, len);
	/* no shortcut: the first attempt, without mac2, was refused */
	ck_assert_uint_ge(ms, (WG_REKEY_TIMEOUT / 1000000) - 500);
	ck_assert_uint_eq(st.handshakes_done, 1);
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "reply under fire");
	flood_stop(&fl);
	ck_assert_uint_eq(atomic_load(&fl.bad), 0);
}
END_TEST

/* One random datagram; i picks what it imitates. */
static size_t
garbage(uint8_t *buf, int i)
{
	static const size_t	 exact[] = { 0, WG_INITIATION_LEN,
	    WG_RESPONSE_LEN, WG_COOKIE_REPLY_LEN };
	size_t			 len = randombytes_uniform(1501);
	int			 kind = i % 7;

	randombytes_buf(buf, 1500);
	if (kind == 0)
		return len;		/* anything at all */
	if (len < 4)
		len = 4;
	buf[1] = buf[2] = buf[3] = 0;
	if (kind <= 3) {		/* a handshake message, exact length */
		buf[0] = (uint8_t)kind;
		return exact[kind];
	}
	if (kind == 4) {		/* data, any length >= 32 */
		buf[0] = WG_MSG_DATA;
		return len < WG_DATA_MIN_LEN ? WG_DATA_MIN_LEN : len;
	}
	if (kind == 5) {		/* a handshake type, any length */
		buf[0] = (uint8_t)(1 + randombytes_uniform(3));
		return len;
	}
	buf[0] = (uint8_t)randombytes_uniform(256);	/* any type */
	return len;
}

/* Wait (<= 3 s) until B has read at least want datagrams since st0. */
static void
await_rx(const struct wg_device_stats *st0, uint64_t want)
{
	struct wg_device_stats	 st;
	uint64_t		 end = mono_ns() + 3 * WG_NSEC;

	do {
		wg_device_stats(b.dev, &st);
		if (st.rx_packets - st0->rx_packets >= want)
			return;
		usleep(500);
	} while (mono_ns() < end);
}

/*
 * 10000 random datagrams: every one B reads is counted as one drop, none
 * is answered, and the session still works.
 */
START_TEST(test_garbage_at_scale)
{
	struct wg_device_stats	 st0, st;
	struct sockaddr_in	 dst;
	uint8_t			 buf[1500];
	uint64_t		 rx, dropped;
	size_t			 len;
	int			 s, i;

	node_config(&a, &b, "10.66.0.2/32", true);
	node_config(&b, &a, "10.66.0.1/32", true);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "before");
	usleep(100000);
	wg_device_stats(b.dev, &st0);
	addr_of(&b, &dst);
	s = udp_open();
	for (i = 0; i < GARBAGE_N; i++) {
		if (i >= GARBAGE_WINDOW && i % 16 == 0)
			await_rx(&st0, (uint64_t)(i - GARBAGE_WINDOW));
		len = garbage(buf, i);
		ck_assert_int_eq(sendto(s, buf, len, 0,
		    (struct sockaddr *)&dst, sizeof(dst)), (ssize_t)len);
	}
	await_rx(&st0, GARBAGE_N);
	usleep(200000);		/* handshake drops are counted last */
	wg_device_stats(b.dev, &st);
	rx = st.rx_packets - st0.rx_packets;
	dropped = drops(&st) - drops(&st0);
	fprintf(stderr, "garbage: %d sent, B read %llu, dropped %llu "
	    "(malformed %llu no_index %llu auth %llu handshake %llu "
	    "other %llu relay %llu)\n", GARBAGE_N, (unsigned long long)rx,
	    (unsigned long long)dropped,
	    (unsigned long long)(st.drop_malformed - st0.drop_malformed),
	    (unsigned long long)(st.drop_no_index - st0.drop_no_index),
	    (unsigned long long)(st.drop_auth - st0.drop_auth),
	    (unsigned long long)(st.drop_handshake - st0.drop_handshake),
	    (unsigned long long)(st.drop_other - st0.drop_other),
	    (unsigned long long)(st.drop_relay - st0.drop_relay));
	ck_assert_uint_ge(rx, GARBAGE_N * 9 / 10);
	ck_assert_uint_eq(dropped, rx);
	ck_assert_uint_eq(st.cookies_sent, st0.cookies_sent);
	ck_assert_uint_eq(st.handshakes_done, st0.handshakes_done);
	ck_assert_uint_eq(recv_pkt(s, buf, sizeof(buf), 100), 0);
	close(s);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "still fine");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "and back");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("device_load");
	TCase	*tc = tcase_create("loopback");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flood_cookies);
	tcase_add_test(tc, test_session_survives_flood);
	tcase_add_test(tc, test_handshake_under_flood);
	tcase_add_test(tc, test_garbage_at_scale);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
