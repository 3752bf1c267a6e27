/*
 * BLAKE2s (RFC 7693) and the constructions WireGuard builds on it:
 * HMAC-BLAKE2s (RFC 2104 with a 64-byte block) and the HKDF-style KDF of
 * the WireGuard paper (KDF1..KDF3).  libsodium has no BLAKE2s, hence ours.
 * All functions are pure; states hold no pointers and may be copied.
 */
#ifndef LR_WG_BLAKE2S_H
#define LR_WG_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_OUTLEN		32
#define BLAKE2S_BLOCKLEN	64
#define BLAKE2S_KEYLEN		32

struct blake2s_state {
	uint32_t	 h[8];
	uint32_t	 t[2];
	uint32_t	 f[2];
	uint8_t		 buf[BLAKE2S_BLOCKLEN];
	size_t		 buflen;
	size_t		 outlen;
};

/* outlen 1..32; keylen 0..32 (key may be NULL when 0). */
void	 blake2s_init(struct blake2s_state *, size_t outlen, const void *key,
	    size_t keylen);
void	 blake2s_update(struct blake2s_state *, const void *, size_t);
/* Writes outlen bytes and wipes the state. */
void	 blake2s_final(struct blake2s_state *, uint8_t *out);
/* One shot. */
void	 blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
	    const void *in, size_t inlen);

/* HMAC-BLAKE2s: any key length (keys over 64 bytes are hashed first). */
void	 blake2s_hmac(uint8_t out[BLAKE2S_OUTLEN], const void *key,
	    size_t keylen, const void *in, size_t inlen);

/*
 * WireGuard's KDF_n(key, input): tau0 = HMAC(key, input),
 * tau1 = HMAC(tau0, 0x1), tau_i = HMAC(tau0, tau_{i-1} || i).
 * Outputs t2 and t3 may be NULL; every intermediate is wiped.
 */
void	 wg_kdf(uint8_t t1[BLAKE2S_OUTLEN], uint8_t t2[BLAKE2S_OUTLEN],
	    uint8_t t3[BLAKE2S_OUTLEN], const uint8_t key[BLAKE2S_OUTLEN],
	    const void *in, size_t inlen);

#endif
