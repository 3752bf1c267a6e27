/*
 * Live metrics (proto/api.md, "Metrics"): once a second, this node's CPU,
 * memory and throughput and each peer's RTT, jitter, loss and quality go
 * into rings of METRICS_HISTORY samples (an hour), which the web UI draws
 * and /metrics exports as Prometheus text.
 */
#include <sys/param.h>

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/proc.h"

#define METRICS_HISTORY		3600	/* samples, one a second */
#define METRICS_NO_VALUE	UINT32_MAX

struct metrics_node {
	int64_t		 t;		/* wall clock, seconds */
	uint32_t	 cpu_permille;	/* of one CPU */
	uint64_t	 rss;		/* bytes */
	uint64_t	 rx_bps, tx_bps;
};

struct metrics_peer_sample {
	uint32_t	 rtt_us, jitter_us;	/* METRICS_NO_VALUE: none */
	uint8_t		 loss_pct;		/* 255: none */
	uint8_t		 quality;
};

/* A peer's ring, indexed like the node's. */
struct metrics_peer {
	char				 key[NODE_B64KEY_LEN + 1];
	char				 name[CONTROL_NAMESIZ];
	struct metrics_peer_sample	*ring;
	bool				 seen;	/* in the last sample */
};

static struct {
	struct event		*tick;
	struct metrics_node	 ring[METRICS_HISTORY];
	size_t			 next, count;	/* ring position, filled */
	struct metrics_peer	 peers[CONTROL_MAX_MEMBERS];
	size_t			 npeers;
	uint64_t		 cpu_ns, wall_ns;	/* at the last sample */
	uint64_t		 rx, tx;		/* peers' sums, then */
	json_t			*latest;
} M;

/*
 * The quality score, 0 (unusable) to 100: no path is 0; otherwise 100
 * less the RTT's milliseconds beyond 20 over 2, twice the jitter's
 * milliseconds, three points per percent lost and 5 for a relay; never
 * under 1 while packets pass.  proto/api.md says the same.
 */
unsigned
metrics_quality(double rtt_ms, double jitter_ms, double loss_pct,
    bool relayed, bool have_path)
{
	double	 q = 100;

	if (!have_path)
		return 0;
	if (rtt_ms > 20)
		q -= (rtt_ms - 20) / 2;
	q -= jitter_ms * 2 + loss_pct * 3 + (relayed ? 5 : 0);
	if (loss_pct >= 100)
		return 0;
	return q < 1 ? 1 : (unsigned)(q + 0.5);
}

static uint64_t
metrics_cpu_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Resident set from /proc/self/statm (pages, second field). */
static uint64_t
metrics_rss(void)
{
	unsigned long	 size, rss;
	FILE		*f = fopen("/proc/self/statm", "re");
	int		 n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &rss);
	fclose(f);
	return n == 2 ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static double
metrics_num(json_t *o, const char *key, double none)
{
	json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : none;
}

/* Peers by key: names need not be unique. */
static struct metrics_peer *
metrics_peer_slot(const char *key, const char *name)
{
	struct metrics_peer	*p;
	size_t			 i;

	for (i = 0; i < M.npeers; i++)
		if (strcmp(M.peers[i].key, key) == 0) {
			snprintf(M.peers[i].name, sizeof(M.peers[i].name),
			    "%s", name);
			return &M.peers[i];
		}
	if (M.npeers == CONTROL_MAX_MEMBERS)
		return NULL;
	p = &M.peers[M.npeers];
	/* all "no value" until it was seen: its history starts now */
	if ((p->ring = malloc(METRICS_HISTORY * sizeof(*p->ring))) == NULL)
		return NULL;
	memset(p->ring, 0xff, METRICS_HISTORY * sizeof(*p->ring));
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->name, sizeof(p->name), "%s", name);
	M.npeers++;
	return p;
}

/* Peers no longer in the party lose their history. */
static void
metrics_peers_prune(void)
{
	size_t	 i = 0;

	while (i < M.npeers) {
		if (M.peers[i].seen) {
			M.peers[i++].seen = false;
			continue;
		}
		free(M.peers[i].ring);
		M.peers[i] = M.peers[--M.npeers];
	}
}

/* One peer's sample into its ring and into the latest sample's JSON. */
static void
metrics_peer_take(json_t *peer, size_t slot, json_t *out)
{
	struct metrics_peer_sample	 s;
	struct metrics_peer		*p;
	const char			*name, *key, *path;
	double				 rtt, jit, loss;
	bool				 have;

	name = json_string_value(json_object_get(peer, "name"));
	key = json_string_value(json_object_get(peer, "public_key"));
	path = json_string_value(json_object_get(peer, "path"));
	if (name == NULL || key == NULL ||
	    (p = metrics_peer_slot(key, name)) == NULL)
		return;
	p->seen = true;
	rtt = metrics_num(peer, "rtt_ms", -1);
	jit = metrics_num(peer, "jitter_ms", 0);
	loss = metrics_num(peer, "loss_pct", -1);
	have = path != NULL && strcmp(path, "none") != 0 && rtt >= 0;
	s.rtt_us = rtt >= 0 ? (uint32_t)(rtt * 1000) : METRICS_NO_VALUE;
	s.jitter_us = rtt >= 0 ? (uint32_t)(jit * 1000) : METRICS_NO_VALUE;
	s.loss_pct = loss >= 0 ? (uint8_t)loss : 255;
	s.quality = (uint8_t)metrics_quality(rtt, jit, loss < 0 ? 0 : loss,
	    path != NULL && strcmp(path, "relay") == 0, have);
	p->ring[slot] = s;
	json_object_set_new(out, key, json_pack("{s:s, s:o, s:o, s:o, s:i}",
	    "name", name, "rtt_ms", rtt >= 0 ? json_real(rtt) : json_null(),
	    "jitter_ms", rtt >= 0 ? json_real(jit) : json_null(),
	    "loss_pct", loss >= 0 ? json_real(loss) : json_null(),
	    "quality", (int)s.quality));
}

static void
metrics_sample(evutil_socket_t fd, short ev, void *arg)
{
	struct metrics_node	*n = &M.ring[M.next];
	json_t			*peers = party_peers_json(), *a, *p, *out;
	uint64_t		 cpu = metrics_cpu_ns(), wall = clock_mono_us() *
	    1000, rx = 0, tx = 0, dt;
	size_t			 i;

	out = json_object();
	a = json_object_get(peers, "peers");
	for (i = 0; out != NULL && i < json_array_size(a); i++) {
		p = json_array_get(a, i);
		rx += (uint64_t)metrics_num(p, "rx_bytes", 0);
		tx += (uint64_t)metrics_num(p, "tx_bytes", 0);
		metrics_peer_take(p, M.next, out);
	}
	json_decref(peers);
	metrics_peers_prune();
	dt = M.wall_ns != 0 && wall > M.wall_ns ? wall - M.wall_ns : 0;
	n->t = (int64_t)time(NULL);
	n->cpu_permille = dt != 0 ? (uint32_t)((cpu - M.cpu_ns) * 1000 / dt) :
	    0;
	n->rss = metrics_rss();
	/* counters restart with a new party: no negative rates */
	n->rx_bps = dt != 0 && rx >= M.rx ? (rx - M.rx) * 8000000000 / dt : 0;
	n->tx_bps = dt != 0 && tx >= M.tx ? (tx - M.tx) * 8000000000 / dt : 0;
	M.cpu_ns = cpu;
	M.wall_ns = wall;
	M.rx = rx;
	M.tx = tx;
	json_decref(M.latest);
	M.latest = json_pack("{s:I, s:f, s:I, s:I, s:I, s:o}", "t",
	    (json_int_t)n->t, "cpu_pct", n->cpu_permille / 10.0, "rss_bytes",
	    (json_int_t)n->rss, "rx_bps", (json_int_t)n->rx_bps, "tx_bps",
	    (json_int_t)n->tx_bps, "peers", out != NULL ? out : json_object());
	M.next = (M.next + 1) % METRICS_HISTORY;
	if (M.count < METRICS_HISTORY)
		M.count++;
}

json_t *
metrics_latest_json(void)
{
	return M.latest != NULL ? json_incref(M.latest) : json_null();
}

static json_t *
metrics_us(uint32_t us)
{
	return us == METRICS_NO_VALUE ? json_null() : json_real(us / 1000.0);
}

/* The last n samples of one peer, oldest first. */
static json_t *
metrics_peer_series(const struct metrics_peer *p, size_t first, size_t n)
{
	json_t					*rtt, *jit, *loss, *q;
	const struct metrics_peer_sample	*s;
	size_t					 i;

	rtt = json_array();
	jit = json_array();
	loss = json_array();
	q = json_array();
	for (i = 0; i < n; i++) {
		s = &p->ring[(first + i) % METRICS_HISTORY];
		json_array_append_new(rtt, metrics_us(s->rtt_us));
		json_array_append_new(jit, metrics_us(s->jitter_us));
		json_array_append_new(loss, s->loss_pct == 255 ? json_null() :
		    json_integer(s->loss_pct));
		json_array_append_new(q, s->quality == 255 ? json_null() :
		    json_integer(s->quality));
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", p->name,
	    "rtt_ms", rtt, "jitter_ms", jit, "loss_pct", loss, "quality", q);
}

/* "seconds=N" (1..3600, default 300): the last N samples; NULL: bad. */
json_t *
metrics_history_json(const char *query)
{
	json_t		*t, *cpu, *rss, *rx, *tx, *peers;
	unsigned long	 secs = 300;
	size_t		 i, n, first;
	char		*end;

	if (query != NULL && *query != '\0') {
		if (strncmp(query, "seconds=", 8) != 0)
			return NULL;
		errno = 0;
		secs = strtoul(query + 8, &end, 10);
		if (errno != 0 || *end != '\0' || end == query + 8 ||
		    secs < 1 || secs > METRICS_HISTORY)
			return NULL;
	}
	n = MIN(secs, M.count);
	first = (M.next + METRICS_HISTORY - n) % METRICS_HISTORY;
	t = json_array();
	cpu = json_array();
	rss = json_array();
	rx = json_array();
	tx = json_array();
	for (i = 0; i < n; i++) {
		const struct metrics_node *s = &M.ring[(first + i) %
		    METRICS_HISTORY];

		json_array_append_new(t, json_integer(s->t));
		json_array_append_new(cpu, json_real(s->cpu_permille / 10.0));
		json_array_append_new(rss, json_integer((json_int_t)s->rss));
		json_array_append_new(rx, json_integer((json_int_t)s->rx_bps));
		json_array_append_new(tx, json_integer((json_int_t)s->tx_bps));
	}
	peers = json_object();
	for (i = 0; i < M.npeers; i++)
		json_object_set_new(peers, M.peers[i].key,
		    metrics_peer_series(&M.peers[i], first, n));
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "interval_s",
	    1, "t", t, "cpu_pct", cpu, "rss_bytes", rss, "rx_bps", rx,
	    "tx_bps", tx, "peers", peers);
}

/* ---- Prometheus text (exposition format 0.0.4) ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {peer="NAME",key="KEY" (names may repeat, keys do not) */
static void
metrics_peer_labels(FILE *f, const char *metric, const char *name,
    const char *key)
{
	fprintf(f, "%s{peer=\"", metric);
	metrics_label(f, name != NULL ? name : "");
	fputs("\",key=\"", f);
	metrics_label(f, key != NULL ? key : "");
	fputc('"', f);
}

static void
metrics_peer_of(FILE *f, const char *metric, json_t *p)
{
	metrics_peer_labels(f, metric, json_string_value(json_object_get(p,
	    "name")), json_string_value(json_object_get(p, "public_key")));
}

/* One metric with a value per peer (those with no value are left out). */
static void
metrics_per_peer(FILE *f, json_t *peers, const char *name, const char *type,
    const char *help, const char *key, double scale)
{
	json_t	*p, *v;
	size_t	 i;

	metrics_head(f, name, type, help);
	json_array_foreach(peers, i, p) {
		v = json_object_get(p, key);
		if (!json_is_number(v))
			continue;
		metrics_peer_of(f, name, p);
		fprintf(f, "} %.9g\n", json_number_value(v) * scale);
	}
}

static void
metrics_peer_path(FILE *f, json_t *peers)
{
	const char	*path;
	json_t		*p;
	size_t		 i;

	metrics_head(f, "lanrage_peer_path", "gauge",
	    "The path to the peer: 1 for the one in use (direct, relay, none)");
	json_array_foreach(peers, i, p) {
		path = json_string_value(json_object_get(p, "path"));
		metrics_peer_of(f, "lanrage_peer_path", p);
		fprintf(f, ",path=\"%s\"} 1\n", path != NULL &&
		    (strcmp(path, "direct") == 0 || strcmp(path, "relay") ==
		    0) ? path : "none");
	}
}

static void
metrics_quality_out(FILE *f)
{
	json_t		*peers = json_object_get(M.latest, "peers"), *v;
	const char	*key;

	metrics_head(f, "lanrage_peer_quality", "gauge",
	    "Quality score 0 to 100 (proto/api.md)");
	json_object_foreach(peers, key, v) {
		metrics_peer_labels(f, "lanrage_peer_quality",
		    json_string_value(json_object_get(v, "name")), key);
		fprintf(f, "} %d\n", (int)json_integer_value(
		    json_object_get(v, "quality")));
	}
}

static void
metrics_node_out(FILE *f)
{
	const struct metrics_node *n = &M.ring[(M.next + METRICS_HISTORY - 1) %
	    METRICS_HISTORY];

	metrics_head(f, "lanrage_process_cpu_seconds_total", "counter",
	    "CPU time lanraged used");
	fprintf(f, "lanrage_process_cpu_seconds_total %.6f\n",
	    metrics_cpu_ns() / 1e9);
	metrics_head(f, "lanrage_process_resident_memory_bytes", "gauge",
	    "Resident memory of lanraged");
	fprintf(f, "lanrage_process_resident_memory_bytes %llu\n",
	    (unsigned long long)metrics_rss());
	metrics_head(f, "lanrage_throughput_bytes_per_second", "gauge",
	    "Tunnel throughput over the last second");
	fprintf(f, "lanrage_throughput_bytes_per_second{direction=\"rx\"} "
	    "%llu\n", (unsigned long long)(M.count > 0 ? n->rx_bps / 8 : 0));
	fprintf(f, "lanrage_throughput_bytes_per_second{direction=\"tx\"} "
	    "%llu\n", (unsigned long long)(M.count > 0 ? n->tx_bps / 8 : 0));
}

char *
metrics_prometheus(void)
{
	json_t	*o = party_peers_json(), *peers = json_object_get(o, "peers");
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL) {
		json_decref(o);
		return NULL;
	}
	metrics_node_out(f);
	metrics_head(f, "lanrage_peers", "gauge", "Members of the party "
	    "besides this node");
	fprintf(f, "lanrage_peers %zu\n", json_array_size(peers));
	metrics_per_peer(f, peers, "lanrage_peer_rtt_seconds", "gauge",
	    "Round-trip time of the path in use", "rtt_ms", 1e-3);
	metrics_per_peer(f, peers, "lanrage_peer_jitter_seconds", "gauge",
	    "Jitter of the path in use (RFC 3550)", "jitter_ms", 1e-3);
	metrics_per_peer(f, peers, "lanrage_peer_loss_ratio", "gauge",
	    "Share of disco pings lost on the path in use", "loss_pct", 1e-2);
	metrics_per_peer(f, peers, "lanrage_peer_receive_bytes_total",
	    "counter", "Bytes received from the peer", "rx_bytes", 1);
	metrics_per_peer(f, peers, "lanrage_peer_transmit_bytes_total",
	    "counter", "Bytes sent to the peer", "tx_bytes", 1);
	metrics_per_peer(f, peers, "lanrage_peer_handshake_age_seconds",
	    "gauge", "Time since the last WireGuard handshake",
	    "handshake_age", 1);
	metrics_peer_path(f, peers);
	metrics_quality_out(f);
	json_decref(o);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int
metrics_start(void)
{
	struct timeval	 tv = { 1, 0 };

	if ((M.tick = event_new(proc_base(), -1, EV_PERSIST, metrics_sample,
	    NULL)) == NULL || event_add(M.tick, &tv) == -1)
		return -1;
	metrics_sample(-1, 0, NULL);
	return 0;
}

void
metrics_stop(void)
{
	if (M.tick != NULL)
		event_free(M.tick);
	while (M.npeers > 0)
		free(M.peers[--M.npeers].ring);
	json_decref(M.latest);
	memset(&M, 0, sizeof(M));
}
