/*
 * netd_req_<op>(): lanraged's side of proto/netd.h.  One request at a
 * time, answered in order: each call sends its frame and polls for the
 * one reply with the same id.  netd is trusted: a reply that does not
 * decode, has the wrong type or id, or does not come is fatal.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lib/log.h"
#include "lib/msg.h"

/* Replies are small; this also bounds what an unsolicited burst costs. */
#define NETD_CLIENT_WQMAX	(64 * 1024)

static struct msgchan	 netd_chan;
static int		 netd_sock = -1;
static uint32_t		 netd_next_id = 1;

/* errno for each refusal code; policy refusals read as EACCES. */
static const int netd_errnos[NETD_E_MAX + 1] = {
	[NETD_E_IFNAME] = EINVAL,
	[NETD_E_NOT_OURS] = EACCES,
	[NETD_E_ADDR] = EACCES,
	[NETD_E_ROUTE] = EACCES,
	[NETD_E_PORT] = EACCES,
	[NETD_E_PROTO] = EACCES,
	[NETD_E_INJECT] = EACCES,
	[NETD_E_MTU] = ERANGE,
	[NETD_E_LIMIT] = ENOSPC,
	[NETD_E_KERNEL] = EIO,
	[NETD_E_UNSUPPORTED] = EOPNOTSUPP,
	[NETD_E_EXISTS] = EEXIST,
	[NETD_E_IFACE] = ENODEV,
};

/*
 * netd serves one uid, checked with SO_PEERCRED, which records the
 * effective ids at connect(): root connects as the user it will become.
 */
static int
netd_connect_as(int fd, const struct sockaddr_un *sun, uid_t uid, gid_t gid)
{
	int	 rc, saved, switched = geteuid() == 0 && uid != 0;

	if (switched && (setegid(gid) == -1 || seteuid(uid) == -1))
		fatal("seteuid %u", (unsigned)uid);
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	if (switched && (seteuid(0) == -1 || setegid(0) == -1))
		fatal("seteuid 0");
	errno = saved;
	return rc;
}

int
netd_conn_open(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (netd_connect_as(fd, &sun, uid, gid) == -1 ||
	    msgchan_init(&netd_chan, fd, NETD_MAXMSG,
	    NETD_CLIENT_WQMAX) == -1) {
		close(fd);
		return -1;
	}
	netd_sock = fd;
	return 0;
}

int
netd_conn_fd(void)
{
	return netd_sock;
}

void
netd_conn_close(void)
{
	if (netd_sock == -1)
		return;
	msgchan_clear(&netd_chan);
	close(netd_sock);
	netd_sock = -1;
}

/*
 * The socket is readable between requests.  0: netd closed it; 1:
 * nothing after all; -1 with errno on a read error.  Bytes are fatal:
 * netd only ever answers.
 */
int
netd_conn_check(void)
{
	ssize_t	 n;

	if ((n = msgchan_read(&netd_chan)) == 0)
		return 0;
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 1 : -1;
	fatalx("netd sent %zd bytes nobody asked for", n);
}

static int
netd_ms_left(const struct timespec *deadline)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

static void
netd_wait(short events, const struct timespec *deadline, uint16_t type)
{
	struct pollfd	 pfd = { .fd = netd_sock, .events = events };
	int		 r;

	while ((r = poll(&pfd, 1, netd_ms_left(deadline))) == -1 &&
	    errno == EINTR)
		;
	if (r == -1)
		fatal("netd: poll");
	if (r == 0)
		fatalx("netd: no reply to %s within %d ms", netd_msg_name(type),
		    LANRAGED_NETD_TIMEOUT_MS);
}

static void
netd_send(uint16_t type, uint32_t id, const struct buf *b,
    const struct timespec *deadline)
{
	int	 r;

	if (netd_sock == -1)
		fatalx("netd: %s without a connection", netd_msg_name(type));
	if (msgchan_compose(&netd_chan, type, NETD_VERSION, id,
	    (uint32_t)getpid(), -1, b != NULL ? b->data : NULL,
	    b != NULL ? b->len : 0) == -1)
		fatal("netd: %s", netd_msg_name(type));
	while ((r = msgchan_flush(&netd_chan)) == 1)
		netd_wait(POLLOUT, deadline, type);
	if (r == -1)
		fatal("netd: sending %s (is netd running, and serving our "
		    "uid?)", netd_msg_name(type));
}

static void
netd_recv(uint16_t type, uint32_t id, struct msg *m,
    const struct timespec *deadline)
{
	ssize_t	 n;
	int	 r;

	while ((r = msgchan_get(&netd_chan, m)) == 0) {
		netd_wait(POLLIN, deadline, type);
		if ((n = msgchan_read(&netd_chan)) == 0)
			fatalx("netd closed the connection during %s (is "
			    "lanraged running as the User netd serves?)",
			    netd_msg_name(type));
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			fatal("netd: reading the reply to %s",
			    netd_msg_name(type));
	}
	if (r == -1)
		fatal("netd: malformed reply to %s", netd_msg_name(type));
	if (m->hdr.version != NETD_VERSION || m->hdr.id != id)
		fatalx("netd: reply to %s with version %u id %u (want %u)",
		    netd_msg_name(type), m->hdr.version, m->hdr.id, id);
}

/* Log a refusal and turn it into errno. */
static void
netd_refused(uint16_t type, const struct msg *m)
{
	struct netd_error	 e;
	char			 text[NETD_ERRTEXT_MAX * 4 + 1];

	if (netd_dec_error(m->data, m->len, &e) == -1 || m->fd != -1)
		fatalx("netd: malformed error reply to %s",
		    netd_msg_name(type));
	log_escape(text, sizeof(text), e.text, strlen(e.text));
	log_warnx("netd refused %s: %s", netd_msg_name(type), text);
	errno = e.code == NETD_E_KERNEL && e.sys_errno != 0 ?
	    (int)e.sys_errno : netd_errnos[e.code];
}

/*
 * One round trip.  0 with *m holding a reply of type want (its fd, if
 * any, checked against want); -1 with errno after an ERROR reply.
 */
static int
netd_request(uint16_t type, const struct buf *b, uint16_t want,
    struct msg *m)
{
	struct timespec	 deadline;
	uint32_t	 id = netd_next_id++;
	int		 with_fd;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += LANRAGED_NETD_TIMEOUT_MS / 1000;
	netd_send(type, id, b, &deadline);
	netd_recv(type, id, m, &deadline);
	if (m->hdr.type == NETD_MSG_ERROR) {
		netd_refused(type, m);
		msg_free(m);
		return -1;
	}
	with_fd = want == NETD_MSG_TUN_FD || want == NETD_MSG_CAPTURE_FD;
	if (m->hdr.type != want || (m->fd != -1) != with_fd)
		fatalx("netd answered %s with %s%s", netd_msg_name(type),
		    netd_msg_name(m->hdr.type), m->fd != -1 ? " and an fd" :
		    "");
	return 0;
}

/* A request answered by OK. */
static int
netd_request_ok(uint16_t type, const struct buf *b)
{
	struct msg	 m;

	if (netd_request(type, b, NETD_MSG_OK, &m) == -1)
		return -1;
	if (msg_expect_len(&m, 0) == -1)
		fatalx("netd: OK with a payload");
	msg_free(&m);
	return 0;
}

static void
netd_encoded(int rc, uint16_t type)
{
	if (rc == -1)
		fatal("netd: encoding %s", netd_msg_name(type));
}

/* A TUN_FD reply: decode it, check it names ifindex (unless 0). */
static int
netd_tun_reply(uint16_t type, const struct buf *b, uint32_t ifindex,
    struct netd_tun_fd *rep, int *fd)
{
	struct netd_tun_fd	 r;
	struct msg		 m;

	if (netd_request(type, b, NETD_MSG_TUN_FD, &m) == -1)
		return -1;
	if (netd_dec_tun_fd(m.data, m.len, &r) == -1 ||
	    (ifindex != 0 && r.ifindex != ifindex))
		fatalx("netd: bad TUN_FD reply to %s", netd_msg_name(type));
	*fd = msg_take_fd(&m);
	msg_free(&m);
	if (rep != NULL)
		*rep = r;
	return 0;
}

int
netd_req_tun_create(const char *ifname, uint32_t flags,
    struct netd_tun_fd *rep, int *fd)
{
	struct netd_tun_create	 req;
	struct buf		 b;
	uint8_t			 mem[64];

	memset(&req, 0, sizeof(req));
	if (strlen(ifname) >= sizeof(req.ifname)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(req.ifname, ifname, strlen(ifname));
	req.flags = flags;
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_encoded(netd_enc_tun_create(&b, &req), NETD_MSG_TUN_CREATE);
	return netd_tun_reply(NETD_MSG_TUN_CREATE, &b, 0, rep, fd);
}

static void
netd_enc_index(struct buf *b, uint32_t ifindex, uint16_t type)
{
	struct netd_ifindex	 req = { .ifindex = ifindex };

	netd_encoded(netd_enc_ifindex(b, &req), type);
}

int
netd_req_tun_queue(uint32_t ifindex, int *fd)
{
	struct buf	 b;
	uint8_t		 mem[16];

	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_index(&b, ifindex, NETD_MSG_TUN_QUEUE);
	return netd_tun_reply(NETD_MSG_TUN_QUEUE, &b, ifindex, NULL, fd);
}

int
netd_req_link_del(uint32_t ifindex)
{
	struct buf	 b;
	uint8_t		 mem[16];

	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_index(&b, ifindex, NETD_MSG_LINK_DEL);
	return netd_request_ok(NETD_MSG_LINK_DEL, &b);
}

int
netd_req_qos_clear(uint32_t ifindex)
{
	struct buf	 b;
	uint8_t		 mem[16];

	buf_init_fixed(&b, mem, sizeof(mem));
	netd_enc_index(&b, ifindex, NETD_MSG_QOS_CLEAR);
	return netd_request_ok(NETD_MSG_QOS_CLEAR, &b);
}

int
netd_req_link_set(uint32_t ifindex, uint32_t mtu, uint8_t state)
{
	struct netd_link_set	 req;
	struct buf		 b;
	uint8_t			 mem[16];

	memset(&req, 0, sizeof(req));
	req.ifindex = ifindex;
	req.mtu = mtu;
	req.state = state;
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_encoded(netd_enc_link_set(&b, &req), NETD_MSG_LINK_SET);
	return netd_request_ok(NETD_MSG_LINK_SET, &b);
}

static uint8_t
netd_family(const struct prefix *p)
{
	return p->addr.af == AF_INET ? NETD_AF_INET : NETD_AF_INET6;
}

int
netd_req_addr(bool add, uint32_t ifindex, const struct prefix *p)
{
	struct netd_addr	 req;
	struct buf		 b;
	uint8_t			 mem[32];
	uint16_t		 type;

	type = add ? NETD_MSG_ADDR_ADD : NETD_MSG_ADDR_DEL;
	memset(&req, 0, sizeof(req));
	req.ifindex = ifindex;
	req.family = netd_family(p);
	req.prefixlen = p->len;
	memcpy(req.addr, p->addr.bytes, addr_len(p->addr.af));
	buf_init_fixed(&b, mem, sizeof(mem));
	netd_encoded(netd_enc_addr(&b, &req), type);
	return netd_request_ok(type, &b);
}

int
netd_req_route(bool add, uint32_t ifindex, const struct prefix *p,
    uint32_t metric)
{
	struct netd_route	 req;
	struct buf		 b;
	uint8_t			 mem[32];
	uint16_t		 type;

	type = add ? NETD_MSG_ROUTE_ADD : NETD_MSG_ROUTE_DEL;
	memset(&req, 0, sizeof(req));
	req.ifindex = ifindex;
	req.family = netd_family(p);
	req.prefixlen = p->len;
	memcpy(req.dst, p->addr.bytes, addr_len(p->addr.af));
	req.metric = metric;
	buf_init_fixed(&b, mem, sizeof(mem));
	/* EINVAL here is the caller's host bits: not netd's business. */
	if (netd_enc_route(&b, &req) == -1)
		return -1;
	return netd_request_ok(type, &b);
}

int
netd_req_capture_open(const struct netd_capture_open *req, int *fd)
{
	struct netd_capture_fd	 rep;
	struct msg		 m;
	struct buf		 b;
	uint8_t			 mem[8 + 4 * NETD_MAX_PORT_RANGES];

	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_capture_open(&b, req) == -1)
		return -1;
	if (netd_request(NETD_MSG_CAPTURE_OPEN, &b, NETD_MSG_CAPTURE_FD,
	    &m) == -1)
		return -1;
	if (netd_dec_capture_fd(m.data, m.len, &rep) == -1 ||
	    rep.ifindex != req->ifindex)
		fatalx("netd: bad CAPTURE_FD reply");
	*fd = msg_take_fd(&m);
	msg_free(&m);
	return 0;
}

int
netd_req_inject(const struct netd_inject *req)
{
	struct buf	 b;
	uint8_t		 mem[NETD_MAXMSG];

	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_inject(&b, req) == -1)
		return -1;
	return netd_request_ok(NETD_MSG_INJECT, &b);
}

int
netd_req_qos_set(const struct netd_qos_set *req)
{
	struct buf	 b;
	uint8_t		 mem[8 + 6 * NETD_MAX_QOS_RULES];

	buf_init_fixed(&b, mem, sizeof(mem));
	if (netd_enc_qos_set(&b, req) == -1)
		return -1;
	return netd_request_ok(NETD_MSG_QOS_SET, &b);
}
