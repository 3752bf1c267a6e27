/*
 * SQLite helpers: open in WAL mode with foreign keys and a busy timeout,
 * and migrate the schema by PRAGMA user_version.  migrations[i] takes the
 * schema from version i to i + 1 and runs in one transaction with the
 * version bump, so a crash leaves either the old or the new schema.
 */
#ifndef LR_LIB_DB_H
#define LR_LIB_DB_H

#include <sqlite3.h>

#define DB_BUSY_TIMEOUT_MS	5000

/*
 * Open (creating with mode 0600) and migrate.  A database newer than
 * nmigrations is refused (ENOTSUP).  -1 with errno and *errmsg (static
 * or sqlite text, valid until the next call) on failure.
 */
int	 db_open(const char *path, const char *const *migrations,
	    int nmigrations, sqlite3 **out, const char **errmsg);
void	 db_close(sqlite3 *);
int	 db_user_version(sqlite3 *, int *);
/* Run SQL with no results; -1/EIO and *errmsg on failure. */
int	 db_exec(sqlite3 *, const char *sql, const char **errmsg);
int	 db_begin(sqlite3 *);
int	 db_commit(sqlite3 *);
int	 db_rollback(sqlite3 *);

#endif
