/* tests/test_api_crypto.c: sealed secrets, password hashes, Basic auth and the certificate. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "api/http/auth.h"
#include "api/secret.h"
#include "api/http/tls.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static char dir[64];

static void setup(void)
{
    th_tmpdir(dir);
}

static void teardown(void)
{
    th_rmdir(dir);
}

START_TEST(test_secret_round_trip_and_binding)
{
    struct api_secret s, again;
    unsigned char blob[128];
    char path[128], out[64];
    struct stat sb;
    long n;

    (void)snprintf(path, sizeof(path), "%s/secret.key", dir);
    ck_assert_int_eq(api_secret_load(path, &s), -ENOENT); /* never made behind one's back */
    ck_assert_int_eq(api_secret_create(path, &s), 0);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(api_secret_load(path, &again), 0); /* same key on the next start */
    ck_assert_int_eq(memcmp(s.key, again.key, sizeof(s.key)), 0);

    n = api_secret_seal(&s, "id1/password", "turn-pass", 9, blob, sizeof(blob));
    ck_assert_int_eq(n, 9 + API_SECRET_OVERHEAD);
    ck_assert_ptr_null(memmem(blob, (size_t)n, "turn-pass", 9)); /* not in clear */
    ck_assert_int_eq(api_secret_open(&s, "id1/password", blob, (size_t)n, out, sizeof(out)), 9);
    ck_assert_str_eq(out, "turn-pass");
    ck_assert_int_eq(api_secret_open(&s, "id2/password", blob, (size_t)n, out, sizeof(out)),
                     -EBADMSG);
    blob[20] ^= 1;
    ck_assert_int_eq(api_secret_open(&s, "id1/password", blob, (size_t)n, out, sizeof(out)),
                     -EBADMSG);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(api_secret_load(path, &again), -EPERM);
}
END_TEST

START_TEST(test_secret_check_value_tells_keys_apart)
{
    struct api_secret a, b;
    unsigned char blob[128];
    char path[128];
    long n;

    (void)snprintf(path, sizeof(path), "%s/a.key", dir);
    ck_assert_int_eq(api_secret_create(path, &a), 0);
    (void)snprintf(path, sizeof(path), "%s/b.key", dir);
    ck_assert_int_eq(api_secret_create(path, &b), 0);
    n = api_secret_check_make(&a, blob, sizeof(blob));
    ck_assert_int_gt(n, 0);
    ck_assert(api_secret_check_matches(&a, blob, (size_t)n));
    ck_assert(!api_secret_check_matches(&b, blob, (size_t)n));
    ck_assert(!api_secret_check_matches(&a, blob, (size_t)n - 1));
}
END_TEST

START_TEST(test_password_hash_verify)
{
    char h1[STORE_HASH_MAX + 1], h2[STORE_HASH_MAX + 1];

    ck_assert_int_eq(api_auth_hash("correct horse", h1), 0);
    ck_assert_int_eq(api_auth_hash("correct horse", h2), 0);
    ck_assert_str_ne(h1, h2); /* salted */
    ck_assert_ptr_null(strstr(h1, "correct"));
    ck_assert_int_eq(api_auth_verify("correct horse", h1), 0);
    ck_assert_int_eq(api_auth_verify("correct horsE", h1), -EACCES);
    ck_assert_int_eq(api_auth_verify("x", "md5$abc"), -EINVAL);
}
END_TEST

START_TEST(test_basic_header_parsing)
{
    char user[STORE_USER_NAME_MAX + 1], pass[API_PASSWORD_MAX + 1];

    ck_assert_int_eq(api_auth_parse_basic("Basic YWRtaW46c2VjcmV0", user, pass), 0);
    ck_assert_str_eq(user, "admin");
    ck_assert_str_eq(pass, "secret");
    ck_assert_int_eq(api_auth_parse_basic("basicYWRtaW46czpl", user, pass), 0); /* bitfocus */
    ck_assert_str_eq(pass, "s:e");
    ck_assert_int_eq(api_auth_parse_basic("Bearer YWRtaW46c2VjcmV0", user, pass), -EINVAL);
    ck_assert_int_eq(api_auth_parse_basic("Basic bm9jb2xvbg==", user, pass), -EINVAL);
    ck_assert_int_eq(api_auth_parse_basic("Basic !!!!", user, pass), -EINVAL);
    ck_assert_int_eq(api_auth_parse_basic("Basic ", user, pass), -EINVAL);
}
END_TEST

START_TEST(test_auth_check_and_cache)
{
    char path[128], hash[STORE_HASH_MAX + 1], user[STORE_USER_NAME_MAX + 1] = "";
    struct api_auth *a;
    struct store *st;

    (void)snprintf(path, sizeof(path), "%s/a.db", dir);
    ck_assert_int_eq(store_open(path, &st), 0);
    ck_assert_int_eq(api_auth_hash("secret", hash), 0);
    ck_assert_int_eq(store_user_add(st, "admin", hash), 0);
    ck_assert_int_eq(api_auth_new(&a), 0);
    ck_assert_int_eq(api_auth_check(a, st, NULL, user), -EACCES);
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46d3Jvbmc=", user), -EACCES);
    ck_assert_int_eq(api_auth_check(a, st, "Basic Ym9iOnNlY3JldA==", user), -EACCES); /* bob */
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46c2VjcmV0", user), 0);
    ck_assert_str_eq(user, "admin");
    /* cached: still accepted without consulting the users table */
    ck_assert_int_eq(store_user_delete(st, "admin"), 0);
    user[0] = '\0';
    ck_assert_int_eq(api_auth_check(a, st, "Basic YWRtaW46c2VjcmV0", user), 0);
    ck_assert_str_eq(user, "admin");
    /* a different header is not served from the cache */
    ck_assert_int_eq(api_auth_check(a, st, "Basic  YWRtaW46c2VjcmV0", user), -EACCES);
    api_auth_free(a);
    store_close(st);
}
END_TEST

START_TEST(test_selfsigned_certificate)
{
    char cert[128], key[128];
    ASN1_OCTET_STRING *ip;
    struct stat sb;
    X509 *x;
    FILE *f;

    (void)snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    (void)snprintf(key, sizeof(key), "%s/key.pem", dir);
    ck_assert_int_eq(api_tls_make_selfsigned("cb.example.com", cert, key), 0);
    ck_assert_int_eq(stat(key, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    f = fopen(cert, "r");
    ck_assert_ptr_nonnull(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_check_host(x, "cb.example.com", 0, 0, NULL), 1);
    ck_assert_int_eq(X509_check_host(x, "other.example.com", 0, 0, NULL), 0);
    ck_assert_int_eq(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    ip = a2i_IPADDRESS("10.0.0.1");
    ck_assert_int_eq(X509_check_ip(x, ASN1_STRING_get0_data(ip), 4, 0), 0);
    ASN1_OCTET_STRING_free(ip);
    X509_free(x);
}
END_TEST

Suite *api_crypto_suite(void)
{
    Suite *s = suite_create("api_crypto");
    TCase *tc = tcase_create("crypto");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_secret_round_trip_and_binding);
    tcase_add_test(tc, test_secret_check_value_tells_keys_apart);
    tcase_add_test(tc, test_password_hash_verify);
    tcase_add_test(tc, test_basic_header_parsing);
    tcase_add_test(tc, test_auth_check_and_cache);
    tcase_add_test(tc, test_selfsigned_certificate);
    suite_add_tcase(s, tc);
    return s;
}
