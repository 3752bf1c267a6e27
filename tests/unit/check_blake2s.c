/*
 * Unit tests for lib/wg/blake2s.c.  HMAC and KDF expectations were computed
 * once with python3's hashlib.blake2s and hmac modules.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/blake2s.h"

static void
unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t		 i;
	unsigned int	 v;

	ck_assert_uint_eq(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t		 want[128];

	ck_assert_uint_le(len, sizeof(want));
	unhex(want, len, hex);
	ck_assert_mem_eq(got, want, len);
}

START_TEST(rfc7693_abc)
{
	uint8_t		 out[BLAKE2S_OUTLEN];

	blake2s(out, sizeof(out), NULL, 0, "abc", 3);
	assert_hex(out, sizeof(out), "508c5e8c327c14e2e1a72ba34eeb452f"
	    "37458b209ed63a294d999b4c86675982");
}
END_TEST

/* RFC 7693 Appendix E: deterministic input from a Fibonacci generator. */
static void
selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t	 a, b, t;
	size_t		 i;

	a = 0xdead4bad * seed;
	b = 1;
	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (t >> 24) & 0xff;
	}
}

START_TEST(rfc7693_selftest)
{
	static const size_t	 outlens[] = { 16, 20, 28, 32 };
	static const size_t	 inlens[] = { 0, 3, 64, 65, 255, 1024 };
	struct blake2s_state	 ctx;
	uint8_t			 in[1024], key[32], md[32], grand[32];
	size_t			 i, j, outlen, inlen;

	blake2s_init(&ctx, 32, NULL, 0);
	for (i = 0; i < 4; i++) {
		outlen = outlens[i];
		for (j = 0; j < 6; j++) {
			inlen = inlens[j];
			selftest_seq(in, inlen, inlen);
			blake2s(md, outlen, NULL, 0, in, inlen);
			blake2s_update(&ctx, md, outlen);
			selftest_seq(key, outlen, outlen);
			blake2s(md, outlen, key, outlen, in, inlen);
			blake2s_update(&ctx, md, outlen);
		}
	}
	blake2s_final(&ctx, grand);
	assert_hex(grand, sizeof(grand), "6a411f08ce25adcdfb02aba641451cec"
	    "53c598b24f4fc787fbdc88797f4c1dfe");
}
END_TEST

/* Two and three way splits of up to 3 blocks, keyed and not. */
START_TEST(incremental_splits)
{
	struct blake2s_state	 s;
	uint8_t			 in[3 * BLAKE2S_BLOCKLEN + 1], key[32];
	uint8_t			 one[32], inc[32];
	size_t			 len, a, b, keylen;

	selftest_seq(in, sizeof(in), 7);
	selftest_seq(key, sizeof(key), 9);
	for (keylen = 0; keylen <= 32; keylen += 32) {
		for (len = 0; len <= sizeof(in); len++) {
			blake2s(one, 32, key, keylen, in, len);
			for (a = 0; a <= len; a++) {
				for (b = a; b <= len; b += 1 + (len > 80)) {
					blake2s_init(&s, 32, key, keylen);
					blake2s_update(&s, in, a);
					blake2s_update(&s, in + a, b - a);
					blake2s_update(&s, in + b, len - b);
					blake2s_final(&s, inc);
					if (memcmp(one, inc, 32) != 0)
						ck_abort_msg("%zu/%zu/%zu/%zu",
						    keylen, len, a, b);
				}
			}
		}
	}
}
END_TEST

START_TEST(byte_at_a_time)
{
	struct blake2s_state	 s;
	uint8_t			 in[1000], one[32], inc[32];
	size_t			 i;

	selftest_seq(in, sizeof(in), 3);
	blake2s(one, 32, NULL, 0, in, sizeof(in));
	blake2s_init(&s, 32, NULL, 0);
	for (i = 0; i < sizeof(in); i++)
		blake2s_update(&s, in + i, 1);
	blake2s_final(&s, inc);
	ck_assert_mem_eq(one, inc, 32);
}
END_TEST

START_TEST(final_wipes_state)
{
	struct blake2s_state	 s, zero;
	uint8_t			 out[32];

	blake2s_init(&s, 32, "k", 1);
	blake2s_update(&s, "data", 4);
	blake2s_final(&s, out);
	memset(&zero, 0, sizeof(zero));
	ck_assert_mem_eq(&s, &zero, sizeof(s));
}
END_TEST

START_TEST(short_output)
{
	uint8_t		 out[33];

	/* outlen is a parameter, not a truncation: digests differ. */
	memset(out, 0xaa, sizeof(out));
	blake2s(out, 16, NULL, 0, "abc", 3);
	ck_assert_uint_eq(out[16], 0xaa);
	assert_hex(out, 16, "aa4938119b1dc7b87cbad0ffd200d0ae");
}
END_TEST

START_TEST(hmac_vectors)
{
	uint8_t		 key[100], msg[200], out[32];
	size_t		 i;

	for (i = 0; i < 32; i++)
		key[i] = i;
	blake2s_hmac(out, key, 32,
	    "The quick brown fox jumps over the lazy dog", 43);
	assert_hex(out, 32, "f4660dee21c6a48e2a3d695ceedc2669"
	    "3e37b64b5ac5227476578517ee87fe6d");

	/* A key longer than the block is hashed first. */
	for (i = 0; i < 100; i++)
		key[i] = (i * 7 + 3) & 0xff;
	for (i = 0; i < 200; i++)
		msg[i] = i & 0xff;
	blake2s_hmac(out, key, 100, msg, 200);
	assert_hex(out, 32, "bb44f29aaf5db9430a846dc3d4c1df2d"
	    "566266c8811b8f7143223478117ef0cd");

	/* Exactly one block of key is used as is. */
	for (i = 0; i < 64; i++)
		key[i] = i;
	blake2s_hmac(out, key, 64, "abc", 3);
	assert_hex(out, 32, "3a0ef09eac123871fb79852ec512086d"
	    "013abff437bd68ca03630932bd6ba81f");

	blake2s_hmac(out, NULL, 0, NULL, 0);
	assert_hex(out, 32, "eaf4bb25938f4d20e72656bbbc7a9bf6"
	    "3c0c18537333c35bdb67db1402661acd");
}
END_TEST

START_TEST(kdf_vectors)
{
	uint8_t		 key[32], t1[32], t2[32], t3[32], only[32];
	size_t		 i;

	for (i = 0; i < 32; i++)
		key[i] = 0x40 + i;
	wg_kdf(t1, t2, t3, key, "lanrage kdf input", 17);
	assert_hex(t1, 32, "92fa456046998198abd88634172faf6d"
	    "77946ed5747340d6bf7d4b897027e6f4");
	assert_hex(t2, 32, "f5fd5df3ed8d2542f0a78283c36c4241"
	    "74ad918475f6d665f283247c4d42a63e");
	assert_hex(t3, 32, "0bed260d20841c9856ac54b5b180c1dd"
	    "fd4ae37f716dcf9339b2dc965a089d93");

	/* KDF1 and KDF2 are prefixes of KDF3. */
	wg_kdf(only, NULL, NULL, key, "lanrage kdf input", 17);
	ck_assert_mem_eq(only, t1, 32);
	memset(t2, 0, sizeof(t2));
	wg_kdf(only, t2, NULL, key, "lanrage kdf input", 17);
	ck_assert_mem_eq(only, t1, 32);
	assert_hex(t2, 32, "f5fd5df3ed8d2542f0a78283c36c4241"
	    "74ad918475f6d665f283247c4d42a63e");
	wg_kdf(only, NULL, t3, key, "lanrage kdf input", 17);
	assert_hex(t3, 32, "0bed260d20841c9856ac54b5b180c1dd"
	    "fd4ae37f716dcf9339b2dc965a089d93");
}
END_TEST

/* The handshake updates its chaining key in place: ck = KDF1(ck, x). */
START_TEST(kdf_aliasing)
{
	uint8_t		 ck[32], t2[32];

	blake2s(ck, 32, NULL, 0, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37);
	wg_kdf(ck, t2, NULL, ck, NULL, 0);
	assert_hex(ck, 32, "bd968725a9177942a8c2e4253d1dde31"
	    "cf7b19ec001b4a3a3d141cd9d998d3ba");
	assert_hex(t2, 32, "aab5462b323780fa615bf80ffe469510"
	    "239ff361575a663968e686a7ae41d693");
}
END_TEST

START_TEST(wireguard_constants)
{
	static const char	 construction[] =
	    "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char	 identifier[] =
	    "WireGuard v1 zx2c4 Jason@zx2c4.com";
	struct blake2s_state	 s;
	uint8_t			 ck[32], h[32];

	blake2s(ck, 32, NULL, 0, construction, sizeof(construction) - 1);
	assert_hex(ck, 32, "60e26daef327efc02ec335e2a025d2d0"
	    "16eb4206f87277f52d38d1988b78cd36");
	blake2s_init(&s, 32, NULL, 0);
	blake2s_update(&s, ck, sizeof(ck));
	blake2s_update(&s, identifier, sizeof(identifier) - 1);
	blake2s_final(&s, h);
	assert_hex(h, 32, "2211b361081ac566691243db458ad532"
	    "2d9c6c662293e8b70ee19c65ba079ef3");
}
END_TEST

static Suite *
blake2s_suite(void)
{
	Suite	*s = suite_create("blake2s");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rfc7693_abc);
	tcase_add_test(tc, rfc7693_selftest);
	tcase_add_test(tc, incremental_splits);
	tcase_add_test(tc, byte_at_a_time);
	tcase_add_test(tc, final_wipes_state);
	tcase_add_test(tc, short_output);
	tcase_add_test(tc, hmac_vectors);
	tcase_add_test(tc, kdf_vectors);
	tcase_add_test(tc, kdf_aliasing);
	tcase_add_test(tc, wireguard_constants);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(blake2s_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
