/* tests/test_it_shapes.c: answers have the shape of the CMS API reference (Cisco's apiary
 * blueprint; scripts/bench/apiary_shapes.py compares every GET with it): the element names,
 * attributes and nesting that scripts/bench/apiary_shapes.py found wrong, pinned one by one,
 * through the running daemon over HTTPS. */
#include <stdio.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

static struct th_daemon d;
static char body[8192]; /* the last answer's body */

static void start(void)
{
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", NULL);
}

static void stop(void)
{
    th_daemon_destroy(&d);
}

/* One request under /api/v1 (th_api_v1): the body in body, the new object's id returned. */
static const char *req(const char *method, const char *path, const char *form, long want)
{
    return th_api_v1(&d, method, path, form, want, body, sizeof(body));
}

static void has(const char *s)
{
    ck_assert_msg(strstr(body, s), "lacks %s: %s", s, body);
}

/* The cluster node is one object: <cluster> carries no id, and its elements come in the order
 * of the reference's example (apiary.apib:7988), unset ones empty but peerLinkBitRate. */
START_TEST(test_cluster_has_no_id)
{
    req("GET", "system/configuration/cluster", NULL, 200);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><cluster><uniqueName></uniqueName>"
                           "<maxPeerVideoStreams></maxPeerVideoStreams>"
                           "<participantLimit></participantLimit><loadLimit></loadLimit>"
                           "<newConferenceLoadLimitBasisPoints>5000"
                           "</newConferenceLoadLimitBasisPoints>"
                           "<existingConferenceLoadLimitBasisPoints>8000"
                           "</existingConferenceLoadLimitBasisPoints></cluster>");
    req("PUT", "system/configuration/cluster", "peerLinkBitRate=2000000", 200);
    req("GET", "system/configuration/cluster", NULL, 200);
    has("</existingConferenceLoadLimitBasisPoints><peerLinkBitRate>2000000</peerLinkBitRate>"
        "</cluster>");
    req("PUT", "system/configuration/cluster", "peerLinkBitRate=", 200);
}
END_TEST

/* A tenant group has no parameter of its own; a PUT (the collection's "Modify" request sends
 * one with no body) answers 200 and changes nothing. It was a 500: the UPDATE had no column. */
START_TEST(test_tenant_group_put_without_parameters)
{
    char path[96], want[160];

    snprintf(path, sizeof(path), "tenantGroups/%s", req("POST", "tenantGroups", NULL, 200));
    req("PUT", path, NULL, 200);
    req("PUT", path, "unknownParameter=1", 200);
    req("GET", path, NULL, 200);
    snprintf(want, sizeof(want), "<?xml version=\"1.0\"?><tenantGroup id=\"%s\"",
             strrchr(path, '/') + 1);
    has(want);
}
END_TEST

/* The access method list gives uri, callId, passcode and callLegProfile (apiary.apib:1545). */
START_TEST(test_access_method_list_has_call_leg_profile)
{
    char space[40], profile[40], path[160], form[200];

    snprintf(space, sizeof(space), "%s", req("POST", "coSpaces", "name=shapes&uri=shapes", 200));
    snprintf(profile, sizeof(profile), "%s", req("POST", "callLegProfiles", "name=shapes", 200));
    snprintf(form, sizeof(form), "uri=shapes.am&callId=7001&passcode=12&callLegProfile=%s",
             profile);
    snprintf(path, sizeof(path), "coSpaces/%s/accessMethods", space);
    req("POST", path, form, 200);
    req("GET", path, NULL, 200);
    snprintf(form, sizeof(form),
             "<uri>shapes.am</uri><callId>7001</callId><passcode>12</passcode>"
             "<callLegProfile>%s</callLegProfile></accessMethod>",
             profile);
    has(form);
}
END_TEST

/* A coSpace's GET shows numAccessMethods once it has any (apiary.apib:1135); its list does not. */
START_TEST(test_cospace_counts_its_access_methods)
{
    char space[40], path[160];

    snprintf(space, sizeof(space), "%s",
             req("POST", "coSpaces", "name=counted&uri=counted&callId=7101", 200));
    snprintf(path, sizeof(path), "coSpaces/%s", space);
    req("GET", path, NULL, 200);
    ck_assert_ptr_null(strstr(body, "numAccessMethods"));
    snprintf(path, sizeof(path), "coSpaces/%s/accessMethods", space);
    req("POST", path, "uri=counted.host&passcode=1", 200);
    req("POST", path, "uri=counted.guest&passcode=2", 200);
    snprintf(path, sizeof(path), "coSpaces/%s", space);
    req("GET", path, NULL, 200);
    has("<callId>7101</callId>");
    has("<numAccessMethods>2</numAccessMethods></coSpace>");
    req("GET", "coSpaces?filter=counted", NULL, 200);
    ck_assert_ptr_null(strstr(body, "numAccessMethods"));
}
END_TEST

/* A coSpace template shows numAccessMethodTemplates, in its list too; the list item has the
 * profiles but not the description (apiary.apib:2032, 2076). */
START_TEST(test_cospace_template_counts_and_list_item)
{
    char tpl[40], profile[40], path[160], want[256];

    snprintf(tpl, sizeof(tpl), "%s",
             req("POST", "coSpaceTemplates", "name=tpl&description=long+words", 200));
    snprintf(path, sizeof(path), "coSpaceTemplates/%s", tpl);
    req("GET", path, NULL, 200);
    has("<name>tpl</name><description>long words</description>"
        "<numAccessMethodTemplates>0</numAccessMethodTemplates></coSpaceTemplate>");
    snprintf(profile, sizeof(profile), "%s", req("POST", "callProfiles", NULL, 200));
    snprintf(want, sizeof(want), "callProfile=%s", profile);
    req("PUT", path, want, 200);
    snprintf(path, sizeof(path), "coSpaceTemplates/%s/accessMethodTemplates", tpl);
    req("POST", path, "name=guest", 200);
    req("GET", "coSpaceTemplates?filter=tpl", NULL, 200);
    snprintf(want, sizeof(want),
             "<coSpaceTemplate id=\"%s\"><name>tpl</name><callProfile>%s</callProfile>"
             "<numAccessMethodTemplates>1</numAccessMethodTemplates></coSpaceTemplate>",
             tpl, profile);
    has(want);
}
END_TEST

/* A layout template shows templateSize, the bytes of its template, once it has one
 * (apiary.apib:4872), in its list too. */
START_TEST(test_layout_template_size)
{
    char path[160], tpl[200];

    snprintf(path, sizeof(path), "layoutTemplates/%s",
             req("POST", "layoutTemplates", "name=sized", 200));
    req("GET", path, NULL, 200);
    ck_assert_ptr_null(strstr(body, "templateSize"));
    snprintf(tpl, sizeof(tpl), "%s/template", path);
    req("PUT", tpl, "{\"templateDefinition\":[]}", 200); /* 25 bytes */
    req("GET", path, NULL, 200);
    has("<name>sized</name><templateSize>25</templateSize></layoutTemplate>");
    req("GET", "layoutTemplates?filter=sized", NULL, 200);
    has("<templateSize>25</templateSize></layoutTemplate></layoutTemplates>");
}
END_TEST

/* An access method's passcode under the minPasscodeLength in effect (its own
 * dialInSecurityProfile's, else its coSpace's) is refused 400 passcodeTooShort, as a coSpace's
 * is (apiary.apib:620); nothing is stored. */
START_TEST(test_access_method_passcode_too_short)
{
    char strict[40], loose[40], space[40], path[160], form[200];

    snprintf(strict, sizeof(strict), "%s",
             req("POST", "dialInSecurityProfiles", "minPasscodeLength=6", 200));
    snprintf(loose, sizeof(loose), "%s",
             req("POST", "dialInSecurityProfiles", "minPasscodeLength=2", 200));
    snprintf(form, sizeof(form), "name=strict&uri=strict&dialInSecurityProfile=%s", strict);
    snprintf(space, sizeof(space), "%s", req("POST", "coSpaces", form, 200));
    snprintf(path, sizeof(path), "coSpaces/%s/accessMethods", space);
    req("POST", path, "uri=strict.short&passcode=1234", 400);
    ck_assert_str_eq(
        body, "<?xml version=\"1.0\"?><failureDetails><passcodeTooShort /></failureDetails>");
    req("GET", path, NULL, 200);
    has("total=\"0\"");
    req("POST", path, "uri=strict.long&passcode=123456", 200);
    snprintf(form, sizeof(form), "uri=strict.own&passcode=12&dialInSecurityProfile=%s", loose);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", req("POST", path, form, 200));
    req("PUT", path, "passcode=1", 400);
    snprintf(form, sizeof(form), "dialInSecurityProfile=%s", strict);
    req("PUT", path, form, 400);
    ck_assert_str_eq(
        body, "<?xml version=\"1.0\"?><failureDetails><passcodeTooShort /></failureDetails>");
}
END_TEST

Suite *it_shapes_suite(void)
{
    Suite *s = suite_create("it_shapes");
    TCase *tc = tcase_create("shapes");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cluster_has_no_id);
    tcase_add_test(tc, test_tenant_group_put_without_parameters);
    tcase_add_test(tc, test_access_method_list_has_call_leg_profile);
    tcase_add_test(tc, test_cospace_counts_its_access_methods);
    tcase_add_test(tc, test_cospace_template_counts_and_list_item);
    tcase_add_test(tc, test_layout_template_size);
    tcase_add_test(tc, test_access_method_passcode_too_short);
    suite_add_tcase(s, tc);
    return s;
}
