/*
 * Control protocol message codec and invite links: the hex vectors of
 * proto/control.md, round trips of every payload, truncation at every
 * offset, trailing bytes, bad enums and flags, counts, encoders that
 * refuse invalid structs, and invite links valid and malformed.
 *
 * The spec is read from $LR_SRCDIR/proto/control.md, or proto/control.md
 * relative to the current directory (the repository root under make).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/lib/vectors.h"

#include "proto/control.h"
#include "proto/relay.h"

#define MAXVEC		512
#define VECMAX		2048
#define ROUNDS		500

union control_any {
	struct control_hdr		 hdr;
	struct control_hello		 hello;
	struct control_welcome		 welcome;
	struct control_party_create	 party_create;
	struct control_party		 party;
	struct control_invite_create	 invite_create;
	struct control_invite		 invite;
	struct control_join		 join;
	struct control_party_ref	 party_ref;
	struct control_kick		 kick;
	struct control_approve		 approve;
	struct control_approval_pending	 approval_pending;
	struct control_join_request	 join_request;
	struct control_endpoints	 endpoints;
	struct control_state		 state;
	struct control_delta		 delta;
	struct control_error		 error;
	struct control_relay_hello	 relay_hello;
	struct control_relay_welcome	 relay_welcome;
	struct control_relay_report	 relay_report;
	struct control_relay_list	 relay_list;
};

typedef int	(*dec_fn)(const void *, size_t, union control_any *);
typedef int	(*enc_fn)(struct buf *, const union control_any *);
typedef void	(*gen_fn)(union control_any *);
typedef bool	(*eq_fn)(const union control_any *, const union control_any *);

struct codec {
	const char	*name;
	unsigned int	 type;
	dec_fn		 dec;
	enc_fn		 enc;
	gen_fn		 gen;
	eq_fn		 eq;
};

struct vec {
	const struct codec *c;
	bool		 ok;
	int		 line;
	size_t		 len;
	uint8_t		 data[VECMAX];
};

static struct vec	 vecs[MAXVEC];
static size_t		 nvecs;
static bool		 loaded;
static uint32_t		 rng = 0x2545f491;
static uint8_t		 out1[CONTROL_MAXMSG], out2[CONTROL_MAXMSG];
static union control_any ua, ub, uc;	/* too large for the stack */

#define CODEC(f)							\
static int								\
dec_##f(const void *p, size_t len, union control_any *u)		\
{									\
	return (control_dec_##f(p, len, &u->f));			\
}									\
static int								\
enc_##f(struct buf *b, const union control_any *u)			\
{									\
	return (control_enc_##f(b, &u->f));				\
}

CODEC(hello)
CODEC(welcome)
CODEC(party_create)
CODEC(party)
CODEC(invite_create)
CODEC(invite)
CODEC(join)
CODEC(party_ref)
CODEC(kick)
CODEC(approve)
CODEC(approval_pending)
CODEC(join_request)
CODEC(endpoints)
CODEC(state)
CODEC(delta)
CODEC(error)
CODEC(relay_hello)
CODEC(relay_welcome)
CODEC(relay_report)
CODEC(relay_list)

static int
dec_empty(const void *p, size_t len, union control_any *u)
{
	(void)u;
	return (control_dec_empty(p, len));
}

static int
enc_empty(struct buf *b, const union control_any *u)
{
	(void)b;
	(void)u;
	return (0);
}

/* header vectors: a whole message whose payload is empty. */
static int
dec_header(const void *p, size_t len, union control_any *u)
{
	struct control_hdr	 h;

	if (control_dec_hdr(p, len, &h) == -1)
		return (-1);
	if (h.len != 0) {
		errno = EBADMSG;
		return (-1);
	}
	u->hdr = h;
	return (0);
}

static int
enc_header(struct buf *b, const union control_any *u)
{
	return (control_enc_hdr(b, u->hdr.type, u->hdr.id));
}

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (rng);
}

static uint32_t
rnd_range(uint32_t lo, uint32_t hi)
{
	return (lo + (uint32_t)((uint64_t)rnd() % ((uint64_t)hi - lo + 1)));
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	size_t	 i;

	do {
		for (i = 0; i < n; i++)
			p[i] = rnd();
	} while (p[0] == 0 && p[n - 1] == 0);	/* never all zero */
}

/* 1..32 bytes of valid UTF-8 from ASCII and multibyte pieces. */
static void
gen_name(char *name)
{
	static const char *const piece[] = { "\xc3\xa9", "\xc3\x9f",
	    "\xe6\x97\xa5", "\xf0\x9f\x8e\xae", "\xef\xbf\xbd", "\xc2\xa0" };
	size_t	 n = 0, want, k;
	const char *p;

	want = rnd() % 4 == 0 ? CONTROL_NAME_MAX : rnd_range(1, 32);
	while (n < want) {
		if (rnd() % 3 == 0) {
			p = piece[rnd() % 6];
			k = strlen(p);
			if (n + k > want)
				break;
			memcpy(name + n, p, k);
			n += k;
		} else
			name[n++] = (char)rnd_range(0x20, 0x7e);
	}
	if (n == 0)
		name[n++] = 'x';
	name[n] = '\0';
}

static void
gen_addr(struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->af = rnd() % 2 ? AF_INET : AF_INET6;
	rnd_bytes(a->bytes, addr_len(a->af));
}

static void
gen_endpoints(struct control_endpoints *l)
{
	size_t	 i;

	memset(l, 0, sizeof(*l));
	l->n = rnd() % 4 == 0 ? CONTROL_MAX_CANDS : rnd_range(0, 4);
	for (i = 0; i < l->n; i++) {
		l->c[i].kind = rnd_range(CONTROL_EP_LAN, CONTROL_EP_CONFIGURED);
		gen_addr(&l->c[i].addr);
		l->c[i].port = rnd_range(1, 65535);
	}
}

static bool
eq_endpoints_l(const struct control_endpoints *a,
    const struct control_endpoints *b)
{
	size_t	 i;

	if (a->n != b->n)
		return (false);
	for (i = 0; i < a->n; i++)
		if (a->c[i].kind != b->c[i].kind ||
		    a->c[i].port != b->c[i].port ||
		    !addr_eq(&a->c[i].addr, &b->c[i].addr))
			return (false);
	return (true);
}

/* A subnet with room for hostmax hosts, and its host number i. */
static void
gen_subnet(struct prefix *p, unsigned int minhost)
{
	unsigned int	 max;

	gen_addr(&p->addr);
	max = addr_maxlen(p->addr.af);
	p->len = rnd_range(8, minhost > 2 ? max - 9 : max - 2);
	prefix_mask(p);
}

static void
host_addr(const struct prefix *p, unsigned int i, struct addr *a)
{
	size_t	 n = addr_len(p->addr.af);

	*a = p->addr;
	a->bytes[n - 1] |= i & 0xff;
	a->bytes[n - 2] |= i >> 8;
}

static void
gen_hello(union control_any *u)
{
	u->hello.version = CONTROL_VERSION;
	u->hello.listen_port = rnd_range(1, 65535);
	gen_name(u->hello.name);
	gen_endpoints(&u->hello.ep);
}

static bool
eq_hello(const union control_any *a, const union control_any *b)
{
	return (a->hello.version == b->hello.version &&
	    a->hello.listen_port == b->hello.listen_port &&
	    strcmp(a->hello.name, b->hello.name) == 0 &&
	    eq_endpoints_l(&a->hello.ep, &b->hello.ep));
}

static void
gen_welcome(union control_any *u)
{
	struct control_welcome	*m = &u->welcome;
	size_t			 i;

	m->version = CONTROL_VERSION;
	m->server_time = (uint64_t)rnd() << 32 | rnd();
	m->heartbeat = rnd_range(CONTROL_HEARTBEAT_MIN, CONTROL_HEARTBEAT_MAX);
	m->nparties = rnd() % 4 == 0 ? CONTROL_MAX_PARTIES : rnd_range(0, 5);
	for (i = 0; i < m->nparties; i++) {
		rnd_bytes(m->parties[i].id, CONTROL_IDLEN);
		m->parties[i].id[0] = i + 1;	/* distinct */
		gen_name(m->parties[i].name);
		m->parties[i].flags = rnd() & CONTROL_PARTY_HOST;
		m->parties[i].nmembers = rnd_range(1, CONTROL_MAX_MEMBERS);
	}
}

static bool
eq_welcome(const union control_any *a, const union control_any *b)
{
	const struct control_welcome *x = &a->welcome, *y = &b->welcome;
	size_t			 i;

	if (x->version != y->version || x->server_time != y->server_time ||
	    x->heartbeat != y->heartbeat || x->nparties != y->nparties)
		return (false);
	for (i = 0; i < x->nparties; i++)
		if (memcmp(x->parties[i].id, y->parties[i].id,
		    CONTROL_IDLEN) != 0 ||
		    strcmp(x->parties[i].name, y->parties[i].name) != 0 ||
		    x->parties[i].flags != y->parties[i].flags ||
		    x->parties[i].nmembers != y->parties[i].nmembers)
			return (false);
	return (true);
}

static void
gen_party_create(union control_any *u)
{
	gen_name(u->party_create.name);
}

static bool
eq_party_create(const union control_any *a, const union control_any *b)
{
	return (strcmp(a->party_create.name, b->party_create.name) == 0);
}

static void
gen_party(union control_any *u)
{
	rnd_bytes(u->party.id, CONTROL_IDLEN);
	gen_name(u->party.name);
	gen_subnet(&u->party.subnet, 2);
	host_addr(&u->party.subnet, rnd_range(1, 2), &u->party.addr);
}

static bool
eq_party(const union control_any *a, const union control_any *b)
{
	return (memcmp(a->party.id, b->party.id, CONTROL_IDLEN) == 0 &&
	    strcmp(a->party.name, b->party.name) == 0 &&
	    addr_eq(&a->party.subnet.addr, &b->party.subnet.addr) &&
	    a->party.subnet.len == b->party.subnet.len &&
	    addr_eq(&a->party.addr, &b->party.addr));
}

static void
gen_invite_create(union control_any *u)
{
	rnd_bytes(u->invite_create.id, CONTROL_IDLEN);
	u->invite_create.expiry = rnd() % 2 ? 0 : rnd();
	u->invite_create.max_uses = rnd();
	u->invite_create.flags = rnd() & CONTROL_INVITE_APPROVAL;
}

static bool
eq_invite_create(const union control_any *a, const union control_any *b)
{
	return (memcmp(&a->invite_create, &b->invite_create,
	    sizeof(a->invite_create)) == 0);
}

static void
gen_invite(union control_any *u)
{
	rnd_bytes(u->invite.code, CONTROL_CODELEN);
	rnd_bytes(u->invite.id, CONTROL_IDLEN);
	u->invite.expiry = rnd();
	u->invite.max_uses = rnd();
	u->invite.flags = rnd() & CONTROL_INVITE_APPROVAL;
}

static bool
eq_invite(const union control_any *a, const union control_any *b)
{
	return (memcmp(&a->invite, &b->invite, sizeof(a->invite)) == 0);
}

static void
gen_join(union control_any *u)
{
	rnd_bytes(u->join.code, CONTROL_CODELEN);
}

static bool
eq_join(const union control_any *a, const union control_any *b)
{
	return (memcmp(a->join.code, b->join.code, CONTROL_CODELEN) == 0);
}

static void
gen_party_ref(union control_any *u)
{
	rnd_bytes(u->party_ref.id, CONTROL_IDLEN);
}

static bool
eq_party_ref(const union control_any *a, const union control_any *b)
{
	return (memcmp(a->party_ref.id, b->party_ref.id, CONTROL_IDLEN) == 0);
}

static void
gen_kick(union control_any *u)
{
	rnd_bytes(u->kick.id, CONTROL_IDLEN);
	rnd_bytes(u->kick.key, CONTROL_KEYLEN);
}

static bool
eq_kick(const union control_any *a, const union control_any *b)
{
	return (memcmp(&a->kick, &b->kick, sizeof(a->kick)) == 0);
}

static void
gen_approve(union control_any *u)
{
	rnd_bytes(u->approve.id, CONTROL_IDLEN);
	rnd_bytes(u->approve.key, CONTROL_KEYLEN);
	u->approve.verdict = rnd_range(1, 2);
}

static bool
eq_approve(const union control_any *a, const union control_any *b)
{
	return (memcmp(&a->approve, &b->approve, sizeof(a->approve)) == 0);
}

static void
gen_approval_pending(union control_any *u)
{
	rnd_bytes(u->approval_pending.id, CONTROL_IDLEN);
	gen_name(u->approval_pending.name);
}

static bool
eq_approval_pending(const union control_any *a, const union control_any *b)
{
	return (memcmp(a->approval_pending.id, b->approval_pending.id,
	    CONTROL_IDLEN) == 0 &&
	    strcmp(a->approval_pending.name, b->approval_pending.name) == 0);
}

static void
gen_join_request(union control_any *u)
{
	rnd_bytes(u->join_request.id, CONTROL_IDLEN);
	rnd_bytes(u->join_request.key, CONTROL_KEYLEN);
	gen_name(u->join_request.name);
}

static bool
eq_join_request(const union control_any *a, const union control_any *b)
{
	return (memcmp(a->join_request.id, b->join_request.id,
	    CONTROL_IDLEN) == 0 && memcmp(a->join_request.key,
	    b->join_request.key, CONTROL_KEYLEN) == 0 &&
	    strcmp(a->join_request.name, b->join_request.name) == 0);
}

static void
gen_endpoints_u(union control_any *u)
{
	gen_endpoints(&u->endpoints);
}

static bool
eq_endpoints(const union control_any *a, const union control_any *b)
{
	return (eq_endpoints_l(&a->endpoints, &b->endpoints));
}

static void
gen_member(struct control_member *m, const struct prefix *subnet,
    unsigned int i)
{
	rnd_bytes(m->key, CONTROL_KEYLEN);
	m->key[0] = i;
	m->key[1] = i >> 8;
	gen_name(m->name);
	if (subnet != NULL)
		host_addr(subnet, i + 1, &m->addr);
	else
		gen_addr(&m->addr);
	m->flags = rnd() & CONTROL_MEMBER_ONLINE;
	gen_endpoints(&m->ep);
}

static bool
eq_member(const struct control_member *a, const struct control_member *b)
{
	return (memcmp(a->key, b->key, CONTROL_KEYLEN) == 0 &&
	    strcmp(a->name, b->name) == 0 && addr_eq(&a->addr, &b->addr) &&
	    a->flags == b->flags && eq_endpoints_l(&a->ep, &b->ep));
}

static void
gen_state(union control_any *u)
{
	struct control_state	*m = &u->state;
	size_t			 i;

	rnd_bytes(m->id, CONTROL_IDLEN);
	gen_name(m->name);
	gen_subnet(&m->subnet, CONTROL_MAX_MEMBERS + 2);
	m->seq = (uint64_t)rnd() << 32 | rnd();
	m->nmembers = rnd() % 8 == 0 ? CONTROL_MAX_MEMBERS : rnd_range(1, 8);
	for (i = 0; i < m->nmembers; i++)
		gen_member(&m->members[i], &m->subnet, i);
	memcpy(m->host_key, m->members[rnd() % m->nmembers].key,
	    CONTROL_KEYLEN);
}

static bool
eq_state(const union control_any *a, const union control_any *b)
{
	const struct control_state *x = &a->state, *y = &b->state;
	size_t			 i;

	if (memcmp(x->id, y->id, CONTROL_IDLEN) != 0 ||
	    strcmp(x->name, y->name) != 0 || x->subnet.len != y->subnet.len ||
	    !addr_eq(&x->subnet.addr, &y->subnet.addr) ||
	    memcmp(x->host_key, y->host_key, CONTROL_KEYLEN) != 0 ||
	    x->seq != y->seq || x->nmembers != y->nmembers)
		return (false);
	for (i = 0; i < x->nmembers; i++)
		if (!eq_member(&x->members[i], &y->members[i]))
			return (false);
	return (true);
}

static void
gen_delta(union control_any *u)
{
	struct control_delta	*m = &u->delta;

	rnd_bytes(m->id, CONTROL_IDLEN);
	m->seq = ((uint64_t)rnd() << 32 | rnd()) | 1;
	m->kind = rnd_range(CONTROL_DELTA_JOINED, CONTROL_DELTA_PRESENCE);
	gen_member(&m->member, NULL, rnd());
	m->reason = m->kind == CONTROL_DELTA_LEFT ? rnd_range(1, 3) : 0;
}

static bool
eq_delta(const union control_any *a, const union control_any *b)
{
	const struct control_delta *x = &a->delta, *y = &b->delta;

	if (memcmp(x->id, y->id, CONTROL_IDLEN) != 0 || x->seq != y->seq ||
	    x->kind != y->kind)
		return (false);
	switch (x->kind) {
	case CONTROL_DELTA_JOINED:
		return (eq_member(&x->member, &y->member));
	case CONTROL_DELTA_LEFT:
		return (memcmp(x->member.key, y->member.key,
		    CONTROL_KEYLEN) == 0 && x->reason == y->reason);
	case CONTROL_DELTA_ENDPOINTS:
		return (memcmp(x->member.key, y->member.key,
		    CONTROL_KEYLEN) == 0 &&
		    eq_endpoints_l(&x->member.ep, &y->member.ep));
	case CONTROL_DELTA_PRESENCE:
		return (memcmp(x->member.key, y->member.key,
		    CONTROL_KEYLEN) == 0 && x->member.flags == y->member.flags);
	}
	return (true);
}

static void
gen_error(union control_any *u)
{
	size_t	 i, n;

	u->error.code = rnd_range(1, CONTROL_E_MAX);
	n = rnd() % 4 == 0 ? CONTROL_ERRTEXT_MAX : rnd_range(0, 40);
	for (i = 0; i < n; i++)
		u->error.text[i] = (char)rnd_range(0x20, 0x7e);
	u->error.text[n] = '\0';
}

static bool
eq_error(const union control_any *a, const union control_any *b)
{
	return (a->error.code == b->error.code &&
	    strcmp(a->error.text, b->error.text) == 0);
}

static void
gen_region(char *s)
{
	static const char	 set[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	size_t			 i, n = rnd_range(1, CONTROL_NAME_MAX);

	for (i = 0; i < n; i++)
		s[i] = set[rnd() % (sizeof(set) - 1)];
	s[n] = '\0';
}

static void
gen_relay_hello(union control_any *u)
{
	struct control_relay_hello	*m = &u->relay_hello;
	size_t				 i;

	m->version = CONTROL_VERSION;
	m->port = rnd_range(1, 65535);
	gen_region(m->region);
	m->capacity = rnd_range(1, UINT32_MAX);
	gen_endpoints(&m->ep);
	for (i = 0; i < m->ep.n; i++)
		m->ep.c[i].kind = CONTROL_EP_CONFIGURED;
}

static bool
eq_relay_hello(const union control_any *a, const union control_any *b)
{
	const struct control_relay_hello *x = &a->relay_hello;
	const struct control_relay_hello *y = &b->relay_hello;

	return (x->version == y->version && x->port == y->port &&
	    strcmp(x->region, y->region) == 0 &&
	    x->capacity == y->capacity && eq_endpoints_l(&x->ep, &y->ep));
}

static void
gen_relay_welcome(union control_any *u)
{
	u->relay_welcome.version = CONTROL_VERSION;
	u->relay_welcome.report = rnd_range(CONTROL_HEARTBEAT_MIN,
	    CONTROL_HEARTBEAT_MAX);
	rnd_bytes(u->relay_welcome.sign_key, CONTROL_SIGNKEYLEN);
}

static bool
eq_relay_welcome(const union control_any *a, const union control_any *b)
{
	return (a->relay_welcome.version == b->relay_welcome.version &&
	    a->relay_welcome.report == b->relay_welcome.report &&
	    memcmp(a->relay_welcome.sign_key, b->relay_welcome.sign_key,
	    CONTROL_SIGNKEYLEN) == 0);
}

static void
gen_relay_report(union control_any *u)
{
	u->relay_report.load = rnd();
	u->relay_report.nbound = rnd();
}

static bool
eq_relay_report(const union control_any *a, const union control_any *b)
{
	return (a->relay_report.load == b->relay_report.load &&
	    a->relay_report.nbound == b->relay_report.nbound);
}

/* A well-formed (unsigned: the codec does not check) token for key. */
static void
gen_token(uint8_t *out, const uint8_t *relay_key)
{
	struct relay_token	 t;

	memset(&t, 0, sizeof(t));
	t.version = RELAY_TOKEN_VERSION;
	memcpy(t.relay_key, relay_key, RELAY_KEYLEN);
	rnd_bytes(t.party, RELAY_IDLEN);
	rnd_bytes(t.node_key, RELAY_KEYLEN);
	t.expiry = (uint64_t)rnd() << 32 | rnd();
	rnd_bytes(t.sig, RELAY_SIGLEN);
	ck_assert_int_eq(relay_token_enc(out, &t), 0);
}

static void
gen_relay_list(union control_any *u)
{
	struct control_relay_list	*m = &u->relay_list;
	struct control_relay		*e;
	size_t				 i;

	m->n = rnd() % 4 == 0 ? CONTROL_MAX_RELAYS : rnd_range(0, 4);
	for (i = 0; i < m->n; i++) {
		e = &m->r[i];
		rnd_bytes(e->key, CONTROL_KEYLEN);
		e->key[0] = i + 1;	/* distinct */
		gen_region(e->region);
		e->load = rnd();
		gen_addr(&e->addr);
		e->port = rnd_range(1, 65535);
		gen_token(e->token, e->key);
	}
}

static bool
eq_relay_list(const union control_any *a, const union control_any *b)
{
	const struct control_relay_list	*x = &a->relay_list;
	const struct control_relay_list	*y = &b->relay_list;
	size_t				 i;

	if (x->n != y->n)
		return (false);
	for (i = 0; i < x->n; i++)
		if (memcmp(x->r[i].key, y->r[i].key, CONTROL_KEYLEN) != 0 ||
		    strcmp(x->r[i].region, y->r[i].region) != 0 ||
		    x->r[i].load != y->r[i].load ||
		    !addr_eq(&x->r[i].addr, &y->r[i].addr) ||
		    x->r[i].port != y->r[i].port ||
		    memcmp(x->r[i].token, y->r[i].token,
		    CONTROL_TOKENLEN) != 0)
			return (false);
	return (true);
}

static void
gen_header(union control_any *u)
{
	u->hdr.type = rnd_range(0x0100, 0x03ff);
	u->hdr.id = u->hdr.type >> 8 == CONTROL_CLASS_PUSH ? 0 :
	    rnd_range(1, UINT32_MAX);
}

static bool
eq_header(const union control_any *a, const union control_any *b)
{
	return (a->hdr.type == b->hdr.type && a->hdr.id == b->hdr.id);
}

static void
gen_empty(union control_any *u)
{
	(void)u;
}

static bool
eq_empty(const union control_any *a, const union control_any *b)
{
	(void)a;
	(void)b;
	return (true);
}

#define C(n, t, f)	{ n, t, dec_##f, enc_##f, gen_##f, eq_##f }
#define C2(n, t, f, g)	{ n, t, dec_##f, enc_##f, gen_##g, eq_##f }

static const struct codec codecs[] = {
	C("header",		0,				header),
	C("hello",		CONTROL_MSG_HELLO,		hello),
	C("party_create",	CONTROL_MSG_PARTY_CREATE,	party_create),
	C("invite_create",	CONTROL_MSG_INVITE_CREATE,	invite_create),
	C("join",		CONTROL_MSG_JOIN,		join),
	C("leave",		CONTROL_MSG_LEAVE,		party_ref),
	C("kick",		CONTROL_MSG_KICK,		kick),
	C("close",		CONTROL_MSG_CLOSE,		party_ref),
	C2("endpoints",		CONTROL_MSG_ENDPOINTS,		endpoints,
	    endpoints_u),
	C("heartbeat",		CONTROL_MSG_HEARTBEAT,		empty),
	C("approve",		CONTROL_MSG_APPROVE,		approve),
	C("ok",			CONTROL_MSG_OK,			empty),
	C("error",		CONTROL_MSG_ERROR,		error),
	C("welcome",		CONTROL_MSG_WELCOME,		welcome),
	C("party",		CONTROL_MSG_PARTY,		party),
	C("invite",		CONTROL_MSG_INVITE,		invite),
	C("approval_pending",	CONTROL_MSG_APPROVAL_PENDING,	approval_pending),
	C("heartbeat_ack",	CONTROL_MSG_HEARTBEAT_ACK,	empty),
	C("state",		CONTROL_MSG_STATE,		state),
	C("delta",		CONTROL_MSG_DELTA,		delta),
	C("join_request",	CONTROL_MSG_JOIN_REQUEST,	join_request),
	C("relay_hello",	CONTROL_MSG_RELAY_HELLO,	relay_hello),
	C("relay_report",	CONTROL_MSG_RELAY_REPORT,	relay_report),
	C("relays",		CONTROL_MSG_RELAYS,		party_ref),
	C("relay_welcome",	CONTROL_MSG_RELAY_WELCOME,	relay_welcome),
	C("relay_list",		CONTROL_MSG_RELAY_LIST,		relay_list),
};
#define NCODECS		(sizeof(codecs) / sizeof(codecs[0]))

static const struct codec *
codec_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCODECS; i++)
		if (strcmp(codecs[i].name, name) == 0)
			return (&codecs[i]);
	return (NULL);
}

/* The vectors of proto/control.md, each tied to its message's codec. */
static void
vec_load(void)
{
	const struct tvec	*t;
	size_t			 i, n;

	if (loaded)
		return;
	t = tvec_load("control.md", &n);
	ck_assert_msg(n <= MAXVEC, "control.md: more than %d vectors", MAXVEC);
	for (i = 0; i < n; i++) {
		vecs[i].c = codec_find(t[i].name);
		ck_assert_msg(vecs[i].c != NULL, "control.md:%d: unknown message %s",
		    t[i].line, t[i].name);
		ck_assert_msg(t[i].len <= sizeof(vecs[i].data),
		    "control.md:%d: vector too long", t[i].line);
		vecs[i].ok = t[i].ok;
		vecs[i].line = t[i].line;
		vecs[i].len = t[i].len;
		memcpy(vecs[i].data, t[i].data, t[i].len);
	}
	nvecs = n;
	loaded = true;
}

/* Decode from an exact-size heap copy, so that ASan sees any overread. */
static int
dec_exact(const struct codec *c, const uint8_t *p, size_t len,
    union control_any *u)
{
	uint8_t	*copy;
	int	 rc, saved;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	rc = c->dec(copy, len, u);
	saved = errno;
	free(copy);
	errno = saved;
	return (rc);
}

static void
expect_bad(const struct codec *c, const uint8_t *p, size_t len,
    const char *what, int line)
{
	static union control_any u, before;

	memset(&u, 0xa5, sizeof(u));
	before = u;
	errno = 0;
	ck_assert_msg(dec_exact(c, p, len, &u) == -1,
	    "%s (line %d, %zu bytes): %s decoded", what, line, len, c->name);
	ck_assert_msg(errno == EBADMSG, "%s (line %d): %s errno %d",
	    what, line, c->name, errno);
	ck_assert_msg(memcmp(&u, &before, sizeof(u)) == 0,
	    "%s (line %d): %s touched its output on failure", what, line,
	    c->name);
}

static void
expect_ok(const struct codec *c, const uint8_t *p, size_t len,
    const char *what, int line)
{
	static union control_any u;
	static uint8_t	 out[CONTROL_MAXMSG];
	struct buf	 b;

	memset(&u, 0, sizeof(u));
	ck_assert_msg(dec_exact(c, p, len, &u) == 0,
	    "%s (line %d): %s does not decode: %s", what, line, c->name,
	    strerror(errno));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_msg(c->enc(&b, &u) == 0, "%s (line %d): %s re-encode: %s",
	    what, line, c->name, strerror(errno));
	ck_assert_msg(b.len == len && memcmp(out, p, len) == 0,
	    "%s (line %d): %s re-encodes differently", what, line, c->name);
}

START_TEST(test_vectors_cover_every_type)
{
	size_t	 i, j, nok, nbad;

	vec_load();
	for (i = 0; i < NCODECS; i++) {
		if (codecs[i].type != 0)
			ck_assert_str_eq(control_msg_name(codecs[i].type),
			    codecs[i].name);
		for (nok = nbad = j = 0; j < nvecs; j++) {
			if (vecs[j].c != &codecs[i])
				continue;
			if (vecs[j].ok)
				nok++;
			else
				nbad++;
		}
		ck_assert_msg(nok > 0,
		    "proto/control.md has no ok vector for %s", codecs[i].name);
		ck_assert_msg(nbad > 0,
		    "proto/control.md has no bad vector for %s",
		    codecs[i].name);
	}
}
END_TEST

START_TEST(test_vectors)
{
	size_t	 i;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (vecs[i].ok)
			expect_ok(vecs[i].c, vecs[i].data, vecs[i].len,
			    "ok vector", vecs[i].line);
		else
			expect_bad(vecs[i].c, vecs[i].data, vecs[i].len,
			    "bad vector", vecs[i].line);
	}
}
END_TEST

START_TEST(test_truncation)
{
	size_t	 i, k;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		for (k = 0; k < vecs[i].len; k++)
			expect_bad(vecs[i].c, vecs[i].data, k, "truncated",
			    vecs[i].line);
	}
}
END_TEST

START_TEST(test_trailing)
{
	uint8_t	 p[VECMAX + 1];
	size_t	 i, len;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok)
			continue;
		len = vecs[i].len;
		memcpy(p, vecs[i].data, len);
		p[len] = 0x00;
		expect_bad(vecs[i].c, p, len + 1, "trailing 00", vecs[i].line);
		p[len] = 0xff;
		expect_bad(vecs[i].c, p, len + 1, "trailing ff", vecs[i].line);
	}
}
END_TEST

/* An encoder that runs out of room leaves the buffer as it found it. */
START_TEST(test_enobufs)
{
	struct buf	 b;
	size_t		 i, cap;

	vec_load();
	for (i = 0; i < nvecs; i++) {
		if (!vecs[i].ok || vecs[i].len == 0)
			continue;
		ck_assert_int_eq(dec_exact(vecs[i].c, vecs[i].data,
		    vecs[i].len, &ua), 0);
		for (cap = 0; cap < vecs[i].len; cap++) {
			buf_init_fixed(&b, out1, cap);
			errno = 0;
			ck_assert_int_eq(vecs[i].c->enc(&b, &ua), -1);
			ck_assert_int_eq(errno, ENOBUFS);
			ck_assert_uint_eq(b.len, 0);
		}
	}
}
END_TEST

/* Random valid structs of each type: encode, decode, compare, re-encode. */
START_TEST(test_roundtrip)
{
	const struct codec *c = &codecs[_i];
	struct buf	 b1, b2;
	int		 n;

	rng = 0x9e3779b9u + _i;
	for (n = 0; n < ROUNDS; n++) {
		memset(&ua, 0, sizeof(ua));
		c->gen(&ua);
		buf_init_fixed(&b1, out1, sizeof(out1));
		ck_assert_msg(c->enc(&b1, &ua) == 0, "%s: round %d: enc: %s",
		    c->name, n, strerror(errno));
		memset(&ub, 0x5a, sizeof(ub));
		ck_assert_msg(c->dec(out1, b1.len, &ub) == 0,
		    "%s: round %d: dec: %s", c->name, n, strerror(errno));
		ck_assert_msg(c->eq(&ua, &ub), "%s: round %d: fields differ",
		    c->name, n);
		buf_init_fixed(&b2, out2, sizeof(out2));
		ck_assert_int_eq(c->enc(&b2, &ub), 0);
		ck_assert_msg(b1.len == b2.len &&
		    memcmp(out1, out2, b1.len) == 0,
		    "%s: round %d: re-encoding differs", c->name, n);
	}
}
END_TEST

/* The largest STATE: 128 members, 32-byte names, 16 v6 candidates. */
START_TEST(test_state_max)
{
	struct control_state	*m = &ua.state;
	struct buf		 b;
	size_t			 i, j;

	memset(&ua, 0, sizeof(ua));
	rng = 7;
	memset(m->id, 1, CONTROL_IDLEN);
	memset(m->name, 'p', CONTROL_NAME_MAX);
	ck_assert_int_eq(prefix_parse("fd00:66::/64", &m->subnet), 0);
	m->nmembers = CONTROL_MAX_MEMBERS;
	for (i = 0; i < m->nmembers; i++) {
		gen_member(&m->members[i], &m->subnet, i);
		memset(m->members[i].name, 'm', CONTROL_NAME_MAX);
		m->members[i].ep.n = CONTROL_MAX_CANDS;
		for (j = 0; j < CONTROL_MAX_CANDS; j++) {
			m->members[i].ep.c[j].kind = CONTROL_EP_STUN;
			m->members[i].ep.c[j].port = 1;
			ck_assert_int_eq(addr_parse("2001:db8::1",
			    &m->members[i].ep.c[j].addr), 0);
		}
	}
	memcpy(m->host_key, m->members[CONTROL_MAX_MEMBERS - 1].key,
	    CONTROL_KEYLEN);
	buf_init_fixed(&b, out1, sizeof(out1));
	ck_assert_int_eq(control_enc_state(&b, m), 0);
	ck_assert_uint_eq(b.len, 51821);
	ck_assert_uint_le(b.len, CONTROL_MAXMSG);
	ck_assert_int_eq(control_dec_state(out1, b.len, &ub.state), 0);
	ck_assert(eq_state(&ua, &ub));
	/* One member more is refused. */
	m->nmembers = CONTROL_MAX_MEMBERS + 1;
	buf_init_fixed(&b, out2, sizeof(out2));
	errno = 0;
	ck_assert_int_eq(control_enc_state(&b, m), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Growing buffer: appends after what is there, bounded by max. */
	m->nmembers = CONTROL_MAX_MEMBERS;
	ck_assert_int_eq(buf_init(&b, 16, 1000), 0);
	ck_assert_int_eq(control_enc_state(&b, m), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

static void
enc_vec(const struct codec *c, const union control_any *u, uint8_t *out,
    size_t *len)
{
	struct buf	 b;

	buf_init_fixed(&b, out, VECMAX);
	ck_assert_int_eq(c->enc(&b, u), 0);
	*len = b.len;
}

/* Set byte off of the encoding of u to every value; ok() says which pass. */
static void
sweep_byte(const char *name, const union control_any *u, size_t off,
    bool (*ok)(unsigned int))
{
	const struct codec *c = codec_find(name);
	uint8_t		 p[VECMAX];
	size_t		 len;
	unsigned int	 v;

	enc_vec(c, u, p, &len);
	ck_assert_uint_lt(off, len);
	for (v = 0; v < 256; v++) {
		p[off] = v;
		if (ok(v))
			expect_ok(c, p, len, "sweep ok", (int)off);
		else
			expect_bad(c, p, len, "sweep bad", (int)off);
	}
}

static bool is_kind(unsigned int v)
{
	return ((v >= 1 && v <= 4) || (v >= 0x10 && v <= 0x1b));
}
static bool is_bit0(unsigned int v) { return (v <= 1); }
static bool is_verdict(unsigned int v) { return (v == 1 || v == 2); }
static bool is_reason(unsigned int v) { return (v >= 1 && v <= 3); }
static bool is_v4plen(unsigned int v) { return (v >= 8 && v <= 23); }
static bool is_namebyte(unsigned int v) { return (v >= 0x20 && v < 0x7f); }
static bool is_printable(unsigned int v) { return (v >= 0x20 && v < 0x7f); }

/* A HELLO with one IPv4 LAN candidate, name "ab". */
static void
hello_fixture(union control_any *u)
{
	memset(u, 0, sizeof(*u));
	u->hello.version = CONTROL_VERSION;
	u->hello.listen_port = 51820;
	strcpy(u->hello.name, "ab");
	u->hello.ep.n = 1;
	u->hello.ep.c[0].kind = CONTROL_EP_LAN;
	ck_assert_int_eq(addr_parse("192.168.1.10", &u->hello.ep.c[0].addr),
	    0);
	u->hello.ep.c[0].port = 51820;
}

START_TEST(test_bad_enums)
{
	union control_any *u = &uc;

	/* hello: 0 ver 2 port 4 nlen 5 'a' 6 'b' 7 n 8 kind 9 fam */
	hello_fixture(u);
	sweep_byte("hello", u, 8, is_kind);
	sweep_byte("hello", u, 5, is_namebyte);

	memset(u, 0, sizeof(*u));
	memset(u->invite_create.id, 1, CONTROL_IDLEN);
	sweep_byte("invite_create", u, 22, is_bit0);
	memset(u->invite.code, 2, CONTROL_CODELEN);
	memset(u->invite.id, 1, CONTROL_IDLEN);
	sweep_byte("invite", u, 38, is_bit0);

	memset(u, 0, sizeof(*u));
	memset(u->approve.id, 1, CONTROL_IDLEN);
	memset(u->approve.key, 2, CONTROL_KEYLEN);
	u->approve.verdict = 1;
	sweep_byte("approve", u, 48, is_verdict);

	memset(u, 0, sizeof(*u));
	memset(u->delta.id, 1, CONTROL_IDLEN);
	u->delta.seq = 1;
	u->delta.kind = CONTROL_DELTA_LEFT;
	u->delta.reason = 1;
	memset(u->delta.member.key, 2, CONTROL_KEYLEN);
	sweep_byte("delta", u, 57, is_reason);
	u->delta.kind = CONTROL_DELTA_PRESENCE;
	sweep_byte("delta", u, 57, is_bit0);

	/* party: id 16, name "p" (2), family at 18, plen at 19 */
	memset(u, 0, sizeof(*u));
	memset(u->party.id, 1, CONTROL_IDLEN);
	strcpy(u->party.name, "p");
	ck_assert_int_eq(prefix_parse("10.0.0.0/8", &u->party.subnet), 0);
	ck_assert_int_eq(addr_parse("10.0.1.1", &u->party.addr), 0);
	sweep_byte("party", u, 19, is_v4plen);

	memset(u, 0, sizeof(*u));
	u->error.code = 1;
	strcpy(u->error.text, "abc");
	sweep_byte("error", u, 4, is_printable);
}
END_TEST

/* Candidate family byte and delta kind: only the defined values. */
START_TEST(test_bad_family_kind)
{
	const struct codec *c = codec_find("hello");
	uint8_t		 p[VECMAX];
	size_t		 len;
	unsigned int	 v;

	hello_fixture(&uc);
	enc_vec(c, &uc, p, &len);
	for (v = 0; v < 256; v++) {
		p[9] = v;
		if (v == 4)
			expect_ok(c, p, len, "family", v);
		else
			expect_bad(c, p, len, "family", v);
	}
	c = codec_find("delta");
	memset(&uc, 0, sizeof(uc));
	memset(uc.delta.id, 1, CONTROL_IDLEN);
	uc.delta.seq = 1;
	uc.delta.kind = CONTROL_DELTA_CLOSED;
	enc_vec(c, &uc, p, &len);
	for (v = 0; v < 256; v++) {
		p[24] = v;
		if (v == CONTROL_DELTA_CLOSED)
			expect_ok(c, p, len, "kind", v);
		else
			expect_bad(c, p, len, "kind", v);
	}
}
END_TEST

START_TEST(test_error_codes)
{
	const struct codec *c = codec_find("error");
	uint8_t		 p[3] = { 0 };
	unsigned int	 code;

	for (code = 0; code <= 0xffff; code++) {
		p[0] = code >> 8;
		p[1] = code;
		if (code >= 1 && code <= CONTROL_E_MAX)
			expect_ok(c, p, sizeof(p), "code", code);
		else if (code < 64 || code % 251 == 0)
			expect_bad(c, p, sizeof(p), "code", code);
	}
}
END_TEST

/* Counts 0..255, each followed by that many valid entries. */
START_TEST(test_counts)
{
	const struct codec *ce = codec_find("endpoints");
	const struct codec *cw = codec_find("welcome");
	static uint8_t	 p[1 + 255 * 22];
	size_t		 n, i, len;
	uint8_t		*q;

	for (n = 0; n < 256; n++) {
		p[0] = n;
		for (i = 0, q = p + 1; i < n; i++, q += 8)
			memcpy(q, "\x01\x04\x0a\x00\x00\x01\x00\x01", 8);
		len = q - p;
		if (n <= CONTROL_MAX_CANDS)
			expect_ok(ce, p, len, "ncand", n);
		else
			expect_bad(ce, p, len, "ncand", n);
		/* welcome: ver, time, heartbeat, n, n summaries "x" */
		memcpy(p, "\x00\x01\0\0\0\0\0\0\0\0\x00\x0f", 12);
		p[12] = n;
		for (i = 0, q = p + 13; i < n; i++, q += 21) {
			memset(q, 0, 16);
			q[0] = i + 1;
			memcpy(q + 16, "\x01x\x00\x00\x01", 5);
		}
		len = q - p;
		if (n <= CONTROL_MAX_PARTIES)
			expect_ok(cw, p, len, "nparties", n);
		else
			expect_bad(cw, p, len, "nparties", n);
	}
}
END_TEST

/* Names: through PARTY_CREATE, both directions. */
START_TEST(test_names)
{
	static const struct { const char *s; bool ok; } t[] = {
		{ "a", true }, { "Alice's box", true }, { "Zo\xc3\xab", true },
		{ "\xe6\x97\xa5\xe6\x9c\xac", true },
		{ "\xf0\x9f\x8e\xae game", true },
		{ "\xf4\x8f\xbf\xbf", true },		/* U+10FFFF */
		{ "\xef\xbf\xbd", true },		/* U+FFFD */
		{ "\xe2\x80\xa7", true },		/* U+2027 */
		{ "\xe2\x80\xaf", true },		/* U+202F */
		{ "", false }, { "a\tb", false }, { "\x1b[31m", false },
		{ "a\x7f", false }, { "\xc2\x80", false }, { "\xc2\x9f", false },
		{ "\xe2\x80\xa8", false }, { "\xe2\x80\xab", false },
		{ "\xe2\x81\xa6", false }, { "\xef\xbb\xbf", false },
		{ "\xc0\xaf", false }, { "\xe0\x80\xaf", false },
		{ "\xf0\x80\x80\xaf", false }, { "\xed\xbf\xbf", false },
		{ "\xf4\x90\x80\x80", false }, { "\xf8\x88\x80\x80\x80", false },
		{ "\x80", false }, { "\xc3", false }, { "\xe6\x97", false },
		{ "a\xc3(", false }, { "\xff", false },
		{ "0123456789abcdef0123456789abcdef", true },
		{ "0123456789abcdef0123456789abcdef0", false },
		{ "0123456789abcdef0123456789abcd\xc3\xa9", true },
		{ "0123456789abcdef0123456789abcde\xc3\xa9", false },
	};
	const struct codec *c = codec_find("party_create");
	struct control_party_create m;
	uint8_t		 p[64];
	struct buf	 b;
	size_t		 i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].s);
		p[0] = n;
		memcpy(p + 1, t[i].s, n);
		memset(&m, 0, sizeof(m));
		memcpy(m.name, t[i].s, n < CONTROL_NAME_MAX ? n :
		    CONTROL_NAME_MAX);
		buf_init_fixed(&b, out1, sizeof(out1));
		errno = 0;
		if (t[i].ok) {
			expect_ok(c, p, n + 1, "name", (int)i);
			ck_assert_int_eq(control_enc_party_create(&b, &m), 0);
		} else {
			expect_bad(c, p, n + 1, "name", (int)i);
			if (n <= CONTROL_NAME_MAX) {
				ck_assert_int_eq(control_enc_party_create(&b,
				    &m), -1);
				ck_assert_int_eq(errno, EINVAL);
			}
		}
	}
}
END_TEST

START_TEST(test_header)
{
	struct control_hdr	 h;
	static uint8_t		 p[CONTROL_HDRLEN + CONTROL_MAXMSG + 1];
	unsigned int		 type;
	struct buf		 b;
	bool			 ok;

	memset(p, 0x41, sizeof(p));
	/* The payload borrows the rest of the input, up to MAXMSG. */
	p[0] = 0x01; p[1] = 0x04; p[2] = p[3] = p[4] = 0; p[5] = 9;
	ck_assert_int_eq(control_dec_hdr(p, 6 + 16, &h), 0);
	ck_assert_uint_eq(h.type, CONTROL_MSG_JOIN);
	ck_assert_uint_eq(h.id, 9);
	ck_assert_ptr_eq(h.payload, p + 6);
	ck_assert_uint_eq(h.len, 16);
	ck_assert_int_eq(control_dec_hdr(p, sizeof(p) - 1, &h), 0);
	ck_assert_uint_eq(h.len, CONTROL_MAXMSG);
	errno = 0;
	ck_assert_int_eq(control_dec_hdr(p, sizeof(p), &h), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* Every type with id 0 and id 1. */
	for (type = 0; type <= 0xffff; type++) {
		p[0] = type >> 8;
		p[1] = type;
		p[5] = 0;
		ok = type >> 8 == 3;
		ck_assert_int_eq(control_dec_hdr(p, 6, &h), ok ? 0 : -1);
		buf_init_fixed(&b, out1, sizeof(out1));
		ck_assert_int_eq(control_enc_hdr(&b, type, 0), ok ? 0 : -1);
		p[5] = 1;
		ok = type >> 8 == 1 || type >> 8 == 2;
		ck_assert_int_eq(control_dec_hdr(p, 6, &h), ok ? 0 : -1);
		ck_assert_int_eq(control_enc_hdr(&b, type, 1), ok ? 0 : -1);
	}
}
END_TEST

START_TEST(test_hello_version)
{
	static const uint8_t	 v2[] = { 0x00, 0x02, 0xca, 0x6c, 0x01, 'a',
	    0x00 };
	struct control_hello	 m;
	uint16_t		 v;

	ck_assert_int_eq(control_dec_hello(v2, sizeof(v2), &m), -1);
	ck_assert_int_eq(control_hello_version(v2, sizeof(v2), &v), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(control_hello_version(v2, 1, &v), -1);
}
END_TEST

/* The encoder must refuse u with EINVAL and leave b as it was. */
static void
refuse(enc_fn enc, const union control_any *u, const char *what)
{
	struct buf	 b;

	buf_init_fixed(&b, out2, sizeof(out2));
	ck_assert_int_eq(buf_put(&b, "abc", 3), 0);
	errno = 0;
	ck_assert_msg(enc(&b, u) == -1, "%s: encoded", what);
	ck_assert_msg(errno == EINVAL, "%s: errno %d", what, errno);
	ck_assert_msg(b.len == 3, "%s: wrote %zu bytes", what, b.len - 3);
}

START_TEST(test_refuse_hello_welcome)
{
	union control_any *u = &uc;

	hello_fixture(u);
	u->hello.version = 2;
	refuse(enc_hello, u, "version 2");
	hello_fixture(u);
	u->hello.listen_port = 0;
	refuse(enc_hello, u, "port 0");
	hello_fixture(u);
	u->hello.name[0] = '\0';
	refuse(enc_hello, u, "empty name");
	hello_fixture(u);
	memset(u->hello.name, 'a', CONTROL_NAMESIZ);
	refuse(enc_hello, u, "unterminated name");
	hello_fixture(u);
	u->hello.ep.n = CONTROL_MAX_CANDS + 1;
	refuse(enc_hello, u, "17 candidates");
	hello_fixture(u);
	u->hello.ep.c[0].kind = 5;
	refuse(enc_hello, u, "kind 5");
	hello_fixture(u);
	u->hello.ep.c[0].kind = CONTROL_EP_STUN_NAT | 3 << 2;
	refuse(enc_hello, u, "STUN with mapping 3");
	hello_fixture(u);
	u->hello.ep.c[0].kind = 0x20;
	refuse(enc_hello, u, "kind 0x20");
	hello_fixture(u);
	u->hello.ep.c[0].port = 0;
	refuse(enc_hello, u, "candidate port 0");
	hello_fixture(u);
	u->hello.ep.c[0].addr.af = AF_UNIX;
	refuse(enc_hello, u, "AF_UNIX");
	hello_fixture(u);
	memset(u->hello.ep.c[0].addr.bytes, 0, 16);
	refuse(enc_hello, u, "unspecified");

	memset(u, 0, sizeof(*u));
	gen_welcome(u);
	u->welcome.heartbeat = 0;
	refuse(enc_welcome, u, "heartbeat 0");
	u->welcome.heartbeat = CONTROL_HEARTBEAT_MAX + 1;
	refuse(enc_welcome, u, "heartbeat 3601");
	u->welcome.heartbeat = 15;
	u->welcome.nparties = CONTROL_MAX_PARTIES + 1;
	refuse(enc_welcome, u, "33 parties");
	u->welcome.nparties = 2;
	memcpy(u->welcome.parties[1].id, u->welcome.parties[0].id,
	    CONTROL_IDLEN);
	refuse(enc_welcome, u, "same party twice");
	u->welcome.parties[1].id[0] ^= 1;
	u->welcome.parties[1].nmembers = 0;
	refuse(enc_welcome, u, "0 members");
	u->welcome.parties[1].nmembers = 1;
	u->welcome.parties[1].flags = 2;
	refuse(enc_welcome, u, "party flag 2");
	u->welcome.parties[1].flags = 0;
	u->welcome.version = 0;
	refuse(enc_welcome, u, "version 0");
}
END_TEST

START_TEST(test_refuse_party_invite)
{
	union control_any *u = &uc;

	memset(u, 0, sizeof(*u));
	memset(u->party.id, 1, CONTROL_IDLEN);
	strcpy(u->party.name, "p");
	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &u->party.subnet), 0);
	ck_assert_int_eq(addr_parse("10.66.255.255", &u->party.addr), 0);
	refuse(enc_party, u, "broadcast");
	ck_assert_int_eq(addr_parse("10.66.0.0", &u->party.addr), 0);
	refuse(enc_party, u, "network");
	ck_assert_int_eq(addr_parse("10.65.0.1", &u->party.addr), 0);
	refuse(enc_party, u, "outside");
	ck_assert_int_eq(addr_parse("10.66.0.1", &u->party.addr), 0);
	ck_assert_int_eq(prefix_parse("10.66.0.1/16", &u->party.subnet), 0);
	refuse(enc_party, u, "host bits");
	ck_assert_int_eq(prefix_parse("10.66.0.0/31", &u->party.subnet), 0);
	refuse(enc_party, u, "/31");
	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &u->party.subnet), 0);
	memset(u->party.id, 0, CONTROL_IDLEN);
	refuse(enc_party, u, "id zero");

	memset(u, 0, sizeof(*u));
	refuse(enc_invite_create, u, "invite_create id zero");
	refuse(enc_invite, u, "invite zero");
	refuse(enc_join, u, "join code zero");
	refuse(enc_party_ref, u, "party id zero");
	refuse(enc_kick, u, "kick zero");
	refuse(enc_approve, u, "approve zero");
	refuse(enc_approval_pending, u, "approval_pending zero");
	refuse(enc_join_request, u, "join_request zero");
	refuse(enc_party_create, u, "party_create empty");
	memset(u->invite_create.id, 1, CONTROL_IDLEN);
	u->invite_create.flags = 2;
	refuse(enc_invite_create, u, "invite_create flag 2");
	memset(u, 0, sizeof(*u));
	memset(u->invite.id, 1, CONTROL_IDLEN);
	refuse(enc_invite, u, "invite code zero");
	memset(u, 0, sizeof(*u));
	memset(u->kick.id, 1, CONTROL_IDLEN);
	refuse(enc_kick, u, "kick key zero");
	memset(u, 0, sizeof(*u));
	memset(u->approve.id, 1, CONTROL_IDLEN);
	memset(u->approve.key, 1, CONTROL_KEYLEN);
	u->approve.verdict = 3;
	refuse(enc_approve, u, "verdict 3");
}
END_TEST

START_TEST(test_refuse_state_delta_error)
{
	union control_any *u = &uc;

	memset(u, 0, sizeof(*u));
	rng = 99;
	gen_state(u);
	u->state.nmembers = 3;
	memcpy(u->state.host_key, u->state.members[0].key, CONTROL_KEYLEN);
	u->state.host_key[31] ^= 0xff;
	refuse(enc_state, u, "host not a member");
	memcpy(u->state.host_key, u->state.members[0].key, CONTROL_KEYLEN);
	u->state.members[2].addr = u->state.members[1].addr;
	refuse(enc_state, u, "same address");
	host_addr(&u->state.subnet, 3, &u->state.members[2].addr);
	memcpy(u->state.members[2].key, u->state.members[1].key,
	    CONTROL_KEYLEN);
	refuse(enc_state, u, "same key");
	u->state.members[2].key[5] ^= 1;
	u->state.members[2].flags = 0x80;
	refuse(enc_state, u, "member flag");
	u->state.members[2].flags = 0;
	u->state.nmembers = 0;
	refuse(enc_state, u, "no members");

	memset(u, 0, sizeof(*u));
	memset(u->delta.id, 1, CONTROL_IDLEN);
	u->delta.kind = CONTROL_DELTA_CLOSED;
	refuse(enc_delta, u, "seq 0");
	u->delta.seq = 1;
	u->delta.kind = 6;
	refuse(enc_delta, u, "kind 6");
	u->delta.kind = CONTROL_DELTA_LEFT;
	memset(u->delta.member.key, 1, CONTROL_KEYLEN);
	refuse(enc_delta, u, "reason 0");
	u->delta.kind = CONTROL_DELTA_JOINED;
	refuse(enc_delta, u, "joined, empty member");
	u->delta.kind = CONTROL_DELTA_ENDPOINTS;
	u->delta.member.ep.n = 17;
	refuse(enc_delta, u, "17 candidates");

	memset(u, 0, sizeof(*u));
	refuse(enc_error, u, "code 0");
	u->error.code = CONTROL_E_MAX + 1;
	refuse(enc_error, u, "code 15");
	u->error.code = 1;
	strcpy(u->error.text, "a\nb");
	refuse(enc_error, u, "newline");
	memset(u->error.text, 'a', sizeof(u->error.text));
	refuse(enc_error, u, "unterminated text");
	memset(u, 0, sizeof(*u));
	u->endpoints.n = 17;
	refuse(enc_endpoints, u, "endpoints 17");
}
END_TEST

START_TEST(test_strings)
{
	unsigned int	 code;
	size_t		 i, j;

	for (code = 1; code <= CONTROL_E_MAX; code++)
		ck_assert_str_ne(control_err_str(code), "unknown error");
	ck_assert_str_eq(control_err_str(0), "unknown error");
	ck_assert_str_eq(control_err_str(CONTROL_E_MAX + 1), "unknown error");
	ck_assert_str_eq(control_msg_name(0), "unknown");
	ck_assert_str_eq(control_msg_name(0x010e), "unknown");
	ck_assert_str_eq(control_msg_name(0x020a), "unknown");
	ck_assert_str_eq(control_msg_name(0x0304), "unknown");
	for (i = 0; i < NCODECS; i++)
		for (j = i + 1; j < NCODECS; j++)
			ck_assert_uint_ne(codecs[i].type, codecs[j].type);
}
END_TEST

/* Invite links */

#define KEY64	"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"
#define CODE64	"wN7A3sDewN7A3sDewN7A3g"
#define TAIL	"/v1/" KEY64 "/" CODE64
#define LINK	"lanrage://ctl.example.net:8667" TAIL

static void
link_roundtrip(const char *s)
{
	struct lr_invite v;
	char		 out[LR_INVITE_MAXLEN + 1];

	ck_assert_msg(lr_invite_parse(s, &v) == 0, "%s: %s", s,
	    strerror(errno));
	ck_assert_int_eq(lr_invite_format(&v, out, sizeof(out)), 0);
	ck_assert_str_eq(out, s);
}

START_TEST(test_invite_ok)
{
	struct lr_invite v;
	uint8_t		 key[CONTROL_KEYLEN], code[CONTROL_CODELEN];
	char		 big[LR_INVITE_MAXLEN + 2], out[LR_INVITE_MAXLEN + 1];
	size_t		 i;

	for (i = 0; i < CONTROL_KEYLEN; i++)
		key[i] = i + 1;
	for (i = 0; i < CONTROL_CODELEN; i++)
		code[i] = i % 2 ? 0xde : 0xc0;
	ck_assert_int_eq(lr_invite_parse(LINK, &v), 0);
	ck_assert_str_eq(v.host, "ctl.example.net");
	ck_assert_uint_eq(v.port, 8667);
	ck_assert_mem_eq(v.server_key, key, sizeof(key));
	ck_assert_mem_eq(v.code, code, sizeof(code));
	link_roundtrip(LINK);
	link_roundtrip("lanrage://203.0.113.7:1" TAIL);
	link_roundtrip("lanrage://[2001:db8::1]:65535" TAIL);
	link_roundtrip("lanrage://[::ffff:1.2.3.4]:8667" TAIL);
	link_roundtrip("lanrage://localhost:8667" TAIL);
	link_roundtrip("lanrage://a-b.c9:8667" TAIL);
	link_roundtrip("lanrage://0.0.0.0:8667" TAIL);
	link_roundtrip("lanrage://x.1a:8667" TAIL);
	/* The longest link: a 253-byte name. */
	strcpy(big, "lanrage://");
	for (i = 0; i < 3; i++)
		strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	strcat(big, ":65535" TAIL);
	ck_assert_uint_eq(strlen(big), LR_INVITE_MAXLEN);
	link_roundtrip(big);
	/* Random keys and codes. */
	rng = 5;
	for (i = 0; i < 1000; i++) {
		strcpy(v.host, "ctl.example.net");
		v.port = rnd_range(1, 65535);
		rnd_bytes(v.server_key, CONTROL_KEYLEN);
		rnd_bytes(v.code, CONTROL_CODELEN);
		ck_assert_int_eq(lr_invite_format(&v, out, sizeof(out)), 0);
		link_roundtrip(out);
	}
}
END_TEST

START_TEST(test_invite_bad)
{
	static const char *const bad[] = {
		"", "lanrage:", "lanrage://", "LANRAGE://ctl.example.net:8667"
		TAIL, "lanrage:/ctl.example.net:8667" TAIL,
		"http://ctl.example.net:8667" TAIL,
		" lanrage://ctl.example.net:8667" TAIL,
		LINK " ", LINK "/", LINK "?x=1", LINK "#f", LINK "\n",
		"lanrage://ctl.example.net" TAIL,
		"lanrage://ctl.example.net:" TAIL,
		"lanrage://ctl.example.net:0" TAIL,
		"lanrage://ctl.example.net:08667" TAIL,
		"lanrage://ctl.example.net:+8667" TAIL,
		"lanrage://ctl.example.net:65536" TAIL,
		"lanrage://ctl.example.net:123456" TAIL,
		"lanrage://ctl.example.net:8667:1" TAIL,
		"lanrage://:8667" TAIL,
		"lanrage://user@ctl.example.net:8667" TAIL,
		"lanrage://Ctl.example.net:8667" TAIL,
		"lanrage://ctl.example.net.:8667" TAIL,
		"lanrage://ctl..net:8667" TAIL,
		"lanrage://.net:8667" TAIL,
		"lanrage://-ctl.net:8667" TAIL,
		"lanrage://ctl-.net:8667" TAIL,
		"lanrage://ctl_x.net:8667" TAIL,
		"lanrage://ctl%2e.net:8667" TAIL,
		"lanrage://a.123:8667" TAIL,
		"lanrage://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.net:8667" TAIL,
		"lanrage://1.2.3.256:8667" TAIL,
		"lanrage://01.2.3.4:8667" TAIL,
		"lanrage://1.2.3:8667" TAIL,
		"lanrage://1.2.3.4.:8667" TAIL,
		"lanrage://2001:db8::1:8667" TAIL,
		"lanrage://[2001:db8::1]" TAIL,
		"lanrage://[2001:db8::1]8667" TAIL,
		"lanrage://[2001:DB8::1]:8667" TAIL,
		"lanrage://[2001:db8:0::1]:8667" TAIL,
		"lanrage://[::1%eth0]:8667" TAIL,
		"lanrage://[1.2.3.4]:8667" TAIL,
		"lanrage://[ctl.example.net]:8667" TAIL,
		"lanrage://[]:8667" TAIL,
		"lanrage://[::1:8667" TAIL,
		"lanrage://ctl.example.net:8667/v2/" KEY64 "/" CODE64,
		"lanrage://ctl.example.net:8667/V1/" KEY64 "/" CODE64,
		"lanrage://ctl.example.net:8667//v1/" KEY64 "/" CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64 CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64 "//" CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64 "=/" CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64 "/" CODE64 "==",
		"lanrage://ctl.example.net:8667/v1/" KEY64 "A/" CODE64,
		"lanrage://ctl.example.net:8667/v1/"
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHy/" CODE64,
		"lanrage://ctl.example.net:8667/v1/"
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB/" CODE64,
		"lanrage://ctl.example.net:8667/v1/"
		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH+A/" CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64
		"/wN7A3sDewN7A3sDewN7A3h",
		"lanrage://ctl.example.net:8667/v1/" KEY64
		"/wN7A3sDewN7A3sDewN7A3",
		"lanrage://ctl.example.net:8667/v1/" KEY64
		"/wN7A3sDewN7A3sDewN7A3gA",
		"lanrage://ctl.example.net:8667/v1/" KEY64
		"/wN7A3sDewN7A3sDewN7A3g/x",
		"lanrage://ctl.example.net:8667/v1/"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/" CODE64,
		"lanrage://ctl.example.net:8667/v1/" KEY64
		"/AAAAAAAAAAAAAAAAAAAAAA",
	};
	struct lr_invite v, before;
	char		 big[LR_INVITE_MAXLEN + 64];
	size_t		 i;

	memset(&v, 0x5a, sizeof(v));
	before = v;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(lr_invite_parse(bad[i], &v) == -1,
		    "accepted %s", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert(memcmp(&v, &before, sizeof(v)) == 0);
	}
	/* A 254-byte name; and a link one byte over the bound. */
	strcpy(big, "lanrage://");
	for (i = 0; i < 3; i++)
		strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	strcat(big, ":6553" TAIL);
	ck_assert_uint_eq(strlen(big), LR_INVITE_MAXLEN);
	ck_assert_int_eq(lr_invite_parse(big, &v), -1);
	/* Every truncation of a valid link. */
	strcpy(big, LINK);
	for (i = strlen(big); i-- > 0;) {
		big[i] = '\0';
		ck_assert_msg(lr_invite_parse(big, &v) == -1, "accepted %s",
		    big);
	}
}
END_TEST

START_TEST(test_invite_format)
{
	struct lr_invite v, w;
	char		 out[LR_INVITE_MAXLEN + 1];

	ck_assert_int_eq(lr_invite_parse(LINK, &v), 0);
	for (size_t n = 0; n <= strlen(LINK); n++) {
		errno = 0;
		ck_assert_int_eq(lr_invite_format(&v, out, n), -1);
		ck_assert_int_eq(errno, ENOBUFS);
	}
	ck_assert_int_eq(lr_invite_format(&v, out, strlen(LINK) + 1), 0);
	w = v;
	w.port = 0;
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EINVAL);
	w = v;
	strcpy(w.host, "CTL.example.net");
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	w = v;
	strcpy(w.host, "[::1]");
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	w = v;
	strcpy(w.host, "");
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	w = v;
	memset(w.host, 'a', sizeof(w.host));
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	w = v;
	memset(w.server_key, 0, CONTROL_KEYLEN);
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	w = v;
	memset(w.code, 0, CONTROL_CODELEN);
	ck_assert_int_eq(lr_invite_format(&w, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("control");

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_vectors_cover_every_type);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_enobufs);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_roundtrip, 0, NCODECS);
	tcase_add_test(tc, test_state_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("decoder");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bad_enums);
	tcase_add_test(tc, test_bad_family_kind);
	tcase_add_test(tc, test_error_codes);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_hello_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoder");
	tcase_add_test(tc, test_refuse_hello_welcome);
	tcase_add_test(tc, test_refuse_party_invite);
	tcase_add_test(tc, test_refuse_state_delta_error);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("invite");
	tcase_add_test(tc, test_invite_ok);
	tcase_add_test(tc, test_invite_bad);
	tcase_add_test(tc, test_invite_format);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 nfailed;

	sr = srunner_create(control_suite());
	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
