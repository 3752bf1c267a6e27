/*
 * libFuzzer harness for what lanraged's web server decides from a
 * request's text (lanraged/http_check.c): the input is a port (2 bytes)
 * then Host, Origin, Sec-Fetch-Site and a query string, NUL-separated
 * (a missing part is a header not sent).  Checked against rules written
 * here independently of the code: an accepted Host is
 * "localhost:PORT", "IPv4:PORT" or "[IPv6]:PORT" with our port in
 * decimal; an accepted request's Origin, when sent, is exactly
 * "http://" + Host and its Sec-Fetch-Site "same-origin" or "none"; a
 * parsed query is an object of strings, a refused one has a reason.
 */
#include <arpa/inet.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanraged/node.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The next NUL-terminated part of the input, or NULL past its end. */
static const char *
part(const char **p, const char *end)
{
	const char	*s = *p, *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	*p = nul + 1;
	return s;
}

static bool
literal_ok(const char *name)
{
	unsigned char	 a[16];
	char		 v6[64];
	size_t		 n = strlen(name);

	if (strcmp(name, "localhost") == 0 ||
	    inet_pton(AF_INET, name, a) == 1)
		return true;
	if (n < 3 || n - 2 >= sizeof(v6) || name[0] != '[' ||
	    name[n - 1] != ']')
		return false;
	memcpy(v6, name + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, a) == 1;
}

/* The rule for Host, from scratch. */
static bool
host_rule(const char *host, uint16_t port)
{
	char		 name[256], want[8];
	const char	*colon;
	size_t		 n;

	if (host == NULL || (colon = strrchr(host, ':')) == NULL)
		return false;
	n = (size_t)(colon - host);
	if (n == 0 || n >= 64)
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	/* our port in decimal, leading zeros allowed */
	snprintf(want, sizeof(want), "%u", port);
	colon++;
	while (*colon == '0' && strlen(colon) > strlen(want))
		colon++;
	return strcmp(colon, want) == 0 && literal_ok(name);
}

static void
check_query(const char *query)
{
	const char	*why = NULL, *key;
	json_t		*args = http_query_args(query, &why), *v;

	if (args == NULL) {
		assert(why != NULL && *why != '\0');
		return;
	}
	assert(json_is_object(args));
	json_object_foreach(args, key, v)
		assert(json_is_string(v));
	json_decref(args);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*buf;
	const char	*p, *end, *host, *origin, *site, *query, *why;
	uint16_t	 port;

	if (size < 2)
		return 0;
	port = (uint16_t)(data[0] << 8 | data[1]);
	if ((buf = malloc(size - 2 + 1)) == NULL)
		return 0;
	memcpy(buf, data + 2, size - 2);
	buf[size - 2] = '\0';
	p = buf;
	end = buf + size - 2 + 1;
	host = part(&p, end);
	origin = part(&p, end);
	site = part(&p, end);
	query = part(&p, end);

	assert(http_host_ok(host, port) == host_rule(host, port));
	why = http_headers_refusal(host, origin, site, port);
	if (why == NULL) {
		assert(http_host_ok(host, port));
		assert(origin == NULL || (strncmp(origin, "http://", 7) == 0 &&
		    strcmp(origin + 7, host) == 0));
		assert(site == NULL || strcmp(site, "same-origin") == 0 ||
		    strcmp(site, "none") == 0);
	}
	check_query(query);
	free(buf);
	return 0;
}
