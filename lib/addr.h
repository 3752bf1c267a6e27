/*
 * IPv4/IPv6 addresses, prefixes and socket addresses: parsing, formatting
 * and containment.  Parsers are strict: no surrounding spaces, no trailing
 * bytes, decimal ports 0-65535, prefix lengths within the family.
 */
#ifndef LR_LIB_ADDR_H
#define LR_LIB_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addr {
	sa_family_t	 af;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
		uint8_t		bytes[16];
	};
};

/* An address with a prefix length; host bits may be set (10.66.0.1/16). */
struct prefix {
	struct addr	 addr;
	uint8_t		 len;
};

#define LR_ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */
#define LR_PREFIX_STRLEN (LR_ADDR_STRLEN + 4)
#define LR_SOCKADDR_STRLEN (LR_ADDR_STRLEN + 8)	/* [v6]:65535 */

int	 addr_parse(const char *, struct addr *);
/* "a.b.c.d/n" or "v6/n"; without "/n" the full host length. */
int	 prefix_parse(const char *, struct prefix *);
/* "1.2.3.4:51820" or "[::1]:51820". */
int	 sockaddr_parse(const char *, struct sockaddr_storage *, socklen_t *);

size_t	 addr_len(sa_family_t);		/* 4, 16, or 0 */
unsigned addr_maxlen(sa_family_t);	/* 32, 128, or 0 */
bool	 addr_eq(const struct addr *, const struct addr *);
/* Clear the host bits beyond len. */
void	 prefix_mask(struct prefix *);
bool	 prefix_is_canonical(const struct prefix *);
bool	 prefix_contains_addr(const struct prefix *, const struct addr *);
/* inner lies entirely within outer (same family, len >= outer len). */
bool	 prefix_contains(const struct prefix *outer, const struct prefix *inner);

const char *addr_fmt(const struct addr *, char *, size_t);
const char *prefix_fmt(const struct prefix *, char *, size_t);
const char *sockaddr_fmt(const struct sockaddr *, char *, size_t);
/* Same family, address and port (IPv4 or IPv6; nothing else is equal). */
bool	 sockaddr_eq(const struct sockaddr *, const struct sockaddr *);
/* Fill a sockaddr from addr + port; returns its length. */
socklen_t addr_to_sockaddr(const struct addr *, uint16_t port,
	    struct sockaddr_storage *);
int	 addr_from_sockaddr(const struct sockaddr *, struct addr *,
	    uint16_t *port);

#endif
