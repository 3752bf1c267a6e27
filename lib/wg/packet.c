/*
 * The packet path.  Each worker owns one TUN queue and one UDP socket and
 * moves batches: TUN -> encrypt -> sendmmsg, and recvmmsg -> decrypt ->
 * TUN.  Buffers are allocated once per worker; nothing on the way of a
 * data packet allocates.  Handshake messages are collected during a batch
 * and handled after it, under the device write lock.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wg/device_int.h"
#include "lib/wg/gro.h"
#include "lib/wg/offload.h"
#include "proto/relay.h"

#define WG_HS_BATCH	WG_DEVICE_BATCH	/* handshake messages per batch */
#define WG_TUN_READS	8	/* super-packets read per batch */
#define WG_UDP_GSO_SEGS	64	/* datagrams per UDP GSO send */
#define WG_UDP_GSO_BYTES 65000	/* their total: one IP datagram's payload */

struct wg_slot {
	uint8_t			 buf[WG_SLOT_SIZE];
	struct sockaddr_storage	 addr;
	uint8_t			 relay_hdr[RELAY_FWD_HDRLEN];
};

struct wg_batch {
	struct wg_slot		 slot[WG_DEVICE_BATCH];
	struct mmsghdr		 msg[WG_DEVICE_BATCH];
	struct iovec		 iov[WG_DEVICE_BATCH];
	struct iovec		 riov[WG_DEVICE_BATCH][2];	/* relayed */
	struct wg_peer		*kick[WG_DEVICE_BATCH];
	size_t			 nkick;
};

/*
 * Receive buffers: 64 slots of 2 KiB, or, with UDP GRO, 16 of 64 KiB: a
 * GRO datagram holds a run of same-sized datagrams from one sender.
 */
#define WG_RX_ARENA	(16 * 65536)
#define WG_RX_GRO_SLOT	65536

struct wg_rx {
	uint8_t			 arena[WG_RX_ARENA];
	struct mmsghdr		 msg[WG_DEVICE_BATCH];
	struct iovec		 iov[WG_DEVICE_BATCH];
	struct sockaddr_storage	 addr[WG_DEVICE_BATCH];
	uint8_t			 cbuf[WG_DEVICE_BATCH][CMSG_SPACE(
				    sizeof(int))];
	size_t			 nslots;
};

/* One datagram as received (a GRO datagram is cut into these). */
struct wg_dgram {
	uint8_t			*p;
	size_t			 len;
	struct sockaddr_storage	*addr;
	socklen_t		 alen;
	bool			 relayed;	/* came in a relay's RECV */
};

/* Room to regroup a batch into UDP GSO sends. */
struct wg_gso_out {
	struct mmsghdr		 msg[WG_DEVICE_BATCH];
	struct iovec		 iov[WG_DEVICE_BATCH];
	uint8_t			 cbuf[WG_DEVICE_BATCH][CMSG_SPACE(
				    sizeof(uint16_t))];
};

struct wg_hs_msg {
	uint8_t			 buf[WG_INITIATION_LEN];
	size_t			 len;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	bool			 relayed;
};

struct wg_wstate {
	struct wg_worker	*w;
	struct wg_device	*dev;
	struct wg_rx		 rx;
	struct wg_batch		 tx;
	struct wg_hs_msg	 hs[WG_HS_BATCH];
	size_t			 nhs;
	uint8_t			 big[WG_VNET_HDR_LEN + WG_GSO_MAX];
	struct wg_gro		 gro;	/* decrypted TCP, joined for the TUN */
	struct wg_gso_out	 gso;
};

/* Where an IP packet goes, or comes from. */
static bool
wg_ip_addr(const uint8_t *pkt, size_t len, bool dst, int *af,
    const uint8_t **addr)
{
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		*af = AF_INET;
		*addr = pkt + (dst ? 16 : 12);
		return true;
	}
	if (len >= 40 && (pkt[0] >> 4) == 6) {
		*af = AF_INET6;
		*addr = pkt + (dst ? 24 : 8);
		return true;
	}
	return false;
}

/* The inner packet's own length, which drops the padding. */
static size_t
wg_ip_len(const uint8_t *pkt, size_t len)
{
	size_t	 n;

	if (len >= 20 && (pkt[0] >> 4) == 4)
		n = (size_t)pkt[2] << 8 | pkt[3];
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		n = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
	else
		return 0;
	return n <= len ? n : 0;
}

static void
wg_kick_add(struct wg_batch *b, struct wg_peer *p)
{
	size_t	 i;

	atomic_store(&p->want_handshake, true);
	for (i = 0; i < b->nkick; i++)
		if (b->kick[i] == p)
			return;
	if (b->nkick < WG_DEVICE_BATCH)
		b->kick[b->nkick++] = p;
}

/* Wake the timer thread: it starts the handshakes that were asked for. */
static void
wg_kick_timer(struct wg_device *dev, struct wg_batch *b)
{
	uint64_t	 one = 1;

	if (b->nkick == 0)
		return;
	b->nkick = 0;
	if (write(dev->timer_kickfd, &one, sizeof(one)) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
}

/* Hold a packet until the peer has a session (peer lock held). */
static void
wg_stage(struct wg_device *dev, struct wg_peer *p, const uint8_t *pkt,
    size_t len)
{
	struct wg_staged	*s, *old;

	if (p->nstaged == WG_DEVICE_STAGED_MAX) {
		old = p->staged_head;
		p->staged_head = old->next;
		if (p->staged_head == NULL)
			p->staged_tail = NULL;
		p->nstaged--;
		free(old);
		WG_STAT(dev, drop_staged);
	}
	if ((s = malloc(sizeof(*s) + len)) == NULL) {
		WG_STAT(dev, drop_staged);
		return;
	}
	s->next = NULL;
	s->len = len;
	memcpy(s->data, pkt, len);
	if (p->staged_tail != NULL)
		p->staged_tail->next = s;
	else
		p->staged_head = s;
	p->staged_tail = s;
	p->nstaged++;
}

/* An inner IPv4 packet to a LAN-wide address (device.h, LAN emulation). */
static bool
wg_lan_dst(const struct wg_device *dev, const uint8_t *pkt, size_t len)
{
	uint32_t	 dst;
	size_t		 i;

	if (!dev->lan_on || len < 20 || (pkt[0] >> 4) != 4)
		return false;
	memcpy(&dst, pkt + 16, sizeof(dst));
	if ((pkt[16] & 0xf0) == 0xe0 || dst == 0xffffffffU)
		return true;
	for (i = 0; i < dev->lan.nbcast; i++)
		if (dev->lan.bcast[i] == dst)
			return true;
	return false;
}

/* One copy for one peer; staged while it has no session. */
static void
wg_flood_one(struct wg_device *dev, struct wg_batch *b, struct wg_peer *p,
    int fd, const uint8_t *pkt, size_t len)
{
	if (wg_send_one(dev, p, fd, pkt, len) == 0) {
		WG_STAT(dev, lan_copies);
		return;
	}
	if (errno != ENOTCONN) {
		WG_STAT(dev, drop_no_endpoint);
		return;
	}
	pthread_mutex_lock(&p->lock);
	wg_stage(dev, p, pkt, len);
	pthread_mutex_unlock(&p->lock);
	wg_kick_add(b, p);
}

/*
 * A LAN-wide packet from the TUN: to every peer when the hook says so.
 * One at a time, off the batched path: the hook bounds the rate.
 */
static void
wg_flood(struct wg_device *dev, struct wg_batch *b, int fd,
    const uint8_t *pkt, size_t len)
{
	size_t	 i;

	if (!dev->lan.carry(pkt, len, dev->lan.arg))
		return;
	for (i = 0; i < dev->npeers; i++)
		wg_flood_one(dev, b, dev->peers[i], fd, pkt, len);
}

/*
 * Slot i's datagram as one iovec, or, to a peer behind a relay, two: the
 * SEND header (the peer's tag) and the datagram, which stays in place.
 */
static void
wg_tx_iov(struct wg_batch *b, size_t i, const uint8_t *key, size_t len)
{
	struct wg_slot	*s = &b->slot[i];
	struct msghdr	*mh = &b->msg[i].msg_hdr;

	b->iov[i].iov_base = s->buf;
	b->iov[i].iov_len = len;
	if (key == NULL) {
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = 1;
		return;
	}
	s->relay_hdr[0] = RELAY_SEND;
	memcpy(s->relay_hdr + 1, key, RELAY_TAGLEN);
	b->riov[i][0].iov_base = s->relay_hdr;
	b->riov[i][0].iov_len = sizeof(s->relay_hdr);
	b->riov[i][1] = b->iov[i];
	mh->msg_iov = b->riov[i];
	mh->msg_iovlen = 2;
}

/*
 * Encrypt slot i's packet (at buf + 16) for its peer into the slot, and
 * fill its destination.  false: the packet was staged or dropped.
 */
static bool
wg_tx_prepare(struct wg_device *dev, struct wg_batch *b, size_t i,
    size_t len, uint64_t now, int fd)
{
	struct wg_slot		*s = &b->slot[i];
	struct wg_keypair	*kp;
	struct wg_peer		*p;
	const uint8_t		*dst;
	socklen_t		 alen;
	size_t			 outlen;
	bool			 relayed;
	int			 af;

	if (wg_lan_dst(dev, s->buf + WG_DATA_HDR_LEN, len)) {
		wg_flood(dev, b, fd, s->buf + WG_DATA_HDR_LEN, len);
		return false;
	}
	if (!wg_ip_addr(s->buf + WG_DATA_HDR_LEN, len, true, &af, &dst) ||
	    (p = wg_allowedips_lookup(&dev->aips, af, dst)) == NULL) {
		WG_STAT(dev, drop_no_route);
		return false;
	}
	pthread_mutex_lock(&p->lock);
	kp = p->kp_current;
	alen = p->endpoint_len;
	relayed = p->endpoint_relayed;
	memcpy(&s->addr, &p->endpoint, alen);
	if (alen == 0 || kp == NULL || wg_noise_encrypt(kp, now,
	    s->buf + WG_DATA_HDR_LEN, len, dev->mtu, s->buf, WG_SLOT_SIZE,
	    &outlen) == -1) {
		wg_stage(dev, p, s->buf + WG_DATA_HDR_LEN, len);
		pthread_mutex_unlock(&p->lock);
		wg_kick_add(b, p);
		return false;
	}
	pthread_mutex_unlock(&p->lock);
	if (wg_keypair_should_rekey_send(kp, now))
		wg_kick_add(b, p);
	wg_tx_iov(b, i, relayed ? p->public_key : NULL, outlen);
	b->msg[i].msg_hdr.msg_name = &s->addr;
	b->msg[i].msg_hdr.msg_namelen = alen;
	atomic_store_explicit(&p->last_sent, now, memory_order_relaxed);
	atomic_store_explicit(&p->last_data_sent, now, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->tx_bytes, outlen, memory_order_relaxed);
	return true;
}

/*
 * Send msg[0..n) fully; a full socket buffer drops the rest.  Returns
 * -1 when the kernel refused a message with EIO (no UDP GSO on the way
 * out), after skipping it.
 */
static int
wg_sendmmsg_all(int fd, struct mmsghdr *m, size_t n)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	size_t		 done = 0;
	int		 r, tries = 0, rc = 0;

	while (done < n) {
		r = sendmmsg(fd, m + done, (unsigned int)(n - done), 0);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EAGAIN && tries++ < 4 &&
		    poll(&pfd, 1, 10) >= 0)
			continue;
		if (r == -1 && errno == EIO)
			rc = -1;
		else if (r == -1 && errno != EAGAIN)
			log_debug("%s: %s", __func__, strerror(errno));
		done++;		/* skip the packet the kernel refused */
	}
	return rc;
}

/* Relayed datagrams (two iovecs) are never segmented together. */
static bool
wg_same_dest(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_iovlen == 1 && b->msg_iovlen == 1 &&
	    a->msg_namelen == b->msg_namelen &&
	    memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0;
}

/*
 * UDP GSO: a run of datagrams to one peer, all of one size but the last,
 * goes to the kernel as one message of several iovecs with UDP_SEGMENT.
 * Segments of one TCP super-packet encrypt to equal sizes, so the runs
 * are long.  Returns how many messages were built into out[].
 */
static size_t
wg_gso_group(struct wg_batch *b, size_t n, struct wg_gso_out *g)
{
	struct msghdr	*first;
	struct cmsghdr	*cm;
	size_t		 i = 0, j, k = 0, nout = 0, seg, max;

	while (i < n) {
		first = &b->msg[i].msg_hdr;
		seg = first->msg_iov->iov_len;
		/* one UDP datagram's worth: 64 KiB less the headers */
		max = WG_UDP_GSO_BYTES / seg;
		if (max > WG_UDP_GSO_SEGS)
			max = WG_UDP_GSO_SEGS;
		for (j = i + 1; j < n && j - i < max &&
		    wg_same_dest(first, &b->msg[j].msg_hdr) &&
		    b->msg[j].msg_hdr.msg_iov->iov_len == seg; j++)
			;
		if (j < n && j - i < max &&
		    wg_same_dest(first, &b->msg[j].msg_hdr) &&
		    b->msg[j].msg_hdr.msg_iov->iov_len < seg)
			j++;		/* a shorter last segment may join */
		if (first->msg_iovlen != 1) {
			g->msg[nout++].msg_hdr = *first;	/* as it is */
			i++;
			continue;
		}
		memset(&g->msg[nout], 0, sizeof(g->msg[nout]));
		g->msg[nout].msg_hdr.msg_name = first->msg_name;
		g->msg[nout].msg_hdr.msg_namelen = first->msg_namelen;
		g->msg[nout].msg_hdr.msg_iov = &g->iov[k];
		g->msg[nout].msg_hdr.msg_iovlen = j - i;
		for (; i < j; i++)
			g->iov[k++] = *b->msg[i].msg_hdr.msg_iov;
		if (g->msg[nout].msg_hdr.msg_iovlen > 1) {
			g->msg[nout].msg_hdr.msg_control = g->cbuf[nout];
			g->msg[nout].msg_hdr.msg_controllen =
			    CMSG_SPACE(sizeof(uint16_t));
			cm = CMSG_FIRSTHDR(&g->msg[nout].msg_hdr);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg;
		}
		nout++;
	}
	return nout;
}

/* Send the batch's n prepared datagrams, in GSO runs when we may. */
static void
wg_send_batch(struct wg_wstate *ws, struct wg_batch *b, size_t n)
{
	struct wg_device	*dev = ws->dev;
	size_t			 nout;

	if (n == 0)
		return;
	atomic_fetch_add_explicit(&dev->st.tx_packets, n,
	    memory_order_relaxed);
	if (!atomic_load_explicit(&dev->udp_gso, memory_order_relaxed)) {
		wg_sendmmsg_all(ws->w->udp_fd, b->msg, n);
		return;
	}
	nout = wg_gso_group(b, n, &ws->gso);
	if (wg_sendmmsg_all(ws->w->udp_fd, ws->gso.msg, nout) == -1) {
		/* the path cannot segment: plain datagrams from now on */
		log_debug("%s: UDP GSO refused, turning it off", __func__);
		atomic_store(&dev->udp_gso, false);
		wg_sendmmsg_all(ws->w->udp_fd, b->msg, n);
	}
}

/*
 * The queue fails for good when its interface is deleted (EBADFD): stop
 * watching it and tell the owner.
 */
static void
wg_tun_dead(struct wg_wstate *ws)
{
	uint64_t	 one = 1;

	log_debug("%s: tun queue: %s", __func__, strerror(errno));
	epoll_ctl(ws->w->epfd, EPOLL_CTL_DEL, ws->w->tun_fd, NULL);
	if (write(ws->dev->dead_fd, &one, sizeof(one)) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
}

static void
wg_tun_batch(struct wg_wstate *ws)
{
	struct wg_device	*dev = ws->dev;
	struct wg_batch		*b = &ws->tx;
	size_t			 i, n = 0, room;
	uint64_t		 now = wg_now();
	ssize_t			 r;

	room = WG_SLOT_SIZE - WG_DATA_HDR_LEN - WG_AEAD_TAG_LEN - 16;
	pthread_rwlock_rdlock(&dev->lock);
	for (i = 0; i < WG_DEVICE_BATCH; i++) {
		r = read(ws->w->tun_fd, b->slot[i].buf + WG_DATA_HDR_LEN,
		    room);
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			wg_tun_dead(ws);
		if (r <= 0)
			break;
		/* compact: msg[n] keeps slot i's iov and address */
		if (wg_tx_prepare(dev, b, i, (size_t)r, now,
		    ws->w->udp_fd))
			b->msg[n++] = b->msg[i];
	}
	wg_send_batch(ws, b, n);
	pthread_rwlock_unlock(&dev->lock);
	wg_kick_timer(dev, b);
}

/*
 * With TUN offloads: a read may be a TCP super-packet, cut here into
 * segments that are encrypted and sent in batches like any others.
 */
static void
wg_tun_batch_vnet(struct wg_wstate *ws)
{
	struct wg_device	*dev = ws->dev;
	struct wg_batch		*b = &ws->tx;
	struct virtio_net_hdr	 h;
	size_t			 n = 0, len, seglen, room;
	uint64_t		 now = wg_now();
	ssize_t			 r;
	int			 reads, nseg, i;

	room = WG_SLOT_SIZE - WG_DATA_HDR_LEN - WG_AEAD_TAG_LEN - 16;
	pthread_rwlock_rdlock(&dev->lock);
	for (reads = 0; reads < WG_TUN_READS; reads++) {
		r = read(ws->w->tun_fd, ws->big, sizeof(ws->big));
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			wg_tun_dead(ws);
		if (r < (ssize_t)WG_VNET_HDR_LEN)
			break;
		memcpy(&h, ws->big, sizeof(h));
		len = (size_t)r - WG_VNET_HDR_LEN;
		if ((nseg = wg_gso_count(&h, ws->big + WG_VNET_HDR_LEN,
		    len)) == -1) {
			WG_STAT(dev, drop_malformed);
			continue;
		}
		for (i = 0; i < nseg; i++) {
			if (n == WG_DEVICE_BATCH) {
				wg_send_batch(ws, b, n);
				n = 0;
			}
			seglen = wg_gso_segment(&h, ws->big + WG_VNET_HDR_LEN,
			    len, (unsigned int)i, b->slot[n].buf +
			    WG_DATA_HDR_LEN, room);
			if (seglen == 0) {
				WG_STAT(dev, drop_malformed);
				break;
			}
			if (wg_tx_prepare(dev, b, n, seglen, now,
			    ws->w->udp_fd))
				n++;
		}
	}
	wg_send_batch(ws, b, n);
	pthread_rwlock_unlock(&dev->lock);
	wg_kick_timer(dev, b);
}

/* Responder: the first data on "next" confirms it (peer lock held). */
static void
wg_confirm(struct wg_device *dev, struct wg_peer *p, struct wg_keypair *kp)
{
	if (p->kp_next != kp)
		return;
	wg_keypair_retire(dev, p->kp_previous);
	p->kp_previous = p->kp_current;
	p->kp_current = kp;
	p->kp_next = NULL;
}

static bool
wg_same_addr(const struct sockaddr_storage *a, socklen_t alen,
    const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * Roaming: the endpoint follows authenticated packets, to or from a
 * relay, but not from one relay to another (peer lock held).
 */
static void
wg_roam(struct wg_peer *p, const struct sockaddr_storage *ss, socklen_t len,
    bool relayed)
{
	if (len > 0 && len <= sizeof(p->endpoint) &&
	    wg_endpoint_follows(p, relayed) &&
	    (!wg_same_addr(&p->endpoint, p->endpoint_len, ss, len) ||
	    p->endpoint_relayed != relayed)) {
		memcpy(&p->endpoint, ss, len);
		p->endpoint_len = len;
		p->endpoint_relayed = relayed;
	}
}

static void
wg_rx_data(struct wg_wstate *ws, struct wg_batch *b, struct wg_dgram *d,
    uint64_t now)
{
	struct wg_device	*dev = ws->dev;
	struct wg_index_ent	*e;
	struct wg_peer		*p;
	const uint8_t		*src;
	uint8_t			*pt = d->p + WG_DATA_HDR_LEN;
	size_t			 ptlen, iplen, len = d->len;
	int			 af;

	e = wg_index_get(dev, wg_noise_get_u32(d->p, WG_OFF_RECEIVER));
	if (e == NULL || e->kp == NULL) {
		WG_STAT(dev, drop_no_index);
		return;
	}
	p = e->peer;
	if (wg_noise_decrypt(e->kp, now, d->p, len, pt, &ptlen) == -1) {
		if (errno == EALREADY)
			WG_STAT(dev, drop_replay);
		else if (errno == EKEYEXPIRED)
			WG_STAT(dev, drop_expired);
		else
			WG_STAT(dev, drop_auth);
		return;
	}
	pthread_mutex_lock(&p->lock);
	wg_confirm(dev, p, e->kp);
	wg_roam(p, d->addr, d->alen, d->relayed);
	pthread_mutex_unlock(&p->lock);
	atomic_store_explicit(&p->last_recv, now, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	if (e->kp->initiator && wg_keypair_should_rekey_recv(e->kp, now))
		wg_kick_add(b, p);
	if (p->nstaged > 0)
		wg_kick_add(b, p);	/* a confirmed session may send now */
	if (ptlen == 0)
		return;			/* keepalive */
	if ((iplen = wg_ip_len(pt, ptlen)) == 0 ||
	    !wg_ip_addr(pt, iplen, false, &af, &src) ||
	    wg_allowedips_lookup(&dev->aips, af, src) != p) {
		WG_STAT(dev, drop_source);
		return;
	}
	atomic_store_explicit(&p->last_data_recv, now, memory_order_relaxed);
	if (wg_lan_dst(dev, pt, iplen) &&
	    !dev->lan.deliver(p->public_key, pt, iplen, dev->lan.arg))
		return;
	if (dev->vnet_hdr)
		wg_gro_add(&ws->gro, pt, iplen);
	else if (write(ws->w->tun_fd, pt, iplen) == -1)
		log_debug("%s: tun write: %s", __func__, strerror(errno));
}

static void
wg_rx_keep_handshake(struct wg_wstate *ws, struct wg_dgram *d)
{
	struct wg_hs_msg	*h;
	size_t			 len = d->len;

	/* mac1 is cheap: junk must not take a real initiation's place */
	if (d->p[0] != WG_MSG_COOKIE_REPLY &&
	    !wg_noise_check_mac1(&ws->dev->local, d->p, len)) {
		WG_STAT(ws->dev, drop_auth);
		return;
	}
	if (ws->nhs == WG_HS_BATCH || len > sizeof(h->buf)) {
		WG_STAT(ws->dev, drop_handshake);
		return;
	}
	h = &ws->hs[ws->nhs++];
	memcpy(h->buf, d->p, len);
	h->len = len;
	memcpy(&h->addr, d->addr, d->alen);
	h->addrlen = d->alen;
	h->relayed = d->relayed;
}

/* The "other" handler sees addresses as people write them (no v4-mapped). */
static void
wg_other_deliver(struct wg_device *dev, const uint8_t *m, size_t len,
    const void *addr, socklen_t alen)
{
	struct sockaddr_storage	 ss, shown;

	if (alen > sizeof(ss))
		return;
	memcpy(&ss, addr, alen);
	wg_endpoint_show(&ss, alen, &shown);
	dev->other_cb(m, len, (struct sockaddr *)&shown,
	    shown.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6), dev->other_arg);
}

static bool
wg_from_relay(const struct wg_device *dev, const struct wg_dgram *d)
{
	size_t	 i;

	for (i = 0; i < dev->nrelays; i++)
		if (dev->relay_len[i] == d->alen &&
		    memcmp(&dev->relays[i], d->addr, d->alen) == 0)
			return true;
	return false;
}

static void	 wg_rx_one(struct wg_wstate *, struct wg_batch *,
		    struct wg_dgram *, uint64_t);

/*
 * A relay's RECV: what it carries is handled as a datagram from the
 * relay, once (a relay frame inside one is not); what is not WireGuard
 * goes to the other-hook as the whole RECV frame (wg_rx_one).  The
 * source tag is not needed: WireGuard finds the peer by index or by its
 * handshake.
 */
static void
wg_rx_relayed(struct wg_wstate *ws, struct wg_batch *b, struct wg_dgram *d,
    uint64_t now)
{
	struct wg_dgram	 in = *d;

	if (d->relayed || d->len <= RELAY_FWD_HDRLEN ||
	    !wg_from_relay(ws->dev, d)) {
		WG_STAT(ws->dev, drop_relay);
		return;
	}
	in.p += RELAY_FWD_HDRLEN;
	in.len -= RELAY_FWD_HDRLEN;
	in.relayed = true;
	wg_rx_one(ws, b, &in, now);
}

static void
wg_rx_one(struct wg_wstate *ws, struct wg_batch *b, struct wg_dgram *d,
    uint64_t now)
{
	struct wg_device	*dev = ws->dev;
	const uint8_t		*m = d->p;

	switch (wg_noise_msg_type(m, d->len)) {
	case WG_MSG_DATA:
		wg_rx_data(ws, b, d, now);
		break;
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE:
	case WG_MSG_COOKIE_REPLY:
		wg_rx_keep_handshake(ws, d);
		break;
	default:
		/* WireGuard framing with a bad length is ours, and broken */
		if (d->len >= 4 && m[0] >= 1 && m[0] <= 4 && m[1] == 0 &&
		    m[2] == 0 && m[3] == 0)
			WG_STAT(dev, drop_malformed);
		else if (d->len > 0 && m[0] == RELAY_RECV)
			wg_rx_relayed(ws, b, d, now);
		else if (d->relayed && dev->other_cb != NULL)
			/* not WireGuard (disco through the relay): the
			 * RECV frame whole, whose payload d is, from the
			 * relay, for the hook to check */
			wg_other_deliver(dev, m - RELAY_FWD_HDRLEN,
			    d->len + RELAY_FWD_HDRLEN, d->addr, d->alen);
		else if (d->relayed)
			WG_STAT(dev, drop_relay);	/* only WireGuard */
		else if (dev->other_cb != NULL)
			wg_other_deliver(dev, m, d->len, d->addr, d->alen);
		else
			WG_STAT(dev, drop_other);
		break;
	}
}

static void
wg_rx_prepare(struct wg_rx *rx, bool gro)
{
	size_t	 i, size = gro ? WG_RX_GRO_SLOT : WG_SLOT_SIZE;

	rx->nslots = gro ? WG_RX_ARENA / WG_RX_GRO_SLOT : WG_DEVICE_BATCH;
	for (i = 0; i < rx->nslots; i++) {
		rx->iov[i].iov_base = rx->arena + i * size;
		rx->iov[i].iov_len = size;
		memset(&rx->msg[i].msg_hdr, 0, sizeof(rx->msg[i].msg_hdr));
		rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msg[i].msg_hdr.msg_iovlen = 1;
		rx->msg[i].msg_hdr.msg_name = &rx->addr[i];
		rx->msg[i].msg_hdr.msg_namelen = sizeof(rx->addr[i]);
		rx->msg[i].msg_hdr.msg_control = rx->cbuf[i];
		rx->msg[i].msg_hdr.msg_controllen = sizeof(rx->cbuf[i]);
	}
}

/* The segment size of a UDP GRO datagram, or 0 for a plain one. */
static size_t
wg_rx_gro_size(struct msghdr *mh)
{
	struct cmsghdr	*cm;
	int		 v;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

/* Message i, cut into the datagrams it joins; returns how many. */
static size_t
wg_rx_msg(struct wg_wstate *ws, size_t i, uint64_t now)
{
	struct wg_rx	*rx = &ws->rx;
	struct wg_dgram	 d;
	size_t		 len = rx->msg[i].msg_len, seg, off, n = 0;

	if (rx->msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
		WG_STAT(ws->dev, drop_malformed);
		return 1;
	}
	seg = wg_rx_gro_size(&rx->msg[i].msg_hdr);
	if (seg == 0 || seg > len)
		seg = len;
	d.addr = &rx->addr[i];
	d.alen = rx->msg[i].msg_hdr.msg_namelen;
	d.relayed = false;
	for (off = 0; off < len || (len == 0 && n == 0); off += seg, n++) {
		d.p = (uint8_t *)rx->iov[i].iov_base + off;
		d.len = len - off < seg ? len - off : seg;
		wg_rx_one(ws, &ws->tx, &d, now);
		if (len == 0)
			return 1;
	}
	return n;
}

static void
wg_handshakes(struct wg_wstate *ws)
{
	struct wg_device	*dev = ws->dev;
	size_t			 i;

	if (ws->nhs == 0)
		return;
	pthread_rwlock_wrlock(&dev->lock);
	for (i = 0; i < ws->nhs; i++)
		wg_handshake_receive(dev, ws->w->udp_fd, ws->hs[i].buf,
		    ws->hs[i].len, (struct sockaddr *)&ws->hs[i].addr,
		    ws->hs[i].addrlen, ws->hs[i].relayed);
	wg_grave_sweep(dev);
	pthread_rwlock_unlock(&dev->lock);
	for (i = 0; i < ws->nhs; i++)
		sodium_memzero(ws->hs[i].buf, sizeof(ws->hs[i].buf));
	ws->nhs = 0;
}

static void
wg_udp_batch(struct wg_wstate *ws)
{
	struct wg_device	*dev = ws->dev;
	uint64_t		 now, got = 0;
	int			 n, i;

	wg_rx_prepare(&ws->rx, dev->udp_gro);
	pthread_rwlock_rdlock(&dev->lock);
	n = recvmmsg(ws->w->udp_fd, ws->rx.msg, (unsigned int)ws->rx.nslots,
	    MSG_DONTWAIT, NULL);
	now = wg_now();
	for (i = 0; i < n; i++)
		got += wg_rx_msg(ws, (size_t)i, now);
	wg_gro_flush(&ws->gro);
	pthread_rwlock_unlock(&dev->lock);
	atomic_fetch_add_explicit(&dev->st.rx_packets, got,
	    memory_order_relaxed);
	wg_handshakes(ws);
	wg_kick_timer(dev, &ws->tx);
}

/* Keepalives, staged packets: one at a time, off the fast path. */
int
wg_send_one(struct wg_device *dev, struct wg_peer *p, int fd,
    const uint8_t *pkt, size_t len)
{
	uint8_t			 out[WG_SLOT_SIZE];
	struct wg_keypair	*kp;
	size_t			 outlen;
	uint64_t		 now = wg_now();
	int			 rc = -1;

	if (len > WG_SLOT_SIZE - WG_DATA_MIN_LEN - 16) {
		errno = EMSGSIZE;
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	kp = p->kp_current;
	if (kp != NULL)
		rc = wg_noise_encrypt(kp, now, pkt, len, dev->mtu, out,
		    sizeof(out), &outlen);
	else
		errno = ENOTCONN;
	pthread_mutex_unlock(&p->lock);
	if (rc == -1 || wg_send_to_peer(p, fd, out, outlen) == -1)
		return -1;
	WG_STAT(dev, tx_packets);
	if (len > 0)
		atomic_store(&p->last_data_sent, now);
	return 0;
}

/* Send what waited for a session; returns how many were sent. */
int
wg_peer_flush_staged(struct wg_device *dev, struct wg_peer *p, int fd)
{
	struct wg_staged	*s, *next;
	int			 n = 0;

	pthread_mutex_lock(&p->lock);
	if (p->kp_current == NULL) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	s = p->staged_head;
	p->staged_head = p->staged_tail = NULL;
	p->nstaged = 0;
	pthread_mutex_unlock(&p->lock);
	for (; s != NULL; s = next) {
		next = s->next;
		if (wg_send_one(dev, p, fd, s->data, s->len) == 0)
			n++;
		free(s);
	}
	return n;
}

static void
wg_tx_init(struct wg_batch *b)
{
	size_t	 i;

	for (i = 0; i < WG_DEVICE_BATCH; i++) {
		memset(&b->msg[i].msg_hdr, 0, sizeof(b->msg[i].msg_hdr));
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
}

static int
wg_tun_write(void *arg, const uint8_t *frame, size_t len)
{
	struct wg_worker	*w = arg;

	if (write(w->tun_fd, frame, len) == -1) {
		log_debug("%s: %s", __func__, strerror(errno));
		return -1;
	}
	return 0;
}

void *
wg_worker_main(void *arg)
{
	struct wg_worker	*w = arg;
	struct wg_wstate	*ws;
	struct epoll_event	 ev[4];
	int			 n, i;

	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		log_debug("%s: out of memory", __func__);
		return NULL;
	}
	ws->w = w;
	ws->dev = w->dev;
	wg_gro_init(&ws->gro, wg_tun_write, w);
	for (;;) {
		n = epoll_wait(w->epfd, ev, 4, -1);
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == w->stopfd)
				goto out;
			if (ev[i].data.fd == w->tun_fd) {
				wg_tx_init(&ws->tx);
				if (ws->dev->vnet_hdr)
					wg_tun_batch_vnet(ws);
				else
					wg_tun_batch(ws);
			} else
				wg_udp_batch(ws);
		}
	}
out:
	free(ws);
	return NULL;
}
