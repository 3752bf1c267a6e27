/*
 * Policy: what netd.conf allows.  Pure functions, so the tests can walk
 * every edge without a kernel.
 */
#include <string.h>

#include "lanrage-netd/netd.h"

bool
netd_policy_ifname(const struct netd_conf *c, const char *name)
{
	size_t	 plen = strlen(c->prefix);

	return conf_ifname_valid(name) && strncmp(name, c->prefix, plen) == 0;
}

static bool
netd_in_overlay(const struct netd_conf *c, const struct prefix *p)
{
	size_t	 i;

	for (i = 0; i < c->overlay.n; i++)
		if (prefix_contains(&c->overlay.p[i], p))
			return true;
	return false;
}

/* An interface address: the subnet it implies lies in the overlay. */
bool
netd_policy_addr(const struct netd_conf *c, const struct prefix *p)
{
	return netd_in_overlay(c, p);
}

bool
netd_policy_overlay_addr(const struct netd_conf *c, const struct addr *a)
{
	struct prefix	 host;

	host.addr = *a;
	host.len = addr_maxlen(a->af);
	return netd_in_overlay(c, &host);
}

static bool
netd_is_multicast_prefix(const struct prefix *p)
{
	struct prefix	 mc;

	if (p->addr.af == AF_INET)
		prefix_parse("224.0.0.0/4", &mc);
	else
		prefix_parse("ff00::/8", &mc);
	return prefix_contains(&mc, p);
}

/* Overlay prefixes, multicast, and the limited-broadcast host route. */
bool
netd_policy_route(const struct netd_conf *c, const struct prefix *p)
{
	struct prefix	 bcast;

	if (!prefix_is_canonical(p))
		return false;
	prefix_parse("255.255.255.255/32", &bcast);
	if (p->addr.af == AF_INET && p->len == 32 &&
	    addr_eq(&p->addr, &bcast.addr))
		return true;
	return netd_is_multicast_prefix(p) || netd_in_overlay(c, p);
}

/* Every port of lo..hi lies in the union of the configured ranges. */
bool
netd_policy_ports(const struct netd_conf *c, uint16_t lo, uint16_t hi)
{
	uint32_t	 cur = lo;
	size_t		 i;
	bool		 moved;

	if (lo == 0 || lo > hi)
		return false;
	do {
		moved = false;
		for (i = 0; i < c->ports.n; i++) {
			if (cur >= c->ports.r[i].lo && cur <= c->ports.r[i].hi) {
				cur = (uint32_t)c->ports.r[i].hi + 1;
				moved = true;
			}
		}
	} while (moved && cur <= hi);
	return cur > hi;
}

/* Directed broadcast of an overlay subnet: every host bit set. */
static bool
netd_is_directed_broadcast(const struct netd_conf *c, const struct addr *a)
{
	struct prefix	 p;
	size_t		 i;
	uint32_t	 host, mask;

	for (i = 0; i < c->overlay.n; i++) {
		p = c->overlay.p[i];
		if (p.addr.af != AF_INET || p.len >= 31 ||
		    !prefix_contains_addr(&p, a))
			continue;
		mask = p.len == 0 ? 0 : ~0u << (32 - p.len);
		host = ntohl(a->v4.s_addr);
		if ((host & ~mask) == ~mask)
			return true;
	}
	return false;
}

/* Injected datagrams go only to broadcast or multicast destinations. */
bool
netd_policy_inject_dst(const struct netd_conf *c, const struct addr *a)
{
	uint32_t	 h;

	if (a->af != AF_INET)
		return false;
	h = ntohl(a->v4.s_addr);
	if (h == 0xffffffffu || (h & 0xf0000000u) == 0xe0000000u)
		return true;
	return netd_is_directed_broadcast(c, a);
}
