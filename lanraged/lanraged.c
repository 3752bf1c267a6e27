/*
 * lanraged: main, start-up through lanrage-netd, the WireGuard engine,
 * the sandbox, the UAPI socket and the event loop.  See lanraged(8).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/if_tun.h>

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/lanraged.h"
#include "lanraged/node.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sandbox.h"
#include "lib/wg/device.h"
#include "lib/wg/uapi.h"

typedef int (*lanraged_prefix_op)(bool add, uint32_t ifindex,
    const struct prefix *);

static struct lanraged_conf	 conf;
static struct lanraged_iface	 iface;
static const char		*conf_path = LANRAGED_CONF_PATH;
static char			 conf_abs[PATH_MAX];
static const char		*opt_netd_sock;
static const char		*opt_uapi_dir;
static const char		*opt_ifname;
static struct event		*netd_ev;
static int			 exit_status;
static struct wg_device		*engine;
static struct event		*dead_ev;

static void
usage(void)
{
	fprintf(stderr, "usage: lanraged [-dnv] [-f config] "
	    "[-s netd-socket] [-u uapi-dir] [interface]\n");
	exit(1);
}

/* Command-line paths win over the file, at start and on every reload. */
static int
lanraged_load(struct lanraged_conf *c, char *err, size_t errlen)
{
	char	 sock[LANRAGED_PATH_MAX];

	if (lanraged_conf_load(conf_path, c, err, errlen) == -1)
		return -1;
	if (opt_netd_sock != NULL)
		snprintf(c->netd_sock, sizeof(c->netd_sock), "%s",
		    opt_netd_sock);
	if (opt_uapi_dir != NULL)
		snprintf(c->uapi_dir, sizeof(c->uapi_dir), "%s", opt_uapi_dir);
	if (opt_ifname != NULL) {
		if (!conf_ifname_valid(opt_ifname)) {
			snprintf(err, errlen, "invalid interface name: %s",
			    opt_ifname);
			return -1;
		}
		snprintf(c->ifname, sizeof(c->ifname), "%s", opt_ifname);
		c->party = false;	/* wg-quick owns the peers */
	}
	if (lanraged_conf_uapi_path(c, sock, sizeof(sock)) == -1) {
		snprintf(err, errlen, "UAPI socket path too long: %s/%s.sock",
		    c->uapi_dir, c->ifname);
		return -1;
	}
	return 0;
}

static void
lanraged_load_or_exit(void)
{
	char	 err[CONF_ERR_MAX];

	if (lanraged_load(&conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "lanraged: %s\n", err);
		exit(1);
	}
	/* daemon() changes directory; SIGHUP must find the same file. */
	if (realpath(conf_path, conf_abs) != NULL)
		conf_path = conf_abs;
}

static void
lanraged_check_path(const char *flag, const char *path)
{
	if (path[0] != '/' || strlen(path) >= LANRAGED_PATH_MAX) {
		fprintf(stderr, "lanraged: %s: not an absolute path shorter "
		    "than %d bytes\n", flag, LANRAGED_PATH_MAX);
		exit(1);
	}
}

static bool
lanraged_prefix_in(const struct conf_prefixes *l, const struct prefix *p)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (l->p[i].len == p->len && addr_eq(&l->p[i].addr, &p->addr))
			return true;
	return false;
}

static int
lanraged_addr_op(bool add, uint32_t ifindex, const struct prefix *p)
{
	return netd_req_addr(add, ifindex, p);
}

static int
lanraged_route_op(bool add, uint32_t ifindex, const struct prefix *p)
{
	return netd_req_route(add, ifindex, p, 0);
}

/*
 * Make the link carry want instead of *cur; *cur becomes what the link
 * really has.  Returns the number of failed changes (netd logged why).
 */
static int
lanraged_sync_prefixes(const char *what, struct conf_prefixes *cur,
    const struct conf_prefixes *want, lanraged_prefix_op op)
{
	struct conf_prefixes	 now;
	char			 s[LR_PREFIX_STRLEN];
	size_t			 i;
	int			 failed = 0;

	memset(&now, 0, sizeof(now));
	for (i = 0; i < cur->n; i++) {
		if (lanraged_prefix_in(want, &cur->p[i])) {
			now.p[now.n++] = cur->p[i];
			continue;
		}
		prefix_fmt(&cur->p[i], s, sizeof(s));
		if (op(false, iface.ifindex, &cur->p[i]) == -1) {
			log_warnx("%s: cannot remove %s %s", iface.name, what,
			    s);
			now.p[now.n++] = cur->p[i];
			failed++;
			continue;
		}
		log_info("%s: removed %s %s", iface.name, what, s);
	}
	for (i = 0; i < want->n; i++) {
		if (lanraged_prefix_in(&now, &want->p[i]))
			continue;
		prefix_fmt(&want->p[i], s, sizeof(s));
		if (now.n == CONF_LIST_MAX ||
		    op(true, iface.ifindex, &want->p[i]) == -1) {
			log_warnx("%s: cannot add %s %s", iface.name, what, s);
			failed++;
			continue;
		}
		now.p[now.n++] = want->p[i];
		log_info("%s: added %s %s", iface.name, what, s);
	}
	*cur = now;
	return failed;
}

/*
 * TCP segmentation and checksums left to us: the kernel then hands over
 * 64 KiB super-packets instead of ~45 small ones.  Without them (an old
 * kernel) the virtio headers simply stay empty.
 */
static void
lanraged_tun_offload(void)
{
	size_t	 i;

	for (i = 0; i < iface.ntun; i++) {
		if (ioctl(iface.tun_fd[i], TUNSETOFFLOAD, TUN_F_CSUM |
		    TUN_F_TSO4 | TUN_F_TSO6) == -1) {
			log_warn("%s: no TUN offloads", iface.name);
			return;
		}
	}
	log_info("%s: TCP segmentation offload on", iface.name);
}

/*
 * One queue per data-path thread: TUN_CREATE gives the first.  A kernel
 * without virtio headers on TUN gets plain queues.
 */
static void
lanraged_tun_setup(void)
{
	struct netd_tun_fd	 rep;
	uint32_t		 flags = NETD_TUN_MULTI_QUEUE | NETD_TUN_VNET_HDR;
	size_t			 i;
	int			 rc;

	rc = netd_req_tun_create(conf.ifname, flags, &rep, &iface.tun_fd[0]);
	if (rc == -1 && errno == EINVAL) {
		log_warnx("%s: no virtio headers on TUN: no offloads",
		    conf.ifname);
		flags &= ~NETD_TUN_VNET_HDR;
		rc = netd_req_tun_create(conf.ifname, flags, &rep,
		    &iface.tun_fd[0]);
	}
	if (rc == -1)
		fatal("cannot create %s", conf.ifname);
	iface.vnet_hdr = (flags & NETD_TUN_VNET_HDR) != 0;
	iface.ifindex = rep.ifindex;
	memcpy(iface.name, rep.ifname, sizeof(iface.name));
	iface.ntun = 1;
	for (i = 1; i < conf.threads; i++, iface.ntun++)
		if (netd_req_tun_queue(iface.ifindex, &iface.tun_fd[i]) == -1)
			fatal("%s: cannot open queue %zu", iface.name, i);
	if (netd_req_link_set(iface.ifindex, (uint32_t)conf.mtu,
	    NETD_LINK_UP) == -1)
		fatal("%s: cannot set MTU %lu and bring it up", iface.name,
		    conf.mtu);
	iface.mtu = (uint32_t)conf.mtu;
	log_info("%s: index %u, %zu queues, MTU %u, up", iface.name,
	    iface.ifindex, iface.ntun, iface.mtu);
	if (iface.vnet_hdr)
		lanraged_tun_offload();
}

/* Addresses and routes start from none: netd made the link just now. */
static void
lanraged_addr_setup(void)
{
	struct conf_prefixes	 none, want;

	memset(&none, 0, sizeof(none));
	want = conf.address;
	if (lanraged_sync_prefixes("address", &none, &want,
	    lanraged_addr_op) != 0)
		fatalx("%s: cannot configure the addresses", iface.name);
	memset(&none, 0, sizeof(none));
	want = conf.route;
	if (lanraged_sync_prefixes("route", &none, &want,
	    lanraged_route_op) != 0)
		fatalx("%s: cannot configure the routes", iface.name);
}

/*
 * The WireGuard engine takes the TUN queues and binds the UDP port (one
 * SO_REUSEPORT socket per worker).  Its threads start after daemon():
 * threads do not survive a fork.
 */
static void
lanraged_engine_setup(void)
{
	struct wg_device_params	 p;

	memset(&p, 0, sizeof(p));
	p.tun_fds = iface.tun_fd;
	p.ntun = iface.ntun;
	p.mtu = iface.mtu;
	p.vnet_hdr = iface.vnet_hdr;
	p.listen_port = (uint16_t)conf.listen_port;
	if ((engine = wg_device_new(&p)) == NULL)
		fatal("cannot start the data plane on UDP port %lu",
		    conf.listen_port);
	iface.ntun = 0;		/* the engine owns the queues now */
	iface.port = wg_device_port(engine);
	log_info("listening on UDP port %u, %zu data-path threads",
	    iface.port, p.ntun);
}

/*
 * A directory User must write in (the UAPI socket's, the database's).
 * Root makes it for User when missing; one that exists is left alone.
 */
static void
lanraged_mkdir_owned(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == -1) {
		if (errno != EEXIST)
			fatal("mkdir %s", dir);
		return;
	}
	if (geteuid() == 0 && chown(dir, conf.user.uid, conf.user.gid) == -1)
		fatal("chown %s", dir);
	log_info("created %s", dir);
}

/*
 * lanraged needs no capability at all: netd did everything privileged,
 * and the UDP port is bound.  Started as root (tests, by hand), it
 * becomes User; under systemd it already is User.  No seccomp yet: the
 * allowlist comes with the data-path threads, whose syscalls it must
 * name.
 */
/*
 * What lanraged does after the sandbox, and all it may do: detach, the
 * event loop and the UAPI socket, the data-path and timer threads
 * (batched UDP I/O, TUN reads and writes, eventfds), a new UDP port on
 * request, memory, randomness, logging, re-reading its config on SIGHUP.
 * Anything else fails with EPERM.  Sanitizer builds go without.
 */
#ifndef LR_SANITIZE
static const int lanraged_syscalls[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_close,
	__NR_openat, __NR_newfstatat, __NR_fstat, __NR_lseek, __NR_pread64,
	__NR_fcntl, __NR_ioctl, __NR_unlink, __NR_access, __NR_faccessat,
	/* SQLite, for the settings database */
	__NR_pwrite64, __NR_fsync, __NR_fdatasync, __NR_ftruncate,
	__NR_fallocate, __NR_unlinkat, __NR_readlink, __NR_readlinkat,
	__NR_getcwd, __NR_fchown, __NR_fchmod, __NR_flock, __NR_faccessat2,
	__NR_gettimeofday, __NR_time, __NR_getpeername,
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_brk,
	__NR_madvise, __NR_futex, __NR_getrandom, __NR_clock_gettime,
	__NR_clock_nanosleep, __NR_nanosleep, __NR_sched_yield,
	__NR_epoll_create1, __NR_epoll_wait, __NR_epoll_pwait,
	__NR_epoll_ctl, __NR_poll, __NR_ppoll, __NR_eventfd2, __NR_pipe2,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_socket, __NR_bind, __NR_connect, __NR_accept4, __NR_listen,
	__NR_getsockopt, __NR_setsockopt, __NR_getsockname, __NR_sendmsg,
	__NR_recvmsg, __NR_sendmmsg, __NR_recvmmsg, __NR_sendto,
	__NR_recvfrom, __NR_shutdown, __NR_dup, __NR_dup2, __NR_dup3,
	__NR_clone, __NR_clone3, __NR_set_robust_list, __NR_rseq,
	__NR_set_tid_address, __NR_setsid, __NR_chdir, __NR_getpid,
	__NR_gettid, __NR_getppid, __NR_getuid, __NR_geteuid, __NR_getgid,
	__NR_getegid, __NR_uname, __NR_prlimit64, __NR_sched_getaffinity,
	__NR_exit, __NR_exit_group, __NR_tgkill,
};
#endif

/* The directory of path, as lanraged_mkdir_owned() makes it. */
static void
lanraged_mkdir_for(const char *path, mode_t mode)
{
	char	 dir[LANRAGED_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	lanraged_mkdir_owned(dir, mode);
}

/*
 * Party mode's files: the database directory (User's, private) and the
 * control socket, bound now, while root may still give it to User and
 * Group.
 */
static void
lanraged_node_setup(void)
{
	if (!conf.party)
		return;
	lanraged_mkdir_for(conf.database, 0700);
	lanraged_mkdir_for(conf.ctl_sock, 0755);
	if (ctl_listen(conf.ctl_sock, conf.user.uid, conf.group) == -1)
		fatal("control socket %s", conf.ctl_sock);
	log_info("control socket %s", conf.ctl_sock);
	if (strcmp(conf.http_addr, "off") != 0)
		http_load(conf.ui_dir);
}

/* After the sandbox: the database is User's, and so are its files. */
static void
lanraged_node_open(void)
{
	char	 err[CONF_ERR_MAX];

	if (conf.party && settings_open(conf.database, err, sizeof(err)) ==
	    -1)
		fatalx("settings database %s", err);
}

static void
lanraged_node_start(void)
{
	struct party_env	 env;

	if (!conf.party)
		return;
	memset(&env, 0, sizeof(env));
	env.dev = engine;
	env.ifindex = iface.ifindex;
	env.ifname = iface.name;
	env.port = iface.port;
	if (ctl_start() == -1 || party_start(&env) == -1 ||
	    metrics_start() == -1 || http_start(conf.http_addr) == -1)
		fatal("party mode");
}

static void
lanraged_sandbox(void)
{
	struct sandbox_profile	 p;

	memset(&p, 0, sizeof(p));
	p.name = "lanraged";
	p.setid = geteuid() == 0 && conf.user.uid != 0;
	p.uid = conf.user.uid;
	p.gid = conf.user.gid;
#ifndef LR_SANITIZE
	p.syscalls = lanraged_syscalls;
	p.nsyscalls = sizeof(lanraged_syscalls) / sizeof(lanraged_syscalls[0]);
#endif
	if (sandbox_enter(&p) == -1)
		fatal("sandbox");
	if (!p.setid && geteuid() != conf.user.uid)
		log_warnx("running as uid %u, not User %s (%u)",
		    (unsigned)geteuid(), conf.user.name,
		    (unsigned)conf.user.uid);
}

static void
lanraged_uapi_setup(void)
{
	char	 path[LANRAGED_PATH_MAX];

	if (lanraged_conf_uapi_path(&conf, path, sizeof(path)) == -1 ||
	    lanraged_uapi_listen(path) == -1)
		fatal("UAPI socket %s", path);
	/* Made before the sandbox, so a root-owned directory works too. */
	if (geteuid() == 0 && chown(path, conf.user.uid, conf.user.gid) == -1)
		fatal("chown %s", path);
	log_info("UAPI socket %s", path);
}

/*
 * One UAPI request for the engine: parse it whole, then apply or answer.
 * A SET's error goes out negated, as wg(8) expects ("errno=-22").
 * -1 closes the connection (the stream is out of step).
 */
static int
lanraged_uapi_engine(const char *req, size_t len, struct buf *resp,
    void *arg)
{
	struct wg_device	*dev = arg;
	struct wg_uapi_parser	 parser;
	struct wg_uapi_req	 r;
	int			 rc = 0;

	wg_uapi_parser_init(&parser);
	memset(&r, 0, sizeof(r));
	wg_uapi_parse(&parser, req, len, &r);
	switch (r.kind) {
	case WG_UAPI_GET:
		rc = wg_device_get(dev, resp);
		break;
	case WG_UAPI_SET:
		rc = wg_uapi_write_errno(resp, wg_device_apply(dev, r.set));
		wg_uapi_set_free(r.set);
		break;
	case WG_UAPI_ERROR:
		log_info("uapi: refused request: %s", strerror(r.error));
		if (wg_uapi_write_errno(resp, r.error) == -1 || r.close)
			rc = -1;
		break;
	case WG_UAPI_NONE:
		rc = wg_uapi_write_errno(resp, EPROTO);
		break;
	}
	wg_uapi_parser_free(&parser);
	return rc;
}

static void
lanraged_stop(void)
{
	lanraged_uapi_close();
	if (conf.party) {
		ctl_close();
		http_close();
	}
	proc_loopexit();
}

/* netd removes lanrage0 when this process's descriptors go. */
static void
lanraged_shutdown(int signo, void *arg)
{
	log_info("signal %d: exiting", signo);
	lanraged_stop();
}

static void
lanraged_netd_event(evutil_socket_t fd, short ev, void *arg)
{
	int	 r;

	if ((r = netd_conn_check()) == 1)
		return;
	if (r == 0)
		log_warnx("netd closed the connection; exiting");
	else
		log_warn("netd connection; exiting");
	exit_status = 1;
	lanraged_stop();
}

static void
lanraged_reload_mtu(struct lanraged_conf *fresh)
{
	if (fresh->mtu == iface.mtu)
		return;
	if (netd_req_link_set(iface.ifindex, (uint32_t)fresh->mtu,
	    NETD_LINK_KEEP) == -1) {
		log_warnx("%s: MTU stays %u", iface.name, iface.mtu);
		fresh->mtu = iface.mtu;
		return;
	}
	log_info("%s: MTU %u -> %lu", iface.name, iface.mtu, fresh->mtu);
	iface.mtu = (uint32_t)fresh->mtu;
}

/* Keys that only a restart applies keep their running values. */
static void
lanraged_reload_fixed(struct lanraged_conf *fresh)
{
	if (strcmp(fresh->ifname, conf.ifname) != 0 ||
	    fresh->listen_port != conf.listen_port ||
	    fresh->user.uid != conf.user.uid ||
	    strcmp(fresh->netd_sock, conf.netd_sock) != 0 ||
	    strcmp(fresh->uapi_dir, conf.uapi_dir) != 0 ||
	    fresh->threads != conf.threads || fresh->party != conf.party ||
	    strcmp(fresh->database, conf.database) != 0 ||
	    strcmp(fresh->ctl_sock, conf.ctl_sock) != 0 ||
	    fresh->group != conf.group)
		log_warnx("reload: Name, ListenPort, User, NetdSocket, "
		    "UapiDir, Threads and [Node] change only on restart");
	memcpy(fresh->ifname, conf.ifname, sizeof(fresh->ifname));
	fresh->listen_port = conf.listen_port;
	fresh->user = conf.user;
	memcpy(fresh->netd_sock, conf.netd_sock, sizeof(fresh->netd_sock));
	memcpy(fresh->uapi_dir, conf.uapi_dir, sizeof(fresh->uapi_dir));
	fresh->threads = conf.threads;
	fresh->party = conf.party;
	memcpy(fresh->database, conf.database, sizeof(fresh->database));
	memcpy(fresh->ctl_sock, conf.ctl_sock, sizeof(fresh->ctl_sock));
	fresh->group = conf.group;
}

/* MTU, Address and Route apply at once, through netd. */
static void
lanraged_reload(int signo, void *arg)
{
	static struct lanraged_conf	 fresh;
	struct conf_prefixes		 want;
	char				 err[CONF_ERR_MAX];

	if (lanraged_load(&fresh, err, sizeof(err)) == -1) {
		log_warnx("reload refused: %s", err);
		return;
	}
	lanraged_reload_fixed(&fresh);
	lanraged_reload_mtu(&fresh);
	want = fresh.route;
	fresh.route = conf.route;
	lanraged_sync_prefixes("route", &fresh.route, &want,
	    lanraged_route_op);
	want = fresh.address;
	fresh.address = conf.address;
	lanraged_sync_prefixes("address", &fresh.address, &want,
	    lanraged_addr_op);
	conf = fresh;
	log_info("reloaded %s", conf_path);
}

/* The interface was deleted under us (wg-quick down, ip link del). */
static void
lanraged_engine_dead(evutil_socket_t fd, short ev, void *arg)
{
	log_info("%s: the interface is gone: exiting", iface.name);
	lanraged_stop();
}

static void
lanraged_setup_events(void)
{
	if (proc_init() == -1)
		fatalx("event loop");
	netd_ev = event_new(proc_base(), netd_conn_fd(), EV_READ | EV_PERSIST,
	    lanraged_netd_event, NULL);
	if (netd_ev == NULL || event_add(netd_ev, NULL) == -1)
		fatalx("netd event");
	if (proc_signal(SIGTERM, lanraged_shutdown, NULL) == -1 ||
	    proc_signal(SIGINT, lanraged_shutdown, NULL) == -1 ||
	    proc_signal(SIGHUP, lanraged_reload, NULL) == -1)
		fatalx("signal events");
	signal(SIGPIPE, SIG_IGN);
	if (lanraged_uapi_start(lanraged_uapi_engine, engine) == -1)
		fatal("UAPI events");
	dead_ev = event_new(proc_base(), wg_device_dead_fd(engine), EV_READ,
	    lanraged_engine_dead, NULL);
	if (dead_ev == NULL || event_add(dead_ev, NULL) == -1)
		fatalx("engine event");
}

/* Everything before the event loop, in the order lanraged(8) gives. */
static void
lanraged_setup(void)
{
	if (netd_conn_open(conf.netd_sock, conf.user.uid, conf.user.gid) ==
	    -1)
		fatal("cannot connect to netd at %s (is lanrage-netd "
		    "running?)", conf.netd_sock);
	lanraged_tun_setup();
	lanraged_addr_setup();
	lanraged_engine_setup();
	lanraged_mkdir_owned(conf.uapi_dir, 0755);
	lanraged_uapi_setup();
	lanraged_node_setup();
	lanraged_sandbox();
	lanraged_node_open();
}

int
main(int argc, char *argv[])
{
	int	 ch, debug = 0, checkonly = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "df:ns:u:v")) != -1) {
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
			lanraged_check_path("-s", optarg);
			opt_netd_sock = optarg;
			break;
		case 'u':
			lanraged_check_path("-u", optarg);
			opt_uapi_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	/* wg-quick runs "lanraged IFNAME", as it runs wireguard-go */
	if (argc - optind > 1)
		usage();
	if (argc - optind == 1)
		opt_ifname = argv[optind];
	if (getenv("WG_PROCESS_FOREGROUND") != NULL &&
	    strcmp(getenv("WG_PROCESS_FOREGROUND"), "1") == 0)
		debug = 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "lanraged: libsodium init failed\n");
		return 1;
	}
	lanraged_load_or_exit();
	if (checkonly) {
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	log_init("lanraged", debug, verbose);
	lanraged_setup();
	/* The event base is made after the fork: epoll does not survive it. */
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	lanraged_setup_events();
	if (wg_device_start(engine) == -1)
		fatal("data-path threads");
	lanraged_node_start();
	log_info("started: %s, UDP port %u, uid %u", iface.name, iface.port,
	    (unsigned)geteuid());
	proc_loop();
	lanraged_uapi_close();
	if (conf.party) {
		ctl_close();
		http_close();
		metrics_stop();
		party_stop();
		settings_close();
	}
	wg_device_free(engine);
	event_free(dead_ev);
	event_free(netd_ev);
	netd_conn_close();
	proc_free();
	return exit_status;
}
