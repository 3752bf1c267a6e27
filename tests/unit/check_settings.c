/* Unit tests for lanraged/settings.c against a real SQLite file. */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/addr.h"
#include "proto/control.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* One directory for the whole case, made and removed by the parent. */
static char	 tmpdir[] = "/tmp/check_settings.XXXXXX";

static void
dir_setup(void)
{
	if (mkdtemp(tmpdir) == NULL)
		abort();
}

static void
dir_teardown(void)
{
	char		 p[PATH_MAX];
	DIR		*d;
	struct dirent	*e;

	if ((d = opendir(tmpdir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

static const char *
dbpath(const char *name)
{
	static char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* Each test has a database file of its own. */
static void
open_db(const char *name)
{
	char	 err[256] = "";

	ck_assert_msg(settings_open(dbpath(name), err, sizeof(err)) == 0,
	    "settings_open: %s", err);
}

static void
reopen_db(const char *name)
{
	settings_close();
	open_db(name);
}

static const char *
get(const char *key)
{
	static char	 val[SETTINGS_VALUE_MAX];

	memset(val, 'x', sizeof(val));
	ck_assert_msg(settings_get(key, val, sizeof(val)) == 0,
	    "settings_get %s: %s", key, strerror(errno));
	return val;
}

/* The stored form of a value that must be taken. */
static const char *
set_ok(const char *key, const char *in)
{
	static char	 val[SETTINGS_VALUE_MAX];
	const char	*why = NULL;

	ck_assert_msg(settings_set(key, in, val, sizeof(val), &why) == 0,
	    "settings_set %s \"%s\" refused: %s", key, in,
	    why != NULL ? why : "(no reason)");
	ck_assert_str_eq(get(key), val);
	return val;
}

/* A value that must be refused with err, a reason, and nothing stored. */
static void
set_bad(const char *key, const char *in, int err)
{
	char		 before[SETTINGS_VALUE_MAX], val[SETTINGS_VALUE_MAX];
	const char	*why = NULL;
	int		 known;

	known = settings_get(key, before, sizeof(before)) == 0;
	errno = 0;
	ck_assert_msg(settings_set(key, in, val, sizeof(val), &why) == -1,
	    "settings_set %s \"%s\" taken as \"%s\"", key, in, val);
	ck_assert_msg(errno == err, "settings_set %s \"%s\": errno %d, not %d",
	    key, in, errno, err);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_gt(strlen(why), 0);
	if (known)
		ck_assert_str_eq(get(key), before);
}

START_TEST(open_creates)
{
	struct stat	 sb;
	char		 err[256] = "";

	ck_assert_int_eq(stat(dbpath("open.db"), &sb), -1);
	open_db("open.db");
	ck_assert_int_eq(stat(dbpath("open.db"), &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 077, 0);
	settings_close();

	/* A directory that does not exist: refused, with the path. */
	ck_assert_int_eq(settings_open(dbpath("nodir/x.db"), err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nodir/x.db"));
}
END_TEST

START_TEST(node_key_persists)
{
	uint8_t	 priv[NODE_KEYLEN], pub[NODE_KEYLEN];
	uint8_t	 priv2[NODE_KEYLEN], pub2[NODE_KEYLEN], want[NODE_KEYLEN];
	char	 b64[NODE_B64KEY_LEN + 1];

	ck_assert_int_eq(sodium_init() >= 0, 1);
	open_db("key.db");
	ck_assert_int_eq(settings_node_key(priv, pub), 0);
	ck_assert(!sodium_is_zero(priv, sizeof(priv)));
	/* Clamped as X25519 uses it. */
	ck_assert_uint_eq(priv[0] & 7, 0);
	ck_assert_uint_eq(priv[31] & 0xc0, 0x40);
	ck_assert_int_eq(crypto_scalarmult_base(want, priv), 0);
	ck_assert_mem_eq(pub, want, NODE_KEYLEN);

	ck_assert_int_eq(settings_node_key(priv2, pub2), 0);
	ck_assert_mem_eq(priv2, priv, NODE_KEYLEN);
	ck_assert_mem_eq(pub2, pub, NODE_KEYLEN);

	reopen_db("key.db");
	memset(priv2, 0, sizeof(priv2));
	memset(pub2, 0, sizeof(pub2));
	ck_assert_int_eq(settings_node_key(priv2, pub2), 0);
	ck_assert_mem_eq(priv2, priv, NODE_KEYLEN);
	ck_assert_mem_eq(pub2, pub, NODE_KEYLEN);

	/* The public key is shown in standard base64. */
	node_key_b64(pub, b64);
	ck_assert_str_eq(get("node.public_key"), b64);
	settings_close();

	/* Another database, another key. */
	open_db("key2.db");
	ck_assert_int_eq(settings_node_key(priv2, pub2), 0);
	ck_assert(memcmp(priv2, priv, NODE_KEYLEN) != 0);
	settings_close();
}
END_TEST

START_TEST(keys_and_defaults)
{
	static const char *const want[] = { "name", "control.server",
	    "control.key", "api.port", "keepalive", "stun.port",
	    "relay.region", "lan.ports", "lan.groups", "lan.rate",
	    "lan.peer_rate", "node.public_key" };
	const char *const	*keys;
	char			 host[256], expect[CONTROL_NAMESIZ], small[5];
	const char		*v;
	size_t			 i, n;

	open_db("defaults.db");
	keys = settings_keys();
	for (n = 0; keys[n] != NULL; n++) {
		ck_assert_str_ne(keys[n], "node.private_key");
		ck_assert_uint_lt(n, NELEM(want));
		ck_assert_str_eq(keys[n], want[n]);
		get(keys[n]);
	}
	ck_assert_uint_eq(n, NELEM(want));

	ck_assert_str_eq(get("api.port"), "8666");
	ck_assert_str_eq(get("keepalive"), "25");
	ck_assert_str_eq(get("stun.port"), "3478");
	ck_assert_str_eq(get("control.server"), "");
	ck_assert_str_eq(get("control.key"), "");
	ck_assert_uint_eq(settings_get_ulong("api.port"), 8666);
	ck_assert_uint_eq(settings_get_ulong("keepalive"), 25);
	ck_assert_uint_eq(strlen(get("node.public_key")), NODE_B64KEY_LEN);

	/* The name defaults to the host name, cut to 32 bytes. */
	v = get("name");
	ck_assert(control_name_valid(v));
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && isprint((unsigned char)host[i]); i++)
		;
	if (host[i] == '\0' && i > 0) {
		snprintf(expect, sizeof(expect), "%.32s", host);
		ck_assert_str_eq(v, expect);
	}

	/* A short buffer gets a terminated prefix. */
	ck_assert_int_eq(settings_get("api.port", small, sizeof(small)), 0);
	ck_assert_str_eq(small, "8666");
	ck_assert_int_eq(settings_get("keepalive", small, 2), 0);
	ck_assert_str_eq(small, "2");
	settings_close();
}
END_TEST

START_TEST(private_key_hidden)
{
	uint8_t		 priv[NODE_KEYLEN], pub[NODE_KEYLEN];
	uint8_t		 priv2[NODE_KEYLEN], pub2[NODE_KEYLEN];
	char		 val[SETTINGS_VALUE_MAX];
	const char	*why = NULL;

	open_db("hidden.db");
	/* The row exists in the table: it is still not a setting. */
	ck_assert_int_eq(settings_node_key(priv, pub), 0);
	errno = 0;
	ck_assert_int_eq(settings_get("node.private_key", val, sizeof(val)),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(settings_set("node.private_key", "AAAA", val,
	    sizeof(val), &why), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(settings_get("colour", val, sizeof(val)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(settings_get("", val, sizeof(val)), -1);
	ck_assert_int_eq(settings_get("API.PORT", val, sizeof(val)), -1);

	/* The key is unchanged by the attempt. */
	ck_assert_int_eq(settings_node_key(priv2, pub2), 0);
	ck_assert_mem_eq(priv2, priv, NODE_KEYLEN);
	ck_assert_mem_eq(pub2, pub, NODE_KEYLEN);
	settings_close();
}
END_TEST

START_TEST(set_name)
{
	char	 n32[33], n33[34];

	open_db("name.db");
	ck_assert_str_eq(set_ok("name", "lan night"), "lan night");
	ck_assert_str_eq(set_ok("name", "Jörg's Rechner ☃"),
	    "Jörg's Rechner ☃");
	memset(n32, 'a', 32);
	n32[32] = '\0';
	ck_assert_str_eq(set_ok("name", n32), n32);
	/* 32 bytes of two-byte characters: 16 of them. */
	ck_assert_str_eq(set_ok("name", "éééééééééééééééé"),
	    "éééééééééééééééé");

	memset(n33, 'b', 33);
	n33[33] = '\0';
	set_bad("name", n33, EINVAL);
	/* 33 bytes, 31 of them ASCII: the cut would split "é". */
	set_bad("name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé", EINVAL);
	set_bad("name", "", EINVAL);
	set_bad("name", "tab\there", EINVAL);
	set_bad("name", "new\nline", EINVAL);
	set_bad("name", "esc\x1b[2J", EINVAL);
	set_bad("name", "del\x7f", EINVAL);
	set_bad("name", "bad\xff", EINVAL);
	set_bad("name", "cut\xc3", EINVAL);
	set_bad("name", "overlong\xc0\xaf", EINVAL);
	set_bad("name", "surrogate\xed\xa0\x80", EINVAL);
	ck_assert_str_eq(get("name"), "éééééééééééééééé");
	settings_close();
}
END_TEST

START_TEST(set_server)
{
	char	 big[SETTINGS_VALUE_MAX + 10];

	open_db("server.db");
	ck_assert_str_eq(set_ok("control.server", "10.99.0.1:8667"),
	    "10.99.0.1:8667");
	ck_assert_str_eq(set_ok("control.server", "[::1]:8667"),
	    "[::1]:8667");
	ck_assert_str_eq(set_ok("control.server", "Control.Example.ORG:443"),
	    "control.example.org:443");
	ck_assert_str_eq(set_ok("control.server", "lanrage:65535"),
	    "lanrage:65535");

	set_bad("control.server", "1.2.3.4", EINVAL);
	set_bad("control.server", "1.2.3.4:0", EINVAL);
	set_bad("control.server", "1.2.3.4:65536", EINVAL);
	set_bad("control.server", "1.2.3.4:", EINVAL);
	set_bad("control.server", ":8667", EINVAL);
	set_bad("control.server", "::1:8667", EINVAL);
	set_bad("control.server", "not a server", EINVAL);
	set_bad("control.server", "host:80x", EINVAL);
	set_bad("control.server", " host:80", EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	set_bad("control.server", big, EINVAL);
	ck_assert_str_eq(get("control.server"), "lanrage:65535");

	/* Empty: no control server. */
	ck_assert_str_eq(set_ok("control.server", ""), "");
	settings_close();
}
END_TEST

START_TEST(set_key)
{
	uint8_t		 k[NODE_KEYLEN], zero[NODE_KEYLEN];
	char		 url[NODE_B64KEY_LEN + 1], std[NODE_B64KEY_LEN + 1];
	char		 zb64[NODE_B64KEY_LEN + 1];

	ck_assert_int_eq(sodium_init() >= 0, 1);
	open_db("ctlkey.db");
	/* 0xfb/0xff bytes make '-' and '_' in base64url, '+' and '/' else. */
	memset(k, 0xfb, sizeof(k));
	k[0] = 0xff;
	sodium_bin2base64(url, sizeof(url), k, sizeof(k),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(std, sizeof(std), k, sizeof(k),
	    sodium_base64_VARIANT_ORIGINAL);
	ck_assert(strchr(url, '-') != NULL || strchr(url, '_') != NULL);
	ck_assert_uint_eq(strlen(url), 43);
	ck_assert_uint_eq(strlen(std), 44);
	ck_assert_int_eq(std[43], '=');

	ck_assert_str_eq(set_ok("control.key", url), std);
	ck_assert_str_eq(set_ok("control.key", std), std);
	ck_assert_str_eq(set_ok("control.key", ""), "");
	set_ok("control.key", url);

	set_bad("control.key", "garbage", EINVAL);
	set_bad("control.key", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=",
	    EINVAL);
	/* 31 bytes. */
	sodium_bin2base64(zb64, sizeof(zb64), k, sizeof(k) - 1,
	    sodium_base64_VARIANT_ORIGINAL);
	set_bad("control.key", zb64, EINVAL);
	memset(zero, 0, sizeof(zero));
	sodium_bin2base64(zb64, sizeof(zb64), zero, sizeof(zero),
	    sodium_base64_VARIANT_ORIGINAL);
	set_bad("control.key", zb64, EINVAL);
	sodium_bin2base64(zb64, sizeof(zb64), zero, sizeof(zero),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	set_bad("control.key", zb64, EINVAL);
	ck_assert_str_eq(get("control.key"), std);
	settings_close();
}
END_TEST

START_TEST(set_port)
{
	open_db("port.db");
	ck_assert_str_eq(set_ok("api.port", "8666"), "8666");
	ck_assert_str_eq(set_ok("api.port", "1"), "1");
	ck_assert_str_eq(set_ok("api.port", "65535"), "65535");
	ck_assert_str_eq(set_ok("api.port", "9000"), "9000");
	ck_assert_uint_eq(settings_get_ulong("api.port"), 9000);

	set_bad("api.port", "0", EINVAL);
	set_bad("api.port", "65536", EINVAL);
	set_bad("api.port", "12a", EINVAL);
	set_bad("api.port", "-1", EINVAL);
	set_bad("api.port", "+80", EINVAL);
	set_bad("api.port", " 80", EINVAL);
	set_bad("api.port", "80 ", EINVAL);
	set_bad("api.port", "", EINVAL);
	set_bad("api.port", "99999999999999999999999", EINVAL);
	ck_assert_str_eq(get("api.port"), "9000");
	settings_close();
}
END_TEST

START_TEST(set_keepalive)
{
	open_db("keepalive.db");
	ck_assert_str_eq(set_ok("keepalive", "0"), "0");
	ck_assert_str_eq(set_ok("keepalive", "3600"), "3600");
	ck_assert_str_eq(set_ok("keepalive", "15"), "15");
	ck_assert_uint_eq(settings_get_ulong("keepalive"), 15);
	set_bad("keepalive", "3601", EINVAL);
	set_bad("keepalive", "-1", EINVAL);
	set_bad("keepalive", "1.5", EINVAL);
	set_bad("keepalive", "", EINVAL);
	ck_assert_str_eq(get("keepalive"), "15");
	settings_close();
}
END_TEST

START_TEST(set_stun_port)
{
	open_db("stunport.db");
	ck_assert_str_eq(set_ok("stun.port", "0"), "0");	/* off */
	ck_assert_str_eq(set_ok("stun.port", "65535"), "65535");
	ck_assert_str_eq(set_ok("stun.port", "3479"), "3479");
	ck_assert_uint_eq(settings_get_ulong("stun.port"), 3479);
	set_bad("stun.port", "65536", EINVAL);
	set_bad("stun.port", "-1", EINVAL);
	set_bad("stun.port", "x", EINVAL);
	ck_assert_str_eq(get("relay.region"), "");
	ck_assert_str_eq(set_ok("relay.region", "eu-west-2"), "eu-west-2");
	ck_assert_str_eq(set_ok("relay.region", ""), "");
	set_bad("relay.region", "EU", EINVAL);
	set_bad("relay.region", "eu west", EINVAL);
	set_bad("relay.region", "abcdefghijklmnopqrstuvwxyz0123456", EINVAL);
	ck_assert_str_eq(get("stun.port"), "3479");
	settings_close();
}
END_TEST

/* LAN emulation: lists are normalised, bad ones refused. */
START_TEST(set_lan)
{
	char	 many[400];
	size_t	 i;

	open_db("lan.db");
	ck_assert_str_eq(get("lan.ports"),
	    "1900, 4445, 5353, 6073, 6112, 7777, 27015-27016");
	ck_assert_str_eq(get("lan.groups"), "224.0.0.251, 239.255.255.250");
	ck_assert_uint_eq(settings_get_ulong("lan.rate"), 100);
	ck_assert_uint_eq(settings_get_ulong("lan.peer_rate"), 200);
	ck_assert_str_eq(set_ok("lan.ports", "4445,27015 - 27016"),
	    "4445, 27015-27016");
	ck_assert_str_eq(set_ok("lan.ports", ""), "");
	set_bad("lan.ports", "0", EINVAL);
	set_bad("lan.ports", "70000", EINVAL);
	set_bad("lan.ports", "9-3", EINVAL);
	set_bad("lan.ports", "http", EINVAL);
	/* 32 ranges of 11 bytes do not fit a value */
	many[0] = '\0';
	for (i = 0; i < 32; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s%zu-%zu", i ? "," : "", 10000 + 2 * i, 10001 + 2 * i);
	set_bad("lan.ports", many, EINVAL);
	ck_assert_str_eq(set_ok("lan.groups", "239.1.2.3,224.0.0.251"),
	    "239.1.2.3, 224.0.0.251");
	ck_assert_str_eq(set_ok("lan.groups", ""), "");
	set_bad("lan.groups", "10.0.0.1", EINVAL);
	set_bad("lan.groups", "ff02::fb", EINVAL);
	ck_assert_str_eq(set_ok("lan.rate", "100000"), "100000");
	set_bad("lan.rate", "0", EINVAL);
	set_bad("lan.rate", "100001", EINVAL);
	set_bad("lan.peer_rate", "-5", EINVAL);
	ck_assert_str_eq(get("lan.ports"), "");
	settings_close();
}
END_TEST

START_TEST(set_refused_keys)
{
	char		 val[SETTINGS_VALUE_MAX], pub[SETTINGS_VALUE_MAX];
	const char	*why;

	open_db("refused.db");
	snprintf(pub, sizeof(pub), "%s", get("node.public_key"));
	why = NULL;
	errno = 0;
	ck_assert_int_eq(settings_set("node.public_key", pub, val, sizeof(val),
	    &why), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(why);
	set_bad("node.public_key", "", EPERM);
	ck_assert_str_eq(get("node.public_key"), pub);

	set_bad("colour", "blue", ENOENT);
	set_bad("", "x", ENOENT);
	set_bad("Name", "x", ENOENT);
	ck_assert_int_eq(settings_get("colour", val, sizeof(val)), -1);
	settings_close();
}
END_TEST

/* The web UI's secret: 64 hex digits, kept, and no setting shows it. */
START_TEST(http_secret)
{
	char		 a[2 * HTTP_SECRET_LEN + 1], b[sizeof(a)], val[256];
	const char	*why;
	size_t		 i;

	open_db("secret.db");
	ck_assert_int_eq(settings_http_secret(a, sizeof(a)), 0);
	ck_assert_uint_eq(strlen(a), 2 * HTTP_SECRET_LEN);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), strlen(a));
	ck_assert_int_eq(settings_http_secret(b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(settings_http_secret(b, sizeof(b) - 1), -1);
	reopen_db("secret.db");
	ck_assert_int_eq(settings_http_secret(b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(settings_get("http.secret", val, sizeof(val)), -1);
	ck_assert_int_eq(settings_set("http.secret", "00", val, sizeof(val),
	    &why), -1);
	for (i = 0; settings_keys()[i] != NULL; i++)
		ck_assert_str_ne(settings_keys()[i], "http.secret");
	settings_close();

	/* another install, another secret */
	open_db("secret2.db");
	ck_assert_int_eq(settings_http_secret(b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);
	settings_close();
}
END_TEST

START_TEST(values_persist)
{
	char	 key[NODE_B64KEY_LEN + 1], pub[SETTINGS_VALUE_MAX];
	uint8_t	 k[NODE_KEYLEN];

	open_db("persist.db");
	randombytes_buf(k, sizeof(k));
	k[0] |= 1;
	node_key_b64(k, key);
	set_ok("name", "persistent ☃");
	set_ok("control.server", "Server.Example:8667");
	set_ok("control.key", key);
	set_ok("api.port", "8123");
	set_ok("keepalive", "0");
	snprintf(pub, sizeof(pub), "%s", get("node.public_key"));

	reopen_db("persist.db");
	ck_assert_str_eq(get("name"), "persistent ☃");
	ck_assert_str_eq(get("control.server"), "server.example:8667");
	ck_assert_str_eq(get("control.key"), key);
	ck_assert_str_eq(get("api.port"), "8123");
	ck_assert_str_eq(get("keepalive"), "0");
	ck_assert_str_eq(get("node.public_key"), pub);
	ck_assert_uint_eq(settings_get_ulong("api.port"), 8123);
	settings_close();

	/* Another file keeps its defaults. */
	open_db("persist2.db");
	ck_assert_str_eq(get("api.port"), "8666");
	ck_assert_str_eq(get("control.server"), "");
	settings_close();
}
END_TEST

static void
endpoint(struct control_endpoint *e, uint8_t kind, const char *a,
    uint16_t port)
{
	e->kind = kind;
	ck_assert_int_eq(addr_parse(a, &e->addr), 0);
	e->port = port;
}

/* A party of two, each member with endpoints; calloc'd, caller frees. */
static struct control_state *
state_new(uint64_t seq)
{
	struct control_state	*st;
	struct control_member	*m;
	size_t			 i;

	ck_assert_ptr_nonnull(st = calloc(1, sizeof(*st)));
	for (i = 0; i < CONTROL_IDLEN; i++)
		st->id[i] = (uint8_t)(0xa0 + i);
	snprintf(st->name, sizeof(st->name), "lan night ☃");
	ck_assert_int_eq(prefix_parse("10.66.0.0/16", &st->subnet), 0);
	st->seq = seq;
	st->nmembers = 2;

	m = &st->members[0];
	memset(m->key, 0x11, CONTROL_KEYLEN);
	snprintf(m->name, sizeof(m->name), "host");
	ck_assert_int_eq(addr_parse("10.66.0.1", &m->addr), 0);
	m->flags = CONTROL_MEMBER_ONLINE;
	m->ep.n = 2;
	endpoint(&m->ep.c[0], CONTROL_EP_LAN, "192.168.1.10", 51820);
	endpoint(&m->ep.c[1], CONTROL_EP_STUN, "2001:db8::1", 40000);
	memcpy(st->host_key, m->key, CONTROL_KEYLEN);

	m = &st->members[1];
	memset(m->key, 0x22, CONTROL_KEYLEN);
	snprintf(m->name, sizeof(m->name), "guest");
	ck_assert_int_eq(addr_parse("10.66.0.2", &m->addr), 0);
	m->flags = 0;
	m->ep.n = 1;
	endpoint(&m->ep.c[0], CONTROL_EP_CONFIGURED, "203.0.113.7", 1);
	return st;
}

static void
endpoints_eq(const struct control_endpoints *a,
    const struct control_endpoints *b)
{
	size_t	 i;

	ck_assert_uint_eq(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_uint_eq(a->c[i].kind, b->c[i].kind);
		ck_assert(addr_eq(&a->c[i].addr, &b->c[i].addr));
		ck_assert_uint_eq(a->c[i].port, b->c[i].port);
	}
}

static void
state_eq(const struct control_state *a, const struct control_state *b)
{
	const struct control_member	*ma, *mb;
	size_t				 i;

	ck_assert_mem_eq(a->id, b->id, CONTROL_IDLEN);
	ck_assert_str_eq(a->name, b->name);
	ck_assert(addr_eq(&a->subnet.addr, &b->subnet.addr));
	ck_assert_uint_eq(a->subnet.len, b->subnet.len);
	ck_assert_mem_eq(a->host_key, b->host_key, CONTROL_KEYLEN);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->nmembers, b->nmembers);
	for (i = 0; i < a->nmembers; i++) {
		ma = &a->members[i];
		mb = &b->members[i];
		ck_assert_mem_eq(ma->key, mb->key, CONTROL_KEYLEN);
		ck_assert_str_eq(ma->name, mb->name);
		ck_assert(addr_eq(&ma->addr, &mb->addr));
		ck_assert_uint_eq(ma->flags, mb->flags);
		endpoints_eq(&ma->ep, &mb->ep);
	}
}

START_TEST(party_round_trip)
{
	struct control_state	*st, *got;

	open_db("party.db");
	ck_assert_ptr_nonnull(got = calloc(1, sizeof(*got)));
	/* Nothing stored yet. */
	ck_assert_int_eq(settings_party_load(got), 0);
	ck_assert_uint_eq(got->nmembers, 0);

	st = state_new(41);
	ck_assert_int_eq(settings_party_save(st), 0);
	ck_assert_int_eq(settings_party_load(got), 1);
	state_eq(got, st);
	/* Only the fields that were set: a decoded copy is the same. */
	ck_assert_str_eq(got->members[1].name, "guest");
	ck_assert_uint_eq(got->members[0].ep.c[1].addr.af, AF_INET6);
	ck_assert_uint_eq(got->members[1].ep.c[0].port, 1);

	/* A later state replaces it, and it survives a reopen. */
	st->seq = 42;
	st->members[1].ep.n = 0;
	ck_assert_int_eq(settings_party_save(st), 0);
	reopen_db("party.db");
	memset(got, 0, sizeof(*got));
	ck_assert_int_eq(settings_party_load(got), 1);
	ck_assert_uint_eq(got->seq, 42);
	ck_assert_uint_eq(got->members[1].ep.n, 0);
	state_eq(got, st);

	/* An invalid state (no member is the host) is not stored. */
	memset(st->host_key, 0x33, CONTROL_KEYLEN);
	ck_assert_int_eq(settings_party_save(st), -1);
	memset(got, 0, sizeof(*got));
	ck_assert_int_eq(settings_party_load(got), 1);
	ck_assert_uint_eq(got->seq, 42);

	/* NULL: none; idempotent. */
	ck_assert_int_eq(settings_party_save(NULL), 0);
	ck_assert_int_eq(settings_party_load(got), 0);
	ck_assert_int_eq(settings_party_save(NULL), 0);
	reopen_db("party.db");
	ck_assert_int_eq(settings_party_load(got), 0);
	settings_close();
	free(st);
	free(got);
}
END_TEST

static Suite *
settings_suite(void)
{
	Suite	*s = suite_create("settings");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, open_creates);
	tcase_add_test(tc, node_key_persists);
	tcase_add_test(tc, keys_and_defaults);
	tcase_add_test(tc, private_key_hidden);
	tcase_add_test(tc, set_name);
	tcase_add_test(tc, set_server);
	tcase_add_test(tc, set_key);
	tcase_add_test(tc, set_port);
	tcase_add_test(tc, set_keepalive);
	tcase_add_test(tc, set_stun_port);
	tcase_add_test(tc, set_lan);
	tcase_add_test(tc, set_refused_keys);
	tcase_add_test(tc, values_persist);
	tcase_add_test(tc, http_secret);
	tcase_add_test(tc, party_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(settings_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
