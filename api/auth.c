/* api/auth.c: password hashing and HTTP Basic authentication.
 *
 * DESIGN: verifying a password costs API_AUTH_ITERATIONS rounds of HMAC-SHA256 (tens of ms) on
 * purpose. Clients send the same Authorization header on every request, so a verified header is
 * remembered by its SHA-256 (never the header itself) for API_AUTH_CACHE_TTL_US; a later request
 * with the same header costs one hash and a table lookup. Failures are not cached, so the table
 * holds only credentials that were right; a password change or a deleted user takes effect for
 * cached headers when their entry expires. */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "api/auth.h"
#include "api/util.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define CACHE_SLOTS 256

struct cache_entry {
    unsigned char key[SHA256_DIGEST_LENGTH];
    char user[STORE_USER_NAME_MAX + 1];
    int64_t expires_us; /* 0 = empty */
};

/* Failed logins per client address (direct-mapped by a hash of the address; a collision
 * replaces the older address's record, which an attacker could only use to lose their own
 * backoff by spending many addresses). */
#define THROTTLE_SLOTS 1024
struct throttle_entry {
    char addr[64];
    unsigned failures; /* in a row, from this address */
    int64_t until_us;  /* no password is checked before this */
};

struct api_auth {
    pthread_mutex_t lock;
    struct cache_entry slots[CACHE_SLOTS];
    struct throttle_entry throttle[THROTTLE_SLOTS];
    char dummy_hash[STORE_HASH_MAX + 1]; /* verified against for unknown users */
};

static int pbkdf2(const char *password, const unsigned char *salt, size_t salt_len,
                  unsigned iterations, unsigned char out[HASH_LEN])
{
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
                          EVP_sha256(), HASH_LEN, out) != 1)
        return -EIO;
    return 0;
}

int api_auth_hash(const char *password, char *ret_hash)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char salt64[32], hash64[48];

    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    if (pbkdf2(password, salt, sizeof(salt), API_AUTH_ITERATIONS, hash) < 0)
        return -EIO;
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
    r = pbkdf2(password, salt, (size_t)salt_len, iterations, got);
    if (r < 0)
        return r;
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

int api_auth_new(struct api_auth **ret_auth)
{
    struct api_auth *a = calloc(1, sizeof(*a));
    unsigned char junk[16];
    char junk64[32];
    int r;

    if (!a)
        return -ENOMEM;
    if (RAND_bytes(junk, sizeof(junk)) != 1) {
        free(a);
        return -EIO;
    }
    api_b64_encode(junk, sizeof(junk), junk64);
    r = api_auth_hash(junk64, a->dummy_hash);
    if (r < 0) {
        free(a);
        return r;
    }
    pthread_mutex_init(&a->lock, NULL);
    *ret_auth = a;
    return 0;
}

void api_auth_free(struct api_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

static struct cache_entry *slot_for(struct api_auth *a, const unsigned char *key)
{
    return &a->slots[key[0]]; /* the digest is uniform: its first byte is a fine index */
}

static int cache_lookup(struct api_auth *a, const unsigned char *key, char *ret_user)
{
    struct cache_entry *e = slot_for(a, key);
    int r = -ENOENT;

    pthread_mutex_lock(&a->lock);
    if (e->expires_us > api_now_us() && CRYPTO_memcmp(e->key, key, sizeof(e->key)) == 0) {
        memcpy(ret_user, e->user, sizeof(e->user));
        r = 0;
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

static void cache_insert(struct api_auth *a, const unsigned char *key, const char *user)
{
    struct cache_entry *e = slot_for(a, key);

    pthread_mutex_lock(&a->lock);
    memcpy(e->key, key, sizeof(e->key));
    (void)snprintf(e->user, sizeof(e->user), "%s", user);
    e->expires_us = api_now_us() + API_AUTH_CACHE_TTL_US;
    pthread_mutex_unlock(&a->lock);
}

int api_auth_check(struct api_auth *a, struct store *st, const char *header, char *ret_user)
{
    unsigned char key[SHA256_DIGEST_LENGTH];
    char user[STORE_USER_NAME_MAX + 1], pass[API_PASSWORD_MAX + 1];
    char hash[STORE_HASH_MAX + 1];
    int r;

    if (!header)
        return -EACCES;
    (void)SHA256((const unsigned char *)header, strlen(header), key);
    if (cache_lookup(a, key, ret_user) == 0)
        return 0;
    if (api_auth_parse_basic(header, user, pass) < 0)
        return -EACCES;
    r = store_user_get_hash(st, user, hash);
    if (r == -ENOENT) {
        (void)api_auth_verify(pass, a->dummy_hash); /* same cost as a wrong password */
        r = -EACCES;
    } else if (r == 0) {
        r = api_auth_verify(pass, hash) == 0 ? 0 : -EACCES;
    }
    OPENSSL_cleanse(pass, sizeof(pass));
    if (r == 0) {
        cache_insert(a, key, user);
        memcpy(ret_user, user, sizeof(user));
    }
    return r;
}

/* ---- throttling failed logins per client address ------------------------------------------ */

static struct throttle_entry *throttle_slot(struct api_auth *a, const char *addr)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const char *p = addr; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return &a->throttle[h % THROTTLE_SLOTS];
}

int64_t api_auth_throttled(struct api_auth *a, const char *addr, int64_t now_us)
{
    struct throttle_entry *t;
    int64_t wait = 0;

    pthread_mutex_lock(&a->lock);
    t = throttle_slot(a, addr);
    if (strcmp(t->addr, addr) == 0 && t->until_us > now_us)
        wait = t->until_us - now_us;
    pthread_mutex_unlock(&a->lock);
    return wait;
}

int64_t api_auth_record(struct api_auth *a, const char *addr, bool ok, int64_t now_us)
{
    struct throttle_entry *t;
    int64_t backoff = 0;

    pthread_mutex_lock(&a->lock);
    t = throttle_slot(a, addr);
    if (strcmp(t->addr, addr) != 0) {
        memset(t, 0, sizeof(*t));
        snprintf(t->addr, sizeof(t->addr), "%s", addr);
    }
    if (ok) {
        t->failures = 0;
        t->until_us = 0;
    } else if (++t->failures >= API_AUTH_FREE_FAILURES) {
        unsigned over = t->failures - API_AUTH_FREE_FAILURES; /* 1 s, 2, 4, ... up to the cap */

        backoff = over >= 6 ? API_AUTH_MAX_BACKOFF_US : (1000000LL << over);
        if (backoff > API_AUTH_MAX_BACKOFF_US)
            backoff = API_AUTH_MAX_BACKOFF_US;
        t->until_us = now_us + backoff;
    }
    pthread_mutex_unlock(&a->lock);
    return backoff;
}
