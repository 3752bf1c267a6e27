/*
 * TUN offloads.  With IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM |
 * TUN_F_TSO4 | TUN_F_TSO6) the kernel hands a TUN reader TCP super-packets
 * of up to 64 KiB and packets whose checksum is left partial, each behind
 * a struct virtio_net_hdr.  Reading one super-packet instead of ~45
 * segments is most of what makes the send path fast; these functions turn
 * it back into ordinary packets, each complete with its checksums.
 * Pure functions: no I/O, no allocation.
 */
#ifndef LR_WG_OFFLOAD_H
#define LR_WG_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define WG_VNET_HDR_LEN		sizeof(struct virtio_net_hdr)
#define WG_GSO_MAX		65536	/* largest super-packet taken */

/*
 * How many packets the super-packet pkt[len] (after the header h) makes:
 * 1 for an ordinary one, or -1 with errno EINVAL when the header does not
 * describe the packet (unknown GSO type, IPv6 extension headers, bad
 * lengths or offsets).
 */
int	 wg_gso_count(const struct virtio_net_hdr *h, const uint8_t *pkt,
	    size_t len);

/*
 * Write packet i (0 <= i < wg_gso_count()) to out[cap] with its IP and
 * TCP/UDP checksums complete; returns its length, 0 when it does not fit
 * or the input is invalid.
 */
size_t	 wg_gso_segment(const struct virtio_net_hdr *h, const uint8_t *pkt,
	    size_t len, unsigned int i, uint8_t *out, size_t cap);

/* Internet checksum helpers (RFC 1071), exposed for the tests. */
uint32_t wg_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t wg_csum_fold(uint32_t sum);

#endif
