/*
 * The side channel of the WireGuard socket: STUN answers (netcheck) and
 * disco (paths) arrive on the device's worker threads, which must never
 * wait on the event loop.  The worker sorts them before anything is
 * queued, so that strangers cannot crowd out what matters: a STUN
 * datagram is kept only when it carries the id of the transaction in
 * flight; a disco datagram only when it names a party member, that
 * member's token bucket has a token, and its box opens with the key
 * shared with that member (computed once per member: one X25519 per
 * peer, not per datagram).  A bucket is spent only by datagrams that
 * opened, so forging a member's key cannot silence that member.  Relay
 * frames (BOUND, PONG) are kept only from the relays of the list.  What
 * is kept goes into a bounded queue, and an eventfd wakes the loop.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "proto/disco.h"
#include "proto/relay.h"
#include "proto/stun.h"

#define SC_QUEUE	256
#define SC_RATE		200	/* disco datagrams/s kept per member */
#define SC_BURST	400
#define SC_STUN_TXID	8	/* offset of a STUN transaction id */

struct sc_peer {
	uint8_t			 key[NODE_KEYLEN];
	uint8_t			 shared[NODE_KEYLEN];
	uint64_t		 tokens;	/* milli-datagrams */
	uint64_t		 tokens_ms;
};

enum sc_kind {
	SC_STUN,
	SC_DISCO,
	SC_RELAY,
};

struct sc_item {
	enum sc_kind		 kind;
	uint8_t			 stun[STUN_MAXMSG];	/* STUN, relay */
	size_t			 len;
	struct disco_msg	 msg;			/* disco: opened */
	uint8_t			 key[NODE_KEYLEN];
	bool			 relayed;		/* disco: in a RECV */
	struct sockaddr_storage	 src;
	socklen_t		 srclen;
};

static struct {
	struct wg_device	*dev;
	int			 efd;
	struct event		*ev;
	pthread_mutex_t		 lock;		/* everything below */
	struct sc_item		 q[SC_QUEUE];
	size_t			 nq;
	struct sc_peer		 peers[CONTROL_MAX_MEMBERS];
	size_t			 npeers;
	struct sockaddr_storage	 relays[CONTROL_MAX_RELAYS];
	size_t			 nrelays;
	bool			 stun_want;
	uint8_t			 stun_txid[STUN_TXIDLEN];
	struct sidechan_stats	 st;
} SC = { .efd = -1 };

static struct sc_peer *
sc_peer_find(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < SC.npeers; i++)
		if (memcmp(SC.peers[i].key, key, NODE_KEYLEN) == 0)
			return &SC.peers[i];
	return NULL;
}

static bool
sc_take(struct sc_peer *p)
{
	uint64_t	 now = clock_mono_ms(), cap = (uint64_t)SC_BURST * 1000;

	p->tokens += (now - p->tokens_ms) * SC_RATE;
	if (p->tokens > cap)
		p->tokens = cap;
	p->tokens_ms = now;
	if (p->tokens < 1000)
		return false;
	p->tokens -= 1000;
	return true;
}

/* The next free queue slot, or NULL (counted). Lock held. */
static struct sc_item *
sc_slot(void)
{
	if (SC.nq == SC_QUEUE) {
		SC.st.queue_dropped++;
		return NULL;
	}
	return &SC.q[SC.nq];
}

static bool
sc_stun_in(const uint8_t *p, size_t len)
{
	struct sc_item	*it;

	if (len > STUN_MAXMSG || !SC.stun_want ||
	    sodium_memcmp(p + SC_STUN_TXID, SC.stun_txid, STUN_TXIDLEN) != 0) {
		SC.st.stun_unexpected++;
		return false;
	}
	if ((it = sc_slot()) == NULL)
		return false;
	it->kind = SC_STUN;
	memcpy(it->stun, p, len);
	it->len = len;
	return true;
}

static bool
sc_disco_in(const uint8_t *p, size_t len)
{
	const uint8_t	*key = disco_sender(p, len);
	struct sc_peer	*peer;
	struct sc_item	*it;
	struct disco_msg m;

	if (key == NULL || (peer = sc_peer_find(key)) == NULL) {
		SC.st.unknown_sender++;
		return false;
	}
	if (disco_open_shared(p, len, peer->shared, peer->key, &m) == -1) {
		SC.st.forged++;
		return false;
	}
	if (!sc_take(peer)) {
		SC.st.rate_limited++;
		return false;
	}
	if ((it = sc_slot()) == NULL)
		return false;
	it->kind = SC_DISCO;
	it->relayed = false;
	it->msg = m;
	memcpy(it->key, peer->key, NODE_KEYLEN);
	return true;
}

/*
 * BOUND and PONG, only from the relays of the list: both are small.  A
 * RECV that the data path handed over carries a member's disco through
 * the relay (the relayed path's own pings): opened like any other.
 */
static bool
sc_relay_in(const uint8_t *p, size_t len, const struct sockaddr *sa)
{
	struct sc_item	*it;
	size_t		 i;

	for (i = 0; i < SC.nrelays; i++)
		if (sockaddr_eq((struct sockaddr *)&SC.relays[i], sa))
			break;
	if (i < SC.nrelays && p[0] == RELAY_RECV && len > RELAY_FWD_HDRLEN &&
	    disco_is_disco(p + RELAY_FWD_HDRLEN, len - RELAY_FWD_HDRLEN)) {
		if (!sc_disco_in(p + RELAY_FWD_HDRLEN, len - RELAY_FWD_HDRLEN))
			return false;
		SC.q[SC.nq].relayed = true;
		return true;
	}
	if (i == SC.nrelays || (p[0] != RELAY_BOUND && p[0] != RELAY_PONG) ||
	    len > RELAY_BOUNDLEN) {
		SC.st.relay_unexpected++;
		return false;
	}
	if ((it = sc_slot()) == NULL)
		return false;
	it->kind = SC_RELAY;
	memcpy(it->stun, p, len);
	it->len = len;
	return true;
}

/* Data-path thread: keep what the loop wants, wake it. */
static void
sc_other(const uint8_t *p, size_t len, const struct sockaddr *sa,
    socklen_t salen, void *arg)
{
	uint64_t	 one = 1;
	bool		 kept = false;

	if (salen > sizeof(struct sockaddr_storage))
		return;
	pthread_mutex_lock(&SC.lock);
	if (stun_is_stun(p, len))
		kept = sc_stun_in(p, len);
	else if (disco_is_disco(p, len))
		kept = sc_disco_in(p, len);
	else if (relay_is_relay(p, len))
		kept = sc_relay_in(p, len, sa);
	if (kept) {
		memcpy(&SC.q[SC.nq].src, sa, salen);
		SC.q[SC.nq++].srclen = salen;
	}
	pthread_mutex_unlock(&SC.lock);
	if (kept && write(SC.efd, &one, sizeof(one)) == -1)
		return;		/* the counter is full: the loop is awake */
}

static void
sc_drain(evutil_socket_t fd, short ev, void *arg)
{
	static struct sc_item	 q[SC_QUEUE];
	struct sc_item		*it;
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
		it = &q[i];
		if (it->kind == SC_DISCO)
			paths_disco(it->key, &it->msg,
			    (struct sockaddr *)&it->src, it->srclen,
			    it->relayed);
		else if (it->kind == SC_RELAY)
			relayc_input(it->stun, it->len,
			    (struct sockaddr *)&it->src);
		else
			netcheck_input(it->stun, it->len);
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
	sodium_memzero(&SC, sizeof(SC));
	SC.efd = -1;
}

int
sidechan_peer_set(const uint8_t key[NODE_KEYLEN],
    const uint8_t shared[NODE_KEYLEN])
{
	struct sc_peer	*p;
	int		 rc = 0;

	pthread_mutex_lock(&SC.lock);
	if ((p = sc_peer_find(key)) == NULL) {
		if (SC.npeers == CONTROL_MAX_MEMBERS) {
			errno = ENOSPC;
			rc = -1;
			goto out;
		}
		p = &SC.peers[SC.npeers++];
		memcpy(p->key, key, NODE_KEYLEN);
		p->tokens = (uint64_t)SC_BURST * 1000;
		p->tokens_ms = clock_mono_ms();
	}
	memcpy(p->shared, shared, NODE_KEYLEN);
out:
	pthread_mutex_unlock(&SC.lock);
	return rc;
}

void
sidechan_peer_del(const uint8_t key[NODE_KEYLEN])
{
	struct sc_peer	*p;

	pthread_mutex_lock(&SC.lock);
	if ((p = sc_peer_find(key)) != NULL) {
		*p = SC.peers[--SC.npeers];
		sodium_memzero(&SC.peers[SC.npeers], sizeof(SC.peers[0]));
	}
	pthread_mutex_unlock(&SC.lock);
}

void
sidechan_stun_expect(const uint8_t *txid)
{
	pthread_mutex_lock(&SC.lock);
	SC.stun_want = txid != NULL;
	if (txid != NULL)
		memcpy(SC.stun_txid, txid, STUN_TXIDLEN);
	pthread_mutex_unlock(&SC.lock);
}

void
sidechan_relays_set(const struct sockaddr_storage *ss, const socklen_t *len,
    size_t n)
{
	size_t	 i;

	pthread_mutex_lock(&SC.lock);
	SC.nrelays = n < CONTROL_MAX_RELAYS ? n : CONTROL_MAX_RELAYS;
	for (i = 0; i < SC.nrelays; i++) {
		memset(&SC.relays[i], 0, sizeof(SC.relays[i]));
		memcpy(&SC.relays[i], &ss[i], len[i]);
	}
	pthread_mutex_unlock(&SC.lock);
}

void
sidechan_stats(struct sidechan_stats *st)
{
	pthread_mutex_lock(&SC.lock);
	*st = SC.st;
	pthread_mutex_unlock(&SC.lock);
}
