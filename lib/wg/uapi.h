/*
 * The WireGuard cross-platform userspace API (UAPI), the text protocol
 * that the stock wg(8) tool speaks over /var/run/wireguard/<if>.sock.
 * Pure code: no I/O, no logging.  proto/uapi.md is the contract.
 *
 * A connection carries requests one after another.  The parser takes the
 * bytes as they arrive, split anywhere, and yields one request at a time:
 * GET, a fully parsed and validated SET, or an errno to answer.  Nothing
 * of a SET reaches the device until its blank line has been seen and every
 * line was valid, so the device can apply it as one transaction.
 */
#ifndef LR_WG_UAPI_H
#define LR_WG_UAPI_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/buf.h"

#define WG_UAPI_KEY_LEN		32
#define WG_UAPI_LINE_MAX	512		/* bytes, without the '\n' */
#define WG_UAPI_REQ_MAX		(1024 * 1024)	/* op line to blank line */
#define WG_UAPI_PEERS_MAX	4096		/* public_key lines per SET */
#define WG_UAPI_AIPS_MAX	16384		/* allowed_ip lines per SET */

/* struct wg_uapi_set flags: which device keys were present. */
#define WG_UAPI_SET_PRIVATE_KEY		0x01
#define WG_UAPI_SET_LISTEN_PORT		0x02
#define WG_UAPI_SET_FWMARK		0x04
#define WG_UAPI_SET_REPLACE_PEERS	0x08

/* struct wg_uapi_peer flags. */
#define WG_UAPI_PEER_REMOVE		0x01
#define WG_UAPI_PEER_UPDATE_ONLY	0x02
#define WG_UAPI_PEER_PRESHARED_KEY	0x04
#define WG_UAPI_PEER_ENDPOINT		0x08
#define WG_UAPI_PEER_KEEPALIVE		0x10
#define WG_UAPI_PEER_REPLACE_AIPS	0x20
/* Programmatic only (no UAPI key): the endpoint is a relay's address. */
#define WG_UAPI_PEER_RELAYED		0x40

/*
 * One public_key section of a SET, in request order.  A key listed twice
 * gives two entries; the device applies them in order.  Fields are valid
 * only when their flag is set.  Allowed IPs have their host bits cleared;
 * a replace_allowed_ips line drops the ones listed before it in the same
 * section, so aips[] is what to add after the optional replace.
 */
struct wg_uapi_peer {
	uint8_t			 public_key[WG_UAPI_KEY_LEN];
	unsigned		 flags;		/* WG_UAPI_PEER_* */
	uint8_t			 preshared_key[WG_UAPI_KEY_LEN]; /* 0: none */
	struct sockaddr_storage	 endpoint;
	socklen_t		 endpoint_len;
	uint16_t		 keepalive;	/* seconds, 0: off */
	const struct prefix	*aips;		/* into wg_uapi_set.aips */
	size_t			 naips;
	size_t			 aips_off;	/* parser bookkeeping */
};

/*
 * A validated SET, owned by the caller once the parser yields it; free it
 * with wg_uapi_set_free(), which wipes the keys.  The order of application
 * is fixed by proto/uapi.md: device keys, replace_peers, then peers[] in
 * order.  A private key of all zeros removes the key.
 */
struct wg_uapi_set {
	unsigned		 flags;		/* WG_UAPI_SET_* */
	uint8_t			 private_key[WG_UAPI_KEY_LEN];
	uint16_t		 listen_port;
	uint32_t		 fwmark;
	struct wg_uapi_peer	*peers;
	size_t			 npeers;
	size_t			 peers_cap;
	struct prefix		*aips;
	size_t			 naips;
	size_t			 aips_cap;
};

enum wg_uapi_kind {
	WG_UAPI_NONE,		/* every byte consumed, no request complete */
	WG_UAPI_GET,		/* answer with wg_uapi_write_get() */
	WG_UAPI_SET,		/* apply req.set, answer its errno */
	WG_UAPI_ERROR		/* answer req.error; close if req.close */
};

/* What wg_uapi_parse() yields. */
struct wg_uapi_req {
	enum wg_uapi_kind	 kind;
	int			 error;		/* WG_UAPI_ERROR: errno, > 0 */
	bool			 close;		/* the stream is out of sync */
	struct wg_uapi_set	*set;		/* WG_UAPI_SET: caller owns */
};

/* Per-connection parser state; opaque to callers. */
struct wg_uapi_parser {
	char			 line[WG_UAPI_LINE_MAX + 1];
	size_t			 linelen;
	bool			 longline;	/* dropping an overlong line */
	size_t			 reqlen;	/* bytes of this request */
	int			 state;
	int			 error;		/* first error, this request */
	struct wg_uapi_set	*set;		/* SET being built */
};

void	 wg_uapi_parser_init(struct wg_uapi_parser *);
/* Drops a partial request (nothing of it was applied) and wipes. */
void	 wg_uapi_parser_free(struct wg_uapi_parser *);
/*
 * Consume bytes up to the end of at most one request and return how many
 * were used; call again with the rest while it returns less than len.
 * After an error with close set, every later byte is ignored.
 */
size_t	 wg_uapi_parse(struct wg_uapi_parser *, const void *, size_t,
	    struct wg_uapi_req *);
/* Wipes the keys and frees; NULL is fine. */
void	 wg_uapi_set_free(struct wg_uapi_set *);

/* A GET snapshot of one peer, owned by the caller. */
struct wg_uapi_peer_info {
	uint8_t			 public_key[WG_UAPI_KEY_LEN];
	uint8_t			 preshared_key[WG_UAPI_KEY_LEN]; /* 0: none */
	struct sockaddr_storage	 endpoint;	/* ss_family 0: none */
	bool			 relayed;	/* endpoint is a relay (not
						   printed) */
	uint16_t		 keepalive;
	int64_t			 last_handshake_sec;	/* 0: never */
	int64_t			 last_handshake_nsec;
	uint64_t		 rx_bytes;
	uint64_t		 tx_bytes;
	const struct prefix	*aips;
	size_t			 naips;
};

/* A GET snapshot of the device; zero key, port or fwmark: not printed. */
struct wg_uapi_dev_info {
	uint8_t				 private_key[WG_UAPI_KEY_LEN];
	uint16_t			 listen_port;
	uint32_t			 fwmark;
	const struct wg_uapi_peer_info	*peers;
	size_t				 npeers;
};

/*
 * Append the whole GET answer, "errno=0\n\n" included, in wireguard-go's
 * key order.  The buffer then holds the private key: wipe it after use.
 * 0, or -1 with errno (ENOBUFS: buffer bound hit, EAFNOSUPPORT: bad
 * endpoint or prefix family); on failure b->len is restored.
 */
int	 wg_uapi_write_get(struct buf *, const struct wg_uapi_dev_info *);
/*
 * Append a SET request ("set=1\n" to the blank line) that parses back to
 * set, in the key order wg(8) uses; for a client, tests and the fuzzer.
 * The buffer may then hold keys: wipe it.  0, or -1 as above.
 */
int	 wg_uapi_write_set(struct buf *, const struct wg_uapi_set *);
/* Append "errno=0\n\n" or, like wireguard-go, "errno=-N\n\n" for N > 0. */
int	 wg_uapi_write_errno(struct buf *, int);

#endif
