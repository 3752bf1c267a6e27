/*
 * libevent glue (after tmux's proc.c).  A channel may be freed by its own
 * callbacks: every handler holds a reference while it runs, and
 * proc_chan_free() inside a callback only marks the channel, the last
 * reference does the teardown.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"

struct proc_sig {
	struct proc_sig	*next;
	struct event	*ev;
	int		 signo;
	proc_signal_cb	 cb;
	void		*arg;
};

struct proc_chan {
	struct msgchan	 mc;
	struct event	*rev;		/* persistent; off while throttled */
	struct event	*wev;		/* armed while frames are queued */
	proc_dispatch_cb dispatch;
	proc_close_cb	 close;
	void		*arg;
	pid_t		 pid;		/* stamped on outgoing frames */
	int		 refs;		/* handlers running on this channel */
	int		 reading;	/* rev is added */
	int		 eof;		/* the peer finished sending */
	int		 closed;	/* close callback ran */
	int		 freed;		/* proc_chan_free() was called */
};

static struct event_base	*proc_evbase;
static struct proc_sig		*proc_sigs;

static void	 proc_signal_event(evutil_socket_t, short, void *);
static void	 proc_chan_hold(struct proc_chan *);
static void	 proc_chan_release(struct proc_chan *);
static void	 proc_chan_destroy(struct proc_chan *);
static void	 proc_chan_fail(struct proc_chan *, int);
static int	 proc_chan_throttle(struct proc_chan *);
static void	 proc_chan_input(struct proc_chan *);
static void	 proc_chan_read_event(evutil_socket_t, short, void *);
static void	 proc_chan_write_event(evutil_socket_t, short, void *);

int
proc_init(void)
{
	if (proc_evbase != NULL) {
		errno = EALREADY;
		return -1;
	}
	if ((proc_evbase = event_base_new()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

struct event_base *
proc_base(void)
{
	return proc_evbase;
}

static void
proc_signal_event(evutil_socket_t signo, short events, void *arg)
{
	struct proc_sig	*ps = arg;

	ps->cb(signo, ps->arg);
}

int
proc_signal(int signo, proc_signal_cb cb, void *arg)
{
	struct proc_sig	*ps;

	if (proc_evbase == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return -1;
	ps->signo = signo;
	ps->cb = cb;
	ps->arg = arg;
	ps->ev = evsignal_new(proc_evbase, signo, proc_signal_event, ps);
	if (ps->ev == NULL || evsignal_add(ps->ev, NULL) == -1) {
		if (ps->ev != NULL)
			event_free(ps->ev);
		free(ps);
		errno = EINVAL;
		return -1;
	}
	ps->next = proc_sigs;
	proc_sigs = ps;
	return 0;
}

int
proc_loop(void)
{
	if (event_base_dispatch(proc_evbase) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void
proc_loopexit(void)
{
	event_base_loopexit(proc_evbase, NULL);
}

void
proc_free(void)
{
	struct proc_sig	*ps;

	while ((ps = proc_sigs) != NULL) {
		proc_sigs = ps->next;
		event_free(ps->ev);
		free(ps);
	}
	if (proc_evbase != NULL)
		event_base_free(proc_evbase);
	proc_evbase = NULL;
}

struct proc_chan *
proc_chan_new(int fd, size_t maxmsg, size_t wqmax, proc_dispatch_cb dispatch,
    proc_close_cb closecb, void *arg)
{
	struct proc_chan	*pc;

	if (proc_evbase == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	if (msgchan_init(&pc->mc, fd, maxmsg, wqmax) == -1) {
		free(pc);
		return NULL;
	}
	pc->dispatch = dispatch;
	pc->close = closecb;
	pc->arg = arg;
	pc->pid = getpid();
	pc->rev = event_new(proc_evbase, fd, EV_READ | EV_PERSIST,
	    proc_chan_read_event, pc);
	pc->wev = event_new(proc_evbase, fd, EV_WRITE,
	    proc_chan_write_event, pc);
	if (pc->rev == NULL || pc->wev == NULL ||
	    event_add(pc->rev, NULL) == -1)
		goto fail;
	pc->reading = 1;
	return pc;
fail:
	if (pc->rev != NULL)
		event_free(pc->rev);
	if (pc->wev != NULL)
		event_free(pc->wev);
	msgchan_clear(&pc->mc);
	free(pc);
	errno = ENOMEM;
	return NULL;
}

struct msgchan *
proc_chan_msgchan(struct proc_chan *pc)
{
	return &pc->mc;
}

static void
proc_chan_hold(struct proc_chan *pc)
{
	pc->refs++;
}

static void
proc_chan_release(struct proc_chan *pc)
{
	if (--pc->refs == 0 && pc->freed)
		proc_chan_destroy(pc);
}

static void
proc_chan_destroy(struct proc_chan *pc)
{
	event_free(pc->rev);
	event_free(pc->wev);
	msgchan_clear(&pc->mc);
	close(pc->mc.fd);
	free(pc);
}

void
proc_chan_free(struct proc_chan *pc)
{
	if (pc == NULL)
		return;
	event_del(pc->rev);
	event_del(pc->wev);
	pc->reading = 0;
	pc->freed = 1;
	if (pc->refs == 0)
		proc_chan_destroy(pc);
}

/* Stop the channel and tell the owner, once. */
static void
proc_chan_fail(struct proc_chan *pc, int error)
{
	if (pc->closed || pc->freed)
		return;
	pc->closed = 1;
	event_del(pc->rev);
	event_del(pc->wev);
	pc->reading = 0;
	/* A peer that hung up is a departure, not a framing error. */
	if (error == EPIPE || error == ECONNRESET)
		error = 0;
	log_debug("%s: channel fd %d: %d", __func__, pc->mc.fd, error);
	pc->close(pc, error, pc->arg);
}

/*
 * Backpressure: stop taking input while our replies pile up.  1 when the
 * channel may read and dispatch, 0 when not, -1 when rev cannot be added.
 */
static int
proc_chan_throttle(struct proc_chan *pc)
{
	int	 full;

	if (pc->closed || pc->freed)
		return 0;
	full = msgchan_queued(&pc->mc) > pc->mc.wqmax / 2;
	if (full && pc->reading) {
		event_del(pc->rev);
		pc->reading = 0;
	} else if (!full && !pc->reading && !pc->eof) {
		if (event_add(pc->rev, NULL) == -1) {
			errno = ENOMEM;
			return -1;
		}
		pc->reading = 1;
	}
	return !full;
}

/* Dispatch the frames already read, as long as the channel lets us. */
static void
proc_chan_input(struct proc_chan *pc)
{
	struct msg	 m;
	int		 r;

	while ((r = proc_chan_throttle(pc)) != 0) {
		if (r == -1 || (r = msgchan_get(&pc->mc, &m)) == -1) {
			proc_chan_fail(pc, errno);
			return;
		}
		if (r == 0) {
			if (pc->eof)
				proc_chan_fail(pc, 0);
			return;
		}
		pc->dispatch(pc, &m, pc->arg);
		msg_free(&m);
	}
}

static void
proc_chan_read_event(evutil_socket_t fd, short events, void *arg)
{
	struct proc_chan	*pc = arg;
	ssize_t			 n;

	proc_chan_hold(pc);
	if ((n = msgchan_read(&pc->mc)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			proc_chan_fail(pc, errno);
		goto out;
	}
	if (n == 0) {
		pc->eof = 1;
		event_del(pc->rev);
		pc->reading = 0;
	}
	proc_chan_input(pc);
out:
	proc_chan_release(pc);
}

static void
proc_chan_write_event(evutil_socket_t fd, short events, void *arg)
{
	struct proc_chan	*pc = arg;
	int			 r;

	proc_chan_hold(pc);
	if ((r = msgchan_flush(&pc->mc)) == -1) {
		proc_chan_fail(pc, errno);
		goto out;
	}
	if (r == 1 && event_add(pc->wev, NULL) == -1) {
		proc_chan_fail(pc, ENOMEM);
		goto out;
	}
	/* The queue shrank: resume input held back by backpressure. */
	if (!pc->reading)
		proc_chan_input(pc);
out:
	proc_chan_release(pc);
}

int
proc_chan_send(struct proc_chan *pc, uint16_t type, uint8_t version,
    uint32_t id, int fd, const void *data, size_t len)
{
	if (pc->closed || pc->freed) {
		errno = EPIPE;
		return -1;
	}
	if (msgchan_compose(&pc->mc, type, version, id, pc->pid, fd, data,
	    len) == -1)
		return -1;
	if (event_add(pc->wev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* The queue only grew, so this can only stop reading. */
	(void)proc_chan_throttle(pc);
	return 0;
}
