/*
 * What lanraged's local sockets (the UAPI socket, the control socket)
 * share: claiming the path, binding, accepting within a bound, and the
 * buffered I/O and timer of one client.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lib/log.h"
#include "lib/proc.h"

/*
 * A socket file that accepts connections belongs to a live daemon
 * (possibly in another network namespace sharing the directory); one
 * that refuses them is stale.
 */
static int
lanraged_claim_path(const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd, rc;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(sun->sun_path);
}

int
lanraged_unix_listen(const char *path, mode_t mode)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    strlen(path) >= LANRAGED_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (lanraged_claim_path(&sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	old = umask(077);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1)
		goto fail;
	if (chmod(path, mode) == -1 || listen(fd, 8) == -1) {
		rc = errno;
		unlink(path);
		errno = rc;
		goto fail;
	}
	return fd;
fail:
	rc = errno;
	close(fd);
	errno = rc;
	return -1;
}

int
lanraged_accept(int lfd, size_t nconns, size_t max, const char *what)
{
	int	 fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			log_warn("%s: accept", what);
		return -1;
	}
	if (nconns >= max) {
		log_warnx("%s: %zu clients already; refusing one", what, max);
		close(fd);
		return -1;
	}
	return fd;
}

int
lanraged_conn_io(int fd, size_t maxin, bufferevent_data_cb rd,
    bufferevent_data_cb wr, bufferevent_event_cb ev, event_callback_fn tmo,
    void *arg, struct bufferevent **bevp, struct event **timerp)
{
	struct bufferevent	*bev;
	struct event		*timer;

	bev = bufferevent_socket_new(proc_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	timer = evtimer_new(proc_base(), tmo, arg);
	if (bev == NULL || timer == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		if (timer != NULL)
			event_free(timer);
		errno = ENOMEM;
		return -1;
	}
	bufferevent_setcb(bev, rd, wr, ev, arg);
	bufferevent_setwatermark(bev, EV_READ, 0, maxin);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	*bevp = bev;
	*timerp = timer;
	return 0;
}
