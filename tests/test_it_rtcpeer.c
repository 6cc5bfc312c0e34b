/* tests/test_it_rtcpeer.c: WebRTC guests that a browser would not be, through the running daemon
 * and coturn: the project's own client (scripts/bench/rtcpeer, run as a child, bounded by its
 * --seconds) joins a coSpace and runs real ICE, DTLS and SRTP. Two guests exchange audio and
 * video through callbridged; a guest announcing a forged fingerprint fails with dtlsFailed and
 * nothing of it is forwarded; a guest that goes silent ends with timeout and its allocation is
 * released; datagrams a stranger sends to a leg's relayed candidate are counted and dropped; a
 * guest muted through the API is not forwarded until unmuted. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/helpers.h"
#include "tests/suites.h"

#define GUEST_TIMEOUT_S 5
#define SILENT_AFTER_S 2

static struct th_daemon d;
static struct th_coturn co;
static char why[128];
static char call_id[] = "717171", secret[64];

static long admin(const char *method, const char *path, char *out, size_t cap)
{
    return th_admin_keep(&d, method, path, NULL, out, cap, NULL);
}

static void start(void)
{
    static const char *const coturn_args[] = {"--verbose", NULL};
    static const char *const args[] = {"--probe-interval", "3600", "--guest-timeout", "5", NULL};
    char form[256], loc[128], body[4096];

    memset(&d, 0, sizeof(d));
    memset(&co, 0, sizeof(co));
    if (!th_coturn_available(why, sizeof(why)))
        return;
    th_coturn_start(&co, coturn_args);
    th_daemon_start(&d, "0", args);
    snprintf(form, sizeof(form), "serverAddress=127.0.0.1:%u&username=alice&password=secret",
             co.port);
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/turnServers", form, NULL, 0, loc), 200);
    snprintf(form, sizeof(form), "%s/status", loc); /* waits for the first probe */
    ck_assert_int_eq(admin("GET", form, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    snprintf(form, sizeof(form), "name=Peer+Room&callId=%s", call_id);
    ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/coSpaces", form, NULL, 0, loc), 200);
    ck_assert_int_eq(admin("GET", loc, body, sizeof(body)), 200);
    th_xml_text(body, "secret", secret, sizeof(secret));
    ck_assert_msg(secret[0], "%s", body);
}

static void stop(void)
{
    if (co.pid)
        th_daemon_coturn_stop(&d, &co);
}

/* A running rtcpeer: its output goes to a file read when it has exited. */
struct peer_run {
    pid_t pid;
    char out[128];
};

/* build/<variant>/rtcpeer beside the daemon under test. */
static void rtcpeer_path(char *out, size_t cap)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "%s", th_daemon_path());
    snprintf(out, cap, "%s/rtcpeer", dirname(dir));
}

/* Starts rtcpeer --json for guests guests and seconds seconds, with extra options (NULL-ended,
 * may be NULL). */
static void peer_start(struct peer_run *r, unsigned guests, unsigned seconds,
                       const char *const *extra)
{
    char path[300], url[64], n[16], secs[16];
    const char *argv[24] = {"rtcpeer",  "--url",     url,        "--call-id", call_id,
                            "--secret", secret,      "--cacert", d.cacert,    "--guests",
                            n,          "--seconds", secs,       "--json"};
    size_t argc = 14;

    memset(r, 0, sizeof(*r));
    rtcpeer_path(path, sizeof(path));
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built (make %s)", path, path);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", d.ports[0]);
    snprintf(n, sizeof(n), "%u", guests);
    snprintf(secs, sizeof(secs), "%u", seconds);
    for (size_t i = 0; extra && extra[i] && argc < 22; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    snprintf(r->out, sizeof(r->out), "%s/rtcpeer-%d.out", d.dir, (int)time(NULL) ^ rand());
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        int fd = open(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        (void)dup2(fd, STDOUT_FILENO);
        execv(path, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
}

/* Waits (at most limit_s) for rtcpeer to exit 0, and reads its summary lines into ret[]. */
static size_t peer_wait(struct peer_run *r, unsigned limit_s, json_t **ret, size_t max)
{
    char line[65536];
    size_t n = 0;
    int status = 0;
    pid_t w = 0;
    FILE *f;

    for (unsigned i = 0; i < limit_s * 10 && w == 0; i++) {
        w = waitpid(r->pid, &status, WNOHANG);
        if (w == 0)
            usleep(100 * 1000);
    }
    if (w == 0) {
        (void)kill(r->pid, SIGKILL);
        (void)waitpid(r->pid, &status, 0);
        ck_abort_msg("rtcpeer did not exit within %u s", limit_s);
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rtcpeer exited with %d", status);
    f = fopen(r->out, "r");
    ck_assert_ptr_nonnull(f);
    while (n < max && fgets(line, sizeof(line), f)) {
        ret[n] = json_loads(line, 0, NULL);
        ck_assert_msg(ret[n], "not a JSON summary: %s", line);
        n++;
    }
    fclose(f);
    (void)unlink(r->out);
    return n;
}

static long long num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    ck_assert_msg(json_is_integer(v), "%s missing", key);
    return json_integer_value(v);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    ck_assert_msg(s, "%s missing", key);
    return s;
}

/* Packets guest g received from the streams of leg (kind "audio", "video", or NULL: both). */
static long long received_from(json_t *g, const char *leg, const char *kind)
{
    json_t *rx = json_object_get(g, "received");
    long long total = 0;

    for (size_t i = 0; i < json_array_size(rx); i++) {
        json_t *s = json_array_get(rx, i);

        if (strcmp(str(s, "msid"), leg) == 0 && (!kind || strcmp(str(s, "kind"), kind) == 0))
            total += num(s, "packets");
    }
    return total;
}

static long long sent(json_t *g, const char *kind)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(g, "sent"), kind), "packets"));
}

/* The ids of the call legs the API lists now (at most max). */
static size_t leg_ids(char ids[][64], size_t max)
{
    static char body[65536];
    const char *p = body;
    size_t n = 0;

    ck_assert_int_eq(admin("GET", "/api/v1/callLegs", body, sizeof(body)), 200);
    while (n < max && (p = strstr(p, "<callLeg id=\""))) {
        p += strlen("<callLeg id=\"");
        snprintf(ids[n++], 64, "%.*s", (int)strcspn(p, "\""), p);
    }
    return n;
}

/* An integer element inside the first <outer> element of body; -1 when absent. */
static long long xml_int_in(const char *body, const char *outer, const char *name)
{
    char open[64], text[64];
    const char *p;

    snprintf(open, sizeof(open), "<%s>", outer);
    p = strstr(body, open);
    if (!p)
        return -1;
    th_xml_text(p, name, text, sizeof(text));
    return text[0] ? atoll(text) : -1;
}

/* Waits (at most 10 s) until the API lists n call legs, all connected; their ids in ids. */
static void wait_connected(char ids[][64], size_t n)
{
    static char body[16384];
    size_t connected = 0;

    for (int t = 0; t < 100 && connected < n; t++) {
        usleep(100 * 1000);
        connected = 0;
        if (leg_ids(ids, n + 2) != n)
            continue;
        for (size_t i = 0; i < n; i++) {
            char path[160];

            snprintf(path, sizeof(path), "/api/v1/callLegs/%.63s", ids[i]);
            if (admin("GET", path, body, sizeof(body)) == 200 &&
                strstr(body, "<state>connected</state>"))
                connected++;
        }
    }
    ck_assert_msg(connected == n, "%zu of %zu call legs connected within 10 s", connected, n);
}

START_TEST(test_two_guests_exchange_audio_and_video_through_callbridged)
{
    static char body[16384];
    struct peer_run r;
    json_t *g[2] = {NULL, NULL};
    char ids[4][64];
    size_t n;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&r, 2, 8, NULL);
    wait_connected(ids, 2);
    sleep(2);                     /* media flowing for a while */
    for (int i = 0; i < 2; i++) { /* the administrator sees both connected, streams counting */
        char path[160];

        snprintf(path, sizeof(path), "/api/v1/callLegs/%.63s", ids[i]);
        ck_assert_int_eq(admin("GET", path, body, sizeof(body)), 200);
        ck_assert_msg(strstr(body, "<state>connected</state>"), "%s", body);
        ck_assert_msg(xml_int_in(body, "rxAudio", "packetsReceived") > 50, "%s", body);
        ck_assert_msg(xml_int_in(body, "rxVideo", "packetsReceived") > 50, "%s", body);
        ck_assert_msg(xml_int_in(body, "txAudio", "packetsSent") > 50, "%s", body);
        ck_assert_msg(xml_int_in(body, "txVideo", "packetsSent") > 50, "%s", body);
    }
    n = peer_wait(&r, 20, g, 2);
    ck_assert_int_eq(n, 2);
    for (int i = 0; i < 2; i++) {
        json_t *me = g[i], *other = g[1 - i];
        const char *from = str(other, "leg");

        ck_assert_msg(json_is_true(json_object_get(me, "connected")), "guest %d", i);
        ck_assert_int_eq(json_array_size(json_object_get(me, "received")), 2);
        /* each receives the other's audio and video, no more than was sent */
        ck_assert_int_gt(received_from(me, from, "audio"), 100);
        ck_assert_int_gt(received_from(me, from, "video"), 100);
        ck_assert_int_le(received_from(me, from, "audio"), sent(other, "audio"));
        ck_assert_int_le(received_from(me, from, "video"), sent(other, "video"));
        ck_assert_int_eq(num(me, "undecryptable"), 0);
        ck_assert_int_ge(num(me, "firstMediaMs"), 0);
    }
    json_decref(g[0]);
    json_decref(g[1]);
}
END_TEST

/* The remote streams guest g was offered from leg. */
static size_t streams_from(json_t *g, const char *leg)
{
    json_t *rx = json_object_get(g, "received");
    size_t n = 0;

    for (size_t i = 0; i < json_array_size(rx); i++)
        n += strcmp(str(json_array_get(rx, i), "msid"), leg) == 0;
    return n;
}

START_TEST(test_a_room_of_five_guests_each_receive_the_four_others)
{
    static const char *const low[] = {"--video-kbps", "200", NULL};
    struct peer_run r;
    json_t *g[5] = {NULL};

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&r, 5, 8, low); /* the capacity benchmark's room, in one process */
    ck_assert_int_eq(peer_wait(&r, 20, g, 5), 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_msg(json_is_true(json_object_get(g[i], "connected")), "guest %d", i);
        for (int k = 0; k < 5; k++) {
            const char *from = str(g[k], "leg");

            if (k == i)
                continue;
            ck_assert_msg(
                received_from(g[i], from, "audio") > 50 && received_from(g[i], from, "video") > 50,
                "guest %d from guest %d: %lld audio, %lld video packets (%zu streams "
                "offered; %lld of unknown SSRCs; end \"%s\")",
                i, k, received_from(g[i], from, "audio"), received_from(g[i], from, "video"),
                streams_from(g[i], from), num(g[i], "unknownSsrc"), str(g[i], "end"));
        }
        ck_assert_int_eq(num(g[i], "undecryptable"), 0);
    }
    for (int i = 0; i < 5; i++)
        json_decref(g[i]);
}
END_TEST

START_TEST(test_a_forged_fingerprint_fails_the_leg_and_nothing_of_it_is_forwarded)
{
    static const char *const forge[] = {"--forge-fingerprint", NULL};
    struct peer_run honest, forger;
    json_t *h = NULL, *f = NULL;
    const char *leg;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&honest, 1, 8, NULL);
    sleep(2); /* connected: the forger's media would reach it */
    peer_start(&forger, 1, 6, forge);
    ck_assert_int_eq(peer_wait(&forger, 20, &f, 1), 1);
    ck_assert_int_eq(peer_wait(&honest, 20, &h, 1), 1);
    ck_assert_msg(strncmp(str(f, "end"), "dtlsFailed", 10) == 0, "end: %s", str(f, "end"));
    ck_assert_msg(!json_is_true(json_object_get(f, "connected")), "the forger got SRTP keys");
    leg = str(f, "leg");
    ck_assert_msg(json_is_true(json_object_get(h, "connected")), "the honest guest connected");
    ck_assert_msg(streams_from(h, leg) == 2, "the honest guest was offered the forger's streams");
    ck_assert_int_eq(received_from(h, leg, NULL), 0);
    ck_assert_int_eq(num(h, "undecryptable"), 0);
    ck_assert_int_eq(num(h, "unknownSsrc"), 0);
    json_decref(h);
    json_decref(f);
}
END_TEST

/* True when coturn's log shows the allocation whose relayed address is relayed ("ADDR:PORT")
 * deleted: the session created right after "Local relay addr: <relayed>" was refreshed with
 * lifetime 0 (coturn --verbose). */
static bool coturn_released(const char *relayed)
{
    char path[128], line[2048], needle[128], session[64] = "";
    bool next = false, released = false;
    FILE *f;

    snprintf(path, sizeof(path), "%s/turnserver.log", co.dir);
    snprintf(needle, sizeof(needle), "Local relay addr: %s\n", relayed);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f) && !released) {
        const char *s = strstr(line, "session ");

        if (next && s && strstr(s, ": new,")) {
            snprintf(session, sizeof(session), "%.*s", (int)strcspn(s, ":"), s);
            next = false;
        } else if (strstr(line, needle)) {
            next = true;
        } else if (session[0] && s && strncmp(s, session, strlen(session)) == 0 &&
                   strstr(s, "refreshed,") && strstr(s, "lifetime=0")) {
            released = true;
        }
    }
    if (f)
        fclose(f);
    return released;
}

START_TEST(test_a_silent_guest_times_out_and_its_allocation_is_released)
{
    static const char *const silent[] = {"--silent-after", "2", NULL};
    char path[160];
    struct peer_run r;
    json_t *g = NULL;
    long long end_ms;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&r, 1, 20, silent);
    ck_assert_int_eq(peer_wait(&r, 40, &g, 1), 1);
    ck_assert_msg(json_is_true(json_object_get(g, "connected")),
                  "it connected before going silent");
    ck_assert_msg(strncmp(str(g, "end"), "timeout", 7) == 0, "end: %s", str(g, "end"));
    end_ms = num(g, "endMs") - num(g, "connectMs");
    /* silent from 2 s after it connected; the leg may stay 5 s silent; a second for the
     * housekeeping tick */
    ck_assert_msg(end_ms >= (SILENT_AFTER_S + GUEST_TIMEOUT_S - 1) * 1000 &&
                      end_ms <= (SILENT_AFTER_S + GUEST_TIMEOUT_S + 2) * 1000,
                  "ended %lld ms after it connected", end_ms);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%s", str(g, "leg"));
    ck_assert_int_eq(admin("GET", path, NULL, 0), 404);
    ck_assert_msg(coturn_released(str(g, "remoteCandidate")),
                  "coturn's log shows no release of callbridged's relay %s",
                  str(g, "remoteCandidate"));
    json_decref(g);
}
END_TEST

/* Sends count RTP-looking datagrams from a new socket on 127.0.0.1 (an address the relay
 * permits, another port) to 127.0.0.1:port. */
static void stranger_sends(unsigned port, int count)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    uint8_t pkt[200] = {0x80, 111};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < count; i++) {
        pkt[3] = (uint8_t)i;
        ck_assert_int_eq(sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)),
                         (ssize_t)sizeof(pkt));
        usleep(2000);
    }
    close(fd);
}

START_TEST(test_a_strangers_datagrams_are_counted_and_not_forwarded)
{
    static char body[16384];
    char ids[4][64], path[160], cand[64];
    long long before, after;
    struct peer_run r;
    json_t *g[2] = {NULL, NULL};
    unsigned port = 0;

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&r, 2, 7, NULL);
    wait_connected(ids, 2);
    snprintf(path, sizeof(path), "/api/v1/callLegs/%.63s", ids[0]);
    ck_assert_int_eq(admin("GET", path, body, sizeof(body)), 200);
    th_xml_text(body, "localCandidate", cand, sizeof(cand));
    ck_assert_msg(sscanf(cand, "relay 127.0.0.1:%u", &port) == 1, "%s", body);
    before = xml_int_in(body, "media", "packetsFromStrangers");
    stranger_sends(port, 20);
    usleep(500 * 1000);
    ck_assert_int_eq(admin("GET", path, body, sizeof(body)), 200);
    after = xml_int_in(body, "media", "packetsFromStrangers");
    ck_assert_msg(after >= before + 20, "packetsFromStrangers %lld then %lld", before, after);
    ck_assert_int_eq(peer_wait(&r, 20, g, 2), 2);
    for (int i = 0; i < 2; i++) { /* what reached each guest is the other's, all of it valid */
        const char *from = str(g[1 - i], "leg");

        ck_assert_int_gt(received_from(g[i], from, "audio"), 0);
        ck_assert_int_le(received_from(g[i], from, "audio"), sent(g[1 - i], "audio"));
        ck_assert_int_eq(num(g[i], "undecryptable"), 0);
        ck_assert_int_eq(num(g[i], "unknownSsrc"), 0);
    }
    json_decref(g[0]);
    json_decref(g[1]);
}
END_TEST

/* What callbridged has sent guest leg of kind ("txAudio", "txVideo"), by its GET. */
static long long sent_to(const char *leg, const char *kind)
{
    static char body[16384];
    char path[160];

    snprintf(path, sizeof(path), "/api/v1/callLegs/%.63s", leg);
    ck_assert_int_eq(admin("GET", path, body, sizeof(body)), 200);
    return xml_int_in(body, kind, "packetsSent");
}

/* Call control (PUT /callLegs rxAudioMute): a muted guest's audio is not forwarded to the
 * other guest, whose txAudio stops growing while its txVideo goes on, and resumes on unmute. */
START_TEST(test_a_muted_guests_audio_stops_reaching_the_other)
{
    long long a0, a1, a2, a3, v0, v1;
    struct peer_run r;
    json_t *g[2] = {NULL, NULL};
    char ids[4][64], path[160];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    peer_start(&r, 2, 16, NULL);
    wait_connected(ids, 2);
    for (int i = 0; i < 100 && sent_to(ids[1], "txAudio") < 20; i++)
        usleep(100 * 1000); /* the audio flows (ASan: a few seconds after connected) */
    snprintf(path, sizeof(path), "/api/v1/callLegs/%.63s", ids[0]);
    ck_assert_int_eq(th_admin_keep(&d, "PUT", path, "rxAudioMute=true", NULL, 0, NULL), 200);
    /* the status is published once a second: what GET shows then is after the mute */
    usleep(1500 * 1000);
    a0 = sent_to(ids[1], "txAudio");
    v0 = sent_to(ids[1], "txVideo");
    sleep(2);
    a1 = sent_to(ids[1], "txAudio");
    v1 = sent_to(ids[1], "txVideo");
    ck_assert_msg(a1 - a0 <= 2, "muted audio still forwarded: %lld then %lld", a0, a1);
    ck_assert_msg(v1 - v0 > 20, "video stopped too: %lld then %lld", v0, v1);
    ck_assert_int_eq(th_admin_keep(&d, "PUT", path, "rxAudioMute=false", NULL, 0, NULL), 200);
    usleep(1500 * 1000);
    a2 = sent_to(ids[1], "txAudio");
    sleep(2);
    a3 = sent_to(ids[1], "txAudio");
    ck_assert_msg(a3 - a2 > 20, "unmuted audio not forwarded: %lld then %lld", a2, a3);
    ck_assert_int_eq(peer_wait(&r, 20, g, 2), 2);
    json_decref(g[0]);
    json_decref(g[1]);
}
END_TEST

Suite *it_rtcpeer_suite(void)
{
    Suite *s = suite_create("it_rtcpeer");
    TCase *tc = tcase_create("rtcpeer");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_two_guests_exchange_audio_and_video_through_callbridged);
    tcase_add_test(tc, test_a_forged_fingerprint_fails_the_leg_and_nothing_of_it_is_forwarded);
    tcase_add_test(tc, test_a_silent_guest_times_out_and_its_allocation_is_released);
    tcase_add_test(tc, test_a_strangers_datagrams_are_counted_and_not_forwarded);
    tcase_add_test(tc, test_a_muted_guests_audio_stops_reaching_the_other);
    suite_add_tcase(s, tc);
    tc = tcase_create("room"); /* the capacity benchmark's shape, on a daemon of its own */
    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_a_room_of_five_guests_each_receive_the_four_others);
    suite_add_tcase(s, tc);
    return s;
}
