/*
 * Unit tests for lanraged/pathsel.c: the path table, the punching
 * schedule, RTT and loss bookkeeping, the choice of path and the words
 * that explain it.  No I/O: time is whatever the test says it is.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lanraged/pathsel.h"
#include "proto/control.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define T0		1000000	/* a monotonic clock is never near 0 */
#define PORT		41641

/* The NATs netcheck tells apart, as a peer's kinds describe them. */
enum { N_NONE, N_FULL, N_ADDR, N_PORT, N_SYM, N_UNKNOWN, N_COUNT };

static const struct ps_nat nats[N_COUNT] = {
	[N_NONE] = { .known = true, .behind = false,
	    .mapping = CONTROL_NAT_MAP_INDEPENDENT,
	    .filtering = CONTROL_NAT_FILT_INDEPENDENT },
	[N_FULL] = { .known = true, .behind = true,
	    .mapping = CONTROL_NAT_MAP_INDEPENDENT,
	    .filtering = CONTROL_NAT_FILT_INDEPENDENT },
	[N_ADDR] = { .known = true, .behind = true,
	    .mapping = CONTROL_NAT_MAP_INDEPENDENT,
	    .filtering = CONTROL_NAT_FILT_ADDRESS },
	[N_PORT] = { .known = true, .behind = true,
	    .mapping = CONTROL_NAT_MAP_INDEPENDENT,
	    .filtering = CONTROL_NAT_FILT_PORT },
	[N_SYM] = { .known = true, .behind = true,
	    .mapping = CONTROL_NAT_MAP_DEPENDENT,
	    .filtering = CONTROL_NAT_FILT_PORT },
	[N_UNKNOWN] = { .known = false },
};

static const char *nat_names[N_COUNT] = {
	"no NAT", "full-cone", "address-restricted", "port-restricted",
	"symmetric", "unknown NAT",
};

/* 192.0.2.host (TEST-NET-1) */
static struct sockaddr_in
sin4(unsigned host, uint16_t port)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(0xc0000200u | host);
	return sin;
}

static int
add_port(struct ps_peer *pp, unsigned host, uint16_t port, uint8_t kind,
    uint64_t now)
{
	struct sockaddr_in	 sin = sin4(host, port);

	return ps_path_add(pp, (struct sockaddr *)&sin, sizeof(sin), kind,
	    now);
}

static int
add(struct ps_peer *pp, unsigned host, uint8_t kind, uint64_t now)
{
	return add_port(pp, host, PORT, kind, now);
}

static int
find(const struct ps_peer *pp, unsigned host)
{
	struct sockaddr_in	 sin = sin4(host, PORT);

	return ps_path_find(pp, (struct sockaddr *)&sin);
}

static void
peer(struct ps_peer *pp, int nat)
{
	ps_peer_init(pp, T0);
	pp->nat = nats[nat];
}

static void
lose(struct ps_path *p, int n, uint64_t now)
{
	while (n-- > 0)
		ps_lost(p, now);
}

static const char *
reason(const struct ps_peer *pp, int self, uint64_t now)
{
	static char	 buf[2 * PS_REASON_MAX];

	ps_reason(pp, &nats[self], now, buf, sizeof(buf));
	return buf;
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The path table. */

START_TEST(add_same_twice)
{
	struct ps_peer	 pp;
	int		 i;

	peer(&pp, N_UNKNOWN);
	i = add(&pp, 1, PS_STUN, T0);
	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(add(&pp, 2, PS_LAN, T0), 1);
	ck_assert_int_eq(add(&pp, 1, PS_STUN, T0 + 5), i);
	ck_assert_int_eq(add(&pp, 1, PS_LEARNED, T0 + 5), i);
	ck_assert_uint_eq(pp.npaths, 2);
	ck_assert_uint_eq(pp.paths[i].since_ms, T0);
	/* the port is part of the address */
	ck_assert_int_eq(add_port(&pp, 1, PORT + 1, PS_STUN, T0), 2);
	ck_assert_int_eq(find(&pp, 2), 1);
	ck_assert_int_eq(find(&pp, 3), -1);
}
END_TEST

START_TEST(add_learned_then_published)
{
	struct ps_peer	 pp;
	int		 i;

	peer(&pp, N_UNKNOWN);
	i = add(&pp, 1, PS_LEARNED, T0);
	ck_assert_int_ge(i, 0);
	ck_assert(!pp.paths[i].published);
	ck_assert_uint_eq(pp.paths[i].kind, PS_LEARNED);
	ck_assert_int_eq(add(&pp, 1, PS_STUN, T0 + 1), i);
	ck_assert(pp.paths[i].published);
	ck_assert_uint_eq(pp.paths[i].kind, PS_STUN);
	/* seen as learned again, it stays what it was published as */
	ck_assert_int_eq(add(&pp, 1, PS_LEARNED, T0 + 2), i);
	ck_assert(pp.paths[i].published);
	ck_assert_uint_eq(pp.paths[i].kind, PS_STUN);
	ck_assert_uint_eq(pp.npaths, 1);
}
END_TEST

START_TEST(add_max_paths)
{
	struct ps_peer	 pp;
	unsigned	 h;

	peer(&pp, N_UNKNOWN);
	for (h = 1; h <= PS_MAX_PATHS; h++)
		ck_assert_int_eq(add(&pp, h, PS_STUN, T0), (int)h - 1);
	ck_assert_int_eq(add(&pp, h, PS_STUN, T0), -1);
	ck_assert_int_eq(add(&pp, h, PS_LEARNED, T0), -1);
	ck_assert_uint_eq(pp.npaths, PS_MAX_PATHS);
	ck_assert_int_eq(find(&pp, h), -1);
	/* a known one is still found */
	ck_assert_int_eq(add(&pp, 5, PS_STUN, T0), 4);
}
END_TEST

START_TEST(add_learned_cap)
{
	struct ps_peer	 pp;
	unsigned	 h;

	peer(&pp, N_UNKNOWN);
	for (h = 1; h <= PS_MAX_LEARNED; h++)
		ck_assert_int_eq(add(&pp, h, PS_LEARNED, T0 + h), (int)h - 1);

	/* full: the oldest dead one (never validated: dead) makes room */
	ck_assert_int_eq(add(&pp, 101, PS_LEARNED, T0 + 100), 0);
	ck_assert_uint_eq(pp.npaths, PS_MAX_LEARNED);
	ck_assert_int_eq(find(&pp, 1), -1);
	ck_assert_int_eq(find(&pp, 101), 0);
	ck_assert_uint_eq(pp.paths[0].since_ms, T0 + 100);

	/* older but alive is kept; the oldest dead one goes */
	ps_pong(&pp.paths[1], 1000, T0 + 101);
	ps_pong(&pp.paths[2], 1000, T0 + 101);
	ck_assert_int_eq(add(&pp, 102, PS_LEARNED, T0 + 102), 3);
	ck_assert_int_eq(find(&pp, 2), 1);
	ck_assert_int_eq(find(&pp, 4), -1);

	/* all alive: no room */
	for (h = 0; h < pp.npaths; h++)
		ps_pong(&pp.paths[h], 1000, T0 + 103);
	ck_assert_int_eq(add(&pp, 103, PS_LEARNED, T0 + 104), -1);
	ck_assert_int_eq(find(&pp, 103), -1);
	ck_assert_uint_eq(pp.npaths, PS_MAX_LEARNED);
	/* the cap is on learned paths only, and a known one is found */
	ck_assert_int_eq(add(&pp, 102, PS_LEARNED, T0 + 104), 3);
	ck_assert_int_eq(add(&pp, 104, PS_STUN, T0 + 104), PS_MAX_LEARNED);
}
END_TEST

/*
 * Hosts 1..4 as STUN, LAN, learned, STUN; the peer then republishes
 * only 2 and 4, as paths.c does it.
 */
static void
republish(struct ps_peer *pp, unsigned best_host)
{
	size_t	 i;

	peer(pp, N_PORT);
	add(pp, 1, PS_STUN, T0);
	add(pp, 2, PS_LAN, T0);
	add(pp, 3, PS_LEARNED, T0);
	add(pp, 4, PS_STUN, T0);
	ps_pong(&pp->paths[find(pp, best_host)], 1000, T0 + 10);
	ck_assert(ps_select(pp, T0 + 10));
	ck_assert_int_eq(pp->best, find(pp, best_host));
	for (i = 0; i < pp->npaths; i++)
		pp->paths[i].published = false;
	add(pp, 2, PS_LAN, T0 + 20);
	add(pp, 4, PS_STUN, T0 + 20);
	ps_prune(pp);
}

START_TEST(prune_keeps_best)
{
	struct ps_peer	 pp;

	republish(&pp, 4);
	ck_assert_uint_eq(pp.npaths, 3);
	ck_assert_int_eq(find(&pp, 1), -1);
	ck_assert_int_ge(find(&pp, 2), 0);
	ck_assert_int_ge(find(&pp, 3), 0);	/* learned: kept */
	ck_assert_int_eq(pp.paths[find(&pp, 3)].kind, PS_LEARNED);
	ck_assert_int_eq(pp.best, find(&pp, 4));
	ck_assert(ps_alive(&pp.paths[pp.best]));
}
END_TEST

START_TEST(prune_drops_best)
{
	struct ps_peer	 pp;

	republish(&pp, 1);
	ck_assert_uint_eq(pp.npaths, 3);
	ck_assert_int_eq(find(&pp, 1), -1);
	ck_assert_int_eq(pp.best, -1);
}
END_TEST

/* Pinging. */

START_TEST(punch_burst)
{
	struct ps_peer	 pp;

	peer(&pp, N_UNKNOWN);
	add(&pp, 1, PS_STUN, T0);
	ck_assert(ps_ping_due(&pp, 0, T0));
	ps_ping_sent(&pp.paths[0], T0);
	ck_assert(!ps_ping_due(&pp, 0, T0));
	ck_assert(!ps_ping_due(&pp, 0, T0 + 50));
	ck_assert(!ps_ping_due(&pp, 0, T0 + 99));
	ck_assert(ps_ping_due(&pp, 0, T0 + 100));
}
END_TEST

/* The interval after the burst, by the time since punching began. */
static uint64_t
punch_every(uint64_t t)
{
	if (t < PS_PUNCH_MID_MS)
		return 1000;
	if (t < PS_PUNCH_SLOW_MS)
		return 5000;
	return 30000;
}

START_TEST(punch_schedule)
{
	static const uint64_t	 burst[] = { 0, 100, 200, 400, 800 };
	struct ps_peer		 pp;
	uint64_t		 at[64], t;
	size_t			 n = 0, i;

	/* ping whenever due, a millisecond at a time, for 200 s */
	peer(&pp, N_UNKNOWN);
	add(&pp, 1, PS_STUN, T0);
	for (t = 0; t <= 200000 && n < NELEM(at); t++) {
		if (!ps_ping_due(&pp, 0, T0 + t))
			continue;
		ps_ping_sent(&pp.paths[0], T0 + t);
		at[n++] = t;
	}
	ck_assert_uint_eq(n, 28);
	for (i = 0; i < NELEM(burst); i++)
		ck_assert_uint_eq(at[i], burst[i]);
	for (; i < n; i++)
		ck_assert_msg(at[i] - at[i - 1] == punch_every(at[i]),
		    "ping %zu at %llu ms, %llu after the one before", i,
		    (unsigned long long)at[i],
		    (unsigned long long)(at[i] - at[i - 1]));
	ck_assert_uint_eq(at[13], 9800);
	ck_assert_uint_eq(at[14], 14800);
	ck_assert_uint_eq(at[24], 89800);
}
END_TEST

START_TEST(live_schedule)
{
	struct ps_peer	 pp;
	uint64_t	 t = T0 + 100;
	int		 i;

	peer(&pp, N_UNKNOWN);
	add(&pp, 1, PS_STUN, T0);
	add(&pp, 2, PS_STUN, T0);
	ps_pong(&pp.paths[0], 1000, T0 + 10);
	ps_pong(&pp.paths[1], 5000, T0 + 10);
	ps_select(&pp, T0 + 10);
	ck_assert_int_eq(pp.best, 0);
	for (i = 0; i < 2; i++)
		ps_ping_sent(&pp.paths[i], t);
	ck_assert(!ps_ping_due(&pp, 0, t + PS_BEST_EVERY - 1));
	ck_assert(ps_ping_due(&pp, 0, t + PS_BEST_EVERY));
	/* not on the punching schedule (it would be due at +100) */
	ck_assert(!ps_ping_due(&pp, 1, t + PS_BEST_EVERY));
	ck_assert(!ps_ping_due(&pp, 1, t + PS_OTHER_EVERY - 1));
	ck_assert(ps_ping_due(&pp, 1, t + PS_OTHER_EVERY));
}
END_TEST

/* Pongs and losses. */

START_TEST(pong_first_sample)
{
	struct ps_path	 p;

	memset(&p, 0, sizeof(p));
	p.jitter_us = 777;
	ck_assert(!ps_alive(&p));
	ps_pong(&p, 12345, T0);
	ck_assert_uint_eq(p.srtt_us, 12345);
	ck_assert_uint_eq(p.rtt_us, 12345);
	ck_assert_uint_eq(p.jitter_us, 0);
	ck_assert_uint_eq(p.last_pong_ms, T0);
	ck_assert(ps_alive(&p));
}
END_TEST

START_TEST(pong_jitter_srtt)
{
	struct ps_path	 p;

	memset(&p, 0, sizeof(p));
	ps_pong(&p, 10000, T0);
	ps_pong(&p, 12000, T0 + 1000);
	ck_assert_uint_eq(p.jitter_us, 2000 / 16);
	ck_assert_uint_eq(p.srtt_us, (7 * 10000 + 12000) / 8);
	ck_assert_uint_eq(p.rtt_us, 12000);
	/* D is between samples, not against srtt */
	ps_pong(&p, 12000, T0 + 2000);
	ck_assert_uint_eq(p.jitter_us, 125 - 125 / 16);
	ck_assert_uint_eq(p.srtt_us, (7 * 10250 + 12000) / 8);
}
END_TEST

START_TEST(dead_after_misses)
{
	struct ps_peer	 pp;
	struct ps_path	*p = &pp.paths[0];
	uint64_t	 t = T0 + 5000;

	peer(&pp, N_UNKNOWN);
	add(&pp, 1, PS_STUN, T0);
	ps_ping_sent(p, T0);
	ps_pong(p, 1000, T0 + 1);
	ps_ping_sent(p, T0 + 1000);

	/* misses must be in a row */
	lose(p, PS_DEAD_MISSES - 1, t);
	ps_pong(p, 1000, t);
	lose(p, PS_DEAD_MISSES - 1, t);
	ck_assert(ps_alive(p));
	ck_assert_uint_eq(p->pings, 2);
	ck_assert_uint_eq(p->since_ms, T0);

	lose(p, 1, t);
	ck_assert(!ps_alive(p));
	ck_assert_uint_eq(p->pings, 0);
	ck_assert_uint_eq(p->since_ms, t);
	ck_assert(ps_ping_due(&pp, 0, t));

	ps_pong(p, 1000, t + 10);
	ck_assert(ps_alive(p));
	ck_assert_uint_eq(p->misses, 0);
}
END_TEST

START_TEST(unvalidated_misses)
{
	struct ps_path	 p;

	memset(&p, 0, sizeof(p));
	p.since_ms = T0;
	p.pings = 7;
	lose(&p, PS_DEAD_MISSES + 2, T0 + 9000);
	/* it was never a path: its punching goes on as it was */
	ck_assert_uint_eq(p.since_ms, T0);
	ck_assert_uint_eq(p.pings, 7);
	ck_assert(!ps_alive(&p));
}
END_TEST

START_TEST(loss_pct)
{
	struct ps_path	 p;
	int		 i;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(ps_loss_pct(&p), -1);
	for (i = 0; i < 3; i++)
		ps_pong(&p, 1000, T0 + i);
	ps_lost(&p, T0 + 3);
	ck_assert_int_eq(ps_loss_pct(&p), 25);
}
END_TEST

START_TEST(loss_window)
{
	struct ps_path	 p;
	int		 i;

	memset(&p, 0, sizeof(p));
	lose(&p, 10, T0);
	ck_assert_int_eq(ps_loss_pct(&p), 100);
	for (i = 0; i < PS_LOSS_WINDOW - 1; i++)
		ps_pong(&p, 1000, T0 + i);
	/* nine losses have left the window; one is still in it */
	ck_assert_uint_eq(p.nwindow, PS_LOSS_WINDOW);
	ck_assert_int_eq(ps_loss_pct(&p), 100 / PS_LOSS_WINDOW);
	ps_pong(&p, 1000, T0 + i);
	ck_assert_uint_eq(p.nwindow, PS_LOSS_WINDOW);
	ck_assert_int_eq(ps_loss_pct(&p), 0);
}
END_TEST

/* Selection. */

/* Two paths of the given kinds, validated with these RTTs, chosen. */
static void
two_paths(struct ps_peer *pp, uint8_t ka, uint32_t a_us, uint8_t kb,
    uint32_t b_us)
{
	peer(pp, N_PORT);
	add(pp, 1, ka, T0);
	add(pp, 2, kb, T0);
	ps_pong(&pp->paths[0], a_us, T0 + 10);
	ps_pong(&pp->paths[1], b_us, T0 + 10);
	ck_assert(ps_select(pp, T0 + 10));
	ck_assert_str_eq(pp->why, "first path");
}

START_TEST(select_lan_first)
{
	struct ps_peer	 pp;

	two_paths(&pp, PS_STUN, 1000, PS_LAN, 20000);
	ck_assert_int_eq(pp.best, 1);
	two_paths(&pp, PS_LAN, 20000, PS_STUN, 1000);
	ck_assert_int_eq(pp.best, 0);
}
END_TEST

START_TEST(select_lower_rtt)
{
	struct ps_peer	 pp;

	two_paths(&pp, PS_STUN, 5000, PS_STUN, 3000);
	ck_assert_int_eq(pp.best, 1);
	two_paths(&pp, PS_STUN, 3000, PS_LEARNED, 5000);
	ck_assert_int_eq(pp.best, 0);
	ck_assert(!ps_select(&pp, T0 + 20));
}
END_TEST

/*
 * Path 0 of kind ka chosen alone, then path 1 of kind kb validated:
 * whether the choice moves to it.
 */
static bool
switches(struct ps_peer *pp, uint8_t ka, uint32_t cur_us, uint8_t kb,
    uint32_t other_us)
{
	bool	 moved;

	peer(pp, N_PORT);
	add(pp, 1, ka, T0);
	add(pp, 2, kb, T0);
	ps_pong(&pp->paths[0], cur_us, T0 + 10);
	ck_assert(ps_select(pp, T0 + 10));
	ck_assert_int_eq(pp->best, 0);
	ps_pong(&pp->paths[1], other_us, T0 + 20);
	moved = ps_select(pp, T0 + 20);
	ck_assert_int_eq(pp->best, moved ? 1 : 0);
	return moved;
}

static const struct {
	uint32_t	 cur_us, other_us;
	bool		 moves;
} hysteresis[] = {
	{ 10000, 8500, false },		/* 15 % better */
	{ 10000, 8000, false },		/* 20 % */
	{ 2000, 1200, false },		/* 40 %, but under 1 ms */
	{ 10000, 10000, false },
	{ 10000, 7900, true },		/* 21 %, 2.1 ms */
	{ 10000, 3000, true },
	{ 3000, 10000, false },
};

START_TEST(select_hysteresis)
{
	struct ps_peer	 pp;

	ck_assert_msg(switches(&pp, PS_STUN, hysteresis[_i].cur_us, PS_STUN,
	    hysteresis[_i].other_us) == hysteresis[_i].moves,
	    "%u us -> %u us", hysteresis[_i].cur_us,
	    hysteresis[_i].other_us);
}
END_TEST

START_TEST(select_why)
{
	struct ps_peer	 pp;

	ck_assert(switches(&pp, PS_STUN, 10000, PS_STUN, 3000));
	ck_assert_str_eq(pp.why, "lower RTT (3.0 ms, was 10.0)");
	/* the LAN wins whatever the RTTs, the public path never does */
	ck_assert(switches(&pp, PS_STUN, 1000, PS_LAN, 30000));
	ck_assert_str_eq(pp.why, "same LAN");
	ck_assert(!switches(&pp, PS_LAN, 30000, PS_STUN, 1000));
}
END_TEST

START_TEST(select_path_died)
{
	struct ps_peer	 pp;

	two_paths(&pp, PS_STUN, 3000, PS_STUN, 10000);
	ck_assert_int_eq(pp.best, 0);
	lose(&pp.paths[0], PS_DEAD_MISSES, T0 + 5000);
	ck_assert(ps_select(&pp, T0 + 5000));
	ck_assert_int_eq(pp.best, 1);
	ck_assert_str_eq(pp.why, "the path died");

	memset(pp.why, 0, sizeof(pp.why));
	lose(&pp.paths[1], PS_DEAD_MISSES, T0 + 9000);
	ck_assert(ps_select(&pp, T0 + 9000));
	ck_assert_int_eq(pp.best, -1);
	ck_assert_str_eq(pp.why, "the path died");
	ck_assert(!ps_select(&pp, T0 + 9001));
	ck_assert_int_eq(pp.best, -1);
}
END_TEST

START_TEST(select_direct_ms)
{
	struct ps_peer	 pp;

	peer(&pp, N_PORT);
	add(&pp, 1, PS_STUN, T0);
	add(&pp, 2, PS_STUN, T0);
	ck_assert(!ps_select(&pp, T0 + 5));
	ck_assert_uint_eq(pp.direct_ms, 0);
	ps_pong(&pp.paths[0], 10000, T0 + 10);
	ck_assert(ps_select(&pp, T0 + 10));
	ck_assert_uint_eq(pp.direct_ms, T0 + 10);

	ps_pong(&pp.paths[1], 2000, T0 + 20);
	ck_assert(ps_select(&pp, T0 + 20));
	ck_assert_int_eq(pp.best, 1);
	lose(&pp.paths[0], PS_DEAD_MISSES, T0 + 30);
	lose(&pp.paths[1], PS_DEAD_MISSES, T0 + 30);
	ck_assert(ps_select(&pp, T0 + 30));
	ps_pong(&pp.paths[0], 10000, T0 + 40);
	ck_assert(ps_select(&pp, T0 + 40));
	ck_assert_uint_eq(pp.direct_ms, T0 + 10);
}
END_TEST

/* NATs. */

START_TEST(nat_name)
{
	int	 n;

	for (n = 0; n < N_COUNT; n++)
		ck_assert_str_eq(ps_nat_name(&nats[n]), nat_names[n]);
}
END_TEST

/* Rows and columns in the order of nats[]; 0: only a relay. */
static const bool direct[N_COUNT][N_COUNT] = {
	/* none full addr port sym unknown */
	{ 1, 1, 1, 1, 1, 1 },	/* none */
	{ 1, 1, 1, 1, 1, 1 },	/* full */
	{ 1, 1, 1, 1, 1, 1 },	/* addr */
	{ 1, 1, 1, 1, 0, 1 },	/* port */
	{ 1, 1, 1, 0, 0, 1 },	/* sym */
	{ 1, 1, 1, 1, 1, 1 },	/* unknown */
};

START_TEST(nat_matrix)
{
	int	 a = _i / N_COUNT, b = _i % N_COUNT;
	char	 why[PS_REASON_MAX] = "";
	bool	 ok;

	ok = ps_direct_possible(&nats[a], &nats[b], why, sizeof(why));
	ck_assert_msg(ok == direct[a][b], "%s with %s: %s", nat_names[a],
	    nat_names[b], ok ? "possible" : why);
	if (ok)
		return;
	if (a == N_SYM && b == N_SYM)
		ck_assert_str_eq(why, "both symmetric");
	else
		ck_assert_msg(strstr(why, "port guessing") != NULL,
		    "%s with %s: %s", nat_names[a], nat_names[b], why);
}
END_TEST

/* Netcheck found nothing: whatever else the struct holds is noise. */
START_TEST(nat_unknown)
{
	struct ps_peer	 pp;
	struct ps_nat	 u = { .known = false, .behind = true };
	char		 why[PS_REASON_MAX];
	int		 n;

	peer(&pp, N_UNKNOWN);
	add(&pp, 1, PS_STUN, T0);
	for (u.mapping = 0; u.mapping <= CONTROL_NAT_MAP_DEPENDENT;
	    u.mapping++) {
		for (u.filtering = 0; u.filtering <= CONTROL_NAT_FILT_PORT;
		    u.filtering++) {
			ck_assert_str_eq(ps_nat_name(&u), "unknown NAT");
			for (n = 0; n < N_COUNT; n++) {
				ck_assert(ps_direct_possible(&u, &nats[n], why,
				    sizeof(why)));
				ck_assert(ps_direct_possible(&nats[n], &u, why,
				    sizeof(why)));
			}
			pp.nat = u;
			ck_assert(!ps_birthday_wanted(&pp, &nats[N_PORT],
			    T0 + 60000));
		}
	}
}
END_TEST

/* Reasons. */

/* One LAN path, validated and chosen, to a peer behind nat. */
static void
lan_peer(struct ps_peer *pp, int nat)
{
	peer(pp, nat);
	add(pp, 1, PS_LAN, T0);
	ps_pong(&pp->paths[0], 500, T0 + 10);
	ck_assert(ps_select(pp, T0 + 10));
}

START_TEST(reason_same_lan)
{
	struct ps_peer	 pp;

	lan_peer(&pp, N_PORT);
	ck_assert_str_eq(reason(&pp, N_PORT, T0 + 20), "direct: same LAN");
	lan_peer(&pp, N_UNKNOWN);
	ck_assert_str_eq(reason(&pp, N_SYM, T0 + 20), "direct: same LAN");
}
END_TEST

START_TEST(reason_lan_no_nat)
{
	struct ps_peer	 pp;
	const char	*r;

	lan_peer(&pp, N_NONE);
	r = reason(&pp, N_PORT, T0 + 20);
	ck_assert_msg(starts(r, "direct: "), "%s", r);
	ck_assert_msg(strstr(r, "same LAN") == NULL, "%s", r);
	ck_assert_msg(strstr(r, "no NAT") != NULL, "%s", r);
}
END_TEST

START_TEST(reason_relay)
{
	struct ps_peer	 pp;
	const char	*r;

	peer(&pp, N_SYM);
	add(&pp, 1, PS_STUN, T0);
	r = reason(&pp, N_SYM, T0 + 20);
	ck_assert_msg(starts(r, "none: ") && strstr(r, "both symmetric") &&
	    strstr(r, "needs a relay"), "%s", r);
	r = reason(&pp, N_PORT, T0 + 20);
	ck_assert_msg(starts(r, "none: ") && strstr(r, "port guessing") &&
	    strstr(r, "needs a relay"), "%s", r);
}
END_TEST

START_TEST(reason_probing)
{
	struct ps_peer	 pp;
	const char	*r;

	peer(&pp, N_FULL);
	add(&pp, 1, PS_STUN, T0);
	add(&pp, 2, PS_LAN, T0);
	r = reason(&pp, N_PORT, T0);
	ck_assert_msg(starts(r, "none yet: probing"), "%s", r);
	r = reason(&pp, N_PORT, T0 + PS_PUNCH_MID_MS - 1);
	ck_assert_msg(starts(r, "none yet: probing"), "%s", r);
	r = reason(&pp, N_PORT, T0 + PS_PUNCH_MID_MS);
	ck_assert_msg(starts(r, "none: "), "%s", r);
	ck_assert_msg(strstr(r, "relay") == NULL, "%s", r);
}
END_TEST

START_TEST(reason_no_address)
{
	struct ps_peer	 pp;

	peer(&pp, N_FULL);
	ck_assert_str_eq(reason(&pp, N_PORT, T0 + 20),
	    "none: the peer has published no address");
	ck_assert_str_eq(reason(&pp, N_PORT, T0 + 60000),
	    "none: the peer has published no address");
}
END_TEST

/* Birthday probing. */

static bool
bday(int peer_nat, int self, bool chosen, uint64_t after)
{
	struct ps_peer	 pp;

	peer(&pp, peer_nat);
	add(&pp, 1, PS_STUN, T0);
	if (chosen) {
		ps_pong(&pp.paths[0], 1000, T0 + 1);
		ck_assert(ps_select(&pp, T0 + 1));
	}
	return ps_birthday_wanted(&pp, &nats[self], T0 + after);
}

START_TEST(birthday_wanted)
{
	const uint64_t	 fast = PS_PUNCH_FAST_MS;

	ck_assert(bday(N_SYM, N_PORT, false, fast));
	ck_assert(bday(N_SYM, N_PORT, false, 10 * fast));
	/* a more open self meets a symmetric peer without guessing */
	ck_assert(!bday(N_SYM, N_NONE, false, fast));
	ck_assert(!bday(N_SYM, N_FULL, false, fast));
	ck_assert(!bday(N_SYM, N_ADDR, false, fast));

	ck_assert(!bday(N_SYM, N_PORT, false, fast - 1));
	ck_assert(!bday(N_SYM, N_PORT, true, fast));
	ck_assert(!bday(N_SYM, N_SYM, false, fast));
	ck_assert(!bday(N_SYM, N_UNKNOWN, false, fast));
	ck_assert(!bday(N_PORT, N_PORT, false, fast));
	ck_assert(!bday(N_NONE, N_PORT, false, fast));
	ck_assert(!bday(N_UNKNOWN, N_PORT, false, fast));
}
END_TEST

static Suite *
pathsel_suite(void)
{
	Suite	*s = suite_create("pathsel");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, add_same_twice);
	tcase_add_test(tc, add_learned_then_published);
	tcase_add_test(tc, add_max_paths);
	tcase_add_test(tc, add_learned_cap);
	tcase_add_test(tc, prune_keeps_best);
	tcase_add_test(tc, prune_drops_best);
	tcase_add_test(tc, punch_burst);
	tcase_add_test(tc, punch_schedule);
	tcase_add_test(tc, live_schedule);
	tcase_add_test(tc, pong_first_sample);
	tcase_add_test(tc, pong_jitter_srtt);
	tcase_add_test(tc, dead_after_misses);
	tcase_add_test(tc, unvalidated_misses);
	tcase_add_test(tc, loss_pct);
	tcase_add_test(tc, loss_window);
	tcase_add_test(tc, select_lan_first);
	tcase_add_test(tc, select_lower_rtt);
	tcase_add_loop_test(tc, select_hysteresis, 0, NELEM(hysteresis));
	tcase_add_test(tc, select_why);
	tcase_add_test(tc, select_path_died);
	tcase_add_test(tc, select_direct_ms);
	tcase_add_test(tc, nat_name);
	tcase_add_loop_test(tc, nat_matrix, 0, N_COUNT * N_COUNT);
	tcase_add_test(tc, nat_unknown);
	tcase_add_test(tc, reason_same_lan);
	tcase_add_test(tc, reason_lan_no_nat);
	tcase_add_test(tc, reason_relay);
	tcase_add_test(tc, reason_probing);
	tcase_add_test(tc, reason_no_address);
	tcase_add_test(tc, birthday_wanted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(pathsel_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
