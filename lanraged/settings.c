/*
 * lanraged's settings and state in SQLite: the node's key pair, the
 * settings of proto/api.md, and the last party state (so that a restart
 * without the control server still brings the party's tunnels up).
 */
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/buf.h"
#include "lib/db.h"
#include "lib/lan.h"

#define PRIVATE_KEY	"node.private_key"	/* never public */
#define HTTP_SECRET	"http.secret"		/* only in the served UI page */

typedef int (*settings_check)(const char *in, char *out, size_t len,
    const char **why);

struct setting {
	const char	*key;
	const char	*def;		/* NULL: computed */
	settings_check	 check;	/* NULL: read-only */
};

static sqlite3		*db;

static const char *const settings_migrations[] = {
	"CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE party (one INTEGER PRIMARY KEY CHECK (one = 1),"
	"  state BLOB NOT NULL);",
};

void
node_key_b64(const uint8_t key[NODE_KEYLEN], char out[NODE_B64KEY_LEN + 1])
{
	sodium_bin2base64(out, NODE_B64KEY_LEN + 1, key, NODE_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

/* Standard or URL-safe base64, padded or not (controld prints base64url). */
int
node_key_parse(const char *s, uint8_t key[NODE_KEYLEN])
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING,
	};
	uint8_t		 k[NODE_KEYLEN];
	size_t		 i, n;

	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (sodium_base642bin(k, sizeof(k), s, strlen(s), NULL, &n,
		    NULL, variants[i]) == 0 && n == NODE_KEYLEN &&
		    !sodium_is_zero(k, sizeof(k))) {
			memcpy(key, k, NODE_KEYLEN);
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

static int
check_name(const char *in, char *out, size_t len, const char **why)
{
	if (!control_name_valid(in)) {
		*why = "a name is 1 to 32 bytes of UTF-8 without control "
		    "characters";
		return -1;
	}
	snprintf(out, len, "%s", in);
	return 0;
}

/* host:port; DNS names are compared lowercase. */
static int
check_server(const char *in, char *out, size_t len, const char **why)
{
	char		 lower[LR_HOSTPORT_MAXLEN + 1], host[LR_INVITE_HOSTSIZ];
	uint16_t	 port;
	size_t		 i;

	if (*in == '\0') {
		*out = '\0';
		return 0;
	}
	for (i = 0; in[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)in[i]);
	lower[i] = '\0';
	if (in[i] != '\0' || lr_hostport_parse(lower, host, sizeof(host),
	    &port) == -1) {
		*why = "expected host:port (a DNS name, an IPv4 address or "
		    "[an IPv6 address], and a port 1-65535)";
		return -1;
	}
	snprintf(out, len, "%s", lower);
	return 0;
}

static int
check_key(const char *in, char *out, size_t len, const char **why)
{
	uint8_t	 k[NODE_KEYLEN];
	char	 b64[NODE_B64KEY_LEN + 1];

	if (*in == '\0') {
		*out = '\0';
		return 0;
	}
	if (node_key_parse(in, k) == -1) {
		*why = "expected a 32-byte public key in base64";
		return -1;
	}
	node_key_b64(k, b64);
	snprintf(out, len, "%s", b64);
	return 0;
}

static int
check_uint(const char *in, unsigned long lo, unsigned long hi, char *out,
    size_t len)
{
	unsigned long	 v;
	char		*end;

	if (*in < '0' || *in > '9')
		return -1;
	errno = 0;
	v = strtoul(in, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	snprintf(out, len, "%lu", v);
	return 0;
}

static int
check_port(const char *in, char *out, size_t len, const char **why)
{
	if (check_uint(in, 1, 65535, out, len) == -1) {
		*why = "expected a port number 1-65535";
		return -1;
	}
	return 0;
}

static int
check_stun_port(const char *in, char *out, size_t len, const char **why)
{
	if (check_uint(in, 0, 65535, out, len) == -1) {
		*why = "expected a port number 0-65535 (0: no netcheck)";
		return -1;
	}
	return 0;
}

static int
check_keepalive(const char *in, char *out, size_t len, const char **why)
{
	if (check_uint(in, 0, 3600, out, len) == -1) {
		*why = "expected seconds 0-3600 (0: off)";
		return -1;
	}
	return 0;
}

/* A relay region as controld names them: [a-z0-9-], or empty. */
static int
check_region(const char *in, char *out, size_t len, const char **why)
{
	if (*in != '\0' && !control_region_valid(in)) {
		*why = "expected 1-32 of a-z, 0-9 and '-' (or empty)";
		return -1;
	}
	snprintf(out, len, "%s", in);
	return 0;
}

/* Ports, as "1900, 4445, 27015-27016": sorted as given, normalised. */
static int
check_lan_ports(const char *in, char *out, size_t len, const char **why)
{
	struct conf_ports	 ps;
	size_t			 i, off = 0;
	int			 n;

	if (*in == '\0') {
		*out = '\0';
		return 0;
	}
	if (conf_parse_ports(in, &ps, why) == -1)
		return -1;
	for (i = 0; i < ps.n; i++) {
		if (ps.r[i].lo == ps.r[i].hi)
			n = snprintf(out + off, len - off, "%s%u",
			    i ? ", " : "", ps.r[i].lo);
		else
			n = snprintf(out + off, len - off, "%s%u-%u",
			    i ? ", " : "", ps.r[i].lo, ps.r[i].hi);
		if (n < 0 || (size_t)n >= len - off) {
			*why = "too long: use ranges";
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
check_lan_groups(const char *in, char *out, size_t len, const char **why)
{
	uint32_t	 g[LAN_MAX_GROUPS];
	size_t		 i, n, off = 0;
	int		 w;

	if (lan_parse_groups(in, g, &n, why) == -1)
		return -1;
	*out = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(out + off, len - off, "%s%u.%u.%u.%u",
		    i ? ", " : "", g[i] >> 24, (g[i] >> 16) & 0xff,
		    (g[i] >> 8) & 0xff, g[i] & 0xff);
		if (w < 0 || (size_t)w >= len - off) {
			*why = "too long";
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

static int
check_lan_rate(const char *in, char *out, size_t len, const char **why)
{
	if (check_uint(in, 1, LAN_RATE_MAX, out, len) == -1) {
		*why = "expected datagrams per second 1-100000";
		return -1;
	}
	return 0;
}

static const struct setting settings_table[] = {
	{ "name",		NULL,	check_name },
	{ "control.server",	"",	check_server },
	{ "control.key",	"",	check_key },
	{ "api.port",		"8666",	check_port },
	{ "keepalive",		"25",	check_keepalive },
	{ "stun.port",		"3478",	check_stun_port },
	{ "relay.region",	"",	check_region },
	{ "lan.ports",		"1900, 4445, 5353, 6073, 6112, 7777, "
				"27015-27016",	check_lan_ports },
	{ "lan.groups",		"224.0.0.251, 239.255.255.250",
				check_lan_groups },
	{ "lan.rate",		"100",	check_lan_rate },
	{ "lan.peer_rate",	"200",	check_lan_rate },
	{ "node.public_key",	NULL,	NULL },
};

#define NSETTINGS	(sizeof(settings_table) / sizeof(settings_table[0]))

static const struct setting *
settings_find(const char *key)
{
	size_t	 i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings_table[i].key, key) == 0)
			return &settings_table[i];
	return NULL;
}

const char *const *
settings_keys(void)
{
	static const char	*keys[NSETTINGS + 1];
	size_t			 i;

	for (i = 0; i < NSETTINGS; i++)
		keys[i] = settings_table[i].key;
	return keys;
}

/* The stored value of key: 1, 0 when absent, -1 on a database error. */
static int
settings_row(const char *key, char *val, size_t len)
{
	sqlite3_stmt	*st;
	const char	*v;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (v = (const char *)sqlite3_column_text(st,
	    0)) != NULL) {
		snprintf(val, len, "%s", v);
		rc = 1;
	} else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc == -1)
		errno = EIO;
	return rc;
}

static int
settings_store(const char *key, const char *val)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO settings "
	    "(key, value) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK) {
		errno = EIO;
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
settings_open(const char *path, char *err, size_t errlen)
{
	const char	*msg;

	if (db_open(path, settings_migrations, 1, &db, &msg) == -1) {
		snprintf(err, errlen, "%s: %s", path, msg);
		return -1;
	}
	return 0;
}

void
settings_close(void)
{
	db_close(db);
	db = NULL;
}

int
settings_node_key(uint8_t priv[NODE_KEYLEN], uint8_t pub[NODE_KEYLEN])
{
	char	 b64[NODE_B64KEY_LEN + 1];
	int	 rc;

	if ((rc = settings_row(PRIVATE_KEY, b64, sizeof(b64))) == -1)
		return -1;
	/* A damaged key is an error, not a reason to become someone else. */
	if (rc == 1 && node_key_parse(b64, priv) == -1) {
		sodium_memzero(b64, sizeof(b64));
		errno = EINVAL;
		return -1;
	}
	if (rc == 0) {
		randombytes_buf(priv, NODE_KEYLEN);
		/* Clamped as X25519 and WireGuard use it. */
		priv[0] &= 248;
		priv[31] = (priv[31] & 127) | 64;
		node_key_b64(priv, b64);
		rc = settings_store(PRIVATE_KEY, b64);
		sodium_memzero(b64, sizeof(b64));
		if (rc == -1)
			return -1;
	}
	sodium_memzero(b64, sizeof(b64));
	return crypto_scalarmult_base(pub, priv) == 0 ? 0 : -1;
}

int
settings_http_secret(char *hex, size_t len)
{
	uint8_t	 raw[HTTP_SECRET_LEN];
	int	 rc;

	if (len < 2 * HTTP_SECRET_LEN + 1) {
		errno = ENOSPC;
		return -1;
	}
	if ((rc = settings_row(HTTP_SECRET, hex, len)) == -1)
		return -1;
	if (rc == 1 && strlen(hex) == 2 * HTTP_SECRET_LEN &&
	    strspn(hex, "0123456789abcdef") == 2 * HTTP_SECRET_LEN)
		return 0;
	/* none yet, or damaged: a new one (the UI page gets it anew) */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, len, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return settings_store(HTTP_SECRET, hex);
}

/* The host name, made into a valid name ("lanrage" when nothing is left). */
static void
settings_default_name(char *val, size_t len)
{
	char	 host[256];
	size_t	 i, n = 0;

	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && n < CONTROL_NAME_MAX && n + 1 < len;
	    i++)
		if (isprint((unsigned char)host[i]))
			val[n++] = host[i];
	val[n] = '\0';
	if (!control_name_valid(val))
		snprintf(val, len, "lanrage");
}

int
settings_get(const char *key, char *val, size_t len)
{
	const struct setting	*s;
	uint8_t			 priv[NODE_KEYLEN], pub[NODE_KEYLEN];
	char			 b64[NODE_B64KEY_LEN + 1];
	int			 rc;

	if ((s = settings_find(key)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (strcmp(key, "node.public_key") == 0) {
		rc = settings_node_key(priv, pub);
		sodium_memzero(priv, sizeof(priv));
		if (rc == -1)
			return -1;
		node_key_b64(pub, b64);
		snprintf(val, len, "%s", b64);
		return 0;
	}
	if ((rc = settings_row(key, val, len)) != 0)
		return rc == 1 ? 0 : -1;
	if (s->def != NULL)
		snprintf(val, len, "%s", s->def);
	else
		settings_default_name(val, len);
	return 0;
}

unsigned long
settings_get_ulong(const char *key)
{
	char	 v[SETTINGS_VALUE_MAX];

	if (settings_get(key, v, sizeof(v)) == -1)
		return 0;
	return strtoul(v, NULL, 10);
}

int
settings_set(const char *key, const char *in, char *val, size_t len,
    const char **why)
{
	const struct setting	*s;

	if ((s = settings_find(key)) == NULL) {
		*why = "unknown setting";
		errno = ENOENT;
		return -1;
	}
	if (s->check == NULL) {
		*why = "read-only setting";
		errno = EPERM;
		return -1;
	}
	if (strnlen(in, SETTINGS_VALUE_MAX) >= SETTINGS_VALUE_MAX) {
		*why = "value too long";
		errno = EINVAL;
		return -1;
	}
	if (s->check(in, val, len, why) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (settings_store(key, val) == -1) {
		*why = "cannot write the database";
		return -1;
	}
	return 0;
}

int
settings_party_save(const struct control_state *st)
{
	sqlite3_stmt	*q;
	struct buf	 b;
	const char	*msg;
	int		 rc;

	if (st == NULL)
		return db_exec(db, "DELETE FROM party", &msg);
	if (buf_init(&b, 4096, CONTROL_MAXMSG) == -1)
		return -1;
	if (control_enc_state(&b, st) == -1 || sqlite3_prepare_v2(db,
	    "INSERT OR REPLACE INTO party (one, state) VALUES (1, ?)", -1, &q,
	    NULL) != SQLITE_OK) {
		buf_free(&b);
		errno = EIO;
		return -1;
	}
	sqlite3_bind_blob(q, 1, b.data, (int)b.len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	buf_free(&b);
	if (rc != SQLITE_DONE) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
settings_party_load(struct control_state *st)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT state FROM party WHERE one = 1",
	    -1, &q, NULL) != SQLITE_OK) {
		errno = EIO;
		return -1;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		rc = control_dec_state(sqlite3_column_blob(q, 0),
		    (size_t)sqlite3_column_bytes(q, 0), st) == 0 ? 1 : -1;
	else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	if (rc == -1)
		errno = EIO;
	return rc;
}
