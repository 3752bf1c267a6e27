/*
 * Relay registry and token minting of lanrage-controld (relays.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lanrage-controld/relays.h"

#define RELAYS_KDF_CONTEXT	"LANrage token key"

int
relays_init(struct relays *r, const uint8_t server_priv[32],
    uint16_t report_s, uint32_t token_ttl)
{
	uint8_t	 seed[crypto_sign_SEEDBYTES];
	int	 rc;

	memset(r, 0, sizeof(*r));
	/* a keyed hash of the server key: same key, same token key */
	rc = crypto_generichash(seed, sizeof(seed), server_priv, 32,
	    (const uint8_t *)RELAYS_KDF_CONTEXT, strlen(RELAYS_KDF_CONTEXT));
	if (rc == 0)
		rc = crypto_sign_seed_keypair(r->sign_pk, r->sign_sk, seed);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		errno = EINVAL;
		return -1;
	}
	r->stale_ms = (uint64_t)report_s * 3000;
	r->token_ttl = token_ttl;
	return 0;
}

void
relays_wipe(struct relays *r)
{
	sodium_memzero(r, sizeof(*r));
}

static struct relays_entry *
relays_find(struct relays *r, const uint8_t key[32])
{
	size_t	 i;

	for (i = 0; i < RELAYS_MAX; i++)
		if (r->e[i].used &&
		    memcmp(r->e[i].key, key, CONTROL_KEYLEN) == 0)
			return &r->e[i];
	return NULL;
}

int
relays_add(struct relays *r, const uint8_t key[32],
    const struct control_relay_hello *h, const struct addr *addr,
    uint64_t now_ms)
{
	struct relays_entry	*e;
	size_t			 i;

	if ((e = relays_find(r, key)) == NULL) {
		for (i = 0; i < RELAYS_MAX && r->e[i].used; i++)
			;
		if (i == RELAYS_MAX) {
			errno = ENOSPC;
			return -1;
		}
		e = &r->e[i];
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, CONTROL_KEYLEN);
	memcpy(e->region, h->region, sizeof(e->region));
	e->capacity = h->capacity;
	e->addr = *addr;
	e->port = h->port;
	e->reported_ms = now_ms;
	e->used = true;
	return 0;
}

int
relays_report(struct relays *r, const uint8_t key[32],
    const struct control_relay_report *rep, uint64_t now_ms)
{
	struct relays_entry	*e;

	if ((e = relays_find(r, key)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	e->load = rep->load;
	e->nbound = rep->nbound;
	e->reported_ms = now_ms;
	return 0;
}

void
relays_remove(struct relays *r, const uint8_t key[32])
{
	struct relays_entry	*e;

	if ((e = relays_find(r, key)) != NULL)
		memset(e, 0, sizeof(*e));
}

static int
relays_by_load(const void *a, const void *b)
{
	const struct control_relay	*x = a, *y = b;

	if (x->load != y->load)
		return x->load < y->load ? -1 : 1;
	return memcmp(x->key, y->key, CONTROL_KEYLEN);
}

static void
relays_token(const struct relays *r, const uint8_t relay_key[32],
    const uint8_t party[16], const uint8_t node[32], int64_t now,
    uint8_t out[CONTROL_TOKENLEN])
{
	struct relay_token	 t;

	memset(&t, 0, sizeof(t));
	memcpy(t.relay_key, relay_key, RELAY_KEYLEN);
	memcpy(t.party, party, RELAY_IDLEN);
	memcpy(t.node_key, node, RELAY_KEYLEN);
	t.expiry = (uint64_t)now + r->token_ttl;
	if (relay_token_sign(&t, r->sign_sk) == -1 ||
	    relay_token_enc(out, &t) == -1)
		memset(out, 0, CONTROL_TOKENLEN);	/* keys were checked */
}

void
relays_list(const struct relays *r, const uint8_t party[16],
    const uint8_t node[32], int64_t now, uint64_t now_ms,
    struct control_relay_list *out)
{
	const struct relays_entry	*e;
	struct control_relay		 all[RELAYS_MAX];
	size_t				 i, n = 0;

	for (i = 0; i < RELAYS_MAX; i++) {
		e = &r->e[i];
		if (!e->used || now_ms - e->reported_ms > r->stale_ms)
			continue;
		memset(&all[n], 0, sizeof(all[n]));
		memcpy(all[n].key, e->key, CONTROL_KEYLEN);
		memcpy(all[n].region, e->region, sizeof(all[n].region));
		all[n].load = e->load;
		all[n].addr = e->addr;
		all[n].port = e->port;
		n++;
	}
	qsort(all, n, sizeof(all[0]), relays_by_load);
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n && i < CONTROL_MAX_RELAYS; i++) {
		out->r[i] = all[i];
		relays_token(r, all[i].key, party, node, now, out->r[i].token);
	}
	out->n = (uint8_t)i;
}
