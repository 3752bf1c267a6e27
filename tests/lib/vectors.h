/*
 * The hex test vectors of the wire contracts: the lines
 *
 *	vector NAME ok|bad HEX... [# comment]
 *
 * of a file proto/NAME.md, where HEX is any number of tokens of hex digit
 * pairs, or a lone "-" for no bytes.  For the Check suites.
 */
#ifndef LR_TESTS_LIB_VECTORS_H
#define LR_TESTS_LIB_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TVEC_NAMEMAX	32

struct tvec {
	char		 name[TVEC_NAMEMAX];
	bool		 ok;
	int		 line;
	size_t		 len;
	uint8_t		*data;		/* len bytes; lives as long as the test */
};

/*
 * Every vector of proto/FILE (under $LR_SRCDIR when it is set), in file
 * order; *n gets the count, at least one.  A malformed line fails the
 * running test with FILE:LINE and the reason.
 */
const struct tvec *tvec_load(const char *file, size_t *n);
/* The vector called name among v[n] (of file); fails the test if none. */
const struct tvec *tvec_find(const struct tvec *v, size_t n,
	    const char *file, const char *name);

#endif
