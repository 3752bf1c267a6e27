/*
 * libevent glue: one event_base per process, signals as events, and
 * msgchan-backed channels driven by the loop with backpressure (a channel
 * whose write queue is above half of wqmax stops reading until it drains).
 */
#ifndef LR_LIB_PROC_H
#define LR_LIB_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct event_base;
struct proc_chan;

typedef void (*proc_signal_cb)(int signo, void *arg);
/* A frame arrived; m is freed by the caller after return (take its fd). */
typedef void (*proc_dispatch_cb)(struct proc_chan *, struct msg *m,
    void *arg);
/* The peer went away (error 0) or broke the framing (errno value). */
typedef void (*proc_close_cb)(struct proc_chan *, int error, void *arg);

/* Create the process's event_base; -1 on failure. */
int	 proc_init(void);
struct event_base *proc_base(void);
/* Deliver signo as an event; the handler runs in the loop. */
int	 proc_signal(int signo, proc_signal_cb, void *arg);
int	 proc_loop(void);
void	 proc_loopexit(void);
/* Free all signal events and the base. */
void	 proc_free(void);

/*
 * Drive fd (a connected, non-blocking stream socket) with a msgchan.
 * dispatch runs for every frame; close runs once when the peer leaves or
 * misbehaves, after which the caller must proc_chan_free().
 */
struct proc_chan *proc_chan_new(int fd, size_t maxmsg, size_t wqmax,
	    proc_dispatch_cb, proc_close_cb, void *arg);
/* Queue a frame (see msgchan_compose) and schedule the write. */
int	 proc_chan_send(struct proc_chan *, uint16_t type, uint8_t version,
	    uint32_t id, int fd, const void *data, size_t len);
struct msgchan *proc_chan_msgchan(struct proc_chan *);
/* Stop events, clear the msgchan and close the socket. */
void	 proc_chan_free(struct proc_chan *);

#endif
