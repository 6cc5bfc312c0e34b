/* api/http/pbkdf2.h: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of one output block, for password
 * hashes.
 *
 * The same function as OpenSSL's PKCS5_PBKDF2_HMAC(..., EVP_sha256(), 32, ...), and the same
 * bytes (tests/test_api_auth.c compares the two on random input, and checks RFC 7914 §11's
 * vector; fuzz/fuzz_auth.c compares them too). Why not OpenSSL's: OpenSSL 3 makes two HMAC
 * context copies per iteration through its provider layer, each a heap allocation, so one
 * verification at API_AUTH_ITERATIONS is a million mallocs: 37-49 ms of CPU here, and 0.2 s in a
 * daemon built with AddressSanitizer (which pays for every malloc). This one keys HMAC once: the
 * SHA-256 states after the inner and outer pad blocks are kept, and each iteration starts from
 * copies of them (plain struct copies), two compressions per iteration with OpenSSL's own
 * SHA-256 and nothing allocated: 15 ms (18 ms under ASan). An attacker's PBKDF2 was never slower
 * than this; now ours is not slower than theirs. */
#ifndef API_PBKDF2_H
#define API_PBKDF2_H

#include <stddef.h>

#define API_PBKDF2_LEN 32 /* the output: one SHA-256 block */

/* out = PBKDF2-HMAC-SHA256(password, salt, iterations), API_PBKDF2_LEN bytes. iterations >= 1.
 * Leaves no key material on the stack. */
void api_pbkdf2_sha256(const void *password, size_t password_len, const unsigned char *salt,
                       size_t salt_len, unsigned iterations, unsigned char out[API_PBKDF2_LEN]);

#endif
