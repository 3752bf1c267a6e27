/*
 * IPC framing over Unix stream sockets, with fd passing (after imsg).
 *
 * A descriptor travels with the first byte of its frame, so it arrives
 * in the recvmsg() that returns that byte.  Each received fd remembers
 * the stream range of its read; a frame flagged MSG_F_FD claims the oldest
 * fd whose range holds the frame's first byte, and fds whose range lies
 * wholly before the current frame were sent with a frame that did not
 * claim them: they are closed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/msg.h"

#define MSG_READ_CHUNK	16384
#define MSG_IOV_MAX	64

struct msg_out {
	struct msg_out	*next;
	int		 fd;		/* -1, or ours until sent */
	size_t		 off;		/* bytes already written */
	size_t		 len;		/* header + payload */
	uint8_t		 data[];
};

union msg_cmsgbuf {
	struct cmsghdr	 hdr;
	uint8_t		 buf[CMSG_SPACE(sizeof(int) * MSG_MAXFDS_QUEUED)];
};

static void	 msg_hdr_put(uint8_t *, const struct msg_hdr *);
static int	 msg_hdr_get(struct msgchan *, struct msg_hdr *);
static void	 msgchan_wq_pop(struct msgchan *);
static ssize_t	 msgchan_send(struct msgchan *);
static void	 msgchan_sent(struct msgchan *, size_t);
static int	 msgchan_recv_fds(struct msgchan *, struct msghdr *,
		    uint64_t, uint64_t);
static void	 msgchan_rfd_drop(struct msgchan *, int);
static int	 msgchan_claim_fd(struct msgchan *, int, int *);

int
msgchan_init(struct msgchan *mc, int fd, size_t maxmsg, size_t wqmax)
{
	size_t	 rmax;

	memset(mc, 0, sizeof(*mc));
	mc->fd = -1;
	/* A frame that could never be queued is a configuration bug. */
	if (fd < 0 || maxmsg > UINT32_MAX || wqmax < MSG_HDR_LEN + maxmsg) {
		errno = EINVAL;
		return -1;
	}
	rmax = MSG_HDR_LEN + maxmsg + MSG_READ_CHUNK;
	if (buf_init(&mc->rbuf, MSG_READ_CHUNK, rmax) == -1)
		return -1;
	mc->fd = fd;
	mc->maxmsg = maxmsg;
	mc->wqmax = wqmax;
	return 0;
}

void
msgchan_clear(struct msgchan *mc)
{
	while (mc->wq_head != NULL)
		msgchan_wq_pop(mc);
	while (mc->nrfds > 0)
		msgchan_rfd_drop(mc, 1);
	buf_free(&mc->rbuf);
	mc->pending = 0;
}

static void
msg_hdr_put(uint8_t *p, const struct msg_hdr *h)
{
	struct buf	 b;

	buf_init_fixed(&b, p, MSG_HDR_LEN);
	/* Cannot fail: exactly MSG_HDR_LEN bytes into MSG_HDR_LEN. */
	(void)buf_put_u16(&b, h->type);
	(void)buf_put_u8(&b, h->version);
	(void)buf_put_u8(&b, h->flags);
	(void)buf_put_u32(&b, h->len);
	(void)buf_put_u32(&b, h->id);
	(void)buf_put_u32(&b, h->pid);
}

int
msgchan_compose(struct msgchan *mc, uint16_t type, uint8_t version,
    uint32_t id, uint32_t pid, int fd, const void *data, size_t len)
{
	struct msg_out	*mo;
	struct msg_hdr	 h;

	if (len > mc->maxmsg) {
		errno = EMSGSIZE;
		return -1;
	}
	if (MSG_HDR_LEN + len > mc->wqmax - mc->wqlen) {
		errno = ENOBUFS;
		return -1;
	}
	if ((mo = malloc(sizeof(*mo) + MSG_HDR_LEN + len)) == NULL)
		return -1;
	mo->fd = -1;
	if (fd >= 0 && (mo->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(mo);
		return -1;
	}
	h.type = type;
	h.version = version;
	h.flags = fd >= 0 ? MSG_F_FD : 0;
	h.len = len;
	h.id = id;
	h.pid = pid;
	msg_hdr_put(mo->data, &h);
	if (len > 0)
		memcpy(mo->data + MSG_HDR_LEN, data, len);
	mo->next = NULL;
	mo->off = 0;
	mo->len = MSG_HDR_LEN + len;
	if (mc->wq_tail != NULL)
		mc->wq_tail->next = mo;
	else
		mc->wq_head = mo;
	mc->wq_tail = mo;
	mc->wqlen += mo->len;
	return 0;
}

static void
msgchan_wq_pop(struct msgchan *mc)
{
	struct msg_out	*mo = mc->wq_head;

	mc->wq_head = mo->next;
	if (mc->wq_head == NULL)
		mc->wq_tail = NULL;
	mc->wqlen -= mo->len - mo->off;
	if (mo->fd >= 0)
		close(mo->fd);
	free(mo);
}

/*
 * One sendmsg() of the queue head and the frames behind it.  A frame with
 * an fd starts its own batch so the fd rides on that frame's first byte.
 */
static ssize_t
msgchan_send(struct msgchan *mc)
{
	struct iovec		 iov[MSG_IOV_MAX];
	union msg_cmsgbuf	 cbuf;
	struct msghdr		 mh;
	struct cmsghdr		*cm;
	struct msg_out		*mo;
	int			 n = 0;
	ssize_t			 r;

	memset(&mh, 0, sizeof(mh));
	for (mo = mc->wq_head; mo != NULL && n < MSG_IOV_MAX; mo = mo->next) {
		if (n > 0 && mo->fd >= 0)
			break;
		iov[n].iov_base = mo->data + mo->off;
		iov[n].iov_len = mo->len - mo->off;
		n++;
	}
	mh.msg_iov = iov;
	mh.msg_iovlen = n;
	mo = mc->wq_head;
	if (mo->fd >= 0 && mo->off == 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &mo->fd, sizeof(int));
	}
	do {
		r = sendmsg(mc->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (r == -1 && errno == EINTR);
	if (r > 0 && mh.msg_control != NULL) {
		/* The peer holds its own reference now. */
		close(mo->fd);
		mo->fd = -1;
	}
	return r;
}

/* Account for n bytes written from the head of the queue. */
static void
msgchan_sent(struct msgchan *mc, size_t n)
{
	struct msg_out	*mo;
	size_t		 left;

	while (n > 0 && (mo = mc->wq_head) != NULL) {
		left = mo->len - mo->off;
		if (n < left) {
			mo->off += n;
			mc->wqlen -= n;
			return;
		}
		n -= left;
		msgchan_wq_pop(mc);
	}
}

int
msgchan_flush(struct msgchan *mc)
{
	ssize_t	 r;

	while (mc->wq_head != NULL) {
		if ((r = msgchan_send(mc)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		msgchan_sent(mc, r);
	}
	return 0;
}

size_t
msgchan_queued(const struct msgchan *mc)
{
	return mc->wqlen;
}

/* Forget the oldest queued fd, closing it unless it was handed out. */
static void
msgchan_rfd_drop(struct msgchan *mc, int doclose)
{
	if (doclose)
		close(mc->rfds[0]);
	mc->nrfds--;
	memmove(mc->rfds, mc->rfds + 1, mc->nrfds * sizeof(mc->rfds[0]));
	memmove(mc->rfdpos, mc->rfdpos + 1,
	    mc->nrfds * sizeof(mc->rfdpos[0]));
}

/*
 * Queue the fds of one read covering stream bytes [from, to).  An honest
 * peer sends at most one per read, since the kernel ends a read after the
 * first segment that carries fds.
 */
static int
msgchan_recv_fds(struct msgchan *mc, struct msghdr *mh, uint64_t from,
    uint64_t to)
{
	struct cmsghdr	*cm;
	int		 fds[MSG_MAXFDS_QUEUED];
	size_t		 i, n = 0, k;
	int		 bad = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			if (n == MSG_MAXFDS_QUEUED) {
				bad = 1;
				break;
			}
			memcpy(&fds[n++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
		}
	}
	if (n > 1 || mc->nrfds + n > MSG_MAXFDS_QUEUED)
		bad = 1;
	if (bad) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		errno = EBADMSG;
		return -1;
	}
	for (i = 0; i < n; i++) {
		mc->rfds[mc->nrfds] = fds[i];
		mc->rfdpos[mc->nrfds][0] = from;
		mc->rfdpos[mc->nrfds][1] = to;
		mc->nrfds++;
	}
	return 0;
}

/* A read consumes the last frame got, as growing rbuf may move it. */
ssize_t
msgchan_read(struct msgchan *mc)
{
	union msg_cmsgbuf	 cbuf;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct buf		*b = &mc->rbuf;
	size_t			 room;
	ssize_t			 r;

	buf_consume(b, mc->pending);
	mc->rpos += mc->pending;
	mc->pending = 0;
	room = b->max - b->len;
	if (room > MSG_READ_CHUNK)
		room = MSG_READ_CHUNK;
	if (room == 0 || buf_reserve(b, room) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	iov.iov_base = b->data + b->len;
	iov.iov_len = room;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do {
		r = recvmsg(mc->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (r == -1 && errno == EINTR);
	if (r <= 0)
		return r;
	if (msgchan_recv_fds(mc, &mh, mc->rpos + b->len,
	    mc->rpos + b->len + r) == -1)
		return -1;
	b->len += r;
	return r;
}

/* Decode and check the header at the front of rbuf: 1, 0 short, -1. */
static int
msg_hdr_get(struct msgchan *mc, struct msg_hdr *h)
{
	struct bufr	 r;

	bufr_init(&r, mc->rbuf.data, mc->rbuf.len);
	if (bufr_get_u16(&r, &h->type) == -1 ||
	    bufr_get_u8(&r, &h->version) == -1 ||
	    bufr_get_u8(&r, &h->flags) == -1 ||
	    bufr_get_u32(&r, &h->len) == -1 ||
	    bufr_get_u32(&r, &h->id) == -1 ||
	    bufr_get_u32(&r, &h->pid) == -1)
		return 0;
	if (h->flags & ~MSG_F_KNOWN) {
		errno = EBADMSG;
		return -1;
	}
	if (h->len > mc->maxmsg) {
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

/*
 * Close fds sent with earlier frames that never claimed them; then, when
 * want, take the fd that came with the frame starting at rpos.
 */
static int
msgchan_claim_fd(struct msgchan *mc, int want, int *fd)
{
	*fd = -1;
	while (mc->nrfds > 0 && mc->rfdpos[0][1] <= mc->rpos)
		msgchan_rfd_drop(mc, 1);
	if (!want)
		return 0;
	if (mc->nrfds == 0 || mc->rfdpos[0][0] > mc->rpos) {
		errno = EBADMSG;
		return -1;
	}
	*fd = mc->rfds[0];
	msgchan_rfd_drop(mc, 0);
	return 0;
}

int
msgchan_get(struct msgchan *mc, struct msg *m)
{
	struct msg_hdr	 h;
	int		 r, fd;

	buf_consume(&mc->rbuf, mc->pending);
	mc->rpos += mc->pending;
	mc->pending = 0;
	if ((r = msg_hdr_get(mc, &h)) <= 0)
		return r;
	if (mc->rbuf.len - MSG_HDR_LEN < h.len)
		return 0;
	if (msgchan_claim_fd(mc, h.flags & MSG_F_FD, &fd) == -1)
		return -1;
	m->hdr = h;
	m->data = mc->rbuf.data + MSG_HDR_LEN;
	m->len = h.len;
	m->fd = fd;
	mc->pending = MSG_HDR_LEN + h.len;
	return 1;
}

void
msg_free(struct msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

int
msg_take_fd(struct msg *m)
{
	int	 fd = m->fd;

	m->fd = -1;
	return fd;
}

int
msg_expect_len(const struct msg *m, size_t n)
{
	if (m->len != n) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}
