/*
 * lanraged in party mode: settings in SQLite, the control client that
 * keeps the data plane equal to the party, and the local API that
 * lanragectl uses (proto/api.md).
 */
#ifndef LR_LANRAGED_NODE_H
#define LR_LANRAGED_NODE_H

#include <sys/socket.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/control.h"

struct disco_msg;
struct wg_device;

#define NODE_KEYLEN		32
#define NODE_B64KEY_LEN		44	/* standard base64 with padding */

/*
 * settings.c: the database.  Keys of proto/api.md ("Settings"); values
 * are validated and normalised before they are stored.
 */
#define SETTINGS_VALUE_MAX	300

int	 settings_open(const char *path, char *err, size_t errlen);
void	 settings_close(void);
/* The node's key pair, made and stored on first use. */
int	 settings_node_key(uint8_t priv[NODE_KEYLEN], uint8_t pub[NODE_KEYLEN]);
/* The public keys of the table, in display order, NULL-terminated. */
const char *const *settings_keys(void);
/* The value or its default; -1/ENOENT for a key that is not public. */
int	 settings_get(const char *key, char *val, size_t len);
/*
 * Validate, normalise and store; val gets the stored form.  -1 with *why
 * (ENOENT unknown key, EINVAL bad value, EIO database).
 */
int	 settings_set(const char *key, const char *in, char *val, size_t len,
	    const char **why);
unsigned long settings_get_ulong(const char *key);
/* The last party state seen (a STATE as the wire carries it). */
int	 settings_party_save(const struct control_state *);	/* NULL: none */
/* 1 and *st filled, 0 when none is stored, -1 on error. */
int	 settings_party_load(struct control_state *st);

/* Base64 helpers for keys: standard (wg(8)) out, any variant in. */
void	 node_key_b64(const uint8_t key[NODE_KEYLEN],
	    char out[NODE_B64KEY_LEN + 1]);
int	 node_key_parse(const char *, uint8_t key[NODE_KEYLEN]);

/*
 * party.c: the control client.  One party at a time.  Every operation
 * answers through its callback exactly once, possibly before it returns
 * (a refusal that needs no server).
 */
enum party_code {
	PARTY_OK = 0,
	PARTY_E_BAD,		/* bad_request */
	PARTY_E_UNAVAILABLE,	/* no control server, or not reachable */
	PARTY_E_REFUSED,	/* the control server said no */
	PARTY_E_CONFLICT,	/* already in a party, or in none */
	PARTY_E_NOT_FOUND,
	PARTY_E_TIMEOUT,
	PARTY_E_INTERNAL,
};

typedef void (*party_done_cb)(void *ctx, enum party_code, const char *err,
    json_t *result);

struct party_env {
	struct wg_device	*dev;
	uint32_t		 ifindex;
	const char		*ifname;
	uint16_t		 port;
};

/* Key, cached party, first connection; after proc_init(). */
int	 party_start(const struct party_env *);
void	 party_stop(void);
/* Settings changed: a new session with the new name or server. */
void	 party_settings_changed(const char *key);

int	 party_create(const char *name, party_done_cb, void *ctx);
int	 party_join(const char *link, party_done_cb, void *ctx);
int	 party_leave(party_done_cb, void *ctx);
int	 party_close(party_done_cb, void *ctx);
int	 party_kick(const char *who, party_done_cb, void *ctx);
int	 party_invite(uint32_t expiry, uint16_t uses, bool approval,
	    party_done_cb, void *ctx);
/* The host's verdict on a node that asked to join (by name or key). */
int	 party_approve(const char *who, bool accept, party_done_cb,
	    void *ctx);
/* An operation's context goes away (its client left): no callback. */
void	 party_forget(void *ctx);

json_t	*party_status_json(void);
json_t	*party_peers_json(void);
/* A netcheck of the session's server now; answers with its result. */
int	 party_netcheck(party_done_cb, void *ctx);
/* netcheck.c tells party.c that a run ended (candidates may change). */
void	 party_netcheck_done(void);

/*
 * netcheck.c: the NAT behaviour seen from the WireGuard socket, through
 * the control server's STUN responder (proto/stun.md).  One run at a
 * time; cb (may be NULL) gets the result object.
 */
int	 netcheck_init(struct wg_device *, uint16_t port);
void	 netcheck_free(void);
int	 netcheck_run(const struct sockaddr_storage *server, party_done_cb,
	    void *ctx);
bool	 netcheck_running(void);
bool	 netcheck_failed(void);
void	 netcheck_forget(void *ctx);
json_t	*netcheck_json(void);			/* null before the first */
bool	 netcheck_mapped(struct addr *, uint16_t *port);
bool	 netcheck_nat(uint8_t *kind, uint16_t *predicted);
void	 netcheck_input(const uint8_t *, size_t);

/*
 * sidechan.c: datagrams on the WireGuard socket that are not WireGuard
 * (STUN, disco), sorted on the data path (STUN for the transaction in
 * flight; disco from members, authenticated, within a rate) and handed
 * to netcheck and paths on the event loop.
 */
struct sidechan_stats {
	uint64_t	 unknown_sender;	/* disco: not a member */
	uint64_t	 forged;		/* disco: did not open */
	uint64_t	 rate_limited;		/* disco: over the rate */
	uint64_t	 stun_unexpected;	/* no such transaction */
	uint64_t	 queue_dropped;		/* the loop was behind */
	uint64_t	 relay_unexpected;	/* relay frame from a stranger */
};

int	 sidechan_init(struct wg_device *);
void	 sidechan_free(void);
/* A member's key and the disco key shared with it; forget one. */
int	 sidechan_peer_set(const uint8_t key[NODE_KEYLEN],
	    const uint8_t shared[NODE_KEYLEN]);
void	 sidechan_peer_del(const uint8_t key[NODE_KEYLEN]);
/* The STUN transaction in flight (NULL: none). */
void	 sidechan_stun_expect(const uint8_t *txid);
/* Where relay frames (BOUND, PONG) may come from. */
void	 sidechan_relays_set(const struct sockaddr_storage *,
	    const socklen_t *, size_t n);
void	 sidechan_stats(struct sidechan_stats *);

/*
 * paths.c: disco on the wire (proto/disco.md) and path selection
 * (pathsel.h) for every peer of the party.
 */
int	 paths_init(struct wg_device *, const uint8_t priv[NODE_KEYLEN],
	    const uint8_t pub[NODE_KEYLEN]);
void	 paths_free(void);
/* A member and its published candidates (new, or changed). */
void	 paths_peer_update(const struct control_member *);
void	 paths_peer_remove(const uint8_t key[NODE_KEYLEN]);
/* The endpoint path selection chose; false while there is none. */
bool	 paths_best(const uint8_t key[NODE_KEYLEN], struct sockaddr_storage *);
/* The relay with the lowest RTT to the peer, end to end; false: none yet. */
bool	 paths_relay(const uint8_t key[NODE_KEYLEN], struct sockaddr_storage *);
/* An authenticated disco message from member key, from sa. */
/* relayed: it came in a relay's RECV, from the relay at sa */
void	 paths_disco(const uint8_t key[NODE_KEYLEN], const struct disco_msg *,
	    const struct sockaddr *, socklen_t, bool relayed);
/* This node's NAT changed (a netcheck ended). */
void	 paths_self_changed(void);
json_t	*paths_peer_json(const uint8_t key[NODE_KEYLEN]);
json_t	*paths_stats_json(void);
/*
 * relayc.c: the relays of the party (proto/relay.md): bound at each,
 * pinged, and the one a relayed peer goes through until paths.c has
 * measured the relays to it (relayc_best: false while none is alive).
 * relayc_usable: the live relays a peer may go through, those of the
 * node's region when one of them is alive; at most max, their number.
 */
int	 relayc_init(struct wg_device *, const uint8_t priv[NODE_KEYLEN],
	    const uint8_t pub[NODE_KEYLEN]);
void	 relayc_free(void);
/* relayc_list: how many relays it kept though the list left them out */
size_t	 relayc_list(const struct control_relay_list *);
void	 relayc_clear(void);
/* The setting relay.region changed. */
void	 relayc_reload(void);
void	 relayc_input(const uint8_t *, size_t, const struct sockaddr *);
bool	 relayc_best(struct sockaddr_storage *);
size_t	 relayc_usable(struct sockaddr_storage *, size_t max);
bool	 relayc_usable_at(const struct sockaddr *);
bool	 relayc_is_relay(const struct sockaddr *);
json_t	*relayc_json(void);
/* party.c: the relay to use changed (or there is none now). */
void	 party_relay_changed(void);

/*
 * party.c: path selection moved a peer (use paths_best); force: set the
 * endpoint even if it is the one set last (WireGuard roamed away).
 */
void	 party_path_changed(const uint8_t key[NODE_KEYLEN], bool force);
bool	 party_is_local(const struct addr *);
/* paths.c: a peer saw our NAT mapping at another port than netcheck did */
void	 party_mapping_moved(void);

/*
 * lan.c: LAN broadcast and multicast carried across the party
 * (proto/lan.md).  lan_party() follows the party: our address (NULL:
 * none) and its members; lan_reload() the settings lan.*.
 */
struct prefix;
int	 lan_init(struct wg_device *, uint32_t ifindex);
void	 lan_free(void);
void	 lan_reload(void);
void	 lan_party(const struct prefix *addr, const struct control_state *,
	    const uint8_t self_key[NODE_KEYLEN]);
json_t	*lan_json(void);

/*
 * api.c + ctl_server.c: the control socket.  Full class: root and our
 * own uid; read-only: everyone else who can open the socket.
 */
#define CTL_MAXCONN		16
#define CTL_RESERVED		4	/* of them, for the full class */
#define CTL_MAXREQ		65536
#define CTL_IDLE_TIMEOUT	30	/* seconds */

struct ctl_conn;

/*
 * Where an API answer goes (the control socket, an HTTP request); it is
 * also the ctx that party operations answer, and forget when it leaves.
 */
struct api_sink {
	void		(*reply)(struct api_sink *, json_t *resp);
};

/* Bind path, mode 0660, group gid (-1: keep); before the sandbox. */
int	 ctl_listen(const char *path, uid_t uid, gid_t gid);
int	 ctl_start(void);
void	 ctl_close(void);
/* One request line of a client of the given class. */
void	 api_request(struct api_sink *, bool full, const char *line,
	    size_t len);
/* One command with its arguments (NULL: none). */
void	 api_run(struct api_sink *, bool full, const char *cmd, json_t *args);
bool	 api_is_full(const char *cmd);

/*
 * http.c: the web UI and REST API (proto/api.md, "HTTP").  http_load()
 * reads the UI files before the sandbox; http_start() serves on addr
 * (HttpAddress) and the port of api.port, http_reload() on a new one.
 */
#define HTTP_SECRET_LEN		32	/* bytes; hex in the page and header */
void	 http_load(const char *ui_dir);
int	 http_start(const char *addr);
void	 http_reload(void);
void	 http_close(void);
/* http_check.c: a request's Host, Origin, Sec-Fetch-Site and query. */
bool	 http_host_ok(const char *host, uint16_t port);
const char *http_headers_refusal(const char *host, const char *origin,
	    const char *site, uint16_t port);
json_t	*http_query_args(const char *query, const char **why);
/* settings.c: the per-install secret as hex, made on first use. */
int	 settings_http_secret(char *hex, size_t len);

/* metrics.c: samples once a second, an hour kept (proto/api.md). */
int	 metrics_start(void);
void	 metrics_stop(void);
json_t	*metrics_latest_json(void);
json_t	*metrics_history_json(const char *query);	/* NULL: bad query */
char	*metrics_prometheus(void);
unsigned metrics_quality(double rtt_ms, double jitter_ms, double loss_pct,
	    bool relayed, bool have_path);

#endif
