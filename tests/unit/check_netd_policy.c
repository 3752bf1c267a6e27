/*
 * lanrage-netd policy: the pure checks behind every refusal, against the
 * defaults and against a configuration read from text.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-netd/netd.h"

static struct netd_conf	 c;

static void
setup(void)
{
	netd_conf_defaults(&c);
}

static struct prefix
P(const char *s)
{
	struct prefix	 p;

	ck_assert_msg(prefix_parse(s, &p) == 0, "bad test prefix %s", s);
	return p;
}

static struct addr
A(const char *s)
{
	struct addr	 a;

	ck_assert_msg(addr_parse(s, &a) == 0, "bad test address %s", s);
	return a;
}

START_TEST(test_ifname)
{
	ck_assert(netd_policy_ifname(&c, "lanrage0"));
	ck_assert(netd_policy_ifname(&c, "lanrage"));
	ck_assert(netd_policy_ifname(&c, "lanrage-party1"));
	ck_assert(!netd_policy_ifname(&c, "eth0"));
	ck_assert(!netd_policy_ifname(&c, "lanrag0"));
	ck_assert(!netd_policy_ifname(&c, "xlanrage0"));
	ck_assert(!netd_policy_ifname(&c, "lanrage/0"));
	ck_assert(!netd_policy_ifname(&c, "lanrage 0"));
	ck_assert(!netd_policy_ifname(&c, "lanrage0123456789"));
	ck_assert(!netd_policy_ifname(&c, ""));
}
END_TEST

START_TEST(test_addr)
{
	struct prefix	 p;

	p = P("10.66.0.1/16");
	ck_assert(netd_policy_addr(&c, &p));
	p = P("10.66.255.254/24");
	ck_assert(netd_policy_addr(&c, &p));
	p = P("10.66.0.1/32");
	ck_assert(netd_policy_addr(&c, &p));
	p = P("10.66.0.1/15");		/* implies a subnet beyond the overlay */
	ck_assert(!netd_policy_addr(&c, &p));
	p = P("10.67.0.1/24");
	ck_assert(!netd_policy_addr(&c, &p));
	p = P("192.168.1.10/24");
	ck_assert(!netd_policy_addr(&c, &p));
	p = P("fd00::1/64");
	ck_assert(!netd_policy_addr(&c, &p));
}
END_TEST

START_TEST(test_route)
{
	struct prefix	 p;

	p = P("10.66.0.0/16");
	ck_assert(netd_policy_route(&c, &p));
	p = P("10.66.7.0/24");
	ck_assert(netd_policy_route(&c, &p));
	p = P("255.255.255.255/32");
	ck_assert(netd_policy_route(&c, &p));
	p = P("224.0.0.0/4");
	ck_assert(netd_policy_route(&c, &p));
	p = P("239.255.255.250/32");
	ck_assert(netd_policy_route(&c, &p));
	p = P("0.0.0.0/0");
	ck_assert(!netd_policy_route(&c, &p));
	p = P("10.0.0.0/8");
	ck_assert(!netd_policy_route(&c, &p));
	p = P("255.255.255.254/32");
	ck_assert(!netd_policy_route(&c, &p));
	p = P("10.66.0.1/16");		/* host bits set */
	ck_assert(!netd_policy_route(&c, &p));
	p = P("224.0.0.0/3");
	ck_assert(!netd_policy_route(&c, &p));
}
END_TEST

START_TEST(test_ports)
{
	/* defaults: 1900, 4445, 5353, 6073, 6112, 7777, 27015-27016 */
	ck_assert(netd_policy_ports(&c, 4445, 4445));
	ck_assert(netd_policy_ports(&c, 27015, 27016));
	ck_assert(netd_policy_ports(&c, 27016, 27016));
	ck_assert(!netd_policy_ports(&c, 27015, 27017));
	ck_assert(!netd_policy_ports(&c, 4444, 4445));
	ck_assert(!netd_policy_ports(&c, 22, 22));
	ck_assert(!netd_policy_ports(&c, 0, 0));
	ck_assert(!netd_policy_ports(&c, 5353, 1900));
	ck_assert(!netd_policy_ports(&c, 1, 65535));
}
END_TEST

/* A range is allowed when adjacent configured ranges cover it together. */
START_TEST(test_ports_union)
{
	c.ports.n = 3;
	c.ports.r[0].lo = 7000; c.ports.r[0].hi = 7009;
	c.ports.r[1].lo = 6990; c.ports.r[1].hi = 6999;
	c.ports.r[2].lo = 7010; c.ports.r[2].hi = 65535;
	ck_assert(netd_policy_ports(&c, 6990, 65535));
	ck_assert(netd_policy_ports(&c, 65535, 65535));
	ck_assert(!netd_policy_ports(&c, 6989, 7000));
	c.ports.r[2].lo = 7011;
	ck_assert(!netd_policy_ports(&c, 6995, 7020));
}
END_TEST

START_TEST(test_inject)
{
	struct addr	 a;

	a = A("255.255.255.255");
	ck_assert(netd_policy_inject_dst(&c, &a));
	a = A("224.0.0.251");
	ck_assert(netd_policy_inject_dst(&c, &a));
	a = A("239.255.255.250");
	ck_assert(netd_policy_inject_dst(&c, &a));
	a = A("10.66.255.255");		/* directed broadcast of the overlay */
	ck_assert(netd_policy_inject_dst(&c, &a));
	a = A("10.66.0.255");		/* host .255 of a /16: unicast */
	ck_assert(!netd_policy_inject_dst(&c, &a));
	a = A("10.66.0.9");
	ck_assert(!netd_policy_inject_dst(&c, &a));
	a = A("192.168.1.255");
	ck_assert(!netd_policy_inject_dst(&c, &a));
	a = A("ff02::1");
	ck_assert(!netd_policy_inject_dst(&c, &a));
	a = A("10.66.3.4");
	ck_assert(netd_policy_overlay_addr(&c, &a));
	a = A("10.67.3.4");
	ck_assert(!netd_policy_overlay_addr(&c, &a));
}
END_TEST

static const char good[] =
    "# a policy\n"
    "[Netd]\n"
    "User = 0\n"
    "RunAs = 0\n"
    "InterfacePrefix = lrx\n"
    "OverlaySubnets = 10.77.0.0/16, fd66::/64\n"
    "Ports = 4000-4010\n";

START_TEST(test_conf_text)
{
	char	 path[] = "/tmp/check_netd_policy.XXXXXX";
	char	 err[CONF_ERR_MAX];
	struct prefix p;
	int	 fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, good, sizeof(good) - 1),
	    (ssize_t)sizeof(good) - 1);
	close(fd);
	ck_assert_msg(netd_conf_load(path, &c, err, sizeof(err)) == 0, "%s",
	    err);
	unlink(path);
	ck_assert(netd_policy_ifname(&c, "lrx0"));
	ck_assert(!netd_policy_ifname(&c, "lanrage0"));
	p = P("fd66::5/64");
	ck_assert(netd_policy_addr(&c, &p));
	p = P("10.66.0.1/16");		/* the default was replaced */
	ck_assert(!netd_policy_addr(&c, &p));
	ck_assert(netd_policy_ports(&c, 4000, 4010));
	ck_assert(!netd_policy_ports(&c, 4445, 4445));
}
END_TEST

START_TEST(test_conf_errors)
{
	char	 err[CONF_ERR_MAX];

	ck_assert_int_eq(netd_conf_load("/nonexistent/netd.conf", &c, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/netd.conf") != NULL, "%s",
	    err);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("netd_policy");
	TCase	*tc = tcase_create("policy");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_ifname);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_route);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_ports_union);
	tcase_add_test(tc, test_inject);
	tcase_add_test(tc, test_conf_text);
	tcase_add_test(tc, test_conf_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
