/*
 * libFuzzer harness for the disco codec.  The input is tried twice:
 *
 * - as a plaintext: disco_dec_plain must fail with EBADMSG or succeed,
 *   and on success the encoder must give the input back byte for byte
 *   (every valid plaintext is in normal form);
 * - as a datagram that Bob opens with the test keys of proto/disco.md,
 *   once as coming from Alice and once from whatever sender it claims
 *   (as lanraged would after looking the key up).  Opening must fail
 *   with EBADMSG, leaving the output alone, or succeed; a datagram that
 *   opens must pass disco_is_disco and seal again, with its own nonce,
 *   to the same bytes.  Only datagrams sealed to Bob's test key open,
 *   such as the seeds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/disco.h"

#define NONCEOFF	(DISCO_MAGICLEN + DISCO_KEYLEN)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Alice's public and Bob's private key of proto/disco.md. */
static const uint8_t	 alice_pub[32] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54,
	0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
	0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
	0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a
};
static const uint8_t	 bob_priv[32] = {
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b,
	0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
	0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd,
	0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return (0);
}

static void
fuzz_plain(const uint8_t *data, size_t size)
{
	static uint8_t		 out[DISCO_PLAIN_MAX];
	struct disco_msg	 m;
	struct buf		 b;

	if (disco_dec_plain(data, size, &m) == -1) {
		if (errno != EBADMSG)
			abort();
		return;
	}
	buf_init_fixed(&b, out, sizeof(out));
	if (disco_enc_plain(&b, &m) == -1 || b.len != size ||
	    memcmp(out, data, size) != 0)
		abort();
}

/*
 * The box key is X25519 of either private key with the other public
 * one, so Bob can rebuild what the sender sealed: with his private key,
 * the sender's key as both "pub" and "peer", and the datagram's nonce.
 */
static void
fuzz_open(const uint8_t *data, size_t size, const uint8_t *peer)
{
	static uint8_t		 out[DISCO_MAXMSG];
	struct disco_msg	 m, before;
	struct buf		 b;

	memset(&m, 0xa5, sizeof(m));
	before = m;
	if (disco_open(data, size, bob_priv, peer, &m) == -1) {
		if (errno != EBADMSG || memcmp(&m, &before, sizeof(m)) != 0)
			abort();
		return;
	}
	if (!disco_is_disco(data, size) ||
	    disco_sender(data, size) != data + DISCO_MAGICLEN ||
	    memcmp(data + DISCO_MAGICLEN, peer, DISCO_KEYLEN) != 0)
		abort();
	buf_init_fixed(&b, out, sizeof(out));
	if (disco_seal_nonce(&b, &m, bob_priv, peer, peer,
	    data + NONCEOFF) == -1 || b.len != size ||
	    memcmp(out, data, size) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*sender;

	fuzz_plain(data, size);
	fuzz_open(data, size, alice_pub);
	if ((sender = disco_sender(data, size)) != NULL)
		fuzz_open(data, size, sender);
	return (0);
}
