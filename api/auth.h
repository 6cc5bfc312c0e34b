/* api/auth.h: API users' passwords (PBKDF2-HMAC-SHA256, salted) and HTTP Basic authentication
 * with a short-lived cache of verified credentials, so that a keep-alive client pays the slow
 * hash once per API_AUTH_CACHE_TTL_US, not on every request. */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define API_AUTH_ITERATIONS 100000u
#define API_AUTH_CACHE_TTL_US (30 * 1000000LL)
#define API_PASSWORD_MAX 255
#define API_AUTH_FREE_FAILURES 10                /* failed logins in a row before a backoff */
#define API_AUTH_MAX_BACKOFF_US (60 * 1000000LL) /* 1 s, doubling per failure, up to this */

struct api_auth; /* opaque: the credential cache */

/* Hashes 'password' with a new random salt into ret_hash (STORE_HASH_MAX + 1 bytes), as
 * "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>". Returns 0 or -EIO. */
int api_auth_hash(const char *password, char *ret_hash);
/* Returns 0 when password matches hash (constant-time compare), -EACCES when it does not,
 * -EINVAL when hash is not in the format above. */
int api_auth_verify(const char *password, const char *hash);

/* Splits an Authorization header value "Basic <base64(user:pass)>" (scheme in any case, the
 * space optional as some clients omit it) into user (STORE_USER_NAME_MAX + 1 bytes) and pass
 * (API_PASSWORD_MAX + 1 bytes). Returns 0 or -EINVAL. */
int api_auth_parse_basic(const char *header, char *user, char *pass);

int api_auth_new(struct api_auth **ret_auth);
void api_auth_free(struct api_auth *a); /* NULL is a no-op */

/* Authenticates an Authorization header value (NULL when absent) against the users in 'st'.
 * On success copies the user name into ret_user (STORE_USER_NAME_MAX + 1 bytes). An unknown
 * user costs as much as a wrong password. Thread-safe.
 * Returns 0, -EACCES (missing or wrong credentials) or a store error (-EBUSY, -EIO). */
int api_auth_check(struct api_auth *a, struct store *st, const char *header, char *ret_user);

/* Throttling by client address (a numeric address string). api_auth_throttled returns how
 * long (microseconds) the address must still wait before its credentials are checked, 0 when
 * it need not. api_auth_record counts a check's outcome: a success clears the address, the
 * API_AUTH_FREE_FAILURES-th failure in a row and every one after it start a backoff of 1 s,
 * 2 s, 4 s, ... up to API_AUTH_MAX_BACKOFF_US, whose length it returns (0: none). Other
 * addresses are not affected. Thread-safe. */
int64_t api_auth_throttled(struct api_auth *a, const char *addr, int64_t now_us);
int64_t api_auth_record(struct api_auth *a, const char *addr, bool ok, int64_t now_us);

#endif
