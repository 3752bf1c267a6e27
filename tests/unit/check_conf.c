/*
 * lib/conf: every value type accepted and rejected, the exact error text,
 * duplicate and list semantics, file-level checks.  Sample files live in
 * tests/conf/; make check runs tests from the repository root.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"

#ifndef CONF_DIR
#define CONF_DIR	"tests/conf"
#endif

struct tconf {
	char			 ifname[16];
	unsigned long		 port;
	unsigned long		 mtu;
	bool			 autostart;
	char			 keyfile[64];
	struct conf_user	 user;
	char			 descr[16];
	struct conf_prefixes	 allowed;
	struct conf_ports	 ports;
};

#define F(m)	offsetof(struct tconf, m)
#define S(m)	sizeof(((struct tconf *)0)->m)

static const struct conf_spec specs[] = {
	{ "Interface", "Name", CONF_IFNAME, F(ifname), S(ifname), 0, 0 },
	{ "Interface", "ListenPort", CONF_UINT, F(port), 0, 1, 65535 },
	{ "Interface", "MTU", CONF_UINT, F(mtu), 0, 576, 9000 },
	{ "Interface", "AutoStart", CONF_BOOL, F(autostart), 0, 0, 0 },
	{ "Interface", "PrivateKeyFile", CONF_PATH, F(keyfile), S(keyfile),
	    0, 0 },
	{ "Interface", "User", CONF_USER, F(user), 0, 0, 0 },
	{ "Party", "Description", CONF_STRING, F(descr), S(descr), 0, 0 },
	{ "Party", "AllowedIPs", CONF_PREFIX_LIST, F(allowed), 0, 0, 0 },
	{ "Party", "GamePorts", CONF_PORT_LIST, F(ports), 0, 0, 0 },
};
#define NSPECS	(sizeof(specs) / sizeof(specs[0]))

static struct tconf	c;
static char		err[CONF_ERR_MAX];

static void
defaults(void)
{
	memset(&c, 0, sizeof(c));
	c.port = 51820;
	c.mtu = 1420;
	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &c.allowed.p[0]), 0);
	c.allowed.n = 1;
	c.ports.r[0].lo = 6112;
	c.ports.r[0].hi = 6119;
	c.ports.n = 1;
	memset(err, 0, sizeof(err));
}

static int
load(const char *text)
{
	return conf_load_buf("t.conf", text, strlen(text), specs, NSPECS, &c,
	    err, sizeof(err));
}

#define OK(text) do {							\
	ck_assert_msg(load(text) == 0, "rejected: %s", err);		\
} while (0)

#define BAD(text, want) do {						\
	ck_assert_int_eq(load(text), -1);				\
	ck_assert_str_eq(err, want);					\
} while (0)

static void
prefix_eq(const struct prefix *p, const char *want)
{
	char	buf[LR_PREFIX_STRLEN];

	ck_assert_str_eq(prefix_fmt(p, buf, sizeof(buf)), want);
}

/* A temporary file with the given text and mode; the caller unlinks it. */
static void
tmpconf(char *path, size_t len, const char *text, size_t n, mode_t mode)
{
	int	fd;

	snprintf(path, len, "/tmp/check_conf.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

START_TEST(test_good_file)
{
	ck_assert_msg(conf_load(CONF_DIR "/good.conf", specs, NSPECS, &c,
	    false, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.ifname, "lr0");
	ck_assert_uint_eq(c.port, 51821);
	ck_assert_uint_eq(c.mtu, 1380);
	ck_assert(c.autostart);
	ck_assert_str_eq(c.keyfile, "/etc/lanrage/private.key");
	ck_assert_str_eq(c.user.name, "root");
	ck_assert_uint_eq(c.user.uid, 0);
	ck_assert_uint_eq(c.user.gid, 0);
	ck_assert_str_eq(c.descr, "LAN#1 party");
	ck_assert_uint_eq(c.allowed.n, 3);
	prefix_eq(&c.allowed.p[0], "10.66.0.0/16");
	prefix_eq(&c.allowed.p[1], "fd66::/64");
	prefix_eq(&c.allowed.p[2], "192.168.7.0/24");
	ck_assert_uint_eq(c.ports.n, 2);
	ck_assert_uint_eq(c.ports.r[0].lo, 53);
	ck_assert_uint_eq(c.ports.r[0].hi, 53);
	ck_assert_uint_eq(c.ports.r[1].lo, 6112);
	ck_assert_uint_eq(c.ports.r[1].hi, 6119);
}
END_TEST

START_TEST(test_bad_files)
{
	static const struct {
		const char	*file, *want;
	} t[] = {
		{ "bad-hostbits.conf", CONF_DIR
		    "/bad-hostbits.conf:3: AllowedIPs: host bits set" },
		{ "bad-duplicate.conf", CONF_DIR "/bad-duplicate.conf:4: "
		    "ListenPort: duplicate key (first on line 2)" },
		{ "bad-section.conf", CONF_DIR
		    "/bad-section.conf:4: unknown section [Peer]" },
	};
	char	path[256];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", CONF_DIR, t[i].file);
		ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, false,
		    err, sizeof(err)), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_str_eq(err, t[i].want);
	}
}
END_TEST

START_TEST(test_bool)
{
	static const char *yes[] = { "true", "YES", "On", "1" };
	static const char *no[] = { "false", "no", "OFF", "0" };
	char	buf[64];
	size_t	i;

	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "[Interface]\nAutoStart=%s\n",
		    yes[i]);
		c.autostart = false;
		OK(buf);
		ck_assert(c.autostart);
		snprintf(buf, sizeof(buf), "[Interface]\nAutoStart=%s\n",
		    no[i]);
		c.autostart = true;
		OK(buf);
		ck_assert(!c.autostart);
	}
	BAD("[Interface]\nAutoStart = maybe\n",
	    "t.conf:2: AutoStart: not a boolean");
	BAD("[Interface]\nAutoStart = 2\n",
	    "t.conf:2: AutoStart: not a boolean");
	BAD("[Interface]\nAutoStart =\n",
	    "t.conf:2: AutoStart: missing value");
}
END_TEST

START_TEST(test_uint)
{
	OK("[Interface]\nListenPort = 1\nMTU=9000\n");
	ck_assert_uint_eq(c.port, 1);
	ck_assert_uint_eq(c.mtu, 9000);
	OK("[Interface]\nListenPort = 65535\n");
	ck_assert_uint_eq(c.port, 65535);
	BAD("[Interface]\nListenPort = 0\n",
	    "t.conf:2: ListenPort: must be between 1 and 65535");
	BAD("[Interface]\nListenPort = 65536\n",
	    "t.conf:2: ListenPort: must be between 1 and 65535");
	BAD("[Interface]\nMTU = 575\n",
	    "t.conf:2: MTU: must be between 576 and 9000");
	BAD("[Interface]\nMTU = 99999999999999999999999999\n",
	    "t.conf:2: MTU: must be between 576 and 9000");
	BAD("[Interface]\nMTU = -1\n", "t.conf:2: MTU: not a number");
	BAD("[Interface]\nMTU = +1400\n", "t.conf:2: MTU: not a number");
	BAD("[Interface]\nMTU = 0x500\n", "t.conf:2: MTU: not a number");
	BAD("[Interface]\nMTU = 1400 bytes\n",
	    "t.conf:2: MTU: not a number");
}
END_TEST

START_TEST(test_uint_api)
{
	unsigned long	 v = 7;
	const char	*why = NULL;

	ck_assert_int_eq(conf_parse_uint("10", 10, 20, &v, &why), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(conf_parse_uint("21", 10, 20, &v, &why), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_str_eq(why, "out of range");
	ck_assert_int_eq(conf_parse_uint("", 0, 20, &v, &why), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(why, "not a number");
	ck_assert_uint_eq(v, 10);
}
END_TEST

START_TEST(test_string_path)
{
	OK("[Party]\nDescription =   Friday  night  \n");
	ck_assert_str_eq(c.descr, "Friday  night");
	OK("[Party]\nDescription = 0123456789abcde\n");
	ck_assert_str_eq(c.descr, "0123456789abcde");
	BAD("[Party]\nDescription = 0123456789abcdef\n",
	    "t.conf:2: Description: too long (max 15 bytes)");
	BAD("[Party]\nDescription = a\033[2Jb\n",
	    "t.conf:2: Description: control character in value");
	BAD("[Party]\nDescription =\n",
	    "t.conf:2: Description: missing value");
	OK("[Interface]\nPrivateKeyFile = /var/lib/lanrage/key\n");
	ck_assert_str_eq(c.keyfile, "/var/lib/lanrage/key");
	BAD("[Interface]\nPrivateKeyFile = etc/key\n",
	    "t.conf:2: PrivateKeyFile: not an absolute path");
	BAD("[Interface]\nPrivateKeyFile = ~/key\n",
	    "t.conf:2: PrivateKeyFile: not an absolute path");
}
END_TEST

START_TEST(test_user)
{
	struct conf_user	 u;
	const char		*why;

	OK("[Interface]\nUser = root\n");
	ck_assert_str_eq(c.user.name, "root");
	ck_assert_uint_eq(c.user.uid, 0);
	OK("[Interface]\nUser = 0\n");
	ck_assert_str_eq(c.user.name, "root");
	ck_assert_uint_eq(c.user.gid, 0);
	/* A uid with no passwd entry: the gid follows the uid. */
	OK("[Interface]\nUser = 3999999\n");
	ck_assert_str_eq(c.user.name, "3999999");
	ck_assert_uint_eq(c.user.uid, 3999999);
	ck_assert_uint_eq(c.user.gid, 3999999);
	/* Leading zeros: the name is the canonical number, not the text. */
	OK("[Interface]\nUser = 0000000000000000000000000000000000000000000"
	    "00000000000000000000000000000000003999999\n");
	ck_assert_str_eq(c.user.name, "3999999");
	BAD("[Interface]\nUser = lr-no-such-user\n",
	    "t.conf:2: User: no such user");
	BAD("[Interface]\nUser = 4294967295\n",
	    "t.conf:2: User: uid out of range");
	BAD("[Interface]\nUser = 99999999999999999999999\n",
	    "t.conf:2: User: uid out of range");
	BAD("[Interface]\nUser = "
	    "a123456789012345678901234567890123456789012345678901234567890123"
	    "\n", "t.conf:2: User: user name too long");
	ck_assert_int_eq(conf_parse_user("", &u, &why), -1);
	ck_assert_str_eq(why, "invalid user name");
}
END_TEST

START_TEST(test_prefixes)
{
	OK("[Party]\nAllowedIPs = 192.168.0.0/16,fd00::/8 , 0.0.0.0/0\n");
	ck_assert_uint_eq(c.allowed.n, 3);
	prefix_eq(&c.allowed.p[0], "192.168.0.0/16");
	prefix_eq(&c.allowed.p[1], "fd00::/8");
	prefix_eq(&c.allowed.p[2], "0.0.0.0/0");
	OK("[Party]\nAllowedIPs = 10.1.2.3\n");
	prefix_eq(&c.allowed.p[0], "10.1.2.3/32");
	BAD("[Party]\nAllowedIPs = 10.66.0.1/16\n",
	    "t.conf:2: AllowedIPs: host bits set");
	BAD("[Party]\nAllowedIPs = 10.0.0.0/8, fd00::1/8\n",
	    "t.conf:2: AllowedIPs: host bits set");
	BAD("[Party]\nAllowedIPs = 10.0.0.0/33\n",
	    "t.conf:2: AllowedIPs: invalid prefix");
	BAD("[Party]\nAllowedIPs = lan\n",
	    "t.conf:2: AllowedIPs: invalid prefix");
	BAD("[Party]\nAllowedIPs = 10.0.0.0/8,\n",
	    "t.conf:2: AllowedIPs: empty list element");
	BAD("[Party]\nAllowedIPs = 10.0.0.0/8,,10.1.0.0/16\n",
	    "t.conf:2: AllowedIPs: empty list element");
}
END_TEST

START_TEST(test_ports)
{
	OK("[Party]\nGamePorts = 53, 6112-6119,27015 - 27030\n");
	ck_assert_uint_eq(c.ports.n, 3);
	ck_assert_uint_eq(c.ports.r[0].lo, 53);
	ck_assert_uint_eq(c.ports.r[0].hi, 53);
	ck_assert_uint_eq(c.ports.r[1].lo, 6112);
	ck_assert_uint_eq(c.ports.r[1].hi, 6119);
	ck_assert_uint_eq(c.ports.r[2].lo, 27015);
	ck_assert_uint_eq(c.ports.r[2].hi, 27030);
	OK("[Party]\nGamePorts = 1-65535\n");
	ck_assert_uint_eq(c.ports.r[0].lo, 1);
	ck_assert_uint_eq(c.ports.r[0].hi, 65535);
	BAD("[Party]\nGamePorts = 0\n",
	    "t.conf:2: GamePorts: port out of range");
	BAD("[Party]\nGamePorts = 53, 65536\n",
	    "t.conf:2: GamePorts: port out of range");
	BAD("[Party]\nGamePorts = 6119-6112\n",
	    "t.conf:2: GamePorts: port range reversed");
	BAD("[Party]\nGamePorts = dns\n",
	    "t.conf:2: GamePorts: invalid port");
	BAD("[Party]\nGamePorts = 6112-\n",
	    "t.conf:2: GamePorts: invalid port");
	BAD("[Party]\nGamePorts = 1-2-3\n",
	    "t.conf:2: GamePorts: invalid port");
	BAD("[Party]\nGamePorts = 53,\n",
	    "t.conf:2: GamePorts: empty list element");
}
END_TEST

START_TEST(test_ifname)
{
	static const char *good[] = { "lr0", "a", "wg.party-1_x",
	    "012345678901234", ".x", "..." };
	static const char *bad[] = { "", ".", "..", "0123456789012345",
	    "lr 0", "lr/0", "lr:0", "l\xc3\xa9" };
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(conf_ifname_valid(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!conf_ifname_valid(bad[i]), "%s", bad[i]);
	OK("[Interface]\nName = lanrage0\n");
	ck_assert_str_eq(c.ifname, "lanrage0");
	BAD("[Interface]\nName = ..\n", "t.conf:2: Name: invalid interface "
	    "name");
	BAD("[Interface]\nName = lanrage-party-00\n",
	    "t.conf:2: Name: invalid interface name");
}
END_TEST

START_TEST(test_duplicate)
{
	BAD("[Interface]\nMTU = 1400\n\nmtu = 1400\n",
	    "t.conf:4: mtu: duplicate key (first on line 2)");
	/* Reopening a section does not reset what was seen. */
	BAD("[Interface]\nAutoStart = yes\n[Party]\n[Interface]\n"
	    "AutoStart = no\n",
	    "t.conf:5: AutoStart: duplicate key (first on line 2)");
}
END_TEST

START_TEST(test_list_semantics)
{
	/* First use replaces the default (10.66.0.0/16), later ones append. */
	OK("[Party]\nAllowedIPs = 10.1.0.0/16\nAllowedIPs = 10.2.0.0/16, "
	    "10.3.0.0/16\n[Interface]\nMTU=1400\n[Party]\n"
	    "AllowedIPs = 10.4.0.0/16\n");
	ck_assert_uint_eq(c.allowed.n, 4);
	prefix_eq(&c.allowed.p[0], "10.1.0.0/16");
	prefix_eq(&c.allowed.p[3], "10.4.0.0/16");
	/* Without the key the default stays. */
	defaults();
	OK("[Party]\nGamePorts = 80\n");
	ck_assert_uint_eq(c.allowed.n, 1);
	prefix_eq(&c.allowed.p[0], "10.66.0.0/16");
	/* An empty first value clears the default. */
	OK("[Party]\nAllowedIPs =\nGamePorts = \n");
	ck_assert_uint_eq(c.allowed.n, 0);
	ck_assert_uint_eq(c.ports.n, 0);
	OK("[Party]\nGamePorts =\nGamePorts = 80\n");
	ck_assert_uint_eq(c.ports.n, 1);
	ck_assert_uint_eq(c.ports.r[0].lo, 80);
}
END_TEST

START_TEST(test_list_overflow)
{
	char	text[2048], *p = text;
	int	i;

	p += sprintf(p, "[Party]\nGamePorts = 1");
	for (i = 2; i <= CONF_LIST_MAX; i++)
		p += sprintf(p, ",%d", i);
	sprintf(p, "\n");
	OK(text);
	ck_assert_uint_eq(c.ports.n, CONF_LIST_MAX);
	ck_assert_uint_eq(c.ports.r[CONF_LIST_MAX - 1].lo, CONF_LIST_MAX);

	/* 33 in one value. */
	sprintf(p, ",%d\n", CONF_LIST_MAX + 1);
	BAD(text, "t.conf:2: GamePorts: too many entries");

	/* 32 and then one more on a later line. */
	sprintf(p, "\n# more\nGamePorts = 999\n");
	BAD(text, "t.conf:4: GamePorts: too many entries (max 32)");
}
END_TEST

START_TEST(test_prefix_overflow)
{
	char	text[2048], *p = text;
	int	i;

	p += sprintf(p, "[Party]\nAllowedIPs = 10.0.0.0/24");
	for (i = 1; i < CONF_LIST_MAX; i++)
		p += sprintf(p, ", 10.0.%d.0/24", i);
	sprintf(p, "\nAllowedIPs = 10.1.0.0/16\n");
	BAD(text, "t.conf:3: AllowedIPs: too many entries (max 32)");
	sprintf(p, ", 10.1.0.0/16\n");
	BAD(text, "t.conf:2: AllowedIPs: too many entries");
	BAD("[Party]\nAllowedIPs = 10.0.0.0/8, "
	    "1000000000000000000000000000000000000000000000000000000000000000"
	    "\n", "t.conf:2: AllowedIPs: list element too long");
	/* Padding is not part of an element. */
	OK("[Party]\nAllowedIPs = 10.0.0.0/8"
	    "                                                                "
	    ",10.1.0.0/16\n");
	ck_assert_uint_eq(c.allowed.n, 2);
}
END_TEST

START_TEST(test_list_api)
{
	struct conf_ports	 ports;
	struct conf_prefixes	 nets;
	const char		*why;

	ports.n = 99;
	ck_assert_int_eq(conf_parse_ports(" \t80, 443 ", &ports, &why), 0);
	ck_assert_uint_eq(ports.n, 2);
	ck_assert_int_eq(conf_parse_ports("", &ports, &why), 0);
	ck_assert_uint_eq(ports.n, 0);
	ports.n = 5;
	ck_assert_int_eq(conf_parse_ports("80,x", &ports, &why), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(ports.n, 5);
	ck_assert_int_eq(conf_parse_prefixes(" ::/0", &nets, &why), 0);
	ck_assert_uint_eq(nets.n, 1);
}
END_TEST

START_TEST(test_bad_spec)
{
	static const struct conf_spec bad[] = {
		{ "Interface", "Name", CONF_STRING, 0, 0, 0, 0 },
	};

	ck_assert_int_eq(conf_load_buf("t.conf", "", 0, bad, 1, &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "t.conf: invalid conf_spec table");
	/* No specs: anything but blank lines and comments is an error. */
	ck_assert_int_eq(conf_load_buf("t.conf", "# x\n", 4, NULL, 0, NULL,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(conf_load_buf("t.conf", "a = b\n", 6, NULL, 0, NULL,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:1: a: key outside of any section");
}
END_TEST

START_TEST(test_unknown)
{
	BAD("[Interface]\nListenPort = 1\nPeer = x\n",
	    "t.conf:3: Peer: unknown key");
	/* Keys belong to their own section. */
	BAD("[Party]\nMTU = 1400\n", "t.conf:2: MTU: unknown key");
	BAD("# top\n[Peer]\n", "t.conf:2: unknown section [Peer]");
	BAD("[Inter\x01" "face]\n",
	    "t.conf:1: unknown section [Inter\\x01face]");
	BAD("[ ]\n", "t.conf:1: unknown section []");
	BAD("[Interface\n", "t.conf:1: malformed section header");
	BAD("[Interface] x\n", "t.conf:1: malformed section header");
	BAD("[Interface]\nListenPort 51820\n",
	    "t.conf:2: expected \"key = value\"");
	BAD("[Interface]\n = 51820\n", "t.conf:2: missing key");
	BAD("ListenPort = 51820\n",
	    "t.conf:1: ListenPort: key outside of any section");
	BAD("[Interface]\nList\tPort = 1\n",
	    "t.conf:2: List\\x09Port: unknown key");
}
END_TEST

START_TEST(test_comments)
{
	OK("[INTERFACE]  # section comment\nlistenport = 4000\n"
	    "# ListenPort = 1\n\t# indented\n\nmtu = 1400\t#trailing\n"
	    "[Party]\nDescription = LAN#1 # a party\n");
	ck_assert_uint_eq(c.port, 4000);
	ck_assert_uint_eq(c.mtu, 1400);
	ck_assert_str_eq(c.descr, "LAN#1");
	BAD("[Interface]\nMTU = 1400#x\n", "t.conf:2: MTU: not a number");
	/* A comment-only value is an empty one. */
	BAD("[Interface]\nMTU = # none\n", "t.conf:2: MTU: missing value");
}
END_TEST

START_TEST(test_long_line)
{
	char	text[CONF_LINE_MAX + 64];
	size_t	n;

	/* Exactly CONF_LINE_MAX bytes, with either line ending, is fine. */
	n = (size_t)sprintf(text, "[Party]\n");
	memset(text + n, '#', CONF_LINE_MAX);
	memcpy(text + n + CONF_LINE_MAX, "\r\nGamePorts = 7\n", 17);
	OK(text);
	ck_assert_uint_eq(c.ports.r[0].lo, 7);
	text[n + CONF_LINE_MAX] = '#';
	BAD(text, "t.conf:2: line too long (max 1024 bytes)");
	/* A long last line without a newline. */
	memset(text + n, ' ', CONF_LINE_MAX + 1);
	text[n + CONF_LINE_MAX + 1] = '\0';
	BAD(text, "t.conf:2: line too long (max 1024 bytes)");
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "[Interface]\nMTU = 1400\0 # x\n";

	ck_assert_int_eq(conf_load_buf("t.conf", text, sizeof(text) - 1,
	    specs, NSPECS, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:2: NUL byte in line");
	ck_assert_uint_eq(c.mtu, 1420);
}
END_TEST

START_TEST(test_crlf)
{
	OK("[Interface]\r\nListenPort = 4000\r\n\r\n# c\r\n"
	    "Name = lr1\r\n[Party]\r\nGamePorts = 80 \r\n"
	    "Description = x\r");
	ck_assert_uint_eq(c.port, 4000);
	ck_assert_str_eq(c.ifname, "lr1");
	ck_assert_uint_eq(c.ports.r[0].lo, 80);
	ck_assert_str_eq(c.descr, "x");
	/* A bare CR inside a line is not a line ending. */
	BAD("[Interface]\r\nName = lr\r1\r\n",
	    "t.conf:2: Name: invalid interface name");
}
END_TEST

START_TEST(test_untouched_on_error)
{
	BAD("[Interface]\nListenPort = 4000\nMTU = 1\n",
	    "t.conf:3: MTU: must be between 576 and 9000");
	ck_assert_uint_eq(c.port, 51820);
	ck_assert_uint_eq(c.mtu, 1420);
	OK("");
	OK("\n\n# only comments\n[Party]\n");
	ck_assert_uint_eq(c.port, 51820);
	ck_assert_uint_eq(c.allowed.n, 1);
}
END_TEST

START_TEST(test_toplevel)
{
	static const struct conf_spec top[] = {
		{ "", "Verbose", CONF_UINT, F(mtu), 0, 0, 3 },
		{ "Interface", "ListenPort", CONF_UINT, F(port), 0, 1, 65535 },
	};
	static const char	 t1[] = "verbose = 2\n[Interface]\n"
	    "ListenPort = 9\n";
	static const char	 t2[] = "[Interface]\nVerbose = 1\n";

	ck_assert_int_eq(conf_load_buf("top.conf", t1, strlen(t1), top, 2,
	    &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.mtu, 2);
	ck_assert_uint_eq(c.port, 9);
	ck_assert_int_eq(conf_load_buf("top.conf", t2, strlen(t2), top, 2,
	    &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "top.conf:2: Verbose: unknown key");
	ck_assert_int_eq(conf_load_buf("top.conf", "[]\n", 3, top, 2, &c,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "top.conf:1: unknown section []");
}
END_TEST

START_TEST(test_secret_mode)
{
	static const char	text[] = "[Interface]\nListenPort = 4242\n";
	char			path[64], want[256];

	tmpconf(path, sizeof(path), text, sizeof(text) - 1, 0644);
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(errno, EPERM);
	snprintf(want, sizeof(want), "%s: secret file is accessible by group "
	    "or others (mode 0644, want 0600)", path);
	ck_assert_str_eq(err, want);
	/* Not a secret: the same file is fine. */
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, false, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.port, 4242);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)), 0);
	unlink(path);
}
END_TEST

START_TEST(test_missing_file)
{
	char	want[256];

	ck_assert_int_eq(conf_load(CONF_DIR "/no-such.conf", specs, NSPECS,
	    &c, false, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: %s", CONF_DIR "/no-such.conf",
	    strerror(ENOENT));
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(conf_load(CONF_DIR, specs, NSPECS, &c, false, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, CONF_DIR ": not a regular file");
}
END_TEST

START_TEST(test_file_too_large)
{
	char	*text, path[64], want[256];
	size_t	 n = CONF_FILE_MAX + 1;

	ck_assert_ptr_nonnull(text = malloc(n));
	memset(text, '\n', n);
	ck_assert_int_eq(conf_load_buf("big.conf", text, n, specs, NSPECS,
	    &c, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_str_eq(err, "big.conf: file too large (max 1048576 bytes)");
	ck_assert_int_eq(conf_load_buf("big.conf", text, n - 1, specs,
	    NSPECS, &c, err, sizeof(err)), 0);
	tmpconf(path, sizeof(path), text, n, 0600);
	ck_assert_int_eq(conf_load(path, specs, NSPECS, &c, true, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: file too large (max 1048576 "
	    "bytes)", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	free(text);
}
END_TEST

START_TEST(test_small_err)
{
	char	small[12];

	ck_assert_int_eq(conf_load_buf("t.conf", "[x]\n", 4, specs, NSPECS,
	    &c, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "t.conf:1: u");
	ck_assert_int_eq(conf_load_buf("t.conf", "[x]\n", 4, specs, NSPECS,
	    &c, NULL, 0), -1);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, defaults, NULL);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_uint);
	tcase_add_test(tc, test_uint_api);
	tcase_add_test(tc, test_string_path);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_prefixes);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_ifname);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_list_semantics);
	tcase_add_test(tc, test_list_overflow);
	tcase_add_test(tc, test_prefix_overflow);
	tcase_add_test(tc, test_list_api);
	tcase_add_test(tc, test_bad_spec);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_untouched_on_error);
	tcase_add_test(tc, test_toplevel);
	tcase_add_test(tc, test_secret_mode);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_file_too_large);
	tcase_add_test(tc, test_small_err);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
