/*
 * The STUN responder of lanrage-controld (proto/stun.md): Binding
 * requests on UDP, answered with the mapped address, and the RFC 5780
 * attributes that let a node tell its NAT's mapping and filtering: a
 * second port (and, with two addresses, a second address) to answer
 * from on CHANGE-REQUEST, and OTHER-ADDRESS naming it.
 */
#ifndef LR_LANRAGE_CONTROLD_STUND_H
#define LR_LANRAGE_CONTROLD_STUND_H

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
};

/* Bind every (address, port) pair; NULL with errno.  Before the sandbox. */
struct stund	*stund_new(const struct stund_conf *);
/* Serve on base. */
int		 stund_start(struct stund *, struct event_base *);
void		 stund_free(struct stund *);

#endif
