/* api/util.h: small helpers of the api module: files, ids, clocks, base64, digests. */
#ifndef API_UTIL_H
#define API_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads a whole file of at most 'max' bytes. *ret_data is malloc()ed and NUL-terminated.
 * Returns 0, -ENOENT, -E2BIG, -ENOMEM or -errno from open/read. */
int api_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len);
/* Writes data to path through a temporary file, fsync and rename, with 'mode' (e.g. 0600).
 * Returns 0 or -errno. */
int api_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Writes a new random lowercase 8-4-4-4-12 UUID (version 4) and a NUL into out[37]. */
int api_uuid_new(char out[37]);
/* Monotonic clock in microseconds. */
int64_t api_now_us(void);
/* Standard base64 with padding. Encode: out needs 4 * ((len + 2) / 3) + 1 bytes.
 * Decode returns the decoded length, or -EINVAL for bad input or too small an output. */
void api_b64_encode(const unsigned char *in, size_t len, char *out);
long api_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap);
/* The SHA-256 of data in lowercase hex, with a NUL, into out[65]. Returns 0 or -EIO. */
int api_sha256_hex(const void *data, size_t len, char out[65]);

#endif
