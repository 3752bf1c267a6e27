/*
 * Logging to syslog (daemon mode) or stderr (foreground).  Every function
 * preserves errno.  lib/ itself only ever calls log_debug(); the layer that
 * decides what an event means is the one that logs it above debug.
 */
#ifndef LR_LIB_LOG_H
#define LR_LIB_LOG_H

#include <stddef.h>
#include <stdarg.h>

#define LR_LOG_PRINTF(a, b)	__attribute__((format(printf, a, b)))
#define LR_DEAD			__attribute__((noreturn))

/* foreground != 0: log to stderr; otherwise to syslog(LOG_DAEMON). */
void	log_init(const char *progname, int foreground, int verbose);
/* 0: info and above, 1+: debug too. */
void	log_setverbose(int verbose);
int	log_getverbose(void);

void	log_warn(const char *, ...) LR_LOG_PRINTF(1, 2);	/* + strerror */
void	log_warnx(const char *, ...) LR_LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LR_LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LR_LOG_PRINTF(1, 2);
void	vlog(int pri, const char *, va_list) LR_LOG_PRINTF(2, 0);

/* Process setup and impossible states only; never called from lib/. */
void	fatal(const char *, ...) LR_LOG_PRINTF(1, 2) LR_DEAD;	/* + strerror */
void	fatalx(const char *, ...) LR_LOG_PRINTF(1, 2) LR_DEAD;

/*
 * Escape untrusted bytes for a log line: printable ASCII except '\\' and
 * '"' is kept, everything else becomes \xHH (\\ and \" for those two).
 * Always NUL-terminates dst when dstlen > 0; truncates with "..." when
 * dst is too small.  Returns dst.
 */
char	*log_escape(char *dst, size_t dstlen, const void *src, size_t srclen);

#endif
