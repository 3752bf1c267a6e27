/*
 * LAN emulation logic (lib/lan.c): the IPv4/UDP parser, what is carried
 * and what is a loop, duplicates, token buckets.
 */
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lan.h"
#include "tests/lib/vectors.h"

#define A(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An IPv4/UDP packet with ihl*4 bytes of header; returns its length. */
static size_t
make_udp(uint8_t *p, unsigned ihl, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, const char *payload)
{
	size_t	 plen = strlen(payload), hl = ihl * 4;

	memset(p, 0, hl + 8);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 2, (uint16_t)(hl + 8 + plen));
	put16(p + 4, 0x1234);
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + hl, sport);
	put16(p + hl + 2, dport);
	put16(p + hl + 4, (uint16_t)(8 + plen));
	memcpy(p + hl + 8, payload, plen);
	return hl + 8 + plen;
}

static void
policy(struct lan_policy *pol)
{
	const char	*why;

	memset(pol, 0, sizeof(*pol));
	ck_assert_int_eq(conf_parse_ports("4445, 27015-27016, 5353",
	    &pol->ports, &why), 0);
	ck_assert_int_eq(lan_parse_groups("224.0.0.251", pol->groups,
	    &pol->ngroups, &why), 0);
	pol->self = A(10, 66, 0, 1);
	pol->mask = 0xffff0000U;
	pol->net = A(10, 66, 0, 0);
}

START_TEST(test_parse)
{
	struct lan_dgram d;
	uint8_t		 p[128];
	size_t		 len, i;

	len = make_udp(p, 5, A(10, 66, 0, 1), 0xffffffffU, 40000, 4445,
	    "lobby");
	ck_assert_int_eq(lan_parse(p, len, &d), 0);
	ck_assert_uint_eq(d.src, A(10, 66, 0, 1));
	ck_assert_uint_eq(d.dst, 0xffffffffU);
	ck_assert_uint_eq(d.sport, 40000);
	ck_assert_uint_eq(d.dport, 4445);
	ck_assert_uint_eq(d.ipid, 0x1234);
	ck_assert_uint_eq(d.plen, 5);
	ck_assert_mem_eq(d.payload, "lobby", 5);
	/* padding after the IP length is not the datagram's */
	ck_assert_int_eq(lan_parse(p, len + 3, &d), 0);
	ck_assert_uint_eq(d.plen, 5);
	/* every truncation is refused */
	for (i = 0; i < len; i++) {
		errno = 0;
		ck_assert_int_eq(lan_parse(p, i, &d), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	/* options: the UDP header moves */
	len = make_udp(p, 7, A(10, 66, 0, 1), A(10, 66, 255, 255), 1, 7777,
	    "x");
	ck_assert_int_eq(lan_parse(p, len, &d), 0);
	ck_assert_uint_eq(d.dport, 7777);
	ck_assert_uint_eq(d.plen, 1);
}
END_TEST

START_TEST(test_parse_refused)
{
	struct lan_dgram d;
	uint8_t		 p[128], q[128];
	size_t		 len;

	len = make_udp(p, 5, A(10, 66, 0, 1), 0xffffffffU, 1, 4445, "abc");
	memcpy(q, p, len);
	q[9] = 6;				/* TCP */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	q[0] = 0x65;				/* IPv6 */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	q[0] = 0x44;				/* header too short */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	q[0] = 0x4f;				/* header past the packet */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	put16(q + 6, 0x2000);			/* more fragments */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	put16(q + 6, 0x0010);			/* a later fragment */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	put16(q + 6, 0x4000);			/* DF alone is fine */
	ck_assert_int_eq(lan_parse(q, len, &d), 0);
	memcpy(q, p, len);
	put16(q + 24, 12);			/* UDP length lies */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
	memcpy(q, p, len);
	put16(q + 2, (uint16_t)(len + 1));	/* IP length lies */
	ck_assert_int_eq(lan_parse(q, len, &d), -1);
}
END_TEST

START_TEST(test_dst_kind)
{
	struct lan_policy pol;

	policy(&pol);
	ck_assert_int_eq(lan_dst_kind(&pol, 0xffffffffU), LAN_DST_LIMITED);
	ck_assert_int_eq(lan_dst_kind(&pol, A(10, 66, 255, 255)),
	    LAN_DST_SUBNET);
	ck_assert_int_eq(lan_dst_kind(&pol, A(224, 0, 0, 251)),
	    LAN_DST_GROUP);
	ck_assert_int_eq(lan_dst_kind(&pol, A(239, 255, 255, 250)),
	    LAN_DST_MCAST_OTHER);
	ck_assert_int_eq(lan_dst_kind(&pol, A(10, 66, 0, 2)), LAN_DST_OTHER);
	/* another network's broadcast is not ours to carry */
	ck_assert_int_eq(lan_dst_kind(&pol, A(192, 168, 1, 255)),
	    LAN_DST_OTHER);
	/* without a party address there is no subnet */
	pol.self = 0;
	ck_assert_int_eq(lan_dst_kind(&pol, A(10, 66, 255, 255)),
	    LAN_DST_OTHER);
	/* a /32 has no directed broadcast */
	pol.self = A(10, 66, 0, 1);
	pol.mask = 0xffffffffU;
	pol.net = pol.self;
	ck_assert_int_eq(lan_dst_kind(&pol, A(10, 66, 0, 1)), LAN_DST_OTHER);
}
END_TEST

static enum lan_verdict
out_of(const struct lan_policy *pol, uint32_t src, uint32_t dst,
    uint16_t port)
{
	struct lan_dgram d;
	uint8_t		 p[64];

	ck_assert_int_eq(lan_parse(p, make_udp(p, 5, src, dst, 5000, port,
	    "q"), &d), 0);
	return lan_check_out(pol, &d);
}

START_TEST(test_check_out)
{
	struct lan_policy pol;
	uint32_t	 me = A(10, 66, 0, 1);

	policy(&pol);
	ck_assert_int_eq(out_of(&pol, me, 0xffffffffU, 4445), LAN_CARRY);
	ck_assert_int_eq(out_of(&pol, me, A(10, 66, 255, 255), 27016),
	    LAN_CARRY);
	ck_assert_int_eq(out_of(&pol, me, A(224, 0, 0, 251), 5353),
	    LAN_CARRY);
	/* ports and groups that are not carried */
	ck_assert_int_eq(out_of(&pol, me, 0xffffffffU, 4446), LAN_FILTERED);
	ck_assert_int_eq(out_of(&pol, me, 0xffffffffU, 27017),
	    LAN_FILTERED);
	ck_assert_int_eq(out_of(&pol, me, A(239, 1, 2, 3), 5353),
	    LAN_FILTERED);
	ck_assert_int_eq(out_of(&pol, me, A(10, 66, 0, 9), 4445),
	    LAN_FILTERED);
	/* what another node sent, passed back to us, is never re-carried */
	ck_assert_int_eq(out_of(&pol, A(10, 66, 0, 2), 0xffffffffU, 4445),
	    LAN_LOOP);
	/* no party: nothing */
	pol.self = 0;
	ck_assert_int_eq(out_of(&pol, me, 0xffffffffU, 4445), LAN_FILTERED);
}
END_TEST

START_TEST(test_check_in)
{
	struct lan_policy pol;
	struct lan_dgram d;
	uint8_t		 p[64];
	uint32_t	 peer = A(10, 66, 0, 2);

	policy(&pol);
	ck_assert_int_eq(lan_parse(p, make_udp(p, 5, peer, 0xffffffffU, 9,
	    4445, "q"), &d), 0);
	ck_assert_int_eq(lan_check_in(&pol, &d, peer), LAN_CARRY);
	/* from a peer that is not its source */
	ck_assert_int_eq(lan_check_in(&pol, &d, A(10, 66, 0, 3)), LAN_LOOP);
	/* our own, coming back */
	ck_assert_int_eq(lan_parse(p, make_udp(p, 5, pol.self, 0xffffffffU,
	    9, 4445, "q"), &d), 0);
	ck_assert_int_eq(lan_check_in(&pol, &d, pol.self), LAN_LOOP);
	/* a port we do not carry is not delivered either */
	ck_assert_int_eq(lan_parse(p, make_udp(p, 5, peer, 0xffffffffU, 9,
	    22, "q"), &d), 0);
	ck_assert_int_eq(lan_check_in(&pol, &d, peer), LAN_FILTERED);
}
END_TEST

START_TEST(test_groups)
{
	uint32_t	 g[LAN_MAX_GROUPS];
	size_t		 n;
	const char	*why;

	ck_assert_int_eq(lan_parse_groups("224.0.0.251, 239.255.255.250", g,
	    &n, &why), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(g[1], A(239, 255, 255, 250));
	ck_assert_int_eq(lan_parse_groups("", g, &n, &why), 0);
	ck_assert_uint_eq(n, 0);
	why = NULL;
	ck_assert_int_eq(lan_parse_groups("10.0.0.1", g, &n, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(lan_parse_groups("224.0.0.0/4", g, &n, &why), -1);
	ck_assert_int_eq(lan_parse_groups("ff02::fb", g, &n, &why), -1);
	ck_assert_int_eq(lan_parse_groups("nonsense", g, &n, &why), -1);
	ck_assert_int_eq(lan_parse_groups("224.0.0.1, 224.0.0.2, 224.0.0.3, "
	    "224.0.0.4, 224.0.0.5, 224.0.0.6, 224.0.0.7, 224.0.0.8, "
	    "224.0.0.9, 224.0.0.10, 224.0.0.11, 224.0.0.12, 224.0.0.13, "
	    "224.0.0.14, 224.0.0.15, 224.0.0.16, 224.0.0.17", g, &n, &why),
	    -1);
}
END_TEST

START_TEST(test_dedup)
{
	struct lan_dedup *t = malloc(sizeof(*t));
	struct lan_dgram d, e;
	uint8_t		 p[64], q[64];
	uint64_t	 now = 1000;
	size_t		 i, dups = 0;

	lan_dedup_init(t);
	ck_assert_int_eq(lan_parse(p, make_udp(p, 5, A(10, 66, 0, 2),
	    0xffffffffU, 9, 4445, "beacon"), &d), 0);
	ck_assert(!lan_dedup_seen(t, &d, now));
	ck_assert(lan_dedup_seen(t, &d, now + LAN_DUP_MS - 1));
	/* after the window it is new again */
	ck_assert(!lan_dedup_seen(t, &d, now + 2 * LAN_DUP_MS));
	/* another IP identification: another datagram */
	memcpy(q, p, sizeof(q));
	put16(q + 4, 0x4321);
	ck_assert_int_eq(lan_parse(q, 34, &e), 0);
	ck_assert(!lan_dedup_seen(t, &e, now + 2 * LAN_DUP_MS));
	/* another payload byte, likewise */
	q[33] ^= 1;
	ck_assert_int_eq(lan_parse(q, 34, &e), 0);
	ck_assert(!lan_dedup_seen(t, &e, now + 2 * LAN_DUP_MS));
	/* far more datagrams than slots: bounded, and none taken for another */
	for (i = 0; i < 20 * LAN_DUP_SLOTS; i++) {
		put16(q + 4, (uint16_t)i);
		put16(q + 20, (uint16_t)(i >> 16));
		ck_assert_int_eq(lan_parse(q, 34, &e), 0);
		if (lan_dedup_seen(t, &e, now + 10 * LAN_DUP_MS))
			dups++;
	}
	ck_assert_uint_eq(dups, 0);
	free(t);
}
END_TEST

START_TEST(test_bucket)
{
	struct lan_bucket b;
	size_t		 i, n = 0;

	memset(&b, 0, sizeof(b));
	/* a burst of twice the rate, then nothing */
	for (i = 0; i < 1000; i++)
		if (lan_bucket_take(&b, 100, 5000))
			n++;
	ck_assert_uint_eq(n, 200);
	/* 100 ms later: 10 more */
	for (i = 0, n = 0; i < 1000; i++)
		if (lan_bucket_take(&b, 100, 5100))
			n++;
	ck_assert_uint_eq(n, 10);
	/* a long pause refills to the burst, no more */
	for (i = 0, n = 0; i < 1000; i++)
		if (lan_bucket_take(&b, 100, 500000))
			n++;
	ck_assert_uint_eq(n, 200);
	/* time going back gives nothing */
	ck_assert(!lan_bucket_take(&b, 100, 1000));
}
END_TEST

START_TEST(test_port_buckets)
{
	struct lan_port_buckets *pb = calloc(1, sizeof(*pb));
	size_t		 i, a = 0, b = 0;

	for (i = 0; i < 100; i++) {
		a += lan_port_take(pb, 4445, 10, 1000);
		b += lan_port_take(pb, 7777, 10, 1000);
	}
	/* one storming port does not use another's tokens */
	ck_assert_uint_eq(a, 20);
	ck_assert_uint_eq(b, 20);
	/* more ports than buckets: the least recently used is recycled */
	for (i = 0; i < LAN_PORT_BUCKETS; i++)
		ck_assert(lan_port_take(pb, (uint16_t)(10000 + i), 10,
		    2000 + i));
	ck_assert(lan_port_take(pb, 4445, 10, 3000));
	free(pb);
}
END_TEST

/* proto/lan.md: bad ones do not parse, the names say the verdict. */
START_TEST(test_vectors)
{
	const struct tvec *v;
	struct lan_policy pol;
	struct lan_dgram d;
	enum lan_verdict want;
	const char	*why;
	size_t		 n, i;

	memset(&pol, 0, sizeof(pol));
	ck_assert_int_eq(conf_parse_ports("1900, 4445, 5353, 6073, 6112, "
	    "7777, 27015-27016", &pol.ports, &why), 0);
	ck_assert_int_eq(lan_parse_groups("224.0.0.251, 239.255.255.250",
	    pol.groups, &pol.ngroups, &why), 0);
	pol.self = A(10, 66, 0, 1);
	pol.mask = 0xffff0000U;
	pol.net = A(10, 66, 0, 0);
	v = tvec_load("lan.md", &n);
	for (i = 0; i < n; i++) {
		if (!v[i].ok) {
			ck_assert_msg(lan_parse(v[i].data, v[i].len, &d) == -1,
			    "%s parsed", v[i].name);
			continue;
		}
		ck_assert_msg(lan_parse(v[i].data, v[i].len, &d) == 0,
		    "%s did not parse", v[i].name);
		want = strncmp(v[i].name, "carry-", 6) == 0 ? LAN_CARRY :
		    strncmp(v[i].name, "loop-", 5) == 0 ? LAN_LOOP :
		    LAN_FILTERED;
		ck_assert_msg(lan_check_out(&pol, &d) == want, "%s: verdict %d",
		    v[i].name, lan_check_out(&pol, &d));
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("lan");
	TCase	*tc = tcase_create("lan");
	SRunner	*sr;
	int	 failed;

	if (sodium_init() == -1)
		return 1;
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_refused);
	tcase_add_test(tc, test_dst_kind);
	tcase_add_test(tc, test_check_out);
	tcase_add_test(tc, test_check_in);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_dedup);
	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_port_buckets);
	tcase_add_test(tc, test_vectors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
