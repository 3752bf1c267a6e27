/*
 * Logging to syslog or stderr.  Every entry point saves errno on entry and
 * restores it on return, so callers can log between a failing call and
 * their own "return -1".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "lib/log.h"

/* Longer messages are cut; a log line is not a data channel. */
#define LOG_MAXLINE	2048

/* Until log_init() runs, messages go to stderr so early errors are seen. */
static const char	*log_progname;
static int		 log_foreground = 1;
static int		 log_verbose;

void
log_init(const char *progname, int foreground, int verbose)
{
	int	 saved_errno = errno;

	log_progname = progname;
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	/* Load the zone now: syslog() may run after a chroot. */
	tzset();
	errno = saved_errno;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static int
log_wanted(int pri)
{
	return pri < LOG_DEBUG || log_verbose > 0;
}

static void
log_emit(int pri, const char *msg)
{
	if (log_foreground) {
		if (log_progname != NULL)
			fprintf(stderr, "%s: %s\n", log_progname, msg);
		else
			fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	} else
		syslog(pri, "%s", msg);
}

/* Format and emit, appending strerror(err) when err is not 0. */
static void
log_vemit(int pri, int err, const char *fmt, va_list ap)
{
	char	 msg[LOG_MAXLINE];
	int	 n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "%s", fmt);
	else if (err != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	log_emit(pri, msg);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;

	if (log_wanted(pri))
		log_vemit(pri, 0, fmt, ap);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Length of the escaped form of byte c. */
static size_t
log_escape_len(unsigned char c)
{
	if (c == '\\' || c == '"')
		return 2;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	return 4;
}

static void
log_escape_one(char *p, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";

	switch (log_escape_len(c)) {
	case 1:
		p[0] = c;
		break;
	case 2:
		p[0] = '\\';
		p[1] = c;
		break;
	default:
		p[0] = '\\';
		p[1] = 'x';
		p[2] = hex[c >> 4];
		p[3] = hex[c & 0xf];
		break;
	}
}

char *
log_escape(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char	*s = src;
	size_t			 i, need, room, off, dots;

	if (dstlen == 0)
		return dst;
	room = dstlen - 1;
	need = 0;
	for (i = 0; i < srclen && need <= room; i++)
		need += log_escape_len(s[i]);

	/* Too long: keep whole escapes only, and leave room for "...". */
	dots = 0;
	if (need > room) {
		dots = room < 3 ? room : 3;
		room -= dots;
	}
	off = 0;
	for (i = 0; i < srclen; i++) {
		if (off + log_escape_len(s[i]) > room)
			break;
		log_escape_one(dst + off, s[i]);
		off += log_escape_len(s[i]);
	}
	memset(dst + off, '.', dots);
	dst[off + dots] = '\0';
	return dst;
}
