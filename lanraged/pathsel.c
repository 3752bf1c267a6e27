/*
 * Path selection without I/O (see pathsel.h).  The punching schedule
 * front-loads pings so that two nodes that learn of each other at about
 * the same moment open their NATs to each other within a few hundred
 * milliseconds, then backs off so that a pair that cannot be direct
 * costs little.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "lanraged/pathsel.h"
#include "proto/control.h"

#define PS_SRTT_SLACK_US	1000	/* RTT gains smaller than this: keep */

static const uint64_t ps_first_pings[] = { 0, 100, 200, 400, 800 };

void
ps_peer_init(struct ps_peer *pp, uint64_t now)
{
	memset(pp, 0, sizeof(*pp));
	pp->best = -1;
	pp->in_use = -1;
	pp->appeared_ms = now;
}

int
ps_path_find(const struct ps_peer *pp, const struct sockaddr *sa)
{
	size_t	 i;

	for (i = 0; i < pp->npaths; i++)
		if (sockaddr_eq((const struct sockaddr *)&pp->paths[i].sa, sa))
			return (int)i;
	return -1;
}

static size_t
ps_learned(const struct ps_peer *pp, int *oldest_dead)
{
	size_t	 i, n = 0;
	uint64_t since = UINT64_MAX;

	*oldest_dead = -1;
	for (i = 0; i < pp->npaths; i++) {
		if (pp->paths[i].kind != PS_LEARNED)
			continue;
		n++;
		if (!ps_alive(&pp->paths[i]) && (int)i != pp->best &&
		    pp->paths[i].since_ms < since) {
			since = pp->paths[i].since_ms;
			*oldest_dead = (int)i;
		}
	}
	return n;
}

static void
ps_path_reset(struct ps_path *p, const struct sockaddr *sa, socklen_t len,
    uint8_t kind, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	memcpy(&p->sa, sa, len);
	p->kind = kind;
	p->published = kind != PS_LEARNED;
	p->since_ms = now;
}

int
ps_path_add(struct ps_peer *pp, const struct sockaddr *sa, socklen_t len,
    uint8_t kind, uint64_t now)
{
	int	 i, dead;

	if (len > sizeof(struct sockaddr_storage))
		return -1;
	if ((i = ps_path_find(pp, sa)) != -1) {
		if (kind != PS_LEARNED) {
			/* published after all: it stays when pruned */
			pp->paths[i].published = true;
			if (pp->paths[i].kind == PS_LEARNED)
				pp->paths[i].kind = kind;
		}
		return i;
	}
	if (kind == PS_LEARNED &&
	    ps_learned(pp, &dead) >= PS_MAX_LEARNED) {
		if (dead == -1)
			return -1;
		ps_path_reset(&pp->paths[dead], sa, len, kind, now);
		return dead;
	}
	if (pp->npaths == PS_MAX_PATHS)
		return -1;
	ps_path_reset(&pp->paths[pp->npaths], sa, len, kind, now);
	return (int)pp->npaths++;
}

void
ps_prune(struct ps_peer *pp)
{
	size_t	 i, j = 0;
	int	 best = -1;

	for (i = 0; i < pp->npaths; i++) {
		if (!pp->paths[i].published &&
		    pp->paths[i].kind != PS_LEARNED)
			continue;
		if ((int)i == pp->best)
			best = (int)j;
		pp->paths[j++] = pp->paths[i];
	}
	pp->npaths = j;
	pp->best = best;
	pp->in_use = -1;		/* paths.c looks again */
}

bool
ps_alive(const struct ps_path *p)
{
	return p->last_pong_ms != 0 && p->misses < PS_DEAD_MISSES;
}

/* Punching: a burst first, then ever rarer. */
static bool
ps_punch_due(const struct ps_path *p, uint64_t now)
{
	uint64_t	 t = now - p->since_ms, every;
	size_t		 nfirst = sizeof(ps_first_pings) /
			    sizeof(ps_first_pings[0]);

	if (p->pings < nfirst)
		return t >= ps_first_pings[p->pings];
	if (t < PS_PUNCH_MID_MS)
		every = 1000;
	else if (t < PS_PUNCH_SLOW_MS)
		every = 5000;
	else
		every = 30000;
	return now - p->last_ping_ms >= every;
}

bool
ps_ping_due(const struct ps_peer *pp, size_t i, uint64_t now)
{
	const struct ps_path	*p = &pp->paths[i];

	if (!ps_alive(p))
		return ps_punch_due(p, now);
	/* the path packets take is watched closely, chosen or not */
	return now - p->last_ping_ms >= ((int)i == pp->best ||
	    (int)i == pp->in_use ? PS_BEST_EVERY : PS_OTHER_EVERY);
}

void
ps_ping_sent(struct ps_path *p, uint64_t now)
{
	p->last_ping_ms = now;
	p->pings++;
}

static void
ps_window_push(struct ps_path *p, bool answered)
{
	p->window = p->window << 1 | (answered ? 1 : 0);
	if (p->nwindow < PS_LOSS_WINDOW)
		p->nwindow++;
}

/* RFC 3550 section 6.4.1: J += (|D| - J) / 16, D between samples. */
void
ps_pong(struct ps_path *p, uint32_t rtt_us, uint64_t now)
{
	uint32_t	 d;

	if (p->last_pong_ms == 0 || p->srtt_us == 0) {
		p->srtt_us = rtt_us;
		p->jitter_us = 0;
	} else {
		d = rtt_us > p->rtt_us ? rtt_us - p->rtt_us :
		    p->rtt_us - rtt_us;
		p->jitter_us = (uint32_t)((int64_t)p->jitter_us +
		    ((int64_t)d - (int64_t)p->jitter_us) / 16);
		p->srtt_us = (uint32_t)(((uint64_t)p->srtt_us * 7 + rtt_us) /
		    8);
	}
	p->rtt_us = rtt_us;
	p->last_pong_ms = now;
	p->misses = 0;
	ps_window_push(p, true);
}

void
ps_lost(struct ps_path *p, uint64_t now)
{
	ps_window_push(p, false);
	if (p->misses < UINT8_MAX)
		p->misses++;
	if (p->last_pong_ms != 0 && p->misses == PS_DEAD_MISSES) {
		/* It was a path: punch it again from the start. */
		p->since_ms = now;
		p->pings = 0;
	}
}

int
ps_loss_pct(const struct ps_path *p)
{
	uint32_t	 mask;
	int		 got;

	if (p->nwindow == 0)
		return -1;
	mask = p->nwindow >= 32 ? UINT32_MAX : (1u << p->nwindow) - 1;
	got = __builtin_popcount(p->window & mask);
	return (p->nwindow - got) * 100 / p->nwindow;
}

/* Lower is better: the peer's LAN first. */
static int
ps_class(const struct ps_path *p)
{
	return p->kind == PS_LAN ? 0 : 1;
}

static bool
ps_better(const struct ps_path *a, const struct ps_path *b)
{
	if (ps_class(a) != ps_class(b))
		return ps_class(a) < ps_class(b);
	return a->srtt_us < b->srtt_us;
}

/* Worth leaving a live path for: a better class or a clear RTT gain. */
static bool
ps_clearly_better(const struct ps_path *a, const struct ps_path *b)
{
	if (ps_class(a) != ps_class(b))
		return ps_class(a) < ps_class(b);
	return (uint64_t)a->srtt_us * 5 < (uint64_t)b->srtt_us * 4 &&
	    b->srtt_us - a->srtt_us > PS_SRTT_SLACK_US;
}

bool
ps_select(struct ps_peer *pp, uint64_t now)
{
	const struct ps_path	*cur = pp->best >= 0 ?
				    &pp->paths[pp->best] : NULL;
	int			 cand = -1, old = pp->best;
	size_t			 i;

	for (i = 0; i < pp->npaths; i++)
		if (ps_alive(&pp->paths[i]) && (cand == -1 ||
		    ps_better(&pp->paths[i], &pp->paths[cand])))
			cand = (int)i;
	if (cand == old)
		return false;
	if (cur != NULL && ps_alive(cur) && cand != -1 &&
	    !ps_clearly_better(&pp->paths[cand], cur))
		return false;
	if (cand == -1)
		snprintf(pp->why, sizeof(pp->why), "the path died");
	else if (cur == NULL)
		snprintf(pp->why, sizeof(pp->why), pp->direct_ms == 0 ?
		    "first path" : "a path came back");
	else if (!ps_alive(cur))
		snprintf(pp->why, sizeof(pp->why), "the path died");
	else if (ps_class(&pp->paths[cand]) < ps_class(cur))
		snprintf(pp->why, sizeof(pp->why), "same LAN");
	else
		snprintf(pp->why, sizeof(pp->why), "lower RTT (%.1f ms, "
		    "was %.1f)", pp->paths[cand].srtt_us / 1000.0,
		    cur->srtt_us / 1000.0);
	pp->best = cand;
	if (cand != -1 && pp->direct_ms == 0)
		pp->direct_ms = now;
	return true;
}

const char *
ps_kind_name(uint8_t kind)
{
	switch (kind) {
	case PS_LAN:		return "lan";
	case PS_STUN:		return "public";
	case PS_CONFIGURED:	return "configured";
	case PS_LEARNED:	return "learned";
	case PS_RELAY:		return "relay";
	}
	return "unknown";
}

const char *
ps_nat_name(const struct ps_nat *n)
{
	if (!n->known)
		return "unknown NAT";
	if (!n->behind)
		return "no NAT";
	if (n->mapping == CONTROL_NAT_MAP_DEPENDENT)
		return "symmetric";
	if (n->mapping != CONTROL_NAT_MAP_INDEPENDENT)
		return "unknown NAT";
	switch (n->filtering) {
	case CONTROL_NAT_FILT_INDEPENDENT:	return "full-cone";
	case CONTROL_NAT_FILT_ADDRESS:		return "address-restricted";
	case CONTROL_NAT_FILT_PORT:		return "port-restricted";
	}
	return "cone";
}

/* Lets anyone in who knows its public address and port. */
static bool
ps_open_door(const struct ps_nat *n)
{
	return !n->known || !n->behind ||
	    (n->mapping == CONTROL_NAT_MAP_INDEPENDENT &&
	    n->filtering == CONTROL_NAT_FILT_INDEPENDENT);
}

static bool
ps_symmetric(const struct ps_nat *n)
{
	return n->known && n->behind &&
	    n->mapping == CONTROL_NAT_MAP_DEPENDENT;
}

/*
 * Two cones always meet (each side's pings open its own NAT to the
 * other's mapping).  A symmetric NAT's port toward us is unknown until
 * its ping arrives, so the other side must let in a port it has not
 * sent to: full cone, or address-restricted (our pings to its public
 * address opened it for any of its ports).
 */
bool
ps_direct_possible(const struct ps_nat *a, const struct ps_nat *b,
    char *why, size_t len)
{
	const struct ps_nat	*other;

	if (ps_open_door(a) || ps_open_door(b) ||
	    (!ps_symmetric(a) && !ps_symmetric(b)))
		return true;
	if (ps_symmetric(a) && ps_symmetric(b)) {
		snprintf(why, len, "both symmetric");
		return false;
	}
	other = ps_symmetric(a) ? b : a;
	if (other->filtering != CONTROL_NAT_FILT_PORT)
		return true;
	snprintf(why, len, "%s \u2194 %s (only port guessing can meet)",
	    ps_nat_name(a), ps_nat_name(b));
	return false;
}

void
ps_reason(const struct ps_peer *pp, const struct ps_nat *self,
    uint64_t now, char *buf, size_t len)
{
	const struct ps_path	*p;
	char			 why[PS_REASON_MAX];

	if (pp->best >= 0) {
		p = &pp->paths[pp->best];
		/* a LAN address of a host with no NAT is a public one */
		if (p->kind == PS_LAN && (pp->nat.behind || !pp->nat.known))
			snprintf(buf, len, "direct: same LAN");
		else
			snprintf(buf, len, "direct: %s \u2194 %s",
			    ps_nat_name(self), ps_nat_name(&pp->nat));
		return;
	}
	if (pp->npaths == 0) {
		snprintf(buf, len, "none: the peer has published no address");
		return;
	}
	if (!ps_direct_possible(self, &pp->nat, why, sizeof(why))) {
		snprintf(buf, len, "none: %s; needs a relay", why);
		return;
	}
	if (now - pp->appeared_ms < PS_PUNCH_MID_MS)
		snprintf(buf, len, "none yet: probing %zu address%s",
		    pp->npaths, pp->npaths == 1 ? "" : "es");
	else
		snprintf(buf, len, "none: no answer to probes (%s \u2194 %s;"
		    " a firewall?)", ps_nat_name(self), ps_nat_name(&pp->nat));
}

bool
ps_birthday_wanted(const struct ps_peer *pp, const struct ps_nat *self,
    uint64_t now)
{
	/* a more open self meets a symmetric peer without guessing */
	return pp->best < 0 && ps_symmetric(&pp->nat) &&
	    self->known && self->behind && !ps_symmetric(self) &&
	    self->filtering != CONTROL_NAT_FILT_INDEPENDENT &&
	    self->filtering != CONTROL_NAT_FILT_ADDRESS &&
	    now - pp->appeared_ms >= PS_PUNCH_FAST_MS;
}
