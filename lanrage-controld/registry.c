/*
 * The controld registry on SQLite.  Every statement is prepared once, in
 * reg_open(), and kept for the life of the handle; each public mutating
 * call is one BEGIN IMMEDIATE ... COMMIT.  Host numbers, not addresses,
 * are stored: the address is the party's network plus the host number,
 * which makes "lowest free" one indexed query.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "lib/addr.h"
#include "lib/db.h"
#include "lanrage-controld/registry.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define REG_HASH_LEN	32

static const char *const reg_schema[] = {
	/* 1: the first schema. */
	"CREATE TABLE nodes ("
	"  key BLOB PRIMARY KEY CHECK (length(key) = 32),"
	"  name TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE parties ("
	"  id BLOB PRIMARY KEY CHECK (length(id) = 16),"
	"  name TEXT NOT NULL,"
	"  host BLOB NOT NULL REFERENCES nodes(key) ON DELETE CASCADE,"
	"  subnet TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  emptied_at INTEGER"
	") WITHOUT ROWID;"
	"CREATE INDEX parties_host ON parties(host);"
	"CREATE INDEX parties_emptied ON parties(emptied_at)"
	"  WHERE emptied_at IS NOT NULL;"
	"CREATE TABLE members ("
	"  party BLOB NOT NULL REFERENCES parties(id) ON DELETE CASCADE,"
	"  node BLOB NOT NULL REFERENCES nodes(key) ON DELETE CASCADE,"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 1 AND 6),"
	"  joined_at INTEGER,"
	"  last_heartbeat INTEGER NOT NULL,"
	"  PRIMARY KEY (party, node)"
	") WITHOUT ROWID;"
	"CREATE INDEX members_node ON members(node);"
	"CREATE INDEX members_active_hb ON members(last_heartbeat)"
	"  WHERE state = 1;"
	"CREATE TABLE allocations ("
	"  party BLOB NOT NULL REFERENCES parties(id) ON DELETE CASCADE,"
	"  node BLOB NOT NULL REFERENCES nodes(key) ON DELETE CASCADE,"
	"  hostnum INTEGER NOT NULL CHECK (hostnum > 0),"
	"  PRIMARY KEY (party, node),"
	"  UNIQUE (party, hostnum)"
	") WITHOUT ROWID;"
	"CREATE INDEX allocations_node ON allocations(node);"
	"CREATE TABLE invites ("
	"  code_hash BLOB PRIMARY KEY CHECK (length(code_hash) = 32),"
	"  party BLOB NOT NULL REFERENCES parties(id) ON DELETE CASCADE,"
	"  created_by BLOB NOT NULL REFERENCES nodes(key) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  max_uses INTEGER NOT NULL CHECK (max_uses > 0),"
	"  uses INTEGER NOT NULL DEFAULT 0"
	"    CHECK (uses >= 0 AND uses <= max_uses),"
	"  needs_approval INTEGER NOT NULL CHECK (needs_approval IN (0, 1))"
	") WITHOUT ROWID;"
	"CREATE INDEX invites_party ON invites(party);"
	"CREATE INDEX invites_created_by ON invites(created_by);"
	"CREATE INDEX invites_expires ON invites(expires_at);"
	"CREATE TABLE relays ("
	"  key BLOB PRIMARY KEY CHECK (length(key) = 32),"
	"  addr TEXT NOT NULL,"
	"  region TEXT NOT NULL,"
	"  capacity INTEGER NOT NULL,"
	"  load INTEGER NOT NULL,"
	"  last_report INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX relays_report ON relays(last_report);"
	"CREATE INDEX relays_region ON relays(region, load);",
};

enum reg_st {
	ST_NODE_SEEN,
	ST_HOST_COUNT,
	ST_PARTY_INSERT,
	ST_PARTY_GET,
	ST_PARTY_DELETE,
	ST_PARTY_EMPTIED,
	ST_PARTY_FILLED,
	ST_PARTY_EXPIRE,
	ST_MEMBER_GET,
	ST_MEMBER_PUT,
	ST_MEMBER_STATE,
	ST_MEMBER_ACTIVATE,
	ST_MEMBER_COUNT,
	ST_MEMBER_EXPIRE,
	ST_ALLOC_GET,
	ST_ALLOC_FREE,
	ST_ALLOC_RECLAIM,
	ST_ALLOC_INSERT,
	ST_INVITE_COUNT,
	ST_INVITE_INSERT,
	ST_INVITE_GET,
	ST_INVITE_USE,
	ST_INVITE_EXPIRE,
	ST_HB_MEMBERS,
	ST_HB_NODE,
	ST_PARTY_MEMBERS,
	ST_NODE_PARTIES,
	ST_RELAY_PUT,
	ST_RELAY_LIST,
	ST_RELAY_EXPIRE,
	ST_MAX
};

/* Member states as SQL literals: 1 ACTIVE, 2 INVITED, 3 PENDING. */
static const char *const reg_sql[ST_MAX] = {
	[ST_NODE_SEEN] =
	    "INSERT INTO nodes (key, name, created, last_seen)"
	    " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (key) DO UPDATE SET"
	    " name = excluded.name,"
	    " last_seen = max(last_seen, excluded.last_seen)",
	[ST_HOST_COUNT] =
	    "SELECT count(*) FROM parties WHERE host = ?1",
	[ST_PARTY_INSERT] =
	    "INSERT INTO parties (id, name, host, subnet, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PARTY_GET] =
	    "SELECT host, subnet FROM parties WHERE id = ?1",
	[ST_PARTY_DELETE] =
	    "DELETE FROM parties WHERE id = ?1",
	[ST_PARTY_EMPTIED] =
	    "UPDATE parties SET emptied_at = ?2 WHERE id = ?1"
	    " AND emptied_at IS NULL AND NOT EXISTS (SELECT 1 FROM members"
	    " WHERE party = ?1 AND state = 1)",
	[ST_PARTY_FILLED] =
	    "UPDATE parties SET emptied_at = NULL WHERE id = ?1"
	    " AND emptied_at IS NOT NULL",
	[ST_PARTY_EXPIRE] =
	    "DELETE FROM parties WHERE emptied_at <= ?1 RETURNING id",
	[ST_MEMBER_GET] =
	    "SELECT state FROM members WHERE party = ?1 AND node = ?2",
	[ST_MEMBER_PUT] =
	    "INSERT INTO members (party, node, state, last_heartbeat)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (party, node) DO UPDATE"
	    " SET state = excluded.state,"
	    " last_heartbeat = excluded.last_heartbeat",
	[ST_MEMBER_STATE] =
	    "UPDATE members SET state = ?3 WHERE party = ?1 AND node = ?2",
	[ST_MEMBER_ACTIVATE] =
	    "INSERT INTO members (party, node, state, joined_at,"
	    " last_heartbeat) VALUES (?1, ?2, 1, ?3, ?3)"
	    " ON CONFLICT (party, node) DO UPDATE SET state = 1,"
	    " joined_at = ?3, last_heartbeat = ?3",
	[ST_MEMBER_COUNT] =
	    "SELECT count(*) FROM members WHERE party = ?1"
	    " AND state IN (1, 3)",
	[ST_MEMBER_EXPIRE] =
	    "UPDATE members SET state = 6 WHERE state = 1"
	    " AND last_heartbeat < ?1 RETURNING party, node",
	[ST_ALLOC_GET] =
	    "SELECT hostnum FROM allocations WHERE party = ?1 AND node = ?2",
	/* Host number 1 is always taken, so a gap follows some row. */
	[ST_ALLOC_FREE] =
	    "SELECT a.hostnum + 1 FROM allocations a WHERE a.party = ?1"
	    " AND a.hostnum + 1 <= ?2 AND NOT EXISTS (SELECT 1"
	    " FROM allocations b WHERE b.party = ?1"
	    " AND b.hostnum = a.hostnum + 1) ORDER BY a.hostnum LIMIT 1",
	[ST_ALLOC_RECLAIM] =
	    "DELETE FROM allocations WHERE party = ?1 AND node = ("
	    " SELECT a.node FROM allocations a LEFT JOIN members m"
	    " ON m.party = a.party AND m.node = a.node"
	    " WHERE a.party = ?1 AND a.node != ?2"
	    " AND coalesce(m.state, 0) NOT IN (1, 2, 3)"
	    " ORDER BY coalesce(m.last_heartbeat, 0), a.hostnum LIMIT 1)"
	    " RETURNING hostnum",
	[ST_ALLOC_INSERT] =
	    "INSERT INTO allocations (party, node, hostnum)"
	    " VALUES (?1, ?2, ?3)",
	[ST_INVITE_COUNT] =
	    "SELECT count(*) FROM invites WHERE party = ?1"
	    " AND expires_at > ?2",
	[ST_INVITE_INSERT] =
	    "INSERT INTO invites (code_hash, party, created_by, created,"
	    " expires_at, max_uses, needs_approval)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_INVITE_GET] =
	    "SELECT party, expires_at, max_uses, uses, needs_approval"
	    " FROM invites WHERE code_hash = ?1",
	[ST_INVITE_USE] =
	    "UPDATE invites SET uses = uses + 1 WHERE code_hash = ?1",
	[ST_INVITE_EXPIRE] =
	    "DELETE FROM invites WHERE expires_at <= ?1",
	[ST_HB_MEMBERS] =
	    "UPDATE members SET last_heartbeat = max(last_heartbeat, ?2)"
	    " WHERE node = ?1 AND state = 1",
	[ST_HB_NODE] =
	    "UPDATE nodes SET last_seen = max(last_seen, ?2) WHERE key = ?1",
	[ST_PARTY_MEMBERS] =
	    "SELECT m.node, n.name, m.state, m.joined_at, m.last_heartbeat,"
	    " a.hostnum, p.host FROM members m"
	    " JOIN nodes n ON n.key = m.node"
	    " JOIN parties p ON p.id = m.party"
	    " LEFT JOIN allocations a ON a.party = m.party"
	    " AND a.node = m.node"
	    " WHERE m.party = ?1 AND m.state IN (1, 3) ORDER BY a.hostnum",
	[ST_NODE_PARTIES] =
	    "SELECT p.id, p.name, p.host, p.subnet, p.created, a.hostnum"
	    " FROM members m JOIN parties p ON p.id = m.party"
	    " JOIN allocations a ON a.party = m.party AND a.node = m.node"
	    " WHERE m.node = ?1 AND m.state = 1",
	[ST_RELAY_PUT] =
	    "INSERT INTO relays (key, addr, region, capacity, load,"
	    " last_report) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (key) DO UPDATE SET addr = excluded.addr,"
	    " region = excluded.region, capacity = excluded.capacity,"
	    " load = excluded.load, last_report = excluded.last_report",
	[ST_RELAY_LIST] =
	    "SELECT key, addr, region, capacity, load, last_report"
	    " FROM relays ORDER BY region, load, key",
	[ST_RELAY_EXPIRE] =
	    "DELETE FROM relays WHERE last_report < ?1 RETURNING key",
};

struct reg_hb {
	uint8_t		 node[REG_KEY_LEN];
	int64_t		 time;
};

struct reg {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	struct reg_hb	*hb;		/* REG_HB_BATCH entries */
	size_t		 nhb;
};

/* Events gathered inside a transaction, reported after its commit. */
struct reg_events {
	struct reg_event *ev;
	size_t		 n, cap;
};

/* Party row, as the checks of the mutating calls need it. */
struct reg_prow {
	uint8_t		 host[REG_KEY_LEN];
	struct prefix	 subnet;
};

static int
reg_errno(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return ENOENT;
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_NOMEM:
		return ENOMEM;
	default:
		return EIO;
	}
}

/*
 * Reset stmt id and bind its parameters from fmt: 'k' a key, 'p' a party
 * id, 'h' a code hash (pointers), 'i' an int64_t, 't' a string.
 */
static sqlite3_stmt *
reg_bind(struct reg *r, enum reg_st id, const char *fmt, ...)
{
	sqlite3_stmt	*st = r->st[id];
	va_list		 ap;
	const void	*p;
	int		 i, rc = SQLITE_OK, n;

	sqlite3_reset(st);
	va_start(ap, fmt);
	for (i = 1; *fmt != '\0' && rc == SQLITE_OK; fmt++, i++) {
		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 't':
			rc = sqlite3_bind_text(st, i, va_arg(ap, const char *),
			    -1, SQLITE_TRANSIENT);
			break;
		default:
			p = va_arg(ap, const void *);
			n = *fmt == 'p' ? REG_PARTY_ID_LEN : REG_KEY_LEN;
			rc = sqlite3_bind_blob(st, i, p, n, SQLITE_TRANSIENT);
			break;
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		errno = reg_errno(rc);
		return NULL;
	}
	return st;
}

/* Step: 1 with a row, 0 when done (statement reset), -1 on error. */
static int
reg_step(sqlite3_stmt *st)
{
	int	 rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	errno = reg_errno(rc);
	return -1;
}

/* Run a statement that returns no rows. */
static int
reg_run(sqlite3_stmt *st)
{
	if (reg_step(st) == -1)
		return -1;
	sqlite3_reset(st);
	return 0;
}

/* First column of the first row as an integer: 0 found, -1/ENOENT. */
static int
reg_int(sqlite3_stmt *st, int64_t *v)
{
	int	 rc;

	if ((rc = reg_step(st)) == 1)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == 0)
		errno = ENOENT;
	return rc == 1 ? 0 : -1;
}

static int
reg_col_blob(sqlite3_stmt *st, int col, void *out, int len)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, col) != len) {
		errno = EIO;
		return -1;
	}
	memcpy(out, sqlite3_column_blob(st, col), len);
	return 0;
}

static void
reg_col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char	*t = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", t != NULL ? (const char *)t : "");
}

static int
reg_end(struct reg *r, int rc)
{
	if (rc == 0 && db_commit(r->db) == 0)
		return 0;
	if (sqlite3_get_autocommit(r->db) == 0)
		db_rollback(r->db);
	return -1;
}

static int
reg_events_add(struct reg_events *e, enum reg_event_type type,
    const void *party, const void *node)
{
	struct reg_event	*ev;
	size_t			 cap;

	if (e->n == e->cap) {
		cap = e->cap == 0 ? 16 : e->cap * 2;
		if ((ev = reallocarray(e->ev, cap, sizeof(*ev))) == NULL)
			return -1;
		e->ev = ev;
		e->cap = cap;
	}
	ev = &e->ev[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	if (party != NULL)
		memcpy(ev->party, party, sizeof(ev->party));
	if (node != NULL)
		memcpy(ev->node, node, sizeof(ev->node));
	return 0;
}

static void
reg_events_report(struct reg_events *e,
    void (*cb)(const struct reg_event *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; cb != NULL && i < e->n; i++)
		cb(&e->ev[i], arg);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

/* Names: 1 to max bytes, no control characters. */
static bool
reg_name_ok(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool
reg_subnet_ok(const struct prefix *p)
{
	return p->addr.af == AF_INET && p->len >= REG_SUBNET_MINLEN &&
	    p->len <= REG_SUBNET_MAXLEN && prefix_is_canonical(p);
}

/* The highest host number below the broadcast address. */
static int64_t
reg_subnet_max(const struct prefix *p)
{
	return ((int64_t)1 << (32 - p->len)) - 2;
}

static void
reg_subnet_addr(const struct prefix *p, int64_t hostnum, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->af = AF_INET;
	a->v4.s_addr = htonl(ntohl(p->addr.v4.s_addr) + (uint32_t)hostnum);
}

static int
reg_subnet_load(sqlite3_stmt *st, int col, struct prefix *p)
{
	const unsigned char	*t = sqlite3_column_text(st, col);

	if (t == NULL || prefix_parse((const char *)t, p) == -1 ||
	    !reg_subnet_ok(p)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int
reg_party_load(struct reg *r, const uint8_t *party, struct reg_prow *row)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = reg_bind(r, ST_PARTY_GET, "p", party);
	if ((rc = reg_step(st)) == 1 &&
	    (reg_col_blob(st, 0, row->host, REG_KEY_LEN) == -1 ||
	    reg_subnet_load(st, 1, &row->subnet) == -1))
		rc = -1;
	if (st != NULL)
		sqlite3_reset(st);
	if (rc == 0)
		errno = ENOENT;
	return rc == 1 ? 0 : -1;
}

/* Load the party and check that host is its host. */
static int
reg_party_host(struct reg *r, const uint8_t *party, const uint8_t *host,
    struct reg_prow *row)
{
	if (reg_party_load(r, party, row) == -1)
		return -1;
	if (sodium_memcmp(row->host, host, REG_KEY_LEN) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The member's state, or 0 when it has no row. */
static int
reg_member_state(struct reg *r, const uint8_t *party, const uint8_t *node,
    int64_t *state)
{
	if (reg_int(reg_bind(r, ST_MEMBER_GET, "pk", party, node),
	    state) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	*state = 0;
	return 0;
}

static int
reg_member_set(struct reg *r, const uint8_t *party, const uint8_t *node,
    enum reg_state state)
{
	return reg_run(reg_bind(r, ST_MEMBER_STATE, "pki", party, node,
	    (int64_t)state));
}

static int
reg_party_touch(struct reg *r, const uint8_t *party, int64_t now)
{
	return reg_run(reg_bind(r, ST_PARTY_EMPTIED, "pi", party, now));
}

static int
reg_member_room(struct reg *r, const uint8_t *party)
{
	int64_t	 n;

	if (reg_int(reg_bind(r, ST_MEMBER_COUNT, "p", party), &n) == -1)
		return -1;
	if (n >= REG_MAX_MEMBERS) {
		errno = EDQUOT;
		return -1;
	}
	return 0;
}

static int
reg_prepare(struct reg *r)
{
	size_t	 i;

	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(r->db, reg_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL) != SQLITE_OK) {
			errno = EIO;
			return -1;
		}
	}
	return 0;
}

static void
reg_free(struct reg *r)
{
	size_t	 i;

	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(r->st[i]);
	db_close(r->db);
	free(r->hb);
	free(r);
}

int
reg_open(const char *path, struct reg **out)
{
	struct reg	*r;
	const char	*errmsg;
	int		 saved_errno;

	*out = NULL;
	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (sodium_init() == -1) {
		errno = EIO;
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if ((r->hb = calloc(REG_HB_BATCH, sizeof(*r->hb))) == NULL ||
	    db_open(path, reg_schema, NELEM(reg_schema), &r->db,
	    &errmsg) == -1)
		goto fail;
	sqlite3_extended_result_codes(r->db, 1);
	if (db_exec(r->db, "PRAGMA synchronous = NORMAL", &errmsg) == -1 ||
	    reg_prepare(r) == -1)
		goto fail;
	*out = r;
	return 0;
fail:
	saved_errno = errno;
	reg_free(r);
	errno = saved_errno;
	return -1;
}

void
reg_close(struct reg *r)
{
	int	 saved_errno = errno;

	if (r == NULL)
		return;
	reg_flush(r);
	reg_free(r);
	errno = saved_errno;
}

int
reg_node_seen(struct reg *r, const uint8_t key[REG_KEY_LEN],
    const char *name, int64_t now)
{
	if (key == NULL || !reg_name_ok(name, REG_NAME_MAX) || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_run(reg_bind(r, ST_NODE_SEEN, "kti", key,
	    name, now)));
}

static int
reg_party_insert(struct reg *r, const uint8_t *host, const char *name,
    const struct prefix *subnet, int64_t now, uint8_t *id)
{
	char	 text[LR_PREFIX_STRLEN];
	int64_t	 n;

	if (reg_int(reg_bind(r, ST_HOST_COUNT, "k", host), &n) == -1)
		return -1;
	if (n >= REG_MAX_PARTIES_PER_HOST) {
		errno = EDQUOT;
		return -1;
	}
	prefix_fmt(subnet, text, sizeof(text));
	randombytes_buf(id, REG_PARTY_ID_LEN);
	if (reg_run(reg_bind(r, ST_PARTY_INSERT, "ptkti", id, name, host,
	    text, now)) == -1 ||
	    reg_run(reg_bind(r, ST_MEMBER_ACTIVATE, "pki", id, host,
	    now)) == -1 ||
	    reg_run(reg_bind(r, ST_ALLOC_INSERT, "pki", id, host,
	    (int64_t)1)) == -1)
		return -1;
	return 0;
}

int
reg_party_create(struct reg *r, const uint8_t host[REG_KEY_LEN],
    const char *name, const struct prefix *subnet, int64_t now,
    uint8_t id_out[REG_PARTY_ID_LEN], struct addr *host_addr)
{
	struct prefix	 def;
	uint8_t		 id[REG_PARTY_ID_LEN];

	if (subnet == NULL) {
		if (prefix_parse(REG_DEFAULT_SUBNET, &def) == -1)
			return -1;
		subnet = &def;
	}
	if (host == NULL || id_out == NULL || !reg_name_ok(name,
	    REG_NAME_MAX) || !reg_subnet_ok(subnet) || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_party_insert(r, host, name, subnet, now,
	    id)) == -1)
		return -1;
	memcpy(id_out, id, sizeof(id));
	if (host_addr != NULL)
		reg_subnet_addr(subnet, 1, host_addr);
	return 0;
}

static int
reg_party_delete(struct reg *r, const uint8_t *party, const uint8_t *host)
{
	struct reg_prow	 row;

	if (reg_party_host(r, party, host, &row) == -1)
		return -1;
	return reg_run(reg_bind(r, ST_PARTY_DELETE, "p", party));
}

int
reg_party_close(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t host[REG_KEY_LEN])
{
	if (party == NULL || host == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_party_delete(r, party, host));
}

static void
reg_code_hash(const uint8_t *code, uint8_t *hash)
{
	crypto_generichash(hash, REG_HASH_LEN, code, REG_CODE_LEN, NULL, 0);
}

static int
reg_invite_insert(struct reg *r, const uint8_t *party, const uint8_t *host,
    const uint8_t *hash, int64_t now, int64_t expires_at, int64_t max_uses,
    int64_t approval)
{
	struct reg_prow	 row;
	int64_t		 n;

	if (reg_party_host(r, party, host, &row) == -1 ||
	    reg_int(reg_bind(r, ST_INVITE_COUNT, "pi", party, now), &n) == -1)
		return -1;
	if (n >= REG_MAX_INVITES) {
		errno = EDQUOT;
		return -1;
	}
	return reg_run(reg_bind(r, ST_INVITE_INSERT, "hpkiiii", hash, party,
	    host, now, expires_at, max_uses, approval));
}

int
reg_invite_create(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t host[REG_KEY_LEN], const uint8_t code[REG_CODE_LEN],
    int64_t now, int64_t expires_at, unsigned max_uses, bool needs_approval)
{
	uint8_t	 hash[REG_HASH_LEN];

	if (party == NULL || host == NULL || code == NULL || now < 0 ||
	    expires_at <= now || max_uses == 0 ||
	    max_uses > REG_INVITE_MAX_USES) {
		errno = EINVAL;
		return -1;
	}
	reg_code_hash(code, hash);
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_invite_insert(r, party, host, hash, now,
	    expires_at, max_uses, needs_approval ? 1 : 0));
}

struct reg_invite {
	uint8_t		 party[REG_PARTY_ID_LEN];
	int64_t		 expires_at, max_uses, uses, approval;
};

static int
reg_invite_load(struct reg *r, const uint8_t *hash, struct reg_invite *inv)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = reg_bind(r, ST_INVITE_GET, "h", hash);
	if ((rc = reg_step(st)) == 1) {
		if (reg_col_blob(st, 0, inv->party, REG_PARTY_ID_LEN) == -1)
			rc = -1;
		inv->expires_at = sqlite3_column_int64(st, 1);
		inv->max_uses = sqlite3_column_int64(st, 2);
		inv->uses = sqlite3_column_int64(st, 3);
		inv->approval = sqlite3_column_int64(st, 4);
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (rc == 0)
		errno = ENOENT;
	return rc == 1 ? 0 : -1;
}

static int
reg_invite_use(struct reg *r, const uint8_t *hash, const uint8_t *node,
    int64_t now, struct reg_invite *inv, int64_t *state)
{
	if (reg_invite_load(r, hash, inv) == -1)
		return -1;
	if (inv->expires_at <= now) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (reg_member_state(r, inv->party, node, state) == -1)
		return -1;
	if (*state == REG_MEMBER_ACTIVE || *state == REG_MEMBER_PENDING ||
	    *state == REG_MEMBER_INVITED)
		return 0;
	if (inv->uses >= inv->max_uses) {
		errno = EUSERS;
		return -1;
	}
	*state = inv->approval ? REG_MEMBER_PENDING : REG_MEMBER_INVITED;
	if (*state == REG_MEMBER_PENDING && reg_member_room(r,
	    inv->party) == -1)
		return -1;
	if (reg_run(reg_bind(r, ST_MEMBER_PUT, "pkii", inv->party, node,
	    *state, now)) == -1)
		return -1;
	return reg_run(reg_bind(r, ST_INVITE_USE, "h", hash));
}

int
reg_invite_redeem(struct reg *r, const uint8_t code[REG_CODE_LEN],
    const uint8_t node[REG_KEY_LEN], int64_t now,
    uint8_t party_out[REG_PARTY_ID_LEN], enum reg_state *state_out)
{
	struct reg_invite	 inv;
	uint8_t			 hash[REG_HASH_LEN];
	int64_t			 state;

	if (code == NULL || node == NULL || now < 0) {
		errno = EINVAL;
		return -1;
	}
	reg_code_hash(code, hash);
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_invite_use(r, hash, node, now, &inv,
	    &state)) == -1)
		return -1;
	if (party_out != NULL)
		memcpy(party_out, inv.party, REG_PARTY_ID_LEN);
	if (state_out != NULL)
		*state_out = state;
	return 0;
}

static int
reg_approve(struct reg *r, const uint8_t *party, const uint8_t *host,
    const uint8_t *node)
{
	struct reg_prow	 row;
	int64_t		 state;

	if (reg_party_host(r, party, host, &row) == -1 ||
	    reg_member_state(r, party, node, &state) == -1)
		return -1;
	if (state != REG_MEMBER_PENDING) {
		errno = ENOENT;
		return -1;
	}
	return reg_member_set(r, party, node, REG_MEMBER_INVITED);
}

int
reg_member_approve(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t host[REG_KEY_LEN], const uint8_t node[REG_KEY_LEN])
{
	if (party == NULL || host == NULL || node == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_approve(r, party, host, node));
}

/*
 * The node's host number: its earlier one, the lowest free, or one
 * reclaimed from a departed node.
 */
static int
reg_alloc(struct reg *r, const uint8_t *party, const uint8_t *node,
    const struct reg_prow *row, int64_t *hostnum)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (reg_int(reg_bind(r, ST_ALLOC_GET, "pk", party, node),
	    hostnum) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (reg_int(reg_bind(r, ST_ALLOC_FREE, "pi", party,
	    reg_subnet_max(&row->subnet)), hostnum) == -1) {
		if (errno != ENOENT)
			return -1;
		st = reg_bind(r, ST_ALLOC_RECLAIM, "pk", party, row->host);
		if ((rc = reg_step(st)) == 1)
			*hostnum = sqlite3_column_int64(st, 0);
		if (st != NULL)
			sqlite3_reset(st);
		if (rc != 1) {
			if (rc == 0)
				errno = ENOSPC;
			return -1;
		}
	}
	return reg_run(reg_bind(r, ST_ALLOC_INSERT, "pki", party, node,
	    *hostnum));
}

/* May the node (in state) become ACTIVE? */
static int
reg_join_allowed(int64_t state)
{
	switch (state) {
	case REG_MEMBER_INVITED:
	case REG_MEMBER_EXPIRED:
		return 0;
	case REG_MEMBER_PENDING:
		errno = EACCES;
		return -1;
	default:
		errno = EPERM;
		return -1;
	}
}

static int
reg_join(struct reg *r, const uint8_t *party, const uint8_t *node,
    int64_t now, struct addr *addr)
{
	struct reg_prow	 row;
	int64_t		 state, hostnum;

	if (reg_party_load(r, party, &row) == -1 ||
	    reg_member_state(r, party, node, &state) == -1)
		return -1;
	if (state != REG_MEMBER_ACTIVE) {
		if (reg_join_allowed(state) == -1 ||
		    reg_member_room(r, party) == -1)
			return -1;
	}
	if (reg_alloc(r, party, node, &row, &hostnum) == -1)
		return -1;
	if (state != REG_MEMBER_ACTIVE && (reg_run(reg_bind(r,
	    ST_MEMBER_ACTIVATE, "pki", party, node, now)) == -1 ||
	    reg_run(reg_bind(r, ST_PARTY_FILLED, "p", party)) == -1))
		return -1;
	reg_subnet_addr(&row.subnet, hostnum, addr);
	return 0;
}

int
reg_member_join(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t node[REG_KEY_LEN], int64_t now, struct addr *addr)
{
	struct addr	 a;

	if (party == NULL || node == NULL || now < 0 || addr == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_join(r, party, node, now, &a)) == -1)
		return -1;
	*addr = a;
	return 0;
}

static int
reg_leave(struct reg *r, const uint8_t *party, const uint8_t *node,
    int64_t now)
{
	int64_t	 state;

	if (reg_member_state(r, party, node, &state) == -1)
		return -1;
	if (state != REG_MEMBER_ACTIVE) {
		errno = ENOENT;
		return -1;
	}
	if (reg_member_set(r, party, node, REG_MEMBER_LEFT) == -1)
		return -1;
	return reg_party_touch(r, party, now);
}

int
reg_member_leave(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t node[REG_KEY_LEN], int64_t now)
{
	if (party == NULL || node == NULL || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_leave(r, party, node, now));
}

static int
reg_kick(struct reg *r, const uint8_t *party, const uint8_t *host,
    const uint8_t *member, int64_t now)
{
	struct reg_prow	 row;
	int64_t		 state;

	if (reg_party_host(r, party, host, &row) == -1)
		return -1;
	if (memcmp(host, member, REG_KEY_LEN) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (reg_member_state(r, party, member, &state) == -1)
		return -1;
	if (state != REG_MEMBER_ACTIVE && state != REG_MEMBER_PENDING &&
	    state != REG_MEMBER_INVITED) {
		errno = ENOENT;
		return -1;
	}
	if (reg_member_set(r, party, member, REG_MEMBER_KICKED) == -1)
		return -1;
	return reg_party_touch(r, party, now);
}

int
reg_member_kick(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    const uint8_t host[REG_KEY_LEN], const uint8_t member[REG_KEY_LEN],
    int64_t now)
{
	if (party == NULL || host == NULL || member == NULL || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_kick(r, party, host, member, now));
}

int
reg_heartbeat(struct reg *r, const uint8_t node[REG_KEY_LEN], int64_t now)
{
	if (node == NULL || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (r->nhb == REG_HB_BATCH && reg_flush(r) == -1)
		return -1;
	memcpy(r->hb[r->nhb].node, node, REG_KEY_LEN);
	r->hb[r->nhb].time = now;
	r->nhb++;
	return 0;
}

/* Write the batch inside the caller's transaction. */
static int
reg_flush_locked(struct reg *r)
{
	struct reg_hb	*hb;
	size_t		 i;

	for (i = 0; i < r->nhb; i++) {
		hb = &r->hb[i];
		if (reg_run(reg_bind(r, ST_HB_MEMBERS, "ki", hb->node,
		    hb->time)) == -1 ||
		    reg_run(reg_bind(r, ST_HB_NODE, "ki", hb->node,
		    hb->time)) == -1)
			return -1;
	}
	return 0;
}

int
reg_flush(struct reg *r)
{
	if (r->nhb == 0)
		return 0;
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_flush_locked(r)) == -1)
		return -1;
	r->nhb = 0;
	return 0;
}

static int
reg_expire_members(struct reg *r, int64_t now, int64_t cutoff,
    struct reg_events *e)
{
	sqlite3_stmt	*st;
	uint8_t		 party[REG_PARTY_ID_LEN], node[REG_KEY_LEN];
	size_t		 i, first = e->n;
	int		 rc;

	st = reg_bind(r, ST_MEMBER_EXPIRE, "i", cutoff);
	while ((rc = reg_step(st)) == 1) {
		if (reg_col_blob(st, 0, party, sizeof(party)) == -1 ||
		    reg_col_blob(st, 1, node, sizeof(node)) == -1 ||
		    reg_events_add(e, REG_EV_MEMBER_EXPIRED, party,
		    node) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	if (rc == -1)
		return -1;
	for (i = first; i < e->n; i++)
		if (reg_party_touch(r, e->ev[i].party, now) == -1)
			return -1;
	return 0;
}

static int
reg_expire_parties(struct reg *r, int64_t cutoff, struct reg_events *e)
{
	sqlite3_stmt	*st;
	uint8_t		 party[REG_PARTY_ID_LEN];
	int		 rc;

	st = reg_bind(r, ST_PARTY_EXPIRE, "i", cutoff);
	while ((rc = reg_step(st)) == 1) {
		if (reg_col_blob(st, 0, party, sizeof(party)) == -1 ||
		    reg_events_add(e, REG_EV_PARTY_REMOVED, party,
		    NULL) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	return rc;
}

static int
reg_expire_locked(struct reg *r, int64_t now, int64_t member_timeout,
    int64_t party_grace, struct reg_events *e)
{
	if (reg_flush_locked(r) == -1 ||
	    reg_expire_members(r, now, now - member_timeout, e) == -1 ||
	    reg_expire_parties(r, now - party_grace, e) == -1)
		return -1;
	return reg_run(reg_bind(r, ST_INVITE_EXPIRE, "i", now));
}

int
reg_expire(struct reg *r, int64_t now, int64_t member_timeout,
    int64_t party_grace, void (*cb)(const struct reg_event *, void *),
    void *arg)
{
	struct reg_events	 e = { 0 };

	if (now < 0 || member_timeout < 0 || party_grace < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_expire_locked(r, now, member_timeout,
	    party_grace, &e)) == -1) {
		reg_events_report(&e, NULL, NULL);
		return -1;
	}
	r->nhb = 0;
	reg_events_report(&e, cb, arg);
	return 0;
}

static int
reg_member_row(sqlite3_stmt *st, const struct prefix *subnet,
    struct reg_member *m)
{
	uint8_t	 host[REG_KEY_LEN];

	memset(m, 0, sizeof(*m));
	if (reg_col_blob(st, 0, m->node, sizeof(m->node)) == -1 ||
	    reg_col_blob(st, 6, host, sizeof(host)) == -1)
		return -1;
	reg_col_text(st, 1, m->name, sizeof(m->name));
	m->state = sqlite3_column_int(st, 2);
	m->joined_at = sqlite3_column_int64(st, 3);
	m->last_heartbeat = sqlite3_column_int64(st, 4);
	m->is_host = memcmp(host, m->node, REG_KEY_LEN) == 0;
	m->has_addr = m->state == REG_MEMBER_ACTIVE &&
	    sqlite3_column_type(st, 5) == SQLITE_INTEGER;
	if (m->has_addr)
		reg_subnet_addr(subnet, sqlite3_column_int64(st, 5), &m->addr);
	return 0;
}

int
reg_party_members(struct reg *r, const uint8_t party[REG_PARTY_ID_LEN],
    void (*cb)(const struct reg_member *, void *), void *arg)
{
	struct reg_prow		 row;
	struct reg_member	 m;
	sqlite3_stmt		*st;
	int			 rc;

	if (party == NULL || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (reg_party_load(r, party, &row) == -1)
		return -1;
	st = reg_bind(r, ST_PARTY_MEMBERS, "p", party);
	while ((rc = reg_step(st)) == 1) {
		if (reg_member_row(st, &row.subnet, &m) == -1) {
			sqlite3_reset(st);
			return -1;
		}
		cb(&m, arg);
	}
	return rc;
}

static int
reg_party_row(sqlite3_stmt *st, struct reg_party *p)
{
	memset(p, 0, sizeof(*p));
	if (reg_col_blob(st, 0, p->id, sizeof(p->id)) == -1 ||
	    reg_col_blob(st, 2, p->host, sizeof(p->host)) == -1 ||
	    reg_subnet_load(st, 3, &p->subnet) == -1)
		return -1;
	reg_col_text(st, 1, p->name, sizeof(p->name));
	p->created = sqlite3_column_int64(st, 4);
	reg_subnet_addr(&p->subnet, sqlite3_column_int64(st, 5), &p->addr);
	return 0;
}

int
reg_node_parties(struct reg *r, const uint8_t node[REG_KEY_LEN],
    void (*cb)(const struct reg_party *, void *), void *arg)
{
	struct reg_party	 p;
	sqlite3_stmt		*st;
	int			 rc;

	if (node == NULL || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	st = reg_bind(r, ST_NODE_PARTIES, "k", node);
	while ((rc = reg_step(st)) == 1) {
		if (reg_party_row(st, &p) == -1) {
			sqlite3_reset(st);
			return -1;
		}
		cb(&p, arg);
	}
	return rc;
}

int
reg_relay_report(struct reg *r, const uint8_t key[REG_KEY_LEN],
    const char *addr, const char *region, uint32_t capacity, uint32_t load,
    int64_t now)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;

	if (key == NULL || addr == NULL ||
	    strnlen(addr, LR_SOCKADDR_STRLEN) >= LR_SOCKADDR_STRLEN ||
	    sockaddr_parse(addr, &ss, &sslen) == -1 ||
	    !reg_name_ok(region, REG_REGION_MAX) || capacity == 0 ||
	    load > capacity || now < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	return reg_end(r, reg_run(reg_bind(r, ST_RELAY_PUT, "kttiii", key,
	    addr, region, (int64_t)capacity, (int64_t)load, now)));
}

int
reg_relay_list(struct reg *r, void (*cb)(const struct reg_relay *, void *),
    void *arg)
{
	struct reg_relay	 rl;
	sqlite3_stmt		*st;
	int			 rc;

	if (cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	st = reg_bind(r, ST_RELAY_LIST, "");
	while ((rc = reg_step(st)) == 1) {
		memset(&rl, 0, sizeof(rl));
		if (reg_col_blob(st, 0, rl.key, sizeof(rl.key)) == -1) {
			sqlite3_reset(st);
			return -1;
		}
		reg_col_text(st, 1, rl.addr, sizeof(rl.addr));
		reg_col_text(st, 2, rl.region, sizeof(rl.region));
		rl.capacity = sqlite3_column_int64(st, 3);
		rl.load = sqlite3_column_int64(st, 4);
		rl.last_report = sqlite3_column_int64(st, 5);
		cb(&rl, arg);
	}
	return rc;
}

static int
reg_relay_drop(struct reg *r, int64_t cutoff, struct reg_events *e)
{
	sqlite3_stmt	*st;
	uint8_t		 key[REG_KEY_LEN];
	int		 rc;

	st = reg_bind(r, ST_RELAY_EXPIRE, "i", cutoff);
	while ((rc = reg_step(st)) == 1) {
		if (reg_col_blob(st, 0, key, sizeof(key)) == -1 ||
		    reg_events_add(e, REG_EV_RELAY_EXPIRED, NULL, key) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	return rc;
}

int
reg_relay_expire(struct reg *r, int64_t now, int64_t timeout,
    void (*cb)(const struct reg_event *, void *), void *arg)
{
	struct reg_events	 e = { 0 };

	if (now < 0 || timeout < 0) {
		errno = EINVAL;
		return -1;
	}
	if (db_begin(r->db) == -1)
		return -1;
	if (reg_end(r, reg_relay_drop(r, now - timeout, &e)) == -1) {
		reg_events_report(&e, NULL, NULL);
		return -1;
	}
	reg_events_report(&e, cb, arg);
	return 0;
}
