/* api/secret.h: TURN passwords and shared secrets at rest. They must be usable in clear to sign
 * TURN requests, so they are encrypted (AES-256-GCM) rather than hashed, with a 32-byte key kept
 * in a file of mode 0600 in the data directory. */
#ifndef API_SECRET_H
#define API_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define API_SECRET_OVERHEAD (1 + 12 + 16) /* version byte, nonce, tag */

struct api_secret {
    unsigned char key[32];
};

/* Loads the key from 'path'. Refuses a key file that others can read or that another user
 * (root aside) owns. Returns 0, -ENOENT, -EPERM (mode or owner), -EINVAL (wrong size) or
 * -errno. Never creates one: api/datadir.c decides when a new key is right. */
int api_secret_load(const char *path, struct api_secret *ret_secret);
/* Writes a new random key to 'path' (mode 0600), replacing what is there. */
int api_secret_create(const char *path, struct api_secret *ret_secret);
/* The check value kept with the database (store_secret_check_get): a fixed text sealed with
 * the key. _make writes it to out (cap >= 64) and returns its length or -errno; _matches says
 * whether 's' is the key that sealed 'blob'. */
long api_secret_check_make(const struct api_secret *s, unsigned char *out, size_t cap);
bool api_secret_check_matches(const struct api_secret *s, const unsigned char *blob, size_t len);

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
