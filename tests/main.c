/* tests/main.c: runs every suite. CK_RUN_SUITE / CK_RUN_CASE / CK_EXCLUDE_TAGS select, as usual
 * with Check; integration suites are tagged "net". Exit status is non-zero on any failure. */
#include <stdlib.h>

#include "tests/suites.h"

int main(void)
{
    SRunner *sr = srunner_create(api_form_suite());
    int failed;

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
    srunner_add_suite(sr, store_suite());
    srunner_add_suite(sr, turn_stun_suite());
    srunner_add_suite(sr, turn_cred_suite());
    srunner_add_suite(sr, turn_txn_suite());
    srunner_add_suite(sr, turn_alloc_suite());
    srunner_add_suite(sr, turn_prober_suite());
    srunner_add_suite(sr, media_suite());
    srunner_add_suite(sr, media_rtp_suite());
    srunner_add_suite(sr, it_https_suite());
    srunner_add_suite(sr, it_daemon_suite());
    srunner_add_suite(sr, it_status_suite());
    srunner_add_suite(sr, it_cospaces_suite());
    srunner_add_suite(sr, it_media_suite());
    srunner_add_suite(sr, it_cbctl_suite());
    srunner_add_suite(sr, it_faults_suite());
    srunner_add_suite(sr, it_ops_suite());
    srunner_add_suite(sr, it_framing_suite());
    srunner_add_suite(sr, it_edge_suite());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
