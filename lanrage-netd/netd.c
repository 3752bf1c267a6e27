/*
 * lanrage-netd: main, the listening socket, the one client session, and
 * the sandbox.  See lanrage-netd(8).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <event2/event.h>
#include <libgen.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-netd/netd.h"
#include "lanrage-netd/kif.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sandbox.h"

/* Replies are small; a client that stops reading is dropped early. */
#define NETD_WQMAX	(64 * 1024)

static struct netd_conf	 conf;
static const char	*conf_path = NETD_CONF_PATH;
static const char	*sock_path = NETD_SOCK_PATH;
static struct proc_chan	*client;
static struct event	*listen_ev;

static void
usage(void)
{
	fprintf(stderr, "usage: lanrage-netd [-dnv] [-f config] "
	    "[-s socket]\n");
	exit(1);
}

void
netd_client_drop(struct proc_chan *c, const char *why)
{
	log_warnx("dropping client: %s", why);
	ledger_teardown();
	proc_chan_free(c);
	if (c == client)
		client = NULL;
}

static void
netd_client_closed(struct proc_chan *c, int error, void *arg)
{
	if (error != 0) {
		errno = error;
		log_warn("client connection");
	} else
		log_info("client disconnected");
	ledger_teardown();
	proc_chan_free(c);
	client = NULL;
}

/* Exactly one client, and only the configured user. */
static int
netd_client_check(int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (client != NULL) {
		log_warnx("refused connection: a client is already served");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		return -1;
	}
	if (cred.uid != netd_policy->user.uid) {
		log_warnx("refused connection from uid %u pid %d "
		    "(serving uid %u)", (unsigned)cred.uid, (int)cred.pid,
		    (unsigned)netd_policy->user.uid);
		return -1;
	}
	log_info("client connected: uid %u pid %d", (unsigned)cred.uid,
	    (int)cred.pid);
	return 0;
}

static void
netd_accept(evutil_socket_t lfd, short ev, void *arg)
{
	int	 fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (netd_client_check(fd) == -1) {
		close(fd);
		return;
	}
	client = proc_chan_new(fd, NETD_MAXMSG, NETD_WQMAX,
	    netd_dispatch_lanraged, netd_client_closed, NULL);
	if (client == NULL) {
		log_warn("client channel");
		close(fd);
	}
}

static void
netd_mkdir_parent(const char *path)
{
	char	 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
}

/* Only the served user may connect: the socket is 0600 and theirs. */
static int
netd_listen(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("socket path too long: %s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	netd_mkdir_parent(path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("%s exists and is not a socket", path);
		if (unlink(path) == -1)
			fatal("unlink %s", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	if (chmod(path, 0600) == -1)
		fatal("chmod %s", path);
	if (chown(path, conf.user.uid, conf.user.gid) == -1)
		fatal("chown %s", path);
	if (listen(fd, 4) == -1)
		fatal("listen");
	return fd;
}

static void
netd_shutdown(int signo, void *arg)
{
	log_info("signal %d: removing %zu objects and exiting", signo,
	    ledger_count());
	if (client != NULL) {
		proc_chan_free(client);
		client = NULL;
	}
	ledger_teardown();
	proc_loopexit();
}

/* Policy changes apply at once; user and RunAs need a restart. */
static void
netd_reload(int signo, void *arg)
{
	static struct netd_conf	 fresh;
	char			 err[CONF_ERR_MAX];

	if (netd_conf_load(conf_path, &fresh, err, sizeof(err)) == -1) {
		log_warnx("reload refused: %s", err);
		return;
	}
	if (fresh.user.uid != conf.user.uid ||
	    fresh.runas.uid != conf.runas.uid)
		log_warnx("reload: User and RunAs change only on restart");
	fresh.user = conf.user;
	fresh.runas = conf.runas;
	conf = fresh;
	log_info("reloaded %s", conf_path);
}

/*
 * What netd does after start-up, and all it may do: the event loop,
 * netlink and AF_PACKET sockets, TUN opens and ioctls, memory, logging
 * (syslog, localtime), re-reading its config on SIGHUP.  Anything else
 * fails with EPERM.  Sanitizer builds go without: their runtimes need more.
 */
#ifndef LR_SANITIZE
static const int netd_syscalls[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_close,
	__NR_openat, __NR_newfstatat, __NR_fstat, __NR_lseek, __NR_pread64,
	__NR_fcntl, __NR_ioctl, __NR_access, __NR_faccessat,
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_brk,
	__NR_madvise, __NR_futex, __NR_getrandom, __NR_clock_gettime,
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_poll,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_socket, __NR_bind, __NR_connect, __NR_accept4, __NR_getsockopt,
	__NR_setsockopt, __NR_getsockname, __NR_sendmsg, __NR_recvmsg,
	__NR_sendto, __NR_recvfrom, __NR_dup, __NR_getpid, __NR_gettid,
	__NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid, __NR_uname,
	__NR_exit, __NR_exit_group, __NR_tgkill,
};
#endif

/*
 * CAP_NET_ADMIN: interfaces, addresses, routes, qdiscs, TUNSETIFF.
 * CAP_NET_RAW: AF_PACKET capture and inject sockets.
 * The uid changes only when RunAs is not root: every TUN needs a fresh
 * open of /dev/net/tun, which RunAs must be allowed (udev makes it 0666).
 */
static void
netd_sandbox(void)
{
	static const int		 caps[] = { CAP_NET_ADMIN, CAP_NET_RAW };
	struct sandbox_profile		 p;

	memset(&p, 0, sizeof(p));
	p.name = "lanrage-netd";
	p.setid = conf.runas.uid != 0;
	p.uid = conf.runas.uid;
	p.gid = conf.runas.gid;
	p.caps = caps;
	p.ncaps = sizeof(caps) / sizeof(caps[0]);
#ifndef LR_SANITIZE
	p.syscalls = netd_syscalls;
	p.nsyscalls = sizeof(netd_syscalls) / sizeof(netd_syscalls[0]);
#endif
	if (sandbox_enter(&p) == -1)
		fatal("sandbox");
	if (access("/dev/net/tun", R_OK | W_OK) == -1)
		fatal("RunAs %s cannot open /dev/net/tun", conf.runas.name);
}

static void
netd_setup_events(int lfd)
{
	if (proc_init() == -1)
		fatalx("event loop");
	listen_ev = event_new(proc_base(), lfd, EV_READ | EV_PERSIST,
	    netd_accept, NULL);
	if (listen_ev == NULL || event_add(listen_ev, NULL) == -1)
		fatalx("listen event");
	if (proc_signal(SIGTERM, netd_shutdown, NULL) == -1 ||
	    proc_signal(SIGINT, netd_shutdown, NULL) == -1 ||
	    proc_signal(SIGHUP, netd_reload, NULL) == -1)
		fatalx("signal events");
	signal(SIGPIPE, SIG_IGN);
}

static void
netd_load_or_exit(void)
{
	char	 err[CONF_ERR_MAX];

	if (netd_conf_load(conf_path, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "lanrage-netd: %s\n", err);
		exit(1);
	}
	netd_policy = &conf;
}

int
main(int argc, char *argv[])
{
	unsigned int	 swept = 0;
	int		 ch, debug = 0, checkonly = 0, verbose = 0, lfd;

	while ((ch = getopt(argc, argv, "df:ns:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 's':
			sock_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	netd_load_or_exit();
	if (checkonly) {
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	log_init("lanrage-netd", debug, verbose);
	if (geteuid() != 0)
		fatalx("need root privileges");
	if (kif_init() == -1)
		fatal("netlink");
	if (kif_sweep(conf.prefix, &swept) == -1)
		fatal("sweep %s* interfaces", conf.prefix);
	if (swept > 0)
		log_info("swept %u stale %s* interfaces", swept, conf.prefix);
	lfd = netd_listen(sock_path);
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	netd_setup_events(lfd);
	netd_sandbox();
	log_info("listening on %s, serving uid %u", sock_path,
	    (unsigned)conf.user.uid);
	proc_loop();
	kif_shutdown();
	event_free(listen_ev);
	proc_free();
	return 0;
}
