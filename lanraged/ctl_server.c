/*
 * The control socket of proto/api.md: one JSON request per line, answered
 * in order, one at a time (an answer may wait for the control server).
 * Clients are bounded in number, line length and idle time; the class
 * (full or read-only) comes from the peer's credentials.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lanraged/node.h"
#include "lib/log.h"
#include "lib/proc.h"

struct ctl_conn {
	struct api_sink		 sink;		/* first: answers find us by it */
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct bufferevent	*bev;
	struct event		*timer;
	bool			 full;		/* class */
	bool			 busy;		/* an answer is awaited */
	bool			 closing;	/* close once flushed */
	bool			 eof;
};

static TAILQ_HEAD(, ctl_conn)	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static size_t			 ctl_nconns;
static size_t			 ctl_nreadonly;
static int			 ctl_fd = -1;
static struct event		*ctl_ev;
static char			 ctl_path[LANRAGED_PATH_MAX];

static void	 ctl_process(struct ctl_conn *);

static void
ctl_conn_free(struct ctl_conn *c)
{
	party_forget(&c->sink);
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	if (!c->full)
		ctl_nreadonly--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	free(c);
}

static void
ctl_arm(struct ctl_conn *c)
{
	struct timeval	 tv = { CTL_IDLE_TIMEOUT, 0 };

	evtimer_add(c->timer, &tv);
}

/* Idle: no request for a while.  A client awaiting an answer waits. */
static void
ctl_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl_conn	*c = arg;

	if (c->busy) {
		ctl_arm(c);
		return;
	}
	log_debug("control socket: idle client closed");
	ctl_conn_free(c);
}

static void
ctl_send(struct ctl_conn *c, json_t *resp)
{
	char	*text;

	text = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	if (text == NULL ||
	    evbuffer_add_printf(bufferevent_get_output(c->bev), "%s\n",
	    text) == -1)
		c->closing = true;
	free(text);
}

static void
ctl_reply(struct api_sink *s, json_t *resp)
{
	struct ctl_conn	*c = (struct ctl_conn *)s;

	ctl_send(c, resp);
	c->busy = false;
	ctl_arm(c);
}

static void
ctl_refuse_long(struct ctl_conn *c)
{
	ctl_send(c, json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    "request longer than 65536 bytes", "code", "bad_request"));
	c->closing = true;
}

/* Take the next complete line, if any, and hand it over. */
static bool
ctl_next(struct ctl_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 len;
	char		*line;

	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) >= CTL_MAXREQ)
			ctl_refuse_long(c);
		else if (c->eof)
			c->closing = true;
		return false;
	}
	if (len >= CTL_MAXREQ) {
		free(line);
		ctl_refuse_long(c);
		return false;
	}
	c->busy = true;
	api_request(&c->sink, c->full, line, len);
	free(line);
	return true;
}

/* May free c. */
static void
ctl_process(struct ctl_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	while (!c->closing && !c->busy && evbuffer_get_length(out) == 0)
		if (!ctl_next(c))
			break;
	if (c->closing)
		bufferevent_disable(c->bev, EV_READ);
	if (c->closing && evbuffer_get_length(out) == 0)
		ctl_conn_free(c);
}

static void
ctl_read(struct bufferevent *bev, void *arg)
{
	ctl_process(arg);
}

static void
ctl_write(struct bufferevent *bev, void *arg)
{
	ctl_process(arg);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		ctl_conn_free(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = true;
		ctl_process(c);
	}
}

/* Full class: root, or the user lanraged runs as. */
static bool
ctl_peer_full(int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static struct ctl_conn *
ctl_conn_new(int fd, bool full)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sink.reply = ctl_reply;
	c->full = full;
	if (lanraged_conn_io(fd, CTL_MAXREQ, ctl_read, ctl_write, ctl_event,
	    ctl_timeout, c, &c->bev, &c->timer) == -1) {
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
	if (!c->full)
		ctl_nreadonly++;
	ctl_arm(c);
	return c;
}

static void
ctl_accept(evutil_socket_t lfd, short ev, void *arg)
{
	static const char busy[] = "{\"ok\":false,\"error\":\"lanraged has too "
	    "many control clients; try again later\",\"code\":\"unavailable\"}\n";
	bool		 full;
	int		 fd;

	/* The limit is checked below, per class. */
	if ((fd = lanraged_accept(lfd, 0, 1, "control socket")) == -1)
		return;
	full = ctl_peer_full(fd);
	/* Read-only clients cannot take the slots that root needs. */
	if (ctl_nconns >= CTL_MAXCONN || (!full &&
	    ctl_nreadonly >= CTL_MAXCONN - CTL_RESERVED)) {
		log_warnx("control socket: too many %sclients; refusing one",
		    full ? "" : "read-only ");
		if (write(fd, busy, sizeof(busy) - 1) == -1)
			log_debug("control socket: %s", strerror(errno));
		close(fd);
		return;
	}
	if (ctl_conn_new(fd, full) == NULL) {
		log_warn("control socket: client");
		close(fd);
	}
}

int
ctl_listen(const char *path, uid_t uid, gid_t gid)
{
	if ((ctl_fd = lanraged_unix_listen(path, 0660)) == -1)
		return -1;
	snprintf(ctl_path, sizeof(ctl_path), "%s", path);
	if (geteuid() == 0 && chown(path, uid, gid) == -1) {
		ctl_close();
		return -1;
	}
	return 0;
}

int
ctl_start(void)
{
	ctl_ev = event_new(proc_base(), ctl_fd, EV_READ | EV_PERSIST,
	    ctl_accept, NULL);
	if (ctl_ev == NULL || event_add(ctl_ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
ctl_close(void)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL)
		ctl_conn_free(c);
	if (ctl_ev != NULL)
		event_free(ctl_ev);
	ctl_ev = NULL;
	if (ctl_fd != -1)
		close(ctl_fd);
	ctl_fd = -1;
	if (ctl_path[0] != '\0' && unlink(ctl_path) == -1)
		log_warn("unlink %s", ctl_path);
	ctl_path[0] = '\0';
}
