/*
 * Shared helpers of the wire codecs.  See wire.h.
 */
#include <errno.h>

#include "lib/wire.h"

int
wire_fail(int e)
{
	errno = e;
	return (-1);
}

int
wire_undo(struct buf *b, size_t mark)
{
	int	 saved = errno;

	b->len = mark;
	errno = saved;
	return (-1);
}

bool
wire_printable(const char *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return (false);
	return (true);
}
