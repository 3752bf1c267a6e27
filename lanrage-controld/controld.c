/*
 * lanrage-controld: main, controld.conf, the server key, the listening
 * socket and the sandbox around the request handling of ctld.h.  See
 * lanrage-controld(8).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-controld/ctld.h"
#include "lanrage-controld/stund.h"
#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/sandbox.h"
#include "proto/control.h"

#define CONTROLD_CONF_PATH	LR_SYSCONFDIR "/lanrage/controld.conf"
#define CONTROLD_KEY_PATH	LR_SYSCONFDIR "/lanrage/controld.key"
#define CONTROLD_DB_PATH	LR_LOCALSTATEDIR "/lib/lanrage/controld.db"
#define CONTROLD_PATH_MAX	256
#define CONTROLD_B64_MAX	128	/* a key file line, generously */

/* controld.conf, section [Controld]; durations in seconds. */
struct controld_conf {
	char			 listen[LR_SOCKADDR_STRLEN];
	char			 keyfile[CONTROLD_PATH_MAX];
	char			 db[CONTROLD_PATH_MAX];
	struct conf_user	 user;
	unsigned long		 max_conns;
	unsigned long		 heartbeat;
	unsigned long		 idle_timeout;
	unsigned long		 member_timeout;
	unsigned long		 party_grace;
	unsigned long		 rate;
	unsigned long		 burst;
	unsigned long		 invite_ttl_max;
	unsigned long		 stun_port;	/* 0: no responder */
	unsigned long		 stun_alt_port;	/* 0: none */
	char			 stun_addrs[CONF_LINE_MAX];
	unsigned long		 stun_rate;
	bool			 stun_classic;	/* answer RFC 3489 clients */
	unsigned long		 stun_classic_rate;
	char			 relay_keys[CONF_LINE_MAX];
	unsigned long		 relay_report;
	unsigned long		 relay_token_ttl;
	uint8_t			 relay_key[CTLD_MAX_RELAY_KEYS][32];
	size_t			 nrelay_keys;	/* parsed RelayKeys */
	struct sockaddr_storage	 ss;	/* listen, parsed */
	socklen_t		 sslen;
	struct stund_conf	 stun;	/* the Stun keys, checked */
};

#define CONTROLD_FIELDSZ(f)	sizeof(((struct controld_conf *)0)->f)
#define CONTROLD_SPEC(key, type, field, sz, lo, hi)			\
	{ "Controld", key, type, offsetof(struct controld_conf, field),	\
	    sz, lo, hi }

static const struct conf_spec controld_specs[] = {
	CONTROLD_SPEC("Listen", CONF_STRING, listen,
	    CONTROLD_FIELDSZ(listen), 0, 0),
	CONTROLD_SPEC("PrivateKeyFile", CONF_PATH, keyfile,
	    CONTROLD_FIELDSZ(keyfile), 0, 0),
	CONTROLD_SPEC("Database", CONF_PATH, db, CONTROLD_FIELDSZ(db), 0, 0),
	CONTROLD_SPEC("User", CONF_USER, user, 0, 0, 0),
	CONTROLD_SPEC("MaxConnections", CONF_UINT, max_conns, 0, 1, 1000000),
	CONTROLD_SPEC("Heartbeat", CONF_UINT, heartbeat, 0,
	    CONTROL_HEARTBEAT_MIN, CONTROL_HEARTBEAT_MAX),
	CONTROLD_SPEC("IdleTimeout", CONF_UINT, idle_timeout, 0, 2, 86400),
	CONTROLD_SPEC("MemberTimeout", CONF_UINT, member_timeout, 0, 2,
	    86400 * 30),
	CONTROLD_SPEC("PartyGrace", CONF_UINT, party_grace, 0, 0,
	    86400 * 365),
	CONTROLD_SPEC("RateLimit", CONF_UINT, rate, 0, 1, 10000),
	CONTROLD_SPEC("RateBurst", CONF_UINT, burst, 0, 1, 100000),
	CONTROLD_SPEC("InviteMaxTTL", CONF_UINT, invite_ttl_max, 0, 60,
	    86400 * 365),
	CONTROLD_SPEC("StunPort", CONF_UINT, stun_port, 0, 0, 65535),
	CONTROLD_SPEC("StunAltPort", CONF_UINT, stun_alt_port, 0, 0, 65535),
	CONTROLD_SPEC("StunAddress", CONF_STRING, stun_addrs,
	    CONTROLD_FIELDSZ(stun_addrs), 0, 0),
	CONTROLD_SPEC("StunRate", CONF_UINT, stun_rate, 0, 1, 1000000),
	CONTROLD_SPEC("StunClassic", CONF_BOOL, stun_classic, 0, 0, 0),
	CONTROLD_SPEC("StunClassicRate", CONF_UINT, stun_classic_rate, 0, 1,
	    1000000),
	CONTROLD_SPEC("RelayKeys", CONF_STRING, relay_keys,
	    CONTROLD_FIELDSZ(relay_keys), 0, 0),
	CONTROLD_SPEC("RelayReport", CONF_UINT, relay_report, 0,
	    CONTROL_HEARTBEAT_MIN, CONTROL_HEARTBEAT_MAX),
	CONTROLD_SPEC("RelayTokenTTL", CONF_UINT, relay_token_ttl, 0, 60,
	    86400),
};

/* Fixed session bounds: generous for HELLO, tight for everything else. */
#define CONTROLD_FIRST_FRAME	4096
#define CONTROLD_HANDSHAKE_MS	5000
#define CONTROLD_OUT_MAX	(1024 * 1024)
/* Heartbeats are written in small batches: no long stall once a second. */
#define CONTROLD_TICK_MS	100
#define CONTROLD_BACKLOG	128

static struct controld_conf	 conf;
static const char		*conf_path = CONTROLD_CONF_PATH;
static char			 conf_abs[PATH_MAX];
static struct ctld		*ctld;
static struct stund		*stund;

static void
usage(void)
{
	fprintf(stderr, "usage: lanrage-controld [-dnv] [-f config]\n"
	    "       lanrage-controld -g keyfile\n");
	exit(1);
}

static void
controld_conf_defaults(struct controld_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "%s", "0.0.0.0:8667");
	snprintf(c->keyfile, sizeof(c->keyfile), "%s", CONTROLD_KEY_PATH);
	snprintf(c->db, sizeof(c->db), "%s", CONTROLD_DB_PATH);
	snprintf(c->user.name, sizeof(c->user.name), "%s", "_lanrage");
	c->user.uid = (uid_t)-1;
	c->max_conns = 1024;
	c->heartbeat = 15;
	c->idle_timeout = 60;
	c->member_timeout = 90;
	c->party_grace = 3600;
	c->rate = 20;
	c->burst = 40;
	c->invite_ttl_max = 7 * 86400;
	c->stun_port = 3478;
	c->stun_alt_port = 3479;
	c->stun_rate = 1000;
	c->stun_classic = false;
	c->stun_classic_rate = 50;
	c->relay_report = 10;
	c->relay_token_ttl = 3600;
}

/*
 * RFC 3489 answers always carry CHANGED-ADDRESS, the other address and
 * port, and clients classify their NAT by the answers from there: a
 * classic responder needs both, and RFC 3489 knows IPv4 only.
 */
static int
controld_classic_check(const char *path, const struct stund_conf *st,
    char *err, size_t errlen)
{
	if (!st->classic || st->port == 0)
		return 0;
	if (st->naddrs == 2 && st->af == AF_INET && st->alt_port != 0)
		return 0;
	snprintf(err, errlen, "%s: StunClassic: needs two IPv4 StunAddress "
	    "values and a StunAltPort", path);
	return -1;
}

/*
 * StunAddress: none (the wildcard of Listen's family), or one or two
 * addresses of one family; with two, CHANGE-REQUEST may change the IP.
 */
static int
controld_stun_check(const char *path, struct controld_conf *c, char *err,
    size_t errlen)
{
	struct stund_conf	*st = &c->stun;
	struct conf_prefixes	 list;
	const char		*why;
	size_t			 i;

	memset(st, 0, sizeof(*st));
	st->af = c->ss.ss_family;
	st->port = (uint16_t)c->stun_port;
	st->alt_port = (uint16_t)c->stun_alt_port;
	st->rate = (unsigned)c->stun_rate;
	st->classic = c->stun_classic;
	st->classic_rate = (unsigned)c->stun_classic_rate;
	if (st->port != 0 && st->alt_port == st->port) {
		snprintf(err, errlen, "%s: StunAltPort: must differ from "
		    "StunPort", path);
		return -1;
	}
	if (conf_parse_addresses(c->stun_addrs, &list, &why) == -1 ||
	    list.n > STUND_MAX_ADDRS)
		goto bad;
	for (i = 0; i < list.n; i++) {
		if (list.p[i].len != addr_maxlen(list.p[i].addr.af) ||
		    list.p[i].addr.af != list.p[0].addr.af)
			goto bad;
		st->addrs[st->naddrs++] = list.p[i].addr;
		st->af = list.p[i].addr.af;
	}
	return controld_classic_check(path, st, err, errlen);
bad:
	snprintf(err, errlen, "%s: StunAddress: %.64s: one or two IP "
	    "addresses of one family", path, c->stun_addrs);
	return -1;
}

/* RelayKeys: the relays' public keys, separated by commas or blanks. */
static int
controld_relay_keys_check(const char *path, struct controld_conf *c,
    char *err, size_t errlen)
{
	const char	*p = c->relay_keys, *sep = ", \t";
	size_t		 len;

	c->nrelay_keys = 0;
	for (p += strspn(p, sep); *p != '\0'; p += len, p += strspn(p, sep)) {
		len = strcspn(p, sep);
		if (c->nrelay_keys == CTLD_MAX_RELAY_KEYS) {
			snprintf(err, errlen, "%s: RelayKeys: more than %d "
			    "keys", path, CTLD_MAX_RELAY_KEYS);
			return -1;
		}
		if (keyfile_pub_decode(p, len,
		    c->relay_key[c->nrelay_keys]) == -1) {
			snprintf(err, errlen, "%s: RelayKeys: %.*s: not a "
			    "base64 public key", path, (int)(len > 64 ? 64 :
			    len), p);
			return -1;
		}
		c->nrelay_keys++;
	}
	return 0;
}

/* What one key cannot say alone: the address, the user, the ordering. */
static int
controld_conf_check(const char *path, struct controld_conf *c, char *err,
    size_t errlen)
{
	const char	*why;

	if (sockaddr_parse(c->listen, &c->ss, &c->sslen) == -1) {
		snprintf(err, errlen, "%s: Listen: %s: not address:port "
		    "(IPv6 in brackets)", path, c->listen);
		return -1;
	}
	if (c->user.uid == (uid_t)-1 &&
	    conf_parse_user(c->user.name, &c->user, &why) == -1) {
		snprintf(err, errlen, "%s: User: %s: %s", path, c->user.name,
		    why);
		return -1;
	}
	if (c->idle_timeout <= c->heartbeat) {
		snprintf(err, errlen, "%s: IdleTimeout: must exceed Heartbeat "
		    "(%lu s)", path, c->heartbeat);
		return -1;
	}
	if (c->member_timeout <= c->heartbeat) {
		snprintf(err, errlen, "%s: MemberTimeout: must exceed "
		    "Heartbeat (%lu s)", path, c->heartbeat);
		return -1;
	}
	if (controld_relay_keys_check(path, c, err, errlen) == -1)
		return -1;
	return controld_stun_check(path, c, err, errlen);
}

/* Parse path into c (defaults first); -1 with err "file:line: ...". */
static int
controld_conf_load(const char *path, struct controld_conf *c, char *err,
    size_t errlen)
{
	controld_conf_defaults(c);
	if (conf_load(path, controld_specs, sizeof(controld_specs) /
	    sizeof(controld_specs[0]), c, false, err, errlen) == -1)
		return -1;
	return controld_conf_check(path, c, err, errlen);
}

static void
controld_limits(const struct controld_conf *c, struct ctld_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->csrv.max_conns = c->max_conns;
	l->csrv.first_frame = CONTROLD_FIRST_FRAME;
	l->csrv.handshake_ms = CONTROLD_HANDSHAKE_MS;
	l->csrv.idle_ms = (int)c->idle_timeout * 1000;
	l->csrv.out_max = CONTROLD_OUT_MAX;
	l->heartbeat = (uint16_t)c->heartbeat;
	l->member_timeout = (int64_t)c->member_timeout;
	l->party_grace = (int64_t)c->party_grace;
	l->tick_ms = CONTROLD_TICK_MS;
	l->rate = (unsigned)c->rate;
	l->burst = (unsigned)c->burst;
	l->invite_ttl_max = (uint32_t)c->invite_ttl_max;
	l->relay_keys = c->relay_key;
	l->nrelay_keys = c->nrelay_keys;
	l->relay_report = (uint16_t)c->relay_report;
	l->relay_token_ttl = (uint32_t)c->relay_token_ttl;
}

/* ---- the server key ---- */

/* -g: a new key in a new file of mode 0600; its public key on stdout. */
static int
controld_keygen(const char *path)
{
	uint8_t	 priv[32];
	char	 pub[CONTROLD_B64_MAX], err[CONF_ERR_MAX];

	if (sodium_init() < 0) {
		fprintf(stderr, "lanrage-controld: libsodium init failed\n");
		return 1;
	}
	if (keyfile_create(path, priv, err, sizeof(err)) == -1) {
		fprintf(stderr, "lanrage-controld: %s\n", err);
		return 1;
	}
	/* the form of invite links: unpadded base64url */
	keyfile_pub_b64(priv, pub, sizeof(pub), 1);
	sodium_memzero(priv, sizeof(priv));
	printf("%s\n", pub);
	return 0;
}

/* ---- start-up ---- */

static int
controld_listen(const struct controld_conf *c)
{
	int	 fd, on = 1;

	fd = socket(c->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		fatal("SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&c->ss, c->sslen) == -1)
		fatal("bind %s", c->listen);
	if (listen(fd, CONTROLD_BACKLOG) == -1)
		fatal("listen %s", c->listen);
	return fd;
}

/* Root about to become User: the registry must stay writable by it. */
static bool
controld_drops_uid(void)
{
	return geteuid() == 0 && conf.user.uid != 0;
}

static void
controld_db_chown(const char *path)
{
	static const char	*const sfx[] = { "", "-wal", "-shm",
				    "-journal" };
	char			 p[CONTROLD_PATH_MAX + 16];
	size_t			 i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (chown(p, conf.user.uid, conf.user.gid) == -1 &&
		    errno != ENOENT)
			fatal("chown %s", p);
	}
}

/* A missing state directory is made for User; an existing one is kept. */
static void
controld_db_prepare(const char *path)
{
	char	 dir[CONTROLD_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, 0750) == 0) {
		if (controld_drops_uid() &&
		    chown(dir, conf.user.uid, conf.user.gid) == -1)
			fatal("chown %s", dir);
	} else if (errno != EEXIST)
		fatal("mkdir %s", dir);
	if (controld_drops_uid())
		controld_db_chown(path);
}

/*
 * After start-up: the event loop, TCP sessions, the registry (SQLite in
 * WAL mode: positioned I/O, fsync, locks, shared memory, unlinking its
 * journal), memory, time, logging (syslog), re-reading the config.
 * Sanitizer builds go without: their runtimes need more.
 */
#ifndef LR_SANITIZE
static const int controld_syscalls[] = {
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_close,
	__NR_openat, __NR_newfstatat, __NR_fstat, __NR_lseek, __NR_pread64,
	__NR_pwrite64, __NR_fsync, __NR_fdatasync, __NR_ftruncate,
	__NR_fallocate, __NR_unlink, __NR_unlinkat, __NR_readlink,
	__NR_readlinkat, __NR_getcwd, __NR_fchown, __NR_fchmod, __NR_flock,
	__NR_fcntl, __NR_ioctl, __NR_access, __NR_faccessat, __NR_faccessat2,
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_brk,
	__NR_madvise, __NR_futex, __NR_getrandom, __NR_clock_gettime,
	__NR_gettimeofday, __NR_time, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_poll,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_socket, __NR_connect, __NR_accept, __NR_accept4,
	__NR_getsockopt, __NR_setsockopt, __NR_getsockname, __NR_getpeername,
	__NR_shutdown, __NR_sendmsg, __NR_recvmsg, __NR_sendto,
	__NR_recvfrom, __NR_dup, __NR_getpid, __NR_gettid, __NR_getuid,
	__NR_geteuid, __NR_getgid, __NR_getegid, __NR_uname, __NR_exit,
	__NR_exit_group, __NR_tgkill,
};
#endif

/* No capability is kept: port 8667 needs none, and the socket is open. */
static void
controld_sandbox(void)
{
	struct sandbox_profile	 p;

	memset(&p, 0, sizeof(p));
	p.name = "lanrage-controld";
	p.setid = controld_drops_uid();
	p.uid = conf.user.uid;
	p.gid = conf.user.gid;
#ifndef LR_SANITIZE
	p.syscalls = controld_syscalls;
	p.nsyscalls = sizeof(controld_syscalls) / sizeof(controld_syscalls[0]);
#endif
	if (sandbox_enter(&p) == -1)
		fatal("sandbox");
}

static void
controld_shutdown(int signo, void *arg)
{
	log_info("signal %d: exiting", signo);
	ctld_free(ctld);
	ctld = NULL;
	stund_free(stund);
	stund = NULL;
	proc_loopexit();
}

/* Nothing applies on the fly: a valid new file waits for a restart. */
static void
controld_reload(int signo, void *arg)
{
	static struct controld_conf	 fresh;
	char				 err[CONF_ERR_MAX];

	if (controld_conf_load(conf_path, &fresh, err, sizeof(err)) == -1) {
		log_warnx("reload refused: %s", err);
		return;
	}
	log_info("reload: %s is valid; changes take effect on restart",
	    conf_path);
}

static void
controld_setup_events(int lfd, const uint8_t priv[32])
{
	struct ctld_limits	 lim;

	if (proc_init() == -1)
		fatalx("event loop");
	controld_limits(&conf, &lim);
	controld_db_prepare(conf.db);
	if ((ctld = ctld_new(proc_base(), lfd, priv, conf.db, &lim)) == NULL)
		fatal("registry %s", conf.db);
	if (controld_drops_uid())
		controld_db_chown(conf.db);
	if (stund != NULL && stund_start(stund, proc_base()) == -1)
		fatal("STUN events");
	if (proc_signal(SIGTERM, controld_shutdown, NULL) == -1 ||
	    proc_signal(SIGINT, controld_shutdown, NULL) == -1 ||
	    proc_signal(SIGHUP, controld_reload, NULL) == -1)
		fatalx("signal events");
	signal(SIGPIPE, SIG_IGN);
}

static void
controld_load_or_exit(uint8_t priv[32])
{
	char	 err[CONF_ERR_MAX];

	if (controld_conf_load(conf_path, &conf, err, sizeof(err)) == -1 ||
	    keyfile_load(conf.keyfile, priv, "lanrage-controld", err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "lanrage-controld: %s\n", err);
		exit(1);
	}
	/* daemon() changes directory; SIGHUP must find the same file. */
	if (realpath(conf_path, conf_abs) != NULL)
		conf_path = conf_abs;
}

int
main(int argc, char *argv[])
{
	uint8_t		 priv[32];
	char		 pub[CONTROLD_B64_MAX];
	int		 ch, debug = 0, checkonly = 0, verbose = 0, lfd;

	while ((ch = getopt(argc, argv, "df:g:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'g':
			return controld_keygen(optarg);
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
		fprintf(stderr, "lanrage-controld: libsodium init failed\n");
		return 1;
	}
	controld_load_or_exit(priv);
	if (checkonly) {
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	log_init("lanrage-controld", debug, verbose);
	lfd = controld_listen(&conf);
	if (conf.stun.port != 0 && (stund = stund_new(&conf.stun)) == NULL)
		fatal("STUN responder on UDP port %u", conf.stun.port);
	if (!debug && daemon(0, 0) == -1)
		fatal("daemon");
	/* The event base and the registry come after the fork. */
	controld_setup_events(lfd, priv);
	keyfile_pub_b64(priv, pub, sizeof(pub), 1);
	sodium_memzero(priv, sizeof(priv));
	controld_sandbox();
	log_info("listening on %s as uid %u, public key %s", conf.listen,
	    (unsigned)geteuid(), pub);
	proc_loop();
	ctld_free(ctld);
	stund_free(stund);
	proc_free();
	return 0;
}
