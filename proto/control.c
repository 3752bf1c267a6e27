/*
 * Control protocol codec (message layer) and invite links: encoders and
 * decoders side by side, one validity predicate per payload shared by
 * both directions.  Decoders fill a local struct and copy it out only on
 * success; encoders undo a partial write.  Layouts: proto/control.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "relay.h"
#include "../lib/wire.h"

#define WIRE_AF_INET	4
#define WIRE_AF_INET6	6

static bool
nonzero(const uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return (true);
	return (false);
}

/* Code points a name must not hold: C0, DEL, C1, line and bidi controls. */
static bool
cp_forbidden(uint32_t cp)
{
	return (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xfeff);
}

/* Strict UTF-8: shortest form, no surrogates, at most U+10FFFF. */
static bool
utf8_valid(const uint8_t *s, size_t n)
{
	static const uint32_t	 min[4] = { 0, 0x80, 0x800, 0x10000 };
	uint32_t		 cp;
	size_t			 i = 0, k, need;

	while (i < n) {
		cp = s[i];
		if (cp < 0x80)
			need = 0;
		else if (cp >= 0xc2 && cp < 0xe0)
			need = 1, cp &= 0x1f;
		else if (cp >= 0xe0 && cp < 0xf0)
			need = 2, cp &= 0x0f;
		else if (cp >= 0xf0 && cp < 0xf5)
			need = 3, cp &= 0x07;
		else
			return (false);
		if (n - i - 1 < need)
			return (false);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (false);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min[need] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp_forbidden(cp))
			return (false);
		i += need + 1;
	}
	return (true);
}

bool
control_name_valid(const char *name)
{
	size_t	 n;

	n = strnlen(name, CONTROL_NAMESIZ);
	return (n >= 1 && n <= CONTROL_NAME_MAX &&
	    utf8_valid((const uint8_t *)name, n));
}

/* namelen u8, then the bytes; name already validated. */
static int
put_name(struct buf *b, const char *name)
{
	size_t	 n = strlen(name);

	if (buf_put_u8(b, n) == -1 || buf_put(b, name, n) == -1)
		return (-1);
	return (0);
}

static int
get_name(struct bufr *r, char *name)
{
	uint8_t	 n;

	if (bufr_get_u8(r, &n) == -1 || n == 0 || n > CONTROL_NAME_MAX ||
	    bufr_get(r, name, n) == -1)
		return (wire_fail(EBADMSG));
	name[n] = '\0';
	/* A NUL inside would shorten the name: utf8_valid refuses it. */
	if (!utf8_valid((const uint8_t *)name, n))
		return (wire_fail(EBADMSG));
	return (0);
}

static bool
af_valid(sa_family_t af)
{
	return (af == AF_INET || af == AF_INET6);
}

/* family u8 (4 or 6), then 4 or 16 bytes. */
static int
put_addr(struct buf *b, const struct addr *a)
{
	uint8_t	 fam = a->af == AF_INET ? WIRE_AF_INET : WIRE_AF_INET6;

	if (buf_put_u8(b, fam) == -1 ||
	    buf_put(b, a->bytes, addr_len(a->af)) == -1)
		return (-1);
	return (0);
}

static int
get_family(struct bufr *r, struct addr *a)
{
	uint8_t	 fam;

	memset(a, 0, sizeof(*a));
	if (bufr_get_u8(r, &fam) == -1)
		return (-1);
	if (fam == WIRE_AF_INET)
		a->af = AF_INET;
	else if (fam == WIRE_AF_INET6)
		a->af = AF_INET6;
	else
		return (wire_fail(EBADMSG));
	return (0);
}

static int
get_addr(struct bufr *r, struct addr *a)
{
	if (get_family(r, a) == -1 ||
	    bufr_get(r, a->bytes, addr_len(a->af)) == -1)
		return (-1);
	return (0);
}

/* family u8, prefixlen u8, then 4 or 16 bytes. */
static int
put_prefix(struct buf *b, const struct prefix *p)
{
	uint8_t	 fam = p->addr.af == AF_INET ? WIRE_AF_INET : WIRE_AF_INET6;

	if (buf_put_u8(b, fam) == -1 || buf_put_u8(b, p->len) == -1 ||
	    buf_put(b, p->addr.bytes, addr_len(p->addr.af)) == -1)
		return (-1);
	return (0);
}

static int
get_prefix(struct bufr *r, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (get_family(r, &p->addr) == -1 || bufr_get_u8(r, &p->len) == -1 ||
	    bufr_get(r, p->addr.bytes, addr_len(p->addr.af)) == -1)
		return (-1);
	return (0);
}

/* Canonical, with room for hosts: v4 /8../30, v6 /8../126. */
static bool
subnet_valid(const struct prefix *p)
{
	if (!af_valid(p->addr.af) || p->len < 8 ||
	    p->len > addr_maxlen(p->addr.af) - 2)
		return (false);
	return (prefix_is_canonical(p));
}

/* Inside the subnet, not its first address, not its v4 broadcast. */
static bool
addr_in_subnet(const struct prefix *p, const struct addr *a)
{
	uint32_t	 v, host;

	if (!prefix_contains_addr(p, a) || addr_eq(&p->addr, a))
		return (false);
	if (a->af != AF_INET)
		return (true);
	v = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
	host = p->len >= 32 ? 0 : 0xffffffffu >> p->len;
	return ((v & host) != host);
}

/* Endpoint candidates: kind u8, family u8, addr, port u16. */

static bool
endpoint_valid(const struct control_endpoint *e)
{
	bool	 kind_ok;

	kind_ok = (e->kind >= CONTROL_EP_LAN &&
	    e->kind <= CONTROL_EP_PREDICTED) ||
	    ((e->kind & 0xf0) == CONTROL_EP_STUN_NAT &&
	    CONTROL_EP_NAT_MAP(e->kind) <= CONTROL_NAT_MAP_DEPENDENT);
	return (kind_ok &&
	    af_valid(e->addr.af) && e->port != 0 &&
	    nonzero(e->addr.bytes, addr_len(e->addr.af)));
}

static bool
endpoints_valid(const struct control_endpoints *l)
{
	size_t	 i;

	if (l->n > CONTROL_MAX_CANDS)
		return (false);
	for (i = 0; i < l->n; i++)
		if (!endpoint_valid(&l->c[i]))
			return (false);
	return (true);
}

static int
put_endpoints(struct buf *b, const struct control_endpoints *l)
{
	size_t	 i;

	if (buf_put_u8(b, l->n) == -1)
		return (-1);
	for (i = 0; i < l->n; i++)
		if (buf_put_u8(b, l->c[i].kind) == -1 ||
		    put_addr(b, &l->c[i].addr) == -1 ||
		    buf_put_u16(b, l->c[i].port) == -1)
			return (-1);
	return (0);
}

static int
get_endpoints(struct bufr *r, struct control_endpoints *l)
{
	size_t	 i;

	if (bufr_get_u8(r, &l->n) == -1 || l->n > CONTROL_MAX_CANDS)
		return (wire_fail(EBADMSG));
	for (i = 0; i < l->n; i++)
		if (bufr_get_u8(r, &l->c[i].kind) == -1 ||
		    get_addr(r, &l->c[i].addr) == -1 ||
		    bufr_get_u16(r, &l->c[i].port) == -1)
			return (wire_fail(EBADMSG));
	return (0);
}

/* Header */

static bool
hdr_valid(uint16_t type, uint32_t id)
{
	switch (type >> 8) {
	case CONTROL_CLASS_REQUEST:
	case CONTROL_CLASS_REPLY:
		return (id != 0);
	case CONTROL_CLASS_PUSH:
		return (id == 0);
	}
	return (false);
}

int
control_enc_hdr(struct buf *b, uint16_t type, uint32_t id)
{
	size_t	 mark = b->len;

	if (!hdr_valid(type, id))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, type) == -1 || buf_put_u32(b, id) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_hdr(const void *p, size_t len, struct control_hdr *out)
{
	struct control_hdr	 h;
	struct bufr		 r;

	memset(&h, 0, sizeof(h));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &h.type) == -1 ||
	    bufr_get_u32(&r, &h.id) == -1 ||
	    !hdr_valid(h.type, h.id) || bufr_left(&r) > CONTROL_MAXMSG)
		return (wire_fail(EBADMSG));
	h.len = bufr_left(&r);
	h.payload = h.len > 0 ? bufr_ptr(&r, h.len) : NULL;
	*out = h;
	return (0);
}

int
control_dec_empty(const void *p, size_t len)
{
	(void)p;
	return (len == 0 ? 0 : wire_fail(EBADMSG));
}

/* HELLO */

static bool
hello_valid(const struct control_hello *m)
{
	return (m->version == CONTROL_VERSION && m->listen_port != 0 &&
	    control_name_valid(m->name) && endpoints_valid(&m->ep));
}

int
control_enc_hello(struct buf *b, const struct control_hello *m)
{
	size_t	 mark = b->len;

	if (!hello_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, m->version) == -1 ||
	    buf_put_u16(b, m->listen_port) == -1 ||
	    put_name(b, m->name) == -1 || put_endpoints(b, &m->ep) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_hello(const void *p, size_t len, struct control_hello *out)
{
	struct control_hello	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.version) == -1 ||
	    m.version != CONTROL_VERSION ||
	    bufr_get_u16(&r, &m.listen_port) == -1 ||
	    get_name(&r, m.name) == -1 || get_endpoints(&r, &m.ep) == -1 ||
	    bufr_end(&r) == -1 || !hello_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

int
control_hello_version(const void *p, size_t len, uint16_t *version)
{
	struct bufr	 r;

	bufr_init(&r, p, len);
	return (bufr_get_u16(&r, version));
}

/* WELCOME */

static bool
summary_valid(const struct control_party_summary *s)
{
	return (nonzero(s->id, CONTROL_IDLEN) && control_name_valid(s->name) &&
	    (s->flags & ~CONTROL_PARTY_HOST) == 0 && s->nmembers >= 1 &&
	    s->nmembers <= CONTROL_MAX_MEMBERS);
}

static bool
welcome_valid(const struct control_welcome *m)
{
	size_t	 i, j;

	if (m->version != CONTROL_VERSION ||
	    m->heartbeat < CONTROL_HEARTBEAT_MIN ||
	    m->heartbeat > CONTROL_HEARTBEAT_MAX ||
	    m->nparties > CONTROL_MAX_PARTIES)
		return (false);
	for (i = 0; i < m->nparties; i++) {
		if (!summary_valid(&m->parties[i]))
			return (false);
		for (j = 0; j < i; j++)
			if (memcmp(m->parties[i].id, m->parties[j].id,
			    CONTROL_IDLEN) == 0)
				return (false);
	}
	return (true);
}

static int
put_summary(struct buf *b, const struct control_party_summary *s)
{
	if (buf_put(b, s->id, CONTROL_IDLEN) == -1 ||
	    put_name(b, s->name) == -1 || buf_put_u8(b, s->flags) == -1 ||
	    buf_put_u16(b, s->nmembers) == -1)
		return (-1);
	return (0);
}

static int
get_summary(struct bufr *r, struct control_party_summary *s)
{
	if (bufr_get(r, s->id, CONTROL_IDLEN) == -1 ||
	    get_name(r, s->name) == -1 || bufr_get_u8(r, &s->flags) == -1 ||
	    bufr_get_u16(r, &s->nmembers) == -1)
		return (-1);
	return (0);
}

int
control_enc_welcome(struct buf *b, const struct control_welcome *m)
{
	size_t	 i, mark = b->len;

	if (!welcome_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, m->version) == -1 ||
	    buf_put_u64(b, m->server_time) == -1 ||
	    buf_put_u16(b, m->heartbeat) == -1 ||
	    buf_put_u8(b, m->nparties) == -1)
		return (wire_undo(b, mark));
	for (i = 0; i < m->nparties; i++)
		if (put_summary(b, &m->parties[i]) == -1)
			return (wire_undo(b, mark));
	return (0);
}

int
control_dec_welcome(const void *p, size_t len, struct control_welcome *out)
{
	struct control_welcome	 m;
	struct bufr		 r;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.version) == -1 ||
	    bufr_get_u64(&r, &m.server_time) == -1 ||
	    bufr_get_u16(&r, &m.heartbeat) == -1 ||
	    bufr_get_u8(&r, &m.nparties) == -1 ||
	    m.nparties > CONTROL_MAX_PARTIES)
		return (wire_fail(EBADMSG));
	for (i = 0; i < m.nparties; i++)
		if (get_summary(&r, &m.parties[i]) == -1)
			return (wire_fail(EBADMSG));
	if (bufr_end(&r) == -1 || !welcome_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* PARTY_CREATE */

int
control_enc_party_create(struct buf *b, const struct control_party_create *m)
{
	size_t	 mark = b->len;

	if (!control_name_valid(m->name))
		return (wire_fail(EINVAL));
	if (put_name(b, m->name) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_party_create(const void *p, size_t len,
    struct control_party_create *out)
{
	struct control_party_create m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (get_name(&r, m.name) == -1 || bufr_end(&r) == -1)
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* PARTY */

static bool
party_valid(const struct control_party *m)
{
	return (nonzero(m->id, CONTROL_IDLEN) && control_name_valid(m->name) &&
	    subnet_valid(&m->subnet) && addr_in_subnet(&m->subnet, &m->addr));
}

int
control_enc_party(struct buf *b, const struct control_party *m)
{
	size_t	 mark = b->len;

	if (!party_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    put_name(b, m->name) == -1 || put_prefix(b, &m->subnet) == -1 ||
	    put_addr(b, &m->addr) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_party(const void *p, size_t len, struct control_party *out)
{
	struct control_party	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    get_name(&r, m.name) == -1 || get_prefix(&r, &m.subnet) == -1 ||
	    get_addr(&r, &m.addr) == -1 || bufr_end(&r) == -1 ||
	    !party_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* INVITE_CREATE */

static bool
invite_create_valid(const struct control_invite_create *m)
{
	return (nonzero(m->id, CONTROL_IDLEN) &&
	    (m->flags & ~CONTROL_INVITE_APPROVAL) == 0);
}

static int
put_invite_terms(struct buf *b, uint32_t expiry, uint16_t max_uses,
    uint8_t flags)
{
	if (buf_put_u32(b, expiry) == -1 || buf_put_u16(b, max_uses) == -1 ||
	    buf_put_u8(b, flags) == -1)
		return (-1);
	return (0);
}

static int
get_invite_terms(struct bufr *r, uint32_t *expiry, uint16_t *max_uses,
    uint8_t *flags)
{
	if (bufr_get_u32(r, expiry) == -1 || bufr_get_u16(r, max_uses) == -1 ||
	    bufr_get_u8(r, flags) == -1)
		return (-1);
	return (0);
}

int
control_enc_invite_create(struct buf *b,
    const struct control_invite_create *m)
{
	size_t	 mark = b->len;

	if (!invite_create_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    put_invite_terms(b, m->expiry, m->max_uses, m->flags) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_invite_create(const void *p, size_t len,
    struct control_invite_create *out)
{
	struct control_invite_create m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    get_invite_terms(&r, &m.expiry, &m.max_uses, &m.flags) == -1 ||
	    bufr_end(&r) == -1 || !invite_create_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* INVITE */

static bool
invite_valid(const struct control_invite *m)
{
	return (nonzero(m->code, CONTROL_CODELEN) &&
	    nonzero(m->id, CONTROL_IDLEN) &&
	    (m->flags & ~CONTROL_INVITE_APPROVAL) == 0);
}

int
control_enc_invite(struct buf *b, const struct control_invite *m)
{
	size_t	 mark = b->len;

	if (!invite_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->code, CONTROL_CODELEN) == -1 ||
	    buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    put_invite_terms(b, m->expiry, m->max_uses, m->flags) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_invite(const void *p, size_t len, struct control_invite *out)
{
	struct control_invite	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.code, CONTROL_CODELEN) == -1 ||
	    bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    get_invite_terms(&r, &m.expiry, &m.max_uses, &m.flags) == -1 ||
	    bufr_end(&r) == -1 || !invite_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* JOIN, LEAVE, CLOSE: one fixed-size nonzero token. */

static int
enc_token(struct buf *b, const uint8_t *t, size_t n)
{
	if (!nonzero(t, n))
		return (wire_fail(EINVAL));
	return (buf_put(b, t, n));
}

static int
dec_token(const void *p, size_t len, uint8_t *out, size_t n)
{
	if (len != n || !nonzero(p, n))
		return (wire_fail(EBADMSG));
	memcpy(out, p, n);
	return (0);
}

int
control_enc_join(struct buf *b, const struct control_join *m)
{
	return (enc_token(b, m->code, CONTROL_CODELEN));
}

int
control_dec_join(const void *p, size_t len, struct control_join *out)
{
	return (dec_token(p, len, out->code, CONTROL_CODELEN));
}

int
control_enc_party_ref(struct buf *b, const struct control_party_ref *m)
{
	return (enc_token(b, m->id, CONTROL_IDLEN));
}

int
control_dec_party_ref(const void *p, size_t len,
    struct control_party_ref *out)
{
	return (dec_token(p, len, out->id, CONTROL_IDLEN));
}

/* KICK, APPROVE: party id, member key (, verdict). */

int
control_enc_kick(struct buf *b, const struct control_kick *m)
{
	size_t	 mark = b->len;

	if (!nonzero(m->id, CONTROL_IDLEN) || !nonzero(m->key, CONTROL_KEYLEN))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    buf_put(b, m->key, CONTROL_KEYLEN) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_kick(const void *p, size_t len, struct control_kick *out)
{
	const uint8_t	*q = p;

	if (len != CONTROL_IDLEN + CONTROL_KEYLEN ||
	    !nonzero(q, CONTROL_IDLEN) ||
	    !nonzero(q + CONTROL_IDLEN, CONTROL_KEYLEN))
		return (wire_fail(EBADMSG));
	memcpy(out->id, q, CONTROL_IDLEN);
	memcpy(out->key, q + CONTROL_IDLEN, CONTROL_KEYLEN);
	return (0);
}

static bool
approve_valid(const struct control_approve *m)
{
	return (nonzero(m->id, CONTROL_IDLEN) &&
	    nonzero(m->key, CONTROL_KEYLEN) &&
	    (m->verdict == CONTROL_APPROVE_ACCEPT ||
	    m->verdict == CONTROL_APPROVE_DENY));
}

int
control_enc_approve(struct buf *b, const struct control_approve *m)
{
	size_t	 mark = b->len;

	if (!approve_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    buf_put(b, m->key, CONTROL_KEYLEN) == -1 ||
	    buf_put_u8(b, m->verdict) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_approve(const void *p, size_t len, struct control_approve *out)
{
	struct control_approve	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    bufr_get(&r, m.key, CONTROL_KEYLEN) == -1 ||
	    bufr_get_u8(&r, &m.verdict) == -1 ||
	    bufr_end(&r) == -1 || !approve_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* APPROVAL_PENDING */

int
control_enc_approval_pending(struct buf *b,
    const struct control_approval_pending *m)
{
	size_t	 mark = b->len;

	if (!nonzero(m->id, CONTROL_IDLEN) || !control_name_valid(m->name))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    put_name(b, m->name) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_approval_pending(const void *p, size_t len,
    struct control_approval_pending *out)
{
	struct control_approval_pending m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    !nonzero(m.id, CONTROL_IDLEN) ||
	    get_name(&r, m.name) == -1 || bufr_end(&r) == -1)
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* JOIN_REQUEST */

static bool
join_request_valid(const struct control_join_request *m)
{
	return (nonzero(m->id, CONTROL_IDLEN) &&
	    nonzero(m->key, CONTROL_KEYLEN) && control_name_valid(m->name));
}

int
control_enc_join_request(struct buf *b, const struct control_join_request *m)
{
	size_t	 mark = b->len;

	if (!join_request_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    buf_put(b, m->key, CONTROL_KEYLEN) == -1 ||
	    put_name(b, m->name) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_join_request(const void *p, size_t len,
    struct control_join_request *out)
{
	struct control_join_request m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    bufr_get(&r, m.key, CONTROL_KEYLEN) == -1 ||
	    get_name(&r, m.name) == -1 || bufr_end(&r) == -1 ||
	    !join_request_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* ENDPOINTS */

int
control_enc_endpoints(struct buf *b, const struct control_endpoints *m)
{
	size_t	 mark = b->len;

	if (!endpoints_valid(m))
		return (wire_fail(EINVAL));
	if (put_endpoints(b, m) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_endpoints(const void *p, size_t len,
    struct control_endpoints *out)
{
	struct control_endpoints m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (get_endpoints(&r, &m) == -1 || bufr_end(&r) == -1 ||
	    !endpoints_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* Members: key, name, addr, flags u8, candidates. */

static bool
member_valid(const struct control_member *m)
{
	return (nonzero(m->key, CONTROL_KEYLEN) && control_name_valid(m->name) &&
	    af_valid(m->addr.af) && (m->flags & ~CONTROL_MEMBER_ONLINE) == 0 &&
	    endpoints_valid(&m->ep));
}

static int
put_member(struct buf *b, const struct control_member *m)
{
	if (buf_put(b, m->key, CONTROL_KEYLEN) == -1 ||
	    put_name(b, m->name) == -1 || put_addr(b, &m->addr) == -1 ||
	    buf_put_u8(b, m->flags) == -1 || put_endpoints(b, &m->ep) == -1)
		return (-1);
	return (0);
}

static int
get_member(struct bufr *r, struct control_member *m)
{
	if (bufr_get(r, m->key, CONTROL_KEYLEN) == -1 ||
	    get_name(r, m->name) == -1 || get_addr(r, &m->addr) == -1 ||
	    bufr_get_u8(r, &m->flags) == -1 || get_endpoints(r, &m->ep) == -1)
		return (wire_fail(EBADMSG));
	return (0);
}

/* STATE */

static bool
members_distinct(const struct control_state *m, size_t i)
{
	const struct control_member *a = &m->members[i], *o;
	size_t			 j;

	for (j = 0; j < i; j++) {
		o = &m->members[j];
		if (memcmp(a->key, o->key, CONTROL_KEYLEN) == 0 ||
		    addr_eq(&a->addr, &o->addr))
			return (false);
	}
	return (true);
}

static bool
state_valid(const struct control_state *m)
{
	size_t	 i;
	bool	 host = false;

	if (!nonzero(m->id, CONTROL_IDLEN) || !control_name_valid(m->name) ||
	    !subnet_valid(&m->subnet) || m->nmembers < 1 ||
	    m->nmembers > CONTROL_MAX_MEMBERS)
		return (false);
	for (i = 0; i < m->nmembers; i++) {
		if (!member_valid(&m->members[i]) ||
		    !addr_in_subnet(&m->subnet, &m->members[i].addr) ||
		    !members_distinct(m, i))
			return (false);
		if (memcmp(m->members[i].key, m->host_key,
		    CONTROL_KEYLEN) == 0)
			host = true;
	}
	return (host);
}

int
control_enc_state(struct buf *b, const struct control_state *m)
{
	size_t	 i, mark = b->len;

	if (!state_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    put_name(b, m->name) == -1 || put_prefix(b, &m->subnet) == -1 ||
	    buf_put(b, m->host_key, CONTROL_KEYLEN) == -1 ||
	    buf_put_u64(b, m->seq) == -1 ||
	    buf_put_u16(b, m->nmembers) == -1)
		return (wire_undo(b, mark));
	for (i = 0; i < m->nmembers; i++)
		if (put_member(b, &m->members[i]) == -1)
			return (wire_undo(b, mark));
	return (0);
}

/* The local snapshot is large (see control.h) but bounded. */
int
control_dec_state(const void *p, size_t len, struct control_state *out)
{
	struct control_state	 m;
	struct bufr		 r;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    get_name(&r, m.name) == -1 || get_prefix(&r, &m.subnet) == -1 ||
	    bufr_get(&r, m.host_key, CONTROL_KEYLEN) == -1 ||
	    bufr_get_u64(&r, &m.seq) == -1 ||
	    bufr_get_u16(&r, &m.nmembers) == -1 ||
	    m.nmembers > CONTROL_MAX_MEMBERS)
		return (wire_fail(EBADMSG));
	for (i = 0; i < m.nmembers; i++)
		if (get_member(&r, &m.members[i]) == -1)
			return (wire_fail(EBADMSG));
	if (bufr_end(&r) == -1 || !state_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* DELTA */

static bool
delta_valid(const struct control_delta *m)
{
	const struct control_member *mb = &m->member;

	if (!nonzero(m->id, CONTROL_IDLEN) || m->seq == 0)
		return (false);
	switch (m->kind) {
	case CONTROL_DELTA_JOINED:
		return (member_valid(mb));
	case CONTROL_DELTA_LEFT:
		return (nonzero(mb->key, CONTROL_KEYLEN) &&
		    m->reason >= CONTROL_LEFT_LEFT &&
		    m->reason <= CONTROL_LEFT_EXPIRED);
	case CONTROL_DELTA_ENDPOINTS:
		return (nonzero(mb->key, CONTROL_KEYLEN) &&
		    endpoints_valid(&mb->ep));
	case CONTROL_DELTA_CLOSED:
		return (true);
	case CONTROL_DELTA_PRESENCE:
		return (nonzero(mb->key, CONTROL_KEYLEN) &&
		    (mb->flags & ~CONTROL_MEMBER_ONLINE) == 0);
	}
	return (false);
}

static int
put_delta_body(struct buf *b, const struct control_delta *m)
{
	const struct control_member *mb = &m->member;

	switch (m->kind) {
	case CONTROL_DELTA_JOINED:
		return (put_member(b, mb));
	case CONTROL_DELTA_LEFT:
		if (buf_put(b, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (buf_put_u8(b, m->reason));
	case CONTROL_DELTA_ENDPOINTS:
		if (buf_put(b, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (put_endpoints(b, &mb->ep));
	case CONTROL_DELTA_PRESENCE:
		if (buf_put(b, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (buf_put_u8(b, mb->flags));
	}
	return (0);
}

static int
get_delta_body(struct bufr *r, struct control_delta *m)
{
	struct control_member	*mb = &m->member;

	switch (m->kind) {
	case CONTROL_DELTA_JOINED:
		return (get_member(r, mb));
	case CONTROL_DELTA_LEFT:
		if (bufr_get(r, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (bufr_get_u8(r, &m->reason));
	case CONTROL_DELTA_ENDPOINTS:
		if (bufr_get(r, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (get_endpoints(r, &mb->ep));
	case CONTROL_DELTA_CLOSED:
		return (0);
	case CONTROL_DELTA_PRESENCE:
		if (bufr_get(r, mb->key, CONTROL_KEYLEN) == -1)
			return (-1);
		return (bufr_get_u8(r, &mb->flags));
	}
	return (wire_fail(EBADMSG));
}

int
control_enc_delta(struct buf *b, const struct control_delta *m)
{
	size_t	 mark = b->len;

	if (!delta_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put(b, m->id, CONTROL_IDLEN) == -1 ||
	    buf_put_u64(b, m->seq) == -1 || buf_put_u8(b, m->kind) == -1 ||
	    put_delta_body(b, m) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_delta(const void *p, size_t len, struct control_delta *out)
{
	struct control_delta	 m;
	struct bufr		 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get(&r, m.id, CONTROL_IDLEN) == -1 ||
	    bufr_get_u64(&r, &m.seq) == -1 ||
	    bufr_get_u8(&r, &m.kind) == -1 ||
	    get_delta_body(&r, &m) == -1 ||
	    bufr_end(&r) == -1 || !delta_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* ERROR */

static bool
error_valid(const struct control_error *m)
{
	size_t	 n;

	n = strnlen(m->text, sizeof(m->text));
	return (m->code >= 1 && m->code <= CONTROL_E_MAX &&
	    n <= CONTROL_ERRTEXT_MAX && wire_printable(m->text, n));
}

int
control_enc_error(struct buf *b, const struct control_error *m)
{
	size_t	 n, mark = b->len;

	if (!error_valid(m))
		return (wire_fail(EINVAL));
	n = strlen(m->text);
	if (buf_put_u16(b, m->code) == -1 || buf_put_u8(b, n) == -1 ||
	    buf_put(b, m->text, n) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_error(const void *p, size_t len, struct control_error *out)
{
	struct control_error	 m;
	struct bufr		 r;
	uint8_t			 n;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.code) == -1 ||
	    bufr_get_u8(&r, &n) == -1 || n > CONTROL_ERRTEXT_MAX ||
	    bufr_get(&r, m.text, n) == -1 || bufr_end(&r) == -1 ||
	    !wire_printable(m.text, n) || !error_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* Relays: RELAY_HELLO, RELAY_WELCOME, RELAY_REPORT, RELAY_LIST */

bool
control_region_valid(const char *s)
{
	size_t	 i, n = strnlen(s, CONTROL_NAME_MAX + 1);

	if (n == 0 || n > CONTROL_NAME_MAX)
		return (false);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return (false);
	return (true);
}

static int
get_region(struct bufr *r, char *region)
{
	if (get_name(r, region) == -1 || !control_region_valid(region))
		return (wire_fail(EBADMSG));
	return (0);
}

/* A relay's public addresses are what its operator configured. */
static bool
relay_hello_valid(const struct control_relay_hello *m)
{
	size_t	 i;

	if (m->version != CONTROL_VERSION || m->port == 0 ||
	    m->capacity == 0 || !control_region_valid(m->region) ||
	    !endpoints_valid(&m->ep))
		return (false);
	for (i = 0; i < m->ep.n; i++)
		if (m->ep.c[i].kind != CONTROL_EP_CONFIGURED)
			return (false);
	return (true);
}

int
control_enc_relay_hello(struct buf *b, const struct control_relay_hello *m)
{
	size_t	 mark = b->len;

	if (!relay_hello_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, m->version) == -1 || buf_put_u16(b, m->port) == -1 ||
	    put_name(b, m->region) == -1 || buf_put_u32(b, m->capacity) == -1 ||
	    put_endpoints(b, &m->ep) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_relay_hello(const void *p, size_t len,
    struct control_relay_hello *out)
{
	struct control_relay_hello	 m;
	struct bufr			 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.version) == -1 ||
	    bufr_get_u16(&r, &m.port) == -1 || get_region(&r, m.region) == -1 ||
	    bufr_get_u32(&r, &m.capacity) == -1 ||
	    get_endpoints(&r, &m.ep) == -1 || bufr_end(&r) == -1 ||
	    !relay_hello_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

static bool
relay_welcome_valid(const struct control_relay_welcome *m)
{
	return (m->version == CONTROL_VERSION &&
	    m->report >= CONTROL_HEARTBEAT_MIN &&
	    m->report <= CONTROL_HEARTBEAT_MAX &&
	    nonzero(m->sign_key, CONTROL_SIGNKEYLEN));
}

int
control_enc_relay_welcome(struct buf *b,
    const struct control_relay_welcome *m)
{
	size_t	 mark = b->len;

	if (!relay_welcome_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, m->version) == -1 ||
	    buf_put_u16(b, m->report) == -1 ||
	    buf_put(b, m->sign_key, CONTROL_SIGNKEYLEN) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_relay_welcome(const void *p, size_t len,
    struct control_relay_welcome *out)
{
	struct control_relay_welcome	 m;
	struct bufr			 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u16(&r, &m.version) == -1 ||
	    bufr_get_u16(&r, &m.report) == -1 ||
	    bufr_get(&r, m.sign_key, CONTROL_SIGNKEYLEN) == -1 ||
	    bufr_end(&r) == -1 || !relay_welcome_valid(&m))
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

int
control_enc_relay_report(struct buf *b, const struct control_relay_report *m)
{
	size_t	 mark = b->len;

	if (buf_put_u8(b, m->load) == -1 || buf_put_u32(b, m->nbound) == -1)
		return (wire_undo(b, mark));
	return (0);
}

int
control_dec_relay_report(const void *p, size_t len,
    struct control_relay_report *out)
{
	struct control_relay_report	 m;
	struct bufr			 r;

	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	if (bufr_get_u8(&r, &m.load) == -1 ||
	    bufr_get_u32(&r, &m.nbound) == -1 || bufr_end(&r) == -1)
		return (wire_fail(EBADMSG));
	*out = m;
	return (0);
}

/* The token must be well formed and name this relay (not its signature). */
static bool
relay_entry_valid(const struct control_relay *e)
{
	struct relay_token	 t;

	return (nonzero(e->key, CONTROL_KEYLEN) &&
	    control_region_valid(e->region) && af_valid(e->addr.af) &&
	    nonzero(e->addr.bytes, addr_len(e->addr.af)) && e->port != 0 &&
	    relay_token_dec(e->token, &t) == 0 &&
	    memcmp(t.relay_key, e->key, CONTROL_KEYLEN) == 0);
}

static bool
relay_list_valid(const struct control_relay_list *m)
{
	size_t	 i, j;

	if (m->n > CONTROL_MAX_RELAYS)
		return (false);
	for (i = 0; i < m->n; i++) {
		if (!relay_entry_valid(&m->r[i]))
			return (false);
		for (j = 0; j < i; j++)
			if (memcmp(m->r[i].key, m->r[j].key,
			    CONTROL_KEYLEN) == 0)
				return (false);
	}
	return (true);
}

int
control_enc_relay_list(struct buf *b, const struct control_relay_list *m)
{
	const struct control_relay	*e;
	size_t				 i, mark = b->len;

	if (!relay_list_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u8(b, m->n) == -1)
		return (wire_undo(b, mark));
	for (i = 0; i < m->n; i++) {
		e = &m->r[i];
		if (buf_put(b, e->key, CONTROL_KEYLEN) == -1 ||
		    put_name(b, e->region) == -1 ||
		    buf_put_u8(b, e->load) == -1 ||
		    put_addr(b, &e->addr) == -1 ||
		    buf_put_u16(b, e->port) == -1 ||
		    buf_put(b, e->token, CONTROL_TOKENLEN) == -1)
			return (wire_undo(b, mark));
	}
	return (0);
}

static int
get_relay(struct bufr *r, struct control_relay *e)
{
	if (bufr_get(r, e->key, CONTROL_KEYLEN) == -1 ||
	    get_region(r, e->region) == -1 || bufr_get_u8(r, &e->load) == -1 ||
	    get_addr(r, &e->addr) == -1 || bufr_get_u16(r, &e->port) == -1 ||
	    bufr_get(r, e->token, CONTROL_TOKENLEN) == -1)
		return (wire_fail(EBADMSG));
	return (0);
}

int
control_dec_relay_list(const void *p, size_t len,
    struct control_relay_list *out)
{
	struct control_relay_list	*m;
	struct bufr			 r;
	size_t				 i;
	int				 rc = -1;

	/* 16 entries of ~250 bytes: too big for a careless stack */
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (-1);
	bufr_init(&r, p, len);
	if (bufr_get_u8(&r, &m->n) == -1 || m->n > CONTROL_MAX_RELAYS)
		goto out;
	for (i = 0; i < m->n; i++)
		if (get_relay(&r, &m->r[i]) == -1)
			goto out;
	if (bufr_end(&r) == -1 || !relay_list_valid(m))
		goto out;
	*out = *m;
	rc = 0;
 out:
	free(m);
	return (rc == 0 ? 0 : wire_fail(EBADMSG));
}

const char *
control_err_str(unsigned int code)
{
	static const char *const str[CONTROL_E_MAX + 1] = {
		[CONTROL_E_MALFORMED] = "malformed message",
		[CONTROL_E_VERSION] = "protocol version not supported",
		[CONTROL_E_UNSUPPORTED] = "unsupported request",
		[CONTROL_E_ORDER] = "HELLO missing or repeated",
		[CONTROL_E_NO_PARTY] = "no such party",
		[CONTROL_E_NOT_HOST] = "only the host may do that",
		[CONTROL_E_INVITE] = "invite unknown, expired or used up",
		[CONTROL_E_DENIED] = "the host refused the join",
		[CONTROL_E_LIMIT] = "limit reached",
		[CONTROL_E_NO_MEMBER] = "no such member",
		[CONTROL_E_SELF] = "the host cannot kick itself",
		[CONTROL_E_ALREADY] = "already a member",
		[CONTROL_E_RATE] = "rate limited",
		[CONTROL_E_INTERNAL] = "server error",
	};

	if (code == 0 || code > CONTROL_E_MAX)
		return ("unknown error");
	return (str[code]);
}

const char *
control_msg_name(unsigned int type)
{
	switch (type) {
	case CONTROL_MSG_HELLO:			return ("hello");
	case CONTROL_MSG_PARTY_CREATE:		return ("party_create");
	case CONTROL_MSG_INVITE_CREATE:		return ("invite_create");
	case CONTROL_MSG_JOIN:			return ("join");
	case CONTROL_MSG_LEAVE:			return ("leave");
	case CONTROL_MSG_KICK:			return ("kick");
	case CONTROL_MSG_CLOSE:			return ("close");
	case CONTROL_MSG_ENDPOINTS:		return ("endpoints");
	case CONTROL_MSG_HEARTBEAT:		return ("heartbeat");
	case CONTROL_MSG_APPROVE:		return ("approve");
	case CONTROL_MSG_RELAY_HELLO:		return ("relay_hello");
	case CONTROL_MSG_RELAY_REPORT:		return ("relay_report");
	case CONTROL_MSG_RELAYS:		return ("relays");
	case CONTROL_MSG_OK:			return ("ok");
	case CONTROL_MSG_ERROR:			return ("error");
	case CONTROL_MSG_WELCOME:		return ("welcome");
	case CONTROL_MSG_PARTY:			return ("party");
	case CONTROL_MSG_INVITE:		return ("invite");
	case CONTROL_MSG_APPROVAL_PENDING:	return ("approval_pending");
	case CONTROL_MSG_HEARTBEAT_ACK:		return ("heartbeat_ack");
	case CONTROL_MSG_RELAY_WELCOME:		return ("relay_welcome");
	case CONTROL_MSG_RELAY_LIST:		return ("relay_list");
	case CONTROL_MSG_STATE:			return ("state");
	case CONTROL_MSG_DELTA:			return ("delta");
	case CONTROL_MSG_JOIN_REQUEST:		return ("join_request");
	}
	return ("unknown");
}

/* Invite links */

#define INVITE_SCHEME	"lanrage://"
#define INVITE_VERSION	"/v1/"
#define B64_KEYLEN	43	/* unpadded base64url of 32 bytes */
#define B64_CODELEN	22	/* of 16 bytes */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t
b64_len(size_t n)
{
	return ((n * 8 + 5) / 6);
}

/* Unpadded base64url of p[n] into out (b64_len(n) bytes, no NUL). */
static void
b64_encode(const uint8_t *p, size_t n, char *out)
{
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 bits = 0;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 0x3f];
}

static int
b64_val(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64url, c)) == NULL)
		return (-1);
	return ((int)(p - b64url));
}

/* Exactly b64_len(n) characters; unused trailing bits must be zero. */
static bool
b64_decode(const char *s, uint8_t *out, size_t n)
{
	uint32_t	 acc = 0;
	size_t		 i, o = 0, slen = b64_len(n);
	int		 bits = 0, v;

	for (i = 0; i < slen; i++) {
		if ((v = b64_val(s[i])) == -1)
			return (false);
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = acc >> bits;
		}
	}
	return ((acc & ((1u << bits) - 1)) == 0);
}

/* How many of the first n bytes of s are in set. */
static size_t
span(const char *s, size_t n, const char *set)
{
	size_t	 i;

	for (i = 0; i < n && s[i] != '\0' && strchr(set, s[i]) != NULL; i++)
		;
	return (i);
}

/* One DNS label: 1..63 of [a-z0-9-], no hyphen at either end. */
static bool
dns_label_valid(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return (false);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return (false);
	return (true);
}

/* Lowercase LDH name, no trailing dot, last label not all digits. */
static bool
dns_name_valid(const char *s, size_t n)
{
	size_t	 start = 0, last = 0, i;

	if (n == 0 || n > LR_INVITE_HOSTSIZ - 1)
		return (false);
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!dns_label_valid(s + start, i - start))
			return (false);
		last = start;
		start = i + 1;
	}
	return (span(s + last, n - last, "0123456789") < n - last);
}

/* An address in exactly the form addr_fmt gives. */
static bool
ip_canonical(const char *s, size_t n, sa_family_t af)
{
	struct addr	 a;
	char		 tmp[LR_ADDR_STRLEN], fmt[LR_ADDR_STRLEN];

	if (n == 0 || n >= sizeof(tmp))
		return (false);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (addr_parse(tmp, &a) == -1 || a.af != af ||
	    addr_fmt(&a, fmt, sizeof(fmt)) == NULL)
		return (false);
	return (strcmp(tmp, fmt) == 0);
}

/* s[n] as a host: IPv6 when it has a colon, IPv4 when only digits and
 * dots, else a DNS name. */
static bool
host_valid(const char *s, size_t n)
{
	if (memchr(s, ':', n) != NULL)
		return (ip_canonical(s, n, AF_INET6));
	if (span(s, n, "0123456789.") == n)
		return (ip_canonical(s, n, AF_INET));
	return (dns_name_valid(s, n));
}

static bool
invite_link_valid(const struct lr_invite *v)
{
	size_t	 n;

	n = strnlen(v->host, sizeof(v->host));
	return (n < sizeof(v->host) && host_valid(v->host, n) &&
	    v->port != 0 && nonzero(v->server_key, CONTROL_KEYLEN) &&
	    nonzero(v->code, CONTROL_CODELEN));
}

int
lr_invite_format(const struct lr_invite *v, char *out, size_t outlen)
{
	char	 key[B64_KEYLEN + 1], code[B64_CODELEN + 1];
	bool	 v6;
	int	 n;

	if (!invite_link_valid(v))
		return (wire_fail(EINVAL));
	b64_encode(v->server_key, CONTROL_KEYLEN, key);
	key[B64_KEYLEN] = '\0';
	b64_encode(v->code, CONTROL_CODELEN, code);
	code[B64_CODELEN] = '\0';
	v6 = strchr(v->host, ':') != NULL;
	n = snprintf(out, outlen, "%s%s%s%s:%u%s%s/%s", INVITE_SCHEME,
	    v6 ? "[" : "", v->host, v6 ? "]" : "", v->port, INVITE_VERSION,
	    key, code);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return (wire_fail(ENOBUFS));
	}
	return (0);
}

/* 1..65535 in decimal, no sign, no leading zero; *end past the digits. */
static bool
port_parse(const char *s, const char **end, uint16_t *port)
{
	uint32_t	 v = 0;
	size_t		 i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 5)
			return (false);
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (i == 0 || s[0] == '0' || v > 65535)
		return (false);
	*port = v;
	*end = s + i;
	return (true);
}

/* HOST:PORT; on success *end points past the port. */
static bool
authority_parse(const char *s, const char **end, struct lr_invite *v)
{
	const char	*h = s, *e;
	size_t		 n;

	if (*s == '[') {
		h = s + 1;
		if ((e = strchr(h, ']')) == NULL || e[1] != ':')
			return (false);
		n = e - h;
		if (memchr(h, ':', n) == NULL || !host_valid(h, n))
			return (false);
		e++;
	} else {
		if ((e = strchr(h, ':')) == NULL)
			return (false);
		n = e - h;
		if (!host_valid(h, n))
			return (false);
	}
	if (n >= sizeof(v->host))
		return (false);
	memcpy(v->host, h, n);
	v->host[n] = '\0';
	return (port_parse(e + 1, end, &v->port));
}

int
lr_hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	struct lr_invite v;
	const char	*end;

	memset(&v, 0, sizeof(v));
	if (strnlen(s, LR_HOSTPORT_MAXLEN + 1) > LR_HOSTPORT_MAXLEN ||
	    !authority_parse(s, &end, &v) || *end != '\0' ||
	    strlen(v.host) >= hostlen)
		return (wire_fail(EINVAL));
	memcpy(host, v.host, strlen(v.host) + 1);
	*port = v.port;
	return (0);
}

int
lr_invite_parse(const char *s, struct lr_invite *out)
{
	struct lr_invite v;
	const char	*p;
	size_t		 len;

	memset(&v, 0, sizeof(v));
	len = strnlen(s, LR_INVITE_MAXLEN + 1);
	if (len > LR_INVITE_MAXLEN ||
	    strncmp(s, INVITE_SCHEME, strlen(INVITE_SCHEME)) != 0 ||
	    !authority_parse(s + strlen(INVITE_SCHEME), &p, &v) ||
	    strncmp(p, INVITE_VERSION, strlen(INVITE_VERSION)) != 0)
		return (wire_fail(EINVAL));
	p += strlen(INVITE_VERSION);
	if (strnlen(p, B64_KEYLEN + B64_CODELEN + 2) !=
	    B64_KEYLEN + 1 + B64_CODELEN || p[B64_KEYLEN] != '/' ||
	    !b64_decode(p, v.server_key, CONTROL_KEYLEN) ||
	    !b64_decode(p + B64_KEYLEN + 1, v.code, CONTROL_CODELEN) ||
	    !invite_link_valid(&v))
		return (wire_fail(EINVAL));
	*out = v;
	return (0);
}
