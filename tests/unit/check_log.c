/* Unit tests for lib/log.c. */
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/log.h"

/* stderr is swapped for a temporary file while a test logs. */
static FILE	*cap_file;
static int	 cap_saved = -1;

static void
cap_start(void)
{
	fflush(stderr);
	ck_assert_ptr_nonnull(cap_file = tmpfile());
	ck_assert_int_ne(cap_saved = dup(STDERR_FILENO), -1);
	ck_assert_int_ne(dup2(fileno(cap_file), STDERR_FILENO), -1);
}

/* Restore stderr and return what was written, NUL-terminated. */
static char *
cap_end(char *out, size_t outlen)
{
	size_t	 n;

	fflush(stderr);
	ck_assert_int_ne(dup2(cap_saved, STDERR_FILENO), -1);
	close(cap_saved);
	rewind(cap_file);
	n = fread(out, 1, outlen - 1, cap_file);
	out[n] = '\0';
	fclose(cap_file);
	cap_file = NULL;
	return out;
}

static void
call_vlog(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

struct esc_case {
	const char	*in;
	size_t		 inlen;
	size_t		 dstlen;
	const char	*out;
};

static const struct esc_case esc_cases[] = {
	{ "hello", 5, 64, "hello" },
	{ "", 0, 64, "" },
	{ " ~", 2, 64, " ~" },
	{ "a\"b\\c", 5, 64, "a\\\"b\\\\c" },
	{ "\n\t\r", 3, 64, "\\x0a\\x09\\x0d" },
	{ "a\0b", 3, 64, "a\\x00b" },
	{ "\x1f\x7f\x80\xff", 4, 64, "\\x1f\\x7f\\x80\\xff" },
	{ "%s%n", 4, 64, "%s%n" },
	/* Exact fit: no dots. */
	{ "abcdefg", 7, 8, "abcdefg" },
	{ "ab\n", 3, 7, "ab\\x0a" },
	/* One too many: cut with "..." in the last three places. */
	{ "abcdefgh", 8, 8, "abcd..." },
	{ "abcdefghijklmnop", 16, 8, "abcd..." },
	/* Escapes are never split. */
	{ "a\nbcd", 5, 8, "a..." },
	{ "abc\"d", 5, 6, "ab..." },
	{ "ab\"cdef", 7, 8, "ab\\\"..." },
	{ "abc\"def", 7, 8, "abc..." },
	/* Tiny destinations. */
	{ "abcdef", 6, 1, "" },
	{ "abcdef", 6, 2, "." },
	{ "abcdef", 6, 3, ".." },
	{ "abcdef", 6, 4, "..." },
	{ "abcdef", 6, 5, "a..." },
	{ "\xff", 1, 4, "..." },
	{ "\xff", 1, 5, "\\xff" },
};

START_TEST(escape_table)
{
	const struct esc_case	*c = &esc_cases[_i];
	char			 dst[80];
	char			*r;

	memset(dst, 'Z', sizeof(dst));
	r = log_escape(dst, c->dstlen, c->in, c->inlen);
	ck_assert_ptr_eq(r, dst);
	ck_assert_msg(strcmp(dst, c->out) == 0, "case %d: got \"%s\", want "
	    "\"%s\"", _i, dst, c->out);
	ck_assert_uint_lt(strlen(dst), c->dstlen);
	/* Nothing written past dstlen. */
	ck_assert_int_eq(dst[c->dstlen], 'Z');
}
END_TEST

START_TEST(escape_zero_dst)
{
	char	 dst[4] = "xyz";

	ck_assert_ptr_eq(log_escape(dst, 0, "abc", 3), dst);
	ck_assert_str_eq(dst, "xyz");
	ck_assert_ptr_null(log_escape(NULL, 0, "abc", 3));
	ck_assert_str_eq(log_escape(dst, sizeof(dst), NULL, 0), "");
}
END_TEST

START_TEST(escape_all_bytes)
{
	unsigned char	 in[256];
	char		 dst[256 * 4 + 1];
	size_t		 i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = i;
	log_escape(dst, sizeof(dst), in, sizeof(in));
	/* 95 printables, two of them doubled, 161 others as \xHH. */
	ck_assert_uint_eq(strlen(dst), 93 + 2 * 2 + 161 * 4);
	for (i = 0; dst[i] != '\0'; i++)
		ck_assert(dst[i] >= 0x20 && dst[i] < 0x7f);
	ck_assert_ptr_eq(strstr(dst, "..."), NULL);
}
END_TEST

START_TEST(errno_preserved)
{
	char	 out[1024];

	log_init("t", 1, 1);
	cap_start();
	errno = EACCES;
	log_init("t", 1, 1);
	ck_assert_int_eq(errno, EACCES);
	log_info("info %d", 1);
	ck_assert_int_eq(errno, EACCES);
	log_debug("debug %s", "x");
	ck_assert_int_eq(errno, EACCES);
	log_warnx("warnx");
	ck_assert_int_eq(errno, EACCES);
	log_warn("warn");
	ck_assert_int_eq(errno, EACCES);
	call_vlog(LOG_NOTICE, "vlog %d", 2);
	ck_assert_int_eq(errno, EACCES);
	log_setverbose(0);
	log_debug("hidden");
	ck_assert_int_eq(errno, EACCES);
	errno = ENOENT;
	log_warn("second");
	ck_assert_int_eq(errno, ENOENT);
	cap_end(out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "info 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "debug x\n"));
	ck_assert_ptr_nonnull(strstr(out, "warnx\n"));
	ck_assert_ptr_nonnull(strstr(out, "vlog 2\n"));
	ck_assert_ptr_nonnull(strstr(out, "warn: Permission denied\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "second: No such file or directory\n"));
}
END_TEST

START_TEST(errno_preserved_syslog)
{
	/* The syslog path must keep errno too, even with no syslogd. */
	log_init("check_log", 0, 1);
	errno = EPERM;
	log_info("to syslog");
	log_warn("to syslog");
	log_debug("to syslog");
	ck_assert_int_eq(errno, EPERM);
	log_init("check_log", 1, 0);
}
END_TEST

START_TEST(verbosity)
{
	char	 out[1024];

	log_init("t", 1, 0);
	ck_assert_int_eq(log_getverbose(), 0);
	cap_start();
	log_debug("quiet-debug");
	call_vlog(LOG_DEBUG, "quiet-vlog");
	log_info("loud-info");
	log_setverbose(2);
	log_debug("loud-debug");
	cap_end(out, sizeof(out));
	ck_assert_int_eq(log_getverbose(), 2);
	ck_assert_ptr_null(strstr(out, "quiet"));
	ck_assert_ptr_nonnull(strstr(out, "loud-info"));
	ck_assert_ptr_nonnull(strstr(out, "loud-debug"));
}
END_TEST

START_TEST(warn_without_errno)
{
	char	 out[256];

	log_init(NULL, 1, 0);
	cap_start();
	errno = 0;
	log_warn("plain");
	cap_end(out, sizeof(out));
	ck_assert_str_eq(out, "plain\n");
}
END_TEST

START_TEST(long_message)
{
	char	 out[8192];
	char	 big[5000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init(NULL, 1, 0);
	cap_start();
	log_info("%s", big);
	cap_end(out, sizeof(out));
	/* Cut, but still one whole line. */
	ck_assert_uint_gt(strlen(out), 1000);
	ck_assert_uint_lt(strlen(out), sizeof(big));
	ck_assert_int_eq(out[strlen(out) - 1], '\n');
}
END_TEST

/*
 * Run fatal() or fatalx() in a child with stderr on a pipe; return what it
 * wrote and check it exited 1.
 */
static void
run_fatal(int with_errno, char *out, size_t outlen)
{
	pid_t	 pid;
	int	 p[2], status;
	ssize_t	 n;
	size_t	 off = 0;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		log_init("t", 1, 0);
		errno = EIO;
		if (with_errno)
			fatal("fatal test %d", 1);
		fatalx("fatalx test %d", 2);
	}
	close(p[1]);
	while (off < outlen - 1 &&
	    (n = read(p[0], out + off, outlen - 1 - off)) > 0)
		off += n;
	out[off] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 1);
}

START_TEST(fatal_exits)
{
	char	 out[256];

	run_fatal(1, out, sizeof(out));
	ck_assert_str_eq(out, "t: fatal test 1: Input/output error\n");
	run_fatal(0, out, sizeof(out));
	ck_assert_str_eq(out, "t: fatalx test 2\n");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, escape_table, 0,
	    sizeof(esc_cases) / sizeof(esc_cases[0]));
	tcase_add_test(tc, escape_zero_dst);
	tcase_add_test(tc, escape_all_bytes);
	tcase_add_test(tc, errno_preserved);
	tcase_add_test(tc, errno_preserved_syslog);
	tcase_add_test(tc, verbosity);
	tcase_add_test(tc, warn_without_errno);
	tcase_add_test(tc, long_message);
	tcase_add_test(tc, fatal_exits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(log_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
