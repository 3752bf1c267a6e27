/*
 * sandbox_enter(): the one place a daemon gives up privilege.  In order:
 * chroot (optional), drop supplementary groups, switch gid and uid while
 * keeping exactly the listed capabilities (effective, permitted, and
 * ambient never), clear the bounding set, set no-new-privs, and load a
 * seccomp allowlist (optional; other syscalls fail with EPERM).
 */
#ifndef LR_LIB_SANDBOX_H
#define LR_LIB_SANDBOX_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>

#define SANDBOX_MAXCAPS	8

struct sandbox_profile {
	const char	*name;		/* for messages */
	bool		 setid;		/* switch to uid/gid */
	uid_t		 uid;
	gid_t		 gid;
	const char	*chroot;	/* NULL: no chroot */
	const int	*caps;		/* CAP_* values to keep */
	size_t		 ncaps;
	const int	*syscalls;	/* __NR_* allowlist; NULL: no seccomp */
	size_t		 nsyscalls;
};

/* -1 with errno on any failure; the process must then not go on. */
int	 sandbox_enter(const struct sandbox_profile *);
/* True when the calling thread holds capability cap in its effective set. */
bool	 sandbox_has_cap(int cap);

#endif
