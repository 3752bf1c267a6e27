/*
 * lanraged: the unprivileged coordinator.  At start-up it asks
 * lanrage-netd for the TUN interface (one queue per data-path thread),
 * configures it through netd, binds the node's one UDP socket, gives up
 * privilege, and serves the WireGuard UAPI socket.  See lanraged(8).
 */
#ifndef LR_LANRAGED_LANRAGED_H
#define LR_LANRAGED_LANRAGED_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "proto/netd.h"

#define LANRAGED_CONF_PATH	LR_SYSCONFDIR "/lanrage/lanraged.conf"
#define LANRAGED_NETD_SOCK	LR_RUNSTATEDIR "/lanrage/netd.sock"
/* Where wg(8) looks for userspace interfaces: its contract, not ours. */
#define LANRAGED_UAPI_DIR	"/var/run/wireguard"
#define LANRAGED_DATABASE	LR_LOCALSTATEDIR "/lib/lanrage/lanraged.db"
#define LANRAGED_CTL_SOCK	LR_RUNSTATEDIR "/lanraged/lanraged.sock"
#define LANRAGED_HTTP_ADDR	"127.0.0.1"	/* port: setting api.port */
#define LANRAGED_UI_DIR		LR_DATADIR "/lanrage/ui"
#define LANRAGED_GROUP		"lanrage"	/* read-only API class */

#define LANRAGED_IFNAME		"lanrage0"
#define LANRAGED_MTU		1420
#define LANRAGED_PORT		51820
#define LANRAGED_MAX_THREADS	16
#define LANRAGED_PATH_MAX	108	/* sun_path, NUL included */

/* lanraged.conf, section [Interface]. */
struct lanraged_conf {
	char			 ifname[NETD_IFNAMSIZ];
	unsigned long		 mtu;
	unsigned long		 listen_port;	/* 0: a random port */
	char			 address_text[CONF_LINE_MAX];
	struct conf_prefixes	 address;	/* host bits allowed */
	struct conf_prefixes	 route;		/* canonical */
	struct conf_user	 user;
	char			 netd_sock[LANRAGED_PATH_MAX];
	char			 uapi_dir[LANRAGED_PATH_MAX];
	unsigned long		 threads;	/* 1..16; default: CPUs */
	/* [Node]: party mode */
	bool			 party;		/* false: a plain WireGuard device */
	char			 database[LANRAGED_PATH_MAX];
	char			 ctl_sock[LANRAGED_PATH_MAX];
	char			 group_text[64];	/* "": lanrage or User's */
	gid_t			 group;
	char			 http_addr[64];		/* "off": no web UI */
	char			 ui_dir[LANRAGED_PATH_MAX];
};

/*
 * What start-up made and the data plane takes over.  Every fd is
 * non-blocking and close-on-exec.  tun_fd[i] is the queue of data-path
 * thread i until the engine takes them (ntun is then 0); netd removes
 * the link when lanraged disconnects from it.
 */
struct lanraged_iface {
	uint32_t		 ifindex;
	char			 name[NETD_IFNAMSIZ];
	uint32_t		 mtu;
	int			 tun_fd[LANRAGED_MAX_THREADS];
	size_t			 ntun;
	bool			 vnet_hdr;	/* queues carry virtio headers */
	uint16_t		 port;		/* bound: never 0 */
};

/* config.c */
void	 lanraged_conf_defaults(struct lanraged_conf *);
/*
 * Parse path into c (defaults first), resolve User and Threads; -1 with
 * err "file:line: key: reason" (or "file: key: reason").
 */
int	 lanraged_conf_load(const char *path, struct lanraged_conf *c,
	    char *err, size_t errlen);
/* The UAPI socket path for c; -1/ENAMETOOLONG if it does not fit. */
int	 lanraged_conf_uapi_path(const struct lanraged_conf *c, char *dst,
	    size_t dstlen);

/*
 * netd_client.c: the client side of proto/netd.h, synchronous.  Each
 * netd_req_<op>() sends one request and waits up to LANRAGED_NETD_TIMEOUT_MS
 * for its reply.  0 on success; -1 when netd refused (errno from the
 * refusal: the kernel's errno for NETD_E_KERNEL, EEXIST, ENODEV, EACCES
 * for a policy refusal, ...; the refusal is logged).  A malformed or
 * unexpected reply, a timeout or a closed connection is fatal: netd is
 * the trusted peer, and without it lanraged has nothing to do.  Returned
 * fds are the caller's.
 */
#define LANRAGED_NETD_TIMEOUT_MS	5000

/* Connect to netd at path as uid/gid (used only when running as root). */
int	 netd_conn_open(const char *path, uid_t uid, gid_t gid);
/* The connected socket, or -1. */
int	 netd_conn_fd(void);
/*
 * The socket became readable between requests: 0 netd closed it, 1
 * nothing to read, -1 with errno on a read error.  Data is fatal.
 */
int	 netd_conn_check(void);
void	 netd_conn_close(void);

int	 netd_req_tun_create(const char *ifname, uint32_t flags,
	    struct netd_tun_fd *rep, int *fd);
int	 netd_req_tun_queue(uint32_t ifindex, int *fd);
int	 netd_req_link_del(uint32_t ifindex);
int	 netd_req_link_set(uint32_t ifindex, uint32_t mtu, uint8_t state);
/* add: ADDR_ADD, else ADDR_DEL. */
int	 netd_req_addr(bool add, uint32_t ifindex, const struct prefix *);
/* add: ROUTE_ADD, else ROUTE_DEL; the prefix must be canonical. */
int	 netd_req_route(bool add, uint32_t ifindex, const struct prefix *,
	    uint32_t metric);
int	 netd_req_capture_open(const struct netd_capture_open *, int *fd);
int	 netd_req_inject(const struct netd_inject *);
int	 netd_req_qos_set(const struct netd_qos_set *);
int	 netd_req_qos_clear(uint32_t ifindex);

/*
 * uapi_server.c: the WireGuard UAPI socket (wg(8)'s cross-platform
 * userspace API).  The server frames requests and bounds clients; the
 * handler parses and answers.
 *
 * A handler gets one complete request: the bytes up to and including the
 * empty line that ends it ("get=1\n\n", "set=1\n...\n\n"; not
 * NUL-terminated).  It appends the whole response, "errno=N\n\n"
 * included, to resp (bounded by LANRAGED_UAPI_MAXRESP) and returns 0 to
 * keep the connection, or -1 to close it once resp is sent (an unknown
 * operation: wireguard-go closes without an answer).  It runs in the
 * event loop and must not block.
 */
typedef int (*lanraged_uapi_handler)(const char *req, size_t len,
    struct buf *resp, void *arg);

#define LANRAGED_UAPI_MAXCONN	8
#define LANRAGED_UAPI_MAXREQ	(1024 * 1024)
#define LANRAGED_UAPI_MAXRESP	(4 * 1024 * 1024)
#define LANRAGED_UAPI_TIMEOUT	10	/* seconds per request */

/*
 * Bind path (mode 0600, owned by the caller; a stale socket is replaced,
 * a live one refused with EADDRINUSE) and listen.  The directory must be
 * writable by the caller.
 */
int	 lanraged_uapi_listen(const char *path);
/*
 * The same for any local socket: bind path with mode and listen; the
 * non-blocking, close-on-exec fd, or -1 with errno.
 */
int	 lanraged_unix_listen(const char *path, mode_t mode);
/* A new client of lfd, or -1 (nothing to take, or already max). */
int	 lanraged_accept(int lfd, size_t nconns, size_t max, const char *what);
/*
 * Buffered I/O on a client fd (closed with the bufferevent), reading at
 * most maxin bytes ahead, and a timer; both call back with arg.
 */
int	 lanraged_conn_io(int fd, size_t maxin, bufferevent_data_cb,
	    bufferevent_data_cb, bufferevent_event_cb, event_callback_fn,
	    void *arg, struct bufferevent **, struct event **);
/* Serve connections with h(arg) from the event loop (after proc_init). */
int	 lanraged_uapi_start(lanraged_uapi_handler h, void *arg);
/* Replace the handler; connections in progress use the new one next. */
void	 lanraged_uapi_set_handler(lanraged_uapi_handler h, void *arg);
/* Close every connection and the listener, and remove the socket file. */
void	 lanraged_uapi_close(void);

#endif
