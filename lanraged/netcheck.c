/*
 * netcheck: what the node's NAT does to its WireGuard socket, learned
 * from the STUN responder of lanrage-controld (proto/stun.md) with
 * requests sent from that very socket.  One run is a chain of Binding
 * transactions, each tried three times:
 *
 *	map	to the server: the mapped address, and OTHER-ADDRESS
 *	filt1	CHANGE-REQUEST address and port: does an answer from
 *		elsewhere get in?  (filtering: endpoint-independent)
 *	filt2	CHANGE-REQUEST port only (address-dependent)
 *	map2	to the other address, first port: the same mapping?
 *		(mapping behaviour; with a one-address server, to the
 *		other port, and no filtering tests)
 *	hairpin	to our own mapped address: does the NAT loop it back?
 *
 * Filtering goes first: the map2 packet would open an address-restricted
 * NAT to the other address.
 *
 * Answers come through the side channel (sidechan.c) on the event
 * loop.  A response counts only for the transaction in flight (96
 * random bits of id).
 */
#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/wg/device.h"
#include "proto/stun.h"

#define NC_TRIES	3
#define NC_RTO_MS	250	/* between tries */
#define NC_REQLEN	104	/* padded: as large as any answer */
/*
 * A run's own packets open an address-restricted NAT to the server's
 * other address for minutes: the filtering verdict of a run is reused
 * by the runs that follow within this time on the same mapping.
 */
#define NC_FILTER_KEEP	300	/* seconds */
/* Two mappings at most this far apart: a sequential port allocator. */
#define NC_SEQUENTIAL_MAX	8

enum nc_step { NC_IDLE, NC_MAP, NC_MAP2, NC_FILT1, NC_FILT2, NC_HAIRPIN };

static struct {
	struct wg_device	*dev;
	uint16_t		 port;		/* our UDP port */
	struct event		*timer;
	/* the run in progress */
	enum nc_step		 step;
	int			 tries;
	uint8_t			 txid[STUN_TXIDLEN];
	struct sockaddr_storage	 server, dst;
	socklen_t		 serverlen;
	struct stun_addr	 mapped, mapped2, other;
	const char		*mapping, *filtering;
	int			 hairpin;	/* -1 unknown, 0, 1 */
	bool			 filt1_refused;	/* 420: cannot change address */
	struct timespec		 started;
	party_done_cb		 cb;
	void			*ctx;
	json_t			*last;		/* result of the last run */
	struct stun_addr	 filt_mapped;	/* where filtering was seen */
	const char		*filt_verdict;
	time_t			 filt_at;
} NC;

static void	 nc_step_start(enum nc_step);

static const char *
nc_fmt(const struct stun_addr *a, char *s, size_t len)
{
	char	 ip[LR_ADDR_STRLEN];

	snprintf(s, len, a->addr.af == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    addr_fmt(&a->addr, ip, sizeof(ip)), a->port);
	return s;
}

static json_t *
nc_addr_json(const struct stun_addr *a)
{
	char	 s[LR_SOCKADDR_STRLEN];

	return a->present ? json_string(nc_fmt(a, s, sizeof(s))) :
	    json_null();
}

static void
nc_finish(const char *error)
{
	struct timespec	 now;
	long		 ms;
	char		 srv[LR_SOCKADDR_STRLEN];

	evtimer_del(NC.timer);
	sidechan_stun_expect(NULL);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - NC.started.tv_sec) * 1000 +
	    (now.tv_nsec - NC.started.tv_nsec) / 1000000;
	json_decref(NC.last);
	NC.last = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:i, s:I, s:o}",
	    "server", sockaddr_fmt((struct sockaddr *)&NC.server, srv,
	    sizeof(srv)),
	    "mapped", nc_addr_json(&NC.mapped),
	    "mapping", NC.mapping, "filtering", NC.filtering,
	    "port_preserved", NC.mapped.present ?
	    json_boolean(NC.mapped.port == NC.port) : json_null(),
	    "hairpin", NC.hairpin < 0 ? json_null() :
	    json_boolean(NC.hairpin),
	    "duration_ms", (int)ms, "at", (json_int_t)time(NULL),
	    "error", error != NULL ? json_string(error) : json_null());
	NC.step = NC_IDLE;
	if (NC.mapped.present)
		log_info("netcheck: mapped %s, mapping %s, filtering %s",
		    json_string_value(json_object_get(NC.last, "mapped")),
		    NC.mapping, NC.filtering);
	else
		log_info("netcheck: %s", error != NULL ? error : "done");
	if (NC.cb != NULL) {
		json_incref(NC.last);
		NC.cb(NC.ctx, PARTY_OK, NULL, NC.last);
	}
	NC.cb = NULL;
	party_netcheck_done();
}

static void
nc_send(void)
{
	struct stun_msg	 req;
	uint8_t		 mem[STUN_MAXMSG];
	struct buf	 b;
	struct timeval	 tv = { 0, NC_RTO_MS * 1000 };

	memset(&req, 0, sizeof(req));
	req.method = STUN_METHOD_BINDING;
	req.cls = STUN_REQUEST;
	memcpy(req.txid, NC.txid, STUN_TXIDLEN);
	sidechan_stun_expect(NC.txid);
	req.fingerprint = true;
	if (NC.step == NC_FILT1 || NC.step == NC_FILT2) {
		req.has_change = true;
		req.change = STUN_CHANGE_PORT |
		    (NC.step == NC_FILT1 ? STUN_CHANGE_IP : 0);
	}
	req.padding = NC_REQLEN - STUN_HDRLEN - 8 - 4 -
	    (req.has_change ? 8 : 0);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (stun_encode(&b, &req) == 0 && wg_device_send_other(NC.dev,
	    b.data, b.len, (struct sockaddr *)&NC.dst,
	    NC.dst.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)) == -1)
		log_debug("netcheck: send: %s", strerror(errno));
	evtimer_add(NC.timer, &tv);
}

static void
nc_to(struct sockaddr_storage *ss, const struct stun_addr *a)
{
	addr_to_sockaddr(&a->addr, a->port, ss);
}

/* The server's other socket has another address (RFC 5780's A2). */
static bool
nc_two_addresses(void)
{
	struct addr	 a;
	uint16_t	 port;

	if (!NC.other.present || addr_from_sockaddr((struct sockaddr *)
	    &NC.server, &a, &port) == -1)
		return false;
	return !addr_eq(&a, &NC.other.addr);
}

/* Filtering measured lately on this very mapping: take that verdict. */
static bool
nc_filter_known(void)
{
	if (NC.filt_verdict == NULL || time(NULL) - NC.filt_at >
	    NC_FILTER_KEEP || NC.filt_mapped.port != NC.mapped.port ||
	    !addr_eq(&NC.filt_mapped.addr, &NC.mapped.addr))
		return false;
	NC.filtering = NC.filt_verdict;
	return true;
}

static void
nc_filter_seen(void)
{
	NC.filt_mapped = NC.mapped;
	NC.filt_verdict = NC.filtering;
	NC.filt_at = time(NULL);
}

/*
 * The step after cur, given what cur found.  Filtering is tested before
 * the server's other address has been sent to: that packet would open an
 * address-restricted NAT to it.
 */
static void
nc_next(enum nc_step cur)
{
	switch (cur) {
	case NC_MAP:
		if (NC.other.present && !nc_two_addresses()) {
			nc_step_start(NC_MAP2);
			break;
		}
		if (nc_filter_known()) {
			nc_step_start(NC.other.present ? NC_MAP2 : NC_HAIRPIN);
			break;
		}
		nc_step_start(NC_FILT1);
		break;
	case NC_FILT1:
		if (NC.filt1_refused) {
			nc_step_start(NC.other.present ? NC_MAP2 : NC_HAIRPIN);
			break;
		}
		if (strcmp(NC.filtering, "endpoint-independent") != 0) {
			nc_step_start(NC_FILT2);
			break;
		}
		/* FALLTHROUGH */
	case NC_FILT2:
		nc_filter_seen();
		nc_step_start(NC.other.present ? NC_MAP2 : NC_HAIRPIN);
		break;
	case NC_MAP2:
		/*
		 * One server address: the filtering tests would be answered
		 * from the port just contacted, which any NAT lets in.
		 */
		if (!nc_two_addresses())
			NC.filtering = "unknown (the server has one address)";
		nc_step_start(NC_HAIRPIN);
		break;
	default:
		nc_finish(NULL);
	}
}

/*
 * Test II of RFC 5780: the other address with the first port.  Its
 * second port has just answered the filtering tests (unasked, as far
 * as the NAT knows), and a Linux NAT keeps those refused flows: a
 * mapping test there would hit them.
 */
static void
nc_map2_target(struct sockaddr_storage *ss)
{
	struct stun_addr	 t = NC.other;
	struct addr		 a;
	uint16_t		 port;

	if (nc_two_addresses() && addr_from_sockaddr((struct sockaddr *)
	    &NC.server, &a, &port) == 0)
		t.port = port;
	nc_to(ss, &t);
}

static void
nc_step_start(enum nc_step step)
{
	NC.step = step;
	NC.tries = 0;
	randombytes_buf(NC.txid, sizeof(NC.txid));
	if (step == NC_MAP2)
		nc_map2_target(&NC.dst);
	else if (step == NC_HAIRPIN)
		nc_to(&NC.dst, &NC.mapped);
	else
		NC.dst = NC.server;
	nc_send();
}

/* No answer after the last try: what silence means for this step. */
static void
nc_timeout(evutil_socket_t fd, short ev, void *arg)
{
	enum nc_step	 step = NC.step;

	if (++NC.tries < NC_TRIES) {
		nc_send();
		return;
	}
	switch (step) {
	case NC_MAP:
		nc_finish("no answer from the STUN server");
		return;
	case NC_MAP2:
		NC.mapping = "unknown";
		break;
	case NC_FILT2:
		NC.filtering = "address-and-port-dependent";
		break;
	case NC_HAIRPIN:
		NC.hairpin = 0;
		break;
	default:
		break;
	}
	nc_next(step);
}

static void
nc_response(const struct stun_msg *m)
{
	enum nc_step	 step = NC.step;

	if (m->cls == STUN_REQUEST) {		/* our own, looped back */
		if (step != NC_HAIRPIN)
			return;
		NC.hairpin = 1;
	} else if (m->cls == STUN_ERROR) {
		if (step != NC_FILT1)
			return;		/* a retry may still be answered */
		NC.filt1_refused = true;
		NC.filtering = "unknown (the server cannot change address)";
	} else if (m->cls != STUN_SUCCESS || !m->xor_mapped.present) {
		return;
	} else if (step == NC_MAP) {
		NC.mapped = m->xor_mapped;
		NC.other = m->other_address;
	} else if (step == NC_MAP2) {
		NC.mapped2 = m->xor_mapped;
		NC.mapping = addr_eq(&NC.mapped.addr, &NC.mapped2.addr) &&
		    NC.mapped.port == NC.mapped2.port ?
		    "endpoint-independent" : "endpoint-dependent";
	} else if (step == NC_FILT1)
		NC.filtering = "endpoint-independent";
	else if (step == NC_FILT2)
		NC.filtering = "address-dependent";
	else
		return;
	evtimer_del(NC.timer);
	nc_next(step);
}

/* A STUN datagram from the side channel: an answer to the run's request? */
void
netcheck_input(const uint8_t *p, size_t len)
{
	struct stun_msg	 m;

	if (NC.step != NC_IDLE && stun_decode(p, len, &m) == 0 &&
	    m.method == STUN_METHOD_BINDING &&
	    sodium_memcmp(m.txid, NC.txid, STUN_TXIDLEN) == 0)
		nc_response(&m);
}

int
netcheck_init(struct wg_device *dev, uint16_t port)
{
	NC.dev = dev;
	NC.port = port;
	if ((NC.timer = evtimer_new(proc_base(), nc_timeout, NULL)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
netcheck_free(void)
{
	if (NC.timer != NULL)
		event_free(NC.timer);
	json_decref(NC.last);
	memset(&NC, 0, sizeof(NC));
}

bool
netcheck_running(void)
{
	return NC.step != NC_IDLE;
}

int
netcheck_run(const struct sockaddr_storage *server, party_done_cb cb,
    void *ctx)
{
	if (NC.step != NC_IDLE && NC.cb == NULL) {
		/* A run of our own is going on: its result will do. */
		NC.cb = cb;
		NC.ctx = ctx;
		return 0;
	}
	if (NC.step != NC_IDLE) {
		if (cb != NULL)
			cb(ctx, PARTY_E_CONFLICT, "a netcheck is running",
			    NULL);
		return -1;
	}
	NC.server = *server;
	NC.cb = cb;
	NC.ctx = ctx;
	memset(&NC.mapped, 0, sizeof(NC.mapped));
	memset(&NC.mapped2, 0, sizeof(NC.mapped2));
	memset(&NC.other, 0, sizeof(NC.other));
	NC.mapping = "unknown";
	NC.filtering = "unknown";
	NC.hairpin = -1;
	NC.filt1_refused = false;
	clock_gettime(CLOCK_MONOTONIC, &NC.started);
	nc_step_start(NC_MAP);
	return 0;
}

void
netcheck_forget(void *ctx)
{
	if (NC.ctx == ctx)
		NC.cb = NULL;
}

json_t *
netcheck_json(void)
{
	return NC.last != NULL ? json_incref(NC.last) : json_null();
}

/* The address the NAT maps us to, from the last run. */
bool
netcheck_mapped(struct addr *a, uint16_t *port)
{
	if (NC.step != NC_IDLE || !NC.mapped.present)
		return false;
	*a = NC.mapped.addr;
	*port = NC.mapped.port;
	return true;
}

static uint8_t
nc_map_code(const char *m)
{
	if (strcmp(m, "endpoint-independent") == 0)
		return CONTROL_NAT_MAP_INDEPENDENT;
	if (strcmp(m, "endpoint-dependent") == 0)
		return CONTROL_NAT_MAP_DEPENDENT;
	return CONTROL_NAT_MAP_UNKNOWN;
}

static uint8_t
nc_filt_code(const char *f)
{
	if (strcmp(f, "endpoint-independent") == 0)
		return CONTROL_NAT_FILT_INDEPENDENT;
	if (strcmp(f, "address-dependent") == 0)
		return CONTROL_NAT_FILT_ADDRESS;
	if (strcmp(f, "address-and-port-dependent") == 0)
		return CONTROL_NAT_FILT_PORT;
	return CONTROL_NAT_FILT_UNKNOWN;
}

/*
 * The last run's NAT behaviour as a candidate kind (proto/control.md),
 * and, for an endpoint-dependent NAT whose two mappings were a few ports
 * apart in sequence, the port it should give next (0: no guess).
 */
bool
netcheck_nat(uint8_t *kind, uint16_t *predicted)
{
	uint8_t	 map, filt;
	int	 delta;

	*predicted = 0;
	if (NC.step != NC_IDLE || !NC.mapped.present)
		return false;
	map = nc_map_code(NC.mapping);
	filt = nc_filt_code(NC.filtering);
	*kind = map == 0 && filt == 0 ? CONTROL_EP_STUN :
	    CONTROL_EP_STUN_NAT | map << 2 | filt;
	delta = (int)NC.mapped2.port - (int)NC.mapped.port;
	if (map == CONTROL_NAT_MAP_DEPENDENT && NC.mapped2.present &&
	    delta > 0 && delta <= NC_SEQUENTIAL_MAX &&
	    NC.mapped2.port <= 65535 - delta)
		*predicted = (uint16_t)(NC.mapped2.port + delta);
	return true;
}

/* The last run found nothing (lost packets, or no responder). */
bool
netcheck_failed(void)
{
	return NC.step == NC_IDLE && NC.last != NULL &&
	    !json_is_null(json_object_get(NC.last, "error"));
}
