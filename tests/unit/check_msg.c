/* Unit tests for lib/msg.c: framing, fd passing, bounds, no fd leaks. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"

#define T_MAXMSG	1024
#define T_WQMAX		(64 * 1024)

static int	 sv[2];		/* sv[0]: channel a, sv[1]: channel b */
static struct msgchan	 a, b;
static int	 fds_before;

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
setup(void)
{
	fds_before = count_fds();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(msgchan_init(&a, sv[0], T_MAXMSG, T_WQMAX), 0);
	ck_assert_int_eq(msgchan_init(&b, sv[1], T_MAXMSG, T_WQMAX), 0);
}

static void
teardown(void)
{
	msgchan_clear(&a);
	msgchan_clear(&b);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	ck_assert_int_eq(count_fds(), fds_before);
}

static void
raw_hdr(uint8_t *p, uint16_t type, uint8_t ver, uint8_t flags, uint32_t len,
    uint32_t id, uint32_t pid)
{
	p[0] = type >> 8;
	p[1] = type;
	p[2] = ver;
	p[3] = flags;
	p[4] = len >> 24;
	p[5] = len >> 16;
	p[6] = len >> 8;
	p[7] = len;
	p[8] = id >> 24;
	p[9] = id >> 16;
	p[10] = id >> 8;
	p[11] = id;
	p[12] = pid >> 24;
	p[13] = pid >> 16;
	p[14] = pid >> 8;
	p[15] = pid;
}

/* Write raw bytes to sd, with fd (or -1) on the first byte. */
static void
raw_send(int sd, const void *p, size_t len, int fd)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(int))];
	}		 cbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;

	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(sd, &mh, 0), (ssize_t)len);
}

/* Read until one frame is complete. */
static void
get_one(struct msgchan *mc, struct msg *m)
{
	int	 r;

	while ((r = msgchan_get(mc, m)) == 0)
		ck_assert_int_gt(msgchan_read(mc), 0);
	ck_assert_int_eq(r, 1);
}

START_TEST(roundtrip)
{
	struct msg	 m;

	ck_assert_int_eq(msgchan_compose(&a, 7, 1, 42, 99, -1, "hello", 5), 0);
	ck_assert_int_eq(msgchan_compose(&a, 8, 2, 43, 99, -1, NULL, 0), 0);
	ck_assert_uint_eq(msgchan_queued(&a), 2 * MSG_HDR_LEN + 5);
	ck_assert_int_eq(msgchan_flush(&a), 0);
	ck_assert_uint_eq(msgchan_queued(&a), 0);

	get_one(&b, &m);
	ck_assert_uint_eq(m.hdr.type, 7);
	ck_assert_uint_eq(m.hdr.version, 1);
	ck_assert_uint_eq(m.hdr.flags, 0);
	ck_assert_uint_eq(m.hdr.len, 5);
	ck_assert_uint_eq(m.hdr.id, 42);
	ck_assert_uint_eq(m.hdr.pid, 99);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_mem_eq(m.data, "hello", 5);
	ck_assert_int_eq(m.fd, -1);
	msg_free(&m);

	get_one(&b, &m);
	ck_assert_uint_eq(m.hdr.type, 8);
	ck_assert_uint_eq(m.len, 0);
	msg_free(&m);

	/* And back the other way. */
	ck_assert_int_eq(msgchan_compose(&b, 9, 1, 1, 2, -1, "x", 1), 0);
	ck_assert_int_eq(msgchan_flush(&b), 0);
	get_one(&a, &m);
	ck_assert_uint_eq(m.hdr.type, 9);
	ck_assert_mem_eq(m.data, "x", 1);
	msg_free(&m);
	ck_assert_int_eq(msgchan_get(&a, &m), 0);
}
END_TEST

START_TEST(header_bytes)
{
	static const uint8_t	 want[] = {
		0x12, 0x34,			/* type */
		0x56,				/* version */
		0x00,				/* flags */
		0x00, 0x00, 0x00, 0x03,		/* len */
		0x9a, 0xbc, 0xde, 0xf0,		/* id */
		0x0a, 0x0b, 0x0c, 0x0d,		/* pid */
		'a', 'b', 'c'
	};
	uint8_t			 got[64];
	size_t			 i;

	ck_assert_int_eq(msgchan_compose(&a, 0x1234, 0x56, 0x9abcdef0,
	    0x0a0b0c0d, -1, "abc", 3), 0);
	ck_assert_int_eq(msgchan_flush(&a), 0);
	ck_assert_int_eq(read(sv[1], got, sizeof(got)), sizeof(want));
	for (i = 0; i < sizeof(want); i++)
		ck_assert_msg(got[i] == want[i], "byte %zu: %02x != %02x",
		    i, got[i], want[i]);
}
END_TEST

START_TEST(fd_passing)
{
	struct msg	 m;
	int		 p[2], fd;
	char		 c;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, p[1], "w", 1), 0);
	/* The caller keeps its copy; the queue owns a dup. */
	close(p[1]);
	ck_assert_int_eq(msgchan_flush(&a), 0);

	get_one(&b, &m);
	ck_assert_uint_eq(m.hdr.flags, MSG_F_FD);
	ck_assert_int_ge(m.fd, 0);
	ck_assert_int_ne(fcntl(m.fd, F_GETFD) & FD_CLOEXEC, 0);
	fd = msg_take_fd(&m);
	ck_assert_int_eq(m.fd, -1);
	msg_free(&m);
	ck_assert_int_eq(write(fd, "z", 1), 1);
	close(fd);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	/* Every write end is gone: sender's dup and receiver's copy. */
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
}
END_TEST

START_TEST(fd_not_taken_is_closed)
{
	struct msg	 m;
	int		 p[2];
	char		 c;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, p[1], NULL, 0), 0);
	close(p[1]);
	ck_assert_int_eq(msgchan_flush(&a), 0);
	get_one(&b, &m);
	msg_free(&m);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
}
END_TEST

START_TEST(partial_reads)
{
	uint8_t		 frame[MSG_HDR_LEN + 4];
	struct msg	 m;
	size_t		 i;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	raw_hdr(frame, 3, 1, MSG_F_FD, 4, 5, 6);
	memcpy(frame + MSG_HDR_LEN, "data", 4);
	for (i = 0; i < sizeof(frame); i++) {
		ck_assert_int_eq(msgchan_get(&a, &m), 0);
		raw_send(sv[1], frame + i, 1, i == 0 ? p[1] : -1);
		ck_assert_int_eq(msgchan_read(&a), 1);
	}
	close(p[1]);
	ck_assert_int_eq(msgchan_get(&a, &m), 1);
	ck_assert_uint_eq(m.hdr.type, 3);
	ck_assert_uint_eq(m.hdr.id, 5);
	ck_assert_uint_eq(m.hdr.pid, 6);
	ck_assert_mem_eq(m.data, "data", 4);
	ck_assert_int_ge(m.fd, 0);
	msg_free(&m);
	ck_assert_int_eq(msgchan_get(&a, &m), 0);
	ck_assert_int_eq(msgchan_read(&a), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(p[0]);
}
END_TEST

START_TEST(several_per_read)
{
	struct msg	 m;
	uint32_t	 i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(msgchan_compose(&a, 10 + i, 1, i, 0, -1,
		    &i, sizeof(i)), 0);
	ck_assert_int_eq(msgchan_flush(&a), 0);
	ck_assert_int_eq(msgchan_read(&b), 5 * (MSG_HDR_LEN + sizeof(i)));
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(msgchan_get(&b, &m), 1);
		ck_assert_uint_eq(m.hdr.type, 10 + i);
		ck_assert_uint_eq(m.hdr.id, i);
		ck_assert_int_eq(msg_expect_len(&m, sizeof(i)), 0);
		ck_assert_mem_eq(m.data, &i, sizeof(i));
		msg_free(&m);
	}
	ck_assert_int_eq(msgchan_get(&b, &m), 0);
}
END_TEST

/* Frames interleaved with fds, pushed through a tiny socket buffer. */
START_TEST(partial_writes)
{
	static uint8_t	 payload[T_MAXMSG];
	struct msg	 m;
	int		 p[2], sz = 1024, r, i, got = 0;
	char		 c;

	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	ck_assert_int_eq(pipe(p), 0);
	for (i = 0; i < 40; i++) {
		memset(payload, i, sizeof(payload));
		ck_assert_int_eq(msgchan_compose(&a, i, 1, i, 0,
		    i % 3 == 1 ? p[1] : -1, payload, sizeof(payload)), 0);
	}
	close(p[1]);
	ck_assert_int_eq(msgchan_flush(&a), 1);
	while (got < 40) {
		r = msgchan_flush(&a);
		ck_assert_int_ne(r, -1);
		if (msgchan_read(&b) == -1)
			ck_assert_int_eq(errno, EAGAIN);
		while ((r = msgchan_get(&b, &m)) == 1) {
			ck_assert_uint_eq(m.hdr.type, got);
			ck_assert_uint_eq(m.len, sizeof(payload));
			ck_assert_uint_eq(m.data[0], got);
			ck_assert_uint_eq(m.data[m.len - 1], got);
			if (got % 3 == 1) {
				ck_assert_int_ge(m.fd, 0);
				ck_assert_int_eq(write(m.fd, "y", 1), 1);
			} else
				ck_assert_int_eq(m.fd, -1);
			msg_free(&m);
			got++;
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(msgchan_flush(&a), 0);
	for (i = 0; i < 13; i++)
		ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
}
END_TEST

START_TEST(oversized)
{
	static uint8_t	 big[T_MAXMSG + 1];
	uint8_t		 hdr[MSG_HDR_LEN];
	struct msg	 m;

	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, -1, big,
	    sizeof(big)), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, -1, big,
	    T_MAXMSG), 0);

	/* Refused on the header alone, before any payload. */
	raw_hdr(hdr, 1, 1, 0, T_MAXMSG + 1, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), -1);
	ck_assert_int_gt(msgchan_read(&a), 0);
	ck_assert_int_eq(msgchan_get(&a, &m), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
}
END_TEST

START_TEST(unknown_flag)
{
	uint8_t		 hdr[MSG_HDR_LEN];
	struct msg	 m;

	raw_hdr(hdr, 1, 1, 0x80, 0, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), -1);
	ck_assert_int_gt(msgchan_read(&a), 0);
	ck_assert_int_eq(msgchan_get(&a, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

START_TEST(fd_flag_without_fd)
{
	uint8_t		 hdr[MSG_HDR_LEN];
	struct msg	 m;

	raw_hdr(hdr, 1, 1, MSG_F_FD, 0, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), -1);
	ck_assert_int_gt(msgchan_read(&a), 0);
	ck_assert_int_eq(msgchan_get(&a, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

/* An fd that came with a later frame is not this frame's fd. */
START_TEST(fd_flag_with_later_fd)
{
	uint8_t		 hdr[MSG_HDR_LEN];
	struct msg	 m;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	raw_hdr(hdr, 1, 1, MSG_F_FD, 0, 0, 0);
	raw_send(sv[1], hdr, 8, -1);
	ck_assert_int_eq(msgchan_read(&a), 8);
	raw_send(sv[1], hdr + 8, 8, -1);
	raw_hdr(hdr, 2, 1, MSG_F_FD, 0, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), p[1]);
	close(p[1]);
	while (msgchan_read(&a) > 0)
		;
	ck_assert_int_eq(msgchan_get(&a, &m), -1);
	ck_assert_int_eq(errno, EBADMSG);
	close(p[0]);
}
END_TEST

/* An fd sent with a frame that is not flagged must not leak. */
START_TEST(fd_on_unflagged_frame)
{
	uint8_t		 hdr[MSG_HDR_LEN];
	struct msg	 m;
	int		 p[2];
	char		 c;

	ck_assert_int_eq(pipe(p), 0);
	raw_hdr(hdr, 1, 1, 0, 0, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), p[1]);
	close(p[1]);
	raw_hdr(hdr, 2, 1, 0, 0, 0, 0);
	raw_send(sv[1], hdr, sizeof(hdr), -1);
	get_one(&a, &m);
	ck_assert_uint_eq(m.hdr.type, 1);
	ck_assert_int_eq(m.fd, -1);
	msg_free(&m);
	get_one(&a, &m);
	ck_assert_uint_eq(m.hdr.type, 2);
	msg_free(&m);
	ck_assert_uint_eq(a.nrfds, 0);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
}
END_TEST

START_TEST(too_many_fds)
{
	uint8_t		 byte = 0;
	int		 p[2], i;

	ck_assert_int_eq(pipe(p), 0);
	for (i = 0; i <= MSG_MAXFDS_QUEUED; i++)
		raw_send(sv[1], &byte, 1, p[1]);
	close(p[1]);
	for (i = 0; i < MSG_MAXFDS_QUEUED; i++)
		ck_assert_int_eq(msgchan_read(&a), 1);
	ck_assert_int_eq(msgchan_read(&a), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_uint_eq(a.nrfds, MSG_MAXFDS_QUEUED);
	close(p[0]);
}
END_TEST

START_TEST(two_fds_one_read)
{
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(2 * sizeof(int))];
	}		 cbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	uint8_t		 byte = 0;
	int		 p[2];

	ck_assert_int_eq(pipe(p), 0);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), p, 2 * sizeof(int));
	ck_assert_int_eq(sendmsg(sv[1], &mh, 0), 1);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(msgchan_read(&a), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_uint_eq(a.nrfds, 0);
}
END_TEST

START_TEST(queue_bound)
{
	static uint8_t	 pl[100];
	struct msgchan	 c;

	/* Exactly two full frames fit. */
	ck_assert_int_eq(msgchan_init(&c, sv[0], sizeof(pl),
	    2 * (MSG_HDR_LEN + sizeof(pl))), 0);
	ck_assert_int_eq(msgchan_compose(&c, 1, 1, 0, 0, -1, pl,
	    sizeof(pl)), 0);
	ck_assert_int_eq(msgchan_compose(&c, 1, 1, 0, 0, -1, pl,
	    sizeof(pl)), 0);
	ck_assert_int_eq(msgchan_compose(&c, 1, 1, 0, 0, -1, NULL, 0), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(msgchan_queued(&c), 2 * (MSG_HDR_LEN + sizeof(pl)));
	ck_assert_int_eq(msgchan_flush(&c), 0);
	ck_assert_int_eq(msgchan_compose(&c, 1, 1, 0, 0, -1, NULL, 0), 0);
	msgchan_clear(&c);

	ck_assert_int_eq(msgchan_init(&c, sv[0], 100, 115), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(expect_len)
{
	struct msg	 m;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	m.len = 4;
	ck_assert_int_eq(msg_expect_len(&m, 4), 0);
	ck_assert_int_eq(msg_expect_len(&m, 3), -1);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_int_eq(msg_expect_len(&m, 5), -1);
	ck_assert_int_eq(msg_take_fd(&m), -1);
	msg_free(&m);
}
END_TEST

START_TEST(eof)
{
	struct msg	 m;

	ck_assert_int_eq(msgchan_read(&a), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(msgchan_compose(&b, 1, 1, 0, 0, -1, NULL, 0), 0);
	ck_assert_int_eq(msgchan_flush(&b), 0);
	close(sv[1]);
	sv[1] = -1;
	ck_assert_int_eq(msgchan_read(&a), MSG_HDR_LEN);
	ck_assert_int_eq(msgchan_read(&a), 0);
	ck_assert_int_eq(msgchan_get(&a, &m), 1);
	msg_free(&m);
	/* Writing to the departed peer fails instead of raising SIGPIPE. */
	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, -1, NULL, 0), 0);
	ck_assert_int_eq(msgchan_flush(&a), -1);
	ck_assert_int_eq(errno, EPIPE);
}
END_TEST

/* Unsent frames and unclaimed fds are closed by clear. */
START_TEST(clear_closes)
{
	int	 p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(msgchan_compose(&a, 1, 1, 0, 0, p[0], NULL, 0), 0);
	raw_send(sv[1], "x", 1, p[1]);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(msgchan_read(&a), 1);
	ck_assert_uint_eq(a.nrfds, 1);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite	*s = suite_create("msg");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, header_bytes);
	tcase_add_test(tc, fd_passing);
	tcase_add_test(tc, fd_not_taken_is_closed);
	tcase_add_test(tc, partial_reads);
	tcase_add_test(tc, several_per_read);
	tcase_add_test(tc, partial_writes);
	tcase_add_test(tc, oversized);
	tcase_add_test(tc, unknown_flag);
	tcase_add_test(tc, fd_flag_without_fd);
	tcase_add_test(tc, fd_flag_with_later_fd);
	tcase_add_test(tc, fd_on_unflagged_frame);
	tcase_add_test(tc, too_many_fds);
	tcase_add_test(tc, two_fds_one_read);
	tcase_add_test(tc, queue_bound);
	tcase_add_test(tc, expect_len);
	tcase_add_test(tc, eof);
	tcase_add_test(tc, clear_closes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(msg_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
