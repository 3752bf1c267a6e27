/*
 * The control server's relay registry: the relays (lanrage-relayd) that
 * hold a session and report, in memory only, and the admission tokens
 * it signs for nodes (proto/relay.md).  A relay is listed while its
 * session lives and its last report is younger than three report
 * intervals.  Bounded: RELAYS_MAX relays.  One thread.
 */
#ifndef LR_LANRAGE_CONTROLD_RELAYS_H
#define LR_LANRAGE_CONTROLD_RELAYS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/control.h"
#include "proto/relay.h"

#define RELAYS_MAX		64

struct relays_entry {
	uint8_t		 key[CONTROL_KEYLEN];
	char		 region[CONTROL_NAMESIZ];
	uint32_t	 capacity;
	uint8_t		 load;
	uint32_t	 nbound;
	struct addr	 addr;		/* where nodes send */
	uint16_t	 port;
	uint64_t	 reported_ms;	/* monotonic */
	bool		 used;
};

struct relays {
	struct relays_entry	 e[RELAYS_MAX];
	uint8_t			 sign_pk[RELAY_SIGNKEYLEN];
	uint8_t			 sign_sk[RELAY_SIGNSECLEN];
	uint64_t		 stale_ms;	/* three report intervals */
	uint32_t		 token_ttl;	/* seconds */
};

/* The signing key from the server's private key; the limits. */
int	 relays_init(struct relays *, const uint8_t server_priv[32],
	    uint16_t report_s, uint32_t token_ttl);
void	 relays_wipe(struct relays *);
/* Add or refresh a relay after RELAY_HELLO; -1/ENOSPC when full. */
int	 relays_add(struct relays *, const uint8_t key[32],
	    const struct control_relay_hello *, const struct addr *,
	    uint64_t now_ms);
/* A RELAY_REPORT; -1/ENOENT for a relay we do not list. */
int	 relays_report(struct relays *, const uint8_t key[32],
	    const struct control_relay_report *, uint64_t now_ms);
void	 relays_remove(struct relays *, const uint8_t key[32]);
/*
 * The live relays, least loaded first, each with a token for node in
 * party signed now (Unix seconds).
 */
void	 relays_list(const struct relays *, const uint8_t party[16],
	    const uint8_t node[32], int64_t now, uint64_t now_ms,
	    struct control_relay_list *);

#endif
