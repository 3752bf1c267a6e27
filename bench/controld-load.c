/*
 * controld-load: the load generator of bench/controld.sh.  One process,
 * one libevent loop, N simulated nodes, each with its own X25519 key and
 * its own Noise IK session to lanrage-controld (lib/csess.h).
 *
 * Setup: nodes connect in a bounded window of handshakes in flight.  They
 * form parties of P (default 8): the first node of each creates the
 * party and an invite without a use cap, the others JOIN with its code.
 * Every node heartbeats at the period WELCOME gives, from a random phase.
 * Churn: for a bounded time and count, at a fixed rate, a random member
 * of an idle party LEAVEs and then JOINs again.  Each change is timed
 * from the request until every other online member of the party has its
 * DELTA (LEFT or JOINED); per-receiver times are kept too.  Controld's
 * CPU (utime + stime) is read from /proc over the churn window.
 *
 * Results: "name value" lines on stdout; progress and failures on stderr.
 * Exit status 0 when every session held, every expected delta came, no
 * request failed and no sequence number was skipped; 1 otherwise.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/csess.h"
#include "proto/control.h"

#define LOAD_MAX_NODES		1000000
#define LOAD_SPARE_FDS		64	/* beyond one per node */
#define LOAD_MAX_PSIZE		64	/* party slots fit a uint64_t mask */
#define LOAD_MAX_SAMPLES	(1 << 22)
#define LOAD_TICK_MS		10	/* churn pacing, phase changes */
#define LOAD_SWEEP_TICKS	10	/* deadlines every 100 ms */
#define LOAD_HS_TIMEOUT_MS	10000
#define LOAD_BACKOFF_MS		1000
#define LOAD_PROGRESS_US	5000000
#define LOAD_MAX_ERRLOG		10	/* failures printed, then counted */
#define LOAD_REJOIN_MAX_US	1000000	/* pause between LEAVE and JOIN */

enum node_conn { NC_IDLE, NC_CONNECTING, NC_READY };
enum node_req { NR_NONE, NR_CREATE, NR_INVITE, NR_JOIN, NR_LEAVE };
enum phase { PH_SETUP, PH_HOLD, PH_CHURN, PH_DRAIN, PH_DONE };

/* One membership change, timed until every expected peer has its delta. */
struct op {
	uint8_t		 kind;		/* DELTA_JOINED or _LEFT; 0: idle */
	bool		 churn;		/* measured, not setup */
	bool		 replied;
	uint64_t	 expect;	/* party slots that must see it */
	uint64_t	 seen;
	uint64_t	 t0;		/* request queued, us */
	uint64_t	 deadline;
};

struct node {
	struct bufferevent	*bev;
	struct event		*timer;	/* backoff, handshake or heartbeat */
	struct event		*rejoin;	/* churn: JOIN after LEAVE */
	struct csess		 cs;
	struct csess_reader	 rd;
	uint8_t			 priv[CSESS_KEY_LEN];
	uint8_t			 pub[CSESS_KEY_LEN];
	uint32_t		 idx;
	uint32_t		 nextid;
	uint32_t		 hello_id;
	uint32_t		 req_id;
	uint32_t		 hb_id;
	enum node_conn		 conn;
	enum node_req		 req;
	bool			 keyed;
	bool			 member;	/* ACTIVE, as far as we know */
	bool			 have_seq;
	uint64_t		 seq;		/* of its party's last change */
	uint64_t		 hb_sent;	/* us; 0 when none is due */
	uint64_t		 t_connect;
	struct op		 op;
};

struct party {
	uint8_t		 id[CONTROL_IDLEN];
	uint8_t		 code[CONTROL_CODELEN];
	bool		 have_id;
	bool		 have_code;
	bool		 busy;		/* a churn change in flight */
	uint32_t	 first;		/* the host's node index */
	uint32_t	 size;
};

/* Latencies in us. */
struct samples {
	uint32_t	*v;
	size_t		 n, cap;
};

struct opts {
	uint32_t	 nodes;
	uint32_t	 psize;
	uint32_t	 window;	/* handshakes in flight */
	uint32_t	 rate;		/* churn changes started per second */
	uint32_t	 churn_max;
	uint32_t	 churn_secs;
	uint32_t	 hold_secs;
	uint32_t	 op_ms;		/* deadline of one change */
	uint32_t	 setup_secs;
	uint32_t	 nsrc;		/* source addresses 127.0.0.1.. */
	pid_t		 pid;		/* controld, for /proc */
};

struct counts {
	uint64_t	 reconnects, drops, hs_timeouts, errors, failed;
	uint64_t	 missing, gaps, stray, extra, hb_late, heartbeats;
	uint64_t	 launched, churn_done, skipped;
};

static struct {
	struct opts		 o;
	struct counts		 c;
	struct event_base	*base;
	struct event		*tick;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	uint8_t			 spub[CSESS_KEY_LEN];
	struct node		*nodes;
	struct party		*parties;
	uint32_t		 nparties;
	uint32_t		 next;		/* next node to connect */
	uint32_t		 inflight;	/* handshakes */
	uint32_t		 ready;
	uint32_t		 members;
	uint32_t		 nops;
	uint32_t		 nbusy;		/* parties in a churn change */
	uint32_t		 ticks;
	uint16_t		 hb_secs;
	enum phase		 phase;
	uint64_t		 t_start, t_setup, t_churn0, t_churn1;
	uint64_t		 t_hold_end, t_churn_end, t_drain_end;
	uint64_t		 t_progress;
	uint64_t		 cpu_setup0, cpu_setup1, cpu_churn0, cpu_churn1;
	double			 gen_cpu0, gen_cpu1;
	bool			 have_cpu;
	unsigned		 errlog;
	uint8_t			 pt[CSESS_BODY_MAX];	/* decrypted frame */
	struct control_state	 st;
	struct samples		 hs, setup_join, join_all, join_rx, join_reply;
	struct samples		 leave_all, leave_rx, hb;
} L;

static void	node_connect(struct node *);
static void	node_setup(struct node *);
static void	node_join(struct node *, bool);
static void	op_finish(struct node *);
static void	pump(void);

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "controld-load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* The first few failures are printed; all are counted by the caller. */
static void __attribute__((format(printf, 2, 3)))
complain(const struct node *nd, const char *fmt, ...)
{
	va_list	 ap;

	if (L.errlog >= LOAD_MAX_ERRLOG)
		return;
	if (++L.errlog == LOAD_MAX_ERRLOG)
		fprintf(stderr, "controld-load: (further failures counted, "
		    "not printed)\n");
	fprintf(stderr, "controld-load: node %u: ", nd->idx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
samples_add(struct samples *s, uint64_t t0)
{
	uint64_t	 d = now_us() - t0;
	uint32_t	*v;
	size_t		 cap;

	if (s->n == s->cap) {
		if (s->cap >= LOAD_MAX_SAMPLES)
			return;
		cap = s->cap == 0 ? 1024 : s->cap * 2;
		if ((v = reallocarray(s->v, cap, sizeof(*v))) == NULL)
			die("out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int
samples_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) in ms, or -1 without samples. */
static double
samples_q(const struct samples *s, double q)
{
	size_t	 k;

	if (s->n == 0)
		return -1;
	k = (size_t)(q * (double)s->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return s->v[k - 1] / 1000.0;
}

static void
samples_print(const char *name, struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), samples_cmp);
	printf("%s_n %zu\n", name, s->n);
	printf("%s_p50_ms %.3f\n", name, samples_q(s, 0.50));
	printf("%s_p99_ms %.3f\n", name, samples_q(s, 0.99));
	printf("%s_max_ms %.3f\n", name, samples_q(s, 1.0));
}

/* ---- controld's /proc ---- */

/* utime + stime in clock ticks. */
static int
proc_cpu(pid_t pid, uint64_t *ticks)
{
	char		 path[64], line[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	int		 rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) == 2) {
		*ticks = ut + st;
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* A "Vm...:" field of /proc/PID/status in kB, or -1. */
static long
proc_vm(pid_t pid, const char *field)
{
	char	 path[64], line[256];
	size_t	 len = strlen(field);
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static double
self_cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t
ctld_cpu(void)
{
	uint64_t	 t = 0;

	if (L.o.pid > 0 && proc_cpu(L.o.pid, &t) == 0)
		L.have_cpu = true;
	return t;
}

/* ---- parties and changes ---- */

static struct party *
node_party(const struct node *nd)
{
	return &L.parties[nd->idx / L.o.psize];
}

static bool
node_online(const struct node *nd)
{
	return nd->conn == NC_READY && nd->member;
}

static void
node_set_member(struct node *nd, bool member)
{
	if (nd->member == member)
		return;
	nd->member = member;
	if (member)
		L.members++;
	else {
		L.members--;
		nd->have_seq = false;
	}
}

/*
 * The JOIN of a churn goes out after a random pause, so that it samples
 * every phase of controld's periodic work (its once-a-second flush):
 * sent at once, it would inherit the phase of the LEAVE before it.
 */
static void
node_rejoin_later(struct node *nd)
{
	struct timeval	 tv = { 0, randombytes_uniform(LOAD_REJOIN_MAX_US) };

	evtimer_add(nd->rejoin, &tv);
}

static void
node_rejoin(evutil_socket_t fd, short ev, void *arg)
{
	struct node	*nd = arg;

	if (L.phase == PH_DONE)
		return;
	if (nd->conn == NC_READY && !nd->member && nd->req == NR_NONE)
		node_join(nd, true);
	else
		L.c.failed++;	/* its party stays busy */
}

/* Start timing a change of nd: the other online members must see it. */
static void
op_start(struct node *nd, uint8_t kind, bool churn)
{
	struct party	*p = node_party(nd);
	struct op	*op = &nd->op;
	uint32_t	 k;

	if (op->kind != 0)
		op_finish(nd);
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->churn = churn;
	for (k = 0; k < p->size; k++)
		if (p->first + k != nd->idx &&
		    node_online(&L.nodes[p->first + k]))
			op->expect |= 1ULL << k;
	op->t0 = now_us();
	op->deadline = op->t0 + (uint64_t)L.o.op_ms * 1000;
	L.nops++;
}

/* The change is over (complete or past its deadline). */
static void
op_finish(struct node *nd)
{
	struct op	*op = &nd->op;
	struct party	*p = node_party(nd);
	uint8_t		 kind = op->kind;
	bool		 churn = op->churn;

	if (kind == 0)
		return;
	L.c.missing += __builtin_popcountll(op->expect & ~op->seen);
	if (!op->replied)
		L.c.failed++;
	op->kind = 0;
	L.nops--;
	if (!churn || !op->replied)
		return;		/* an unanswered churn keeps its party busy */
	if (kind == CONTROL_DELTA_LEFT && L.phase != PH_DONE)
		node_rejoin_later(nd);
	else {
		p->busy = false;
		L.nbusy--;
		L.c.churn_done++;
	}
}

static void
op_check(struct node *nd)
{
	struct op	*op = &nd->op;

	if (op->kind != 0 && op->replied && (op->seen & op->expect) ==
	    op->expect)
		op_finish(nd);
}

static void
op_replied(struct node *nd)
{
	struct op	*op = &nd->op;

	if (op->kind == 0)
		return;
	op->replied = true;
	if (op->churn && op->kind == CONTROL_DELTA_JOINED)
		samples_add(&L.join_reply, op->t0);
	op_check(nd);
}

/*
 * A delta nobody waits for.  While parties form, joins race: a member
 * that joined after a JOIN was sent gets that JOINED delta too.
 */
static void
unexpected(void)
{
	if (L.phase == PH_SETUP)
		L.c.extra++;
	else
		L.c.stray++;
}

/* Receiver r got a delta of kind about key. */
static void
op_seen(struct node *r, uint8_t kind, const uint8_t *key)
{
	struct party	*p = node_party(r);
	struct node	*j = NULL;
	struct op	*op;
	uint64_t	 bit = 1ULL << (r->idx - p->first);
	uint32_t	 k;

	for (k = 0; k < p->size && j == NULL; k++)
		if (memcmp(L.nodes[p->first + k].pub, key, CSESS_KEY_LEN) == 0)
			j = &L.nodes[p->first + k];
	if (j == NULL || (op = &j->op)->kind != kind ||
	    (op->expect & bit) == 0 || (op->seen & bit) != 0) {
		unexpected();
		return;
	}
	op->seen |= bit;
	if (op->churn)
		samples_add(kind == CONTROL_DELTA_JOINED ? &L.join_rx :
		    &L.leave_rx, op->t0);
	if ((op->seen & op->expect) == op->expect) {
		if (!op->churn)
			samples_add(&L.setup_join, op->t0);
		else
			samples_add(kind == CONTROL_DELTA_JOINED ?
			    &L.join_all : &L.leave_all, op->t0);
	}
	op_check(j);
}

/* ---- sending ---- */

static void
node_begin(struct node *nd, struct buf *b, void *mem, size_t len,
    uint16_t type, uint32_t *id)
{
	*id = nd->nextid++;
	if (nd->nextid == 0)
		nd->nextid = 1;
	buf_init_fixed(b, mem, len);
	if (control_enc_hdr(b, type, *id) == -1)
		die("encode %s", control_msg_name(type));
}

static void
node_seal(struct node *nd, const struct buf *b)
{
	uint8_t		 mem[512];
	struct buf	 out;

	buf_init_fixed(&out, mem, sizeof(mem));
	if (csess_seal(&nd->cs, &out, b->data, b->len) == -1 ||
	    bufferevent_write(nd->bev, out.data, out.len) == -1)
		die("seal or queue a request");
}

static void
node_request(struct node *nd, enum node_req req, struct buf *b)
{
	nd->req = req;
	node_seal(nd, b);
}

static void
node_create(struct node *nd)
{
	struct control_party_create	 pc;
	uint8_t				 mem[128];
	struct buf			 b;

	memset(&pc, 0, sizeof(pc));
	snprintf(pc.name, sizeof(pc.name), "party%u", nd->idx / L.o.psize);
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_PARTY_CREATE,
	    &nd->req_id);
	if (control_enc_party_create(&b, &pc) == -1)
		die("encode party_create");
	node_request(nd, NR_CREATE, &b);
}

static void
node_invite(struct node *nd)
{
	struct control_invite_create	 ic;
	uint8_t				 mem[128];
	struct buf			 b;

	memset(&ic, 0, sizeof(ic));	/* no expiry asked, no use cap */
	memcpy(ic.id, node_party(nd)->id, CONTROL_IDLEN);
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_INVITE_CREATE,
	    &nd->req_id);
	if (control_enc_invite_create(&b, &ic) == -1)
		die("encode invite_create");
	node_request(nd, NR_INVITE, &b);
}

static void
node_join(struct node *nd, bool churn)
{
	struct control_join	 j;
	uint8_t			 mem[128];
	struct buf		 b;

	if (nd->conn != NC_READY)
		return;
	memcpy(j.code, node_party(nd)->code, CONTROL_CODELEN);
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_JOIN, &nd->req_id);
	if (control_enc_join(&b, &j) == -1)
		die("encode join");
	op_start(nd, CONTROL_DELTA_JOINED, churn);
	node_request(nd, NR_JOIN, &b);
}

static void
node_leave(struct node *nd)
{
	struct control_party_ref	 r;
	uint8_t				 mem[128];
	struct buf			 b;

	memcpy(r.id, node_party(nd)->id, CONTROL_IDLEN);
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_LEAVE, &nd->req_id);
	if (control_enc_party_ref(&b, &r) == -1)
		die("encode leave");
	op_start(nd, CONTROL_DELTA_LEFT, true);
	node_request(nd, NR_LEAVE, &b);
}

static void
node_heartbeat(struct node *nd)
{
	uint8_t		 mem[32];
	struct buf	 b;

	if (nd->hb_sent != 0)
		L.c.hb_late++;	/* the last one is still unanswered */
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_HEARTBEAT,
	    &nd->hb_id);
	nd->hb_sent = now_us();
	L.c.heartbeats++;
	node_seal(nd, &b);
}

static void
node_arm(struct node *nd, uint64_t us)
{
	struct timeval	 tv = { us / 1000000, us % 1000000 };

	evtimer_add(nd->timer, &tv);
}

/* ---- connection ---- */

static void
node_drop(struct node *nd, const char *why)
{
	if (nd->conn == NC_CONNECTING && L.inflight > 0)
		L.inflight--;
	if (nd->conn == NC_READY)
		L.ready--;
	if (nd->bev != NULL)
		bufferevent_free(nd->bev);
	nd->bev = NULL;
	csess_wipe(&nd->cs);
	csess_reader_free(&nd->rd);
	evtimer_del(nd->timer);
	nd->conn = NC_IDLE;
	nd->hb_sent = 0;
	if (nd->req != NR_NONE && nd->op.kind == 0)
		L.c.failed++;	/* a change counts its own failure */
	nd->req = NR_NONE;
	if (L.phase == PH_DONE)
		return;
	complain(nd, "session lost: %s", why);
	L.c.drops++;
	node_arm(nd, LOAD_BACKOFF_MS * 1000);
}

static void
node_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct node	*nd = arg;

	switch (nd->conn) {
	case NC_IDLE:
		L.c.reconnects++;
		node_connect(nd);
		break;
	case NC_CONNECTING:
		L.c.hs_timeouts++;
		node_drop(nd, "handshake timeout");
		break;
	case NC_READY:
		node_heartbeat(nd);
		node_arm(nd, (uint64_t)L.hb_secs * 1000000);
		break;
	}
}

static void
node_welcome(struct node *nd, const struct control_welcome *w)
{
	struct party	*p = node_party(nd);
	uint8_t		 i;
	bool		 in = false;

	for (i = 0; i < w->nparties; i++)
		if (p->have_id && memcmp(w->parties[i].id, p->id,
		    CONTROL_IDLEN) == 0)
			in = true;
	node_set_member(nd, in);
	if (L.hb_secs == 0)
		L.hb_secs = w->heartbeat;
	nd->conn = NC_READY;
	L.inflight--;
	L.ready++;
	if (L.phase == PH_SETUP)
		samples_add(&L.hs, nd->t_connect);
	node_arm(nd, randombytes_uniform(w->heartbeat * 1000000U));
	node_setup(nd);
	pump();
}

/* Handshake message 2, which carries WELCOME. */
static int
node_msg2(struct node *nd, const uint8_t *body, size_t len)
{
	struct control_welcome	 w;
	struct control_hdr	 h;
	struct buf		 pl;

	buf_init_fixed(&pl, L.pt, sizeof(L.pt));
	if (csess_read_msg2(&nd->cs, body, len, &pl) == -1 ||
	    control_dec_hdr(pl.data, pl.len, &h) == -1) {
		node_drop(nd, "bad handshake message 2");
		return -1;
	}
	if (h.type != CONTROL_MSG_WELCOME || h.id != nd->hello_id ||
	    control_dec_welcome(h.payload, h.len, &w) == -1) {
		L.c.errors++;
		node_drop(nd, "no WELCOME");
		return -1;
	}
	node_welcome(nd, &w);
	return 0;
}

static void
node_hello(struct node *nd)
{
	struct control_hello	 h;
	uint8_t			 mem[256], out[512];
	struct buf		 b, o;

	memset(&h, 0, sizeof(h));
	h.version = CONTROL_VERSION;
	h.listen_port = 51820;
	snprintf(h.name, sizeof(h.name), "node%u", nd->idx);
	/* a LAN and a STUN candidate, as a real node would send */
	h.ep.n = 2;
	h.ep.c[0].kind = CONTROL_EP_LAN;
	h.ep.c[0].addr.af = AF_INET;
	h.ep.c[0].addr.v4.s_addr = htonl(0xc0a80000 | (nd->idx & 0xffff));
	h.ep.c[0].port = 51820;
	h.ep.c[1].kind = CONTROL_EP_STUN;
	h.ep.c[1].addr.af = AF_INET;
	h.ep.c[1].addr.v4.s_addr = htonl(0xcb007100 | (nd->idx & 0xff));
	h.ep.c[1].port = (uint16_t)(1024 + nd->idx % 60000);
	node_begin(nd, &b, mem, sizeof(mem), CONTROL_MSG_HELLO, &nd->hello_id);
	if (control_enc_hello(&b, &h) == -1)
		die("encode hello");
	buf_init_fixed(&o, out, sizeof(out));
	if (csess_init_initiator(&nd->cs, nd->priv, L.spub) == -1 ||
	    csess_write_msg1(&nd->cs, &o, NULL, b.data, b.len) == -1 ||
	    bufferevent_write(nd->bev, o.data, o.len) == -1)
		die("handshake message 1");
}

/* ---- messages ---- */

static void
msg_error(struct node *nd, const struct control_hdr *h)
{
	struct control_error	 e;

	L.c.errors++;
	if (control_dec_error(h->payload, h->len, &e) == -1)
		complain(nd, "malformed ERROR");
	else
		complain(nd, "ERROR %u (%s) to request %u", e.code, e.text,
		    h->id);
	if (h->id == nd->req_id && nd->req != NR_NONE)
		nd->req = NR_NONE;	/* the change's deadline counts it */
}

static void
msg_party(struct node *nd, const struct control_hdr *h)
{
	struct control_party	 cp;
	struct party		*p = node_party(nd);

	if (h->id != nd->req_id || control_dec_party(h->payload, h->len,
	    &cp) == -1) {
		complain(nd, "unexpected PARTY");
		L.c.errors++;
		return;
	}
	node_set_member(nd, true);
	if (nd->req == NR_CREATE) {
		memcpy(p->id, cp.id, CONTROL_IDLEN);
		p->have_id = true;
		node_invite(nd);
		return;
	}
	nd->req = NR_NONE;
	op_replied(nd);
}

static void
msg_invite(struct node *nd, const struct control_hdr *h)
{
	struct control_invite	 inv;
	struct party		*p = node_party(nd);
	uint32_t		 k;

	if (nd->req != NR_INVITE || h->id != nd->req_id ||
	    control_dec_invite(h->payload, h->len, &inv) == -1) {
		complain(nd, "unexpected INVITE");
		L.c.errors++;
		return;
	}
	nd->req = NR_NONE;
	memcpy(p->code, inv.code, CONTROL_CODELEN);
	p->have_code = true;
	for (k = 1; k < p->size; k++)
		node_setup(&L.nodes[p->first + k]);
}

static void
msg_ok(struct node *nd, const struct control_hdr *h)
{
	if (nd->req != NR_LEAVE || h->id != nd->req_id) {
		complain(nd, "unexpected OK");
		L.c.errors++;
		return;
	}
	nd->req = NR_NONE;
	node_set_member(nd, false);
	op_replied(nd);
}

static void
msg_hb_ack(struct node *nd, const struct control_hdr *h)
{
	if (h->id != nd->hb_id || nd->hb_sent == 0) {
		L.c.stray++;
		return;
	}
	if (L.phase == PH_CHURN)
		samples_add(&L.hb, nd->hb_sent);
	nd->hb_sent = 0;
}

static void
msg_state(struct node *nd, const struct control_hdr *h)
{
	if (control_dec_state(h->payload, h->len, &L.st) == -1) {
		complain(nd, "malformed STATE");
		L.c.errors++;
		return;
	}
	nd->seq = L.st.seq;
	nd->have_seq = true;
}

static void
msg_delta(struct node *nd, const struct control_hdr *h)
{
	struct control_delta	 dl;

	if (control_dec_delta(h->payload, h->len, &dl) == -1) {
		complain(nd, "malformed DELTA");
		L.c.errors++;
		return;
	}
	if (!nd->member || !nd->have_seq ||
	    memcmp(dl.id, node_party(nd)->id, CONTROL_IDLEN) != 0) {
		unexpected();
		return;
	}
	if (dl.seq != nd->seq + 1) {
		complain(nd, "delta %llu after %llu",
		    (unsigned long long)dl.seq, (unsigned long long)nd->seq);
		L.c.gaps++;
	}
	nd->seq = dl.seq;
	if (dl.kind == CONTROL_DELTA_JOINED || dl.kind == CONTROL_DELTA_LEFT)
		op_seen(nd, dl.kind, dl.member.key);
}

static void
node_dispatch(struct node *nd, const struct control_hdr *h)
{
	switch (h->type) {
	case CONTROL_MSG_ERROR:
		msg_error(nd, h);
		break;
	case CONTROL_MSG_PARTY:
		msg_party(nd, h);
		break;
	case CONTROL_MSG_INVITE:
		msg_invite(nd, h);
		break;
	case CONTROL_MSG_OK:
		msg_ok(nd, h);
		break;
	case CONTROL_MSG_HEARTBEAT_ACK:
		msg_hb_ack(nd, h);
		break;
	case CONTROL_MSG_STATE:
		msg_state(nd, h);
		break;
	case CONTROL_MSG_DELTA:
		msg_delta(nd, h);
		break;
	default:
		complain(nd, "unexpected %s", control_msg_name(h->type));
		L.c.errors++;
		break;
	}
}

/* One frame body; -1 when the session is gone afterwards. */
static int
node_frame(struct node *nd, const uint8_t *body, size_t len)
{
	struct control_hdr	 h;
	struct buf		 pt;

	if (!csess_established(&nd->cs))
		return node_msg2(nd, body, len);
	buf_init_fixed(&pt, L.pt, sizeof(L.pt));
	if (csess_open(&nd->cs, body, len, &pt) == -1 ||
	    control_dec_hdr(pt.data, pt.len, &h) == -1) {
		node_drop(nd, "bad transport frame");
		return -1;
	}
	node_dispatch(nd, &h);
	return 0;
}

static void
node_read(struct bufferevent *bev, void *arg)
{
	struct node	*nd = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 chunk[16384];
	const uint8_t	*p, *body;
	size_t		 left, blen;
	int		 n, r;

	while ((n = evbuffer_remove(in, chunk, sizeof(chunk))) > 0) {
		p = chunk;
		left = (size_t)n;
		while (left > 0) {
			r = csess_reader_next(&nd->rd, &p, &left, &body, &blen);
			if (r == -1) {
				node_drop(nd, "bad frame length");
				return;
			}
			if (r == 0)
				break;
			if (node_frame(nd, body, blen) == -1)
				return;
		}
	}
}

static void
node_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		node_drop(arg, (what & BEV_EVENT_EOF) ? "closed by server" :
		    strerror(EVUTIL_SOCKET_ERROR()));
}

static void
node_key(struct node *nd)
{
	randombytes_buf(nd->priv, sizeof(nd->priv));
	crypto_scalarmult_base(nd->pub, nd->priv);
	nd->keyed = true;
}

/* A socket from 127.0.0.K when several sources spread the ports. */
static int
node_socket(struct node *nd)
{
	struct sockaddr_in	 src;
	int			 fd, one = 1;

	fd = socket(L.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (L.o.nsrc <= 1 || L.ss.ss_family != AF_INET)
		return fd;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001 + nd->idx % L.o.nsrc);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
node_connect(struct node *nd)
{
	int	 fd;

	if (!nd->keyed)
		node_key(nd);
	nd->conn = NC_CONNECTING;
	nd->t_connect = now_us();
	L.inflight++;
	if ((fd = node_socket(nd)) == -1) {
		node_drop(nd, strerror(errno));
		return;
	}
	nd->bev = bufferevent_socket_new(L.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (nd->bev == NULL) {
		close(fd);
		node_drop(nd, "bufferevent");
		return;
	}
	bufferevent_setcb(nd->bev, node_read, NULL, node_event, nd);
	if (csess_reader_init(&nd->rd, CSESS_BODY_MAX) == -1 ||
	    bufferevent_enable(nd->bev, EV_READ) == -1 ||
	    bufferevent_socket_connect(nd->bev, (struct sockaddr *)&L.ss,
	    L.sslen) == -1) {
		node_drop(nd, "connect");
		return;
	}
	node_hello(nd);		/* queued until the connection is up */
	node_arm(nd, LOAD_HS_TIMEOUT_MS * 1000);
}

/* What a welcomed node does next while the parties form. */
static void
node_setup(struct node *nd)
{
	struct party	*p = node_party(nd);

	if (nd->conn != NC_READY || nd->req != NR_NONE)
		return;
	if (nd->idx == p->first) {
		if (!p->have_id)
			node_create(nd);
		else if (!p->have_code)
			node_invite(nd);
		return;
	}
	if (!nd->member && p->have_code && L.phase == PH_SETUP)
		node_join(nd, false);
}

/* ---- phases ---- */

static void
pump(void)
{
	while (L.inflight < L.o.window && L.next < L.o.nodes)
		node_connect(&L.nodes[L.next++]);
}

static void
sweep(uint64_t now)
{
	uint32_t	 i;

	for (i = 0; i < L.o.nodes; i++)
		if (L.nodes[i].op.kind != 0 && now >= L.nodes[i].op.deadline)
			op_finish(&L.nodes[i]);
}

/* One random member of a random idle party leaves (and then rejoins). */
static void
churn_one(void)
{
	struct party	*p;
	struct node	*nd;
	int		 tries;

	for (tries = 0; tries < 32; tries++) {
		p = &L.parties[randombytes_uniform(L.nparties)];
		if (p->busy || p->size < 2 || !p->have_code)
			continue;
		nd = &L.nodes[p->first + randombytes_uniform(p->size)];
		if (!node_online(nd) || nd->req != NR_NONE ||
		    nd->op.kind != 0)
			continue;
		p->busy = true;
		L.nbusy++;
		L.c.launched++;
		node_leave(nd);
		return;
	}
	L.c.skipped++;
}

static void
phase_setup(uint64_t now)
{
	if (now - L.t_progress >= LOAD_PROGRESS_US) {
		L.t_progress = now;
		fprintf(stderr, "controld-load: setup %.0f s: %u sessions, "
		    "%u members, %u handshakes and %u changes in flight\n",
		    (now - L.t_start) / 1e6, L.ready, L.members, L.inflight,
		    L.nops);
	}
	if (now - L.t_start >= (uint64_t)L.o.setup_secs * 1000000) {
		fprintf(stderr, "controld-load: setup not done after %u s\n",
		    L.o.setup_secs);
		L.phase = PH_DONE;
		return;
	}
	if (L.ready < L.o.nodes || L.members < L.o.nodes || L.nops > 0)
		return;
	L.t_setup = now;
	L.cpu_setup1 = ctld_cpu();
	L.t_hold_end = now + (uint64_t)L.o.hold_secs * 1000000;
	L.phase = PH_HOLD;
	fprintf(stderr, "controld-load: setup done in %.1f s; churn\n",
	    (now - L.t_start) / 1e6);
}

static void
phase_churn(uint64_t now)
{
	uint64_t	 want;

	want = (now - L.t_churn0) * L.o.rate / 1000000;
	while (L.c.launched + L.c.skipped < want &&
	    L.c.launched < L.o.churn_max)
		churn_one();
	if (now < L.t_churn_end && L.c.launched < L.o.churn_max)
		return;
	L.t_churn1 = now;
	L.cpu_churn1 = ctld_cpu();
	L.gen_cpu1 = self_cpu();
	L.t_drain_end = now + (uint64_t)L.o.op_ms * 2000 + LOAD_REJOIN_MAX_US;
	L.phase = PH_DRAIN;
}

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	uint64_t	 now = now_us();

	pump();
	if (++L.ticks % LOAD_SWEEP_TICKS == 0)
		sweep(now);
	switch (L.phase) {
	case PH_SETUP:
		phase_setup(now);
		break;
	case PH_HOLD:
		if (now < L.t_hold_end)
			break;
		L.t_churn0 = now;
		L.t_churn_end = now + (uint64_t)L.o.churn_secs * 1000000;
		L.cpu_churn0 = ctld_cpu();
		L.gen_cpu0 = self_cpu();
		L.phase = PH_CHURN;
		break;
	case PH_CHURN:
		phase_churn(now);
		break;
	case PH_DRAIN:
		if ((L.nops == 0 && L.nbusy == 0) || now >= L.t_drain_end)
			L.phase = PH_DONE;
		break;
	case PH_DONE:
		break;
	}
	if (L.phase == PH_DONE)
		event_base_loopexit(L.base, NULL);
}

/* ---- results ---- */

static void
report_cpu(void)
{
	double	 hz = (double)sysconf(_SC_CLK_TCK), secs;

	secs = (L.t_churn1 - L.t_churn0) / 1e6;
	if (L.have_cpu && L.t_setup != 0)
		printf("ctld_setup_cpu_s %.2f\n",
		    (L.cpu_setup1 - L.cpu_setup0) / hz);
	if (L.have_cpu && secs > 0)
		printf("ctld_cpu_pct %.1f\n",
		    100.0 * (L.cpu_churn1 - L.cpu_churn0) / hz / secs);
	if (secs > 0)
		printf("gen_cpu_pct %.1f\n",
		    100.0 * (L.gen_cpu1 - L.gen_cpu0) / secs);
	if (L.o.pid > 0) {
		printf("ctld_hwm_kb %ld\n", proc_vm(L.o.pid, "VmHWM"));
		printf("ctld_rss_kb %ld\n", proc_vm(L.o.pid, "VmRSS"));
	}
}

/* Print everything; the exit status. */
static int
report(void)
{
	const char	*why = NULL;

	printf("nodes %u\nparties %u\nparty_size %u\n", L.o.nodes,
	    L.nparties, L.o.psize);
	printf("heartbeat_s %u\n", L.hb_secs);
	printf("held %u\n", L.ready);
	printf("setup_s %.2f\n", L.t_setup == 0 ? -1 :
	    (L.t_setup - L.t_start) / 1e6);
	printf("churn_s %.2f\n", (L.t_churn1 - L.t_churn0) / 1e6);
	report_cpu();
	samples_print("hs", &L.hs);
	samples_print("setup_join_all", &L.setup_join);
	samples_print("join_all", &L.join_all);
	samples_print("join_rx", &L.join_rx);
	samples_print("join_reply", &L.join_reply);
	samples_print("leave_all", &L.leave_all);
	samples_print("leave_rx", &L.leave_rx);
	samples_print("hb", &L.hb);
	printf("churn_launched %llu\nchurn_done %llu\nchurn_skipped %llu\n",
	    (unsigned long long)L.c.launched,
	    (unsigned long long)L.c.churn_done,
	    (unsigned long long)L.c.skipped);
	printf("heartbeats %llu\nhb_late %llu\n",
	    (unsigned long long)L.c.heartbeats,
	    (unsigned long long)L.c.hb_late);
	printf("reconnects %llu\ndrops %llu\nhs_timeouts %llu\n",
	    (unsigned long long)L.c.reconnects,
	    (unsigned long long)L.c.drops,
	    (unsigned long long)L.c.hs_timeouts);
	printf("errors %llu\nfailed %llu\nmissing %llu\ngaps %llu\n",
	    (unsigned long long)L.c.errors, (unsigned long long)L.c.failed,
	    (unsigned long long)L.c.missing, (unsigned long long)L.c.gaps);
	printf("stray %llu\nsetup_extra %llu\n",
	    (unsigned long long)L.c.stray, (unsigned long long)L.c.extra);
	if (L.t_setup == 0)
		why = "setup did not finish";
	else if (L.ready < L.o.nodes || L.c.drops > 0)
		why = "sessions lost";
	else if (L.c.missing > 0)
		why = "deltas missing";
	else if (L.c.errors > 0 || L.c.failed > 0)
		why = "requests failed";
	else if (L.c.gaps > 0)
		why = "delta sequence gaps";
	else if (L.c.churn_done == 0 && L.o.churn_max > 0)
		why = "no churn completed";
	printf("result %s\n", why == NULL ? "ok" : why);
	return why == NULL ? 0 : 1;
}

/* ---- setup ---- */

static void
raise_nofile(uint32_t n)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)n + LOAD_SPARE_FDS;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("RLIMIT_NOFILE %llu: %s (ulimit -n)",
		    (unsigned long long)want, strerror(errno));
}

static uint32_t
num(const char *s, uint32_t lo, uint32_t hi, char opt)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		die("-%c %s: not a number in %u..%u", opt, s, lo, hi);
	return (uint32_t)v;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: controld-load -s addr:port -k serverkey "
	    "[-n nodes] [-p partysize]\n"
	    "\t[-w window] [-r rate] [-c changes] [-d churnsecs] "
	    "[-H holdsecs]\n"
	    "\t[-t op_ms] [-T setupsecs] [-S sources] [-P controld-pid]\n");
	exit(2);
}

static void
opts_parse(int argc, char *argv[], const char **server, const char **key)
{
	int	 ch;

	L.o = (struct opts){ .nodes = 1000, .psize = 8, .window = 128,
	    .rate = 100, .churn_max = 3000, .churn_secs = 30, .hold_secs = 1,
	    .op_ms = 5000, .setup_secs = 600, .nsrc = 1 };
	while ((ch = getopt(argc, argv, "c:d:H:k:n:P:p:r:S:s:T:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			L.o.churn_max = num(optarg, 0, 1U << 30, ch);
			break;
		case 'd':
			L.o.churn_secs = num(optarg, 1, 86400, ch);
			break;
		case 'H':
			L.o.hold_secs = num(optarg, 0, 86400, ch);
			break;
		case 'k':
			*key = optarg;
			break;
		case 'n':
			L.o.nodes = num(optarg, 1, LOAD_MAX_NODES, ch);
			break;
		case 'P':
			L.o.pid = (pid_t)num(optarg, 1, INT_MAX, ch);
			break;
		case 'p':
			L.o.psize = num(optarg, 1, LOAD_MAX_PSIZE, ch);
			break;
		case 'r':
			L.o.rate = num(optarg, 1, 100000, ch);
			break;
		case 'S':
			L.o.nsrc = num(optarg, 1, 250, ch);
			break;
		case 's':
			*server = optarg;
			break;
		case 'T':
			L.o.setup_secs = num(optarg, 1, 86400, ch);
			break;
		case 't':
			L.o.op_ms = num(optarg, 1, 600000, ch);
			break;
		case 'w':
			L.o.window = num(optarg, 1, 100000, ch);
			break;
		default:
			usage();
		}
	}
	if (*server == NULL || *key == NULL || optind != argc)
		usage();
}

static void
load_init(const char *server, const char *key)
{
	size_t		 n;
	uint32_t	 i;

	if (sockaddr_parse(server, &L.ss, &L.sslen) == -1)
		die("%s: not address:port", server);
	if (sodium_base642bin(L.spub, sizeof(L.spub), key, strlen(key), NULL,
	    &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(L.spub))
		die("%s: not a base64url public key", key);
	L.nparties = (L.o.nodes + L.o.psize - 1) / L.o.psize;
	L.nodes = calloc(L.o.nodes, sizeof(*L.nodes));
	L.parties = calloc(L.nparties, sizeof(*L.parties));
	if (L.nodes == NULL || L.parties == NULL)
		die("out of memory");
	for (i = 0; i < L.nparties; i++) {
		L.parties[i].first = i * L.o.psize;
		L.parties[i].size = L.o.nodes - i * L.o.psize < L.o.psize ?
		    L.o.nodes - i * L.o.psize : L.o.psize;
	}
	for (i = 0; i < L.o.nodes; i++) {
		L.nodes[i].idx = i;
		L.nodes[i].nextid = 1;
		L.nodes[i].timer = evtimer_new(L.base, node_timer,
		    &L.nodes[i]);
		L.nodes[i].rejoin = evtimer_new(L.base, node_rejoin,
		    &L.nodes[i]);
		if (L.nodes[i].timer == NULL || L.nodes[i].rejoin == NULL)
			die("evtimer_new");
	}
}

int
main(int argc, char *argv[])
{
	struct timeval	 tv = { 0, LOAD_TICK_MS * 1000 };
	const char	*server = NULL, *key = NULL;
	uint32_t	 i;
	int		 rc;

	opts_parse(argc, argv, &server, &key);
	if (sodium_init() < 0)
		die("sodium_init");
	raise_nofile(L.o.nodes);
	signal(SIGPIPE, SIG_IGN);
	if ((L.base = event_base_new()) == NULL)
		die("event_base_new");
	load_init(server, key);
	L.tick = event_new(L.base, -1, EV_PERSIST, tick, NULL);
	if (L.tick == NULL || event_add(L.tick, &tv) == -1)
		die("tick");
	L.t_start = L.t_progress = now_us();
	L.cpu_setup0 = ctld_cpu();
	pump();
	event_base_dispatch(L.base);
	rc = report();
	for (i = 0; i < L.o.nodes; i++) {
		if (L.nodes[i].bev != NULL)
			bufferevent_free(L.nodes[i].bev);
		csess_reader_free(&L.nodes[i].rd);
		event_free(L.nodes[i].timer);
		event_free(L.nodes[i].rejoin);
	}
	event_free(L.tick);
	event_base_free(L.base);
	return rc;
}
