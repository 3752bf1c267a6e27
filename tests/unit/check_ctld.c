/*
 * The control server's request handling with a real event loop (in its
 * own thread), a real registry in a temporary directory and real TCP
 * clients on loopback doing the session handshake with HELLO.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-controld/ctld.h"
#include "lib/csess.h"
#include "proto/control.h"
#include "proto/relay.h"

static struct event_base	*base;
static struct ctld		*ctld;
static pthread_t		 loop;
static int			 lfd;
static uint16_t			 port;
static uint8_t			 spriv[32], spub[32];
static int			 stopfd[2];
static struct event		*stop_ev;
static char			 tmpdir[64], dbfile[128];
static _Atomic int64_t		 fake_now;
static uint8_t			 relay_allowed[1][32];	/* RelayKeys */

static int64_t
test_clock(void)
{
	return atomic_load(&fake_now);
}

static void
stop_loop(evutil_socket_t fd, short ev, void *arg)
{
	char	 c;

	(void)read(fd, &c, 1);
	event_base_loopbreak(base);
}

static void *
run_loop(void *arg)
{
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
server_start(void)
{
	struct ctld_limits	 lim;

	memset(&lim, 0, sizeof(lim));
	lim.csrv = (struct csrv_limits){ 64, 4096, 2000, 20000, 1 << 20 };
	lim.heartbeat = 10;
	lim.member_timeout = 30;
	lim.party_grace = 60;
	lim.tick_ms = 50;
	lim.rate = 20;
	lim.burst = 40;
	lim.invite_ttl_max = 86400;
	lim.clock = test_clock;
	lim.relay_keys = relay_allowed;
	lim.nrelay_keys = 1;
	lim.relay_report = 1;
	lim.relay_token_ttl = 600;
	ctld = ctld_new(base, lfd, spriv, dbfile, &lim);
	ck_assert_ptr_nonnull(ctld);
	pthread_create(&loop, NULL, run_loop, NULL);
}

static void
server_stop(void)
{
	ck_assert_int_eq(write(stopfd[1], "x", 1), 1);
	pthread_join(loop, NULL);
	ctld_free(ctld);
	ctld = NULL;
}

static void
setup(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	ck_assert_int_ge(sodium_init(), 0);
	strcpy(tmpdir, "/tmp/check_ctld.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbfile, sizeof(dbfile), "%s/reg.db", tmpdir);
	atomic_store(&fake_now, 1700000000);
	randombytes_buf(spriv, sizeof(spriv));
	crypto_scalarmult_base(spub, spriv);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 64), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	base = event_base_new();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, stopfd), 0);
	stop_ev = event_new(base, stopfd[0], EV_READ | EV_PERSIST, stop_loop,
	    NULL);
	event_add(stop_ev, NULL);
	server_start();
}

static void
teardown(void)
{
	DIR		*dir;
	struct dirent	*e;
	char		 p[512];

	server_stop();
	event_free(stop_ev);
	close(stopfd[0]);
	close(stopfd[1]);
	close(lfd);
	event_base_free(base);
	if ((dir = opendir(tmpdir)) != NULL) {
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(dir);
	}
	rmdir(tmpdir);
}

/* ---- a client ---- */

#define QMAX	128

struct msg {
	uint16_t	 type;
	uint32_t	 id;
	size_t		 len;
	uint8_t		*p;		/* the payload */
};

struct client {
	int		 fd;
	struct csess	 cs;
	uint8_t		 priv[32], pub[32];
	uint32_t	 nextid;
	struct msg	 q[QMAX];
	size_t		 nq;
	struct control_welcome welcome;
};

static ssize_t
read_frame(int fd, uint8_t *out, size_t cap, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 hdr[2];
	size_t		 got = 0, want;
	ssize_t		 n;

	while (got < 2) {
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, hdr + got, 2 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	want = (size_t)hdr[0] << 8 | hdr[1];
	if (want > cap)
		return -1;
	for (got = 0; got < want; got += (size_t)n)
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, out + got, want - got)) <= 0)
			return -1;
	return (ssize_t)want;
}

static int
closed_by_server(int fd, int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 b[4096];
	ssize_t		 n;

	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return 0;
		if ((n = read(fd, b, sizeof(b))) <= 0)
			return 1;
	}
}

static int
dial(void)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
client_key(struct client *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	randombytes_buf(cl->priv, sizeof(cl->priv));
	crypto_scalarmult_base(cl->pub, cl->priv);
}

static void
client_reset(struct client *cl)
{
	size_t	 i;

	for (i = 0; i < cl->nq; i++)
		free(cl->q[i].p);
	cl->nq = 0;
	if (cl->fd != -1)
		close(cl->fd);
	cl->fd = -1;
}

/* Handshake with the first message b; the reply (payload copied). */
static void
client_handshake(struct client *cl, const struct buf *b, struct msg *reply)
{
	struct control_hdr	 h;
	uint8_t			 body[8192];
	struct buf		 out, pl;
	ssize_t			 n;

	cl->fd = dial();
	ck_assert_int_eq(csess_init_initiator(&cl->cs, cl->priv, spub), 0);
	ck_assert_int_eq(buf_init(&out, 1024, 4096), 0);
	ck_assert_int_eq(csess_write_msg1(&cl->cs, &out, NULL, b->data,
	    b->len), 0);
	ck_assert_int_eq(write(cl->fd, out.data, out.len), (ssize_t)out.len);
	buf_free(&out);
	n = read_frame(cl->fd, body, sizeof(body), 2000);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(buf_init(&pl, 256, 8192), 0);
	ck_assert_int_eq(csess_read_msg2(&cl->cs, body, (size_t)n, &pl), 0);
	ck_assert_int_eq(control_dec_hdr(pl.data, pl.len, &h), 0);
	reply->type = h.type;
	reply->id = h.id;
	reply->len = h.len;
	reply->p = malloc(h.len + 1);
	if (h.len > 0)
		memcpy(reply->p, h.payload, h.len);
	buf_free(&pl);
	cl->nextid = 2;
}

/* Handshake with a HELLO of version. */
static void
client_hello_v(struct client *cl, const char *name, uint16_t version,
    struct msg *reply)
{
	struct control_hello	 hello;
	uint8_t			 hb[512];
	struct buf		 b;

	client_reset(cl);
	memset(&hello, 0, sizeof(hello));
	hello.version = CONTROL_VERSION;
	hello.listen_port = 51820;
	snprintf(hello.name, sizeof(hello.name), "%s", name);
	buf_init_fixed(&b, hb, sizeof(hb));
	ck_assert_int_eq(control_enc_hdr(&b, CONTROL_MSG_HELLO, 1), 0);
	ck_assert_int_eq(control_enc_hello(&b, &hello), 0);
	hb[6] = version >> 8;
	hb[7] = version & 0xff;
	client_handshake(cl, &b, reply);
}

/* A relay's handshake: RELAY_HELLO from region, UDP port 51820. */
static void
client_relay_hello(struct client *cl, const char *region, struct msg *reply)
{
	struct control_relay_hello	 rh;
	uint8_t				 hb[512];
	struct buf			 b;

	client_reset(cl);
	memset(&rh, 0, sizeof(rh));
	rh.version = CONTROL_VERSION;
	rh.port = 51820;
	rh.capacity = 100000;
	snprintf(rh.region, sizeof(rh.region), "%s", region);
	buf_init_fixed(&b, hb, sizeof(hb));
	ck_assert_int_eq(control_enc_hdr(&b, CONTROL_MSG_RELAY_HELLO, 1), 0);
	ck_assert_int_eq(control_enc_relay_hello(&b, &rh), 0);
	client_handshake(cl, &b, reply);
}

static void
client_hello(struct client *cl, const char *name)
{
	struct msg	 m;

	client_hello_v(cl, name, CONTROL_VERSION, &m);
	ck_assert_int_eq(m.type, CONTROL_MSG_WELCOME);
	ck_assert_int_eq(control_dec_welcome(m.p, m.len, &cl->welcome), 0);
	free(m.p);
}

/* Read one more message into the queue; -1 on timeout or EOF. */
static int
client_pull(struct client *cl, int ms)
{
	static uint8_t		 body[65536];
	struct control_hdr	 h;
	struct buf		 pt;
	struct msg		*m;
	ssize_t			 n;

	if ((n = read_frame(cl->fd, body, sizeof(body), ms)) < 0)
		return -1;
	ck_assert_int_eq(buf_init(&pt, (size_t)n, 65536), 0);
	ck_assert_int_eq(csess_open(&cl->cs, body, (size_t)n, &pt), 0);
	ck_assert_int_eq(control_dec_hdr(pt.data, pt.len, &h), 0);
	ck_assert_uint_lt(cl->nq, QMAX);
	m = &cl->q[cl->nq++];
	m->type = h.type;
	m->id = h.id;
	m->len = h.len;
	m->p = malloc(h.len + 1);
	if (h.len > 0)
		memcpy(m->p, h.payload, h.len);
	buf_free(&pt);
	return 0;
}

/* The first queued message of type (and id, unless 0); caller frees p. */
static int
client_take(struct client *cl, uint16_t type, uint32_t id, struct msg *out,
    int ms)
{
	size_t	 i;

	for (;;) {
		for (i = 0; i < cl->nq; i++) {
			if (cl->q[i].type != type ||
			    (id != 0 && cl->q[i].id != id))
				continue;
			*out = cl->q[i];
			memmove(&cl->q[i], &cl->q[i + 1],
			    (cl->nq - i - 1) * sizeof(cl->q[0]));
			cl->nq--;
			return 0;
		}
		if (client_pull(cl, ms) == -1)
			return -1;
	}
}

static void
client_expect(struct client *cl, uint16_t type, uint32_t id, struct msg *out)
{
	ck_assert_msg(client_take(cl, type, id, out, 2000) == 0,
	    "no %s (id %u)", control_msg_name(type), id);
}

static uint32_t
client_send(struct client *cl, uint16_t type, const void *p, size_t len)
{
	uint8_t		 mem[70000];
	struct buf	 b, out;
	uint32_t	 id = cl->nextid++;

	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(control_enc_hdr(&b, type, id), 0);
	if (len > 0)
		ck_assert_int_eq(buf_put(&b, p, len), 0);
	ck_assert_int_eq(buf_init(&out, 1024, 70000), 0);
	ck_assert_int_eq(csess_seal(&cl->cs, &out, b.data, b.len), 0);
	ck_assert_int_eq(write(cl->fd, out.data, out.len), (ssize_t)out.len);
	buf_free(&out);
	return id;
}

static void
expect_error(struct client *cl, uint32_t id, unsigned code)
{
	struct control_error	 e;
	struct msg		 m;

	client_expect(cl, CONTROL_MSG_ERROR, id, &m);
	ck_assert_int_eq(control_dec_error(m.p, m.len, &e), 0);
	ck_assert_msg(e.code == code, "error %u (%s), want %u", e.code,
	    e.text, code);
	free(m.p);
}

static void
expect_ok(struct client *cl, uint32_t id)
{
	struct msg	 m;

	client_expect(cl, CONTROL_MSG_OK, id, &m);
	free(m.p);
}

/* Nothing of type arrives within ms. */
static void
expect_none(struct client *cl, uint16_t type, int ms)
{
	struct msg	 m;

	ck_assert_int_eq(client_take(cl, type, 0, &m, ms), -1);
}

static void
party_create(struct client *cl, const char *name, struct control_party *p)
{
	struct control_party_create	 pc;
	uint8_t				 mem[64];
	struct buf			 b;
	struct msg			 m;
	uint32_t			 id;

	snprintf(pc.name, sizeof(pc.name), "%s", name);
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(control_enc_party_create(&b, &pc), 0);
	id = client_send(cl, CONTROL_MSG_PARTY_CREATE, b.data, b.len);
	client_expect(cl, CONTROL_MSG_PARTY, id, &m);
	ck_assert_int_eq(control_dec_party(m.p, m.len, p), 0);
	free(m.p);
}

static uint32_t
invite_send(struct client *cl, const uint8_t *party, uint32_t expiry,
    uint16_t max_uses, uint8_t flags)
{
	struct control_invite_create	 ic;
	uint8_t				 mem[64];
	struct buf			 b;

	memcpy(ic.id, party, CONTROL_IDLEN);
	ic.expiry = expiry;
	ic.max_uses = max_uses;
	ic.flags = flags;
	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(control_enc_invite_create(&b, &ic), 0);
	return client_send(cl, CONTROL_MSG_INVITE_CREATE, b.data, b.len);
}

static void
invite_create(struct client *cl, const uint8_t *party, uint32_t expiry,
    uint16_t max_uses, uint8_t flags, uint8_t code[CONTROL_CODELEN])
{
	struct control_invite	 inv;
	struct msg		 m;
	uint32_t		 id;

	id = invite_send(cl, party, expiry, max_uses, flags);
	client_expect(cl, CONTROL_MSG_INVITE, id, &m);
	ck_assert_int_eq(control_dec_invite(m.p, m.len, &inv), 0);
	ck_assert_mem_eq(inv.id, party, CONTROL_IDLEN);
	memcpy(code, inv.code, CONTROL_CODELEN);
	free(m.p);
}

static uint32_t
join_send(struct client *cl, const uint8_t *code)
{
	return client_send(cl, CONTROL_MSG_JOIN, code, CONTROL_CODELEN);
}

static void
join(struct client *cl, const uint8_t *code, struct control_party *p)
{
	struct msg	 m;
	uint32_t	 id;

	id = join_send(cl, code);
	client_expect(cl, CONTROL_MSG_PARTY, id, &m);
	ck_assert_int_eq(control_dec_party(m.p, m.len, p), 0);
	free(m.p);
}

static uint32_t
ref_send(struct client *cl, uint16_t type, const uint8_t *party)
{
	return client_send(cl, type, party, CONTROL_IDLEN);
}

static uint32_t
kick_send(struct client *cl, const uint8_t *party, const uint8_t *key)
{
	uint8_t	 p[48];

	memcpy(p, party, 16);
	memcpy(p + 16, key, 32);
	return client_send(cl, CONTROL_MSG_KICK, p, sizeof(p));
}

static struct control_state *
expect_state(struct client *cl, const uint8_t *party)
{
	struct control_state	*st = calloc(1, sizeof(*st));
	struct msg		 m;

	client_expect(cl, CONTROL_MSG_STATE, 0, &m);
	ck_assert_int_eq(control_dec_state(m.p, m.len, st), 0);
	ck_assert_mem_eq(st->id, party, CONTROL_IDLEN);
	free(m.p);
	return st;
}

static void
expect_delta(struct client *cl, const uint8_t *party, uint64_t seq,
    uint8_t kind, const uint8_t *key, struct control_delta *out)
{
	struct control_delta	 d;
	struct msg		 m;

	client_expect(cl, CONTROL_MSG_DELTA, 0, &m);
	ck_assert_int_eq(control_dec_delta(m.p, m.len, &d), 0);
	free(m.p);
	ck_assert_mem_eq(d.id, party, CONTROL_IDLEN);
	ck_assert_uint_eq(d.seq, seq);
	ck_assert_uint_eq(d.kind, kind);
	if (key != NULL)
		ck_assert_mem_eq(d.member.key, key, CONTROL_KEYLEN);
	if (out != NULL)
		*out = d;
}

static const struct control_member *
state_member(const struct control_state *st, const uint8_t *key)
{
	uint16_t	 i;

	for (i = 0; i < st->nmembers; i++)
		if (memcmp(st->members[i].key, key, CONTROL_KEYLEN) == 0)
			return &st->members[i];
	return NULL;
}

static void
ck_addr(const struct addr *a, const char *want)
{
	char	 s[LR_ADDR_STRLEN];

	ck_assert_str_eq(addr_fmt(a, s, sizeof(s)), want);
}

/* A hosts a party that B (and C, if not NULL) joined with one code. */
static void
party_of_three(struct client *a, struct client *b, struct client *c,
    struct control_party *pa, uint8_t code[CONTROL_CODELEN])
{
	struct control_party	 p;
	struct control_state	*st;

	client_hello(a, "alice");
	client_hello(b, "bob");
	party_create(a, "friday", pa);
	ck_addr(&pa->addr, "10.66.0.1");
	st = expect_state(a, pa->id);
	ck_assert_uint_eq(st->seq, 0);
	ck_assert_uint_eq(st->nmembers, 1);
	ck_assert_mem_eq(st->host_key, a->pub, 32);
	free(st);
	invite_create(a, pa->id, 0, 0, 0, code);
	join(b, code, &p);
	ck_addr(&p.addr, "10.66.0.2");
	st = expect_state(b, pa->id);
	ck_assert_uint_eq(st->nmembers, 2);
	free(st);
	expect_delta(a, pa->id, 1, CONTROL_DELTA_JOINED, b->pub, NULL);
	if (c == NULL)
		return;
	client_hello(c, "carol");
	join(c, code, &p);
	ck_addr(&p.addr, "10.66.0.3");
	free(expect_state(c, pa->id));
	expect_delta(a, pa->id, 2, CONTROL_DELTA_JOINED, c->pub, NULL);
	expect_delta(b, pa->id, 2, CONTROL_DELTA_JOINED, c->pub, NULL);
}

/* ---- tests ---- */

/* RELAYS as node cl asks for party: the decoded list. */
static void
relays_get(struct client *cl, const uint8_t *party,
    struct control_relay_list *l)
{
	struct msg	 m;
	uint32_t	 id = ref_send(cl, CONTROL_MSG_RELAYS, party);

	client_expect(cl, CONTROL_MSG_RELAY_LIST, id, &m);
	ck_assert_int_eq(control_dec_relay_list(m.p, m.len, l), 0);
	free(m.p);
}

static void
relay_report(struct client *r, uint8_t load)
{
	struct control_relay_report	 rep = { load, 7 };
	uint8_t				 mem[16];
	struct buf			 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(control_enc_relay_report(&b, &rep), 0);
	expect_ok(r, client_send(r, CONTROL_MSG_RELAY_REPORT, b.data, b.len));
}

START_TEST(test_relays)
{
	static struct control_relay_list l;
	struct client			 a, b, r, stranger;
	struct control_relay_welcome	 w;
	struct control_party		 pa;
	struct control_error		 e;
	struct relay_token		 t;
	struct msg			 m;

	client_key(&a);
	client_key(&b);
	client_key(&r);
	client_key(&stranger);
	server_stop();
	memcpy(relay_allowed[0], r.pub, 32);
	server_start();

	/* only RelayKeys may register */
	client_relay_hello(&stranger, "eu-west", &m);
	ck_assert_int_eq(m.type, CONTROL_MSG_ERROR);
	ck_assert_int_eq(control_dec_error(m.p, m.len, &e), 0);
	ck_assert_uint_eq(e.code, CONTROL_E_DENIED);
	free(m.p);
	ck_assert_int_eq(closed_by_server(stranger.fd, 2000), 1);
	client_reset(&stranger);

	client_relay_hello(&r, "eu-west", &m);
	ck_assert_int_eq(m.type, CONTROL_MSG_RELAY_WELCOME);
	ck_assert_int_eq(control_dec_relay_welcome(m.p, m.len, &w), 0);
	ck_assert_uint_eq(w.report, 1);
	free(m.p);
	relay_report(&r, 200);
	/* a relay's session carries reports, nothing a node may ask */
	expect_error(&r, ref_send(&r, CONTROL_MSG_LEAVE, w.sign_key),
	    CONTROL_E_ORDER);

	client_hello(&a, "alice");
	client_hello(&b, "bob");
	party_create(&a, "relayed", &pa);
	expect_error(&b, ref_send(&b, CONTROL_MSG_RELAYS, pa.id),
	    CONTROL_E_NO_PARTY);
	relays_get(&a, pa.id, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_mem_eq(l.r[0].key, r.pub, 32);
	ck_assert_str_eq(l.r[0].region, "eu-west");
	ck_assert_uint_eq(l.r[0].load, 200);
	ck_assert_uint_eq(l.r[0].port, 51820);
	ck_addr(&l.r[0].addr, "127.0.0.1");	/* where its session is from */
	/* the token: for this relay, party and node, signed, 600 s */
	ck_assert_int_eq(relay_token_dec(l.r[0].token, &t), 0);
	ck_assert_mem_eq(t.party, pa.id, 16);
	ck_assert_mem_eq(t.node_key, a.pub, 32);
	ck_assert_uint_eq(t.expiry, 1700000000 + 600);
	ck_assert_int_eq(relay_token_verify(&t, w.sign_key, r.pub,
	    1700000000), 0);
	ck_assert_int_eq(relay_token_verify(&t, w.sign_key, r.pub,
	    1700000600), -1);
	/* a node is no relay */
	expect_error(&a, client_send(&a, CONTROL_MSG_RELAY_REPORT,
	    "\x00\x00\x00\x00\x00", 5), CONTROL_E_ORDER);

	/* silent for three report intervals: no longer listed */
	usleep(3300 * 1000);
	relays_get(&a, pa.id, &l);
	ck_assert_uint_eq(l.n, 0);
	relay_report(&r, 10);
	relays_get(&a, pa.id, &l);
	ck_assert_uint_eq(l.n, 1);
	/* its session gone: gone at once */
	client_reset(&r);
	usleep(200 * 1000);
	relays_get(&a, pa.id, &l);
	ck_assert_uint_eq(l.n, 0);
	client_reset(&a);
	client_reset(&b);
}
END_TEST

START_TEST(test_create_join_leave_kick)
{
	struct client		 a, b, c;
	struct control_party	 pa, p;
	struct control_state	*st;
	struct control_delta	 d;
	uint8_t			 code[CONTROL_CODELEN];

	client_key(&a);
	client_key(&b);
	client_key(&c);
	party_of_three(&a, &b, &c, &pa, code);

	/* the joined record carries the joiner's name and address */
	expect_ok(&b, ref_send(&b, CONTROL_MSG_LEAVE, pa.id));
	expect_delta(&a, pa.id, 3, CONTROL_DELTA_LEFT, b.pub, &d);
	ck_assert_uint_eq(d.reason, CONTROL_LEFT_LEFT);
	expect_delta(&c, pa.id, 3, CONTROL_DELTA_LEFT, b.pub, NULL);
	expect_error(&b, ref_send(&b, CONTROL_MSG_LEAVE, pa.id),
	    CONTROL_E_NO_PARTY);

	join(&b, code, &p);		/* same address after leave */
	ck_addr(&p.addr, "10.66.0.2");
	st = expect_state(&b, pa.id);
	ck_assert_uint_eq(st->seq, 4);
	ck_assert_uint_eq(st->nmembers, 3);
	ck_assert_ptr_nonnull(state_member(st, c.pub));
	ck_addr(&state_member(st, c.pub)->addr, "10.66.0.3");
	ck_assert_uint_eq(state_member(st, a.pub)->flags,
	    CONTROL_MEMBER_ONLINE);
	free(st);
	expect_delta(&a, pa.id, 4, CONTROL_DELTA_JOINED, b.pub, &d);
	ck_assert_str_eq(d.member.name, "bob");
	ck_addr(&d.member.addr, "10.66.0.2");
	expect_delta(&c, pa.id, 4, CONTROL_DELTA_JOINED, b.pub, NULL);
	expect_error(&b, join_send(&b, code), CONTROL_E_ALREADY);

	/* kick: only by the host, never itself */
	expect_error(&b, kick_send(&b, pa.id, c.pub), CONTROL_E_NOT_HOST);
	expect_error(&a, kick_send(&a, pa.id, a.pub), CONTROL_E_SELF);
	expect_ok(&a, kick_send(&a, pa.id, c.pub));
	expect_delta(&b, pa.id, 5, CONTROL_DELTA_LEFT, c.pub, &d);
	ck_assert_uint_eq(d.reason, CONTROL_LEFT_KICKED);
	expect_delta(&c, pa.id, 5, CONTROL_DELTA_LEFT, c.pub, NULL);
	/* the host sees its own kick: its numbers stay contiguous */
	expect_delta(&a, pa.id, 5, CONTROL_DELTA_LEFT, c.pub, NULL);
	expect_none(&a, CONTROL_MSG_DELTA, 200);
	expect_error(&a, kick_send(&a, pa.id, c.pub), CONTROL_E_NO_MEMBER);
	/* kicked: no longer a member */
	expect_error(&c, ref_send(&c, CONTROL_MSG_LEAVE, pa.id),
	    CONTROL_E_NO_PARTY);
	client_reset(&a);
	client_reset(&b);
	client_reset(&c);
}
END_TEST

START_TEST(test_invite_limits)
{
	struct client		 a, b, c, d;
	struct control_party	 pa, p;
	uint8_t			 once[16], soon[16], bogus[16];

	client_key(&a);
	client_key(&b);
	client_key(&c);
	client_key(&d);
	client_hello(&a, "alice");
	client_hello(&b, "bob");
	client_hello(&c, "carol");
	client_hello(&d, "dave");
	party_create(&a, "friday", &pa);
	invite_create(&a, pa.id, 0, 1, 0, once);
	invite_create(&a, pa.id, 10, 0, 0, soon);
	expect_error(&b, invite_send(&b, pa.id, 0, 0, 0), CONTROL_E_NO_PARTY);
	join(&b, once, &p);
	expect_error(&b, invite_send(&b, pa.id, 0, 0, 0), CONTROL_E_NOT_HOST);
	expect_error(&c, join_send(&c, once), CONTROL_E_INVITE);
	atomic_fetch_add(&fake_now, 11);
	expect_error(&c, join_send(&c, soon), CONTROL_E_INVITE);
	memset(bogus, 0x5a, sizeof(bogus));
	expect_error(&d, join_send(&d, bogus), CONTROL_E_INVITE);
	client_reset(&a);
	client_reset(&b);
	client_reset(&c);
	client_reset(&d);
}
END_TEST

START_TEST(test_close)
{
	struct client		 a, b, c;
	struct control_party	 pa;
	uint8_t			 code[16];

	client_key(&a);
	client_key(&b);
	client_key(&c);
	party_of_three(&a, &b, &c, &pa, code);
	expect_error(&b, ref_send(&b, CONTROL_MSG_CLOSE, pa.id),
	    CONTROL_E_NOT_HOST);
	expect_ok(&a, ref_send(&a, CONTROL_MSG_CLOSE, pa.id));
	expect_delta(&b, pa.id, 3, CONTROL_DELTA_CLOSED, NULL, NULL);
	expect_delta(&c, pa.id, 3, CONTROL_DELTA_CLOSED, NULL, NULL);
	expect_error(&a, ref_send(&a, CONTROL_MSG_CLOSE, pa.id),
	    CONTROL_E_NO_PARTY);
	expect_error(&c, join_send(&c, code), CONTROL_E_INVITE);
	client_reset(&a);
	client_reset(&b);
	client_reset(&c);
}
END_TEST

START_TEST(test_reconnect_and_endpoints)
{
	struct client			 a, b;
	struct control_party		 pa;
	struct control_state		*st;
	struct control_endpoints	 ep;
	struct control_delta		 d;
	uint8_t				 code[16], mem[128];
	struct buf			 bb;
	int				 oldfd;

	client_key(&a);
	client_key(&b);
	party_of_three(&a, &b, NULL, &pa, code);
	memset(&ep, 0, sizeof(ep));
	ep.n = 1;
	ep.c[0].kind = CONTROL_EP_STUN;
	ck_assert_int_eq(addr_parse("203.0.113.7", &ep.c[0].addr), 0);
	ep.c[0].port = 40000;
	buf_init_fixed(&bb, mem, sizeof(mem));
	ck_assert_int_eq(control_enc_endpoints(&bb, &ep), 0);
	expect_ok(&b, client_send(&b, CONTROL_MSG_ENDPOINTS, bb.data,
	    bb.len));
	expect_delta(&a, pa.id, 2, CONTROL_DELTA_ENDPOINTS, b.pub, &d);
	ck_assert_uint_eq(d.member.ep.n, 1);
	ck_assert_uint_eq(d.member.ep.c[0].port, 40000);

	/* a new session of b replaces the old one and gets STATE again */
	oldfd = b.fd;
	b.fd = -1;
	client_hello(&b, "bob");
	ck_assert_uint_eq(b.welcome.nparties, 1);
	ck_assert_mem_eq(b.welcome.parties[0].id, pa.id, 16);
	ck_assert_uint_eq(b.welcome.parties[0].nmembers, 2);
	ck_assert_uint_eq(b.welcome.parties[0].flags, 0);
	st = expect_state(&b, pa.id);
	ck_assert_uint_eq(st->seq, 2);
	ck_assert_uint_eq(st->nmembers, 2);
	ck_addr(&state_member(st, b.pub)->addr, "10.66.0.2");
	free(st);
	ck_assert(closed_by_server(oldfd, 2000));
	close(oldfd);

	/* the host too */
	client_hello(&a, "alice");
	ck_assert_uint_eq(a.welcome.parties[0].flags, CONTROL_PARTY_HOST);
	st = expect_state(&a, pa.id);
	ck_assert_uint_eq(st->nmembers, 2);
	free(st);
	expect_ok(&b, ref_send(&b, CONTROL_MSG_LEAVE, pa.id));
	expect_delta(&a, pa.id, 3, CONTROL_DELTA_LEFT, b.pub, NULL);
	client_reset(&a);
	client_reset(&b);
}
END_TEST

START_TEST(test_approval)
{
	struct client			 a, b, c;
	struct control_party		 pa, p;
	struct control_join_request	 jr;
	uint8_t				 code[16], ap[49];
	struct msg			 m;
	uint32_t			 jid;

	client_key(&a);
	client_key(&b);
	client_key(&c);
	client_hello(&a, "alice");
	client_hello(&b, "bob");
	client_hello(&c, "carol");
	party_create(&a, "friday", &pa);
	invite_create(&a, pa.id, 0, 0, CONTROL_INVITE_APPROVAL, code);
	jid = join_send(&b, code);
	client_expect(&b, CONTROL_MSG_APPROVAL_PENDING, jid, &m);
	free(m.p);
	client_expect(&a, CONTROL_MSG_JOIN_REQUEST, 0, &m);
	ck_assert_int_eq(control_dec_join_request(m.p, m.len, &jr), 0);
	ck_assert_mem_eq(jr.key, b.pub, 32);
	ck_assert_str_eq(jr.name, "bob");
	free(m.p);
	memcpy(ap, pa.id, 16);
	memcpy(ap + 16, b.pub, 32);
	ap[48] = CONTROL_APPROVE_ACCEPT;
	expect_error(&b, client_send(&b, CONTROL_MSG_APPROVE, ap, 49),
	    CONTROL_E_NO_PARTY);
	expect_ok(&a, client_send(&a, CONTROL_MSG_APPROVE, ap, 49));
	client_expect(&b, CONTROL_MSG_PARTY, jid, &m);
	ck_assert_int_eq(control_dec_party(m.p, m.len, &p), 0);
	ck_addr(&p.addr, "10.66.0.2");
	free(m.p);
	free(expect_state(&b, pa.id));
	expect_delta(&a, pa.id, 1, CONTROL_DELTA_JOINED, b.pub, NULL);
	/* deny */
	jid = join_send(&c, code);
	client_expect(&c, CONTROL_MSG_APPROVAL_PENDING, jid, &m);
	free(m.p);
	memcpy(ap + 16, c.pub, 32);
	ap[48] = CONTROL_APPROVE_DENY;
	expect_ok(&a, client_send(&a, CONTROL_MSG_APPROVE, ap, 49));
	expect_error(&c, jid, CONTROL_E_DENIED);
	expect_error(&a, client_send(&a, CONTROL_MSG_APPROVE, ap, 49),
	    CONTROL_E_NO_MEMBER);
	client_reset(&a);
	client_reset(&b);
	client_reset(&c);
}
END_TEST

START_TEST(test_malformed)
{
	struct client		 a, b, v;
	struct control_party	 pa;
	struct msg		 m;
	uint8_t			 junk[40];

	client_key(&a);
	client_key(&b);
	client_key(&v);
	client_hello(&a, "alice");
	client_hello(&b, "bob");
	/* a bad payload of a known type */
	memset(junk, 0xff, sizeof(junk));
	expect_error(&b, client_send(&b, CONTROL_MSG_PARTY_CREATE, junk, 3),
	    CONTROL_E_MALFORMED);
	expect_error(&b, client_send(&b, CONTROL_MSG_JOIN, junk, 5),
	    CONTROL_E_MALFORMED);
	expect_error(&b, client_send(&b, CONTROL_MSG_HEARTBEAT, junk, 1),
	    CONTROL_E_MALFORMED);
	expect_error(&b, client_send(&b, 0x01ff, junk, 4),
	    CONTROL_E_UNSUPPORTED);
	expect_error(&b, client_send(&b, CONTROL_MSG_HELLO, junk, 4),
	    CONTROL_E_ORDER);
	client_expect(&b, CONTROL_MSG_HEARTBEAT_ACK,
	    client_send(&b, CONTROL_MSG_HEARTBEAT, junk, 0), &m);
	free(m.p);
	/* a reply from a node: dropped */
	client_send(&b, CONTROL_MSG_OK, junk, 0);
	ck_assert(closed_by_server(b.fd, 2000));
	/* the wrong version: ERROR in message 2, then closed */
	client_hello_v(&v, "vic", 7, &m);
	ck_assert_int_eq(m.type, CONTROL_MSG_ERROR);
	ck_assert_uint_eq(m.p[1], CONTROL_E_VERSION);
	free(m.p);
	ck_assert(closed_by_server(v.fd, 2000));
	/* the others are still served */
	party_create(&a, "still", &pa);
	free(expect_state(&a, pa.id));
	client_reset(&a);
	client_reset(&b);
	client_reset(&v);
}
END_TEST

START_TEST(test_rate)
{
	struct client	 a;
	struct msg	 m;
	int		 i, acks = 0, limited = 0;

	client_key(&a);
	client_hello(&a, "alice");
	for (i = 0; i < 100; i++)
		client_send(&a, CONTROL_MSG_HEARTBEAT, NULL, 0);
	for (i = 0; i < 100; i++) {
		if (client_take(&a, CONTROL_MSG_HEARTBEAT_ACK, 0, &m, 0) == 0)
			acks++;
		else if (client_take(&a, CONTROL_MSG_ERROR, 0, &m, 0) == 0)
			limited++;
		else {
			ck_assert_int_eq(client_pull(&a, 2000), 0);
			i--;
			continue;
		}
		free(m.p);
	}
	ck_assert_int_ge(acks, 40);
	ck_assert_int_lt(acks, 60);
	ck_assert_int_eq(acks + limited, 100);
	client_reset(&a);
}
END_TEST

START_TEST(test_expiry)
{
	struct client		 a, b;
	struct control_party	 pa;
	struct control_delta	 d;
	struct msg		 m;
	uint8_t			 code[16];

	client_key(&a);
	client_key(&b);
	party_of_three(&a, &b, NULL, &pa, code);
	atomic_fetch_add(&fake_now, 20);
	client_expect(&a, CONTROL_MSG_HEARTBEAT_ACK,
	    client_send(&a, CONTROL_MSG_HEARTBEAT, NULL, 0), &m);
	free(m.p);
	usleep(200000);			/* a tick flushes it */
	atomic_fetch_add(&fake_now, 20);	/* b is 40 s silent */
	expect_delta(&a, pa.id, 2, CONTROL_DELTA_LEFT, b.pub, &d);
	ck_assert_uint_eq(d.reason, CONTROL_LEFT_EXPIRED);
	client_reset(&a);
	client_reset(&b);
}
END_TEST

START_TEST(test_restart)
{
	struct client		 a, b;
	struct control_party	 pa;
	struct control_state	*st;
	uint64_t		 seq;
	uint8_t			 code[16];

	client_key(&a);
	client_key(&b);
	party_of_three(&a, &b, NULL, &pa, code);
	client_reset(&a);
	client_reset(&b);
	server_stop();
	server_start();
	client_hello(&b, "bob");
	ck_assert_uint_eq(b.welcome.nparties, 1);
	st = expect_state(&b, pa.id);
	ck_assert_uint_eq(st->nmembers, 2);
	ck_addr(&state_member(st, a.pub)->addr, "10.66.0.1");
	ck_addr(&state_member(st, b.pub)->addr, "10.66.0.2");
	ck_assert_mem_eq(st->host_key, a.pub, 32);
	free(st);
	client_hello(&a, "alice");
	st = expect_state(&a, pa.id);
	ck_assert_uint_eq(st->nmembers, 2);
	seq = st->seq;
	free(st);
	expect_ok(&b, ref_send(&b, CONTROL_MSG_LEAVE, pa.id));
	expect_delta(&a, pa.id, seq + 1, CONTROL_DELTA_LEFT, b.pub,
	    NULL);
	client_reset(&a);
	client_reset(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ctld");
	TCase	*tc = tcase_create("requests");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_create_join_leave_kick);
	tcase_add_test(tc, test_invite_limits);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_reconnect_and_endpoints);
	tcase_add_test(tc, test_approval);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_relays);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
