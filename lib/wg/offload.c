/*
 * TUN offloads: segmentation of TCP super-packets and completion of
 * partial checksums.  See offload.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/wg/offload.h"

#define WG_GSO_SEGS_MAX	256	/* 64 KiB in segments of at least 256 */

struct wg_gso_info {
	size_t		 iphl;		/* IP header length */
	size_t		 hdrlen;	/* IP + TCP headers */
	size_t		 payload;
	size_t		 mss;
	int		 v6;
	unsigned int	 nseg;
};

uint32_t
wg_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t
wg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
wg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
wg_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
wg_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* IP and TCP header lengths of a TCP super-packet. */
static int
wg_gso_parse(const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len, struct wg_gso_info *gi)
{
	unsigned int	 gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	size_t		 thl;

	memset(gi, 0, sizeof(*gi));
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && len >= 20 &&
	    (pkt[0] >> 4) == 4 && pkt[9] == IPPROTO_TCP)
		gi->iphl = (size_t)(pkt[0] & 0x0f) * 4;
	else if (gso == VIRTIO_NET_HDR_GSO_TCPV6 && len >= 40 &&
	    (pkt[0] >> 4) == 6 && pkt[6] == IPPROTO_TCP) {
		gi->iphl = 40;
		gi->v6 = 1;
	} else
		return -1;
	if (gi->iphl < 20 || gi->iphl + 20 > len)
		return -1;
	thl = (size_t)(pkt[gi->iphl + 12] >> 4) * 4;
	if (thl < 20 || gi->iphl + thl > len || h->gso_size == 0)
		return -1;
	gi->hdrlen = gi->iphl + thl;
	gi->payload = len - gi->hdrlen;
	gi->mss = h->gso_size;
	gi->nseg = gi->payload == 0 ? 1 :
	    (unsigned int)((gi->payload + gi->mss - 1) / gi->mss);
	return gi->nseg > WG_GSO_SEGS_MAX ? -1 : 0;
}

int
wg_gso_count(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len)
{
	struct wg_gso_info	 gi;

	if (len > WG_GSO_MAX)
		goto bad;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    (size_t)h->csum_start + h->csum_offset + 2 > len)
			goto bad;
		return 1;
	}
	if (wg_gso_parse(h, pkt, len, &gi) == -1)
		goto bad;
	return (int)gi.nseg;
bad:
	errno = EINVAL;
	return -1;
}

/* A partial checksum: the field holds the pseudo-header sum already. */
static void
wg_csum_complete(uint8_t *p, size_t len, size_t start, size_t off)
{
	uint16_t	 c;

	c = (uint16_t)~wg_csum_fold(wg_csum_add(0, p + start, len - start));
	/* UDP sends 0 as "no checksum": a computed 0 is written 0xffff */
	if (c == 0 && off == 6)
		c = 0xffff;
	wg_put16(p + start + off, c);
}

static void
wg_ip4_fix(uint8_t *ip, size_t iphl, size_t total, uint16_t id)
{
	wg_put16(ip + 2, (uint16_t)total);
	wg_put16(ip + 4, id);
	wg_put16(ip + 10, 0);
	wg_put16(ip + 10, (uint16_t)~wg_csum_fold(wg_csum_add(0, ip, iphl)));
}

/* TCP checksum over the pseudo-header, the header and the payload. */
static void
wg_tcp_csum(uint8_t *seg, const struct wg_gso_info *gi, size_t seglen)
{
	uint8_t		*tcp = seg + gi->iphl;
	size_t		 tcplen = seglen - gi->iphl;
	uint32_t	 sum;
	uint8_t		 ph[4];

	wg_put16(tcp + 16, 0);
	if (gi->v6)
		sum = wg_csum_add(0, seg + 8, 32);
	else
		sum = wg_csum_add(0, seg + 12, 8);
	wg_put16(ph, IPPROTO_TCP);
	wg_put16(ph + 2, (uint16_t)tcplen);
	sum = wg_csum_add(sum, ph, 4);
	sum = wg_csum_add(sum, tcp, tcplen);
	wg_put16(tcp + 16, (uint16_t)~wg_csum_fold(sum));
}

static size_t
wg_tcp_segment(const struct wg_gso_info *gi, const uint8_t *pkt,
    unsigned int i, uint8_t *out, size_t cap)
{
	size_t		 off = (size_t)i * gi->mss;
	size_t		 plen = gi->payload - off < gi->mss ?
			    gi->payload - off : gi->mss;
	size_t		 seglen = gi->hdrlen + plen;
	uint8_t		*tcp = out + gi->iphl;

	if (i >= gi->nseg || seglen > cap)
		return 0;
	memcpy(out, pkt, gi->hdrlen);
	memcpy(out + gi->hdrlen, pkt + gi->hdrlen + off, plen);
	if (gi->v6)
		wg_put16(out + 4, (uint16_t)(seglen - 40));
	else
		wg_ip4_fix(out, gi->iphl, seglen,
		    (uint16_t)(wg_get16(pkt + 4) + i));
	wg_put32(tcp + 4, wg_get32(pkt + gi->iphl + 4) + (uint32_t)off);
	if (i + 1 < gi->nseg)
		tcp[13] &= (uint8_t)~0x09;	/* FIN and PSH: last only */
	if (i > 0)
		tcp[13] &= (uint8_t)~0x80;	/* CWR: first only */
	wg_tcp_csum(out, gi, seglen);
	return seglen;
}

size_t
wg_gso_segment(const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len, unsigned int i, uint8_t *out, size_t cap)
{
	struct wg_gso_info	 gi;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (i != 0 || len > cap || wg_gso_count(h, pkt, len) != 1)
			return 0;
		memcpy(out, pkt, len);
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			wg_csum_complete(out, len, h->csum_start,
			    h->csum_offset);
		return len;
	}
	if (len > WG_GSO_MAX || wg_gso_parse(h, pkt, len, &gi) == -1)
		return 0;
	return wg_tcp_segment(&gi, pkt, i, out, cap);
}
