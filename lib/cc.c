/*
 * A session with lanrage-controld: connect (names resolved without
 * blocking), Noise IK handshake carrying HELLO and WELCOME (a relay's:
 * RELAY_HELLO and RELAY_WELCOME), framed transport, heartbeats (a
 * relay's: reports), and reconnection with exponential backoff.  Replies and pushes go to the hooks; what they mean is
 * party.c's business.  Everything the server sends is decoded strictly:
 * a violation ends the session (proto/control.md, "Trust model").
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cc.h"
#include "lib/csess.h"
#include "lib/log.h"
#include "lib/proc.h"

#define CC_BACKOFF_MIN		1	/* seconds */
#define CC_BACKOFF_MAX		30
#define CC_HANDSHAKE_TIMEOUT	10	/* seconds to WELCOME */
#define CC_MAXOUT		(1024 * 1024)	/* unsent bytes */

static struct {
	struct cc_hooks		 hooks;
	uint8_t			 priv[CSESS_KEY_LEN];
	char			 server[LR_HOSTPORT_MAXLEN + 1];
	char			 host[LR_INVITE_HOSTSIZ];
	uint16_t		 port;
	uint8_t			 server_key[CSESS_KEY_LEN];
	struct control_hello	 hello;
	struct control_relay_hello rhello;
	bool			 relay;		/* a relay's session */
	enum cc_state		 state;
	struct bufferevent	*bev;
	struct evdns_base	*dns;
	struct csess		 cs;
	struct csess_reader	 rd;
	struct event		*retry_ev;
	struct event		*hb_ev;
	struct timeval		 retry_at;
	unsigned		 backoff;
	uint16_t		 heartbeat;
	uint32_t		 next_id;
	char			 error[CC_ERROR_MAX];
} cc;

static void	 cc_connect(void);
static void	 cc_start(const char *, const uint8_t *);

static void
cc_set_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cc.error, sizeof(cc.error), fmt, ap);
	va_end(ap);
}

static void
cc_teardown(void)
{
	if (cc.bev != NULL)
		bufferevent_free(cc.bev);
	cc.bev = NULL;
	csess_wipe(&cc.cs);
	csess_reader_free(&cc.rd);
	if (cc.hb_ev != NULL)
		evtimer_del(cc.hb_ev);
}

/* Drop the session (if any) and try again after the backoff. */
static void
cc_fail(void)
{
	struct timeval	 tv, now;
	bool		 was_ready = cc.state == CC_READY;
	unsigned	 jitter;

	cc_teardown();
	cc.state = CC_WAITING;
	log_info("control: %s: %s; retrying in %u s", cc.server, cc.error,
	    cc.backoff);
	/* Up to a fifth of jitter, so that a restarted server is not hit
	 * by every node in the same second. */
	jitter = randombytes_uniform(cc.backoff * 200 + 1);
	tv.tv_sec = cc.backoff;
	tv.tv_usec = 0;
	tv.tv_sec += jitter / 1000;
	tv.tv_usec = (jitter % 1000) * 1000;
	evutil_gettimeofday(&now, NULL);
	evutil_timeradd(&now, &tv, &cc.retry_at);
	evtimer_add(cc.retry_ev, &tv);
	cc.backoff = cc.backoff * 2 > CC_BACKOFF_MAX ? CC_BACKOFF_MAX :
	    cc.backoff * 2;
	if (cc.hooks.down != NULL)
		cc.hooks.down(was_ready);
}

static void
cc_retry(evutil_socket_t fd, short ev, void *arg)
{
	cc_connect();
}

static int
cc_write_frame(const struct buf *b)
{
	struct evbuffer	*out = bufferevent_get_output(cc.bev);

	if (evbuffer_get_length(out) + b->len > CC_MAXOUT) {
		cc_set_error("the server does not read");
		errno = ENOBUFS;
		return -1;
	}
	return bufferevent_write(cc.bev, b->data, b->len);
}

int
cc_send(uint16_t type, const void *payload, size_t len, uint32_t *idp)
{
	uint8_t		 frame[CSESS_HDR_LEN + CSESS_BODY_MAX];
	struct buf	 msg, out;
	uint8_t		 m[CONTROL_HDRLEN + 1024];
	uint32_t	 id;

	if (cc.state != CC_READY || len > sizeof(m) - CONTROL_HDRLEN) {
		errno = cc.state != CC_READY ? ENOTCONN : EMSGSIZE;
		return -1;
	}
	if (++cc.next_id == 0)
		cc.next_id = 1;
	id = cc.next_id;
	buf_init_fixed(&msg, m, sizeof(m));
	buf_init_fixed(&out, frame, sizeof(frame));
	if (control_enc_hdr(&msg, type, id) == -1 ||
	    buf_put(&msg, payload, len) == -1 ||
	    csess_seal(&cc.cs, &out, msg.data, msg.len) == -1 ||
	    cc_write_frame(&out) == -1) {
		if (cc.error[0] == '\0' || errno != ENOBUFS)
			cc_set_error("cannot send %s: %s",
			    control_msg_name(type), strerror(errno));
		cc_fail();
		errno = ENOTCONN;
		return -1;
	}
	if (idp != NULL)
		*idp = id;
	return 0;
}

/* A relay's report doubles as its heartbeat. */
static int
cc_send_report(void)
{
	struct control_relay_report	 r;
	uint8_t				 m[16];
	struct buf			 b;

	memset(&r, 0, sizeof(r));
	cc.hooks.report(&r);
	buf_init_fixed(&b, m, sizeof(m));
	if (control_enc_relay_report(&b, &r) == -1)
		return -1;
	return cc_send(CONTROL_MSG_RELAY_REPORT, b.data, b.len, NULL);
}

static void
cc_heartbeat(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { cc.heartbeat, 0 };
	int		 rc;

	rc = cc.relay ? cc_send_report() :
	    cc_send(CONTROL_MSG_HEARTBEAT, NULL, 0, NULL);
	if (rc == 0)
		evtimer_add(cc.hb_ev, &tv);
}

/* The session is up: heartbeats, and silence means the server is gone. */
static void
cc_ready(uint16_t heartbeat)
{
	struct timeval	 tv, idle;

	cc.state = CC_READY;
	cc.backoff = CC_BACKOFF_MIN;
	cc.error[0] = '\0';
	cc.heartbeat = heartbeat;
	tv.tv_sec = heartbeat;
	tv.tv_usec = 0;
	evtimer_add(cc.hb_ev, &tv);
	/* Three heartbeats without a word from the server: it is gone. */
	idle.tv_sec = 3 * (time_t)heartbeat;
	idle.tv_usec = 0;
	bufferevent_set_timeouts(cc.bev, &idle, NULL);
}

static int
cc_relay_welcome(const struct control_hdr *h)
{
	struct control_relay_welcome	 w;

	if (h->type != CONTROL_MSG_RELAY_WELCOME ||
	    control_dec_relay_welcome(h->payload, h->len, &w) == -1) {
		cc_set_error("no RELAY_WELCOME in the server's handshake");
		return -1;
	}
	cc_ready(w.report);
	log_info("control: registered with %s (report every %u s)",
	    cc.server, w.report);
	cc.hooks.relay_welcome(&w);
	return 0;
}

/* WELCOME came in message 2: the session is up. */
static int
cc_welcome(const struct buf *pl)
{
	struct control_welcome	*w;
	struct control_hdr	 h;

	if (control_dec_hdr(pl->data, pl->len, &h) == -1)
		return -1;
	if (h.type == CONTROL_MSG_ERROR) {
		struct control_error	 e;

		if (control_dec_error(h.payload, h.len, &e) == 0)
			cc_set_error("refused: %s (%s)",
			    control_err_str(e.code), e.text);
		return -1;
	}
	if (cc.relay)
		return cc_relay_welcome(&h);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if (h.type != CONTROL_MSG_WELCOME ||
	    control_dec_welcome(h.payload, h.len, w) == -1) {
		cc_set_error("no WELCOME in the server's handshake");
		free(w);
		return -1;
	}
	cc_ready(w->heartbeat);
	log_info("control: connected to %s (heartbeat %u s, %u parties)",
	    cc.server, w->heartbeat, w->nparties);
	cc.hooks.welcome(w);
	free(w);
	return 0;
}

/* One transport message: replies and pushes only. */
static int
cc_message(const struct buf *pt)
{
	struct control_hdr	 h;

	if (control_dec_hdr(pt->data, pt->len, &h) == -1 ||
	    (h.type >> 8) == CONTROL_CLASS_REQUEST) {
		cc_set_error("protocol violation: bad message header");
		return -1;
	}
	if (h.type == CONTROL_MSG_HEARTBEAT_ACK)
		return control_dec_empty(h.payload, h.len);
	if ((h.type >> 8) == CONTROL_CLASS_REPLY)
		return cc.hooks.reply(&h);
	return cc.hooks.push(&h);
}

static int
cc_frame(const uint8_t *body, size_t len)
{
	struct buf	 pt;
	int		 rc;

	if (buf_init(&pt, len, CSESS_BODY_MAX) == -1)
		return -1;
	if (cc.state == CC_HANDSHAKE) {
		rc = csess_read_msg2(&cc.cs, body, len, &pt);
		if (rc == -1)
			cc_set_error("handshake failed: wrong server key?");
		else
			rc = cc_welcome(&pt);
	} else {
		rc = csess_open(&cc.cs, body, len, &pt);
		if (rc == -1)
			cc_set_error("undecryptable record");
		else if ((rc = cc_message(&pt)) == -1 && cc.error[0] == '\0')
			cc_set_error("protocol violation");
	}
	buf_free(&pt);
	return rc;
}

static void
cc_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 chunk[16384];
	const uint8_t	*p, *body;
	size_t		 n, len;
	ev_ssize_t	 got;
	int		 r;

	while (cc.bev != NULL && (got = evbuffer_remove(in, chunk,
	    sizeof(chunk))) > 0) {
		p = chunk;
		n = (size_t)got;
		while (cc.bev != NULL && (r = csess_reader_next(&cc.rd, &p,
		    &n, &body, &len)) != 0) {
			cc.error[0] = '\0';
			if (r == -1 || cc_frame(body, len) == -1) {
				if (cc.error[0] == '\0')
					cc_set_error("bad frame from the "
					    "server");
				cc_fail();
				return;
			}
		}
	}
}

static int
cc_send_hello(void)
{
	uint8_t		 m[CONTROL_HDRLEN + 1024];
	struct buf	 msg, out;
	int		 rc;

	buf_init_fixed(&msg, m, sizeof(m));
	if (buf_init(&out, 1024, CSESS_HDR_LEN + CSESS_BODY_MAX) == -1)
		return -1;
	if (++cc.next_id == 0)
		cc.next_id = 1;
	if (cc.relay)
		rc = control_enc_hdr(&msg, CONTROL_MSG_RELAY_HELLO,
		    cc.next_id) == -1 ||
		    control_enc_relay_hello(&msg, &cc.rhello) == -1 ? -1 : 0;
	else
		rc = control_enc_hdr(&msg, CONTROL_MSG_HELLO,
		    cc.next_id) == -1 ||
		    control_enc_hello(&msg, &cc.hello) == -1 ? -1 : 0;
	rc = rc == -1 ||
	    csess_init_initiator(&cc.cs, cc.priv, cc.server_key) == -1 ||
	    csess_reader_init(&cc.rd, CSESS_BODY_MAX) == -1 ||
	    csess_write_msg1(&cc.cs, &out, NULL, msg.data, msg.len) == -1 ||
	    cc_write_frame(&out) == -1 ? -1 : 0;
	buf_free(&out);
	return rc;
}

static void
cc_event(struct bufferevent *bev, short what, void *arg)
{
	int	 dnserr;

	if (what & BEV_EVENT_CONNECTED) {
		cc.state = CC_HANDSHAKE;
		if (cc_send_hello() == -1) {
			cc_set_error("cannot start the handshake");
			cc_fail();
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		cc_set_error(cc.state == CC_READY ? "the server went silent" :
		    "no answer to the handshake");
	else if ((what & BEV_EVENT_EOF) && cc.state == CC_HANDSHAKE)
		/* A server answers a handshake it cannot read by closing. */
		cc_set_error("the server refused the handshake: is "
		    "control.key its public key?");
	else if (what & BEV_EVENT_EOF)
		cc_set_error("the server closed the connection");
	else if ((dnserr = bufferevent_socket_get_dns_error(bev)) != 0)
		cc_set_error("cannot resolve %s: %s", cc.host,
		    evutil_gai_strerror(dnserr));
	else
		cc_set_error("%s", strerror(EVUTIL_SOCKET_ERROR()));
	cc_fail();
}

/* A numeric host needs no resolver; a name gets libevent's own. */
static struct evdns_base *
cc_dns(void)
{
	struct in6_addr	 a6;

	if (inet_pton(AF_INET, cc.host, &a6) == 1 ||
	    inet_pton(AF_INET6, cc.host, &a6) == 1)
		return NULL;
	if (cc.dns == NULL)
		cc.dns = evdns_base_new(proc_base(),
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	return cc.dns;
}

static void
cc_connect(void)
{
	struct timeval	 tv = { CC_HANDSHAKE_TIMEOUT, 0 };

	cc_teardown();
	cc.state = CC_CONNECTING;
	cc.error[0] = '\0';
	cc.bev = bufferevent_socket_new(proc_base(), -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc.bev == NULL) {
		cc_set_error("out of memory");
		cc_fail();
		return;
	}
	bufferevent_setcb(cc.bev, cc_read, NULL, cc_event, NULL);
	bufferevent_set_timeouts(cc.bev, &tv, &tv);
	bufferevent_setwatermark(cc.bev, EV_READ, 0, 4 * CSESS_BODY_MAX);
	bufferevent_enable(cc.bev, EV_READ | EV_WRITE);
	log_debug("control: connecting to %s", cc.server);
	if (bufferevent_socket_connect_hostname(cc.bev, cc_dns(), AF_UNSPEC,
	    cc.host, cc.port) == -1) {
		if (cc.error[0] == '\0')
			cc_set_error("cannot connect");
		if (cc.state == CC_CONNECTING)
			cc_fail();
	}
}

int
cc_init(const struct cc_hooks *hooks, const uint8_t priv[CSESS_KEY_LEN])
{
	cc.hooks = *hooks;
	memcpy(cc.priv, priv, sizeof(cc.priv));
	cc.backoff = CC_BACKOFF_MIN;
	cc.retry_ev = evtimer_new(proc_base(), cc_retry, NULL);
	cc.hb_ev = evtimer_new(proc_base(), cc_heartbeat, NULL);
	if (cc.retry_ev == NULL || cc.hb_ev == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
cc_configure(const char *server, const uint8_t key[CSESS_KEY_LEN],
    const struct control_hello *hello)
{
	cc.relay = false;
	cc.hello = *hello;
	cc_start(server, key);
}

void
cc_configure_relay(const char *server, const uint8_t key[CSESS_KEY_LEN],
    const struct control_relay_hello *rhello)
{
	cc.relay = true;
	cc.rhello = *rhello;
	cc_start(server, key);
}

static void
cc_start(const char *server, const uint8_t *key)
{
	bool	 was_ready = cc.state == CC_READY;

	evtimer_del(cc.retry_ev);
	cc_teardown();
	cc.backoff = CC_BACKOFF_MIN;
	if (server == NULL || *server == '\0' || key == NULL ||
	    lr_hostport_parse(server, cc.host, sizeof(cc.host),
	    &cc.port) == -1) {
		cc.state = CC_UNCONFIGURED;
		cc.server[0] = '\0';
		cc_set_error("no control server: set control.server and "
		    "control.key, or join with an invite link");
		if (was_ready && cc.hooks.down != NULL)
			cc.hooks.down(true);
		return;
	}
	snprintf(cc.server, sizeof(cc.server), "%s", server);
	memcpy(cc.server_key, key, sizeof(cc.server_key));
	if (was_ready && cc.hooks.down != NULL)
		cc.hooks.down(true);
	cc_connect();
}

void
cc_set_endpoints(const struct control_endpoints *ep)
{
	cc.hello.ep = *ep;
}

void
cc_shutdown(void)
{
	cc_teardown();
	if (cc.retry_ev != NULL)
		event_free(cc.retry_ev);
	if (cc.hb_ev != NULL)
		event_free(cc.hb_ev);
	if (cc.dns != NULL)
		evdns_base_free(cc.dns, 0);
	cc.retry_ev = cc.hb_ev = NULL;
	cc.dns = NULL;
	sodium_memzero(cc.priv, sizeof(cc.priv));
	cc.state = CC_UNCONFIGURED;
}

/* Any other session violation found by the hooks. */
void
cc_drop(const char *why)
{
	if (cc.state != CC_READY)
		return;
	cc_set_error("%s", why);
	cc_fail();
}

enum cc_state
cc_state(void)
{
	return cc.state;
}

const char *
cc_state_name(void)
{
	switch (cc.state) {
	case CC_UNCONFIGURED:
		return "unconfigured";
	case CC_CONNECTING:
	case CC_HANDSHAKE:
		return "connecting";
	case CC_READY:
		return "connected";
	case CC_WAITING:
		return "waiting";
	}
	return "unknown";
}

const char *
cc_error(void)
{
	return cc.error[0] != '\0' ? cc.error : NULL;
}

const char *
cc_server(void)
{
	return cc.server;
}

/* Seconds until the next attempt, -1 when none is scheduled. */
long
cc_retry_in(void)
{
	struct timeval	 now, left;

	if (cc.state != CC_WAITING)
		return -1;
	evutil_gettimeofday(&now, NULL);
	if (evutil_timercmp(&cc.retry_at, &now, <))
		return 0;
	evutil_timersub(&cc.retry_at, &now, &left);
	return (long)left.tv_sec + (left.tv_usec > 0);
}

int
cc_peer(struct sockaddr_storage *ss)
{
	socklen_t	 len = sizeof(*ss);

	if (cc.state != CC_READY || getpeername(bufferevent_getfd(cc.bev),
	    (struct sockaddr *)ss, &len) == -1) {
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}
