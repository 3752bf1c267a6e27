/*
 * STUN codec (RFC 8489 messages, RFC 5780 attributes): the header, a
 * walk over the attributes that applies the MESSAGE-INTEGRITY and
 * FINGERPRINT rules, and an encoder that writes the attributes of a
 * struct stun_msg in one fixed order.  No credentials are checked.  The
 * decoder fills a local struct and copies it out only on success; the
 * encoder undoes a partial write.  At the end, the same for classic
 * STUN (RFC 3489) as struct stun_classic.  Layouts and rules:
 * proto/stun.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "stun.h"
#include "../lib/wire.h"

#define STUN_FP_XOR		0x5354554e
#define STUN_FAMILY_V4		0x01
#define STUN_FAMILY_V6		0x02
#define STUN_ATTRHDR		4
#define STUN_FPLEN		(STUN_ATTRHDR + 4)
#define STUN_MILEN		20	/* HMAC-SHA1 */
#define STUN_MI256_MIN		16
#define STUN_MI256_MAX		32
#define STUN_TEXT_WIRE_MAX	763	/* 127 characters of UTF-8 */
#define STUN_KEYLEN		(4 + STUN_TXIDLEN)
#define STUN_CHANGE_MASK	(STUN_CHANGE_IP | STUN_CHANGE_PORT)

/* How far the attribute walk is: the integrity attributes end most. */
enum stun_stage {
	STAGE_OPEN,		/* every attribute counts */
	STAGE_MI,		/* after MESSAGE-INTEGRITY */
	STAGE_MI256,		/* after MESSAGE-INTEGRITY-SHA256 */
	STAGE_DONE,		/* after FINGERPRINT: nothing may follow */
};

struct stun_dec {
	struct stun_msg	 m;
	const uint8_t	*msg;		/* the whole datagram */
	enum stun_stage	 stage;
	bool		 seen_software;
	bool		 seen_unknown;	/* UNKNOWN-ATTRIBUTES */
	bool		 seen_padding;
};

uint32_t
stun_crc32(const void *p, size_t n)
{
	const uint8_t	*s = p;
	uint32_t	 crc = 0xffffffff;
	int		 k;

	while (n-- > 0) {
		crc ^= *s++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
	}
	return (~crc);
}

/* Message type: method bits M11..M0 with the class bits C1 C0 between. */
static uint16_t
stun_type(uint16_t method, uint8_t cls)
{
	return ((method & 0x000f) | (method & 0x0070) << 1 |
	    (method & 0x0f80) << 2 | (cls & 1) << 4 | (cls & 2) << 7);
}

static uint16_t
stun_type_method(uint16_t t)
{
	return ((t & 0x000f) | (t & 0x00e0) >> 1 | (t & 0x3e00) >> 2);
}

static uint8_t
stun_type_class(uint16_t t)
{
	return ((t & 0x0010) >> 4 | (t & 0x0100) >> 7);
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)p[0] << 8 | p[1]);
}

static size_t
pad4(size_t n)
{
	return ((4 - n % 4) % 4);
}

/* The XOR key of an address: magic cookie, then transaction id. */
static void
xor_key(const uint8_t *txid, uint8_t *key)
{
	key[0] = STUN_MAGIC >> 24;
	key[1] = (STUN_MAGIC >> 16) & 0xff;
	key[2] = (STUN_MAGIC >> 8) & 0xff;
	key[3] = STUN_MAGIC & 0xff;
	memcpy(key + 4, txid, STUN_TXIDLEN);
}

/* The magic cookie at p: RFC 8489 rather than RFC 3489. */
static bool
has_magic(const uint8_t *p)
{
	return (get16(p) == STUN_MAGIC >> 16 &&
	    get16(p + 2) == (STUN_MAGIC & 0xffff));
}

/* Top bits clear, the magic cookie, a body of whole words that fills p. */
static bool
hdr_valid(const uint8_t *p, size_t len)
{
	uint16_t	 mlen;

	if (len < STUN_HDRLEN || len > STUN_MAXMSG || (p[0] & 0xc0) != 0)
		return (false);
	mlen = get16(p + 2);
	return (mlen % 4 == 0 && mlen == len - STUN_HDRLEN &&
	    has_magic(p + 4));
}

bool
stun_is_stun(const void *p, size_t len)
{
	return (hdr_valid(p, len));
}

/* Printable ASCII, at most STUN_TEXT_MAX bytes; anything else is '?'. */
static int
get_text(const uint8_t *v, size_t n, char *out)
{
	size_t	 i;

	if (n > STUN_TEXT_WIRE_MAX)
		return (-1);
	if (n > STUN_TEXT_MAX)
		n = STUN_TEXT_MAX;
	for (i = 0; i < n; i++)
		out[i] = v[i] >= 0x20 && v[i] <= 0x7e ? (char)v[i] : '?';
	out[n] = '\0';
	return (0);
}

/* reserved u8 (ignored), family u8, port u16, 4 or 16 address bytes. */
static int
get_addr(const uint8_t *v, size_t n, const uint8_t *key,
    struct stun_addr *out)
{
	struct stun_addr	 a;
	size_t			 alen, i;

	memset(&a, 0, sizeof(a));
	if (n < 4)
		return (-1);
	if (v[1] == STUN_FAMILY_V4)
		a.addr.af = AF_INET;
	else if (v[1] == STUN_FAMILY_V6)
		a.addr.af = AF_INET6;
	else
		return (-1);
	alen = addr_len(a.addr.af);
	if (n != 4 + alen)
		return (-1);
	a.port = get16(v + 2);
	memcpy(a.addr.bytes, v + 4, alen);
	if (key != NULL) {
		a.port ^= STUN_MAGIC >> 16;
		for (i = 0; i < alen; i++)
			a.addr.bytes[i] ^= key[i];
	}
	a.present = true;
	*out = a;
	return (0);
}

static int
dec_addr(struct stun_dec *d, const uint8_t *v, size_t n, bool xor,
    struct stun_addr *a)
{
	uint8_t	 key[STUN_KEYLEN];

	if (a->present)
		return (0);		/* the first one counts */
	xor_key(d->m.txid, key);
	return (get_addr(v, n, xor ? key : NULL, a));
}

/* Remember a type once; more than STUN_MAX_UNKNOWN is malformed. */
static int
unknown_add(struct stun_msg *m, uint16_t type)
{
	size_t	 i;

	for (i = 0; i < m->nunknown; i++)
		if (m->unknown[i] == type)
			return (0);
	if (m->nunknown == STUN_MAX_UNKNOWN)
		return (-1);
	m->unknown[m->nunknown++] = type;
	return (0);
}

/* A list of comprehension-required types, merged into m->unknown. */
static int
dec_unknown(struct stun_dec *d, const uint8_t *v, size_t n)
{
	size_t	 i;

	if (d->seen_unknown)
		return (0);
	d->seen_unknown = true;
	if (n % 2 != 0)
		return (-1);
	for (i = 0; i < n; i += 2)
		if (get16(v + i) >= 0x8000 ||
		    unknown_add(&d->m, get16(v + i)) == -1)
			return (-1);
	return (0);
}

/* reserved 21 bits (ignored), class 3 bits, number u8, reason. */
static int
dec_error(struct stun_dec *d, const uint8_t *v, size_t n)
{
	unsigned int	 cls, num;

	if (d->m.has_error)
		return (0);
	if (n < 4)
		return (-1);
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99 ||
	    get_text(v + 4, n - 4, d->m.reason) == -1)
		return (-1);
	d->m.error_code = cls * 100 + num;
	d->m.has_error = true;
	return (0);
}

/* CHANGE-REQUEST: 4 bytes, no flag but change IP and change port. */
static int
get_change(const uint8_t *v, size_t n, uint32_t *out)
{
	uint32_t	 flags;

	if (n != 4)
		return (-1);
	flags = (uint32_t)get16(v) << 16 | get16(v + 2);
	if ((flags & ~(uint32_t)STUN_CHANGE_MASK) != 0)
		return (-1);
	*out = flags;
	return (0);
}

static int
dec_change(struct stun_dec *d, const uint8_t *v, size_t n)
{
	if (d->m.has_change)
		return (0);
	if (get_change(v, n, &d->m.change) == -1)
		return (-1);
	d->m.has_change = true;
	return (0);
}

static int
dec_software(struct stun_dec *d, const uint8_t *v, size_t n)
{
	if (d->seen_software)
		return (0);
	d->seen_software = true;
	return (get_text(v, n, d->m.software));
}

/* CRC-32 of everything before the attribute at off; nothing may follow. */
static int
dec_fingerprint(struct stun_dec *d, const uint8_t *v, size_t n, size_t off)
{
	uint32_t	 want;

	if (n != 4)
		return (-1);
	want = stun_crc32(d->msg, off) ^ STUN_FP_XOR;
	if (((uint32_t)get16(v) << 16 | get16(v + 2)) != want)
		return (-1);
	d->m.fingerprint = true;
	d->stage = STAGE_DONE;
	return (0);
}

static int
dec_integrity(struct stun_dec *d, uint16_t type, size_t n)
{
	if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
		if (n != STUN_MILEN)
			return (-1);
		d->stage = STAGE_MI;
		return (0);
	}
	if (n < STUN_MI256_MIN || n > STUN_MI256_MAX || n % 4 != 0)
		return (-1);
	d->stage = STAGE_MI256;
	return (0);
}

/* Whether the integrity attributes already seen make this one ignored. */
static bool
ignored(const struct stun_dec *d, uint16_t type)
{
	if (d->stage == STAGE_MI256)
		return (true);
	return (d->stage == STAGE_MI &&
	    type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
}

static int
dec_attr(struct stun_dec *d, uint16_t type, const uint8_t *v, size_t n,
    size_t off)
{
	if (d->stage == STAGE_DONE)
		return (-1);
	if (type == STUN_ATTR_FINGERPRINT)
		return (dec_fingerprint(d, v, n, off));
	if (ignored(d, type))
		return (0);
	switch (type) {
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		return (dec_addr(d, v, n, true, &d->m.xor_mapped));
	case STUN_ATTR_MAPPED_ADDRESS:
		return (dec_addr(d, v, n, false, &d->m.mapped));
	case STUN_ATTR_RESPONSE_ORIGIN:
		return (dec_addr(d, v, n, false, &d->m.response_origin));
	case STUN_ATTR_OTHER_ADDRESS:
		return (dec_addr(d, v, n, false, &d->m.other_address));
	case STUN_ATTR_CHANGE_REQUEST:
		return (dec_change(d, v, n));
	case STUN_ATTR_ERROR_CODE:
		return (dec_error(d, v, n));
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
		return (dec_unknown(d, v, n));
	case STUN_ATTR_SOFTWARE:
		return (dec_software(d, v, n));
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
		return (dec_integrity(d, type, n));
	case STUN_ATTR_USERNAME:
		return (0);		/* no credentials */
	case STUN_ATTR_PADDING:
		if (!d->seen_padding)
			d->m.padding = n;
		d->seen_padding = true;
		return (0);
	}
	return (type < 0x8000 ? unknown_add(&d->m, type) : 0);
}

/* type u16, length u16, value, zero to three bytes of padding. */
static int
dec_attrs(struct stun_dec *d, struct bufr *r)
{
	const uint8_t	*v;
	uint16_t	 type, n;
	size_t		 off;

	while (bufr_left(r) > 0) {
		off = r->off;
		if (bufr_get_u16(r, &type) == -1 ||
		    bufr_get_u16(r, &n) == -1 ||
		    (v = bufr_ptr(r, n)) == NULL ||
		    bufr_skip(r, pad4(n)) == -1 ||
		    dec_attr(d, type, v, n, off) == -1)
			return (-1);
	}
	return (0);
}

int
stun_decode(const void *p, size_t len, struct stun_msg *out)
{
	struct stun_dec	 d;
	struct bufr	 r;
	uint16_t	 type;

	if (!hdr_valid(p, len))
		return (wire_fail(EBADMSG));
	memset(&d, 0, sizeof(d));
	d.msg = p;
	bufr_init(&r, p, len);
	/* Length and magic cookie were checked with the header. */
	if (bufr_get_u16(&r, &type) == -1 || bufr_skip(&r, 6) == -1 ||
	    bufr_get(&r, d.m.txid, STUN_TXIDLEN) == -1)
		return (wire_fail(EBADMSG));
	d.m.method = stun_type_method(type);
	d.m.cls = stun_type_class(type);
	if (dec_attrs(&d, &r) == -1 ||
	    d.m.has_error != (d.m.cls == STUN_ERROR))
		return (wire_fail(EBADMSG));
	*out = d.m;
	return (0);
}

static bool
addr_valid(const struct stun_addr *a)
{
	return (!a->present || a->addr.af == AF_INET ||
	    a->addr.af == AF_INET6);
}

static bool
text_valid(const char *s)
{
	size_t	 n = strnlen(s, STUN_TEXT_MAX + 1);

	return (n <= STUN_TEXT_MAX && wire_printable(s, n));
}

static bool
unknown_valid(const struct stun_msg *m)
{
	size_t	 i, j;

	if (m->nunknown > STUN_MAX_UNKNOWN)
		return (false);
	for (i = 0; i < m->nunknown; i++) {
		if (m->unknown[i] >= 0x8000)
			return (false);
		for (j = 0; j < i; j++)
			if (m->unknown[j] == m->unknown[i])
				return (false);
	}
	return (true);
}

/* What the decoder can produce, and nothing else. */
static bool
msg_valid(const struct stun_msg *m)
{
	if (m->method > 0x0fff || m->cls > STUN_ERROR ||
	    !addr_valid(&m->xor_mapped) || !addr_valid(&m->mapped) ||
	    !addr_valid(&m->response_origin) ||
	    !addr_valid(&m->other_address))
		return (false);
	if (m->has_change && (m->change & ~(uint32_t)STUN_CHANGE_MASK) != 0)
		return (false);
	if (m->has_error != (m->cls == STUN_ERROR))
		return (false);
	if (m->has_error && (m->error_code < 300 || m->error_code > 699 ||
	    !text_valid(m->reason)))
		return (false);
	return (text_valid(m->software) && unknown_valid(m) &&
	    m->padding <= STUN_PADDING_MAX);
}

static int
put_attr_hdr(struct buf *b, uint16_t type, size_t n)
{
	if (buf_put_u16(b, type) == -1 || buf_put_u16(b, n) == -1)
		return (-1);
	return (0);
}

static int
put_tlv(struct buf *b, uint16_t type, const void *v, size_t n)
{
	if (put_attr_hdr(b, type, n) == -1 || buf_put(b, v, n) == -1 ||
	    buf_put_zero(b, pad4(n)) == -1)
		return (-1);
	return (0);
}

static int
put_addr(struct buf *b, uint16_t type, const struct stun_addr *a,
    const uint8_t *key)
{
	uint8_t	 v[4 + 16];
	size_t	 alen, i;

	if (!a->present)
		return (0);
	alen = addr_len(a->addr.af);
	v[0] = 0;
	v[1] = a->addr.af == AF_INET ? STUN_FAMILY_V4 : STUN_FAMILY_V6;
	v[2] = a->port >> 8;
	v[3] = a->port & 0xff;
	memcpy(v + 4, a->addr.bytes, alen);
	if (key != NULL) {
		v[2] ^= STUN_MAGIC >> 24;
		v[3] ^= (STUN_MAGIC >> 16) & 0xff;
		for (i = 0; i < alen; i++)
			v[4 + i] ^= key[i];
	}
	return (put_tlv(b, type, v, 4 + alen));
}

static int
put_addrs(struct buf *b, const struct stun_msg *m)
{
	uint8_t	 key[STUN_KEYLEN];

	xor_key(m->txid, key);
	if (put_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &m->xor_mapped,
	    key) == -1 ||
	    put_addr(b, STUN_ATTR_MAPPED_ADDRESS, &m->mapped, NULL) == -1 ||
	    put_addr(b, STUN_ATTR_RESPONSE_ORIGIN, &m->response_origin,
	    NULL) == -1 ||
	    put_addr(b, STUN_ATTR_OTHER_ADDRESS, &m->other_address,
	    NULL) == -1)
		return (-1);
	return (0);
}

static int
put_error(struct buf *b, const struct stun_msg *m)
{
	size_t	 n = strlen(m->reason);

	if (put_attr_hdr(b, STUN_ATTR_ERROR_CODE, 4 + n) == -1 ||
	    buf_put_u16(b, 0) == -1 ||
	    buf_put_u8(b, m->error_code / 100) == -1 ||
	    buf_put_u8(b, m->error_code % 100) == -1 ||
	    buf_put(b, m->reason, n) == -1 || buf_put_zero(b, pad4(n)) == -1)
		return (-1);
	return (0);
}

static int
put_unknown(struct buf *b, const struct stun_msg *m)
{
	size_t	 i, n = 2 * (size_t)m->nunknown;

	if (put_attr_hdr(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, n) == -1)
		return (-1);
	for (i = 0; i < m->nunknown; i++)
		if (buf_put_u16(b, m->unknown[i]) == -1)
			return (-1);
	return (buf_put_zero(b, pad4(n)));
}

/* Every attribute that is set, in the order of struct stun_msg. */
static int
put_attrs(struct buf *b, const struct stun_msg *m)
{
	size_t	 n;

	if (put_addrs(b, m) == -1 ||
	    (m->has_change && (put_attr_hdr(b, STUN_ATTR_CHANGE_REQUEST,
	    4) == -1 || buf_put_u32(b, m->change) == -1)) ||
	    (m->has_error && put_error(b, m) == -1))
		return (-1);
	if ((n = strlen(m->software)) > 0 &&
	    put_tlv(b, STUN_ATTR_SOFTWARE, m->software, n) == -1)
		return (-1);
	if (m->nunknown > 0 && put_unknown(b, m) == -1)
		return (-1);
	if (m->padding > 0 && (put_attr_hdr(b, STUN_ATTR_PADDING,
	    m->padding) == -1 || buf_put_zero(b, pad4(m->padding) +
	    m->padding) == -1))
		return (-1);
	return (0);
}

static void
set_len(struct buf *b, size_t mark, size_t n)
{
	b->data[mark + 2] = n >> 8;
	b->data[mark + 3] = n & 0xff;
}

/* The length already counts FINGERPRINT when the CRC is taken. */
static int
put_fingerprint(struct buf *b, size_t mark)
{
	uint32_t	 crc;

	set_len(b, mark, b->len - mark - STUN_HDRLEN + STUN_FPLEN);
	crc = stun_crc32(b->data + mark, b->len - mark) ^ STUN_FP_XOR;
	if (put_attr_hdr(b, STUN_ATTR_FINGERPRINT, 4) == -1 ||
	    buf_put_u32(b, crc) == -1)
		return (-1);
	return (0);
}

int
stun_encode(struct buf *b, const struct stun_msg *m)
{
	size_t	 mark = b->len;

	if (!msg_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, stun_type(m->method, m->cls)) == -1 ||
	    buf_put_u16(b, 0) == -1 || buf_put_u32(b, STUN_MAGIC) == -1 ||
	    buf_put(b, m->txid, STUN_TXIDLEN) == -1 ||
	    put_attrs(b, m) == -1)
		return (wire_undo(b, mark));
	set_len(b, mark, b->len - mark - STUN_HDRLEN);
	if (m->fingerprint && put_fingerprint(b, mark) == -1)
		return (wire_undo(b, mark));
	return (0);
}

/* ---- classic STUN (RFC 3489) ---- */

#define STUN_CLASSIC_REQUEST	0x0001
#define STUN_CLASSIC_RESPONSE	0x0101

/* A Binding request or response, no magic cookie, whole words that fill p. */
static bool
classic_hdr_valid(const uint8_t *p, size_t len)
{
	uint16_t	 type, mlen;

	if (len < STUN_HDRLEN || len > STUN_MAXMSG)
		return (false);
	type = get16(p);
	mlen = get16(p + 2);
	return ((type == STUN_CLASSIC_REQUEST ||
	    type == STUN_CLASSIC_RESPONSE) && mlen % 4 == 0 &&
	    mlen == len - STUN_HDRLEN && !has_magic(p + 4));
}

bool
stun_is_classic(const void *p, size_t len)
{
	return (classic_hdr_valid(p, len));
}

/* A plain IPv4 address; the first of each type counts. */
static int
classic_addr(const uint8_t *v, size_t n, struct stun_addr *out)
{
	struct stun_addr	 a;

	if (out->present)
		return (0);
	if (get_addr(v, n, NULL, &a) == -1 || a.addr.af != AF_INET)
		return (-1);
	*out = a;
	return (0);
}

/* RESPONSE-ADDRESS (it would make us a reflector) and credentials fail. */
static int
classic_attr(struct stun_classic *m, uint16_t type, const uint8_t *v,
    size_t n)
{
	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS:
		return (classic_addr(v, n, &m->mapped));
	case STUN_ATTR_SOURCE_ADDRESS:
		return (classic_addr(v, n, &m->source));
	case STUN_ATTR_CHANGED_ADDRESS:
		return (classic_addr(v, n, &m->changed));
	case STUN_ATTR_CHANGE_REQUEST:
		if (m->has_change)
			return (0);
		if (get_change(v, n, &m->change) == -1)
			return (-1);
		m->has_change = true;
		return (0);
	}
	return (type < 0x8000 ? -1 : 0);
}

/* The same TLV walk as RFC 8489's, without its integrity stages. */
static int
classic_attrs(struct stun_classic *m, struct bufr *r)
{
	const uint8_t	*v;
	uint16_t	 type, n;

	while (bufr_left(r) > 0) {
		if (bufr_get_u16(r, &type) == -1 ||
		    bufr_get_u16(r, &n) == -1 ||
		    (v = bufr_ptr(r, n)) == NULL ||
		    bufr_skip(r, pad4(n)) == -1 ||
		    classic_attr(m, type, v, n) == -1)
			return (-1);
	}
	return (0);
}

int
stun_classic_decode(const void *p, size_t len, struct stun_classic *out)
{
	struct stun_classic	 m;
	struct bufr		 r;
	uint16_t		 type;

	if (!classic_hdr_valid(p, len))
		return (wire_fail(EBADMSG));
	memset(&m, 0, sizeof(m));
	bufr_init(&r, p, len);
	/* Type and length were checked with the header. */
	if (bufr_get_u16(&r, &type) == -1 || bufr_skip(&r, 2) == -1 ||
	    bufr_get(&r, m.txid, STUN_CLASSIC_TXIDLEN) == -1 ||
	    classic_attrs(&m, &r) == -1)
		return (wire_fail(EBADMSG));
	m.cls = stun_type_class(type);
	*out = m;
	return (0);
}

static bool
classic_addr_valid(const struct stun_addr *a)
{
	return (!a->present || a->addr.af == AF_INET);
}

/* What the decoder can produce, and nothing else. */
static bool
classic_valid(const struct stun_classic *m)
{
	return ((m->cls == STUN_REQUEST || m->cls == STUN_SUCCESS) &&
	    !has_magic(m->txid) && classic_addr_valid(&m->mapped) &&
	    classic_addr_valid(&m->source) &&
	    classic_addr_valid(&m->changed) &&
	    (!m->has_change ||
	    (m->change & ~(uint32_t)STUN_CHANGE_MASK) == 0));
}

int
stun_classic_encode(struct buf *b, const struct stun_classic *m)
{
	size_t	 mark = b->len;

	if (!classic_valid(m))
		return (wire_fail(EINVAL));
	if (buf_put_u16(b, stun_type(STUN_METHOD_BINDING, m->cls)) == -1 ||
	    buf_put_u16(b, 0) == -1 ||
	    buf_put(b, m->txid, STUN_CLASSIC_TXIDLEN) == -1 ||
	    put_addr(b, STUN_ATTR_MAPPED_ADDRESS, &m->mapped, NULL) == -1 ||
	    put_addr(b, STUN_ATTR_SOURCE_ADDRESS, &m->source, NULL) == -1 ||
	    put_addr(b, STUN_ATTR_CHANGED_ADDRESS, &m->changed, NULL) == -1 ||
	    (m->has_change && (put_attr_hdr(b, STUN_ATTR_CHANGE_REQUEST,
	    4) == -1 || buf_put_u32(b, m->change) == -1)))
		return (wire_undo(b, mark));
	set_len(b, mark, b->len - mark - STUN_HDRLEN);
	return (0);
}
