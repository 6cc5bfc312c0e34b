/* tests/test_it_access.c: coSpace access methods and members, users, coSpace templates with
 * their access method templates, bulk parameter sets and syncs, and coSpace diagnostics, through
 * the running daemon over HTTPS: nested paths and their 404s, CMS's duplicate rules, an access
 * method's uri in call matching and its callId + passcode on the join page, a sync that really
 * creates, rewrites and removes coSpaces. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define FAIL(reason) "<?xml version=\"1.0\"?><failureDetails><" reason " /></failureDetails>"
#define PE(p, e)                                                                                   \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p "\" error=\"" e        \
    "\" /></failureDetails>"
#define NOID "00000000-0000-4000-8000-000000000000"

static struct th_daemon d;

static void start(void)
{
    static const char *const args[] = {"--host-candidate", "127.0.0.1", NULL};

    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", args);
}

static void stop(void)
{
    th_daemon_destroy(&d);
}

static long call(const char *method, const char *path, const char *form, char *out, size_t cap)
{
    return th_admin_keep(&d, method, path, form, out, cap, NULL);
}

/* POSTs to path; the Location into loc (128 bytes). */
static void create(const char *path, const char *form, char *loc)
{
    char body[4096];
    long s = th_admin_keep(&d, "POST", path, form, body, sizeof(body), loc);

    ck_assert_msg(s == 200, "POST %s %s: %ld %s", path, form, s, body);
}

/* The answer to a request has this status, and this body (whole) or contains it. */
static void answer(const char *method, const char *path, const char *form, long status,
                   const char *body, bool whole)
{
    char got[16384];
    long s = th_admin_keep(&d, method, path, form, got, sizeof(got), NULL);

    ck_assert_msg(s == status && (whole ? strcmp(got, body) == 0 : strstr(got, body) != NULL),
                  "%s %s: %ld %s, wanted %ld %s", method, path, s, got, status, body);
}

static void expect(const char *method, const char *path, const char *form, long status,
                   const char *body)
{
    answer(method, path, form, status, body, true);
}

static void expect_has(const char *path, const char *needle)
{
    answer("GET", path, NULL, 200, needle, false);
}

static void space(const char *form, char *loc)
{
    create("/api/v1/coSpaces", form, loc);
}

START_TEST(test_access_methods_nested)
{
    char sp[128], other[128], am[128], path[256], wrong[256], got[4096];

    space("name=Nested&uri=nested.room&callId=7100", sp);
    space("name=Other", other);
    snprintf(path, sizeof(path), "%s/accessMethods", sp);
    create(path, "uri=nested.host&callId=7101&passcode=1234&name=Host&scope=Private&importance=5",
           am);
    ck_assert_msg(strncmp(am, path, strlen(path)) == 0 && strlen(am) == strlen(path) + 37,
                  "Location under the coSpace: %s", am);
    expect_has(am, "<uri>nested.host</uri><callId>7101</callId><passcode>1234</passcode>"
                   "<name>Host</name><secret>");
    expect_has(am, "<scope>private</scope><importance>5</importance>");
    expect_has(path, "<accessMethods total=\"1\"><accessMethod id=\"");
    expect_has(path, "<uri>nested.host</uri><callId>7101</callId><passcode>1234</passcode>"
                     "<name>Host</name></accessMethod></accessMethods>");
    /* the same id under another coSpace is not there; nor under a missing one */
    snprintf(wrong, sizeof(wrong), "%s/accessMethods/%s", other, am + strlen(path) + 1);
    expect("GET", wrong, NULL, 404, FAIL("accessMethodDoesNotExist"));
    expect("DELETE", wrong, NULL, 404, FAIL("accessMethodDoesNotExist"));
    expect("PUT", wrong, "name=x", 404, FAIL("accessMethodDoesNotExist"));
    expect("GET", "/api/v1/coSpaces/" NOID "/accessMethods", NULL, 404,
           FAIL("coSpaceDoesNotExist"));
    expect("POST", "/api/v1/coSpaces/" NOID "/accessMethods", "uri=x", 404,
           FAIL("coSpaceDoesNotExist"));
    expect("PATCH", path, NULL, 405,
           "<?xml version=\"1.0\"?><failureDetails><invalidOperation "
           "/></failureDetails>");
    expect("GET", "/api/v1/coSpaces/" NOID "/nothing", NULL, 404, FAIL("unrecognizedObject"));
    /* PUT is partial; bad values name their parameter and change nothing */
    expect("PUT", am, "name=Chair", 200, "");
    expect("PUT", am, "scope=secret", 400, PE("scope", "invalidValue"));
    expect("PUT", am, "importance=-1", 400, PE("importance", "invalidValue"));
    expect("PUT", am, "regenerateSecret=maybe", 400, PE("regenerateSecret", "invalidValue"));
    expect_has(am, "<name>Chair</name><secret>");
    expect_has(am, "<scope>private</scope>");
    /* deleting the coSpace deletes its access methods */
    ck_assert_int_eq(call("DELETE", sp, NULL, got, sizeof(got)), 200);
    expect("GET", am, NULL, 404, FAIL("coSpaceDoesNotExist"));
    space("name=Again&uri=nested.host", other); /* the uri is free again */
}
END_TEST

START_TEST(test_access_method_duplicates)
{
    char a[128], b[128], path[256], am[128];

    space("name=A&uri=dup.a&callId=7200&passcode=1", a);
    space("name=B&uri=dup.b&callId=7300", b);
    snprintf(path, sizeof(path), "%s/accessMethods", b);
    /* another space's uri or callId */
    expect("POST", path, "uri=DUP.A", 400, FAIL("duplicateCoSpaceUri"));
    expect("POST", path, "callId=7200", 400, FAIL("duplicateCoSpaceId"));
    /* its own callId with another passcode (a host PIN) is allowed; the same one is not */
    create(path, "callId=7300&passcode=99", am);
    expect("POST", path, "callId=7300&passcode=99", 400, FAIL("duplicateCoSpaceIdPasscode"));
    expect("POST", path, "uri=dup.b", 400, FAIL("duplicateCoSpaceUriPasscode"));
    create(path, "uri=dup.b&passcode=5", am);
    /* and a coSpace cannot take an access method's uri or callId */
    expect("POST", "/api/v1/coSpaces", "uri=dup.b", 400, FAIL("duplicateCoSpaceUri"));
    expect("PUT", a, "callId=7300", 400, FAIL("duplicateCoSpaceId"));
    expect("PUT", b, "passcode=99", 400, FAIL("duplicateCoSpaceIdPasscode"));
    expect_has(b, "<callId>7300</callId>");
}
END_TEST

/* An access method's uri is dialled into its coSpace; its callId + passcode (or its secret)
 * admits a guest to it, and a wrong passcode does not. */
START_TEST(test_access_method_joins)
{
    char sp[128], am[128], path[256], body[4096], json[256], secret[64], id[40];
    struct th_resp r;
    static const char *const hdr[] = {"Content-Type: application/json", NULL};

    create("/api/v1/inboundDialPlanRules", "domain=join.example", path);
    space("name=Joinable&uri=joinable&callId=7400&passcode=1111", sp);
    snprintf(path, sizeof(path), "%s/accessMethods", sp);
    create(path, "uri=joinable.guest&callId=7401&passcode=2222", am);
    snprintf(id, sizeof(id), "%.36s", sp + strlen("/api/v1/coSpaces/"));
    snprintf(path, sizeof(path), "/api/v1/callMatching?destination=joinable.guest@join.example");
    ck_assert_int_eq(call("GET", path, NULL, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<result>coSpace</result>") && strstr(body, id), "%s", body);
    expect_has("/api/v1/callMatching?callId=7401&passcode=2222", "<result>coSpace</result>");
    expect_has("/api/v1/callMatching?callId=7401&passcode=1111", "<result>wrongPasscode</result>");
    expect_has("/api/v1/callMatching?callId=7400&passcode=1111", "<result>coSpace</result>");

    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr,
            "{\"callId\":\"7401\",\"passcode\":\"1111\",\"name\":\"Eve\"}", 48, &r);
    ck_assert_msg(r.status == 403, "%ld %s", r.status, r.body);
    th_resp_free(&r);
    snprintf(json, sizeof(json), "{\"callId\":\"7401\",\"passcode\":\"2222\",\"name\":\"Ann\"}");
    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json, strlen(json), &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    th_resp_free(&r);
    ck_assert_int_eq(call("GET", am, NULL, body, sizeof(body)), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
    ck_assert_uint_eq(strlen(secret), 22);
    snprintf(json, sizeof(json), "{\"callId\":\"7401\",\"secret\":\"%s\",\"name\":\"Bob\"}",
             secret);
    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json, strlen(json), &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    th_resp_free(&r);
    /* both are legs of the one call of the coSpace */
    ck_assert_int_eq(call("GET", "/api/v1/calls", NULL, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<calls total=\"1\">") && strstr(body, id), "%s", body);
    expect_has("/api/v1/callLegs", "<callLegs total=\"2\">");
    expect("POST", "/api/v1/coSpaces/" NOID "/diagnostics", NULL, 404, FAIL("coSpaceDoesNotExist"));
}
END_TEST

/* N clients race for one uri: N - 1 as access methods of N - 1 spaces, one as a new coSpace.
 * One wins; every other is told duplicateCoSpaceUri. */
START_TEST(test_racing_for_a_uri_one_wins)
{
    enum { N = 6 };
    char spaces[N][128], path[256];
    pid_t pids[N];
    int outcome[3] = {0};

    for (int i = 0; i < N - 1; i++)
        space("name=Racer", spaces[i]);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] > 0)
            continue;
        snprintf(path, sizeof(path), "%s/accessMethods", i < N - 1 ? spaces[i] : "");
        {
            char got[512];
            long st = call("POST", i == N - 1 ? "/api/v1/coSpaces" : path, "uri=race.am", got,
                           sizeof(got));

            _exit(st == 200 ? 0 : st == 400 && !strcmp(got, FAIL("duplicateCoSpaceUri")) ? 1 : 2);
        }
    }
    for (int i = 0, status; i < N; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        outcome[WIFEXITED(status) && WEXITSTATUS(status) < 2 ? WEXITSTATUS(status) : 2]++;
    }
    ck_assert_int_eq(outcome[0], 1);
    ck_assert_int_eq(outcome[1], N - 1);
}
END_TEST

START_TEST(test_cospace_users)
{
    char sp[128], path[256], mem[128], filtered[300];

    space("name=Members", sp);
    snprintf(path, sizeof(path), "%s/coSpaceUsers", sp);
    expect("POST", path, "canDestroy=true", 400, PE("userJid", "missing"));
    create(path, "userJid=ann@example.com&canDestroy=true&canChangeName=TRUE", mem);
    expect_has(mem, "<userJid>ann@example.com</userJid><autoGenerated>false</autoGenerated>"
                    "<canDestroy>true</canDestroy><canAddRemoveMember>false</canAddRemoveMember>"
                    "<canChangeName>true</canChangeName>");
    expect_has(mem, "<canChangeNonMemberAccessAllowed>true</canChangeNonMemberAccessAllowed>");
    expect("POST", path, "userJid=ann@example.com", 400, PE("userJid", "invalidValue"));
    expect("PUT", mem, "userJid=bob@example.com", 400, PE("userJid", "invalidValue"));
    expect("PUT", mem, "canDestroy=false&canRemoveSelf=true", 200, "");
    expect_has(mem, "<canDestroy>false</canDestroy>");
    expect_has(mem, "<canRemoveSelf>true</canRemoveSelf>");
    expect_has(path, "<coSpaceUsers total=\"1\"><coSpaceUser id=\"");
    expect_has(path, "<userJid>ann@example.com</userJid><autoGenerated>false</autoGenerated>"
                     "</coSpaceUser></coSpaceUsers>");
    snprintf(filtered, sizeof(filtered), "%s?filter=ANN@", path);
    expect_has(filtered, "<coSpaceUsers total=\"1\">");
    snprintf(filtered, sizeof(filtered), "%s?filter=bob", path);
    expect_has(filtered, "<coSpaceUsers total=\"0\"");
    expect("DELETE", mem, NULL, 200, "");
    expect("GET", mem, NULL, 404, FAIL("coSpaceUserDoesNotExist"));
}
END_TEST

START_TEST(test_users_without_ldap)
{
    expect("GET", "/api/v1/users", NULL, 200, "<?xml version=\"1.0\"?><users total=\"0\"/>");
    expect("GET", "/api/v1/users?offset=-1", NULL, 400, PE("offset", "invalidValue"));
    expect("GET", "/api/v1/users/" NOID, NULL, 404, FAIL("userDoesNotExist"));
    expect("GET", "/api/v1/users/" NOID "/usercoSpaces", NULL, 404, FAIL("userDoesNotExist"));
    expect("POST", "/api/v1/users/" NOID "/userCoSpaceTemplates", "coSpaceTemplate=" NOID, 404,
           FAIL("userDoesNotExist"));
    expect("POST", "/api/v1/users", "name=x", 405,
           "<?xml version=\"1.0\"?><failureDetails><invalidOperation /></failureDetails>");
}
END_TEST

START_TEST(test_templates)
{
    char t[128], path[256], amt[128];

    create("/api/v1/coSpaceTemplates/", "name=Personal&description=Everyone%27s+room", t);
    expect_has(t, "<name>Personal</name><description>Everyone's room</description>");
    snprintf(path, sizeof(path), "%s/accessMethodTemplates/", t);
    expect("POST", path, "uriGenerator=a$b$", 400, PE("uriGenerator", "invalidValue"));
    expect("POST", path, "uriGenerator=a%40b.$", 400, PE("uriGenerator", "invalidValue"));
    create(path, "name=Guest&uriGenerator=$.guest&generateUniqueCallId=true", amt);
    expect_has(amt, "<name>Guest</name><uriGenerator>$.guest</uriGenerator>"
                    "<generateUniqueCallId>true</generateUniqueCallId>");
    expect_has(path, "<accessMethodTemplates total=\"1\">");
    expect("GET", "/api/v1/coSpaceTemplates/" NOID "/accessMethodTemplates", NULL, 404,
           FAIL("coSpaceTemplateDoesNotExist"));
    expect("DELETE", t, NULL, 200, "");
    expect("GET", amt, NULL, 404, FAIL("coSpaceTemplateDoesNotExist"));
}
END_TEST

/* POSTs a sync of form; its record must show status. Its Location into loc (128 bytes). */
static void sync_expect(const char *form, const char *status, char *loc)
{
    char body[4096], got[64];

    create("/api/v1/coSpaceBulkSyncs", form, loc);
    ck_assert_int_eq(call("GET", loc, NULL, body, sizeof(body)), 200);
    th_xml_text(body, "status", got, sizeof(got));
    ck_assert_str_eq(got, status);
}

START_TEST(test_bulk_set_validation)
{
    expect("POST", "/api/v1/coSpaceBulkParameterSets", "startIndex=1", 400,
           PE("endIndex", "missing"));
    expect("POST", "/api/v1/coSpaceBulkParameterSets",
           "startIndex=1&endIndex=2&coSpaceCallIdMapping=9$index$x", 400,
           PE("coSpaceCallIdMapping", "invalidValue"));
    expect("POST", "/api/v1/coSpaceBulkParameterSets",
           "startIndex=1&endIndex=2&coSpaceUriMapping=a%23$index$", 400,
           PE("coSpaceUriMapping", "invalidValue"));
    expect("POST", "/api/v1/coSpaceBulkParameterSets",
           "startIndex=1&endIndex=2&coSpaceNameMapping=$index$$index$", 400,
           PE("coSpaceNameMapping", "invalidValue"));
    expect("POST", "/api/v1/coSpaceBulkParameterSets", "startIndex=1&endIndex=2&tenant=" NOID, 400,
           FAIL("tenantDoesNotExist"));
    expect_has("/api/v1/coSpaceBulkParameterSets", "<cospaceBulkParameterSets total=\"0\"");
}
END_TEST

START_TEST(test_bulk_sync)
{
    char set[128], sync[128], form[256], body[128];

    create("/api/v1/coSpaceBulkParameterSets",
           "startIndex=10&endIndex=12&coSpaceUriMapping=bulk.$index$"
           "&coSpaceNameMapping=Bulk+$index$&coSpaceCallIdMapping=88$index$",
           set);
    expect_has(set, "<startIndex>10</startIndex><endIndex>12</endIndex>");
    snprintf(form, sizeof(form), "cospaceBulkParameterSet=%s", set + strlen(set) - 36);
    sync_expect(form, "complete", sync);
    expect_has("/api/v1/coSpaces?filter=bulk.", "total=\"3\"");
    expect_has("/api/v1/coSpaces?filter=bulk.11",
               "<name>Bulk 11</name><autoGenerated>false</autoGenerated><uri>bulk.11</uri>"
               "<callId>8811</callId>");
    /* a narrower range rewrites what it made and removes what falls outside */
    expect("PUT", set, "endIndex=11&coSpaceNameMapping=Room+$index$", 200, "");
    sync_expect(form, "complete", sync);
    expect_has("/api/v1/coSpaces?filter=bulk.", "total=\"2\"");
    expect_has("/api/v1/coSpaces?filter=bulk.10", "<name>Room 10</name>");
    /* a conflict changes nothing */
    space("name=Squatter&uri=bulk.13", body);
    expect("PUT", set, "endIndex=13", 200, "");
    sync_expect(form, "failedCoSpaceUriConflict", sync);
    expect_has("/api/v1/coSpaces?filter=bulk.", "total=\"3\""); /* 10, 11 and the squatter */
    expect("PUT", set, "startIndex=20&endIndex=19", 200, "");
    sync_expect(form, "failedIndexRangeInvalid", sync);
    sync_expect("cospaceBulkParameterSet=" NOID, "failedNoSuchParameterSet", sync);
    /* removeAll deletes what the set made, and only that */
    snprintf(form, sizeof(form), "cospaceBulkParameterSet=%s&removeAll=true",
             set + strlen(set) - 36);
    sync_expect(form, "complete", sync);
    expect_has("/api/v1/coSpaces?filter=bulk.", "total=\"1\"");
    expect_has("/api/v1/cospaceBulkSyncs", "<cospaceBulkSyncs total=\"6\">");
    expect("DELETE", sync, NULL, 200, "");
    expect("GET", sync, NULL, 404, FAIL("coSpaceBulkSyncDoesNotExist"));
}
END_TEST

Suite *it_access_suite(void)
{
    Suite *s = suite_create("it_access");
    TCase *tc = tcase_create("access");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_access_methods_nested);
    tcase_add_test(tc, test_access_method_duplicates);
    tcase_add_test(tc, test_access_method_joins);
    tcase_add_test(tc, test_racing_for_a_uri_one_wins);
    tcase_add_test(tc, test_cospace_users);
    tcase_add_test(tc, test_users_without_ldap);
    tcase_add_test(tc, test_templates);
    tcase_add_test(tc, test_bulk_set_validation);
    tcase_add_test(tc, test_bulk_sync);
    suite_add_tcase(s, tc);
    return s;
}
