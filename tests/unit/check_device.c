/*
 * The WireGuard device end to end in one process: two devices on
 * loopback UDP, each with datagram socketpairs standing in for its TUN
 * queues.  Packets written to A's "TUN" come out of B's, and back.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/wg/device.h"
#include "lib/wg/noise.h"
#include "lib/wg/uapi.h"

struct node {
	struct wg_device	*dev;
	int			 tun[2];	/* [0] device side, [1] ours */
	uint8_t			 priv[32];
	uint8_t			 pub[32];
};

static struct node	 a, b;

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
    bool endpoint, uint16_t keepalive)
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
	if (keepalive) {
		up.flags |= WG_UAPI_PEER_KEEPALIVE;
		up.keepalive = keepalive;
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
}

static void
teardown(void)
{
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

/* The "TUN" socketpair queues only a few datagrams: wait for room. */
static ssize_t
send_wait(int fd, const uint8_t *p, size_t len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	ssize_t		 n;
	int		 tries;

	for (tries = 0; tries < 100; tries++) {
		if ((n = send(fd, p, len, 0)) != -1 || errno != EAGAIN)
			return n;
		poll(&pfd, 1, 10);
	}
	return -1;
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

START_TEST(test_handshake_and_data)
{
	struct wg_device_stats	 st;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	node_config(&b, &a, "10.66.0.1/32", true, 0);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "hello b");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "hello a");
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "again");
	usleep(100000);		/* the sender counts after sendmmsg returns */
	wg_device_stats(a.dev, &st);
	ck_assert_uint_ge(st.handshakes_done, 1);
	ck_assert_msg(st.tx_packets >= 2, "tx %llu rx %llu hs %llu", (unsigned long long)st.tx_packets, (unsigned long long)st.rx_packets, (unsigned long long)st.handshakes_done);
}
END_TEST

/*
 * A burst of equal-sized packets to one peer leaves as UDP GSO runs (more
 * than one 64 KiB send's worth): every packet arrives, in order.
 */
START_TEST(test_burst_in_order)
{
	uint8_t		 pkt[2048], got[2048];
	char		 pl[1300];
	size_t		 len, n;
	int		 i;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	node_config(&b, &a, "10.66.0.1/32", true, 0);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "warm up");
	for (i = 0; i < 60; i++) {
		memset(pl, 'a' + i % 26, sizeof(pl) - 1);
		pl[sizeof(pl) - 1] = '\0';
		pl[0] = (char)('0' + i % 10);
		len = make_pkt(pkt, "10.66.0.1", "10.66.0.2", pl);
		ck_assert_int_eq(send_wait(a.tun[1], pkt, len), (ssize_t)len);
	}
	for (i = 0; i < 60; i++) {
		n = recv_pkt(b.tun[1], got, sizeof(got), 3000);
		ck_assert_msg(n == len, "packet %d: %zu bytes", i, n);
		ck_assert_int_eq(got[28], '0' + i % 10);
		ck_assert_int_eq(got[29], 'a' + i % 26);
	}
}
END_TEST

/* The responder learns the initiator's endpoint from the handshake. */
START_TEST(test_responder_without_endpoint)
{
	node_config(&a, &b, "10.66.0.2/32", true, 0);
	node_config(&b, &a, "10.66.0.1/32", false, 0);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "knock");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "roamed reply");
}
END_TEST

/* B must drop what A sends from a source outside A's allowed IPs. */
START_TEST(test_source_not_allowed)
{
	struct wg_device_stats	 st;
	uint8_t			 pkt[256], got[256];
	size_t			 len;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	node_config(&b, &a, "10.66.0.1/32", true, 0);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "legit");
	len = make_pkt(pkt, "10.66.0.99", "10.66.0.2", "spoofed");
	ck_assert_int_eq(send(a.tun[1], pkt, len, 0), (ssize_t)len);
	ck_assert_uint_eq(recv_pkt(b.tun[1], got, sizeof(got), 500), 0);
	wg_device_stats(b.dev, &st);
	ck_assert_uint_eq(st.drop_source, 1);
}
END_TEST

/* No peer for a destination: dropped and counted, nothing sent. */
START_TEST(test_no_route)
{
	struct wg_device_stats	 st;
	uint8_t			 pkt[256];
	size_t			 len;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	len = make_pkt(pkt, "10.66.0.1", "10.99.0.1", "nowhere");
	ck_assert_int_eq(send(a.tun[1], pkt, len, 0), (ssize_t)len);
	usleep(200000);
	wg_device_stats(a.dev, &st);
	ck_assert_uint_eq(st.drop_no_route, 1);
	ck_assert_uint_eq(st.tx_packets, 0);
}
END_TEST

/* Garbage at the UDP port is counted and changes nothing. */
START_TEST(test_garbage)
{
	struct wg_device_stats	 st;
	struct sockaddr_in	 sin;
	uint8_t			 junk[200];
	int			 s, i;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	node_config(&b, &a, "10.66.0.1/32", true, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(wg_device_port(b.dev));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < 100; i++) {
		randombytes_buf(junk, sizeof(junk));
		junk[0] = (uint8_t)(1 + i % 4);	/* look like each type */
		junk[1] = junk[2] = junk[3] = 0;
		sendto(s, junk, i % 2 ? 148 : 32 + (size_t)i, 0,
		    (struct sockaddr *)&sin, sizeof(sin));
	}
	close(s);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "still fine");
	wg_device_stats(b.dev, &st);
	ck_assert_uint_ge(st.drop_auth + st.drop_no_index + st.drop_malformed +
	    st.drop_handshake, 90);
}
END_TEST

/* GET reports the peer with its handshake time and counters. */
START_TEST(test_get)
{
	struct buf	 out;
	char		*text;

	/* B first: A's keepalive makes it initiate at once */
	node_config(&b, &a, "10.66.0.1/32", true, 0);
	node_config(&a, &b, "10.66.0.2/32", true, 25);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "count me");
	ck_assert_int_eq(buf_init(&out, 1024, 65536), 0);
	ck_assert_int_eq(wg_device_get(a.dev, &out), 0);
	ck_assert_int_eq(buf_put_u8(&out, 0), 0);
	text = (char *)out.data;
	ck_assert_ptr_nonnull(strstr(text, "allowed_ip=10.66.0.2/32\n"));
	ck_assert_ptr_nonnull(strstr(text, "persistent_keepalive_interval=25"));
	ck_assert_ptr_null(strstr(text, "last_handshake_time_sec=0\n"));
	ck_assert_ptr_null(strstr(text, "tx_bytes=0\n"));
	ck_assert_ptr_nonnull(strstr(text, "errno=0\n\n"));
	sodium_memzero(out.data, out.len);
	buf_free(&out);
}
END_TEST

/* Removing the peer drops its route; a private key change resets. */
START_TEST(test_remove_peer)
{
	struct wg_uapi_set	 set;
	struct wg_uapi_peer	 up;
	struct wg_device_stats	 st;
	uint8_t			 pkt[256];
	size_t			 len;

	node_config(&a, &b, "10.66.0.2/32", true, 0);
	memset(&set, 0, sizeof(set));
	memset(&up, 0, sizeof(up));
	memcpy(up.public_key, b.pub, 32);
	up.flags = WG_UAPI_PEER_REMOVE;
	set.peers = &up;
	set.npeers = 1;
	ck_assert_int_eq(wg_device_apply(a.dev, &set), 0);
	len = make_pkt(pkt, "10.66.0.1", "10.66.0.2", "gone");
	ck_assert_int_eq(send(a.tun[1], pkt, len, 0), (ssize_t)len);
	usleep(200000);
	wg_device_stats(a.dev, &st);
	ck_assert_uint_eq(st.drop_no_route, 1);
}
END_TEST

/*
 * A man in the middle on loopback: A's endpoint for B is socket fa, B's
 * for A is fb; what reaches one goes out of the other to the other node.
 * hold: the first datagram of each side waits until both are there, so
 * that two initiations cross for sure.  relay: it behaves as a relay
 * (SEND in, RECV out, proto/relay.md), and the nodes know it as one.
 */
struct mitm {
	int		 fa, fb;
	uint16_t	 pa, pb;	/* the ports of fa, fb */
	bool		 hold, relay;
	_Atomic bool	 stop;
	pthread_t	 t;
};

static int
udp_loopback(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
mitm_send(int fd, uint8_t *p, size_t len, const struct node *to,
    const struct node *from, bool relay)
{
	struct sockaddr_in	 sin;

	if (relay) {
		if (len <= 9 || p[0] != 0xe3 || memcmp(p + 1, to->pub, 8) != 0)
			return;		/* not a SEND to the other node */
		p[0] = 0xe4;
		memcpy(p + 1, from->pub, 8);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(wg_device_port(to->dev));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)sendto(fd, p, len, 0, (struct sockaddr *)&sin, sizeof(sin));
}

static void *
mitm_main(void *arg)
{
	struct mitm	*m = arg;
	struct pollfd	 pfd[2] = { { m->fa, POLLIN, 0 }, { m->fb, POLLIN, 0 } };
	uint8_t		 buf[2048], held[2][2048];
	size_t		 hlen[2] = { 0, 0 };
	ssize_t		 n;
	int		 i;

	while (!atomic_load(&m->stop)) {
		if (poll(pfd, 2, 20) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (!(pfd[i].revents & POLLIN) ||
			    (n = recv(pfd[i].fd, buf, sizeof(buf), 0)) <= 0)
				continue;
			if (m->hold && hlen[i] == 0) {
				memcpy(held[i], buf, (size_t)n);
				hlen[i] = (size_t)n;
			} else if (i == 0)
				mitm_send(m->fb, buf, (size_t)n, &b, &a, m->relay);
			else
				mitm_send(m->fa, buf, (size_t)n, &a, &b, m->relay);
		}
		if (m->hold && hlen[0] != 0 && hlen[1] != 0) {
			m->hold = false;	/* both initiations: let them cross */
			mitm_send(m->fb, held[0], hlen[0], &b, &a, m->relay);
			mitm_send(m->fa, held[1], hlen[1], &a, &b, m->relay);
		}
	}
	return NULL;
}

/* n's peer is `peer`, reached at 127.0.0.1:port (relayed or not). */
static void
node_via(struct node *n, const struct node *peer, const char *aip,
    uint16_t port, bool relayed)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(struct sockaddr_in);
	struct wg_uapi_set	 set;
	struct wg_uapi_peer	 up;
	struct prefix		 pfx;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&up.endpoint;

	memset(&set, 0, sizeof(set));
	memset(&up, 0, sizeof(up));
	ck_assert_int_eq(prefix_parse(aip, &pfx), 0);
	set.flags = WG_UAPI_SET_PRIVATE_KEY;
	memcpy(set.private_key, n->priv, 32);
	memcpy(up.public_key, peer->pub, 32);
	up.aips = &pfx;
	up.naips = 1;
	up.flags = WG_UAPI_PEER_ENDPOINT | (relayed ? WG_UAPI_PEER_RELAYED : 0);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up.endpoint_len = sizeof(*sin);
	set.peers = &up;
	set.npeers = 1;
	ck_assert_int_eq(wg_device_apply(n->dev, &set), 0);
	if (relayed) {
		memcpy(&ss, sin, sizeof(*sin));
		ck_assert_int_eq(wg_device_set_relays(n->dev, &ss, &len, 1), 0);
	}
}

static void
mitm_start(struct mitm *m, bool hold, bool relay)
{
	memset(m, 0, sizeof(*m));
	m->fa = udp_loopback(&m->pa);
	m->fb = udp_loopback(&m->pb);
	m->hold = hold;
	m->relay = relay;
	node_via(&a, &b, "10.66.0.2/32", m->pa, relay);
	node_via(&b, &a, "10.66.0.1/32", m->pb, relay);
	ck_assert_int_eq(pthread_create(&m->t, NULL, mitm_main, m), 0);
}

static void
mitm_stop(struct mitm *m)
{
	atomic_store(&m->stop, true);
	pthread_join(m->t, NULL);
	close(m->fa);
	close(m->fb);
}

/*
 * Both nodes send at once, and their initiations cross: each answers
 * the other's and still takes the answer to its own, so the packets
 * get through at once, not after the 5 s retry (expect_through waits
 * 3 s).
 */
START_TEST(test_crossing_initiations)
{
	struct wg_device_stats	 sa, sb;
	struct mitm		 m;
	uint8_t			 pa[256], pb[256], got[256];
	size_t			 la, lb;

	mitm_start(&m, true, false);
	la = make_pkt(pa, "10.66.0.1", "10.66.0.2", "from a");
	lb = make_pkt(pb, "10.66.0.2", "10.66.0.1", "from b");
	ck_assert_int_eq(send(a.tun[1], pa, la, 0), (ssize_t)la);
	ck_assert_int_eq(send(b.tun[1], pb, lb, 0), (ssize_t)lb);
	ck_assert_uint_eq(recv_pkt(b.tun[1], got, sizeof(got), 3000), la);
	ck_assert_mem_eq(got, pa, la);
	ck_assert_uint_eq(recv_pkt(a.tun[1], got, sizeof(got), 3000), lb);
	ck_assert_mem_eq(got, pb, lb);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "and on");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "both ways");
	wg_device_stats(a.dev, &sa);
	wg_device_stats(b.dev, &sb);
	/* each: one as responder, one as initiator */
	ck_assert_uint_eq(sa.handshakes_done, 2);
	ck_assert_uint_eq(sb.handshakes_done, 2);
	mitm_stop(&m);
}
END_TEST

/*
 * Through a relay: SEND frames out, RECV frames in, and only from the
 * relay; the endpoints stay relayed as they roam.
 */
START_TEST(test_relayed)
{
	struct wg_uapi_peer_info pi;
	struct wg_device_stats	 st0, st;
	struct sockaddr_in	 sin;
	struct mitm		 m;
	uint8_t			 frame[64];
	uint16_t		 port;
	int			 fd;

	mitm_start(&m, false, true);
	expect_through(&a, &b, "10.66.0.1", "10.66.0.2", "relayed a");
	expect_through(&b, &a, "10.66.0.2", "10.66.0.1", "relayed b");
	ck_assert_int_eq(wg_device_peer(a.dev, b.pub, &pi), 0);
	free((void *)pi.aips);
	ck_assert(pi.relayed);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&pi.endpoint)->sin_port),
	    m.pa);
	/* a RECV from anyone else is dropped */
	wg_device_stats(a.dev, &st0);
	fd = udp_loopback(&port);
	memset(frame, 0, sizeof(frame));
	frame[0] = 0xe4;
	frame[9] = 4;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(wg_device_port(a.dev));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(fd, frame, sizeof(frame), 0,
	    (struct sockaddr *)&sin, sizeof(sin)), (ssize_t)sizeof(frame));
	usleep(100000);
	wg_device_stats(a.dev, &st);
	ck_assert_uint_eq(st.drop_relay, st0.drop_relay + 1);
	close(fd);
	mitm_stop(&m);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("device");
	TCase	*tc = tcase_create("loopback");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_and_data);
	tcase_add_test(tc, test_burst_in_order);
	tcase_add_test(tc, test_responder_without_endpoint);
	tcase_add_test(tc, test_source_not_allowed);
	tcase_add_test(tc, test_no_route);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_remove_peer);
	tcase_add_test(tc, test_crossing_initiations);
	tcase_add_test(tc, test_relayed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
