/*
 * Session layer of the control server.  See csrv.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-controld/csrv.h"
#include "lib/csess.h"
#include "lib/log.h"

#define CSRV_SEEN_SLOTS	(1 << 17)	/* node keys remembered for replay */

/* The greatest message 1 timestamp accepted from one node key. */
struct csrv_seen {
	uint8_t		 key[CSESS_KEY_LEN];
	uint8_t		 ts[CSESS_TAI64N_LEN];
	bool		 used;
};

struct csrv_conn {
	struct csrv		*srv;
	struct csrv_conn	*prev, *next;
	struct bufferevent	*bev;
	struct event		*timer;
	struct event		*reap;		/* frees it from the loop */
	struct csess		 cs;
	struct csess_reader	 rd;
	uint8_t			 key[CSESS_KEY_LEN];
	bool			 established;
	bool			 dead;		/* closed, freed soon */
	void			*data;
};

struct csrv {
	struct event_base	*base;
	struct event		*accept_ev;
	int			 lfd;
	uint8_t			 priv[CSESS_KEY_LEN];
	struct csrv_limits	 lim;
	struct csrv_ops		 ops;
	void			*arg;
	struct csrv_conn	*conns;
	size_t			 nconns;
	struct csrv_seen	*seen;
};

static void	csrv_conn_free(struct csrv_conn *);

size_t
csrv_nconns(const struct csrv *s)
{
	return s->nconns;
}

const uint8_t *
csrv_conn_key(const struct csrv_conn *c)
{
	return c->established ? c->key : NULL;
}

int
csrv_conn_peer(const struct csrv_conn *c, struct sockaddr *sa,
    socklen_t *len)
{
	return getpeername(bufferevent_getfd(c->bev), sa, len);
}

void
csrv_conn_set_data(struct csrv_conn *c, void *data)
{
	c->data = data;
}

void *
csrv_conn_data(const struct csrv_conn *c)
{
	return c->data;
}

/*
 * Message 1 is replayable: accept it only when its timestamp is greater
 * than every one accepted before from the same key.
 */
static int
csrv_fresh(struct csrv *s, const uint8_t *key, const uint8_t *ts)
{
	uint32_t	 h;
	size_t		 i, n;

	memcpy(&h, key, sizeof(h));	/* keys are random already */
	for (i = h & (CSRV_SEEN_SLOTS - 1), n = 0; n < CSRV_SEEN_SLOTS;
	    i = (i + 1) & (CSRV_SEEN_SLOTS - 1), n++) {
		if (!s->seen[i].used) {
			s->seen[i].used = true;
			memcpy(s->seen[i].key, key, CSESS_KEY_LEN);
			memcpy(s->seen[i].ts, ts, CSESS_TAI64N_LEN);
			return 0;
		}
		if (memcmp(s->seen[i].key, key, CSESS_KEY_LEN) != 0)
			continue;
		if (memcmp(ts, s->seen[i].ts, CSESS_TAI64N_LEN) <= 0) {
			errno = EALREADY;
			return -1;
		}
		memcpy(s->seen[i].ts, ts, CSESS_TAI64N_LEN);
		return 0;
	}
	errno = ENOSPC;
	return -1;
}

static void
csrv_reap(evutil_socket_t fd, short ev, void *arg)
{
	csrv_conn_free(arg);
}

/* Close now, free from the loop: callers up the stack still hold c. */
void
csrv_close(struct csrv_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_del(c->timer);
	if (c->established && c->srv->ops.closed != NULL)
		c->srv->ops.closed(c, c->srv->arg);
	event_active(c->reap, EV_TIMEOUT, 0);
}

static void
csrv_conn_free(struct csrv_conn *c)
{
	struct csrv	*s = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	event_free(c->reap);
	csess_wipe(&c->cs);
	csess_reader_free(&c->rd);
	free(c);
}

static void
csrv_arm(struct csrv_conn *c, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

static void
csrv_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct csrv_conn	*c = arg;

	log_debug("%s: %s timed out", __func__, c->established ?
	    "session" : "handshake");
	csrv_close(c);
}

int
csrv_send(struct csrv_conn *c, const void *msg, size_t len)
{
	struct evbuffer	*out;
	struct buf	 b;
	int		 rc;

	if (c->dead || !c->established) {
		errno = ENOTCONN;
		return -1;
	}
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) + len > c->srv->lim.out_max) {
		csrv_close(c);		/* it does not read: drop it */
		errno = ENOBUFS;
		return -1;
	}
	if (buf_init(&b, len + CSESS_HDR_LEN + CSESS_TAG_LEN,
	    len + CSESS_HDR_LEN + CSESS_TAG_LEN) == -1)
		return -1;
	rc = csess_seal(&c->cs, &b, msg, len);
	if (rc == 0)
		rc = bufferevent_write(c->bev, b.data, b.len);
	buf_free(&b);
	if (rc == -1)
		csrv_close(c);
	return rc;
}

/* Message 1: authenticate, refuse replays, ask the owner, answer. */
static int
csrv_handshake(struct csrv_conn *c, const uint8_t *body, size_t len)
{
	struct csrv	*s = c->srv;
	struct buf	 payload, reply, out;
	uint8_t		 ts[CSESS_TAI64N_LEN];
	int		 rc = -1;

	if (buf_init(&payload, 256, CSESS_BODY_MAX) == -1)
		return -1;
	if (buf_init(&reply, 256, CSESS_MSG2_PAYLOAD_MAX) == -1) {
		buf_free(&payload);
		return -1;
	}
	memset(&out, 0, sizeof(out));
	if (csess_read_msg1(&c->cs, body, len, c->key, ts, &payload) == -1 ||
	    csrv_fresh(s, c->key, ts) == -1 ||
	    s->ops.hello(c, c->key, payload.data, payload.len, &reply,
	    s->arg) == -1 ||
	    buf_init(&out, reply.len + CSESS_MSG2_OVERHEAD + CSESS_HDR_LEN,
	    CSESS_BODY_MAX + CSESS_HDR_LEN) == -1 ||
	    csess_write_msg2(&c->cs, &out, reply.data, reply.len) == -1 ||
	    bufferevent_write(c->bev, out.data, out.len) == -1)
		goto done;
	c->established = true;
	/* later frames may be as large as the protocol allows */
	csess_reader_free(&c->rd);
	if (csess_reader_init(&c->rd, CSESS_BODY_MAX) == -1)
		goto done;
	csrv_arm(c, s->lim.idle_ms);
	rc = 0;
done:
	sodium_memzero(payload.data, payload.cap);
	buf_free(&payload);
	buf_free(&reply);
	if (out.data != NULL)
		buf_free(&out);
	return rc;
}

/* One frame body; -1 when the connection is gone afterwards. */
static int
csrv_frame(struct csrv_conn *c, const uint8_t *body, size_t len)
{
	struct buf	 pt;

	if (!c->established) {
		if (csrv_handshake(c, body, len) == -1) {
			csrv_close(c);
			return -1;
		}
		return 0;
	}
	if (buf_init(&pt, len, len) == -1 ||
	    csess_open(&c->cs, body, len, &pt) == -1) {
		csrv_close(c);
		return -1;
	}
	csrv_arm(c, c->srv->lim.idle_ms);
	c->srv->ops.msg(c, pt.data, pt.len, c->srv->arg);
	buf_free(&pt);
	return c->dead ? -1 : 0;
}

static void
csrv_read(struct bufferevent *bev, void *arg)
{
	struct csrv_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	uint8_t			 chunk[16384];
	const uint8_t		*p, *body;
	size_t			 left, blen;
	int			 n, r;

	while (!c->dead && (n = evbuffer_remove(in, chunk,
	    sizeof(chunk))) > 0) {
		p = chunk;
		left = (size_t)n;
		while (left > 0) {
			r = csess_reader_next(&c->rd, &p, &left, &body, &blen);
			if (r == -1) {
				csrv_close(c);
				return;
			}
			if (r == 0)
				break;
			if (csrv_frame(c, body, blen) == -1)
				return;
		}
	}
}

static void
csrv_event(struct bufferevent *bev, short what, void *arg)
{
	csrv_close(arg);	/* EOF or error */
}

static void
csrv_add(struct csrv *s, int fd)
{
	struct csrv_conn	*c;
	int			 one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->srv = s;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(s->base, csrv_timeout, c);
	c->reap = evtimer_new(s->base, csrv_reap, c);
	if (c->bev == NULL || c->timer == NULL || c->reap == NULL ||
	    csess_init_responder(&c->cs, s->priv) == -1 ||
	    csess_reader_init(&c->rd, s->lim.first_frame) == -1) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->timer != NULL)
			event_free(c->timer);
		if (c->reap != NULL)
			event_free(c->reap);
		free(c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_setcb(c->bev, csrv_read, NULL, csrv_event, c);
	bufferevent_enable(c->bev, EV_READ);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	csrv_arm(c, s->lim.handshake_ms);
	return;
fail:
	close(fd);
}

static void
csrv_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct csrv	*s = arg;
	int		 fd, i;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != ECONNABORTED)
				log_debug("%s: accept: %s", __func__,
				    strerror(errno));
			return;
		}
		if (s->nconns >= s->lim.max_conns) {
			close(fd);	/* full: refused at once */
			continue;
		}
		csrv_add(s, fd);
	}
}

struct csrv *
csrv_new(struct event_base *base, int lfd, const uint8_t priv[32],
    const struct csrv_limits *lim, const struct csrv_ops *ops, void *arg)
{
	struct csrv	*s;

	if (lim->first_frame < CSESS_BODY_MIN ||
	    lim->first_frame > CSESS_BODY_MAX || ops->hello == NULL ||
	    ops->msg == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->seen = calloc(CSRV_SEEN_SLOTS, sizeof(*s->seen))) == NULL) {
		free(s);
		return NULL;
	}
	s->base = base;
	s->lfd = lfd;
	memcpy(s->priv, priv, sizeof(s->priv));
	s->lim = *lim;
	s->ops = *ops;
	s->arg = arg;
	s->accept_ev = event_new(base, lfd, EV_READ | EV_PERSIST, csrv_accept,
	    s);
	if (s->accept_ev == NULL || event_add(s->accept_ev, NULL) == -1) {
		csrv_free(s);
		return NULL;
	}
	return s;
}

void
csrv_free(struct csrv *s)
{
	struct csrv_conn	*c, *next;

	if (s == NULL)
		return;
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->dead && c->established && s->ops.closed != NULL)
			s->ops.closed(c, s->arg);
		c->dead = true;
		csrv_conn_free(c);
	}
	if (s->accept_ev != NULL)
		event_free(s->accept_ev);
	sodium_memzero(s->priv, sizeof(s->priv));
	free(s->seen);
	free(s);
}
