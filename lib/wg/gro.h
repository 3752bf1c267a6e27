/*
 * Receive offload for a TUN with IFF_VNET_HDR: consecutive in-order TCP
 * segments of one flow, as they come out of a batch of decrypted
 * packets, are joined into one super-packet and written once, the way
 * the kernel's GRO would have joined them on a real NIC.  Anything that
 * cannot join (not TCP, IP options, other flags, a gap) is written on its
 * own.  The held packet is always written before an unrelated one, so
 * the order of packets is kept.
 */
#ifndef LR_WG_GRO_H
#define LR_WG_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wg/offload.h"

#define WG_GRO_SEGS_MAX	64

/* Writes one TUN frame (virtio header first); returns -1 on error. */
typedef int (*wg_gro_write)(void *arg, const uint8_t *, size_t);

struct wg_gro {
	wg_gro_write	 out;
	void		*arg;
	size_t		 len;		/* bytes held after the header */
	size_t		 iphl;
	size_t		 hdrlen;	/* IP + TCP headers */
	size_t		 mss;		/* payload of the first segment */
	uint32_t	 next_seq;
	unsigned int	 nseg;
	bool		 v6;
	bool		 closed;	/* a short or PSH segment ended it */
	uint8_t		 buf[WG_VNET_HDR_LEN + WG_GSO_MAX];
};

void	 wg_gro_init(struct wg_gro *, wg_gro_write, void *arg);
/* Offer one complete IP packet (its length exact, checksums valid). */
void	 wg_gro_add(struct wg_gro *, const uint8_t *pkt, size_t len);
/* Write what is held; call at the end of every batch. */
void	 wg_gro_flush(struct wg_gro *);

#endif
