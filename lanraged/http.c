/*
 * The local web UI and its REST API (proto/api.md, "HTTP"): evhttp on
 * HttpAddress, loopback by default.  Every request must name this
 * server in Host (an IP literal or localhost: no DNS rebinding), may only
 * come from our own origin, and one that changes anything must carry
 * the per-install secret that only the served UI page holds.  The API
 * runs the commands of api.c; /api/v1/events streams updates (SSE) and
 * /metrics is Prometheus text (metrics.c).
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanraged/node.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/proc.h"

#define HTTP_MAX_BODY		65536
#define HTTP_MAX_HEADERS	8192
#define HTTP_TIMEOUT		30	/* seconds; party answers take up to 15 */
#define HTTP_MAX_CALLS		64	/* requests awaiting an answer */
#define HTTP_MAX_EVENTS		8	/* SSE clients */
#define HTTP_EVENTS_BACKLOG	262144	/* unsent SSE bytes: a stuck client */
#define HTTP_FILE_MAX		(1024 * 1024)
#define HTTP_SECRET_MARK	"@LANRAGE_SECRET@"
#define HTTP_SECRET_HEADER	"X-LANrage-Secret"

/* A request that waits for its API answer. */
struct http_call {
	struct api_sink		 sink;		/* first: answers find us */
	TAILQ_ENTRY(http_call)	 entry;
	struct evhttp_request	*req;
	struct evhttp_connection *conn;
};

/* A client of /api/v1/events. */
struct http_watch {
	TAILQ_ENTRY(http_watch)	 entry;
	struct evhttp_request	*req;
	struct evhttp_connection *conn;
};

struct http_file {
	const char	*name;		/* under UiDir, and at /ui/NAME */
	const char	*type;
	char		*data;
	size_t		 len;
};

static const struct http_route {
	const char		*path;
	enum evhttp_cmd_type	 method;
	const char		*cmd;
} http_routes[] = {
	{ "/api/v1/status",		EVHTTP_REQ_GET,	 "status" },
	{ "/api/v1/peers",		EVHTTP_REQ_GET,	 "peers" },
	{ "/api/v1/lan",		EVHTTP_REQ_GET,	 "lan" },
	{ "/api/v1/settings",		EVHTTP_REQ_GET,	 "settings.get" },
	{ "/api/v1/settings",		EVHTTP_REQ_POST, "settings.set" },
	{ "/api/v1/party",		EVHTTP_REQ_POST, "party.create" },
	{ "/api/v1/party/join",		EVHTTP_REQ_POST, "party.join" },
	{ "/api/v1/party/leave",	EVHTTP_REQ_POST, "party.leave" },
	{ "/api/v1/party/close",	EVHTTP_REQ_POST, "party.close" },
	{ "/api/v1/party/kick",		EVHTTP_REQ_POST, "party.kick" },
	{ "/api/v1/party/approve",	EVHTTP_REQ_POST, "party.approve" },
	{ "/api/v1/invite",		EVHTTP_REQ_POST, "invite" },
	{ "/api/v1/netcheck",		EVHTTP_REQ_POST, "netcheck" },
	{ "/api/v1/log",		EVHTTP_REQ_POST, "log" },
};

static struct {
	char			 addr[64];	/* HttpAddress */
	int			 fd;
	uint16_t		 port;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct event		*tick;
	char			 secret[2 * HTTP_SECRET_LEN + 1];
	struct http_file	 files[3];
	TAILQ_HEAD(, http_call)	 calls;
	size_t			 ncalls;
	TAILQ_HEAD(, http_watch) watches;
	size_t			 nwatches;
} H = {
	.fd = -1,
	.calls = TAILQ_HEAD_INITIALIZER(H.calls),
	.watches = TAILQ_HEAD_INITIALIZER(H.watches),
	.files = {
		{ "index.html", "text/html; charset=utf-8", NULL, 0 },
		{ "app.js", "text/javascript; charset=utf-8", NULL, 0 },
		{ "style.css", "text/css; charset=utf-8", NULL, 0 },
	},
};

/* ---- answers ---- */

static void
http_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'self'; "
	    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
}

static void
http_send(struct evhttp_request *req, int status, const char *type,
    const void *data, size_t len)
{
	struct evbuffer	*out = evhttp_request_get_output_buffer(req);

	http_headers(req, type);
	if (evbuffer_add(out, data, len) == -1) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_send_reply(req, status, NULL, NULL);
}

static void
http_send_json(struct evhttp_request *req, int status, json_t *o)
{
	char	*text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (text == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	http_send(req, status, "application/json", text, strlen(text));
	free(text);
}

static void
http_fail(struct evhttp_request *req, int status, const char *code,
    const char *msg)
{
	http_send_json(req, status, json_pack("{s:b, s:s, s:s}", "ok", 0,
	    "error", msg, "code", code));
}

/* The API's error codes as HTTP statuses. */
static int
http_status(json_t *resp)
{
	static const struct { const char *code; int status; } map[] = {
		{ "bad_request", 400 }, { "forbidden", 403 },
		{ "refused", 403 }, { "unknown_command", 404 },
		{ "not_found", 404 }, { "conflict", 409 },
		{ "unavailable", 503 }, { "timeout", 504 },
	};
	const char	*code;
	size_t		 i;

	if (json_is_true(json_object_get(resp, "ok")))
		return 200;
	code = json_string_value(json_object_get(resp, "code"));
	for (i = 0; code != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return 500;
}

static void
http_call_free(struct http_call *c)
{
	evhttp_connection_set_closecb(c->conn, NULL, NULL);
	TAILQ_REMOVE(&H.calls, c, entry);
	H.ncalls--;
	free(c);
}

static void
http_call_reply(struct api_sink *s, json_t *resp)
{
	struct http_call	*c = (struct http_call *)s;
	struct evhttp_request	*req = c->req;

	http_call_free(c);
	http_send_json(req, http_status(resp), resp);
}

/* The client left before its answer: nobody is to get it now. */
static void
http_call_gone(struct evhttp_connection *conn, void *arg)
{
	struct http_call	*c = arg;

	party_forget(&c->sink);
	http_call_free(c);
}

/* ---- who may ask ---- */

/* Host, Origin and Sec-Fetch-Site of the request: http_check.c */
static const char *
http_refusal(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);

	return http_headers_refusal(evhttp_find_header(h, "Host"),
	    evhttp_find_header(h, "Origin"),
	    evhttp_find_header(h, "Sec-Fetch-Site"), H.port);
}

static bool
http_secret_ok(struct evhttp_request *req)
{
	const char	*s = evhttp_find_header(
	    evhttp_request_get_input_headers(req), HTTP_SECRET_HEADER);

	return s != NULL && strlen(s) == strlen(H.secret) &&
	    sodium_memcmp(s, H.secret, strlen(H.secret)) == 0;
}

/* ---- the API ---- */

static const struct http_route *
http_route_find(const char *path, enum evhttp_cmd_type method,
    bool *path_known)
{
	size_t	 i;

	*path_known = false;
	for (i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++) {
		if (strcmp(http_routes[i].path, path) != 0)
			continue;
		*path_known = true;
		if (http_routes[i].method == method)
			return &http_routes[i];
	}
	return NULL;
}

/* A POST's body: empty, or a JSON object sent as application/json. */
static json_t *
http_body_args(struct evhttp_request *req, int *status, const char **why)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*type = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	size_t		 len = evbuffer_get_length(in);
	json_error_t	 jerr;
	json_t		*args;

	if (len == 0)
		return json_object();
	*status = 415;
	*why = "the body must be application/json";
	if (type == NULL || strncmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';'))
		return NULL;
	*status = 400;
	*why = "the body is not a JSON object";
	args = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (args != NULL && !json_is_object(args)) {
		json_decref(args);
		return NULL;
	}
	return args;
}

static void
http_api(struct evhttp_request *req, const struct http_route *r,
    const char *query)
{
	struct http_call	*c;
	const char		*why = NULL;
	json_t			*args;
	int			 status = 400;

	if (api_is_full(r->cmd) && !http_secret_ok(req)) {
		http_fail(req, 403, "forbidden", "this request changes "
		    "something: it needs the " HTTP_SECRET_HEADER " header "
		    "of the served UI");
		return;
	}
	args = r->method == EVHTTP_REQ_GET ? http_query_args(query, &why) :
	    http_body_args(req, &status, &why);
	if (args == NULL) {
		http_fail(req, status, "bad_request", why);
		return;
	}
	if (H.ncalls == HTTP_MAX_CALLS || (c = calloc(1, sizeof(*c))) ==
	    NULL) {
		json_decref(args);
		http_fail(req, 503, "unavailable", "too many requests at once");
		return;
	}
	c->sink.reply = http_call_reply;
	c->req = req;
	c->conn = evhttp_request_get_connection(req);
	TAILQ_INSERT_TAIL(&H.calls, c, entry);
	H.ncalls++;
	evhttp_connection_set_closecb(c->conn, http_call_gone, c);
	api_run(&c->sink, true, r->cmd, args);	/* may answer at once */
	json_decref(args);
}

/* ---- events (SSE) ---- */

static void
http_watch_free(struct http_watch *w)
{
	evhttp_connection_set_closecb(w->conn, NULL, NULL);
	TAILQ_REMOVE(&H.watches, w, entry);
	H.nwatches--;
	free(w);
}

static void
http_watch_gone(struct evhttp_connection *conn, void *arg)
{
	http_watch_free(arg);
}

/* One "update" event: status, peers and the node's latest sample. */
static void
http_watch_push(struct http_watch *w, const char *text)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(
	    w->conn);
	struct evbuffer		*chunk;

	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) >
	    HTTP_EVENTS_BACKLOG) {
		/* it stopped reading: end it rather than queue without end */
		evhttp_send_reply_end(w->req);
		http_watch_free(w);
		return;
	}
	if ((chunk = evbuffer_new()) == NULL)
		return;
	if (evbuffer_add_printf(chunk, "event: update\ndata: %s\n\n",
	    text) != -1)
		evhttp_send_reply_chunk(w->req, chunk);
	evbuffer_free(chunk);
}

/* The update every client gets each second: status, peers, a sample. */
static char *
http_update_text(void)
{
	json_t	*o;
	char	*text;

	o = json_pack("{s:o, s:o, s:o}", "status", party_status_json(),
	    "peers", party_peers_json(), "sample", metrics_latest_json());
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static void
http_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct http_watch	*w, *next;
	char			*text;

	if (H.nwatches == 0 || (text = http_update_text()) == NULL)
		return;
	for (w = TAILQ_FIRST(&H.watches); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		http_watch_push(w, text);
	}
	free(text);
}

static void
http_events(struct evhttp_request *req)
{
	struct http_watch	*w;
	char			*text;

	if (H.nwatches == HTTP_MAX_EVENTS ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		http_fail(req, 503, "unavailable", "too many event streams");
		return;
	}
	w->req = req;
	w->conn = evhttp_request_get_connection(req);
	TAILQ_INSERT_TAIL(&H.watches, w, entry);
	H.nwatches++;
	evhttp_connection_set_closecb(w->conn, http_watch_gone, w);
	http_headers(req, "text/event-stream");
	evhttp_send_reply_start(req, 200, "OK");
	if ((text = http_update_text()) != NULL) {	/* no wait for the first */
		http_watch_push(w, text);
		free(text);
	}
}

/* ---- files and the dispatcher ---- */

static void
http_file(struct evhttp_request *req, const struct http_file *f)
{
	const char	*mark;

	if (f->data == NULL) {
		http_fail(req, 404, "not_found", "the web UI is not "
		    "installed (UiDir in lanraged.conf)");
		return;
	}
	/* The page carries the secret: it is what makes it our UI. */
	mark = strcmp(f->name, "index.html") == 0 ? memmem(f->data, f->len,
	    HTTP_SECRET_MARK, strlen(HTTP_SECRET_MARK)) : NULL;
	if (mark == NULL) {
		http_send(req, 200, f->type, f->data, f->len);
		return;
	}
	http_headers(req, f->type);
	if (evbuffer_add(evhttp_request_get_output_buffer(req), f->data,
	    (size_t)(mark - f->data)) == -1 ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), H.secret,
	    strlen(H.secret)) == -1 ||
	    evbuffer_add(evhttp_request_get_output_buffer(req),
	    mark + strlen(HTTP_SECRET_MARK), f->len - (size_t)(mark -
	    f->data) - strlen(HTTP_SECRET_MARK)) == -1) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_send_reply(req, 200, NULL, NULL);
}

static const struct http_file *
http_file_find(const char *path)
{
	size_t	 i;

	if (strcmp(path, "/") == 0)
		return &H.files[0];
	if (strncmp(path, "/ui/", 4) != 0)
		return NULL;
	for (i = 0; i < sizeof(H.files) / sizeof(H.files[0]); i++)
		if (strcmp(path + 4, H.files[i].name) == 0)
			return &H.files[i];
	return NULL;
}

static void
http_metrics(struct evhttp_request *req)
{
	char	*text = metrics_prometheus();

	if (text == NULL) {
		http_fail(req, 500, "internal", "out of memory");
		return;
	}
	http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    strlen(text));
	free(text);
}

static void
http_get(struct evhttp_request *req, const char *path, const char *query)
{
	const struct http_file	*f;
	json_t			*o;

	if (strcmp(path, "/metrics") == 0)
		http_metrics(req);
	else if (strcmp(path, "/api/v1/events") == 0)
		http_events(req);
	else if (strcmp(path, "/api/v1/metrics") == 0) {
		o = metrics_history_json(query);
		if (o == NULL)
			http_fail(req, 400, "bad_request", "seconds: 1 to 3600");
		else
			http_send_json(req, 200, json_pack("{s:b, s:o}", "ok",
			    1, "result", o));
	} else if ((f = http_file_find(path)) != NULL)
		http_file(req, f);
	else
		http_fail(req, 404, "not_found", "no such page");
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);
	const struct http_route	*r;
	const char		*why, *path;
	bool			 known;

	if ((why = http_refusal(req)) != NULL) {
		http_fail(req, 403, "forbidden", why);
		return;
	}
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	if ((r = http_route_find(path, method, &known)) != NULL)
		http_api(req, r, evhttp_uri_get_query(uri));
	else if (known)
		http_fail(req, 405, "bad_request", "method not allowed here");
	else if (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD)
		http_get(req, path, evhttp_uri_get_query(uri));
	else
		http_fail(req, 405, "bad_request", "method not allowed here");
}

/* ---- life ---- */

static int
http_file_load(const char *dir, struct http_file *f)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, f->name) >=
	    (int)sizeof(path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((f->data = malloc(HTTP_FILE_MAX)) == NULL) {
		close(fd);
		return -1;
	}
	n = read(fd, f->data, HTTP_FILE_MAX);
	close(fd);
	if (n < 0 || n == HTTP_FILE_MAX) {
		free(f->data);
		f->data = NULL;
		errno = n < 0 ? errno : EFBIG;
		return -1;
	}
	f->len = (size_t)n;
	return 0;
}

/* The UI files from ui_dir, before the sandbox; a missing one is a 404. */
void
http_load(const char *ui_dir)
{
	size_t	 i;

	for (i = 0; i < sizeof(H.files) / sizeof(H.files[0]); i++)
		if (http_file_load(ui_dir, &H.files[i]) == -1)
			log_warn("web UI: %s/%s", ui_dir, H.files[i].name);
}

static int
http_bind(const char *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct addr		 a;
	socklen_t		 len;
	int			 on = 1;

	if (addr_parse(addr, &a) == -1) {
		errno = EINVAL;
		return -1;
	}
	len = addr_to_sockaddr(&a, port, &ss);
	if ((H.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(H.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
	    -1 || bind(H.fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(H.fd, 64) == -1) {
		close(H.fd);
		H.fd = -1;
		return -1;
	}
	H.port = port;
	return 0;
}

static int
http_serve(void)
{
	struct timeval	 tv = { 1, 0 };

	if ((H.http = evhttp_new(proc_base())) == NULL ||
	    (H.bound = evhttp_accept_socket_with_handle(H.http, H.fd)) ==
	    NULL)
		return -1;
	evhttp_set_max_body_size(H.http, HTTP_MAX_BODY);
	evhttp_set_max_headers_size(H.http, HTTP_MAX_HEADERS);
	evhttp_set_timeout(H.http, HTTP_TIMEOUT);
	evhttp_set_allowed_methods(H.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD);
	evhttp_set_gencb(H.http, http_request, NULL);
	if ((H.tick = event_new(proc_base(), -1, EV_PERSIST, http_tick,
	    NULL)) == NULL || event_add(H.tick, &tv) == -1)
		return -1;
	return 0;
}

/* Stop serving; the files stay for the next start. */
static void
http_stop(void)
{
	while (!TAILQ_EMPTY(&H.calls)) {
		party_forget(&TAILQ_FIRST(&H.calls)->sink);
		http_call_free(TAILQ_FIRST(&H.calls));
	}
	while (!TAILQ_EMPTY(&H.watches))
		http_watch_free(TAILQ_FIRST(&H.watches));
	if (H.tick != NULL)
		event_free(H.tick);
	if (H.http != NULL)
		evhttp_free(H.http);	/* closes H.fd too */
	else if (H.fd != -1)
		close(H.fd);
	H.tick = NULL;
	H.http = NULL;
	H.bound = NULL;
	H.fd = -1;
}

/*
 * Serve on addr (an IP literal; "off": not at all) and the port of the
 * setting api.port.  The VPN works without its UI: a port in use is
 * logged, not fatal.
 */
int
http_start(const char *addr)
{
	unsigned long	 port = settings_get_ulong("api.port");

	if (addr != H.addr)
		snprintf(H.addr, sizeof(H.addr), "%s", addr);
	if (strcmp(addr, "off") == 0)
		return 0;
	if (settings_http_secret(H.secret, sizeof(H.secret)) == -1)
		return -1;
	if (port == 0 || port > UINT16_MAX ||
	    http_bind(addr, (uint16_t)port) == -1) {
		log_warn("web UI off: %s port %lu", addr, port);
		return 0;
	}
	if (http_serve() == -1)
		return -1;
	log_info("web UI on %s port %u", addr, H.port);
	return 0;
}

/*
 * api.port changed: accept on the new port from now on.  Connections
 * made on the old one stay to finish, the one that asked among them.
 */
void
http_reload(void)
{
	struct evhttp_bound_socket	*old = H.bound;
	unsigned long			 port = settings_get_ulong("api.port");
	uint16_t			 was = H.port;
	int				 fd = H.fd;

	if (H.http == NULL) {
		if (http_start(H.addr) == -1)
			log_warn("web UI");
		return;
	}
	if (port == 0 || port > UINT16_MAX ||
	    http_bind(H.addr, (uint16_t)port) == -1) {
		log_warn("web UI stays on port %u: port %lu", was, port);
		H.fd = fd;
		H.port = was;
		return;
	}
	if ((H.bound = evhttp_accept_socket_with_handle(H.http, H.fd)) ==
	    NULL) {
		log_warn("web UI stays on port %u", was);
		close(H.fd);
		H.bound = old;
		H.fd = fd;
		H.port = was;
		return;
	}
	evhttp_del_accept_socket(H.http, old);	/* closes the old fd */
	log_info("web UI on %s port %u", H.addr, H.port);
}

void
http_close(void)
{
	size_t	 i;

	http_stop();
	for (i = 0; i < sizeof(H.files) / sizeof(H.files[0]); i++) {
		free(H.files[i].data);
		H.files[i].data = NULL;
	}
	sodium_memzero(H.secret, sizeof(H.secret));
}
