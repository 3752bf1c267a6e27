/*
 * What http.c decides from a request's text alone, apart from the
 * server so that tests/fuzz/fuzz_http.c can feed it anything: whether
 * Host, Origin and Sec-Fetch-Site say the request is for this server
 * from its own page, and a GET's query string as API arguments.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#include "lanraged/node.h"
#include "lib/addr.h"

/*
 * "HOST:PORT" with HOST localhost or an IP literal and PORT ours: a
 * name that a DNS server could point at us (rebinding) is refused.
 */
bool
http_host_ok(const char *host, uint16_t port)
{
	char		 name[64];
	const char	*colon;
	struct addr	 a;
	size_t		 n;

	if (host == NULL || (colon = strrchr(host, ':')) == NULL ||
	    (n = (size_t)(colon - host)) == 0 || n >= sizeof(name))
		return false;
	if (colon[1] == '\0' || strtoul(colon + 1, NULL, 10) != port ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (strcmp(name, "localhost") == 0)
		return true;
	if (name[0] == '[' && name[n - 1] == ']') {
		memmove(name, name + 1, n - 2);
		name[n - 2] = '\0';
		return addr_parse(name, &a) == 0 && a.af == AF_INET6;
	}
	return addr_parse(name, &a) == 0 && a.af == AF_INET;
}

/*
 * Host names this server; a browser's Origin and Sec-Fetch-Site, when
 * sent, say the page is our own.  NULL: allowed; else why not.
 */
const char *
http_headers_refusal(const char *host, const char *origin, const char *site,
    uint16_t port)
{
	if (!http_host_ok(host, port))
		return "Host must be this server (127.0.0.1, localhost or an "
		    "address, with its port)";
	if (origin != NULL && (strncmp(origin, "http://", 7) != 0 ||
	    strcmp(origin + 7, host) != 0))
		return "cross-origin requests are refused";
	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return "cross-site requests are refused";
	return NULL;
}

/* A GET's query as string arguments; NULL with *why when malformed. */
json_t *
http_query_args(const char *query, const char **why)
{
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	json_t			*args = json_object();

	TAILQ_INIT(&q);
	if (args == NULL || (query != NULL &&
	    evhttp_parse_query_str(query, &q) == -1)) {
		*why = "malformed query string";
		json_decref(args);
		return NULL;
	}
	TAILQ_FOREACH(kv, &q, next) {
		if (json_object_get(args, kv->key) != NULL ||
		    json_object_set_new(args, kv->key,
		    json_string(kv->value)) == -1) {
			*why = "repeated or non-UTF-8 query parameter";
			json_decref(args);
			args = NULL;
			break;
		}
	}
	evhttp_clear_headers(&q);
	return args;
}
