/* tests/test_it_profiles.c: profiles, layout templates, web bridges and /system/profiles through
 * the running daemon over HTTPS: their parameters and refusals, the references coSpaces make to
 * profiles, the precedence of the web bridge profile in effect, and the behaviour the profiles
 * govern on the join page (participantLimit, minPasscodeLength, allowSecrets, allowPasscodes).
 * The daemon runs with a host candidate on loopback, so a guest joins without a TURN server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define FAIL(reason) "<?xml version=\"1.0\"?><failureDetails><" reason " /></failureDetails>"
#define PE(p, e)                                                                                   \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p "\" error=\"" e        \
    "\" /></failureDetails>"
#define BUILTIN "/api/v1/webBridges/d041a4ef-8194-4de3-8586-bb095384f57b"

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

static long admin(const char *method, const char *path, const char *form, char *out, size_t cap,
                  char *location)
{
    return th_admin_keep(&d, method, path, form, out, cap, location);
}

/* The answer must have this status and, when body is not NULL, be exactly body. */
static void expect(const char *method, const char *path, const char *form, long status,
                   const char *body)
{
    char got[8192];
    long s = admin(method, path, form, got, sizeof(got), NULL);

    ck_assert_msg(s == status, "%s %s %.80s: %ld %s", method, path, form ? form : "", s, got);
    if (body)
        ck_assert_msg(strcmp(got, body) == 0, "%s %s: %s", method, path, got);
}

/* GET path answers 200 with needle in it (or, with absent, without it). */
static void expect_has(const char *path, const char *needle, bool absent)
{
    char got[16384];

    ck_assert_int_eq(admin("GET", path, NULL, got, sizeof(got), NULL), 200);
    ck_assert_msg(!strstr(got, needle) == absent, "GET %s %s %s: %s", path,
                  absent ? "has" : "lacks", needle, got);
}

/* POSTs form to /api/v1/<collection>; the Location into path (128 bytes); returns the id. */
static const char *create(const char *collection, const char *form, char *path)
{
    char where[128];
    long s;

    snprintf(where, sizeof(where), "/api/v1/%s", collection);
    s = admin("POST", where, form, NULL, 0, path);
    ck_assert_msg(s == 200, "POST %s %s: %ld", collection, form, s);
    ck_assert_uint_eq(strlen(strrchr(path, '/') + 1), 36);
    return strrchr(path, '/') + 1;
}

/* A guest's join; returns the status, the body into out. */
static long join(const char *json, char *out, size_t cap)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    struct th_resp r;
    long s;

    th_http(&d, d.ports[0], "POST", "/meeting/api/join", NULL, NULL, hdr, json, strlen(json), &r);
    s = r.status;
    snprintf(out, cap, "%s", r.body ? r.body : "");
    th_resp_free(&r);
    return s;
}

START_TEST(test_every_profile_collection_is_crud)
{
    static const char *const colls[] = {
        "callLegProfiles",       "callProfiles",        "dtmfProfiles",
        "callBrandingProfiles",  "ivrBrandingProfiles", "dialInSecurityProfiles",
        "compatibilityProfiles", "userProfiles",        "layoutTemplates",
        "webBridgeProfiles",     "webBridges"};
    char path[128], list[160];

    for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++) {
        create(colls[i], "", path);
        expect("GET", path, NULL, 200, NULL);
        snprintf(list, sizeof(list), "/api/v1/%s?offset=0&limit=5", colls[i]);
        expect_has(list, strrchr(path, '/') + 1, false);
        expect("DELETE", path, NULL, 200, "");
        expect("DELETE", path, NULL, 404, NULL);
    }
}
END_TEST

START_TEST(test_parameters_are_checked_as_cms_does)
{
    char path[128], lt[128], form[256];
    const char *ltid = create("layoutTemplates", "name=Grid", lt);

    expect("POST", "/api/v1/callLegProfiles", "defaultLayout=bigSquares", 400,
           PE("defaultLayout", "invalidValue"));
    expect("POST", "/api/v1/callLegProfiles", "joinToneParticipantThreshold=101", 400,
           PE("joinToneParticipantThreshold", "invalidValue"));
    expect("POST", "/api/v1/callLegProfiles", "layoutTemplate=0b7f2d0e-1111-4222-8333-944455556666",
           400, FAIL("layoutTemplateDoesNotExist"));
    snprintf(form, sizeof(form),
             "name=Hosts&muteOthersAllowed=TRUE&defaultLayout=speakeronly&"
             "layoutTemplate=%s",
             ltid);
    create("callLegProfiles", form, path);
    expect_has(path, "<muteOthersAllowed>true</muteOthersAllowed>", false);
    expect_has(path, "<defaultLayout>speakerOnly</defaultLayout>", false);
    expect_has(path, "<needsActivation>", true); /* unset: inherited, not shown */
    expect("PUT", path, "muteOthersAllowed=", 200, "");
    expect_has(path, "<muteOthersAllowed>", true);
    expect_has("/api/v1/callLegProfiles?filter=host", "<name>Hosts</name>", false);
    expect_has("/api/v1/callLegProfiles?filter=zzz", "total=\"0\"", false);
    /* the other kinds: DTMF sequences, URLs, enums, numbers */
    expect("POST", "/api/v1/dtmfProfiles", "lockCall=*7&endCall=12a", 400,
           PE("endCall", "invalidValue"));
    expect("POST", "/api/v1/callBrandingProfiles", "resourceLocation=ftp://x/", 400,
           PE("resourceLocation", "invalidValue"));
    expect("POST", "/api/v1/callProfiles", "participantLimit=0", 400,
           PE("participantLimit", "invalidValue"));
    create("callProfiles", "participantLimit=5", path);
    expect_has(path, "<recordingMode>manual</recordingMode>", false); /* the POST default */
    expect("POST", "/api/v1/webBridges", "url=not a url", 400, PE("url", "invalidValue"));
    expect("POST", "/api/v1/webBridges", "webBridgeProfile=0b7f2d0e-1111-4222-8333-944455556666",
           400, FAIL("webBridgeProfileDoesNotExist"));
    /* a layout template deleted while a profile uses it: the reference is cleared */
    expect_has("/api/v1/layoutTemplates?usageFilter=referenced", ltid, false);
    expect("DELETE", lt, NULL, 200, "");
    expect_has("/api/v1/callLegProfiles?filter=hosts", "total=\"1\"", false);
}
END_TEST

START_TEST(test_cospace_references_usage_and_system_profiles)
{
    char clp[128], cs[128], form[256], usage[192], tenant[128];
    const char *id = create("callLegProfiles", "name=Used", clp);

    expect("POST", "/api/v1/coSpaces", "callProfile=0b7f2d0e-1111-4222-8333-944455556666", 400,
           FAIL("callProfileDoesNotExist"));
    expect("POST", "/api/v1/coSpaces", "dialInSecurityProfile=0b7f2d0e-1111-4222-8333-944455556666",
           400, FAIL("dialInSecurityProfileDoesNotExist"));
    snprintf(form, sizeof(form), "name=Profiled&callLegProfile=%s", id);
    create("coSpaces", form, cs);
    snprintf(usage, sizeof(usage), "%s/usage", clp);
    expect_has(usage, "total=\"1\"><coSpace id=", false);
    expect("PUT", "/api/v1/system/profiles", "callLegProfile=0b7f2d0e-1111-4222-8333-944455556666",
           400, FAIL("callLegProfileDoesNotExist"));
    snprintf(form, sizeof(form), "callLegProfile=%s", id);
    expect("PUT", "/api/v1/system/profiles", form, 200, "");
    snprintf(form, sizeof(form), "<profiles><callLegProfile>%s</callLegProfile></profiles>", id);
    expect_has("/api/v1/system/profiles", form, false);
    expect_has(usage, "total=\"2\"><global/>", false);
    /* a tenant's profiles are the level between */
    expect("POST", "/api/v1/tenants", "name=T&dtmfProfile=0b7f2d0e-1111-4222-8333-944455556666",
           400, FAIL("dtmfProfileDoesNotExist"));
    snprintf(form, sizeof(form), "name=T&callLegProfile=%s", id);
    create("tenants", form, tenant);
    expect_has(usage, "total=\"3\"><global/><tenant id=", false);
    expect_has("/api/v1/callLegProfiles?usageFilter=unreferenced", id, true);
    /* each kind counts its own references: a tenant's dtmfProfile and userProfile make those
     * referenced, and no other kind */
    {
        char dtmf[128], user[128], brand[128], wbp[128], path[128];

        create("dtmfProfiles", "lockCall=*5", dtmf);
        create("userProfiles", "canCreateCoSpaces=true", user);
        create("callBrandingProfiles", "invitationTemplate=https%3A%2F%2Fexample.com%2Fi", brand);
        create("webBridgeProfiles", "name=W", wbp);
        snprintf(form, sizeof(form), "name=T2&dtmfProfile=%s&userProfile=%s",
                 strrchr(dtmf, '/') + 1, strrchr(user, '/') + 1);
        create("tenants", form, path);
        expect_has("/api/v1/dtmfProfiles?usageFilter=referenced", strrchr(dtmf, '/') + 1, false);
        expect_has("/api/v1/userProfiles?usageFilter=referenced", strrchr(user, '/') + 1, false);
        expect_has("/api/v1/callBrandingProfiles?usageFilter=referenced", "total=\"0\"", false);
        expect_has("/api/v1/webBridgeProfiles?usageFilter=referenced", "total=\"0\"", false);
    }
    /* deleting a profile in use is allowed, as on CMS: every reference is cleared */
    expect("DELETE", clp, NULL, 200, "");
    expect_has(cs, "<callLegProfile>", true);
    expect_has("/api/v1/system/profiles", "<callLegProfile>", true);
    expect_has(tenant, "<callLegProfile>", true);
    expect("GET", usage, NULL, 404, FAIL("callLegProfileDoesNotExist"));
}
END_TEST

START_TEST(test_layout_template_body_is_stored)
{
    char path[128], tpl[192], big[40 * 1024];

    create("layoutTemplates", "name=T", path);
    snprintf(tpl, sizeof(tpl), "%s/template", path);
    expect("PUT", tpl, "{\"layoutTemplate\":{\"name\":\"T\"}}", 200, "");
    expect("GET", tpl, NULL, 200, "{\"layoutTemplate\":{\"name\":\"T\"}}");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect("PUT", tpl, big, 400, PE("template", "invalidValue"));
    expect("GET", tpl, NULL, 200, "{\"layoutTemplate\":{\"name\":\"T\"}}");
    expect("PUT", "/api/v1/layoutTemplates/0b7f2d0e-1111-4222-8333-944455556666/template", "{}",
           404, FAIL("layoutTemplateDoesNotExist"));
}
END_TEST

START_TEST(test_web_bridges_and_the_profile_in_effect)
{
    char wb[128], sysp[128], wbp[128], form[256], path[192], tenant[128];
    const char *sys_id = create("webBridgeProfiles", "name=Sys&allowSecrets=false", sysp);
    const char *wbp_id = create("webBridgeProfiles",
                                "allowSecrets=true&resourceArchive="
                                "https://files.example.com/a.zip",
                                wbp);

    /* the join page is a web bridge, connected, and stays */
    expect_has("/api/v1/webBridges", "d041a4ef-8194-4de3-8586-bb095384f57b", false);
    expect_has(BUILTIN "/status", "<status>success</status>", false);
    expect("DELETE", BUILTIN, NULL, 400, FAIL("webBridgeInUse"));
    expect("POST", BUILTIN "/updateCustomization", NULL, 200, "");
    create("webBridges", "url=https://wb.example.com", wb);
    snprintf(path, sizeof(path), "%s/status", wb);
    expect_has(path, "<status>unused</status>", false);
    /* precedence: the web bridge's profile over the system's over CMS's behaviour */
    expect_has("/api/v1/system/profiles/effectiveWebBridgeProfile",
               "<allowSecrets>true</allowSecrets>", false);
    snprintf(form, sizeof(form), "webBridgeProfile=%s", sys_id);
    expect("PUT", "/api/v1/system/profiles", form, 200, "");
    expect_has("/api/v1/system/profiles/effectiveWebBridgeProfile",
               "<allowSecrets>false</allowSecrets>", false);
    snprintf(path, sizeof(path), "%s/effectiveWebBridgeProfile", wb);
    expect_has(path, "<allowSecrets>false</allowSecrets>", false);
    snprintf(form, sizeof(form), "webBridgeProfile=%s", wbp_id);
    expect("PUT", wb, form, 200, "");
    expect_has(path, "<allowSecrets>true</allowSecrets>", false);
    expect_has(path, "<name>Sys</name>", false); /* not set in its own: the system's */
    /* a tenant's profile is between a web bridge's and the system's */
    snprintf(form, sizeof(form), "name=Open&webBridgeProfile=%s", wbp_id);
    create("tenants", form, tenant);
    snprintf(path, sizeof(path), "%s/effectiveWebBridgeProfile", tenant);
    expect_has(path, "<allowSecrets>true</allowSecrets>", false);
    snprintf(form, sizeof(form), "webBridgeProfile=&tenant=%s", strrchr(tenant, '/') + 1);
    expect("PUT", wb, form, 200, "");
    snprintf(path, sizeof(path), "%s/effectiveWebBridgeProfile", wb);
    expect_has(path, "<allowSecrets>true</allowSecrets>", false);
    snprintf(path, sizeof(path), "%s/updateCustomization", wb);
    expect("POST", path, NULL, 400, FAIL("webBridgeArchiveRetrievalFailure"));
    expect("GET", "/api/v1/tenants/0b7f2d0e-1111-4222-8333-944455556666/effectiveWebBridgeProfile",
           NULL, 404, FAIL("tenantDoesNotExist"));
    expect("PUT", "/api/v1/system/profiles", "webBridgeProfile=", 200, "");
}
END_TEST

/* The coSpace's secret, read from its GET. */
static void secret_of(const char *cs, char *out, size_t cap)
{
    char body[8192];

    ck_assert_int_eq(admin("GET", cs, NULL, body, sizeof(body), NULL), 200);
    th_xml_text(body, "secret", out, cap);
    ck_assert(out[0]);
}

START_TEST(test_participant_limit_holds_on_the_join_page)
{
    char cp[128], cs[128], form[256], secret[64], json[256], got[4096];
    const char *id = create("callProfiles", "participantLimit=1", cp);

    snprintf(form, sizeof(form), "name=Small&callId=771771&callProfile=%s", id);
    create("coSpaces", form, cs);
    secret_of(cs, secret, sizeof(secret));
    snprintf(json, sizeof(json), "{\"callId\":\"771771\",\"secret\":\"%s\",\"name\":\"One\"}",
             secret);
    ck_assert_msg(join(json, got, sizeof(got)) == 200, "%s", got);
    snprintf(json, sizeof(json), "{\"callId\":\"771771\",\"secret\":\"%s\",\"name\":\"Two\"}",
             secret);
    ck_assert_msg(join(json, got, sizeof(got)) == 503 && strstr(got, "participantLimitReached"),
                  "%s", got);
    /* raised: the second gets in */
    expect("PUT", cp, "participantLimit=2", 200, "");
    ck_assert_msg(join(json, got, sizeof(got)) == 200, "%s", got);
}
END_TEST

START_TEST(test_passcodes_and_secrets_as_the_profiles_say)
{
    char disp[128], wbp[128], cs[128], cs2[128], form[256], secret[64], json[256], got[4096];
    const char *disp_id = create("dialInSecurityProfiles", "minPasscodeLength=6", disp);
    const char *wbp_id = create("webBridgeProfiles", "allowSecrets=false", wbp);

    /* a passcode shorter than the profile's minimum is refused where it is set */
    snprintf(form, sizeof(form), "callId=881881&passcode=1234&dialInSecurityProfile=%s", disp_id);
    expect("POST", "/api/v1/coSpaces", form, 400, FAIL("passcodeTooShort"));
    create("coSpaces", "name=Old&callId=881881&passcode=1234", cs);
    /* ... and where a join presents one, once the space has the profile */
    snprintf(form, sizeof(form), "dialInSecurityProfile=%s", disp_id);
    expect("PUT", cs, form, 400, FAIL("passcodeTooShort"));
    expect("PUT", "/api/v1/system/profiles", form, 200, "");
    ck_assert_msg(join("{\"callId\":\"881881\",\"passcode\":\"1234\",\"name\":\"P\"}", got,
                       sizeof(got)) == 403,
                  "%s", got);
    expect("PUT", "/api/v1/system/profiles", "dialInSecurityProfile=", 200, "");
    ck_assert_msg(join("{\"callId\":\"881881\",\"passcode\":\"1234\",\"name\":\"P\"}", got,
                       sizeof(got)) == 200,
                  "%s", got);
    /* a space without a passcode, where blank passcodes are not allowed */
    create("coSpaces", "name=Blank&callId=882882", cs2);
    expect("PUT", disp, "blankPasscodeAllowed=false", 200, "");
    snprintf(form, sizeof(form), "dialInSecurityProfile=%s", disp_id);
    expect("PUT", cs2, form, 200, "");
    ck_assert_msg(join("{\"callId\":\"882882\",\"name\":\"B\"}", got, sizeof(got)) == 403, "%s",
                  got);
    expect("PUT", disp, "blankPasscodeAllowed=", 200, "");
    ck_assert_msg(join("{\"callId\":\"882882\",\"name\":\"B\"}", got, sizeof(got)) == 200, "%s",
                  got);
    /* the join page's web bridge profile refuses secret links */
    secret_of(cs, secret, sizeof(secret));
    snprintf(json, sizeof(json), "{\"callId\":\"881881\",\"secret\":\"%s\",\"name\":\"S\"}",
             secret);
    snprintf(form, sizeof(form), "webBridgeProfile=%s", wbp_id);
    expect("PUT", BUILTIN, form, 200, "");
    ck_assert_msg(join(json, got, sizeof(got)) == 403, "%s", got);
    expect("PUT", wbp, "allowSecrets=true&allowPasscodes=false", 200, "");
    ck_assert_msg(join(json, got, sizeof(got)) == 200, "%s", got);
    ck_assert_msg(join("{\"callId\":\"881881\",\"passcode\":\"1234\",\"name\":\"P\"}", got,
                       sizeof(got)) == 403,
                  "%s", got);
    expect("PUT", BUILTIN, "webBridgeProfile=", 200, "");
}
END_TEST

Suite *it_profiles_suite(void)
{
    Suite *s = suite_create("it_profiles");
    TCase *tc = tcase_create("profiles");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_every_profile_collection_is_crud);
    tcase_add_test(tc, test_parameters_are_checked_as_cms_does);
    tcase_add_test(tc, test_cospace_references_usage_and_system_profiles);
    tcase_add_test(tc, test_layout_template_body_is_stored);
    tcase_add_test(tc, test_web_bridges_and_the_profile_in_effect);
    tcase_add_test(tc, test_participant_limit_holds_on_the_join_page);
    tcase_add_test(tc, test_passcodes_and_secrets_as_the_profiles_say);
    suite_add_tcase(s, tc);
    return s;
}
