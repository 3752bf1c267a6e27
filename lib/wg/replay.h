/*
 * Anti-replay window for transport data counters (RFC 6479 bitmap, sized
 * as in the WireGuard paper, section 5.4.6).  A counter is accepted once,
 * and only while it is among the last WG_REPLAY_WINDOW counters up to the
 * greatest one accepted so far.
 *
 * The counter is not authenticated until the packet decrypts, so the data
 * path calls wg_replay_check() only after authentication succeeds; a
 * forged counter must never move the window.  wg_replay_peek() is an
 * optional, side-effect-free pre-filter that drops obvious replays before
 * spending a decryption on them; its answer is advisory and the check
 * after authentication is still required.
 *
 * Not thread safe: the caller serializes all calls on one window (one per
 * receiving keypair), e.g. under the keypair's lock.
 */
#ifndef LR_WG_REPLAY_H
#define LR_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS		8192	/* bitmap size; a power of two */
#define WG_REPLAY_WINDOW	(WG_REPLAY_BITS - 64)	/* one block slack */
/* REJECT_AFTER_MESSAGES of the paper; pass as limit. */
#define WG_REPLAY_LIMIT		(UINT64_MAX - WG_REPLAY_BITS)

struct wg_replay {
	uint64_t	 top;	/* greatest accepted counter + 1; 0: none */
	uint64_t	 bitmap[WG_REPLAY_BITS / 64];
};

/* Empty window: every counter below the limit is acceptable. */
void	 wg_replay_init(struct wg_replay *);
/*
 * True, and the counter recorded, when it is below limit, not older than
 * the window and not seen before; false otherwise (nothing changes).
 */
bool	 wg_replay_check(struct wg_replay *, uint64_t counter, uint64_t limit);
/* Whether wg_replay_check() would accept now; changes nothing. */
bool	 wg_replay_peek(const struct wg_replay *, uint64_t counter,
	    uint64_t limit);

#endif
