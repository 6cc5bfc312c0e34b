/* tests/main.c: runs every suite. CK_RUN_SUITE / CK_RUN_CASE / CK_EXCLUDE_TAGS select, as usual
 * with Check; integration suites are tagged "net", tests that need root "root". After Check's
 * summary it prints the tests that skipped, grouped by reason (tests/skip.h), and one line of
 * counts, also written to $CB_TEST_SUMMARY when set (make test ends with it). Exit status is
 * non-zero on any failure, and on a dependency missing without CB_ALLOW_MISSING=1. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/skip.h"
#include "tests/suites.h"

/* The skip report on stdout, and in the file $CB_TEST_SUMMARY names when it is set. */
static bool report(int checks, int failed)
{
    const char *path = getenv("CB_TEST_SUMMARY");
    bool fail = th_skip_report(stdout, checks, failed);
    FILE *f = path && *path ? fopen(path, "w") : NULL;

    if (f) {
        (void)th_skip_report(f, checks, failed);
        (void)fclose(f);
    }
    return fail;
}

int main(void)
{
    SRunner *sr = srunner_create(api_form_suite());
    int failed, checks;
    bool fail;

    srunner_add_suite(sr, api_xml_suite());
    srunner_add_suite(sr, api_cache_suite());
    srunner_add_suite(sr, api_crypto_suite());
    srunner_add_suite(sr, api_auth_suite());
    srunner_add_suite(sr, api_config_suite());
    srunner_add_suite(sr, api_routes_suite());
    srunner_add_suite(sr, api_scan_suite());
    srunner_add_suite(sr, api_linger_suite());
    srunner_add_suite(sr, api_log_suite());
    srunner_add_suite(sr, api_framing_suite());
    srunner_add_suite(sr, api_web_suite());
    srunner_add_suite(sr, store_suite());
    srunner_add_suite(sr, turn_stun_suite());
    srunner_add_suite(sr, turn_cred_suite());
    srunner_add_suite(sr, turn_txn_suite());
    srunner_add_suite(sr, turn_alloc_suite());
    srunner_add_suite(sr, turn_prober_suite());
    srunner_add_suite(sr, turn_ice_suite());
    srunner_add_suite(sr, media_suite());
    srunner_add_suite(sr, media_rtp_suite());
    srunner_add_suite(sr, media_sfu_suite());
    srunner_add_suite(sr, webrtc_sdp_suite());
    srunner_add_suite(sr, webrtc_rtcp_suite());
    srunner_add_suite(sr, it_https_suite());
    srunner_add_suite(sr, it_daemon_suite());
    srunner_add_suite(sr, it_status_suite());
    srunner_add_suite(sr, it_cospaces_suite());
    srunner_add_suite(sr, it_media_suite());
    srunner_add_suite(sr, it_guest_suite());
    srunner_add_suite(sr, it_rtcpeer_suite());
    srunner_add_suite(sr, it_cbctl_suite());
    srunner_add_suite(sr, it_faults_suite());
    srunner_add_suite(sr, it_ops_suite());
    srunner_add_suite(sr, it_framing_suite());
    srunner_add_suite(sr, it_edge_suite());
    srunner_add_suite(sr, webrtc_dtls_suite());
    srunner_add_suite(sr, runner_suite());
    if (getenv("CB_SELFTEST")) /* only for runner_suite's own runs of this binary */
        srunner_add_suite(sr, runner_selftest_suite());
    if (th_skip_open() < 0)
        perror("cb-tests: a file for the skip records");
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    checks = srunner_ntests_run(sr);
    srunner_free(sr);
    fflush(stdout);
    fail = report(checks, failed);
    th_skip_close();
    return failed == 0 && !fail ? EXIT_SUCCESS : EXIT_FAILURE;
}
