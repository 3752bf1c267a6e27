/*
 * Server key files (keyfile.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/keyfile.h"

#define KEYFILE_MAX	128	/* a key line, generously */

static int
keyfile_decode(const char *path, char *text, size_t len, uint8_t priv[32],
    const char *tool, char *err, size_t errlen)
{
	static const uint8_t	 zero[32];
	size_t			 n;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	if (sodium_base642bin(priv, 32, text, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32 ||
	    sodium_memcmp(priv, zero, 32) == 0) {
		snprintf(err, errlen, "%s: not a base64 X25519 private key "
		    "(create one with %s -g)", path, tool);
		return -1;
	}
	return 0;
}

/* A secret: a regular file that group and others can neither read nor write. */
static int
keyfile_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: readable or writable by group or "
		    "others (mode %04o; chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int
keyfile_load(const char *path, uint8_t priv[32], const char *tool,
    char *err, size_t errlen)
{
	char		 text[KEYFILE_MAX + 1];
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (keyfile_check(fd, path, err, errlen) == -1)
		goto out;
	if ((n = read(fd, text, sizeof(text))) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((size_t)n == sizeof(text)) {
		snprintf(err, errlen, "%s: too long for a key", path);
		goto out;
	}
	text[n] = '\0';
	rc = keyfile_decode(path, text, (size_t)n, priv, tool, err, errlen);
out:
	sodium_memzero(text, sizeof(text));
	close(fd);
	return rc;
}

int
keyfile_create(const char *path, uint8_t priv[32], char *err, size_t errlen)
{
	char	 b64[KEYFILE_MAX];
	size_t	 len;
	int	 fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(priv, 32);
	sodium_bin2base64(b64, sizeof(b64), priv, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	len = strlen(b64);
	b64[len++] = '\n';
	if (fchmod(fd, 0600) == -1 || write(fd, b64, len) != (ssize_t)len ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		sodium_memzero(priv, 32);
	} else
		rc = 0;
	close(fd);
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

void
keyfile_pub_b64(const uint8_t priv[32], char *out, size_t outlen,
    int urlsafe)
{
	uint8_t	 pub[32];

	crypto_scalarmult_base(pub, priv);
	sodium_bin2base64(out, outlen, pub, sizeof(pub), urlsafe ?
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING :
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(pub, sizeof(pub));
}

int
keyfile_pub_decode(const char *s, size_t len, uint8_t key[32])
{
	static const uint8_t	 zero[32];
	size_t			 n;

	if ((sodium_base642bin(key, 32, s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 &&
	    sodium_base642bin(key, 32, s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) || n != 32 ||
	    sodium_memcmp(key, zero, 32) == 0)
		return -1;
	return 0;
}
