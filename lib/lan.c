/*
 * LAN discovery traffic: parser, policy, duplicates, buckets (lan.h).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/lan.h"

#define LAN_LIMITED	0xffffffffU

static uint16_t
lan_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
lan_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
lan_parse(const uint8_t *pkt, size_t len, struct lan_dgram *d)
{
	size_t	 ihl, total, ulen;

	if (len < 20 || (pkt[0] >> 4) != 4)
		goto bad;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = lan_get16(pkt + 2);
	/* more fragments, or an offset: not one whole datagram */
	if (ihl < 20 || total < ihl + 8 || total > len ||
	    (lan_get16(pkt + 6) & 0x3fff) != 0 || pkt[9] != 17)
		goto bad;
	ulen = lan_get16(pkt + ihl + 4);
	if (ulen != total - ihl)
		goto bad;
	d->src = lan_get32(pkt + 12);
	d->dst = lan_get32(pkt + 16);
	d->ipid = lan_get16(pkt + 4);
	d->sport = lan_get16(pkt + ihl);
	d->dport = lan_get16(pkt + ihl + 2);
	d->payload = pkt + ihl + 8;
	d->plen = ulen - 8;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static bool
lan_is_multicast(uint32_t a)
{
	return (a & 0xf0000000U) == 0xe0000000U;
}

enum lan_dst
lan_dst_kind(const struct lan_policy *pol, uint32_t dst)
{
	size_t	 i;

	if (dst == LAN_LIMITED)
		return LAN_DST_LIMITED;
	if (lan_is_multicast(dst)) {
		for (i = 0; i < pol->ngroups; i++)
			if (pol->groups[i] == dst)
				return LAN_DST_GROUP;
		return LAN_DST_MCAST_OTHER;
	}
	/* a /31 or /32 has no broadcast address */
	if (pol->self != 0 && pol->mask != 0 && ~pol->mask > 1 &&
	    dst == (pol->net | ~pol->mask))
		return LAN_DST_SUBNET;
	return LAN_DST_OTHER;
}

bool
lan_port_carried(const struct lan_policy *pol, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < pol->ports.n; i++)
		if (port >= pol->ports.r[i].lo && port <= pol->ports.r[i].hi)
			return true;
	return false;
}

static bool
lan_kind_carried(enum lan_dst k)
{
	return k == LAN_DST_LIMITED || k == LAN_DST_SUBNET ||
	    k == LAN_DST_GROUP;
}

enum lan_verdict
lan_check_out(const struct lan_policy *pol, const struct lan_dgram *d)
{
	if (pol->self == 0 || !lan_kind_carried(lan_dst_kind(pol, d->dst)) ||
	    !lan_port_carried(pol, d->dport))
		return LAN_FILTERED;
	/* only what this host sends as itself: never what it was given */
	if (d->src != pol->self)
		return LAN_LOOP;
	return LAN_CARRY;
}

enum lan_verdict
lan_check_in(const struct lan_policy *pol, const struct lan_dgram *d,
    uint32_t peer_addr)
{
	if (pol->self == 0 || !lan_kind_carried(lan_dst_kind(pol, d->dst)) ||
	    !lan_port_carried(pol, d->dport))
		return LAN_FILTERED;
	/* our own coming back, or a peer passing on someone else's */
	if (d->src == pol->self || d->src != peer_addr)
		return LAN_LOOP;
	return LAN_CARRY;
}

int
lan_parse_groups(const char *s, uint32_t *groups, size_t *n,
    const char **why)
{
	struct conf_prefixes	 ps;
	size_t			 i;

	if (*s == '\0') {
		*n = 0;
		return 0;
	}
	if (conf_parse_addresses(s, &ps, why) == -1)
		return -1;
	if (ps.n > LAN_MAX_GROUPS) {
		*why = "at most 16 groups";
		return -1;
	}
	for (i = 0; i < ps.n; i++) {
		if (ps.p[i].addr.af != AF_INET || ps.p[i].len != 32 ||
		    !lan_is_multicast(ntohl(ps.p[i].addr.v4.s_addr))) {
			*why = "expected IPv4 multicast addresses "
			    "(224.0.0.0/4), comma-separated";
			return -1;
		}
		groups[i] = ntohl(ps.p[i].addr.v4.s_addr);
	}
	*n = ps.n;
	return 0;
}

void
lan_dedup_init(struct lan_dedup *t)
{
	memset(t, 0, sizeof(*t));
	randombytes_buf(t->key, sizeof(t->key));
}

static uint64_t
lan_dedup_hash(const struct lan_dedup *t, const struct lan_dgram *d)
{
	crypto_generichash_state st;
	uint8_t		 hdr[14], out[8];
	uint64_t	 h;

	hdr[0] = (uint8_t)(d->src >> 24);
	hdr[1] = (uint8_t)(d->src >> 16);
	hdr[2] = (uint8_t)(d->src >> 8);
	hdr[3] = (uint8_t)d->src;
	hdr[4] = (uint8_t)(d->dst >> 24);
	hdr[5] = (uint8_t)(d->dst >> 16);
	hdr[6] = (uint8_t)(d->dst >> 8);
	hdr[7] = (uint8_t)d->dst;
	hdr[8] = (uint8_t)(d->sport >> 8);
	hdr[9] = (uint8_t)d->sport;
	hdr[10] = (uint8_t)(d->dport >> 8);
	hdr[11] = (uint8_t)d->dport;
	hdr[12] = (uint8_t)(d->ipid >> 8);
	hdr[13] = (uint8_t)d->ipid;
	crypto_generichash_init(&st, t->key, sizeof(t->key), sizeof(out));
	crypto_generichash_update(&st, hdr, sizeof(hdr));
	crypto_generichash_update(&st, d->payload, d->plen);
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(&h, out, sizeof(h));
	return h;
}

bool
lan_dedup_seen(struct lan_dedup *t, const struct lan_dgram *d,
    uint64_t now_ms)
{
	uint64_t	 h = lan_dedup_hash(t, d);
	size_t		 i, s, victim;

	victim = h & (LAN_DUP_SLOTS - 1);
	for (i = 0; i < LAN_DUP_PROBE; i++) {
		s = (h + i) & (LAN_DUP_SLOTS - 1);
		if (t->until[s] > now_ms && t->hash[s] == h)
			return true;
		/* the free or the oldest slot of the probe is reused */
		if (t->until[s] < t->until[victim])
			victim = s;
	}
	t->hash[victim] = h;
	t->until[victim] = now_ms + LAN_DUP_MS;
	return false;
}

bool
lan_bucket_take(struct lan_bucket *b, uint32_t rate, uint64_t now_ms)
{
	uint64_t	 cap = (uint64_t)rate * 2000;

	if (b->last_ms == 0 && b->milli == 0)
		b->milli = cap;			/* a new bucket starts full */
	else if (now_ms > b->last_ms)
		b->milli += (now_ms - b->last_ms) * rate;
	if (b->milli > cap)
		b->milli = cap;
	b->last_ms = now_ms;
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

bool
lan_port_take(struct lan_port_buckets *pb, uint16_t port, uint32_t rate,
    uint64_t now_ms)
{
	size_t	 i, lru = 0;

	for (i = 0; i < LAN_PORT_BUCKETS; i++) {
		if (pb->used[i] && pb->port[i] == port)
			return lan_bucket_take(&pb->b[i], rate, now_ms);
		if (!pb->used[i] || (pb->used[lru] &&
		    pb->b[i].last_ms < pb->b[lru].last_ms))
			lru = i;
	}
	pb->used[lru] = true;
	pb->port[lru] = port;
	memset(&pb->b[lru], 0, sizeof(pb->b[lru]));
	return lan_bucket_take(&pb->b[lru], rate, now_ms);
}
