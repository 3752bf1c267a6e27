/*
 * The side channel of the WireGuard socket: STUN answers (netcheck) and
 * disco (paths) arrive on the device's worker threads, which must never
 * wait on the event loop.  They copy each datagram into a bounded queue
 * and wake the loop through an eventfd; the loop hands them on.  A
 * flood fills the queue and the rest is dropped, counted.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "proto/disco.h"
#include "proto/stun.h"

#define SC_QUEUE	64
#define SC_MAXMSG	(STUN_MAXMSG > DISCO_MAXMSG ? STUN_MAXMSG : DISCO_MAXMSG)

struct sc_dgram {
	uint8_t			 buf[SC_MAXMSG];
	size_t			 len;
	struct sockaddr_storage	 src;
	socklen_t		 srclen;
};

static struct {
	struct wg_device	*dev;
	int			 efd;
	struct event		*ev;
	pthread_mutex_t		 lock;		/* guards the queue */
	struct sc_dgram		 q[SC_QUEUE];
	size_t			 nq;
	uint64_t		 dropped;
} SC = { .efd = -1 };

/* Data-path thread: keep what the loop wants, wake it. */
static void
sc_other(const uint8_t *p, size_t len, const struct sockaddr *sa,
    socklen_t salen, void *arg)
{
	uint64_t	 one = 1;
	bool		 queued = false;

	if (len > SC_MAXMSG || salen > sizeof(struct sockaddr_storage) ||
	    (!stun_is_stun(p, len) && !disco_is_disco(p, len)))
		return;
	pthread_mutex_lock(&SC.lock);
	if (SC.nq < SC_QUEUE) {
		memcpy(SC.q[SC.nq].buf, p, len);
		SC.q[SC.nq].len = len;
		memcpy(&SC.q[SC.nq].src, sa, salen);
		SC.q[SC.nq++].srclen = salen;
		queued = true;
	} else
		SC.dropped++;
	pthread_mutex_unlock(&SC.lock);
	if (queued && write(SC.efd, &one, sizeof(one)) == -1)
		return;		/* the counter is full: the loop is awake */
}

static void
sc_drain(evutil_socket_t fd, short ev, void *arg)
{
	static struct sc_dgram	 q[SC_QUEUE];
	uint64_t		 n;
	size_t			 i, nq;

	if (read(SC.efd, &n, sizeof(n)) == -1)
		return;
	pthread_mutex_lock(&SC.lock);
	nq = SC.nq;
	memcpy(q, SC.q, nq * sizeof(q[0]));
	SC.nq = 0;
	pthread_mutex_unlock(&SC.lock);
	for (i = 0; i < nq; i++) {
		if (stun_is_stun(q[i].buf, q[i].len))
			netcheck_input(q[i].buf, q[i].len);
		else
			paths_input(q[i].buf, q[i].len,
			    (struct sockaddr *)&q[i].src, q[i].srclen);
	}
}

int
sidechan_init(struct wg_device *dev)
{
	SC.dev = dev;
	pthread_mutex_init(&SC.lock, NULL);
	if ((SC.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	SC.ev = event_new(proc_base(), SC.efd, EV_READ | EV_PERSIST,
	    sc_drain, NULL);
	if (SC.ev == NULL || event_add(SC.ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	wg_device_set_other(dev, sc_other, NULL);
	return 0;
}

void
sidechan_free(void)
{
	if (SC.dev != NULL)
		wg_device_set_other(SC.dev, NULL, NULL);
	if (SC.ev != NULL)
		event_free(SC.ev);
	if (SC.efd != -1)
		close(SC.efd);
	pthread_mutex_destroy(&SC.lock);
	memset(&SC, 0, sizeof(SC));
	SC.efd = -1;
}

uint64_t
sidechan_dropped(void)
{
	uint64_t	 n;

	pthread_mutex_lock(&SC.lock);
	n = SC.dropped;
	pthread_mutex_unlock(&SC.lock);
	return n;
}
