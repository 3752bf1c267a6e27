/*
 * libFuzzer harness for lanraged's local API (lanraged/api.c): one
 * request line, as the control socket hands it over, from a client of
 * either class (the first byte's low bit).  Every request must get
 * exactly one well-formed answer ({"ok": true, "result": ...} or
 * {"ok": false, "error": TEXT, "code": TEXT}) and nothing may crash or
 * leak.  The party and the settings are replaced by stand-ins that answer
 * at once, so that only the request handling is under test.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lanraged/node.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 answers;

static void
fuzz_reply(struct api_sink *c, json_t *resp)
{
	json_t	*ok = json_object_get(resp, "ok");

	assert(json_is_boolean(ok));
	if (json_is_true(ok))
		assert(json_object_get(resp, "result") != NULL);
	else
		assert(json_is_string(json_object_get(resp, "error")) &&
		    json_is_string(json_object_get(resp, "code")));
	json_decref(resp);
	answers++;
}

static struct api_sink	 sink = { fuzz_reply };

static int
answer(party_done_cb cb, void *ctx)
{
	cb(ctx, PARTY_OK, NULL, json_object());
	return 0;
}

int party_create(const char *n, party_done_cb cb, void *ctx)
{ assert(n != NULL); return answer(cb, ctx); }
int party_join(const char *l, party_done_cb cb, void *ctx)
{ assert(l != NULL); return answer(cb, ctx); }
int party_leave(party_done_cb cb, void *ctx) { return answer(cb, ctx); }
int party_close(party_done_cb cb, void *ctx) { return answer(cb, ctx); }
int party_kick(const char *w, party_done_cb cb, void *ctx)
{ assert(w != NULL); return answer(cb, ctx); }
int party_approve(const char *w, bool a, party_done_cb cb, void *ctx)
{ assert(w != NULL); return answer(cb, ctx); }
int party_invite(uint32_t e, uint16_t u, bool a, party_done_cb cb, void *ctx)
{ return answer(cb, ctx); }
int party_netcheck(party_done_cb cb, void *ctx) { return answer(cb, ctx); }
void party_settings_changed(const char *key) { assert(key != NULL); }
json_t *party_status_json(void) { return json_object(); }
json_t *party_peers_json(void) { return json_pack("{s:[]}", "peers"); }
json_t *lan_json(void) { return json_object(); }

const char *const *
settings_keys(void)
{
	static const char *const keys[] = { "name", "api.port", NULL };

	return keys;
}

int
settings_get(const char *key, char *val, size_t len)
{
	assert(key != NULL);
	if (strcmp(key, "name") != 0 && strcmp(key, "api.port") != 0)
		return -1;
	snprintf(val, len, "x");
	return 0;
}

int
settings_set(const char *key, const char *in, char *val, size_t len,
    const char **why)
{
	assert(key != NULL && in != NULL);
	*why = "refused";
	snprintf(val, len, "%s", in);
	return strcmp(key, "name") == 0 ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	answers = 0;
	api_request(&sink, (data[0] & 1) != 0,
	    (const char *)data + 1, size - 1);
	assert(answers == 1);
	return 0;
}
