/*
 * BLAKE2s per RFC 7693, HMAC per RFC 2104, KDF per the WireGuard paper
 * (section 5.4).  Words are little-endian; memcpy loads keep unaligned
 * input legal and compile to plain moves.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/wg/blake2s.h"

static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static inline uint32_t
load32le(const uint8_t *p)
{
	uint32_t	 v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline void
store32le(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t
ror32(uint32_t v, int n)
{
	return (v >> n) | (v << (32 - n));
}

/* Wipe that the compiler may not elide (dead-store elimination). */
static void
blake2s_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

/* The mixing function G of RFC 7693 section 3.1, on named locals. */
#define G(a, b, c, d, x, y) do {				\
	a = a + b + (x);  d = ror32(d ^ a, 16);			\
	c = c + d;        b = ror32(b ^ c, 12);			\
	a = a + b + (y);  d = ror32(d ^ a, 8);			\
	c = c + d;        b = ror32(b ^ c, 7);			\
} while (0)

/* One round with the message schedule written out (RFC 7693 2.7). */
#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7,			\
    s8, s9, s10, s11, s12, s13, s14, s15) do {			\
	G(v0, v4, v8, v12, m[s0], m[s1]);			\
	G(v1, v5, v9, v13, m[s2], m[s3]);			\
	G(v2, v6, v10, v14, m[s4], m[s5]);			\
	G(v3, v7, v11, v15, m[s6], m[s7]);			\
	G(v0, v5, v10, v15, m[s8], m[s9]);			\
	G(v1, v6, v11, v12, m[s10], m[s11]);			\
	G(v2, v7, v8, v13, m[s12], m[s13]);			\
	G(v3, v4, v9, v14, m[s14], m[s15]);			\
} while (0)

/* Compress nblocks consecutive blocks, adding inc to t before each. */
static void
blake2s_compress(struct blake2s_state *s, const uint8_t *in, size_t nblocks,
    uint32_t inc)
{
	uint32_t	 m[16];
	uint32_t	 v0, v1, v2, v3, v4, v5, v6, v7;
	uint32_t	 v8, v9, v10, v11, v12, v13, v14, v15;
	int		 i;

	for (; nblocks > 0; nblocks--, in += BLAKE2S_BLOCKLEN) {
		s->t[0] += inc;
		s->t[1] += s->t[0] < inc;
		for (i = 0; i < 16; i++)
			m[i] = load32le(in + 4 * i);
		v0 = s->h[0]; v1 = s->h[1]; v2 = s->h[2]; v3 = s->h[3];
		v4 = s->h[4]; v5 = s->h[5]; v6 = s->h[6]; v7 = s->h[7];
		v8 = blake2s_iv[0]; v9 = blake2s_iv[1];
		v10 = blake2s_iv[2]; v11 = blake2s_iv[3];
		v12 = blake2s_iv[4] ^ s->t[0];
		v13 = blake2s_iv[5] ^ s->t[1];
		v14 = blake2s_iv[6] ^ s->f[0];
		v15 = blake2s_iv[7] ^ s->f[1];

		ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
		ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
		ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4);
		ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8);
		ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13);
		ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9);
		ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11);
		ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10);
		ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5);
		ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0);

		s->h[0] ^= v0 ^ v8;  s->h[1] ^= v1 ^ v9;
		s->h[2] ^= v2 ^ v10; s->h[3] ^= v3 ^ v11;
		s->h[4] ^= v4 ^ v12; s->h[5] ^= v5 ^ v13;
		s->h[6] ^= v6 ^ v14; s->h[7] ^= v7 ^ v15;
	}
	blake2s_wipe(m, sizeof(m));
}

#undef ROUND
#undef G

void
blake2s_init(struct blake2s_state *s, size_t outlen, const void *key,
    size_t keylen)
{
	/* Callers pass constants; clamping keeps a wrong one in bounds. */
	if (outlen == 0 || outlen > BLAKE2S_OUTLEN)
		outlen = BLAKE2S_OUTLEN;
	if (key == NULL || keylen > BLAKE2S_KEYLEN)
		keylen = key == NULL ? 0 : BLAKE2S_KEYLEN;

	memset(s, 0, sizeof(*s));
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000 ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen > 0) {
		/* The key, zero padded, is the first block (RFC 7693 3.3). */
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCKLEN;
	}
}

void
blake2s_update(struct blake2s_state *s, const void *in, size_t inlen)
{
	const uint8_t	*p = in;
	size_t		 fill, n;

	if (inlen == 0)
		return;
	/* The last block is kept back: final must compress it flagged. */
	fill = BLAKE2S_BLOCKLEN - s->buflen;
	if (inlen > fill) {
		memcpy(s->buf + s->buflen, p, fill);
		blake2s_compress(s, s->buf, 1, BLAKE2S_BLOCKLEN);
		s->buflen = 0;
		p += fill;
		inlen -= fill;
		if (inlen > BLAKE2S_BLOCKLEN) {
			n = (inlen - 1) / BLAKE2S_BLOCKLEN;
			blake2s_compress(s, p, n, BLAKE2S_BLOCKLEN);
			p += n * BLAKE2S_BLOCKLEN;
			inlen -= n * BLAKE2S_BLOCKLEN;
		}
	}
	memcpy(s->buf + s->buflen, p, inlen);
	s->buflen += inlen;
}

void
blake2s_final(struct blake2s_state *s, uint8_t *out)
{
	uint8_t		 full[BLAKE2S_OUTLEN];
	int		 i;

	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCKLEN - s->buflen);
	s->f[0] = UINT32_MAX;
	blake2s_compress(s, s->buf, 1, (uint32_t)s->buflen);
	for (i = 0; i < 8; i++)
		store32le(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);
	blake2s_wipe(full, sizeof(full));
	blake2s_wipe(s, sizeof(*s));
}

void
blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
    const void *in, size_t inlen)
{
	struct blake2s_state	 s;

	blake2s_init(&s, outlen, key, keylen);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
}

void
blake2s_hmac(uint8_t out[BLAKE2S_OUTLEN], const void *key, size_t keylen,
    const void *in, size_t inlen)
{
	struct blake2s_state	 s;
	uint8_t			 pad[BLAKE2S_BLOCKLEN];
	uint8_t			 ihash[BLAKE2S_OUTLEN];
	int			 i;

	memset(pad, 0, sizeof(pad));
	if (keylen > BLAKE2S_BLOCKLEN)
		blake2s(pad, BLAKE2S_OUTLEN, NULL, 0, key, keylen);
	else if (keylen > 0)
		memcpy(pad, key, keylen);

	for (i = 0; i < BLAKE2S_BLOCKLEN; i++)
		pad[i] ^= 0x36;
	blake2s_init(&s, BLAKE2S_OUTLEN, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, ihash);

	/* 0x36 ^ 0x5c turns the inner pad into the outer one. */
	for (i = 0; i < BLAKE2S_BLOCKLEN; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, BLAKE2S_OUTLEN, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, ihash, sizeof(ihash));
	blake2s_final(&s, out);

	blake2s_wipe(pad, sizeof(pad));
	blake2s_wipe(ihash, sizeof(ihash));
}

void
wg_kdf(uint8_t t1[BLAKE2S_OUTLEN], uint8_t t2[BLAKE2S_OUTLEN],
    uint8_t t3[BLAKE2S_OUTLEN], const uint8_t key[BLAKE2S_OUTLEN],
    const void *in, size_t inlen)
{
	uint8_t		 prk[BLAKE2S_OUTLEN];
	uint8_t		 t[3][BLAKE2S_OUTLEN + 1];
	const uint8_t	 one = 0x1;

	/* Work in locals: callers pass the chaining key as key and t1. */
	blake2s_hmac(prk, key, BLAKE2S_OUTLEN, in, inlen);
	blake2s_hmac(t[0], prk, sizeof(prk), &one, 1);
	if (t2 != NULL || t3 != NULL) {
		t[0][BLAKE2S_OUTLEN] = 0x2;
		blake2s_hmac(t[1], prk, sizeof(prk), t[0], sizeof(t[0]));
	}
	if (t3 != NULL) {
		t[1][BLAKE2S_OUTLEN] = 0x3;
		blake2s_hmac(t[2], prk, sizeof(prk), t[1], sizeof(t[1]));
	}

	memcpy(t1, t[0], BLAKE2S_OUTLEN);
	if (t2 != NULL)
		memcpy(t2, t[1], BLAKE2S_OUTLEN);
	if (t3 != NULL)
		memcpy(t3, t[2], BLAKE2S_OUTLEN);
	blake2s_wipe(prk, sizeof(prk));
	blake2s_wipe(t, sizeof(t));
}
