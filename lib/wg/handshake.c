/*
 * Handshake messages (types 1, 2, 3) on the device: initiations,
 * responses, cookie replies, keypair rotation and the under-load policy.
 * Every function here runs with the device write lock held.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/wg/device_int.h"
#include "proto/relay.h"

/*
 * Under load when more handshake messages arrived in the current second
 * than WG_HANDSHAKE_LOAD; it stays so for one more second.
 */
bool
wg_under_load(struct wg_device *dev)
{
	uint64_t	 now = wg_now(), sec = now / WG_NSEC;

	if (atomic_load(&dev->hs_window) != sec) {
		atomic_store(&dev->hs_window, sec);
		atomic_store(&dev->hs_count, 0);
	}
	if (atomic_fetch_add(&dev->hs_count, 1) + 1 > WG_HANDSHAKE_LOAD)
		atomic_store(&dev->under_load_until, now + WG_NSEC);
	return now < atomic_load(&dev->under_load_until);
}

/* The address bytes and the port: what mac2 and cookies bind to. */
static size_t
wg_src_bytes(const struct sockaddr *sa, uint8_t out[18])
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(out, &s4->sin_addr, 4);
		memcpy(out + 4, &s4->sin_port, 2);
		return 6;
	}
	memcpy(out, &s6->sin6_addr, 16);
	memcpy(out + 16, &s6->sin6_port, 2);
	return 18;
}

static void
wg_set_endpoint(struct wg_peer *p, const struct sockaddr *sa, socklen_t len,
    bool relayed)
{
	if (len > sizeof(p->endpoint))
		return;
	pthread_mutex_lock(&p->lock);
	if (wg_endpoint_follows(p, relayed)) {
		memcpy(&p->endpoint, sa, len);
		p->endpoint_len = len;
		p->endpoint_relayed = relayed;
	}
	pthread_mutex_unlock(&p->lock);
}

ssize_t
wg_sendto_framed(int fd, const void *msg, size_t len,
    const struct sockaddr *sa, socklen_t salen, const uint8_t *tag)
{
	uint8_t		 hdr[RELAY_FWD_HDRLEN];
	struct iovec	 iov[2];
	struct msghdr	 mh;

	if (tag == NULL)
		return sendto(fd, msg, len, 0, sa, salen);
	hdr[0] = RELAY_SEND;
	memcpy(hdr + 1, tag, RELAY_TAGLEN);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)(uintptr_t)sa;
	mh.msg_namelen = salen;
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	return sendmsg(fd, &mh, 0);
}

int
wg_send_to_peer(struct wg_peer *p, int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	bool			 relayed;

	pthread_mutex_lock(&p->lock);
	memcpy(&ss, &p->endpoint, sizeof(ss));
	sslen = p->endpoint_len;
	relayed = p->endpoint_relayed;
	pthread_mutex_unlock(&p->lock);
	if (sslen == 0) {
		errno = EDESTADDRREQ;
		return -1;
	}
	if (wg_sendto_framed(fd, msg, len, (struct sockaddr *)&ss, sslen,
	    relayed ? p->public_key : NULL) == -1)
		return -1;
	atomic_store(&p->last_sent, wg_now());
	atomic_fetch_add(&p->tx_bytes, len);
	return 0;
}

/* A fresh jitter for each attempt, as the paper asks. */
static uint64_t
wg_jitter(void)
{
	return randombytes_uniform(WG_REKEY_TIMEOUT_JITTER);
}

int
wg_handshake_initiate(struct wg_device *dev, struct wg_peer *p, int fd)
{
	uint8_t		 msg[WG_INITIATION_LEN];
	uint64_t	 now = wg_now();
	uint32_t	 index;

	if (!dev->local.has_key || p->endpoint_len == 0) {
		errno = ENOTCONN;
		return -1;
	}
	wg_index_del(dev, p->noise.local_index);
	if ((index = wg_index_add(dev, p, NULL)) == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (wg_noise_initiation_create(&dev->local, &p->noise, index, now,
	    msg) == -1) {
		wg_index_del(dev, index);
		return -1;
	}
	atomic_store(&p->handshake_sent, now);
	if (atomic_load(&p->attempt_start) == 0)
		atomic_store(&p->attempt_start, now);
	p->jitter = wg_jitter();
	return wg_send_to_peer(p, fd, msg, sizeof(msg));
}

static void
wg_mark_session(struct wg_device *dev, struct wg_peer *p, uint64_t now)
{
	struct timespec	 rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	atomic_store(&p->hs_sec, rt.tv_sec);
	atomic_store(&p->hs_nsec, rt.tv_nsec);
	atomic_store(&p->last_session, now);
	WG_STAT(dev, handshakes_done);
}

/*
 * Our initiation in flight, kept across the peer's: when both sides
 * initiate at once, each answers the other's and each still takes the
 * other's answer to its own, so both end with a session at once rather
 * than both waiting as unconfirmed responders for the 5 s retry.
 */
struct wg_hs_mine {
	bool		 valid;
	uint32_t	 index;
	uint8_t		 ck[WG_HASH_LEN], hash[WG_HASH_LEN];
	uint8_t		 e_priv[WG_KEY_LEN], e_pub[WG_KEY_LEN];
};

static void
wg_hs_keep(const struct wg_peer_noise *n, struct wg_hs_mine *m)
{
	m->valid = n->state == WG_HS_INITIATION_SENT && n->local_index != 0;
	if (!m->valid)
		return;
	m->index = n->local_index;
	memcpy(m->ck, n->ck, sizeof(m->ck));
	memcpy(m->hash, n->hash, sizeof(m->hash));
	memcpy(m->e_priv, n->e_priv, sizeof(m->e_priv));
	memcpy(m->e_pub, n->e_pub, sizeof(m->e_pub));
}

static void
wg_hs_resume(struct wg_peer_noise *n, struct wg_hs_mine *m)
{
	if (!m->valid)
		return;
	n->local_index = m->index;
	memcpy(n->ck, m->ck, sizeof(m->ck));
	memcpy(n->hash, m->hash, sizeof(m->hash));
	memcpy(n->e_priv, m->e_priv, sizeof(m->e_priv));
	memcpy(n->e_pub, m->e_pub, sizeof(m->e_pub));
	n->state = WG_HS_INITIATION_SENT;
	sodium_memzero(m, sizeof(*m));
}

/* Responder: the new keypair waits in "next" until data confirms it. */
static void
wg_rx_initiation(struct wg_device *dev, int fd, const uint8_t *msg,
    size_t len, const struct sockaddr *sa, socklen_t salen, bool relayed)
{
	struct wg_initiation	 ini;
	struct wg_hs_mine	 mine;
	struct wg_keypair	*kp;
	struct wg_peer		*p;
	uint8_t			 resp[WG_RESPONSE_LEN];
	uint64_t		 now = wg_now();
	uint32_t		 index, pending;

	if (wg_noise_initiation_open(&dev->local, msg, len, &ini) == -1 ||
	    (p = wg_peer_by_key(dev, ini.remote_static)) == NULL) {
		wg_noise_initiation_wipe(&ini);
		WG_STAT(dev, drop_handshake);
		return;
	}
	pending = p->noise.local_index;
	wg_hs_keep(&p->noise, &mine);
	if (wg_noise_initiation_accept(&dev->local, &p->noise, &ini,
	    now) == -1) {
		sodium_memzero(&mine, sizeof(mine));
		WG_STAT(dev, drop_handshake);
		return;
	}
	/* a handshake of ours that is no initiation in flight is over */
	if (!mine.valid && pending != 0)
		wg_index_del(dev, pending);
	if ((kp = calloc(1, sizeof(*kp))) == NULL ||
	    (index = wg_index_add(dev, p, kp)) == 0) {
		free(kp);
		wg_peer_noise_clear_handshake(&p->noise);
		wg_hs_resume(&p->noise, &mine);
		return;
	}
	if (wg_noise_response_create(&dev->local, &p->noise, index, now, resp,
	    kp) == -1) {
		wg_index_del(dev, index);
		free(kp);
		wg_hs_resume(&p->noise, &mine);
		return;
	}
	wg_hs_resume(&p->noise, &mine);
	wg_set_endpoint(p, sa, salen, relayed);
	pthread_mutex_lock(&p->lock);
	wg_keypair_retire(dev, p->kp_next);
	p->kp_next = kp;
	pthread_mutex_unlock(&p->lock);
	wg_mark_session(dev, p, now);
	if (wg_send_to_peer(p, fd, resp, sizeof(resp)) == -1)
		log_debug("%s: send response: %s", __func__, strerror(errno));
}

/* Initiator: the new keypair is current at once. */
static void
wg_rx_response(struct wg_device *dev, int fd, const uint8_t *msg,
    size_t len, const struct sockaddr *sa, socklen_t salen, bool relayed)
{
	struct wg_index_ent	*e;
	struct wg_keypair	*kp;
	struct wg_peer		*p;
	uint64_t		 now = wg_now();

	e = wg_index_get(dev, wg_noise_get_u32(msg, WG_OFF_RESP_RECEIVER));
	if (e == NULL || e->kp != NULL) {
		WG_STAT(dev, drop_no_index);
		return;
	}
	p = e->peer;
	if ((kp = calloc(1, sizeof(*kp))) == NULL)
		return;
	if (wg_noise_response_consume(&dev->local, &p->noise, msg, len, now,
	    kp) == -1) {
		free(kp);
		WG_STAT(dev, drop_handshake);
		return;
	}
	e->kp = kp;	/* the handshake's index now names the keypair */
	wg_set_endpoint(p, sa, salen, relayed);
	pthread_mutex_lock(&p->lock);
	wg_keypair_retire(dev, p->kp_previous);
	/* an answer to the peer's crossing initiation: its data may come */
	if (p->kp_next != NULL &&
	    p->kp_next->birth < atomic_load(&p->handshake_sent)) {
		wg_keypair_retire(dev, p->kp_next);
		p->kp_next = NULL;
	}
	p->kp_previous = p->kp_current;
	p->kp_current = kp;
	pthread_mutex_unlock(&p->lock);
	atomic_store(&p->attempt_start, 0);
	wg_mark_session(dev, p, now);
	/* Nothing waiting: a keepalive confirms the session to the peer. */
	if (wg_peer_flush_staged(dev, p, fd) == 0 &&
	    wg_send_one(dev, p, fd, NULL, 0) == -1)
		log_debug("%s: keepalive: %s", __func__, strerror(errno));
}

static void
wg_rx_cookie(struct wg_device *dev, const uint8_t *msg, size_t len)
{
	struct wg_index_ent	*e;

	e = wg_index_get(dev, wg_noise_get_u32(msg, WG_OFF_RECEIVER));
	if (e == NULL) {
		WG_STAT(dev, drop_no_index);
		return;
	}
	if (wg_noise_cookie_reply_consume(&e->peer->noise, msg, len,
	    wg_now()) == -1)
		WG_STAT(dev, drop_handshake);
}

/*
 * mac1 always; under load, mac2 too, or the sender gets a cookie.  Not
 * a relayed sender: a cookie reply could not be addressed (the relay
 * needs the tag of a key not read yet), and only members bound at our
 * relay can send through it, at the rate it allows.
 */
static bool
wg_macs_ok(struct wg_device *dev, int fd, const uint8_t *msg, size_t len,
    const struct sockaddr *sa, socklen_t salen, bool relayed)
{
	uint8_t		 src[18], reply[WG_COOKIE_REPLY_LEN];
	size_t		 srclen = wg_src_bytes(sa, src);
	uint64_t	 now = wg_now();

	if (!wg_noise_check_mac1(&dev->local, msg, len)) {
		WG_STAT(dev, drop_auth);
		return false;
	}
	if (relayed || !wg_under_load(dev) ||
	    wg_noise_check_mac2(&dev->local, msg, len, src, srclen, now))
		return true;
	if (wg_noise_cookie_reply_create(&dev->local, msg, len, src, srclen,
	    now, reply) == 0 &&
	    sendto(fd, reply, sizeof(reply), 0, sa, salen) != -1)
		WG_STAT(dev, cookies_sent);
	return false;
}

void
wg_handshake_receive(struct wg_device *dev, int fd, uint8_t *msg,
    size_t len, const struct sockaddr *sa, socklen_t salen, bool relayed)
{
	if (!dev->local.has_key && msg[0] != WG_MSG_COOKIE_REPLY) {
		WG_STAT(dev, drop_handshake);	/* nobody to answer as */
		return;
	}
	switch (wg_noise_msg_type(msg, len)) {
	case WG_MSG_INITIATION:
		if (dev->local.has_key &&
		    wg_macs_ok(dev, fd, msg, len, sa, salen, relayed))
			wg_rx_initiation(dev, fd, msg, len, sa, salen,
			    relayed);
		break;
	case WG_MSG_RESPONSE:
		if (dev->local.has_key &&
		    wg_macs_ok(dev, fd, msg, len, sa, salen, relayed))
			wg_rx_response(dev, fd, msg, len, sa, salen,
			    relayed);
		break;
	case WG_MSG_COOKIE_REPLY:
		wg_rx_cookie(dev, msg, len);
		break;
	default:
		WG_STAT(dev, drop_malformed);
		break;
	}
}
