/*
 * Helpers every wire codec in proto/ shares: an errno return, undoing a
 * half-written encoding, and the printable-ASCII rule for texts.
 */
#ifndef LR_LIB_WIRE_H
#define LR_LIB_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* errno = e; return -1. */
int	 wire_fail(int e);
/* Drop what a failed encoder appended after mark, keeping errno. */
int	 wire_undo(struct buf *, size_t mark);
/* Every byte is printable ASCII (0x20..0x7e). */
bool	 wire_printable(const char *, size_t);

#endif
