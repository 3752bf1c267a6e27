/*
 * Unit tests for lib/sandbox.c.  Each check enters the sandbox in a child
 * of the test process and reports the first failed step as its exit
 * status, so neither Check nor the next test runs sandboxed.  Needs root;
 * elsewhere the tests pass without checking anything.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>

#include "lib/sandbox.h"

#define T_NOBODY	65534

/* Run fn in a child; 0 when it exited 0, else its status. */
static int
in_child(int (*fn)(void))
{
	pid_t	 pid;
	int	 status;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(fn());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died: status %#x", status);
	return WEXITSTATUS(status);
}

static int
skip_unless_root(void)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "check_sandbox: not root, test skipped\n");
	return 1;
}

static int
child_setid(void)
{
	static const int	 caps[] = { CAP_NET_ADMIN };
	static const gid_t	 groups[] = { 1, 2 };
	struct sandbox_profile	 sp = {
		.name = "test", .setid = true,
		.uid = T_NOBODY, .gid = T_NOBODY,
		.caps = caps, .ncaps = 1,
	};

	if (setgroups(2, groups) == -1)
		return 100;
	if (sandbox_enter(&sp) == -1)
		return 1;
	if (getuid() != T_NOBODY || geteuid() != T_NOBODY ||
	    getgid() != T_NOBODY || getegid() != T_NOBODY)
		return 2;
	if (!sandbox_has_cap(CAP_NET_ADMIN))
		return 3;
	if (sandbox_has_cap(CAP_SYS_ADMIN) || sandbox_has_cap(CAP_SETUID) ||
	    sandbox_has_cap(CAP_SETPCAP))
		return 4;
	if (getgroups(0, NULL) != 0)
		return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 6;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return 7;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN,
	    0, 0) != 0)
		return 8;
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN) ||
	    capng_have_capability(CAPNG_PERMITTED, CAP_SETGID) ||
	    capng_have_capability(CAPNG_INHERITABLE, CAP_NET_ADMIN))
		return 9;
	if (setuid(0) != -1)
		return 10;
	return 0;
}

START_TEST(setid_keeps_one_cap)
{
	if (skip_unless_root())
		return;
	ck_assert_int_eq(in_child(child_setid), 0);
}
END_TEST

static int
child_nocaps(void)
{
	struct sandbox_profile	 sp = { .name = "nocaps" };

	if (sandbox_enter(&sp) == -1)
		return 1;
	if (getuid() != 0)
		return 2;
	if (sandbox_has_cap(CAP_NET_ADMIN) || sandbox_has_cap(CAP_CHOWN))
		return 3;
	if (prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != 0)
		return 4;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 5;
	/* Root without capabilities cannot chown what it does not own. */
	if (chown("/", 1, 1) != -1 || errno != EPERM)
		return 6;
	return 0;
}

START_TEST(root_without_caps)
{
	if (skip_unless_root())
		return;
	ck_assert_int_eq(in_child(child_nocaps), 0);
}
END_TEST

static int
child_seccomp(void)
{
	/*
	 * What this child needs to finish (sigaltstack: ASan, before
	 * _exit); getppid and socket are not in.
	 */
	static const int	 calls[] = {
		__NR_getpid, __NR_write, __NR_close, __NR_brk, __NR_mmap,
		__NR_munmap, __NR_madvise, __NR_futex, __NR_sigaltstack
	};
	struct sandbox_profile	 sp = {
		.name = "seccomp",
		.syscalls = calls,
		.nsyscalls = sizeof(calls) / sizeof(calls[0]),
	};
	pid_t			 pid = getpid();

	if (sandbox_enter(&sp) == -1)
		return 1;
	if (syscall(__NR_getpid) != pid)
		return 2;
	if (syscall(__NR_getppid) != -1 || errno != EPERM)
		return 3;
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 4;
	if (write(STDERR_FILENO, "", 0) != 0)
		return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != -1 || errno != EPERM)
		return 6;
	return 0;
}

START_TEST(seccomp_allowlist)
{
	if (skip_unless_root())
		return;
	ck_assert_int_eq(in_child(child_seccomp), 0);
}
END_TEST

static char	 t_root[] = "/tmp/check_sandbox.XXXXXX";

static int
child_chroot(void)
{
	struct sandbox_profile	 sp = { .name = "chroot", .chroot = t_root };
	struct stat		 want, got;
	char			 cwd[64];

	if (stat(t_root, &want) == -1)
		return 100;
	if (sandbox_enter(&sp) == -1)
		return 1;
	if (stat("/", &got) == -1 || got.st_ino != want.st_ino ||
	    got.st_dev != want.st_dev)
		return 2;
	if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
		return 3;
	if (sandbox_has_cap(CAP_SYS_CHROOT))
		return 4;
	return 0;
}

START_TEST(chroot_dir)
{
	int	 r;

	if (skip_unless_root())
		return;
	ck_assert_ptr_nonnull(mkdtemp(t_root));
	r = in_child(child_chroot);
	rmdir(t_root);
	ck_assert_int_eq(r, 0);
}
END_TEST

static int
child_badcap(void)
{
	static const int	 caps[] = { 4000 };
	struct sandbox_profile	 sp = {
		.name = "bad", .caps = caps, .ncaps = 1
	};

	if (sandbox_enter(&sp) != -1 || errno != EINVAL)
		return 1;
	sp.ncaps = SANDBOX_MAXCAPS + 1;
	if (sandbox_enter(&sp) != -1 || errno != EINVAL)
		return 2;
	return 0;
}

START_TEST(bad_profile)
{
	if (skip_unless_root())
		return;
	ck_assert_int_eq(in_child(child_badcap), 0);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, setid_keeps_one_cap);
	tcase_add_test(tc, root_without_caps);
	tcase_add_test(tc, seccomp_allowlist);
	tcase_add_test(tc, chroot_dir);
	tcase_add_test(tc, bad_profile);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(sandbox_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
