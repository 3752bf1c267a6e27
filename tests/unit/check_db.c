/* Unit tests for lib/db.c. */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/db.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* One directory for the whole case, made and removed by the parent. */
static char	 tmpdir[] = "/tmp/check_db.XXXXXX";

static const char *const schema[] = {
	"CREATE TABLE party (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
	"CREATE TABLE peer (id INTEGER PRIMARY KEY,"
	"    party INTEGER NOT NULL REFERENCES party(id));"
	"CREATE INDEX peer_party ON peer(party);",
	"INSERT INTO party (name) VALUES ('lan');",
};

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

/* The single integer a query returns, or -1. */
static int
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
table_exists(sqlite3 *db, const char *name)
{
	char	 sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name = '%s'", name);
	return query_int(db, sql);
}

static int
version_of(sqlite3 *db)
{
	int	 v = -1;

	ck_assert_int_eq(db_user_version(db, &v), 0);
	return v;
}

/* Open raw, without db_open(), to look at a file behind its back. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3	*db;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	return db;
}

START_TEST(migrate_from_zero)
{
	sqlite3		*db = (sqlite3 *)1;
	const char	*err = NULL;

	ck_assert_int_eq(db_open(dbpath("m.db"), schema, NELEM(schema), &db,
	    &err), 0);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(version_of(db), 3);
	ck_assert_int_eq(table_exists(db, "party"), 1);
	ck_assert_int_eq(table_exists(db, "peer"), 1);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"), 1);
	db_close(db);
}
END_TEST

START_TEST(reopen_idempotent)
{
	sqlite3		*db;
	const char	*err = NULL;
	int		 i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(db_open(dbpath("r.db"), schema, NELEM(schema),
		    &db, &err), 0);
		ck_assert_int_eq(version_of(db), 3);
		/* The INSERT step ran once, not once per open. */
		ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"),
		    1);
		db_close(db);
	}
}
END_TEST

START_TEST(migrate_stepwise)
{
	sqlite3		*db;
	const char	*err = NULL;

	ck_assert_int_eq(db_open(dbpath("s.db"), schema, 1, &db, &err), 0);
	ck_assert_int_eq(version_of(db), 1);
	ck_assert_int_eq(table_exists(db, "peer"), 0);
	db_close(db);
	ck_assert_int_eq(db_open(dbpath("s.db"), schema, NELEM(schema), &db,
	    &err), 0);
	ck_assert_int_eq(version_of(db), 3);
	ck_assert_int_eq(table_exists(db, "peer"), 1);
	db_close(db);

	/* No migrations at all: an empty database at version 0. */
	ck_assert_int_eq(db_open(dbpath("e.db"), NULL, 0, &db, &err), 0);
	ck_assert_int_eq(version_of(db), 0);
	db_close(db);
}
END_TEST

START_TEST(failed_migration_rolls_back)
{
	static const char *const bad[] = {
		"CREATE TABLE party (id INTEGER PRIMARY KEY);",
		/* The first statement succeeds before the second fails. */
		"CREATE TABLE peer (id INTEGER);"
		"INSERT INTO party VALUES (1);"
		"INSERT INTO no_such_table VALUES (1);",
		"CREATE TABLE never (id INTEGER);",
	};
	sqlite3		*db = (sqlite3 *)1;
	const char	*err = NULL;

	errno = 0;
	ck_assert_int_eq(db_open(dbpath("f.db"), bad, NELEM(bad), &db, &err),
	    -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, "no_such_table"));

	db = raw_open(dbpath("f.db"));
	ck_assert_int_eq(version_of(db), 1);
	ck_assert_int_eq(table_exists(db, "party"), 1);
	ck_assert_int_eq(table_exists(db, "peer"), 0);
	ck_assert_int_eq(table_exists(db, "never"), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"), 0);
	sqlite3_close(db);
}
END_TEST

START_TEST(newer_refused)
{
	sqlite3		*db;
	const char	*err = NULL;

	ck_assert_int_eq(db_open(dbpath("n.db"), schema, NELEM(schema), &db,
	    &err), 0);
	db_close(db);

	db = (sqlite3 *)1;
	err = NULL;
	errno = 0;
	ck_assert_int_eq(db_open(dbpath("n.db"), schema, 2, &db, &err), -1);
	ck_assert_int_eq(errno, ENOTSUP);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(err);

	db = raw_open(dbpath("n.db"));
	ck_assert_int_eq(version_of(db), 3);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"), 1);
	sqlite3_close(db);
}
END_TEST

START_TEST(pragmas)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	const char	*err = NULL;

	ck_assert_int_eq(db_open(dbpath("p.db"), schema, NELEM(schema), &db,
	    &err), 0);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	ck_assert_int_eq(query_int(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(query_int(db, "PRAGMA busy_timeout"),
	    DB_BUSY_TIMEOUT_MS);

	/* Foreign keys are enforced, not just declared. */
	errno = 0;
	ck_assert_int_eq(db_exec(db, "INSERT INTO peer (party) VALUES (42)",
	    &err), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_ptr_nonnull(strstr(err, "FOREIGN KEY"));
	ck_assert_int_eq(db_exec(db, "INSERT INTO peer (party) VALUES (1)",
	    &err), 0);
	db_close(db);

	/* WAL is persistent: a plain open sees it too. */
	db = raw_open(dbpath("p.db"));
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(file_mode)
{
	sqlite3		*db;
	const char	*err = NULL;
	struct stat	 sb;

	/* A permissive umask must not leak into the file's mode. */
	umask(0);
	ck_assert_int_eq(db_open(dbpath("mode.db"), schema, NELEM(schema),
	    &db, &err), 0);
	ck_assert_int_eq(stat(dbpath("mode.db"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(dbpath("mode.db-wal"), &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	db_close(db);
}
END_TEST

START_TEST(open_errors)
{
	sqlite3		*db = (sqlite3 *)1;
	const char	*err = NULL;
	FILE		*f;

	errno = 0;
	ck_assert_int_eq(db_open(dbpath("nodir/x.db"), schema, NELEM(schema),
	    &db, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(err);

	ck_assert_ptr_nonnull(f = fopen(dbpath("junk.db"), "w"));
	for (int i = 0; i < 512; i++)
		fputs("this is not a database ", f);
	fclose(f);
	db = (sqlite3 *)1;
	ck_assert_int_eq(db_open(dbpath("junk.db"), schema, NELEM(schema),
	    &db, &err), -1);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(err);

	/* A NULL errmsg is allowed. */
	ck_assert_int_eq(db_open(dbpath("junk.db"), schema, NELEM(schema),
	    &db, NULL), -1);
}
END_TEST

START_TEST(transactions)
{
	sqlite3		*db;
	const char	*err = NULL;

	ck_assert_int_eq(db_open(dbpath("t.db"), schema, NELEM(schema), &db,
	    &err), 0);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(db_exec(db, "INSERT INTO party (name) VALUES ('a')",
	    &err), 0);
	errno = EEXIST;
	ck_assert_int_eq(db_rollback(db), 0);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"), 1);

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(db_exec(db, "INSERT INTO party (name) VALUES ('b')",
	    &err), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM party"), 2);

	/* Nothing to commit or roll back. */
	errno = 0;
	ck_assert_int_eq(db_commit(db), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(db_rollback(db), -1);

	err = NULL;
	ck_assert_int_eq(db_exec(db, "SELEC 1", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "syntax error"));
	ck_assert_int_eq(db_exec(db, "SELECT 1", NULL), 0);
	db_close(db);
	db_close(NULL);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite	*s = suite_create("db");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, migrate_from_zero);
	tcase_add_test(tc, reopen_idempotent);
	tcase_add_test(tc, migrate_stepwise);
	tcase_add_test(tc, failed_migration_rolls_back);
	tcase_add_test(tc, newer_refused);
	tcase_add_test(tc, pragmas);
	tcase_add_test(tc, file_mode);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, transactions);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
