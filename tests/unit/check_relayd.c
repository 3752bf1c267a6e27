/*
 * lanrage-relayd's bindings table: binding and refreshing, routing by
 * tag within a party only, the replay rule, an address bound to another
 * node, tag conflicts, the per-party and total bounds, expiry, the
 * per-node packet rate.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "lanrage-relayd/relayd.h"

static struct sockaddr_in	 sa[300];

static void
mk_addr(size_t i)
{
	memset(&sa[i], 0, sizeof(sa[i]));
	sa[i].sin_family = AF_INET;
	sa[i].sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
	sa[i].sin_port = htons((uint16_t)(40000 + i));
}

/* A request for node (its key from n), party p, from address i. */
static void
req(struct rtab_bind_req *r, uint8_t n, uint8_t p, size_t i, uint64_t ms)
{
	memset(r, 0, sizeof(*r));
	memset(r->node, n, sizeof(r->node));
	memset(r->party, p, sizeof(r->party));
	r->time_ms = ms;
	mk_addr(i);
	r->sa = (struct sockaddr *)&sa[i];
	r->salen = sizeof(sa[i]);
}

static int
bind_as(struct rtab *t, uint8_t n, uint8_t p, size_t i, uint64_t ms,
    enum relayd_drop *why)
{
	struct rtab_bind_req	 r;
	uint32_t		 nb;

	req(&r, n, p, i, ms);
	return rtab_bind(t, &r, 100, &nb, why);
}

static int
route(struct rtab *t, size_t from, uint8_t to, struct rtab_fwd *f,
    enum relayd_drop *why)
{
	uint8_t	 tag[RELAY_TAGLEN];

	memset(tag, to, sizeof(tag));
	return rtab_route(t, (struct sockaddr *)&sa[from], sizeof(sa[from]),
	    tag, 100, f, why);
}

START_TEST(test_bind_and_route)
{
	struct rtab		*t = rtab_new(64, 1000);
	struct rtab_fwd		 f;
	enum relayd_drop	 why;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 1, 1000, &why), 0);
	ck_assert_int_eq(bind_as(t, 0x22, 0xa1, 2, 1000, &why), 0);
	ck_assert_int_eq(bind_as(t, 0x33, 0xb2, 3, 1000, &why), 0);
	ck_assert_uint_eq(rtab_nbindings(t), 3);
	ck_assert_uint_eq(rtab_nparties(t), 2);
	/* 1 -> 2: to 2's address, with 1's tag */
	ck_assert_int_eq(route(t, 1, 0x22, &f, &why), 0);
	ck_assert_mem_eq(&f.dst, &sa[2], sizeof(sa[2]));
	ck_assert_uint_eq(f.src_tag[0], 0x11);
	/* 1 -> 3: another party */
	ck_assert_int_eq(route(t, 1, 0x33, &f, &why), -1);
	ck_assert_int_eq(why, RD_NO_DEST);
	/* from an unbound address */
	mk_addr(9);
	ck_assert_int_eq(route(t, 9, 0x22, &f, &why), -1);
	ck_assert_int_eq(why, RD_UNBOUND);
	/* to itself: no */
	ck_assert_int_eq(route(t, 1, 0x11, &f, &why), -1);
	ck_assert(rtab_bound(t, (struct sockaddr *)&sa[1], sizeof(sa[1])));
	rtab_free(t);
}
END_TEST

START_TEST(test_move_and_replay)
{
	struct rtab		*t = rtab_new(64, 1000);
	struct rtab_fwd		 f;
	enum relayd_drop	 why;

	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 1, 1000, &why), 0);
	ck_assert_int_eq(bind_as(t, 0x22, 0xa1, 2, 1000, &why), 0);
	/* an old BIND cannot move the binding to another address */
	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 5, 1000, &why), -1);
	ck_assert_int_eq(why, RD_REPLAY);
	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 5, 999, &why), -1);
	/* the same from where it is: a refresh */
	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 1, 1000, &why), 0);
	/* a newer one moves it: the node roamed */
	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 5, 2000, &why), 0);
	ck_assert_int_eq(route(t, 2, 0x11, &f, &why), 0);
	ck_assert_mem_eq(&f.dst, &sa[5], sizeof(sa[5]));
	ck_assert(!rtab_bound(t, (struct sockaddr *)&sa[1], sizeof(sa[1])));
	ck_assert_uint_eq(rtab_nbindings(t), 2);
	/* another node cannot take an address that is bound */
	ck_assert_int_eq(bind_as(t, 0x33, 0xa1, 5, 5000, &why), -1);
	ck_assert_int_eq(why, RD_ADDR_BUSY);
	/* the same node moving to another party leaves the first */
	ck_assert_int_eq(bind_as(t, 0x11, 0xc3, 5, 3000, &why), 0);
	ck_assert_uint_eq(rtab_nbindings(t), 2);
	ck_assert_int_eq(route(t, 2, 0x11, &f, &why), -1);
	rtab_free(t);
}
END_TEST

START_TEST(test_tag_conflict)
{
	struct rtab		*t = rtab_new(64, 1000);
	struct rtab_bind_req	 r;
	enum relayd_drop	 why;
	uint32_t		 nb;

	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 1, 1000, &why), 0);
	/* same first 8 bytes, another key: refused in that party */
	req(&r, 0x11, 0xa1, 2, 1000);
	r.node[31] = 0x99;
	ck_assert_int_eq(rtab_bind(t, &r, 100, &nb, &why), -1);
	ck_assert_int_eq(why, RD_TAG_CONFLICT);
	/* in another party it is no one's business */
	memset(r.party, 0xb2, sizeof(r.party));
	ck_assert_int_eq(rtab_bind(t, &r, 100, &nb, &why), 0);
	rtab_free(t);
}
END_TEST

START_TEST(test_bounds)
{
	struct rtab		*t = rtab_new(200, 1000);
	enum relayd_drop	 why;
	size_t			 i;

	for (i = 0; i < RELAYD_PARTY_MAX; i++)
		ck_assert_int_eq(bind_as(t, (uint8_t)(i + 1), 0xa1, i, 1000,
		    &why), 0);
	ck_assert_int_eq(bind_as(t, 0xf0, 0xa1, 150, 1000, &why), -1);
	ck_assert_int_eq(why, RD_FULL);
	for (i = RELAYD_PARTY_MAX; i < 200; i++)
		ck_assert_int_eq(bind_as(t, (uint8_t)i, 0xb2, i, 1000, &why),
		    0);
	ck_assert_uint_eq(rtab_nbindings(t), 200);
	ck_assert_int_eq(bind_as(t, 0xfe, 0xc3, 250, 1000, &why), -1);
	ck_assert_int_eq(why, RD_FULL);
	/* they all expire together: the table is empty and usable */
	ck_assert_uint_eq(rtab_expire(t, 100 + RELAY_BIND_LIFETIME_S - 1), 0);
	ck_assert_uint_eq(rtab_expire(t, 100 + RELAY_BIND_LIFETIME_S), 200);
	ck_assert_uint_eq(rtab_nbindings(t), 0);
	ck_assert_uint_eq(rtab_nparties(t), 0);
	ck_assert_int_eq(bind_as(t, 0xfe, 0xc3, 250, 1000, &why), 0);
	rtab_free(t);
}
END_TEST

START_TEST(test_rate)
{
	struct rtab		*t = rtab_new(8, 10);
	struct rtab_fwd		 f;
	enum relayd_drop	 why;
	int			 i, ok = 0;

	ck_assert_int_eq(bind_as(t, 0x11, 0xa1, 1, 1000, &why), 0);
	ck_assert_int_eq(bind_as(t, 0x22, 0xa1, 2, 1000, &why), 0);
	for (i = 0; i < 25; i++)
		ok += route(t, 1, 0x22, &f, &why) == 0;
	ck_assert_int_eq(ok, 10);
	ck_assert_int_eq(why, RD_RATE);
	rtab_free(t);
}
END_TEST

static Suite *
relayd_suite(void)
{
	Suite	*s = suite_create("relayd");
	TCase	*tc = tcase_create("rtab");

	tcase_add_test(tc, test_bind_and_route);
	tcase_add_test(tc, test_move_and_replay);
	tcase_add_test(tc, test_tag_conflict);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_rate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(relayd_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
