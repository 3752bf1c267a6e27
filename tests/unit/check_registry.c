/* Unit tests for lanrage-controld/registry.c. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/addr.h"
#include "lanrage-controld/registry.h"

#define T0		1000	/* the tests' clock starts here */
#define HOST		1	/* node numbers: 1 is every party's host */

static char	 tmpdir[] = "/tmp/check_registry.XXXXXX";

/* The invite every test party hands out, for up to 1024 nodes. */
static const uint8_t	 open_code[REG_CODE_LEN] = { 0x0c, 0x0d, 0x0e };

static void
dir_setup(void)
{
	strcpy(tmpdir, "/tmp/check_registry.XXXXXX");
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

	snprintf(p, sizeof(p), "%s/%s.db", tmpdir, name);
	return p;
}

/* Node number i as a key; never all zero. */
static const uint8_t *
key(int i)
{
	static uint8_t	 k[8][REG_KEY_LEN];
	static int	 slot;
	uint8_t		*p = k[slot++ % 8];

	memset(p, 0x5a, REG_KEY_LEN);
	p[0] = i & 0xff;
	p[1] = (i >> 8) & 0xff;
	return p;
}

static const char *
afmt(const struct addr *a)
{
	static char	 s[4][LR_ADDR_STRLEN];
	static int	 slot;
	char		*p = s[slot++ % 4];

	return addr_fmt(a, p, LR_ADDR_STRLEN);
}

static struct reg *
open_db(const char *name)
{
	struct reg	*r;

	ck_assert_int_eq(reg_open(dbpath(name), &r), 0);
	return r;
}

static void
node(struct reg *r, int i)
{
	char	 name[32];

	snprintf(name, sizeof(name), "node%d", i);
	ck_assert_int_eq(reg_node_seen(r, key(i), name, T0), 0);
}

/* A fresh database with the host's party on subnet (NULL: default). */
static struct reg *
open_party(const char *name, const char *subnet, uint8_t party[16])
{
	struct reg	*r = open_db(name);
	struct prefix	 p;
	struct addr	 a;

	node(r, HOST);
	if (subnet != NULL)
		ck_assert_int_eq(prefix_parse(subnet, &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "lan", subnet != NULL ?
	    &p : NULL, T0, party, &a), 0);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), open_code, T0,
	    T0 + 1000000, REG_INVITE_MAX_USES, false), 0);
	return r;
}

/* Register node i, redeem the open invite and join; the join's result. */
static int
admit(struct reg *r, const uint8_t *party, int i, int64_t now,
    struct addr *a)
{
	uint8_t		 got[REG_PARTY_ID_LEN];
	enum reg_state	 st;

	node(r, i);
	ck_assert_int_eq(reg_invite_redeem(r, open_code, key(i), now, got,
	    &st), 0);
	ck_assert_mem_eq(got, party, REG_PARTY_ID_LEN);
	return reg_member_join(r, party, key(i), now, a);
}

static const char *
admit_addr(struct reg *r, const uint8_t *party, int i, int64_t now)
{
	struct addr	 a;

	ck_assert_int_eq(admit(r, party, i, now, &a), 0);
	return afmt(&a);
}

/* Count rows of a query straight from the file. */
static long
sql_count(const char *name, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long		 n = -1;

	ck_assert_int_eq(sqlite3_open_v2(dbpath(name), &db,
	    SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

struct seen {
	int		 n;
	struct reg_member m[REG_MAX_MEMBERS + 8];
};

static void
seen_member(const struct reg_member *m, void *arg)
{
	struct seen	*s = arg;

	if (s->n < (int)(sizeof(s->m) / sizeof(s->m[0])))
		s->m[s->n] = *m;
	s->n++;
}

static struct seen *
members(struct reg *r, const uint8_t *party)
{
	static struct seen	 s;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(reg_party_members(r, party, seen_member, &s), 0);
	return &s;
}

struct events {
	int		 n;
	struct reg_event ev[64];
};

static void
seen_event(const struct reg_event *ev, void *arg)
{
	struct events	*e = arg;

	if (e->n < 64)
		e->ev[e->n] = *ev;
	e->n++;
}

START_TEST(open_errors)
{
	struct reg	*r = (struct reg *)1;

	ck_assert_int_eq(reg_open(NULL, &r), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_open("/nonexistent/dir/x.db", &r), -1);
	ck_assert_ptr_null(r);
	reg_close(NULL);
}
END_TEST

START_TEST(node_seen_validates)
{
	struct reg	*r = open_db("node_seen");
	char		 longname[REG_NAME_MAX + 2];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(reg_node_seen(r, key(2), "ok", T0), 0);
	ck_assert_int_eq(reg_node_seen(r, key(2), "renamed", T0 + 1), 0);
	ck_assert_int_eq(reg_node_seen(r, NULL, "x", T0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_node_seen(r, key(2), NULL, T0), -1);
	ck_assert_int_eq(reg_node_seen(r, key(2), "", T0), -1);
	ck_assert_int_eq(reg_node_seen(r, key(2), "a\nb", T0), -1);
	ck_assert_int_eq(reg_node_seen(r, key(2), longname, T0), -1);
	ck_assert_int_eq(errno, EINVAL);
	longname[REG_NAME_MAX] = '\0';
	ck_assert_int_eq(reg_node_seen(r, key(3), longname, T0), 0);
	ck_assert_int_eq(reg_node_seen(r, key(2), "x", -1), -1);
	reg_close(r);
	ck_assert_int_eq(sql_count("node_seen", "SELECT count(*) FROM nodes"
	    " WHERE name = 'renamed' AND last_seen = 1001"), 1);
}
END_TEST

START_TEST(party_create)
{
	struct reg	*r = open_db("party_create");
	uint8_t		 id[REG_PARTY_ID_LEN], id2[REG_PARTY_ID_LEN];
	struct prefix	 p;
	struct addr	 a;
	char		 name[16];
	int		 i;

	ck_assert_int_eq(reg_party_create(r, key(HOST), "lan", NULL, T0, id,
	    &a), -1);
	ck_assert_int_eq(errno, ENOENT);		/* unknown host */
	node(r, HOST);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "lan", NULL, T0, id,
	    &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.1");
	ck_assert_int_eq(prefix_parse("192.168.7.8/29", &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "lan", &p, T0, id2,
	    &a), 0);
	ck_assert_str_eq(afmt(&a), "192.168.7.9");
	ck_assert_mem_ne(id, id2, sizeof(id));

	ck_assert_int_eq(prefix_parse("192.168.7.9/29", &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "x", &p, T0, id2,
	    &a), -1);
	ck_assert_int_eq(errno, EINVAL);		/* not canonical */
	ck_assert_int_eq(prefix_parse("10.0.0.0/31", &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "x", &p, T0, id2,
	    &a), -1);
	ck_assert_int_eq(prefix_parse("10.0.0.0/7", &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "x", &p, T0, id2,
	    &a), -1);
	ck_assert_int_eq(prefix_parse("fd00::/64", &p), 0);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "x", &p, T0, id2,
	    &a), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "", NULL, T0, id2,
	    &a), -1);
	ck_assert_int_eq(reg_party_create(r, NULL, "x", NULL, T0, id2, &a), -1);
	ck_assert_int_eq(reg_party_create(r, key(HOST), "x", NULL, T0, NULL,
	    &a), -1);
	ck_assert_int_eq(errno, EINVAL);

	for (i = 2; i < REG_MAX_PARTIES_PER_HOST; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(reg_party_create(r, key(HOST), name, NULL, T0,
		    id2, NULL), 0);
	}
	ck_assert_int_eq(reg_party_create(r, key(HOST), "one more", NULL, T0,
	    id2, &a), -1);
	ck_assert_int_eq(errno, EDQUOT);
	reg_close(r);
	ck_assert_int_eq(sql_count("party_create", "SELECT count(*) FROM"
	    " allocations WHERE hostnum = 1"), REG_MAX_PARTIES_PER_HOST);
}
END_TEST

START_TEST(invite_errors)
{
	uint8_t		 party[REG_PARTY_ID_LEN], got[REG_PARTY_ID_LEN];
	uint8_t		 code[REG_CODE_LEN] = { 1, 2, 3 };
	uint8_t		 other[REG_CODE_LEN] = { 9 };
	uint8_t		 nope[REG_PARTY_ID_LEN] = { 0 };
	struct reg	*r = open_party("invite_errors", NULL, party);
	enum reg_state	 st;
	int		 i;

	node(r, 2);
	node(r, 3);
	node(r, 4);
	ck_assert_int_eq(reg_invite_create(r, party, key(2), code, T0, T0 + 60,
	    2, false), -1);
	ck_assert_int_eq(errno, EPERM);			/* not the host */
	ck_assert_int_eq(reg_invite_create(r, nope, key(HOST), code, T0,
	    T0 + 60, 2, false), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0, T0,
	    2, false), -1);
	ck_assert_int_eq(errno, EINVAL);		/* already expired */
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, 0, false), -1);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, REG_INVITE_MAX_USES + 1, false), -1);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), NULL, T0,
	    T0 + 60, 1, false), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, 2, false), 0);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, 2, false), -1);
	ck_assert_int_eq(errno, EEXIST);

	ck_assert_int_eq(reg_invite_redeem(r, other, key(2), T0, got, &st), -1);
	ck_assert_int_eq(errno, ENOENT);		/* unknown code */
	ck_assert_int_eq(reg_invite_redeem(r, code, key(99), T0, got, &st),
	    -1);
	ck_assert_int_eq(errno, ENOENT);		/* unknown node */
	ck_assert_int_eq(reg_invite_redeem(r, code, key(2), T0 + 60, got, &st),
	    -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(2), T0, got, &st), 0);
	ck_assert_mem_eq(got, party, sizeof(party));
	ck_assert_int_eq(st, REG_MEMBER_INVITED);
	/* Again, or by the host: no use spent. */
	ck_assert_int_eq(reg_invite_redeem(r, code, key(2), T0, NULL, NULL), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(HOST), T0, got, &st),
	    0);
	ck_assert_int_eq(st, REG_MEMBER_ACTIVE);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(3), T0, got, &st), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(4), T0, got, &st), -1);
	ck_assert_int_eq(errno, EUSERS);
	ck_assert_int_eq(reg_invite_redeem(r, NULL, key(4), T0, got, &st), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* The bound on live invites; open_code is one of them. */
	for (i = 2; i < REG_MAX_INVITES; i++) {
		other[1] = i;
		ck_assert_int_eq(reg_invite_create(r, party, key(HOST), other,
		    T0, T0 + 60, 1, false), 0);
	}
	other[1] = 0xff;
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), other, T0,
	    T0 + 60, 1, false), -1);
	ck_assert_int_eq(errno, EDQUOT);
	/* Expired ones do not count, and reg_expire deletes them. */
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), other, T0 + 60,
	    T0 + 120, 1, false), 0);
	ck_assert_int_eq(reg_expire(r, T0 + 60, 1000, 1000, NULL, NULL), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(4), T0 + 60, got, &st),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	reg_close(r);
	/* Only hashes are stored. */
	ck_assert_int_eq(sql_count("invite_errors", "SELECT count(*) FROM"
	    " invites WHERE length(code_hash) = 32 AND instr(code_hash,"
	    " x'0c0d0e') = 0"), 2);
}
END_TEST

START_TEST(join_and_rejoin)
{
	uint8_t		 party[REG_PARTY_ID_LEN], code[REG_CODE_LEN] = { 7 };
	uint8_t		 nope[REG_PARTY_ID_LEN] = { 0 };
	struct reg	*r = open_party("join_and_rejoin", NULL, party);
	struct addr	 a;

	node(r, 2);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, &a), -1);
	ck_assert_int_eq(errno, EPERM);			/* not invited */
	ck_assert_int_eq(reg_member_join(r, nope, key(2), T0, &a), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(admit_addr(r, party, 2, T0), "10.66.0.2");
	ck_assert_str_eq(admit_addr(r, party, 3, T0), "10.66.0.3");
	ck_assert_str_eq(admit_addr(r, party, 4, T0), "10.66.0.4");
	/* Joining again while ACTIVE answers the same address. */
	ck_assert_int_eq(reg_member_join(r, party, key(3), T0 + 1, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.3");
	/* The host's own join is a no-op too. */
	ck_assert_int_eq(reg_member_join(r, party, key(HOST), T0 + 1, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.1");

	ck_assert_int_eq(reg_member_leave(r, party, key(3), T0 + 2), 0);
	ck_assert_int_eq(reg_member_leave(r, party, key(3), T0 + 2), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_member_leave(r, party, NULL, T0 + 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* LEFT needs a new invite; then the same address, not .5. */
	ck_assert_int_eq(reg_member_join(r, party, key(3), T0 + 3, &a), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_str_eq(admit_addr(r, party, 5, T0 + 3), "10.66.0.5");
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0 + 3,
	    T0 + 60, 1, false), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(3), T0 + 4, NULL,
	    NULL), 0);
	ck_assert_int_eq(reg_member_join(r, party, key(3), T0 + 4, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.3");
	ck_assert_int_eq(members(r, party)->n, 5);
	reg_close(r);

	/* Reopened: everything is still there. */
	r = open_db("join_and_rejoin");
	ck_assert_int_eq(members(r, party)->n, 5);
	ck_assert_int_eq(reg_member_join(r, party, key(4), T0 + 5, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.4");
	ck_assert_str_eq(admit_addr(r, party, 6, T0 + 5), "10.66.0.6");
	reg_close(r);
}
END_TEST

START_TEST(tiny_subnet)
{
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("tiny_subnet", "10.9.8.16/29", party);
	struct addr	 a;
	char		 want[LR_ADDR_STRLEN];
	int		 i;

	for (i = 2; i <= 6; i++) {
		snprintf(want, sizeof(want), "10.9.8.%d", 16 + i);
		ck_assert_str_eq(admit_addr(r, party, i, T0), want);
	}
	/* .23 is the broadcast address: full. */
	ck_assert_int_eq(admit(r, party, 7, T0, &a), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* Still INVITED: once a member leaves, 7 gets its address. */
	ck_assert_int_eq(reg_member_leave(r, party, key(4), T0 + 1), 0);
	ck_assert_int_eq(reg_member_join(r, party, key(7), T0 + 2, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.9.8.20");
	/* 4 comes back to a full subnet. */
	ck_assert_int_eq(admit(r, party, 4, T0 + 3, &a), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* The host's address is never reclaimed, even when it is away. */
	ck_assert_int_eq(reg_member_leave(r, party, key(HOST), T0 + 4), 0);
	ck_assert_int_eq(reg_member_join(r, party, key(4), T0 + 4, &a), -1);
	ck_assert_int_eq(errno, ENOSPC);
	reg_close(r);
	ck_assert_int_eq(sql_count("tiny_subnet", "SELECT count(*) FROM"
	    " allocations"), 6);
}
END_TEST

START_TEST(reclaim_oldest)
{
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("reclaim_oldest", "10.1.0.0/29", party);
	struct addr	 a;
	int		 i;

	for (i = 2; i <= 6; i++)
		admit_addr(r, party, i, T0);
	/* 5 leaves first, then 3: 5's address goes first, then 3's. */
	ck_assert_int_eq(reg_member_leave(r, party, key(5), T0 + 1), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(3), T0 + 5), 0);
	ck_assert_int_eq(reg_flush(r), 0);
	ck_assert_int_eq(reg_member_leave(r, party, key(3), T0 + 6), 0);
	ck_assert_str_eq(admit_addr(r, party, 8, T0 + 7), "10.1.0.5");
	ck_assert_str_eq(admit_addr(r, party, 9, T0 + 7), "10.1.0.3");
	ck_assert_int_eq(admit(r, party, 10, T0 + 7, &a), -1);
	ck_assert_int_eq(errno, ENOSPC);
	reg_close(r);
}
END_TEST

START_TEST(member_cap)
{
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("member_cap", NULL, party);
	struct addr	 a;
	int		 i;

	for (i = 2; i <= REG_MAX_MEMBERS; i++)
		ck_assert_int_eq(admit(r, party, i, T0, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.1.0");	/* a valid /16 host */
	ck_assert_int_eq(admit(r, party, REG_MAX_MEMBERS + 1, T0, &a), -1);
	ck_assert_int_eq(errno, EDQUOT);
	ck_assert_int_eq(members(r, party)->n, REG_MAX_MEMBERS);
	reg_close(r);
}
END_TEST

START_TEST(kick)
{
	uint8_t		 party[REG_PARTY_ID_LEN], code[REG_CODE_LEN] = { 8 };
	struct reg	*r = open_party("kick", NULL, party);
	struct addr	 a;

	admit_addr(r, party, 2, T0);
	admit_addr(r, party, 3, T0);
	ck_assert_int_eq(reg_member_kick(r, party, key(2), key(3), T0), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(reg_member_kick(r, party, key(HOST), key(HOST), T0),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_member_kick(r, party, key(HOST), key(42), T0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_member_kick(r, party, key(HOST), NULL, T0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_member_kick(r, party, key(HOST), key(2), T0), 0);
	ck_assert_int_eq(reg_member_kick(r, party, key(HOST), key(2), T0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, &a), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(members(r, party)->n, 2);
	/* Invited again, it gets its old address. */
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, 1, false), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(2), T0, NULL, NULL), 0);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.2");
	reg_close(r);
}
END_TEST

START_TEST(approval)
{
	uint8_t		 party[REG_PARTY_ID_LEN], code[REG_CODE_LEN] = { 9 };
	struct reg	*r = open_party("approval", NULL, party);
	struct seen	*s;
	struct addr	 a;
	enum reg_state	 st;

	node(r, 2);
	ck_assert_int_eq(reg_invite_create(r, party, key(HOST), code, T0,
	    T0 + 60, 1, true), 0);
	ck_assert_int_eq(reg_invite_redeem(r, code, key(2), T0, NULL, &st), 0);
	ck_assert_int_eq(st, REG_MEMBER_PENDING);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, &a), -1);
	ck_assert_int_eq(errno, EACCES);
	s = members(r, party);
	ck_assert_int_eq(s->n, 2);
	ck_assert_int_eq(s->m[0].state, REG_MEMBER_PENDING);	/* no addr */
	ck_assert(!s->m[0].has_addr);
	ck_assert(s->m[1].is_host && s->m[1].has_addr);
	ck_assert_int_eq(reg_member_approve(r, party, key(2), key(2)), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(reg_member_approve(r, party, key(HOST), key(3)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_member_approve(r, party, key(HOST), key(2)), 0);
	ck_assert_int_eq(reg_member_approve(r, party, key(HOST), key(2)), -1);
	ck_assert_int_eq(reg_member_join(r, party, key(2), T0, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.2");
	s = members(r, party);
	ck_assert_int_eq(s->n, 2);
	ck_assert_str_eq(afmt(&s->m[1].addr), "10.66.0.2");
	ck_assert_str_eq(s->m[1].name, "node2");
	ck_assert_int_eq(s->m[1].joined_at, T0);
	reg_close(r);
}
END_TEST

START_TEST(party_close_cascades)
{
	uint8_t		 party[REG_PARTY_ID_LEN], keep[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("party_close", NULL, party);
	struct addr	 a;

	admit_addr(r, party, 2, T0);
	admit_addr(r, party, 3, T0);
	node(r, 4);
	ck_assert_int_eq(reg_invite_redeem(r, open_code, key(4), T0, NULL,
	    NULL), 0);
	ck_assert_int_eq(reg_party_create(r, key(2), "other", NULL, T0, keep,
	    &a), 0);
	ck_assert_int_eq(reg_party_close(r, party, key(2)), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(reg_party_close(r, party, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_party_close(r, party, key(HOST)), 0);
	ck_assert_int_eq(reg_party_close(r, party, key(HOST)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_party_members(r, party, seen_member, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(reg_invite_redeem(r, open_code, key(5), T0, NULL,
	    NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(members(r, keep)->n, 1);
	reg_close(r);
	ck_assert_int_eq(sql_count("party_close", "SELECT (SELECT count(*)"
	    " FROM members) + (SELECT count(*) FROM allocations) +"
	    " (SELECT count(*) FROM invites) + (SELECT count(*) FROM"
	    " parties)"), 3);
	ck_assert_int_eq(sql_count("party_close", "SELECT count(*) FROM"
	    " nodes"), 4);
}
END_TEST

static bool
has_event(const struct events *e, enum reg_event_type type,
    const uint8_t *party, int n)
{
	int	 i;

	for (i = 0; i < e->n; i++)
		if (e->ev[i].type == type &&
		    memcmp(e->ev[i].party, party, REG_PARTY_ID_LEN) == 0 &&
		    (n == 0 || memcmp(e->ev[i].node, key(n),
		    REG_KEY_LEN) == 0))
			return true;
	return false;
}

START_TEST(expire)
{
	uint8_t		 p1[REG_PARTY_ID_LEN], p2[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("expire", NULL, p1);
	struct events	 e = { 0 };
	struct addr	 a;

	ck_assert_int_eq(reg_expire(r, -1, 30, 60, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	admit_addr(r, p1, 2, T0);
	admit_addr(r, p1, 3, T0);
	node(r, 4);
	ck_assert_int_eq(reg_party_create(r, key(4), "b", NULL, T0, p2, &a),
	    0);
	/* HOST and 2 beat; 3 and 4 are silent. */
	ck_assert_int_eq(reg_heartbeat(r, key(HOST), T0 + 20), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 20), 0);
	ck_assert_int_eq(reg_heartbeat(r, NULL, T0 + 20), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_expire(r, T0 + 30, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 0);			/* not older than 30 */
	ck_assert_int_eq(reg_expire(r, T0 + 31, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 2);
	ck_assert(has_event(&e, REG_EV_MEMBER_EXPIRED, p1, 3));
	ck_assert(has_event(&e, REG_EV_MEMBER_EXPIRED, p2, 4));
	ck_assert_int_eq(members(r, p1)->n, 2);
	ck_assert_int_eq(members(r, p2)->n, 0);

	/* 3 comes back without an invite, to its address. */
	ck_assert_int_eq(reg_member_join(r, p1, key(3), T0 + 40, &a), 0);
	ck_assert_str_eq(afmt(&a), "10.66.0.3");

	/* p2 has been empty since T0 + 31: removed after the grace. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(reg_heartbeat(r, key(HOST), T0 + 90), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 90), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(3), T0 + 90), 0);
	ck_assert_int_eq(reg_expire(r, T0 + 90, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 0);
	ck_assert_int_eq(reg_expire(r, T0 + 91, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 1);
	ck_assert(has_event(&e, REG_EV_PARTY_REMOVED, p2, 0));
	ck_assert_int_eq(reg_party_members(r, p2, seen_member, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Everyone leaves p1: it goes after the grace, not before. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(reg_member_leave(r, p1, key(2), T0 + 100), 0);
	ck_assert_int_eq(reg_member_leave(r, p1, key(3), T0 + 100), 0);
	ck_assert_int_eq(reg_expire(r, T0 + 121, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 1);			/* the host expired */
	ck_assert(has_event(&e, REG_EV_MEMBER_EXPIRED, p1, HOST));
	/* A join within the grace refills it. */
	ck_assert_int_eq(reg_member_join(r, p1, key(HOST), T0 + 150, &a), 0);
	ck_assert_int_eq(reg_member_leave(r, p1, key(HOST), T0 + 160), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(reg_expire(r, T0 + 219, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 0);
	ck_assert_int_eq(reg_expire(r, T0 + 220, 30, 60, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 1);
	ck_assert(has_event(&e, REG_EV_PARTY_REMOVED, p1, 0));
	reg_close(r);
	ck_assert_int_eq(sql_count("expire", "SELECT count(*) FROM parties"),
	    0);
}
END_TEST

START_TEST(heartbeat_batch)
{
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("heartbeat_batch", NULL, party);
	struct seen	*s;
	struct events	 e = { 0 };
	int		 i;

	admit_addr(r, party, 2, T0);
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 5), 0);
	ck_assert_int_eq(members(r, party)->m[1].last_heartbeat, T0);
	ck_assert_int_eq(reg_flush(r), 0);
	ck_assert_int_eq(members(r, party)->m[1].last_heartbeat, T0 + 5);
	/* An older beat never moves it back; unknown nodes are ignored. */
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 1), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(77), T0 + 1), 0);
	ck_assert_int_eq(reg_flush(r), 0);
	ck_assert_int_eq(reg_flush(r), 0);
	ck_assert_int_eq(members(r, party)->m[1].last_heartbeat, T0 + 5);
	/* A full batch flushes by itself. */
	for (i = 0; i <= REG_HB_BATCH; i++)
		ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 10 + i), 0);
	s = members(r, party);
	ck_assert_int_eq(s->m[1].last_heartbeat, T0 + 10 + REG_HB_BATCH - 1);
	/* reg_expire sees the unflushed beat. */
	ck_assert_int_eq(reg_heartbeat(r, key(HOST), T0 + 100000), 0);
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 100000), 0);
	ck_assert_int_eq(reg_expire(r, T0 + 100010, 30, 60, seen_event, &e),
	    0);
	ck_assert_int_eq(e.n, 0);
	/* reg_close flushes. */
	ck_assert_int_eq(reg_heartbeat(r, key(2), T0 + 200000), 0);
	reg_close(r);
	ck_assert_int_eq(sql_count("heartbeat_batch", "SELECT max("
	    "last_heartbeat) FROM members"), T0 + 200000);
	ck_assert_int_eq(sql_count("heartbeat_batch", "SELECT max(last_seen)"
	    " FROM nodes"), T0 + 200000);
}
END_TEST

struct plist {
	int		 n;
	struct reg_party p[4];
};

static void
seen_party(const struct reg_party *p, void *arg)
{
	struct plist	*l = arg;

	if (l->n < 4)
		l->p[l->n] = *p;
	l->n++;
}

START_TEST(node_parties)
{
	uint8_t		 p1[REG_PARTY_ID_LEN], p2[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("node_parties", NULL, p1);
	struct plist	 l = { 0 };
	struct prefix	 sub;
	struct addr	 a;
	char		 buf[LR_PREFIX_STRLEN];
	int		 i;

	admit_addr(r, p1, 2, T0);
	ck_assert_int_eq(prefix_parse("172.20.0.0/24", &sub), 0);
	ck_assert_int_eq(reg_party_create(r, key(2), "mine", &sub, T0, p2, &a),
	    0);
	ck_assert_int_eq(reg_node_parties(r, key(2), seen_party, &l), 0);
	ck_assert_int_eq(l.n, 2);
	for (i = 0; i < 2; i++) {
		if (memcmp(l.p[i].id, p2, sizeof(p2)) == 0) {
			ck_assert_str_eq(l.p[i].name, "mine");
			ck_assert_str_eq(afmt(&l.p[i].addr), "172.20.0.1");
			ck_assert_str_eq(prefix_fmt(&l.p[i].subnet, buf,
			    sizeof(buf)), "172.20.0.0/24");
			ck_assert_mem_eq(l.p[i].host, key(2), REG_KEY_LEN);
		} else {
			ck_assert_mem_eq(l.p[i].id, p1, sizeof(p1));
			ck_assert_str_eq(afmt(&l.p[i].addr), "10.66.0.2");
			ck_assert_mem_eq(l.p[i].host, key(HOST), REG_KEY_LEN);
		}
	}
	ck_assert_int_eq(reg_member_leave(r, p1, key(2), T0), 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(reg_node_parties(r, key(2), seen_party, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(reg_node_parties(r, key(2), NULL, &l), -1);
	ck_assert_int_eq(errno, EINVAL);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(reg_node_parties(r, key(50), seen_party, &l), 0);
	ck_assert_int_eq(l.n, 0);
	reg_close(r);
}
END_TEST

struct rlist {
	int		 n;
	struct reg_relay r[4];
};

static void
seen_relay(const struct reg_relay *rl, void *arg)
{
	struct rlist	*l = arg;

	if (l->n < 4)
		l->r[l->n] = *rl;
	l->n++;
}

START_TEST(relays)
{
	struct reg	*r = open_db("relays");
	struct rlist	 l = { 0 };
	struct events	 e = { 0 };

	ck_assert_int_eq(reg_relay_report(r, key(1), "bogus", "eu", 10, 1, T0),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_relay_report(r, key(1), "1.2.3.4:51820", "", 10,
	    1, T0), -1);
	ck_assert_int_eq(reg_relay_report(r, key(1), "1.2.3.4:51820", "eu", 10,
	    11, T0), -1);
	ck_assert_int_eq(reg_relay_report(r, key(1), "1.2.3.4:51820", "eu", 0,
	    0, T0), -1);
	ck_assert_int_eq(reg_relay_report(r, NULL, "1.2.3.4:51820", "eu", 10,
	    1, T0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(reg_relay_report(r, key(1), "1.2.3.4:51820", "eu", 10,
	    5, T0), 0);
	ck_assert_int_eq(reg_relay_report(r, key(2), "[2001:db8::1]:51820",
	    "eu", 10, 2, T0), 0);
	ck_assert_int_eq(reg_relay_report(r, key(3), "5.6.7.8:51820", "asia",
	    100, 2, T0), 0);
	ck_assert_int_eq(reg_relay_report(r, key(1), "1.2.3.5:51820", "eu", 10,
	    1, T0 + 20), 0);		/* replaces */
	ck_assert_int_eq(reg_relay_list(r, seen_relay, &l), 0);
	ck_assert_int_eq(l.n, 3);
	ck_assert_str_eq(l.r[0].region, "asia");
	ck_assert_mem_eq(l.r[1].key, key(1), REG_KEY_LEN);
	ck_assert_str_eq(l.r[1].addr, "1.2.3.5:51820");
	ck_assert_int_eq(l.r[1].load, 1);
	ck_assert_int_eq(l.r[1].last_report, T0 + 20);
	ck_assert_str_eq(l.r[2].addr, "[2001:db8::1]:51820");
	ck_assert_int_eq(reg_relay_expire(r, T0 + 30, 10, seen_event, &e), 0);
	ck_assert_int_eq(e.n, 2);
	ck_assert_int_eq(e.ev[0].type, REG_EV_RELAY_EXPIRED);
	ck_assert_int_eq(reg_relay_expire(r, T0 + 30, -1, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(reg_relay_list(r, seen_relay, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_mem_eq(l.r[0].key, key(1), REG_KEY_LEN);
	reg_close(r);
}
END_TEST

/*
 * Crash safety.  A child churns the registry (joins, leaves, kicks,
 * redeems, heartbeats, expiry) and is killed with SIGKILL after a random
 * few milliseconds; the parent then checks the invariants on the file.
 */
#define CRASH_NODES	40

static void
crash_child(const char *name, const uint8_t *party, unsigned seed)
{
	struct reg	*r;
	struct addr	 a;
	int		 i, n;

	if (reg_open(dbpath(name), &r) == -1)
		_exit(1);
	srandom(seed);
	for (i = 0; i < 1000; i++) {
		n = 2 + random() % CRASH_NODES;
		switch (random() % 6) {
		case 0:
		case 1:
			reg_invite_redeem(r, open_code, key(n), T0 + i, NULL,
			    NULL);
			reg_member_join(r, party, key(n), T0 + i, &a);
			break;
		case 2:
			reg_member_leave(r, party, key(n), T0 + i);
			break;
		case 3:
			reg_member_kick(r, party, key(HOST), key(n), T0 + i);
			break;
		case 4:
			reg_heartbeat(r, key(n), T0 + i);
			reg_flush(r);
			break;
		default:
			reg_expire(r, T0 + i, 50, 100000, NULL, NULL);
			break;
		}
	}
	reg_close(r);
	_exit(0);
}

static const char *const crash_checks[] = {
	/* Each query counts violations. */
	"SELECT count(*) FROM members m WHERE state = 1 AND NOT EXISTS"
	" (SELECT 1 FROM allocations a WHERE a.party = m.party"
	" AND a.node = m.node)",
	"SELECT count(*) FROM (SELECT 1 FROM allocations"
	" GROUP BY party, hostnum HAVING count(*) > 1)",
	"SELECT count(*) FROM allocations WHERE hostnum < 1 OR hostnum > 254",
	"SELECT count(*) FROM allocations a JOIN parties p ON p.id = a.party"
	" WHERE (a.hostnum = 1) != (a.node = p.host)",
	"SELECT count(*) FROM parties p WHERE (emptied_at IS NULL) !="
	" EXISTS (SELECT 1 FROM members WHERE party = p.id AND state = 1)",
	"SELECT count(*) FROM (SELECT 1 FROM members WHERE state IN (1, 3)"
	" GROUP BY party HAVING count(*) > 256)",
	"SELECT count(*) FROM invites WHERE uses > max_uses",
	"SELECT count(*) FROM pragma_foreign_key_check",
	"SELECT count(*) FROM pragma_integrity_check WHERE integrity_check"
	" != 'ok'",
	"SELECT 1 - count(*) FROM parties",
};

static void
crash_verify(const char *name, const uint8_t *party)
{
	struct reg	*r;
	size_t		 i;

	for (i = 0; i < sizeof(crash_checks) / sizeof(crash_checks[0]); i++)
		ck_assert_msg(sql_count(name, crash_checks[i]) == 0,
		    "violated: %s", crash_checks[i]);
	/* And the library still works on it. */
	r = open_db(name);
	ck_assert_int_eq(members(r, party)->n, sql_count(name,
	    "SELECT count(*) FROM members WHERE state IN (1, 3)"));
	reg_close(r);
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(crash_safety)
{
	const char	*name = "crash";
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party(name, "10.7.7.0/24", party);
	struct timespec	 t0;
	pid_t		 pid;
	int		 i, status, rounds = 0, killed = 0;

	for (i = 2; i < 2 + CRASH_NODES; i++)
		node(r, i);
	reg_close(r);
	srandom(getpid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed(&t0) < 4.0 && rounds < 200) {
		if ((pid = fork()) == -1)
			ck_abort_msg("fork: %s", strerror(errno));
		if (pid == 0)
			crash_child(name, party, random());
		usleep(1000 + random() % 20000);
		if (kill(pid, SIGKILL) == 0)
			killed++;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status) || (WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0));
		crash_verify(name, party);
		rounds++;
	}
	ck_assert_int_gt(rounds, 0);
	/* The children got work done before they died. */
	ck_assert_int_gt(sql_count(name, "SELECT count(*) FROM allocations"),
	    1);
	fprintf(stderr, "crash_safety: %d rounds, %d killed\n", rounds,
	    killed);
}
END_TEST

/* Not a test: a figure for the record.  Asserts results, not time. */
START_TEST(throughput)
{
	uint8_t		 party[REG_PARTY_ID_LEN];
	struct reg	*r = open_party("throughput", NULL, party);
	struct timespec	 t0;
	double		 t;
	int		 i;

	for (i = 2; i < 200; i++)
		admit_addr(r, party, i, T0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(reg_heartbeat(r, key(2 + i % 198), T0 + 1 +
		    i / 198), 0);
	ck_assert_int_eq(reg_flush(r), 0);
	t = elapsed(&t0);
	fprintf(stderr, "throughput: 10000 heartbeats flushed in %.1f ms\n",
	    t * 1000);
	reg_close(r);
}
END_TEST

static Suite *
registry_suite(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc = tcase_create("core");
	TCase	*crash = tcase_create("crash");

	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, node_seen_validates);
	tcase_add_test(tc, party_create);
	tcase_add_test(tc, invite_errors);
	tcase_add_test(tc, join_and_rejoin);
	tcase_add_test(tc, tiny_subnet);
	tcase_add_test(tc, reclaim_oldest);
	tcase_add_test(tc, member_cap);
	tcase_add_test(tc, kick);
	tcase_add_test(tc, approval);
	tcase_add_test(tc, party_close_cascades);
	tcase_add_test(tc, expire);
	tcase_add_test(tc, heartbeat_batch);
	tcase_add_test(tc, node_parties);
	tcase_add_test(tc, relays);
	tcase_add_test(tc, throughput);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(crash, dir_setup, dir_teardown);
	tcase_set_timeout(crash, 60);
	tcase_add_test(crash, crash_safety);
	suite_add_tcase(s, crash);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(registry_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
