/* tests/test_api_linger.c: the lingering close (api/http/linger.c) on real loopback TCP
 * connections: a client still sending after the server answered and closed reads the answer instead
 * of a reset; a client that closed first is not kept; the cap holds; a lingering socket is closed
 * in the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/linger.h"
#include "tests/suites.h"

struct pair {
    int client, server;
};

static int listener = -1;

static void listen_open(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    (void)signal(SIGPIPE, SIG_IGN); /* a reset shows as EPIPE */
    listener = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(listener, 0);
    /* small receive buffers on the server's side (accepted sockets inherit them): the client's
     * megabytes get through only as fast as the lingering thread drains them, so a socket
     * closed too early is seen, not hidden in a big buffer */
    ck_assert_int_eq(setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &(int){8192}, sizeof(int)), 0);
    ck_assert_int_eq(bind(listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(listener, 8), 0);
}

static void listen_close(void)
{
    (void)close(listener);
}

static struct pair connect_pair(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    struct pair p;

    ck_assert_int_eq(getsockname(listener, (struct sockaddr *)&sa, &len), 0);
    p.client = socket(AF_INET, SOCK_STREAM, 0);
    /* room for the first 40 KB before the server takes anything */
    ck_assert_int_eq(setsockopt(p.client, SOL_SOCKET, SO_SNDBUF, &(int){262144}, sizeof(int)), 0);
    ck_assert_int_eq(connect(p.client, (struct sockaddr *)&sa, sizeof(sa)), 0);
    p.server = accept(listener, NULL, NULL);
    ck_assert_int_ge(p.server, 0);
    return p;
}

/* Sends n bytes from the client; the number of bytes sent before an error. */
static size_t send_all(int fd, size_t n)
{
    static char buf[16384];
    size_t sent = 0;

    memset(buf, 'x', sizeof(buf));
    while (sent < n) {
        ssize_t k = send(fd, buf, n - sent < sizeof(buf) ? n - sent : sizeof(buf), 0);

        if (k <= 0)
            break;
        sent += (size_t)k;
    }
    return sent;
}

/* Reads until the end of the stream or an error (at most cap - 1 bytes kept); returns what was
 * read, and in *err the errno of an error (0 at a clean end). */
static size_t read_to_end(int fd, char *out, size_t cap, int *err)
{
    size_t got = 0;
    char sink[4096];

    *err = 0;
    for (int i = 0; i < 10000; i++) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t k;

        ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
        k = recv(fd, sink, sizeof(sink), 0);
        if (k <= 0) {
            *err = k < 0 ? errno : 0;
            break;
        }
        if (got + (size_t)k < cap) {
            memcpy(out + got, sink, (size_t)k);
            got += (size_t)k;
        }
    }
    out[got < cap ? got : cap - 1] = '\0';
    return got;
}

/* The client reads the answer, then a clean end of stream (no reset). */
static void expect_answer(int client)
{
    char in[64];
    int err;

    read_to_end(client, in, sizeof(in), &err);
    ck_assert_str_eq(in, "431 answer");
    ck_assert_int_eq(err, 0);
}

static void answer_and_close(struct api_linger *l, int server, bool want_kept)
{
    ck_assert_int_eq(send(server, "431 answer", 10, 0), 10);
    ck_assert(api_linger_add(l, server) == want_kept);
    ck_assert_int_eq(close(server), 0);
}

START_TEST(test_still_sending_client_reads_the_answer)
{
    struct api_linger *l;
    struct pair p;

    ck_assert_int_eq(api_linger_start(4, NULL, &l), 0);
    p = connect_pair();
    ck_assert_uint_eq(send_all(p.client, 40000), 40000); /* unread by the server */
    answer_and_close(l, p.server, true);
    /* what the client sends on is drained (1 MB, under the 4 MB cap) */
    ck_assert_uint_eq(send_all(p.client, 1 << 20), 1 << 20);
    expect_answer(p.client);
    /* and still, until the client closes (or the 2 s are up) */
    ck_assert_uint_eq(send_all(p.client, 1 << 20), 1 << 20);
    (void)close(p.client);
    api_linger_stop(l);
}
END_TEST

/* The same without the lingering: the reset the module exists for (the control). */
START_TEST(test_without_lingering_the_client_is_reset)
{
    struct pair p = connect_pair();
    size_t sent;

    ck_assert_uint_eq(send_all(p.client, 40000), 40000);
    ck_assert_int_eq(send(p.server, "431 answer", 10, 0), 10);
    ck_assert_int_eq(close(p.server), 0);
    sent = send_all(p.client, 1 << 20);
    if (sent == 1 << 20) /* the writes fitted in the buffers before the reset came back */
        sent = send_all(p.client, 1 << 20);
    ck_assert_uint_lt(sent, 1 << 20);
    ck_assert(errno == EPIPE || errno == ECONNRESET);
    (void)close(p.client);
}
END_TEST

START_TEST(test_client_closed_first_is_not_kept)
{
    struct api_linger *l;
    struct pair p;

    ck_assert_int_eq(api_linger_start(4, NULL, &l), 0);
    p = connect_pair();
    ck_assert_int_eq(close(p.client), 0);
    {
        struct pollfd pfd = {.fd = p.server, .events = POLLIN};

        ck_assert_int_eq(poll(&pfd, 1, 10000), 1); /* its end of stream has arrived */
    }
    ck_assert(!api_linger_add(l, p.server));
    (void)close(p.server);
    api_linger_stop(l);
}
END_TEST

START_TEST(test_cap_and_final_close)
{
    struct api_linger *l;
    struct pair a, b;
    size_t sent = 0;

    ck_assert_int_eq(api_linger_start(1, NULL, &l), 0);
    a = connect_pair();
    b = connect_pair();
    answer_and_close(l, a.server, true);
    answer_and_close(l, b.server, false); /* the one slot is taken */
    /* a silent client is let go after API_LINGER_MS: its writes are reset then (bounded: 5 s
     * of 1-byte writes, 20 ms apart) */
    for (int i = 0; i < 250; i++) {
        if (send(a.client, "x", 1, 0) != 1)
            break;
        sent++;
        (void)usleep(20 * 1000);
    }
    ck_assert_uint_lt(sent, 250);
    ck_assert(errno == EPIPE || errno == ECONNRESET);
    (void)close(a.client);
    (void)close(b.client);
    api_linger_stop(l);
}
END_TEST

/* Stopping closes what still lingers (ASan and valgrind would see a leak otherwise). */
START_TEST(test_stop_with_sockets_lingering)
{
    struct api_linger *l;
    struct pair p;

    ck_assert_int_eq(api_linger_start(4, NULL, &l), 0);
    p = connect_pair();
    answer_and_close(l, p.server, true);
    api_linger_stop(l);
    expect_answer(p.client);
    (void)close(p.client);
}
END_TEST

Suite *api_linger_suite(void)
{
    Suite *s = suite_create("api_linger");
    TCase *tc = tcase_create("linger");

    tcase_add_checked_fixture(tc, listen_open, listen_close);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_still_sending_client_reads_the_answer);
    tcase_add_test(tc, test_without_lingering_the_client_is_reset);
    tcase_add_test(tc, test_client_closed_first_is_not_kept);
    tcase_add_test(tc, test_cap_and_final_close);
    tcase_add_test(tc, test_stop_with_sockets_lingering);
    suite_add_tcase(s, tc);
    return s;
}
