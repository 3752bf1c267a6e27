/*
 * SQLite helpers.  Error text is copied into one static buffer because the
 * handle it came from may already be closed when the caller reads it; the
 * daemons are single-threaded, so "valid until the next call" is enough.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/db.h"
#include "lib/log.h"

static char	 db_errbuf[256];

static void
db_seterr(const char **errmsg, const char *msg)
{
	if (errmsg == NULL)
		return;
	snprintf(db_errbuf, sizeof(db_errbuf), "%s", msg);
	*errmsg = db_errbuf;
}

/* Record sqlite's message for db and fail with err. */
static int
db_fail(sqlite3 *db, int err, const char **errmsg)
{
	db_seterr(errmsg, db != NULL ? sqlite3_errmsg(db) : "out of memory");
	errno = err;
	return -1;
}

int
db_exec(sqlite3 *db, const char *sql, const char **errmsg)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		db_seterr(errmsg, msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * IMMEDIATE takes the write lock up front: in WAL mode a reader that later
 * tries to write gets SQLITE_BUSY at once, whatever the busy timeout.
 */
int
db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE", NULL);
}

int
db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT", NULL);
}

/* Called on error paths, so it keeps the errno of the original failure. */
int
db_rollback(sqlite3 *db)
{
	int	 saved_errno = errno;

	if (db_exec(db, "ROLLBACK", NULL) == -1)
		return -1;
	errno = saved_errno;
	return 0;
}

int
db_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		errno = EIO;
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Create the file ourselves: sqlite would use 0644 minus the umask. */
static int
db_create(const char *path, const char **errmsg)
{
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		db_seterr(errmsg, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* journal_mode answers with the mode in force, which may not be WAL. */
static int
db_set_wal(sqlite3 *db, const char **errmsg)
{
	sqlite3_stmt		*st;
	const unsigned char	*mode;
	int			 rc = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(db, EIO, errmsg);
	if (sqlite3_step(st) != SQLITE_ROW)
		rc = db_fail(db, EIO, errmsg);
	else if ((mode = sqlite3_column_text(st, 0)) == NULL ||
	    strcasecmp((const char *)mode, "wal") != 0) {
		db_seterr(errmsg, "cannot enable WAL journal mode");
		errno = ENOTSUP;
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * One step per transaction.  The version is read after taking the write
 * lock, so two processes opening the same file never run a step twice.
 * Returns 1 when the schema is current, 0 after a step, -1 on failure.
 */
static int
db_migrate_step(sqlite3 *db, const char *const *migrations, int n,
    const char **errmsg)
{
	char	 sql[64];
	int	 v, saved_errno;

	if (db_exec(db, "BEGIN IMMEDIATE", errmsg) == -1)
		return -1;
	if (db_user_version(db, &v) == -1) {
		db_fail(db, EIO, errmsg);
		goto fail;
	}
	if (v == n) {
		if (db_exec(db, "COMMIT", errmsg) == -1)
			goto fail;
		return 1;
	}
	if (v < 0 || v > n) {
		db_seterr(errmsg, "database schema is newer than this program");
		errno = ENOTSUP;
		goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
	if (db_exec(db, migrations[v], errmsg) == -1 ||
	    db_exec(db, sql, errmsg) == -1 ||
	    db_exec(db, "COMMIT", errmsg) == -1)
		goto fail;
	log_debug("%s: schema version %d", __func__, v + 1);
	return 0;
fail:
	saved_errno = errno;
	if (sqlite3_get_autocommit(db) == 0)
		db_exec(db, "ROLLBACK", NULL);
	errno = saved_errno;
	return -1;
}

int
db_open(const char *path, const char *const *migrations, int nmigrations,
    sqlite3 **out, const char **errmsg)
{
	sqlite3	*db = NULL;
	int	 flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int	 rc, saved_errno;

	*out = NULL;
	if (nmigrations < 0 || (nmigrations > 0 && migrations == NULL)) {
		db_seterr(errmsg, "bad migration list");
		errno = EINVAL;
		return -1;
	}
	if (db_create(path, errmsg) == -1)
		return -1;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		db_fail(db, EIO, errmsg);
		goto fail;
	}
	/* Before WAL: switching the journal mode needs a lock too. */
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (db_set_wal(db, errmsg) == -1 ||
	    db_exec(db, "PRAGMA foreign_keys = ON", errmsg) == -1)
		goto fail;
	while ((rc = db_migrate_step(db, migrations, nmigrations,
	    errmsg)) == 0)
		;
	if (rc == -1)
		goto fail;
	*out = db;
	return 0;
fail:
	saved_errno = errno;
	sqlite3_close(db);
	errno = saved_errno;
	return -1;
}

void
db_close(sqlite3 *db)
{
	int	 saved_errno = errno;

	sqlite3_close(db);
	errno = saved_errno;
}
