/*
 * The data path of lanrage-relayd: each worker owns one SO_REUSEPORT
 * socket and moves batches of 64 (recvmmsg, UDP GRO when the kernel
 * has it), answers or forwards in place — a SEND becomes a RECV by
 * rewriting its first 9 bytes — and sends the batch at once (sendmmsg,
 * with UDP GSO for runs to one destination).  BINDs are checked against
 * the per-source and per-worker budgets before any cryptography, then
 * handled after the batch under the table's write lock.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanrage-relayd/relayd.h"
#include "lib/clock.h"
#include "lib/log.h"

#define RELAYD_SRC_BUCKETS	4096	/* per-source BIND buckets */
#define RELAYD_GRO_SLOT		65536
#define RELAYD_SLOT		2048
#define RELAYD_RX_ARENA		(16 * RELAYD_GRO_SLOT)
#define RELAYD_GSO_SEGS		64
#define RELAYD_GSO_BYTES	65000
#define RELAYD_OUT_MAX		1024	/* datagrams sent per batch */

#ifndef UDP_GRO
#define UDP_GRO		104
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

/* One datagram to send: in place in the receive arena. */
struct wk_out {
	uint8_t			*p;
	size_t			 len;
	struct sockaddr_storage	 dst;
	socklen_t		 dstlen;
};

/* A BIND kept for after the batch. */
struct wk_bind {
	uint8_t			 frame[RELAY_BINDLEN];
	struct sockaddr_storage	 src;
	socklen_t		 srclen;
};

struct wk_state {
	struct relayd_ctx	*ctx;
	struct relayd_worker	*w;
	uint8_t			*arena;
	struct mmsghdr		 rmsg[RELAYD_BATCH];
	struct iovec		 riov[RELAYD_BATCH];
	struct sockaddr_storage	 raddr[RELAYD_BATCH];
	uint8_t			 rcbuf[RELAYD_BATCH][CMSG_SPACE(sizeof(int))];
	struct wk_out		*out;
	size_t			 nout;
	struct mmsghdr		*smsg;
	struct iovec		*siov;
	uint8_t			(*scbuf)[CMSG_SPACE(sizeof(uint16_t))];
	struct wk_bind		 binds[RELAYD_BATCH];
	size_t			 nbinds;
	uint8_t			 reply[RELAYD_BATCH][RELAY_BOUNDLEN];
};

#define STAT_ADD(w, f, n) atomic_fetch_add_explicit(&(w)->st.f, (n), \
			    memory_order_relaxed)
#define DROP(w, r)	atomic_fetch_add_explicit(&(w)->st.drops[r], 1, \
			    memory_order_relaxed)

/* ---- sockets ---- */

int
relayd_worker_socket(const struct relayd_conf *c, bool *gro)
{
	int	 fd, on = 1, v6only = 0, buf = 4 << 20;

	fd = socket(c->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (c->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)&c->ss, c->sslen) == -1) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	*gro = setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)) == 0;
	return fd;
}

/* ---- budgets, before anything is allocated or computed ---- */

static size_t
wk_src_bucket(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4 = (const void *)sa;
	const struct sockaddr_in6	*s6 = (const void *)sa;
	uint32_t			 h = 2166136261u;
	const uint8_t			*p;
	size_t				 n, i;

	/* the address only: a source cannot buy budget with ports */
	if (sa->sa_family == AF_INET) {
		p = (const uint8_t *)&s4->sin_addr;
		n = 4;
	} else {
		p = (const uint8_t *)&s6->sin6_addr;
		n = 16;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % RELAYD_SRC_BUCKETS;
}

static bool
wk_bind_allowed(struct wk_state *s, const struct sockaddr *sa)
{
	const struct relayd_conf *c = s->ctx->conf;
	struct relayd_worker	*w = s->w;
	uint64_t		 now = clock_mono_ms(), cap, *tok;
	size_t			 b = wk_src_bucket(sa);

	if (now / 1000 != w->budget_sec) {
		w->budget_sec = now / 1000;
		w->budget_used = 0;
	}
	if (w->budget_used >= c->bind_budget) {
		DROP(w, RD_BUDGET);
		return false;
	}
	tok = &w->src_tokens[b];
	cap = (uint64_t)c->bind_burst * 1000;
	*tok += (now - w->src_ms[b]) * c->bind_rate;
	if (*tok > cap)
		*tok = cap;
	w->src_ms[b] = now;
	if (*tok < 1000) {
		DROP(w, RD_RATE);
		return false;
	}
	*tok -= 1000;
	w->budget_used++;
	return true;
}

/* ---- the frames ---- */

static void
wk_queue(struct wk_state *s, uint8_t *p, size_t len,
    const struct sockaddr_storage *dst, socklen_t dstlen)
{
	struct wk_out	*o;

	if (s->nout == RELAYD_OUT_MAX) {
		DROP(s->w, RD_SEND_FAILED);	/* GRO of tiny frames */
		return;
	}
	o = &s->out[s->nout++];
	o->p = p;
	o->len = len;
	memcpy(&o->dst, dst, dstlen);
	o->dstlen = dstlen;
}

/* SEND → RECV in place: the sender's tag replaces the destination's. */
static void
wk_send(struct wk_state *s, uint8_t *p, size_t len,
    const struct sockaddr_storage *src, socklen_t srclen, uint64_t now)
{
	struct rtab_fwd		 f;
	enum relayd_drop	 why;

	if (len <= RELAY_FWD_HDRLEN || len > RELAY_MAXMSG) {
		DROP(s->w, RD_MALFORMED);
		return;
	}
	if (rtab_route(s->ctx->tab, (const struct sockaddr *)src, srclen,
	    p + 1, now, &f, &why) == -1) {
		DROP(s->w, why);
		return;
	}
	p[0] = RELAY_RECV;
	memcpy(p + 1, f.src_tag, RELAY_TAGLEN);
	STAT_ADD(s->w, fwd_packets, 1);
	STAT_ADD(s->w, fwd_bytes, len);
	wk_queue(s, p, len, &f.dst, f.dstlen);
}

/* PING → PONG in place, for bound sources only; the same size. */
static void
wk_ping(struct wk_state *s, uint8_t *p, size_t len,
    const struct sockaddr_storage *src, socklen_t srclen)
{
	struct relay_msg	 m;
	struct buf		 b;

	if (relay_decode(p, len, &m) == -1) {
		DROP(s->w, RD_MALFORMED);
		return;
	}
	if (!rtab_bound(s->ctx->tab, (const struct sockaddr *)src, srclen)) {
		DROP(s->w, RD_UNBOUND);
		return;
	}
	buf_init_fixed(&b, p, len);
	if (relay_enc_pong(&b, m.txid, relayd_load(s->ctx)) == -1)
		return;
	STAT_ADD(s->w, pongs, 1);
	wk_queue(s, p, b.len, src, srclen);
}

static void
wk_keep_bind(struct wk_state *s, const uint8_t *p, size_t len,
    const struct sockaddr_storage *src, socklen_t srclen)
{
	struct wk_bind	*k;

	if (len != RELAY_BINDLEN) {
		DROP(s->w, RD_MALFORMED);
		return;
	}
	if (s->nbinds == RELAYD_BATCH ||
	    !wk_bind_allowed(s, (const struct sockaddr *)src))
		return;
	k = &s->binds[s->nbinds++];
	memcpy(k->frame, p, len);
	memcpy(&k->src, src, srclen);
	k->srclen = srclen;
}

static void
wk_frame(struct wk_state *s, uint8_t *p, size_t len,
    const struct sockaddr_storage *src, socklen_t srclen, uint64_t now)
{
	STAT_ADD(s->w, rx_packets, 1);
	STAT_ADD(s->w, rx_bytes, len);
	if (len == 0) {
		DROP(s->w, RD_MALFORMED);
		return;
	}
	switch (p[0]) {
	case RELAY_SEND:
		wk_send(s, p, len, src, srclen, now);
		break;
	case RELAY_PING:
		wk_ping(s, p, len, src, srclen);
		break;
	case RELAY_BIND:
		wk_keep_bind(s, p, len, src, srclen);
		break;
	default:
		DROP(s->w, RD_MALFORMED);
		break;
	}
}

/* ---- BIND: token, box, clock, then the table ---- */

static bool
wk_token_key(struct relayd_ctx *ctx, uint8_t pk[RELAY_SIGNKEYLEN])
{
	if (!atomic_load(&ctx->have_key))
		return false;
	pthread_mutex_lock(&ctx->key_lock);
	memcpy(pk, ctx->token_pk, RELAY_SIGNKEYLEN);
	pthread_mutex_unlock(&ctx->key_lock);
	return true;
}

static int
wk_bind_check(struct wk_state *s, const struct wk_bind *k,
    struct relay_msg *m, uint64_t *time_ms, enum relayd_drop *why)
{
	uint8_t		 pk[RELAY_SIGNKEYLEN];
	uint64_t	 now = clock_wall_ms();

	if (relay_decode(k->frame, sizeof(k->frame), m) == -1) {
		*why = RD_MALFORMED;
		return -1;
	}
	if (!wk_token_key(s->ctx, pk)) {
		*why = RD_NO_KEY;
		return -1;
	}
	if (relay_token_verify(&m->token, pk, s->ctx->pub, now / 1000) == -1) {
		*why = errno == ESTALE ? RD_EXPIRED : errno == EXDEV ?
		    RD_WRONG_RELAY : RD_BAD_TOKEN;
		return -1;
	}
	if (relay_bind_open(m, s->ctx->priv, time_ms) == -1) {
		*why = RD_BAD_BOX;
		return -1;
	}
	if (*time_ms + RELAY_MAX_SKEW_S * 1000 < now ||
	    *time_ms > now + RELAY_MAX_SKEW_S * 1000) {
		*why = RD_SKEW;
		return -1;
	}
	return 0;
}

static void
wk_bind_one(struct wk_state *s, const struct wk_bind *k, size_t i)
{
	struct rtab_bind_req	 r;
	struct relay_msg	 m;
	enum relayd_drop	 why;
	struct buf		 b;
	uint32_t		 nbound;
	int			 rc;

	if (wk_bind_check(s, k, &m, &r.time_ms, &why) == -1) {
		DROP(s->w, why);
		return;
	}
	memcpy(r.node, m.token.node_key, RELAY_KEYLEN);
	memcpy(r.party, m.token.party, RELAY_IDLEN);
	r.sa = (const struct sockaddr *)&k->src;
	r.salen = k->srclen;
	rtab_wrlock(s->ctx->tab);
	rc = rtab_bind(s->ctx->tab, &r, clock_mono_ms() / 1000, &nbound, &why);
	rtab_unlock(s->ctx->tab);
	if (rc == -1) {
		DROP(s->w, why);
		return;
	}
	STAT_ADD(s->w, binds, 1);
	buf_init_fixed(&b, s->reply[i], RELAY_BOUNDLEN);
	if (relay_enc_bound(&b, s->ctx->priv, r.node, RELAY_BIND_LIFETIME_S,
	    nbound) == 0)
		wk_queue(s, s->reply[i], b.len, &k->src, k->srclen);
}

/* ---- sending ---- */

static bool
wk_same_dest(const struct wk_out *a, const struct wk_out *b)
{
	return a->dstlen == b->dstlen && memcmp(&a->dst, &b->dst,
	    a->dstlen) == 0;
}

/* Runs of equal-sized datagrams to one destination: one GSO message. */
static size_t
wk_group(struct wk_state *s)
{
	struct cmsghdr	*cm;
	struct msghdr	*mh;
	size_t		 i = 0, j, n = 0, k = 0, seg, max;

	while (i < s->nout) {
		seg = s->out[i].len;
		max = s->w->gso ? RELAYD_GSO_BYTES / seg : 1;
		if (max > RELAYD_GSO_SEGS)
			max = RELAYD_GSO_SEGS;
		for (j = i + 1; j < s->nout && j - i < max &&
		    s->out[j].len == seg && wk_same_dest(&s->out[i],
		    &s->out[j]); j++)
			;
		mh = &s->smsg[n].msg_hdr;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &s->out[i].dst;
		mh->msg_namelen = s->out[i].dstlen;
		mh->msg_iov = &s->siov[k];
		mh->msg_iovlen = j - i;
		for (; i < j; i++) {
			s->siov[k].iov_base = s->out[i].p;
			s->siov[k++].iov_len = s->out[i].len;
		}
		if (mh->msg_iovlen > 1) {
			mh->msg_control = s->scbuf[n];
			mh->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg;
		}
		n++;
	}
	return n;
}

/* What the kernel takes; a full buffer drops the rest (UDP). */
static void
wk_flush(struct wk_state *s)
{
	struct pollfd	 pfd = { .fd = s->w->fd, .events = POLLOUT };
	size_t		 n, done = 0, i, segs;
	int		 r, tries = 0;

	if (s->nout == 0)
		return;
	n = wk_group(s);
	while (done < n) {
		r = sendmmsg(s->w->fd, s->smsg + done, (unsigned)(n - done), 0);
		if (r > 0) {
			for (i = done; i < done + (size_t)r; i++) {
				segs = s->smsg[i].msg_hdr.msg_iovlen;
				STAT_ADD(s->w, tx_packets, segs);
				STAT_ADD(s->w, tx_bytes, s->smsg[i].msg_len);
			}
			done += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EIO && s->w->gso) {
			s->w->gso = false;	/* no segmentation on this path */
			log_info("worker %zu: UDP GSO refused, off", s->w->id);
			n = wk_group(s);
			done = 0;
			continue;
		}
		if (r == -1 && errno == EAGAIN && tries++ < 4 &&
		    poll(&pfd, 1, 10) >= 0)
			continue;
		DROP(s->w, RD_SEND_FAILED);
		done++;
	}
	s->nout = 0;
}

/* ---- receiving ---- */

static size_t
wk_gro_size(struct msghdr *mh)
{
	struct cmsghdr	*cm;
	int		 v;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	return 0;
}

static void
wk_rx_prepare(struct wk_state *s)
{
	size_t	 i, slot = s->w->gro ? RELAYD_GRO_SLOT : RELAYD_SLOT;
	size_t	 n = s->w->gro ? RELAYD_RX_ARENA / RELAYD_GRO_SLOT :
		    RELAYD_BATCH;

	for (i = 0; i < n; i++) {
		s->riov[i].iov_base = s->arena + i * slot;
		s->riov[i].iov_len = slot;
		memset(&s->rmsg[i].msg_hdr, 0, sizeof(s->rmsg[i].msg_hdr));
		s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
		s->rmsg[i].msg_hdr.msg_iovlen = 1;
		s->rmsg[i].msg_hdr.msg_name = &s->raddr[i];
		s->rmsg[i].msg_hdr.msg_namelen = sizeof(s->raddr[i]);
		s->rmsg[i].msg_hdr.msg_control = s->rcbuf[i];
		s->rmsg[i].msg_hdr.msg_controllen = sizeof(s->rcbuf[i]);
	}
}

/* One received message, cut into the datagrams GRO joined. */
static void
wk_rx_msg(struct wk_state *s, size_t i, uint64_t now)
{
	struct msghdr	*mh = &s->rmsg[i].msg_hdr;
	size_t		 len = s->rmsg[i].msg_len, seg, off;
	uint8_t		*p = s->riov[i].iov_base;

	if (mh->msg_flags & MSG_TRUNC) {
		DROP(s->w, RD_MALFORMED);
		return;
	}
	seg = wk_gro_size(mh);
	if (seg == 0 || seg > len)
		seg = len;
	if (len == 0) {
		wk_frame(s, p, 0, &s->raddr[i], mh->msg_namelen, now);
		return;
	}
	for (off = 0; off < len; off += seg)
		wk_frame(s, p + off, len - off < seg ? len - off : seg,
		    &s->raddr[i], mh->msg_namelen, now);
}

static void
wk_batch(struct wk_state *s)
{
	uint64_t	 now = clock_mono_ms() / 1000;
	size_t		 i, nslots;
	int		 n;

	wk_rx_prepare(s);
	nslots = s->w->gro ? RELAYD_RX_ARENA / RELAYD_GRO_SLOT : RELAYD_BATCH;
	n = recvmmsg(s->w->fd, s->rmsg, (unsigned)nslots, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	rtab_rdlock(s->ctx->tab);
	for (i = 0; i < (size_t)n; i++)
		wk_rx_msg(s, i, now);
	rtab_unlock(s->ctx->tab);
	for (i = 0; i < s->nbinds; i++)
		wk_bind_one(s, &s->binds[i], i);
	s->nbinds = 0;
	wk_flush(s);
}

static void *
wk_main(void *arg)
{
	struct wk_state	*s = arg;
	struct pollfd	 pfd[2];

	pfd[0].fd = s->w->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = s->w->stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			break;
		if (pfd[0].revents & POLLIN)
			wk_batch(s);
	}
	return NULL;
}

/* ---- setup ---- */

static struct wk_state *
wk_state_new(struct relayd_ctx *ctx, struct relayd_worker *w)
{
	struct wk_state	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ctx = ctx;
	s->w = w;
	s->arena = malloc(RELAYD_RX_ARENA);
	s->out = calloc(RELAYD_OUT_MAX, sizeof(*s->out));
	s->smsg = calloc(RELAYD_OUT_MAX, sizeof(*s->smsg));
	s->siov = calloc(RELAYD_OUT_MAX, sizeof(*s->siov));
	s->scbuf = calloc(RELAYD_OUT_MAX, sizeof(*s->scbuf));
	w->src_tokens = calloc(RELAYD_SRC_BUCKETS, sizeof(uint64_t));
	w->src_ms = calloc(RELAYD_SRC_BUCKETS, sizeof(uint64_t));
	if (s->arena == NULL || s->out == NULL || s->smsg == NULL ||
	    s->siov == NULL || s->scbuf == NULL || w->src_tokens == NULL ||
	    w->src_ms == NULL)
		return NULL;	/* the caller exits: nothing to free */
	return s;
}

int
relayd_workers_start(struct relayd_ctx *ctx)
{
	struct relayd_worker	*w;
	struct wk_state		*s;
	size_t			 i, b;

	for (i = 0; i < ctx->nworkers; i++) {
		w = &ctx->w[i];
		w->id = i;
		w->gso = true;
		if ((w->stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
		    (s = wk_state_new(ctx, w)) == NULL)
			return -1;
		/* every source starts with a full bucket */
		for (b = 0; b < RELAYD_SRC_BUCKETS; b++)
			w->src_tokens[b] = (uint64_t)ctx->conf->bind_burst *
			    1000;
		if (pthread_create(&w->thread, NULL, wk_main, s) != 0)
			return -1;
	}
	return 0;
}

void
relayd_workers_stop(struct relayd_ctx *ctx)
{
	uint64_t	 one = 1;
	size_t		 i;

	for (i = 0; i < ctx->nworkers; i++)
		if (write(ctx->w[i].stopfd, &one, sizeof(one)) == -1)
			log_warn("worker %zu: stop", i);
	for (i = 0; i < ctx->nworkers; i++)
		pthread_join(ctx->w[i].thread, NULL);
}

void
relayd_set_token_key(struct relayd_ctx *ctx,
    const uint8_t pk[RELAY_SIGNKEYLEN])
{
	pthread_mutex_lock(&ctx->key_lock);
	memcpy(ctx->token_pk, pk, RELAY_SIGNKEYLEN);
	pthread_mutex_unlock(&ctx->key_lock);
	atomic_store(&ctx->have_key, true);
}
