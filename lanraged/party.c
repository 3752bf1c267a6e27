/*
 * Party mode: the node's view of its party (one at a time), kept equal
 * to what lanrage-controld says, and made real on the data plane: the
 * member address on the interface (through netd) and one WireGuard peer
 * per other member (through the engine).  The view is saved after every
 * change, so a restart brings the tunnels up before the control server
 * answers, and they stay up while it is away.
 */
#include <sys/param.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanraged/lanraged.h"
#include "lanraged/node.h"
#include "lib/cc.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "lib/wg/uapi.h"

#define PARTY_OP_TIMEOUT	10	/* seconds for the server's answer */
#define PARTY_MAX_OPS		64
#define PARTY_OP_PAYLOAD	512	/* ENDPOINTS: 1 + 16 x 20 */
#define PARTY_EP_CHECK		20	/* seconds between address checks */
#define PARTY_RELAYS_AGAIN	3	/* s: the list left out live relays */
/* at least this long between netchecks asked for by a moved mapping */
#define PARTY_REMAP_GAP_MS	10000
#define PARTY_MAX_REQUESTS	16

struct party_op {
	TAILQ_ENTRY(party_op)	 entry;
	uint16_t		 type;
	uint32_t		 id;		/* when sent */
	bool			 sent;
	bool			 pending;	/* JOIN waits for the host */
	bool			 awaiting;	/* answered; STATE to come */
	uint8_t			 payload[PARTY_OP_PAYLOAD];
	size_t			 len;
	uint8_t			 key[CONTROL_KEYLEN];	/* KICK's target */
	party_done_cb		 cb;		/* NULL: nobody waits */
	void			*ctx;
	struct event		*timer;
};

/* A peer this node put into the engine. */
struct party_peer {
	uint8_t			 key[CONTROL_KEYLEN];
	struct sockaddr_storage	 ep;		/* ss_family 0: none */
	bool			 relayed;	/* ep is a relay */
};

static struct {
	struct party_env	 env;
	uint8_t			 priv[NODE_KEYLEN];
	uint8_t			 pub[NODE_KEYLEN];
	struct control_state	*st;		/* NULL: in no party */
	bool			 synced;	/* STATE seen this session */
	bool			 addr_on;
	struct prefix		 addr;		/* on the interface */
	struct party_peer	 peers[CONTROL_MAX_MEMBERS];
	size_t			 npeers;
	TAILQ_HEAD(, party_op)	 ops;
	size_t			 nops;
	/* JOIN_REQUESTs waiting for this host's verdict, oldest first */
	struct control_join_request requests[PARTY_MAX_REQUESTS];
	size_t			 nrequests;
	struct control_endpoints ep;		/* as last told */
	struct control_endpoints lan;		/* this host's, last seen */
	struct event		*ep_ev;
	struct event		*relays_ev;	/* asks again soon */
	time_t			 relays_again;	/* in this many s */
	uint64_t		 remap_ms;	/* last netcheck for a moved mapping */
} P;

static void	 party_flush_ops(void);
static void	 party_netcheck_auto(void);
static void	 party_relays_refresh(void);
static void	 party_ep_check(evutil_socket_t, short, void *);
static void	 party_relays_again(evutil_socket_t, short, void *);
static void	 party_relays_kept(size_t);
static json_t	*party_json(void);

/* Data plane. */

static const struct control_member *
party_member(const struct control_state *st, const uint8_t *key)
{
	uint16_t	 i;

	for (i = 0; st != NULL && i < st->nmembers; i++)
		if (sodium_memcmp(st->members[i].key, key,
		    CONTROL_KEYLEN) == 0)
			return &st->members[i];
	return NULL;
}

static void
party_addr_set(const struct prefix *want)
{
	char	 s[LR_PREFIX_STRLEN];

	if (P.addr_on && want != NULL && P.addr.len == want->len &&
	    addr_eq(&P.addr.addr, &want->addr))
		return;
	if (P.addr_on) {
		prefix_fmt(&P.addr, s, sizeof(s));
		if (netd_req_addr(false, P.env.ifindex, &P.addr) == -1)
			log_warnx("%s: cannot remove %s", P.env.ifname, s);
		else
			log_info("%s: removed party address %s", P.env.ifname,
			    s);
		P.addr_on = false;
	}
	if (want == NULL)
		return;
	prefix_fmt(want, s, sizeof(s));
	if (netd_req_addr(true, P.env.ifindex, want) == -1 && errno !=
	    EEXIST) {
		log_warnx("%s: cannot add party address %s", P.env.ifname, s);
		return;
	}
	P.addr = *want;
	P.addr_on = true;
	log_info("%s: party address %s", P.env.ifname, s);
}

/*
 * A validated direct path (paths.c); else a relay, at once: the one
 * with the lowest RTT to this peer, or before that is measured the
 * node's own choice (punching goes on and moves the peer when a path
 * validates); else the first candidate the member published, so that a
 * handshake is under way the moment a path validates.
 */
static void
party_pick_endpoint(const struct control_member *m,
    struct sockaddr_storage *ss, bool *relayed)
{
	memset(ss, 0, sizeof(*ss));
	*relayed = false;
	if (paths_best(m->key, ss))
		return;
	if (paths_relay(m->key, ss) || relayc_best(ss)) {
		*relayed = true;
		return;
	}
	if (m->ep.n > 0)
		addr_to_sockaddr(&m->ep.c[0].addr, m->ep.c[0].port, ss);
}

static bool
party_same_ep(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
	return true;
}

static struct party_peer *
party_peer_find(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < P.npeers; i++)
		if (memcmp(P.peers[i].key, key, CONTROL_KEYLEN) == 0)
			return &P.peers[i];
	return NULL;
}

static struct wg_uapi_set *
party_set_new(size_t npeers)
{
	struct wg_uapi_set	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->peers = calloc(npeers + 1, sizeof(*set->peers));
	set->aips = calloc(npeers + 1, sizeof(*set->aips));
	if (set->peers == NULL || set->aips == NULL) {
		wg_uapi_set_free(set);
		return NULL;
	}
	set->peers_cap = npeers + 1;
	set->aips_cap = npeers + 1;
	return set;
}

/* Add or update one member's peer in set; false when nothing changes. */
static bool
party_set_member(struct wg_uapi_set *set, const struct control_member *m,
    uint16_t keepalive)
{
	struct wg_uapi_peer	*up = &set->peers[set->npeers];
	struct party_peer	*have = party_peer_find(m->key);
	struct sockaddr_storage	 ep;
	bool			 relayed;

	party_pick_endpoint(m, &ep, &relayed);
	if (have != NULL && party_same_ep(&have->ep, &ep) &&
	    have->relayed == relayed)
		return false;
	memcpy(up->public_key, m->key, CONTROL_KEYLEN);
	if (ep.ss_family != 0) {
		up->endpoint = ep;
		up->endpoint_len = ep.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		up->flags |= WG_UAPI_PEER_ENDPOINT;
		if (relayed)
			up->flags |= WG_UAPI_PEER_RELAYED;
	}
	if (have != NULL)
		up->flags |= WG_UAPI_PEER_UPDATE_ONLY;
	else {
		up->flags |= WG_UAPI_PEER_REPLACE_AIPS | WG_UAPI_PEER_KEEPALIVE;
		up->keepalive = keepalive;
		set->aips[set->naips].addr = m->addr;
		set->aips[set->naips].len = addr_maxlen(m->addr.af);
		up->aips = &set->aips[set->naips++];
		up->naips = 1;
	}
	set->npeers++;
	return true;
}

/* The peers that st names, and only those, with the first candidates. */
static void
party_sync_peers(void)
{
	struct wg_uapi_set	*set;
	struct party_peer	 now[CONTROL_MAX_MEMBERS];
	const struct control_member *m;
	size_t			 i, n = 0;
	uint16_t		 keepalive;
	int			 err;

	if ((set = party_set_new(P.npeers + CONTROL_MAX_MEMBERS)) == NULL) {
		log_warn("party: peers");
		return;
	}
	keepalive = (uint16_t)settings_get_ulong("keepalive");
	for (i = 0; i < P.npeers; i++) {
		m = party_member(P.st, P.peers[i].key);
		if (m != NULL && memcmp(m->key, P.pub, NODE_KEYLEN) != 0)
			continue;
		memcpy(set->peers[set->npeers].public_key, P.peers[i].key,
		    CONTROL_KEYLEN);
		set->peers[set->npeers++].flags = WG_UAPI_PEER_REMOVE;
		paths_peer_remove(P.peers[i].key);
	}
	for (i = 0; P.st != NULL && i < P.st->nmembers; i++) {
		m = &P.st->members[i];
		if (memcmp(m->key, P.pub, NODE_KEYLEN) == 0)
			continue;
		paths_peer_update(m);
		party_set_member(set, m, keepalive);
		memcpy(now[n].key, m->key, CONTROL_KEYLEN);
		party_pick_endpoint(m, &now[n].ep, &now[n].relayed);
		n++;
	}
	if (set->npeers > 0 && (err = wg_device_apply(P.env.dev, set)) != 0)
		log_warnx("party: cannot update the peers: %s", strerror(err));
	else {
		if (set->npeers > 0)
			log_info("party: %zu peers (%zu changes)", n,
			    set->npeers);
		memcpy(P.peers, now, n * sizeof(now[0]));
		P.npeers = n;
	}
	wg_uapi_set_free(set);
}

/* Make the interface and the engine match P.st, and save it. */
static void
party_apply(void)
{
	const struct control_member	*self;
	struct prefix			 a;

	self = party_member(P.st, P.pub);
	if (self != NULL) {
		a.addr = self->addr;
		a.len = P.st->subnet.len;
		party_addr_set(&a);
	} else
		party_addr_set(NULL);
	party_sync_peers();
	lan_party(P.addr_on ? &P.addr : NULL, P.st, P.pub);
	/* A view from PARTY alone waits for its STATE to be complete. */
	if ((P.st == NULL || P.synced) && settings_party_save(P.st) == -1)
		log_warn("party: cannot save the party state");
}

static void
party_drop(const char *why)
{
	char	 name[CONTROL_NAMESIZ * 4];

	if (P.st == NULL)
		return;
	log_info("party %s: %s", log_escape(name, sizeof(name), P.st->name,
	    strlen(P.st->name)), why);
	free(P.st);
	P.st = NULL;
	P.synced = false;
	P.nrequests = 0;
	relayc_clear();
	party_apply();
}

/* Operations. */

static void
party_op_free(struct party_op *op)
{
	TAILQ_REMOVE(&P.ops, op, entry);
	P.nops--;
	event_free(op->timer);
	sodium_memzero(op->payload, sizeof(op->payload));
	free(op);
}

static void
party_op_done(struct party_op *op, enum party_code code, const char *err,
    json_t *result)
{
	if (op->cb != NULL)
		op->cb(op->ctx, code, err, result);
	else
		json_decref(result);
	party_op_free(op);
}

static void
party_op_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct party_op	*op = arg;
	char		 err[CC_ERROR_MAX + 96];
	const char	*why = cc_error();

	if (op->awaiting) {
		party_op_done(op, PARTY_OK, NULL, party_json());
		return;
	}
	snprintf(err, sizeof(err), "no answer from the control server "
	    "within %d s (%s%s%s)", PARTY_OP_TIMEOUT, cc_state_name(),
	    why != NULL ? ": " : "", why != NULL ? why : "");
	party_op_done(op, cc_state() == CC_READY ? PARTY_E_TIMEOUT :
	    PARTY_E_UNAVAILABLE, err, NULL);
}

static int
party_op_send(struct party_op *op)
{
	if (cc_send(op->type, op->payload, op->len, &op->id) == -1)
		return -1;
	op->sent = true;
	return 0;
}

/* Queue a request; it goes now or when the session is up. */
static struct party_op *
party_op_new(uint16_t type, const struct buf *payload, party_done_cb cb,
    void *ctx)
{
	struct party_op	*op;
	struct timeval	 tv = { PARTY_OP_TIMEOUT, 0 };

	if (P.nops >= PARTY_MAX_OPS || payload->len > PARTY_OP_PAYLOAD ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		errno = EBUSY;
		return NULL;
	}
	if ((op->timer = evtimer_new(proc_base(), party_op_timeout,
	    op)) == NULL) {
		free(op);
		return NULL;
	}
	op->type = type;
	memcpy(op->payload, payload->data, payload->len);
	op->len = payload->len;
	op->cb = cb;
	op->ctx = ctx;
	TAILQ_INSERT_TAIL(&P.ops, op, entry);
	P.nops++;
	evtimer_add(op->timer, &tv);
	if (cc_state() == CC_READY)
		party_op_send(op);
	return op;
}

static void
party_flush_ops(void)
{
	struct party_op	*op;

	TAILQ_FOREACH(op, &P.ops, entry)
		if (!op->sent && party_op_send(op) == -1)
			return;
}

void
party_forget(void *ctx)
{
	struct party_op	*op;

	TAILQ_FOREACH(op, &P.ops, entry)
		if (op->ctx == ctx)
			op->cb = NULL;
	netcheck_forget(ctx);
}

static struct party_op *
party_op_by_id(uint32_t id)
{
	struct party_op	*op;

	TAILQ_FOREACH(op, &P.ops, entry)
		if (op->sent && !op->awaiting && op->id == id)
			return op;
	return NULL;
}

/* JSON. */

static json_t *
party_key_json(const uint8_t *key)
{
	char	 b64[NODE_B64KEY_LEN + 1];

	node_key_b64(key, b64);
	return json_string(b64);
}

static json_t *
party_json(void)
{
	const struct control_member	*self;
	char				 id[CONTROL_IDLEN * 2 + 1];
	char				 sub[LR_PREFIX_STRLEN];
	char				 a[LR_ADDR_STRLEN];

	if (P.st == NULL)
		return json_null();
	self = party_member(P.st, P.pub);
	sodium_bin2hex(id, sizeof(id), P.st->id, CONTROL_IDLEN);
	prefix_fmt(&P.st->subnet, sub, sizeof(sub));
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:i}",
	    "id", id, "name", P.st->name, "subnet", sub,
	    "address", self != NULL ? json_string(addr_fmt(&self->addr, a,
	    sizeof(a))) : json_null(),
	    "host", memcmp(P.st->host_key, P.pub, NODE_KEYLEN) == 0,
	    "host_key", sodium_is_zero(P.st->host_key, CONTROL_KEYLEN) ?
	    json_null() : party_key_json(P.st->host_key),
	    "members", (int)P.st->nmembers);
}

/*
 * WireGuard sends through a relay: the path is "relay", and the reason
 * why it is not direct ("none: both symmetric; needs a relay") becomes
 * "relay: both symmetric".
 */
static void
party_peer_relayed(json_t *o)
{
	const char	*why = json_string_value(json_object_get(o, "reason"));
	char		 r[256];
	size_t		 n;

	json_object_set_new(o, "path", json_string("relay"));
	if (why == NULL)
		return;
	if (strncmp(why, "none: ", 6) == 0)
		why += 6;
	else if (strncmp(why, "none yet: ", 10) == 0)
		why += 10;	/* "probing 3 addresses" */
	else if (strncmp(why, "direct: ", 8) == 0)
		why += 8;	/* validated, WireGuard not yet moved */
	snprintf(r, sizeof(r), "relay: %s", why);
	n = strlen(r);
	if (n > 15 && strcmp(r + n - 15, "; needs a relay") == 0)
		r[n - 15] = '\0';
	json_object_set_new(o, "reason", json_string(r));
}

static json_t *
party_peer_json(const struct control_member *m)
{
	struct wg_uapi_peer_info pi;
	char			 a[LR_ADDR_STRLEN], ep[LR_SOCKADDR_STRLEN];
	json_t			*o, *endpoint = json_null(), *age = json_null();
	json_t			*path = NULL;
	struct timespec		 now;

	memset(&pi, 0, sizeof(pi));
	if (wg_device_peer(P.env.dev, m->key, &pi) == 0) {
		free((void *)pi.aips);
		if (pi.endpoint.ss_family != 0) {
			json_decref(endpoint);
			endpoint = json_string(sockaddr_fmt(
			    (struct sockaddr *)&pi.endpoint, ep, sizeof(ep)));
		}
		clock_gettime(CLOCK_REALTIME, &now);
		if (pi.last_handshake_sec != 0) {
			json_decref(age);
			age = json_integer(now.tv_sec - pi.last_handshake_sec);
		}
	}
	o = json_pack("{s:s, s:o, s:s, s:b, s:b, s:o, s:o, s:I, s:I}",
	    "name", m->name, "public_key", party_key_json(m->key),
	    "address", addr_fmt(&m->addr, a, sizeof(a)),
	    "host", memcmp(P.st->host_key, m->key, CONTROL_KEYLEN) == 0,
	    "online", (m->flags & CONTROL_MEMBER_ONLINE) != 0,
	    "endpoint", endpoint, "handshake_age", age,
	    "rx_bytes", (json_int_t)pi.rx_bytes,
	    "tx_bytes", (json_int_t)pi.tx_bytes);
	/* path, reason, rtt_ms, jitter_ms, loss_pct, candidates... */
	if (o != NULL && (path = paths_peer_json(m->key)) != NULL &&
	    json_is_object(path))
		json_object_update(o, path);
	json_decref(path);
	if (o != NULL && pi.relayed)
		party_peer_relayed(o);
	return o;
}

json_t *
party_peers_json(void)
{
	json_t		*a = json_array();
	uint16_t	 i;

	for (i = 0; a != NULL && P.st != NULL && i < P.st->nmembers; i++)
		if (memcmp(P.st->members[i].key, P.pub, NODE_KEYLEN) != 0)
			json_array_append_new(a,
			    party_peer_json(&P.st->members[i]));
	return json_pack("{s:o}", "peers", a);
}

static json_t *
party_requests_json(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < P.nrequests; i++)
		json_array_append_new(a, json_pack("{s:s, s:o}", "name",
		    P.requests[i].name, "public_key",
		    party_key_json(P.requests[i].key)));
	return a;
}

json_t *
party_status_json(void)
{
	char		 name[SETTINGS_VALUE_MAX], key[SETTINGS_VALUE_MAX];
	const char	*err = cc_error();
	long		 retry = cc_retry_in();

	settings_get("name", name, sizeof(name));
	settings_get("control.key", key, sizeof(key));
	return json_pack("{s:{s:s, s:o, s:s, s:i}, s:{s:o, s:o, s:s, s:o, "
	    "s:o}, s:o, s:o, s:o, s:o, s:o}",
	    "node", "name", name, "public_key", party_key_json(P.pub),
	    "interface", P.env.ifname, "listen_port", (int)P.env.port,
	    "control", "server", *cc_server() != '\0' ?
	    json_string(cc_server()) : json_null(),
	    "server_key", key[0] != '\0' ? json_string(key) : json_null(),
	    "state", cc_state_name(),
	    "error", err != NULL ? json_string(err) : json_null(),
	    "retry_in", retry >= 0 ? json_integer(retry) : json_null(),
	    "party", party_json(), "requests", party_requests_json(),
	    "netcheck", netcheck_json(), "disco", paths_stats_json(),
	    "relays", relayc_json());
}

/* Session hooks. */

/* A new view from PARTY: only this node, until STATE brings the rest. */
static void
party_adopt(const struct control_party *p, bool host)
{
	struct control_state	*st;
	char			 name[SETTINGS_VALUE_MAX];

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("party");
		return;
	}
	memcpy(st->id, p->id, CONTROL_IDLEN);
	memcpy(st->name, p->name, sizeof(st->name));
	st->subnet = p->subnet;
	if (host)
		memcpy(st->host_key, P.pub, NODE_KEYLEN);
	st->nmembers = 1;
	memcpy(st->members[0].key, P.pub, NODE_KEYLEN);
	settings_get("name", name, sizeof(name));
	memcpy(st->members[0].name, name, strnlen(name, CONTROL_NAME_MAX));
	st->members[0].addr = p->addr;
	st->members[0].flags = CONTROL_MEMBER_ONLINE;
	free(P.st);
	P.st = st;
	P.synced = false;
	party_apply();
}

static enum party_code
party_refusal(const struct control_hdr *h, char *err, size_t len)
{
	struct control_error	 e;

	if (control_dec_error(h->payload, h->len, &e) == -1)
		return PARTY_E_INTERNAL;
	snprintf(err, len, "the control server refused: %s%s%s",
	    control_err_str(e.code), e.text[0] != '\0' ? ": " : "", e.text);
	return PARTY_E_REFUSED;
}

static int
party_reply_party(struct party_op *op, const struct control_hdr *h)
{
	struct control_party	 p;
	struct control_approval_pending ap;
	char			 id[CONTROL_IDLEN * 2 + 1];

	if (h->type == CONTROL_MSG_APPROVAL_PENDING && op->type ==
	    CONTROL_MSG_JOIN && !op->pending) {
		if (control_dec_approval_pending(h->payload, h->len, &ap) ==
		    -1)
			return -1;
		sodium_bin2hex(id, sizeof(id), ap.id, CONTROL_IDLEN);
		if (op->cb != NULL)
			op->cb(op->ctx, PARTY_OK, NULL, json_pack("{s:b, "
			    "s:{s:s, s:s}}", "pending", 1, "party", "id", id,
			    "name", ap.name));
		op->cb = NULL;
		op->pending = true;
		evtimer_del(op->timer);
		return 0;
	}
	if (h->type != CONTROL_MSG_PARTY ||
	    control_dec_party(h->payload, h->len, &p) == -1)
		return -1;
	party_adopt(&p, op->type == CONTROL_MSG_PARTY_CREATE);
	/* Answered with the STATE that follows: members and host known. */
	op->awaiting = true;
	return 0;
}

static int
party_reply_invite(struct party_op *op, const struct control_hdr *h)
{
	struct control_invite	 inv;
	struct lr_invite	 link;
	char			 text[LR_INVITE_MAXLEN + 1];
	char			 key[SETTINGS_VALUE_MAX];
	int			 rc;

	if (h->type != CONTROL_MSG_INVITE ||
	    control_dec_invite(h->payload, h->len, &inv) == -1)
		return -1;
	memset(&link, 0, sizeof(link));
	settings_get("control.key", key, sizeof(key));
	if (lr_hostport_parse(cc_server(), link.host, sizeof(link.host),
	    &link.port) == -1 || node_key_parse(key, link.server_key) == -1)
		return -1;
	memcpy(link.code, inv.code, CONTROL_CODELEN);
	rc = lr_invite_format(&link, text, sizeof(text));
	sodium_memzero(&link, sizeof(link));
	sodium_memzero(&inv.code, sizeof(inv.code));
	if (rc == -1)
		return -1;
	party_op_done(op, PARTY_OK, NULL, json_pack("{s:s, s:i, s:i, s:b}",
	    "link", text, "expiry", (int)inv.expiry, "uses",
	    (int)inv.max_uses, "approval",
	    (inv.flags & CONTROL_INVITE_APPROVAL) != 0));
	sodium_memzero(text, sizeof(text));
	return 0;
}

static int
party_reply_ok(struct party_op *op, const struct control_hdr *h)
{
	if (h->type != CONTROL_MSG_OK ||
	    control_dec_empty(h->payload, h->len) == -1)
		return -1;
	switch (op->type) {
	case CONTROL_MSG_LEAVE:
		party_drop("left");
		party_op_done(op, PARTY_OK, NULL, json_object());
		break;
	case CONTROL_MSG_CLOSE:
		party_drop("closed");
		party_op_done(op, PARTY_OK, NULL, json_object());
		break;
	case CONTROL_MSG_KICK:
		party_op_done(op, PARTY_OK, NULL, json_pack("{s:o}",
		    "kicked", party_key_json(op->key)));
		break;
	case CONTROL_MSG_APPROVE:
		party_op_done(op, PARTY_OK, NULL, json_pack("{s:o}",
		    "answered", party_key_json(op->key)));
		break;
	default:
		party_op_done(op, PARTY_OK, NULL, json_object());
	}
	return 0;
}

static int
party_reply_relays(struct party_op *op, const struct control_hdr *h)
{
	struct control_relay_list	*l;

	if (h->type != CONTROL_MSG_RELAY_LIST ||
	    (l = malloc(sizeof(*l))) == NULL)
		return -1;
	if (control_dec_relay_list(h->payload, h->len, l) == -1) {
		free(l);
		return -1;
	}
	/* only the party we are in: a late answer for another is moot */
	if (P.st != NULL && memcmp(op->payload, P.st->id, CONTROL_IDLEN) == 0)
		party_relays_kept(relayc_list(l));
	free(l);
	party_op_done(op, PARTY_OK, NULL, json_object());
	return 0;
}

static int
party_reply(const struct control_hdr *h)
{
	struct party_op	*op;
	char		 err[CONTROL_ERRTEXT_MAX + 96];
	enum party_code	 code;

	if ((op = party_op_by_id(h->id)) == NULL)
		return 0;	/* a request whose answer nobody waits for */
	if (h->type == CONTROL_MSG_ERROR) {
		if ((code = party_refusal(h, err, sizeof(err))) ==
		    PARTY_E_INTERNAL)
			return -1;
		if (op->pending)
			log_warnx("party: join refused: %s", err);
		party_op_done(op, code, err, NULL);
		return 0;
	}
	switch (op->type) {
	case CONTROL_MSG_PARTY_CREATE:
	case CONTROL_MSG_JOIN:
		return party_reply_party(op, h);
	case CONTROL_MSG_INVITE_CREATE:
		return party_reply_invite(op, h);
	case CONTROL_MSG_RELAYS:
		return party_reply_relays(op, h);
	default:
		return party_reply_ok(op, h);
	}
}

static void
party_answer_awaiting(void)
{
	struct party_op	*op, *next;

	for (op = TAILQ_FIRST(&P.ops); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		if (op->awaiting)
			party_op_done(op, PARTY_OK, NULL, party_json());
	}
}

static int
party_push_state(const struct control_hdr *h)
{
	struct control_state	*st;

	if ((st = malloc(sizeof(*st))) == NULL)
		return 0;
	if (control_dec_state(h->payload, h->len, st) == -1) {
		free(st);
		return -1;
	}
	if (P.st != NULL && memcmp(P.st->id, st->id, CONTROL_IDLEN) != 0) {
		log_warnx("party: state of another party ignored: this node "
		    "is in one party at a time");
		free(st);
		return 0;
	}
	free(P.st);
	P.st = st;
	P.synced = true;
	party_apply();
	party_answer_awaiting();
	party_relays_refresh();
	return 0;
}

static void
party_member_remove(const uint8_t *key)
{
	uint16_t	 i;

	for (i = 0; i < P.st->nmembers; i++) {
		if (memcmp(P.st->members[i].key, key, CONTROL_KEYLEN) != 0)
			continue;
		P.st->members[i] = P.st->members[--P.st->nmembers];
		return;
	}
}

/* One change; false when it cannot apply (the view is out of step). */
static bool
party_delta_apply(const struct control_delta *d)
{
	struct control_member	*m;

	m = (struct control_member *)party_member(P.st, d->member.key);
	switch (d->kind) {
	case CONTROL_DELTA_JOINED:
		if (m != NULL)
			*m = d->member;
		else if (P.st->nmembers < CONTROL_MAX_MEMBERS)
			P.st->members[P.st->nmembers++] = d->member;
		else
			return false;
		return true;
	case CONTROL_DELTA_LEFT:
		if (memcmp(d->member.key, P.pub, NODE_KEYLEN) == 0) {
			party_drop(d->reason == CONTROL_LEFT_KICKED ?
			    "kicked by the host" : "no longer a member");
			return true;
		}
		party_member_remove(d->member.key);
		return true;
	case CONTROL_DELTA_ENDPOINTS:
		if (m != NULL)
			m->ep = d->member.ep;
		return m != NULL;
	case CONTROL_DELTA_PRESENCE:
		if (m != NULL)
			m->flags = d->member.flags;
		return m != NULL;
	case CONTROL_DELTA_CLOSED:
		party_drop("closed by the host");
		return true;
	}
	return false;
}

static int
party_push_delta(const struct control_hdr *h)
{
	struct control_delta	 d;

	if (control_dec_delta(h->payload, h->len, &d) == -1)
		return -1;
	if (P.st == NULL || !P.synced ||
	    memcmp(P.st->id, d.id, CONTROL_IDLEN) != 0)
		return 0;
	if (d.seq != P.st->seq + 1 || !party_delta_apply(&d)) {
		/* A new session brings a new STATE. */
		cc_drop("party view out of step");
		return 0;
	}
	if (P.st != NULL) {
		P.st->seq = d.seq;
		party_apply();
	}
	return 0;
}

static void
party_request_forget(const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < P.nrequests; i++) {
		if (memcmp(P.requests[i].key, key, CONTROL_KEYLEN) != 0)
			continue;
		memmove(&P.requests[i], &P.requests[i + 1],
		    (--P.nrequests - i) * sizeof(P.requests[0]));
		return;
	}
}

static int
party_push_join_request(const struct control_hdr *h)
{
	struct control_join_request	 r;
	char				 name[CONTROL_NAMESIZ * 4];
	char				 key[NODE_B64KEY_LEN + 1];

	if (control_dec_join_request(h->payload, h->len, &r) == -1)
		return -1;
	if (P.st == NULL || memcmp(r.id, P.st->id, CONTROL_IDLEN) != 0)
		return 0;
	party_request_forget(r.key);
	if (P.nrequests == PARTY_MAX_REQUESTS)	/* the oldest goes */
		memmove(&P.requests[0], &P.requests[1],
		    --P.nrequests * sizeof(P.requests[0]));
	P.requests[P.nrequests++] = r;
	node_key_b64(r.key, key);
	log_info("party: %s (%s) asks to join: lanragectl party approve "
	    "or deny", log_escape(name, sizeof(name), r.name,
	    strlen(r.name)), key);
	return 0;
}

static int
party_push(const struct control_hdr *h)
{
	switch (h->type) {
	case CONTROL_MSG_STATE:
		return party_push_state(h);
	case CONTROL_MSG_DELTA:
		return party_push_delta(h);
	case CONTROL_MSG_JOIN_REQUEST:
		return party_push_join_request(h);
	default:
		return 0;	/* unknown pushes are for newer nodes */
	}
}

static void
party_welcome(const struct control_welcome *w)
{
	uint8_t	 i;

	P.synced = false;
	if (P.st != NULL) {
		for (i = 0; i < w->nparties; i++)
			if (memcmp(w->parties[i].id, P.st->id,
			    CONTROL_IDLEN) == 0)
				break;
		if (i == w->nparties)
			party_drop("the control server no longer lists this "
			    "node as a member");
	}
	party_flush_ops();
	party_netcheck_auto();
}

/* Requests in flight are lost with the session; queued ones wait. */
static void
party_down(bool was_ready)
{
	struct party_op	*op, *next;
	char		 err[CC_ERROR_MAX + 64];

	P.synced = false;
	snprintf(err, sizeof(err), "lost the control server: %s",
	    cc_error() != NULL ? cc_error() : "connection closed");
	for (op = TAILQ_FIRST(&P.ops); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		if (op->awaiting)
			party_op_done(op, PARTY_OK, NULL, party_json());
		else if (op->sent)
			party_op_done(op, PARTY_E_UNAVAILABLE, err, NULL);
	}
}

/* Candidates: this host's addresses but loopback, link-local and ours. */
static void
party_lan_candidates(struct control_endpoints *ep)
{
	struct ifaddrs	*ifa, *i;
	struct addr	 a;
	uint16_t	 port;

	memset(ep, 0, sizeof(*ep));
	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && ep->n < CONTROL_MAX_CANDS; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP) ||
		    strcmp(i->ifa_name, P.env.ifname) == 0 ||
		    addr_from_sockaddr(i->ifa_addr, &a, &port) == -1)
			continue;
		if (a.af == AF_INET6 && a.bytes[0] == 0xfe &&
		    (a.bytes[1] & 0xc0) == 0x80)
			continue;
		ep->c[ep->n].kind = CONTROL_EP_LAN;
		ep->c[ep->n].addr = a;
		ep->c[ep->n++].port = P.env.port;
	}
	freeifaddrs(ifa);
}

/* Is a one of this host's addresses (as last seen)? */
bool
party_is_local(const struct addr *a)
{
	uint8_t	 i;

	for (i = 0; i < P.lan.n; i++)
		if (addr_eq(&P.lan.c[i].addr, a))
			return true;
	return false;
}

/* ... and the address the NAT maps us to, when netcheck found one. */
static void
party_candidates(struct control_endpoints *ep)
{
	struct addr	 a;
	uint16_t	 port, predicted;
	uint8_t		 kind;

	party_lan_candidates(ep);
	if (!netcheck_mapped(&a, &port) || !netcheck_nat(&kind, &predicted))
		return;
	/* No NAT: the same address again, saying so (proto/control.md). */
	if (party_is_local(&a))
		predicted = 0;
	ep->n = MIN(ep->n, CONTROL_MAX_CANDS - (predicted != 0 ? 2 : 1));
	ep->c[ep->n].kind = kind;
	ep->c[ep->n].addr = a;
	ep->c[ep->n++].port = port;
	if (predicted == 0)
		return;
	ep->c[ep->n].kind = CONTROL_EP_PREDICTED;
	ep->c[ep->n].addr = a;
	ep->c[ep->n++].port = predicted;
}

static bool
party_ep_same(const struct control_endpoints *a,
    const struct control_endpoints *b)
{
	uint8_t	 i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->c[i].kind != b->c[i].kind ||
		    a->c[i].port != b->c[i].port ||
		    !addr_eq(&a->c[i].addr, &b->c[i].addr))
			return false;
	return true;
}

/*
 * The host's addresses change (DHCP, Wi-Fi roaming): tell the server,
 * which tells the party, and use them in the next HELLO.
 */
static void
party_ep_check(evutil_socket_t fd, short ev, void *arg)
{
	struct control_endpoints ep;
	struct timeval		 tv = { PARTY_EP_CHECK, 0 };
	uint8_t			 mem[PARTY_OP_PAYLOAD];
	struct buf		 b;

	evtimer_add(P.ep_ev, &tv);
	if (fd != -1)
		party_relays_refresh();	/* tokens and load, every 20 s */
	party_lan_candidates(&ep);
	if (!party_ep_same(&ep, &P.lan)) {
		/* Another network: the NAT may be another one too. */
		P.lan = ep;
		party_netcheck_auto();
	} else if (fd != -1 && netcheck_failed())
		party_netcheck_auto();		/* the timer: try again */
	party_candidates(&ep);
	if (party_ep_same(&ep, &P.ep))
		return;
	P.ep = ep;
	cc_set_endpoints(&ep);
	if (cc_state() != CC_READY)
		return;
	buf_init_fixed(&b, mem, sizeof(mem));
	if (control_enc_endpoints(&b, &ep) == 0 &&
	    party_op_new(CONTROL_MSG_ENDPOINTS, &b, NULL, NULL) != NULL)
		log_info("party: %u endpoint candidates sent", ep.n);
}

static void
party_relays_again(evutil_socket_t fd, short ev, void *arg)
{
	party_relays_refresh();
}

/*
 * The list left out relays that still answer: the server has restarted
 * and they have not reported yet (they do every RelayReport), so ask
 * again soon, then less often, rather than wait for the 20 s refresh.
 */
static void
party_relays_kept(size_t kept)
{
	struct timeval	 tv = { P.relays_again, 0 };

	if (kept == 0) {
		P.relays_again = PARTY_RELAYS_AGAIN;
		return;
	}
	evtimer_add(P.relays_ev, &tv);
	if (P.relays_again < PARTY_EP_CHECK)
		P.relays_again *= 2;
}

/* The relays and this node's tokens for them, unless a request is out. */
static void
party_relays_refresh(void)
{
	struct control_party_ref	 pr;
	struct party_op			*op;
	uint8_t				 mem[CONTROL_IDLEN];
	struct buf			 b;

	if (P.st == NULL || cc_state() != CC_READY)
		return;
	TAILQ_FOREACH(op, &P.ops, entry)
		if (op->type == CONTROL_MSG_RELAYS)
			return;
	memcpy(pr.id, P.st->id, CONTROL_IDLEN);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (control_enc_party_ref(&b, &pr) == 0)
		party_op_new(CONTROL_MSG_RELAYS, &b, NULL, NULL);
}

void
party_relay_changed(void)
{
	party_sync_peers();
}

/* The STUN responder: the control server's address, stun.port. */
static int
party_stun_server(struct sockaddr_storage *ss)
{
	unsigned long	 port = settings_get_ulong("stun.port");

	if (port == 0 || cc_peer(ss) == -1)
		return -1;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port =
		    htons((uint16_t)port);
	return 0;
}

/* A run of our own, when connected and none is going on. */
static void
party_netcheck_auto(void)
{
	struct sockaddr_storage	 ss;

	if (!netcheck_running() && party_stun_server(&ss) == 0)
		netcheck_run(&ss, NULL, NULL);
}

void
party_mapping_moved(void)
{
	uint64_t	 now = clock_mono_ms();

	if (P.remap_ms != 0 && now - P.remap_ms < PARTY_REMAP_GAP_MS)
		return;
	P.remap_ms = now;
	log_info("party: a peer sees us at another port of our NAT: "
	    "netcheck again");
	party_netcheck_auto();
}

void
party_netcheck_done(void)
{
	party_ep_check(-1, 0, NULL);
	paths_self_changed();
}

void
party_path_changed(const uint8_t key[NODE_KEYLEN], bool force)
{
	struct party_peer	*have;

	if (force && (have = party_peer_find(key)) != NULL)
		memset(&have->ep, 0, sizeof(have->ep));	/* differs now */
	party_sync_peers();
}

int
party_netcheck(party_done_cb cb, void *ctx)
{
	struct sockaddr_storage	 ss;

	if (settings_get_ulong("stun.port") == 0) {
		cb(ctx, PARTY_E_UNAVAILABLE, "netcheck is off (stun.port 0)",
		    NULL);
		return -1;
	}
	if (party_stun_server(&ss) == -1) {
		cb(ctx, PARTY_E_UNAVAILABLE, "not connected to the control "
		    "server, whose STUN responder netcheck uses", NULL);
		return -1;
	}
	return netcheck_run(&ss, cb, ctx);
}

/* (Re)start the session from the settings. */
static void
party_connect(void)
{
	struct control_hello	 hello;
	char			 server[SETTINGS_VALUE_MAX];
	char			 key[SETTINGS_VALUE_MAX];
	uint8_t			 k[NODE_KEYLEN];
	bool			 have_key;

	memset(&hello, 0, sizeof(hello));
	hello.version = CONTROL_VERSION;
	hello.listen_port = P.env.port;
	settings_get("name", hello.name, sizeof(hello.name));
	party_candidates(&hello.ep);
	P.ep = hello.ep;
	settings_get("control.server", server, sizeof(server));
	settings_get("control.key", key, sizeof(key));
	have_key = key[0] != '\0' && node_key_parse(key, k) == 0;
	cc_configure(server, have_key ? k : NULL, &hello);
}

void
party_settings_changed(const char *key)
{
	if (strcmp(key, "name") == 0 || strncmp(key, "control.", 8) == 0)
		party_connect();
	else if (strncmp(key, "lan.", 4) == 0)
		lan_reload();
	else if (strcmp(key, "api.port") == 0)
		http_reload();
	else if (strcmp(key, "relay.region") == 0)
		relayc_reload();
	else if (strcmp(key, "keepalive") == 0)
		log_info("keepalive applies to peers added from now on");
}

/* The node's key becomes the engine's. */
static int
party_set_key(void)
{
	struct wg_uapi_set	*set;
	int			 err;

	if ((set = party_set_new(0)) == NULL)
		return -1;
	set->flags = WG_UAPI_SET_PRIVATE_KEY;
	memcpy(set->private_key, P.priv, NODE_KEYLEN);
	err = wg_device_apply(P.env.dev, set);
	wg_uapi_set_free(set);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
party_start(const struct party_env *env)
{
	static const struct cc_hooks	 hooks = { .welcome = party_welcome,
	    .reply = party_reply, .push = party_push, .down = party_down };
	struct control_state		*st;
	char				 b64[NODE_B64KEY_LEN + 1];

	P.env = *env;
	TAILQ_INIT(&P.ops);
	if (settings_node_key(P.priv, P.pub) == -1) {
		log_warnx("the node key in the settings database is %s",
		    errno == EINVAL ? "damaged: restore the database from a "
		    "backup, or remove it to become a new node" :
		    "unreadable");
		return -1;
	}
	node_key_b64(P.pub, b64);
	log_info("node key %s", b64);
	if (party_set_key() == -1 ||
	    cc_init(&hooks, P.priv) == -1)
		return -1;
	P.relays_again = PARTY_RELAYS_AGAIN;
	if (sidechan_init(P.env.dev) == -1 ||
	    paths_init(P.env.dev, P.priv, P.pub) == -1 ||
	    relayc_init(P.env.dev, P.priv, P.pub) == -1 ||
	    lan_init(P.env.dev, P.env.ifindex) == -1 ||
	    netcheck_init(P.env.dev, P.env.port) == -1 ||
	    (P.ep_ev = evtimer_new(proc_base(), party_ep_check, NULL)) ==
	    NULL || (P.relays_ev = evtimer_new(proc_base(),
	    party_relays_again, NULL)) == NULL)
		return -1;
	party_ep_check(-1, 0, NULL);
	if ((st = malloc(sizeof(*st))) == NULL)
		return -1;
	if (settings_party_load(st) == 1) {
		P.st = st;
		log_info("party %s: restoring %u members from the last "
		    "session", P.st->name, P.st->nmembers);
		party_apply();
	} else
		free(st);
	party_connect();
	return 0;
}

void
party_stop(void)
{
	struct party_op	*op;

	while ((op = TAILQ_FIRST(&P.ops)) != NULL)
		party_op_free(op);
	if (P.ep_ev != NULL)
		event_free(P.ep_ev);
	if (P.relays_ev != NULL)
		event_free(P.relays_ev);
	P.ep_ev = P.relays_ev = NULL;
	sidechan_free();
	netcheck_free();
	paths_free();
	relayc_free();
	lan_free();
	cc_shutdown();
	free(P.st);
	P.st = NULL;
	sodium_memzero(P.priv, sizeof(P.priv));
}

/* API operations. */

static int
party_need(bool in_party, party_done_cb cb, void *ctx)
{
	char	 err[CONTROL_NAMESIZ * 4 + 64], name[CONTROL_NAMESIZ * 4];

	if ((P.st != NULL) == in_party)
		return 0;
	if (P.st != NULL)
		snprintf(err, sizeof(err), "already in party \"%s\"; leave it "
		    "first", log_escape(name, sizeof(name), P.st->name,
		    strlen(P.st->name)));
	else
		snprintf(err, sizeof(err), "not in a party");
	cb(ctx, PARTY_E_CONFLICT, err, NULL);
	return -1;
}

static int
party_unconfigured(party_done_cb cb, void *ctx)
{
	if (cc_state() != CC_UNCONFIGURED)
		return 0;
	cb(ctx, PARTY_E_UNAVAILABLE, cc_error(), NULL);
	return -1;
}

static int
party_queue(uint16_t type, const struct buf *b, party_done_cb cb, void *ctx)
{
	if (party_op_new(type, b, cb, ctx) == NULL) {
		cb(ctx, PARTY_E_INTERNAL, "too many requests in flight", NULL);
		return -1;
	}
	return 0;
}

int
party_create(const char *name, party_done_cb cb, void *ctx)
{
	struct control_party_create	 pc;
	uint8_t				 mem[PARTY_OP_PAYLOAD];
	struct buf			 b;

	if (party_need(false, cb, ctx) == -1 ||
	    party_unconfigured(cb, ctx) == -1)
		return -1;
	memset(&pc, 0, sizeof(pc));
	if (strlen(name) >= sizeof(pc.name) || !control_name_valid(name)) {
		cb(ctx, PARTY_E_BAD, "a party name is 1 to 32 bytes of UTF-8 "
		    "without control characters", NULL);
		return -1;
	}
	snprintf(pc.name, sizeof(pc.name), "%s", name);
	buf_init_fixed(&b, mem, sizeof(mem));
	control_enc_party_create(&b, &pc);
	return party_queue(CONTROL_MSG_PARTY_CREATE, &b, cb, ctx);
}

/* The link names the server: it becomes this node's server. */
static void
party_use_server(const struct lr_invite *link)
{
	char	 server[LR_HOSTPORT_MAXLEN + 1], key[NODE_B64KEY_LEN + 1];
	char	 cur[SETTINGS_VALUE_MAX], curkey[SETTINGS_VALUE_MAX];
	char	 val[SETTINGS_VALUE_MAX];
	const char *why;

	snprintf(server, sizeof(server), strchr(link->host, ':') != NULL ?
	    "[%s]:%u" : "%s:%u", link->host, link->port);
	node_key_b64(link->server_key, key);
	settings_get("control.server", cur, sizeof(cur));
	settings_get("control.key", curkey, sizeof(curkey));
	if (strcmp(cur, server) == 0 && strcmp(curkey, key) == 0)
		return;
	if (settings_set("control.server", server, val, sizeof(val),
	    &why) == -1 || settings_set("control.key", key, val, sizeof(val),
	    &why) == -1)
		log_warnx("party: cannot store the invite's server: %s", why);
	log_info("control server from the invite link: %s", server);
	party_connect();
}

int
party_join(const char *text, party_done_cb cb, void *ctx)
{
	struct lr_invite	 link;
	uint8_t			 mem[PARTY_OP_PAYLOAD];
	struct buf		 b;
	int			 rc;

	if (party_need(false, cb, ctx) == -1)
		return -1;
	if (lr_invite_parse(text, &link) == -1) {
		cb(ctx, PARTY_E_BAD, "not an invite link (expected "
		    "lanrage://HOST:PORT/v1/KEY/CODE)", NULL);
		return -1;
	}
	party_use_server(&link);
	buf_init_fixed(&b, mem, sizeof(mem));
	buf_put(&b, link.code, CONTROL_CODELEN);
	sodium_memzero(&link, sizeof(link));
	rc = party_queue(CONTROL_MSG_JOIN, &b, cb, ctx);
	sodium_memzero(mem, sizeof(mem));
	return rc;
}

static int
party_ref_op(uint16_t type, party_done_cb cb, void *ctx)
{
	uint8_t		 mem[PARTY_OP_PAYLOAD];
	struct buf	 b;

	if (party_need(true, cb, ctx) == -1 ||
	    party_unconfigured(cb, ctx) == -1)
		return -1;
	buf_init_fixed(&b, mem, sizeof(mem));
	buf_put(&b, P.st->id, CONTROL_IDLEN);
	return party_queue(type, &b, cb, ctx);
}

int
party_leave(party_done_cb cb, void *ctx)
{
	return party_ref_op(CONTROL_MSG_LEAVE, cb, ctx);
}

int
party_close(party_done_cb cb, void *ctx)
{
	return party_ref_op(CONTROL_MSG_CLOSE, cb, ctx);
}

/* who: a member's name, public key or virtual address. */
static const struct control_member *
party_find_member(const char *who)
{
	const struct control_member	*m;
	uint8_t				 key[NODE_KEYLEN];
	struct addr			 a;
	uint16_t			 i;

	if (node_key_parse(who, key) == 0)
		return party_member(P.st, key);
	for (i = 0; i < P.st->nmembers; i++) {
		m = &P.st->members[i];
		if (strcmp(m->name, who) == 0 ||
		    (addr_parse(who, &a) == 0 && addr_eq(&a, &m->addr)))
			return m;
	}
	return NULL;
}

int
party_kick(const char *who, party_done_cb cb, void *ctx)
{
	const struct control_member	*m;
	struct party_op			*op;
	uint8_t				 mem[PARTY_OP_PAYLOAD];
	struct buf			 b;

	if (party_need(true, cb, ctx) == -1 ||
	    party_unconfigured(cb, ctx) == -1)
		return -1;
	if ((m = party_find_member(who)) == NULL) {
		cb(ctx, PARTY_E_NOT_FOUND, "no such member (give a name, a "
		    "public key or an address)", NULL);
		return -1;
	}
	buf_init_fixed(&b, mem, sizeof(mem));
	buf_put(&b, P.st->id, CONTROL_IDLEN);
	buf_put(&b, m->key, CONTROL_KEYLEN);
	if ((op = party_op_new(CONTROL_MSG_KICK, &b, cb, ctx)) == NULL) {
		cb(ctx, PARTY_E_INTERNAL, "too many requests in flight", NULL);
		return -1;
	}
	memcpy(op->key, m->key, CONTROL_KEYLEN);
	return 0;
}

int
party_invite(uint32_t expiry, uint16_t uses, bool approval,
    party_done_cb cb, void *ctx)
{
	struct control_invite_create	 ic;
	uint8_t				 mem[PARTY_OP_PAYLOAD];
	struct buf			 b;

	if (party_need(true, cb, ctx) == -1 ||
	    party_unconfigured(cb, ctx) == -1)
		return -1;
	memset(&ic, 0, sizeof(ic));
	memcpy(ic.id, P.st->id, CONTROL_IDLEN);
	ic.expiry = expiry;
	ic.max_uses = uses;
	ic.flags = approval ? CONTROL_INVITE_APPROVAL : 0;
	buf_init_fixed(&b, mem, sizeof(mem));
	control_enc_invite_create(&b, &ic);
	return party_queue(CONTROL_MSG_INVITE_CREATE, &b, cb, ctx);
}

/* who: the name or public key of a node that asked to join. */
int
party_approve(const char *who, bool accept, party_done_cb cb, void *ctx)
{
	struct control_approve	 ap;
	struct party_op		*op;
	uint8_t			 key[NODE_KEYLEN], mem[PARTY_OP_PAYLOAD];
	struct buf		 b;
	size_t			 i;
	bool			 bykey;

	if (party_need(true, cb, ctx) == -1 ||
	    party_unconfigured(cb, ctx) == -1)
		return -1;
	bykey = node_key_parse(who, key) == 0;
	for (i = 0; i < P.nrequests; i++)
		if (bykey ? memcmp(P.requests[i].key, key, NODE_KEYLEN) == 0 :
		    strcmp(P.requests[i].name, who) == 0)
			break;
	if (i == P.nrequests) {
		cb(ctx, PARTY_E_NOT_FOUND, "nobody of that name or key asks "
		    "to join (see lanragectl status)", NULL);
		return -1;
	}
	memset(&ap, 0, sizeof(ap));
	memcpy(ap.id, P.st->id, CONTROL_IDLEN);
	memcpy(ap.key, P.requests[i].key, CONTROL_KEYLEN);
	ap.verdict = accept ? CONTROL_APPROVE_ACCEPT : CONTROL_APPROVE_DENY;
	buf_init_fixed(&b, mem, sizeof(mem));
	control_enc_approve(&b, &ap);
	if ((op = party_op_new(CONTROL_MSG_APPROVE, &b, cb, ctx)) == NULL) {
		cb(ctx, PARTY_E_INTERNAL, "too many requests in flight", NULL);
		return -1;
	}
	memcpy(op->key, ap.key, CONTROL_KEYLEN);
	party_request_forget(ap.key);
	return 0;
}
