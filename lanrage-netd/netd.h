/*
 * lanrage-netd: the root-only helper.  It serves exactly one client (the
 * configured user, checked with SO_PEERCRED) over a Unix socket, performs
 * a fixed set of network operations after checking every field against
 * its own policy, and removes everything it created when the client goes
 * away or netd exits.
 */
#ifndef LR_NETD_NETD_H
#define LR_NETD_NETD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/msg.h"
#include "proto/netd.h"

#define NETD_CONF_PATH	LR_SYSCONFDIR "/lanrage/netd.conf"
#define NETD_SOCK_PATH	LR_RUNSTATEDIR "/lanrage/netd.sock"

#define NETD_MAX_LINKS	8
#define NETD_MAX_ADDRS	64
#define NETD_MAX_ROUTES	256

/* netd.conf, section [Netd]. */
struct netd_conf {
	struct conf_user	 user;		/* the client netd serves */
	struct conf_user	 runas;		/* netd's uid after start-up */
	char			 prefix[16];	/* interface name prefix */
	struct conf_prefixes	 overlay;	/* subnets netd may configure */
	struct conf_ports	 ports;		/* capture and inject ports */
	char			 lan_if[16];	/* "" or a LAN inject target */
};

/* config.c */
void	 netd_conf_defaults(struct netd_conf *);
/* Parse path into c (defaults first); -1 with err "file:line: ...". */
int	 netd_conf_load(const char *path, struct netd_conf *c, char *err,
	    size_t errlen);

/* policy.c: pure checks against the configuration. */
bool	 netd_policy_ifname(const struct netd_conf *, const char *);
bool	 netd_policy_addr(const struct netd_conf *, const struct prefix *);
bool	 netd_policy_route(const struct netd_conf *, const struct prefix *);
bool	 netd_policy_ports(const struct netd_conf *, uint16_t lo,
	    uint16_t hi);
bool	 netd_policy_inject_dst(const struct netd_conf *,
	    const struct addr *);
bool	 netd_policy_overlay_addr(const struct netd_conf *,
	    const struct addr *);

/* ledger.c: every kernel object netd made for the current client. */
struct ledger_link {
	unsigned int	 ifindex;
	char		 name[NETD_IFNAMSIZ];
	uint32_t	 flags;		/* NETD_TUN_* */
	bool		 qos;
};

int	 ledger_add_link(unsigned int, const char *, uint32_t flags);
struct ledger_link *ledger_link(unsigned int ifindex);
void	 ledger_forget_link(unsigned int ifindex);
int	 ledger_add_addr(unsigned int, const struct prefix *);
void	 ledger_forget_addr(unsigned int, const struct prefix *);
int	 ledger_add_route(unsigned int, const struct prefix *, uint32_t);
void	 ledger_forget_route(unsigned int, const struct prefix *, uint32_t);
size_t	 ledger_count(void);
/* Remove every recorded object from the kernel, newest first. */
void	 ledger_teardown(void);

/* recv.c */
struct proc_chan;
/* The one dispatcher for frames from lanraged. */
void	 netd_dispatch_lanraged(struct proc_chan *, struct msg *, void *);
/* netd.c: end the client's session (teardown included). */
void	 netd_client_drop(struct proc_chan *, const char *why);
/* Policy in force; replaced on SIGHUP. */
extern struct netd_conf	*netd_policy;

#endif
