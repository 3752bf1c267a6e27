/*
 * lanragectl: the CLI of lanraged, one request per run over the control
 * socket (proto/api.md).  See lanragectl(1).
 */
#ifndef LR_LANRAGECTL_LANRAGECTL_H
#define LR_LANRAGECTL_LANRAGECTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define LANRAGECTL_SOCKET	LR_RUNSTATEDIR "/lanraged/lanraged.sock"
#define LANRAGECTL_SOCKET_ENV	"LANRAGE_SOCKET"

#define CTL_REQUEST_MAX		65536		/* with the newline: api.md */
#define CTL_RESPONSE_MAX	(1024 * 1024)	/* ours: answers are small */
/* Party commands wait up to 10 s for the control server; allow more. */
#define CTL_TIMEOUT_MS		15000

#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1
#define CTL_EXIT_USAGE		2

/* client.c */

/*
 * Encode {"cmd": cmd, "args": args} as one request line with its newline
 * into *line (the caller frees it); args is borrowed and left out when
 * NULL or empty.  -1/EMSGSIZE when the line would exceed CTL_REQUEST_MAX
 * (*len then says how long it is), -1/ENOMEM.
 */
int	 client_encode(const char *cmd, json_t *args, char **line,
	    size_t *len);
/*
 * Send one encoded request to lanraged at path and wait at most
 * CTL_TIMEOUT_MS in all for its answer.  0: *result is the answer's
 * "result" object (a new reference).  -1: err holds why, escaped for a
 * terminal: the daemon's own error text or what failed on the way.
 */
int	 client_call(const char *path, const char *line, size_t len,
	    json_t **result, char *err, size_t errlen);

/* text.c: every untrusted string printed in human mode passes here. */

/*
 * Print s[len] with control characters, invalid or unprintable multibyte
 * sequences (in the current locale), invisible format characters and
 * '\\' escaped as \xNN (\\ for the backslash).
 */
void	 text_print(FILE *, const char *s, size_t len);
/* Terminal columns that text_print() uses for s[len]. */
size_t	 text_width(const char *s, size_t len);
/* The same escaping into dst, NUL-terminated, cut with "..." to fit. */
void	 text_escape(char *dst, size_t dstlen, const char *s, size_t len);
/* "512 B", "1.5 KiB", ... */
void	 text_size(char *dst, size_t dstlen, uint64_t bytes);
/* "45s", "3m07s", "2h05m", "4d03h" */
void	 text_age(char *dst, size_t dstlen, uint64_t seconds);

/*
 * show.c: print a result for people.  args is the request's (to know
 * what was asked); 0, or -1 after saying on stderr what the answer
 * lacked.
 */
int	 show_status(json_t *args, json_t *result);
int	 show_peers(json_t *args, json_t *result);
int	 show_party(json_t *args, json_t *result);
int	 show_join(json_t *args, json_t *result);
int	 show_none(json_t *args, json_t *result);
int	 show_kick(json_t *args, json_t *result);
int	 show_answered(json_t *args, json_t *result);
int	 show_netcheck(json_t *args, json_t *result);
int	 show_lan(json_t *args, json_t *result);
int	 show_invite(json_t *args, json_t *result);
int	 show_settings(json_t *args, json_t *result);
int	 show_setting(json_t *args, json_t *result);
int	 show_log(json_t *args, json_t *result);
/* -j: the result object as JSON, ASCII only. */
int	 show_json(json_t *result);

#endif
