/* tests/test_runner.c: the runner's skip report, tested by running this binary as a child on a
 * suite of tests that skip on purpose (runner_selftest, added only when CB_SELFTEST=1): each
 * skip is listed under its reason with a count, a missing dependency fails the run unless
 * CB_ALLOW_MISSING=1, and tests tagged "root" are left out by CK_EXCLUDE_TAGS=root and listed
 * as "needs root" in an unprivileged run. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/helpers.h"
#include "tests/suites.h"

static char out[16384];

/* Runs this binary on runner_selftest with the environment 'extra' adds (NULL-ended, at most
 * 4 entries), under 'wrapper' (e.g. setpriv; NULL: none); returns the exit code. */
static int run_selftest(const char *const *extra, const char *const *wrapper)
{
    const char *env[16] = {"CB_SELFTEST=1",         "CK_RUN_SUITE=runner_selftest",
                           "CK_RUN_CASE=",          "CK_INCLUDE_TAGS=",
                           "CK_EXCLUDE_TAGS=",      "CB_ALLOW_MISSING=",
                           "CB_TEST_SUMMARY=",      "TMPDIR=/tmp",
                           "CK_XML_LOG_FILE_NAME=", "CK_LOG_FILE_NAME=",
                           "CK_TAP_LOG_FILE_NAME="}; /* the parent's log is not the child's */
    const char *argv[8] = {0};
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    size_t n = 11, a = 0;

    ck_assert_int_gt(len, 0);
    self[len] = '\0';
    for (size_t i = 0; extra && extra[i]; i++)
        env[n++] = extra[i];
    for (; wrapper && wrapper[a]; a++)
        argv[a] = wrapper[a];
    argv[a] = self;
    return th_run(a ? "/usr/bin/setpriv" : self, argv, env, NULL, out, sizeof(out), NULL, 0);
}

START_TEST(test_a_missing_dependency_fails_the_run_and_skips_are_listed)
{
    int rc = run_selftest(NULL, NULL);

    ck_assert_msg(rc == 1, "rc %d: %s", rc, out);
    ck_assert_msg(strstr(out, "\n  selftest: the reason is 7 (1):\n"
                              "    test_selftest_skips_with_a_reason\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "1 FAILED for a missing dependency") &&
                      strstr(out, "\n  missing dependency: no-such-tool (1):\n"
                                  "    test_selftest_misses_a_dependency\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "no-such-tool is not installed"), "%s", out); /* Check's failure */
    ck_assert_msg(!strstr(out, "WARNING"), "%s", out);
}
END_TEST

START_TEST(test_allowed_missing_dependency_is_a_loud_skip)
{
    static const char *const env[] = {"CB_ALLOW_MISSING=1", NULL};
    int rc = run_selftest(env, NULL);

    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    ck_assert_msg(strstr(out, "\n  missing dependency: no-such-tool (CB_ALLOW_MISSING=1) (1):\n"
                              "    test_selftest_misses_a_dependency\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "*** WARNING: CB_ALLOW_MISSING=1: 1 tests did not run"), "%s", out);
    if (geteuid() == 0)
        ck_assert_msg(strstr(out, "\ncb-tests: 4 checks, 0 failed, 2 skipped, 2 ran and passed\n"),
                      "%s", out);
}
END_TEST

START_TEST(test_exclude_tags_root_leaves_root_tests_out)
{
    static const char *const env[] = {"CB_ALLOW_MISSING=1", "CK_EXCLUDE_TAGS=root", NULL};
    int rc = run_selftest(env, NULL);

    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    ck_assert_msg(strstr(out, "\ncb-tests: 3 checks, 0 failed, 2 skipped, 1 ran and passed\n"),
                  "%s", out);
    ck_assert_msg(!strstr(out, "needs root"), "%s", out);
}
END_TEST

START_TEST(test_unprivileged_run_lists_root_tests_as_needs_root)
{
    static const char *const env[] = {"CB_ALLOW_MISSING=1", NULL};
    static const char *const nobody[] = {"setpriv", "--reuid=65534", "--regid=65534",
                                         "--clear-groups", NULL};
    int rc = run_selftest(env, geteuid() == 0 ? nobody : NULL);

    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    ck_assert_msg(strstr(out, "\n  needs root (1):\n    test_selftest_needs_root\n"), "%s", out);
    ck_assert_msg(strstr(out, "\ncb-tests: 4 checks, 0 failed, 3 skipped, 1 ran and passed\n"),
                  "%s", out);
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("skips");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_missing_dependency_fails_the_run_and_skips_are_listed);
    tcase_add_test(tc, test_allowed_missing_dependency_is_a_loud_skip);
    tcase_add_test(tc, test_exclude_tags_root_leaves_root_tests_out);
    tcase_add_test(tc, test_unprivileged_run_lists_root_tests_as_needs_root);
    suite_add_tcase(s, tc);
    return s;
}

/* ---- runner_selftest: run only as runner_suite's child ---------------------------------- */

START_TEST(test_selftest_skips_with_a_reason)
{
    th_skip("selftest: the reason is %d", 7);
}
END_TEST

START_TEST(test_selftest_misses_a_dependency)
{
    th_skip_missing_dep("no-such-tool");
}
END_TEST

START_TEST(test_selftest_runs)
{
    ck_assert_int_eq(getenv("CB_SELFTEST") != NULL, 1);
}
END_TEST

START_TEST(test_selftest_needs_root)
{
    if (!th_is_root_or_skip())
        return;
    ck_assert_int_eq(geteuid(), 0);
}
END_TEST

Suite *runner_selftest_suite(void)
{
    Suite *s = suite_create("runner_selftest");
    TCase *tc = tcase_create("selftest");
    TCase *root = tcase_create("selftest_root");

    tcase_add_test(tc, test_selftest_skips_with_a_reason);
    tcase_add_test(tc, test_selftest_misses_a_dependency);
    tcase_add_test(tc, test_selftest_runs);
    suite_add_tcase(s, tc);
    tcase_set_tags(root, "root");
    tcase_add_test(root, test_selftest_needs_root);
    suite_add_tcase(s, root);
    return s;
}
