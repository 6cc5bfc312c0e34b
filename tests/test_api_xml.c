/* tests/test_api_xml.c: the XML writer and the byte-exact failure bodies. */
#include <stdlib.h>
#include <string.h>

#include "api/xml.h"
#include "tests/suites.h"

static char *finish(struct api_xml *x)
{
    char *body = NULL;
    size_t len = 0;

    ck_assert_int_eq(api_xml_finish(x, &body, &len), 0);
    ck_assert_uint_eq(len, strlen(body));
    return body;
}

START_TEST(test_compact_document)
{
    struct api_xml *x = api_xml_new();
    char *body;

    api_xml_start(x, "turnServers");
    api_xml_attr_size(x, "total", 1);
    api_xml_start(x, "turnServer");
    api_xml_attr(x, "id", "1e6698a8-07b0-4fdf-b9ae-70675fa4566e");
    api_xml_text(x, "serverAddress", "1.1.1.1");
    api_xml_int(x, "numRegistrations", 0);
    api_xml_bool(x, "reachable", true);
    api_xml_end(x);
    api_xml_end(x);
    body = finish(x);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><turnServers total=\"1\"><turnServer "
                           "id=\"1e6698a8-07b0-4fdf-b9ae-70675fa4566e\"><serverAddress>1.1.1.1"
                           "</serverAddress><numRegistrations>0</numRegistrations><reachable>"
                           "true</reachable></turnServer></turnServers>");
    free(body);
}
END_TEST

START_TEST(test_escaping_and_empty_root)
{
    struct api_xml *x = api_xml_new();
    char *body;

    api_xml_start(x, "coSpaces");
    api_xml_attr(x, "total", "0\"<&");
    api_xml_end(x);
    body = finish(x);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><coSpaces total=\"0&quot;&lt;&amp;\"/>");
    free(body);

    x = api_xml_new();
    api_xml_text(x, "name", "a<b>&c \xc3\xbc");
    body = finish(x);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><name>a&lt;b&gt;&amp;c \xc3\xbc</name>");
    free(body);
}
END_TEST

/* A fragment (no declaration, siblings at the top) embedded in a document gives the bytes the
 * same elements written in place give: a node's published TURN view (api_turn_status_inner). */
START_TEST(test_fragment_embeds_byte_exact)
{
    struct api_xml *f = api_xml_new_fragment(), *x = api_xml_new(), *y = api_xml_new();
    char *frag, *embedded, *direct;

    api_xml_text(f, "status", "failure");
    api_xml_start(f, "host");
    api_xml_text(f, "address", "a&b");
    api_xml_bool(f, "reachable", false);
    frag = finish(f); /* the open <host> is closed by finish */
    ck_assert_str_eq(frag, "<status>failure</status><host><address>a&amp;b</address>"
                           "<reachable>false</reachable></host>");
    api_xml_start(x, "turnServer");
    api_xml_attr(x, "id", "1");
    api_xml_raw(x, frag);
    api_xml_text(x, "callBridgeName", "n");
    embedded = finish(x);
    api_xml_start(y, "turnServer");
    api_xml_attr(y, "id", "1");
    api_xml_text(y, "status", "failure");
    api_xml_start(y, "host");
    api_xml_text(y, "address", "a&b");
    api_xml_bool(y, "reachable", false);
    api_xml_end(y);
    api_xml_text(y, "callBridgeName", "n");
    direct = finish(y);
    ck_assert_str_eq(embedded, direct);
    ck_assert_str_eq(embedded,
                     "<?xml version=\"1.0\"?><turnServer id=\"1\"><status>failure</status>"
                     "<host><address>a&amp;b</address><reachable>false</reachable>"
                     "</host><callBridgeName>n</callBridgeName></turnServer>");
    free(frag);
    free(embedded);
    free(direct);
}
END_TEST

START_TEST(test_failure_bodies_are_byte_exact)
{
    char *body = NULL;
    size_t len = 0;

    ck_assert_int_eq(api_xml_failure("coSpaceDoesNotExist", NULL, NULL, &body, &len), 0);
    ck_assert_str_eq(
        body, "<?xml version=\"1.0\"?><failureDetails><coSpaceDoesNotExist /></failureDetails>");
    /* PsCms strips 38 leading and 20 trailing characters to get the reason */
    ck_assert_uint_eq(len - 38 - 20, strlen("coSpaceDoesNotExist"));
    ck_assert_int_eq(memcmp(body + 38, "coSpaceDoesNotExist", len - 38 - 20), 0);
    free(body);
    ck_assert_int_eq(api_xml_failure(NULL, "type", "invalidValue", &body, &len), 0);
    ck_assert_str_eq(body,
                     "<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"type\" "
                     "error=\"invalidValue\" /></failureDetails>");
    free(body);
    ck_assert_int_eq(api_xml_failure(NULL, "a\"<b", "invalidValue", &body, &len), 0);
    ck_assert_ptr_nonnull(strstr(body, "parameter=\"a&quot;&lt;b\""));
    free(body);
}
END_TEST

Suite *api_xml_suite(void)
{
    Suite *s = suite_create("api_xml");
    TCase *tc = tcase_create("write");

    tcase_add_test(tc, test_compact_document);
    tcase_add_test(tc, test_escaping_and_empty_root);
    tcase_add_test(tc, test_failure_bodies_are_byte_exact);
    tcase_add_test(tc, test_fragment_embeds_byte_exact);
    suite_add_tcase(s, tc);
    return s;
}
