/* api/http/auth.h: API users' passwords (PBKDF2-HMAC-SHA256, salted) and HTTP Basic authentication
 * with a cache of verified credentials, so that a client pays the slow hash once, not on every
 * request: within API_AUTH_CACHE_TTL_US of its last check a header is accepted as it is; after
 * that, up to API_AUTH_KEEP_US, once the user's stored hash is seen unchanged (a password
 * change or a deleted user takes effect within API_AUTH_CACHE_TTL_US). */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define API_AUTH_ITERATIONS 100000u
#define API_AUTH_CACHE_TTL_US (30 * 1000000LL)
#define API_AUTH_KEEP_US (15 * 60 * 1000000LL) /* a verified header unused this long is gone */
#define API_PASSWORD_MAX 255
#define API_AUTH_FREE_FAILURES 10                /* failed logins in a row before a backoff */
#define API_AUTH_MAX_BACKOFF_US (60 * 1000000LL) /* 1 s, doubling per failure, up to this */
#define API_AUTH_FORGET_US (15 * 60 * 1000000LL) /* a record outside backoff, this long quiet */
#define API_AUTH_THROTTLE_SLOTS 1024             /* addresses tracked, beyond: shared records */
#define API_AUTH_OVERFLOW_SLOTS 256              /* the shared records */
#define API_AUTH_ADDR_MAX 63                     /* longest address name (addr_key in auth.c) */
#define API_AUTH_TRUSTED_SLOTS 64                /* addresses that logged in, kept apart */
#define API_AUTH_WAITERS_MAX 128                 /* requests waiting for a password check */

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
 * On success copies the user name into ret_user (STORE_USER_NAME_MAX + 1 bytes). A header
 * verified before costs no password check (see above); any other takes one of the
 * verification slots (api_auth_set_verify_limit) for its check, and when none is free it is
 * not checked at all: -EAGAIN, and the caller answers busy or waits with api_auth_wait (a
 * thread never waits for a slot).
 * An unknown user costs as much as a wrong password. Thread-safe.
 * Returns 0, -EACCES (missing or wrong credentials), -EAGAIN (every verification slot busy:
 * no failure of the client's), -ENOMEM or a store error (-EBUSY, -EIO). */
int api_auth_check(struct api_auth *a, struct store *st, const char *header, char *ret_user);

/* The part of api_auth_check that needs no password check: 0 (ret_user filled in) when the
 * header is one verified before and still valid, -ENOENT when it would need a check (or is
 * NULL), or a store error. The caller throttles only what this does not accept: a known
 * header is no guess and costs no slow hash, so it is served whatever its address's backoff
 * (a guesser sharing the administrator's address, behind NAT or a proxy, cannot lock the
 * administrator out), and it is no login either: it neither clears nor counts in the
 * address's record. Thread-safe. */
int api_auth_check_known(struct api_auth *a, struct store *st, const char *header, char *ret_user);
/* Sets the cache's API_AUTH_CACHE_TTL_US (tests shorten it). */
void api_auth_set_cache_ttl(struct api_auth *a, int64_t ttl_us);

/* Waiting for a verification slot, without blocking a thread: after api_auth_check answered
 * -EAGAIN, api_auth_wait_reserve promises a place among the waiting (0, or -EAGAIN when
 * API_AUTH_WAITERS_MAX wait already); the caller then suspends the request and calls
 * api_auth_wait, which keeps the place and calls fn(ctx) from another thread when a slot
 * comes free (0), or returns -EALREADY when one already has (the caller resumes and tries
 * again at once). Waiters are woken in the order they came, one for each slot that comes
 * free, and the slot is kept for the woken one until it is back (at most 2 s): it must then
 * either try again with api_auth_check_woken, which spends the wake-up (on the slot, or,
 * when no slot is needed after all, passing it on to the next waiter), or, when it does not
 * try again (its address is in backoff, its header is known, its client left), call
 * api_auth_pass_on. Its caller decides how long it may keep waiting. Thread-safe. */
typedef void (*api_auth_wake_fn)(void *ctx);
int api_auth_wait_reserve(struct api_auth *a);
int api_auth_wait(struct api_auth *a, api_auth_wake_fn fn, void *ctx);
int api_auth_check_woken(struct api_auth *a, struct store *st, const char *header, char *ret_user);
void api_auth_pass_on(struct api_auth *a);

/* At most n (>= 1) password verifications run at once, over every thread (default 1). The
 * daemon sets max(1, threads - 1), so that at least one worker of a port is never busy with a
 * slow hash and clients with verified headers are served whatever strangers send. */
void api_auth_set_verify_limit(struct api_auth *a, unsigned n);

/* Throttling of failed logins by client address (a numeric address string, compared in full;
 * an IPv6 address counts as its /64, whose owner has all of it, an IPv4-mapped one as IPv4).
 * Records live in a table of API_AUTH_THROTTLE_SLOTS, placed by a keyed hash (SipHash-2-4, key
 * random per process), so a stranger cannot aim at another address's place. A record is live
 * while its address is in backoff or failed within API_AUTH_FORGET_US, and a live record is
 * never given to another address: when an address finds no room, its failures count in one of
 * API_AUTH_OVERFLOW_SLOTS shared overflow records, picked by a keyed hash (another key), which
 * throttles the addresses without a record of their own that share it. An
 * address that logged in within API_AUTH_FORGET_US keeps a record in a reserved area that only
 * a successful login can take (the most recent API_AUTH_TRUSTED_SLOTS such addresses), so
 * strangers filling the table do not throttle clients that are in.
 *
 * api_auth_throttled returns how long (microseconds) a request from 'addr' must still wait
 * before its credentials are checked, 0 when it need not: its own record's backoff, or the
 * shared record's it falls on when it has none and the table has no room for it.
 * api_auth_record counts a check's outcome: a success clears the address's record (never the
 * shared one), the API_AUTH_FREE_FAILURES-th failure in a row and every one after it start a
 * backoff of 1 s, 2 s, 4 s, ... up to API_AUTH_MAX_BACKOFF_US, whose length it returns (0:
 * none); *ret_shared (may be NULL) tells whether the failure went to a shared record. Other
 * addresses are not affected, except through a shared record. Thread-safe. */
int64_t api_auth_throttled(struct api_auth *a, const char *addr, int64_t now_us);
int64_t api_auth_record(struct api_auth *a, const char *addr, bool ok, int64_t now_us,
                        bool *ret_shared);
/* For tests: which of the shared records 'addr' falls on when it has no room of its own. */
size_t api_auth_overflow_slot(struct api_auth *a, const char *addr);

/* What /metrics shows of the checks and the throttle (a snapshot; thread-safe). */
struct api_auth_stats {
    uint64_t verifications; /* password checks (slow hashes) done */
    uint64_t busy;          /* checks that found no verification slot free */
    uint64_t waited;        /* times a request waited (suspended) for one */
    unsigned verifying;     /* running now */
    unsigned peak;          /* the most that ever ran at once */
    unsigned limit;         /* api_auth_set_verify_limit */
    size_t records;         /* live throttle records */
    size_t trusted;         /* addresses kept apart since they logged in */
    uint64_t overflowed;    /* failures counted in the shared records */
};
void api_auth_stats(struct api_auth *a, int64_t now_us, struct api_auth_stats *ret_stats);

#endif
