/*
 * The bindings of lanrage-relayd: node key → source address, in a
 * party, until it expires.  Allocated once (MaxBindings) and never
 * grown: a flood can fill it, not grow it.  Two indexes: by source
 * address (a SEND names its sender by where it comes from) and by party
 * (a SEND names its destination by tag among the sender's party).  The
 * address hash is keyed SipHash, so that nobody can aim collisions.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lanrage-relayd/relayd.h"

#define RT_NONE		UINT32_MAX

struct rbind {
	uint8_t			 node[RELAY_KEYLEN];
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	uint64_t		 expires;	/* monotonic s */
	uint64_t		 time_ms;	/* of the BIND that set it */
	uint32_t		 addr_next;	/* address chain */
	uint32_t		 party;		/* index in parties */
	uint32_t		 party_next;	/* the party's list */
	_Atomic uint64_t	 rate_sec;	/* SEND rate window */
	_Atomic uint32_t	 rate_count;
	bool			 used;
};

struct rparty {
	uint8_t			 id[RELAY_IDLEN];
	uint32_t		 head;		/* first binding */
	uint32_t		 next;		/* hash chain */
	uint16_t		 n;
	bool			 used;
};

struct rtab {
	pthread_rwlock_t	 lock;
	struct rbind		*b;
	struct rparty		*p;
	size_t			 cap, n, np;
	uint32_t		*free_b, *free_p;	/* stacks */
	size_t			 nfree_b, nfree_p;
	uint32_t		*addr_head, *party_head;
	size_t			 mask;		/* both tables */
	unsigned		 packet_rate;
	uint8_t			 hkey[crypto_shorthash_KEYBYTES];
};

static size_t
rt_pow2(size_t n)
{
	size_t	 p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct rtab *
rtab_new(size_t max, unsigned packet_rate)
{
	struct rtab	*t;
	size_t		 i, nb;

	if (max == 0 || max > (1u << 24) || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	nb = rt_pow2(max);
	t->cap = max;
	t->mask = nb - 1;
	t->packet_rate = packet_rate;
	t->b = calloc(max, sizeof(*t->b));
	t->p = calloc(max, sizeof(*t->p));
	t->free_b = calloc(max, sizeof(uint32_t));
	t->free_p = calloc(max, sizeof(uint32_t));
	t->addr_head = calloc(nb, sizeof(uint32_t));
	t->party_head = calloc(nb, sizeof(uint32_t));
	if (t->b == NULL || t->p == NULL || t->free_b == NULL ||
	    t->free_p == NULL || t->addr_head == NULL || t->party_head == NULL) {
		rtab_free(t);
		return NULL;
	}
	for (i = 0; i < nb; i++)
		t->addr_head[i] = t->party_head[i] = RT_NONE;
	for (i = 0; i < max; i++)
		t->free_b[i] = t->free_p[i] = (uint32_t)(max - 1 - i);
	t->nfree_b = t->nfree_p = max;
	randombytes_buf(t->hkey, sizeof(t->hkey));
	pthread_rwlock_init(&t->lock, NULL);
	return t;
}

void
rtab_free(struct rtab *t)
{
	if (t == NULL)
		return;
	free(t->b);
	free(t->p);
	free(t->free_b);
	free(t->free_p);
	free(t->addr_head);
	free(t->party_head);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

void
rtab_rdlock(struct rtab *t)
{
	pthread_rwlock_rdlock(&t->lock);
}

void
rtab_wrlock(struct rtab *t)
{
	pthread_rwlock_wrlock(&t->lock);
}

void
rtab_unlock(struct rtab *t)
{
	pthread_rwlock_unlock(&t->lock);
}

/* Address bytes and port: what a source is. */
static size_t
rt_addr_hash(const struct rtab *t, const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4 = (const void *)sa;
	const struct sockaddr_in6	*s6 = (const void *)sa;
	uint8_t				 in[18], h[crypto_shorthash_BYTES];
	size_t				 n, v;

	if (sa->sa_family == AF_INET) {
		memcpy(in, &s4->sin_addr, 4);
		memcpy(in + 4, &s4->sin_port, 2);
		n = 6;
	} else {
		memcpy(in, &s6->sin6_addr, 16);
		memcpy(in + 16, &s6->sin6_port, 2);
		n = 18;
	}
	crypto_shorthash(h, in, n, t->hkey);
	memcpy(&v, h, sizeof(v));
	return v & t->mask;
}

static size_t
rt_party_hash(const struct rtab *t, const uint8_t *id)
{
	uint8_t	 h[crypto_shorthash_BYTES];
	size_t	 v;

	crypto_shorthash(h, id, RELAY_IDLEN, t->hkey);
	memcpy(&v, h, sizeof(v));
	return v & t->mask;
}

static uint32_t
rt_by_addr(const struct rtab *t, const struct sockaddr *sa)
{
	uint32_t	 i;

	for (i = t->addr_head[rt_addr_hash(t, sa)]; i != RT_NONE;
	    i = t->b[i].addr_next)
		if (sockaddr_eq((const struct sockaddr *)&t->b[i].sa, sa))
			return i;
	return RT_NONE;
}

static uint32_t
rt_party_find(const struct rtab *t, const uint8_t *id)
{
	uint32_t	 i;

	for (i = t->party_head[rt_party_hash(t, id)]; i != RT_NONE;
	    i = t->p[i].next)
		if (memcmp(t->p[i].id, id, RELAY_IDLEN) == 0)
			return i;
	return RT_NONE;
}

static void
rt_addr_link(struct rtab *t, uint32_t i)
{
	uint32_t	*head = &t->addr_head[rt_addr_hash(t,
			    (struct sockaddr *)&t->b[i].sa)];

	t->b[i].addr_next = *head;
	*head = i;
}

static void
rt_addr_unlink(struct rtab *t, uint32_t i)
{
	uint32_t	*pp = &t->addr_head[rt_addr_hash(t,
			    (struct sockaddr *)&t->b[i].sa)];

	while (*pp != RT_NONE && *pp != i)
		pp = &t->b[*pp].addr_next;
	if (*pp == i)
		*pp = t->b[i].addr_next;
}

static uint32_t
rt_party_new(struct rtab *t, const uint8_t *id)
{
	uint32_t	 i, *head;

	if (t->nfree_p == 0)
		return RT_NONE;
	i = t->free_p[--t->nfree_p];
	memset(&t->p[i], 0, sizeof(t->p[i]));
	memcpy(t->p[i].id, id, RELAY_IDLEN);
	t->p[i].head = RT_NONE;
	t->p[i].used = true;
	head = &t->party_head[rt_party_hash(t, id)];
	t->p[i].next = *head;
	*head = i;
	t->np++;
	return i;
}

static void
rt_party_drop(struct rtab *t, uint32_t pi)
{
	uint32_t	*pp = &t->party_head[rt_party_hash(t, t->p[pi].id)];

	while (*pp != RT_NONE && *pp != pi)
		pp = &t->p[*pp].next;
	if (*pp == pi)
		*pp = t->p[pi].next;
	t->p[pi].used = false;
	t->free_p[t->nfree_p++] = pi;
	t->np--;
}

/* Out of its party (the party goes with its last member) and freed. */
static void
rt_remove(struct rtab *t, uint32_t i)
{
	struct rparty	*p = &t->p[t->b[i].party];
	uint32_t	*pp = &p->head;

	while (*pp != RT_NONE && *pp != i)
		pp = &t->b[*pp].party_next;
	if (*pp == i)
		*pp = t->b[i].party_next;
	if (--p->n == 0)
		rt_party_drop(t, t->b[i].party);
	rt_addr_unlink(t, i);
	t->b[i].used = false;
	t->free_b[t->nfree_b++] = i;
	t->n--;
}

/*
 * The node's binding in the party, if any; *conflict when another key
 * of the party has its tag.
 */
static uint32_t
rt_party_member(const struct rtab *t, uint32_t pi, const uint8_t *node,
    bool *conflict)
{
	uint32_t	 i;

	*conflict = false;
	for (i = t->p[pi].head; i != RT_NONE; i = t->b[i].party_next) {
		if (memcmp(t->b[i].node, node, RELAY_KEYLEN) == 0)
			return i;
		if (memcmp(t->b[i].node, node, RELAY_TAGLEN) == 0)
			*conflict = true;
	}
	return RT_NONE;
}

static uint32_t
rt_add(struct rtab *t, uint32_t pi, const struct rtab_bind_req *r)
{
	uint32_t	 i = t->free_b[--t->nfree_b];
	struct rbind	*b = &t->b[i];

	memset(b, 0, sizeof(*b));
	memcpy(b->node, r->node, RELAY_KEYLEN);
	b->party = pi;
	b->party_next = t->p[pi].head;
	t->p[pi].head = i;
	t->p[pi].n++;
	b->used = true;
	t->n++;
	return i;
}

static void
rt_set_addr(struct rtab *t, uint32_t i, const struct rtab_bind_req *r)
{
	if (t->b[i].salen != 0)
		rt_addr_unlink(t, i);
	memset(&t->b[i].sa, 0, sizeof(t->b[i].sa));
	memcpy(&t->b[i].sa, r->sa, r->salen);
	t->b[i].salen = r->salen;
	rt_addr_link(t, i);
}

/*
 * Who may bind from this address: nobody else bound there, or the same
 * node (moving to another party).
 */
static int
rt_addr_free(struct rtab *t, const struct rtab_bind_req *r,
    enum relayd_drop *why)
{
	uint32_t	 o = rt_by_addr(t, r->sa);

	if (o == RT_NONE)
		return 0;
	if (memcmp(t->b[o].node, r->node, RELAY_KEYLEN) != 0) {
		*why = RD_ADDR_BUSY;
		return -1;
	}
	if (memcmp(t->p[t->b[o].party].id, r->party, RELAY_IDLEN) != 0)
		rt_remove(t, o);
	return 0;
}

int
rtab_bind(struct rtab *t, const struct rtab_bind_req *r, uint64_t now,
    uint32_t *nbound, enum relayd_drop *why)
{
	uint32_t	 pi, i = RT_NONE;
	bool		 conflict = false;

	if (r->salen > sizeof(struct sockaddr_storage) ||
	    rt_addr_free(t, r, why) == -1)
		return -1;
	if ((pi = rt_party_find(t, r->party)) != RT_NONE)
		i = rt_party_member(t, pi, r->node, &conflict);
	if (conflict) {
		*why = RD_TAG_CONFLICT;
		return -1;
	}
	if (i != RT_NONE && r->time_ms <= t->b[i].time_ms &&
	    !sockaddr_eq((struct sockaddr *)&t->b[i].sa, r->sa)) {
		*why = RD_REPLAY;	/* an old BIND cannot move it */
		return -1;
	}
	if (i == RT_NONE) {
		if (t->nfree_b == 0 || (pi != RT_NONE &&
		    t->p[pi].n >= RELAYD_PARTY_MAX) || (pi == RT_NONE &&
		    (pi = rt_party_new(t, r->party)) == RT_NONE)) {
			*why = RD_FULL;
			return -1;
		}
		i = rt_add(t, pi, r);
	}
	if (!sockaddr_eq((struct sockaddr *)&t->b[i].sa, r->sa))
		rt_set_addr(t, i, r);
	if (r->time_ms > t->b[i].time_ms)
		t->b[i].time_ms = r->time_ms;
	t->b[i].expires = now + RELAY_BIND_LIFETIME_S;
	*nbound = t->p[pi].n;
	return 0;
}

bool
rtab_bound(struct rtab *t, const struct sockaddr *sa, socklen_t len)
{
	return rt_by_addr(t, sa) != RT_NONE;
}

/* One window a second; racing workers may let a few more through. */
static bool
rt_rate_ok(struct rtab *t, struct rbind *b, uint64_t now)
{
	if (atomic_load_explicit(&b->rate_sec, memory_order_relaxed) != now) {
		atomic_store_explicit(&b->rate_sec, now, memory_order_relaxed);
		atomic_store_explicit(&b->rate_count, 0, memory_order_relaxed);
	}
	return atomic_fetch_add_explicit(&b->rate_count, 1,
	    memory_order_relaxed) < t->packet_rate;
}

int
rtab_route(struct rtab *t, const struct sockaddr *sa, socklen_t salen,
    const uint8_t tag[RELAY_TAGLEN], uint64_t now, struct rtab_fwd *out,
    enum relayd_drop *why)
{
	uint32_t	 s, d;
	struct rbind	*src;

	if ((s = rt_by_addr(t, sa)) == RT_NONE) {
		*why = RD_UNBOUND;
		return -1;
	}
	src = &t->b[s];
	if (!rt_rate_ok(t, src, now)) {
		*why = RD_RATE;
		return -1;
	}
	for (d = t->p[src->party].head; d != RT_NONE; d = t->b[d].party_next)
		if (d != s && memcmp(t->b[d].node, tag, RELAY_TAGLEN) == 0)
			break;
	if (d == RT_NONE) {
		*why = RD_NO_DEST;
		return -1;
	}
	memcpy(&out->dst, &t->b[d].sa, t->b[d].salen);
	out->dstlen = t->b[d].salen;
	memcpy(out->src_tag, src->node, RELAY_TAGLEN);
	return 0;
}

size_t
rtab_expire(struct rtab *t, uint64_t now)
{
	size_t	 i, gone = 0;

	for (i = 0; i < t->cap; i++)
		if (t->b[i].used && t->b[i].expires <= now) {
			rt_remove(t, (uint32_t)i);
			gone++;
		}
	return gone;
}

size_t
rtab_nbindings(struct rtab *t)
{
	return t->n;
}

size_t
rtab_nparties(struct rtab *t)
{
	return t->np;
}
