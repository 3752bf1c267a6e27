/*
 * control-client: one session with lanrage-controld for the integration
 * tests.  It does the Noise IK handshake with HELLO as node KEYFILE (a
 * key file as lanrage-controld -g writes it), then one command:
 *
 *	create PARTY	PARTY_CREATE and INVITE_CREATE; prints
 *			"address A" and "invite LINK"
 *	join LINK	JOIN with the code of an invite link; prints
 *			"address A"
 *	state		prints "parties N", then for every STATE pushed
 *			after WELCOME "member NAME ADDR" lines
 *
 * SERVERKEY is the server's public key in unpadded base64url, as the
 * daemon prints it.  Exit status 0 on success, 1 on any failure.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/csess.h"
#include "proto/control.h"
#include "tests/lib/keyfile.h"

#define TIMEOUT_MS	3000

static int		 fd = -1;
static struct csess	 cs;
static uint32_t		 nextid = 1;
static uint8_t		 body[CSESS_BODY_MAX];

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "control-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
read_key_file(const char *path, uint8_t priv[32])
{
	if (tkey_read(path, priv) == 0)
		return;
	if (errno == EINVAL)
		die("%s: not a base64 key", path);
	die("%s: %s", path, strerror(errno));
}

static ssize_t
read_frame(int ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 hdr[2];
	size_t		 got, want;
	ssize_t		 n;

	for (got = 0; got < 2; got += (size_t)n)
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, hdr + got, 2 - got)) <= 0)
			return -1;
	want = (size_t)hdr[0] << 8 | hdr[1];
	for (got = 0; got < want; got += (size_t)n)
		if (poll(&pfd, 1, ms) <= 0 ||
		    (n = read(fd, body + got, want - got)) <= 0)
			return -1;
	return (ssize_t)want;
}

static void
write_all(const struct buf *b)
{
	if (write(fd, b->data, b->len) != (ssize_t)b->len)
		die("write: %s", strerror(errno));
}

static void
dial(const char *where)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if (sockaddr_parse(where, &ss, &len) == -1)
		die("%s: not address:port", where);
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, len) == -1)
		die("connect %s: %s", where, strerror(errno));
}

static void
hello(const uint8_t priv[32], const uint8_t spub[32], const char *name,
    struct control_welcome *w)
{
	struct control_hello	 h;
	struct control_hdr	 hdr;
	uint8_t			 hb[512];
	struct buf		 b, out, pl;
	ssize_t			 n;

	memset(&h, 0, sizeof(h));
	h.version = CONTROL_VERSION;
	h.listen_port = 51820;
	snprintf(h.name, sizeof(h.name), "%s", name);
	buf_init_fixed(&b, hb, sizeof(hb));
	if (control_enc_hdr(&b, CONTROL_MSG_HELLO, nextid++) == -1 ||
	    control_enc_hello(&b, &h) == -1)
		die("encode HELLO");
	if (csess_init_initiator(&cs, priv, spub) == -1 ||
	    buf_init(&out, 1024, 4096) == -1 ||
	    csess_write_msg1(&cs, &out, NULL, b.data, b.len) == -1)
		die("handshake message 1");
	write_all(&out);
	buf_free(&out);
	if ((n = read_frame(TIMEOUT_MS)) <= 0)
		die("no handshake message 2");
	if (buf_init(&pl, 256, CSESS_BODY_MAX) == -1 ||
	    csess_read_msg2(&cs, body, (size_t)n, &pl) == -1 ||
	    control_dec_hdr(pl.data, pl.len, &hdr) == -1)
		die("bad handshake message 2");
	if (hdr.type != CONTROL_MSG_WELCOME ||
	    control_dec_welcome(hdr.payload, hdr.len, w) == -1)
		die("no WELCOME (got %s)", control_msg_name(hdr.type));
	buf_free(&pl);
}

static uint32_t
send_msg(uint16_t type, const void *p, size_t len)
{
	uint8_t		 mem[1024];
	struct buf	 b, out;
	uint32_t	 id = nextid++;

	buf_init_fixed(&b, mem, sizeof(mem));
	if (control_enc_hdr(&b, type, id) == -1 ||
	    (len > 0 && buf_put(&b, p, len) == -1))
		die("encode %s", control_msg_name(type));
	if (buf_init(&out, 1024, 4096) == -1 ||
	    csess_seal(&cs, &out, b.data, b.len) == -1)
		die("seal");
	write_all(&out);
	buf_free(&out);
	return id;
}

/*
 * The next message of type (and id, unless 0); others are skipped.  Its
 * payload is copied to *p (caller frees).  ERROR for id ends the run.
 */
static size_t
expect(uint16_t type, uint32_t id, uint8_t **p)
{
	struct control_hdr	 h;
	struct control_error	 e;
	struct buf		 pt;
	ssize_t			 n;

	for (;;) {
		if ((n = read_frame(TIMEOUT_MS)) < 0)
			die("no %s", control_msg_name(type));
		if (buf_init(&pt, (size_t)n, CSESS_BODY_MAX) == -1 ||
		    csess_open(&cs, body, (size_t)n, &pt) == -1 ||
		    control_dec_hdr(pt.data, pt.len, &h) == -1)
			die("bad frame");
		if (h.type == CONTROL_MSG_ERROR && id != 0 && h.id == id &&
		    control_dec_error(h.payload, h.len, &e) == 0)
			die("ERROR %u: %s", e.code, e.text);
		if (h.type == type && (id == 0 || h.id == id)) {
			*p = malloc(h.len + 1);
			if (*p == NULL)
				die("malloc");
			memcpy(*p, h.payload, h.len);
			buf_free(&pt);
			return h.len;
		}
		buf_free(&pt);
	}
}

static void
print_party(uint16_t type, uint32_t id, struct control_party *party)
{
	char	 a[LR_ADDR_STRLEN];
	uint8_t	*p;
	size_t	 len;

	len = expect(type, id, &p);
	if (control_dec_party(p, len, party) == -1)
		die("bad PARTY");
	free(p);
	printf("address %s\n", addr_fmt(&party->addr, a, sizeof(a)));
}

static void
cmd_create(const char *where, const uint8_t spub[32], const char *name)
{
	struct control_party_create	 pc;
	struct control_invite_create	 ic;
	struct control_invite		 inv;
	struct control_party		 party;
	struct lr_invite		 link;
	char				 text[LR_INVITE_MAXLEN + 1], *colon;
	uint8_t				 mem[128], *p;
	struct buf			 b;
	size_t				 len;

	memset(&pc, 0, sizeof(pc));
	snprintf(pc.name, sizeof(pc.name), "%s", name);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (control_enc_party_create(&b, &pc) == -1)
		die("encode PARTY_CREATE");
	print_party(CONTROL_MSG_PARTY, send_msg(CONTROL_MSG_PARTY_CREATE,
	    b.data, b.len), &party);
	memset(&ic, 0, sizeof(ic));
	memcpy(ic.id, party.id, CONTROL_IDLEN);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (control_enc_invite_create(&b, &ic) == -1)
		die("encode INVITE_CREATE");
	len = expect(CONTROL_MSG_INVITE, send_msg(CONTROL_MSG_INVITE_CREATE,
	    b.data, b.len), &p);
	if (control_dec_invite(p, len, &inv) == -1)
		die("bad INVITE");
	free(p);
	memset(&link, 0, sizeof(link));
	snprintf(link.host, sizeof(link.host), "%s", where);
	if ((colon = strrchr(link.host, ':')) == NULL)
		die("%s: no port", where);
	*colon = '\0';
	link.port = (uint16_t)atoi(colon + 1);
	memcpy(link.server_key, spub, CONTROL_KEYLEN);
	memcpy(link.code, inv.code, CONTROL_CODELEN);
	if (lr_invite_format(&link, text, sizeof(text)) == -1)
		die("format invite link");
	printf("invite %s\n", text);
}

static void
cmd_join(const char *text)
{
	struct lr_invite	 link;
	struct control_party	 party;

	if (lr_invite_parse(text, &link) == -1)
		die("%s: not an invite link", text);
	print_party(CONTROL_MSG_PARTY, send_msg(CONTROL_MSG_JOIN, link.code,
	    CONTROL_CODELEN), &party);
}

static void
cmd_state(const struct control_welcome *w)
{
	struct control_state	*st;
	char			 a[LR_ADDR_STRLEN];
	uint8_t			*p;
	size_t			 len;
	unsigned		 i, j;

	printf("parties %u\n", w->nparties);
	if ((st = malloc(sizeof(*st))) == NULL)
		die("malloc");
	for (i = 0; i < w->nparties; i++) {
		len = expect(CONTROL_MSG_STATE, 0, &p);
		if (control_dec_state(p, len, st) == -1)
			die("bad STATE");
		free(p);
		for (j = 0; j < st->nmembers; j++)
			printf("member %s %s\n", st->members[j].name,
			    addr_fmt(&st->members[j].addr, a, sizeof(a)));
	}
	free(st);
}

int
main(int argc, char *argv[])
{
	struct control_welcome	 w;
	uint8_t			 priv[32], spub[32];
	size_t			 n;

	if (argc < 6) {
		fprintf(stderr, "usage: control-client ADDR:PORT SERVERKEY "
		    "KEYFILE NAME create PARTY | join LINK | state\n");
		return 1;
	}
	if (sodium_init() < 0)
		die("sodium_init");
	if (sodium_base642bin(spub, sizeof(spub), argv[2], strlen(argv[2]),
	    NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != 32)
		die("%s: not a base64url public key", argv[2]);
	read_key_file(argv[3], priv);
	dial(argv[1]);
	hello(priv, spub, argv[4], &w);
	if (strcmp(argv[5], "create") == 0 && argc == 7)
		cmd_create(argv[1], spub, argv[6]);
	else if (strcmp(argv[5], "join") == 0 && argc == 7)
		cmd_join(argv[6]);
	else if (strcmp(argv[5], "state") == 0 && argc == 6)
		cmd_state(&w);
	else
		die("unknown command %s", argv[5]);
	fflush(stdout);
	close(fd);
	return 0;
}
