/*
 * The UAPI socket: what wg(8) connects to.  The server only frames: a
 * request is a run of lines ended by an empty line, handed whole to the
 * handler, whose answer is written back before the next request on that
 * connection is read.  Clients are bounded in number, in request size
 * and in time: each request must arrive, and its answer be taken, within
 * LANRAGED_UAPI_TIMEOUT seconds.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lib/log.h"
#include "lib/proc.h"

struct uapi_conn {
	TAILQ_ENTRY(uapi_conn)	 entry;
	struct bufferevent	*bev;
	struct event		*timer;
	size_t			 scanned;	/* input bytes searched */
	int			 eof;		/* client sends no more */
	int			 closing;	/* close once flushed */
};

static TAILQ_HEAD(, uapi_conn)	 uapi_conns =
    TAILQ_HEAD_INITIALIZER(uapi_conns);
static size_t			 uapi_nconns;
static int			 uapi_fd = -1;
static struct event		*uapi_ev;
static char			 uapi_path[LANRAGED_PATH_MAX];
static lanraged_uapi_handler	 uapi_handler;
static void			*uapi_arg;

static void	 uapi_conn_process(struct uapi_conn *);

static void
uapi_conn_free(struct uapi_conn *c)
{
	TAILQ_REMOVE(&uapi_conns, c, entry);
	uapi_nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	free(c);
}

static void
uapi_conn_arm(struct uapi_conn *c)
{
	struct timeval	 tv = { LANRAGED_UAPI_TIMEOUT, 0 };

	evtimer_add(c->timer, &tv);
}

static void
uapi_conn_timeout(evutil_socket_t fd, short ev, void *arg)
{
	log_debug("uapi: client timed out");
	uapi_conn_free(arg);
}

/*
 * Length of the first complete request in in, 0 if none yet: up to and
 * including the first empty line.
 */
static size_t
uapi_request_len(struct uapi_conn *c, struct evbuffer *in)
{
	struct evbuffer_ptr	 start, hit;
	unsigned char		 first;
	size_t			 from;

	if (evbuffer_get_length(in) == 0)
		return 0;
	if (evbuffer_copyout(in, &first, 1) == 1 && first == '\n')
		return 1;
	from = c->scanned > 0 ? c->scanned - 1 : 0;
	if (evbuffer_ptr_set(in, &start, from, EVBUFFER_PTR_SET) == -1)
		return 0;
	hit = evbuffer_search(in, "\n\n", 2, &start);
	if (hit.pos == -1) {
		c->scanned = evbuffer_get_length(in);
		return 0;
	}
	return (size_t)hit.pos + 2;
}

/* An answer may hold the private key: wiped once the socket took it. */
static void
uapi_wipe(const void *data, size_t len, void *arg)
{
	explicit_bzero((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

/* Answer one request of len bytes; -1 when the connection must end. */
static int
uapi_conn_answer(struct uapi_conn *c, struct evbuffer *in, size_t len)
{
	struct buf	 resp;
	const char	*req;
	int		 rc;

	if ((req = (const char *)evbuffer_pullup(in, (ev_ssize_t)len)) ==
	    NULL || buf_init(&resp, 256, LANRAGED_UAPI_MAXRESP) == -1) {
		log_warn("uapi: request of %zu bytes", len);
		return -1;
	}
	rc = uapi_handler(req, len, &resp, uapi_arg);
	evbuffer_drain(in, len);
	c->scanned = 0;
	if (resp.len == 0 || evbuffer_add_reference(
	    bufferevent_get_output(c->bev), resp.data, resp.len, uapi_wipe,
	    NULL) == -1) {
		if (resp.len > 0)
			rc = -1;
		explicit_bzero(resp.data, resp.cap);
		buf_free(&resp);
	}
	uapi_conn_arm(c);
	return rc;
}

/*
 * Requests in order, one answer in flight at a time.  May free c: the
 * caller must not touch it afterwards.
 */
static void
uapi_conn_process(struct uapi_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len;

	while (!c->closing && evbuffer_get_length(out) == 0) {
		if ((len = uapi_request_len(c, in)) > 0) {
			if (uapi_conn_answer(c, in, len) == -1)
				c->closing = 1;
		} else if (c->eof)
			c->closing = 1;
		else if (evbuffer_get_length(in) >= LANRAGED_UAPI_MAXREQ) {
			log_warnx("uapi: request larger than %d bytes; "
			    "closing", LANRAGED_UAPI_MAXREQ);
			c->closing = 1;
		} else
			return;
	}
	if (c->closing)
		bufferevent_disable(c->bev, EV_READ);
	if (c->closing && evbuffer_get_length(out) == 0)
		uapi_conn_free(c);
}

static void
uapi_conn_read(struct bufferevent *bev, void *arg)
{
	uapi_conn_process(arg);
}

/* The output drained (low watermark 0). */
static void
uapi_conn_write(struct bufferevent *bev, void *arg)
{
	uapi_conn_process(arg);
}

static void
uapi_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct uapi_conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		log_debug("uapi: client: %s", strerror(EVUTIL_SOCKET_ERROR()));
		uapi_conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A half-closed client still gets its answers. */
		c->eof = 1;
		uapi_conn_process(c);
	}
}

static struct uapi_conn *
uapi_conn_new(int fd)
{
	struct uapi_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	/* Reading stops at the bound; process() then sees it and closes. */
	if (lanraged_conn_io(fd, LANRAGED_UAPI_MAXREQ, uapi_conn_read,
	    uapi_conn_write, uapi_conn_event, uapi_conn_timeout, c, &c->bev,
	    &c->timer) == -1) {
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&uapi_conns, c, entry);
	uapi_nconns++;
	uapi_conn_arm(c);
	return c;
}

static void
uapi_accept(evutil_socket_t lfd, short ev, void *arg)
{
	int	 fd;

	if ((fd = lanraged_accept(lfd, uapi_nconns, LANRAGED_UAPI_MAXCONN,
	    "uapi")) == -1)
		return;
	if (uapi_conn_new(fd) == NULL) {
		log_warn("uapi: client");
		close(fd);
	}
}

int
lanraged_uapi_listen(const char *path)
{
	if ((uapi_fd = lanraged_unix_listen(path, 0600)) == -1)
		return -1;
	snprintf(uapi_path, sizeof(uapi_path), "%s", path);
	return 0;
}

int
lanraged_uapi_start(lanraged_uapi_handler h, void *arg)
{
	if (uapi_fd == -1 || proc_base() == NULL || h == NULL) {
		errno = EINVAL;
		return -1;
	}
	lanraged_uapi_set_handler(h, arg);
	uapi_ev = event_new(proc_base(), uapi_fd, EV_READ | EV_PERSIST,
	    uapi_accept, NULL);
	if (uapi_ev == NULL || event_add(uapi_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
lanraged_uapi_set_handler(lanraged_uapi_handler h, void *arg)
{
	uapi_handler = h;
	uapi_arg = arg;
}

void
lanraged_uapi_close(void)
{
	struct uapi_conn	*c;

	while ((c = TAILQ_FIRST(&uapi_conns)) != NULL)
		uapi_conn_free(c);
	if (uapi_ev != NULL)
		event_free(uapi_ev);
	uapi_ev = NULL;
	if (uapi_fd != -1)
		close(uapi_fd);
	uapi_fd = -1;
	if (uapi_path[0] != '\0' && unlink(uapi_path) == -1)
		log_warn("unlink %s", uapi_path);
	uapi_path[0] = '\0';
}
