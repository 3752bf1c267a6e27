/*
 * The timer thread: the WireGuard paper's timers, evaluated per peer from
 * the timestamps the packet path records.  It wakes every second, every
 * 100 ms while a handshake is in flight, and at once when a worker asks
 * for a handshake.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wg/device_int.h"

#define WG_TICK_IDLE_MS		1000
#define WG_TICK_BUSY_MS		100

enum wg_timer_act {
	WG_ACT_NONE = 0,
	WG_ACT_INITIATE = 0x01,		/* needs the write lock */
	WG_ACT_GIVE_UP = 0x02,		/* needs the write lock */
	WG_ACT_EXPIRE = 0x04,		/* needs the write lock */
	WG_ACT_KEEPALIVE = 0x08,
	WG_ACT_FLUSH = 0x10,
};

#define WG_ACT_EXCLUSIVE (WG_ACT_INITIATE | WG_ACT_GIVE_UP | WG_ACT_EXPIRE)

/*
 * "now" is read once per pass, and workers stamp events meanwhile: an
 * event later than now has not aged at all (unsigned now - since would
 * wrap, and a session made during the pass would expire at once).
 */
static bool
wg_elapsed(uint64_t now, uint64_t since, uint64_t span)
{
	return since != 0 && now >= since && now - since >= span;
}

/*
 * A session made within REKEY_TIMEOUT answers any request for one: the
 * request was raised while it was being made (data staged meanwhile, a
 * flush), and a new initiation now would only replace it.  Requests to
 * rekey come much later in a session's life.
 */
static bool
wg_session_fresh(const struct wg_peer *p, uint64_t now)
{
	const struct wg_keypair	*kp = p->kp_current;

	return kp != NULL && !wg_elapsed(now, kp->birth, WG_REKEY_TIMEOUT);
}

/*
 * Handshake timers: asked for, retransmit, give up.  "take" consumes the
 * request flag; the shared-lock pass only peeks.
 */
static int
wg_timer_handshake(struct wg_peer *p, uint64_t now, bool take)
{
	bool	 sent = p->noise.state == WG_HS_INITIATION_SENT;
	uint64_t start = atomic_load(&p->attempt_start);
	uint64_t last = atomic_load(&p->handshake_sent);

	if (sent && wg_elapsed(now, last, WG_REKEY_TIMEOUT + p->jitter)) {
		if (wg_elapsed(now, start, WG_REKEY_ATTEMPT_TIME))
			return WG_ACT_GIVE_UP;
		return WG_ACT_INITIATE;
	}
	if ((take ? atomic_exchange(&p->want_handshake, false) :
	    atomic_load(&p->want_handshake)) &&
	    (!sent || wg_elapsed(now, last, WG_REKEY_TIMEOUT)) &&
	    !wg_session_fresh(p, now))
		return WG_ACT_INITIATE;
	return WG_ACT_NONE;
}

/* Keepalive timers and the "no answer to our data" rule. */
static int
wg_timer_traffic(struct wg_peer *p, uint64_t now)
{
	uint64_t sent = atomic_load(&p->last_sent);
	uint64_t dsent = atomic_load(&p->last_data_sent);
	uint64_t recv = atomic_load(&p->last_recv);
	uint64_t drecv = atomic_load(&p->last_data_recv);
	int	 act = WG_ACT_NONE;

	if (drecv > sent && wg_elapsed(now, drecv, WG_KEEPALIVE_TIMEOUT))
		act |= WG_ACT_KEEPALIVE;
	if (p->keepalive != 0 && (sent == 0 ||
	    wg_elapsed(now, sent, (uint64_t)p->keepalive * WG_NSEC)))
		act |= WG_ACT_KEEPALIVE;
	if (dsent > recv && wg_elapsed(now, dsent, WG_KEEPALIVE_TIMEOUT +
	    WG_REKEY_TIMEOUT) && p->noise.state != WG_HS_INITIATION_SENT)
		act |= WG_ACT_INITIATE;
	if (wg_elapsed(now, atomic_load(&p->last_session),
	    3 * WG_REJECT_AFTER_TIME))
		act |= WG_ACT_EXPIRE;
	if (p->nstaged > 0)
		act |= WG_ACT_FLUSH;
	return act;
}

static void
wg_timer_shared(struct wg_device *dev, struct wg_peer *p, int act, int fd)
{
	if ((act & WG_ACT_FLUSH) && wg_peer_flush_staged(dev, p, fd) > 0)
		act &= ~WG_ACT_KEEPALIVE;
	if ((act & WG_ACT_KEEPALIVE) && wg_send_one(dev, p, fd, NULL, 0) == -1)
		atomic_store(&p->want_handshake, true);	/* no session */
}

static void
wg_timer_exclusive(struct wg_device *dev, struct wg_peer *p, int act, int fd)
{
	struct wg_staged	*s, *next;

	if (act & WG_ACT_EXPIRE) {
		pthread_mutex_lock(&p->lock);
		wg_keypair_retire(dev, p->kp_current);
		wg_keypair_retire(dev, p->kp_previous);
		wg_keypair_retire(dev, p->kp_next);
		p->kp_current = p->kp_previous = p->kp_next = NULL;
		pthread_mutex_unlock(&p->lock);
		atomic_store(&p->last_session, 0);
	}
	if (act & WG_ACT_GIVE_UP) {
		/* As the paper says: stop trying, drop what waited. */
		wg_index_del(dev, p->noise.local_index);
		wg_peer_noise_clear_handshake(&p->noise);
		atomic_store(&p->attempt_start, 0);
		atomic_store(&p->last_data_sent, 0);	/* until new data */
		pthread_mutex_lock(&p->lock);
		s = p->staged_head;
		p->staged_head = p->staged_tail = NULL;
		p->nstaged = 0;
		pthread_mutex_unlock(&p->lock);
		for (; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
		return;
	}
	if ((act & WG_ACT_INITIATE) &&
	    wg_handshake_initiate(dev, p, fd) == -1)
		log_debug("%s: initiate: %s", __func__, strerror(errno));
}

static int
wg_timer_actions(struct wg_peer *p, uint64_t now, bool take)
{
	return wg_timer_handshake(p, now, take) | wg_timer_traffic(p, now);
}

/*
 * One pass: keepalives and staged packets under the shared lock, then,
 * only when needed, handshakes and expiry under the exclusive one (the
 * actions are computed again there: peers may have changed meanwhile).
 * Returns whether a handshake is in flight somewhere.
 */
static bool
wg_timer_pass(struct wg_device *dev)
{
	struct wg_peer	*p;
	uint64_t	 now = wg_now();
	bool		 busy = false, excl = false;
	size_t		 i;
	int		 act;

	pthread_rwlock_rdlock(&dev->lock);
	for (i = 0; i < dev->npeers; i++) {
		p = dev->peers[i];
		act = wg_timer_actions(p, now, false);
		wg_timer_shared(dev, p, act, dev->workers[0].udp_fd);
		excl |= (act & WG_ACT_EXCLUSIVE) ||
		    atomic_load(&p->want_handshake);
		busy |= p->noise.state == WG_HS_INITIATION_SENT;
	}
	excl |= dev->grave != NULL;
	pthread_rwlock_unlock(&dev->lock);
	if (!excl)
		return busy;
	pthread_rwlock_wrlock(&dev->lock);
	for (i = 0; i < dev->npeers; i++) {
		p = dev->peers[i];
		act = wg_timer_actions(p, now, true);
		if (act & WG_ACT_EXCLUSIVE)
			wg_timer_exclusive(dev, p, act,
			    dev->workers[0].udp_fd);
		busy |= p->noise.state == WG_HS_INITIATION_SENT;
	}
	wg_grave_sweep(dev);
	pthread_rwlock_unlock(&dev->lock);
	return busy;
}

void *
wg_timer_main(void *arg)
{
	struct wg_device	*dev = arg;
	struct epoll_event	 ev, evs[2];
	uint64_t		 v;
	int			 ep, n, i, ms = WG_TICK_IDLE_MS;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return NULL;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = dev->timer_stopfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, dev->timer_stopfd, &ev);
	ev.data.fd = dev->timer_kickfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, dev->timer_kickfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 2, ms);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == dev->timer_stopfd)
				goto out;
			if (read(dev->timer_kickfd, &v, sizeof(v)) == -1 &&
			    errno != EAGAIN)
				log_debug("%s: kick: %s", __func__,
				    strerror(errno));
		}
		ms = wg_timer_pass(dev) ? WG_TICK_BUSY_MS : WG_TICK_IDLE_MS;
	}
out:
	close(ep);
	return NULL;
}
