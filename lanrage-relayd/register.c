/*
 * lanrage-relayd's session with lanrage-controld (proto/control.md,
 * "Relays"): RELAY_HELLO with the region, capacity and public address;
 * RELAY_WELCOME brings the token signing key; a report of load and
 * nodes bound every interval the server asked for.  The session of
 * lib/cc.c reconnects with backoff; while it is down the relay goes on
 * forwarding for the nodes it has.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "lanrage-relayd/relayd.h"
#include "lib/cc.h"
#include "lib/log.h"

static struct relayd_ctx	*R;

static void
rg_welcome(const struct control_relay_welcome *w)
{
	const struct relayd_conf	*c = R->conf;

	if (c->have_token_key &&
	    sodium_memcmp(c->token_pk, w->sign_key, RELAY_SIGNKEYLEN) != 0) {
		log_warnx("control: the server signs tokens with another key "
		    "than TokenKey; keeping TokenKey");
		return;
	}
	relayd_set_token_key(R, w->sign_key);
}

static void
rg_report(struct control_relay_report *r)
{
	rtab_rdlock(R->tab);
	r->nbound = (uint32_t)rtab_nbindings(R->tab);
	rtab_unlock(R->tab);
	r->load = relayd_load(R);
}

/* OK to reports; an ERROR is logged, the session goes on. */
static int
rg_reply(const struct control_hdr *h)
{
	struct control_error	 e;

	if (h->type == CONTROL_MSG_OK)
		return control_dec_empty(h->payload, h->len);
	if (h->type != CONTROL_MSG_ERROR ||
	    control_dec_error(h->payload, h->len, &e) == -1)
		return -1;
	log_warnx("control: %s (%s)", control_err_str(e.code), e.text);
	return 0;
}

static int
rg_push(const struct control_hdr *h)
{
	return 0;	/* none are meant for relays: ignored */
}

static void
rg_down(bool was_ready)
{
	if (was_ready)
		log_info("control: session lost; forwarding goes on");
}

static void
rg_hello(const struct relayd_conf *c, struct control_relay_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = CONTROL_VERSION;
	h->port = ntohs(c->ss.ss_family == AF_INET ?
	    ((const struct sockaddr_in *)&c->ss)->sin_port :
	    ((const struct sockaddr_in6 *)&c->ss)->sin6_port);
	memcpy(h->region, c->region, sizeof(h->region));
	h->capacity = (uint32_t)c->capacity;
	if (c->have_public) {
		h->ep.n = 1;
		h->ep.c[0].kind = CONTROL_EP_CONFIGURED;
		h->ep.c[0].addr = c->public_addr_a;
		h->ep.c[0].port = h->port;
	}
}

int
relayd_register_start(struct relayd_ctx *ctx)
{
	static const struct cc_hooks	 hooks = { .reply = rg_reply,
	    .push = rg_push, .down = rg_down, .relay_welcome = rg_welcome,
	    .report = rg_report };
	struct control_relay_hello	 h;

	R = ctx;
	if (ctx->conf->control[0] == '\0')
		return 0;
	if (cc_init(&hooks, ctx->priv) == -1)
		return -1;
	rg_hello(ctx->conf, &h);
	cc_configure_relay(ctx->conf->control, ctx->conf->control_pk, &h);
	return 0;
}

void
relayd_register_stop(void)
{
	if (R != NULL && R->conf->control[0] != '\0')
		cc_shutdown();
}
