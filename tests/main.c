/* tests/main.c: runs every suite. CK_RUN_SUITE / CK_RUN_CASE / CK_EXCLUDE_TAGS select, as usual
 * with Check; integration suites are tagged "net", tests that need root "root". The suites run
 * in CB_TEST_JOBS worker processes at once (tests/jobs.h; default 1), each suite's output whole
 * as it ends, with its wall time; a Check log file (CK_XML_LOG_FILE_NAME, ...), which one
 * runner must write, runs them all in this process as one Check runner. After Check's summary it
 * prints the tests that skipped, grouped by reason (tests/skip.h), and one line of counts, also
 * written to $CB_TEST_SUMMARY when set (make test ends with it). Exit status is non-zero on any
 * failure, and on a dependency missing without CB_ALLOW_MISSING=1. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/jobs.h"
#include "tests/skip.h"
#include "tests/suites.h"

/* The workers take them from the end (jobs.h): the integration suites first. Not re-packed
 * by clang-format, so that a suite added is one line of the diff. */
// clang-format off
static const th_suite_fn suites[] = {
    api_form_suite,    api_xml_suite,     api_cache_suite,   api_crypto_suite,
    api_auth_suite,    api_config_suite,  api_routes_suite,  api_scan_suite,
    api_linger_suite,  api_log_suite,     api_framing_suite, api_web_suite,
    store_suite,       turn_stun_suite,   turn_cred_suite,   turn_txn_suite,
    turn_alloc_suite,  turn_prober_suite, turn_ice_suite,    media_suite,
    media_rtp_suite,   media_sfu_suite,   webrtc_sdp_suite,  webrtc_rtcp_suite,
    it_https_suite,    it_daemon_suite,   it_status_suite,   it_cospaces_suite,
    it_media_suite,    it_guest_suite,    it_rtcpeer_suite,  it_cbctl_suite,
    it_faults_suite,   it_ops_suite,      it_framing_suite,  it_edge_suite,
    it_dialplan_suite, it_profiles_suite, it_access_suite,   it_monitor_suite,
    it_shapes_suite, /* part-shapes */
    /* part-legprof: call leg profiles and the lobby (runner_selftest_suite stays last) */
    it_lobby_suite,
    store_db_suite, /* part-db: the driver interface under the queries */
    it_clients_suite, /* part-clients: the public deployment clients */
    it_ldap_suite,
    /* part diag: call diagnostics, conversationIdQuery, leg alarms, dial-out rules, tenant limits */
    it_diag_suite,
    pg_suite, /* part-pg: PostgreSQL servers, schema lockstep, driver */
    it_notify_suite, /* part-notify: nodes on one database, a lost primary */
    it_unique_suite, /* part-unique: uniqueness and row caps held by the database */
    it_cluster_suite, /* part-cluster: membership, TURN views, LDAP claims across nodes */
    it_calls_suite,   /* part-calls: the call directory, guests sent to their call's node */
    it_cdr_suite, it_control_suite,      webrtc_dtls_suite, runner_suite,      runner_selftest_suite,
};
// clang-format on

/* The report on stdout, and in the file $CB_TEST_SUMMARY names when it is set. */
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

/* CB_TEST_JOBS, or 1; 0 (one runner in this process) when a Check log file is asked for. */
static unsigned jobs_wanted(void)
{
    const char *v = getenv("CB_TEST_JOBS");
    const char *logs[] = {"CK_LOG_FILE_NAME", "CK_XML_LOG_FILE_NAME", "CK_TAP_LOG_FILE_NAME"};

    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
        if (getenv(logs[i]) && *getenv(logs[i]))
            return 0;
    return v && atoi(v) > 0 ? (unsigned)atoi(v) : 1;
}

/* Every suite in one Check runner in this process. */
static void run_in_process(size_t n, int *ret_checks, int *ret_failed)
{
    SRunner *sr = srunner_create(suites[0]());

    for (size_t i = 1; i < n; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_ENV);
    *ret_failed = srunner_ntests_failed(sr);
    *ret_checks = srunner_ntests_run(sr);
    srunner_free(sr);
}

int main(void)
{
    size_t n = sizeof(suites) / sizeof(suites[0]);
    unsigned jobs = jobs_wanted();
    int failed = 0, checks = 0;
    bool fail;

    if (!getenv("CB_SELFTEST")) /* runner_selftest only for runner_suite's own runs */
        n--;
    if (th_skip_open() < 0)
        perror("cb-tests: a file for the skip records");
    if (jobs == 0 || th_jobs_run(suites, n, jobs, &checks, &failed) < 0)
        run_in_process(n, &checks, &failed);
    fflush(stdout);
    fail = report(checks, failed);
    th_skip_close();
    return failed == 0 && !fail ? EXIT_SUCCESS : EXIT_FAILURE;
}
