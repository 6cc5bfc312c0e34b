/* tests/test_api_form.c: the form/query parser. */
#include <errno.h>
#include <string.h>

#include "api/form.h"
#include "tests/suites.h"

static struct api_params p;

static void teardown(void)
{
    api_params_done(&p);
}

static int parse(const char *s)
{
    return api_params_parse(&p, s, strlen(s));
}

START_TEST(test_decodes_plus_and_percent)
{
    ck_assert_int_eq(parse("serverAddress=turn.example.com%3A3478&username=a+b%21&x"), 0);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_str_eq(api_params_get(&p, "serverAddress"), "turn.example.com:3478");
    ck_assert_str_eq(api_params_get(&p, "username"), "a b!");
    ck_assert_str_eq(api_params_get(&p, "x"), "");
}
END_TEST

START_TEST(test_names_match_any_case_last_wins)
{
    ck_assert_int_eq(parse("resolveToCoSpaces=true&RESOLVETOCOSPACES=false"), 0);
    ck_assert_str_eq(api_params_get(&p, "resolveTocoSpaces"), "false");
    ck_assert_ptr_null(api_params_get(&p, "missing"));
}
END_TEST

START_TEST(test_empty_body_and_empty_pairs)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_int_eq(parse("&&a=1&&"), 0);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_str_eq(api_params_get(&p, "a"), "1");
}
END_TEST

START_TEST(test_bad_escape_names_parameter)
{
    ck_assert_int_eq(parse("a=1&password=%zz"), -EINVAL);
    ck_assert_str_eq(p.bad, "password");
    api_params_done(&p);
    ck_assert_int_eq(parse("type=%4"), -EINVAL);
    ck_assert_str_eq(p.bad, "type");
}
END_TEST

START_TEST(test_nul_and_invalid_utf8_refused)
{
    ck_assert_int_eq(parse("username=ab%00cd"), -EINVAL);
    ck_assert_str_eq(p.bad, "username");
    api_params_done(&p);
    ck_assert_int_eq(parse("username=%C0%AF"), -EINVAL); /* overlong '/' */
    api_params_done(&p);
    ck_assert_int_eq(parse("username=%ED%A0%80"), -EINVAL); /* surrogate */
    api_params_done(&p);
    ck_assert_int_eq(parse("name=J%C3%BCrgen%20%E2%82%AC"), 0);
    ck_assert_str_eq(api_params_get(&p, "name"), "J\xc3\xbcrgen \xe2\x82\xac");
}
END_TEST

START_TEST(test_utf8_validator)
{
    ck_assert(api_is_utf8("plain", 5));
    ck_assert(api_is_utf8("\xf0\x9f\x98\x80", 4));
    ck_assert(!api_is_utf8("\xf0\x9f\x98", 3));
    ck_assert(!api_is_utf8("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    ck_assert(!api_is_utf8("\xff", 1));
}
END_TEST

START_TEST(test_many_parameters)
{
    char buf[8 * 2000 + 8] = "";

    for (int i = 0; i < API_PARAMS_MAX / 2; i++) /* up to the cap: the list grows as needed */
        strcat(buf, "a=1&b=2&");
    ck_assert_int_eq(parse(buf), 0);
    ck_assert_uint_eq(p.n, API_PARAMS_MAX);
    api_params_done(&p);
    strcat(buf, "c=3"); /* one more is not a request any CMS client sends */
    ck_assert_int_eq(parse(buf), -E2BIG);
}
END_TEST

Suite *api_form_suite(void)
{
    Suite *s = suite_create("api_form");
    TCase *tc = tcase_create("parse");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_decodes_plus_and_percent);
    tcase_add_test(tc, test_names_match_any_case_last_wins);
    tcase_add_test(tc, test_empty_body_and_empty_pairs);
    tcase_add_test(tc, test_bad_escape_names_parameter);
    tcase_add_test(tc, test_nul_and_invalid_utf8_refused);
    tcase_add_test(tc, test_utf8_validator);
    tcase_add_test(tc, test_many_parameters);
    suite_add_tcase(s, tc);
    return s;
}
