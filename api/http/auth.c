/* api/http/auth.c: password hashing and HTTP Basic authentication.
 *
 * DESIGN: verifying a password costs API_AUTH_ITERATIONS rounds of HMAC-SHA256 (15 ms here) on
 * purpose. Clients send the same Authorization header on every request, so a verified header is
 * remembered by its SHA-256 (never the header itself), with the SHA-256 of the stored hash it
 * matched. For API_AUTH_CACHE_TTL_US after a check a later request with the same header costs
 * one hash and a table lookup; after that, one read of the user's stored hash: while it is the
 * same, the password still matches it (same salt, same iterations), so a client that is in
 * never needs a password check again, however busy the checks are, and a password change or a
 * deleted user still takes effect within API_AUTH_CACHE_TTL_US. Failures are not cached, so the
 * table holds only credentials that were right.
 *
 * Guessing is bounded twice. Per client address, failed logins start a backoff (the throttle
 * table below). Over all addresses, at most verify_limit password checks run at once; a check
 * that finds no slot free returns at once (-EAGAIN), and the caller either suspends the request
 * until a slot comes free (api_auth_wait) or answers busy. So no worker waits for a slot, and a
 * flood of guesses from many addresses neither runs faster than that bound nor takes every
 * worker from clients whose headers are cached.
 *
 * The throttle table places an address by SipHash-2-4 (OpenSSL's EVP_MAC "SIPHASH", a
 * 128-bit key from RAND_bytes at start, never stored) into a bucket of THROTTLE_WAYS records
 * that hold the full address. SipHash is a keyed PRF made for exactly this (hash tables fed by
 * strangers) and cheaper than an HMAC. Without the key a stranger cannot choose addresses that
 * share a victim's bucket, and even a full bucket gives a live record away to nobody: failures
 * from an address without room go to a shared overflow record instead, one of
 * API_AUTH_OVERFLOW_SLOTS picked by SipHash under another key, so that a stranger who fills
 * the table shares his backoff with the few addresses on his records, not with every address
 * never seen. An IPv6 address is counted as its /64 (whoever has one address has them all),
 * so a /64 is one address here, not 2^64. The shared records throttle strangers, never a
 * client that logged in lately: a success gives its address a record in a small area apart
 * that only successes can take; and a header verified before is not throttled at all. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "api/http/auth.h"
#include "api/http/pbkdf2.h"
#include "api/util.h"

#define SALT_LEN 16
#define HASH_LEN 32
/* The verified-credential cache: CACHE_SETS sets of CACHE_WAYS headers, a set chosen by a
 * keyed hash of the header's digest, the least recently used header of a full set making room.
 * A few hundred active headers stay however their digests begin. */
#define CACHE_SETS 128
#define CACHE_WAYS 16

struct cache_entry {
    unsigned char key[SHA256_DIGEST_LENGTH];
    char user[STORE_USER_NAME_MAX + 1];
    unsigned char hash_sum[SHA256_DIGEST_LENGTH]; /* of the stored hash it was verified with */
    int64_t checked_us; /* when that hash was last seen unchanged; 0 = empty */
    uint64_t used;      /* a->cache_tick at its last use: the least is evicted first */
};

/* Failed logins per client address: API_AUTH_THROTTLE_SLOTS records in buckets of
 * THROTTLE_WAYS, each found by comparing the full address within its bucket. */
#define THROTTLE_WAYS 16
#define THROTTLE_BUCKETS (API_AUTH_THROTTLE_SLOTS / THROTTLE_WAYS)
#define SIPHASH_KEY_LEN 16
struct throttle_entry {
    char addr[API_AUTH_ADDR_MAX + 1]; /* as addr_key() names it; "" = empty */
    unsigned failures;                /* in a row, from this address */
    int64_t until_us;                 /* no password is checked before this */
    int64_t last_us;                  /* the latest failure */
    int64_t ok_us;                    /* the latest success (trusted records only) */
};

/* Requests waiting (suspended) for a verification slot, first come first woken, one for each
 * slot that comes free. */
struct waiter {
    api_auth_wake_fn fn;
    void *ctx;
};

/* A woken request that has neither taken a slot nor passed its wake-up on this long after it
 * was woken is taken to be lost, so that its slot goes to the next waiter all the same. */
#define WAKE_LOST_US (2 * 1000000LL)

struct api_auth {
    pthread_mutex_t lock;
    struct cache_entry cache[CACHE_SETS * CACHE_WAYS];
    uint64_t cache_tick;
    int64_t cache_ttl_us;
    struct throttle_entry throttle[API_AUTH_THROTTLE_SLOTS];
    struct throttle_entry trusted[API_AUTH_TRUSTED_SLOTS]; /* addresses that logged in lately */
    /* addresses the table has no room for: each shares the record its keyed hash picks */
    struct throttle_entry overflow[API_AUTH_OVERFLOW_SLOTS];
    uint64_t overflowed;
    /* keyed at start, each with its own key; copied for each use, never changed */
    EVP_MAC_CTX *siphash, *overflow_siphash, *cache_siphash;
    /* fetched once: SHA256() fetches the algorithm on every call, under a lock that every
     * worker takes for every request */
    EVP_MD *sha256;
    char dummy_hash[STORE_HASH_MAX + 1]; /* verified against for unknown users */
    atomic_uint verify_limit, verifying, verify_peak;
    unsigned verify_slots; /* taken; under the lock */
    atomic_uint_fast64_t verifications, busy, waited;
    struct waiter waiters[API_AUTH_WAITERS_MAX]; /* in the order they came */
    size_t nwait, nreserved; /* waiting, and places promised to requests about to wait */
    unsigned nwoken;         /* woken, not yet back for a slot (a slot is kept for each) */
    int64_t woken_us;        /* the latest wake-up */
};

_Static_assert(HASH_LEN == API_PBKDF2_LEN, "one PBKDF2 block is the stored hash");

int api_auth_hash(const char *password, char *ret_hash)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char salt64[32], hash64[48];

    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    api_pbkdf2_sha256(password, strlen(password), salt, sizeof(salt), API_AUTH_ITERATIONS, hash);
    api_b64_encode(salt, sizeof(salt), salt64);
    api_b64_encode(hash, sizeof(hash), hash64);
    (void)snprintf(ret_hash, STORE_HASH_MAX + 1, "pbkdf2-sha256$%u$%s$%s", API_AUTH_ITERATIONS,
                   salt64, hash64);
    OPENSSL_cleanse(hash, sizeof(hash));
    return 0;
}

int api_auth_verify(const char *password, const char *stored)
{
    unsigned char salt[SALT_LEN + 2], want[HASH_LEN + 2], got[HASH_LEN];
    char salt64[64], hash64[64];
    unsigned iterations;
    long salt_len, want_len;
    int r;

    if (sscanf(stored, "pbkdf2-sha256$%u$%63[^$]$%63s", &iterations, salt64, hash64) != 3 ||
        iterations == 0 || iterations > 10000000)
        return -EINVAL;
    salt_len = api_b64_decode(salt64, strlen(salt64), salt, sizeof(salt));
    want_len = api_b64_decode(hash64, strlen(hash64), want, sizeof(want));
    if (salt_len <= 0 || want_len != HASH_LEN)
        return -EINVAL;
    api_pbkdf2_sha256(password, strlen(password), salt, (size_t)salt_len, iterations, got);
    r = CRYPTO_memcmp(got, want, HASH_LEN) == 0 ? 0 : -EACCES;
    OPENSSL_cleanse(got, sizeof(got));
    return r;
}

int api_auth_parse_basic(const char *header, char *user, char *pass)
{
    unsigned char decoded[STORE_USER_NAME_MAX + API_PASSWORD_MAX + 8];
    const char *b64, *end, *colon;
    long n;

    while (*header == ' ' || *header == '\t')
        header++;
    if (strncasecmp(header, "Basic", 5) != 0)
        return -EINVAL;
    b64 = header + 5;
    while (*b64 == ' ' || *b64 == '\t')
        b64++;
    end = b64 + strcspn(b64, " \t");
    n = api_b64_decode(b64, (size_t)(end - b64), decoded, sizeof(decoded) - 1);
    if (n <= 0)
        return -EINVAL;
    decoded[n] = '\0';
    if (memchr(decoded, 0, (size_t)n))
        return -EINVAL;
    colon = strchr((const char *)decoded, ':');
    if (!colon || colon == (const char *)decoded ||
        (size_t)(colon - (const char *)decoded) > STORE_USER_NAME_MAX ||
        strlen(colon + 1) > API_PASSWORD_MAX)
        return -EINVAL;
    memcpy(user, decoded, (size_t)(colon - (const char *)decoded));
    user[colon - (const char *)decoded] = '\0';
    strcpy(pass, colon + 1);
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return 0;
}

/* The keyed hash that places addresses in the throttle table: SipHash-2-4 with a 64-bit
 * output and a key from RAND_bytes that lives only in the returned context. */
static int siphash_new(EVP_MAC_CTX **ret_ctx)
{
    unsigned char key[SIPHASH_KEY_LEN];
    size_t size = 8;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    int r = -EIO;

    if (ctx && RAND_bytes(key, sizeof(key)) == 1 &&
        EVP_MAC_init(ctx, key, sizeof(key), params) == 1) {
        *ret_ctx = ctx;
        ctx = NULL;
        r = 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    return r;
}

/* The SHA-256 of the NUL-terminated s into out. Returns 0, or -ENOMEM (out is then not to
 * be used). */
static int digest(const struct api_auth *a, const char *s, unsigned char out[SHA256_DIGEST_LENGTH])
{
    return EVP_Digest(s, strlen(s), out, NULL, a->sha256, NULL) == 1 ? 0 : -ENOMEM;
}

int api_auth_new(struct api_auth **ret_auth)
{
    struct api_auth *a = calloc(1, sizeof(*a));
    unsigned char junk[16];
    char junk64[32];
    int r = -ENOMEM;

    if (!a)
        goto out;
    r = -EIO;
    if (RAND_bytes(junk, sizeof(junk)) != 1)
        goto out;
    api_b64_encode(junk, sizeof(junk), junk64);
    r = api_auth_hash(junk64, a->dummy_hash);
    if (r == 0)
        r = siphash_new(&a->siphash);
    if (r == 0)
        r = siphash_new(&a->overflow_siphash);
    if (r == 0)
        r = siphash_new(&a->cache_siphash);
    if (r < 0)
        goto out;
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!a->sha256) {
        r = -EIO;
        goto out;
    }
    pthread_mutex_init(&a->lock, NULL);
    atomic_store(&a->verify_limit, 1);
    a->cache_ttl_us = API_AUTH_CACHE_TTL_US;
    *ret_auth = a;
    a = NULL;
out:
    if (a) {
        EVP_MAC_CTX_free(a->siphash);
        EVP_MAC_CTX_free(a->overflow_siphash);
        EVP_MAC_CTX_free(a->cache_siphash);
        EVP_MD_free(a->sha256);
    }
    free(a);
    return r;
}

void api_auth_free(struct api_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    EVP_MAC_CTX_free(a->siphash);
    EVP_MAC_CTX_free(a->overflow_siphash);
    EVP_MAC_CTX_free(a->cache_siphash);
    EVP_MD_free(a->sha256);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

void api_auth_set_verify_limit(struct api_auth *a, unsigned n)
{
    atomic_store(&a->verify_limit, n > 0 ? n : 1);
}

/* SipHash-2-4 of data under the key in 'key' (64 bits). A failure of the hash (out of
 * memory) gives 0, which only places things less evenly: they are found by comparing them. */
static uint64_t keyed_hash(EVP_MAC_CTX *key, const void *data, size_t len)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(key); /* the keyed template is only read */
    unsigned char out[8];
    uint64_t h = 0;
    size_t n = 0;

    if (c && EVP_MAC_update(c, data, len) == 1 && EVP_MAC_final(c, out, &n, sizeof(out)) == 1 &&
        n == sizeof(out))
        memcpy(&h, out, sizeof(h));
    EVP_MAC_CTX_free(c);
    return h;
}

/* The first entry of the digest's set. Keyed, so that not even a user who can make many
 * headers that verify can choose which set they fill. */
static struct cache_entry *set_of(struct api_auth *a, const unsigned char *key)
{
    return &a->cache[(keyed_hash(a->cache_siphash, key, SHA256_DIGEST_LENGTH) % CACHE_SETS) *
                     CACHE_WAYS];
}

/* The entry of the set holding key, or NULL. Called with the lock held. */
static struct cache_entry *cache_find(struct cache_entry *set, const unsigned char *key)
{
    for (size_t i = 0; i < CACHE_WAYS; i++)
        if (set[i].checked_us && CRYPTO_memcmp(set[i].key, key, sizeof(set[i].key)) == 0)
            return &set[i];
    return NULL;
}

/* The entry a new header takes in its set: an empty one, else the least recently used. */
static struct cache_entry *cache_victim(struct cache_entry *set)
{
    struct cache_entry *v = &set[0];

    for (size_t i = 0; i < CACHE_WAYS && v->checked_us; i++)
        if (!set[i].checked_us || set[i].used < v->used)
            v = &set[i];
    return v;
}

void api_auth_set_cache_ttl(struct api_auth *a, int64_t ttl_us)
{
    pthread_mutex_lock(&a->lock);
    a->cache_ttl_us = ttl_us;
    pthread_mutex_unlock(&a->lock);
}

/* Looks the header's digest up. Returns 0 when it was checked within the cache's TTL, 1 when
 * it was verified but its stored hash must be seen unchanged again (user and hash_sum
 * filled in), -ENOENT when it is not known. */
static int cache_lookup(struct api_auth *a, const unsigned char *key, char *user,
                        unsigned char *hash_sum)
{
    struct cache_entry *set = set_of(a, key), *e;
    int64_t age;
    int r = -ENOENT;

    pthread_mutex_lock(&a->lock);
    e = cache_find(set, key);
    age = e ? api_now_us() - e->checked_us : 0;
    if (e && age < API_AUTH_KEEP_US) {
        e->used = ++a->cache_tick;
        memcpy(user, e->user, sizeof(e->user));
        memcpy(hash_sum, e->hash_sum, sizeof(e->hash_sum));
        r = age < a->cache_ttl_us ? 0 : 1;
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* Remembers a header verified against the stored hash 'hash' (NULL: the one remembered, seen
 * unchanged again), as checked now. */
static void cache_put(struct api_auth *a, const unsigned char *key, const char *user,
                      const char *hash)
{
    struct cache_entry *set = set_of(a, key), *e;
    unsigned char sum[SHA256_DIGEST_LENGTH];

    if (hash && digest(a, hash, sum) < 0)
        return; /* not remembered: the next request is checked again */
    pthread_mutex_lock(&a->lock);
    e = cache_find(set, key);
    if (!e && hash)
        e = cache_victim(set);
    if (e) {
        e->used = ++a->cache_tick;
        memcpy(e->key, key, sizeof(e->key));
        (void)snprintf(e->user, sizeof(e->user), "%s", user);
        if (hash)
            memcpy(e->hash_sum, sum, sizeof(sum));
        e->checked_us = api_now_us();
    }
    pthread_mutex_unlock(&a->lock);
}

/* For a header verified before: true when the user's stored hash is the one it was verified
 * with, so the password still matches (the same salt and iterations give the same hash)
 * without checking it again. Sets *ret_err to a store error other than -ENOENT. */
static bool is_still_valid(const struct api_auth *a, struct store *st, const char *user,
                           const unsigned char *hash_sum, int *ret_err)
{
    char hash[STORE_HASH_MAX + 1];
    unsigned char sum[SHA256_DIGEST_LENGTH];
    int r = store_user_get_hash(st, user, hash);

    if (r < 0 && r != -ENOENT)
        *ret_err = r;
    if (r < 0 || digest(a, hash, sum) < 0)
        return false;
    return CRYPTO_memcmp(sum, hash_sum, sizeof(sum)) == 0;
}

/* Waking waiters. A slot that comes free wakes the first waiter, and is kept for it (other
 * requests do not take it) until it is back: it takes the slot, or, when it no longer needs
 * one (its header was verified meanwhile, its address is in backoff, its client left), passes
 * its wake-up on to the next. So one free slot wakes one waiter, not all of them; a wake-up
 * that never comes back (WAKE_LOST_US) is given up rather than keep its slot from the others.
 * Each of these is called with the lock held. */
static void wakes_expire(struct api_auth *a, int64_t now_us)
{
    if (a->nwoken && now_us - a->woken_us > WAKE_LOST_US)
        a->nwoken = 0;
}

/* True when a slot is free that no woken request is coming back for. */
static bool slot_unclaimed(struct api_auth *a)
{
    return a->verify_slots + a->nwoken < atomic_load(&a->verify_limit);
}

/* Takes the first waiters off the list, one for each unclaimed slot, into woken; returns how
 * many (the caller calls them once the lock is released). */
static size_t wakes_due(struct api_auth *a, struct waiter *woken)
{
    size_t n = 0;

    wakes_expire(a, api_now_us());
    while (a->nwait > 0 && slot_unclaimed(a)) {
        woken[n++] = a->waiters[0];
        memmove(&a->waiters[0], &a->waiters[1], --a->nwait * sizeof(a->waiters[0]));
        a->nwoken++;
        a->woken_us = api_now_us();
    }
    return n;
}

static void wake(const struct waiter *woken, size_t n)
{
    for (size_t i = 0; i < n; i++)
        woken[i].fn(woken[i].ctx);
}

/* Takes one of the verification slots, without waiting: false when all are taken or kept for
 * woken requests. A woken request ('woken') spends its wake-up here either way: when it finds
 * none, the slot it was woken for went to a request that gives it back later. */
static bool verify_slot_take(struct api_auth *a, bool woken)
{
    bool ok;

    pthread_mutex_lock(&a->lock);
    wakes_expire(a, api_now_us());
    if (woken && a->nwoken > 0)
        a->nwoken--;
    ok = slot_unclaimed(a);
    if (ok)
        a->verify_slots++;
    pthread_mutex_unlock(&a->lock);
    return ok;
}

/* Gives a slot back and wakes the first waiter for it. */
static void verify_slot_give(struct api_auth *a)
{
    struct waiter woken[API_AUTH_WAITERS_MAX];
    size_t n;

    pthread_mutex_lock(&a->lock);
    a->verify_slots--;
    n = wakes_due(a, woken);
    pthread_mutex_unlock(&a->lock);
    wake(woken, n);
}

void api_auth_pass_on(struct api_auth *a)
{
    struct waiter woken[API_AUTH_WAITERS_MAX];
    size_t n;

    pthread_mutex_lock(&a->lock);
    if (a->nwoken > 0)
        a->nwoken--;
    n = wakes_due(a, woken);
    pthread_mutex_unlock(&a->lock);
    wake(woken, n);
}

int api_auth_wait_reserve(struct api_auth *a)
{
    int r = 0;

    pthread_mutex_lock(&a->lock);
    if (a->nwait + a->nreserved >= API_AUTH_WAITERS_MAX)
        r = -EAGAIN;
    else
        a->nreserved++;
    pthread_mutex_unlock(&a->lock);
    return r;
}

int api_auth_wait(struct api_auth *a, api_auth_wake_fn fn, void *ctx)
{
    int r = 0;

    pthread_mutex_lock(&a->lock);
    a->nreserved--;
    wakes_expire(a, api_now_us());
    if (slot_unclaimed(a)) {
        r = -EALREADY; /* one came free since the check: no wake-up would come */
    } else {
        a->waiters[a->nwait++] = (struct waiter){fn, ctx};
        atomic_fetch_add(&a->waited, 1);
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

/* api_auth_verify with a slot held. How many run at once is counted around the hash itself,
 * apart from the slots, so that /metrics shows what really ran. */
static int verify_counted(struct api_auth *a, const char *pass, const char *hash)
{
    unsigned now = atomic_fetch_add(&a->verifying, 1) + 1;
    unsigned peak = atomic_load(&a->verify_peak);
    int r;

    while (now > peak && !atomic_compare_exchange_weak(&a->verify_peak, &peak, now))
        ;
    r = api_auth_verify(pass, hash);
    atomic_fetch_sub(&a->verifying, 1);
    atomic_fetch_add(&a->verifications, 1);
    return r;
}

/* The slow path: verifies the password in header against the store, in a verification slot. */
static int check_password(struct api_auth *a, struct store *st, const char *header,
                          const unsigned char *key, bool woken, char *ret_user)
{
    char user[STORE_USER_NAME_MAX + 1], pass[API_PASSWORD_MAX + 1] = "";
    char hash[STORE_HASH_MAX + 1];
    bool known, took;
    int r = -EACCES;

    if (api_auth_parse_basic(header, user, pass) < 0)
        goto out;
    r = store_user_get_hash(st, user, hash);
    known = r == 0;
    if (r < 0 && r != -ENOENT)
        goto out;
    took = verify_slot_take(a, woken);
    woken = false; /* spent on the slot, taken or not */
    if (!took) {
        atomic_fetch_add(&a->busy, 1);
        r = -EAGAIN;
        goto out;
    }
    /* an unknown user is checked against the dummy hash: same cost as a wrong password */
    r = (verify_counted(a, pass, known ? hash : a->dummy_hash) == 0 && known) ? 0 : -EACCES;
    if (r ==
        0) /* before the next waiter is woken: the same header sent in parallel needs no check */
        cache_put(a, key, user, hash);
    verify_slot_give(a);
    if (r == 0)
        memcpy(ret_user, user, sizeof(user));
out:
    if (woken) /* no slot needed after all: the next waiter may have it */
        api_auth_pass_on(a);
    OPENSSL_cleanse(pass, sizeof(pass));
    return r;
}

/* api_auth_check_known for a header whose SHA-256 is key. */
static int check_known(struct api_auth *a, struct store *st, const unsigned char *key,
                       char *ret_user)
{
    unsigned char hash_sum[SHA256_DIGEST_LENGTH];
    char user[STORE_USER_NAME_MAX + 1];
    int r, err = 0;

    r = cache_lookup(a, key, user, hash_sum);
    if (r == 1 && is_still_valid(a, st, user, hash_sum, &err)) {
        cache_put(a, key, user, NULL);
        r = 0;
    }
    if (err < 0)
        return err;
    if (r != 0)
        return -ENOENT;
    memcpy(ret_user, user, sizeof(user));
    return 0;
}

int api_auth_check_known(struct api_auth *a, struct store *st, const char *header, char *ret_user)
{
    unsigned char key[SHA256_DIGEST_LENGTH];

    if (!header)
        return -ENOENT;
    if (digest(a, header, key) < 0)
        return -ENOMEM;
    return check_known(a, st, key, ret_user);
}

/* api_auth_check, for a request woken by api_auth_wait ('woken') or not. The header may have
 * been verified meanwhile (by a request it waited behind), so the cache is asked first. */
static int check(struct api_auth *a, struct store *st, const char *header, bool woken,
                 char *ret_user)
{
    unsigned char key[SHA256_DIGEST_LENGTH];
    int r = -ENOENT;

    if (header && digest(a, header, key) < 0)
        r = -ENOMEM;
    else if (header)
        r = check_known(a, st, key, ret_user);
    if (r == -ENOENT && header)
        return check_password(a, st, header, key, woken, ret_user);
    if (woken)
        api_auth_pass_on(a);
    return r == -ENOENT ? -EACCES : r;
}

int api_auth_check(struct api_auth *a, struct store *st, const char *header, char *ret_user)
{
    return check(a, st, header, false, ret_user);
}

int api_auth_check_woken(struct api_auth *a, struct store *st, const char *header, char *ret_user)
{
    return check(a, st, header, true, ret_user);
}

/* ---- throttling failed logins per client address ------------------------------------------ */

/* The name an address is counted under (out: API_AUTH_ADDR_MAX + 1 bytes): an IPv4 address
 * as it is; an IPv6 address as its /64, "2001:db8:1:2::/64", since whoever has one address of
 * a /64 (a host, a home) has all 2^64 of them; an IPv4-mapped one as its IPv4 address. */
static void addr_key(const char *addr, char *out)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char in6[16];
    char text[INET6_ADDRSTRLEN];

    if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, in6) != 1) {
        (void)snprintf(out, API_AUTH_ADDR_MAX + 1, "%s", addr);
    } else if (memcmp(in6, v4mapped, sizeof(v4mapped)) == 0) {
        (void)inet_ntop(AF_INET, &in6[12], out, API_AUTH_ADDR_MAX + 1);
    } else {
        memset(&in6[8], 0, 8);
        (void)inet_ntop(AF_INET6, in6, text, sizeof(text));
        (void)snprintf(out, API_AUTH_ADDR_MAX + 1, "%s/64", text);
    }
}

/* The first record of addr's bucket. */
static struct throttle_entry *bucket_of(struct api_auth *a, const char *addr)
{
    return &a->throttle[(keyed_hash(a->siphash, addr, strlen(addr)) % THROTTLE_BUCKETS) *
                        THROTTLE_WAYS];
}

/* The shared record an address without room of its own counts in. Its own key, so that the
 * addresses sharing it have nothing to do with those sharing a bucket. */
static size_t overflow_index(struct api_auth *a, const char *addr)
{
    return keyed_hash(a->overflow_siphash, addr, strlen(addr)) % API_AUTH_OVERFLOW_SLOTS;
}

size_t api_auth_overflow_slot(struct api_auth *a, const char *addr)
{
    char name[API_AUTH_ADDR_MAX + 1];

    addr_key(addr, name);
    return overflow_index(a, name);
}

/* A record counts while its address is in backoff or failed lately; any other is free. */
static bool is_live(const struct throttle_entry *t, int64_t now_us)
{
    return t->until_us > now_us || (t->failures > 0 && now_us - t->last_us < API_AUTH_FORGET_US);
}

/* Returns addr's live record in bucket, or NULL; *ret_room gets a record that is not live
 * (NULL when every record of the bucket is). Called with the lock held. */
static struct throttle_entry *throttle_find(struct throttle_entry *bucket, const char *addr,
                                            int64_t now_us, struct throttle_entry **ret_room)
{
    struct throttle_entry *room = NULL, *found = NULL;

    for (size_t i = 0; i < THROTTLE_WAYS && !found; i++) {
        if (!is_live(&bucket[i], now_us))
            room = room ? room : &bucket[i];
        else if (strcmp(bucket[i].addr, addr) == 0)
            found = &bucket[i];
    }
    *ret_room = room;
    return found;
}

/* addr's trusted record, or NULL: one that logged in within API_AUTH_FORGET_US, or has
 * failed since. Called with the lock held. */
static struct throttle_entry *trusted_find(struct api_auth *a, const char *addr, int64_t now_us)
{
    for (size_t i = 0; i < API_AUTH_TRUSTED_SLOTS; i++) {
        struct throttle_entry *t = &a->trusted[i];

        if (t->addr[0] && (now_us - t->ok_us < API_AUTH_FORGET_US || is_live(t, now_us)) &&
            strcmp(t->addr, addr) == 0)
            return t;
    }
    return NULL;
}

/* A trusted record for addr, which has just logged in: its own, or the one whose address
 * logged in longest ago and is not in backoff now, or NULL when every one is in backoff.
 * Only a success places a record here, so strangers cannot take these places. Called with
 * the lock held. */
static struct throttle_entry *trusted_place(struct api_auth *a, const char *addr, int64_t now_us)
{
    struct throttle_entry *t = trusted_find(a, addr, now_us), *oldest = NULL;

    for (size_t i = 0; i < API_AUTH_TRUSTED_SLOTS && !t; i++)
        if (a->trusted[i].until_us <= now_us && (!oldest || a->trusted[i].ok_us < oldest->ok_us))
            oldest = &a->trusted[i];
    if (!t && oldest) {
        t = oldest;
        memset(t, 0, sizeof(*t));
        (void)snprintf(t->addr, sizeof(t->addr), "%s", addr);
    }
    return t;
}

/* addr's record, trusted or in the table, or NULL; *ret_room as for throttle_find (NULL when
 * the address has a record). Called with the lock held. */
static struct throttle_entry *record_of(struct api_auth *a, const char *addr, int64_t now_us,
                                        struct throttle_entry **ret_room)
{
    struct throttle_entry *t = trusted_find(a, addr, now_us);

    *ret_room = NULL;
    return t ? t : throttle_find(bucket_of(a, addr), addr, now_us, ret_room);
}

int64_t api_auth_throttled(struct api_auth *a, const char *addr, int64_t now_us)
{
    struct throttle_entry *t, *room;
    char name[API_AUTH_ADDR_MAX + 1];
    int64_t until = 0;

    addr_key(addr, name);
    pthread_mutex_lock(&a->lock);
    t = record_of(a, name, now_us, &room);
    if (t)
        until = t->until_us;
    else if (!room) /* no room of its own: throttled with the strangers sharing its record */
        until = a->overflow[overflow_index(a, name)].until_us;
    pthread_mutex_unlock(&a->lock);
    return until > now_us ? until - now_us : 0;
}

/* Counts one failure in t; returns the backoff it starts (0: none yet). */
static int64_t count_failure(struct throttle_entry *t, int64_t now_us)
{
    unsigned over;
    int64_t backoff;

    t->last_us = now_us;
    if (++t->failures < API_AUTH_FREE_FAILURES)
        return 0;
    over = t->failures - API_AUTH_FREE_FAILURES; /* 1 s, 2, 4, ... up to the cap */
    backoff = over >= 6 ? API_AUTH_MAX_BACKOFF_US : (1000000LL << over);
    if (backoff > API_AUTH_MAX_BACKOFF_US)
        backoff = API_AUTH_MAX_BACKOFF_US;
    t->until_us = now_us + backoff;
    return backoff;
}

/* A success clears the address's record and keeps the address among the trusted ones. */
static void record_success(struct api_auth *a, const char *addr, int64_t now_us)
{
    struct throttle_entry *t, *room;

    t = throttle_find(bucket_of(a, addr), addr, now_us, &room);
    if (t)
        memset(t, 0, sizeof(*t));
    t = trusted_place(a, addr, now_us);
    if (t) {
        t->failures = 0;
        t->until_us = 0;
        t->ok_us = now_us;
    }
}

int64_t api_auth_record(struct api_auth *a, const char *addr, bool ok, int64_t now_us,
                        bool *ret_shared)
{
    struct throttle_entry *t, *room;
    char name[API_AUTH_ADDR_MAX + 1];
    bool shared = false;
    int64_t backoff = 0;

    addr_key(addr, name);
    pthread_mutex_lock(&a->lock);
    if (ok) {
        record_success(a, name, now_us); /* never the shared record: it is no client's */
        goto out;
    }
    t = record_of(a, name, now_us, &room);
    if (!t && room) {
        memset(room, 0, sizeof(*room));
        memcpy(room->addr, name, sizeof(room->addr));
        t = room;
    } else if (!t) {
        t = &a->overflow[overflow_index(a, name)];
        shared = true;
        a->overflowed++;
        if (!is_live(t, now_us))
            t->failures = 0;
    }
    backoff = count_failure(t, now_us);
out:
    pthread_mutex_unlock(&a->lock);
    if (ret_shared)
        *ret_shared = shared;
    return backoff;
}

void api_auth_stats(struct api_auth *a, int64_t now_us, struct api_auth_stats *ret_stats)
{
    struct api_auth_stats s = {
        .verifications = atomic_load(&a->verifications),
        .busy = atomic_load(&a->busy),
        .waited = atomic_load(&a->waited),
        .verifying = atomic_load(&a->verifying),
        .peak = atomic_load(&a->verify_peak),
        .limit = atomic_load(&a->verify_limit),
    };

    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < API_AUTH_THROTTLE_SLOTS; i++)
        s.records += is_live(&a->throttle[i], now_us);
    for (size_t i = 0; i < API_AUTH_TRUSTED_SLOTS; i++)
        s.trusted += trusted_find(a, a->trusted[i].addr, now_us) == &a->trusted[i];
    s.overflowed = a->overflowed;
    pthread_mutex_unlock(&a->lock);
    *ret_stats = s;
}
