/* Unit tests for lib/wg/replay.c. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/replay.h"

#define W	WG_REPLAY_WINDOW

static struct wg_replay	 rw;

static bool
chk(uint64_t counter)
{
	return wg_replay_check(&rw, counter, WG_REPLAY_LIMIT);
}

static void
setup(void)
{
	wg_replay_init(&rw);
}

START_TEST(in_order)
{
	uint64_t	 i;

	for (i = 0; i < 5 * WG_REPLAY_BITS; i++) {
		ck_assert(chk(i));
		ck_assert(!chk(i));
		if (i > 0)
			ck_assert(!chk(i - 1));
	}
}
END_TEST

START_TEST(counter_zero)
{
	ck_assert(chk(0));
	ck_assert(!chk(0));
	setup();
	ck_assert(chk(5));
	ck_assert(chk(0));
	ck_assert(!chk(0));
	ck_assert(!chk(5));
	ck_assert(chk(W - 1));
	ck_assert(!chk(0));
	ck_assert(chk(1));	/* max - (W - 2): still inside */
	ck_assert(chk(W));	/* now 0 and 1 are out */
	ck_assert(!chk(1));
	ck_assert(chk(2));
}
END_TEST

START_TEST(reorder_within_window)
{
	uint64_t	 top = 100000, i;

	ck_assert(chk(top));
	for (i = 1; i < W; i++)
		ck_assert(chk(top - i));
	ck_assert(!chk(top - W));
	for (i = 0; i < W; i++)
		ck_assert(!chk(top - i));
}
END_TEST

START_TEST(window_edge)
{
	uint64_t	 top;

	for (top = 3 * WG_REPLAY_BITS; top < 3 * WG_REPLAY_BITS + 130; top++) {
		setup();
		ck_assert(chk(top));
		ck_assert(!chk(top - W));
		ck_assert(!chk(top - W - 1));
		ck_assert(chk(top - W + 1));
		ck_assert(!chk(top - W + 1));
		/* One step forward pushes the edge out. */
		ck_assert(chk(top + 1));
		ck_assert(!chk(top - W + 1));
		ck_assert(chk(top - W + 2));
	}
}
END_TEST

/* Jumps that land on the same ring slots must not see stale bits. */
START_TEST(jump_clears_old_bits)
{
	static const uint64_t	 jumps[] = { 1, 63, 64, 65, W - 1, W, W + 1,
	    WG_REPLAY_BITS - 1, WG_REPLAY_BITS, WG_REPLAY_BITS + 1,
	    10 * WG_REPLAY_BITS, 1ULL << 40 };
	uint64_t		 i, j, base, top;

	for (j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		setup();
		base = 2 * WG_REPLAY_BITS;
		for (i = base - W + 1; i <= base; i++)
			ck_assert(chk(i));
		top = base + jumps[j];
		ck_assert(chk(top));
		for (i = 1; i < W && i < jumps[j]; i++)
			ck_assert(chk(top - i));
		/* What was seen and is still in the window stays seen. */
		for (; i < W; i++)
			ck_assert(!chk(top - i));
		ck_assert(!chk(top - W));
	}
}
END_TEST

START_TEST(reject_at_limit)
{
	ck_assert(!chk(WG_REPLAY_LIMIT));
	ck_assert(!chk(UINT64_MAX));
	ck_assert(chk(WG_REPLAY_LIMIT - 1));
	ck_assert(!chk(WG_REPLAY_LIMIT - 1));
	ck_assert(chk(WG_REPLAY_LIMIT - 2));
	ck_assert(!chk(0));

	setup();
	ck_assert(!wg_replay_check(&rw, 10, 10));
	ck_assert(wg_replay_check(&rw, 9, 10));
	ck_assert(!wg_replay_check(&rw, 0, 0));

	/* The greatest counter representable under the widest limit. */
	setup();
	ck_assert(wg_replay_check(&rw, UINT64_MAX - 1, UINT64_MAX));
	ck_assert(!wg_replay_check(&rw, UINT64_MAX - 1, UINT64_MAX));
	ck_assert(!wg_replay_check(&rw, UINT64_MAX, UINT64_MAX));
	ck_assert(wg_replay_check(&rw, UINT64_MAX - W, UINT64_MAX));
	ck_assert(!wg_replay_check(&rw, UINT64_MAX - 1 - W, UINT64_MAX));
}
END_TEST

START_TEST(peek_has_no_side_effects)
{
	struct wg_replay	 before;
	uint64_t		 c;

	ck_assert(chk(1000));
	ck_assert(chk(990));
	memcpy(&before, &rw, sizeof(before));
	ck_assert(!wg_replay_peek(&rw, 1000, WG_REPLAY_LIMIT));
	ck_assert(!wg_replay_peek(&rw, 990, WG_REPLAY_LIMIT));
	ck_assert(wg_replay_peek(&rw, 991, WG_REPLAY_LIMIT));
	ck_assert(wg_replay_peek(&rw, 1ULL << 50, WG_REPLAY_LIMIT));
	ck_assert(!wg_replay_peek(&rw, WG_REPLAY_LIMIT, WG_REPLAY_LIMIT));
	for (c = 0; c < 3 * WG_REPLAY_BITS; c += 7)
		(void)wg_replay_peek(&rw, c, WG_REPLAY_LIMIT);
	ck_assert_mem_eq(&before, &rw, sizeof(rw));
	ck_assert(chk(991));
}
END_TEST

/* splitmix64: reproducible across libcs. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t	 z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Naive model: the set of seen counters (a bitmap over a span) + max. */
struct model {
	uint8_t		*seen;
	uint64_t	 base, span, max;
	bool		 any;
};

static bool
model_check(struct model *m, uint64_t x, uint64_t limit, bool record)
{
	uint64_t	 c = m->base + x;

	if (c >= limit)
		return false;
	if (m->any && c + W <= m->max)
		return false;
	if (m->seen[x / 8] & (1 << (x % 8)))
		return false;
	if (record) {
		m->seen[x / 8] |= 1 << (x % 8);
		if (!m->any || c > m->max)
			m->max = c;
		m->any = true;
	}
	return true;
}

/* Mostly near the top, some duplicates, edges, stale and far jumps. */
static uint64_t
next_offset(uint64_t *s, const struct model *m, uint64_t last)
{
	uint64_t	 top = m->any ? m->max - m->base : 0, r = rnd(s) % 1000;
	uint64_t	 x;

	if (r < 600)
		x = top + rnd(s) % 64 - 32;
	else if (r < 750)
		x = last;
	else if (r < 850)
		x = top - W + rnd(s) % 5 - 2;
	else if (r < 950)
		x = top - rnd(s) % (2 * W);
	else if (r < 999)
		x = top + rnd(s) % 300;
	else
		x = top + rnd(s) % (3 * WG_REPLAY_BITS);
	/* Offsets below the base wrapped around: fold them back. */
	if (x > m->span - 1)
		x = rnd(s) % (top + 1);
	return x;
}

static void
run_model(uint64_t base, uint64_t limit, uint64_t seed,
    uint64_t min_accepted)
{
	struct model	 m;
	uint64_t	 s = seed, x = 0, i, accepted = 0;
	bool		 want;

	memset(&m, 0, sizeof(m));
	m.base = base;
	m.span = 128ULL << 20;
	m.seen = calloc(m.span / 8, 1);
	ck_assert_ptr_nonnull(m.seen);
	wg_replay_init(&rw);
	for (i = 0; i < 1000000; i++) {
		x = next_offset(&s, &m, x);
		want = model_check(&m, x, limit, false);
		/* Plain tests: a passing ck_assert costs a pipe write. */
		if (wg_replay_peek(&rw, base + x, limit) != want ||
		    wg_replay_check(&rw, base + x, limit) != want)
			ck_abort_msg("op %ju: base + %ju: want %d",
			    (uintmax_t)i, (uintmax_t)x, want);
		model_check(&m, x, limit, true);
		accepted += want;
	}
	/* The mix must exercise both answers, and the top must move. */
	ck_assert_uint_gt(accepted, min_accepted);
	ck_assert_uint_lt(accepted, 900000);
	ck_assert_uint_gt(m.max - m.base, 10 * WG_REPLAY_BITS);
	free(m.seen);
}

START_TEST(random_vs_model)
{
	run_model(0, WG_REPLAY_LIMIT, 1, 100000);
}
END_TEST

START_TEST(random_vs_model_at_limit)
{
	/* The walk reaches the limit and must stop accepting there. */
	run_model(WG_REPLAY_LIMIT - 200000, WG_REPLAY_LIMIT, 2, 10000);
}
END_TEST

static Suite *
replay_suite(void)
{
	Suite	*s = suite_create("replay");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, in_order);
	tcase_add_test(tc, counter_zero);
	tcase_add_test(tc, reorder_within_window);
	tcase_add_test(tc, window_edge);
	tcase_add_test(tc, jump_clears_old_bits);
	tcase_add_test(tc, reject_at_limit);
	tcase_add_test(tc, peek_has_no_side_effects);
	tcase_add_test(tc, random_vs_model);
	tcase_add_test(tc, random_vs_model_at_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(replay_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
