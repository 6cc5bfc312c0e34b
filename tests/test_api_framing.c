/* tests/test_api_framing.c: the framing and target checks (api/http/framing.c) on header blocks
 * split into lines the way libmicrohttpd 0.9.75 splits them: the name is everything before the
 * first colon (whitespace included), the value starts after the spaces and tabs that follow it, and
 * trailing whitespace stays in the value. */
#include <string.h>

#include "api/http/framing.h"
#include "tests/suites.h"

/* The verdict on 'block', header lines separated by "\n", for a request of 'version'. */
static struct api_framing_verdict check(const char *version, const char *block)
{
    struct api_framing_scan scan = {0};
    const char *line = block;

    while (line && *line) {
        const char *end = strchr(line, '\n'), *colon;
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *value;

        colon = memchr(line, ':', len);
        ck_assert_msg(colon != NULL, "test line without a colon: %.*s", (int)len, line);
        value = colon + 1;
        while (value < line + len && (*value == ' ' || *value == '\t'))
            value++;
        api_framing_add_field(&scan, line, (size_t)(colon - line), value,
                              (size_t)(line + len - value), false);
        line = end ? end + 1 : NULL;
    }
    return api_framing_check(&scan, version);
}

#define ASSERT_VERDICT(v, st, rsn)                                                                 \
    do {                                                                                           \
        struct api_framing_verdict v_ = (v);                                                       \
        ck_assert_int_eq(v_.status, (st));                                                         \
        if ((st) == 0) {                                                                           \
            ck_assert_ptr_null(v_.reason);                                                         \
            ck_assert_ptr_null(v_.why);                                                            \
        } else {                                                                                   \
            ck_assert_str_eq(v_.reason, (rsn));                                                    \
            ck_assert_ptr_nonnull(v_.why);                                                         \
        }                                                                                          \
    } while (0)

#define ACCEPTED(version, block) ASSERT_VERDICT(check(version, block), 0, NULL)
#define REFUSED(version, block, st, rsn) ASSERT_VERDICT(check(version, block), st, rsn)

START_TEST(test_what_curl_newman_and_ansible_send_is_accepted)
{
    ACCEPTED("HTTP/1.1", "Host: 127.0.0.1:8443\nAuthorization: Basic YTpi\nAccept: */*");
    ACCEPTED("HTTP/1.1", "Host: localhost:8443\nContent-Length: 9\nContent-Type: "
                         "application/x-www-form-urlencoded");
    ACCEPTED("HTTP/1.1", "Host: [::1]:8443\nTransfer-Encoding: chunked\nExpect: 100-continue");
    ACCEPTED("HTTP/1.1", "host: x\ntransfer-encoding: Chunked");
    ACCEPTED("HTTP/1.1", "Host: x\nContent-Length: 0");
    ACCEPTED("HTTP/1.1", "Host: x\nContent-Length: 00000000000000000000000000000009");
    ACCEPTED("HTTP/1.0", "Content-Length: 9");
    ACCEPTED("HTTP/1.0", "");
    /* other repeated fields are the handlers' business, and may be lists */
    ACCEPTED("HTTP/1.1", "Host: x\nAccept: a\nAccept: b\nX-Request-Id: 1\nX-Request-Id: 2");
    /* other control characters in a value MAY be kept (RFC 9110 5.5) */
    ACCEPTED("HTTP/1.1", "Host: x\nUser-Agent: a\tb\x01");
}
END_TEST

START_TEST(test_host_forms_of_every_client_are_accepted)
{
    ACCEPTED("HTTP/1.1", "Host: callbridge.example.com");
    ACCEPTED("HTTP/1.1", "Host: callbridge.example.com:445");
    ACCEPTED("HTTP/1.1", "Host: 192.0.2.7:8443");
    ACCEPTED("HTTP/1.1", "Host: [2001:db8::7]");
    ACCEPTED("HTTP/1.1", "Host: [fe80::1%25eth0]:8443");
    ACCEPTED("HTTP/1.1", "Host: x:"); /* port = *DIGIT */
    ACCEPTED("HTTP/1.1", "Host: ");   /* an empty uri-host is valid syntax (RFC 9112 3.2) */
}
END_TEST

START_TEST(test_content_length_with_transfer_encoding_is_400_in_either_order)
{
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: 4\nTransfer-Encoding: chunked", 400,
            "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked\nContent-Length: 4", 400,
            "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: gzip\nContent-Length: 0", 400,
            "invalidRequestFraming");
}
END_TEST

START_TEST(test_repeated_conflicting_or_invalid_content_length_is_400)
{
    struct api_framing_verdict v = check("HTTP/1.1", "Host: x\nContent-Length: 0\n"
                                                     "Content-Length: 9");

    ASSERT_VERDICT(v, 400, "invalidRequestFraming");
    ck_assert_ptr_nonnull(strstr(v.why, "two different"));
    v = check("HTTP/1.1", "Host: x\nContent-Length: 9\ncontent-length: 9");
    ASSERT_VERDICT(v, 400, "invalidRequestFraming");
    ck_assert_ptr_nonnull(strstr(v.why, "repeated"));
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: 9x", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: 9 ", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: +9", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: -1", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: 9, 9", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: ", 400, "invalidRequestFraming");
}
END_TEST

START_TEST(test_repeated_transfer_encoding_is_400)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked", 400,
            "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: gzip\nTransfer-Encoding: chunked", 400,
            "invalidRequestFraming");
}
END_TEST

START_TEST(test_whitespace_before_the_colon_is_400_before_anything_else)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding : chunked", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\nContent-Length\t: 5", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host : x", 400, "invalidHeaderField");
    /* the hidden field would be framing too: the malformed line is what is named */
    REFUSED("HTTP/1.1", "Host: x\nContent-Length: 5\nTransfer-Encoding : chunked", 400,
            "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\n Transfer-Encoding: chunked", 400, "invalidHeaderField");
}
END_TEST

START_TEST(test_a_name_that_is_not_a_token_or_a_bare_cr_is_400)
{
    REFUSED("HTTP/1.1", "Host: x\n: empty name", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\nX(y): 1", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\nX\xc3\xa9: 1", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\nX-A: 1\r2", 400, "invalidHeaderField");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked\r", 400, "invalidHeaderField");
}
END_TEST

/* libmicrohttpd joins a continuation line to the name: whatever name and value it hands, a
 * folded line is refused, first. */
START_TEST(test_a_folded_line_is_400_whatever_it_became)
{
    struct api_framing_scan scan = {0};

    api_framing_add_field(&scan, "Host", 4, "x", 1, false);
    api_framing_add_field(&scan, "Transfer-Encoding", 17, "chunked", 7, true);
    ASSERT_VERDICT(api_framing_check(&scan, "HTTP/1.1"), 400, "invalidHeaderField");
    memset(&scan, 0, sizeof(scan));
    api_framing_add_field(&scan, "Host", 4, "x", 1, false);
    api_framing_add_field(&scan, "X-Foo", 5, "a", 1, true);
    api_framing_add_field(&scan, "Content-Length", 14, "1", 1, false);
    api_framing_add_field(&scan, "Content-Length", 14, "2", 1, false);
    ASSERT_VERDICT(api_framing_check(&scan, "HTTP/1.1"), 400, "invalidHeaderField");
    ck_assert_ptr_nonnull(strstr(api_framing_check(&scan, "HTTP/1.1").why, "obs-fold"));
}
END_TEST

START_TEST(test_chunked_not_final_is_400)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked, identity", 400,
            "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: gzip", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: identity", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked, gzip", 400, "invalidRequestFraming");
}
END_TEST

START_TEST(test_another_coding_before_the_final_chunked_is_501)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: gzip, chunked", 501,
            "unsupportedTransferCoding");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: deflate ,chunked", 501,
            "unsupportedTransferCoding");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: x;a=1 ; b = \"q\\\"s,\", CHUNKED", 501,
            "unsupportedTransferCoding");
}
END_TEST

START_TEST(test_chunked_twice_is_400)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked, chunked", 400,
            "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked, gzip, chunked", 400,
            "invalidRequestFraming");
}
END_TEST

START_TEST(test_malformed_coding_lists_are_400)
{
    static const char *const bad[] = {
        "Host: x\nTransfer-Encoding: ",
        "Host: x\nTransfer-Encoding: ,",
        "Host: x\nTransfer-Encoding: chunked;",
        "Host: x\nTransfer-Encoding: chunked gzip",
        "Host: x\nTransfer-Encoding: ch(unked",
        "Host: x\nTransfer-Encoding: x;a=\"open, chunked",
        "Host: x\nTransfer-Encoding: x;a, chunked",
        "Host: x\nTransfer-Encoding: x;=1, chunked",
        "Host: x\nTransfer-Encoding: x;a=, chunked",
        "Host: x\nTransfer-Encoding: x;a=\"\x01\", chunked",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct api_framing_verdict v = check("HTTP/1.1", bad[i]);

        ck_assert_msg(v.status == 400, "%s: %d", bad[i], v.status);
        ck_assert_str_eq(v.reason, "invalidRequestFraming");
    }
}
END_TEST

/* libmicrohttpd decodes only the bare value, so a list that is chunked alone by RFC 9110 but
 * spelt otherwise would be read until the client closes: refused rather than left hanging. */
START_TEST(test_chunked_spelt_other_than_bare_is_400)
{
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked ", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked,", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: , chunked", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.1", "Host: x\nTransfer-Encoding: chunked;a=b", 400, "invalidRequestFraming");
}
END_TEST

START_TEST(test_transfer_encoding_on_http10_is_400)
{
    REFUSED("HTTP/1.0", "Transfer-Encoding: chunked", 400, "invalidRequestFraming");
    REFUSED("HTTP/1.0", "Host: x\nTransfer-Encoding: chunked", 400, "invalidRequestFraming");
}
END_TEST

START_TEST(test_host_missing_on_http11_repeated_or_malformed_is_400)
{
    static const char *const bad[] = {
        "Host: a b", "Host: x/y",     "Host: u@h",    "Host: [::1", "Host: h:8x",
        "Host: ::1", "Host: h:80:90", "Host: [::1]x", "Host: h?",   "Host: a\tb",
    };

    REFUSED("HTTP/1.1", "Accept: */*", 400, "invalidHost");
    REFUSED("HTTP/1.1", "", 400, "invalidHost");
    REFUSED("HTTP/1.1", "Host: x\nHost: x", 400, "invalidHost");
    REFUSED("HTTP/1.0", "Host: x\nhost: y", 400, "invalidHost");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct api_framing_verdict v = check("HTTP/1.1", bad[i]);

        ck_assert_msg(v.status == 400, "%s: %d", bad[i], v.status);
        ck_assert_str_eq(v.reason, "invalidHost");
    }
}
END_TEST

START_TEST(test_encoded_nul_or_slash_in_the_path_is_400)
{
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces/%00"), 400, "invalidPath");
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces%2fx"), 400, "invalidPath");
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces%2Fx"), 400, "invalidPath");
    ASSERT_VERDICT(api_framing_check_target("/api%2F..%2Fv1"), 400, "invalidPath");
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces/%00?a=b"), 400, "invalidPath");
    ASSERT_VERDICT(api_framing_check_target("/a#%00"), 400, "invalidPath"); /* no fragment */
}
END_TEST

START_TEST(test_a_space_or_control_byte_anywhere_in_the_target_is_400)
{
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces HTTP/1.1"), 400,
                   "invalidRequestTarget");
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces?filter=a\tb"), 400,
                   "invalidRequestTarget");
    ASSERT_VERDICT(api_framing_check_target("/api/v1/co\rSpaces"), 400, "invalidRequestTarget");
    ASSERT_VERDICT(api_framing_check_target("/a?b=\x01"), 400, "invalidRequestTarget");
    ASSERT_VERDICT(api_framing_check_target("/a\x7f"), 400, "invalidRequestTarget");
    /* raw UTF-8 is left to the router and the form parser */
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces?filter=caf\xc3\xa9"), 0, NULL);
}
END_TEST

START_TEST(test_other_targets_and_the_query_are_left_alone)
{
    ASSERT_VERDICT(api_framing_check_target(NULL), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces?filter=a%2fb%00"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/api/v1/coSpaces/%252f"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/api/v1/%2e%2e/%20x%2"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/a%0"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/a%"), 0, NULL);
    ASSERT_VERDICT(api_framing_check_target("/a%01%2e%f2"), 0, NULL);
}
END_TEST

Suite *api_framing_suite(void)
{
    Suite *s = suite_create("api_framing");
    TCase *tc = tcase_create("headers");
    TCase *tt = tcase_create("target");

    tcase_add_test(tc, test_what_curl_newman_and_ansible_send_is_accepted);
    tcase_add_test(tc, test_host_forms_of_every_client_are_accepted);
    tcase_add_test(tc, test_content_length_with_transfer_encoding_is_400_in_either_order);
    tcase_add_test(tc, test_repeated_conflicting_or_invalid_content_length_is_400);
    tcase_add_test(tc, test_repeated_transfer_encoding_is_400);
    tcase_add_test(tc, test_whitespace_before_the_colon_is_400_before_anything_else);
    tcase_add_test(tc, test_a_name_that_is_not_a_token_or_a_bare_cr_is_400);
    tcase_add_test(tc, test_a_folded_line_is_400_whatever_it_became);
    tcase_add_test(tc, test_chunked_not_final_is_400);
    tcase_add_test(tc, test_another_coding_before_the_final_chunked_is_501);
    tcase_add_test(tc, test_chunked_twice_is_400);
    tcase_add_test(tc, test_malformed_coding_lists_are_400);
    tcase_add_test(tc, test_chunked_spelt_other_than_bare_is_400);
    tcase_add_test(tc, test_transfer_encoding_on_http10_is_400);
    tcase_add_test(tc, test_host_missing_on_http11_repeated_or_malformed_is_400);
    suite_add_tcase(s, tc);
    tcase_add_test(tt, test_encoded_nul_or_slash_in_the_path_is_400);
    tcase_add_test(tt, test_a_space_or_control_byte_anywhere_in_the_target_is_400);
    tcase_add_test(tt, test_other_targets_and_the_query_are_left_alone);
    suite_add_tcase(s, tt);
    return s;
}
