/*
 * lanrage-relayd: main, relayd.conf, the relay key, the sockets, the
 * sandbox (chroot, User, seccomp) and the event loop of the main thread:
 * expiry, load, metrics, signals, the registration with controld.  See
 * lanrage-relayd(8).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanrage-relayd/relayd.h"
#include "lib/clock.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sandbox.h"

#define RELAYD_CONF_PATH	LR_SYSCONFDIR "/lanrage/relayd.conf"
#define RELAYD_KEY_PATH		LR_SYSCONFDIR "/lanrage/relayd.key"
#define RELAYD_TICK_MS		1000

static struct relayd_conf	 conf;
static struct relayd_ctx	 ctx;
static const char		*conf_path = RELAYD_CONF_PATH;
static char			 conf_abs[PATH_MAX];
static struct event		*tick_ev;
static uint64_t			 fwd_last;

#define RELAYD_FIELDSZ(f)	sizeof(((struct relayd_conf *)0)->f)
#define RELAYD_SPEC(key, type, field, sz, lo, hi)			\
	{ "Relayd", key, type, offsetof(struct relayd_conf, field),	\
	    sz, lo, hi }
#define RELAYD_STR(key, field)						\
	RELAYD_SPEC(key, CONF_STRING, field, RELAYD_FIELDSZ(field), 0, 0)

static const struct conf_spec relayd_specs[] = {
	RELAYD_STR("Listen", listen),
	RELAYD_SPEC("PrivateKeyFile", CONF_PATH, keyfile,
	    RELAYD_FIELDSZ(keyfile), 0, 0),
	RELAYD_STR("TokenKey", token_key),
	RELAYD_SPEC("Workers", CONF_UINT, workers, 0, 0, RELAYD_MAX_WORKERS),
	RELAYD_STR("Control", control),
	RELAYD_STR("ControlKey", control_key),
	RELAYD_STR("Region", region),
	RELAYD_SPEC("Capacity", CONF_UINT, capacity, 0, 1, 100000000),
	RELAYD_STR("PublicAddress", public_addr),
	RELAYD_STR("MetricsListen", metrics),
	RELAYD_SPEC("User", CONF_USER, user, 0, 0, 0),
	RELAYD_SPEC("Chroot", CONF_PATH, chroot, RELAYD_FIELDSZ(chroot), 0, 0),
	RELAYD_SPEC("MaxBindings", CONF_UINT, max_bindings, 0, 16, 1 << 22),
	RELAYD_SPEC("BindRate", CONF_UINT, bind_rate, 0, 1, 1000),
	RELAYD_SPEC("BindBurst", CONF_UINT, bind_burst, 0, 1, 10000),
	RELAYD_SPEC("BindBudget", CONF_UINT, bind_budget, 0, 1, 1000000),
	RELAYD_SPEC("PacketRate", CONF_UINT, packet_rate, 0, 1, 100000000),
};

static void
usage(void)
{
	fprintf(stderr, "usage: lanrage-relayd [-dnv] [-f config]\n"
	    "       lanrage-relayd -g keyfile\n");
	exit(1);
}

static void
relayd_conf_defaults(struct relayd_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0:%d",
	    RELAY_DEFAULT_PORT);
	snprintf(c->keyfile, sizeof(c->keyfile), "%s", RELAYD_KEY_PATH);
	snprintf(c->region, sizeof(c->region), "default");
	snprintf(c->metrics, sizeof(c->metrics), "127.0.0.1:9851");
	snprintf(c->user.name, sizeof(c->user.name), "%s", "_lanrage");
	c->user.uid = (uid_t)-1;
	snprintf(c->chroot, sizeof(c->chroot), "/var/empty");
	c->capacity = 500000;
	c->max_bindings = 65536;
	c->bind_rate = 4;
	c->bind_burst = 8;
	c->bind_budget = 20000;
	c->packet_rate = 200000;
}

/* Metrics on loopback only: a public scrape port is a choice to make. */
static int
relayd_metrics_check(const char *path, struct relayd_conf *c, char *err,
    size_t errlen)
{
	struct addr	 a;
	uint16_t	 port;

	if (strcmp(c->metrics, "off") == 0)
		return 0;
	if (sockaddr_parse(c->metrics, &c->mss, &c->msslen) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&c->mss, &a, &port) == -1) {
		snprintf(err, errlen, "%s: MetricsListen: %s: not address:port "
		    "or off", path, c->metrics);
		return -1;
	}
	if (!(a.af == AF_INET && a.bytes[0] == 127) && !(a.af == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a.bytes))) {
		snprintf(err, errlen, "%s: MetricsListen: %s: not a loopback "
		    "address (put a proxy in front to publish it)", path,
		    c->metrics);
		return -1;
	}
	return 0;
}

static int
relayd_keys_check(const char *path, struct relayd_conf *c, char *err,
    size_t errlen)
{
	if (c->token_key[0] != '\0') {
		if (keyfile_pub_decode(c->token_key, strlen(c->token_key),
		    c->token_pk) == -1) {
			snprintf(err, errlen, "%s: TokenKey: not a base64 "
			    "Ed25519 public key", path);
			return -1;
		}
		c->have_token_key = true;
	}
	if (c->control[0] == '\0') {
		if (c->have_token_key)
			return 0;
		snprintf(err, errlen, "%s: neither Control nor TokenKey: "
		    "nothing could admit a node", path);
		return -1;
	}
	if (keyfile_pub_decode(c->control_key, strlen(c->control_key),
	    c->control_pk) == -1) {
		snprintf(err, errlen, "%s: ControlKey: the control server's "
		    "public key (base64) is needed with Control", path);
		return -1;
	}
	return 0;
}

static int
relayd_addr_check(const char *path, struct relayd_conf *c, char *err,
    size_t errlen)
{
	char		 host[LR_INVITE_HOSTSIZ];
	uint16_t	 port;

	if (sockaddr_parse(c->listen, &c->ss, &c->sslen) == -1) {
		snprintf(err, errlen, "%s: Listen: %s: not address:port (IPv6 "
		    "in brackets)", path, c->listen);
		return -1;
	}
	if (c->control[0] != '\0' && lr_hostport_parse(c->control, host,
	    sizeof(host), &port) == -1) {
		snprintf(err, errlen, "%s: Control: %s: not host:port", path,
		    c->control);
		return -1;
	}
	if (c->public_addr[0] != '\0') {
		if (addr_parse(c->public_addr, &c->public_addr_a) == -1) {
			snprintf(err, errlen, "%s: PublicAddress: %s: not an "
			    "IP address", path, c->public_addr);
			return -1;
		}
		c->have_public = true;
	}
	return 0;
}

static int
relayd_conf_check(const char *path, struct relayd_conf *c, char *err,
    size_t errlen)
{
	const char	*why;

	if (relayd_addr_check(path, c, err, errlen) == -1 ||
	    relayd_keys_check(path, c, err, errlen) == -1 ||
	    relayd_metrics_check(path, c, err, errlen) == -1)
		return -1;
	if (!control_region_valid(c->region)) {
		snprintf(err, errlen, "%s: Region: %s: 1-32 of a-z, 0-9 and "
		    "'-'", path, c->region);
		return -1;
	}
	if (c->user.uid == (uid_t)-1 &&
	    conf_parse_user(c->user.name, &c->user, &why) == -1) {
		snprintf(err, errlen, "%s: User: %s: %s", path, c->user.name,
		    why);
		return -1;
	}
	return 0;
}

static int
relayd_conf_load(const char *path, struct relayd_conf *c, char *err,
    size_t errlen)
{
	relayd_conf_defaults(c);
	if (conf_load(path, relayd_specs, sizeof(relayd_specs) /
	    sizeof(relayd_specs[0]), c, false, err, errlen) == -1)
		return -1;
	return relayd_conf_check(path, c, err, errlen);
}

/* -g: a new key in a new file of mode 0600; its public key on stdout. */
static int
relayd_keygen(const char *path)
{
	uint8_t	 priv[32];
	char	 pub[RELAYD_B64_MAX], err[CONF_ERR_MAX];

	if (sodium_init() < 0 ||
	    keyfile_create(path, priv, err, sizeof(err)) == -1) {
		fprintf(stderr, "lanrage-relayd: %s\n", err);
		return 1;
	}
	keyfile_pub_b64(priv, pub, sizeof(pub), 0);
	sodium_memzero(priv, sizeof(priv));
	printf("%s\n", pub);
	return 0;
}

uint8_t
relayd_load(struct relayd_ctx *c)
{
	uint64_t	 v = atomic_load(&c->fwd_window) * 255 /
			    c->conf->capacity;

	return v > 255 ? 255 : (uint8_t)v;
}

/* ---- the main loop ---- */

static void
relayd_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct relayd_stats	 st;
	size_t			 gone;

	relayd_stats_sum(&ctx, &st);
	atomic_store(&ctx.fwd_window, st.fwd_packets - fwd_last);
	fwd_last = st.fwd_packets;
	rtab_wrlock(ctx.tab);
	gone = rtab_expire(ctx.tab, clock_mono_ms() / 1000);
	rtab_unlock(ctx.tab);
	if (gone > 0)
		log_debug("%zu bindings expired", gone);
}

static void
relayd_shutdown(int signo, void *arg)
{
	log_info("signal %d: exiting", signo);
	proc_loopexit();
}

static void
relayd_usr1(int signo, void *arg)
{
	relayd_metrics_log(&ctx);
}

static void
relayd_reload(int signo, void *arg)
{
	static struct relayd_conf	 fresh;
	char				 err[CONF_ERR_MAX];

	if (relayd_conf_load(conf_path, &fresh, err, sizeof(err)) == -1)
		log_warnx("reload refused: %s", err);
	else
		log_info("reload: %s is valid; changes take effect on "
		    "restart", conf_path);
}

static void
relayd_setup_events(void)
{
	struct timeval	 tv = { RELAYD_TICK_MS / 1000, 0 };

	if (proc_init() == -1)
		fatalx("event loop");
	if ((tick_ev = event_new(proc_base(), -1, EV_PERSIST, relayd_tick,
	    NULL)) == NULL || event_add(tick_ev, &tv) == -1)
		fatalx("timer");
	if (relayd_metrics_start(&ctx) == -1)
		fatalx("metrics on %s", conf.metrics);
	if (proc_signal(SIGTERM, relayd_shutdown, NULL) == -1 ||
	    proc_signal(SIGINT, relayd_shutdown, NULL) == -1 ||
	    proc_signal(SIGHUP, relayd_reload, NULL) == -1 ||
	    proc_signal(SIGUSR1, relayd_usr1, NULL) == -1)
		fatalx("signal events");
	signal(SIGPIPE, SIG_IGN);
	/* the session resolves and connects now: before the chroot */
	if (relayd_register_start(&ctx) == -1)
		fatal("control session");
}

/*
 * Workers: batches of datagrams, the table's locks, randomness for
 * BOUND nonces.  The main thread: the event loop, the metrics socket,
 * the control session (TCP, name resolution set up before the chroot),
 * logging.  Sanitizer builds go without: their runtimes need more.
 */
#ifndef LR_SANITIZE
static const int relayd_syscalls[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_close,
	__NR_recvmmsg, __NR_sendmmsg, __NR_recvmsg, __NR_sendmsg,
	__NR_recvfrom, __NR_sendto, __NR_poll, __NR_ppoll,
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl,
	__NR_socket, __NR_connect, __NR_accept, __NR_accept4, __NR_bind,
	__NR_getsockopt, __NR_setsockopt, __NR_getsockname, __NR_getpeername,
	__NR_shutdown, __NR_fcntl, __NR_ioctl, __NR_openat, __NR_fstat,
	__NR_newfstatat, __NR_lseek, __NR_mmap, __NR_munmap, __NR_mprotect,
	__NR_mremap, __NR_brk, __NR_madvise, __NR_futex, __NR_getrandom,
	__NR_clock_gettime, __NR_gettimeofday, __NR_time, __NR_nanosleep,
	__NR_clock_nanosleep, __NR_rt_sigaction, __NR_rt_sigprocmask,
	__NR_rt_sigreturn, __NR_getpid, __NR_gettid, __NR_getuid,
	__NR_geteuid, __NR_getgid, __NR_getegid, __NR_uname, __NR_exit,
	__NR_exit_group, __NR_tgkill, __NR_eventfd2, __NR_pipe2,
	__NR_sched_yield, __NR_rseq, __NR_set_robust_list, __NR_clone,
	__NR_clone3,
};
#endif

static bool
relayd_drops_uid(void)
{
	return geteuid() == 0 && conf.user.uid != 0;
}

static void
relayd_sandbox(void)
{
	struct sandbox_profile	 p;

	memset(&p, 0, sizeof(p));
	p.name = "lanrage-relayd";
	p.setid = relayd_drops_uid();
	p.uid = conf.user.uid;
	p.gid = conf.user.gid;
	p.chroot = geteuid() == 0 ? conf.chroot : NULL;
	/* an empty directory, made if the system has none */
	if (p.chroot != NULL && mkdir(p.chroot, 0755) == -1 &&
	    errno != EEXIST)
		fatal("mkdir %s", p.chroot);
#ifndef LR_SANITIZE
	p.syscalls = relayd_syscalls;
	p.nsyscalls = sizeof(relayd_syscalls) / sizeof(relayd_syscalls[0]);
#endif
	if (sandbox_enter(&p) == -1)
		fatal("sandbox");
}

/* One SO_REUSEPORT socket per worker; the kernel spreads sources. */
static void
relayd_sockets(void)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool	 gro = false;
	size_t	 i;

	ctx.nworkers = conf.workers != 0 ? conf.workers : ncpu > 0 ?
	    (size_t)ncpu : 1;
	if (ctx.nworkers > RELAYD_MAX_WORKERS)
		ctx.nworkers = RELAYD_MAX_WORKERS;
	for (i = 0; i < ctx.nworkers; i++) {
		if ((ctx.w[i].fd = relayd_worker_socket(&conf, &gro)) == -1)
			fatal("UDP %s", conf.listen);
		ctx.w[i].gro = gro;
	}
	if (relayd_metrics_listen(&ctx) == -1)
		fatal("metrics %s", conf.metrics);
}

static void
relayd_load_or_exit(void)
{
	char	 err[CONF_ERR_MAX];

	if (relayd_conf_load(conf_path, &conf, err, sizeof(err)) == -1 ||
	    keyfile_load(conf.keyfile, ctx.priv, "lanrage-relayd", err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "lanrage-relayd: %s\n", err);
		exit(1);
	}
	crypto_scalarmult_base(ctx.pub, ctx.priv);
	if (realpath(conf_path, conf_abs) != NULL)
		conf_path = conf_abs;
}

static void
relayd_start(void)
{
	char	 pub[RELAYD_B64_MAX];

	ctx.conf = &conf;
	pthread_mutex_init(&ctx.key_lock, NULL);
	if (conf.have_token_key)
		relayd_set_token_key(&ctx, conf.token_pk);
	if ((ctx.tab = rtab_new(conf.max_bindings, conf.packet_rate)) == NULL)
		fatal("bindings table");
	relayd_sockets();
	relayd_setup_events();
	relayd_sandbox();
	/* threads after the sandbox: they inherit it */
	if (relayd_workers_start(&ctx) == -1)
		fatal("workers");
	keyfile_pub_b64(ctx.priv, pub, sizeof(pub), 0);
	log_info("relaying on %s with %zu workers as uid %u, key %s, region "
	    "%s", conf.listen, ctx.nworkers, (unsigned)geteuid(), pub,
	    conf.region);
}

int
main(int argc, char *argv[])
{
	int	 ch, debug = 0, checkonly = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "df:g:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'g':
			return relayd_keygen(optarg);
		case 'n':
			checkonly = 1;
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
	if (sodium_init() < 0) {
		fprintf(stderr, "lanrage-relayd: libsodium init failed\n");
		return 1;
	}
	relayd_load_or_exit();
	if (checkonly) {
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	log_init("lanrage-relayd", debug, verbose);
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	relayd_start();
	proc_loop();
	relayd_workers_stop(&ctx);
	relayd_register_stop();
	relayd_metrics_free();
	event_free(tick_ev);
	proc_free();
	rtab_free(ctx.tab);
	sodium_memzero(ctx.priv, sizeof(ctx.priv));
	return 0;
}
