/* tests/test_api_auth.c: the failed-login throttle table and the bound on concurrent password
 * verifications (api/http/auth.c), driven directly with an injected clock. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "api/http/auth.h"
#include "api/http/pbkdf2.h"
#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define T0 (1000 * 1000000LL) /* an arbitrary start for the injected clock */
#define SEC 1000000LL

static char dir[64];
static struct api_auth *a;

static void setup(void)
{
    th_tmpdir(dir);
    ck_assert_int_eq(api_auth_new(&a), 0);
}

static void teardown(void)
{
    api_auth_free(a);
    a = NULL;
    th_rmdir(dir);
}

/* Fails addr n times at now_us; returns the last backoff. */
static int64_t fail_n(const char *addr, unsigned n, int64_t now_us)
{
    int64_t backoff = 0;

    for (unsigned i = 0; i < n; i++)
        backoff = api_auth_record(a, addr, false, now_us, NULL);
    return backoff;
}

/* Fails once from each of n addresses 10.<i> (distinct from the victims' 127.x). */
static void fail_strangers(unsigned from, unsigned n, int64_t now_us)
{
    char addr[32];

    for (unsigned i = from; i < from + n; i++) {
        (void)snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        (void)api_auth_record(a, addr, false, now_us, NULL);
    }
}

static struct api_auth_stats stats(int64_t now_us);

/* An address 10.250.x.y, not 'addr', that falls on the same shared record as 'addr'. */
static void sibling(const char *addr, unsigned skip, char *out, size_t cap)
{
    size_t slot = api_auth_overflow_slot(a, addr);

    for (unsigned i = 0; i < 65536; i++) {
        (void)snprintf(out, cap, "10.250.%u.%u", i >> 8, i & 255);
        if (strcmp(out, addr) != 0 && api_auth_overflow_slot(a, out) == slot && skip-- == 0)
            return;
    }
    ck_abort_msg("no sibling of %s", addr);
}

/* Fails strangers 10.x until every record of the table is live, none more. */
static void fill_table(int64_t now_us)
{
    unsigned i = 0;

    while (stats(now_us).records < API_AUTH_THROTTLE_SLOTS && i < 64 * API_AUTH_THROTTLE_SLOTS)
        fail_strangers(i++, 1, now_us);
    ck_assert_uint_eq(stats(now_us).records, API_AUTH_THROTTLE_SLOTS);
}

static struct api_auth_stats stats(int64_t now_us)
{
    struct api_auth_stats s;

    api_auth_stats(a, now_us, &s);
    return s;
}

/* The two addresses of the report: under the old unkeyed FNV-1a they shared a slot and reset
 * each other, so alternating they were never throttled. */
START_TEST(test_alternating_colliding_addresses_each_throttled)
{
    int64_t b5 = 0, b10 = 0;

    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(api_auth_throttled(a, "127.0.0.5", T0), 0);
        b5 = api_auth_record(a, "127.0.0.5", false, T0, NULL);
        ck_assert_int_eq(api_auth_throttled(a, "127.0.0.10", T0), 0);
        b10 = api_auth_record(a, "127.0.0.10", false, T0, NULL);
    }
    ck_assert_int_eq(b5, SEC);
    ck_assert_int_eq(b10, SEC);
    ck_assert_int_eq(api_auth_throttled(a, "127.0.0.5", T0), SEC);
    ck_assert_int_eq(api_auth_throttled(a, "127.0.0.10", T0), SEC);
    /* the backoff doubles and stops at 60 s, as before */
    ck_assert_int_eq(fail_n("127.0.0.5", 1, T0 + SEC), 2 * SEC);
    ck_assert_int_eq(fail_n("127.0.0.5", 5, T0 + 3 * SEC), 60 * SEC);
    ck_assert_int_eq(fail_n("127.0.0.5", 3, T0 + 4 * SEC), 60 * SEC);
    ck_assert_uint_eq(stats(T0).records, 2);
}
END_TEST

/* Five times as many strangers as the table holds, each failing once, do not touch a throttled
 * address's record: it is live, and live records are never given away. */
START_TEST(test_strangers_beyond_the_table_keep_a_backoff)
{
    struct api_auth_stats s;

    ck_assert_int_eq(fail_n("127.0.0.5", 12, T0), 4 * SEC);
    fail_strangers(0, 5 * API_AUTH_THROTTLE_SLOTS, T0 + SEC);
    ck_assert_int_eq(api_auth_throttled(a, "127.0.0.5", T0 + SEC), 3 * SEC);
    s = stats(T0 + SEC);
    ck_assert_uint_eq(s.records, API_AUTH_THROTTLE_SLOTS);        /* every slot in use... */
    ck_assert_uint_ge(s.overflowed, 4 * API_AUTH_THROTTLE_SLOTS); /* ...the rest shared one */
    /* its next failure still counts in its own record: 8 s */
    ck_assert_int_eq(fail_n("127.0.0.5", 1, T0 + 5 * SEC), 8 * SEC);
}
END_TEST

/* An address that finds no room is not waved through: it is throttled with every other such
 * address through the shared record, whose backoff grows as an address's does. */
START_TEST(test_no_room_means_the_shared_backoff)
{
    char sib[32], sib2[32];

    fail_strangers(0, 5 * API_AUTH_THROTTLE_SLOTS, T0);
    /* an address without room: its failures go to its shared record, into the longest
     * backoff, which the others that fall on that record share */
    ck_assert_int_eq(fail_n("192.0.2.1", 16, T0), 60 * SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.1", T0), 60 * SEC);
    sibling("192.0.2.1", 0, sib, sizeof(sib));
    sibling("192.0.2.1", 1, sib2, sizeof(sib2));
    ck_assert_int_eq(api_auth_throttled(a, sib, T0 + 30 * SEC), 30 * SEC);
    /* a success from such an address does not clear the shared record for the others */
    (void)api_auth_record(a, "192.0.2.1", true, T0 + 30 * SEC, NULL);
    ck_assert_int_eq(api_auth_throttled(a, sib, T0 + 30 * SEC), 30 * SEC);
    {
        bool shared = false;

        ck_assert_int_eq(api_auth_record(a, sib2, false, T0 + 61 * SEC, &shared), 60 * SEC);
        ck_assert(shared);
    }
    /* an address with a record of its own goes by its own count */
    ck_assert_int_eq(api_auth_throttled(a, "10.0.0.7", T0), 0);
}
END_TEST

/* Records of addresses quiet for API_AUTH_FORGET_US are free again: new addresses get records
 * of their own, and a returning address starts its count over. */
START_TEST(test_quiet_records_are_reused)
{
    int64_t later = T0 + API_AUTH_FORGET_US;
    uint64_t shared;

    ck_assert_int_eq(fail_n("127.0.0.5", 9, T0), 0);
    fail_strangers(0, 5 * API_AUTH_THROTTLE_SLOTS, T0);
    ck_assert_uint_eq(stats(later - 1).records, API_AUTH_THROTTLE_SLOTS);
    ck_assert_uint_eq(stats(later).records, 0);
    shared = stats(later).overflowed;
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.1", later), 0);
    /* few enough that no bucket of 16 gets more than 16 of them, whatever the key */
    fail_strangers(100000, API_AUTH_THROTTLE_SLOTS / 8, later);
    ck_assert_uint_eq(stats(later).records, API_AUTH_THROTTLE_SLOTS / 8);
    ck_assert_uint_eq(stats(later).overflowed, shared); /* all of them had room */
    /* 127.0.0.5 failed 9 times, was quiet, now fails 9 more: its count started over */
    ck_assert_int_eq(fail_n("127.0.0.5", 9, later + SEC), 0);
    ck_assert_int_eq(fail_n("127.0.0.5", 1, later + SEC), SEC);
}
END_TEST

START_TEST(test_success_clears_only_its_own_record)
{
    ck_assert_int_eq(fail_n("127.0.0.5", 10, T0), SEC);
    ck_assert_int_eq(fail_n("127.0.0.6", 10, T0), SEC);
    (void)api_auth_record(a, "127.0.0.5", true, T0 + SEC, NULL);
    ck_assert_int_eq(api_auth_throttled(a, "127.0.0.5", T0 + SEC), 0);
    ck_assert_int_eq(api_auth_throttled(a, "127.0.0.6", T0 + SEC / 2), SEC / 2);
    ck_assert_int_eq(fail_n("127.0.0.5", 9, T0 + SEC), 0); /* the count starts over */
    ck_assert_uint_eq(stats(T0 + SEC).records, 1);         /* 127.0.0.6 */
    ck_assert_uint_eq(stats(T0 + SEC).trusted, 1);         /* 127.0.0.5, counting there now */
    ck_assert_int_eq(fail_n("127.0.0.5", 1, T0 + SEC), SEC);
}
END_TEST

/* A store with admin:secret (API_AUTH_ITERATIONS) and slow:<anything> whose hash takes
 * 'iterations' rounds, so that a check of it lasts long enough to be seen running. */
static struct store *user_store(unsigned iterations)
{
    char path[128], hash[STORE_HASH_MAX + 1];
    struct store *st;

    (void)snprintf(path, sizeof(path), "%s/a.db", dir);
    ck_assert_int_eq(store_open(path, &st), 0);
    ck_assert_int_eq(api_auth_hash("secret", hash), 0);
    ck_assert_int_eq(store_user_add(st, "admin", hash), 0);
    (void)snprintf(hash, sizeof(hash), "pbkdf2-sha256$%u$%s$%s", iterations,
                   "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    ck_assert_int_eq(store_user_add(st, "slow", hash), 0);
    return st;
}

struct checker {
    const char *header;
    unsigned times;
    int results[64];
};

static void *check_thread(void *arg)
{
    struct checker *c = arg;
    char path[128], user[STORE_USER_NAME_MAX + 1];
    struct store *st;

    (void)snprintf(path, sizeof(path), "%s/a.db", dir);
    ck_assert_int_eq(store_open(path, &st), 0); /* a store is used by one thread */
    for (unsigned i = 0; i < c->times; i++)
        c->results[i] = api_auth_check(a, st, c->header, user);
    store_close(st);
    return NULL;
}

/* While a verification holds the only slot, another check is refused at once (-EAGAIN, not a
 * wrong password), and a cached header is still accepted. */
START_TEST(test_no_free_slot_refused_at_once)
{
    struct store *st = user_store(2000000); /* a long check: about 1 s, 5 s under ASan */
    struct checker slow = {.header = "Basic c2xvdzp4", .times = 1}; /* slow:x */
    char user[STORE_USER_NAME_MAX + 1];
    pthread_t t;

    api_auth_set_verify_limit(a, 1);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46c2VjcmV0", user), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, check_thread, &slow), 0);
    for (int i = 0; i < 10000 && stats(T0).verifying == 0; i++)
        (void)usleep(1000);
    ck_assert_uint_eq(stats(T0).verifying, 1);
    /* -EAGAIN, not -EACCES: it did not wait for the slot and then check */
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46d3Jvbmc=", user), -EAGAIN);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46c2VjcmV0", user), 0);
    ck_assert_str_eq(user, "admin");
    ck_assert_uint_eq(stats(T0).verifying, 1); /* the slow check is still running */
    pthread_join(t, NULL);
    ck_assert_int_eq(slow.results[0], -EACCES);
    ck_assert_uint_eq(stats(T0).busy, 1);
    ck_assert_uint_eq(stats(T0).peak, 1);
    /* the slot is free again */
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46d3Jvbmc=", user), -EACCES);
    store_close(st);
}
END_TEST

static void count_wake(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1); /* from the thread that gave the slot back */
}

/* A request that found no slot free waits without a thread: it is woken when the slot comes
 * free, told to try at once when one already has, and the places to wait are bounded. */
START_TEST(test_waiting_for_a_slot)
{
    struct store *st = user_store(2000000); /* a long check: about 1 s, 5 s under ASan */
    struct checker slow = {.header = "Basic c2xvdzp4", .times = 1}; /* slow:x */
    char user[STORE_USER_NAME_MAX + 1];
    pthread_t t;
    atomic_int woken = 0;

    api_auth_set_verify_limit(a, 1);
    ck_assert_int_eq(pthread_create(&t, NULL, check_thread, &slow), 0);
    for (int i = 0; i < 10000 && stats(T0).verifying == 0; i++)
        (void)usleep(1000);
    ck_assert_uint_eq(stats(T0).verifying, 1);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46c2VjcmV0", user), -EAGAIN);
    ck_assert_int_eq(api_auth_wait_reserve(a), 0);
    ck_assert_int_eq(api_auth_wait(a, count_wake, &woken), 0);
    ck_assert_int_eq(woken, 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(woken, 1); /* by the slow check, as it gave the slot back */
    /* the woken request tries again, on the slot kept for it */
    ck_assert_int_eq(api_auth_check_woken(a, st, "Basic YWRtaW46c2VjcmV0", user), 0);
    ck_assert_uint_eq(stats(T0).waited, 1);
    /* a slot is free: no waiting, try again at once */
    ck_assert_int_eq(api_auth_wait_reserve(a), 0);
    ck_assert_int_eq(api_auth_wait(a, count_wake, &woken), -EALREADY);
    for (int i = 0; i < API_AUTH_WAITERS_MAX; i++)
        ck_assert_int_eq(api_auth_wait_reserve(a), 0);
    ck_assert_int_eq(api_auth_wait_reserve(a), -EAGAIN);
    ck_assert_int_eq(woken, 1);
    store_close(st);
}
END_TEST

/* Eight threads checking wrong passwords at once never run more verifications than allowed;
 * every check is either done (a wrong password) or refused busy, and counted. */
START_TEST(test_concurrent_checks_within_the_limit)
{
    static const char *const headers[] = {"Basic YWRtaW46d3Jvbmc=", "Basic Ym9iOnNlY3JldA=="};
    struct store *st = user_store(API_AUTH_ITERATIONS);
    struct checker c[8];
    pthread_t t[8];
    unsigned done = 0, busy = 0;

    api_auth_set_verify_limit(a, 2);
    for (int i = 0; i < 8; i++) {
        c[i] = (struct checker){.header = headers[i % 2], .times = 6};
        ck_assert_int_eq(pthread_create(&t[i], NULL, check_thread, &c[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        for (unsigned k = 0; k < c[i].times; k++) {
            ck_assert(c[i].results[k] == -EACCES || c[i].results[k] == -EAGAIN);
            done += c[i].results[k] == -EACCES;
            busy += c[i].results[k] == -EAGAIN;
        }
    }
    ck_assert_uint_le(stats(T0).peak, 2);
    ck_assert_uint_ge(stats(T0).peak, 1);
    ck_assert_uint_eq(stats(T0).verifications, done);
    ck_assert_uint_eq(stats(T0).busy, busy);
    ck_assert_uint_eq(stats(T0).limit, 2);
    store_close(st);
}
END_TEST

/* A header verified once needs no slot after its TTL either: its user's stored hash, seen
 * unchanged, is enough. A new password or a deleted user is noticed all the same. */
START_TEST(test_known_header_needs_no_slot_after_its_ttl)
{
    static const char good[] = "Basic YWRtaW46c2VjcmV0", wrong[] = "Basic YWRtaW46d3Jvbmc=";
    struct store *st = user_store(2000000);
    struct checker slow = {.header = "Basic c2xvdzp4", .times = 1}; /* slow:x */
    char user[STORE_USER_NAME_MAX + 1], hash[STORE_HASH_MAX + 1];
    pthread_t t;

    api_auth_set_verify_limit(a, 1);
    api_auth_set_cache_ttl(a, 0); /* every header is past its TTL at once */
    ck_assert_int_eq(api_auth_check(a, st, good, user), 0);
    ck_assert_int_eq(api_auth_check(a, st, good, user), 0);
    ck_assert_uint_eq(stats(T0).verifications, 1); /* the second: the stored hash, unchanged */
    ck_assert_int_eq(pthread_create(&t, NULL, check_thread, &slow), 0);
    for (int i = 0; i < 10000 && stats(T0).verifying == 0; i++)
        (void)usleep(1000);
    ck_assert_uint_eq(stats(T0).verifying, 1);
    ck_assert_int_eq(api_auth_check(a, st, good, user), 0); /* while the only slot is taken */
    ck_assert_str_eq(user, "admin");
    ck_assert_int_eq(api_auth_check(a, st, wrong, user), -EAGAIN);
    pthread_join(t, NULL);
    /* a new password: the old header is checked again, and fails */
    ck_assert_int_eq(api_auth_hash("other", hash), 0);
    ck_assert_int_eq(store_user_set_hash(st, "admin", hash), 0);
    ck_assert_int_eq(api_auth_check(a, st, good, user), -EACCES);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46b3RoZXI=", user), 0);
    ck_assert_uint_eq(stats(T0).verifications, 4);
    /* a deleted user */
    ck_assert_int_eq(store_user_delete(st, "admin"), 0);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46b3RoZXI=", user), -EACCES);
    store_close(st);
}
END_TEST

/* An address that logged in keeps a record apart, which strangers cannot take: with the
 * table full and the shared record in backoff it is not throttled, and its own failures still
 * count (a shared address is no way around the backoff). */
START_TEST(test_logged_in_addresses_keep_their_place)
{
    char addr[32];

    (void)api_auth_record(a, "192.0.2.1", true, T0, NULL);
    fail_strangers(0, 5 * API_AUTH_THROTTLE_SLOTS, T0);
    ck_assert_int_eq(fail_n("192.0.2.2", 16, T0), 60 * SEC); /* a stranger, shared record */
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.2", T0), 60 * SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.1", T0), 0);
    /* one that logs in now, while the table is full, gets a place too */
    (void)api_auth_record(a, "192.0.2.3", true, T0 + SEC, NULL);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.3", T0 + SEC), 0);
    ck_assert_int_eq(fail_n("192.0.2.1", 12, T0 + SEC), 4 * SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.1", T0 + SEC), 4 * SEC);
    ck_assert_uint_eq(stats(T0 + SEC).trusted, 2);
    /* the most recent logins keep their places; the oldest not in backoff gives way */
    for (unsigned i = 0; i + 1 < API_AUTH_TRUSTED_SLOTS; i++) {
        (void)snprintf(addr, sizeof(addr), "198.51.100.%u", i);
        (void)api_auth_record(a, addr, true, T0 + 2 * SEC, NULL);
    }
    sibling("192.0.2.3", 0, addr, sizeof(addr)); /* its shared record, in backoff */
    ck_assert_int_eq(fail_n(addr, 16, T0), 60 * SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.3", T0 + 2 * SEC), 58 * SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.1", T0 + 2 * SEC), 3 * SEC); /* kept */
    ck_assert_int_eq(api_auth_throttled(a, "198.51.100.0", T0 + 2 * SEC), 0);
    /* quiet for API_AUTH_FORGET_US, a logged-in address is a stranger again */
    ck_assert_uint_eq(stats(T0 + 2 * SEC + API_AUTH_FORGET_US).trusted, 0);
}
END_TEST

/* Issue 12 review, 4: with the table full, a stranger with many addresses used to keep every
 * address without a record at 429 through the one shared record. Now an address shares only
 * the record its keyed hash picks (one of 256): a never-seen address on another one is
 * checked, one on the stranger's is throttled with it (no free pass). */
START_TEST(test_full_table_throttles_only_the_strangers_shared_record)
{
    char other[32], sib[32];
    unsigned i = 0;
    bool shared = false;

    fill_table(T0);
    ck_assert_int_eq(fail_n("192.0.2.66", 16, T0), 60 * SEC);
    ck_assert_int_eq(api_auth_record(a, "192.0.2.66", false, T0, &shared), 60 * SEC);
    ck_assert(shared); /* it had no room of its own */
    do                 /* a never-seen address on another shared record */
        (void)snprintf(other, sizeof(other), "198.51.100.%u", i++);
    while (api_auth_overflow_slot(a, other) == api_auth_overflow_slot(a, "192.0.2.66") && i < 256);
    ck_assert_int_eq(api_auth_throttled(a, other, T0 + SEC), 0);
    sibling("192.0.2.66", 0, sib, sizeof(sib));
    ck_assert_int_eq(api_auth_throttled(a, sib, T0 + SEC), 59 * SEC);
}
END_TEST

/* An IPv6 address counts as its /64 (its owner has all of them): ten failures spread over a
 * /64 start the backoff for all of it, not for the next /64; an IPv4-mapped address counts as
 * its IPv4 address. */
START_TEST(test_ipv6_counts_by_its_64)
{
    char addr[64];

    for (unsigned i = 0; i < API_AUTH_FREE_FAILURES; i++) {
        (void)snprintf(addr, sizeof(addr), "2001:db8:1:2:%x::%x", i, i + 1);
        ck_assert_int_eq(api_auth_throttled(a, addr, T0), 0);
        (void)api_auth_record(a, addr, false, T0, NULL);
    }
    ck_assert_int_eq(api_auth_throttled(a, "2001:db8:1:2:ffff:ffff:ffff:ffff", T0), SEC);
    ck_assert_int_eq(api_auth_throttled(a, "2001:db8:1:3::1", T0), 0);
    ck_assert_uint_eq(stats(T0).records, 1);
    ck_assert_int_eq(fail_n("::ffff:192.0.2.7", 10, T0), SEC);
    ck_assert_int_eq(api_auth_throttled(a, "192.0.2.7", T0), SEC);
    /* a success from any address of the /64 clears it */
    (void)api_auth_record(a, "2001:db8:1:2::99", true, T0, NULL);
    ck_assert_int_eq(api_auth_throttled(a, "2001:db8:1:2::1", T0), 0);
}
END_TEST

/* admin:<pw> hashed with 1 iteration as user "quick": checks that cost next to nothing. */
static void add_quick_user(struct store *st)
{
    static const unsigned char salt[16] = {0};
    unsigned char out[32];
    char salt64[32], out64[48], hash[STORE_HASH_MAX + 1];

    ck_assert_int_eq(PKCS5_PBKDF2_HMAC("pw", 2, salt, sizeof(salt), 1, EVP_sha256(), 32, out), 1);
    api_b64_encode(salt, sizeof(salt), salt64);
    api_b64_encode(out, sizeof(out), out64);
    (void)snprintf(hash, sizeof(hash), "pbkdf2-sha256$1$%s$%s", salt64, out64);
    ck_assert_int_eq(store_user_add(st, "quick", hash), 0);
}

/* Issue 12 review, 2: the cache was direct-mapped by the digest's first byte, so two active
 * headers sharing it evicted each other and each of their requests needed a check. Now 24
 * headers that share a first byte, and then 300 more, all stay: checked again, none needs a
 * password check. (Text after the base64 is ignored, so "Basic cXVpY2s6cHc= <n>" are all
 * quick:pw.) */
START_TEST(test_cache_keeps_headers_sharing_a_first_byte)
{
    static char headers[324][48];
    struct store *st = user_store(1);
    unsigned char d[SHA256_DIGEST_LENGTH], first = 0;
    char user[STORE_USER_NAME_MAX + 1];
    unsigned n = 0;
    uint64_t before;

    add_quick_user(st);
    for (unsigned i = 0; i < 1000000 && n < 24; i++) {
        (void)snprintf(headers[n], sizeof(headers[n]), "Basic cXVpY2s6cHc= %u", i);
        (void)SHA256((const unsigned char *)headers[n], strlen(headers[n]), d);
        if (n == 0)
            first = d[0];
        n += d[0] == first;
    }
    ck_assert_uint_eq(n, 24);
    for (unsigned i = 0; i < 300; i++)
        (void)snprintf(headers[n++], sizeof(headers[0]), "Basic cXVpY2s6cHc= x%u", i);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(api_auth_check(a, st, headers[i], user), 0);
    before = stats(T0).verifications;
    ck_assert_uint_eq(before, n);
    for (int round = 0; round < 2; round++)
        for (unsigned i = 0; i < n; i++) {
            ck_assert_int_eq(api_auth_check(a, st, headers[i], user), 0);
            ck_assert_str_eq(user, "quick");
        }
    ck_assert_uint_eq(stats(T0).verifications, before);
    store_close(st);
}
END_TEST

/* Issue 12 review, 3: a slot that came free woke every waiting request (up to 128), each to
 * try again and most to wait again. Now it wakes the first waiter only, and the slot passes
 * on when the woken one does not need it; a wake-up that never comes back is given up. */
START_TEST(test_one_free_slot_wakes_one_waiter)
{
    struct store *st = user_store(2000000); /* a long check: about 1 s, 5 s under ASan */
    struct checker slow = {.header = "Basic c2xvdzp4", .times = 1}; /* slow:x */
    char user[STORE_USER_NAME_MAX + 1];
    atomic_int woken[10], total = 0;
    pthread_t t;

    api_auth_set_verify_limit(a, 1);
    add_quick_user(st);
    ck_assert_int_eq(api_auth_check(a, st, "Basic cXVpY2s6cHc=", user), 0); /* cached now */
    ck_assert_int_eq(pthread_create(&t, NULL, check_thread, &slow), 0);
    for (int i = 0; i < 10000 && stats(T0).verifying == 0; i++)
        (void)usleep(1000);
    ck_assert_uint_eq(stats(T0).verifying, 1);
    for (int i = 0; i < 10; i++) {
        atomic_init(&woken[i], 0);
        ck_assert_int_eq(api_auth_wait_reserve(a), 0);
        ck_assert_int_eq(api_auth_wait(a, count_wake, &woken[i]), 0);
    }
    pthread_join(t, NULL);
    for (int i = 0; i < 10; i++)
        total += woken[i];
    ck_assert_int_eq(total, 1);
    ck_assert_int_eq(woken[0], 1); /* the first that came */
    /* the slot is kept for it: another request finds none */
    ck_assert_int_eq(api_auth_check(a, st, "Basic cXVpY2s6eA==", user), -EAGAIN);
    /* it needs none after all (its header is known now): the next is woken */
    ck_assert_int_eq(api_auth_check_woken(a, st, "Basic cXVpY2s6cHc=", user), 0);
    ck_assert_int_eq(woken[1], 1);
    ck_assert_int_eq(woken[2], 0);
    /* its request ends without trying (e.g. its client left): the next */
    api_auth_pass_on(a);
    ck_assert_int_eq(woken[2], 1);
    /* it checks a password in the slot; giving it back wakes the next, one */
    ck_assert_int_eq(api_auth_check_woken(a, st, "Basic cXVpY2s6eA==", user), -EACCES);
    ck_assert_int_eq(woken[3], 1);
    ck_assert_int_eq(woken[4], 0);
    /* woken[3] never comes back: after 2 s its slot is no longer kept */
    ck_assert_int_eq(api_auth_check(a, st, "Basic cXVpY2s6eA==", user), -EAGAIN);
    (void)usleep(2100 * 1000);
    ck_assert_int_eq(api_auth_check(a, st, "Basic cXVpY2s6eA==", user), -EACCES);
    ck_assert_int_eq(woken[4], 1);
    ck_assert_int_eq(woken[5], 0);
    store_close(st);
}
END_TEST

/* api/http/pbkdf2.c is PBKDF2-HMAC-SHA256 byte for byte: RFC 7914 §11's two vectors (the first
 * 32 bytes of their 64), and OpenSSL's PKCS5_PBKDF2_HMAC on random passwords and salts, empty
 * and longer than HMAC's 64-byte block among them, at several iteration counts. */
static void hex_of(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        (void)sprintf(out + 2 * i, "%02x", b[i]);
}

START_TEST(test_pbkdf2_is_pbkdf2_hmac_sha256)
{
    static const struct {
        const char *password, *salt;
        unsigned iterations;
        const char *want;
    } rfc7914[] = {
        {"passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"},
        {"Password", "NaCl", 80000,
         "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"},
    };
    static const unsigned iterations[] = {1, 2, 3, 1000};
    unsigned char got[API_PBKDF2_LEN], want[API_PBKDF2_LEN], password[200], salt[40];
    char hex[2 * API_PBKDF2_LEN + 1];
    unsigned seed = (unsigned)getpid();

    for (size_t i = 0; i < sizeof(rfc7914) / sizeof(rfc7914[0]); i++) {
        api_pbkdf2_sha256(rfc7914[i].password, strlen(rfc7914[i].password),
                          (const unsigned char *)rfc7914[i].salt, strlen(rfc7914[i].salt),
                          rfc7914[i].iterations, got);
        hex_of(got, sizeof(got), hex);
        ck_assert_str_eq(hex, rfc7914[i].want);
    }
    for (int round = 0; round < 200; round++) {
        size_t plen = round < 3 ? (size_t)round * 64 : (size_t)rand_r(&seed) % sizeof(password);
        size_t slen = (size_t)rand_r(&seed) % sizeof(salt);
        unsigned it = iterations[round % 4];

        for (size_t i = 0; i < plen; i++)
            password[i] = (unsigned char)rand_r(&seed);
        for (size_t i = 0; i < slen; i++)
            salt[i] = (unsigned char)rand_r(&seed);
        api_pbkdf2_sha256(password, plen, salt, slen, it, got);
        ck_assert_int_eq(PKCS5_PBKDF2_HMAC((const char *)password, (int)plen, salt, (int)slen,
                                           (int)it, EVP_sha256(), sizeof(want), want),
                         1);
        ck_assert_msg(memcmp(got, want, sizeof(got)) == 0,
                      "round %d: password of %zu bytes, salt of %zu, %u iterations differ", round,
                      plen, slen, it);
    }
}
END_TEST

Suite *api_auth_suite(void)
{
    Suite *s = suite_create("api_auth");
    TCase *tc = tcase_create("throttle");
    TCase *kdf = tcase_create("pbkdf2");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_alternating_colliding_addresses_each_throttled);
    tcase_add_test(tc, test_strangers_beyond_the_table_keep_a_backoff);
    tcase_add_test(tc, test_no_room_means_the_shared_backoff);
    tcase_add_test(tc, test_quiet_records_are_reused);
    tcase_add_test(tc, test_success_clears_only_its_own_record);
    tcase_add_test(tc, test_no_free_slot_refused_at_once);
    tcase_add_test(tc, test_waiting_for_a_slot);
    tcase_add_test(tc, test_concurrent_checks_within_the_limit);
    tcase_add_test(tc, test_known_header_needs_no_slot_after_its_ttl);
    tcase_add_test(tc, test_logged_in_addresses_keep_their_place);
    tcase_add_test(tc, test_full_table_throttles_only_the_strangers_shared_record);
    tcase_add_test(tc, test_ipv6_counts_by_its_64);
    tcase_add_test(tc, test_cache_keeps_headers_sharing_a_first_byte);
    tcase_add_test(tc, test_one_free_slot_wakes_one_waiter);
    suite_add_tcase(s, tc);
    tcase_add_test(kdf, test_pbkdf2_is_pbkdf2_hmac_sha256);
    suite_add_tcase(s, kdf);
    return s;
}
