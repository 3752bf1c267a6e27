/*
 * Request handling of lanrage-controld: the session server (csrv.h)
 * carries the control messages of proto/control.h, the registry
 * (registry.h) keeps the state.  One live connection per node key (a new
 * session replaces the old one).  Endpoint candidates and per-party delta
 * sequence numbers live in memory only.  Runs on the caller's event base;
 * one thread.
 */
#ifndef LR_LANRAGE_CONTROLD_CTLD_H
#define LR_LANRAGE_CONTROLD_CTLD_H

#include <stdint.h>

#include "lanrage-controld/csrv.h"

struct event_base;
struct ctld;

#define CTLD_MAX_RELAY_KEYS	64

struct ctld_limits {
	struct csrv_limits csrv;
	uint16_t	 heartbeat;	/* seconds, told in WELCOME */
	int64_t		 member_timeout;	/* seconds without heartbeat */
	int64_t		 party_grace;	/* seconds an empty party lives */
	int		 tick_ms;	/* flush and expiry period */
	unsigned	 rate;		/* requests per second per node */
	unsigned	 burst;		/* token bucket depth */
	uint32_t	 invite_ttl_max; /* seconds; also for "never" */
	int64_t		(*clock)(void);	/* Unix seconds; NULL: time() */
	const uint8_t	(*relay_keys)[32];	/* may send RELAY_HELLO */
	size_t		 nrelay_keys;
	uint16_t	 relay_report;	/* seconds, told in RELAY_WELCOME */
	uint32_t	 relay_token_ttl;	/* seconds */
};

/*
 * Serve on lfd (listening, non-blocking) with the server's private key
 * and the registry at dbpath.  NULL with errno on failure.
 */
struct ctld	*ctld_new(struct event_base *, int lfd, const uint8_t priv[32],
		    const char *dbpath, const struct ctld_limits *);
/* Close every session, the registry (flushing it) and free. */
void		 ctld_free(struct ctld *);

#endif
