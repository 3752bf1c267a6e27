/*
 * netd.conf: the root-owned policy of the privileged helper.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lanrage-netd/netd.h"

#define NETD_SPEC(key, type, field, sz)					\
	{ "Netd", key, type, offsetof(struct netd_conf, field), sz, 0, 0 }

static const struct conf_spec netd_specs[] = {
	NETD_SPEC("User", CONF_USER, user, 0),
	NETD_SPEC("RunAs", CONF_USER, runas, 0),
	NETD_SPEC("InterfacePrefix", CONF_IFNAME, prefix,
	    sizeof(((struct netd_conf *)0)->prefix)),
	NETD_SPEC("OverlaySubnets", CONF_PREFIX_LIST, overlay, 0),
	NETD_SPEC("Ports", CONF_PORT_LIST, ports, 0),
	NETD_SPEC("LanInterface", CONF_IFNAME, lan_if,
	    sizeof(((struct netd_conf *)0)->lan_if)),
};

/* Common LAN discovery ports: see lanrage-netd(8). */
static const struct conf_port_range default_ports[] = {
	{ 1900, 1900 }, { 4445, 4445 }, { 5353, 5353 }, { 6073, 6073 },
	{ 6112, 6112 }, { 7777, 7777 }, { 27015, 27016 },
};

void
netd_conf_defaults(struct netd_conf *c)
{
	size_t	 i;

	memset(c, 0, sizeof(*c));
	snprintf(c->user.name, sizeof(c->user.name), "%s", "_lanrage");
	c->user.uid = (uid_t)-1;
	snprintf(c->runas.name, sizeof(c->runas.name), "%s", "root");
	c->runas.uid = (uid_t)-1;
	snprintf(c->prefix, sizeof(c->prefix), "%s", "lanrage");
	prefix_parse("10.66.0.0/16", &c->overlay.p[0]);
	c->overlay.n = 1;
	for (i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
		c->ports.r[i] = default_ports[i];
	c->ports.n = i;
}

/* The policy file must be as trustworthy as netd itself. */
static int
netd_conf_check_owner(const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not owned by root", path);
		errno = EPERM;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by group or others", path);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* A user name that did not resolve must not silently become uid -1. */
static int
netd_conf_check_users(const char *path, struct netd_conf *c, char *err,
    size_t errlen)
{
	const char	*why;

	if (c->user.uid == (uid_t)-1 &&
	    conf_parse_user(c->user.name, &c->user, &why) == -1) {
		snprintf(err, errlen, "%s: User: %s: %s", path, c->user.name,
		    why);
		return -1;
	}
	if (c->runas.uid == (uid_t)-1 &&
	    conf_parse_user(c->runas.name, &c->runas, &why) == -1) {
		snprintf(err, errlen, "%s: RunAs: %s: %s", path,
		    c->runas.name, why);
		return -1;
	}
	return 0;
}

int
netd_conf_load(const char *path, struct netd_conf *c, char *err,
    size_t errlen)
{
	netd_conf_defaults(c);
	if (netd_conf_check_owner(path, err, errlen) == -1)
		return -1;
	if (conf_load(path, netd_specs, sizeof(netd_specs) /
	    sizeof(netd_specs[0]), c, false, err, errlen) == -1)
		return -1;
	return netd_conf_check_users(path, c, err, errlen);
}
