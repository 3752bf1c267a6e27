/*
 * Bounded buffers.  A struct buf is a writer over caller storage (fixed)
 * or a heap area that grows up to a hard maximum (dynamic).  A struct bufr
 * is a cursor that reads big-endian integers and byte runs from a borrowed
 * area; reads past the end fail with EBADMSG and leave the cursor alone.
 */
#ifndef LR_LIB_BUF_H
#define LR_LIB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t		*data;
	size_t		 len;		/* bytes written */
	size_t		 cap;		/* bytes allocated */
	size_t		 max;		/* hard bound on cap */
	int		 dynamic;	/* data is ours to grow and free */
};

struct bufr {
	const uint8_t	*data;
	size_t		 len;
	size_t		 off;
};

/* Heap buffer starting at initial bytes, never larger than max. */
int	 buf_init(struct buf *, size_t initial, size_t max);
/* Writer over mem[cap]; never allocates. */
void	 buf_init_fixed(struct buf *, void *mem, size_t cap);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
/* Drop the first n bytes (consumed), moving the rest to the front. */
void	 buf_consume(struct buf *, size_t n);
/* Make room for n more bytes; -1/ENOBUFS past max. */
int	 buf_reserve(struct buf *, size_t n);

/* All return 0, or -1 with errno ENOBUFS (nothing written) when full. */
int	 buf_put(struct buf *, const void *, size_t);
int	 buf_put_u8(struct buf *, uint8_t);
int	 buf_put_u16(struct buf *, uint16_t);
int	 buf_put_u32(struct buf *, uint32_t);
int	 buf_put_u64(struct buf *, uint64_t);
int	 buf_put_zero(struct buf *, size_t);

void	 bufr_init(struct bufr *, const void *, size_t);
size_t	 bufr_left(const struct bufr *);
/* All return 0, or -1 with errno EBADMSG (cursor unchanged) when short. */
int	 bufr_get(struct bufr *, void *, size_t);
int	 bufr_get_u8(struct bufr *, uint8_t *);
int	 bufr_get_u16(struct bufr *, uint16_t *);
int	 bufr_get_u32(struct bufr *, uint32_t *);
int	 bufr_get_u64(struct bufr *, uint64_t *);
int	 bufr_skip(struct bufr *, size_t);
/* Borrow n bytes in place; NULL/EBADMSG when short. */
const uint8_t *bufr_ptr(struct bufr *, size_t n);
/* 0 when every byte was read, else -1/EBADMSG (trailing bytes). */
int	 bufr_end(const struct bufr *);

#endif
