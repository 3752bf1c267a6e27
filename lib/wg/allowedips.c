/*
 * Path-compressed binary trie.  Every address is widened to a 128-bit key
 * (IPv4 in the top 32 bits) so both families share the code.  A node
 * holds a masked prefix; its children extend it, and the bit just past
 * the node's prefix picks the child.  Nodes without a peer only exist
 * where two subtrees fork, so the tree has fewer than 2 * count nodes and
 * is at most 129 levels deep, which bounds the recursion below.
 */
#include <sys/socket.h>

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/allowedips.h"

struct aip_key {
	uint64_t	 hi;
	uint64_t	 lo;
};

struct wg_aip_node {
	struct wg_aip_node	*child[2];
	void			*peer;		/* NULL: fork only */
	struct aip_key		 key;		/* bits past cidr are zero */
	uint8_t			 cidr;
};

static inline uint64_t
load64be(const uint8_t *p)
{
	uint64_t	 v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void
store64be(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

/* The top n (0..64) bits set. */
static inline uint64_t
mask64(unsigned int n)
{
	return n == 0 ? 0 : ~0ULL << (64 - n);
}

static inline uint64_t
mask_hi(unsigned int cidr)
{
	return mask64(cidr < 64 ? cidr : 64);
}

static inline uint64_t
mask_lo(unsigned int cidr)
{
	return mask64(cidr > 64 ? cidr - 64 : 0);
}

/* Bit i (0 is the most significant) of the key; i < 128. */
static inline unsigned int
key_bit(const struct aip_key *k, unsigned int i)
{
	if (i < 64)
		return (k->hi >> (63 - i)) & 1;
	return (k->lo >> (127 - i)) & 1;
}

/* Length of the common prefix of a and b, at most limit. */
static unsigned int
key_common(const struct aip_key *a, const struct aip_key *b,
    unsigned int limit)
{
	uint64_t	 x;
	unsigned int	 n;

	if ((x = a->hi ^ b->hi) != 0)
		n = __builtin_clzll(x);
	else if ((x = a->lo ^ b->lo) != 0)
		n = 64 + __builtin_clzll(x);
	else
		n = 128;
	return n < limit ? n : limit;
}

static inline bool
node_match(const struct wg_aip_node *n, const struct aip_key *k)
{
	return ((k->hi ^ n->key.hi) & mask_hi(n->cidr)) == 0 &&
	    ((k->lo ^ n->key.lo) & mask_lo(n->cidr)) == 0;
}

/* Widens addr to a key; root and maximum prefix length of its family. */
static int
key_load(struct aip_key *k, int af, const uint8_t *addr,
    unsigned int *bits)
{
	uint32_t	 v4;

	switch (af) {
	case AF_INET:
		memcpy(&v4, addr, sizeof(v4));
		k->hi = (uint64_t)be32toh(v4) << 32;
		k->lo = 0;
		*bits = 32;
		return 0;
	case AF_INET6:
		k->hi = load64be(addr);
		k->lo = load64be(addr + 8);
		*bits = 128;
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

static struct wg_aip_node **
root_of(struct wg_allowedips *t, int af)
{
	return af == AF_INET ? &t->root4 : &t->root6;
}

/* Loads addr/cidr masked to cidr; -1 with errno when either is invalid. */
static int
prefix_load(struct aip_key *k, int af, const uint8_t *addr, uint8_t cidr)
{
	unsigned int	 bits;

	if (key_load(k, af, addr, &bits) == -1)
		return -1;
	if (cidr > bits) {
		errno = EINVAL;
		return -1;
	}
	k->hi &= mask_hi(cidr);
	k->lo &= mask_lo(cidr);
	return 0;
}

static struct wg_aip_node *
node_new(const struct aip_key *k, unsigned int cidr, void *peer)
{
	struct wg_aip_node	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->key.hi = k->hi & mask_hi(cidr);
	n->key.lo = k->lo & mask_lo(cidr);
	n->cidr = cidr;
	n->peer = peer;
	return n;
}

/* Drops an ownerless node that no longer forks, lifting its child. */
static void
node_collapse(struct wg_aip_node **slot)
{
	struct wg_aip_node	*n = *slot;

	if (n == NULL || n->peer != NULL ||
	    (n->child[0] != NULL && n->child[1] != NULL))
		return;
	*slot = n->child[0] != NULL ? n->child[0] : n->child[1];
	free(n);
}

static void
node_free_all(struct wg_aip_node *n)
{
	if (n == NULL)
		return;
	node_free_all(n->child[0]);
	node_free_all(n->child[1]);
	free(n);
}

void
wg_allowedips_init(struct wg_allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

void
wg_allowedips_free(struct wg_allowedips *t)
{
	node_free_all(t->root4);
	node_free_all(t->root6);
	wg_allowedips_init(t);
}

/* Hangs a new prefix at slot, above or beside the node already there. */
static int
aip_attach(struct wg_aip_node **slot, const struct aip_key *k,
    unsigned int cidr, unsigned int common, void *peer)
{
	struct wg_aip_node	*old = *slot, *leaf, *fork;

	if ((leaf = node_new(k, cidr, peer)) == NULL)
		return -1;
	if (old == NULL)
		*slot = leaf;
	else if (common == cidr) {
		leaf->child[key_bit(&old->key, cidr)] = old;
		*slot = leaf;
	} else {
		if ((fork = node_new(k, common, NULL)) == NULL) {
			free(leaf);
			return -1;
		}
		fork->child[key_bit(k, common)] = leaf;
		fork->child[key_bit(&old->key, common)] = old;
		*slot = fork;
	}
	return 0;
}

int
wg_allowedips_insert(struct wg_allowedips *t, int af, const uint8_t *addr,
    uint8_t cidr, void *peer)
{
	struct wg_aip_node	**slot, *n;
	struct aip_key		 k;
	unsigned int		 common = 0;

	if (prefix_load(&k, af, addr, cidr) == -1)
		return -1;
	if (peer == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (slot = root_of(t, af); (n = *slot) != NULL;
	    slot = &n->child[key_bit(&k, n->cidr)]) {
		common = key_common(&n->key, &k,
		    n->cidr < cidr ? n->cidr : cidr);
		if (common < n->cidr)
			break;
		if (n->cidr == cidr && n->peer != NULL) {
			n->peer = peer;		/* same prefix, new owner */
			return 0;
		}
		if (n->cidr == cidr)
			break;			/* a fork node, ownerless */
	}
	if (t->count >= WG_ALLOWEDIPS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if (n != NULL && n->cidr == cidr && common == cidr)
		n->peer = peer;		/* a fork becomes an owner */
	else if (aip_attach(slot, &k, cidr, common, peer) == -1)
		return -1;
	t->count++;
	return 0;
}

int
wg_allowedips_remove(struct wg_allowedips *t, int af, const uint8_t *addr,
    uint8_t cidr, void *peer)
{
	struct wg_aip_node	**slot, **parent = NULL, *n;
	struct aip_key		 k;

	if (prefix_load(&k, af, addr, cidr) == -1)
		return -1;
	for (slot = root_of(t, af); (n = *slot) != NULL;
	    parent = slot, slot = &n->child[key_bit(&k, n->cidr)]) {
		if (n->cidr > cidr || !node_match(n, &k))
			break;
		if (n->cidr < cidr)
			continue;
		if (n->peer == NULL || n->peer != peer)
			break;
		n->peer = NULL;
		t->count--;
		/* Only this node and its parent can have stopped forking. */
		node_collapse(slot);
		if (parent != NULL)
			node_collapse(parent);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* Post-order, so a fork is judged after its subtrees have shrunk. */
static void
aip_prune(struct wg_aip_node **slot, void *peer, size_t *count)
{
	struct wg_aip_node	*n = *slot;

	if (n == NULL)
		return;
	aip_prune(&n->child[0], peer, count);
	aip_prune(&n->child[1], peer, count);
	if (n->peer == peer) {
		n->peer = NULL;
		(*count)--;
	}
	node_collapse(slot);
}

void
wg_allowedips_remove_peer(struct wg_allowedips *t, void *peer)
{
	if (peer == NULL)
		return;
	aip_prune(&t->root4, peer, &t->count);
	aip_prune(&t->root6, peer, &t->count);
}

void *
wg_allowedips_lookup(const struct wg_allowedips *t, int af,
    const uint8_t *addr)
{
	const struct wg_aip_node	*n;
	struct aip_key			 k;
	unsigned int			 bits;
	void				*best = NULL;

	if (key_load(&k, af, addr, &bits) == -1)
		return NULL;
	n = af == AF_INET ? t->root4 : t->root6;
	/* Descendants extend n's prefix: once n misses, all of them do. */
	while (n != NULL && node_match(n, &k)) {
		if (n->peer != NULL)
			best = n->peer;
		if (n->cidr == bits)
			break;
		n = n->child[key_bit(&k, n->cidr)];
	}
	return best;
}

struct aip_walk {
	void		*peer;
	int		 af;
	int		(*cb)(void *, int, const uint8_t *, uint8_t);
	void		*arg;
};

static int
aip_visit(const struct aip_walk *w, const struct wg_aip_node *n)
{
	uint8_t		 addr[16];
	uint32_t	 v4;
	int		 rv;

	if (n == NULL)
		return 0;
	if (n->peer == w->peer) {
		if (w->af == AF_INET) {
			v4 = htobe32((uint32_t)(n->key.hi >> 32));
			memcpy(addr, &v4, sizeof(v4));
		} else {
			store64be(addr, n->key.hi);
			store64be(addr + 8, n->key.lo);
		}
		if ((rv = w->cb(w->arg, w->af, addr, n->cidr)) != 0)
			return rv;
	}
	if ((rv = aip_visit(w, n->child[0])) != 0)
		return rv;
	return aip_visit(w, n->child[1]);
}

int
wg_allowedips_foreach_peer(const struct wg_allowedips *t, void *peer,
    int (*cb)(void *arg, int af, const uint8_t *addr, uint8_t cidr),
    void *arg)
{
	struct aip_walk	 w;
	int		 rv;

	if (peer == NULL)
		return 0;
	w.peer = peer;
	w.cb = cb;
	w.arg = arg;
	w.af = AF_INET;
	if ((rv = aip_visit(&w, t->root4)) != 0)
		return rv;
	w.af = AF_INET6;
	return aip_visit(&w, t->root6);
}

size_t
wg_allowedips_count(const struct wg_allowedips *t)
{
	return t->count;
}
