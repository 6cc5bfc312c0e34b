/* tests/test_turn_cred.c: long-term keys (with SASLprep), USERHASH and TURN REST credentials,
 * against the RFC vectors and values computed independently (Python's hashlib and hmac). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/suites.h"
#include "turnclient/cred.h"
#include "turnclient/stun.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        (void)snprintf(out + 2 * i, 3, "%02x", b[i]);
}

#define MATRIX_USER "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
/* "The<U+00AD>M<U+00AA>tr<U+2168>": SASLprep drops the soft hyphen and maps by NFKC */
#define MATRIX_PASSWORD                                                                            \
    "The\xc2\xad"                                                                                  \
    "M\xc2\xaa"                                                                                    \
    "tr\xe2\x85\xa8"

START_TEST(test_long_term_keys)
{
    uint8_t key[TURN_KEY_MAX];
    char text[2 * TURN_KEY_MAX + 1];

    ck_assert_int_eq(turn_cred_long_term_key("user", (const uint8_t *)"realm", 5, "pass",
                                             STUN_PASSWORD_ALGORITHM_MD5, key),
                     16);
    hex(key, 16, text);
    ck_assert_str_eq(text, "8493fbc53ba582fb4c044c456bdc40eb"); /* RFC 8489 §9.2.2 */
    ck_assert_int_eq(turn_cred_long_term_key("alice", (const uint8_t *)"test.local", 10, "secret",
                                             STUN_PASSWORD_ALGORITHM_MD5, key),
                     16);
    hex(key, 16, text);
    ck_assert_str_eq(text, "b0a2c476b89d2f9085dd463430f4617c");
    ck_assert_int_eq(turn_cred_long_term_key(MATRIX_USER, (const uint8_t *)"example.org", 11,
                                             MATRIX_PASSWORD, STUN_PASSWORD_ALGORITHM_MD5, key),
                     16);
    hex(key, 16, text);
    ck_assert_str_eq(text, "e8ca7ad59d5eb0518e312911d2dab2a9"); /* RFC 5769 §2.4 */
    ck_assert_int_eq(turn_cred_long_term_key(MATRIX_USER, (const uint8_t *)"example.org", 11,
                                             MATRIX_PASSWORD, STUN_PASSWORD_ALGORITHM_SHA256, key),
                     32);
    hex(key, 32, text);
    ck_assert_str_eq(text, "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
    ck_assert_int_eq(turn_cred_long_term_key("a", (const uint8_t *)"r", 1, "p", 7, key), -EINVAL);
    /* SASLprep refuses prohibited characters (here a control character) */
    ck_assert_int_eq(turn_cred_long_term_key("a", (const uint8_t *)"r", 1, "p\x07q",
                                             STUN_PASSWORD_ALGORITHM_MD5, key),
                     -EINVAL);
}
END_TEST

START_TEST(test_rfc5769_long_term_vector_from_the_password)
{
    static const uint8_t vector[] = {
        0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
        0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
        0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
        0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
        0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
        0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
        0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
        0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66};
    uint8_t key[TURN_KEY_MAX];
    struct stun_msg m;

    ck_assert_int_eq(stun_decode_datagram(vector, sizeof(vector), &m), 0);
    ck_assert_int_eq(turn_cred_long_term_key(MATRIX_USER, m.realm.ptr, m.realm.len, MATRIX_PASSWORD,
                                             STUN_PASSWORD_ALGORITHM_MD5, key),
                     16);
    ck_assert_int_eq(stun_check_integrity(&m, key, 16), 0);
    ck_assert_int_eq(turn_cred_long_term_key(MATRIX_USER, m.realm.ptr, m.realm.len, "TheMatrix",
                                             STUN_PASSWORD_ALGORITHM_MD5, key),
                     16);
    ck_assert_int_eq(stun_check_integrity(&m, key, 16), -EBADMSG);
}
END_TEST

START_TEST(test_userhash)
{
    uint8_t h[32];
    char text[65];

    ck_assert_int_eq(turn_cred_userhash(MATRIX_USER, (const uint8_t *)"example.org", 11, h), 0);
    hex(h, 32, text);
    ck_assert_str_eq(text, "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
}
END_TEST

START_TEST(test_rest_credentials)
{
    char user[64], pass[32];

    ck_assert_int_eq(
        turn_cred_rest("north-shared-secret", "alice", 1700000000, user, sizeof(user), pass), 0);
    ck_assert_str_eq(user, "1700000000:alice");
    ck_assert_str_eq(pass, "3ZljcD2lKzcR4TW2/DuxcJI1SY4="); /* Python hmac/hashlib/base64 */
    ck_assert_int_eq(turn_cred_rest("s", "a-rather-long-user-name", 1700000000, user, 12, pass),
                     -ENOSPC);
}
END_TEST

Suite *turn_cred_suite(void)
{
    Suite *s = suite_create("turn_cred");
    TCase *tc = tcase_create("cred");

    tcase_add_test(tc, test_long_term_keys);
    tcase_add_test(tc, test_rfc5769_long_term_vector_from_the_password);
    tcase_add_test(tc, test_userhash);
    tcase_add_test(tc, test_rest_credentials);
    suite_add_tcase(s, tc);
    return s;
}
