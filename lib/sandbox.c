/*
 * Privilege drop with libcap-ng and libseccomp (after chrony's sys_linux.c).
 */
#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "lib/log.h"
#include "lib/sandbox.h"

/* Needed to leave at all, whatever the profile says. */
static const int sandbox_always[] = {
	__NR_exit_group, __NR_exit, __NR_rt_sigreturn
};

static int	 sandbox_root(const struct sandbox_profile *);
static int	 sandbox_capng_err(int);
static int	 sandbox_caps(const struct sandbox_profile *);
static int	 sandbox_seccomp(const struct sandbox_profile *);

static int
sandbox_root(const struct sandbox_profile *sp)
{
	if (sp->chroot == NULL)
		return 0;
	if (chroot(sp->chroot) == -1 || chdir("/") == -1)
		return -1;
	return 0;
}

/* libcap-ng reports failure with its own codes; keep errno meaningful. */
static int
sandbox_capng_err(int rc)
{
	if (rc >= 0)
		return 0;
	if (errno == 0)
		errno = EPERM;
	return -1;
}

static int
sandbox_caps(const struct sandbox_profile *sp)
{
	size_t	 i;
	int	 rc, setpcap;

	if (capng_get_caps_process() == -1)
		return -1;
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < sp->ncaps; i++) {
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    sp->caps[i]) == -1) {
			errno = EINVAL;
			return -1;
		}
	}
	errno = 0;
	if (sp->setid)
		rc = capng_change_id(sp->uid, sp->gid, CAPNG_DROP_SUPP_GRP |
		    CAPNG_CLEAR_BOUNDING);
	else if (setpcap)
		rc = capng_apply(CAPNG_SELECT_BOTH);
	else
		/*
		 * Without CAP_SETPCAP the bounding set cannot shrink; an
		 * unprivileged process gains nothing from it past
		 * no-new-privs anyway.
		 */
		rc = capng_apply(CAPNG_SELECT_CAPS);
	if (sandbox_capng_err(rc) == -1)
		return -1;
	/* Inheritable is empty, but say it: nothing survives an execve. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return -1;
	return 0;
}

static int
sandbox_seccomp(const struct sandbox_profile *sp)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc = -EINVAL;

	if (sp->syscalls == NULL)
		return 0;
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < sizeof(sandbox_always) / sizeof(sandbox_always[0]);
	    i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    sandbox_always[i], 0)) < 0)
			goto out;
	for (i = 0; i < sp->nsyscalls; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    sp->syscalls[i], 0)) < 0)
			goto out;
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

int
sandbox_enter(const struct sandbox_profile *sp)
{
	if (sp->ncaps > SANDBOX_MAXCAPS) {
		errno = EINVAL;
		return -1;
	}
	if (sandbox_root(sp) == -1 || sandbox_caps(sp) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	/* Before seccomp, which may forbid what logging needs. */
	log_debug("%s: %s: %zu caps, %zu syscalls", __func__,
	    sp->name != NULL ? sp->name : "?", sp->ncaps,
	    sp->syscalls != NULL ? sp->nsyscalls : 0);
	return sandbox_seccomp(sp);
}

bool
sandbox_has_cap(int cap)
{
	if (capng_get_caps_process() == -1)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, cap) != 0;
}
