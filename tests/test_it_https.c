/* tests/test_it_https.c: callbridged as a process, driven over HTTPS with libcurl through the
 * conformance checklist (reference/cms-api.md section 9) for authentication, conventions and
 * turnServers. One daemon serves the whole case; tests use their own objects and filters. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <sqlite3.h>

#include "api/http/auth.h"
#include "api/util.h"
#include "tests/helpers.h"
#include "tests/suites.h"

#define TS "/api/v1/turnServers"

static struct th_daemon d;

static void start(void)
{
    memset(&d, 0, sizeof(d));
    th_daemon_start(&d, "0", NULL);
}

static void stop(void)
{
    th_daemon_destroy(&d);
}

static void admin(const char *method, const char *path, const char *body, struct th_resp *r)
{
    th_admin(&d, method, path, body, r);
}

/* POSTs and returns the new id (static buffer). */
static const char *create(const char *form)
{
    static char id[40];
    struct th_resp r;

    admin("POST", TS, form, &r);
    ck_assert_int_eq(r.status, 200);
    (void)snprintf(id, sizeof(id), "%s", th_location_id(&r));
    th_resp_free(&r);
    return id;
}

START_TEST(test_401_challenge_and_wrong_password)
{
    struct th_resp r;

    th_http(&d, d.ports[0], "GET", TS, NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.www_auth, "Basic realm=\"callbridge\"");
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", TS, "admin", "wrong", NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.www_auth, "Basic realm=\"callbridge\"");
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", TS, "nobody", d.password, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_valid_credentials_xml_answer)
{
    struct th_resp r;

    admin("GET", TS, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/xml");
    ck_assert_int_eq(strncmp(r.body, "<?xml version=\"1.0\"?><turnServers total=\"", 41), 0);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_basic_without_space_accepted)
{
    char cred[128], b64[200], header[256];
    const char *headers[2] = {header, NULL};
    struct th_resp r;

    (void)snprintf(cred, sizeof(cred), "admin:%s", d.password);
    api_b64_encode((const unsigned char *)cred, strlen(cred), b64);
    (void)snprintf(header, sizeof(header), "Authorization: Basic%s", b64);
    th_http(&d, d.ports[0], "GET", "/api/v1/system/status", NULL, NULL, headers, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<softwareVersion>"));
    th_resp_free(&r);
}
END_TEST

START_TEST(test_post_200_location_and_get)
{
    char path[128];
    const char *id;
    struct th_resp r;
    size_t n;

    admin("POST", TS,
          "serverAddress=127.0.0.10&clientAddress=turn.example.com&username=u&password=Tp4ss"
          "&type=cms",
          &r);
    ck_assert_int_eq(r.status, 200); /* never 201 */
    ck_assert_str_eq(r.body, "");
    n = strlen(r.location);
    ck_assert_uint_eq(n, strlen(TS "/") + 36);
    ck_assert_int_eq(strncmp(r.location, TS "/", strlen(TS "/")), 0);
    for (size_t i = n - 36; i < n; i++) /* lowercase GUID, nothing after it */
        ck_assert(strchr("0123456789abcdef-", r.location[i]));
    id = th_location_id(&r);
    (void)snprintf(path, sizeof(path), TS "/%s", id);
    th_resp_free(&r);
    admin("GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<serverAddress>127.0.0.10</serverAddress>"
                                         "<clientAddress>turn.example.com</clientAddress>"
                                         "<username>u</username><numRegistrations>0"
                                         "</numRegistrations><type>cms</type>"));
    ck_assert_ptr_null(strstr(r.body, "password"));
    ck_assert_ptr_null(strstr(r.body, "Tp4ss"));
    th_resp_free(&r);
    admin("GET", TS "?filter=127.0.0.10", NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "<turnServers total=\"1\"><turnServer id=\""));
    ck_assert_ptr_nonnull(strstr(r.body, "<serverAddress>127.0.0.10</serverAddress>"
                                         "<clientAddress>turn.example.com</clientAddress>"
                                         "</turnServer></turnServers>"));
    th_resp_free(&r);
}
END_TEST

START_TEST(test_post_empty_body_no_content_type)
{
    const char *headers[] = {"Content-Type:", NULL}; /* curl: send no Content-Type at all */
    struct th_resp r;

    th_http(&d, d.ports[0], "POST", TS, "admin", d.password, headers, "", 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(strlen(th_location_id(&r)), 36);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_form_parsed_whatever_content_type)
{
    const char *headers[] = {"Content-Type: application/json", NULL};
    const char *body = "serverAddress=json-labelled.example.invalid";
    struct th_resp r;

    th_http(&d, d.ports[0], "POST", TS, "admin", d.password, headers, body, strlen(body), &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    admin("GET", TS "?filter=json-labelled", NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "total=\"1\""));
    th_resp_free(&r);
}
END_TEST

START_TEST(test_put_delete_with_form_content_type_and_empty_body)
{
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char path[128];
    struct th_resp r;

    (void)snprintf(path, sizeof(path), TS "/%s", create("serverAddress=put-del.example.invalid"));
    th_http(&d, d.ports[0], "GET", path, "admin", d.password, headers, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    admin("PUT", path, "clientAddress=client.example.com", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    admin("GET", path, NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "<serverAddress>put-del.example.invalid</serverAddress>"
                                         "<clientAddress>client.example.com</clientAddress>"));
    th_resp_free(&r);
    th_http(&d, d.ports[0], "DELETE", path, "admin", d.password, headers, "", 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    admin("GET", path, NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><turnServerDoesNotExist />"
                             "</failureDetails>");
    th_resp_free(&r);
}
END_TEST

START_TEST(test_url_conventions)
{
    static const char *const ok[] = {TS "?", "/API/V1/TURNSERVERS", "/api/v1/turnservers/",
                                     TS "/?offset=0", TS "?FILTER=&Limit=5"};
    struct th_resp r;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        admin("GET", ok[i], NULL, &r);
        ck_assert_msg(r.status == 200, "%s: %ld", ok[i], r.status);
        ck_assert_ptr_nonnull(strstr(r.body, "<turnServers total="));
        th_resp_free(&r);
    }
    admin("GET", TS "/%7B%7BturnServerID%7D%7D", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><turnServerDoesNotExist />"
                             "</failureDetails>");
    th_resp_free(&r);
    admin("GET", "/api/v1/system/profile", NULL, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><unrecognizedObject />"
                             "</failureDetails>");
    th_resp_free(&r);
    admin("PATCH", TS, NULL, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_str_eq(r.allow, "GET, POST");
    th_resp_free(&r);
}
END_TEST

START_TEST(test_bad_input_400_and_still_serving)
{
    struct th_resp r;

    admin("POST", TS, "serverAddress=%zz", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><parameterError "
                             "parameter=\"serverAddress\" error=\"invalidValue\" />"
                             "</failureDetails>");
    th_resp_free(&r);
    admin("GET", TS "?limit=%FF", NULL, &r); /* invalid UTF-8 in a query value */
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "parameter=\"limit\""));
    th_resp_free(&r);
    admin("POST", TS, "type=bogus", &r);
    ck_assert_int_eq(r.status, 400);
    th_resp_free(&r);
    admin("GET", "/api/v1/system/status", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_body_over_64k_is_413)
{
    size_t len = 70 * 1024;
    char *big = malloc(len + 1);
    struct th_resp r;

    memset(big, 'a', len);
    memcpy(big, "serverAddress=", 14);
    big[len] = '\0';
    admin("POST", TS, big, &r);
    ck_assert_int_eq(r.status, 413);
    th_resp_free(&r);
    free(big);
    admin("GET", TS "?filter=aaaaaaaaaaaaaaaa", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "total=\"0\""));
    th_resp_free(&r);
}
END_TEST

START_TEST(test_concurrent_puts_to_different_fields_all_land)
{
    static const char *const forms[] = {"username=cu",        "clientAddress=cc.example.com",
                                        "numRegistrations=7", "tcpPortNumberOverride=4443",
                                        "type=expressway",    "useShortTermCredentials=TRUE"};
    enum { N = sizeof(forms) / sizeof(forms[0]) };
    char path[128];
    struct th_resp r;
    pid_t pids[N];

    (void)snprintf(path, sizeof(path), TS "/%s", create("serverAddress=conc.example.invalid"));
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            admin("PUT", path, forms[i], &r);
            _exit(r.status == 200 ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status;

        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    admin("GET", path, NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "<serverAddress>conc.example.invalid</serverAddress>"
                                         "<clientAddress>cc.example.com</clientAddress>"
                                         "<username>cu</username><numRegistrations>7"
                                         "</numRegistrations><type>expressway</type>"
                                         "<tcpPortNumberOverride>4443</tcpPortNumberOverride>"
                                         "<useShortTermCredentials>true"));
    th_resp_free(&r);
}
END_TEST

/* PostgreSQL has no file lock to hold (its writers queue on row locks): what its users meet
 * instead is the server ending the daemon's sessions (a restart, a failover, an administrator's
 * pg_terminate_backend). Every request after it answers at once, 200 or 503 databaseNotReady,
 * and writes work again without a restart: the pool reconnects. */
static void sessions_ended_on_pg(void)
{
    int64_t ended = 0;
    int ok = 0;
    char form[64];
    struct th_resp r;

    create("serverAddress=ended-before.example.invalid"); /* the pool holds a session */
    ck_assert_int_eq(th_daemon_sql(&d,
                                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                                   &ended),
                     0);
    ck_assert_int_ge(ended, 1);
    for (int i = 0; i < 20 && ok < 3; i++) {
        (void)snprintf(form, sizeof(form), "serverAddress=ended-after-%d.example.invalid", i);
        admin("POST", TS, form, &r);
        if (r.status == 200) {
            ok++;
        } else {
            ck_assert_msg(r.status == 503, "POST after the sessions ended: %ld", r.status);
            ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><databaseNotReady />"
                                     "</failureDetails>");
        }
        th_resp_free(&r);
    }
    ck_assert_int_eq(ok, 3);
    admin("GET", TS "?filter=ended-", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "total=\"4\""), "%s", r.body);
    th_resp_free(&r);
}

START_TEST(test_locked_database_503_then_recovers)
{
    char path[160];
    struct th_resp r;
    sqlite3 *db;

    if (th_on_pg()) {
        sessions_ended_on_pg();
        return;
    }
    (void)snprintf(path, sizeof(path), "%s/callbridge.db", d.dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    admin("POST", TS, "serverAddress=locked.example.invalid", &r); /* waits the busy timeout */
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><databaseNotReady />"
                             "</failureDetails>");
    th_resp_free(&r);
    admin("GET", TS "?filter=locked.example.invalid", NULL, &r); /* readers are not blocked */
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "total=\"0\""));
    th_resp_free(&r);
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    admin("POST", TS, "serverAddress=locked.example.invalid", &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}
END_TEST

START_TEST(test_request_log_lines_without_secrets)
{
    struct th_resp r;

    admin("POST", TS, "serverAddress=log.example.invalid&password=TurnPw-in-log-test", &r);
    th_resp_free(&r);
    admin("GET", "/api/v1/system/status", NULL, &r);
    th_resp_free(&r);
    /* one line per request: method, path, status, microseconds, user, request id */
    ck_assert_uint_ge(th_log_count(&d, " info POST /api/v1/turnServers 200 "), 1);
    ck_assert_uint_ge(th_log_count(&d, " info GET /api/v1/system/status 200 "), 1);
    ck_assert_uint_ge(th_log_count(&d, "us user=admin id="), 2);
    ck_assert_uint_eq(th_log_count(&d, "TurnPw-in-log-test"), 0);
    ck_assert_uint_eq(th_log_count(&d, d.password), 0);
}
END_TEST

/* 16 hex digits: an id the daemon made */
static bool made_id(const char *id)
{
    return strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16;
}

/* The log line of a request, found by its id, ends with " id=<id>". */
static size_t logged_with(const char *id)
{
    char needle[128];

    snprintf(needle, sizeof(needle), " id=%s\n", id);
    return th_log_count(&d, needle);
}

START_TEST(test_request_id_in_header_and_log)
{
    static const char *const traced[] = {"X-Request-Id: trace-42.a:b_c", NULL};
    static const char *const spaced[] = {"X-Request-Id: two words", NULL};
    static const char *const long65[] = {
        "X-Request-Id: 12345678901234567890123456789012345678901234567890123456789012345", NULL};
    struct th_resp a, b, r;

    admin("GET", "/api/v1/system/status", NULL, &a);
    admin("GET", "/api/v1/system/status", NULL, &b);
    ck_assert_msg(made_id(a.request_id), "X-Request-Id '%s'", a.request_id);
    ck_assert_msg(made_id(b.request_id), "X-Request-Id '%s'", b.request_id);
    ck_assert_str_ne(a.request_id, b.request_id);
    ck_assert_uint_eq(logged_with(a.request_id), 1);
    ck_assert_uint_eq(logged_with(b.request_id), 1);
    th_resp_free(&a);
    th_resp_free(&b);

    /* a refused request has one too */
    th_http(&d, d.ports[0], "GET", TS, NULL, NULL, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert(made_id(r.request_id));
    ck_assert_uint_eq(logged_with(r.request_id), 1);
    th_resp_free(&r);

    /* a usable id from the client (a proxy, a tracing tool) is kept */
    th_http(&d, d.ports[0], "GET", TS, "admin", d.password, traced, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.request_id, "trace-42.a:b_c");
    ck_assert_uint_eq(logged_with("trace-42.a:b_c"), 1);
    th_resp_free(&r);

    /* one with a space, or longer than 64, is replaced rather than logged */
    th_http(&d, d.ports[0], "GET", TS, "admin", d.password, spaced, NULL, 0, &r);
    ck_assert(made_id(r.request_id));
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", TS, "admin", d.password, long65, NULL, 0, &r);
    ck_assert(made_id(r.request_id));
    th_resp_free(&r);
    ck_assert_uint_eq(th_log_count(&d, "two words"), 0);
    ck_assert_uint_eq(th_log_count(&d, "123456789012345678901234567890123456789012345678901"), 0);
}
END_TEST

/* Hostile or broken requests: each a clear 4xx, nothing stored, and the daemon serves on. */
START_TEST(test_hostile_input_4xx_and_still_serving)
{
    static char body[60000], header[220000], url[300000];
    const char *headers[] = {header, NULL};
    struct th_resp r;
    size_t o = 0;
    char *total_before;

    admin("GET", TS "?limit=1", NULL, &r);
    total_before = strndup(r.body, (size_t)(strstr(r.body, "\">") - r.body));
    th_resp_free(&r);
    for (int i = 0; i < 10000; i++) /* 10,000 parameters in 40 KB, under the body cap */
        o += (size_t)snprintf(body + o, sizeof(body) - o, "%sa=1", i ? "&" : "");
    admin("POST", TS, body, &r);
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><requestTooLarge />"
                             "</failureDetails>");
    th_resp_free(&r);
    {
        /* in the query: 201 or 2,000 arguments are 413, 10,000 (40 KB) and a 200 KB URI 414,
         * each answered at once (libmicrohttpd alone ran out of connection memory splitting
         * 600 or more, and its 431 never reached a TLS client) */
        static const struct {
            int args;
            size_t len;
            long status;
        } q[] = {{200, 0, 200},   {201, 0, 413},    {599, 0, 413},    {2000, 0, 413},
                 {10000, 0, 414}, {0, 200000, 414}, {199, 7000, 200}, {199, 8100, 414},
                 {-1, 9000, 414}}; /* -1: a 9 KB path, no query */

        for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
            o = (size_t)snprintf(url, sizeof(url), q[k].args < 0 ? TS "/" : TS "?");
            for (int i = 0; i < q[k].args; i++)
                o += (size_t)snprintf(url + o, sizeof(url) - o, "%sa=1", i ? "&" : "");
            memset(url + o, 'x', q[k].len);
            url[o + q[k].len] = '\0';
            admin("GET", url, NULL, &r);
            ck_assert_msg(r.status == q[k].status, "%d arguments, %zu more bytes: %ld", q[k].args,
                          q[k].len, r.status);
            th_resp_free(&r);
        }
    }
    admin("POST", TS, "serverAddress=a%00b", &r); /* a NUL byte */
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "parameter=\"serverAddress\""));
    th_resp_free(&r);
    admin("GET", TS "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", NULL, &r); /* an encoded slash: refused */
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "<invalidPath />"));
    th_resp_free(&r);
    admin("GET", "/api/v1/coSpaces?filter=%27%20OR%201%3D1%20--", NULL, &r); /* SQL in a filter */
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><coSpaces total=\"0\"/>");
    th_resp_free(&r);
    {
        static const char *const bad[][2] = {
            {TS "?limit=99999999999999999999", "limit"},
            {TS "?limit=-5", "limit"},
            {TS "?offset=-1", "offset"},
            {TS "?offset=1e3", "offset"},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char want[64];

            admin("GET", bad[i][0], NULL, &r);
            snprintf(want, sizeof(want), "parameter=\"%s\" error=\"invalidValue\"", bad[i][1]);
            ck_assert_msg(r.status == 400 && strstr(r.body, want), "%s: %ld %s", bad[i][0],
                          r.status, r.body);
            th_resp_free(&r);
        }
    }
    admin("POST", "/api/v1/inboundDialPlanRules",
          "domain=x.example.com&priority=9223372036854775808", &r); /* one past INT64_MAX */
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "parameter=\"priority\""));
    th_resp_free(&r);

    /* a 200 KB header: over the 32 KB of a connection, refused before any handler */
    memcpy(header, "X-Big: ", 7);
    memset(header + 7, 'a', 200000);
    header[200007] = '\0';
    th_http(&d, d.ports[0], "GET", "/api/v1/system/status", "admin", d.password, headers, NULL, 0,
            &r);
    ck_assert_int_eq(r.status, 431);
    th_resp_free(&r);

    admin("GET", "/api/v1/inboundDialPlanRules?filter=x.example.com", NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "total=\"0\"")); /* nothing was stored */
    th_resp_free(&r);
    admin("GET", TS "?limit=1", NULL, &r);
    ck_assert_int_eq(strncmp(r.body, total_before, strlen(total_before)), 0);
    th_resp_free(&r);
    free(total_before);
    admin("GET", "/api/v1/system/status", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
}
END_TEST

static double lingered(void)
{
    struct th_resp r;
    double v;

    admin("GET", "/metrics", NULL, &r);
    v = th_metric(r.body, "callbridge_http_lingering_closes_total", NULL);
    th_resp_free(&r);
    return v;
}

/* A client still sending after the server has answered and closed: a header over
 * libmicrohttpd's 32 KB of connection memory, then, once the 431 and the end of the connection
 * have arrived, 200 KB more, as a client sending a big header on a busy machine does (CI once
 * saw curl fail with "Failed sending data to the peer" that way). Each write succeeds and the
 * client reads its 431: the server drains what it sends rather than resetting it. */
START_TEST(test_lingering_close_client_reads_its_431)
{
    static char chunk[16384], in[4096];
    struct pollfd pfd = {.events = POLLRDHUP};
    double before = lingered(), after = before;
    struct th_tls t;
    size_t got = 0;
    int n;

    (void)signal(SIGPIPE, SIG_IGN); /* a reset shows as EPIPE */
    th_tls_open(&t, d.ports[0]);
    n = snprintf(chunk, sizeof(chunk), "GET /api/v1/system/status HTTP/1.1\r\nHost: x\r\n");
    ck_assert_int_eq(SSL_write(t.ssl, chunk, n), n);
    memset(chunk, 'a', sizeof(chunk));
    memcpy(chunk, "X-Big: ", 7);
    ck_assert_int_eq(SSL_write(t.ssl, chunk, sizeof(chunk)), (int)sizeof(chunk));
    memcpy(chunk, "aaaaaaa", 7);
    for (int i = 0; i < 2; i++) /* 48 KB of header so far, no end to it */
        ck_assert_int_eq(SSL_write(t.ssl, chunk, sizeof(chunk)), (int)sizeof(chunk));
    /* the server has answered and ended the connection (a FIN, or a reset without lingering) */
    pfd.fd = t.fd;
    ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
    for (int i = 0; i < 13; i++) {
        n = SSL_write(t.ssl, chunk, sizeof(chunk));
        ck_assert_msg(n == (int)sizeof(chunk), "write %d after the server closed: %d (%s)", i, n,
                      strerror(errno));
    }
    while (got < sizeof(in) - 1 && (n = SSL_read(t.ssl, in + got, (int)(sizeof(in) - 1 - got))) > 0)
        got += (size_t)n;
    in[got] = '\0';
    ck_assert_msg(strncmp(in, "HTTP/1.1 431 ", 13) == 0, "read: '%.60s'", in);
    th_tls_close(&t);
    /* counted by the lingering thread once it has drained something */
    for (int i = 0; i < 100 && after < before + 1; i++) {
        usleep(20 * 1000);
        after = lingered();
    }
    ck_assert_msg(after >= before + 1, "lingering closes: %g, then %g", before, after);
}
END_TEST

/* openssl s_client against the daemon with these options; true when the handshake completed
 * with the protocol expected. The client is told it may offer anything (SECLEVEL=0), so a
 * refusal is the server's. */
static bool handshake(const char *options, const char *protocol)
{
    char cmd[512], out[8192];
    size_t n;
    FILE *p;

    snprintf(cmd, sizeof(cmd),
             "echo | timeout 10 openssl s_client -connect 127.0.0.1:%u -brief %s 2>&1", d.ports[0],
             options);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    ck_assert_msg(!strstr(out, "no protocols available") && !strstr(out, "no ciphers available"),
                  "the client offered nothing: %s", out);
    return strstr(out, protocol) != NULL;
}

START_TEST(test_tls_versions_and_ciphers)
{
    ck_assert(handshake("-tls1_3", "Protocol version: TLSv1.3"));
    ck_assert(
        handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", "Protocol version: TLSv1.2"));
    ck_assert(
        handshake("-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305", "Protocol version: TLSv1.2"));
    /* refused: old protocols, CBC suites (SHA-1 and SHA-384 MACs) */
    ck_assert(!handshake("-tls1_1 -cipher DEFAULT@SECLEVEL=0", "Protocol version"));
    ck_assert(!handshake("-tls1 -cipher DEFAULT@SECLEVEL=0", "Protocol version"));
    ck_assert(!handshake("-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA@SECLEVEL=0", "Protocol version"));
    ck_assert(
        !handshake("-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384@SECLEVEL=0", "Protocol version"));
}
END_TEST

/* GET of turnServers from 'source' on d with the administrator's right password, in a header
 * never sent before (text after the base64 is ignored), so that the verified-credential cache
 * cannot know it: checked, or throttled, as a new login is. Returns the status. */
static long fresh_login(const struct th_daemon *dm, const char *source)
{
    static unsigned n;
    char cred[128], b64[192], header[256];
    const char *extra[] = {header, NULL};
    struct th_resp r;
    long status;

    (void)snprintf(cred, sizeof(cred), "admin:%s", dm->password);
    api_b64_encode((const unsigned char *)cred, strlen(cred), b64);
    (void)snprintf(header, sizeof(header), "Authorization: Basic %s fresh%u", b64, n++);
    th_http_source = source;
    th_http(dm, dm->ports[0], "GET", TS, NULL, NULL, extra, NULL, 0, &r);
    th_http_source = NULL;
    status = r.status;
    th_resp_free(&r);
    return status;
}

/* Runs last in this case: it leaves 127.0.0.3's record behind (cleared by its final login). */
START_TEST(test_failed_logins_throttled_per_address)
{
    struct th_resp r;

    th_http_source = "127.0.0.3";
    for (int i = 0; i < 10; i++) {
        th_http(&d, d.ports[0], "GET", TS, "admin", "wrong", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 401);
        th_resp_free(&r);
    }
    /* now even the right password is not checked from there, for a second (one that needs a
     * check: a header verified before is no guess, and served) */
    ck_assert_int_eq(fresh_login(&d, "127.0.0.3"), 429);
    th_http_source = "127.0.0.3";
    th_http(&d, d.ports[0], "GET", TS, "admin", "wrong", NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 429);
    ck_assert_str_eq(r.retry_after, "1");
    ck_assert_str_eq(r.body, "<?xml version=\"1.0\"?><failureDetails><tooManyFailedLogins />"
                             "</failureDetails>");
    th_resp_free(&r);
    ck_assert_uint_eq(th_log_count(&d, "client 127.0.0.3: 10 or more failed logins in a row"), 1);

    /* another client is not slowed */
    th_http_source = NULL;
    th_http(&d, d.ports[0], "GET", TS, "admin", d.password, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    /* nor is a client that sends no credentials at first (the 401 challenge is not a failure) */
    th_http_source = "127.0.0.4";
    for (int i = 0; i < 12; i++) {
        th_http(&d, d.ports[0], "GET", TS, NULL, NULL, NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 401);
        th_resp_free(&r);
    }

    /* after the backoff the right password gets in and clears the record */
    usleep(1100 * 1000);
    ck_assert_int_eq(fresh_login(&d, "127.0.0.3"), 200);
    th_http_source = "127.0.0.3";
    th_http(&d, d.ports[0], "GET", TS, "admin", "wrong", NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 401); /* one failure: no backoff yet */
    th_resp_free(&r);
    th_http(&d, d.ports[0], "GET", TS, "admin", d.password, NULL, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    th_resp_free(&r);
    th_http_source = NULL;
}
END_TEST

/* ---- failed logins from many addresses (a daemon of its own for each test) ------------- */

static struct th_daemon ld;

static void logins_start(void)
{
    memset(&ld, 0, sizeof(ld));
    th_daemon_start(&ld, "0", NULL); /* --threads 2: one password check at a time */
}

static void logins_stop(void)
{
    th_daemon_destroy(&ld);
}

/* One GET of turnServers from 'source' as user:pass; returns the status. */
static long login_from(const char *source, const char *user, const char *pass)
{
    struct th_resp r;
    long status;

    th_http_source = source;
    th_http(&ld, ld.ports[0], "GET", TS, user, pass, NULL, NULL, 0, &r);
    th_http_source = NULL;
    status = r.status;
    th_resp_free(&r);
    return status;
}

/* The administrator's right password from 'source', in a header never sent before (text
 * after the base64 is ignored): one that the verified-credential cache cannot know, so it is
 * checked, or throttled, as a new login is. Returns the status. */
static long fresh_login_from(const char *source)
{
    return fresh_login(&ld, source);
}

/* The two addresses of the report, whose old unkeyed FNV-1a slots were the same: alternating
 * wrong passwords they reset each other's record and were never throttled (708 guesses in
 * 20 s). Each now has its own count: the 21st try is the first 429. */
START_TEST(test_colliding_addresses_alternating_get_429)
{
    static const char *const from[] = {"127.0.0.5", "127.0.0.10"};
    int first = -1;

    for (int i = 0; i < 40 && first < 0; i++) {
        long status = login_from(from[i % 2], "admin", "wrong");

        ck_assert_msg(status == 401 || status == 429, "try %d: %ld", i, status);
        if (status == 429)
            first = i;
    }
    /* the 21st try, or a few later when the machine is so slow that a 1 s backoff ran out
     * between two tries (each is a password check) */
    ck_assert_int_ge(first, 2 * API_AUTH_FREE_FAILURES);
    ck_assert_int_le(first, 2 * API_AUTH_FREE_FAILURES + 6);
}
END_TEST

/* Issue 12 review, 1: an address in backoff got 429 even for a header the cache had verified,
 * so a guesser sharing the administrator's address (NAT, a proxy) locked the administrator
 * out with 10 wrong passwords. A known header costs no password check and is no guess: it is
 * served; a password that would need a check is still not checked from there. Each round
 * drives 127.0.0.3 into backoff; if the machine was so slow that the backoff ran out before
 * the last try, the next round has a longer one. */
START_TEST(test_known_header_served_from_an_address_in_backoff)
{
    bool done = false;

    ck_assert_int_eq(login_from("127.0.0.3", "admin", ld.password), 200);
    for (int round = 0; round < 4 && !done; round++) {
        long status = 0;
        int64_t t0;

        for (int i = 0; i < 2 * API_AUTH_FREE_FAILURES && status != 429; i++) {
            status = login_from("127.0.0.3", "admin", "wrong");
            ck_assert_msg(status == 401 || status == 429, "try %d: %ld", i, status);
        }
        ck_assert_int_eq(status, 429);
        t0 = api_now_us();
        ck_assert_int_eq(login_from("127.0.0.3", "admin", ld.password), 200); /* cached */
        status = login_from("127.0.0.3", "admin", "wrong");
        done = status == 429; /* the administrator's request cleared nothing */
        ck_assert_msg(done || api_now_us() - t0 >= (1000000LL << round), "%ld", status);
    }
    ck_assert(done);
}
END_TEST

/* FNV-1a of the address text modulo 1,024: the slot the throttle used to give an address. */
static unsigned old_slot(const char *addr)
{
    uint32_t h = 2166136261u;

    for (const char *p = addr; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % 1024;
}

#define STRANGERS 1280 /* 127.0.1.0 to 127.0.5.255: more than the table holds */

static void stranger(unsigned i, char *out, size_t cap)
{
    (void)snprintf(out, cap, "127.0.%u.%u", 1 + i / 256, i % 256);
}

/* A throttled address chosen so that one of the strangers had its old slot: on the old table
 * that stranger's failure wiped the victim's record, on this one nothing does. */
static void pick_victim(char *out, size_t cap)
{
    static bool taken[1024];
    char addr[32];

    for (unsigned i = 0; i < STRANGERS; i++) {
        stranger(i, addr, sizeof(addr));
        taken[old_slot(addr)] = true;
    }
    for (unsigned x = 20; x < 250; x++) {
        (void)snprintf(out, cap, "127.0.0.%u", x);
        if (taken[old_slot(out)])
            return;
    }
    ck_abort_msg("no address of 127.0.0.20-249 shares an old slot with a stranger");
}

/* An address in backoff, then 1,280 other addresses failing once each (more than the 1,024
 * records of the table; a malformed header is a failure that costs no password check, so the
 * test is quick). Between every 128 of them the throttled address tries its wrong password and
 * then the right one in a header not seen before (a known one is served, see below): the
 * right one is always 429, its record was never given away; and the
 * administrator, logged in from 127.0.0.1 before, is still served. */
START_TEST(test_many_strangers_do_not_clear_a_backoff)
{
    static const char *const bad[] = {"Authorization: Basic !!!!", NULL};
    char victim[32], addr[32];
    int64_t until = api_now_us() + 90 * 1000000LL;
    unsigned sent = 0;
    struct th_resp r;

    pick_victim(victim, sizeof(victim));
    ck_assert_int_eq(login_from(NULL, "admin", ld.password), 200); /* 127.0.0.1 is in */
    for (int i = 0; i < API_AUTH_FREE_FAILURES; i++)
        ck_assert_int_eq(login_from(victim, "admin", "wrong"), 401);
    ck_assert_int_eq(fresh_login_from(victim), 429);
    for (; sent < STRANGERS && api_now_us() < until; sent++) {
        stranger(sent, addr, sizeof(addr));
        th_http_source = addr;
        th_http(&ld, ld.ports[0], "GET", TS, NULL, NULL, bad, NULL, 0, &r);
        th_http_source = NULL;
        ck_assert_msg(r.status == 401 || r.status == 429, "%s: %ld", addr, r.status);
        th_resp_free(&r);
        if (sent % 128 == 127) {
            long status = login_from(victim, "admin", "wrong");

            ck_assert_msg(status == 401 || status == 429, "%s: %ld", victim, status);
            /* a 429 came from the victim's record, still in its backoff (which may end before
             * the next request: nothing more to ask then); a 401 counted one more failure on
             * that record, so a backoff of at least a second starts, unless the record was
             * given away, when it was the first failure of a new one */
            ck_assert_msg(status == 429 || fresh_login_from(victim) == 429,
                          "%s was let in after %u strangers", victim, sent + 1);
            ck_assert_int_eq(login_from(NULL, "admin", ld.password), 200);
        }
    }
    ck_assert_uint_eq(sent, STRANGERS);
    th_admin(&ld, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(th_metric(r.body, "callbridge_auth_throttle_overflow_total", NULL) > 0,
                  "the table never filled");
    th_resp_free(&r);
}
END_TEST

struct flooder {
    unsigned short port;
    const char *cacert;
    unsigned first; /* its addresses: 127.0.7.<first> to 127.0.7.<first + 39> */
    int64_t until_us;
    unsigned sent, unexpected;
    long bad_status;
};

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

/* Wrong passwords from 40 addresses, each sending 9 (under the backoff) at most, until the
 * count or the time runs out. Answers other than 401 and 503 are counted as unexpected. */
static void *flood(void *arg)
{
    struct flooder *f = arg;
    char url[64], source[32], userpwd[32];

    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", f->port, TS);
    for (; f->sent < 360 && api_now_us() < f->until_us; f->sent++) {
        CURL *c = curl_easy_init();
        long status = 0;

        if (!c)
            break;
        (void)snprintf(source, sizeof(source), "127.0.7.%u", f->first + f->sent % 40);
        (void)snprintf(userpwd, sizeof(userpwd), "admin:guess-%u", f->sent);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, f->cacert);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_INTERFACE, source);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (status != 401 && status != 503) {
            f->unexpected++;
            f->bad_status = status;
        }
    }
    return NULL;
}

/* Four threads guess passwords from 160 addresses while the administrator, logged in before
 * (its header is in the 30 s cache), keeps asking: every one of its requests is served, and
 * /metrics shows that no more password checks ran at once than the bound (1 with 2 threads). */
START_TEST(test_verified_client_served_during_a_guessing_flood)
{
    struct flooder f[4];
    pthread_t t[4];
    int64_t until = api_now_us() + 15 * 1000000LL; /* well inside the 30 s cache */
    unsigned served = 0, sent = 0;
    struct th_resp r;

    ck_assert_int_eq(login_from(NULL, "admin", ld.password), 200);
    for (int i = 0; i < 4; i++) {
        f[i] = (struct flooder){
            .port = ld.ports[0], .cacert = ld.cacert, .first = 1 + 40 * i, .until_us = until};
        ck_assert_int_eq(pthread_create(&t[i], NULL, flood, &f[i]), 0);
    }
    for (; sent < 40 && api_now_us() < until; sent++) {
        served += login_from(NULL, "admin", ld.password) == 200;
        (void)usleep(100 * 1000);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(f[i].unexpected == 0, "flooder %d: %u answers like %ld", i, f[i].unexpected,
                      f[i].bad_status);
        ck_assert_uint_gt(f[i].sent, 0);
    }
    ck_assert_uint_gt(sent, 0);
    ck_assert_uint_eq(served, sent);
    th_admin(&ld, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(th_metric(r.body, "callbridge_auth_verifications_limit", NULL) == 1);
    ck_assert(th_metric(r.body, "callbridge_auth_verifications_peak", NULL) == 1);
    ck_assert(th_metric(r.body, "callbridge_auth_verifications_total", NULL) >= 2);
    fprintf(stderr, "flood: %u guesses sent, %g checked, %g answered busy; admin served %u/%u\n",
            f[0].sent + f[1].sent + f[2].sent + f[3].sent,
            th_metric(r.body, "callbridge_auth_verifications_total", NULL),
            th_metric(r.body, "callbridge_auth_verifications_busy_total", NULL), served, sent);
    th_resp_free(&r);
}
END_TEST

struct first_login {
    pthread_barrier_t *go;
    const char *source;
    long status;
};

static void *first_login(void *arg)
{
    struct first_login *l = arg;
    char url[64], userpwd[96];
    CURL *c = curl_easy_init();

    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", ld.ports[0], TS);
    (void)snprintf(userpwd, sizeof(userpwd), "admin:%s", ld.password);
    (void)pthread_barrier_wait(l->go);
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ld.cacert);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_INTERFACE, l->source);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &l->status);
    curl_easy_cleanup(c);
    return NULL;
}

/* Eight clients log in at the same moment, nothing cached yet, with one password check
 * allowed at a time: those that find the slot busy wait for it (suspended) rather than being
 * turned away, and all eight are served, for the price of one password check. */
START_TEST(test_simultaneous_first_logins_all_served)
{
    struct first_login l[8];
    static const char *const from[] = {"127.0.8.1", "127.0.8.2", "127.0.8.3", "127.0.8.4",
                                       "127.0.8.5", "127.0.8.6", "127.0.8.7", "127.0.8.8"};
    pthread_barrier_t go;
    pthread_t t[8];
    struct th_resp r;

    ck_assert_int_eq(pthread_barrier_init(&go, NULL, 8), 0);
    for (int i = 0; i < 8; i++) {
        l[i] = (struct first_login){.go = &go, .source = from[i]};
        ck_assert_int_eq(pthread_create(&t[i], NULL, first_login, &l[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(l[i].status == 200, "client %d: %ld", i, l[i].status);
    th_admin(&ld, "GET", "/metrics", NULL, &r);
    ck_assert(th_metric(r.body, "callbridge_auth_verifications_peak", NULL) == 1);
    /* the one check's result is cached before the waiting are woken: one check in all */
    ck_assert(th_metric(r.body, "callbridge_auth_verifications_total", NULL) == 1);
    fprintf(stderr, "simultaneous logins: %g password checks, %g waits\n",
            th_metric(r.body, "callbridge_auth_verifications_total", NULL),
            th_metric(r.body, "callbridge_auth_verification_waits_total", NULL));
    th_resp_free(&r);
}
END_TEST

Suite *it_https_suite(void)
{
    Suite *s = suite_create("it_https");
    TCase *tc = tcase_create("conformance");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_401_challenge_and_wrong_password);
    tcase_add_test(tc, test_valid_credentials_xml_answer);
    tcase_add_test(tc, test_basic_without_space_accepted);
    tcase_add_test(tc, test_post_200_location_and_get);
    tcase_add_test(tc, test_post_empty_body_no_content_type);
    tcase_add_test(tc, test_form_parsed_whatever_content_type);
    tcase_add_test(tc, test_put_delete_with_form_content_type_and_empty_body);
    tcase_add_test(tc, test_url_conventions);
    tcase_add_test(tc, test_bad_input_400_and_still_serving);
    tcase_add_test(tc, test_body_over_64k_is_413);
    tcase_add_test(tc, test_concurrent_puts_to_different_fields_all_land);
    tcase_add_test(tc, test_locked_database_503_then_recovers);
    tcase_add_test(tc, test_request_log_lines_without_secrets);
    tcase_add_test(tc, test_request_id_in_header_and_log);
    tcase_add_test(tc, test_hostile_input_4xx_and_still_serving);
    tcase_add_test(tc, test_lingering_close_client_reads_its_431);
    tcase_add_test(tc, test_tls_versions_and_ciphers);
    tcase_add_test(tc, test_failed_logins_throttled_per_address);
    suite_add_tcase(s, tc);

    tc = tcase_create("logins");
    tcase_add_checked_fixture(tc, logins_start, logins_stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 150);
    tcase_add_test(tc, test_colliding_addresses_alternating_get_429);
    tcase_add_test(tc, test_many_strangers_do_not_clear_a_backoff);
    tcase_add_test(tc, test_verified_client_served_during_a_guessing_flood);
    tcase_add_test(tc, test_simultaneous_first_logins_all_served);
    tcase_add_test(tc, test_known_header_served_from_an_address_in_backoff);
    suite_add_tcase(s, tc);
    return s;
}
