/*
 * The ledger: every kernel object netd created for its client, so that
 * all of them can be removed when the client leaves or netd exits.
 * Bounded tables; a full table refuses the operation (NETD_E_LIMIT).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lanrage-netd/netd.h"
#include "lanrage-netd/kif.h"
#include "lib/log.h"

struct ledger_addr {
	unsigned int	 ifindex;
	struct prefix	 p;
};

struct ledger_route {
	unsigned int	 ifindex;
	struct prefix	 dst;
	uint32_t	 metric;
};

static struct ledger_link	 links[NETD_MAX_LINKS];
static size_t			 nlinks;
static struct ledger_addr	 addrs[NETD_MAX_ADDRS];
static size_t			 naddrs;
static struct ledger_route	 routes[NETD_MAX_ROUTES];
static size_t			 nroutes;

int
ledger_add_link(unsigned int ifindex, const char *name, uint32_t flags)
{
	struct ledger_link	*l;

	if (nlinks == NETD_MAX_LINKS) {
		errno = ENOSPC;
		return -1;
	}
	l = &links[nlinks++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->flags = flags;
	return 0;
}

struct ledger_link *
ledger_link(unsigned int ifindex)
{
	size_t	 i;

	for (i = 0; i < nlinks; i++)
		if (links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

/* The kernel drops a link's addresses and routes with it. */
void
ledger_forget_link(unsigned int ifindex)
{
	size_t	 i, j;

	for (i = j = 0; i < naddrs; i++)
		if (addrs[i].ifindex != ifindex)
			addrs[j++] = addrs[i];
	naddrs = j;
	for (i = j = 0; i < nroutes; i++)
		if (routes[i].ifindex != ifindex)
			routes[j++] = routes[i];
	nroutes = j;
	for (i = j = 0; i < nlinks; i++)
		if (links[i].ifindex != ifindex)
			links[j++] = links[i];
	nlinks = j;
}

static bool
ledger_same_prefix(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && addr_eq(&a->addr, &b->addr);
}

int
ledger_add_addr(unsigned int ifindex, const struct prefix *p)
{
	if (naddrs == NETD_MAX_ADDRS) {
		errno = ENOSPC;
		return -1;
	}
	addrs[naddrs].ifindex = ifindex;
	addrs[naddrs].p = *p;
	naddrs++;
	return 0;
}

void
ledger_forget_addr(unsigned int ifindex, const struct prefix *p)
{
	size_t	 i;

	for (i = 0; i < naddrs; i++) {
		if (addrs[i].ifindex == ifindex &&
		    ledger_same_prefix(&addrs[i].p, p)) {
			addrs[i] = addrs[--naddrs];
			return;
		}
	}
}

int
ledger_add_route(unsigned int ifindex, const struct prefix *dst,
    uint32_t metric)
{
	if (nroutes == NETD_MAX_ROUTES) {
		errno = ENOSPC;
		return -1;
	}
	routes[nroutes].ifindex = ifindex;
	routes[nroutes].dst = *dst;
	routes[nroutes].metric = metric;
	nroutes++;
	return 0;
}

void
ledger_forget_route(unsigned int ifindex, const struct prefix *dst,
    uint32_t metric)
{
	size_t	 i;

	for (i = 0; i < nroutes; i++) {
		if (routes[i].ifindex == ifindex && routes[i].metric == metric &&
		    ledger_same_prefix(&routes[i].dst, dst)) {
			routes[i] = routes[--nroutes];
			return;
		}
	}
}

size_t
ledger_count(void)
{
	return nlinks + naddrs + nroutes;
}

/* Removal errors are logged and skipped: the rest must still go. */
void
ledger_teardown(void)
{
	char	 buf[LR_PREFIX_STRLEN];

	while (nroutes > 0) {
		nroutes--;
		if (kif_route(0, routes[nroutes].ifindex, &routes[nroutes].dst,
		    routes[nroutes].metric) == -1 && errno != ESRCH &&
		    errno != ENODEV)
			log_warn("remove route %s", prefix_fmt(
			    &routes[nroutes].dst, buf, sizeof(buf)));
	}
	while (naddrs > 0) {
		naddrs--;
		if (kif_addr(0, addrs[naddrs].ifindex, &addrs[naddrs].p) == -1 &&
		    errno != EADDRNOTAVAIL && errno != ENODEV)
			log_warn("remove address %s", prefix_fmt(
			    &addrs[naddrs].p, buf, sizeof(buf)));
	}
	while (nlinks > 0) {
		nlinks--;
		if (kif_link_del(links[nlinks].ifindex) == -1 &&
		    errno != ENODEV)
			log_warn("remove interface %s", links[nlinks].name);
		else
			log_info("removed interface %s", links[nlinks].name);
	}
}
