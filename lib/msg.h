/*
 * IPC framing over Unix stream sockets, with fd passing.
 *
 * Every frame is a 16-byte big-endian header followed by the payload:
 *
 *	type u16 | version u8 | flags u8 | len u32 | id u32 | pid u32
 *
 * len is the payload length (header excluded).  Flag MSG_F_FD says that
 * exactly one descriptor travels with the frame (SCM_RIGHTS, sent with
 * the frame's first byte).  A channel bounds each frame (maxmsg) and its
 * write queue (wqmax): composing into a full queue fails with ENOBUFS so
 * the caller can stop reading from whoever produces the traffic.
 */
#ifndef LR_LIB_MSG_H
#define LR_LIB_MSG_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MSG_HDR_LEN		16
#define MSG_F_FD		0x01
#define MSG_F_KNOWN		(MSG_F_FD)
#define MSG_MAXMSG_DEFAULT	16384
#define MSG_WQMAX_DEFAULT	(256 * 1024)
#define MSG_MAXFDS_QUEUED	8	/* received fds waiting for a header */

struct msg_hdr {
	uint16_t	 type;
	uint8_t		 version;
	uint8_t		 flags;
	uint32_t	 len;
	uint32_t	 id;
	uint32_t	 pid;
};

/*
 * A received frame.  data points into the channel until the next get
 * or read.
 */
struct msg {
	struct msg_hdr	 hdr;
	const uint8_t	*data;
	size_t		 len;
	int		 fd;		/* -1 unless MSG_F_FD; owned by msg */
};

struct msg_out;				/* private: one queued frame */

struct msgchan {
	int		 fd;
	size_t		 maxmsg;	/* max payload per frame */
	size_t		 wqmax;		/* max bytes queued for writing */
	struct buf	 rbuf;		/* bytes read, not yet a frame */
	int		 rfds[MSG_MAXFDS_QUEUED];
	/* Stream offsets [from, to) of the read that brought each fd. */
	uint64_t	 rfdpos[MSG_MAXFDS_QUEUED][2];
	size_t		 nrfds;
	uint64_t	 rpos;		/* stream offset of rbuf.data[0] */
	size_t		 pending;	/* bytes of rbuf taken by last get */
	struct msg_out	*wq_head;
	struct msg_out	*wq_tail;
	size_t		 wqlen;		/* bytes queued */
};

/* Take over a connected stream socket (made non-blocking by the caller). */
int	 msgchan_init(struct msgchan *, int fd, size_t maxmsg, size_t wqmax);
/* Free buffers and close every queued fd; does not close chan->fd. */
void	 msgchan_clear(struct msgchan *);

/*
 * Queue one frame; fd >= 0 is duplicated, so the caller keeps its copy.
 * -1 with EMSGSIZE (len > maxmsg), ENOBUFS (queue full), or dup errors.
 */
int	 msgchan_compose(struct msgchan *, uint16_t type, uint8_t version,
	    uint32_t id, uint32_t pid, int fd, const void *data, size_t len);
/* Write what the socket takes: 0 all sent, 1 more pending, -1 error. */
int	 msgchan_flush(struct msgchan *);
size_t	 msgchan_queued(const struct msgchan *);

/*
 * Read what the socket has (one recvmsg): >0 bytes read, 0 EOF,
 * -1 error (EAGAIN when nothing was there).  Too many unclaimed fds
 * fail with EBADMSG.
 */
ssize_t	 msgchan_read(struct msgchan *);
/*
 * Next complete frame: 1 and *m filled, 0 none yet, -1 malformed
 * (EBADMSG: unknown flags, fd flag without fd; EMSGSIZE: len > maxmsg).
 * A malformed frame means the peer must be dropped.
 */
int	 msgchan_get(struct msgchan *, struct msg *);

/* Close m's fd if nobody took it. */
void	 msg_free(struct msg *);
/* Hand over m's fd (or -1); the caller now owns it. */
int	 msg_take_fd(struct msg *);
/* 0 when the payload is exactly n bytes, else -1/EBADMSG. */
int	 msg_expect_len(const struct msg *, size_t n);

#endif
