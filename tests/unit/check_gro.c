/*
 * Receive offload: segments of one flow join into one super-packet that
 * cuts back into the very same segments; anything else passes alone and
 * in order.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/gro.h"

#define MAXFRAMES	16

static uint8_t		 super[WG_GSO_MAX];
static uint8_t		 segs[64][2048];
static size_t		 seglen[64];
static uint8_t		 frames[MAXFRAMES][WG_VNET_HDR_LEN + WG_GSO_MAX];
static size_t		 framelen[MAXFRAMES];
static int		 nframes;
static struct wg_gro	 gro;

static int
collect(void *arg, const uint8_t *p, size_t len)
{
	ck_assert_int_lt(nframes, MAXFRAMES);
	memcpy(frames[nframes], p, len);
	framelen[nframes++] = len;
	return 0;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Segments of a TCP stream, made by our own (tested) segmentation. */
static int
make_segments(int v6, size_t payload, unsigned mss, uint32_t seq)
{
	struct virtio_net_hdr	 h;
	size_t			 iphl = v6 ? 40 : 20, len = iphl + 20 + payload;
	uint8_t			*tcp = super + iphl;
	int			 n, i;

	memset(super, 0, iphl + 20);
	if (v6) {
		super[0] = 0x60;
		super[6] = IPPROTO_TCP;
		super[7] = 64;
		super[8] = 0xfd;
		super[23] = 1;
		super[24] = 0xfd;
		super[39] = 2;
	} else {
		super[0] = 0x45;
		put16(super + 4, 7);
		super[6] = 0x40;	/* DF */
		super[8] = 64;
		super[9] = IPPROTO_TCP;
		super[12] = 10; super[13] = 66; super[15] = 2;
		super[16] = 10; super[17] = 66; super[19] = 1;
	}
	put16(tcp, 5201);
	put16(tcp + 2, 40000);
	tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
	tcp[11] = 9;
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;			/* ACK PSH: PSH stays on the last */
	put16(tcp + 14, 512);
	for (i = 0; i < (int)payload; i++)
		super[iphl + 20 + i] = (uint8_t)(i * 13 + seq);
	memset(&h, 0, sizeof(h));
	h.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = (uint16_t)mss;
	n = wg_gso_count(&h, super, len);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++) {
		seglen[i] = wg_gso_segment(&h, super, len, (unsigned)i,
		    segs[i], sizeof(segs[i]));
		ck_assert_uint_gt(seglen[i], 0);
	}
	return n;
}

static void
setup(void)
{
	nframes = 0;
	wg_gro_init(&gro, collect, NULL);
}

/*
 * The partial checksum, completed as the kernel would, makes the whole
 * super-packet's TCP checksum valid.
 */
static void
check_partial(const uint8_t *pkt, size_t len, size_t start)
{
	static uint8_t	 c[WG_GSO_MAX];
	uint32_t	 sum;
	uint16_t	 v;
	uint8_t		 ph[4];

	memcpy(c, pkt, len);
	v = (uint16_t)~wg_csum_fold(wg_csum_add(0, c + start, len - start));
	put16(c + start + 16, v);
	sum = start == 40 ? wg_csum_add(0, c + 8, 32) :
	    wg_csum_add(0, c + 12, 8);
	put16(ph, IPPROTO_TCP);
	put16(ph + 2, (unsigned)(len - start));
	sum = wg_csum_add(sum, ph, 4);
	sum = wg_csum_add(sum, c + start, len - start);
	ck_assert_uint_eq(wg_csum_fold(sum), 0xffff);
}

/* Frame f must cut back into segments[first .. first + n). */
static void
expect_frame(int f, int first, int n)
{
	struct virtio_net_hdr	 vh;
	uint8_t			 out[2048];
	const uint8_t		*pkt = frames[f] + WG_VNET_HDR_LEN;
	size_t			 len = framelen[f] - WG_VNET_HDR_LEN, l;
	int			 i;

	memcpy(&vh, frames[f], sizeof(vh));
	ck_assert_int_eq(wg_gso_count(&vh, pkt, len), n);
	if (n > 1) {
		ck_assert_int_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		check_partial(pkt, len, vh.csum_start);
	}
	for (i = 0; i < n; i++) {
		l = wg_gso_segment(&vh, pkt, len, (unsigned)i, out,
		    sizeof(out));
		ck_assert_uint_eq(l, seglen[first + i]);
		ck_assert_mem_eq(out, segs[first + i], l);
	}
}

START_TEST(test_join_v4)
{
	int	 n = make_segments(0, 10 * 1380, 1380, 1000);

	for (int i = 0; i < n; i++)
		wg_gro_add(&gro, segs[i], seglen[i]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 1);
	expect_frame(0, 0, n);
}
END_TEST

START_TEST(test_join_v6_short_last)
{
	int	 n = make_segments(1, 5 * 1360 + 77, 1360, 0xfffff000u);

	for (int i = 0; i < n; i++)
		wg_gro_add(&gro, segs[i], seglen[i]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 1);
	expect_frame(0, 0, n);
}
END_TEST

/* A gap in sequence numbers ends the super-packet. */
START_TEST(test_gap)
{
	int	 n = make_segments(0, 6 * 1000, 1000, 1);

	for (int i = 0; i < n; i++)
		if (i != 3)
			wg_gro_add(&gro, segs[i], seglen[i]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 2);
	expect_frame(0, 0, 3);
	expect_frame(1, 4, 2);
}
END_TEST

/* A non-TCP packet between segments: everything written in order. */
START_TEST(test_order_kept)
{
	uint8_t	 udp[40];
	int	 n = make_segments(0, 4 * 1000, 1000, 5);

	memset(udp, 0, sizeof(udp));
	udp[0] = 0x45;
	put16(udp + 2, sizeof(udp));
	udp[9] = IPPROTO_UDP;
	wg_gro_add(&gro, segs[0], seglen[0]);
	wg_gro_add(&gro, segs[1], seglen[1]);
	wg_gro_add(&gro, udp, sizeof(udp));
	wg_gro_add(&gro, segs[2], seglen[2]);
	wg_gro_add(&gro, segs[3], seglen[3]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 3);
	expect_frame(0, 0, 2);
	ck_assert_uint_eq(framelen[1], WG_VNET_HDR_LEN + sizeof(udp));
	ck_assert_mem_eq(frames[1] + WG_VNET_HDR_LEN, udp, sizeof(udp));
	for (size_t i = 0; i < WG_VNET_HDR_LEN; i++)
		ck_assert_int_eq(frames[1][i], 0);
	expect_frame(2, 2, 2);
	(void)n;
}
END_TEST

/* Another flow, a SYN, a segment after PSH: none of them join. */
START_TEST(test_no_join)
{
	uint8_t	 other[2048];
	int	 n = make_segments(0, 3 * 1000, 1000, 9);

	memcpy(other, segs[1], seglen[1]);
	other[19] = 3;			/* another destination */
	wg_gro_add(&gro, segs[0], seglen[0]);
	wg_gro_add(&gro, other, seglen[1]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 2);
	setup();
	segs[1][20 + 13] = 0x02;	/* SYN: never joined */
	wg_gro_add(&gro, segs[0], seglen[0]);
	wg_gro_add(&gro, segs[1], seglen[1]);
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 2);
	(void)n;
}
END_TEST

START_TEST(test_flush_empty)
{
	wg_gro_flush(&gro);
	ck_assert_int_eq(nframes, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("gro");
	TCase	*tc = tcase_create("join");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_join_v4);
	tcase_add_test(tc, test_join_v6_short_last);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_order_kept);
	tcase_add_test(tc, test_no_join);
	tcase_add_test(tc, test_flush_empty);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
