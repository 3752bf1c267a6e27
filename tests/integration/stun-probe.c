/*
 * stun-probe: STUN Binding requests to lanrage-controld's responder for
 * the integration tests, built with proto/stun.h.
 *
 *	stun-probe ADDR:PORT [ip] [port] [unknown] [small]
 *		one request (CHANGE-REQUEST with ip and/or port; an unknown
 *		comprehension-required attribute with unknown; without the
 *		PADDING that makes it as large as its answer with small,
 *		which gets no answer); prints
 *		"mapped A:P", "origin A:P", "other A:P" or "error CODE",
 *		and "from A:P" (where the answer came from)
 *	stun-probe ADDR:PORT flood N
 *		N requests at once, then prints "answers M" after 1 s
 *	stun-probe ADDR:PORT garbage N
 *		N datagrams of random bytes, every other one with a STUN
 *		header (magic cookie) and a length that lies; prints
 *		"answers M" (there should be none)
 *	stun-probe ADDR:PORT classic [ip] [port]
 *		one classic (RFC 3489) request of 28 bytes, CHANGE-REQUEST
 *		as asked; prints "mapped A:P", "source A:P", "changed A:P",
 *		"from A:P" and "size N" (the answer's bytes)
 *	stun-probe ADDR:PORT classic-flood N
 *		N classic requests at once, then prints "answers M"
 *
 * A response counts only when it decodes and carries our transaction id.
 * Exit status 0 when an answer came (flood: always), 1 otherwise.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "proto/stun.h"

#define TIMEOUT_MS	2000
#define PADDING		84	/* 104-byte requests: as large as any answer */

static int
send_request(int fd, const struct sockaddr_storage *ss, socklen_t len,
    const struct stun_msg *m, bool unknown)
{
	uint8_t		 mem[STUN_MAXMSG];
	struct buf	 b;

	buf_init_fixed(&b, mem, sizeof(mem));
	if (stun_encode(&b, m) == -1)
		return -1;
	if (unknown) {
		/* type 0x7f01, length 4: comprehension-required, unknown */
		static const uint8_t attr[] = { 0x7f, 0x01, 0, 4, 1, 2, 3, 4 };
		uint16_t	 l = (uint16_t)(b.len - STUN_HDRLEN + 8);

		memcpy(mem + b.len, attr, sizeof(attr));
		b.len += sizeof(attr);
		mem[2] = (uint8_t)(l >> 8);
		mem[3] = (uint8_t)l;
	}
	return sendto(fd, b.data, b.len, 0, (const struct sockaddr *)ss,
	    len) == (ssize_t)b.len ? 0 : -1;
}

/* The next answer to txid within ms, or -1. */
static int
recv_answer(int fd, const uint8_t *txid, int ms, struct stun_msg *m,
    struct sockaddr_storage *from)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 buf[STUN_MAXMSG];
	socklen_t	 flen;
	ssize_t		 n;

	while (poll(&pfd, 1, ms) == 1) {
		flen = sizeof(*from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)from,
		    &flen);
		if (n > 0 && stun_decode(buf, (size_t)n, m) == 0 &&
		    (txid == NULL ||
		    memcmp(m->txid, txid, STUN_TXIDLEN) == 0))
			return 0;
	}
	return -1;
}

static void
print_addr(const char *what, const struct stun_addr *a)
{
	char	 s[LR_ADDR_STRLEN];

	if (a->present)
		printf("%s %s:%u\n", what, addr_fmt(&a->addr, s, sizeof(s)),
		    a->port);
}

static int
probe_one(int fd, const struct sockaddr_storage *ss, socklen_t len,
    int argc, char *argv[])
{
	struct sockaddr_storage	 from;
	struct stun_msg		 req, resp;
	char			 s[LR_SOCKADDR_STRLEN];
	bool			 unknown = false, small = false;
	int			 i;

	memset(&req, 0, sizeof(req));
	req.method = STUN_METHOD_BINDING;
	req.cls = STUN_REQUEST;
	req.fingerprint = true;
	randombytes_buf(req.txid, sizeof(req.txid));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "ip") == 0)
			req.change |= STUN_CHANGE_IP;
		else if (strcmp(argv[i], "port") == 0)
			req.change |= STUN_CHANGE_PORT;
		else if (strcmp(argv[i], "unknown") == 0)
			unknown = true;
		else if (strcmp(argv[i], "small") == 0)
			small = true;
	}
	req.has_change = req.change != 0;
	req.fingerprint = !unknown;	/* FINGERPRINT must stay last */
	if (!small)
		req.padding = PADDING - (req.has_change ? 8 : 0) -
		    (req.fingerprint ? 8 : 0);
	if (send_request(fd, ss, len, &req, unknown) == -1 ||
	    recv_answer(fd, req.txid, TIMEOUT_MS, &resp, &from) == -1) {
		fprintf(stderr, "stun-probe: no answer\n");
		return 1;
	}
	if (resp.cls == STUN_ERROR)
		printf("error %u\n", resp.error_code);
	print_addr("mapped", &resp.xor_mapped);
	print_addr("origin", &resp.response_origin);
	print_addr("other", &resp.other_address);
	printf("from %s\n", sockaddr_fmt((struct sockaddr *)&from, s,
	    sizeof(s)));
	return 0;
}

static int
probe_flood(int fd, const struct sockaddr_storage *ss, socklen_t len,
    long n)
{
	struct sockaddr_storage	 from;
	struct stun_msg		 req, resp;
	long			 i, got = 0;

	memset(&req, 0, sizeof(req));
	req.method = STUN_METHOD_BINDING;
	req.cls = STUN_REQUEST;
	req.padding = PADDING;
	for (i = 0; i < n; i++) {
		randombytes_buf(req.txid, sizeof(req.txid));
		send_request(fd, ss, len, &req, false);
	}
	while (recv_answer(fd, NULL, 1000, &resp, &from) == 0)
		got++;
	printf("answers %ld\n", got);
	return 0;
}

static int
send_classic(int fd, const struct sockaddr_storage *ss, socklen_t len,
    struct stun_classic *m)
{
	static const uint8_t	 cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	uint8_t			 mem[STUN_MAXMSG];
	struct buf		 b;

	m->cls = STUN_REQUEST;
	m->has_change = true;
	do
		randombytes_buf(m->txid, sizeof(m->txid));
	while (memcmp(m->txid, cookie, sizeof(cookie)) == 0);
	buf_init_fixed(&b, mem, sizeof(mem));
	if (stun_classic_encode(&b, m) == -1)
		return -1;
	return sendto(fd, b.data, b.len, 0, (const struct sockaddr *)ss,
	    len) == (ssize_t)b.len ? 0 : -1;
}

/* The next classic answer to txid within ms: its size, or -1. */
static ssize_t
recv_classic(int fd, const uint8_t *txid, int ms, struct stun_classic *m,
    struct sockaddr_storage *from)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint8_t		 buf[STUN_MAXMSG];
	socklen_t	 flen;
	ssize_t		 n;

	while (poll(&pfd, 1, ms) == 1) {
		flen = sizeof(*from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)from,
		    &flen);
		if (n > 0 && stun_classic_decode(buf, (size_t)n, m) == 0 &&
		    m->cls == STUN_SUCCESS && (txid == NULL ||
		    memcmp(m->txid, txid, STUN_CLASSIC_TXIDLEN) == 0))
			return n;
	}
	return -1;
}

static int
probe_classic(int fd, const struct sockaddr_storage *ss, socklen_t len,
    int argc, char *argv[])
{
	struct sockaddr_storage	 from;
	struct stun_classic	 req, resp;
	char			 s[LR_SOCKADDR_STRLEN];
	ssize_t			 n;
	int			 i;

	memset(&req, 0, sizeof(req));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "ip") == 0)
			req.change |= STUN_CHANGE_IP;
		else if (strcmp(argv[i], "port") == 0)
			req.change |= STUN_CHANGE_PORT;
	}
	if (send_classic(fd, ss, len, &req) == -1 ||
	    (n = recv_classic(fd, req.txid, TIMEOUT_MS, &resp, &from)) == -1) {
		fprintf(stderr, "stun-probe: no answer\n");
		return 1;
	}
	print_addr("mapped", &resp.mapped);
	print_addr("source", &resp.source);
	print_addr("changed", &resp.changed);
	printf("from %s\n", sockaddr_fmt((struct sockaddr *)&from, s,
	    sizeof(s)));
	printf("size %zd\n", n);
	return 0;
}

static int
probe_classic_flood(int fd, const struct sockaddr_storage *ss,
    socklen_t len, long n)
{
	struct sockaddr_storage	 from;
	struct stun_classic	 req, resp;
	long			 i, got = 0;

	for (i = 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		send_classic(fd, ss, len, &req);
	}
	while (recv_classic(fd, NULL, 1000, &resp, &from) != -1)
		got++;
	printf("answers %ld\n", got);
	return 0;
}

static int
probe_garbage(int fd, const struct sockaddr_storage *ss, socklen_t len,
    long n)
{
	struct sockaddr_storage	 from;
	struct stun_msg		 resp;
	uint8_t			 b[200];
	long			 i, got = 0;

	for (i = 0; i < n; i++) {
		randombytes_buf(b, sizeof(b));
		if (i % 2 == 0) {	/* a Binding request header that lies */
			b[0] = 0;
			b[1] = 1;
			b[2] = 0x01;
			b[3] = 0xf0;
			b[4] = 0x21;
			b[5] = 0x12;
			b[6] = 0xa4;
			b[7] = 0x42;
		}
		sendto(fd, b, 20 + (size_t)(i % 180), 0,
		    (const struct sockaddr *)ss, len);
	}
	while (recv_answer(fd, NULL, 1000, &resp, &from) == 0)
		got++;
	printf("answers %ld\n", got);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, rcvbuf = 1 << 20;

	if (argc < 2 || sodium_init() < 0 ||
	    sockaddr_parse(argv[1], &ss, &len) == -1) {
		fprintf(stderr, "usage: stun-probe ADDR:PORT [ip] [port] "
		    "[unknown] | flood N\n");
		return 1;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1) {
		fprintf(stderr, "stun-probe: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (argc == 4 && strcmp(argv[2], "flood") == 0)
		return probe_flood(fd, &ss, len, strtol(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[2], "garbage") == 0)
		return probe_garbage(fd, &ss, len, strtol(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[2], "classic-flood") == 0)
		return probe_classic_flood(fd, &ss, len,
		    strtol(argv[3], NULL, 10));
	if (argc >= 3 && strcmp(argv[2], "classic") == 0)
		return probe_classic(fd, &ss, len, argc - 3, argv + 3);
	return probe_one(fd, &ss, len, argc - 2, argv + 2);
}
