/*
 * Allowed IPs: longest-prefix match from an IPv4 or IPv6 address to the
 * peer that owns it.  Outgoing packets pick their peer by destination;
 * incoming ones are dropped unless their source maps back to the peer
 * that sent them.  Peers are opaque pointers, never dereferenced.
 *
 * One path-compressed binary trie per family.  Lookups allocate nothing
 * and touch no shared state, so any number may run at once; writers
 * (insert, remove, remove_peer, free) change nodes in place and must
 * exclude readers and each other.  The caller provides that, e.g. with a
 * rwlock held shared around lookup/foreach and exclusive around writes.
 * Addresses are in network byte order: 4 bytes for AF_INET, 16 for
 * AF_INET6.
 */
#ifndef LR_WG_ALLOWEDIPS_H
#define LR_WG_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

/* Bound on prefixes, both families together; writers get ENOSPC past it. */
#define WG_ALLOWEDIPS_MAX	65536

struct wg_aip_node;

struct wg_allowedips {
	struct wg_aip_node	*root4;
	struct wg_aip_node	*root6;
	size_t			 count;		/* prefixes with an owner */
};

void	 wg_allowedips_init(struct wg_allowedips *);
/* Frees every node; the table is empty and reusable afterwards. */
void	 wg_allowedips_free(struct wg_allowedips *);

/*
 * Maps addr/cidr (host bits ignored) to peer, replacing the owner of an
 * existing identical prefix.  -1 with EAFNOSUPPORT, EINVAL (cidr too
 * long, peer NULL), ENOSPC (table full) or ENOMEM; nothing changes then.
 */
int	 wg_allowedips_insert(struct wg_allowedips *, int af,
	    const uint8_t *addr, uint8_t cidr, void *peer);
/* Removes addr/cidr if peer owns exactly it; -1 with ENOENT otherwise. */
int	 wg_allowedips_remove(struct wg_allowedips *, int af,
	    const uint8_t *addr, uint8_t cidr, void *peer);
/* Removes every prefix owned by peer. */
void	 wg_allowedips_remove_peer(struct wg_allowedips *, void *peer);

/* The owner of the longest prefix holding addr, or NULL. */
void	*wg_allowedips_lookup(const struct wg_allowedips *, int af,
	    const uint8_t *addr);

/*
 * Calls cb for each prefix of peer, IPv4 then IPv6, in address order
 * (a prefix before the longer ones inside it).  addr is only valid during
 * the call.  A nonzero return from cb stops the walk and is returned;
 * cb must not modify the table.
 */
int	 wg_allowedips_foreach_peer(const struct wg_allowedips *, void *peer,
	    int (*cb)(void *arg, int af, const uint8_t *addr, uint8_t cidr),
	    void *arg);

/* Number of prefixes in the table. */
size_t	 wg_allowedips_count(const struct wg_allowedips *);

#endif
