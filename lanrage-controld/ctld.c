/*
 * Request handling of lanrage-controld: decode, check against the
 * registry, reply, and push STATE / DELTA / JOIN_REQUEST to the members
 * that a change concerns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "lanrage-controld/ctld.h"
#include "lanrage-controld/registry.h"
#include "lanrage-controld/relays.h"
#include "lib/log.h"
#include "proto/control.h"

#define CTLD_BUCKETS	4096
#define CTLD_DOOM_MS	200	/* a refused session lives to flush */
#define CTLD_MAXPARTIES	64	/* parties of one node looked at */
#define CTLD_MAXEVENTS	4096	/* expiry events handled per tick */

/* A node with an established session; conn NULL once it is closed. */
struct ctld_node {
	struct ctld_node	*next;		/* hash chain */
	struct ctld_node	*anext, *aprev;	/* all nodes */
	struct ctld		*d;
	struct csrv_conn	*conn;
	struct event		*post;		/* STATE pushes after WELCOME */
	struct event		*doom;		/* delayed close */
	struct event		*reap;		/* frees it from the loop */
	uint8_t			 key[CONTROL_KEYLEN];
	char			 name[CONTROL_NAMESIZ];
	struct control_endpoints ep;
	bool			 listed;	/* in the hash table */
	bool			 doomed;	/* refused: ignore, then close */
	uint64_t		 tokens;	/* milli-requests */
	uint64_t		 last_ms;
	bool			 relay;		/* a relay's session */
	bool			 pending;	/* a JOIN waits for APPROVE */
	uint8_t			 pend_party[CONTROL_IDLEN];
	uint32_t		 pend_id;
	int64_t			 hb_last;	/* last HEARTBEAT, Unix s */
	int64_t			 hb_stored;	/* last one written */
};

struct ctld_seq {
	struct ctld_seq		*next;
	uint8_t			 id[CONTROL_IDLEN];
	uint64_t		 seq;
};

struct ctld {
	struct event_base	*base;
	struct reg		*reg;
	struct csrv		*srv;
	struct ctld_limits	 lim;
	struct event		*tick;
	int64_t			 started;
	int64_t			 expired_at;	/* last expiry scan */
	struct ctld_node	*nodes[CTLD_BUCKETS];
	struct ctld_node	*all;
	struct ctld_seq		*seqs[CTLD_BUCKETS];
	struct relays		 relays;
};

/* The ACTIVE and PENDING members of one party. */
struct ctld_members {
	size_t			 n;
	struct reg_member	 m[REG_MAX_MEMBERS];
};

struct ctld_parties {
	size_t			 n;
	struct reg_party	 p[CTLD_MAXPARTIES];
};

struct ctld_events {
	size_t			 n;
	struct reg_event	 ev[CTLD_MAXEVENTS];
};

static void
ctld_strcpy(char *dst, const char *src, size_t size)
{
	size_t	 len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int64_t
ctld_now(const struct ctld *d)
{
	return d->lim.clock != NULL ? d->lim.clock() : (int64_t)time(NULL);
}

static uint64_t
ctld_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t
ctld_hash(const uint8_t *b)
{
	uint32_t	 h;

	memcpy(&h, b, sizeof(h));	/* keys and ids are random */
	return h % CTLD_BUCKETS;
}

/* ---- nodes ---- */

static struct ctld_node *
ctld_node_find(struct ctld *d, const uint8_t *key)
{
	struct ctld_node	*n;

	for (n = d->nodes[ctld_hash(key)]; n != NULL; n = n->next)
		if (memcmp(n->key, key, CONTROL_KEYLEN) == 0)
			return n;
	return NULL;
}

static void
ctld_node_unlist(struct ctld_node *n)
{
	struct ctld_node	**pp;

	if (!n->listed)
		return;
	for (pp = &n->d->nodes[ctld_hash(n->key)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	n->listed = false;
}

static void
ctld_node_free(struct ctld_node *n)
{
	struct ctld	*d = n->d;

	/* The registry gets the last sign of life the session gave. */
	if (n->hb_last > n->hb_stored &&
	    reg_heartbeat(d->reg, n->key, n->hb_last) == -1)
		log_warn("%s: heartbeat", __func__);
	ctld_node_unlist(n);
	if (n->aprev != NULL)
		n->aprev->anext = n->anext;
	else
		d->all = n->anext;
	if (n->anext != NULL)
		n->anext->aprev = n->aprev;
	event_free(n->post);
	event_free(n->doom);
	event_free(n->reap);
	free(n);
}

static void
ctld_node_reap(evutil_socket_t fd, short ev, void *arg)
{
	ctld_node_free(arg);
}

static void
ctld_node_doom(evutil_socket_t fd, short ev, void *arg)
{
	struct ctld_node	*n = arg;

	if (n->conn != NULL)
		csrv_close(n->conn);
}

static void	ctld_node_post(evutil_socket_t, short, void *);

static struct ctld_node *
ctld_node_new(struct ctld *d, struct csrv_conn *c, const uint8_t *key)
{
	struct ctld_node	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->d = d;
	n->conn = c;
	memcpy(n->key, key, CONTROL_KEYLEN);
	n->post = event_new(d->base, -1, 0, ctld_node_post, n);
	n->doom = evtimer_new(d->base, ctld_node_doom, n);
	n->reap = event_new(d->base, -1, 0, ctld_node_reap, n);
	n->tokens = (uint64_t)d->lim.burst * 1000;
	n->last_ms = ctld_mono_ms();
	if ((n->anext = d->all) != NULL)
		d->all->aprev = n;
	d->all = n;
	if (n->post == NULL || n->doom == NULL || n->reap == NULL) {
		ctld_node_free(n);
		return NULL;
	}
	csrv_conn_set_data(c, n);
	return n;
}

static void
ctld_node_list(struct ctld_node *n)
{
	struct ctld_node	**head = &n->d->nodes[ctld_hash(n->key)];

	n->next = *head;
	*head = n;
	n->listed = true;
}

/* Refuse the session: what was queued goes out, then it closes. */
static void
ctld_node_refuse(struct ctld_node *n)
{
	struct timeval	 tv = { 0, CTLD_DOOM_MS * 1000 };

	n->doomed = true;
	ctld_node_unlist(n);
	evtimer_add(n->doom, &tv);
}

/* One request costs one token; false when the bucket is empty. */
static bool
ctld_node_admit(struct ctld_node *n)
{
	uint64_t	 now = ctld_mono_ms(), max;

	max = (uint64_t)n->d->lim.burst * 1000;
	n->tokens += (now - n->last_ms) * n->d->lim.rate;
	if (n->tokens > max)
		n->tokens = max;
	n->last_ms = now;
	if (n->tokens < 1000)
		return false;
	n->tokens -= 1000;
	return true;
}

/* ---- sequence numbers ---- */

static struct ctld_seq *
ctld_seq_get(struct ctld *d, const uint8_t *id)
{
	struct ctld_seq	*s;
	size_t		 h = ctld_hash(id);

	for (s = d->seqs[h]; s != NULL; s = s->next)
		if (memcmp(s->id, id, CONTROL_IDLEN) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->id, id, CONTROL_IDLEN);
	s->next = d->seqs[h];
	d->seqs[h] = s;
	return s;
}

static uint64_t
ctld_seq_now(struct ctld *d, const uint8_t *id)
{
	struct ctld_seq	*s = ctld_seq_get(d, id);

	return s != NULL ? s->seq : 0;
}

static uint64_t
ctld_seq_next(struct ctld *d, const uint8_t *id)
{
	struct ctld_seq	*s = ctld_seq_get(d, id);

	return s != NULL ? ++s->seq : 1;
}

static void
ctld_seq_drop(struct ctld *d, const uint8_t *id)
{
	struct ctld_seq	**pp, *s;

	for (pp = &d->seqs[ctld_hash(id)]; (s = *pp) != NULL;
	    pp = &s->next)
		if (memcmp(s->id, id, CONTROL_IDLEN) == 0) {
			*pp = s->next;
			free(s);
			return;
		}
}

/* ---- sending ---- */

static int
ctld_begin(struct buf *b, uint16_t type, uint32_t id)
{
	if (buf_init(b, 256, CONTROL_HDRLEN + CONTROL_MAXMSG) == -1)
		return -1;
	if (control_enc_hdr(b, type, id) == -1) {
		buf_free(b);
		return -1;
	}
	return 0;
}

/* Send b (when rc is 0) to n and free it. */
static void
ctld_finish(struct ctld_node *n, struct buf *b, int rc)
{
	if (rc == 0 && n->conn != NULL && csrv_send(n->conn, b->data,
	    b->len) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
	if (rc == -1)
		log_warn("%s: encode", __func__);
	buf_free(b);
}

static int
ctld_enc_error(struct buf *b, uint32_t id, unsigned code, const char *text)
{
	struct control_error	 e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	ctld_strcpy(e.text, text, sizeof(e.text));
	if (control_enc_hdr(b, CONTROL_MSG_ERROR, id) == -1)
		return -1;
	return control_enc_error(b, &e);
}

static void
ctld_error(struct ctld_node *n, uint32_t id, unsigned code, const char *text)
{
	struct buf	 b;

	if (buf_init(&b, 256, 512) == -1)
		return;
	ctld_finish(n, &b, ctld_enc_error(&b, id, code, text));
}

static void
ctld_empty(struct ctld_node *n, uint16_t type, uint32_t id)
{
	struct buf	 b;

	if (ctld_begin(&b, type, id) == -1)
		return;
	ctld_finish(n, &b, 0);
}

/* An errno of the registry as an ERROR to the requester. */
static void
ctld_reg_error(struct ctld_node *n, uint32_t id, int err)
{
	switch (err) {
	case EDQUOT:
	case ENOSPC:
		ctld_error(n, id, CONTROL_E_LIMIT, "limit reached");
		break;
	case ENOENT:
		ctld_error(n, id, CONTROL_E_NO_PARTY, "no such party");
		break;
	case EPERM:
		ctld_error(n, id, CONTROL_E_NOT_HOST, "not the host");
		break;
	default:
		log_warnx("registry: %s", strerror(err));
		ctld_error(n, id, CONTROL_E_INTERNAL, "server failure");
		break;
	}
}

/* ---- registry views ---- */

static void
ctld_members_cb(const struct reg_member *m, void *arg)
{
	struct ctld_members	*ms = arg;

	if (ms->n < REG_MAX_MEMBERS)
		ms->m[ms->n++] = *m;
}

static struct ctld_members *
ctld_members_load(struct ctld *d, const uint8_t *party)
{
	struct ctld_members	*ms;

	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return NULL;
	if (reg_party_members(d->reg, party, ctld_members_cb, ms) == -1) {
		free(ms);
		return NULL;
	}
	return ms;
}

static const struct reg_member *
ctld_members_find(const struct ctld_members *ms, const uint8_t *key)
{
	size_t	 i;

	for (i = 0; i < ms->n; i++)
		if (memcmp(ms->m[i].node, key, REG_KEY_LEN) == 0)
			return &ms->m[i];
	return NULL;
}

static size_t
ctld_members_active(const struct ctld_members *ms)
{
	size_t	 i, k = 0;

	for (i = 0; i < ms->n; i++)
		k += ms->m[i].state == REG_MEMBER_ACTIVE;
	return k;
}

static void
ctld_parties_cb(const struct reg_party *p, void *arg)
{
	struct ctld_parties	*ps = arg;

	if (ps->n < CTLD_MAXPARTIES)
		ps->p[ps->n++] = *p;
}

/* The party as seen by node key, which must be ACTIVE in it. */
static int
ctld_party_of(struct ctld *d, const uint8_t *key, const uint8_t *id,
    struct reg_party *out)
{
	struct ctld_parties	 ps;
	size_t			 i;

	ps.n = 0;
	if (reg_node_parties(d->reg, key, ctld_parties_cb, &ps) == -1)
		return -1;
	for (i = 0; i < ps.n; i++)
		if (memcmp(ps.p[i].id, id, REG_PARTY_ID_LEN) == 0) {
			*out = ps.p[i];
			return 0;
		}
	errno = ENOENT;
	return -1;
}

/* The party as its host sees it. */
static int
ctld_party_info(struct ctld *d, const uint8_t *id, struct reg_party *out)
{
	struct ctld_members	*ms;
	size_t			 i;
	int			 rc = -1;

	if ((ms = ctld_members_load(d, id)) == NULL)
		return -1;
	errno = ENOENT;
	for (i = 0; i < ms->n; i++)
		if (ms->m[i].is_host)
			rc = ctld_party_of(d, ms->m[i].node, id, out);
	free(ms);
	return rc;
}

/* ---- STATE and DELTA ---- */

static void
ctld_member_rec(struct ctld *d, const struct reg_member *m,
    struct control_member *cm)
{
	struct ctld_node	*n = ctld_node_find(d, m->node);

	memset(cm, 0, sizeof(*cm));
	memcpy(cm->key, m->node, CONTROL_KEYLEN);
	if (strlen(m->name) == 0 || strlen(m->name) > CONTROL_NAME_MAX)
		ctld_strcpy(cm->name, "node", sizeof(cm->name));
	else
		ctld_strcpy(cm->name, m->name, sizeof(cm->name));
	cm->addr = m->addr;
	if (n != NULL && !n->doomed) {
		cm->flags = CONTROL_MEMBER_ONLINE;
		cm->ep = n->ep;
	}
}

static void
ctld_state_fill(struct ctld *d, const struct reg_party *p,
    const struct ctld_members *ms, struct control_state *st)
{
	size_t	 i;

	memcpy(st->id, p->id, CONTROL_IDLEN);
	ctld_strcpy(st->name, p->name, sizeof(st->name));
	st->subnet = p->subnet;
	memcpy(st->host_key, p->host, CONTROL_KEYLEN);
	st->seq = ctld_seq_now(d, p->id);
	for (i = 0; i < ms->n && st->nmembers < CONTROL_MAX_MEMBERS; i++)
		if (ms->m[i].state == REG_MEMBER_ACTIVE && ms->m[i].has_addr)
			ctld_member_rec(d, &ms->m[i],
			    &st->members[st->nmembers++]);
}

/* Push a snapshot of party p to n. */
static void
ctld_push_state(struct ctld_node *n, const struct reg_party *p)
{
	struct ctld		*d = n->d;
	struct ctld_members	*ms;
	struct control_state	*st;
	struct buf		 b;

	if ((ms = ctld_members_load(d, p->id)) == NULL)
		return;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		free(ms);
		return;
	}
	ctld_state_fill(d, p, ms, st);
	if (ctld_begin(&b, CONTROL_MSG_STATE, 0) == 0)
		ctld_finish(n, &b, control_enc_state(&b, st));
	free(st);
	free(ms);
}

static void
ctld_send_raw(struct ctld *d, const uint8_t *key, const struct buf *b)
{
	struct ctld_node	*n = ctld_node_find(d, key);

	if (n != NULL && !n->doomed && n->conn != NULL)
		(void)csrv_send(n->conn, b->data, b->len);
}

/*
 * Number dl with the party's next sequence and send it to the ACTIVE
 * members of ms except skip, and to extra (either may be NULL).
 */
static void
ctld_delta_send(struct ctld *d, const struct ctld_members *ms,
    struct control_delta *dl, const uint8_t *skip, const uint8_t *extra)
{
	struct buf	 b;
	size_t		 i;

	dl->seq = ctld_seq_next(d, dl->id);
	if (ctld_begin(&b, CONTROL_MSG_DELTA, 0) == -1)
		return;
	if (control_enc_delta(&b, dl) == -1) {
		log_warn("%s: encode", __func__);
		buf_free(&b);
		return;
	}
	for (i = 0; i < ms->n; i++)
		if (ms->m[i].state == REG_MEMBER_ACTIVE && (skip == NULL ||
		    memcmp(ms->m[i].node, skip, REG_KEY_LEN) != 0))
			ctld_send_raw(d, ms->m[i].node, &b);
	if (extra != NULL)
		ctld_send_raw(d, extra, &b);
	buf_free(&b);
}

/* A LEFT delta (reason) about key to the party's members. */
static void
ctld_delta_left(struct ctld *d, const uint8_t *party, const uint8_t *key,
    uint8_t reason, const uint8_t *skip, const uint8_t *extra)
{
	struct ctld_members	*ms;
	struct control_delta	 dl;

	if ((ms = ctld_members_load(d, party)) == NULL)
		return;
	memset(&dl, 0, sizeof(dl));
	memcpy(dl.id, party, CONTROL_IDLEN);
	dl.kind = CONTROL_DELTA_LEFT;
	dl.reason = reason;
	memcpy(dl.member.key, key, CONTROL_KEYLEN);
	ctld_delta_send(d, ms, &dl, skip, extra);
	free(ms);
}

/* ---- hello ---- */

static void
ctld_welcome_party(struct ctld *d, const struct reg_party *p,
    const uint8_t *key, struct control_party_summary *s)
{
	struct ctld_members	*ms;
	size_t			 k = 1;

	memcpy(s->id, p->id, CONTROL_IDLEN);
	ctld_strcpy(s->name, p->name, sizeof(s->name));
	s->flags = memcmp(p->host, key, CONTROL_KEYLEN) == 0 ?
	    CONTROL_PARTY_HOST : 0;
	if ((ms = ctld_members_load(d, p->id)) != NULL) {
		k = ctld_members_active(ms);
		free(ms);
	}
	if (k < 1)
		k = 1;
	s->nmembers = k > CONTROL_MAX_MEMBERS ? CONTROL_MAX_MEMBERS : k;
}

static int
ctld_welcome(struct ctld *d, const uint8_t *key, uint32_t id,
    struct buf *reply)
{
	struct control_welcome	 w;
	struct ctld_parties	 ps;
	size_t			 i;

	memset(&w, 0, sizeof(w));
	ps.n = 0;
	if (reg_node_parties(d->reg, key, ctld_parties_cb, &ps) == -1)
		return -1;
	w.version = CONTROL_VERSION;
	w.server_time = (uint64_t)ctld_now(d);
	w.heartbeat = d->lim.heartbeat;
	for (i = 0; i < ps.n && w.nparties < CONTROL_MAX_PARTIES; i++)
		ctld_welcome_party(d, &ps.p[i], key,
		    &w.parties[w.nparties++]);
	if (control_enc_hdr(reply, CONTROL_MSG_WELCOME, id) == -1)
		return -1;
	return control_enc_welcome(reply, &w);
}

/* After WELCOME went out: one STATE per party. */
static void
ctld_node_post(evutil_socket_t fd, short ev, void *arg)
{
	struct ctld_node	*n = arg;
	struct ctld_parties	 ps;
	size_t			 i;

	if (n->conn == NULL || n->doomed)
		return;
	ps.n = 0;
	if (reg_node_parties(n->d->reg, n->key, ctld_parties_cb, &ps) == -1)
		return;
	for (i = 0; i < ps.n; i++)
		ctld_push_state(n, &ps.p[i]);
}

/* Check a HELLO; an error code for the reply, or 0. */
static unsigned
ctld_hello_check(const uint8_t *p, size_t len, struct control_hdr *h,
    struct control_hello *hello)
{
	uint16_t	 v;

	if (control_dec_hdr(p, len, h) == -1)
		return CONTROL_E_MALFORMED;
	if (h->type != CONTROL_MSG_HELLO)
		return CONTROL_E_ORDER;
	if (control_hello_version(h->payload, h->len, &v) == -1)
		return CONTROL_E_MALFORMED;
	if (v != CONTROL_VERSION)
		return CONTROL_E_VERSION;
	if (control_dec_hello(h->payload, h->len, hello) == -1)
		return CONTROL_E_MALFORMED;
	return 0;
}

/* ---- relays ---- */

static bool
ctld_relay_allowed(const struct ctld *d, const uint8_t key[32])
{
	size_t	 i;

	for (i = 0; i < d->lim.nrelay_keys; i++)
		if (sodium_memcmp(d->lim.relay_keys[i], key, 32) == 0)
			return true;
	return false;
}

static unsigned
ctld_relay_check(const struct ctld *d, const uint8_t key[32],
    const struct control_hdr *h, struct control_relay_hello *rh)
{
	uint16_t	 v;

	if (control_hello_version(h->payload, h->len, &v) == -1)
		return CONTROL_E_MALFORMED;
	if (v != CONTROL_VERSION)
		return CONTROL_E_VERSION;
	if (control_dec_relay_hello(h->payload, h->len, rh) == -1)
		return CONTROL_E_MALFORMED;
	if (!ctld_relay_allowed(d, key))
		return CONTROL_E_DENIED;
	return 0;
}

/* Where nodes reach the relay: its first address, or the session's. */
static int
ctld_relay_addr(struct csrv_conn *c, const struct control_relay_hello *rh,
    struct addr *a)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	uint16_t		 port;

	if (rh->ep.n > 0) {
		*a = rh->ep.c[0].addr;
		return 0;
	}
	if (csrv_conn_peer(c, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return addr_from_sockaddr((struct sockaddr *)&ss, a, &port);
}

static int
ctld_relay_welcome(struct ctld *d, uint32_t id, struct buf *reply)
{
	struct control_relay_welcome	 w;

	memset(&w, 0, sizeof(w));
	w.version = CONTROL_VERSION;
	w.report = d->lim.relay_report;
	memcpy(w.sign_key, d->relays.sign_pk, sizeof(w.sign_key));
	if (control_enc_hdr(reply, CONTROL_MSG_RELAY_WELCOME, id) == -1)
		return -1;
	return control_enc_relay_welcome(reply, &w);
}

static int
ctld_relay_refuse(struct ctld_node *n, uint32_t id, unsigned err,
    struct buf *reply)
{
	if (id == 0 || ctld_enc_error(reply, id, err,
	    control_err_str(err)) == -1) {
		ctld_node_free(n);	/* closed() will not run */
		return -1;
	}
	ctld_node_refuse(n);
	return 0;
}

/* RELAY_HELLO, the first message of a relay's session. */
static int
ctld_relay_hello(struct ctld *d, struct csrv_conn *c, const uint8_t key[32],
    const struct control_hdr *h, struct buf *reply)
{
	struct control_relay_hello	 rh;
	struct ctld_node		*n, *old;
	struct addr			 a;
	char				 as[LR_ADDR_STRLEN];
	unsigned			 err;

	if ((n = ctld_node_new(d, c, key)) == NULL)
		return -1;
	n->relay = true;
	if ((err = ctld_relay_check(d, key, h, &rh)) != 0)
		return ctld_relay_refuse(n, h->id, err, reply);
	if ((old = ctld_node_find(d, key)) != NULL) {
		ctld_node_unlist(old);
		if (old->conn != NULL)
			csrv_close(old->conn);
	}
	if (ctld_relay_addr(c, &rh, &a) == -1 ||
	    relays_add(&d->relays, key, &rh, &a, ctld_mono_ms()) == -1)
		return ctld_relay_refuse(n, h->id, CONTROL_E_LIMIT, reply);
	ctld_strcpy(n->name, rh.region, sizeof(n->name));
	ctld_node_list(n);
	log_info("relay in %s at %s port %u registered", rh.region,
	    addr_fmt(&a, as, sizeof(as)), rh.port);
	if (ctld_relay_welcome(d, h->id, reply) == -1) {
		buf_reset(reply);
		return ctld_relay_refuse(n, h->id, CONTROL_E_INTERNAL, reply);
	}
	return 0;
}

static void
ctld_req_relay_report(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_relay_report	 r;

	if (control_dec_relay_report(h->payload, h->len, &r) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad relay report");
		return;
	}
	if (relays_report(&n->d->relays, n->key, &r, ctld_mono_ms()) == -1) {
		ctld_error(n, h->id, CONTROL_E_INTERNAL, "relay not listed");
		return;
	}
	ctld_empty(n, CONTROL_MSG_OK, h->id);
}

/* A relay's session carries reports and heartbeats, nothing else. */
static void
ctld_dispatch_relay(struct ctld_node *n, const struct control_hdr *h)
{
	switch (h->type) {
	case CONTROL_MSG_RELAY_REPORT:
		ctld_req_relay_report(n, h);
		break;
	case CONTROL_MSG_HEARTBEAT:
		if (control_dec_empty(h->payload, h->len) == -1)
			ctld_error(n, h->id, CONTROL_E_MALFORMED,
			    "bad heartbeat");
		else
			ctld_empty(n, CONTROL_MSG_HEARTBEAT_ACK, h->id);
		break;
	default:
		ctld_error(n, h->id, CONTROL_E_ORDER, "relays only report");
		break;
	}
}

static int
ctld_hello(struct csrv_conn *c, const uint8_t key[32], const uint8_t *p,
    size_t len, struct buf *reply, void *arg)
{
	struct ctld		*d = arg;
	struct ctld_node	*n, *old;
	struct control_hdr	 h;
	struct control_hello	 hello;
	unsigned		 err;

	memset(&h, 0, sizeof(h));
	if (control_dec_hdr(p, len, &h) == 0 &&
	    h.type == CONTROL_MSG_RELAY_HELLO)
		return ctld_relay_hello(d, c, key, &h, reply);
	if ((n = ctld_node_new(d, c, key)) == NULL)
		return -1;
	if ((err = ctld_hello_check(p, len, &h, &hello)) != 0) {
		if (h.id == 0 || ctld_enc_error(reply, h.id, err,
		    control_err_str(err)) == -1) {
			ctld_node_free(n);	/* closed() will not run */
			return -1;
		}
		ctld_node_refuse(n);
		return 0;
	}
	if ((old = ctld_node_find(d, key)) != NULL) {
		ctld_node_unlist(old);
		if (old->conn != NULL)
			csrv_close(old->conn);
	}
	ctld_strcpy(n->name, hello.name, sizeof(n->name));
	n->ep = hello.ep;
	ctld_node_list(n);
	if (reg_node_seen(d->reg, key, hello.name, ctld_now(d)) == -1 ||
	    ctld_welcome(d, key, h.id, reply) == -1) {
		log_warn("%s: welcome", __func__);
		buf_reset(reply);
		ctld_node_refuse(n);
		return ctld_enc_error(reply, h.id, CONTROL_E_INTERNAL,
		    "server failure");
	}
	event_active(n->post, EV_TIMEOUT, 0);
	return 0;
}

static void
ctld_closed(struct csrv_conn *c, void *arg)
{
	struct ctld_node	*n = csrv_conn_data(c);

	if (n == NULL)
		return;
	/* a replaced relay session is unlisted: its successor stays */
	if (n->relay && n->listed)
		relays_remove(&n->d->relays, n->key);
	ctld_node_unlist(n);
	n->conn = NULL;
	event_del(n->doom);
	event_del(n->post);
	event_active(n->reap, EV_TIMEOUT, 0);
}

/* ---- requests ---- */

static void
ctld_reply_party(struct ctld_node *n, uint32_t id, const struct reg_party *p)
{
	struct control_party	 cp;
	struct buf		 b;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.id, p->id, CONTROL_IDLEN);
	ctld_strcpy(cp.name, p->name, sizeof(cp.name));
	cp.subnet = p->subnet;
	cp.addr = p->addr;
	if (ctld_begin(&b, CONTROL_MSG_PARTY, id) == 0)
		ctld_finish(n, &b, control_enc_party(&b, &cp));
}

static void
ctld_req_party_create(struct ctld_node *n, const struct control_hdr *h)
{
	struct ctld			*d = n->d;
	struct control_party_create	 pc;
	struct reg_party		 p;
	struct addr			 a;

	if (control_dec_party_create(h->payload, h->len, &pc) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad party_create");
		return;
	}
	if (reg_party_create(d->reg, n->key, pc.name, NULL, ctld_now(d),
	    p.id, &a) == -1 || ctld_party_of(d, n->key, p.id, &p) == -1) {
		ctld_reg_error(n, h->id, errno);
		return;
	}
	ctld_reply_party(n, h->id, &p);
	ctld_push_state(n, &p);
}

/* The sender must be a member of id, and its host when host is set. */
static int
ctld_check_party(struct ctld_node *n, uint32_t rid, const uint8_t *id,
    bool host, struct reg_party *p)
{
	if (ctld_party_of(n->d, n->key, id, p) == -1) {
		if (errno == ENOENT)
			ctld_error(n, rid, CONTROL_E_NO_PARTY, "not a member");
		else
			ctld_reg_error(n, rid, errno);
		return -1;
	}
	if (host && memcmp(p->host, n->key, CONTROL_KEYLEN) != 0) {
		ctld_error(n, rid, CONTROL_E_NOT_HOST, "not the host");
		return -1;
	}
	return 0;
}

static void
ctld_invite_terms(struct ctld *d, const struct control_invite_create *ic,
    struct control_invite *inv)
{
	memset(inv, 0, sizeof(*inv));
	memcpy(inv->id, ic->id, CONTROL_IDLEN);
	inv->expiry = ic->expiry;
	if (inv->expiry == 0 || inv->expiry > d->lim.invite_ttl_max)
		inv->expiry = d->lim.invite_ttl_max;
	inv->max_uses = ic->max_uses;
	if (inv->max_uses == 0 || inv->max_uses > REG_INVITE_MAX_USES)
		inv->max_uses = REG_INVITE_MAX_USES;
	inv->flags = ic->flags;
	do
		randombytes_buf(inv->code, sizeof(inv->code));
	while (sodium_is_zero(inv->code, sizeof(inv->code)));
}

static void
ctld_req_invite_create(struct ctld_node *n, const struct control_hdr *h)
{
	struct ctld			*d = n->d;
	struct control_invite_create	 ic;
	struct control_invite		 inv;
	struct reg_party		 p;
	struct buf			 b;
	int64_t				 now = ctld_now(d);

	if (control_dec_invite_create(h->payload, h->len, &ic) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad invite_create");
		return;
	}
	if (ctld_check_party(n, h->id, ic.id, true, &p) == -1)
		return;
	ctld_invite_terms(d, &ic, &inv);
	if (reg_invite_create(d->reg, ic.id, n->key, inv.code, now,
	    now + inv.expiry, inv.max_uses,
	    (inv.flags & CONTROL_INVITE_APPROVAL) != 0) == -1) {
		ctld_reg_error(n, h->id, errno);
		return;
	}
	if (ctld_begin(&b, CONTROL_MSG_INVITE, h->id) == 0)
		ctld_finish(n, &b, control_enc_invite(&b, &inv));
}

/* Make n an ACTIVE member of party and tell everyone. */
static void
ctld_join_finish(struct ctld_node *n, uint32_t id, const uint8_t *party)
{
	struct ctld		*d = n->d;
	struct ctld_members	*ms;
	struct control_delta	 dl;
	struct reg_party	 p;
	struct addr		 a;

	if ((ms = ctld_members_load(d, party)) == NULL) {
		ctld_reg_error(n, id, errno);
		return;
	}
	if (ctld_members_active(ms) >= CONTROL_MAX_MEMBERS) {
		ctld_error(n, id, CONTROL_E_LIMIT, "party full");
		free(ms);
		return;
	}
	free(ms);
	if (reg_member_join(d->reg, party, n->key, ctld_now(d), &a) == -1 ||
	    ctld_party_of(d, n->key, party, &p) == -1) {
		if (errno == EPERM || errno == EACCES)
			ctld_error(n, id, CONTROL_E_INVITE, "not admitted");
		else
			ctld_reg_error(n, id, errno);
		return;
	}
	ctld_reply_party(n, id, &p);
	if ((ms = ctld_members_load(d, party)) == NULL)
		return;
	memset(&dl, 0, sizeof(dl));
	memcpy(dl.id, party, CONTROL_IDLEN);
	dl.kind = CONTROL_DELTA_JOINED;
	if (ctld_members_find(ms, n->key) != NULL)
		ctld_member_rec(d, ctld_members_find(ms, n->key), &dl.member);
	/* the snapshot carries the JOINED delta's number */
	ctld_delta_send(d, ms, &dl, n->key, NULL);
	ctld_push_state(n, &p);
	free(ms);
}

/* The joiner waits; its host hears about it. */
static void
ctld_join_wait(struct ctld_node *n, uint32_t id, const uint8_t *party)
{
	struct control_approval_pending	 ap;
	struct control_join_request	 jr;
	struct reg_party		 p;
	struct ctld_node		*host;
	struct buf			 b;

	if (ctld_party_info(n->d, party, &p) == -1) {
		ctld_reg_error(n, id, errno);
		return;
	}
	n->pending = true;
	n->pend_id = id;
	memcpy(n->pend_party, party, CONTROL_IDLEN);
	memset(&ap, 0, sizeof(ap));
	memcpy(ap.id, party, CONTROL_IDLEN);
	ctld_strcpy(ap.name, p.name, sizeof(ap.name));
	if (ctld_begin(&b, CONTROL_MSG_APPROVAL_PENDING, id) == 0)
		ctld_finish(n, &b, control_enc_approval_pending(&b, &ap));
	if ((host = ctld_node_find(n->d, p.host)) == NULL)
		return;
	memset(&jr, 0, sizeof(jr));
	memcpy(jr.id, party, CONTROL_IDLEN);
	memcpy(jr.key, n->key, CONTROL_KEYLEN);
	ctld_strcpy(jr.name, n->name, sizeof(jr.name));
	if (ctld_begin(&b, CONTROL_MSG_JOIN_REQUEST, 0) == 0)
		ctld_finish(host, &b, control_enc_join_request(&b, &jr));
}

static void
ctld_req_join(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_join	 j;
	uint8_t			 party[CONTROL_IDLEN];
	enum reg_state		 st;

	if (control_dec_join(h->payload, h->len, &j) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad join");
		return;
	}
	if (reg_invite_redeem(n->d->reg, j.code, n->key, ctld_now(n->d),
	    party, &st) == -1) {
		if (errno == ENOENT || errno == ETIMEDOUT || errno == EUSERS)
			ctld_error(n, h->id, CONTROL_E_INVITE,
			    "invite unknown, expired or used up");
		else
			ctld_reg_error(n, h->id, errno);
		return;
	}
	if (st == REG_MEMBER_ACTIVE)
		ctld_error(n, h->id, CONTROL_E_ALREADY, "already a member");
	else if (st == REG_MEMBER_PENDING)
		ctld_join_wait(n, h->id, party);
	else
		ctld_join_finish(n, h->id, party);
}

static void
ctld_req_leave(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_party_ref	 r;
	struct reg_party		 p;

	if (control_dec_party_ref(h->payload, h->len, &r) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad leave");
		return;
	}
	if (ctld_check_party(n, h->id, r.id, false, &p) == -1)
		return;
	if (reg_member_leave(n->d->reg, r.id, n->key, ctld_now(n->d)) == -1) {
		ctld_reg_error(n, h->id, errno);
		return;
	}
	ctld_empty(n, CONTROL_MSG_OK, h->id);
	ctld_delta_left(n->d, r.id, n->key, CONTROL_LEFT_LEFT, n->key, NULL);
}

static void
ctld_req_kick(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_kick	 k;
	struct reg_party	 p;

	if (control_dec_kick(h->payload, h->len, &k) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad kick");
		return;
	}
	if (ctld_check_party(n, h->id, k.id, true, &p) == -1)
		return;
	if (memcmp(k.key, n->key, CONTROL_KEYLEN) == 0) {
		ctld_error(n, h->id, CONTROL_E_SELF, "cannot kick the host");
		return;
	}
	if (reg_member_kick(n->d->reg, k.id, n->key, k.key,
	    ctld_now(n->d)) == -1) {
		if (errno == ENOENT)
			ctld_error(n, h->id, CONTROL_E_NO_MEMBER, "no member");
		else
			ctld_reg_error(n, h->id, errno);
		return;
	}
	ctld_empty(n, CONTROL_MSG_OK, h->id);
	/* The host too: every member sees every sequence number. */
	ctld_delta_left(n->d, k.id, k.key, CONTROL_LEFT_KICKED, NULL,
	    k.key);
}

static void
ctld_req_close(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_party_ref	 r;
	struct control_delta		 dl;
	struct ctld_members		*ms;
	struct reg_party		 p;

	if (control_dec_party_ref(h->payload, h->len, &r) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad close");
		return;
	}
	if (ctld_check_party(n, h->id, r.id, true, &p) == -1)
		return;
	if ((ms = ctld_members_load(n->d, r.id)) == NULL ||
	    reg_party_close(n->d->reg, r.id, n->key) == -1) {
		ctld_reg_error(n, h->id, errno);
		free(ms);
		return;
	}
	ctld_empty(n, CONTROL_MSG_OK, h->id);
	memset(&dl, 0, sizeof(dl));
	memcpy(dl.id, r.id, CONTROL_IDLEN);
	dl.kind = CONTROL_DELTA_CLOSED;
	ctld_delta_send(n->d, ms, &dl, n->key, NULL);
	ctld_seq_drop(n->d, r.id);
	free(ms);
}

static void
ctld_req_endpoints(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_endpoints	 ep;
	struct control_delta		 dl;
	struct ctld_parties		 ps;
	struct ctld_members		*ms;
	size_t				 i;

	if (control_dec_endpoints(h->payload, h->len, &ep) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad endpoints");
		return;
	}
	n->ep = ep;
	ctld_empty(n, CONTROL_MSG_OK, h->id);
	ps.n = 0;
	if (reg_node_parties(n->d->reg, n->key, ctld_parties_cb, &ps) == -1)
		return;
	for (i = 0; i < ps.n; i++) {
		if ((ms = ctld_members_load(n->d, ps.p[i].id)) == NULL)
			continue;
		memset(&dl, 0, sizeof(dl));
		memcpy(dl.id, ps.p[i].id, CONTROL_IDLEN);
		dl.kind = CONTROL_DELTA_ENDPOINTS;
		memcpy(dl.member.key, n->key, CONTROL_KEYLEN);
		dl.member.ep = ep;
		ctld_delta_send(n->d, ms, &dl, NULL, NULL);
		free(ms);
	}
}

static int64_t
ctld_hb_period(const struct ctld *d)
{
	return d->lim.member_timeout / 3 > 1 ? d->lim.member_timeout / 3 : 1;
}

static void
ctld_req_heartbeat(struct ctld_node *n, const struct control_hdr *h)
{
	if (control_dec_empty(h->payload, h->len) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad heartbeat");
		return;
	}
	/*
	 * A live session is proof of life, so the registry needs a heartbeat
	 * only often enough that expiry never takes a live member: every
	 * third of MemberTimeout.  A row per heartbeat cost ~25 ms of
	 * writes a second at 10,000 nodes (bench/RESULTS.md).
	 */
	n->hb_last = ctld_now(n->d);
	if (n->hb_last - n->hb_stored >= ctld_hb_period(n->d)) {
		if (reg_heartbeat(n->d->reg, n->key, n->hb_last) == -1) {
			ctld_reg_error(n, h->id, errno);
			return;
		}
		n->hb_stored = n->hb_last;
	}
	ctld_empty(n, CONTROL_MSG_HEARTBEAT_ACK, h->id);
}

/* The joiner's final answer, if it is still waiting on this party. */
static void
ctld_approve_joiner(struct ctld *d, const struct control_approve *a)
{
	struct ctld_node	*j = ctld_node_find(d, a->key);

	if (j == NULL || j->doomed || !j->pending ||
	    memcmp(j->pend_party, a->id, CONTROL_IDLEN) != 0)
		return;
	j->pending = false;
	if (a->verdict == CONTROL_APPROVE_ACCEPT)
		ctld_join_finish(j, j->pend_id, a->id);
	else
		ctld_error(j, j->pend_id, CONTROL_E_DENIED, "join denied");
}

static int
ctld_approve_reg(struct ctld_node *n, const struct control_approve *a)
{
	struct ctld_members	*ms;
	const struct reg_member	*m;
	int			 pending;

	if ((ms = ctld_members_load(n->d, a->id)) == NULL)
		return -1;
	m = ctld_members_find(ms, a->key);
	pending = m != NULL && m->state == REG_MEMBER_PENDING;
	free(ms);
	if (!pending) {
		errno = ESRCH;
		return -1;
	}
	if (a->verdict == CONTROL_APPROVE_ACCEPT)
		return reg_member_approve(n->d->reg, a->id, n->key, a->key);
	return reg_member_kick(n->d->reg, a->id, n->key, a->key,
	    ctld_now(n->d));
}

static void
ctld_req_approve(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_approve	 a;
	struct reg_party	 p;

	if (control_dec_approve(h->payload, h->len, &a) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad approve");
		return;
	}
	if (ctld_check_party(n, h->id, a.id, true, &p) == -1)
		return;
	if (ctld_approve_reg(n, &a) == -1) {
		if (errno == ESRCH || errno == ENOENT)
			ctld_error(n, h->id, CONTROL_E_NO_MEMBER,
			    "no such join request");
		else
			ctld_reg_error(n, h->id, errno);
		return;
	}
	ctld_empty(n, CONTROL_MSG_OK, h->id);
	ctld_approve_joiner(n->d, &a);
}

/* RELAYS: the live relays, with this node's tokens for that party. */
static void
ctld_req_relays(struct ctld_node *n, const struct control_hdr *h)
{
	struct control_party_ref	 pr;
	struct control_relay_list	*l;
	struct reg_party		 p;
	struct buf			 b;

	if (control_dec_party_ref(h->payload, h->len, &pr) == -1) {
		ctld_error(n, h->id, CONTROL_E_MALFORMED, "bad relays");
		return;
	}
	if (ctld_check_party(n, h->id, pr.id, false, &p) == -1)
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		ctld_error(n, h->id, CONTROL_E_INTERNAL, "server failure");
		return;
	}
	relays_list(&n->d->relays, pr.id, n->key, ctld_now(n->d),
	    ctld_mono_ms(), l);
	if (ctld_begin(&b, CONTROL_MSG_RELAY_LIST, h->id) == 0)
		ctld_finish(n, &b, control_enc_relay_list(&b, l));
	free(l);
}

static void
ctld_dispatch(struct ctld_node *n, const struct control_hdr *h)
{
	switch (h->type) {
	case CONTROL_MSG_HELLO:
		ctld_error(n, h->id, CONTROL_E_ORDER, "second hello");
		break;
	case CONTROL_MSG_PARTY_CREATE:
		ctld_req_party_create(n, h);
		break;
	case CONTROL_MSG_INVITE_CREATE:
		ctld_req_invite_create(n, h);
		break;
	case CONTROL_MSG_JOIN:
		ctld_req_join(n, h);
		break;
	case CONTROL_MSG_LEAVE:
		ctld_req_leave(n, h);
		break;
	case CONTROL_MSG_KICK:
		ctld_req_kick(n, h);
		break;
	case CONTROL_MSG_CLOSE:
		ctld_req_close(n, h);
		break;
	case CONTROL_MSG_ENDPOINTS:
		ctld_req_endpoints(n, h);
		break;
	case CONTROL_MSG_HEARTBEAT:
		ctld_req_heartbeat(n, h);
		break;
	case CONTROL_MSG_APPROVE:
		ctld_req_approve(n, h);
		break;
	case CONTROL_MSG_RELAYS:
		ctld_req_relays(n, h);
		break;
	case CONTROL_MSG_RELAY_HELLO:
	case CONTROL_MSG_RELAY_REPORT:
		ctld_error(n, h->id, CONTROL_E_ORDER, "nodes are no relays");
		break;
	default:
		ctld_error(n, h->id, CONTROL_E_UNSUPPORTED, "unsupported");
		break;
	}
}

static void
ctld_msg(struct csrv_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct ctld_node	*n = csrv_conn_data(c);
	struct control_hdr	 h;

	if (n == NULL || n->doomed)
		return;
	if (control_dec_hdr(p, len, &h) == -1) {
		log_debug("%s: undecodable header", __func__);
		csrv_close(c);
		return;
	}
	if ((h.type >> 8) != CONTROL_CLASS_REQUEST) {
		log_debug("%s: %s from a node", __func__,
		    control_msg_name(h.type));
		csrv_close(c);
		return;
	}
	if (!ctld_node_admit(n)) {
		ctld_error(n, h.id, CONTROL_E_RATE, "rate limited");
		return;
	}
	if (n->relay)
		ctld_dispatch_relay(n, &h);
	else
		ctld_dispatch(n, &h);
}

/* ---- expiry ---- */

static void
ctld_events_cb(const struct reg_event *ev, void *arg)
{
	struct ctld_events	*evs = arg;

	if (evs->n < CTLD_MAXEVENTS)
		evs->ev[evs->n++] = *ev;
}

static void
ctld_expire(struct ctld *d, int64_t now)
{
	struct ctld_events	*evs;
	size_t			 i;

	if ((evs = calloc(1, sizeof(*evs))) == NULL)
		return;
	if (reg_expire(d->reg, now, d->lim.member_timeout, d->lim.party_grace,
	    ctld_events_cb, evs) == -1)
		log_warn("%s", __func__);
	for (i = 0; i < evs->n; i++) {
		if (evs->ev[i].type == REG_EV_MEMBER_EXPIRED)
			ctld_delta_left(d, evs->ev[i].party, evs->ev[i].node,
			    CONTROL_LEFT_EXPIRED, evs->ev[i].node, NULL);
		else if (evs->ev[i].type == REG_EV_PARTY_REMOVED)
			ctld_seq_drop(d, evs->ev[i].party);
	}
	free(evs);
}

static void
ctld_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct ctld	*d = arg;
	int64_t		 now = ctld_now(d);

	if (reg_flush(d->reg) == -1)
		log_warn("%s: flush", __func__);
	/* after a restart every heartbeat is old: wait one timeout */
	if (now - d->started >= d->lim.member_timeout &&
	    now != d->expired_at) {
		d->expired_at = now;	/* seconds are its resolution */
		ctld_expire(d, now);
	}
}

/* ---- setup ---- */

struct ctld *
ctld_new(struct event_base *base, int lfd, const uint8_t priv[32],
    const char *dbpath, const struct ctld_limits *lim)
{
	static const struct csrv_ops	 ops = { ctld_hello, ctld_msg,
					    ctld_closed };
	struct ctld			*d;
	struct timeval			 tv;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->base = base;
	d->lim = *lim;
	d->started = ctld_now(d);
	if (relays_init(&d->relays, priv, lim->relay_report > 0 ?
	    lim->relay_report : 10, lim->relay_token_ttl > 0 ?
	    lim->relay_token_ttl : 3600) == -1) {
		free(d);
		return NULL;
	}
	tv.tv_sec = lim->tick_ms / 1000;
	tv.tv_usec = (lim->tick_ms % 1000) * 1000;
	if (reg_open(dbpath, &d->reg) == -1 ||
	    (d->tick = event_new(base, -1, EV_PERSIST, ctld_tick, d)) == NULL ||
	    event_add(d->tick, &tv) == -1 ||
	    (d->srv = csrv_new(base, lfd, priv, &lim->csrv, &ops, d)) == NULL) {
		ctld_free(d);
		return NULL;
	}
	return d;
}

void
ctld_free(struct ctld *d)
{
	struct ctld_seq	*s;
	size_t		 i;

	if (d == NULL)
		return;
	csrv_free(d->srv);
	while (d->all != NULL)
		ctld_node_free(d->all);
	for (i = 0; i < CTLD_BUCKETS; i++)
		while ((s = d->seqs[i]) != NULL) {
			d->seqs[i] = s->next;
			free(s);
		}
	if (d->tick != NULL)
		event_free(d->tick);
	reg_close(d->reg);
	relays_wipe(&d->relays);
	free(d);
}
