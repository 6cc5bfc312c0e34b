/* tests/test_api_config.c: flags, the config file, and their precedence. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "api/datadir.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static int parse(struct api_config *c, const char *const *args)
{
    char *argv[16] = {(char *)(uintptr_t) "callbridged"};
    int argc = 1;

    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc - 1];
    return api_config_parse(c, argc, argv);
}

START_TEST(test_defaults)
{
    struct api_config c;
    const char *args[] = {NULL};

    ck_assert_int_eq(parse(&c, args), 0);
    ck_assert_uint_eq(c.nports, 1);
    ck_assert_uint_eq(c.ports[0], 8443);
    ck_assert_str_eq(c.bind, "0.0.0.0");
    ck_assert_int_eq(c.log_level, BASE_LOG_INFO);
    ck_assert_uint_eq(c.nargs, 0);
    ck_assert_uint_eq(c.max_objects[API_CAP_COSPACES], 1000000);
    ck_assert_uint_eq(c.max_objects[API_CAP_INBOUND_RULES], 100000);
    ck_assert_uint_eq(c.max_objects[API_CAP_TURN_SERVERS], 10000);
}
END_TEST

START_TEST(test_flags_both_forms)
{
    struct api_config c;
    const char *args[] = {"--listen",
                          "445,8443",
                          "--bind=::1",
                          "--data-dir",
                          "/tmp/x",
                          "--log-level=DEBUG",
                          "user",
                          "list",
                          "--max-cospaces",
                          "5",
                          "--max-turn-servers=0",
                          NULL};

    ck_assert_int_eq(parse(&c, args), 0);
    ck_assert_uint_eq(c.nports, 2);
    ck_assert_uint_eq(c.ports[0], 445);
    ck_assert_uint_eq(c.ports[1], 8443);
    ck_assert_str_eq(c.bind, "::1");
    ck_assert_str_eq(c.data_dir, "/tmp/x");
    ck_assert_int_eq(c.log_level, BASE_LOG_DEBUG);
    ck_assert_uint_eq(c.nargs, 2);
    ck_assert_str_eq(c.args[0], "user");
    ck_assert_uint_eq(c.max_objects[API_CAP_COSPACES], 5);
    ck_assert_uint_eq(c.max_objects[API_CAP_TURN_SERVERS], 0); /* no cap */
}
END_TEST

/* --host-candidate ADDR binds and offers ADDR; ADDR=PUBLIC binds ADDR (any, behind a 1:1 NAT)
 * and offers PUBLIC. */
START_TEST(test_host_candidate_addresses)
{
    struct sockaddr_storage b, p;
    char text[INET6_ADDRSTRLEN];

    ck_assert_int_eq(api_config_host_candidate("192.0.2.7", &b, &p), 0);
    ck_assert_int_eq(b.ss_family, AF_INET);
    ck_assert_str_eq(inet_ntop(AF_INET, &((struct sockaddr_in *)&p)->sin_addr, text, sizeof(text)),
                     "192.0.2.7");
    ck_assert_int_eq(((struct sockaddr_in *)&b)->sin_port, 0); /* the kernel picks, per leg */
    ck_assert_int_eq(api_config_host_candidate("0.0.0.0=203.0.113.9", &b, &p), 0);
    ck_assert_str_eq(inet_ntop(AF_INET, &((struct sockaddr_in *)&b)->sin_addr, text, sizeof(text)),
                     "0.0.0.0");
    ck_assert_str_eq(inet_ntop(AF_INET, &((struct sockaddr_in *)&p)->sin_addr, text, sizeof(text)),
                     "203.0.113.9");
    ck_assert_int_eq(api_config_host_candidate("::=2001:db8::5", &b, &p), 0);
    ck_assert_int_eq(p.ss_family, AF_INET6);
    ck_assert_str_eq(
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&p)->sin6_addr, text, sizeof(text)),
        "2001:db8::5");
}
END_TEST

START_TEST(test_bad_values_refused)
{
    static const char *const bad[][3] = {{"--listen", "70000", NULL},
                                         {"--listen", "8443,8443", NULL},
                                         {"--listen", "", NULL},
                                         {"--bind", "example.com", NULL},
                                         {"--log-level", "loud", NULL},
                                         {"--threads", "0", NULL},
                                         {"--nonsense", "1", NULL},
                                         {"--listen", NULL, NULL},
                                         {"--max-cospaces", "-1", NULL},
                                         {"--max-tenants", "x", NULL},
                                         /* a browser cannot send to 0.0.0.0; a relay reaches one
                                          * family; names are not resolved */
                                         {"--host-candidate", "0.0.0.0", NULL},
                                         {"--host-candidate", "10.0.0.1=0.0.0.0", NULL},
                                         {"--host-candidate", "0.0.0.0=2001:db8::1", NULL},
                                         {"--host-candidate", "host", NULL},
                                         {"--host-candidate", "10.0.0.1=", NULL}};
    struct api_config c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(&c, bad[i]) == -EINVAL, "accepted %s %s", bad[i][0],
                      bad[i][1] ? bad[i][1] : "");
}
END_TEST

START_TEST(test_config_file_and_precedence)
{
    char dir[64], path[128];
    struct api_config c;
    FILE *f;

    th_tmpdir(dir);
    (void)snprintf(path, sizeof(path), "%s/callbridge.conf", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# callbridge\n[callbridged]\nlisten = 445, 8443\n  bind=127.0.0.1\n"
          "; comment\nlog-level = warn\n\n",
          f);
    fclose(f);
    {
        const char *args[] = {"--config", path, "--log-level", "error", NULL};

        ck_assert_int_eq(parse(&c, args), 0);
    }
    ck_assert_uint_eq(c.nports, 2);
    ck_assert_uint_eq(c.ports[1], 8443);
    ck_assert_str_eq(c.bind, "127.0.0.1");
    ck_assert_int_eq(c.log_level, BASE_LOG_ERR); /* the flag wins over the file */

    f = fopen(path, "w");
    fputs("listen = 8443\nfrobnicate = yes\n", f);
    fclose(f);
    {
        const char *args[] = {"--config", path, NULL};

        ck_assert_int_eq(parse(&c, args), -EINVAL);
    }
    th_rmdir(dir);
}
END_TEST

START_TEST(test_database_option)
{
    struct api_config c;
    struct api_paths p;
    const char *none[] = {"--data-dir", "/srv/cb", NULL};
    const char *url[] = {"--data-dir", "/srv/cb", "--database",
                         "postgresql://cb:s3cret@db.example.com/cb", NULL};
    const char *empty[] = {"--database=", NULL};

    ck_assert_int_eq(parse(&c, none), 0);
    ck_assert_str_eq(c.database, "");
    ck_assert_int_eq(api_paths_make(&c, &p), 0);
    ck_assert_str_eq(p.db, "/srv/cb/callbridge.db");
    ck_assert_str_eq(p.db_shown, "/srv/cb/callbridge.db");
    ck_assert_int_eq(parse(&c, url), 0);
    ck_assert_int_eq(api_paths_make(&c, &p), 0);
    ck_assert_str_eq(p.db, "postgresql://cb:s3cret@db.example.com/cb");
    ck_assert_str_eq(p.db_shown, "postgresql://cb:***@db.example.com/cb");
    ck_assert_str_eq(p.secret, "/srv/cb/secret.key"); /* the key stays in the data directory */
    ck_assert_str_eq(p.lock, "/srv/cb/callbridged.lock");
    ck_assert_int_eq(api_config_set(&c, "database", "/elsewhere/cb.db"), 0);
    ck_assert_str_eq(c.database, "/elsewhere/cb.db");
    ck_assert_int_eq(parse(&c, empty), -EINVAL);
}
END_TEST

START_TEST(test_database_shown_without_password)
{
    static const char *const cases[][2] = {
        {"postgresql://cb:pw@h:5432/cb?sslmode=require",
         "postgresql://cb:***@h:5432/cb?sslmode=require"},
        {"postgres://cb@h/cb", "postgres://cb@h/cb"},
        /* libpq takes a password among the URL's parameters too */
        {"postgresql://h/cb?password=x", "postgresql://h/cb?password=***"},
        {"postgresql://cb@h/cb?sslmode=require&password=s3&x=1#f",
         "postgresql://cb@h/cb?sslmode=require&password=***&x=1#f"},
        {"postgresql://h/cb?xpassword=1", "postgresql://h/cb?xpassword=1"},
        {"postgresql://a:b:c@h/d@e", "postgresql://a:***@h/d@e"},
        {"host=h dbname=cb password=pw user=cb", "host=h dbname=cb password=*** user=cb"},
        {"host=h password = 'p w\\' x' dbname=cb", "host=h password =*** dbname=cb"},
        {"dbname=cb passwordx=1", "dbname=cb passwordx=1"},
        {"/var/lib/callbridge/callbridge.db", "/var/lib/callbridge/callbridge.db"},
    };
    char out[128], tiny[8];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        api_datadir_location_shown(cases[i][0], out, sizeof(out));
        ck_assert_str_eq(out, cases[i][1]);
    }
    api_datadir_location_shown("postgresql://cb:pw@h/cb", tiny, sizeof(tiny));
    ck_assert_str_eq(tiny, "postgre"); /* cut, never past cap */
}
END_TEST

Suite *api_config_suite(void)
{
    Suite *s = suite_create("api_config");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_flags_both_forms);
    tcase_add_test(tc, test_host_candidate_addresses);
    tcase_add_test(tc, test_bad_values_refused);
    tcase_add_test(tc, test_config_file_and_precedence);
    tcase_add_test(tc, test_database_option);
    tcase_add_test(tc, test_database_shown_without_password);
    suite_add_tcase(s, tc);
    return s;
}
