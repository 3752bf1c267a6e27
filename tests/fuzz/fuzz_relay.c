/*
 * libFuzzer harness for the relay decoder (proto/relay.md).  Any input
 * must decode or fail with EBADMSG; what decodes must encode back to the
 * same bytes (SEND, RECV, PING, PONG, and a BIND's token), and BIND and
 * BOUND boxes must fail to open with keys that did not seal them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/relay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_roundtrip(const struct relay_msg *m, const uint8_t *p, size_t len)
{
	uint8_t		 out[RELAY_MAXMSG];
	uint8_t		 tok[RELAY_TOKENLEN];
	struct buf	 b;
	int		 rc = -1;

	buf_init_fixed(&b, out, sizeof(out));
	switch (m->type) {
	case RELAY_SEND:
		rc = relay_enc_send(&b, m->tag, m->payload, m->payload_len);
		break;
	case RELAY_RECV:
		rc = relay_enc_recv(&b, m->tag, m->payload, m->payload_len);
		break;
	case RELAY_PING:
		rc = relay_enc_ping(&b, m->txid);
		break;
	case RELAY_PONG:
		rc = relay_enc_pong(&b, m->txid, m->load);
		break;
	case RELAY_BIND:
		if (relay_token_enc(tok, &m->token) == -1 ||
		    memcmp(tok, p + 1, RELAY_TOKENLEN) != 0)
			abort();
		return;
	default:
		return;		/* BOUND: a box only */
	}
	if (rc == -1 || b.len != len || memcmp(out, p, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t	 key[32] = { 9 };
	struct relay_msg	 m;
	uint64_t		 ms;
	uint32_t		 n;
	uint16_t		 life;

	if (relay_decode(data, size, &m) == -1) {
		if (errno != EBADMSG)
			abort();
		return 0;
	}
	check_roundtrip(&m, data, size);
	if (m.type == RELAY_BIND && relay_bind_open(&m, key, &ms) == 0)
		abort();	/* a forgery that opens: impossible */
	if (m.type == RELAY_BOUND && relay_bound_open(&m, key, key, &life,
	    &n) == 0)
		abort();
	return 0;
}
