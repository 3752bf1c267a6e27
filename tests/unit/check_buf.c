/* Unit tests for lib/buf.c. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

static const uint8_t	 be_bytes[] = {
	0xab,
	0x12, 0x34,
	0xde, 0xad, 0xbe, 0xef,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
};

START_TEST(put_big_endian)
{
	uint8_t		 mem[32];
	struct buf	 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	ck_assert_int_eq(buf_put_u8(&b, 0xab), 0);
	ck_assert_int_eq(buf_put_u16(&b, 0x1234), 0);
	ck_assert_int_eq(buf_put_u32(&b, 0xdeadbeef), 0);
	ck_assert_int_eq(buf_put_u64(&b, 0x0123456789abcdefULL), 0);
	ck_assert_uint_eq(b.len, sizeof(be_bytes));
	ck_assert_mem_eq(b.data, be_bytes, sizeof(be_bytes));
	ck_assert_ptr_eq(b.data, mem);
}
END_TEST

START_TEST(get_big_endian)
{
	struct bufr	 r;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;

	bufr_init(&r, be_bytes, sizeof(be_bytes));
	ck_assert_int_eq(bufr_get_u8(&r, &u8), 0);
	ck_assert_uint_eq(u8, 0xab);
	ck_assert_int_eq(bufr_get_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0x1234);
	ck_assert_int_eq(bufr_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 0xdeadbeef);
	ck_assert_int_eq(bufr_get_u64(&r, &u64), 0);
	ck_assert(u64 == 0x0123456789abcdefULL);
	ck_assert_uint_eq(bufr_left(&r), 0);
	ck_assert_int_eq(bufr_end(&r), 0);
}
END_TEST

START_TEST(put_extremes_roundtrip)
{
	struct buf	 b;
	struct bufr	 r;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;

	ck_assert_int_eq(buf_init(&b, 0, 64), 0);
	ck_assert_int_eq(buf_put_u16(&b, 0xffff), 0);
	ck_assert_int_eq(buf_put_u32(&b, 0x80000001), 0);
	ck_assert_int_eq(buf_put_u64(&b, UINT64_MAX - 1), 0);
	bufr_init(&r, b.data, b.len);
	ck_assert_int_eq(bufr_get_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0xffff);
	ck_assert_int_eq(bufr_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 0x80000001);
	ck_assert_int_eq(bufr_get_u64(&r, &u64), 0);
	ck_assert(u64 == UINT64_MAX - 1);
	ck_assert_int_eq(bufr_end(&r), 0);
	buf_free(&b);
}
END_TEST

START_TEST(fixed_full)
{
	uint8_t		 mem[8];
	struct buf	 b;

	memset(mem, 0xee, sizeof(mem));
	buf_init_fixed(&b, mem, 7);
	ck_assert_int_eq(buf_put_u32(&b, 0x01020304), 0);
	ck_assert_int_eq(buf_put_u16(&b, 0x0506), 0);

	/* One byte left: a u16 must not write half of itself. */
	errno = 0;
	ck_assert_int_eq(buf_put_u16(&b, 0xffff), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_uint_eq(mem[6], 0xee);

	errno = 0;
	ck_assert_int_eq(buf_put(&b, "ab", 2), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	errno = 0;
	ck_assert_int_eq(buf_put_zero(&b, 2), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(buf_reserve(&b, 2), -1);
	ck_assert_uint_eq(b.len, 6);

	ck_assert_int_eq(buf_put_u8(&b, 0x07), 0);
	ck_assert_int_eq(buf_put(&b, NULL, 0), 0);
	ck_assert_int_eq(buf_put_u8(&b, 0x08), -1);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_uint_eq(mem[7], 0xee);
	ck_assert_mem_eq(mem, "\x01\x02\x03\x04\x05\x06\x07", 7);

	/* Fixed storage is never freed nor replaced. */
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_eq(b.data, mem);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(dynamic_growth)
{
	struct buf	 b;
	size_t		 i;

	ck_assert_int_eq(buf_init(&b, 0, 1000), 0);
	ck_assert_int_eq(b.dynamic, 1);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_put_u8(&b, i & 0xff), 0);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_uint_le(b.cap, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(b.data[i], i & 0xff);

	errno = 0;
	ck_assert_int_eq(buf_put_u8(&b, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(b.len, 1000);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(dynamic_big_put)
{
	struct buf	 b;
	uint8_t		 big[300];

	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(buf_init(&b, 16, 301), 0);
	ck_assert_uint_eq(b.cap, 16);
	ck_assert_int_eq(buf_put(&b, big, sizeof(big)), 0);
	ck_assert_uint_ge(b.cap, 300);
	ck_assert_uint_le(b.cap, 301);
	ck_assert_mem_eq(b.data, big, sizeof(big));
	ck_assert_int_eq(buf_put_zero(&b, 1), 0);
	ck_assert_uint_eq(b.data[300], 0);
	ck_assert_int_eq(buf_put_zero(&b, 1), -1);
	ck_assert_uint_eq(b.len, 301);
	buf_free(&b);

	/* A request larger than max fails without growing first. */
	ck_assert_int_eq(buf_init(&b, 8, 64), 0);
	errno = 0;
	ck_assert_int_eq(buf_reserve(&b, 65), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(b.cap, 8);
	ck_assert_int_eq(buf_reserve(&b, 64), 0);
	ck_assert_uint_eq(b.cap, 64);
	buf_free(&b);
}
END_TEST

START_TEST(init_bad)
{
	struct buf	 b;

	errno = 0;
	ck_assert_int_eq(buf_init(&b, 100, 10), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(consume)
{
	struct buf	 b;

	ck_assert_int_eq(buf_init(&b, 4, 64), 0);
	ck_assert_int_eq(buf_put(&b, "abcdefgh", 8), 0);
	buf_consume(&b, 0);
	ck_assert_uint_eq(b.len, 8);
	buf_consume(&b, 3);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "defgh", 5);
	ck_assert_int_eq(buf_put(&b, "ij", 2), 0);
	ck_assert_mem_eq(b.data, "defghij", 7);
	buf_consume(&b, 7);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(buf_put(&b, "xy", 2), 0);
	buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(read_short)
{
	static const uint8_t	 d[] = { 1, 2, 3 };
	struct bufr		 r;
	uint8_t			 out[4] = { 9, 9, 9, 9 };
	uint8_t			 u8;
	uint16_t		 u16 = 0x7777;
	uint32_t		 u32 = 0x77777777;
	uint64_t		 u64 = 7;

	bufr_init(&r, d, sizeof(d));
	ck_assert_int_eq(bufr_get_u8(&r, &u8), 0);

	/* Two bytes left: every wider read fails and leaves everything. */
	errno = 0;
	ck_assert_int_eq(bufr_get_u32(&r, &u32), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_uint_eq(u32, 0x77777777);
	errno = 0;
	ck_assert_int_eq(bufr_get_u64(&r, &u64), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert(u64 == 7);
	errno = 0;
	ck_assert_int_eq(bufr_get(&r, out, 3), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_uint_eq(out[0], 9);
	errno = 0;
	ck_assert_int_eq(bufr_skip(&r, 3), -1);
	ck_assert_int_eq(errno, EBADMSG);
	errno = 0;
	ck_assert_ptr_null(bufr_ptr(&r, 3));
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_int_eq(bufr_skip(&r, SIZE_MAX), -1);
	ck_assert_uint_eq(r.off, 1);
	ck_assert_uint_eq(bufr_left(&r), 2);

	/* Trailing bytes are an error until read. */
	errno = 0;
	ck_assert_int_eq(bufr_end(&r), -1);
	ck_assert_int_eq(errno, EBADMSG);

	ck_assert_int_eq(bufr_get_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0x0203);
	ck_assert_int_eq(bufr_end(&r), 0);
	ck_assert_int_eq(bufr_get_u8(&r, &u8), -1);
	ck_assert_int_eq(bufr_get(&r, out, 0), 0);
}
END_TEST

START_TEST(read_ptr_skip)
{
	static const uint8_t	 d[] = "hello world";
	struct bufr		 r;
	const uint8_t		*p;
	uint8_t			 out[5];

	bufr_init(&r, d, 11);
	p = bufr_ptr(&r, 5);
	ck_assert_ptr_eq(p, d);
	ck_assert_int_eq(bufr_skip(&r, 1), 0);
	ck_assert_int_eq(bufr_get(&r, out, 5), 0);
	ck_assert_mem_eq(out, "world", 5);
	ck_assert_int_eq(bufr_end(&r), 0);

	bufr_init(&r, NULL, 0);
	ck_assert_uint_eq(bufr_left(&r), 0);
	ck_assert_int_eq(bufr_end(&r), 0);
	ck_assert_int_eq(bufr_get_u8(&r, out), -1);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, put_big_endian);
	tcase_add_test(tc, get_big_endian);
	tcase_add_test(tc, put_extremes_roundtrip);
	tcase_add_test(tc, fixed_full);
	tcase_add_test(tc, dynamic_growth);
	tcase_add_test(tc, dynamic_big_put);
	tcase_add_test(tc, init_bad);
	tcase_add_test(tc, consume);
	tcase_add_test(tc, read_short);
	tcase_add_test(tc, read_ptr_skip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(buf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
