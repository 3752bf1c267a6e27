/*
 * The commands of proto/api.md: decode one request, check the class and
 * the arguments (types, ranges, no unknown ones), run it, answer once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanraged/node.h"
#include "lib/log.h"

struct api_arg {
	const char	*name;
	int		 type;		/* JSON_STRING, JSON_INTEGER, ... */
	bool		 required;
};

struct api_cmd {
	const char	*name;
	bool		 full;		/* needs the full class */
	const struct api_arg *args;	/* NULL-name terminated */
	void		(*run)(struct api_sink *, json_t *args);
};

static const char *const api_codes[] = {
	[PARTY_OK] = "ok",
	[PARTY_E_BAD] = "bad_request",
	[PARTY_E_UNAVAILABLE] = "unavailable",
	[PARTY_E_REFUSED] = "refused",
	[PARTY_E_CONFLICT] = "conflict",
	[PARTY_E_NOT_FOUND] = "not_found",
	[PARTY_E_TIMEOUT] = "timeout",
	[PARTY_E_INTERNAL] = "internal",
};

static void
api_error(struct api_sink *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
api_error(struct api_sink *c, const char *code, const char *fmt, ...)
{
	char	 text[512], esc[512];
	json_t	*msg;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Parts of it came from the client, and may not be UTF-8. */
	if ((msg = json_string(text)) == NULL)
		msg = json_string(log_escape(esc, sizeof(esc), text,
		    strlen(text)));
	c->reply(c, json_pack("{s:b, s:o, s:s}", "ok", 0, "error", msg,
	    "code", code));
}

static void
api_ok(struct api_sink *c, json_t *result)
{
	if (result == NULL) {
		api_error(c, "internal", "out of memory");
		return;
	}
	c->reply(c, json_pack("{s:b, s:o}", "ok", 1, "result", result));
}

/* The answer of a party operation, whenever it comes. */
static void
api_done(void *ctx, enum party_code code, const char *err, json_t *result)
{
	if (code == PARTY_OK)
		api_ok(ctx, result);
	else {
		json_decref(result);
		api_error(ctx, api_codes[code], "%s",
		    err != NULL ? err : "failed");
	}
}

/* A client's string, cut and escaped for an error message. */
static const char *
api_short(const char *s)
{
	static char	 esc[80];

	return log_escape(esc, sizeof(esc), s, strnlen(s, 40));
}

static void
api_status(struct api_sink *c, json_t *args)
{
	json_t	*st = party_status_json();

	if (st != NULL)
		json_object_set_new(st, "log", json_string(
		    log_getverbose() > 0 ? "verbose" : "brief"));
	api_ok(c, st);
}

static void
api_peers(struct api_sink *c, json_t *args)
{
	api_ok(c, party_peers_json());
}

static void
api_lan(struct api_sink *c, json_t *args)
{
	api_ok(c, lan_json());
}

static int
api_setting_put(json_t *obj, const char *key)
{
	char	 val[SETTINGS_VALUE_MAX];

	if (settings_get(key, val, sizeof(val)) == -1)
		return -1;
	return json_object_set_new(obj, key, json_string(val));
}

static void
api_settings_get(struct api_sink *c, json_t *args)
{
	const char *const	*keys;
	json_t			*key = json_object_get(args, "key");
	json_t			*obj = json_object();

	if (key != NULL) {
		if (api_setting_put(obj, json_string_value(key)) == -1) {
			json_decref(obj);
			api_error(c, errno == ENOENT ? "not_found" :
			    "internal", "settings.get: %s: \"%s\"",
			    errno == ENOENT ? "unknown setting" :
			    strerror(errno), api_short(json_string_value(key)));
			return;
		}
	} else
		for (keys = settings_keys(); *keys != NULL; keys++)
			api_setting_put(obj, *keys);
	api_ok(c, json_pack("{s:o}", "settings", obj));
}

static void
api_settings_set(struct api_sink *c, json_t *args)
{
	const char	*key = json_string_value(json_object_get(args, "key"));
	const char	*in = json_string_value(json_object_get(args, "value"));
	const char	*why = NULL;
	char		 val[SETTINGS_VALUE_MAX];

	if (settings_set(key, in, val, sizeof(val), &why) == -1) {
		api_error(c, errno == ENOENT ? "not_found" : errno == EIO ?
		    "internal" : "bad_request", "settings.set: %s: \"%s\"", why,
		    api_short(key));
		return;
	}
	log_info("setting %s changed", key);
	party_settings_changed(key);
	api_ok(c, json_pack("{s:s, s:s}", "key", key, "value", val));
}

static void
api_party_create(struct api_sink *c, json_t *args)
{
	party_create(json_string_value(json_object_get(args, "name")),
	    api_done, c);
}

static void
api_party_join(struct api_sink *c, json_t *args)
{
	party_join(json_string_value(json_object_get(args, "invite")),
	    api_done, c);
}

static void
api_party_leave(struct api_sink *c, json_t *args)
{
	party_leave(api_done, c);
}

static void
api_party_close(struct api_sink *c, json_t *args)
{
	party_close(api_done, c);
}

static void
api_party_kick(struct api_sink *c, json_t *args)
{
	party_kick(json_string_value(json_object_get(args, "peer")),
	    api_done, c);
}

static void
api_party_approve(struct api_sink *c, json_t *args)
{
	json_t	*accept = json_object_get(args, "accept");

	party_approve(json_string_value(json_object_get(args, "peer")),
	    accept == NULL || json_is_true(accept), api_done, c);
}

static void
api_netcheck(struct api_sink *c, json_t *args)
{
	party_netcheck(api_done, c);
}

static void
api_invite(struct api_sink *c, json_t *args)
{
	json_int_t	 expiry = 0, uses = 0;
	json_t		*v;

	if ((v = json_object_get(args, "expiry")) != NULL)
		expiry = json_integer_value(v);
	if ((v = json_object_get(args, "uses")) != NULL)
		uses = json_integer_value(v);
	if (expiry < 0 || expiry > UINT32_MAX || uses < 0 ||
	    uses > UINT16_MAX) {
		api_error(c, "bad_request", "invite: expiry is 0..%u seconds, "
		    "uses 0..%u", UINT32_MAX, UINT16_MAX);
		return;
	}
	party_invite((uint32_t)expiry, (uint16_t)uses,
	    json_is_true(json_object_get(args, "approval")), api_done, c);
}

static void
api_log(struct api_sink *c, json_t *args)
{
	const char	*level = json_string_value(json_object_get(args,
	    "level"));

	if (strcmp(level, "verbose") == 0)
		log_setverbose(1);
	else if (strcmp(level, "brief") == 0)
		log_setverbose(0);
	else {
		api_error(c, "bad_request", "log: level is verbose or brief");
		return;
	}
	log_info("log level %s", level);
	api_ok(c, json_pack("{s:s}", "level", level));
}

static const struct api_arg no_args[] = { { NULL, 0, false } };
static const struct api_arg get_args[] = {
	{ "key", JSON_STRING, false }, { NULL, 0, false } };
static const struct api_arg set_args[] = {
	{ "key", JSON_STRING, true }, { "value", JSON_STRING, true },
	{ NULL, 0, false } };
static const struct api_arg name_args[] = {
	{ "name", JSON_STRING, true }, { NULL, 0, false } };
static const struct api_arg join_args[] = {
	{ "invite", JSON_STRING, true }, { NULL, 0, false } };
static const struct api_arg kick_args[] = {
	{ "peer", JSON_STRING, true }, { NULL, 0, false } };
static const struct api_arg approve_args[] = {
	{ "peer", JSON_STRING, true }, { "accept", JSON_TRUE, false },
	{ NULL, 0, false } };
static const struct api_arg invite_args[] = {
	{ "expiry", JSON_INTEGER, false }, { "uses", JSON_INTEGER, false },
	{ "approval", JSON_TRUE, false }, { NULL, 0, false } };
static const struct api_arg log_args[] = {
	{ "level", JSON_STRING, true }, { NULL, 0, false } };

static const struct api_cmd api_cmds[] = {
	{ "status",		false,	no_args,	api_status },
	{ "peers",		false,	no_args,	api_peers },
	{ "lan",		false,	no_args,	api_lan },
	{ "settings.get",	false,	get_args,	api_settings_get },
	{ "settings.set",	true,	set_args,	api_settings_set },
	{ "party.create",	true,	name_args,	api_party_create },
	{ "party.join",		true,	join_args,	api_party_join },
	{ "party.leave",	true,	no_args,	api_party_leave },
	{ "party.kick",		true,	kick_args,	api_party_kick },
	{ "party.close",	true,	no_args,	api_party_close },
	{ "party.approve",	true,	approve_args,	api_party_approve },
	{ "invite",		true,	invite_args,	api_invite },
	{ "log",		true,	log_args,	api_log },
	{ "netcheck",		true,	no_args,	api_netcheck },
};

static bool
api_type_ok(const json_t *v, int type)
{
	if (type == JSON_TRUE)		/* any boolean */
		return json_is_boolean(v);
	return (int)json_typeof(v) == type;
}

/* Every argument known and well typed, every required one present. */
static bool
api_args_ok(struct api_sink *c, const struct api_cmd *cmd, json_t *args)
{
	const struct api_arg	*a;
	const char		*key;
	json_t			*v;

	json_object_foreach(args, key, v) {
		for (a = cmd->args; a->name != NULL; a++)
			if (strcmp(a->name, key) == 0)
				break;
		if (a->name == NULL) {
			api_error(c, "bad_request", "%s: unknown argument "
			    "\"%.64s\"", cmd->name, key);
			return false;
		}
		if (!api_type_ok(v, a->type)) {
			api_error(c, "bad_request", "%s: argument \"%s\" has "
			    "the wrong type", cmd->name, key);
			return false;
		}
	}
	for (a = cmd->args; a->name != NULL; a++) {
		if (a->required && json_object_get(args, a->name) == NULL) {
			api_error(c, "bad_request", "%s: missing argument "
			    "\"%s\"", cmd->name, a->name);
			return false;
		}
	}
	return true;
}

static const struct api_cmd *
api_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(api_cmds) / sizeof(api_cmds[0]); i++)
		if (strcmp(api_cmds[i].name, name) == 0)
			return &api_cmds[i];
	return NULL;
}

void
api_request(struct api_sink *c, bool full, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*req, *args, *name;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL || !json_is_object(req)) {
		api_error(c, "bad_request", "not a JSON object: %s",
		    req == NULL ? jerr.text : "wrong type");
		json_decref(req);
		return;
	}
	name = json_object_get(req, "cmd");
	args = json_object_get(req, "args");
	if (!json_is_string(name) || (args != NULL && !json_is_object(args)) ||
	    json_object_size(req) != 1 + (args != NULL))
		api_error(c, "bad_request", "expected {\"cmd\": NAME, "
		    "\"args\": {...}}");
	else
		api_run(c, full, json_string_value(name), args);
	json_decref(req);
}

void
api_run(struct api_sink *c, bool full, const char *name, json_t *args)
{
	const struct api_cmd	*cmd;
	char			 esc[80];

	if ((cmd = api_find(name)) == NULL) {
		log_escape(esc, sizeof(esc), name, strnlen(name, 64));
		api_error(c, "unknown_command", "unknown command \"%s\"", esc);
		return;
	}
	if (cmd->full && !full) {
		api_error(c, "forbidden", "%s: needs root or the lanraged "
		    "user (this client may only read)", cmd->name);
		return;
	}
	if (args != NULL && !json_is_object(args)) {
		api_error(c, "bad_request", "%s: the arguments are not a "
		    "JSON object", cmd->name);
		return;
	}
	args = args != NULL ? json_incref(args) : json_object();
	if (args == NULL)
		api_error(c, "internal", "out of memory");
	else if (api_args_ok(c, cmd, args))
		cmd->run(c, args);
	json_decref(args);
}

/* Whether a command changes something (the HTTP API wants the secret). */
bool
api_is_full(const char *name)
{
	const struct api_cmd	*cmd = api_find(name);

	return cmd == NULL || cmd->full;
}
