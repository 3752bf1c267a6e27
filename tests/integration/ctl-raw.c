/*
 * ctl-raw: raw bytes to lanraged's control socket, for the tests that
 * feed it untrusted input.
 *
 *	ctl-raw SOCKET
 *
 * Everything read from stdin is written to the Unix stream socket SOCKET
 * as it comes, byte for byte; at the end of stdin the write side is shut
 * down.  Everything the server sends is copied to stdout until it closes
 * the connection, or, once stdin is done, until SILENCE_MS pass without
 * a byte.  The server reading nothing more (it closed, or refused the
 * rest) is not an error: the rest of stdin is dropped.  Exit 0 when the
 * connection was made, 1 otherwise.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SILENCE_MS	5000
#define CHUNK		16384

struct raw {
	int	 sock;
	bool	 in_open;	/* stdin not at its end yet */
	bool	 out_open;	/* the socket still takes bytes */
	char	 pend[CHUNK];	/* read from stdin, not yet sent */
	size_t	 off, len;
};

static int
raw_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ctl-raw: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "ctl-raw: %s: %s\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Nothing more will be sent: drop what is pending, shut the write side. */
static void
raw_done_writing(struct raw *r)
{
	if (r->out_open)
		shutdown(r->sock, SHUT_WR);
	r->out_open = false;
	r->in_open = false;
	r->off = r->len = 0;
}

static void
raw_read_stdin(struct raw *r)
{
	ssize_t	 n;

	n = read(STDIN_FILENO, r->pend, sizeof(r->pend));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->in_open = false;
		return;
	}
	r->off = 0;
	r->len = (size_t)n;
}

static void
raw_send(struct raw *r)
{
	ssize_t	 n;

	n = send(r->sock, r->pend + r->off, r->len - r->off,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1) {
		raw_done_writing(r);
		return;
	}
	r->off += (size_t)n;
	if (r->off == r->len)
		r->off = r->len = 0;
}

static bool
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copy what the server sent; false at its end. */
static bool
raw_recv(struct raw *r)
{
	char	 b[CHUNK];
	ssize_t	 n;

	n = recv(r->sock, b, sizeof(b), MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	write_all(STDOUT_FILENO, b, (size_t)n);
	return true;
}

/* One round of poll; false when the exchange is over. */
static bool
raw_step(struct raw *r)
{
	struct pollfd	 pfd[2];
	int		 n;

	if (!r->in_open && r->len == 0 && r->out_open)
		raw_done_writing(r);
	pfd[0].fd = r->sock;
	pfd[0].events = POLLIN | (r->len > 0 ? POLLOUT : 0);
	pfd[1].fd = r->in_open && r->len == 0 ? STDIN_FILENO : -1;
	pfd[1].events = POLLIN;
	n = poll(pfd, 2, r->out_open ? -1 : SILENCE_MS);
	if (n == -1)
		return errno == EINTR;
	if (n == 0)
		return false;		/* silence */
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) && !raw_recv(r))
		return false;
	if (pfd[0].revents & POLLOUT && r->len > 0)
		raw_send(r);
	if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		raw_read_stdin(r);
	return true;
}

int
main(int argc, char *argv[])
{
	static struct raw	 r;

	if (argc != 2) {
		fprintf(stderr, "usage: ctl-raw SOCKET\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r.sock = raw_connect(argv[1])) == -1)
		return 1;
	r.in_open = r.out_open = true;
	while (raw_step(&r))
		;
	close(r.sock);
	return 0;
}
