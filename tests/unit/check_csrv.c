/*
 * The control server's session layer with a real event loop (in its own
 * thread) and real TCP clients on loopback: handshake and messages,
 * replayed handshakes, wrong keys, garbage, deadlines, the connection
 * bound, and a client that does not read.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-controld/csrv.h"
#include "lib/csess.h"

static struct event_base	*base;
static struct csrv		*srv;
static pthread_t		 loop;
static uint16_t			 port;
static uint8_t			 spriv[32], spub[32];
static _Atomic int		 nclosed;
static _Atomic int		 nhello;
static int			 stopfd[2];	/* wakes the loop to stop */
static struct event		*stop_ev;

static int
hello(struct csrv_conn *c, const uint8_t key[32], const uint8_t *p,
    size_t len, struct buf *reply, void *arg)
{
	atomic_fetch_add(&nhello, 1);
	return buf_put(reply, "welcome", 7);
}

static void
msg(struct csrv_conn *c, const uint8_t *p, size_t len, void *arg)
{
	static uint8_t	 big[60000];
	int		 i;

	if (len == 3 && memcmp(p, "bye", 3) == 0) {
		csrv_close(c);
		return;
	}
	if (len == 5 && memcmp(p, "flood", 5) == 0) {
		for (i = 0; i < 200; i++)
			if (csrv_send(c, big, sizeof(big)) == -1)
				return;
		return;
	}
	csrv_send(c, p, len);
}

static void
closed(struct csrv_conn *c, void *arg)
{
	atomic_fetch_add(&nclosed, 1);
}

/* libevent here has no thread support: stop from inside the loop. */
static void
stop_loop(evutil_socket_t fd, short ev, void *arg)
{
	event_base_loopbreak(base);
}

static void *
run_loop(void *arg)
{
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
setup(void)
{
	struct csrv_limits	 lim = { 4, 1024, 300, 2000, 1 << 20 };
	struct csrv_ops		 ops = { hello, msg, closed };
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 lfd;

	ck_assert_int_ge(sodium_init(), 0);
	randombytes_buf(spriv, sizeof(spriv));
	crypto_scalarmult_base(spub, spriv);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	base = event_base_new();
	srv = csrv_new(base, lfd, spriv, &lim, &ops, NULL);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, stopfd), 0);
	stop_ev = event_new(base, stopfd[0], EV_READ, stop_loop, NULL);
	event_add(stop_ev, NULL);
	atomic_store(&nclosed, 0);
	atomic_store(&nhello, 0);
	pthread_create(&loop, NULL, run_loop, NULL);
}

static void
teardown(void)
{
	ck_assert_int_eq(write(stopfd[1], "x", 1), 1);
	pthread_join(loop, NULL);
	event_free(stop_ev);
	close(stopfd[0]);
	close(stopfd[1]);
	csrv_free(srv);
	event_base_free(base);
}

static int
dial(void)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Read one frame body into out; its length, or -1 on EOF / timeout. */
static ssize_t
read_frame(int fd, uint8_t *out, size_t cap, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 hdr[2];
	size_t		 got = 0, want;
	ssize_t		 n;

	while (got < 2) {
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, hdr + got, 2 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	want = (size_t)hdr[0] << 8 | hdr[1];
	if (want > cap)
		return -1;
	for (got = 0; got < want; got += (size_t)n)
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, out + got, want - got)) <= 0)
			return -1;
	return (ssize_t)want;
}

/* The server hangs up: EOF (or reset) within ms, nothing else first. */
static int
closed_by_server(int fd, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 b[64];

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	return read(fd, b, sizeof(b)) <= 0;
}

struct client {
	int		 fd;
	struct csess	 cs;
	uint8_t		 msg1[512];
	size_t		 msg1len;
};

static int
client_handshake(struct client *cl, const uint8_t *server_pub)
{
	uint8_t		 cpriv[32], body[4096];
	struct buf	 out, pl;
	ssize_t		 n;
	int		 rc;

	randombytes_buf(cpriv, sizeof(cpriv));
	cl->fd = dial();
	ck_assert_int_eq(csess_init_initiator(&cl->cs, cpriv, server_pub), 0);
	buf_init_fixed(&out, cl->msg1, sizeof(cl->msg1));
	ck_assert_int_eq(csess_write_msg1(&cl->cs, &out, NULL, "hi", 2), 0);
	cl->msg1len = out.len;
	ck_assert_int_eq(write(cl->fd, cl->msg1, cl->msg1len),
	    (ssize_t)cl->msg1len);
	if ((n = read_frame(cl->fd, body, sizeof(body), 2000)) < 0)
		return -1;
	buf_init(&pl, 64, 4096);
	rc = csess_read_msg2(&cl->cs, body, (size_t)n, &pl);
	if (rc == 0)
		ck_assert(pl.len == 7 && memcmp(pl.data, "welcome", 7) == 0);
	buf_free(&pl);
	return rc;
}

static void
client_send(struct client *cl, const char *s)
{
	uint8_t		 mem[256];
	struct buf	 out;

	buf_init_fixed(&out, mem, sizeof(mem));
	ck_assert_int_eq(csess_seal(&cl->cs, &out, s, strlen(s)), 0);
	ck_assert_int_eq(write(cl->fd, out.data, out.len), (ssize_t)out.len);
}

START_TEST(test_echo)
{
	struct client	 cl;
	uint8_t		 body[4096];
	struct buf	 pt;
	ssize_t		 n;

	ck_assert_int_eq(client_handshake(&cl, spub), 0);
	client_send(&cl, "ping");
	n = read_frame(cl.fd, body, sizeof(body), 2000);
	ck_assert_int_gt(n, 0);
	buf_init(&pt, 64, 4096);
	ck_assert_int_eq(csess_open(&cl.cs, body, (size_t)n, &pt), 0);
	ck_assert(pt.len == 4 && memcmp(pt.data, "ping", 4) == 0);
	buf_free(&pt);
	client_send(&cl, "bye");
	ck_assert(closed_by_server(cl.fd, 2000));
	close(cl.fd);
	usleep(50000);
	ck_assert_int_eq(atomic_load(&nclosed), 1);
}
END_TEST

/* The same message 1 again, on a new connection: no answer. */
START_TEST(test_replay)
{
	struct client	 cl;
	int		 fd;

	ck_assert_int_eq(client_handshake(&cl, spub), 0);
	fd = dial();
	ck_assert_int_eq(write(fd, cl.msg1, cl.msg1len), (ssize_t)cl.msg1len);
	ck_assert(closed_by_server(fd, 2000));
	ck_assert_int_eq(atomic_load(&nhello), 1);
	close(fd);
	close(cl.fd);
}
END_TEST

START_TEST(test_wrong_key)
{
	struct client	 cl;
	uint8_t		 other[32];

	randombytes_buf(other, sizeof(other));
	ck_assert_int_eq(client_handshake(&cl, other), -1);
	ck_assert_int_eq(atomic_load(&nhello), 0);
	close(cl.fd);
}
END_TEST

START_TEST(test_garbage)
{
	uint8_t	 junk[300];
	int	 fd;

	fd = dial();		/* a first frame larger than allowed */
	ck_assert_int_eq(write(fd, "\xff\xff", 2), 2);
	ck_assert(closed_by_server(fd, 2000));
	close(fd);
	fd = dial();		/* a frame that is no message 1 */
	randombytes_buf(junk, sizeof(junk));
	junk[0] = 0;
	junk[1] = 200;
	ck_assert_int_eq(write(fd, junk, 202), 202);
	ck_assert(closed_by_server(fd, 2000));
	close(fd);
	ck_assert_int_eq(atomic_load(&nhello), 0);
}
END_TEST

START_TEST(test_deadline_and_bound)
{
	int	 fds[5], i;

	for (i = 0; i < 4; i++)
		fds[i] = dial();
	usleep(50000);
	fds[4] = dial();		/* the fifth: refused at once */
	ck_assert(closed_by_server(fds[4], 200));
	for (i = 0; i < 4; i++)		/* the others: at the deadline */
		ck_assert(closed_by_server(fds[i], 2000));
	for (i = 0; i < 5; i++)
		close(fds[i]);
}
END_TEST

/* A client that asks for much and reads nothing is dropped. */
START_TEST(test_slow_reader)
{
	struct client	 cl;
	int		 i;

	ck_assert_int_eq(client_handshake(&cl, spub), 0);
	client_send(&cl, "flood");
	for (i = 0; i < 40 && atomic_load(&nclosed) == 0; i++)
		usleep(50000);
	ck_assert_int_eq(atomic_load(&nclosed), 1);
	close(cl.fd);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("csrv");
	TCase	*tc = tcase_create("sessions");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_deadline_and_bound);
	tcase_add_test(tc, test_slow_reader);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
