/*
 * The WireGuard device: lifecycle, UDP sockets, configuration through
 * UAPI sets and gets, the peer list and the index table.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wg/device_int.h"

uint64_t
wg_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC + (uint64_t)ts.tv_nsec;
}

/* Dual-stack when the host has IPv6, plain IPv4 otherwise. */
static int
wg_udp_open(uint16_t port, int *afp)
{
	struct sockaddr_in6	 s6;
	struct sockaddr_in	 s4;
	int			 fd, on = 1, off = 0, bufsz = 4 << 20;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(port);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 && (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
	    sizeof(off)) == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT,
	    &on, sizeof(on)) == -1 || bind(fd, (struct sockaddr *)&s6,
	    sizeof(s6)) == -1)) {
		if (errno == EADDRINUSE) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = -1;
	}
	if (fd != -1) {
		*afp = AF_INET6;
		goto tune;
	}
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4)) == -1) {
		close(fd);
		return -1;
	}
	*afp = AF_INET;
tune:
	/* Runs of datagrams from one sender arrive joined: see packet.c. */
	setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	/* Bursts of a fast peer must not overflow a default-sized queue. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return fd;
}

/* Kernels since 4.18 take UDP_SEGMENT; a send that fails turns it off. */
static bool
wg_udp_gso_probe(int fd)
{
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

static bool
wg_udp_gro_on(int fd)
{
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	return getsockopt(fd, SOL_UDP, UDP_GRO, &v, &len) == 0 && v != 0;
}

static uint16_t
wg_udp_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
wg_workers_close(struct wg_device *dev)
{
	size_t	 i;

	for (i = 0; i < dev->nworkers; i++) {
		if (dev->workers[i].udp_fd != -1)
			close(dev->workers[i].udp_fd);
		dev->workers[i].udp_fd = -1;
	}
}

/* One socket per worker, all on the same port. */
static int
wg_workers_bind(struct wg_device *dev, uint16_t port)
{
	size_t	 i;
	int	 fd, af;

	for (i = 0; i < dev->nworkers; i++) {
		if ((fd = wg_udp_open(port, &af)) == -1) {
			wg_workers_close(dev);
			return -1;
		}
		dev->workers[i].udp_fd = fd;
		if (i == 0) {
			port = wg_udp_port(fd);
			dev->af = af;
		}
	}
	dev->port = port;
	return 0;
}

static int
wg_worker_poll_init(struct wg_worker *w)
{
	struct epoll_event	 ev;

	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = w->stopfd;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev);
}

/* (Re)register the worker's UDP socket and TUN queue with its epoll. */
int	wg_worker_watch(struct wg_worker *);
int
wg_worker_watch(struct wg_worker *w)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = w->tun_fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tun_fd, &ev) == -1 &&
	    errno != EEXIST)
		return -1;
	ev.data.fd = w->udp_fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->udp_fd, &ev) == -1 &&
	    errno != EEXIST)
		return -1;
	return 0;
}

static int
wg_device_init_locks(struct wg_device *dev)
{
	pthread_rwlockattr_t	 attr;

	if (pthread_rwlockattr_init(&attr) != 0)
		return -1;
	/* Packets never stop flowing: a reader preference would starve wg. */
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (pthread_rwlock_init(&dev->lock, &attr) != 0) {
		pthread_rwlockattr_destroy(&attr);
		return -1;
	}
	pthread_rwlockattr_destroy(&attr);
	return pthread_mutex_init(&dev->grave_lock, NULL) == 0 ? 0 : -1;
}

struct wg_device *
wg_device_new(const struct wg_device_params *p)
{
	struct wg_device	*dev;
	size_t			 i;

	if (p->ntun == 0 || p->ntun > WG_DEVICE_MAX_THREADS || p->mtu < 576 ||
	    p->mtu > WG_SLOT_SIZE - WG_DATA_MIN_LEN - 64) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() == -1 || (dev = calloc(1, sizeof(*dev))) == NULL)
		return NULL;
	dev->index = calloc(WG_INDEX_BUCKETS, sizeof(*dev->index));
	dev->peers = calloc(WG_DEVICE_MAX_PEERS, sizeof(*dev->peers));
	if (dev->index == NULL || dev->peers == NULL ||
	    wg_device_init_locks(dev) == -1)
		goto fail;
	dev->mtu = p->mtu;
	dev->vnet_hdr = p->vnet_hdr;
	dev->nworkers = p->ntun;
	dev->timer_stopfd = -1;
	dev->timer_kickfd = -1;
	dev->dead_fd = -1;
	wg_allowedips_init(&dev->aips);
	for (i = 0; i < dev->nworkers; i++) {
		dev->workers[i].dev = dev;
		dev->workers[i].tun_fd = -1;
		dev->workers[i].udp_fd = -1;
		dev->workers[i].epfd = -1;
		dev->workers[i].stopfd = -1;
		if (wg_worker_poll_init(&dev->workers[i]) == -1)
			goto fail;
	}
	if (wg_workers_bind(dev, p->listen_port) == -1)
		goto fail;
	atomic_store(&dev->udp_gso, wg_udp_gso_probe(dev->workers[0].udp_fd));
	dev->udp_gro = wg_udp_gro_on(dev->workers[0].udp_fd);
	for (i = 0; i < dev->nworkers; i++)
		dev->workers[i].tun_fd = p->tun_fds[i];
	if ((dev->timer_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (dev->timer_kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (dev->dead_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		goto fail;
	return dev;
fail:
	for (i = 0; i < dev->nworkers; i++)
		dev->workers[i].tun_fd = -1;	/* not taken on failure */
	wg_device_free(dev);
	return NULL;
}

int
wg_device_start(struct wg_device *dev)
{
	size_t	 i;

	for (i = 0; i < dev->nworkers; i++) {
		if (wg_worker_watch(&dev->workers[i]) == -1)
			return -1;
		if ((errno = pthread_create(&dev->workers[i].thread, NULL,
		    wg_worker_main, &dev->workers[i])) != 0)
			return -1;
		dev->workers[i].started = true;
	}
	if ((errno = pthread_create(&dev->timer, NULL, wg_timer_main,
	    dev)) != 0)
		return -1;
	dev->timer_started = true;
	return 0;
}

static void
wg_stop_thread(pthread_t t, int stopfd)
{
	uint64_t	 one = 1;

	if (write(stopfd, &one, sizeof(one)) != sizeof(one))
		log_debug("%s: eventfd write failed", __func__);
	pthread_join(t, NULL);
}

static void wg_peer_free(struct wg_device *, struct wg_peer *);

void
wg_device_free(struct wg_device *dev)
{
	size_t			 i;
	struct wg_worker	*w;

	if (dev == NULL)
		return;
	for (i = 0; i < dev->nworkers; i++) {
		w = &dev->workers[i];
		if (w->started)
			wg_stop_thread(w->thread, w->stopfd);
		if (w->tun_fd != -1)
			close(w->tun_fd);
		if (w->epfd != -1)
			close(w->epfd);
		if (w->stopfd != -1)
			close(w->stopfd);
	}
	if (dev->timer_started)
		wg_stop_thread(dev->timer, dev->timer_stopfd);
	if (dev->timer_stopfd != -1)
		close(dev->timer_stopfd);
	if (dev->timer_kickfd != -1)
		close(dev->timer_kickfd);
	if (dev->dead_fd != -1)
		close(dev->dead_fd);
	wg_workers_close(dev);
	if (dev->peers != NULL)
		for (i = 0; i < dev->npeers; i++)
			wg_peer_free(dev, dev->peers[i]);
	wg_grave_sweep(dev);
	wg_allowedips_free(&dev->aips);
	wg_local_wipe(&dev->local);
	free(dev->index);
	free(dev->peers);
	free(dev);
}

uint16_t
wg_device_port(struct wg_device *dev)
{
	return dev->port;
}

int
wg_device_dead_fd(struct wg_device *dev)
{
	return dev->dead_fd;
}

void
wg_device_set_other(struct wg_device *dev, wg_other_cb cb, void *arg)
{
	pthread_rwlock_wrlock(&dev->lock);
	dev->other_cb = cb;
	dev->other_arg = arg;
	pthread_rwlock_unlock(&dev->lock);
}

int
wg_device_set_lan(struct wg_device *dev, const struct wg_lan_hooks *h)
{
	if (h != NULL && (h->nbcast > WG_LAN_MAX_BCAST || h->carry == NULL ||
	    h->deliver == NULL)) {
		errno = EINVAL;
		return -1;
	}
	pthread_rwlock_wrlock(&dev->lock);
	if (h != NULL)
		dev->lan = *h;
	else
		memset(&dev->lan, 0, sizeof(dev->lan));
	dev->lan_on = h != NULL;
	pthread_rwlock_unlock(&dev->lock);
	return 0;
}

static socklen_t wg_sockaddr_native(const struct wg_device *,
		    const struct sockaddr_storage *, socklen_t,
		    struct sockaddr_storage *);

int
wg_device_set_relays(struct wg_device *dev,
    const struct sockaddr_storage *ss, const socklen_t *len, size_t n)
{
	size_t	 i;

	if (n > WG_DEVICE_MAX_RELAYS) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (len[i] > sizeof(ss[i])) {
			errno = EINVAL;
			return -1;
		}
	pthread_rwlock_wrlock(&dev->lock);
	for (i = 0; i < n; i++)
		dev->relay_len[i] = wg_sockaddr_native(dev, &ss[i], len[i],
		    &dev->relays[i]);
	dev->nrelays = n;
	pthread_rwlock_unlock(&dev->lock);
	return 0;
}

int
wg_device_send_other(struct wg_device *dev, const void *p, size_t len,
    const struct sockaddr *sa, socklen_t salen)
{
	struct sockaddr_storage	 in, out;
	socklen_t		 outlen;

	if (salen > sizeof(in)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&in, sa, salen);
	outlen = wg_sockaddr_native(dev, &in, salen, &out);
	return sendto(dev->workers[0].udp_fd, p, len, 0,
	    (struct sockaddr *)&out, outlen) == -1 ? -1 : 0;
}

#define WG_STAT_COPY(f)	out->f = atomic_load(&dev->st.f)
void
wg_device_stats(struct wg_device *dev, struct wg_device_stats *out)
{
	WG_STAT_COPY(rx_packets);
	WG_STAT_COPY(tx_packets);
	WG_STAT_COPY(drop_malformed);
	WG_STAT_COPY(drop_no_index);
	WG_STAT_COPY(drop_auth);
	WG_STAT_COPY(drop_replay);
	WG_STAT_COPY(drop_expired);
	WG_STAT_COPY(drop_source);
	WG_STAT_COPY(drop_no_route);
	WG_STAT_COPY(drop_no_endpoint);
	WG_STAT_COPY(drop_staged);
	WG_STAT_COPY(drop_handshake);
	WG_STAT_COPY(drop_other);
	WG_STAT_COPY(drop_relay);
	WG_STAT_COPY(lan_copies);
	WG_STAT_COPY(cookies_sent);
	WG_STAT_COPY(handshakes_done);
}

/* Index table: chained buckets, random non-zero indices. */

struct wg_index_ent *
wg_index_get(struct wg_device *dev, uint32_t index)
{
	struct wg_index_ent	*e;

	for (e = dev->index[index & (WG_INDEX_BUCKETS - 1)]; e != NULL;
	    e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

uint32_t
wg_index_add(struct wg_device *dev, struct wg_peer *peer,
    struct wg_keypair *kp)
{
	struct wg_index_ent	*e;
	uint32_t		 index;

	if (dev->nindex >= WG_INDEX_MAX || (e = malloc(sizeof(*e))) == NULL)
		return 0;
	do {
		randombytes_buf(&index, sizeof(index));
	} while (index == 0 || wg_index_get(dev, index) != NULL);
	e->index = index;
	e->peer = peer;
	e->kp = kp;
	e->next = dev->index[index & (WG_INDEX_BUCKETS - 1)];
	dev->index[index & (WG_INDEX_BUCKETS - 1)] = e;
	dev->nindex++;
	return index;
}

void
wg_index_del(struct wg_device *dev, uint32_t index)
{
	struct wg_index_ent	**ep, *e;

	for (ep = &dev->index[index & (WG_INDEX_BUCKETS - 1)];
	    (e = *ep) != NULL; ep = &e->next) {
		if (e->index == index) {
			*ep = e->next;
			free(e);
			dev->nindex--;
			return;
		}
	}
}

/*
 * A keypair leaves its slot: under the shared lock a worker may still be
 * using it, so it is freed at the next exclusive section.
 */
void
wg_keypair_retire(struct wg_device *dev, struct wg_keypair *kp)
{
	struct wg_grave	*g;

	if (kp == NULL)
		return;
	atomic_store(&kp->valid, false);
	if ((g = malloc(sizeof(*g))) == NULL) {
		/* Leak rather than free under a reader. */
		log_debug("%s: out of memory", __func__);
		return;
	}
	g->kp = kp;
	pthread_mutex_lock(&dev->grave_lock);
	g->next = dev->grave;
	dev->grave = g;
	pthread_mutex_unlock(&dev->grave_lock);
}

/* With the write lock held (or at teardown): no reader holds a keypair. */
void
wg_grave_sweep(struct wg_device *dev)
{
	struct wg_grave	*g, *next;

	pthread_mutex_lock(&dev->grave_lock);
	g = dev->grave;
	dev->grave = NULL;
	pthread_mutex_unlock(&dev->grave_lock);
	for (; g != NULL; g = next) {
		next = g->next;
		wg_index_del(dev, g->kp->local_index);
		wg_keypair_wipe(g->kp);
		free(g->kp);
		free(g);
	}
}

/* Peers. */

struct wg_peer *
wg_peer_by_key(struct wg_device *dev, const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < dev->npeers; i++)
		if (sodium_memcmp(dev->peers[i]->public_key, key,
		    WG_KEY_LEN) == 0)
			return dev->peers[i];
	return NULL;
}

static void
wg_peer_drop_staged(struct wg_peer *p)
{
	struct wg_staged	*s, *next;

	for (s = p->staged_head; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	p->staged_head = p->staged_tail = NULL;
	p->nstaged = 0;
}

/* Forget every session and handshake of p (write lock held). */
static void
wg_peer_reset_sessions(struct wg_device *dev, struct wg_peer *p)
{
	pthread_mutex_lock(&p->lock);
	wg_keypair_retire(dev, p->kp_current);
	wg_keypair_retire(dev, p->kp_previous);
	wg_keypair_retire(dev, p->kp_next);
	p->kp_current = p->kp_previous = p->kp_next = NULL;
	pthread_mutex_unlock(&p->lock);
	wg_index_del(dev, p->noise.local_index);
	wg_peer_noise_clear_handshake(&p->noise);
	atomic_store(&p->attempt_start, 0);
}

static void
wg_peer_free(struct wg_device *dev, struct wg_peer *p)
{
	wg_peer_reset_sessions(dev, p);
	wg_grave_sweep(dev);
	wg_allowedips_remove_peer(&dev->aips, p);
	wg_peer_drop_staged(p);
	wg_peer_noise_wipe(&p->noise);
	sodium_memzero(p->psk, sizeof(p->psk));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static struct wg_peer *
wg_peer_new(struct wg_device *dev, const uint8_t *key)
{
	struct wg_peer	*p;

	if (dev->npeers == WG_DEVICE_MAX_PEERS) {
		errno = ENOSPC;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	memcpy(p->public_key, key, WG_KEY_LEN);
	pthread_mutex_init(&p->lock, NULL);
	/* A zero shared secret is refused at handshake time, not here. */
	wg_peer_noise_init(&p->noise, &dev->local, key, NULL);
	dev->peers[dev->npeers++] = p;
	return p;
}

static void
wg_peer_remove(struct wg_device *dev, struct wg_peer *p)
{
	size_t	 i;

	for (i = 0; i < dev->npeers; i++) {
		if (dev->peers[i] == p) {
			dev->peers[i] = dev->peers[--dev->npeers];
			break;
		}
	}
	wg_peer_free(dev, p);
}

/* Configuration. */

/* Let the timer thread look at the peers now, not at its next tick. */
static void
wg_device_kick(struct wg_device *dev)
{
	uint64_t	 one = 1;

	if (write(dev->timer_kickfd, &one, sizeof(one)) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
}

static bool
wg_key_is_zero(const uint8_t *k)
{
	return sodium_is_zero(k, WG_KEY_LEN);
}

/* What can be refused is refused before anything changes. */
static int
wg_apply_check(struct wg_device *dev, const struct wg_uapi_set *set)
{
	size_t	 i, adds = 0, aips = 0;

	for (i = 0; i < set->npeers; i++) {
		if (wg_key_is_zero(set->peers[i].public_key))
			return EINVAL;
		if (!(set->peers[i].flags & (WG_UAPI_PEER_REMOVE |
		    WG_UAPI_PEER_UPDATE_ONLY)) &&
		    wg_peer_by_key(dev, set->peers[i].public_key) == NULL)
			adds++;
		aips += set->peers[i].naips;
	}
	if (!(set->flags & WG_UAPI_SET_REPLACE_PEERS) &&
	    dev->npeers + adds > WG_DEVICE_MAX_PEERS)
		return ENOSPC;
	if (adds > WG_DEVICE_MAX_PEERS ||
	    aips > WG_ALLOWEDIPS_MAX - (set->flags & WG_UAPI_SET_REPLACE_PEERS ? 0 :
	    wg_allowedips_count(&dev->aips)))
		return ENOSPC;
	return 0;
}

static int
wg_apply_port(struct wg_device *dev, uint16_t port)
{
	struct wg_worker	*w;
	int			 fds[WG_DEVICE_MAX_THREADS], af = AF_INET;
	size_t			 i, j;

	if (port != 0 && port == dev->port)
		return 0;
	for (i = 0; i < dev->nworkers; i++) {
		if ((fds[i] = wg_udp_open(port, &af)) == -1) {
			for (j = 0; j < i; j++)
				close(fds[j]);
			return errno;
		}
		if (i == 0)
			port = wg_udp_port(fds[0]);
	}
	for (i = 0; i < dev->nworkers; i++) {
		w = &dev->workers[i];
		close(w->udp_fd);	/* also leaves the epoll set */
		w->udp_fd = fds[i];
		if (w->started)
			wg_worker_watch(w);
	}
	dev->port = port;
	dev->af = af;
	return 0;
}

static int
wg_apply_private_key(struct wg_device *dev, const uint8_t *key)
{
	size_t	 i;

	if (wg_local_set_key(&dev->local, wg_key_is_zero(key) ? NULL :
	    key) == -1)
		return errno;
	/* Every session was made with the old identity. */
	for (i = 0; i < dev->npeers; i++) {
		wg_peer_reset_sessions(dev, dev->peers[i]);
		wg_peer_noise_set_local(&dev->peers[i]->noise, &dev->local);
	}
	return 0;
}

static int
wg_apply_fwmark(struct wg_device *dev, uint32_t mark)
{
	size_t	 i;

	for (i = 0; i < dev->nworkers; i++)
		if (setsockopt(dev->workers[i].udp_fd, SOL_SOCKET, SO_MARK,
		    &mark, sizeof(mark)) == -1 && mark != 0)
			return errno;
	return 0;
}

static void
wg_remove_all_peers(struct wg_device *dev)
{
	while (dev->npeers > 0)
		wg_peer_remove(dev, dev->peers[dev->npeers - 1]);
}

static int
wg_apply_aips(struct wg_device *dev, struct wg_peer *p,
    const struct wg_uapi_peer *up)
{
	size_t	 i;

	if (up->flags & WG_UAPI_PEER_REPLACE_AIPS)
		wg_allowedips_remove_peer(&dev->aips, p);
	for (i = 0; i < up->naips; i++)
		if (wg_allowedips_insert(&dev->aips, up->aips[i].addr.af,
		    up->aips[i].addr.bytes, up->aips[i].len, p) == -1)
			return errno;
	return 0;
}

/*
 * Endpoints are kept as the UDP socket speaks: IPv4 as v4-mapped IPv6 on
 * a dual-stack socket, so that received addresses compare equal.
 */
/* ss as the device's sockets speak it, in out; its length. */
static socklen_t
wg_sockaddr_native(const struct wg_device *dev,
    const struct sockaddr_storage *ss, socklen_t len,
    struct sockaddr_storage *out)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	struct sockaddr_in6		*s6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET && dev->af == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = s4->sin_port;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		return sizeof(*s6);
	}
	memcpy(out, ss, len);
	return len;
}

static void
wg_endpoint_store(struct wg_device *dev, struct wg_peer *p,
    const struct sockaddr_storage *ss, socklen_t len, bool relayed)
{
	pthread_mutex_lock(&p->lock);
	p->endpoint_len = wg_sockaddr_native(dev, ss, len, &p->endpoint);
	p->endpoint_relayed = relayed;
	pthread_mutex_unlock(&p->lock);
}

/*
 * No session yet and an initiation in flight that left before "before"
 * (wg_now()): send it again now.  One that left since was sent with
 * what the caller learned, and is left alone.
 */
static void
wg_initiation_again(struct wg_device *dev, struct wg_peer *p,
    uint64_t before)
{
	uint64_t	 sent = atomic_load(&p->handshake_sent);

	if (p->kp_current == NULL &&
	    p->noise.state == WG_HS_INITIATION_SENT && sent > 1 &&
	    sent < before) {
		atomic_store(&p->handshake_sent, 1);	/* long ago */
		wg_device_kick(dev);
	}
}

/*
 * A new endpoint before any session: the initiation in flight went to
 * the old one (a path that did not work, or a relay the peer was not
 * bound at yet), so send it again now rather than after REKEY_TIMEOUT.
 * Path selection moves endpoints this way, often on both nodes at once;
 * the two initiations then cross, and each side answers the other's
 * while keeping its own (handshake.c), so both complete.
 */
static void
wg_endpoint_move(struct wg_device *dev, struct wg_peer *p,
    const struct sockaddr_storage *ss, socklen_t len, bool relayed)
{
	struct sockaddr_storage	 old = p->endpoint;
	socklen_t		 oldlen = p->endpoint_len;
	bool			 was_relayed = p->endpoint_relayed;

	wg_endpoint_store(dev, p, ss, len, relayed);
	if (oldlen == 0 || (oldlen == p->endpoint_len &&
	    memcmp(&old, &p->endpoint, oldlen) == 0 &&
	    was_relayed == relayed))
		return;
	wg_initiation_again(dev, p, wg_now());
}

/*
 * The peer has just shown it knows us (it answered a ping we sent at
 * "before", wg_now() time): an initiation of ours from before then, that
 * it may have dropped while our key was unknown to it, is sent again
 * now.  The control server tells the two sides of a new pair at
 * slightly different moments, so the first initiation often arrives
 * too early.
 */
int
wg_device_handshake_again(struct wg_device *dev, const uint8_t key[WG_KEY_LEN],
    uint64_t before)
{
	struct wg_peer	*p;
	int		 rc = 0;

	pthread_rwlock_wrlock(&dev->lock);
	if ((p = wg_peer_by_key(dev, key)) == NULL) {
		errno = ENOENT;
		rc = -1;
	} else
		wg_initiation_again(dev, p, before);
	pthread_rwlock_unlock(&dev->lock);
	return rc;
}

/* ... and shown as people write them: v4-mapped becomes IPv4 again. */
void
wg_endpoint_show(const struct sockaddr_storage *ss, socklen_t len,
    struct sockaddr_storage *out)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in		*s4 = (struct sockaddr_in *)out;

	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	} else
		memcpy(out, ss, len);
}

static int
wg_apply_peer(struct wg_device *dev, const struct wg_uapi_peer *up)
{
	struct wg_peer	*p = wg_peer_by_key(dev, up->public_key);

	if (up->flags & WG_UAPI_PEER_REMOVE) {
		if (p != NULL)
			wg_peer_remove(dev, p);
		return 0;
	}
	if (p == NULL && (up->flags & WG_UAPI_PEER_UPDATE_ONLY))
		return 0;
	if (p == NULL && (p = wg_peer_new(dev, up->public_key)) == NULL)
		return errno;
	if (up->flags & WG_UAPI_PEER_PRESHARED_KEY) {
		memcpy(p->psk, up->preshared_key, WG_KEY_LEN);
		wg_peer_noise_set_psk(&p->noise, wg_key_is_zero(p->psk) ?
		    NULL : p->psk);
	}
	if (up->flags & WG_UAPI_PEER_ENDPOINT)
		wg_endpoint_move(dev, p, &up->endpoint, up->endpoint_len,
		    (up->flags & WG_UAPI_PEER_RELAYED) != 0);
	if (up->flags & WG_UAPI_PEER_KEEPALIVE) {
		p->keepalive = up->keepalive;
		/* wireguard-go sends one at once when it is switched on */
		if (p->keepalive != 0)
			atomic_store(&p->want_handshake, true);
	}
	return wg_apply_aips(dev, p, up);
}

int
wg_device_apply(struct wg_device *dev, const struct wg_uapi_set *set)
{
	size_t	 i;
	int	 error;

	pthread_rwlock_wrlock(&dev->lock);
	wg_grave_sweep(dev);
	if ((error = wg_apply_check(dev, set)) != 0)
		goto done;
	if ((set->flags & WG_UAPI_SET_LISTEN_PORT) &&
	    (error = wg_apply_port(dev, set->listen_port)) != 0)
		goto done;
	if ((set->flags & WG_UAPI_SET_FWMARK) &&
	    (error = wg_apply_fwmark(dev, set->fwmark)) != 0)
		goto done;
	if ((set->flags & WG_UAPI_SET_PRIVATE_KEY) &&
	    (error = wg_apply_private_key(dev, set->private_key)) != 0)
		goto done;
	if (set->flags & WG_UAPI_SET_REPLACE_PEERS)
		wg_remove_all_peers(dev);
	for (i = 0; i < set->npeers && error == 0; i++)
		error = wg_apply_peer(dev, &set->peers[i]);
done:
	wg_grave_sweep(dev);
	pthread_rwlock_unlock(&dev->lock);
	wg_device_kick(dev);
	return error;
}

/* GET */

struct wg_aip_collect {
	struct prefix	*p;
	size_t		 n;
	size_t		 cap;
};

static int
wg_aip_collect(void *arg, int af, const uint8_t *addr, uint8_t cidr)
{
	struct wg_aip_collect	*c = arg;
	struct prefix		*np;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		if ((np = reallocarray(c->p, c->cap, sizeof(*np))) == NULL)
			return -1;
		c->p = np;
	}
	memset(&c->p[c->n], 0, sizeof(c->p[c->n]));
	c->p[c->n].addr.af = (sa_family_t)af;
	memcpy(c->p[c->n].addr.bytes, addr, af == AF_INET ? 4 : 16);
	c->p[c->n].len = cidr;
	c->n++;
	return 0;
}

static int
wg_peer_info(struct wg_device *dev, struct wg_peer *p,
    struct wg_uapi_peer_info *pi)
{
	struct wg_aip_collect	 c = { NULL, 0, 0 };

	memset(pi, 0, sizeof(*pi));
	memcpy(pi->public_key, p->public_key, WG_KEY_LEN);
	memcpy(pi->preshared_key, p->psk, WG_KEY_LEN);
	pthread_mutex_lock(&p->lock);
	wg_endpoint_show(&p->endpoint, p->endpoint_len, &pi->endpoint);
	pi->relayed = p->endpoint_relayed;
	pthread_mutex_unlock(&p->lock);
	pi->keepalive = p->keepalive;
	pi->last_handshake_sec = atomic_load(&p->hs_sec);
	pi->last_handshake_nsec = atomic_load(&p->hs_nsec);
	pi->rx_bytes = atomic_load(&p->rx_bytes);
	pi->tx_bytes = atomic_load(&p->tx_bytes);
	if (wg_allowedips_foreach_peer(&dev->aips, p, wg_aip_collect,
	    &c) == -1) {
		free(c.p);
		return -1;
	}
	pi->aips = c.p;
	pi->naips = c.n;
	return 0;
}

int
wg_device_peer(struct wg_device *dev, const uint8_t key[WG_KEY_LEN],
    struct wg_uapi_peer_info *pi)
{
	struct wg_peer	*p;
	int		 rc = -1;

	pthread_rwlock_rdlock(&dev->lock);
	memset(pi, 0, sizeof(*pi));
	if ((p = wg_peer_by_key(dev, key)) == NULL)
		errno = ENOENT;
	else
		rc = wg_peer_info(dev, p, pi);
	pthread_rwlock_unlock(&dev->lock);
	return rc;
}

int
wg_device_get(struct wg_device *dev, struct buf *b)
{
	struct wg_uapi_dev_info	 di;
	struct wg_uapi_peer_info *pi;
	size_t			 i, n = 0;
	int			 rc = -1;

	pthread_rwlock_rdlock(&dev->lock);
	memset(&di, 0, sizeof(di));
	if ((pi = calloc(dev->npeers + 1, sizeof(*pi))) == NULL)
		goto done;
	if (dev->local.has_key)
		memcpy(di.private_key, dev->local.private_key, WG_KEY_LEN);
	di.listen_port = dev->port;
	for (n = 0; n < dev->npeers; n++)
		if (wg_peer_info(dev, dev->peers[n], &pi[n]) == -1)
			goto done;
	di.peers = pi;
	di.npeers = n;
	rc = wg_uapi_write_get(b, &di);
done:
	pthread_rwlock_unlock(&dev->lock);
	for (i = 0; pi != NULL && i < n; i++)
		free((void *)pi[i].aips);
	free(pi);
	sodium_memzero(&di, sizeof(di));
	return rc;
}
