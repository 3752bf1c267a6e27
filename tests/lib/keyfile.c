/*
 * Reader of the key files of the test programs (tests/lib/keyfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "tests/lib/keyfile.h"

#define TKEY_TEXTMAX	128	/* 44 characters of base64, and room */

int
tkey_read(const char *path, uint8_t key[32])
{
	char	 text[TKEY_TEXTMAX + 1];
	size_t	 len = 0, n;
	ssize_t	 r;
	int	 fd, rc = -1, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	while (len < sizeof(text) &&
	    (r = read(fd, text + len, sizeof(text) - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		len += (size_t)r;
	}
	errno = EINVAL;
	if (len > TKEY_TEXTMAX)
		goto out;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (sodium_base642bin(key, 32, text, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32) {
		errno = EINVAL;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	if (rc == -1)
		sodium_memzero(key, 32);
	sodium_memzero(text, sizeof(text));
	close(fd);
	errno = saved;
	return rc;
}
