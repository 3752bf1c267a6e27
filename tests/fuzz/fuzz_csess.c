/*
 * libFuzzer harness for lib/csess.c.  The first byte picks the target:
 *   0  the responder reads handshake message 1 (the rest is its body)
 *   1  the initiator reads handshake message 2
 *   2  a byte stream, cut into chunks of (second byte + 1) bytes, goes
 *      through the frame reader into csess_open() of an established
 *      responder; 3 the same for an established initiator.
 * Sessions use the keys, ephemerals and timestamp of the test vectors in
 * proto/control-session.md, so the seeds made from them decrypt.  Any
 * failure must be EBADMSG, EMSGSIZE or EOVERFLOW and must kill the
 * session.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/csess.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define READER_MAX	4096

static const uint8_t	 TS[12] = {
	0x40, 0x00, 0x00, 0x00, 0x65, 0x92, 0x00, 0x8a,
	0x1d, 0xcd, 0x65, 0x00
};

static uint8_t		 s_i[32], s_r[32], e_i[32], e_r[32], pub_r[32];
static struct csess	 ini_sent, resp_start, ini_est, resp_est;
static uint8_t		 out[CSESS_HDR_LEN + CSESS_BODY_MAX];
static uint8_t		 pt[CSESS_BODY_MAX];

static void
fill(uint8_t *k, uint8_t first)
{
	int	 i;

	for (i = 0; i < 32; i++)
		k[i] = first + i;
}

/* Both sides of the vector handshake, at each stage. */
static void
setup(void)
{
	struct csess	 ini, resp;
	struct buf	 m, p;

	if (sodium_init() == -1)
		abort();
	fill(s_i, 0x00);
	fill(s_r, 0x20);
	fill(e_i, 0x40);
	fill(e_r, 0x60);
	crypto_scalarmult_curve25519_base(pub_r, s_r);
	if (csess_init_initiator(&ini, s_i, pub_r) == -1 ||
	    csess_init_responder(&resp, s_r) == -1)
		abort();
	csess_set_ephemeral(&ini, e_i);
	csess_set_ephemeral(&resp, e_r);
	resp_start = resp;
	buf_init_fixed(&m, out, sizeof(out));
	buf_init_fixed(&p, pt, sizeof(pt));
	if (csess_write_msg1(&ini, &m, TS, NULL, 0) == -1)
		abort();
	ini_sent = ini;
	if (csess_read_msg1(&resp, out + 2, m.len - 2, NULL, NULL, &p) == -1)
		abort();
	buf_reset(&m);
	if (csess_write_msg2(&resp, &m, NULL, 0) == -1 ||
	    csess_read_msg2(&ini, out + 2, m.len - 2, &p) == -1)
		abort();
	ini_est = ini;
	resp_est = resp;
}

static void
check_failure(const struct csess *cs)
{
	if (errno != EBADMSG && errno != EMSGSIZE && errno != EOVERFLOW)
		abort();
	if (cs != NULL && cs->state != CSESS_DEAD)
		abort();
}

static void
fuzz_msg1(const uint8_t *d, size_t len)
{
	struct csess	 cs = resp_start;
	struct buf	 m, p;
	uint8_t		 rs[32], ts[12];

	buf_init_fixed(&p, pt, sizeof(pt));
	if (csess_read_msg1(&cs, d, len, rs, ts, &p) == -1) {
		check_failure(&cs);
		return;
	}
	if (p.len + CSESS_MSG1_OVERHEAD != len)
		abort();
	buf_init_fixed(&m, out, sizeof(out));
	if (csess_write_msg2(&cs, &m, pt, p.len > 100 ? 100 : p.len) == -1)
		abort();
	csess_wipe(&cs);
}

static void
fuzz_msg2(const uint8_t *d, size_t len)
{
	struct csess	 cs = ini_sent;
	struct buf	 p;

	buf_init_fixed(&p, pt, sizeof(pt));
	if (csess_read_msg2(&cs, d, len, &p) == -1) {
		check_failure(&cs);
		return;
	}
	if (p.len + CSESS_MSG2_OVERHEAD != len || !csess_established(&cs))
		abort();
	csess_wipe(&cs);
}

static void
fuzz_stream(const struct csess *est, const uint8_t *d, size_t len)
{
	struct csess		 cs = *est;
	struct csess_reader	 r;
	struct buf		 p;
	const uint8_t		*in, *body;
	size_t			 chunk, inlen, blen, n;
	int			 rc = 0;

	if (len < 1)
		return;
	chunk = (size_t)d[0] + 1;
	d++;
	len--;
	if (csess_reader_init(&r, READER_MAX) == -1)
		abort();
	buf_init_fixed(&p, pt, sizeof(pt));
	while (len > 0 && rc != -1) {
		n = len < chunk ? len : chunk;
		in = d;
		inlen = n;
		d += n;
		len -= n;
		while ((rc = csess_reader_next(&r, &in, &inlen, &body,
		    &blen)) == 1) {
			if (blen < CSESS_BODY_MIN || blen > READER_MAX)
				abort();
			buf_reset(&p);
			if ((rc = csess_open(&cs, body, blen, &p)) == -1) {
				check_failure(&cs);
				break;
			}
			if (p.len + CSESS_TAG_LEN != blen)
				abort();
		}
		if (rc == -1)
			check_failure(NULL);
		else if (inlen != 0)
			abort();
	}
	csess_reader_free(&r);
	csess_wipe(&cs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool	 ready;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1)
		return (0);
	switch (data[0]) {
	case 0:
		fuzz_msg1(data + 1, size - 1);
		break;
	case 1:
		fuzz_msg2(data + 1, size - 1);
		break;
	case 2:
		fuzz_stream(&resp_est, data + 1, size - 1);
		break;
	case 3:
		fuzz_stream(&ini_est, data + 1, size - 1);
		break;
	}
	return (0);
}
