/*
 * The client side of proto/api.md: one connection, one request line, one
 * answer line.  lanraged is trusted to be lanraged but not to be well:
 * the answer is bounded in size and time and checked before use.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanragectl/lanragectl.h"
#include "lib/buf.h"

#define CLIENT_READ	4096

int
client_encode(const char *cmd, json_t *args, char **line, size_t *len)
{
	json_t	*req = NULL;
	char	*s, *p;
	size_t	 n;

	*line = NULL;
	if ((req = json_pack("{ss}", "cmd", cmd)) == NULL)
		goto nomem;
	if (args != NULL && json_object_size(args) > 0 &&
	    json_object_set(req, "args", args) == -1)
		goto nomem;
	/* compact JSON escapes every newline: the newline is the frame */
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	req = NULL;
	if (s == NULL)
		goto nomem;
	n = strlen(s) + 1;
	*len = n;
	if (n > CTL_REQUEST_MAX) {
		free(s);
		errno = EMSGSIZE;
		return -1;
	}
	if ((p = realloc(s, n + 1)) == NULL) {
		free(s);
		goto nomem;
	}
	p[n - 1] = '\n';
	p[n] = '\0';
	*line = p;
	return 0;
 nomem:
	json_decref(req);
	errno = ENOMEM;
	return -1;
}

static long long
client_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline; -1/ETIMEDOUT when it passes. */
static int
client_wait(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	for (;;) {
		if ((left = deadline - client_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Why a connect failed, with the likely cause for the common ones. */
static void
client_connect_error(const char *path, int e, char *err, size_t errlen)
{
	char		 p[256];
	const char	*hint = "";

	text_escape(p, sizeof(p), path, strlen(path));
	if (e == ENOENT || e == ECONNREFUSED)
		hint = " (is lanraged running?)";
	else if (e == EACCES)
		hint = " (is this user in lanraged's group?)";
	snprintf(err, errlen, "cannot connect to lanraged at %s: %s%s", p,
	    e == EAGAIN ? "timed out" : strerror(e), hint);
}

/*
 * A blocking connect, bounded by SO_SNDTIMEO (a full listen queue makes
 * a Unix connect wait); then non-blocking for the poll loops.
 */
static int
client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CTL_TIMEOUT_MS / 1000, 0 };
	int			 fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		client_connect_error(path, ENAMETOOLONG, err, errlen);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		client_connect_error(path, errno, err, errlen);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		close(fd);
		client_connect_error(path, e, err, errlen);
		return -1;
	}
	return fd;
}

static void
client_io_error(const char *what, int e, char *err, size_t errlen)
{
	if (e == ETIMEDOUT)
		snprintf(err, errlen, "no answer from lanraged within %d s",
		    CTL_TIMEOUT_MS / 1000);
	else if (e == EPIPE || e == ECONNRESET)
		snprintf(err, errlen, "lanraged closed the connection");
	else
		snprintf(err, errlen, "%s lanraged: %s", what, strerror(e));
}

static int
client_send(int fd, const char *line, size_t len, long long deadline,
    char *err, size_t errlen)
{
	ssize_t	 n;

	while (len > 0) {
		if (client_wait(fd, POLLOUT, deadline) == -1)
			goto fail;
		/* MSG_NOSIGNAL: a daemon that went away is an error, not a kill */
		if ((n = send(fd, line, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			goto fail;
		}
		line += n;
		len -= n;
	}
	return 0;
 fail:
	n = errno;
	client_io_error("writing to", (int)n, err, errlen);
	errno = (int)n;		/* the caller looks at it */
	return -1;
}

/* Read one more chunk into b; 0 at the end of the stream, -1 on error. */
static ssize_t
client_read(int fd, struct buf *b, long long deadline)
{
	size_t	 room;
	ssize_t	 n;

	room = b->max - b->len;
	if (room > CLIENT_READ)
		room = CLIENT_READ;
	if (room == 0) {
		errno = EMSGSIZE;
		return -1;
	}
	if (buf_reserve(b, room) == -1)
		return -1;
	do {
		if (client_wait(fd, POLLIN, deadline) == -1)
			return -1;
		n = read(fd, b->data + b->len, room);
	} while (n == -1 && (errno == EINTR || errno == EAGAIN));
	if (n > 0)
		b->len += n;
	return n;
}

/* Read up to the first newline; *linelen excludes it. */
static int
client_recv(int fd, struct buf *b, size_t *linelen, long long deadline,
    char *err, size_t errlen)
{
	uint8_t	*nl;
	size_t	 old;
	ssize_t	 n;

	for (;;) {
		old = b->len;
		if ((n = client_read(fd, b, deadline)) == -1)
			break;
		if (n == 0) {
			snprintf(err, errlen, "lanraged closed the connection "
			    "%s", old == 0 ? "without answering" :
			    "in the middle of its answer");
			return -1;
		}
		if ((nl = memchr(b->data + old, '\n', n)) != NULL) {
			*linelen = nl - b->data;
			return 0;
		}
	}
	if (errno == EMSGSIZE)
		snprintf(err, errlen, "lanraged's answer is larger than "
		    "%d bytes", CTL_RESPONSE_MAX);
	else
		client_io_error("reading from", errno, err, errlen);
	return -1;
}

/* An answer of ok: false: the daemon's text, else its code. */
static void
client_refused(json_t *ans, char *err, size_t errlen)
{
	json_t	*e, *code;
	char	 why[64];

	e = json_object_get(ans, "error");
	code = json_object_get(ans, "code");
	if (json_is_string(e) && json_string_length(e) > 0)
		text_escape(err, errlen, json_string_value(e),
		    json_string_length(e));
	else if (json_is_string(code)) {
		text_escape(why, sizeof(why), json_string_value(code),
		    json_string_length(code));
		snprintf(err, errlen, "lanraged refused the request: %s", why);
	} else
		snprintf(err, errlen, "lanraged refused the request");
}

static int
client_parse(const char *s, size_t len, json_t **result, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*ans, *ok, *res;
	char		 why[160];
	int		 rv = -1;

	if ((ans = json_loadb(s, len, 0, &jerr)) == NULL) {
		text_escape(why, sizeof(why), jerr.text, strlen(jerr.text));
		snprintf(err, errlen, "lanraged's answer is not JSON: %s", why);
		return -1;
	}
	ok = json_object_get(ans, "ok");
	res = json_object_get(ans, "result");
	if (!json_is_object(ans))
		snprintf(err, errlen, "lanraged's answer is not a JSON object");
	else if (!json_is_boolean(ok))
		snprintf(err, errlen, "lanraged's answer has no \"ok\"");
	else if (json_is_false(ok))
		client_refused(ans, err, errlen);
	else if (!json_is_object(res))
		snprintf(err, errlen, "lanraged's answer has no result");
	else {
		*result = json_incref(res);
		rv = 0;
	}
	json_decref(ans);
	return rv;
}

int
client_call(const char *path, const char *line, size_t len,
    json_t **result, char *err, size_t errlen)
{
	struct buf	 b;
	long long	 deadline;
	size_t		 linelen;
	int		 fd, rv = -1;

	*result = NULL;
	if (buf_init(&b, 0, CTL_RESPONSE_MAX) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	deadline = client_now_ms() + CTL_TIMEOUT_MS;
	if ((fd = client_connect(path, err, errlen)) == -1)
		goto done;
	/*
	 * A daemon that refuses a client (too many) answers and closes at
	 * once: the write may fail, and the answer still waits to be read.
	 */
	if ((client_send(fd, line, len, deadline, err, errlen) == 0 ||
	    errno == EPIPE || errno == ECONNRESET) &&
	    client_recv(fd, &b, &linelen, deadline, err, errlen) == 0)
		rv = client_parse((const char *)b.data, linelen, result, err,
		    errlen);
	close(fd);
 done:
	buf_free(&b);
	return rv;
}
