/*
 * libFuzzer harness for lib/conf: the whole-file parser over a spec table
 * with every value type and a top-level section, then the typed value
 * parsers on the same bytes as a string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fconf {
	unsigned long		 verbose;
	char			 ifname[16];
	unsigned long		 port;
	bool			 on;
	char			 path[32];
	char			 descr[8];
	struct conf_user	 user;
	struct conf_prefixes	 nets;
	struct conf_ports	 ports;
};

#define F(m)	offsetof(struct fconf, m)
#define S(m)	sizeof(((struct fconf *)0)->m)

static const struct conf_spec specs[] = {
	{ "", "Verbose", CONF_UINT, F(verbose), 0, 0, 3 },
	{ "Interface", "Name", CONF_IFNAME, F(ifname), S(ifname), 0, 0 },
	{ "Interface", "Port", CONF_UINT, F(port), 0, 1, 65535 },
	{ "Interface", "On", CONF_BOOL, F(on), 0, 0, 0 },
	{ "Interface", "Path", CONF_PATH, F(path), S(path), 0, 0 },
	{ "Interface", "User", CONF_USER, F(user), 0, 0, 0 },
	{ "Party", "Descr", CONF_STRING, F(descr), S(descr), 0, 0 },
	{ "Party", "Nets", CONF_PREFIX_LIST, F(nets), 0, 0, 0 },
	{ "Party", "Ports", CONF_PORT_LIST, F(ports), 0, 0, 0 },
};

static void
fuzz_values(const char *s)
{
	struct conf_prefixes	 nets;
	struct conf_ports	 ports;
	unsigned long		 v;
	const char		*why;
	bool			 b;

	(void)conf_parse_bool(s, &b, &why);
	(void)conf_parse_uint(s, 1, 65535, &v, &why);
	(void)conf_parse_prefixes(s, &nets, &why);
	(void)conf_parse_ports(s, &ports, &why);
	(void)conf_ifname_valid(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fconf	 c;
	char		 err[CONF_ERR_MAX], *s;

	memset(&c, 0, sizeof(c));
	c.port = 51820;
	(void)conf_load_buf("fuzz.conf", (const char *)data, size, specs,
	    sizeof(specs) / sizeof(specs[0]), &c, err, sizeof(err));
	if (size <= CONF_LINE_MAX && (s = malloc(size + 1)) != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
		fuzz_values(s);
		free(s);
	}
	return 0;
}
