/*
 * STUN responder: one UDP socket per (address, port) pair, answers built
 * from the request alone (no state per client).  A bound wildcard socket
 * learns the address a request came to with IP_PKTINFO and answers from
 * it, so RESPONSE-ORIGIN and OTHER-ADDRESS name real addresses.  No
 * answer is larger than its request (clients pad with PADDING), and one
 * token bucket bounds the answers of all clients together: a flood of
 * forged sources cannot turn the responder into an amplifier.
 *
 * The exception, when the operator turns it on: classic (RFC 3489)
 * requests, which cannot be padded and get answers two to three times
 * their size.  A second bucket bounds those on top of the first.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanrage-controld/stund.h"
#include "lib/log.h"
#include "proto/stun.h"

#define STUND_BATCH	64	/* datagrams per readiness event */

struct stund_sock {
	int		 fd;
	size_t		 ai, pi;	/* address and port index */
	struct event	*ev;
	struct stund	*d;
};

/* A token bucket as deep as one second of answers. */
struct stund_bucket {
	unsigned	 rate;		/* answers per second */
	uint64_t	 tokens;	/* milli-answers */
	uint64_t	 last_ms;
};

struct stund {
	struct stund_conf conf;
	struct stund_sock socks[STUND_MAX_ADDRS * 2];
	size_t		 nsocks;
	struct stund_bucket bucket;	/* every answer */
	struct stund_bucket classic;	/* RFC 3489 answers too */
	uint64_t	 answered, dropped, limited, small;
	uint64_t	 c_answered, c_limited;	/* RFC 3489 */
};

/* A datagram's two ends, as the kernel reported them. */
struct stund_dgram {
	struct sockaddr_storage	 src;
	socklen_t		 srclen;
	struct addr		 dst;		/* where it came to */
	uint8_t			 buf[STUN_MAXMSG];
	size_t			 len;
};

static uint64_t
stund_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
stund_bucket_init(struct stund_bucket *k, unsigned rate)
{
	k->rate = rate;
	k->tokens = (uint64_t)rate * 1000;
	k->last_ms = stund_now_ms();
}

static void
stund_bucket_fill(struct stund_bucket *k, uint64_t now)
{
	uint64_t	 cap = (uint64_t)k->rate * 1000;

	k->tokens += (now - k->last_ms) * k->rate;
	if (k->tokens > cap)
		k->tokens = cap;
	k->last_ms = now;
}

static bool
stund_take_token(struct stund *d)
{
	stund_bucket_fill(&d->bucket, stund_now_ms());
	if (d->bucket.tokens < 1000)
		return false;
	d->bucket.tokens -= 1000;
	return true;
}

/* A classic answer takes a token from both buckets, or from neither. */
static bool
stund_take_classic(struct stund *d)
{
	uint64_t	 now = stund_now_ms();

	stund_bucket_fill(&d->bucket, now);
	stund_bucket_fill(&d->classic, now);
	if (d->bucket.tokens < 1000 || d->classic.tokens < 1000)
		return false;
	d->bucket.tokens -= 1000;
	d->classic.tokens -= 1000;
	return true;
}

static struct stund_sock *
stund_sock_at(struct stund *d, size_t ai, size_t pi)
{
	size_t	 i;

	for (i = 0; i < d->nsocks; i++)
		if (d->socks[i].ai == ai && d->socks[i].pi == pi)
			return &d->socks[i];
	return NULL;
}

static uint16_t
stund_port(const struct stund *d, size_t pi)
{
	return pi == 0 ? d->conf.port : d->conf.alt_port;
}

/* The address a socket answers from: its own, or where the request came. */
static struct addr
stund_local(const struct stund *d, size_t ai, const struct addr *dst)
{
	return d->conf.naddrs > ai ? d->conf.addrs[ai] : *dst;
}

static int
stund_pktinfo_on(int fd, sa_family_t af)
{
	int	 on = 1;

	if (af == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
	    sizeof(on));
}

static int
stund_bind(struct stund *d, size_t ai, size_t pi)
{
	struct stund_sock	*s = &d->socks[d->nsocks];
	struct sockaddr_storage	 ss;
	struct addr		 any;
	socklen_t		 len;
	int			 fd, on = 1;

	memset(&any, 0, sizeof(any));
	any.af = d->conf.af;
	len = addr_to_sockaddr(d->conf.naddrs > 0 ? &d->conf.addrs[ai] :
	    &any, stund_port(d, pi), &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if ((ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    stund_pktinfo_on(fd, ss.ss_family) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->ai = ai;
	s->pi = pi;
	s->d = d;
	d->nsocks++;
	return 0;
}

struct stund *
stund_new(const struct stund_conf *conf)
{
	struct stund	*d;
	size_t		 ai, pi, na;
	int		 saved;

	if (conf->port == 0 || conf->rate == 0 ||
	    conf->naddrs > STUND_MAX_ADDRS || conf->alt_port == conf->port ||
	    (conf->classic && (conf->classic_rate == 0 ||
	    conf->naddrs != 2 || conf->addrs[0].af != AF_INET ||
	    conf->addrs[1].af != AF_INET || conf->alt_port == 0))) {
		errno = EINVAL;
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->conf = *conf;
	stund_bucket_init(&d->bucket, conf->rate);
	stund_bucket_init(&d->classic, conf->classic_rate);
	na = conf->naddrs > 0 ? conf->naddrs : 1;
	for (ai = 0; ai < na; ai++)
		for (pi = 0; pi < (conf->alt_port != 0 ? 2u : 1u); pi++)
			if (stund_bind(d, ai, pi) == -1) {
				saved = errno;
				stund_free(d);
				errno = saved;
				return NULL;
			}
	return d;
}

static int
stund_recv(int fd, struct stund_dgram *g)
{
	union {
		struct cmsghdr	 h;
		uint8_t		 b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 ctl;
	struct iovec		 iov = { g->buf, sizeof(g->buf) };
	struct msghdr		 mh;
	struct cmsghdr		*c;
	ssize_t			 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &g->src;
	mh.msg_namelen = sizeof(g->src);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	if ((n = recvmsg(fd, &mh, 0)) == -1)
		return -1;
	g->len = (size_t)n;
	g->srclen = mh.msg_namelen;
	memset(&g->dst, 0, sizeof(g->dst));
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			g->dst.af = AF_INET;
			memcpy(&g->dst.v4, &((struct in_pktinfo *)
			    (void *)CMSG_DATA(c))->ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			g->dst.af = AF_INET6;
			memcpy(&g->dst.v6, &((struct in6_pktinfo *)
			    (void *)CMSG_DATA(c))->ipi6_addr, 16);
		}
	}
	/* Truncated datagrams and ones without a destination: not ours. */
	return (mh.msg_flags & MSG_TRUNC) || g->dst.af == 0 ? 1 : 0;
}

/* Send from s, with source address src when s is a wildcard socket. */
static int
stund_send(struct stund *d, struct stund_sock *s, const struct addr *src,
    const struct stund_dgram *g, const struct buf *b)
{
	union {
		struct cmsghdr	 h;
		uint8_t		 b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 ctl;
	struct iovec		 iov = { b->data, b->len };
	struct msghdr		 mh;
	struct cmsghdr		*c;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_name = (void *)&g->src;
	mh.msg_namelen = g->srclen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (d->conf.naddrs == 0) {
		mh.msg_control = &ctl;
		c = &ctl.h;
		if (src->af == AF_INET) {
			struct in_pktinfo	 pi;

			memset(&pi, 0, sizeof(pi));
			memcpy(&pi.ipi_spec_dst, &src->v4, 4);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo	 pi;

			memset(&pi, 0, sizeof(pi));
			memcpy(&pi.ipi6_addr, &src->v6, 16);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	if (sendmsg(s->fd, &mh, 0) == -1) {
		log_debug("stun: send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
stund_set_addr(struct stun_addr *a, const struct addr *ip, uint16_t port)
{
	a->present = true;
	a->addr = *ip;
	a->port = port;
}

/*
 * A Binding success from the socket CHANGE-REQUEST asks for, or 420
 * (the request named an attribute we must understand but do not, or a
 * change this server cannot make) from the socket it came to.
 */
static void
stund_answer(struct stund *d, struct stund_sock *s,
    const struct stund_dgram *g, const struct stun_msg *req)
{
	struct stun_msg		 resp;
	struct stund_sock	*out = s;
	struct addr		 src, other;
	uint8_t			 mem[STUN_MAXMSG];
	struct buf		 b;
	size_t			 ai = s->ai, pi = s->pi;
	uint16_t		 port;

	memset(&resp, 0, sizeof(resp));
	resp.method = STUN_METHOD_BINDING;
	memcpy(resp.txid, req->txid, STUN_TXIDLEN);
	resp.fingerprint = req->fingerprint;
	if (req->has_change && (req->change & STUN_CHANGE_IP))
		ai = d->conf.naddrs == 2 ? 1 - ai : SIZE_MAX;
	if (req->has_change && (req->change & STUN_CHANGE_PORT))
		pi = d->conf.alt_port != 0 ? 1 - pi : SIZE_MAX;
	if (req->nunknown > 0 || ai == SIZE_MAX || pi == SIZE_MAX ||
	    (out = stund_sock_at(d, ai, pi)) == NULL) {
		out = s;
		resp.cls = STUN_ERROR;
		resp.has_error = true;
		resp.error_code = 420;
		memcpy(resp.unknown, req->unknown, sizeof(resp.unknown));
		resp.nunknown = req->nunknown;
		if (resp.nunknown == 0)
			resp.unknown[resp.nunknown++] =
			    STUN_ATTR_CHANGE_REQUEST;
		snprintf(resp.reason, sizeof(resp.reason), "%s",
		    req->nunknown > 0 ? "Unknown Attribute" :
		    "Cannot Change Address");
	} else {
		resp.cls = STUN_SUCCESS;
		addr_from_sockaddr((const struct sockaddr *)&g->src, &src,
		    &port);
		stund_set_addr(&resp.xor_mapped, &src, port);
		src = stund_local(d, out->ai, &g->dst);
		stund_set_addr(&resp.response_origin, &src,
		    stund_port(d, out->pi));
		if (d->nsocks > 1) {
			other = stund_local(d, d->conf.naddrs == 2 ?
			    1 - out->ai : out->ai, &g->dst);
			stund_set_addr(&resp.other_address, &other,
			    stund_port(d, d->conf.alt_port != 0 ?
			    1 - out->pi : out->pi));
		}
	}
	src = stund_local(d, out->ai, &g->dst);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (stun_encode(&b, &resp) == -1) {
		log_warn("stun: encode");
		return;
	}
	/* No answer larger than its request: the sender pads (PADDING). */
	if (b.len > g->len) {
		d->small++;
		return;
	}
	if (stund_send(d, out, &src, g, &b) == 0)
		d->answered++;
}

/*
 * A classic (RFC 3489) Binding response from the socket CHANGE-REQUEST
 * asks for: MAPPED-ADDRESS the request's source, SOURCE-ADDRESS the
 * socket it leaves from, CHANGED-ADDRESS the socket of the other address
 * and the other port than the one the request came to.  stund_new()
 * made sure that all four sockets exist; the answer is larger than the
 * request, which the caller's classic bucket allows for.
 */
static void
stund_answer_classic(struct stund *d, struct stund_sock *s,
    const struct stund_dgram *g, const struct stun_classic *req)
{
	struct stun_classic	 resp;
	struct stund_sock	*out, *alt;
	struct addr		 src;
	uint8_t			 mem[STUN_MAXMSG];
	struct buf		 b;
	size_t			 ai = s->ai, pi = s->pi;
	uint16_t		 port;

	if (req->has_change && (req->change & STUN_CHANGE_IP))
		ai = 1 - ai;
	if (req->has_change && (req->change & STUN_CHANGE_PORT))
		pi = 1 - pi;
	if ((out = stund_sock_at(d, ai, pi)) == NULL ||
	    (alt = stund_sock_at(d, 1 - s->ai, 1 - s->pi)) == NULL)
		fatalx("stun: classic: a socket is missing");
	memset(&resp, 0, sizeof(resp));
	resp.cls = STUN_SUCCESS;
	memcpy(resp.txid, req->txid, STUN_CLASSIC_TXIDLEN);
	addr_from_sockaddr((const struct sockaddr *)&g->src, &src, &port);
	stund_set_addr(&resp.mapped, &src, port);
	stund_set_addr(&resp.source, &d->conf.addrs[out->ai],
	    stund_port(d, out->pi));
	stund_set_addr(&resp.changed, &d->conf.addrs[alt->ai],
	    stund_port(d, alt->pi));
	buf_init_fixed(&b, mem, sizeof(mem));
	if (stun_classic_encode(&b, &resp) == -1) {
		log_warn("stun: classic encode");
		return;
	}
	if (stund_send(d, out, &d->conf.addrs[out->ai], g, &b) == 0)
		d->c_answered++;
}

/* An RFC 8489 datagram: answered when it is a Binding request. */
static void
stund_handle(struct stund *d, struct stund_sock *s,
    const struct stund_dgram *g)
{
	struct stun_msg	 req;

	if (stun_decode(g->buf, g->len, &req) == -1 ||
	    req.cls != STUN_REQUEST || req.method != STUN_METHOD_BINDING) {
		d->dropped++;
		return;
	}
	if (!stund_take_token(d)) {
		d->limited++;
		return;
	}
	stund_answer(d, s, g, &req);
}

/* An RFC 3489 datagram, StunClassic on: answered when it is a request. */
static void
stund_handle_classic(struct stund *d, struct stund_sock *s,
    const struct stund_dgram *g)
{
	struct stun_classic	 req;

	if (stun_classic_decode(g->buf, g->len, &req) == -1 ||
	    req.cls != STUN_REQUEST) {
		d->dropped++;
		return;
	}
	if (!stund_take_classic(d)) {
		d->c_limited++;
		return;
	}
	stund_answer_classic(d, s, g, &req);
}

static void
stund_read(evutil_socket_t fd, short ev, void *arg)
{
	struct stund_sock	*s = arg;
	struct stund		*d = s->d;
	struct stund_dgram	 g;
	int			 i, r;

	for (i = 0; i < STUND_BATCH; i++) {
		if ((r = stund_recv(s->fd, &g)) == -1)
			return;		/* EAGAIN, or an ICMP error */
		if (r == 0 && stun_is_stun(g.buf, g.len))
			stund_handle(d, s, &g);
		else if (r == 0 && d->conf.classic &&
		    stun_is_classic(g.buf, g.len))
			stund_handle_classic(d, s, &g);
		else
			d->dropped++;
	}
}

int
stund_start(struct stund *d, struct event_base *base)
{
	size_t	 i;

	for (i = 0; i < d->nsocks; i++) {
		d->socks[i].ev = event_new(base, d->socks[i].fd,
		    EV_READ | EV_PERSIST, stund_read, &d->socks[i]);
		if (d->socks[i].ev == NULL ||
		    event_add(d->socks[i].ev, NULL) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

void
stund_free(struct stund *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	log_info("stun: %llu answered, %llu dropped, %llu over the rate, "
	    "%llu smaller than their answer", (unsigned long long)d->answered,
	    (unsigned long long)d->dropped, (unsigned long long)d->limited,
	    (unsigned long long)d->small);
	if (d->conf.classic)
		log_info("stun: classic (RFC 3489): %llu answered, %llu over "
		    "StunClassicRate", (unsigned long long)d->c_answered,
		    (unsigned long long)d->c_limited);
	for (i = 0; i < d->nsocks; i++) {
		if (d->socks[i].ev != NULL)
			event_free(d->socks[i].ev);
		close(d->socks[i].fd);
	}
	free(d);
}
