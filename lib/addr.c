/*
 * Addresses, prefixes and socket addresses.  The parsers take text from
 * config files and peers, so they accept exactly one spelling of each
 * number and nothing around it.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"

/*
 * Decimal without sign, spaces or leading zeros, at most max.  The digit
 * count bounds the value before it can overflow.
 */
static int
addr_parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned	 v = 0;
	size_t		 i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		goto bad;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			goto bad;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Parse the first n bytes of s as an address. */
static int
addr_parse_n(const char *s, size_t n, struct addr *a)
{
	char	 tmp[LR_ADDR_STRLEN];

	if (n >= sizeof(tmp)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return addr_parse(tmp, a);
}

int
addr_parse(const char *s, struct addr *a)
{
	struct addr	 tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(tmp.af, s, tmp.bytes) != 1) {
		errno = EINVAL;
		return -1;
	}
	*a = tmp;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *p)
{
	struct prefix	 tmp;
	const char	*slash;
	unsigned	 len;

	memset(&tmp, 0, sizeof(tmp));
	if ((slash = strchr(s, '/')) == NULL) {
		if (addr_parse(s, &tmp.addr) == -1)
			return -1;
		tmp.len = addr_maxlen(tmp.addr.af);
	} else {
		if (addr_parse_n(s, slash - s, &tmp.addr) == -1 ||
		    addr_parse_uint(slash + 1, addr_maxlen(tmp.addr.af),
		    &len) == -1)
			return -1;
		tmp.len = len;
	}
	*p = tmp;
	return 0;
}

int
sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *slen)
{
	struct addr	 a;
	const char	*colon;
	unsigned	 port;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL ||
		    addr_parse_n(s + 1, colon - s - 1, &a) == -1 ||
		    a.af != AF_INET6)
			goto bad;
		colon++;
	} else {
		/* A bare IPv6 address is ambiguous with a port: require []. */
		if ((colon = strchr(s, ':')) == NULL ||
		    addr_parse_n(s, colon - s, &a) == -1 ||
		    a.af != AF_INET)
			goto bad;
	}
	if (addr_parse_uint(colon + 1, 65535, &port) == -1)
		goto bad;
	*slen = addr_to_sockaddr(&a, port, ss);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

size_t
addr_len(sa_family_t af)
{
	switch (af) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

unsigned
addr_maxlen(sa_family_t af)
{
	return addr_len(af) * 8;
}

bool
addr_eq(const struct addr *a, const struct addr *b)
{
	size_t	 n = addr_len(a->af);

	return n != 0 && a->af == b->af && memcmp(a->bytes, b->bytes, n) == 0;
}

/* The first bits of a and b are equal. */
static bool
addr_bits_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned	 full = bits / 8, rest = bits % 8;
	uint8_t		 mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = 0xff << (8 - rest);
	return ((a[full] ^ b[full]) & mask) == 0;
}

void
prefix_mask(struct prefix *p)
{
	size_t	 n = addr_len(p->addr.af), i;
	unsigned bit;

	for (i = 0; i < n; i++) {
		bit = i * 8;
		if (bit >= p->len)
			p->addr.bytes[i] = 0;
		else if (p->len - bit < 8)
			p->addr.bytes[i] &= 0xff << (8 - (p->len - bit));
	}
}

bool
prefix_is_canonical(const struct prefix *p)
{
	struct prefix	 m = *p;

	if (p->len > addr_maxlen(p->addr.af) || addr_len(p->addr.af) == 0)
		return false;
	prefix_mask(&m);
	return addr_eq(&m.addr, &p->addr);
}

bool
prefix_contains_addr(const struct prefix *p, const struct addr *a)
{
	if (p->addr.af != a->af || addr_len(a->af) == 0 ||
	    p->len > addr_maxlen(a->af))
		return false;
	return addr_bits_eq(p->addr.bytes, a->bytes, p->len);
}

bool
prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
	if (inner->len < outer->len || inner->len > addr_maxlen(inner->addr.af))
		return false;
	return prefix_contains_addr(outer, &inner->addr);
}

/* Failed formats leave "" behind for callers that print the buffer anyway. */
static const char *
addr_fmt_fail(char *buf, size_t len, int err)
{
	if (len > 0)
		buf[0] = '\0';
	errno = err;
	return NULL;
}

const char *
addr_fmt(const struct addr *a, char *buf, size_t len)
{
	if (addr_len(a->af) == 0)
		return addr_fmt_fail(buf, len, EAFNOSUPPORT);
	if (inet_ntop(a->af, a->bytes, buf, len) == NULL)
		return addr_fmt_fail(buf, len, errno);
	return buf;
}

const char *
prefix_fmt(const struct prefix *p, char *buf, size_t len)
{
	size_t	 n;
	int	 r;

	if (addr_fmt(&p->addr, buf, len) == NULL)
		return NULL;
	n = strlen(buf);
	r = snprintf(buf + n, len - n, "/%u", p->len);
	if (r < 0 || (size_t)r >= len - n)
		return addr_fmt_fail(buf, len, ENOSPC);
	return buf;
}

const char *
sockaddr_fmt(const struct sockaddr *sa, char *buf, size_t len)
{
	struct addr	 a;
	char		 host[LR_ADDR_STRLEN];
	uint16_t	 port;
	int		 r;

	if (addr_from_sockaddr(sa, &a, &port) == -1 ||
	    addr_fmt(&a, host, sizeof(host)) == NULL)
		return addr_fmt_fail(buf, len, errno);
	if (a.af == AF_INET6)
		r = snprintf(buf, len, "[%s]:%u", host, port);
	else
		r = snprintf(buf, len, "%s:%u", host, port);
	if (r < 0 || (size_t)r >= len)
		return addr_fmt_fail(buf, len, ENOSPC);
	return buf;
}

socklen_t
addr_to_sockaddr(const struct addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (a->af) {
	case AF_INET:
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->v4;
		return sizeof(*sin);
	case AF_INET6:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->v6;
		return sizeof(*sin6);
	default:
		errno = EAFNOSUPPORT;
		return 0;
	}
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(a, 0, sizeof(*a));
	switch (sa->sa_family) {
	case AF_INET:
		a->af = AF_INET;
		a->v4 = sin->sin_addr;
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return 0;
	case AF_INET6:
		a->af = AF_INET6;
		a->v6 = sin6->sin6_addr;
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return 0;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
}

bool
sockaddr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return false;
}
