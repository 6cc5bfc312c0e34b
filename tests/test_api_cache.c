/* tests/test_api_cache.c: the list-page cache on its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/cache.h"
#include "tests/suites.h"

START_TEST(test_hit_miss_and_generation)
{
    struct api_cache *c;
    char *body;
    size_t len;
    uint64_t g;

    ck_assert_int_eq(api_cache_new(&c), 0);
    g = api_cache_generation(c);
    ck_assert_int_eq(api_cache_get(c, "k", g, &body, &len), -ENOENT);
    api_cache_put(c, "k", g, "<a/>", 4);
    ck_assert_int_eq(api_cache_get(c, "k", g, &body, &len), 0);
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(body, "<a/>");
    free(body);
    ck_assert_int_eq(api_cache_get(c, "K", g, &body, &len), -ENOENT); /* keys are exact */
    ck_assert(api_cache_holds(c, "k"));
    ck_assert(!api_cache_holds(c, "K"));
    api_cache_changed(c);
    ck_assert(!api_cache_holds(c, "k")); /* an older generation's page is never found again */
    ck_assert_uint_eq(api_cache_generation(c), g + 1);
    ck_assert_int_eq(api_cache_get(c, "k", g, &body, &len), -ENOENT);
    ck_assert_int_eq(api_cache_get(c, "k", g + 1, &body, &len), -ENOENT);
    /* a page built before a write, stored after it, is never served */
    api_cache_put(c, "k", g, "<old/>", 6);
    ck_assert_int_eq(api_cache_get(c, "k", api_cache_generation(c), &body, &len), -ENOENT);
    api_cache_free(c);
}
END_TEST

START_TEST(test_replacement_and_limits)
{
    struct api_cache *c;
    char key[32], *body, *big;
    size_t len;
    uint64_t g;
    int hits = 0;

    ck_assert_int_eq(api_cache_new(&c), 0);
    g = api_cache_generation(c);
    for (int i = 0; i < API_CACHE_SLOTS + 5; i++) {
        (void)snprintf(key, sizeof(key), "k%d", i);
        api_cache_put(c, key, g, key, strlen(key));
    }
    for (int i = 0; i < API_CACHE_SLOTS + 5; i++) {
        (void)snprintf(key, sizeof(key), "k%d", i);
        if (api_cache_get(c, key, g, &body, &len) == 0) {
            ck_assert_str_eq(body, key);
            free(body);
            hits++;
        } else {
            ck_assert_int_lt(i, 5); /* the oldest went first */
        }
    }
    ck_assert_int_eq(hits, API_CACHE_SLOTS);
    big = calloc(1, API_CACHE_MAX_BODY + 2);
    memset(big, 'x', API_CACHE_MAX_BODY + 1);
    api_cache_put(c, "big", g, big, API_CACHE_MAX_BODY + 1);
    ck_assert_int_eq(api_cache_get(c, "big", g, &body, &len), -ENOENT);
    free(big);
    api_cache_free(c);
}
END_TEST

START_TEST(test_totals_by_mark)
{
    struct api_cache *c;
    char key[32];
    size_t n = 0;
    int hits = 0;

    ck_assert_int_eq(api_cache_new(&c), 0);
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|", 7, &n), -ENOENT);
    api_cache_total_put(c, "coSpaces|", 7, 100000);
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|", 7, &n), 0);
    ck_assert_uint_eq(n, 100000);
    /* another snapshot (mark), another filter: a miss, never another's total */
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|", 8, &n), -ENOENT);
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|filter=1:x|", 7, &n), -ENOENT);
    /* a key counted again at a new mark replaces its old total, and the old mark misses */
    api_cache_total_put(c, "coSpaces|", 8, 100001);
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|", 7, &n), -ENOENT);
    ck_assert_int_eq(api_cache_total_get(c, "coSpaces|", 8, &n), 0);
    ck_assert_uint_eq(n, 100001);
    /* bounded: more keys than slots keep the newest */
    for (int i = 0; i < API_CACHE_TOTALS + 3; i++) {
        (void)snprintf(key, sizeof(key), "t%d", i);
        api_cache_total_put(c, key, 9, (size_t)i);
    }
    for (int i = 0; i < API_CACHE_TOTALS + 3; i++) {
        (void)snprintf(key, sizeof(key), "t%d", i);
        if (api_cache_total_get(c, key, 9, &n) == 0) {
            ck_assert_uint_eq(n, (size_t)i);
            hits++;
        }
    }
    ck_assert_int_eq(hits, API_CACHE_TOTALS);
    api_cache_free(c);
}
END_TEST

Suite *api_cache_suite(void)
{
    Suite *s = suite_create("api_cache");
    TCase *tc = tcase_create("cache");

    tcase_add_test(tc, test_hit_miss_and_generation);
    tcase_add_test(tc, test_replacement_and_limits);
    tcase_add_test(tc, test_totals_by_mark);
    suite_add_tcase(s, tc);
    return s;
}
