/* api/secret.h: TURN passwords and shared secrets at rest. They must be usable in clear to sign
 * TURN requests, so they are encrypted (AES-256-GCM) rather than hashed, with a 32-byte key kept
 * in a file of mode 0600 in the data directory. */
#ifndef API_SECRET_H
#define API_SECRET_H

#include <stddef.h>

#define API_SECRET_OVERHEAD (1 + 12 + 16) /* version byte, nonce, tag */

struct api_secret {
    unsigned char key[32];
};

/* Loads the key from 'path', creating it (0600, random) when absent. Refuses a key file that
 * others can read. Returns 0, -EPERM (mode too open), -EINVAL (wrong size) or -errno. */
int api_secret_load(const char *path, struct api_secret *ret_secret);

/* Encrypts plain[0..len) bound to 'aad' (e.g. "<object id>/password", so a blob copied to
 * another row or field does not decrypt). out needs len + API_SECRET_OVERHEAD bytes.
 * Returns the sealed length or -ENOSPC / -EIO. */
long api_secret_seal(const struct api_secret *s, const char *aad, const char *plain, size_t len,
                     unsigned char *out, size_t cap);
/* Decrypts and authenticates; writes a NUL-terminated string to out (cap bytes).
 * Returns the plain length, -EBADMSG (wrong key, tampered, other aad) or -ENOSPC. */
long api_secret_open(const struct api_secret *s, const char *aad, const unsigned char *in,
                     size_t len, char *out, size_t cap);

#endif
