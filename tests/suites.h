/* tests/suites.h: every Check suite in the one test binary (tests/main.c runs them all). */
#ifndef TESTS_SUITES_H
#define TESTS_SUITES_H

#include <check.h>

Suite *api_form_suite(void);
Suite *api_xml_suite(void);
Suite *api_cache_suite(void);
Suite *api_crypto_suite(void);
Suite *api_auth_suite(void);
Suite *api_config_suite(void);
Suite *api_routes_suite(void);
Suite *api_scan_suite(void);
Suite *api_linger_suite(void);
Suite *api_log_suite(void);
Suite *api_framing_suite(void);
Suite *api_web_suite(void);
Suite *store_suite(void);
Suite *store_db_suite(void);
Suite *turn_stun_suite(void);
Suite *turn_cred_suite(void);
Suite *turn_txn_suite(void);
Suite *turn_alloc_suite(void);
Suite *turn_prober_suite(void);
Suite *turn_ice_suite(void);
Suite *media_suite(void);
Suite *media_rtp_suite(void);
Suite *media_sfu_suite(void);
Suite *webrtc_sdp_suite(void);
Suite *webrtc_rtcp_suite(void);
Suite *it_https_suite(void);
Suite *it_daemon_suite(void);
Suite *it_status_suite(void);
Suite *it_cospaces_suite(void);
Suite *it_dialplan_suite(void);
Suite *it_media_suite(void);
Suite *it_guest_suite(void);
Suite *it_rtcpeer_suite(void);
Suite *it_cbctl_suite(void);
Suite *it_faults_suite(void);
Suite *it_ops_suite(void);
Suite *it_cdr_suite(void);
Suite *it_framing_suite(void);
Suite *it_edge_suite(void);
Suite *it_monitor_suite(void);
Suite *webrtc_dtls_suite(void);
Suite *it_profiles_suite(void);
Suite *it_control_suite(void); /* call control and participants */
/* part-shapes: answers shaped as the CMS reference */
Suite *it_shapes_suite(void);
Suite *runner_suite(void);
/* Tests that skip on purpose, run only by runner_suite (CB_SELFTEST=1). */
Suite *runner_selftest_suite(void);

/* access methods, coSpace users, users, templates, bulk (tests/test_it_access.c) */
Suite *it_access_suite(void);

/* call leg profiles that govern guests, and the lobby (tests/test_it_lobby.c) */
Suite *it_lobby_suite(void);
/* what the public deployment clients (the Ansible roles) send (tests/test_it_clients.c) */
Suite *it_clients_suite(void);
/* LDAP servers, mappings, sources and syncs against a real slapd (tests/test_it_ldap.c) */
Suite *it_ldap_suite(void);
/* part diag: call diagnostics, conversationIdQuery, leg alarms, dial-out rules, tenant limits
 * (tests/test_it_diag.c) */
Suite *it_diag_suite(void);
/* PostgreSQL: test servers, the schema in lockstep with SQLite's, the driver (tests/test_pg.c) */
Suite *pg_suite(void);
Suite *it_notify_suite(void);
/* uniqueness and row caps held by the database, across nodes (tests/test_it_unique.c) */
Suite *it_unique_suite(void);
/* part-cluster: three nodes on one PostgreSQL primary and replica (tests/test_it_cluster.c) */
Suite *it_cluster_suite(void);
/* part-calls: a call lives on one node, guests follow it (tests/test_it_calls.c) */
Suite *it_calls_suite(void);

#endif
