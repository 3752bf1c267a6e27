/*
 * Disco on the wire and path selection for every peer of the party.
 *
 * Each peer's published candidates (and the addresses its pings come
 * from) are pinged on pathsel's schedule from the WireGuard socket: the
 * burst at the start is the hole punch, since both nodes learn of each
 * other from the control server at about the same moment.  Pongs
 * validate paths and measure them; the best live one becomes the
 * peer's WireGuard endpoint, which moves without touching the session.
 *
 * Untrusted input: sidechan.c passes on only disco from members that
 * opened with the key shared with them, within a rate per member.  A
 * PING is answered only when it is fresh, not one of our own
 * (reflection), and not seen before (replay); the answer goes to where
 * it came from and is no larger.  Probes go only to addresses a party
 * member published, within fixed budgets.
 */
#include <sys/param.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanraged/node.h"
#include "lanraged/pathsel.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "proto/disco.h"
#include "proto/relay.h"

#define PA_TICK_MS		50
#define PA_PENDING		128	/* pings awaiting a pong, per peer */
#define PA_SEEN			256	/* PING txids answered, per peer: more
				   than a minute of them */
#define PA_PROBE_TAG		8	/* txid bytes naming a probe round */
#define PA_BIRTHDAY_PROBES	256	/* random ports per attempt */
#define PA_BIRTHDAY_PER_TICK	32
#define PA_BIRTHDAY_EVERY_MS	30000
#define PA_BIRTHDAY_ATTEMPTS	10

struct pa_pending {
	bool			 used;
	bool			 relayed;	/* through the relay at sa */
	uint8_t			 txid[DISCO_TXIDLEN];
	struct sockaddr_storage	 sa;
	uint64_t		 sent_us;
};

struct pa_peer {
	uint8_t			 key[NODE_KEYLEN];
	uint8_t			 shared[NODE_KEYLEN];	/* disco's box key */
	char			 name[CONTROL_NAMESIZ * 4];	/* escaped */
	struct ps_peer		 ps;
	struct pa_pending	 pend[PA_PENDING];
	size_t			 pend_next;
	uint8_t			 seen[PA_SEEN][DISCO_TXIDLEN];
	size_t			 seen_next;
	/* the peer's NAT, as published */
	struct addr		 pub_addr;	/* its STUN-observed address */
	bool			 have_pub;
	uint16_t		 predicted;	/* 0: no guess */
	/* probes: port guessing, one tag per peer */
	uint8_t			 probe_tag[PA_PROBE_TAG];
	uint32_t		 probe_n;
	unsigned		 bday_attempts, bday_left;
	uint64_t		 bday_at;
	/* what the peer says it sees of us */
	struct sockaddr_storage	 seen_as;
	uint64_t		 pings_in, pongs_in, probes_sent;
	uint64_t		 wg_checked_ms;
	/* the usable relays, each measured end to end while not direct */
	struct ps_peer		 rl;
};

static struct {
	struct wg_device	*dev;
	uint8_t			 priv[NODE_KEYLEN];
	uint8_t			 pub[NODE_KEYLEN];
	struct ps_nat		 self;
	struct pa_peer		*peers[CONTROL_MAX_MEMBERS];
	size_t			 npeers;
	struct event		*tick;
	/* drops, for the log and status (more in sidechan.c) */
	uint64_t		 stale, reflected, replayed, late;
} PA;

static socklen_t
pa_salen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static struct pa_peer *
pa_find(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < PA.npeers; i++)
		if (sodium_memcmp(PA.peers[i]->key, key, NODE_KEYLEN) == 0)
			return PA.peers[i];
	return NULL;
}

/* Sending. */

static int
pa_send(struct pa_peer *pe, const struct disco_msg *m,
    const struct sockaddr *sa, socklen_t len)
{
	uint8_t		 mem[DISCO_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	if (disco_seal_shared(&b, m, pe->shared, PA.pub) == -1)
		return -1;
	return wg_device_send_other(PA.dev, b.data, b.len, sa, len);
}

/* The same, through the relay at sa, framed for the peer's tag. */
static int
pa_send_relayed(struct pa_peer *pe, const struct disco_msg *m,
    const struct sockaddr *sa, socklen_t len)
{
	uint8_t		 mem[DISCO_MAXMSG], frame[RELAY_MAXMSG];
	uint8_t		 tag[RELAY_TAGLEN];
	struct buf	 b, f;

	buf_init_fixed(&b, mem, sizeof(mem));
	buf_init_fixed(&f, frame, sizeof(frame));
	relay_tag(tag, pe->key);
	if (disco_seal_shared(&b, m, pe->shared, PA.pub) == -1 ||
	    relay_enc_send(&f, tag, b.data, b.len) == -1)
		return -1;
	return wg_device_send_other(PA.dev, f.data, f.len, sa, len);
}

static void
pa_ping_msg(struct disco_msg *m, const uint8_t txid[DISCO_TXIDLEN])
{
	memset(m, 0, sizeof(*m));
	m->type = DISCO_PING;
	memcpy(m->txid, txid, DISCO_TXIDLEN);
	m->time_ms = clock_wall_ms();
}

static int
pa_ping_to(struct pa_peer *pe, const uint8_t txid[DISCO_TXIDLEN],
    const struct sockaddr *sa, socklen_t len)
{
	struct disco_msg	 m;

	pa_ping_msg(&m, txid);
	return pa_send(pe, &m, sa, len);
}

/*
 * A ping on path p (of pe->ps, or through a relay of pe->rl), remembered
 * until its pong or PS_PONG_WAIT_MS.
 */
static void
pa_ping_path(struct pa_peer *pe, struct ps_path *p, bool relayed,
    uint64_t now_us)
{
	struct pa_pending	*q = &pe->pend[pe->pend_next];
	struct disco_msg	 m;
	int			 rc;

	pe->pend_next = (pe->pend_next + 1) % PA_PENDING;
	randombytes_buf(q->txid, sizeof(q->txid));
	q->sa = p->sa;
	q->sent_us = now_us;
	q->used = true;
	q->relayed = relayed;
	ps_ping_sent(p, now_us / 1000);
	pa_ping_msg(&m, q->txid);
	rc = relayed ? pa_send_relayed(pe, &m, (struct sockaddr *)&p->sa,
	    pa_salen(&p->sa)) : pa_send(pe, &m, (struct sockaddr *)&p->sa,
	    pa_salen(&p->sa));
	if (rc == -1)
		log_debug("paths: %sping: %s", relayed ? "relayed " : "",
		    strerror(errno));
}

/*
 * While there is no direct path, every usable relay (relayc_usable) is
 * a path to the peer, measured end to end as direct ones are: the one
 * in use every PS_BEST_EVERY, the others every PS_OTHER_EVERY.  The
 * lowest RTT wins, kept unless another is clearly better (ps_select),
 * and a relay that stops being usable is dropped at once.
 */
static void
pa_relays_tick(struct pa_peer *pe, uint64_t now_us)
{
	struct sockaddr_storage	 ss[CONTROL_MAX_RELAYS];
	char			 a[LR_SOCKADDR_STRLEN];
	const struct ps_path	*p;
	uint64_t		 now = now_us / 1000;
	size_t			 i, n;

	if (pe->ps.best >= 0)
		return;
	n = relayc_usable(ss, CONTROL_MAX_RELAYS);
	for (i = 0; i < pe->rl.npaths; i++)
		pe->rl.paths[i].published = false;
	for (i = 0; i < n; i++)		/* marks it published again */
		(void)ps_path_add(&pe->rl, (struct sockaddr *)&ss[i],
		    pa_salen(&ss[i]), PS_RELAY, now);
	ps_prune(&pe->rl);
	for (i = 0; i < pe->rl.npaths; i++)
		if (ps_ping_due(&pe->rl, i, now))
			pa_ping_path(pe, &pe->rl.paths[i], true, now_us);
	if (!ps_select(&pe->rl, now))
		return;
	if (pe->rl.best < 0) {
		log_info("paths: %s: no relay answers for it", pe->name);
		return;
	}
	p = &pe->rl.paths[pe->rl.best];
	log_info("paths: %s: through the relay at %s, %.2f ms end to end",
	    pe->name, sockaddr_fmt((const struct sockaddr *)&p->sa, a,
	    sizeof(a)), p->srtt_us / 1000.0);
	party_path_changed(pe->key, false);
}

/* A probe to a guessed port: no pending record, the tag names it. */
static void
pa_probe(struct pa_peer *pe, uint16_t port)
{
	struct sockaddr_storage	 ss;
	uint8_t			 txid[DISCO_TXIDLEN];

	memcpy(txid, pe->probe_tag, PA_PROBE_TAG);
	memcpy(txid + PA_PROBE_TAG, &pe->probe_n, sizeof(pe->probe_n));
	pe->probe_n++;
	pe->probes_sent++;
	addr_to_sockaddr(&pe->pub_addr, port, &ss);
	if (pa_ping_to(pe, txid, (struct sockaddr *)&ss, pa_salen(&ss)) == -1)
		log_debug("paths: probe: %s", strerror(errno));
}

/* Port prediction: the published guess and the ports after it. */
static void
pa_probe_predicted(struct pa_peer *pe)
{
	unsigned	 k;

	for (k = 0; k < CONTROL_EP_PREDICT_SPAN &&
	    pe->predicted + k <= 65535; k++)
		pa_probe(pe, (uint16_t)(pe->predicted + k));
}

/*
 * Birthday probing: random ports of the peer's public address, a round
 * of PA_BIRTHDAY_PROBES spread over a few ticks, every 30 s at most, ten
 * rounds in all.  The peer meanwhile keeps pinging our public address,
 * which keeps its NAT's mapping toward us; a probe that hits that port
 * is let in and answered.
 */
static void
pa_birthday(struct pa_peer *pe, uint64_t now)
{
	unsigned	 k;

	if (pe->bday_left == 0) {
		if (!ps_birthday_wanted(&pe->ps, &PA.self, now) ||
		    !pe->have_pub || pe->bday_attempts >= PA_BIRTHDAY_ATTEMPTS ||
		    (pe->bday_at != 0 &&
		    now - pe->bday_at < PA_BIRTHDAY_EVERY_MS))
			return;
		pe->bday_attempts++;
		pe->bday_at = now;
		pe->bday_left = PA_BIRTHDAY_PROBES;
		log_info("paths: %s: port guessing, round %u", pe->name,
		    pe->bday_attempts);
	}
	for (k = 0; k < PA_BIRTHDAY_PER_TICK && pe->bday_left > 0; k++) {
		pe->bday_left--;
		pa_probe(pe, (uint16_t)(1024 +
		    randombytes_uniform(65536 - 1024)));
	}
}

/* Selection. */

/* Choose; tell party.c unless it is the caller (tell false). */
static void
pa_select(struct pa_peer *pe, uint64_t now, bool tell)
{
	char		 ep[LR_SOCKADDR_STRLEN];
	struct ps_path	*p;
	bool		 had = pe->ps.best >= 0;

	if (!ps_select(&pe->ps, now))
		return;
	if (pe->ps.best >= 0) {
		p = &pe->ps.paths[pe->ps.best];
		log_info("paths: %s: %s path %s, RTT %.2f ms (%s)", pe->name,
		    ps_kind_name(p->kind), sockaddr_fmt((struct sockaddr *)
		    &p->sa, ep, sizeof(ep)), p->srtt_us / 1000.0, pe->ps.why);
	} else
		log_info("paths: %s: no direct path (%s)", pe->name,
		    pe->ps.why);
	if (tell)
		party_path_changed(pe->key, false);
	/* it answered the ping, so it knew us then: an initiation sent
	 * before may have come too early (wg_device_handshake_again) */
	if (!had && pe->ps.best >= 0)
		(void)wg_device_handshake_again(PA.dev, pe->key,
		    (now * 1000 - pe->ps.paths[pe->ps.best].rtt_us) * 1000);
}

static void
pa_expire(struct pa_peer *pe, uint64_t now_us)
{
	struct pa_pending	*q;
	struct ps_peer		*pp;
	size_t			 k;
	int			 i;

	for (k = 0; k < PA_PENDING; k++) {
		q = &pe->pend[k];
		if (!q->used || now_us - q->sent_us < PS_PONG_WAIT_MS * 1000)
			continue;
		q->used = false;
		pp = q->relayed ? &pe->rl : &pe->ps;
		if ((i = ps_path_find(pp, (struct sockaddr *)&q->sa)) >= 0)
			ps_lost(&pp->paths[i], now_us / 1000);
	}
}

/*
 * WireGuard roams: it sends to wherever the peer's last packet came
 * from, and a host with several addresses may answer from another than
 * the one we chose.  That is fine while that path lives (it is pinged
 * as closely as the chosen one); once it is dead, the chosen path is
 * put back, or the tunnel would wait for a packet that never comes.
 */
static void
pa_check_roamed(struct pa_peer *pe, uint64_t now)
{
	struct wg_uapi_peer_info pi;
	const struct ps_path	*p;
	char			 a[LR_SOCKADDR_STRLEN], b[LR_SOCKADDR_STRLEN];
	int			 i;

	pe->wg_checked_ms = now;
	memset(&pi, 0, sizeof(pi));
	if (wg_device_peer(PA.dev, pe->key, &pi) == -1)
		return;
	free((void *)pi.aips);
	i = pi.endpoint.ss_family != 0 ? ps_path_find(&pe->ps,
	    (struct sockaddr *)&pi.endpoint) : -1;
	pe->ps.in_use = i;
	if (pe->ps.best < 0 || i == pe->ps.best ||
	    (i >= 0 && ps_alive(&pe->ps.paths[i])))
		return;
	p = &pe->ps.paths[pe->ps.best];
	log_info("paths: %s: WireGuard went to %s, which %s; back to %s",
	    pe->name, sockaddr_fmt((struct sockaddr *)&pi.endpoint, a,
	    sizeof(a)), i >= 0 ? "died" : "is no path of ours",
	    sockaddr_fmt((struct sockaddr *)&p->sa, b, sizeof(b)));
	party_path_changed(pe->key, true);
}

static void
pa_peer_tick(struct pa_peer *pe, uint64_t now_us)
{
	uint64_t	 now = now_us / 1000;
	struct ps_path	*p;
	size_t		 i;

	pa_expire(pe, now_us);
	for (i = 0; i < pe->ps.npaths; i++) {
		p = &pe->ps.paths[i];
		if (!ps_ping_due(&pe->ps, i, now))
			continue;
		/* guesses ride with the punches at its public address */
		if (p->kind == PS_STUN && !ps_alive(p) && pe->predicted != 0 &&
		    pe->ps.best < 0)
			pa_probe_predicted(pe);
		pa_ping_path(pe, &pe->ps.paths[i], false, now_us);
	}
	pa_birthday(pe, now);
	pa_select(pe, now, true);
	pa_relays_tick(pe, now_us);
	if (now - pe->wg_checked_ms >= PS_BEST_EVERY)
		pa_check_roamed(pe, now);
}

static void
pa_tick(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	 now_us = clock_mono_us();
	size_t		 i;

	for (i = 0; i < PA.npeers; i++)
		pa_peer_tick(PA.peers[i], now_us);
}

/* Receiving. */

static struct pa_pending *
pa_pending_find(struct pa_peer *pe, const uint8_t *txid)
{
	size_t	 k;

	for (k = 0; k < PA_PENDING; k++)
		if (pe->pend[k].used && sodium_memcmp(pe->pend[k].txid, txid,
		    DISCO_TXIDLEN) == 0)
			return &pe->pend[k];
	return NULL;
}

static bool
pa_is_probe(const struct pa_peer *pe, const uint8_t *txid)
{
	return sodium_memcmp(txid, pe->probe_tag, PA_PROBE_TAG) == 0;
}

/* Seen before?  If not, remember it. */
static bool
pa_replayed(struct pa_peer *pe, const uint8_t *txid)
{
	size_t	 k;

	for (k = 0; k < PA_SEEN; k++)
		if (sodium_memcmp(pe->seen[k], txid, DISCO_TXIDLEN) == 0)
			return true;
	memcpy(pe->seen[pe->seen_next], txid, DISCO_TXIDLEN);
	pe->seen_next = (pe->seen_next + 1) % PA_SEEN;
	return false;
}

static void
pa_ping_in(struct pa_peer *pe, const struct disco_msg *m,
    const struct sockaddr *sa, socklen_t len, bool relayed, uint64_t now_us)
{
	struct disco_msg	 r;
	uint64_t		 wall = clock_wall_ms();
	int			 i, before = (int)pe->ps.npaths;

	if (m->time_ms + DISCO_MAX_AGE_MS < wall ||
	    m->time_ms > wall + DISCO_MAX_AGE_MS) {
		PA.stale++;
		return;
	}
	if (pa_pending_find(pe, m->txid) != NULL || pa_is_probe(pe, m->txid)) {
		PA.reflected++;
		return;
	}
	if (pa_replayed(pe, m->txid)) {
		PA.replayed++;
		return;
	}
	pe->pings_in++;
	memset(&r, 0, sizeof(r));
	r.type = DISCO_PONG;
	memcpy(r.txid, m->txid, DISCO_TXIDLEN);
	r.time_ms = wall;
	if (relayed) {
		/* answered the way it came; a relay is no path to the peer */
		if (addr_from_sockaddr(sa, &r.seen, &r.seen_port) == -1 ||
		    pa_send_relayed(pe, &r, sa, len) == -1)
			log_debug("paths: relayed pong: %s", strerror(errno));
		return;
	}
	if (addr_from_sockaddr(sa, &r.seen, &r.seen_port) == -1 ||
	    pa_send(pe, &r, sa, len) == -1)
		log_debug("paths: pong: %s", strerror(errno));
	/* Where its pings come from is a path too: ping it back now. */
	i = ps_path_add(&pe->ps, sa, len, PS_LEARNED, now_us / 1000);
	if (i >= 0 && (i >= before || pe->ps.paths[i].pings == 0))
		pa_ping_path(pe, &pe->ps.paths[i], false, now_us);
}

/*
 * A peer saw us at our NAT's address but another port: behind an
 * endpoint-independent NAT that means the mapping moved (it expired
 * while we were idle, and the NAT gave us another port), so the
 * candidate we published is stale and peers behind filtering NATs
 * punch at a dead port.  Behind a symmetric NAT every peer sees its
 * own port, so nothing is learnt there.
 */
static void
pa_check_mapping(const struct disco_msg *m)
{
	struct addr	 a;
	uint16_t	 port;

	if (!PA.self.known ||
	    PA.self.mapping != CONTROL_NAT_MAP_INDEPENDENT ||
	    !netcheck_mapped(&a, &port))
		return;
	if (addr_eq(&a, &m->seen) && port != m->seen_port)
		party_mapping_moved();
}

static void
pa_pong_in(struct pa_peer *pe, const struct disco_msg *m,
    const struct sockaddr *sa, socklen_t len, bool relayed, uint64_t now_us)
{
	struct pa_pending	*q;
	uint64_t		 now = now_us / 1000;
	int			 i;

	if (relayed) {
		/* only the answer to a relayed ping measures the relayed path */
		if ((q = pa_pending_find(pe, m->txid)) == NULL || !q->relayed) {
			PA.late++;
			return;
		}
		q->used = false;
		pe->pongs_in++;
		if ((i = ps_path_find(&pe->rl, (struct sockaddr *)&q->sa)) >= 0)
			ps_pong(&pe->rl.paths[i], (uint32_t)MIN(now_us -
			    q->sent_us, UINT32_MAX), now);
		return;
	}
	if (pa_is_probe(pe, m->txid)) {
		/* A guess hit: validate it as a path of its own. */
		log_info("paths: %s: a guessed port answered", pe->name);
		if ((i = ps_path_add(&pe->ps, sa, len, PS_LEARNED, now)) >= 0)
			pa_ping_path(pe, &pe->ps.paths[i], false, now_us);
		return;
	}
	if ((q = pa_pending_find(pe, m->txid)) == NULL || q->relayed) {
		PA.late++;
		return;
	}
	q->used = false;
	pe->pongs_in++;
	addr_to_sockaddr(&m->seen, m->seen_port, &pe->seen_as);
	pa_check_mapping(m);
	if ((i = ps_path_find(&pe->ps, (struct sockaddr *)&q->sa)) < 0)
		return;		/* pruned meanwhile */
	ps_pong(&pe->ps.paths[i], (uint32_t)MIN(now_us - q->sent_us,
	    UINT32_MAX), now);
	pa_select(pe, now, true);
}

void
paths_disco(const uint8_t key[NODE_KEYLEN], const struct disco_msg *m,
    const struct sockaddr *sa, socklen_t salen, bool relayed)
{
	struct pa_peer	*pe;
	uint64_t	 now_us = clock_mono_us();

	if ((pe = pa_find(key)) == NULL)
		return;		/* gone while it waited in the queue */
	if (m->type == DISCO_PING)
		pa_ping_in(pe, m, sa, salen, relayed, now_us);
	else
		pa_pong_in(pe, m, sa, salen, relayed, now_us);
}

/* Peers. */

static uint8_t
pa_kind(uint8_t ckind)
{
	if (ckind == CONTROL_EP_LAN)
		return PS_LAN;
	if (ckind == CONTROL_EP_CONFIGURED)
		return PS_CONFIGURED;
	return PS_STUN;
}

/* The peer's NAT from its candidates (proto/control.md). */
static void
pa_peer_nat(struct pa_peer *pe, const struct control_endpoints *ep)
{
	const struct control_endpoint	*c;
	uint8_t				 i, j;

	memset(&pe->ps.nat, 0, sizeof(pe->ps.nat));
	pe->have_pub = false;
	pe->predicted = 0;
	for (i = 0; i < ep->n; i++) {
		c = &ep->c[i];
		if (c->kind == CONTROL_EP_PREDICTED)
			pe->predicted = c->port;
		if (!CONTROL_EP_IS_STUN(c->kind))
			continue;
		pe->pub_addr = c->addr;
		pe->have_pub = true;
		pe->ps.nat.known = c->kind != CONTROL_EP_STUN;
		pe->ps.nat.mapping = CONTROL_EP_NAT_MAP(c->kind);
		pe->ps.nat.filtering = CONTROL_EP_NAT_FILT(c->kind);
		pe->ps.nat.behind = true;
		for (j = 0; j < ep->n; j++)
			if (ep->c[j].kind == CONTROL_EP_LAN &&
			    addr_eq(&ep->c[j].addr, &c->addr))
				pe->ps.nat.behind = false;
	}
}

static struct pa_peer *
pa_peer_new(const uint8_t *key, uint64_t now)
{
	struct pa_peer	*pe;

	if (PA.npeers == CONTROL_MAX_MEMBERS ||
	    (pe = calloc(1, sizeof(*pe))) == NULL)
		return NULL;
	memcpy(pe->key, key, NODE_KEYLEN);
	/* a key of small order has no shared secret: no disco with it */
	if (disco_shared(pe->shared, PA.priv, key) == -1 ||
	    sidechan_peer_set(key, pe->shared) == -1) {
		free(pe);
		return NULL;
	}
	ps_peer_init(&pe->ps, now);
	ps_peer_init(&pe->rl, now);
	randombytes_buf(pe->probe_tag, sizeof(pe->probe_tag));
	PA.peers[PA.npeers++] = pe;
	return pe;
}

void
paths_peer_update(const struct control_member *m)
{
	struct sockaddr_storage	 ss;
	struct pa_peer		*pe;
	uint64_t		 now = clock_mono_us() / 1000;
	socklen_t		 len;
	uint8_t			 i;

	if ((pe = pa_find(m->key)) == NULL &&
	    (pe = pa_peer_new(m->key, now)) == NULL) {
		log_warnx("paths: no room for another peer");
		return;
	}
	log_escape(pe->name, sizeof(pe->name), m->name, strlen(m->name));
	pa_peer_nat(pe, &m->ep);
	for (i = 0; i < pe->ps.npaths; i++)
		pe->ps.paths[i].published = false;
	for (i = 0; i < m->ep.n; i++) {
		if (m->ep.c[i].kind == CONTROL_EP_PREDICTED)
			continue;
		len = addr_to_sockaddr(&m->ep.c[i].addr, m->ep.c[i].port, &ss);
		if (ps_path_add(&pe->ps, (struct sockaddr *)&ss, len,
		    pa_kind(m->ep.c[i].kind), now) == -1)
			break;
	}
	ps_prune(&pe->ps);
	pa_select(pe, now, false);	/* party.c asks paths_best() next */
}

void
paths_peer_remove(const uint8_t key[NODE_KEYLEN])
{
	size_t	 i;

	for (i = 0; i < PA.npeers; i++) {
		if (sodium_memcmp(PA.peers[i]->key, key, NODE_KEYLEN) != 0)
			continue;
		sidechan_peer_del(key);
		sodium_memzero(PA.peers[i], sizeof(*PA.peers[i]));
		free(PA.peers[i]);
		PA.peers[i] = PA.peers[--PA.npeers];
		return;
	}
}

bool
paths_best(const uint8_t key[NODE_KEYLEN], struct sockaddr_storage *ss)
{
	struct pa_peer	*pe = pa_find(key);

	if (pe == NULL || pe->ps.best < 0)
		return false;
	*ss = pe->ps.paths[pe->ps.best].sa;
	return true;
}

/* A relay that has just died is not given out before the next tick. */
bool
paths_relay(const uint8_t key[NODE_KEYLEN], struct sockaddr_storage *ss)
{
	struct pa_peer		*pe = pa_find(key);
	const struct ps_path	*p;

	if (pe == NULL || pe->rl.best < 0)
		return false;
	p = &pe->rl.paths[pe->rl.best];
	if (!relayc_usable_at((const struct sockaddr *)&p->sa))
		return false;
	*ss = p->sa;
	return true;
}

/* This node's NAT, from the last netcheck and its LAN addresses. */
void
paths_self_changed(void)
{
	struct addr	 a;
	uint16_t	 port, predicted;
	uint8_t		 kind;

	memset(&PA.self, 0, sizeof(PA.self));
	if (!netcheck_mapped(&a, &port) || !netcheck_nat(&kind, &predicted))
		return;
	PA.self.known = kind != CONTROL_EP_STUN;
	PA.self.mapping = CONTROL_EP_NAT_MAP(kind);
	PA.self.filtering = CONTROL_EP_NAT_FILT(kind);
	PA.self.behind = !party_is_local(&a);
}

int
paths_init(struct wg_device *dev, const uint8_t priv[NODE_KEYLEN],
    const uint8_t pub[NODE_KEYLEN])
{
	struct timeval	 tv = { 0, PA_TICK_MS * 1000 };

	PA.dev = dev;
	memcpy(PA.priv, priv, NODE_KEYLEN);
	memcpy(PA.pub, pub, NODE_KEYLEN);
	if ((PA.tick = event_new(proc_base(), -1, EV_PERSIST, pa_tick,
	    NULL)) == NULL || event_add(PA.tick, &tv) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
paths_free(void)
{
	while (PA.npeers > 0) {
		sodium_memzero(PA.peers[--PA.npeers], sizeof(struct pa_peer));
		free(PA.peers[PA.npeers]);
	}
	if (PA.tick != NULL)
		event_free(PA.tick);
	sodium_memzero(&PA, sizeof(PA));
}

/* JSON. */

static json_t *
pa_ms(uint32_t us, bool have)
{
	return have ? json_real(us / 1000.0) : json_null();
}

static json_t *
pa_path_json(const struct ps_peer *pp, size_t i)
{
	const struct ps_path	*p = &pp->paths[i];
	char			 ep[LR_SOCKADDR_STRLEN];
	int			 loss = ps_loss_pct(p);

	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}",
	    "endpoint", sockaddr_fmt((struct sockaddr *)&p->sa, ep,
	    sizeof(ep)), "kind", ps_kind_name(p->kind),
	    "state", (int)i == pp->best ? "chosen" : ps_alive(p) ?
	    "valid" : p->last_pong_ms != 0 ? "dead" : "probing",
	    "rtt_ms", pa_ms(p->srtt_us, p->last_pong_ms != 0),
	    "jitter_ms", pa_ms(p->jitter_us, p->last_pong_ms != 0),
	    "loss_pct", loss >= 0 ? json_integer(loss) : json_null());
}

json_t *
paths_peer_json(const uint8_t key[NODE_KEYLEN])
{
	const struct pa_peer	*pe = pa_find(key);
	const struct ps_path	*p, *m;
	char			 reason[PS_REASON_MAX * 2];
	char			 seen[LR_SOCKADDR_STRLEN];
	json_t			*cands, *relays, *o;
	size_t			 i;
	int			 loss;

	if (pe == NULL)
		return json_null();
	ps_reason(&pe->ps, &PA.self, clock_mono_us() / 1000, reason,
	    sizeof(reason));
	cands = json_array();
	for (i = 0; cands != NULL && i < pe->ps.npaths; i++)
		json_array_append_new(cands, pa_path_json(&pe->ps, i));
	relays = json_array();
	for (i = 0; relays != NULL && i < pe->rl.npaths; i++)
		json_array_append_new(relays, pa_path_json(&pe->rl, i));
	p = pe->ps.best >= 0 ? &pe->ps.paths[pe->ps.best] : NULL;
	/* no direct path: the figures are the chosen relay's, if any */
	m = p != NULL ? p : pe->rl.best >= 0 ? &pe->rl.paths[pe->rl.best] :
	    NULL;
	loss = m != NULL ? ps_loss_pct(m) : -1;
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o}", "path", p != NULL ? "direct" : "none",
	    "reason", reason, "nat", ps_nat_name(&pe->ps.nat),
	    "switched", pe->ps.why,
	    "rtt_ms", pa_ms(m != NULL ? m->srtt_us : 0, m != NULL),
	    "jitter_ms", pa_ms(m != NULL ? m->jitter_us : 0, m != NULL),
	    "loss_pct", loss >= 0 ? json_integer(loss) : json_null(),
	    "time_to_path_ms", pe->ps.direct_ms != 0 ?
	    json_integer((json_int_t)(pe->ps.direct_ms -
	    pe->ps.appeared_ms)) : json_null(),
	    "seen_as", pe->seen_as.ss_family != 0 ? json_string(sockaddr_fmt(
	    (struct sockaddr *)&pe->seen_as, seen, sizeof(seen))) :
	    json_null(),
	    "predicted_port", pe->predicted != 0 ?
	    json_integer(pe->predicted) : json_null(),
	    "candidates", cands, "relays", relays);
	return o;
}

json_t *
paths_stats_json(void)
{
	struct sidechan_stats	 sc;

	sidechan_stats(&sc);
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}", "nat", ps_nat_name(&PA.self),
	    "unknown_sender", (json_int_t)sc.unknown_sender,
	    "rate_limited", (json_int_t)sc.rate_limited,
	    "forged", (json_int_t)sc.forged,
	    "stale", (json_int_t)PA.stale,
	    "reflected", (json_int_t)PA.reflected,
	    "replayed", (json_int_t)PA.replayed,
	    "unmatched_pong", (json_int_t)PA.late,
	    "queue_dropped", (json_int_t)sc.queue_dropped,
	    "stun_unexpected", (json_int_t)sc.stun_unexpected,
	    "relay_unexpected", (json_int_t)sc.relay_unexpected);
}
