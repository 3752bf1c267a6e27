/*
 * Bounded buffers and big-endian cursors.  Writers fail before touching
 * anything, so a message is either encoded whole or not at all; readers
 * never move past their end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

/* First allocation of a buffer created empty. */
#define BUF_MINCAP	64

int
buf_init(struct buf *b, size_t initial, size_t max)
{
	memset(b, 0, sizeof(*b));
	if (initial > max) {
		errno = EINVAL;
		return -1;
	}
	if (initial > 0 && (b->data = malloc(initial)) == NULL)
		return -1;
	b->cap = initial;
	b->max = max;
	b->dynamic = 1;
	return 0;
}

void
buf_init_fixed(struct buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->len = 0;
	b->cap = cap;
	b->max = cap;
	b->dynamic = 0;
}

void
buf_free(struct buf *b)
{
	if (b->dynamic)
		free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

int
buf_reserve(struct buf *b, size_t n)
{
	uint8_t	*p;
	size_t	 cap;

	if (n <= b->cap - b->len)
		return 0;
	if (!b->dynamic || n > b->max - b->len) {
		errno = ENOBUFS;
		return -1;
	}
	/* Double to keep appends amortised O(1), but never beyond max. */
	cap = b->cap < BUF_MINCAP ? BUF_MINCAP : b->cap;
	while (cap < b->len + n && cap <= b->max / 2)
		cap *= 2;
	if (cap < b->len + n || cap > b->max)
		cap = b->max;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_put(struct buf *b, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, src, n);
	b->len += n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	 p[2];

	p[0] = v >> 8;
	p[1] = v;
	return buf_put(b, p, sizeof(p));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	 p[4];

	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return buf_put(b, p, sizeof(p));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t	 p[8];
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = v;
		v >>= 8;
	}
	return buf_put(b, p, sizeof(p));
}

int
buf_put_zero(struct buf *b, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memset(b->data + b->len, 0, n);
	b->len += n;
	return 0;
}

void
bufr_init(struct bufr *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->off = 0;
}

size_t
bufr_left(const struct bufr *r)
{
	return r->len - r->off;
}

const uint8_t *
bufr_ptr(struct bufr *r, size_t n)
{
	const uint8_t	*p;

	if (n > bufr_left(r)) {
		errno = EBADMSG;
		return NULL;
	}
	p = r->data + r->off;
	r->off += n;
	return p;
}

int
bufr_get(struct bufr *r, void *dst, size_t n)
{
	const uint8_t	*p;

	if ((p = bufr_ptr(r, n)) == NULL)
		return -1;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int
bufr_get_u8(struct bufr *r, uint8_t *v)
{
	const uint8_t	*p;

	if ((p = bufr_ptr(r, 1)) == NULL)
		return -1;
	*v = p[0];
	return 0;
}

int
bufr_get_u16(struct bufr *r, uint16_t *v)
{
	const uint8_t	*p;

	if ((p = bufr_ptr(r, 2)) == NULL)
		return -1;
	*v = (uint16_t)p[0] << 8 | p[1];
	return 0;
}

int
bufr_get_u32(struct bufr *r, uint32_t *v)
{
	const uint8_t	*p;

	if ((p = bufr_ptr(r, 4)) == NULL)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
bufr_get_u64(struct bufr *r, uint64_t *v)
{
	const uint8_t	*p;
	uint64_t	 x = 0;
	int		 i;

	if ((p = bufr_ptr(r, 8)) == NULL)
		return -1;
	for (i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = x;
	return 0;
}

int
bufr_skip(struct bufr *r, size_t n)
{
	return bufr_ptr(r, n) == NULL ? -1 : 0;
}

int
bufr_end(const struct bufr *r)
{
	if (bufr_left(r) != 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}
