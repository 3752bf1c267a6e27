/*
 * The STUN responder of lanrage-controld (proto/stun.md): Binding
 * requests on UDP, answered with the mapped address, and the RFC 5780
 * attributes that let a node tell its NAT's mapping and filtering: a
 * second port (and, with two addresses, a second address) to answer
 * from on CHANGE-REQUEST, and OTHER-ADDRESS naming it.  Optionally,
 * classic (RFC 3489) Binding requests of old clients too.
 */
#ifndef LR_LANRAGE_CONTROLD_STUND_H
#define LR_LANRAGE_CONTROLD_STUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct event_base;
struct stund;

#define STUND_MAX_ADDRS	2

struct stund_conf {
	struct addr	 addrs[STUND_MAX_ADDRS];	/* none: the wildcard */
	size_t		 naddrs;
	sa_family_t	 af;		/* of the wildcard when naddrs is 0 */
	uint16_t	 port;		/* != 0 */
	uint16_t	 alt_port;	/* 0: none */
	unsigned	 rate;		/* answers per second, all clients */
	/*
	 * Classic (RFC 3489) clients: answered only when set, which needs
	 * two IPv4 addrs and an alt_port.  Their answers are larger than
	 * their requests, so classic_rate (answers per second, != 0) bounds
	 * them on top of rate.
	 */
	bool		 classic;
	unsigned	 classic_rate;
};

/* Bind every (address, port) pair; NULL with errno.  Before the sandbox. */
struct stund	*stund_new(const struct stund_conf *);
/* Serve on base. */
int		 stund_start(struct stund *, struct event_base *);
void		 stund_free(struct stund *);

#endif
