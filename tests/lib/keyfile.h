/*
 * Key files as lanrage-controld -g writes them: 32 bytes in standard
 * base64 (padded), then an optional newline.  For the test programs
 * that act as a node (control-client, disco-probe).
 */
#ifndef LR_TESTS_LIB_KEYFILE_H
#define LR_TESTS_LIB_KEYFILE_H

#include <stdint.h>

/*
 * Read the key in path into key: 0, or -1 with errno from open/read, or
 * EINVAL when the text is not base64 of exactly 32 bytes (trailing
 * newlines and blanks allowed); key is zeroed on failure.
 */
int	 tkey_read(const char *path, uint8_t key[32]);

#endif
