/* tests/test_it_clients.c: what the public CMS deployment clients send, through the running
 * daemon over HTTPS, where it differs from what the other suites send: the web bridge url of a
 * CMS 3 deployment (Web Bridge 3 reached over C2W, c2w://host:port, as andrei-madalin's Ansible
 * role POSTs it) is a web bridge like an https one; other URL parameters still take only http(s).
 * The roles themselves run in scripts/bench/ansible_roles.py and tests/ansible/ (make test). */
#include <stdio.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define PE(p, e)                                                                                   \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p "\" error=\"" e        \
    "\" /></failureDetails>"

static struct th_daemon d;

static void start(void)
{
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", NULL);
}

static void stop(void)
{
    th_daemon_destroy(&d);
}

/* The answer must have this status and, when body is not NULL, be exactly body. */
static void expect(const char *method, const char *path, const char *form, long status,
                   const char *body)
{
    char got[4096];
    long s = th_admin_keep(&d, method, path, form, got, sizeof(got), NULL);

    ck_assert_msg(s == status, "%s %s %s: %ld %s", method, path, form ? form : "", s, got);
    if (body)
        ck_assert_msg(strcmp(got, body) == 0, "%s %s: %s", method, path, got);
}

START_TEST(test_a_web_bridge_reached_over_c2w)
{
    char where[128], got[4096];

    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/webBridges",
                                   "url=c2w%3A%2F%2Fcmss.test.lab%3A8999", NULL, 0, where),
                     200);
    ck_assert_int_eq(th_admin_keep(&d, "GET", where, NULL, got, sizeof(got), NULL), 200);
    ck_assert_msg(strstr(got, "<url>c2w://cmss.test.lab:8999</url>"), "%s", got);
    /* and changed to another C2W address, in any case of the scheme */
    expect("PUT", where, "url=C2W%3A%2F%2Fjoin.example.com%3A9999", 200, NULL);
    ck_assert_int_eq(th_admin_keep(&d, "GET", where, NULL, got, sizeof(got), NULL), 200);
    ck_assert_msg(strstr(got, "<url>C2W://join.example.com:9999</url>"), "%s", got);
}
END_TEST

START_TEST(test_what_is_still_not_a_web_bridge_url)
{
    static const char *const bad[] = {"url=c2w%3A%2F%2F", "url=c2w%3A%2F%2F%2Fpath",
                                      "url=ftp%3A%2F%2Fwb.example.com", "url=c2w%3A%2F%2Fa%20b",
                                      "url=wb.example.com"};
    char got[4096];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect("POST", "/api/v1/webBridges", bad[i], 400, PE("url", "invalidValue"));
    /* a customization archive is fetched over HTTP(S): C2W is no URL for it */
    expect("POST", "/api/v1/webBridgeProfiles", "resourceArchive=c2w%3A%2F%2Fwb.example.com", 400,
           PE("resourceArchive", "invalidValue"));
    /* nothing stored from the refusals: the built-in web bridge alone */
    ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/webBridges", NULL, got, sizeof(got), NULL),
                     200);
    ck_assert_msg(strstr(got, "total=\"1\""), "%s", got);
}
END_TEST

/* The CMS 2.x role (oigarash's xmpp.yml) PUTs the XMPP server's settings; they are kept and
 * shown, the shared secret never, and a restart keeps them. */
START_TEST(test_the_xmpp_settings_a_2x_role_writes)
{
    char got[4096];

    expect("GET", "/api/v1/system/configuration/xmpp", NULL, 200, "<?xml version=\"1.0\"?><xmpp/>");
    expect("PUT", "/api/v1/system/configuration/xmpp",
           "uniqueName=cb_cms1&domain=example.com&sharedSecret=xmpp-s3cret-value", 200, NULL);
    expect("POST", "/api/v1/system/configuration/xmpp", "serverAddressOverride=10.0.0.5", 200,
           NULL);
    expect("DELETE", "/api/v1/system/configuration/xmpp", NULL, 405, NULL);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_daemon_start(&d, "0", NULL); /* the same data directory */
    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/system/configuration/xmpp", NULL, got, sizeof(got), NULL),
        200);
    ck_assert_msg(strstr(got, "<uniqueName>cb_cms1</uniqueName><domain>example.com</domain>"
                              "<serverAddressOverride>10.0.0.5</serverAddressOverride>"),
                  "%s", got);
    ck_assert_msg(!strstr(got, "s3cret") && !strstr(got, "sharedSecret"), "%s", got);
}
END_TEST

Suite *it_clients_suite(void)
{
    Suite *s = suite_create("it_clients");
    TCase *tc = tcase_create("web_bridges");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    /* Check's default is 4 s: two daemon starts (on PostgreSQL each a database's migrations)
     * ran past it under load */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_web_bridge_reached_over_c2w);
    tcase_add_test(tc, test_what_is_still_not_a_web_bridge_url);
    tcase_add_test(tc, test_the_xmpp_settings_a_2x_role_writes);
    suite_add_tcase(s, tc);
    return s;
}
