/*
 * Key files of the servers (controld, relayd): one X25519 private key in
 * standard base64 on a line, in a regular file that group and others can
 * neither read nor write.
 */
#ifndef LR_LIB_KEYFILE_H
#define LR_LIB_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read path into priv; -1 with err "path: why" (tool names the program
 * whose -g makes one, for the hint).
 */
int	 keyfile_load(const char *path, uint8_t priv[32], const char *tool,
	    char *err, size_t errlen);
/* A new random key in a new file of mode 0600; -1 with err. */
int	 keyfile_create(const char *path, uint8_t priv[32], char *err,
	    size_t errlen);
/* A public key from text, base64 or base64url; -1 unless 32 nonzero bytes. */
int	 keyfile_pub_decode(const char *s, size_t len, uint8_t key[32]);
/* A public key as text: standard base64 (wg(8)), or base64url unpadded. */
void	 keyfile_pub_b64(const uint8_t priv[32], char *out, size_t outlen,
	    int urlsafe);

#endif
