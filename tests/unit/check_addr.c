/* Unit tests for lib/addr.c. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Accepted spellings, each with its canonical form (NULL: itself). */
struct ok_case {
	const char	*in;
	const char	*out;
};

static const struct ok_case addr_ok[] = {
	{ "0.0.0.0", NULL },
	{ "10.66.0.1", NULL },
	{ "255.255.255.255", NULL },
	{ "::", NULL },
	{ "::1", NULL },
	{ "fd00::1", NULL },
	{ "FD00:0:0:0:0:0:0:1", "fd00::1" },
	{ "2001:db8::ff00:42:8329", NULL },
	{ "::ffff:10.0.0.1", NULL },
};

static const char *const addr_bad[] = {
	"", " ", "1.2.3.4 ", " 1.2.3.4", "1.2.3", "1.2.3.4.5", "256.0.0.1",
	"01.2.3.4", "1.2.3.-4", "1.2.3.4/32", "0x7f.0.0.1", "1..2.3",
	"localhost", "::1 ", "[::1]", ":::", "fd00::1::2", "1:2:3:4:5:6:7:8:9",
	"fe80::1%eth0", "g::1", "1.2.3.4:80",
};

static const struct ok_case prefix_ok[] = {
	{ "10.66.0.0/16", NULL },
	{ "10.66.0.1/16", NULL },
	{ "0.0.0.0/0", NULL },
	{ "1.2.3.4/32", NULL },
	{ "1.2.3.4", "1.2.3.4/32" },
	{ "fd00::/8", NULL },
	{ "::/0", NULL },
	{ "::1/128", NULL },
	{ "fd00::1", "fd00::1/128" },
	{ "FD00::/64", "fd00::/64" },
};

static const char *const prefix_bad[] = {
	"", "/", "/16", "10.66.0.0/", "10.66.0.0/33", "10.66.0.0/-1",
	"10.66.0.0/+8", "10.66.0.0/016", "10.66.0.0/00", "10.66.0.0/16 ",
	"10.66.0.0 /16", "10.66.0.0/ 16", "10.66.0.0/16/8", "10.66.0.0/1a",
	"10.66.0.0/4294967312", "fd00::/129", "fd00::/1000", "fd00::/8x",
	"10.66/16", "a/8",
	"0123456789012345678901234567890123456789012345678901234567/8",
};

static const struct ok_case sockaddr_ok[] = {
	{ "1.2.3.4:51820", NULL },
	{ "1.2.3.4:0", NULL },
	{ "255.255.255.255:65535", NULL },
	{ "[::1]:51820", NULL },
	{ "[::]:0", NULL },
	{ "[FD00::1]:1", "[fd00::1]:1" },
	{ "[::ffff:1.2.3.4]:80", NULL },
};

static const char *const sockaddr_bad[] = {
	"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:99999",
	"1.2.3.4:-1", "1.2.3.4:080", "1.2.3.4:80 ", " 1.2.3.4:80",
	"1.2.3.4: 80", "1.2.3.4:80:80", "1.2.3.4:0x50", "1.2.3.4:1000000",
	"[::1]", "[::1]:", "::1:80", "::1", "[::1]:65536", "[::1] :80",
	"[::1]x:80", "[1.2.3.4]:80", "[[::1]]:80", "[::1:80", "::1]:80",
	"[]:80", "host:80", "[fe80::1%eth0]:80", "[::1]:80]:80",
};

START_TEST(addr_accept)
{
	const struct ok_case	*c = &addr_ok[_i];
	struct addr		 a;
	char			 s[LR_ADDR_STRLEN];

	ck_assert_msg(addr_parse(c->in, &a) == 0, "rejected \"%s\"", c->in);
	ck_assert_int_eq(a.af, strchr(c->in, ':') ? AF_INET6 : AF_INET);
	ck_assert_ptr_eq(addr_fmt(&a, s, sizeof(s)), s);
	ck_assert_str_eq(s, c->out != NULL ? c->out : c->in);
}
END_TEST

START_TEST(addr_reject)
{
	struct addr	 a;

	memset(&a, 0x55, sizeof(a));
	errno = 0;
	ck_assert_msg(addr_parse(addr_bad[_i], &a) == -1,
	    "accepted \"%s\"", addr_bad[_i]);
	ck_assert_int_eq(errno, EINVAL);
	/* Output untouched on failure. */
	ck_assert_uint_eq(a.bytes[0], 0x55);
}
END_TEST

START_TEST(addr_values)
{
	struct addr	 a;

	ck_assert_int_eq(addr_parse("10.66.1.2", &a), 0);
	ck_assert_int_eq(a.af, AF_INET);
	ck_assert_mem_eq(a.bytes, "\x0a\x42\x01\x02", 4);
	ck_assert_uint_eq(ntohl(a.v4.s_addr), 0x0a420102);
	ck_assert_int_eq(addr_parse("fd00::1", &a), 0);
	ck_assert_int_eq(a.af, AF_INET6);
	ck_assert_mem_eq(a.bytes, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}
END_TEST

START_TEST(prefix_accept)
{
	const struct ok_case	*c = &prefix_ok[_i];
	struct prefix		 p, q;
	char			 s[LR_PREFIX_STRLEN];

	ck_assert_msg(prefix_parse(c->in, &p) == 0, "rejected \"%s\"", c->in);
	ck_assert_ptr_eq(prefix_fmt(&p, s, sizeof(s)), s);
	ck_assert_str_eq(s, c->out != NULL ? c->out : c->in);
	/* The formatted form parses back to the same prefix. */
	ck_assert_int_eq(prefix_parse(s, &q), 0);
	ck_assert_uint_eq(q.len, p.len);
	ck_assert(addr_eq(&q.addr, &p.addr));
}
END_TEST

START_TEST(prefix_reject)
{
	struct prefix	 p;

	memset(&p, 0x55, sizeof(p));
	errno = 0;
	ck_assert_msg(prefix_parse(prefix_bad[_i], &p) == -1,
	    "accepted \"%s\"", prefix_bad[_i]);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(p.len, 0x55);
}
END_TEST

START_TEST(prefix_lengths)
{
	struct prefix	 p;

	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &p), 0);
	ck_assert_int_eq(p.addr.af, AF_INET);
	ck_assert_uint_eq(p.len, 16);
	ck_assert_int_eq(prefix_parse("1.2.3.4", &p), 0);
	ck_assert_uint_eq(p.len, 32);
	ck_assert_int_eq(prefix_parse("fd00::/8", &p), 0);
	ck_assert_int_eq(p.addr.af, AF_INET6);
	ck_assert_uint_eq(p.len, 8);
	ck_assert_int_eq(prefix_parse("::1", &p), 0);
	ck_assert_uint_eq(p.len, 128);
	ck_assert_int_eq(prefix_parse("::/128", &p), 0);
	ck_assert_int_eq(prefix_parse("0.0.0.0/32", &p), 0);
	ck_assert_int_eq(prefix_parse("0.0.0.0/33", &p), -1);
}
END_TEST

START_TEST(sockaddr_accept)
{
	const struct ok_case	*c = &sockaddr_ok[_i];
	struct sockaddr_storage	 ss;
	socklen_t		 len = 0;
	char			 s[LR_SOCKADDR_STRLEN];

	ck_assert_msg(sockaddr_parse(c->in, &ss, &len) == 0,
	    "rejected \"%s\"", c->in);
	if (c->in[0] == '[') {
		ck_assert_int_eq(ss.ss_family, AF_INET6);
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	} else {
		ck_assert_int_eq(ss.ss_family, AF_INET);
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	}
	ck_assert_ptr_eq(sockaddr_fmt((struct sockaddr *)&ss, s, sizeof(s)), s);
	ck_assert_str_eq(s, c->out != NULL ? c->out : c->in);
}
END_TEST

START_TEST(sockaddr_reject)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = 77;

	errno = 0;
	ck_assert_msg(sockaddr_parse(sockaddr_bad[_i], &ss, &len) == -1,
	    "accepted \"%s\"", sockaddr_bad[_i]);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(len, 77);
}
END_TEST

START_TEST(sockaddr_values)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	ck_assert_int_eq(sockaddr_parse("10.66.0.1:51820", &ss, &len), 0);
	ck_assert_uint_eq(ntohs(sin->sin_port), 51820);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a420001);
	ck_assert_int_eq(sockaddr_parse("[::1]:65535", &ss, &len), 0);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 65535);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(sin6->sin6_scope_id, 0);
	ck_assert_uint_eq(sin6->sin6_flowinfo, 0);
}
END_TEST

/* outer, inner, whether outer contains inner. */
struct contain_case {
	const char	*outer;
	const char	*inner;
	bool		 yes;
};

static const struct contain_case contain_cases[] = {
	{ "10.66.0.0/16", "10.66.0.0/16", true },
	{ "10.66.0.0/16", "10.66.255.0/24", true },
	{ "10.66.0.0/16", "10.66.1.2/32", true },
	{ "10.66.0.0/16", "10.67.0.0/24", false },
	{ "10.66.0.0/16", "10.0.0.0/8", false },
	{ "10.66.0.0/16", "10.66.0.0/15", false },
	/* Host bits in outer are ignored; inner's are what is tested. */
	{ "10.66.7.7/16", "10.66.1.0/24", true },
	{ "10.66.0.0/16", "10.66.1.1/16", true },
	{ "0.0.0.0/0", "255.255.255.255/32", true },
	{ "0.0.0.0/0", "::/0", false },
	{ "10.0.0.0/7", "11.255.0.0/16", true },
	{ "10.0.0.0/7", "12.0.0.0/16", false },
	{ "10.0.0.0/7", "9.255.255.255/32", false },
	{ "1.2.3.4/32", "1.2.3.4/32", true },
	{ "1.2.3.4/32", "1.2.3.5/32", false },
	{ "1.2.3.4/31", "1.2.3.5/32", true },
	{ "1.2.3.4/31", "1.2.3.6/32", false },
	{ "fd00::/8", "fd12:3456::/32", true },
	{ "fd00::/8", "fc00::/8", false },
	{ "fd00::/8", "fc00::/7", false },
	{ "fc00::/7", "fd00::/8", true },
	{ "::/0", "2001:db8::1/128", true },
	{ "::/0", "0.0.0.0/0", false },
	{ "2001:db8::/127", "2001:db8::1/128", true },
	{ "2001:db8::/127", "2001:db8::2/128", false },
	{ "2001:db8::/33", "2001:db8:7fff::/48", true },
	{ "2001:db8::/33", "2001:db8:8000::/48", false },
	{ "::ffff:10.0.0.0/104", "10.0.0.1/32", false },
};

START_TEST(contains)
{
	const struct contain_case	*c = &contain_cases[_i];
	struct prefix			 o, in;

	ck_assert_int_eq(prefix_parse(c->outer, &o), 0);
	ck_assert_int_eq(prefix_parse(c->inner, &in), 0);
	ck_assert_msg(prefix_contains(&o, &in) == c->yes,
	    "%s in %s: want %d", c->inner, c->outer, c->yes);
	/* A host route is contained exactly when its address is. */
	if (in.len == addr_maxlen(in.addr.af))
		ck_assert(prefix_contains_addr(&o, &in.addr) == c->yes);
}
END_TEST

START_TEST(contains_addr)
{
	struct prefix	 p;
	struct addr	 a;

	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &p), 0);
	ck_assert_int_eq(addr_parse("10.66.255.255", &a), 0);
	ck_assert(prefix_contains_addr(&p, &a));
	ck_assert_int_eq(addr_parse("10.67.0.0", &a), 0);
	ck_assert(!prefix_contains_addr(&p, &a));
	ck_assert_int_eq(addr_parse("::a42:0", &a), 0);
	ck_assert(!prefix_contains_addr(&p, &a));

	/* Out-of-range lengths contain nothing. */
	p.len = 33;
	ck_assert_int_eq(addr_parse("10.66.0.0", &a), 0);
	ck_assert(!prefix_contains_addr(&p, &a));
	ck_assert(!prefix_contains(&p, &p));
}
END_TEST

START_TEST(mask_canonical)
{
	struct prefix	 p;
	char		 s[LR_PREFIX_STRLEN];

	ck_assert_int_eq(prefix_parse("10.66.0.1/16", &p), 0);
	ck_assert(!prefix_is_canonical(&p));
	prefix_mask(&p);
	ck_assert(prefix_is_canonical(&p));
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "10.66.0.0/16");

	ck_assert_int_eq(prefix_parse("10.255.255.255/9", &p), 0);
	prefix_mask(&p);
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "10.128.0.0/9");

	ck_assert_int_eq(prefix_parse("1.2.3.4/0", &p), 0);
	prefix_mask(&p);
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "0.0.0.0/0");

	ck_assert_int_eq(prefix_parse("1.2.3.4/32", &p), 0);
	ck_assert(prefix_is_canonical(&p));
	prefix_mask(&p);
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "1.2.3.4/32");

	ck_assert_int_eq(prefix_parse("fdff:ffff::1/17", &p), 0);
	ck_assert(!prefix_is_canonical(&p));
	prefix_mask(&p);
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "fdff:8000::/17");

	ck_assert_int_eq(prefix_parse("ffff::ffff/127", &p), 0);
	prefix_mask(&p);
	ck_assert_str_eq(prefix_fmt(&p, s, sizeof(s)), "ffff::fffe/127");

	ck_assert_int_eq(prefix_parse("fd00::/8", &p), 0);
	ck_assert(prefix_is_canonical(&p));
	p.len = 129;
	ck_assert(!prefix_is_canonical(&p));
}
END_TEST

START_TEST(eq)
{
	struct addr	 a, b;

	ck_assert_int_eq(addr_parse("10.0.0.1", &a), 0);
	ck_assert_int_eq(addr_parse("10.0.0.1", &b), 0);
	ck_assert(addr_eq(&a, &b));
	ck_assert_int_eq(addr_parse("10.0.0.2", &b), 0);
	ck_assert(!addr_eq(&a, &b));
	/* Same leading bytes, other family. */
	ck_assert_int_eq(addr_parse("a00:1::", &b), 0);
	ck_assert_mem_eq(a.bytes, b.bytes, 4);
	ck_assert(!addr_eq(&a, &b));
	ck_assert_int_eq(addr_parse("::1", &a), 0);
	ck_assert_int_eq(addr_parse("0::0:1", &b), 0);
	ck_assert(addr_eq(&a, &b));

	ck_assert_uint_eq(addr_len(AF_INET), 4);
	ck_assert_uint_eq(addr_len(AF_INET6), 16);
	ck_assert_uint_eq(addr_len(AF_UNIX), 0);
	ck_assert_uint_eq(addr_maxlen(AF_INET), 32);
	ck_assert_uint_eq(addr_maxlen(AF_INET6), 128);
	ck_assert_uint_eq(addr_maxlen(AF_UNSPEC), 0);
}
END_TEST

START_TEST(fmt_small_buffer)
{
	struct addr		 a;
	struct prefix		 p;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 s[LR_SOCKADDR_STRLEN];

	ck_assert_int_eq(addr_parse("10.66.0.1", &a), 0);
	errno = 0;
	ck_assert_ptr_null(addr_fmt(&a, s, 9));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_nonnull(addr_fmt(&a, s, 10));
	ck_assert_str_eq(s, "10.66.0.1");

	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &p), 0);
	ck_assert_ptr_null(prefix_fmt(&p, s, 12));
	ck_assert_str_eq(s, "");
	ck_assert_ptr_nonnull(prefix_fmt(&p, s, 13));
	ck_assert_str_eq(s, "10.66.0.0/16");

	ck_assert_int_eq(sockaddr_parse("[::1]:51820", &ss, &len), 0);
	errno = 0;
	ck_assert_ptr_null(sockaddr_fmt((struct sockaddr *)&ss, s, 11));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_str_eq(s, "");
	ck_assert_ptr_nonnull(sockaddr_fmt((struct sockaddr *)&ss, s, 12));
	ck_assert_str_eq(s, "[::1]:51820");

	/* The longest forms fit the advertised sizes. */
	ck_assert_int_eq(prefix_parse(
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", &p), 0);
	ck_assert_ptr_nonnull(prefix_fmt(&p, s, LR_PREFIX_STRLEN));
	ck_assert_int_eq(sockaddr_parse(
	    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535",
	    &ss, &len), 0);
	ck_assert_ptr_nonnull(sockaddr_fmt((struct sockaddr *)&ss, s,
	    LR_SOCKADDR_STRLEN));

	a.af = AF_UNIX;
	errno = 0;
	memset(s, 'x', sizeof(s));
	ck_assert_ptr_null(addr_fmt(&a, s, sizeof(s)));
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(sockaddr_conv)
{
	struct addr		 a, b;
	struct sockaddr_storage	 ss;
	struct sockaddr		 sa;
	uint16_t		 port = 0;

	ck_assert_int_eq(addr_parse("fd00::42", &a), 0);
	ck_assert_uint_eq(addr_to_sockaddr(&a, 51820, &ss),
	    sizeof(struct sockaddr_in6));
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&ss, &b,
	    &port), 0);
	ck_assert(addr_eq(&a, &b));
	ck_assert_uint_eq(port, 51820);

	ck_assert_int_eq(addr_parse("192.0.2.7", &a), 0);
	ck_assert_uint_eq(addr_to_sockaddr(&a, 1, &ss),
	    sizeof(struct sockaddr_in));
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&ss, &b,
	    NULL), 0);
	ck_assert(addr_eq(&a, &b));

	a.af = AF_UNIX;
	errno = 0;
	ck_assert_uint_eq(addr_to_sockaddr(&a, 1, &ss), 0);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	errno = 0;
	ck_assert_int_eq(addr_from_sockaddr(&sa, &b, &port), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, addr_accept, 0, NELEM(addr_ok));
	tcase_add_loop_test(tc, addr_reject, 0, NELEM(addr_bad));
	tcase_add_test(tc, addr_values);
	tcase_add_loop_test(tc, prefix_accept, 0, NELEM(prefix_ok));
	tcase_add_loop_test(tc, prefix_reject, 0, NELEM(prefix_bad));
	tcase_add_test(tc, prefix_lengths);
	tcase_add_loop_test(tc, sockaddr_accept, 0, NELEM(sockaddr_ok));
	tcase_add_loop_test(tc, sockaddr_reject, 0, NELEM(sockaddr_bad));
	tcase_add_test(tc, sockaddr_values);
	tcase_add_loop_test(tc, contains, 0, NELEM(contain_cases));
	tcase_add_test(tc, contains_addr);
	tcase_add_test(tc, mask_canonical);
	tcase_add_test(tc, eq);
	tcase_add_test(tc, fmt_small_buffer);
	tcase_add_test(tc, sockaddr_conv);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(addr_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
