/*
 * Results for people: "key: value" lines and one table.  Every string
 * from lanraged is printed through text_print(); a field that is missing
 * or of another type than proto/api.md says is shown as "?" or left out,
 * except where the command's whole point is that one value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanragectl/lanragectl.h"
#include "lib/log.h"

#define PEER_COLS	9

/* One table cell: borrowed text or a formatted number, and a suffix. */
struct cell {
	const char	*s;
	size_t		 len;
	const char	*suffix;	/* ours, printed as is */
	char		 buf[32];
};

static const char	*peer_head[PEER_COLS] = {
	"NAME", "ADDRESS", "ENDPOINT", "PATH", "RTT", "HANDSHAKE", "RX", "TX",
	"WHY"
};
static const int	 peer_right[PEER_COLS] = { 0, 0, 0, 0, 1, 0, 1, 1, 0 };

/* A count or an age: a non-negative JSON number. */
static int
show_uint(json_t *v, uint64_t *n)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*n = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) < 1e19) {
		*n = json_real_value(v);
		return 0;
	}
	return -1;
}

static void
show_value(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		text_print(stdout, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		printf("%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		printf("%s", json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		printf("none");
		break;
	default:
		/* ASCII-only JSON holds nothing a terminal would act on */
		json_dumpf(v, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		break;
	}
}

/* "label: value"; nothing when the field is missing. */
static void
show_kv(const char *label, json_t *v)
{
	if (v == NULL)
		return;
	printf("%s: ", label);
	show_value(v);
	printf("\n");
}

/* The same, leaving out null too (an error that is not there). */
static void
show_kv_set(const char *label, json_t *v)
{
	if (!json_is_null(v))
		show_kv(label, v);
}

static void
show_kv_age(const char *label, json_t *v)
{
	char		 age[32];
	uint64_t	 n;

	if (show_uint(v, &n) == -1) {
		show_kv_set(label, v);
		return;
	}
	text_age(age, sizeof(age), n);
	printf("%s: %s\n", label, age);
}

static int
show_missing(const char *what)
{
	log_warnx("lanraged's answer has no %s", what);
	return -1;
}

static void
show_node(json_t *node)
{
	show_kv("name", json_object_get(node, "name"));
	show_kv("public key", json_object_get(node, "public_key"));
	show_kv("interface", json_object_get(node, "interface"));
	show_kv("listen port", json_object_get(node, "listen_port"));
}

static void
show_control(json_t *ctl)
{
	show_kv("control server", json_object_get(ctl, "server"));
	show_kv_set("control key", json_object_get(ctl, "server_key"));
	show_kv("control state", json_object_get(ctl, "state"));
	show_kv_set("control error", json_object_get(ctl, "error"));
	show_kv_age("control retry in", json_object_get(ctl, "retry_in"));
}

/* The party object's lines; "party: none" when there is none. */
static void
show_party_lines(json_t *p)
{
	json_t	*host;

	if (!json_is_object(p)) {
		show_kv("party", p == NULL ? json_null() : p);
		return;
	}
	show_kv("party", json_object_get(p, "name"));
	show_kv("party id", json_object_get(p, "id"));
	show_kv("subnet", json_object_get(p, "subnet"));
	show_kv("address", json_object_get(p, "address"));
	host = json_object_get(p, "host");
	if (json_is_true(host))
		printf("host: this node\n");
	else
		show_kv("host", json_object_get(p, "host_key"));
	show_kv("members", json_object_get(p, "members"));
}

/* A netcheck result: every field as "key: value", "at" as an age. */
int
show_netcheck(json_t *args, json_t *result)
{
	const char	*key;
	json_t		*v;

	json_object_foreach(result, key, v) {
		if (strcmp(key, "at") != 0)
			show_kv(key, v);
	}
	return 0;
}

/* "label: k1 v1, k2 v2, ..." in the order of keys. */
static void
show_counts(const char *label, json_t *o, const char *const *keys)
{
	size_t	 i;

	printf("%s:", label);
	for (i = 0; keys[i] != NULL; i++) {
		printf("%s %s ", i ? "," : "", keys[i]);
		show_value(json_object_get(o, keys[i]));
	}
	printf("\n");
}

/* LAN emulation: what is carried, the counters, per peer. */
int
show_lan(json_t *args, json_t *result)
{
	static const char *const out[] = { "carried", "copies", "filtered",
	    "loop", "rate_limited", NULL };
	static const char *const in[] = { "delivered", "duplicate",
	    "filtered", "loop", "rate_limited", NULL };
	static const char *const peer[] = { "delivered", "rate_limited",
	    NULL };
	json_t	*p;
	size_t	 i;

	show_kv("active", json_object_get(result, "active"));
	show_kv("ports", json_object_get(result, "ports"));
	printf("groups:");
	json_array_foreach(json_object_get(result, "groups"), i, p) {
		printf("%s ", i ? "," : "");
		show_value(p);
	}
	printf("\nrate: ");
	show_value(json_object_get(result, "rate"));
	printf("/s per port, ");
	show_value(json_object_get(result, "peer_rate"));
	printf("/s per peer\n");
	show_counts("out", json_object_get(result, "out"), out);
	show_counts("in", json_object_get(result, "in"), in);
	json_array_foreach(json_object_get(result, "peers"), i, p) {
		printf("peer ");
		show_value(json_object_get(p, "name"));
		show_counts("", p, peer);
	}
	return 0;
}

static void
show_netcheck_line(json_t *nc)
{
	if (!json_is_object(nc))
		return;
	printf("netcheck: mapped ");
	show_value(json_object_get(nc, "mapped"));
	printf(", mapping ");
	show_value(json_object_get(nc, "mapping"));
	printf(", filtering ");
	show_value(json_object_get(nc, "filtering"));
	printf("\n");
}

/* One line per relay: region, address, state, RTT, and which is in use. */
static void
show_relays(json_t *rl)
{
	json_t		*r, *rtt;
	size_t		 i;

	json_array_foreach(json_object_get(rl, "relays"), i, r) {
		printf("relay: ");
		show_value(json_object_get(r, "region"));
		printf(" ");
		show_value(json_object_get(r, "address"));
		printf(" %s", json_is_true(json_object_get(r, "alive")) ?
		    "alive" : json_is_true(json_object_get(r, "bound")) ?
		    "silent" : "unbound");
		rtt = json_object_get(r, "rtt_ms");
		if (json_is_number(rtt))
			printf(", RTT %.2f ms", json_number_value(rtt));
		if (json_is_true(json_object_get(r, "in_use")))
			printf(" (in use)");
		printf("\n");
	}
}

/* Nodes waiting for this host's approval. */
static void
show_requests(json_t *reqs)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(reqs, i, r) {
		printf("asks to join: ");
		show_value(json_object_get(r, "name"));
		printf(" ");
		show_value(json_object_get(r, "public_key"));
		printf("\n");
	}
}

int
show_status(json_t *args, json_t *result)
{
	show_node(json_object_get(result, "node"));
	show_control(json_object_get(result, "control"));
	show_party_lines(json_object_get(result, "party"));
	show_requests(json_object_get(result, "requests"));
	show_netcheck_line(json_object_get(result, "netcheck"));
	show_relays(json_object_get(result, "relays"));
	show_kv("log", json_object_get(result, "log"));
	return 0;
}

static void
cell_text(struct cell *c, const char *s)
{
	c->s = s;
	c->len = strlen(s);
}

/* A JSON string is borrowed; anything else is formatted into c->buf. */
static void
cell_value(struct cell *c, json_t *v)
{
	uint64_t	 n;

	if (json_is_string(v)) {
		c->s = json_string_value(v);
		c->len = json_string_length(v);
		return;
	}
	if (v == NULL || json_is_null(v))
		snprintf(c->buf, sizeof(c->buf), "-");
	else if (show_uint(v, &n) == 0)
		snprintf(c->buf, sizeof(c->buf), "%llu",
		    (unsigned long long)n);
	else
		snprintf(c->buf, sizeof(c->buf), "?");
	cell_text(c, c->buf);
}

static void
cell_size(struct cell *c, json_t *v)
{
	uint64_t	 n;

	if (show_uint(v, &n) == -1) {
		cell_value(c, v);
		return;
	}
	text_size(c->buf, sizeof(c->buf), n);
	cell_text(c, c->buf);
}

static void
cell_handshake(struct cell *c, json_t *v)
{
	char		 age[24];
	uint64_t	 n;

	if (json_is_null(v) || v == NULL)
		cell_text(c, "never");
	else if (show_uint(v, &n) == -1)
		cell_text(c, "?");
	else {
		text_age(age, sizeof(age), n);
		snprintf(c->buf, sizeof(c->buf), "%s ago", age);
		cell_text(c, c->buf);
	}
}

/* Milliseconds, as a JSON number; "-" without one. */
static void
cell_ms(struct cell *c, json_t *v)
{
	if (!json_is_number(v) || json_number_value(v) < 0) {
		cell_text(c, "-");
		return;
	}
	snprintf(c->buf, sizeof(c->buf), "%.1f ms", json_number_value(v));
	cell_text(c, c->buf);
}

/* An offline peer's endpoint is stale; say offline instead. */
static void
peer_row(struct cell *row, json_t *peer)
{
	cell_value(&row[0], json_object_get(peer, "name"));
	if (json_is_true(json_object_get(peer, "host")))
		row[0].suffix = " (host)";
	cell_value(&row[1], json_object_get(peer, "address"));
	if (json_is_false(json_object_get(peer, "online")))
		cell_text(&row[2], "offline");
	else
		cell_value(&row[2], json_object_get(peer, "endpoint"));
	cell_value(&row[3], json_object_get(peer, "path"));
	cell_ms(&row[4], json_object_get(peer, "rtt_ms"));
	cell_handshake(&row[5], json_object_get(peer, "handshake_age"));
	cell_size(&row[6], json_object_get(peer, "rx_bytes"));
	cell_size(&row[7], json_object_get(peer, "tx_bytes"));
	cell_value(&row[8], json_object_get(peer, "reason"));
}

static size_t
cell_width(const struct cell *c)
{
	return text_width(c->s, c->len) +
	    (c->suffix != NULL ? strlen(c->suffix) : 0);
}

/* Two spaces between columns; the last one is not padded. */
static void
cell_print(const struct cell *c, size_t col, size_t width)
{
	size_t	 pad = width - cell_width(c);

	if (peer_right[col])
		printf("%*s", (int)pad, "");
	text_print(stdout, c->s, c->len);
	if (c->suffix != NULL)
		fputs(c->suffix, stdout);
	if (col + 1 == PEER_COLS)
		printf("\n");
	else
		printf("%*s", (int)(peer_right[col] ? 2 : pad + 2), "");
}

static void
peer_table(struct cell (*rows)[PEER_COLS], size_t n)
{
	size_t	 w[PEER_COLS], i, col;

	for (col = 0; col < PEER_COLS; col++) {
		w[col] = cell_width(&rows[0][col]);
		for (i = 1; i < n; i++)
			if (cell_width(&rows[i][col]) > w[col])
				w[col] = cell_width(&rows[i][col]);
	}
	for (i = 0; i < n; i++)
		for (col = 0; col < PEER_COLS; col++)
			cell_print(&rows[i][col], col, w[col]);
}

int
show_peers(json_t *args, json_t *result)
{
	struct cell	(*rows)[PEER_COLS];
	json_t		*peers, *peer;
	size_t		 i, col;

	peers = json_object_get(result, "peers");
	if (!json_is_array(peers))
		return show_missing("peer list");
	if (json_array_size(peers) == 0) {
		printf("no peers\n");
		return 0;
	}
	/* row 0 is the header */
	rows = calloc(json_array_size(peers) + 1, sizeof(*rows));
	if (rows == NULL)
		fatal("calloc");
	for (col = 0; col < PEER_COLS; col++)
		cell_text(&rows[0][col], peer_head[col]);
	json_array_foreach(peers, i, peer)
		peer_row(rows[i + 1], peer);
	peer_table(rows, json_array_size(peers) + 1);
	free(rows);
	return 0;
}

int
show_party(json_t *args, json_t *result)
{
	show_party_lines(result);
	return 0;
}

int
show_join(json_t *args, json_t *result)
{
	if (!json_is_true(json_object_get(result, "pending")))
		return show_party(args, result);
	show_party_lines(json_object_get(result, "party"));
	printf("pending: the host must approve; the join completes by "
	    "itself\n");
	return 0;
}

int
show_none(json_t *args, json_t *result)
{
	return 0;
}

int
show_kick(json_t *args, json_t *result)
{
	json_t	*key = json_object_get(result, "kicked");

	if (key == NULL)
		return show_missing("kicked key");
	printf("kicked ");
	show_value(key);
	printf("\n");
	return 0;
}

int
show_answered(json_t *args, json_t *result)
{
	json_t	*key = json_object_get(result, "answered");

	if (key == NULL)
		return show_missing("answered key");
	printf("%s ", json_is_false(json_object_get(args, "accept")) ?
	    "denied" : "approved");
	show_value(key);
	printf("\n");
	return 0;
}

/* Just the link, so that link=$(lanragectl invite) works. */
int
show_invite(json_t *args, json_t *result)
{
	json_t	*link = json_object_get(result, "link");

	if (!json_is_string(link))
		return show_missing("link");
	show_value(link);
	printf("\n");
	return 0;
}

static void
show_setting_line(const char *key, size_t keylen, json_t *value)
{
	text_print(stdout, key, keylen);
	printf(" = ");
	show_value(value);
	printf("\n");
}

/* One key asked: just its value; else "key = value" lines. */
int
show_settings(json_t *args, json_t *result)
{
	json_t		*settings, *key, *value;
	const char	*k;

	settings = json_object_get(result, "settings");
	if (!json_is_object(settings))
		return show_missing("settings");
	if ((key = json_object_get(args, "key")) != NULL) {
		value = json_object_get(settings, json_string_value(key));
		if (value == NULL)
			return show_missing("value for that key");
		show_value(value);
		printf("\n");
		return 0;
	}
	json_object_foreach(settings, k, value)
		show_setting_line(k, strlen(k), value);
	return 0;
}

/* The value as stored, which may be a normalised form of the one sent. */
int
show_setting(json_t *args, json_t *result)
{
	json_t	*key, *value;

	key = json_object_get(result, "key");
	value = json_object_get(result, "value");
	if (!json_is_string(key) || value == NULL)
		return show_missing("stored setting");
	show_setting_line(json_string_value(key), json_string_length(key),
	    value);
	return 0;
}

int
show_log(json_t *args, json_t *result)
{
	show_kv("log", json_object_get(result, "level"));
	return 0;
}

int
show_json(json_t *result)
{
	if (json_dumpf(result, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) ==
	    -1)
		return -1;
	printf("\n");
	return 0;
}
