/*
 * LAN emulation: UDP broadcasts and multicasts that programs on this
 * host send into the tunnel interface are carried to every member of
 * the party, and those members send are delivered here, with the
 * sender's virtual address as source (proto/lan.md).
 *
 * The kernel routes them to the TUN (255.255.255.255/32 and one /32 per
 * group, added here; the party subnet's broadcast has its local route
 * already); the WireGuard engine hands them to the hooks below, on its
 * worker threads, and copies what lan_carry() allows to every peer.
 * Everything the hooks touch is under one mutex: these packets are few
 * and rate-bounded, and never on the unicast path.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lanraged/lanraged.h"
#include "lanraged/node.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/lan.h"
#include "lib/log.h"
#include "lib/wg/device.h"

#define LAN_TOTAL_FACTOR	4	/* all ports together: 4 x lan.rate */

struct lan_peer {
	uint8_t			 key[NODE_KEYLEN];
	uint32_t		 addr;
	char			 name[CONTROL_NAMESIZ];
	struct lan_bucket	 bucket;
	uint64_t		 in, limited;
};

struct lan_counts {
	uint64_t	 carried, copies, filtered, loop, limited, malformed;
};

static struct {
	pthread_mutex_t		 mx;
	struct wg_device	*dev;
	uint32_t		 ifindex;
	struct lan_policy	 pol;
	char			 ports[SETTINGS_VALUE_MAX];
	uint32_t		 rate, peer_rate;
	struct lan_dedup	 dedup;
	struct lan_port_buckets	 out_ports;
	struct lan_bucket	 out_total;
	struct lan_peer		 peers[CONTROL_MAX_MEMBERS];
	size_t			 npeers;
	struct lan_counts	 out, in;
	uint64_t		 duplicates;
	/* routes we added: the limited broadcast, then the groups */
	struct prefix		 routes[LAN_MAX_GROUPS + 1];
	size_t			 nroutes;
} L = { .mx = PTHREAD_MUTEX_INITIALIZER };

/* ---- the hooks (worker threads) ---- */

static bool
lan_carry(const uint8_t *pkt, size_t len, void *arg)
{
	struct lan_dgram	 d;
	uint64_t		 now = clock_mono_ms();
	bool			 ok = false;

	pthread_mutex_lock(&L.mx);
	if (lan_parse(pkt, len, &d) == -1)
		L.out.malformed++;
	else switch (lan_check_out(&L.pol, &d)) {
	case LAN_FILTERED:
		L.out.filtered++;
		break;
	case LAN_LOOP:
		L.out.loop++;
		break;
	case LAN_CARRY:
		if (!lan_port_take(&L.out_ports, d.dport, L.rate, now) ||
		    !lan_bucket_take(&L.out_total, L.rate * LAN_TOTAL_FACTOR,
		    now)) {
			L.out.limited++;
			break;
		}
		L.out.carried++;
		L.out.copies += L.npeers;
		ok = true;
		break;
	}
	pthread_mutex_unlock(&L.mx);
	return ok;
}

static struct lan_peer *
lan_peer_find(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < L.npeers; i++)
		if (memcmp(L.peers[i].key, key, NODE_KEYLEN) == 0)
			return &L.peers[i];
	return NULL;
}

static bool
lan_take_in(struct lan_peer *pe, const struct lan_dgram *d, uint64_t now)
{
	/* a duplicate costs no token */
	if (lan_dedup_seen(&L.dedup, d, now)) {
		L.duplicates++;
		return false;
	}
	if (!lan_bucket_take(&pe->bucket, L.peer_rate, now)) {
		pe->limited++;
		L.in.limited++;
		return false;
	}
	pe->in++;
	L.in.carried++;
	return true;
}

static bool
lan_deliver(const uint8_t key[32], const uint8_t *pkt, size_t len,
    void *arg)
{
	struct lan_dgram	 d;
	struct lan_peer		*pe;
	bool			 ok = false;

	pthread_mutex_lock(&L.mx);
	if (lan_parse(pkt, len, &d) == -1)
		L.in.malformed++;
	else if ((pe = lan_peer_find(key)) == NULL)
		L.in.filtered++;	/* a peer not of the party */
	else switch (lan_check_in(&L.pol, &d, pe->addr)) {
	case LAN_FILTERED:
		L.in.filtered++;
		break;
	case LAN_LOOP:
		L.in.loop++;
		break;
	case LAN_CARRY:
		ok = lan_take_in(pe, &d, clock_mono_ms());
		break;
	}
	pthread_mutex_unlock(&L.mx);
	return ok;
}

/* ---- configuration (the event loop) ---- */

static int
lan_hooks_set(void)
{
	struct wg_lan_hooks	 h;

	memset(&h, 0, sizeof(h));
	h.carry = lan_carry;
	h.deliver = lan_deliver;
	if (L.pol.self != 0 && ~L.pol.mask > 1) {
		h.bcast[0] = htonl(L.pol.net | ~L.pol.mask);
		h.nbcast = 1;
	}
	return wg_device_set_lan(L.dev, &h);
}

static void
lan_route(bool add, const struct prefix *p)
{
	char	 s[LR_PREFIX_STRLEN];

	prefix_fmt(p, s, sizeof(s));
	if (netd_req_route(add, L.ifindex, p, 0) == -1 &&
	    !(add && errno == EEXIST))
		log_warn("lan: cannot %s the route to %s", add ? "add" :
		    "remove", s);
}

static void
lan_host_prefix(uint32_t a, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.af = AF_INET;
	p->addr.v4.s_addr = htonl(a);
	p->len = 32;
}

/* The routes that bring what programs send to the TUN: now, or none. */
static void
lan_routes_sync(void)
{
	struct prefix	 want[LAN_MAX_GROUPS + 1];
	size_t		 n = 0, i, j;

	if (L.pol.self != 0) {
		lan_host_prefix(0xffffffffU, &want[n++]);
		for (i = 0; i < L.pol.ngroups; i++)
			lan_host_prefix(L.pol.groups[i], &want[n++]);
	}
	for (i = 0; i < L.nroutes; i++) {
		for (j = 0; j < n; j++)
			if (addr_eq(&L.routes[i].addr, &want[j].addr))
				break;
		if (j == n)
			lan_route(false, &L.routes[i]);
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < L.nroutes; i++)
			if (addr_eq(&L.routes[i].addr, &want[j].addr))
				break;
		if (i == L.nroutes)
			lan_route(true, &want[j]);
	}
	memcpy(L.routes, want, n * sizeof(want[0]));
	L.nroutes = n;
}

/* The settings lan.*, validated when they were stored. */
static void
lan_settings_load(void)
{
	char		 v[SETTINGS_VALUE_MAX];
	const char	*why;

	if (settings_get("lan.ports", v, sizeof(v)) == -1 ||
	    conf_parse_ports(v, &L.pol.ports, &why) == -1)
		L.pol.ports.n = 0;
	snprintf(L.ports, sizeof(L.ports), "%s", L.pol.ports.n ? v : "");
	if (settings_get("lan.groups", v, sizeof(v)) == -1 ||
	    lan_parse_groups(v, L.pol.groups, &L.pol.ngroups, &why) == -1)
		L.pol.ngroups = 0;
	L.rate = (uint32_t)settings_get_ulong("lan.rate");
	L.peer_rate = (uint32_t)settings_get_ulong("lan.peer_rate");
}

int
lan_init(struct wg_device *dev, uint32_t ifindex)
{
	L.dev = dev;
	L.ifindex = ifindex;
	lan_dedup_init(&L.dedup);
	pthread_mutex_lock(&L.mx);
	lan_settings_load();
	pthread_mutex_unlock(&L.mx);
	return lan_hooks_set();
}

void
lan_free(void)
{
	if (L.dev == NULL)
		return;
	wg_device_set_lan(L.dev, NULL);
	pthread_mutex_lock(&L.mx);
	L.pol.self = 0;
	pthread_mutex_unlock(&L.mx);
	lan_routes_sync();
	L.dev = NULL;
}

void
lan_reload(void)
{
	pthread_mutex_lock(&L.mx);
	lan_settings_load();
	pthread_mutex_unlock(&L.mx);
	lan_routes_sync();
	log_info("lan: ports %s, %zu groups, %u/s per port, %u/s per peer",
	    L.ports[0] != '\0' ? L.ports : "none", L.pol.ngroups, L.rate,
	    L.peer_rate);
}

/* The members, their counters kept for those that stay. */
static void
lan_members_sync(const struct control_state *st, const uint8_t *self_key)
{
	struct lan_peer		 next[CONTROL_MAX_MEMBERS], *old;
	const struct control_member *m;
	size_t			 i, n = 0;

	for (i = 0; st != NULL && i < st->nmembers; i++) {
		m = &st->members[i];
		if (memcmp(m->key, self_key, NODE_KEYLEN) == 0 ||
		    m->addr.af != AF_INET)
			continue;
		if ((old = lan_peer_find(m->key)) != NULL)
			next[n] = *old;
		else
			memset(&next[n], 0, sizeof(next[n]));
		memcpy(next[n].key, m->key, NODE_KEYLEN);
		memcpy(next[n].name, m->name, sizeof(next[n].name));
		next[n].addr = ntohl(m->addr.v4.s_addr);
		n++;
	}
	memcpy(L.peers, next, n * sizeof(next[0]));
	L.npeers = n;
}

void
lan_party(const struct prefix *addr, const struct control_state *st,
    const uint8_t self_key[NODE_KEYLEN])
{
	uint32_t	 self = 0, mask = 0;

	if (addr != NULL && addr->addr.af == AF_INET) {
		self = ntohl(addr->addr.v4.s_addr);
		mask = addr->len == 0 ? 0 : 0xffffffffU << (32 - addr->len);
	}
	pthread_mutex_lock(&L.mx);
	L.pol.self = self;
	L.pol.mask = mask;
	L.pol.net = self & mask;
	lan_members_sync(st, self_key);
	pthread_mutex_unlock(&L.mx);
	if (lan_hooks_set() == -1)
		log_warn("lan: hooks");
	lan_routes_sync();
}

/* ---- what lanragectl shows ---- */

static json_t *
lan_counts_json(const struct lan_counts *c, bool out)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    out ? "carried" : "delivered", (json_int_t)c->carried,
	    "filtered", (json_int_t)(c->filtered + c->malformed),
	    "loop", (json_int_t)c->loop,
	    "rate_limited", (json_int_t)c->limited,
	    out ? "copies" : "duplicate", (json_int_t)(out ? c->copies :
	    L.duplicates));
}

static json_t *
lan_peers_json(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < L.npeers; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}",
		    "name", L.peers[i].name,
		    "delivered", (json_int_t)L.peers[i].in,
		    "rate_limited", (json_int_t)L.peers[i].limited));
	return a;
}

static json_t *
lan_groups_json(void)
{
	struct prefix	 p;
	char		 s[LR_PREFIX_STRLEN];
	json_t		*a = json_array();
	size_t		 i;

	for (i = 0; a != NULL && i < L.pol.ngroups; i++) {
		lan_host_prefix(L.pol.groups[i], &p);
		json_array_append_new(a, json_string(addr_fmt(&p.addr, s,
		    sizeof(s))));
	}
	return a;
}

json_t *
lan_json(void)
{
	struct wg_device_stats	 st;
	json_t			*o;

	wg_device_stats(L.dev, &st);
	pthread_mutex_lock(&L.mx);
	o = json_pack("{s:s, s:o, s:I, s:I, s:b, s:o, s:o, s:o, s:I}",
	    "ports", L.ports,
	    "groups", lan_groups_json(),
	    "rate", (json_int_t)L.rate,
	    "peer_rate", (json_int_t)L.peer_rate,
	    "active", L.pol.self != 0,
	    "out", lan_counts_json(&L.out, true),
	    "in", lan_counts_json(&L.in, false),
	    "peers", lan_peers_json(),
	    "sent", (json_int_t)st.lan_copies);
	pthread_mutex_unlock(&L.mx);
	return o;
}
