/* Unit tests for lib/wg/allowedips.c. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wg/allowedips.h"

static char			 peers[16];
#define P(i)			 ((void *)&peers[i])

static struct wg_allowedips	 t;

static void
setup(void)
{
	wg_allowedips_init(&t);
}

static void
teardown(void)
{
	wg_allowedips_free(&t);
}

static int
addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

static int
ins(const char *s, int cidr, void *peer)
{
	uint8_t		 a[16];
	int		 af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, s, a), 1);
	return wg_allowedips_insert(&t, af, a, cidr, peer);
}

static int
rem(const char *s, int cidr, void *peer)
{
	uint8_t		 a[16];
	int		 af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, s, a), 1);
	return wg_allowedips_remove(&t, af, a, cidr, peer);
}

static void *
look(const char *s)
{
	uint8_t		 a[16];
	int		 af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, s, a), 1);
	return wg_allowedips_lookup(&t, af, a);
}

START_TEST(empty)
{
	ck_assert_ptr_null(look("1.2.3.4"));
	ck_assert_ptr_null(look("::1"));
	ck_assert_uint_eq(wg_allowedips_count(&t), 0);
	ck_assert_int_eq(rem("1.2.3.4", 32, P(1)), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(v4_lpm)
{
	ck_assert_int_eq(ins("0.0.0.0", 0, P(0)), 0);
	ck_assert_int_eq(ins("10.0.0.0", 8, P(1)), 0);
	ck_assert_int_eq(ins("10.1.0.0", 16, P(2)), 0);
	ck_assert_int_eq(ins("10.1.2.0", 24, P(3)), 0);
	ck_assert_int_eq(ins("10.1.2.3", 32, P(4)), 0);
	ck_assert_int_eq(ins("10.128.0.0", 9, P(5)), 0);
	ck_assert_int_eq(ins("192.168.1.0", 24, P(6)), 0);
	ck_assert_uint_eq(wg_allowedips_count(&t), 7);

	ck_assert_ptr_eq(look("8.8.8.8"), P(0));
	ck_assert_ptr_eq(look("10.0.0.1"), P(1));
	ck_assert_ptr_eq(look("10.127.255.255"), P(1));
	ck_assert_ptr_eq(look("10.128.0.0"), P(5));
	ck_assert_ptr_eq(look("10.255.255.255"), P(5));
	ck_assert_ptr_eq(look("10.1.3.0"), P(2));
	ck_assert_ptr_eq(look("10.1.2.2"), P(3));
	ck_assert_ptr_eq(look("10.1.2.3"), P(4));
	ck_assert_ptr_eq(look("10.1.2.4"), P(3));
	ck_assert_ptr_eq(look("192.168.1.77"), P(6));
	ck_assert_ptr_eq(look("192.168.2.1"), P(0));
	ck_assert_ptr_null(look("::"));
}
END_TEST

START_TEST(v6_lpm)
{
	ck_assert_int_eq(ins("::", 0, P(0)), 0);
	ck_assert_int_eq(ins("fd00::", 8, P(1)), 0);
	ck_assert_int_eq(ins("fd00:1::", 32, P(2)), 0);
	ck_assert_int_eq(ins("fd00:1::1", 128, P(3)), 0);
	ck_assert_int_eq(ins("fd00:1:0:0:8000::", 65, P(4)), 0);
	ck_assert_int_eq(ins("fd00:1::", 64, P(5)), 0);

	ck_assert_ptr_eq(look("2001:db8::1"), P(0));
	ck_assert_ptr_eq(look("fdff::1"), P(1));
	ck_assert_ptr_eq(look("fd00:1:2::"), P(2));
	ck_assert_ptr_eq(look("fd00:1::1"), P(3));
	ck_assert_ptr_eq(look("fd00:1::2"), P(5));
	ck_assert_ptr_eq(look("fd00:1::7fff:0:0:1"), P(5));
	ck_assert_ptr_eq(look("fd00:1::8000:0:0:1"), P(4));
	ck_assert_ptr_eq(look("fd00:1::ffff:ffff:ffff:ffff"), P(4));
	ck_assert_ptr_null(look("1.2.3.4"));
}
END_TEST

START_TEST(host_bits_masked)
{
	uint8_t		 a[4];

	ck_assert_int_eq(ins("10.1.2.3", 8, P(1)), 0);
	ck_assert_ptr_eq(look("10.200.0.0"), P(1));
	/* The same prefix spelled with other host bits is the same one. */
	ck_assert_int_eq(ins("10.9.9.9", 8, P(2)), 0);
	ck_assert_uint_eq(wg_allowedips_count(&t), 1);
	ck_assert_ptr_eq(look("10.0.0.0"), P(2));
	ck_assert_int_eq(rem("10.255.0.1", 8, P(2)), 0);
	ck_assert_ptr_null(look("10.0.0.0"));

	ck_assert_int_eq(ins("fd12:3456::1", 16, P(3)), 0);
	ck_assert_ptr_eq(look("fd12::"), P(3));
	memset(a, 0xff, sizeof(a));
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET, a, 0, P(4)), 0);
	ck_assert_ptr_eq(look("0.0.0.1"), P(4));
}
END_TEST

START_TEST(replace_owner)
{
	ck_assert_int_eq(ins("10.0.0.0", 24, P(1)), 0);
	ck_assert_int_eq(ins("10.0.0.0", 24, P(2)), 0);
	ck_assert_uint_eq(wg_allowedips_count(&t), 1);
	ck_assert_ptr_eq(look("10.0.0.9"), P(2));
	/* The old owner no longer holds it. */
	ck_assert_int_eq(rem("10.0.0.0", 24, P(1)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_eq(look("10.0.0.9"), P(2));
}
END_TEST

START_TEST(remove_exact)
{
	ck_assert_int_eq(ins("10.0.0.0", 8, P(1)), 0);
	ck_assert_int_eq(ins("10.1.0.0", 16, P(2)), 0);
	ck_assert_int_eq(ins("10.2.0.0", 16, P(3)), 0);

	/* Not exact, or not the owner. */
	ck_assert_int_eq(rem("10.0.0.0", 9, P(1)), -1);
	ck_assert_int_eq(rem("10.1.0.0", 17, P(2)), -1);
	ck_assert_int_eq(rem("10.1.0.0", 15, P(2)), -1);
	ck_assert_int_eq(rem("10.1.0.0", 16, P(3)), -1);
	ck_assert_int_eq(rem("11.0.0.0", 8, P(1)), -1);
	ck_assert_uint_eq(wg_allowedips_count(&t), 3);

	/* An inner node with two children stays as a fork. */
	ck_assert_int_eq(rem("10.0.0.0", 8, P(1)), 0);
	ck_assert_ptr_null(look("10.3.0.0"));
	ck_assert_ptr_eq(look("10.1.9.9"), P(2));
	ck_assert_ptr_eq(look("10.2.9.9"), P(3));
	ck_assert_int_eq(rem("10.0.0.0", 8, P(1)), -1);
	/* A fork can become an owner again. */
	ck_assert_int_eq(ins("10.0.0.0", 14, P(4)), 0);
	ck_assert_ptr_eq(look("10.3.0.0"), P(4));
	ck_assert_int_eq(rem("10.1.0.0", 16, P(2)), 0);
	ck_assert_ptr_eq(look("10.1.9.9"), P(4));
	ck_assert_int_eq(rem("10.2.0.0", 16, P(3)), 0);
	ck_assert_int_eq(rem("10.0.0.0", 14, P(4)), 0);
	ck_assert_uint_eq(wg_allowedips_count(&t), 0);
	ck_assert_ptr_null(t.root4);
}
END_TEST

START_TEST(remove_peer)
{
	ck_assert_int_eq(ins("0.0.0.0", 0, P(1)), 0);
	ck_assert_int_eq(ins("10.0.0.0", 8, P(2)), 0);
	ck_assert_int_eq(ins("10.1.0.0", 16, P(1)), 0);
	ck_assert_int_eq(ins("10.1.1.0", 24, P(2)), 0);
	ck_assert_int_eq(ins("fd00::", 8, P(1)), 0);
	ck_assert_int_eq(ins("fd00::1", 128, P(2)), 0);

	wg_allowedips_remove_peer(&t, P(1));
	ck_assert_uint_eq(wg_allowedips_count(&t), 3);
	ck_assert_ptr_null(look("8.8.8.8"));
	ck_assert_ptr_eq(look("10.1.0.1"), P(2));
	ck_assert_ptr_eq(look("10.1.1.1"), P(2));
	ck_assert_ptr_null(look("fd00::2"));
	ck_assert_ptr_eq(look("fd00::1"), P(2));

	wg_allowedips_remove_peer(&t, P(3));
	ck_assert_uint_eq(wg_allowedips_count(&t), 3);
	wg_allowedips_remove_peer(&t, P(2));
	ck_assert_uint_eq(wg_allowedips_count(&t), 0);
	ck_assert_ptr_null(t.root4);
	ck_assert_ptr_null(t.root6);
}
END_TEST

START_TEST(families_apart)
{
	uint8_t		 a[16];

	/* ::/0 must not answer for IPv4, nor 0.0.0.0/0 for IPv6. */
	ck_assert_int_eq(ins("::", 0, P(6)), 0);
	ck_assert_ptr_null(look("1.2.3.4"));
	ck_assert_int_eq(ins("0.0.0.0", 0, P(4)), 0);
	ck_assert_ptr_eq(look("1.2.3.4"), P(4));
	ck_assert_ptr_eq(look("::ffff:1.2.3.4"), P(6));
	ck_assert_int_eq(rem("0.0.0.0", 0, P(6)), -1);
	ck_assert_int_eq(rem("::", 0, P(4)), -1);

	memset(a, 0, sizeof(a));
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_UNIX, a, 0, P(1)), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	ck_assert_ptr_null(wg_allowedips_lookup(&t, AF_UNIX, a));
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET, a, 33, P(1)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET6, a, 129, P(1)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET, a, 8, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(wg_allowedips_count(&t), 2);
}
END_TEST

START_TEST(full_table)
{
	uint8_t		 a[16];
	uint32_t	 i, v;

	for (i = 0; i < WG_ALLOWEDIPS_MAX; i++) {
		v = htonl(0x0a000000 | i);
		memcpy(a, &v, 4);
		ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET, a, 32,
		    P(i % 16)), 0);
	}
	ck_assert_uint_eq(wg_allowedips_count(&t), WG_ALLOWEDIPS_MAX);
	memset(a, 0, sizeof(a));
	ck_assert_int_eq(wg_allowedips_insert(&t, AF_INET6, a, 0, P(1)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_null(t.root6);
	/* Replacing an owner adds no entry; owning a fork node does. */
	ck_assert_int_eq(ins("10.0.0.5", 32, P(9)), 0);
	ck_assert_int_eq(ins("10.0.0.0", 24, P(9)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_eq(look("10.0.0.5"), P(9));
	ck_assert_ptr_eq(look("10.0.255.255"), P(15));
	ck_assert_int_eq(rem("10.0.0.7", 32, P(7)), 0);
	ck_assert_int_eq(ins("fd00::", 8, P(1)), 0);
	ck_assert_ptr_eq(look("fd00::1"), P(1));
}
END_TEST

struct collected {
	int		 n;
	int		 af[8];
	uint8_t		 addr[8][16];
	uint8_t		 cidr[8];
	int		 stop_at;
};

static int
collect(void *arg, int af, const uint8_t *addr, uint8_t cidr)
{
	struct collected	*c = arg;

	ck_assert_int_lt(c->n, 8);
	c->af[c->n] = af;
	memcpy(c->addr[c->n], addr, addr_len(af));
	c->cidr[c->n] = cidr;
	if (++c->n == c->stop_at)
		return 42;
	return 0;
}

static void
assert_entry(const struct collected *c, int i, const char *s, int cidr)
{
	char	 buf[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(inet_ntop(c->af[i], c->addr[i], buf,
	    sizeof(buf)));
	ck_assert_str_eq(buf, s);
	ck_assert_int_eq(c->cidr[i], cidr);
}

START_TEST(foreach_peer)
{
	struct collected	 c;

	ck_assert_int_eq(ins("fd00::1", 128, P(1)), 0);
	ck_assert_int_eq(ins("10.1.2.3", 16, P(1)), 0);
	ck_assert_int_eq(ins("10.0.0.0", 8, P(1)), 0);
	ck_assert_int_eq(ins("10.1.3.0", 24, P(2)), 0);
	ck_assert_int_eq(ins("192.168.0.1", 32, P(1)), 0);
	ck_assert_int_eq(ins("0.0.0.0", 0, P(2)), 0);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(wg_allowedips_foreach_peer(&t, P(1), collect, &c), 0);
	ck_assert_int_eq(c.n, 4);
	assert_entry(&c, 0, "10.0.0.0", 8);
	assert_entry(&c, 1, "10.1.0.0", 16);
	assert_entry(&c, 2, "192.168.0.1", 32);
	assert_entry(&c, 3, "fd00::1", 128);

	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(wg_allowedips_foreach_peer(&t, P(1), collect, &c),
	    42);
	ck_assert_int_eq(c.n, 2);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(wg_allowedips_foreach_peer(&t, P(3), collect, &c), 0);
	ck_assert_int_eq(c.n, 0);
}
END_TEST

/* splitmix64: reproducible across libcs. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t	 z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The naive reference: an unordered list of prefixes, scanned fully. */
struct ref {
	int		 af;
	uint8_t		 addr[16];
	uint8_t		 cidr;
	void		*peer;
};

#define REF_MAX		8192
static struct ref	 refs[REF_MAX];
static int		 nrefs;
static int		 hits, misses;

static bool
prefix_has(const uint8_t *prefix, int cidr, const uint8_t *addr)
{
	if (memcmp(prefix, addr, cidr / 8) != 0)
		return false;
	if (cidr % 8 == 0)
		return true;
	return ((prefix[cidr / 8] ^ addr[cidr / 8]) &
	    (0xff00 >> (cidr % 8))) == 0;
}

static void
mask_addr(uint8_t *a, int af, int cidr)
{
	int	 i;

	for (i = cidr; i < addr_len(af) * 8; i++)
		a[i / 8] &= ~(0x80 >> (i % 8));
}

static int
ref_find(int af, const uint8_t *a, int cidr)
{
	int	 i;

	for (i = 0; i < nrefs; i++)
		if (refs[i].af == af && refs[i].cidr == cidr &&
		    memcmp(refs[i].addr, a, addr_len(af)) == 0)
			return i;
	return -1;
}

static void *
ref_lookup(int af, const uint8_t *a)
{
	void	*best = NULL;
	int	 i, bestlen = -1;

	for (i = 0; i < nrefs; i++)
		if (refs[i].af == af && refs[i].cidr > bestlen &&
		    prefix_has(refs[i].addr, refs[i].cidr, a)) {
			best = refs[i].peer;
			bestlen = refs[i].cidr;
		}
	return best;
}

static void
ref_drop(int i)
{
	refs[i] = refs[--nrefs];
}

/* Clustered addresses so that prefixes nest and share long runs. */
static int
random_addr(uint64_t *s, uint8_t *a)
{
	static const uint8_t	 base6[16] = { 0xfd, 0x00, 0x12, 0x34 };
	int			 af, i;

	af = rnd(s) % 2 ? AF_INET : AF_INET6;
	if (af == AF_INET) {
		a[0] = 10;
		for (i = 1; i < 4; i++)
			a[i] = rnd(s) % 4 == 0 ? rnd(s) : (rnd(s) & 3);
	} else {
		memcpy(a, base6, 16);
		for (i = 4; i < 16; i++)
			a[i] = rnd(s) % 8 == 0 ? rnd(s) : (rnd(s) & 1);
		if (rnd(s) % 16 == 0)
			a[0] = rnd(s);
	}
	if (rnd(s) % 32 == 0)
		a[0] = rnd(s);
	return af;
}

/* Inside a known prefix, or just past its last bit. */
static int
near_prefix(uint64_t *s, uint8_t *a)
{
	const struct ref	*r = &refs[rnd(s) % nrefs];

	memcpy(a, r->addr, 16);
	a[addr_len(r->af) - 1] ^= rnd(s) & 0xff;
	if (r->cidr > 0 && rnd(s) % 4 == 0)
		a[(r->cidr - 1) / 8] ^= 0x80 >> ((r->cidr - 1) % 8);
	return r->af;
}

static void
compare_lookups(uint64_t *s, int n)
{
	uint8_t		 a[16];
	void		*peer;
	int		 i, af;

	for (i = 0; i < n; i++) {
		if (nrefs > 0 && rnd(s) % 2)
			af = near_prefix(s, a);
		else
			af = random_addr(s, a);
		peer = ref_lookup(af, a);
		/* Plain test: a passing ck_assert costs a pipe write. */
		if (wg_allowedips_lookup(&t, af, a) != peer)
			ck_abort_msg("lookup %d differs from the reference", i);
		if (peer != NULL)
			hits++;
		else
			misses++;
	}
}

struct tally {
	int	 n;
	void	*peer;
};

static int
tally_cb(void *arg, int af, const uint8_t *addr, uint8_t cidr)
{
	struct tally	*ty = arg;
	int		 i;

	i = ref_find(af, addr, cidr);
	ck_assert_int_ge(i, 0);
	ck_assert_ptr_eq(refs[i].peer, ty->peer);
	ty->n++;
	return 0;
}

static void
compare_foreach(void)
{
	struct tally	 ty;
	int		 p, i, want;

	for (p = 0; p < 16; p++) {
		ty.n = 0;
		ty.peer = P(p);
		ck_assert_int_eq(wg_allowedips_foreach_peer(&t, P(p),
		    tally_cb, &ty), 0);
		for (want = 0, i = 0; i < nrefs; i++)
			want += refs[i].peer == P(p);
		ck_assert_int_eq(ty.n, want);
	}
	ck_assert_uint_eq(wg_allowedips_count(&t), nrefs);
}

static void
random_insert(uint64_t *s)
{
	uint8_t		 a[16];
	int		 af, bits, cidr, i;
	void		*peer = P(rnd(s) % 16);

	af = random_addr(s, a);
	bits = addr_len(af) * 8;
	/* Short prefixes are rare, or they would answer every lookup. */
	if (rnd(s) % 64 == 0)
		cidr = rnd(s) % (bits + 1);
	else
		cidr = bits / 4 + rnd(s) % (bits - bits / 4 + 1);
	ck_assert_int_eq(wg_allowedips_insert(&t, af, a, cidr, peer), 0);
	mask_addr(a, af, cidr);
	if ((i = ref_find(af, a, cidr)) >= 0) {
		refs[i].peer = peer;
		return;
	}
	ck_assert_int_lt(nrefs, REF_MAX);
	refs[nrefs].af = af;
	memset(refs[nrefs].addr, 0, 16);
	memcpy(refs[nrefs].addr, a, addr_len(af));
	refs[nrefs].cidr = cidr;
	refs[nrefs++].peer = peer;
}

static void
random_remove(uint64_t *s)
{
	struct ref	 r;
	int		 i;

	if (nrefs == 0)
		return;
	i = rnd(s) % nrefs;
	r = refs[i];
	if (rnd(s) % 4 == 0) {
		/* Wrong owner: refused, nothing changes. */
		ck_assert_int_eq(wg_allowedips_remove(&t, r.af, r.addr,
		    r.cidr, (char *)r.peer + 1), -1);
		return;
	}
	ck_assert_int_eq(wg_allowedips_remove(&t, r.af, r.addr, r.cidr,
	    r.peer), 0);
	ref_drop(i);
	ck_assert_int_eq(wg_allowedips_remove(&t, r.af, r.addr, r.cidr,
	    r.peer), -1);
}

static void
random_remove_peer(uint64_t *s)
{
	void	*peer = P(rnd(s) % 16);
	int	 i;

	wg_allowedips_remove_peer(&t, peer);
	for (i = 0; i < nrefs; )
		if (refs[i].peer == peer)
			ref_drop(i);
		else
			i++;
}

START_TEST(random_vs_linear)
{
	uint64_t	 s = 0x1a2b3c4d;
	int		 round, i;

	nrefs = hits = misses = 0;
	for (round = 0; round < 12; round++) {
		for (i = 0; i < 500; i++)
			random_insert(&s);
		compare_lookups(&s, 3000);
		compare_foreach();
		for (i = 0; i < 150; i++)
			random_remove(&s);
		compare_lookups(&s, 3000);
		if (round % 3 == 2)
			random_remove_peer(&s);
		compare_lookups(&s, 3000);
		compare_foreach();
	}
	/* The walk must have exercised both answers and real nesting. */
	ck_assert_int_gt(nrefs, 1000);
	ck_assert_int_gt(hits, 20000);
	ck_assert_int_gt(misses, 2000);
	while (nrefs > 0)
		random_remove(&s);
	ck_assert_ptr_null(t.root4);
	ck_assert_ptr_null(t.root6);
}
END_TEST

static Suite *
allowedips_suite(void)
{
	Suite	*s = suite_create("allowedips");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, v4_lpm);
	tcase_add_test(tc, v6_lpm);
	tcase_add_test(tc, host_bits_masked);
	tcase_add_test(tc, replace_owner);
	tcase_add_test(tc, remove_exact);
	tcase_add_test(tc, remove_peer);
	tcase_add_test(tc, families_apart);
	tcase_add_test(tc, full_table);
	tcase_add_test(tc, foreach_peer);
	tcase_add_test(tc, random_vs_linear);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(allowedips_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
