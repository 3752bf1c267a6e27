/*
 * TUN offloads: TCP super-packets split into valid segments, partial
 * checksums completed, malformed virtio headers refused.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/offload.h"

static uint8_t	 pkt[WG_GSO_MAX];
static uint8_t	 seg[2048];

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A TCP super-packet: v4 or v6 header, 20-byte TCP header + 12 options. */
static size_t
make_tcp(int v6, size_t payload, uint8_t flags)
{
	size_t	 iphl = v6 ? 40 : 20, len = iphl + 32 + payload, i;
	uint8_t	*tcp = pkt + iphl;

	memset(pkt, 0, iphl + 32);
	if (v6) {
		pkt[0] = 0x60;
		put16(pkt + 4, (unsigned)(len - 40));
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		pkt[8] = 0xfd;
		pkt[23] = 1;
		pkt[24] = 0xfd;
		pkt[39] = 2;
	} else {
		pkt[0] = 0x45;
		put16(pkt + 2, 0);	/* super-packets may carry 0 here */
		put16(pkt + 4, 0x1234);
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		pkt[12] = 10; pkt[13] = 66; pkt[15] = 1;
		pkt[16] = 10; pkt[17] = 66; pkt[19] = 2;
	}
	put16(tcp, 40000);
	put16(tcp + 2, 5201);
	tcp[4] = 0xff; tcp[5] = 0xff; tcp[6] = 0xff; tcp[7] = 0x00;
	tcp[12] = 8 << 4;		/* 32-byte header */
	tcp[13] = flags;
	put16(tcp + 14, 1024);
	tcp[20] = 1; tcp[21] = 1; tcp[22] = 8; tcp[23] = 10;
	for (i = 0; i < payload; i++)
		pkt[iphl + 32 + i] = (uint8_t)(i * 7 + 3);
	return len;
}

/* The one's-complement sum over a valid checksummed region is 0xffff. */
static int
tcp_ok(const uint8_t *s, size_t len, int v6)
{
	size_t		 iphl = v6 ? 40 : 20;
	uint32_t	 sum;
	uint8_t		 ph[4];

	sum = v6 ? wg_csum_add(0, s + 8, 32) : wg_csum_add(0, s + 12, 8);
	put16(ph, IPPROTO_TCP);
	put16(ph + 2, (unsigned)(len - iphl));
	sum = wg_csum_add(sum, ph, 4);
	sum = wg_csum_add(sum, s + iphl, len - iphl);
	return wg_csum_fold(sum) == 0xffff;
}

static void
check_split(int v6, size_t payload, unsigned mss)
{
	struct virtio_net_hdr	 h;
	size_t			 len, slen, got = 0, iphl = v6 ? 40 : 20;
	unsigned		 i, n, want;
	uint8_t			*all = malloc(payload + 1);

	len = make_tcp(v6, payload, 0x18 | 0x01 | 0x80);  /* PSH ACK FIN CWR */
	memset(&h, 0, sizeof(h));
	h.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = (uint16_t)mss;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	want = payload == 0 ? 1 : (unsigned)((payload + mss - 1) / mss);
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), (int)want);
	n = want;
	for (i = 0; i < n; i++) {
		slen = wg_gso_segment(&h, pkt, len, i, seg, sizeof(seg));
		ck_assert_uint_gt(slen, 0);
		ck_assert_uint_le(slen - iphl - 32, mss);
		if (v6)
			ck_assert_uint_eq(get16(seg + 4), slen - 40);
		else {
			ck_assert_uint_eq(get16(seg + 2), slen);
			ck_assert_uint_eq(get16(seg + 4), 0x1234 + i);
			ck_assert_uint_eq(wg_csum_fold(wg_csum_add(0, seg,
			    20)), 0xffff);
		}
		ck_assert_msg(tcp_ok(seg, slen, v6), "bad TCP checksum, "
		    "segment %u", i);
		ck_assert_uint_eq(get32(seg + iphl + 4),
		    (uint32_t)(0xffffff00u + i * mss));	/* wraps */
		ck_assert_int_eq((seg[iphl + 13] & 0x09) != 0, i + 1 == n);
		ck_assert_int_eq((seg[iphl + 13] & 0x80) != 0, i == 0);
		ck_assert_int_eq(seg[iphl + 13] & 0x10, 0x10);	/* ACK kept */
		memcpy(all + got, seg + iphl + 32, slen - iphl - 32);
		got += slen - iphl - 32;
	}
	ck_assert_uint_eq(got, payload);
	ck_assert_mem_eq(all, pkt + iphl + 32, payload);
	ck_assert_uint_eq(wg_gso_segment(&h, pkt, len, n, seg, sizeof(seg)),
	    0);
	free(all);
}

START_TEST(test_split_v4)
{
	check_split(0, 5000, 1388);
	check_split(0, 1388 * 3, 1388);
	check_split(0, 1, 1388);
	check_split(0, 65000 - 52, 1388);
}
END_TEST

START_TEST(test_split_v6)
{
	check_split(1, 5000, 1368);
	check_split(1, 64000, 1368);
	check_split(1, 7, 1368);
}
END_TEST

/* An ordinary packet with a partial UDP checksum comes out complete. */
START_TEST(test_partial_csum)
{
	struct virtio_net_hdr	 h;
	uint32_t		 sum;
	uint8_t			 ph[4];
	size_t			 len = 20 + 8 + 101, i;

	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	put16(pkt + 2, (unsigned)len);
	pkt[9] = IPPROTO_UDP;
	pkt[12] = 10; pkt[15] = 1; pkt[16] = 10; pkt[19] = 2;
	put16(pkt + 20, 1000);
	put16(pkt + 22, 4445);
	put16(pkt + 24, (unsigned)(len - 20));
	for (i = 28; i < len; i++)
		pkt[i] = (uint8_t)i;
	/* what the kernel leaves: the folded pseudo-header sum */
	sum = wg_csum_add(0, pkt + 12, 8);
	put16(ph, IPPROTO_UDP);
	put16(ph + 2, (unsigned)(len - 20));
	sum = wg_csum_add(sum, ph, 4);
	put16(pkt + 26, wg_csum_fold(sum));
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 20;
	h.csum_offset = 6;
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), 1);
	ck_assert_uint_eq(wg_gso_segment(&h, pkt, len, 0, seg, sizeof(seg)),
	    len);
	sum = wg_csum_add(0, seg + 12, 8);
	sum = wg_csum_add(sum, ph, 4);
	sum = wg_csum_add(sum, seg + 20, len - 20);
	ck_assert_uint_eq(wg_csum_fold(sum), 0xffff);
	ck_assert_mem_eq(seg + 28, pkt + 28, len - 28);
}
END_TEST

START_TEST(test_plain_copy)
{
	struct virtio_net_hdr	 h;

	memset(&h, 0, sizeof(h));
	memset(pkt, 0x45, 100);
	ck_assert_int_eq(wg_gso_count(&h, pkt, 100), 1);
	ck_assert_uint_eq(wg_gso_segment(&h, pkt, 100, 0, seg, sizeof(seg)),
	    100);
	ck_assert_mem_eq(seg, pkt, 100);
	ck_assert_uint_eq(wg_gso_segment(&h, pkt, 100, 0, seg, 99), 0);
}
END_TEST

START_TEST(test_malformed)
{
	struct virtio_net_hdr	 h;
	size_t			 len = make_tcp(0, 3000, 0x10);

	memset(&h, 0, sizeof(h));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;		/* not offered */
	h.gso_size = 1000;
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), -1);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), -1);
	h.gso_size = 1;					/* too many segments */
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), -1);
	h.gso_size = 1000;
	ck_assert_int_eq(wg_gso_count(&h, pkt, 30), -1);	/* short */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;		/* it is v4 */
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), -1);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	pkt[9] = IPPROTO_UDP;
	ck_assert_int_eq(wg_gso_count(&h, pkt, len), -1);
	pkt[9] = IPPROTO_TCP;
	pkt[20 + 12] = 0xf0;				/* TCP header 60 */
	ck_assert_int_eq(wg_gso_count(&h, pkt, 70), -1);
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 90;
	h.csum_offset = 16;
	ck_assert_int_eq(wg_gso_count(&h, pkt, 100), -1);
	ck_assert_uint_eq(wg_gso_segment(&h, pkt, 100, 0, seg, sizeof(seg)),
	    0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("offload");
	TCase	*tc = tcase_create("gso");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_split_v4);
	tcase_add_test(tc, test_split_v6);
	tcase_add_test(tc, test_partial_csum);
	tcase_add_test(tc, test_plain_copy);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
