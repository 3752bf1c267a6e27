/*
 * Unit tests for lib/csess.c: the hex vectors of proto/control-session.md
 * (made by an independent implementation), handshakes with and without
 * payloads, tampering with every byte, a wrong pinned key, the frame
 * reader at every split, limits and counter sequencing.
 *
 * The spec is read from $LR_SRCDIR/proto/control-session.md, or
 * proto/control-session.md relative to the current directory.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/csess.h"

#define MAXVEC		64
#define MAXHEX		512
#define BIG		(2 * (CSESS_HDR_LEN + CSESS_BODY_MAX))

struct vec {
	char		 name[32];
	uint8_t		 b[MAXHEX];
	size_t		 len;
};

static struct vec	 vecs[MAXVEC];
static size_t		 nvecs;

static uint8_t		 s_i[32], s_r[32], pub_i[32], pub_r[32];
static uint8_t		 big1[BIG], big2[BIG];

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	ck_abort_msg("bad hex digit %c", c);
	return (0);
}

static void
vec_hex(struct vec *v, const char *tok)
{
	size_t	 i, n = strlen(tok);

	if (strcmp(tok, "-") == 0)
		return;
	ck_assert_msg(n % 2 == 0, "%s: odd hex", v->name);
	for (i = 0; i < n; i += 2) {
		ck_assert_msg(v->len < MAXHEX, "%s: too long", v->name);
		v->b[v->len++] = hexval(tok[i]) << 4 | hexval(tok[i + 1]);
	}
}

/* One logical line: "vector NAME HEX..." with continuations joined. */
static void
vec_parse(char *line)
{
	struct vec	*v;
	char		*tok, *save;

	ck_assert_uint_lt(nvecs, MAXVEC);
	v = &vecs[nvecs++];
	memset(v, 0, sizeof(*v));
	strtok_r(line, " \t\r\n\\", &save);
	tok = strtok_r(NULL, " \t\r\n\\", &save);
	ck_assert_ptr_nonnull(tok);
	ck_assert_uint_lt(strlen(tok), sizeof(v->name));
	strcpy(v->name, tok);
	while ((tok = strtok_r(NULL, " \t\r\n\\", &save)) != NULL)
		vec_hex(v, tok);
}

static void
vec_load(void)
{
	const char	*dir;
	char		 path[4096], line[256], logical[4096];
	FILE		*f;
	bool		 cont = false;
	size_t		 n;

	if (nvecs > 0)
		return;
	if ((dir = getenv("LR_SRCDIR")) != NULL)
		snprintf(path, sizeof(path), "%s/proto/control-session.md",
		    dir);
	else
		snprintf(path, sizeof(path), "proto/control-session.md");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (!cont && strncmp(line, "vector ", 7) != 0)
			continue;
		if (!cont)
			logical[0] = '\0';
		ck_assert_uint_lt(strlen(logical) + strlen(line),
		    sizeof(logical));
		strcat(logical, line);
		n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		cont = n > 0 && line[n - 1] == '\\';
		if (!cont)
			vec_parse(logical);
	}
	fclose(f);
	ck_assert_msg(nvecs > 0, "%s: no test vectors", path);
}

static const struct vec *
vec(const char *name)
{
	size_t	 i;

	vec_load();
	for (i = 0; i < nvecs; i++)
		if (strcmp(vecs[i].name, name) == 0)
			return (&vecs[i]);
	ck_abort_msg("no vector %s", name);
	return (NULL);
}

static void
keys_setup(void)
{
	randombytes_buf(s_i, sizeof(s_i));
	randombytes_buf(s_r, sizeof(s_r));
	crypto_scalarmult_curve25519_base(pub_i, s_i);
	crypto_scalarmult_curve25519_base(pub_r, s_r);
}

/* The body of the frame at the start of b (whose header must be right). */
static const uint8_t *
body_of(const struct buf *b, size_t *len)
{
	ck_assert_uint_ge(b->len, CSESS_HDR_LEN);
	*len = (size_t)b->data[0] << 8 | b->data[1];
	ck_assert_uint_eq(*len + CSESS_HDR_LEN, b->len);
	return (b->data + CSESS_HDR_LEN);
}

/* Run a handshake between ini and resp; msg1/msg2 keep the frames. */
static void
handshake(struct csess *ini, struct csess *resp, const void *p1, size_t l1,
    const void *p2, size_t l2, struct buf *m1, struct buf *m2)
{
	uint8_t		 pl[CSESS_BODY_MAX], rs[32], ts[12], now[12];
	struct buf	 pb;
	const uint8_t	*body;
	size_t		 len;

	ck_assert_int_eq(csess_init_initiator(ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_init_responder(resp, s_r), 0);
	csess_tai64n_now(now);
	ck_assert_int_eq(csess_write_msg1(ini, m1, NULL, p1, l1), 0);
	ck_assert_uint_eq(m1->len, CSESS_HDR_LEN + CSESS_MSG1_OVERHEAD + l1);
	buf_init_fixed(&pb, pl, sizeof(pl));
	body = body_of(m1, &len);
	ck_assert_int_eq(csess_read_msg1(resp, body, len, rs, ts, &pb), 0);
	ck_assert_mem_eq(rs, pub_i, 32);
	ck_assert_mem_eq(csess_remote_static(resp), pub_i, 32);
	ck_assert(memcmp(ts, now, 8) >= 0);
	ck_assert_uint_eq(pb.len, l1);
	if (l1 > 0)
		ck_assert_mem_eq(pl, p1, l1);
	ck_assert_int_eq(csess_write_msg2(resp, m2, p2, l2), 0);
	ck_assert_uint_eq(m2->len, CSESS_HDR_LEN + CSESS_MSG2_OVERHEAD + l2);
	buf_reset(&pb);
	body = body_of(m2, &len);
	ck_assert_int_eq(csess_read_msg2(ini, body, len, &pb), 0);
	ck_assert_uint_eq(pb.len, l2);
	if (l2 > 0)
		ck_assert_mem_eq(pl, p2, l2);
	ck_assert(csess_established(ini) && csess_established(resp));
	ck_assert_mem_eq(csess_handshake_hash(ini),
	    csess_handshake_hash(resp), 32);
}

static void
pair(struct csess *ini, struct csess *resp)
{
	uint8_t		 a[256], b[256];
	struct buf	 m1, m2;

	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&m2, b, sizeof(b));
	handshake(ini, resp, NULL, 0, NULL, 0, &m1, &m2);
}

/* Seal len bytes on from, open them on to, compare. */
static void
transfer(struct csess *from, struct csess *to, const uint8_t *p, size_t len)
{
	struct buf	 out, pt;
	const uint8_t	*body;
	size_t		 blen;

	buf_init_fixed(&out, big1, sizeof(big1));
	buf_init_fixed(&pt, big2, sizeof(big2));
	ck_assert_int_eq(csess_seal(from, &out, p, len), 0);
	body = body_of(&out, &blen);
	ck_assert_uint_eq(blen, len + CSESS_TAG_LEN);
	ck_assert_int_eq(csess_open(to, body, blen, &pt), 0);
	ck_assert_uint_eq(pt.len, len);
	if (len > 0)
		ck_assert_mem_eq(big2, p, len);
}

/* Seal each t.plain_* and compare with t.frame_*, then open the frame. */
static void
vector_frame(struct csess *from, struct csess *to, const char *dir)
{
	uint8_t		 out[256], pl[256];
	struct buf	 b, pb;
	char		 n[32];
	const struct vec *plain, *frame;

	snprintf(n, sizeof(n), "t.plain_%s", dir);
	plain = vec(n);
	snprintf(n, sizeof(n), "t.frame_%s", dir);
	frame = vec(n);
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(csess_seal(from, &b, plain->b, plain->len), 0);
	ck_assert_uint_eq(b.len, frame->len);
	ck_assert_mem_eq(out, frame->b, frame->len);
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_open(to, frame->b + 2, frame->len - 2, &pb), 0);
	ck_assert_uint_eq(pb.len, plain->len);
	ck_assert_mem_eq(pl, plain->b, plain->len);
}

static void
vector_transport(struct csess *ini, struct csess *resp)
{
	vector_frame(ini, resp, "i2r");
	vector_frame(resp, ini, "r2i");
	vector_frame(ini, resp, "i2r_1");
}

static void
vector_handshake(const char *tag)
{
	struct csess	 ini, resp;
	uint8_t		 m1[256], m2[256], pl[256], rs[32], ts[12];
	struct buf	 b1, b2, pb;
	char		 n[32];
	const struct vec *v1, *v2, *msg1, *msg2;

	ck_assert_int_eq(csess_init_initiator(&ini, vec("init_static")->b,
	    vec("resp_public")->b), 0);
	ck_assert_int_eq(csess_init_responder(&resp, vec("resp_static")->b), 0);
	csess_set_ephemeral(&ini, vec("init_ephemeral")->b);
	csess_set_ephemeral(&resp, vec("resp_ephemeral")->b);
	snprintf(n, sizeof(n), "%s.payload1", tag);
	v1 = vec(n);
	snprintf(n, sizeof(n), "%s.payload2", tag);
	v2 = vec(n);
	snprintf(n, sizeof(n), "%s.msg1", tag);
	msg1 = vec(n);
	snprintf(n, sizeof(n), "%s.msg2", tag);
	msg2 = vec(n);

	buf_init_fixed(&b1, m1, sizeof(m1));
	ck_assert_int_eq(csess_write_msg1(&ini, &b1, vec("timestamp")->b,
	    v1->b, v1->len), 0);
	ck_assert_uint_eq(b1.len, msg1->len);
	ck_assert_mem_eq(m1, msg1->b, msg1->len);

	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_read_msg1(&resp, msg1->b + 2, msg1->len - 2,
	    rs, ts, &pb), 0);
	ck_assert_mem_eq(rs, vec("init_public")->b, 32);
	ck_assert_mem_eq(ts, vec("timestamp")->b, 12);
	ck_assert_uint_eq(pb.len, v1->len);
	ck_assert_mem_eq(pl, v1->b, v1->len);

	buf_init_fixed(&b2, m2, sizeof(m2));
	ck_assert_int_eq(csess_write_msg2(&resp, &b2, v2->b, v2->len), 0);
	ck_assert_uint_eq(b2.len, msg2->len);
	ck_assert_mem_eq(m2, msg2->b, msg2->len);
	buf_reset(&pb);
	ck_assert_int_eq(csess_read_msg2(&ini, msg2->b + 2, msg2->len - 2,
	    &pb), 0);
	ck_assert_uint_eq(pb.len, v2->len);
	ck_assert_mem_eq(pl, v2->b, v2->len);

	snprintf(n, sizeof(n), "%s.hash", tag);
	ck_assert_mem_eq(csess_handshake_hash(&ini), vec(n)->b, 32);
	ck_assert_mem_eq(csess_handshake_hash(&resp), vec(n)->b, 32);
	vector_transport(&ini, &resp);
	csess_wipe(&ini);
	csess_wipe(&resp);
}

START_TEST(vectors)
{
	uint8_t	 pub[32];

	ck_assert_int_eq(crypto_scalarmult_curve25519_base(pub,
	    vec("init_static")->b), 0);
	ck_assert_mem_eq(pub, vec("init_public")->b, 32);
	ck_assert_int_eq(crypto_scalarmult_curve25519_base(pub,
	    vec("resp_static")->b), 0);
	ck_assert_mem_eq(pub, vec("resp_public")->b, 32);
	vector_handshake("a");
	vector_handshake("b");
}
END_TEST

START_TEST(handshake_payloads)
{
	static const char	 hello[] = "hello, server", hi[] = "hi, node";
	struct csess		 ini, resp;
	uint8_t			 a[256], b[256], p[1000];
	struct buf		 m1, m2;
	int			 i;

	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&m2, b, sizeof(b));
	handshake(&ini, &resp, hello, sizeof(hello), hi, sizeof(hi), &m1,
	    &m2);
	randombytes_buf(p, sizeof(p));
	for (i = 0; i < 50; i++) {
		transfer(&ini, &resp, p, (size_t)i * 20);
		transfer(&resp, &ini, p, sizeof(p) - (size_t)i);
		transfer(&resp, &ini, p, 0);
	}
	ck_assert(ini.send.n == 50 && ini.recv.n == 100);
	csess_wipe(&ini);
	ck_assert(!csess_established(&ini));
	ck_assert_ptr_null(csess_remote_static(&ini));
	ck_assert(sodium_is_zero((uint8_t *)&ini, sizeof(ini)));
}
END_TEST

START_TEST(handshake_empty)
{
	struct csess	 ini, resp;
	uint8_t		 p[3] = { 1, 2, 3 };

	pair(&ini, &resp);
	transfer(&ini, &resp, p, sizeof(p));
	transfer(&resp, &ini, p, sizeof(p));
}
END_TEST

START_TEST(handshake_limits)
{
	struct csess	 ini, resp;
	struct buf	 m1, m2;
	static uint8_t	 p[CSESS_BODY_MAX];

	buf_init_fixed(&m1, big1, sizeof(big1));
	buf_init_fixed(&m2, big2, sizeof(big2));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, p,
	    CSESS_MSG1_PAYLOAD_MAX + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(m1.len, 0);
	handshake(&ini, &resp, p, CSESS_MSG1_PAYLOAD_MAX, p,
	    CSESS_MSG2_PAYLOAD_MAX, &m1, &m2);
	ck_assert_uint_eq(m1.len, CSESS_HDR_LEN + CSESS_BODY_MAX);
	ck_assert_uint_eq(m2.len, CSESS_HDR_LEN + CSESS_BODY_MAX);
	transfer(&ini, &resp, p, CSESS_PLAINTEXT_MAX);
	buf_init_fixed(&m1, big1, sizeof(big1));
	ck_assert_int_eq(csess_seal(&ini, &m1, p, CSESS_PLAINTEXT_MAX + 1),
	    -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	transfer(&resp, &ini, p, CSESS_PLAINTEXT_MAX);
}
END_TEST

START_TEST(state_errors)
{
	struct csess	 ini, resp;
	uint8_t		 a[256], out[256];
	struct buf	 m1, b;
	const uint8_t	*body;
	size_t		 len;

	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&b, out, sizeof(out));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_seal(&ini, &b, "x", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(csess_write_msg2(&resp, &b, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(csess_handshake_hash(&ini));
	ck_assert_ptr_null(csess_remote_static(&resp));
	/* A full output buffer fails without harm. */
	buf_init_fixed(&b, out, CSESS_MSG1_OVERHEAD);
	ck_assert_int_eq(csess_write_msg1(&ini, &b, NULL, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, NULL, 0), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	body = body_of(&m1, &len);
	buf_init_fixed(&b, out, 11);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &b),
	    -1);
	ck_assert_int_eq(errno, ENOBUFS);
	buf_init_fixed(&b, out, 12);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &b),
	    0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &b),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_read_msg2(&resp, body, len, &b), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* Flip each bit position of msg1 in turn: the responder refuses it. */
START_TEST(tamper_msg1)
{
	struct csess	 ini, resp;
	uint8_t		 a[256], m[256], pl[256];
	struct buf	 m1, pb;
	const uint8_t	*body;
	size_t		 len, i;

	buf_init_fixed(&m1, a, sizeof(a));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, "abc", 3), 0);
	body = body_of(&m1, &len);
	buf_init_fixed(&pb, pl, sizeof(pl));
	for (i = 0; i < len * 8; i++) {
		memcpy(m, body, len);
		m[i / 8] ^= 1 << (i % 8);
		ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
		ck_assert_int_eq(csess_read_msg1(&resp, m, len, NULL, NULL,
		    &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(pb.len, 0);
		ck_assert(!csess_established(&resp));
		ck_assert(sodium_is_zero((uint8_t *)&resp, sizeof(resp)));
	}
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
		ck_assert_int_eq(csess_read_msg1(&resp, body, i, NULL, NULL,
		    &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
	}
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &pb),
	    0);
}
END_TEST

START_TEST(tamper_msg2)
{
	struct csess	 ini, resp, saved;
	uint8_t		 a[256], b[256], m[256], pl[256];
	struct buf	 m1, m2, pb;
	const uint8_t	*body;
	size_t		 len, i;

	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&m2, b, sizeof(b));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, NULL, 0), 0);
	body = body_of(&m1, &len);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &pb),
	    0);
	ck_assert_int_eq(csess_write_msg2(&resp, &m2, "ok", 2), 0);
	saved = ini;
	body = body_of(&m2, &len);
	for (i = 0; i < len * 8; i++) {
		memcpy(m, body, len);
		m[i / 8] ^= 1 << (i % 8);
		ini = saved;
		ck_assert_int_eq(csess_read_msg2(&ini, m, len, &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(pb.len, 0);
		ck_assert(ini.state == CSESS_DEAD);
	}
	for (i = 0; i < len; i++) {
		ini = saved;
		ck_assert_int_eq(csess_read_msg2(&ini, body, i, &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
	}
	ini = saved;
	ck_assert_int_eq(csess_read_msg2(&ini, body, len, &pb), 0);
	ck_assert_uint_eq(pb.len, 2);
}
END_TEST

START_TEST(tamper_frame)
{
	struct csess	 ini, resp, saved;
	uint8_t		 out[256], m[256], pl[256];
	struct buf	 b, pb;
	const uint8_t	*body;
	size_t		 len, i;

	pair(&ini, &resp);
	buf_init_fixed(&b, out, sizeof(out));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_seal(&ini, &b, "status", 6), 0);
	body = body_of(&b, &len);
	saved = resp;
	for (i = 0; i < len * 8; i++) {
		memcpy(m, body, len);
		m[i / 8] ^= 1 << (i % 8);
		resp = saved;
		ck_assert_int_eq(csess_open(&resp, m, len, &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_uint_eq(pb.len, 0);
		/* Dead: even the genuine frame is refused now. */
		ck_assert_int_eq(csess_open(&resp, body, len, &pb), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	for (i = 0; i < len; i++) {
		resp = saved;
		ck_assert_int_eq(csess_open(&resp, body, i, &pb), -1);
		ck_assert_int_eq(errno, EBADMSG);
	}
	resp = saved;
	/* The wrong direction's key does not open it either. */
	ck_assert_int_eq(csess_open(&ini, body, len, &pb), -1);
	ck_assert_int_eq(csess_open(&resp, body, len, &pb), 0);
	ck_assert_mem_eq(pl, "status", 6);
}
END_TEST

START_TEST(wrong_server_key)
{
	struct csess	 ini, resp;
	uint8_t		 a[256], other[32], other_pub[32], pl[256];
	struct buf	 m1, pb;
	const uint8_t	*body;
	size_t		 len;

	randombytes_buf(other, sizeof(other));
	crypto_scalarmult_curve25519_base(other_pub, other);
	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, other_pub), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, "hi", 2), 0);
	body = body_of(&m1, &len);
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &pb),
	    -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* A pinned small-order point cannot start a session at all. */
	memset(other_pub, 0, sizeof(other_pub));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, other_pub), 0);
	buf_reset(&m1);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(m1.len, 0);
	ck_assert(ini.state == CSESS_DEAD);
}
END_TEST

START_TEST(zero_ephemeral)
{
	struct csess	 ini, resp;
	uint8_t		 a[256], pl[256];
	struct buf	 m1, pb;
	const uint8_t	*body;
	size_t		 len;

	buf_init_fixed(&m1, a, sizeof(a));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &m1, NULL, NULL, 0), 0);
	body = body_of(&m1, &len);
	memset(a + 2, 0, 32);
	ck_assert_int_eq(csess_init_responder(&resp, s_r), 0);
	ck_assert_int_eq(csess_read_msg1(&resp, body, len, NULL, NULL, &pb),
	    -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

START_TEST(counter_sequence)
{
	struct csess	 ini, resp, saved;
	uint8_t		 out[256], pl[256];
	struct buf	 b, pb;
	size_t		 l0, l1;

	pair(&ini, &resp);
	buf_init_fixed(&b, out, sizeof(out));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ck_assert_int_eq(csess_seal(&ini, &b, "zero", 4), 0);
	l0 = b.len;
	ck_assert_int_eq(csess_seal(&ini, &b, "one", 3), 0);
	l1 = b.len - l0;
	saved = resp;
	/* Reordered: frame 1 first. */
	ck_assert_int_eq(csess_open(&resp, out + l0 + 2, l1 - 2, &pb), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert(resp.state == CSESS_DEAD);
	/* Replayed: frame 0 twice. */
	resp = saved;
	ck_assert_int_eq(csess_open(&resp, out + 2, l0 - 2, &pb), 0);
	ck_assert_int_eq(csess_open(&resp, out + 2, l0 - 2, &pb), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* In order. */
	resp = saved;
	buf_reset(&pb);
	ck_assert_int_eq(csess_open(&resp, out + 2, l0 - 2, &pb), 0);
	ck_assert_int_eq(csess_open(&resp, out + l0 + 2, l1 - 2, &pb), 0);
	ck_assert_mem_eq(pl, "zeroone", 7);
}
END_TEST

START_TEST(counter_limit)
{
	struct csess	 ini, resp;
	uint8_t		 out[256], pl[256];
	struct buf	 b, pb;

	pair(&ini, &resp);
	buf_init_fixed(&b, out, sizeof(out));
	buf_init_fixed(&pb, pl, sizeof(pl));
	ini.send.n = CSESS_MAX_MESSAGES - 1;
	resp.recv.n = CSESS_MAX_MESSAGES - 1;
	ck_assert_int_eq(csess_seal(&ini, &b, "last", 4), 0);
	ck_assert_int_eq(csess_open(&resp, out + 2, b.len - 2, &pb), 0);
	ck_assert_int_eq(csess_seal(&ini, &b, "more", 4), -1);
	ck_assert_int_eq(errno, EOVERFLOW);
	ck_assert(ini.state == CSESS_DEAD);
	ck_assert_int_eq(csess_open(&resp, out + 2, b.len - 2, &pb), -1);
	ck_assert_int_eq(errno, EOVERFLOW);
}
END_TEST

/* A stream of a handshake frame and transport frames of mixed sizes. */
static size_t
make_stream(uint8_t *s, size_t cap, size_t *lens, size_t *nframes)
{
	struct csess	 ini, resp;
	struct buf	 b;
	size_t		 i, before;
	uint8_t		 p[300];

	memset(p, 0x5a, sizeof(p));
	buf_init_fixed(&b, s, cap);
	ck_assert_int_eq(csess_init_initiator(&ini, s_i, pub_r), 0);
	ck_assert_int_eq(csess_write_msg1(&ini, &b, NULL, p, 7), 0);
	lens[0] = b.len - 2;
	pair(&ini, &resp);
	for (i = 1; i < 6; i++) {
		before = b.len;
		ck_assert_int_eq(csess_seal(&ini, &b, p, (i * 61) % 300), 0);
		lens[i] = b.len - before - 2;
	}
	*nframes = i;
	return (b.len);
}

/* Feed s[0..len) in chunks of chunk bytes; check each frame. */
static void
feed(const uint8_t *s, size_t len, size_t split, size_t step,
    const size_t *lens, size_t nframes)
{
	struct csess_reader	 r;
	const uint8_t		*in, *body;
	size_t			 inlen, blen, off = 0, got = 0, pos = 0, n;
	int			 rc;

	ck_assert_int_eq(csess_reader_init(&r, 1000), 0);
	while (off < len) {
		n = off < split ? split - off : step;
		if (n > len - off)
			n = len - off;
		in = s + off;
		inlen = n;
		off += n;
		while ((rc = csess_reader_next(&r, &in, &inlen, &body,
		    &blen)) == 1) {
			ck_assert_uint_lt(got, nframes);
			ck_assert_uint_eq(blen, lens[got]);
			ck_assert_mem_eq(body, s + pos + 2, blen);
			pos += 2 + blen;
			got++;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(inlen, 0);
	}
	ck_assert_uint_eq(got, nframes);
	csess_reader_free(&r);
}

START_TEST(reader_splits)
{
	uint8_t	 s[4096];
	size_t	 lens[8], nframes, len, i;

	len = make_stream(s, sizeof(s), lens, &nframes);
	feed(s, len, len, len, lens, nframes);
	for (i = 1; i < len; i++)
		feed(s, len, i, len, lens, nframes);
	feed(s, len, 0, 1, lens, nframes);
	feed(s, len, 0, 3, lens, nframes);
	feed(s, len, 0, 150, lens, nframes);
}
END_TEST

START_TEST(reader_limits)
{
	struct csess_reader	 r;
	const uint8_t		*in, *body;
	size_t			 inlen, blen;
	uint8_t			 s[200];

	ck_assert_int_eq(csess_reader_init(&r, 15), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(csess_reader_init(&r, 65536), -1);
	ck_assert_int_eq(errno, EINVAL);

	memset(s, 0, sizeof(s));
	ck_assert_int_eq(csess_reader_init(&r, 100), 0);
	s[1] = 100;
	in = s;
	inlen = 102;
	ck_assert_int_eq(csess_reader_next(&r, &in, &inlen, &body, &blen), 1);
	ck_assert_uint_eq(blen, 100);
	s[1] = 101;
	in = s;
	inlen = sizeof(s);
	ck_assert_int_eq(csess_reader_next(&r, &in, &inlen, &body, &blen), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(csess_reader_next(&r, &in, &inlen, &body, &blen), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	csess_reader_free(&r);

	ck_assert_int_eq(csess_reader_init(&r, CSESS_BODY_MAX), 0);
	s[0] = 0xff;
	s[1] = 0xff;
	in = s;
	inlen = 2;
	ck_assert_int_eq(csess_reader_next(&r, &in, &inlen, &body, &blen), 0);
	csess_reader_free(&r);

	ck_assert_int_eq(csess_reader_init(&r, CSESS_BODY_MAX), 0);
	s[0] = 0;
	s[1] = 15;
	in = s;
	inlen = sizeof(s);
	ck_assert_int_eq(csess_reader_next(&r, &in, &inlen, &body, &blen), -1);
	ck_assert_int_eq(errno, EBADMSG);
	csess_reader_free(&r);
}
END_TEST

static Suite *
csess_suite(void)
{
	Suite	*s = suite_create("csess");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, keys_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, vectors);
	tcase_add_test(tc, handshake_payloads);
	tcase_add_test(tc, handshake_empty);
	tcase_add_test(tc, handshake_limits);
	tcase_add_test(tc, state_errors);
	tcase_add_test(tc, tamper_msg1);
	tcase_add_test(tc, tamper_msg2);
	tcase_add_test(tc, tamper_frame);
	tcase_add_test(tc, wrong_server_key);
	tcase_add_test(tc, zero_ephemeral);
	tcase_add_test(tc, counter_sequence);
	tcase_add_test(tc, counter_limit);
	tcase_add_test(tc, reader_splits);
	tcase_add_test(tc, reader_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (sodium_init() == -1)
		return EXIT_FAILURE;
	sr = srunner_create(csess_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
