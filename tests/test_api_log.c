/* tests/test_api_log.c: the log's one rate limiter. Unit cases log into a pipe in place of
 * stderr (each Check test runs in a process of its own); the daemon case sends failed TLS
 * handshakes, a stranger's cheapest way to make a server log, and reads the daemon's log. */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/log.h"
#include "tests/helpers.h"
#include "tests/suites.h"

static int saved_stderr = -1;
static char captured[1 << 20];

/* Sends what api_log writes into a file instead of stderr. */
static void capture_start(FILE **ret_f)
{
    FILE *f = tmpfile();

    ck_assert_ptr_nonnull(f);
    saved_stderr = dup(STDERR_FILENO);
    ck_assert_int_ge(saved_stderr, 0);
    ck_assert_int_eq(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
    *ret_f = f;
}

/* Restores stderr and returns what was written (in 'captured'). */
static const char *capture_stop(FILE *f)
{
    size_t n;

    ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
    close(saved_stderr);
    rewind(f);
    n = fread(captured, 1, sizeof(captured) - 1, f);
    captured[n] = '\0';
    fclose(f);
    return captured;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(test_a_flooding_site_logs_its_burst_then_is_counted)
{
    uint64_t before = api_log_suppressed();
    const char *out;
    FILE *f;

    capture_start(&f);
    for (int i = 0; i < 1000; i++)
        api_log(BASE_LOG_WARN, "flood line %d", i);
    out = capture_stop(f);
    /* the burst, and at most a few more earned while the loop ran (one a second) */
    ck_assert_uint_ge(count(out, "flood line"), api_log_rate_default.burst);
    ck_assert_uint_le(count(out, "flood line"), api_log_rate_default.burst + 5);
    ck_assert_uint_ge(api_log_suppressed() - before, 1000 - api_log_rate_default.burst - 5);
}
END_TEST

START_TEST(test_one_site_flooding_leaves_the_others_alone)
{
    const char *out;
    FILE *f;

    capture_start(&f);
    for (int i = 0; i < 1000; i++)
        api_log(BASE_LOG_WARN, "noisy %d", i);
    api_log(BASE_LOG_ERR, "the one that matters %d", 1);
    out = capture_stop(f);
    ck_assert_uint_eq(count(out, "the one that matters 1"), 1);
}
END_TEST

START_TEST(test_the_next_line_says_how_many_were_dropped)
{
    static const struct api_log_rate fast = {.interval_us = 200000, .burst = 2};
    const char *out;
    FILE *f;

    capture_start(&f);
    for (int i = 0; i < 10; i++)
        api_log_at(&fast, BASE_LOG_WARN, "fast %d", i);
    (void)usleep(300000); /* one more line earned */
    api_log_at(&fast, BASE_LOG_WARN, "fast %d", 10);
    out = capture_stop(f);
    ck_assert_uint_eq(count(out, "fast "), 3);
    ck_assert_ptr_nonnull(
        strstr(out, "fast 10 (8 more like this suppressed by the log rate limit)"));
}
END_TEST

START_TEST(test_every_allows_one_line_per_period)
{
    const char *out;
    FILE *f;

    capture_start(&f);
    for (int i = 0; i < 50; i++)
        api_log_every(10, BASE_LOG_ERR, "disk full %d", i);
    out = capture_stop(f);
    ck_assert_uint_eq(count(out, "disk full"), 1);
}
END_TEST

START_TEST(test_a_level_turned_off_costs_no_budget)
{
    uint64_t before = api_log_suppressed();
    const char *out;
    FILE *f;

    api_log_set_level(BASE_LOG_WARN);
    capture_start(&f);
    for (int i = 0; i < 100; i++)
        api_log(BASE_LOG_INFO, "quiet %d", i);
    out = capture_stop(f);
    api_log_set_level(BASE_LOG_INFO);
    ck_assert_uint_eq(count(out, "quiet"), 0);
    ck_assert_uint_eq(api_log_suppressed(), before);
}
END_TEST

/* One TCP connection that sends a malformed TLS record and waits (at most 2 s) for the close. */
static void bad_handshake(unsigned short port)
{
    static const char junk[] = "\x16\x03\x01\x00\x05hello GARBAGE\r\n\r\n";
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct pollfd p;
    char buf[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(send(fd, junk, sizeof(junk) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(junk) - 1);
    p = (struct pollfd){.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 2000) == 1)
        (void)!read(fd, buf, sizeof(buf));
    close(fd);
}

START_TEST(test_failed_tls_handshakes_cannot_flood_the_log)
{
    struct th_daemon d = {0};
    struct th_resp r;
    size_t lines;

    th_daemon_start(&d, "0", NULL);
    for (int i = 0; i < 300; i++)
        bad_handshake(d.ports[0]);
    lines = th_log_count(&d, "handshake");
    /* every one was logged before (300 lines); now the burst and what the run earned */
    ck_assert_uint_ge(lines, 1);
    ck_assert_uint_le(lines, api_log_rate_default.burst + 20);
    th_admin(&d, "GET", "/metrics", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_double_ge(th_metric(r.body, "callbridge_log_suppressed_lines_total", NULL),
                        300.0 - lines);
    th_resp_free(&r);
    th_daemon_destroy(&d);
}
END_TEST

Suite *api_log_suite(void)
{
    Suite *s = suite_create("api_log");
    TCase *tc = tcase_create("limiter");
    TCase *net = tcase_create("daemon");

    tcase_add_test(tc, test_a_flooding_site_logs_its_burst_then_is_counted);
    tcase_add_test(tc, test_one_site_flooding_leaves_the_others_alone);
    tcase_add_test(tc, test_the_next_line_says_how_many_were_dropped);
    tcase_add_test(tc, test_every_allows_one_line_per_period);
    tcase_add_test(tc, test_a_level_turned_off_costs_no_budget);
    suite_add_tcase(s, tc);
    tcase_set_tags(net, "net");
    tcase_set_timeout(net, 120);
    tcase_add_test(net, test_failed_tls_handshakes_cannot_flood_the_log);
    suite_add_tcase(s, net);
    return s;
}
