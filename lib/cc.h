/*
 * A session with lanrage-controld (one per process), on the event loop
 * of lib/proc: lanraged's as a node (HELLO, heartbeats), lanrage-relayd's
 * as a relay (RELAY_HELLO, reports).  See proto/control.md.
 */
#ifndef LR_LIB_CC_H
#define LR_LIB_CC_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "proto/control.h"

#define CC_ERROR_MAX	192

enum cc_state {
	CC_UNCONFIGURED,	/* no server or key */
	CC_CONNECTING,		/* resolving, connecting */
	CC_HANDSHAKE,		/* message 1 sent, waiting for WELCOME */
	CC_READY,		/* WELCOME seen: requests may go */
	CC_WAITING,		/* backing off before the next attempt */
};

/*
 * reply and push get every reply and push but HEARTBEAT_ACK, and return
 * -1 for a protocol violation (the session is then dropped).  down runs
 * when a session ends or an attempt fails; was_ready says whether
 * requests could have been in flight.
 */
struct cc_hooks {
	void	(*welcome)(const struct control_welcome *);
	int	(*reply)(const struct control_hdr *);
	int	(*push)(const struct control_hdr *);
	void	(*down)(bool was_ready);
	/* relays: instead of welcome, and what each report says */
	void	(*relay_welcome)(const struct control_relay_welcome *);
	void	(*report)(struct control_relay_report *);
};

int		 cc_init(const struct cc_hooks *, const uint8_t priv[32]);
/* (Re)connect to server (host:port) pinned to key; NULL: unconfigured. */
void		 cc_configure(const char *server, const uint8_t key[32],
		    const struct control_hello *);
/* The same for a relay, which says RELAY_HELLO and sends reports. */
void		 cc_configure_relay(const char *server, const uint8_t key[32],
		    const struct control_relay_hello *);
/* Candidates for the next HELLO (the session in progress keeps its own). */
void		 cc_set_endpoints(const struct control_endpoints *);
void		 cc_shutdown(void);
/* Send a request when READY; -1/ENOTCONN otherwise. */
int		 cc_send(uint16_t type, const void *payload, size_t len,
		    uint32_t *id);
/* End the session for a violation the hooks found, and retry later. */
void		 cc_drop(const char *why);
enum cc_state	 cc_state(void);
const char	*cc_state_name(void);
const char	*cc_error(void);		/* NULL: none */
const char	*cc_server(void);		/* "" when unconfigured */
long		 cc_retry_in(void);		/* seconds, -1: none */
/* The server's address of the session, when READY; -1/ENOTCONN. */
int		 cc_peer(struct sockaddr_storage *);

#endif
