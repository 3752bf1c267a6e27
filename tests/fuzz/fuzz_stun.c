/*
 * libFuzzer harness for the STUN decoders, RFC 8489 and classic (RFC
 * 3489).  The input is one datagram.  Each decoder must fail with
 * EBADMSG or succeed, and succeed only when its stun_is_*() agrees; no
 * datagram decodes both ways.  On success the encoder must accept the
 * struct; its output must decode to an equal struct and encode to the
 * same bytes again (the normal form is a fixed point).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
saddr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	if (a->present != b->present)
		return (false);
	return (!a->present ||
	    (a->port == b->port && addr_eq(&a->addr, &b->addr)));
}

static bool
msg_eq(const struct stun_msg *a, const struct stun_msg *b)
{
	if (a->method != b->method || a->cls != b->cls ||
	    memcmp(a->txid, b->txid, STUN_TXIDLEN) != 0 ||
	    !saddr_eq(&a->xor_mapped, &b->xor_mapped) ||
	    !saddr_eq(&a->mapped, &b->mapped) ||
	    !saddr_eq(&a->response_origin, &b->response_origin) ||
	    !saddr_eq(&a->other_address, &b->other_address))
		return (false);
	if (a->has_change != b->has_change ||
	    (a->has_change && a->change != b->change))
		return (false);
	if (a->has_error != b->has_error || (a->has_error &&
	    (a->error_code != b->error_code ||
	    strcmp(a->reason, b->reason) != 0)))
		return (false);
	return (strcmp(a->software, b->software) == 0 &&
	    a->nunknown == b->nunknown &&
	    memcmp(a->unknown, b->unknown,
	    a->nunknown * sizeof(a->unknown[0])) == 0 &&
	    a->fingerprint == b->fingerprint);
}

static bool
classic_eq(const struct stun_classic *a, const struct stun_classic *b)
{
	return (a->cls == b->cls &&
	    memcmp(a->txid, b->txid, STUN_CLASSIC_TXIDLEN) == 0 &&
	    saddr_eq(&a->mapped, &b->mapped) &&
	    saddr_eq(&a->source, &b->source) &&
	    saddr_eq(&a->changed, &b->changed) &&
	    a->has_change == b->has_change &&
	    (!a->has_change || a->change == b->change));
}

static void
fuzz_classic(const uint8_t *data, size_t size)
{
	static uint8_t		 out1[STUN_MAXMSG], out2[STUN_MAXMSG];
	struct stun_classic	 m1, m2;
	struct buf		 b1, b2;

	if (stun_classic_decode(data, size, &m1) == -1) {
		if (errno != EBADMSG)
			abort();
		return;
	}
	if (!stun_is_classic(data, size) || stun_is_stun(data, size))
		abort();
	buf_init_fixed(&b1, out1, sizeof(out1));
	if (stun_classic_encode(&b1, &m1) == -1 ||
	    !stun_is_classic(out1, b1.len))
		abort();
	if (stun_classic_decode(out1, b1.len, &m2) == -1 ||
	    !classic_eq(&m1, &m2))
		abort();
	buf_init_fixed(&b2, out2, sizeof(out2));
	if (stun_classic_encode(&b2, &m2) == -1 || b1.len != b2.len ||
	    memcmp(out1, out2, b1.len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 out1[STUN_MAXMSG], out2[STUN_MAXMSG];
	struct stun_msg		 m1, m2;
	struct buf		 b1, b2;

	fuzz_classic(data, size);
	if (stun_decode(data, size, &m1) == -1) {
		if (errno != EBADMSG)
			abort();
		return (0);
	}
	if (!stun_is_stun(data, size) || stun_is_classic(data, size))
		abort();
	buf_init_fixed(&b1, out1, sizeof(out1));
	if (stun_encode(&b1, &m1) == -1 || !stun_is_stun(out1, b1.len))
		abort();
	if (stun_decode(out1, b1.len, &m2) == -1 || !msg_eq(&m1, &m2))
		abort();
	buf_init_fixed(&b2, out2, sizeof(out2));
	if (stun_encode(&b2, &m2) == -1 || b1.len != b2.len ||
	    memcmp(out1, out2, b1.len) != 0)
		abort();
	return (0);
}
