/*
 * The control server's session layer on libevent: accept TCP
 * connections, run the Noise IK handshake of lib/csess.h as responder,
 * refuse replayed handshakes (the TAI64N of message 1 must grow per node
 * key), and then carry decrypted messages both ways.  Bounded: a total
 * number of connections, a small first frame, a handshake deadline, an
 * idle deadline, and an output bound per connection (a client that does
 * not read is dropped).  Message contents are the caller's business.
 */
#ifndef LR_CONTROLD_CSRV_H
#define LR_CONTROLD_CSRV_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "lib/buf.h"

struct event_base;
struct csrv;
struct csrv_conn;

struct csrv_limits {
	size_t		 max_conns;	/* handshaking and established */
	size_t		 first_frame;	/* largest message 1 body */
	int		 handshake_ms;	/* to finish message 1 */
	int		 idle_ms;	/* between frames once established */
	size_t		 out_max;	/* bytes queued to one client */
};

struct csrv_ops {
	/*
	 * A fresh, authenticated message 1 from node key: fill reply with
	 * the payload of message 2; -1 refuses (the connection closes).
	 */
	int	(*hello)(struct csrv_conn *, const uint8_t key[32],
		    const uint8_t *payload, size_t len, struct buf *reply,
		    void *arg);
	/* One decrypted message; the connection may be closed inside. */
	void	(*msg)(struct csrv_conn *, const uint8_t *, size_t, void *arg);
	/* The connection is going away (only after hello accepted it). */
	void	(*closed)(struct csrv_conn *, void *arg);
};

/* Serve on lfd (listening, non-blocking); priv is the server's key. */
struct csrv	*csrv_new(struct event_base *, int lfd, const uint8_t priv[32],
		    const struct csrv_limits *, const struct csrv_ops *,
		    void *arg);
/* Close every connection (closed() runs for each) and the listener. */
void		 csrv_free(struct csrv *);
size_t		 csrv_nconns(const struct csrv *);

/* Seal and queue one message; -1/ENOBUFS when the client is too slow. */
int		 csrv_send(struct csrv_conn *, const void *, size_t);
/* Drop the connection; closed() runs. */
void		 csrv_close(struct csrv_conn *);
const uint8_t	*csrv_conn_key(const struct csrv_conn *);
/* The address the connection comes from (getpeername(2)). */
int		 csrv_conn_peer(const struct csrv_conn *, struct sockaddr *,
		    socklen_t *);
void		 csrv_conn_set_data(struct csrv_conn *, void *);
void		*csrv_conn_data(const struct csrv_conn *);

#endif
