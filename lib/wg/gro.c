/*
 * Receive offload: join in-order TCP segments into one TUN write.  See
 * gro.h.  The joined packet goes out with a partial checksum
 * (NEEDS_CSUM), as a NIC with GRO would hand it up.
 */
#include <netinet/in.h>
#include <string.h>

#include "lib/wg/gro.h"

#define TCP_ACK		0x10
#define TCP_PSH		0x08

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
wg_gro_init(struct wg_gro *g, wg_gro_write out, void *arg)
{
	g->out = out;
	g->arg = arg;
	g->len = 0;
}

/* A TCP packet without IP options or fragments, exactly len long. */
static bool
wg_gro_tcp(const uint8_t *p, size_t len, bool *v6, size_t *iphl,
    size_t *hdrlen)
{
	size_t	 thl;

	if (len >= 40 && (p[0] >> 4) == 4 && p[0] == 0x45 &&
	    p[9] == IPPROTO_TCP && get16(p + 2) == len &&
	    (get16(p + 6) & 0x3fff) == 0) {
		*v6 = false;
		*iphl = 20;
	} else if (len >= 60 && (p[0] >> 4) == 6 && p[6] == IPPROTO_TCP &&
	    (size_t)get16(p + 4) + 40 == len) {
		*v6 = true;
		*iphl = 40;
	} else
		return false;
	thl = (size_t)(p[*iphl + 12] >> 4) * 4;
	if (thl < 20 || *iphl + thl > len)
		return false;
	*hdrlen = *iphl + thl;
	return true;
}

/* Everything but lengths, ids, checksums, seq, window and PSH agrees. */
static bool
wg_gro_same_flow(const struct wg_gro *g, const uint8_t *p)
{
	const uint8_t	*h = g->buf + WG_VNET_HDR_LEN;
	size_t		 iphl = g->iphl;

	if (g->v6) {
		if (memcmp(h, p, 4) != 0 || h[7] != p[7] ||
		    memcmp(h + 8, p + 8, 32) != 0)
			return false;
	} else if (h[1] != p[1] || h[6] != p[6] || h[8] != p[8] ||
	    memcmp(h + 12, p + 12, 8) != 0)
		return false;
	return memcmp(h + iphl, p + iphl, 4) == 0 &&		/* ports */
	    memcmp(h + iphl + 8, p + iphl + 8, 4) == 0 &&	/* ack */
	    memcmp(h + iphl + 20, p + iphl + 20, g->hdrlen - iphl - 20) == 0;
}

static bool
wg_gro_can_join(const struct wg_gro *g, const uint8_t *p, size_t len,
    bool v6, size_t iphl, size_t hdrlen)
{
	size_t	 pay = len - hdrlen;

	return g->len > 0 && !g->closed && g->nseg < WG_GRO_SEGS_MAX &&
	    v6 == g->v6 && iphl == g->iphl && hdrlen == g->hdrlen &&
	    pay > 0 && pay <= g->mss &&
	    g->len + pay <= 65535 && WG_VNET_HDR_LEN + g->len + pay <=
	    sizeof(g->buf) &&
	    (p[iphl + 13] & ~TCP_PSH) == TCP_ACK &&
	    get32(p + iphl + 4) == g->next_seq && wg_gro_same_flow(g, p);
}

/* Fix the held packet's headers for what it has become. */
static void
wg_gro_finish(struct wg_gro *g, struct virtio_net_hdr *vh)
{
	uint8_t		*ip = g->buf + WG_VNET_HDR_LEN;
	uint8_t		*tcp = ip + g->iphl;
	uint32_t	 sum;
	uint8_t		 ph[4];

	if (g->v6)
		put16(ip + 4, (uint16_t)(g->len - 40));
	else {
		put16(ip + 2, (uint16_t)g->len);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~wg_csum_fold(wg_csum_add(0, ip, 20)));
	}
	/* partial: the pseudo-header sum, the kernel adds the rest */
	sum = g->v6 ? wg_csum_add(0, ip + 8, 32) : wg_csum_add(0, ip + 12, 8);
	put16(ph, IPPROTO_TCP);
	put16(ph + 2, (uint16_t)(g->len - g->iphl));
	put16(tcp + 16, wg_csum_fold(wg_csum_add(sum, ph, 4)));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
	    VIRTIO_NET_HDR_GSO_TCPV4;
	vh->hdr_len = (uint16_t)g->hdrlen;
	vh->gso_size = (uint16_t)g->mss;
	vh->csum_start = (uint16_t)g->iphl;
	vh->csum_offset = 16;
}

void
wg_gro_flush(struct wg_gro *g)
{
	struct virtio_net_hdr	 vh;

	if (g->len == 0)
		return;
	memset(&vh, 0, sizeof(vh));
	if (g->nseg > 1)
		wg_gro_finish(g, &vh);
	memcpy(g->buf, &vh, sizeof(vh));
	g->out(g->arg, g->buf, WG_VNET_HDR_LEN + g->len);
	g->len = 0;
}

/* Hold p as the start of a new super-packet. */
static void
wg_gro_start(struct wg_gro *g, const uint8_t *p, size_t len, bool v6,
    size_t iphl, size_t hdrlen)
{
	uint8_t	 flags = p[iphl + 13];

	memcpy(g->buf + WG_VNET_HDR_LEN, p, len);
	g->len = len;
	g->v6 = v6;
	g->iphl = iphl;
	g->hdrlen = hdrlen;
	g->mss = len - hdrlen;
	g->next_seq = get32(p + iphl + 4) + (uint32_t)g->mss;
	g->nseg = 1;
	g->closed = g->mss == 0 || (flags & ~TCP_PSH) != TCP_ACK ||
	    (flags & TCP_PSH);
}

static void
wg_gro_join(struct wg_gro *g, const uint8_t *p, size_t len)
{
	uint8_t	*held = g->buf + WG_VNET_HDR_LEN;
	size_t	 pay = len - g->hdrlen;

	memcpy(held + g->len, p + g->hdrlen, pay);
	g->len += pay;
	g->nseg++;
	g->next_seq += (uint32_t)pay;
	memcpy(held + g->iphl + 14, p + g->iphl + 14, 2);	/* window */
	if (p[g->iphl + 13] & TCP_PSH) {
		held[g->iphl + 13] |= TCP_PSH;
		g->closed = true;
	}
	if (pay < g->mss)
		g->closed = true;
}

void
wg_gro_add(struct wg_gro *g, const uint8_t *p, size_t len)
{
	size_t	 iphl, hdrlen;
	bool	 v6;

	if (len > WG_GSO_MAX)
		return;
	if (!wg_gro_tcp(p, len, &v6, &iphl, &hdrlen)) {
		wg_gro_flush(g);
		memcpy(g->buf + WG_VNET_HDR_LEN, p, len);
		g->len = len;
		g->nseg = 1;
		wg_gro_flush(g);
		return;
	}
	if (wg_gro_can_join(g, p, len, v6, iphl, hdrlen)) {
		wg_gro_join(g, p, len);
		return;
	}
	wg_gro_flush(g);
	wg_gro_start(g, p, len, v6, iphl, hdrlen);
}
