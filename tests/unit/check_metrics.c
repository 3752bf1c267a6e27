/* Unit tests for lanraged/metrics.c: the quality score of proto/api.md. */
#include <check.h>
#include <stdlib.h>

#include "lanraged/node.h"

START_TEST(quality_examples)
{
	/* the examples proto/api.md gives */
	ck_assert_uint_eq(metrics_quality(0.3, 0.1, 0, false, true), 100);
	ck_assert_uint_eq(metrics_quality(60, 2, 0, false, true), 76);
	ck_assert_uint_eq(metrics_quality(20, 0, 5, true, true), 80);
}
END_TEST

START_TEST(quality_bounds)
{
	ck_assert_uint_eq(metrics_quality(1, 0, 0, false, false), 0);
	ck_assert_uint_eq(metrics_quality(1, 0, 100, false, true), 0);
	/* terrible but passing: never 0, which means no path */
	ck_assert_uint_eq(metrics_quality(900, 80, 60, true, true), 1);
	ck_assert_uint_eq(metrics_quality(20, 0, 0, false, true), 100);
}
END_TEST

START_TEST(quality_monotonic)
{
	unsigned	 prev = 101, q;
	double		 rtt;

	for (rtt = 0; rtt < 400; rtt += 7) {
		q = metrics_quality(rtt, 1, 1, false, true);
		ck_assert_uint_le(q, prev);
		prev = q;
	}
	ck_assert_uint_lt(metrics_quality(30, 1, 0, true, true),
	    metrics_quality(30, 1, 0, false, true));
	ck_assert_uint_lt(metrics_quality(30, 5, 0, false, true),
	    metrics_quality(30, 1, 0, false, true));
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("quality");

	tcase_add_test(tc, quality_examples);
	tcase_add_test(tc, quality_bounds);
	tcase_add_test(tc, quality_monotonic);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
