/* tests/test_it_dialplan.c: the dial plan through the running daemon over HTTPS: outbound and
 * forwarding rules, dial transforms, tenant groups, IVRs, call bridge groups, the cluster
 * settings, and the behaviour behind them: transforms and forwarding in the call matching,
 * accessQuery and uriUsageQuery. */
#include <stdio.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define PE(p, e)                                                                                   \
    "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"" p "\" error=\"" e        \
    "\" /></failureDetails>"
#define REASON(r) "<?xml version=\"1.0\"?><failureDetails><" r " /></failureDetails>"

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

/* The body of the last answer contains (or, with no, lacks) s. */
static void has(const char *s)
{
    ck_assert_msg(strstr(body, s), "lacks %s: %s", s, body);
}

static void lacks(const char *s)
{
    ck_assert_msg(!strstr(body, s), "has %s: %s", s, body);
}

static void refused(const char *method, const char *path, const char *form, const char *answer)
{
    req(method, path, form, 400);
    ck_assert_str_eq(body, answer);
}

START_TEST(test_outbound_rules)
{
    char path[96], group[40];

    snprintf(path, sizeof(path), "outboundDialPlanRules/%s",
             req("POST", "outboundDialPlanRules", "domain=*.example.com&sipProxy=proxy.example.com",
                 200));
    req("GET", path, NULL, 200);
    has("<domain>*.example.com</domain><priority>0</priority><localContactDomain></"
        "localContactDomain><localFromDomain></localFromDomain><sipProxy>proxy.example.com</"
        "sipProxy><trunkType>sip</trunkType><sipControlEncryption>auto</sipControlEncryption>"
        "<failureAction>stop</failureAction><scope>global</scope><callRouting>default</"
        "callRouting>");
    req("PUT", path, "trunkType=LYNC&failureAction=continue&callrouting=traversal", 200);
    req("GET", path, NULL, 200);
    has("<trunkType>lync</trunkType>");
    has("<failureAction>continue</failureAction>");
    has("<callRouting>traversal</callRouting>");
    refused("POST", "outboundDialPlanRules", "priority=1", PE("domain", "missing"));
    refused("POST", "outboundDialPlanRules", "domain=*", PE("domain", "invalidValue"));
    refused("POST", "outboundDialPlanRules", "domain=a.com&trunkType=h323",
            PE("trunkType", "invalidValue"));
    refused("POST", "outboundDialPlanRules", "domain=a.com&scope=callBridge",
            PE("callBridge", "missing"));
    refused("POST", "outboundDialPlanRules",
            "domain=a.com&tenant=00000000-0000-4000-8000-00000000abcd",
            REASON("tenantDoesNotExist"));
    snprintf(group, sizeof(group), "%s", req("POST", "callBridgeGroups", "name=g-out", 200));
    snprintf(path, sizeof(path), "domain=b.com&scope=callBridgeGroup&callBridgeGroup=%s", group);
    req("POST", "outboundDialPlanRules", path, 200);
    req("GET", "outboundDialPlanRules", NULL, 200);
    has("<outboundDialPlanRules total=\"2\">"); /* nothing stored from the refusals */
    req("GET", "outboundDialPlanRules?filter=b.co", NULL, 200);
    has("total=\"1\"");
}
END_TEST

START_TEST(test_forwarding_rules_and_matching)
{
    char path[96], fwd[40], rej[40];

    snprintf(fwd, sizeof(fwd), "%s",
             req("POST", "forwardingDialPlanRules",
                 "matchPattern=*.partner.net&action=forward&destinationDomain=gw.example.org",
                 200));
    snprintf(path, sizeof(path), "forwardingDialPlanRules/%s", fwd);
    req("GET", path, NULL, 200);
    has("<matchPattern>*.partner.net</matchPattern><priority>0</priority><action>forward</action>"
        "<destinationDomain>gw.example.org</destinationDomain><callerIdMode>regenerate</"
        "callerIdMode><uriParameters>discard</uriParameters>");
    snprintf(rej, sizeof(rej), "%s",
             req("POST", "forwardingDialPlanRules",
                 "matchPattern=spam.partner.net&action=reject&priority=10", 200));
    refused("POST", "forwardingDialPlanRules", "matchPattern=a..b",
            PE("matchPattern", "invalidValue"));
    refused("POST", "forwardingDialPlanRules", "matchPattern=a.b&action=drop",
            PE("action", "invalidValue"));
    /* no inbound rule for the domain: the forwarding rules decide, highest priority first */
    req("GET", "callMatching?destination=alice@eu.PARTNER.net", NULL, 200);
    has("<result>forward</result>");
    snprintf(path, sizeof(path), "<forwardingDialPlanRule id=\"%s\"/><action>forward</action>",
             fwd);
    has(path);
    has("<destination>alice@gw.example.org</destination>");
    req("GET", "callMatching?destination=bob@spam.partner.net", NULL, 200);
    has("<result>reject</result>");
    snprintf(path, sizeof(path), "<forwardingDialPlanRule id=\"%s\"/>", rej);
    has(path);
    req("GET", "callMatching?destination=carol@elsewhere.com", NULL, 200);
    has("<result>noMatchingRule</result>");
    lacks("forwardingDialPlanRule");
    /* a domain with an inbound rule is never forwarded */
    req("POST", "inboundDialPlanRules", "domain=in.partner.net", 200);
    req("GET", "callMatching?destination=dave@in.partner.net", NULL, 200);
    has("<result>noMatchingTarget</result>");
}
END_TEST

START_TEST(test_dial_transforms_in_matching)
{
    char path[96], deny[40];

    req("POST", "inboundDialPlanRules", "domain=xf.example.com", 200);
    req("POST", "coSpaces", "name=xf&uri=4455", 200);
    /* strip: dots, dashes and spaces go; a leading 9 is removed and the domain added */
    snprintf(path, sizeof(path), "dialTransforms/%s",
             req("POST", "dialTransforms",
                 "type=strip&match=($1/^9/)&transform=$1{/^9//}@xf.example.com&priority=5", 200));
    req("GET", path, NULL, 200);
    has("<type>strip</type><match>($1/^9/)</match><transform>$1{/^9//}@xf.example.com</"
        "transform><priority>5</priority><action>accept</action>");
    req("GET", "callMatching?destination=9-44.55", NULL, 200);
    has("<result>coSpace</result>");
    has("<destination>4455@xf.example.com</destination>");
    /* phone: country code and number, as the API reference's UK mobile example */
    req("POST", "dialTransforms",
        "type=phone&match=($1/^44$/)($2/^7/)&transform=90044$2{}123@mobilevcs&priority=7", 200);
    req("GET", "callMatching?destination=%2B44%207700%20900123", NULL, 200);
    has("<destination>900447700900123123@mobilevcs</destination>");
    /* raw, with a capture group named in the replacement (the API reference's last example) */
    req("POST", "dialTransforms",
        "match=($1/(.*)@cap.example.com/)&transform=$1{/^([0-9]%2B)@cap.example.com$/"
        "x\\1@xf.example.com/}{/^x//}",
        200);
    req("GET", "callMatching?destination=4455@cap.example.com", NULL, 200);
    has("<result>coSpace</result>");
    has("<destination>4455@xf.example.com</destination>");
    /* deny, at a higher priority, refuses the call; a lower one does not get a say */
    snprintf(
        deny, sizeof(deny), "%s",
        req("POST", "dialTransforms", "type=raw&match=($1/^666/)&action=deny&priority=9", 200));
    req("GET", "callMatching?destination=666@xf.example.com", NULL, 200);
    has("<result>dialTransformDeny</result>");
    snprintf(path, sizeof(path), "<dialTransform id=\"%s\"/>", deny);
    has(path);
    refused("POST", "callLegs", "destination=666@xf.example.com", REASON("dialTransformDeny"));
    /* expressions that cannot be applied are refused */
    refused("POST", "dialTransforms", "match=($1/[/)", PE("match", "invalidValue"));
    refused("POST", "dialTransforms", "match=$1/x/", PE("match", "invalidValue"));
    refused("POST", "dialTransforms", "transform=$1{/(/x/}", PE("transform", "invalidValue"));
    refused("POST", "dialTransforms", "type=octal", PE("type", "invalidValue"));
    /* expressions that would make glibc's regcomp copy a subexpression without bound (stacked
     * repetitions: fuzz/corpus/transform/oom-1 took 4 GB; nested intervals multiply) */
    refused("POST", "dialTransforms", "transform=$1{/M%2B%2B%2B%2B%2B%2B%2B%2B/x/}",
            PE("transform", "invalidValue"));
    refused("POST", "dialTransforms", "match=($1/((a{99}){99}){99}/)", PE("match", "invalidValue"));
    { /* a bracket's '+' and '*' are characters, an interval after it is fine */
        char one[96];

        snprintf(
            one, sizeof(one), "dialTransforms/%s",
            req("POST", "dialTransforms", "match=($1/^[%2B*]%2B[0-9]{2,8}$/)&transform=$1", 200));
        req("DELETE", one, NULL, 200);
    }
}
END_TEST

START_TEST(test_tenant_groups_and_tenants)
{
    char group[40], tenant[40], path[160];

    snprintf(group, sizeof(group), "%s", req("POST", "tenantGroups", NULL, 200));
    snprintf(path, sizeof(path), "name=grouped&tenantGroup=%s&participantLimit=25", group);
    snprintf(tenant, sizeof(tenant), "%s", req("POST", "tenants", path, 200));
    snprintf(path, sizeof(path), "tenants/%s", tenant);
    req("GET", path, NULL, 200);
    snprintf(path, sizeof(path),
             "<name>grouped</name><tenantGroup>%s</tenantGroup>"
             "<participantLimit>25</participantLimit>",
             group);
    has(path);
    refused("POST", "tenants", "name=x&tenantGroup=00000000-0000-4000-8000-00000000abcd",
            REASON("tenantGroupDoesNotExist"));
    refused("POST", "tenants", "participantLimit=5", PE("name", "missing")); /* name* */
    refused("POST", "tenants", "name=x&participantLimit=-1",
            PE("participantLimit", "invalidValue"));
    snprintf(path, sizeof(path), "tenantGroups/%s", group);
    req("GET", path, NULL, 200);
    snprintf(path, sizeof(path), "<tenantGroup id=\"%s\"", group);
    has(path);
    snprintf(path, sizeof(path), "tenantGroups/%s", group);
    refused("DELETE", path, NULL, REASON("tenantGroupInUse"));
    snprintf(path, sizeof(path), "tenants/%s", tenant);
    req("PUT", path, "tenantGroup=", 200);
    snprintf(path, sizeof(path), "tenantGroups/%s", group);
    req("DELETE", path, NULL, 200);
    req("GET", path, NULL, 404);
    ck_assert_str_eq(body, REASON("tenantGroupDoesNotExist"));
}
END_TEST

START_TEST(test_ivrs)
{
    char path[96], ivr_path[96];

    req("POST", "coSpaces", "name=i&uri=ivr-taken", 200);
    snprintf(path, sizeof(path), "ivrs/%s", req("POST", "ivrs", "uri=ivr-main", 200));
    snprintf(ivr_path, sizeof(ivr_path), "%s", path);
    req("GET", path, NULL, 200);
    has("<uri>ivr-main</uri><resolveCoSpaceCallIds>true</resolveCoSpaceCallIds>"
        "<resolveLyncConferenceIds>false</resolveLyncConferenceIds>");
    refused("POST", "ivrs", "uri=IVR-MAIN", REASON("ivrUriConflict"));
    refused("POST", "ivrs", "uri=ivr-taken", REASON("ivrUriConflict"));
    refused("PUT", path, "uri=ivr-taken", REASON("ivrUriConflict"));
    refused("POST", "ivrs", "uri=x&tenantGroup=00000000-0000-4000-8000-00000000abcd",
            REASON("tenantGroupDoesNotExist"));
    req("GET", "ivrs", NULL, 200);
    has("<ivrs total=\"1\">");
    /* the call matching reaches it through a rule that resolves to IVRs, and only such a rule */
    req("POST", "inboundDialPlanRules", "domain=ivr.example.com", 200);
    req("POST", "inboundDialPlanRules", "domain=noivr.example.com&resolveToIvrs=false", 200);
    req("GET", "callMatching?destination=IVR-main@ivr.example.com", NULL, 200);
    has("<result>ivr</result>");
    snprintf(path, sizeof(path), "<ivr id=\"%s\"/>", strrchr(ivr_path, '/') + 1);
    has(path);
    req("GET", "callMatching?destination=ivr-main@noivr.example.com", NULL, 200);
    has("<result>noMatchingTarget</result>");
}
END_TEST

START_TEST(test_call_bridge_groups_and_cluster)
{
    char path[96];

    snprintf(path, sizeof(path), "callBridgeGroups/%s",
             req("POST", "callBridgeGroups", "name=lb&loadBalancingEnabled=true", 200));
    req("GET", path, NULL, 200);
    has("<name>lb</name><loadBalancingEnabled>true</loadBalancingEnabled><loadBalanceLyncCalls>"
        "false</loadBalanceLyncCalls><loadBalanceOutgoingCalls>false</loadBalanceOutgoingCalls>"
        "<loadBalanceUserCalls>true</loadBalanceUserCalls><loadBalanceIndirectCalls>false</"
        "loadBalanceIndirectCalls>");
    refused("PUT", path, "loadBalanceUserCalls=maybe", PE("loadBalanceUserCalls", "invalidValue"));
    req("GET", "system/configuration/cluster", NULL, 200);
    has("<uniqueName></uniqueName>");
    has("<newConferenceLoadLimitBasisPoints>5000</newConferenceLoadLimitBasisPoints>"
        "<existingConferenceLoadLimitBasisPoints>8000</existingConferenceLoadLimitBasisPoints>");
    req("POST", "system/configuration/cluster", "uniqueName=node-a&participantLimit=40", 200);
    req("PUT", "system/configuration/cluster", "loadLimit=1000", 200);
    refused("PUT", "system/configuration/cluster", "newConferenceLoadLimitBasisPoints=10001",
            PE("newConferenceLoadLimitBasisPoints", "invalidValue"));
    req("GET", "system/configuration/cluster", NULL, 200);
    has("<uniqueName>node-a</uniqueName>");
    has("<participantLimit>40</participantLimit><loadLimit>1000</loadLimit>");
    req("DELETE", "system/configuration/cluster", NULL, 405);
}
END_TEST

START_TEST(test_access_and_uri_usage_queries)
{
    char space[40], ivr[40], tenant[40], group[40], form[160];

    req("POST", "inboundDialPlanRules", "domain=q.example.com&priority=50", 200);
    snprintf(space, sizeof(space), "%s",
             req("POST", "coSpaces", "name=q&uri=q-room&callId=8080123", 200));
    snprintf(ivr, sizeof(ivr), "%s", req("POST", "ivrs", "uri=q-ivr", 200));
    req("POST", "accessQuery", "uri=q-room", 200);
    has("<accessQuery><uri>q-room@q.example.com</uri></accessQuery>");
    req("POST", "accessQuery", "callId=8080123", 200);
    has("<webAddress>/meeting/8080123</webAddress><ivr>"); /* an IVR resolving callIds */
    has("@q.example.com</ivr>");
    req("POST", "accessQuery", "callId=999999999", 200);
    lacks("webAddress");
    refused("POST", "accessQuery", "", PE("uri", "missing"));
    refused("POST", "accessQuery", "callId=String", PE("callId", "invalidValue"));
    refused("POST", "accessQuery", "uri=x&tenant=00000000-0000-4000-8000-00000000abcd",
            REASON("tenantDoesNotExist"));
    req("POST", "uriUsageQuery", "uri=Q-ROOM", 200);
    snprintf(form, sizeof(form), "<uriUsageQuery><coSpaceId>%s</coSpaceId></uriUsageQuery>", space);
    ck_assert_str_eq(strstr(body, "<uriUsageQuery>"), form);
    req("POST", "uriUsageQuery", "uri=q-ivr@q.example.com", 200);
    snprintf(form, sizeof(form), "<ivrId>%s</ivrId>", ivr);
    has(form);
    /* with a tenant, only that tenant's objects */
    snprintf(tenant, sizeof(tenant), "%s", req("POST", "tenants", "name=qt", 200));
    snprintf(form, sizeof(form), "uri=q-room&tenant=%s", tenant);
    req("POST", "uriUsageQuery", form, 200);
    lacks("coSpaceId");
    refused("POST", "uriUsageQuery", "", PE("uri", "missing"));
    /* an IVR of a tenant group serves only the group's tenants, and only it serves them */
    snprintf(group, sizeof(group), "%s", req("POST", "tenantGroups", NULL, 200));
    snprintf(form, sizeof(form), "name=qg&tenantGroup=%s", group);
    snprintf(tenant, sizeof(tenant), "%s", req("POST", "tenants", form, 200));
    snprintf(form, sizeof(form), "uri=qg-room&callId=8080124&tenant=%s", tenant);
    req("POST", "coSpaces", form, 200);
    req("POST", "accessQuery", "callId=8080124", 200);
    lacks("<ivr>");
    snprintf(form, sizeof(form), "uri=qg-ivr&tenantGroup=%s", group);
    req("POST", "ivrs", form, 200);
    req("POST", "accessQuery", "callId=8080124", 200);
    has("<ivr>qg-ivr@q.example.com</ivr>");
    req("POST", "accessQuery", "callId=8080123", 200);
    lacks("qg-ivr");
    req("GET", "uriUsageQuery", NULL, 405);
}
END_TEST

Suite *it_dialplan_suite(void)
{
    Suite *s = suite_create("it_dialplan");
    TCase *tc = tcase_create("dialplan");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_outbound_rules);
    tcase_add_test(tc, test_forwarding_rules_and_matching);
    tcase_add_test(tc, test_dial_transforms_in_matching);
    tcase_add_test(tc, test_tenant_groups_and_tenants);
    tcase_add_test(tc, test_ivrs);
    tcase_add_test(tc, test_call_bridge_groups_and_cluster);
    tcase_add_test(tc, test_access_and_uri_usage_queries);
    suite_add_tcase(s, tc);
    return s;
}
