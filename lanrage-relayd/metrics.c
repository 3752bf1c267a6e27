/*
 * Counters of lanrage-relayd as Prometheus text (exposition format
 * 0.0.4) on MetricsListen (loopback unless configured otherwise), and
 * the same numbers in the log on SIGUSR1.
 */
#include <sys/socket.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-relayd/relayd.h"
#include "lib/log.h"
#include "lib/proc.h"

#define METRICS_MAX	8192

static struct {
	struct evhttp	*http;
	int		 fd;
} M = { NULL, -1 };

static const char *const drop_names[RD_NDROPS] = {
	[RD_MALFORMED] = "malformed",
	[RD_UNBOUND] = "unbound",
	[RD_RATE] = "rate",
	[RD_BUDGET] = "bind_budget",
	[RD_BAD_TOKEN] = "bad_token",
	[RD_EXPIRED] = "expired_token",
	[RD_WRONG_RELAY] = "wrong_relay",
	[RD_NO_KEY] = "no_token_key",
	[RD_BAD_BOX] = "bad_box",
	[RD_SKEW] = "clock_skew",
	[RD_REPLAY] = "replay",
	[RD_TAG_CONFLICT] = "tag_conflict",
	[RD_ADDR_BUSY] = "address_busy",
	[RD_FULL] = "full",
	[RD_NO_DEST] = "no_destination",
	[RD_SEND_FAILED] = "send_failed",
};

const char *
relayd_drop_name(enum relayd_drop d)
{
	return (unsigned)d < RD_NDROPS ? drop_names[d] : "unknown";
}

void
relayd_stats_sum(struct relayd_ctx *ctx, struct relayd_stats *out)
{
	const struct relayd_stats	*w;
	size_t				 i, d;

	memset(out, 0, sizeof(*out));
#define SUM(f)	out->f += atomic_load_explicit(&w->f, memory_order_relaxed)
	for (i = 0; i < ctx->nworkers; i++) {
		w = &ctx->w[i].st;
		SUM(rx_packets);
		SUM(rx_bytes);
		SUM(fwd_packets);
		SUM(fwd_bytes);
		SUM(tx_packets);
		SUM(tx_bytes);
		SUM(binds);
		SUM(pongs);
		for (d = 0; d < RD_NDROPS; d++)
			SUM(drops[d]);
	}
#undef SUM
}

/* Append to out; false once it is full. */
static bool
mt_put(char *out, size_t len, size_t *off, const char *name,
    const char *type, const char *help, const char *labels, uint64_t v)
{
	int	 n;

	if (help != NULL)
		n = snprintf(out + *off, len - *off, "# HELP %s %s\n"
		    "# TYPE %s %s\n%s%s %llu\n", name, help, name, type, name,
		    labels, (unsigned long long)v);
	else
		n = snprintf(out + *off, len - *off, "%s%s %llu\n", name,
		    labels, (unsigned long long)v);
	if (n < 0 || (size_t)n >= len - *off)
		return false;
	*off += (size_t)n;
	return true;
}

int
relayd_metrics_text(struct relayd_ctx *ctx, char *out, size_t len)
{
	struct relayd_stats	 st;
	char			 lab[64];
	size_t			 off = 0, nb, np, d;
	bool			 ok;

	relayd_stats_sum(ctx, &st);
	rtab_rdlock(ctx->tab);
	nb = rtab_nbindings(ctx->tab);
	np = rtab_nparties(ctx->tab);
	rtab_unlock(ctx->tab);
	ok = mt_put(out, len, &off, "lanrage_relayd_received_packets_total",
	    "counter", "Datagrams received.", "", st.rx_packets) &&
	    mt_put(out, len, &off, "lanrage_relayd_received_bytes_total",
	    "counter", "Bytes received.", "", st.rx_bytes) &&
	    mt_put(out, len, &off, "lanrage_relayd_forwarded_packets_total",
	    "counter", "SEND frames forwarded as RECV.", "", st.fwd_packets) &&
	    mt_put(out, len, &off, "lanrage_relayd_forwarded_bytes_total",
	    "counter", "Bytes forwarded.", "", st.fwd_bytes) &&
	    mt_put(out, len, &off, "lanrage_relayd_sent_packets_total",
	    "counter", "Datagrams sent (forwarded and answers).", "",
	    st.tx_packets) &&
	    mt_put(out, len, &off, "lanrage_relayd_sent_bytes_total",
	    "counter", "Bytes sent.", "", st.tx_bytes) &&
	    mt_put(out, len, &off, "lanrage_relayd_binds_total", "counter",
	    "Bindings made or refreshed.", "", st.binds) &&
	    mt_put(out, len, &off, "lanrage_relayd_bound_nodes", "gauge",
	    "Nodes bound now.", "", nb) &&
	    mt_put(out, len, &off, "lanrage_relayd_parties", "gauge",
	    "Parties with a node bound now.", "", np) &&
	    mt_put(out, len, &off, "lanrage_relayd_load", "gauge",
	    "Forwarding load, 0 to 255 of Capacity.", "", relayd_load(ctx));
	for (d = 0; ok && d < RD_NDROPS; d++) {
		snprintf(lab, sizeof(lab), "{reason=\"%s\"}", drop_names[d]);
		ok = mt_put(out, len, &off, "lanrage_relayd_dropped_total",
		    "counter", d == 0 ? "Datagrams dropped, by reason." : NULL,
		    lab, st.drops[d]);
	}
	return ok ? (int)off : -1;
}

void
relayd_metrics_log(struct relayd_ctx *ctx)
{
	struct relayd_stats	 st;
	size_t			 d;

	relayd_stats_sum(ctx, &st);
	rtab_rdlock(ctx->tab);
	log_info("stats: %zu bound in %zu parties; received %llu (%llu "
	    "bytes), forwarded %llu (%llu bytes), binds %llu, load %u",
	    rtab_nbindings(ctx->tab), rtab_nparties(ctx->tab),
	    (unsigned long long)st.rx_packets,
	    (unsigned long long)st.rx_bytes,
	    (unsigned long long)st.fwd_packets,
	    (unsigned long long)st.fwd_bytes, (unsigned long long)st.binds,
	    relayd_load(ctx));
	rtab_unlock(ctx->tab);
	for (d = 0; d < RD_NDROPS; d++)
		if (st.drops[d] != 0)
			log_info("stats: dropped %s: %llu", drop_names[d],
			    (unsigned long long)st.drops[d]);
}

static void
mt_request(struct evhttp_request *req, void *arg)
{
	struct relayd_ctx	*ctx = arg;
	struct evbuffer		*b;
	char			 text[METRICS_MAX];
	int			 n;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    strcmp(evhttp_request_get_uri(req), "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only GET /metrics");
		return;
	}
	if ((n = relayd_metrics_text(ctx, text, sizeof(text))) == -1 ||
	    (b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(b, text, (size_t)n);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* Bound before the sandbox; served once the loop runs. */
int
relayd_metrics_listen(struct relayd_ctx *ctx)
{
	const struct relayd_conf	*c = ctx->conf;
	int				 on = 1;

	if (c->mss.ss_family == 0)
		return 0;
	M.fd = socket(c->mss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (M.fd == -1 || setsockopt(M.fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1 || bind(M.fd, (const struct sockaddr *)&c->mss,
	    c->msslen) == -1 || listen(M.fd, 16) == -1)
		return -1;
	return 0;
}

int
relayd_metrics_start(struct relayd_ctx *ctx)
{
	if (M.fd == -1)
		return 0;
	if ((M.http = evhttp_new(proc_base())) == NULL ||
	    evhttp_accept_socket(M.http, M.fd) == -1)
		return -1;
	/* small, bounded requests and slow clients cut off */
	evhttp_set_max_headers_size(M.http, 4096);
	evhttp_set_max_body_size(M.http, 0);
	evhttp_set_timeout(M.http, 5);
	evhttp_set_gencb(M.http, mt_request, ctx);
	return 0;
}

void
relayd_metrics_free(void)
{
	if (M.http != NULL)
		evhttp_free(M.http);	/* closes the bound socket too */
	else if (M.fd != -1)
		close(M.fd);
	M.http = NULL;
	M.fd = -1;
}
