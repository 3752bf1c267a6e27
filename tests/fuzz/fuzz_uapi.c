/*
 * libFuzzer harness for the UAPI parser in lib/wg/uapi.c.  The input is a
 * byte stream from a client.  It is parsed twice: whole, and in chunks of
 * 1..8 bytes chosen by the first byte; both runs must yield the same
 * requests.  Every SET must encode back to text that parses to the same
 * set (a fixed point), and must serialize as a GET snapshot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/wg/uapi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A request written to b.  The 'S' line carries the SET re-encoded. */
static void
record(struct buf *b, const struct wg_uapi_req *req)
{
	uint8_t	 tag[3] = { req->kind, req->error, req->close };

	if (buf_put(b, tag, sizeof(tag)) == -1)
		abort();
	if (req->kind == WG_UAPI_SET && wg_uapi_write_set(b, req->set) == -1)
		abort();
	if (req->kind == WG_UAPI_ERROR && (req->error <= 0 || req->set != NULL))
		abort();
}

/* The SET as a GET snapshot; the serializer must take any parsed set. */
static void
as_get(const struct wg_uapi_set *set)
{
	struct wg_uapi_peer_info	*pi;
	struct wg_uapi_dev_info		 di;
	struct buf			 b;
	size_t				 i;

	if ((pi = calloc(set->npeers + 1, sizeof(*pi))) == NULL)
		abort();
	memset(&di, 0, sizeof(di));
	memcpy(di.private_key, set->private_key, sizeof(di.private_key));
	di.listen_port = set->listen_port;
	di.fwmark = set->fwmark;
	for (i = 0; i < set->npeers; i++) {
		memcpy(pi[i].public_key, set->peers[i].public_key,
		    WG_UAPI_KEY_LEN);
		pi[i].endpoint = set->peers[i].endpoint;
		pi[i].keepalive = set->peers[i].keepalive;
		pi[i].aips = set->peers[i].aips;
		pi[i].naips = set->peers[i].naips;
	}
	di.peers = pi;
	di.npeers = set->npeers;
	if (buf_init(&b, 256, 64 << 20) == -1 || wg_uapi_write_get(&b, &di))
		abort();
	buf_free(&b);
	free(pi);
}

/* encode(parse(encode(set))) == encode(set). */
static void
fixed_point(const struct wg_uapi_set *set)
{
	struct wg_uapi_parser	 p;
	struct wg_uapi_req	 req;
	struct buf		 a, b;

	if (buf_init(&a, 256, 4 << 20) == -1 ||
	    buf_init(&b, 256, 4 << 20) == -1 ||
	    wg_uapi_write_set(&a, set) == -1)
		abort();
	wg_uapi_parser_init(&p);
	if (wg_uapi_parse(&p, a.data, a.len, &req) != a.len ||
	    req.kind != WG_UAPI_SET || wg_uapi_write_set(&b, req.set) == -1 ||
	    a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	wg_uapi_set_free(req.set);
	wg_uapi_parser_free(&p);
	buf_free(&a);
	buf_free(&b);
}

/* Parse data in chunks of at most chunk bytes; record each request. */
static void
run(const uint8_t *data, size_t len, size_t chunk, struct buf *out,
    int check)
{
	struct wg_uapi_parser	 p;
	struct wg_uapi_req	 req;
	size_t			 off = 0, end, n;

	wg_uapi_parser_init(&p);
	while (off < len) {
		end = len - off < chunk ? len : off + chunk;
		while (off < end) {
			n = wg_uapi_parse(&p, data + off, end - off, &req);
			if (n > end - off || (n == 0 && req.kind == 0))
				abort();
			off += n;
			if (req.kind == WG_UAPI_NONE)
				continue;
			record(out, &req);
			if (check && req.kind == WG_UAPI_SET) {
				fixed_point(req.set);
				as_get(req.set);
			}
			wg_uapi_set_free(req.set);
		}
	}
	wg_uapi_parser_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf	 whole, split;
	size_t		 chunk;

	if (len == 0)
		return 0;
	chunk = data[0] % 8 + 1;
	if (buf_init(&whole, 256, 64 << 20) == -1 ||
	    buf_init(&split, 256, 64 << 20) == -1)
		abort();
	run(data, len, len, &whole, 1);
	run(data, len, chunk, &split, 0);
	if (whole.len != split.len ||
	    memcmp(whole.data, split.data, whole.len) != 0)
		abort();
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
