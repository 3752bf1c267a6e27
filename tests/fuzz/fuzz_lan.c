/*
 * libFuzzer harness for lib/lan.c: the input is one inner packet as a
 * peer or a local program could hand it to the tunnel.  lan_parse()
 * fails with EINVAL or yields a datagram whose payload lies inside the
 * input and whose lengths agree with the headers; the policy checks and
 * the duplicate table take whatever it yields.
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct lan_dedup		 dedup;
static struct lan_policy	 pol;
static struct lan_port_buckets	 ports;

static void
fuzz_setup(void)
{
	const char	*why;

	if (sodium_init() == -1)
		abort();
	lan_dedup_init(&dedup);
	if (conf_parse_ports("1900, 4445, 5353, 27015-27016", &pol.ports,
	    &why) == -1 || lan_parse_groups("224.0.0.251, 239.255.255.250",
	    pol.groups, &pol.ngroups, &why) == -1)
		abort();
	pol.self = 0x0a420001;
	pol.mask = 0xffff0000;
	pol.net = 0x0a420000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static bool		 ready;
	static uint64_t		 now = 1;
	struct lan_dgram	 d;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	if (lan_parse(data, len, &d) == -1) {
		if (errno != EINVAL)
			abort();
		return 0;
	}
	if (d.payload < data || d.payload + d.plen > data + len ||
	    (size_t)(d.payload - data) < 28)
		abort();
	(void)lan_check_out(&pol, &d);
	(void)lan_check_in(&pol, &d, d.src);
	(void)lan_dedup_seen(&dedup, &d, now++);
	(void)lan_port_take(&ports, d.dport, 100, now);
	return 0;
}
