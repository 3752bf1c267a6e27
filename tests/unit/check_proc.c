/* Unit tests for lib/proc.c: channels and signals in a real event loop. */
#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/msg.h"
#include "lib/proc.h"

#define T_MAXMSG	1024
#define T_WQMAX		8192

struct t_state {
	struct proc_chan	*pc;
	uint16_t		 types[64];
	int			 ndispatched;
	int			 stop_after;	/* loopexit after n frames */
	int			 echo;		/* send every frame back */
	int			 free_in_dispatch;
	int			 nclosed;
	int			 close_error;
	int			 timed_out;
};

static int		 sv[2];		/* sv[0]: proc_chan, sv[1]: peer */
static struct msgchan	 peer;
static struct t_state	 st;

static void
setup(void)
{
	memset(&st, 0, sizeof(st));
	st.close_error = -1;
	ck_assert_int_eq(proc_init(), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(msgchan_init(&peer, sv[1], T_MAXMSG, 1024 * 1024),
	    0);
}

static void
teardown(void)
{
	msgchan_clear(&peer);
	if (sv[1] != -1)
		close(sv[1]);
	proc_free();
}

static void
t_dispatch(struct proc_chan *pc, struct msg *m, void *arg)
{
	struct t_state	*s = arg;

	ck_assert_ptr_eq(pc, s->pc);
	if (s->ndispatched < 64)
		s->types[s->ndispatched] = m->hdr.type;
	s->ndispatched++;
	if (s->echo)
		ck_assert_int_eq(proc_chan_send(pc, m->hdr.type, 1,
		    m->hdr.id, -1, m->data, m->len), 0);
	if (s->free_in_dispatch) {
		proc_chan_free(pc);
		s->pc = NULL;
		proc_loopexit();
	}
	if (s->ndispatched == s->stop_after)
		proc_loopexit();
}

static void
t_close(struct proc_chan *pc, int error, void *arg)
{
	struct t_state	*s = arg;

	ck_assert_ptr_eq(pc, s->pc);
	s->nclosed++;
	s->close_error = error;
	proc_chan_free(pc);
	s->pc = NULL;
	proc_loopexit();
}

static void
t_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct t_state	*s = arg;

	s->timed_out = 1;
	proc_loopexit();
}

/* Run the loop, bounded by a watchdog. */
static void
run_loop(int ms)
{
	struct event	*ev;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	ck_assert_ptr_nonnull(ev = evtimer_new(proc_base(), t_timeout, &st));
	ck_assert_int_eq(evtimer_add(ev, &tv), 0);
	ck_assert_int_eq(proc_loop(), 0);
	event_free(ev);
}

static void
new_chan(size_t wqmax)
{
	st.pc = proc_chan_new(sv[0], T_MAXMSG, wqmax, t_dispatch, t_close,
	    &st);
	ck_assert_ptr_nonnull(st.pc);
}

static void
peer_send(uint16_t type, size_t len)
{
	static uint8_t	 pl[T_MAXMSG];

	ck_assert_int_eq(msgchan_compose(&peer, type, 1, type, 0, -1, pl,
	    len), 0);
	ck_assert_int_eq(msgchan_flush(&peer), 0);
}

START_TEST(dispatch_in_order)
{
	struct msg	 m;
	int		 i, r;

	new_chan(T_WQMAX);
	st.echo = 1;
	st.stop_after = 20;
	for (i = 0; i < 20; i++)
		peer_send(100 + i, i);
	run_loop(5000);
	ck_assert_int_eq(st.timed_out, 0);
	ck_assert_int_eq(st.ndispatched, 20);
	for (i = 0; i < 20; i++)
		ck_assert_uint_eq(st.types[i], 100 + i);

	/* The echoes went out through the write event. */
	st.stop_after = -1;
	run_loop(50);
	for (i = 0; i < 20; i++) {
		while ((r = msgchan_get(&peer, &m)) == 0)
			ck_assert_int_gt(msgchan_read(&peer), 0);
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(m.hdr.type, 100 + i);
		ck_assert_uint_eq(m.hdr.pid, getpid());
		ck_assert_uint_eq(m.len, i);
		msg_free(&m);
	}
	ck_assert_uint_eq(msgchan_queued(proc_chan_msgchan(st.pc)), 0);
	proc_chan_free(st.pc);
}
END_TEST

START_TEST(close_on_eof)
{
	new_chan(T_WQMAX);
	peer_send(1, 10);
	peer_send(2, 0);
	close(sv[1]);
	sv[1] = -1;
	run_loop(5000);
	ck_assert_int_eq(st.timed_out, 0);
	/* Every frame sent before the hangup is dispatched first. */
	ck_assert_int_eq(st.ndispatched, 2);
	ck_assert_int_eq(st.nclosed, 1);
	ck_assert_int_eq(st.close_error, 0);
	ck_assert_ptr_null(st.pc);
}
END_TEST

START_TEST(close_on_garbage)
{
	static const uint8_t	 junk[MSG_HDR_LEN] = { 0, 1, 1, 0x40 };

	new_chan(T_WQMAX);
	peer_send(1, 0);
	ck_assert_int_eq(write(sv[1], junk, sizeof(junk)), sizeof(junk));
	peer_send(2, 0);
	run_loop(5000);
	ck_assert_int_eq(st.timed_out, 0);
	ck_assert_int_eq(st.ndispatched, 1);
	ck_assert_int_eq(st.nclosed, 1);
	ck_assert_int_eq(st.close_error, EBADMSG);
}
END_TEST

/* Freeing the channel from its own dispatch stops it at once. */
START_TEST(free_in_dispatch)
{
	new_chan(T_WQMAX);
	st.free_in_dispatch = 1;
	peer_send(1, 5);
	peer_send(2, 5);
	peer_send(3, 5);
	run_loop(5000);
	ck_assert_int_eq(st.timed_out, 0);
	ck_assert_int_eq(st.ndispatched, 1);
	ck_assert_int_eq(st.nclosed, 0);
	run_loop(50);
	ck_assert_int_eq(st.ndispatched, 1);
}
END_TEST

static void
t_drain(evutil_socket_t fd, short ev, void *arg)
{
	uint8_t	 junk[4096];

	while (read(sv[1], junk, sizeof(junk)) > 0)
		;
}

/*
 * The peer does not read our replies: once more than half of wqmax is
 * queued, frames it sends us stay unread until the queue drains.
 */
START_TEST(backpressure)
{
	static uint8_t	 pl[T_MAXMSG];
	struct event	*drain;
	struct timeval	 tv = { 0, 10 * 1000 };
	int		 n;

	new_chan(T_WQMAX);
	/* Fill the socket so that nothing more leaves the queue. */
	while (write(sv[0], pl, sizeof(pl)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	for (n = 0; msgchan_queued(proc_chan_msgchan(st.pc)) <= T_WQMAX / 2;
	    n++)
		ck_assert_int_eq(proc_chan_send(st.pc, 9, 1, n, -1, pl,
		    sizeof(pl)), 0);
	peer_send(1, 1);
	peer_send(2, 1);
	peer_send(3, 1);
	st.stop_after = 3;
	run_loop(300);
	ck_assert_int_eq(st.timed_out, 1);
	ck_assert_int_eq(st.ndispatched, 0);
	ck_assert_uint_gt(msgchan_queued(proc_chan_msgchan(st.pc)),
	    T_WQMAX / 2);

	/* The peer starts reading: the queue drains, input resumes. */
	st.timed_out = 0;
	ck_assert_ptr_nonnull(drain = event_new(proc_base(), -1, EV_PERSIST,
	    t_drain, NULL));
	ck_assert_int_eq(event_add(drain, &tv), 0);
	run_loop(5000);
	event_free(drain);
	ck_assert_int_eq(st.timed_out, 0);
	ck_assert_int_eq(st.ndispatched, 3);
	ck_assert_uint_le(msgchan_queued(proc_chan_msgchan(st.pc)),
	    T_WQMAX / 2);
	ck_assert_uint_eq(st.types[0], 1);
	ck_assert_uint_eq(st.types[2], 3);
	proc_chan_free(st.pc);
}
END_TEST

START_TEST(send_bounds)
{
	static uint8_t	 pl[T_MAXMSG + 1];

	new_chan(T_WQMAX);
	ck_assert_int_eq(proc_chan_send(st.pc, 1, 1, 0, -1, pl, sizeof(pl)),
	    -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	proc_chan_free(st.pc);
	ck_assert_ptr_null(proc_chan_new(-1, T_MAXMSG, T_WQMAX, t_dispatch,
	    t_close, &st));
}
END_TEST

static int	 sig_raised;
static int	 sig_got;
static int	 sig_seen_raised;

static void
t_signal(int signo, void *arg)
{
	sig_got = signo;
	/* Ran from the loop, after raise() returned. */
	sig_seen_raised = sig_raised;
	proc_loopexit();
}

static void
t_raise(evutil_socket_t fd, short ev, void *arg)
{
	ck_assert_int_eq(raise(SIGUSR1), 0);
	sig_raised = 1;
}

START_TEST(signal_event)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 1000 };

	ck_assert_int_eq(proc_signal(SIGUSR1, t_signal, NULL), 0);
	ck_assert_ptr_nonnull(ev = evtimer_new(proc_base(), t_raise, NULL));
	ck_assert_int_eq(evtimer_add(ev, &tv), 0);
	run_loop(5000);
	event_free(ev);
	ck_assert_int_eq(st.timed_out, 0);
	ck_assert_int_eq(sig_got, SIGUSR1);
	ck_assert_int_eq(sig_seen_raised, 1);
}
END_TEST

START_TEST(init_twice)
{
	ck_assert_ptr_nonnull(proc_base());
	ck_assert_int_eq(proc_init(), -1);
	ck_assert_int_eq(errno, EALREADY);
}
END_TEST

static Suite *
proc_suite(void)
{
	Suite	*s = suite_create("proc");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dispatch_in_order);
	tcase_add_test(tc, close_on_eof);
	tcase_add_test(tc, close_on_garbage);
	tcase_add_test(tc, free_in_dispatch);
	tcase_add_test(tc, backpressure);
	tcase_add_test(tc, send_bounds);
	tcase_add_test(tc, signal_event);
	tcase_add_test(tc, init_twice);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(proc_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
