/*
 * The node's side of the relays (proto/relay.md): the list and tokens
 * controld gives for the party, a binding at every relay of it (renewed
 * every RC_REBIND_S), a PING every RC_PING_MS to each (RTT, liveness),
 * and the choice of the relay a peer without a direct path goes
 * through: alive, bound, the node's own region first, then the lowest
 * RTT.  Binding at all of them (at most RC_MAX) is what makes failover
 * fast: when the chosen relay stops answering, the peers move to the
 * next one, where they are bound already, and the WireGuard session
 * carries on.
 */
#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lanraged/node.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "proto/relay.h"

#define RC_TICK_MS	50
#define RC_PING_MS	250
#define RC_DEAD_MS	1000	/* no PONG this long: not alive */
#define RC_BIND_RETRY_MS 1000
#define RC_REBIND_MS	60000
#define RC_PENDING	8	/* pings in flight per relay */
#define RC_RTT_INIT	UINT32_MAX

struct rc_ping {
	uint8_t		 txid[RELAY_TXIDLEN];
	uint64_t	 sent_us;
};

struct rc_relay {
	uint8_t			 key[RELAY_KEYLEN];
	char			 region[CONTROL_NAMESIZ];
	uint8_t			 load;		/* as controld last said */
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	struct relay_token	 token;
	bool			 bound;
	uint64_t		 bound_ms;	/* last BOUND */
	uint64_t		 bind_sent_ms;
	uint32_t		 nbound;	/* in the party, per BOUND */
	uint64_t		 last_ping_ms;
	uint64_t		 last_pong_ms;
	struct rc_ping		 pend[RC_PENDING];
	size_t			 npend_next;
	uint32_t		 srtt_us;
	uint64_t		 pings, pongs;
};

static struct {
	struct wg_device	*dev;
	uint8_t			 priv[NODE_KEYLEN];
	uint8_t			 pub[NODE_KEYLEN];
	struct rc_relay		 r[CONTROL_MAX_RELAYS];
	size_t			 n;
	int			 best;		/* index, or -1 */
	char			 region[CONTROL_NAMESIZ];	/* ours */
	struct event		*tick;
	uint64_t		 switches;
} RC = { .best = -1 };

static bool
rc_alive(const struct rc_relay *r, uint64_t now)
{
	return r->bound && r->last_pong_ms != 0 &&
	    now - r->last_pong_ms < RC_DEAD_MS &&
	    now - r->bound_ms < RELAY_BIND_LIFETIME_S * 1000;
}

static void
rc_send(struct rc_relay *r, const struct buf *b)
{
	if (wg_device_send_other(RC.dev, b->data, b->len,
	    (struct sockaddr *)&r->sa, r->salen) == -1)
		log_debug("relays: send: %s", strerror(errno));
}

static void
rc_bind(struct rc_relay *r, uint64_t now)
{
	uint8_t		 mem[RELAY_BINDLEN];
	struct buf	 b;

	r->bind_sent_ms = now;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (relay_enc_bind(&b, &r->token, RC.priv, clock_wall_ms()) == 0)
		rc_send(r, &b);
}

static void
rc_ping(struct rc_relay *r, uint64_t now_us)
{
	struct rc_ping	*p = &r->pend[r->npend_next++ % RC_PENDING];
	uint8_t		 mem[RELAY_PINGLEN];
	struct buf	 b;

	randombytes_buf(p->txid, sizeof(p->txid));
	p->sent_us = now_us;
	r->last_ping_ms = now_us / 1000;
	r->pings++;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (relay_enc_ping(&b, p->txid) == 0)
		rc_send(r, &b);
}

/* Own region first, then RTT; the current one unless clearly worse. */
static bool
rc_better(const struct rc_relay *a, const struct rc_relay *b,
    const char *region)
{
	bool	 ar = region[0] != '\0' && strcmp(a->region, region) == 0;
	bool	 br = region[0] != '\0' && strcmp(b->region, region) == 0;

	if (ar != br)
		return ar;
	return a->srtt_us + a->srtt_us / 4 + 200 < b->srtt_us;
}

static void
rc_choose(uint64_t now)
{
	int	 best = -1, old = RC.best;
	size_t	 i;

	if (old >= 0 && rc_alive(&RC.r[old], now))
		best = old;
	for (i = 0; i < RC.n; i++)
		if (rc_alive(&RC.r[i], now) && (best < 0 ||
		    rc_better(&RC.r[i], &RC.r[best], RC.region)))
			best = (int)i;
	if (best == old)
		return;
	RC.best = best;
	RC.switches++;
	if (best >= 0)
		log_info("relays: using the relay in %s (RTT %.2f ms)%s",
		    RC.r[best].region, RC.r[best].srtt_us / 1000.0,
		    old >= 0 ? ": the last one died or is worse" : "");
	else
		log_info("relays: no live relay");
	party_relay_changed();
}

static void
rc_tick(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	 now_us = clock_mono_us(), now = now_us / 1000;
	struct rc_relay	*r;
	size_t		 i;

	for (i = 0; i < RC.n; i++) {
		r = &RC.r[i];
		/* silent though bound: it restarted and forgot us, or died */
		if (r->bound && now - (r->last_pong_ms != 0 ? r->last_pong_ms :
		    r->bound_ms) > 2 * RC_DEAD_MS)
			r->bound = false;
		if ((!r->bound || now - r->bound_ms >= RC_REBIND_MS) &&
		    now - r->bind_sent_ms >= RC_BIND_RETRY_MS)
			rc_bind(r, now);
		if (r->bound && now - r->last_ping_ms >= RC_PING_MS)
			rc_ping(r, now_us);
	}
	rc_choose(now);
}

/* Where sidechan must let relay frames through, and WireGuard unwrap. */
static void
rc_publish(void)
{
	struct sockaddr_storage	 ss[CONTROL_MAX_RELAYS];
	socklen_t		 len[CONTROL_MAX_RELAYS];
	size_t			 i;

	for (i = 0; i < RC.n; i++) {
		ss[i] = RC.r[i].sa;
		len[i] = RC.r[i].salen;
	}
	if (wg_device_set_relays(RC.dev, ss, len, RC.n) == -1)
		log_warn("relays: data plane");
	sidechan_relays_set(ss, len, RC.n);
}

static struct rc_relay *
rc_find(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < RC.n; i++)
		if (memcmp(RC.r[i].key, key, RELAY_KEYLEN) == 0)
			return &RC.r[i];
	return NULL;
}

/* One entry of the list; what we know of a relay is kept if it stayed. */
static bool
rc_entry(const struct control_relay *e, struct rc_relay *out)
{
	const struct rc_relay	*old = rc_find(e->key);
	struct sockaddr_storage	 sa;
	socklen_t		 salen;

	salen = addr_to_sockaddr(&e->addr, e->port, &sa);
	if (old != NULL && sockaddr_eq((const struct sockaddr *)&old->sa,
	    (struct sockaddr *)&sa))
		*out = *old;
	else {
		memset(out, 0, sizeof(*out));
		out->sa = sa;
		out->salen = salen;
		out->srtt_us = RC_RTT_INIT;
	}
	if (relay_token_dec(e->token, &out->token) == -1 ||
	    memcmp(out->token.node_key, RC.pub, RELAY_KEYLEN) != 0)
		return false;
	memcpy(out->key, e->key, RELAY_KEYLEN);
	memcpy(out->region, e->region, sizeof(out->region));
	out->load = e->load;
	return true;
}

/*
 * A relay the list left out but that still answers us, with a token
 * still good, stays: a control server that has just restarted lists
 * only the relays that have reported to it since, and dropping the
 * others would cut every relayed peer off until they do.  It goes when
 * it stops answering (the next list) or its token expires.
 */
static size_t
rc_keep_unlisted(struct rc_relay *next, size_t n, uint64_t now)
{
	size_t	 i, j, kept = 0;

	for (i = 0; i < RC.n && n < CONTROL_MAX_RELAYS; i++) {
		for (j = 0; j < n; j++)
			if (memcmp(next[j].key, RC.r[i].key, RELAY_KEYLEN) == 0)
				break;
		if (j < n || !rc_alive(&RC.r[i], now) ||
		    RC.r[i].token.expiry <= (uint64_t)(clock_wall_ms() / 1000))
			continue;
		next[n++] = RC.r[i];
		kept++;
	}
	return kept;
}

/* The setting, read with each list and when set, not on every choice. */
static void
rc_region_read(void)
{
	if (settings_get("relay.region", RC.region, sizeof(RC.region)) == -1)
		RC.region[0] = '\0';
}

void
relayc_reload(void)
{
	rc_region_read();
	rc_choose(clock_mono_us() / 1000);
}

size_t
relayc_list(const struct control_relay_list *l)
{
	static struct rc_relay	 next[CONTROL_MAX_RELAYS];
	uint8_t			 best[RELAY_KEYLEN];
	bool			 had = RC.best >= 0, changed;
	size_t			 i, n = 0, kept;

	if (had)
		memcpy(best, RC.r[RC.best].key, RELAY_KEYLEN);
	for (i = 0; i < l->n; i++)
		if (rc_entry(&l->r[i], &next[n]))
			n++;
	kept = rc_keep_unlisted(next, n, clock_mono_us() / 1000);
	n += kept;
	changed = n != RC.n;
	for (i = 0; !changed && i < n; i++)
		changed = memcmp(next[i].key, RC.r[i].key, RELAY_KEYLEN) != 0 ||
		    !sockaddr_eq((struct sockaddr *)&next[i].sa,
		    (struct sockaddr *)&RC.r[i].sa);
	rc_region_read();
	memcpy(RC.r, next, n * sizeof(next[0]));
	RC.n = n;
	RC.best = -1;
	for (i = 0; had && i < n; i++)
		if (memcmp(RC.r[i].key, best, RELAY_KEYLEN) == 0)
			RC.best = (int)i;
	if (changed) {
		log_info("relays: %zu from the control server%s", n - kept,
		    kept > 0 ? ", and unlisted ones that still answer" : "");
		rc_publish();
	}
	if (had && RC.best < 0)
		party_relay_changed();
	return kept;
}

void
relayc_clear(void)
{
	static const struct control_relay_list	 none;
	bool					 had = RC.best >= 0;

	relayc_list(&none);
	if (had)
		party_relay_changed();
}

static void
rc_bound(struct rc_relay *r, const struct relay_msg *m, uint64_t now)
{
	uint16_t	 lifetime;
	uint32_t	 nbound;

	if (relay_bound_open(m, RC.priv, r->key, &lifetime, &nbound) == -1)
		return;
	if (!r->bound)
		log_info("relays: bound at the relay in %s (%u in the party)",
		    r->region, nbound);
	r->bound = true;
	r->bound_ms = now;
	r->nbound = nbound;
	if (r->last_pong_ms == 0)
		rc_ping(r, clock_mono_us());	/* measure it at once */
}

static void
rc_pong(struct rc_relay *r, const struct relay_msg *m, uint64_t now_us)
{
	uint32_t	 rtt;
	size_t		 i;

	for (i = 0; i < RC_PENDING; i++)
		if (r->pend[i].sent_us != 0 && sodium_memcmp(r->pend[i].txid,
		    m->txid, RELAY_TXIDLEN) == 0)
			break;
	if (i == RC_PENDING)
		return;		/* no ping of ours, or answered already */
	rtt = (uint32_t)(now_us - r->pend[i].sent_us);
	r->pend[i].sent_us = 0;
	r->srtt_us = r->srtt_us == RC_RTT_INIT ? rtt :
	    (r->srtt_us * 7 + rtt) / 8;
	r->last_pong_ms = now_us / 1000;
	r->load = m->load;
	r->pongs++;
	rc_choose(now_us / 1000);
}

void
relayc_input(const uint8_t *p, size_t len, const struct sockaddr *src)
{
	struct relay_msg	 m;
	struct rc_relay		*r = NULL;
	uint64_t		 now_us = clock_mono_us();
	size_t			 i;

	for (i = 0; i < RC.n && r == NULL; i++)
		if (sockaddr_eq(src, (struct sockaddr *)&RC.r[i].sa))
			r = &RC.r[i];
	if (r == NULL || relay_decode(p, len, &m) == -1)
		return;
	if (m.type == RELAY_BOUND)
		rc_bound(r, &m, now_us / 1000);
	else if (m.type == RELAY_PONG)
		rc_pong(r, &m, now_us);
}

bool
relayc_best(struct sockaddr_storage *ss)
{
	if (RC.best < 0 || !rc_alive(&RC.r[RC.best], clock_mono_us() / 1000))
		return false;
	*ss = RC.r[RC.best].sa;
	return true;
}

/* Ours when the node has a region and a relay of it is alive. */
static bool
rc_region_alive(uint64_t now)
{
	size_t	 i;

	for (i = 0; RC.region[0] != '\0' && i < RC.n; i++)
		if (rc_alive(&RC.r[i], now) &&
		    strcmp(RC.r[i].region, RC.region) == 0)
			return true;
	return false;
}

static bool
rc_usable(const struct rc_relay *r, bool ours, uint64_t now)
{
	return rc_alive(r, now) && (!ours || strcmp(r->region, RC.region) == 0);
}

size_t
relayc_usable(struct sockaddr_storage *ss, size_t max)
{
	uint64_t	 now = clock_mono_us() / 1000;
	bool		 ours = rc_region_alive(now);
	size_t		 i, n = 0;

	for (i = 0; i < RC.n && n < max; i++)
		if (rc_usable(&RC.r[i], ours, now))
			ss[n++] = RC.r[i].sa;
	return n;
}

bool
relayc_usable_at(const struct sockaddr *sa)
{
	uint64_t	 now = clock_mono_us() / 1000;
	bool		 ours = rc_region_alive(now);
	size_t		 i;

	for (i = 0; i < RC.n; i++)
		if (sockaddr_eq(sa, (struct sockaddr *)&RC.r[i].sa))
			return rc_usable(&RC.r[i], ours, now);
	return false;
}

bool
relayc_is_relay(const struct sockaddr *sa)
{
	size_t	 i;

	for (i = 0; i < RC.n; i++)
		if (sockaddr_eq(sa, (struct sockaddr *)&RC.r[i].sa))
			return true;
	return false;
}

static json_t *
rc_relay_json(const struct rc_relay *r, bool in_use, uint64_t now)
{
	char	 sa[LR_SOCKADDR_STRLEN];
	char	 key[NODE_B64KEY_LEN + 1];

	node_key_b64(r->key, key);
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:i, s:I, s:I, "
	    "s:i}", "key", key, "region", r->region,
	    "address", sockaddr_fmt((const struct sockaddr *)&r->sa, sa,
	    sizeof(sa)),
	    "bound", r->bound, "alive", rc_alive(r, now), "in_use", in_use,
	    "rtt_ms", r->srtt_us == RC_RTT_INIT ? json_null() :
	    json_real(r->srtt_us / 1000.0),
	    "load", r->load, "pings", (json_int_t)r->pings,
	    "pongs", (json_int_t)r->pongs, "nbound", (int)r->nbound);
}

json_t *
relayc_json(void)
{
	json_t		*a = json_array();
	uint64_t	 now = clock_mono_us() / 1000;
	size_t		 i;

	for (i = 0; a != NULL && i < RC.n; i++)
		json_array_append_new(a, rc_relay_json(&RC.r[i],
		    (int)i == RC.best, now));
	return json_pack("{s:o, s:o, s:I}", "relays", a, "using",
	    RC.best >= 0 ? json_string(RC.r[RC.best].region) : json_null(),
	    "switches", (json_int_t)RC.switches);
}

int
relayc_init(struct wg_device *dev, const uint8_t priv[NODE_KEYLEN],
    const uint8_t pub[NODE_KEYLEN])
{
	struct timeval	 tv = { 0, RC_TICK_MS * 1000 };

	RC.dev = dev;
	memcpy(RC.priv, priv, NODE_KEYLEN);
	memcpy(RC.pub, pub, NODE_KEYLEN);
	RC.best = -1;
	if ((RC.tick = event_new(proc_base(), -1, EV_PERSIST, rc_tick,
	    NULL)) == NULL || event_add(RC.tick, &tv) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
relayc_free(void)
{
	if (RC.tick != NULL)
		event_free(RC.tick);
	sodium_memzero(&RC, sizeof(RC));
	RC.best = -1;
}
