/*
 * RFC 6479 sliding window.  The bitmap is a ring of 64-bit blocks indexed
 * by counter; moving the top forward zeroes only the blocks it enters, so
 * the cost is bounded by the ring size however far the counter jumps.
 * Counters are stored plus one so that top == 0 can mean "none yet".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/wg/replay.h"

#define REPLAY_BLOCKS	(WG_REPLAY_BITS / 64)

/* One block of slack: the oldest and newest counters never share a slot. */
_Static_assert((WG_REPLAY_BITS & (WG_REPLAY_BITS - 1)) == 0,
    "WG_REPLAY_BITS must be a power of two");
_Static_assert(WG_REPLAY_WINDOW <= WG_REPLAY_BITS - 64,
    "window must leave a block of slack");

static inline size_t
replay_slot(uint64_t n)
{
	return (n / 64) & (REPLAY_BLOCKS - 1);
}

static inline uint64_t
replay_bit(uint64_t n)
{
	return 1ULL << (n & 63);
}

/* Below the window: its slot may already hold a newer block. */
static inline bool
replay_too_old(const struct wg_replay *r, uint64_t n)
{
	return n < r->top && r->top - n >= WG_REPLAY_WINDOW;
}

/* Move the top to n, zeroing the blocks past the old top's block. */
static void
replay_advance(struct wg_replay *r, uint64_t n)
{
	uint64_t	 first, steps, i;

	first = r->top / 64;
	steps = n / 64 - first;
	if (steps > REPLAY_BLOCKS)
		steps = REPLAY_BLOCKS;
	for (i = 1; i <= steps; i++)
		r->bitmap[(first + i) & (REPLAY_BLOCKS - 1)] = 0;
	r->top = n;
}

void
wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool
wg_replay_check(struct wg_replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t	*blk, n;

	if (counter >= limit)
		return false;
	n = counter + 1;	/* counter < limit: no overflow */
	if (replay_too_old(r, n))
		return false;
	if (n > r->top)
		replay_advance(r, n);
	blk = &r->bitmap[replay_slot(n)];
	if (*blk & replay_bit(n))
		return false;
	*blk |= replay_bit(n);
	return true;
}

bool
wg_replay_peek(const struct wg_replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t	 n;

	if (counter >= limit)
		return false;
	n = counter + 1;
	if (replay_too_old(r, n))
		return false;
	/* Bits above the top are zero or about to be zeroed. */
	if (n > r->top)
		return true;
	return (r->bitmap[replay_slot(n)] & replay_bit(n)) == 0;
}
