/* tests/test_it_cbctl.c: cbctl (env CBCTL, default build/rel/cbctl) against the real daemon and
 * coturn: provisioning verbs, output modes, paging, exit codes with the one-line messages, and
 * the Nagios check's four states. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

static struct th_daemon d;
static struct th_coturn co;
static char why[128], url[64], pwfile[128], badpw[128];

static void start(void)
{
    FILE *f;

    th_daemon_coturn_start(&d, &co, why, sizeof(why));
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", d.ports[0]);
    snprintf(pwfile, sizeof(pwfile), "%s/cbctl-password", d.dir);
    snprintf(badpw, sizeof(badpw), "%s/cbctl-wrong", d.dir);
    f = fopen(pwfile, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", d.password);
    fclose(f);
    f = fopen(badpw, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "not-the-password\n");
    fclose(f);
}

static void stop(void)
{
    th_daemon_coturn_stop(&d, &co);
}

struct out {
    int code;
    char out[256 * 1024], err[4096];
};

/* Runs cbctl with the connection from the environment (url, password file, --cacert unless
 * bare) and args (NULL-terminated); stdout and stderr apart. */
static void cbctl_env(struct out *o, const char *u, const char *pw, bool bare,
                      const char *const *args)
{
    const char *argv[48];
    const char *bin = getenv("CBCTL") ? getenv("CBCTL") : "build/rel/cbctl";
    char url_var[96], pw_var[160];
    const char *env[] = {url_var,
                         pw_var,
                         "CBCTL_PASSWORD=",
                         "CBCTL_USER=",
                         "XDG_CONFIG_HOME=/nonexistent", /* no config file of the user's */
                         NULL};
    size_t argc = 0;

    argv[argc++] = bin;
    if (!bare) {
        argv[argc++] = "--cacert";
        argv[argc++] = d.cacert;
    }
    for (size_t i = 0; args[i] && argc < 46; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    snprintf(url_var, sizeof(url_var), "CBCTL_URL=%s", u);
    snprintf(pw_var, sizeof(pw_var), "CBCTL_PASSWORD_FILE=%s", pw);
    o->code = th_run(bin, argv, env, NULL, o->out, sizeof(o->out), o->err, sizeof(o->err));
}

#define CBCTL(o, ...) cbctl_env((o), url, pwfile, false, (const char *const[]){__VA_ARGS__, NULL})

static size_t lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* stderr is exactly one line that contains each of the given pieces */
static void one_line_error(const struct out *o, const char *a, const char *b)
{
    ck_assert_msg(lines(o->err) == 1, "stderr: %s", o->err);
    ck_assert_msg(strstr(o->err, a) && (!b || strstr(o->err, b)), "stderr: %s", o->err);
}

START_TEST(test_cbctl_provisioning_and_exit_codes)
{
    static struct out o;
    char id[64];

    CBCTL(&o, "cospace", "add", "--name", "Team Room", "--uri", "team.room", "--passcode", "0123");
    ck_assert_msg(o.code == 0, "%d %s", o.code, o.err);
    ck_assert_uint_eq(strlen(o.out), 37); /* the new id and a newline */
    snprintf(id, sizeof(id), "%.36s", o.out);

    CBCTL(&o, "cospace", "list");
    ck_assert_int_eq(o.code, 0);
    ck_assert_msg(strncmp(o.out, "id ", 3) == 0 && strstr(o.out, "Team Room") && strstr(o.out, id),
                  "%s", o.out);
    CBCTL(&o, "cospace", "show", id);
    ck_assert_int_eq(o.code, 0);
    ck_assert_msg(strstr(o.out, "name: Team Room\n") && strstr(o.out, "uri: team.room\n"), "%s",
                  o.out);
    CBCTL(&o, "cospace", "show", id, "--json");
    ck_assert_int_eq(o.code, 0);
    ck_assert_msg(strstr(o.out, "\"name\": \"Team Room\"") &&
                      strstr(o.out, "\"passcode\": \"0123\""),
                  "%s", o.out);
    CBCTL(&o, "cospace", "show", id, "--xml");
    ck_assert_int_eq(o.code, 0);
    ck_assert_msg(strncmp(o.out, "<?xml", 5) == 0 && strstr(o.out, "<name>Team Room</name>"), "%s",
                  o.out);

    CBCTL(&o, "cospace", "set", id, "--name", "Renamed");
    ck_assert_int_eq(o.code, 0);
    CBCTL(&o, "cospace", "show", id);
    ck_assert_ptr_nonnull(strstr(o.out, "name: Renamed\n"));
    CBCTL(&o, "cospace", "rm", id);
    ck_assert_int_eq(o.code, 0);

    /* not found: 3, and one line naming the failure */
    CBCTL(&o, "cospace", "show", id);
    ck_assert_int_eq(o.code, 3);
    ck_assert_str_eq(o.out, "");
    one_line_error(&o, "404", "coSpaceDoesNotExist");
    /* refused by the server: 4 */
    CBCTL(&o, "turn", "add", "--serverAddress", "bad address!");
    ck_assert_int_eq(o.code, 4);
    one_line_error(&o, "parameterError parameter=serverAddress error=invalidValue", NULL);
    cbctl_env(&o, url, badpw, false, (const char *const[]){"system", "status", NULL});
    ck_assert_int_eq(o.code, 4);
    one_line_error(&o, "401", "user 'admin'");
    /* usage: 2 */
    CBCTL(&o, "nosuch", "list");
    ck_assert_int_eq(o.code, 2);
    CBCTL(&o, "turn", "list", "--limit", "x");
    ck_assert_int_eq(o.code, 2);
    CBCTL(&o, "turn", "frobnicate", "1");
    ck_assert_int_eq(o.code, 2);
    /* no connection: 5, the certificate case with what to do */
    cbctl_env(&o, url, pwfile, true, (const char *const[]){"system", "status", NULL});
    ck_assert_int_eq(o.code, 5);
    one_line_error(&o, "not trusted", "--cacert");
    cbctl_env(&o, url, pwfile, true, (const char *const[]){"--insecure", "system", "status", NULL});
    ck_assert_int_eq(o.code, 0);
    ck_assert_ptr_nonnull(strstr(o.out, "softwareVersion: "));
    cbctl_env(&o, "https://127.0.0.1:1", pwfile, false,
              (const char *const[]){"system", "status", NULL});
    ck_assert_int_eq(o.code, 5);
    one_line_error(&o, "127.0.0.1:1", NULL);
    /* flags win over the environment */
    cbctl_env(
        &o, "https://127.0.0.1:1", badpw, false,
        (const char *const[]){"--url", url, "--password-file", pwfile, "system", "status", NULL});
    ck_assert_int_eq(o.code, 0);

    CBCTL(&o, "--help");
    ck_assert_int_eq(o.code, 0);
    ck_assert_ptr_nonnull(strstr(o.out, "Usage: cbctl"));
    CBCTL(&o, "rule", "--help");
    ck_assert_int_eq(o.code, 0);
    ck_assert_ptr_nonnull(strstr(o.out, "cbctl rule add"));
    CBCTL(&o, "check", "--help");
    ck_assert_int_eq(o.code, 0);
    ck_assert_ptr_nonnull(strstr(o.out, "3 UNKNOWN"));
}
END_TEST

START_TEST(test_cbctl_calls_and_legs)
{
    static struct out o;
    char space[64], callid[64], leg[64], in[64];

    CBCTL(&o, "cospace", "add", "--name", "Leg Room", "--uri", "leg.room");
    ck_assert_int_eq(o.code, 0);
    snprintf(space, sizeof(space), "%.36s", o.out);
    CBCTL(&o, "rule", "add", "--domain", "legs.example.com");
    ck_assert_int_eq(o.code, 0);
    CBCTL(&o, "call", "add", "--coSpace", space);
    ck_assert_msg(o.code == 0, "%s", o.err);
    snprintf(callid, sizeof(callid), "%.36s", o.out);
    CBCTL(&o, "leg", "add", "--call", callid, "--remoteParty", "alice@example.com",
          "--remoteMediaAddress", "127.0.0.1:40000");
    ck_assert_msg(o.code == 0, "%s", o.err);
    snprintf(leg, sizeof(leg), "%.36s", o.out);
    CBCTL(&o, "leg", "add", "--destination", "leg.room@legs.example.com");
    ck_assert_msg(o.code == 0, "%s", o.err);
    snprintf(in, sizeof(in), "%.36s", o.out);
    CBCTL(&o, "call", "show", callid);
    ck_assert_msg(strstr(o.out, "numCallLegs: 2\n"), "%s", o.out); /* the incoming one joined */
    CBCTL(&o, "leg", "show", leg);
    ck_assert_msg(strstr(o.out, "remoteParty: alice@example.com\n") &&
                      strstr(o.out, "status.state: "),
                  "%s", o.out);
    CBCTL(&o, "leg", "list", "-q", "--call", callid);
    ck_assert_msg(strstr(o.out, leg) && strstr(o.out, in) && lines(o.out) == 2, "%s", o.out);
    CBCTL(&o, "leg", "add", "--destination", "nobody@nowhere.example.com");
    ck_assert_int_eq(o.code, 4);
    one_line_error(&o, "400", NULL);
    CBCTL(&o, "call", "rm", callid);
    ck_assert_int_eq(o.code, 0);
    CBCTL(&o, "leg", "show", leg);
    ck_assert_int_eq(o.code, 3);
}
END_TEST

START_TEST(test_cbctl_lists_every_page)
{
    static struct out o;
    struct th_resp r;
    char form[64];

    /* more than one page of the largest size the API gives (1000) */
    for (int i = 0; i < 1005; i++) {
        snprintf(form, sizeof(form), "name=paging-tenant-%04d", i);
        th_admin(&d, "POST", "/api/v1/tenants", form, &r);
        ck_assert_int_eq(r.status, 200);
        th_resp_free(&r);
    }
    CBCTL(&o, "tenant", "list", "-q");
    ck_assert_int_eq(o.code, 0);
    ck_assert_uint_eq(lines(o.out), 1005);
    CBCTL(&o, "tenant", "list", "-q", "--limit", "7");
    ck_assert_uint_eq(lines(o.out), 7);
    CBCTL(&o, "tenant", "list", "--json", "--filter", "paging-tenant-100");
    ck_assert_int_eq(o.code, 0);
    ck_assert_msg(strstr(o.out, "\"total\": 5") && strstr(o.out, "paging-tenant-1004"), "%s",
                  o.out);
    CBCTL(&o, "tenant", "list");
    ck_assert_uint_eq(lines(o.out), 1006); /* and a header */
}
END_TEST

static void add_turn(const char *address, const char *password, char *id)
{
    static struct out o;

    CBCTL(&o, "turn", "add", "--serverAddress", address, "--username", "alice", "--password",
          password);
    ck_assert_msg(o.code == 0, "%s", o.err);
    snprintf(id, 64, "%.36s", o.out);
    CBCTL(&o, "turn", "status", id); /* waits for the first probe */
    ck_assert_int_eq(o.code, 0);
}

START_TEST(test_cbctl_check_turn_states)
{
    static struct out o;
    struct th_relay relay;
    char addr[64], good[64], slow[64], wrong[64], down[64];

    if (!co.pid) {
        th_skip_missing_dep("coturn");
        return;
    }
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", co.port);
    add_turn(addr, "secret", good);
    add_turn(addr, "wrong", wrong);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", th_free_port());
    add_turn(addr, "secret", down);         /* nothing listens: coturn down */
    th_relay_start(&relay, co.port, 20000); /* 20 ms each way */
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", relay.port);
    add_turn(addr, "secret", slow);

    CBCTL(&o, "check", "turn", good, "--warn-rtt", "50", "--crit-rtt", "100");
    ck_assert_msg(o.code == 0, "%d %s", o.code, o.out);
    ck_assert_msg(strncmp(o.out, "TURN OK - 1 of 1 addresses reachable", 36) == 0, "%s", o.out);
    snprintf(addr, sizeof(addr), "| 'rtt_127.0.0.1:%u/udp'=", co.port);
    ck_assert_msg(strstr(o.out, addr) && strstr(o.out, "ms;50;100\n"), "%s", o.out);
    ck_assert_uint_eq(lines(o.out), 1);

    CBCTL(&o, "check", "turn", slow, "--warn-rtt", "10", "--crit-rtt", "1000");
    ck_assert_msg(o.code == 1, "%d %s", o.code, o.out);
    ck_assert_msg(strncmp(o.out, "TURN WARNING - ", 15) == 0, "%s", o.out);
    CBCTL(&o, "check", "turn", slow, "--warn-rtt", "5", "--crit-rtt", "10");
    ck_assert_msg(o.code == 2, "%d %s", o.code, o.out);

    CBCTL(&o, "check", "turn", good, wrong);
    ck_assert_msg(o.code == 2 && strstr(o.out, "TURN CRITICAL - ") && strstr(o.out, "unauthorized"),
                  "%d %s", o.code, o.out);
    CBCTL(&o, "check", "turn", down);
    ck_assert_msg(o.code == 2 && strstr(o.out, "portUnreachable"), "%d %s", o.code, o.out);

    /* the API itself: unreachable, or our credentials refused */
    cbctl_env(&o, "https://127.0.0.1:1", pwfile, false,
              (const char *const[]){"check", "turn", NULL});
    ck_assert_int_eq(o.code, 3);
    ck_assert_msg(strncmp(o.out, "TURN UNKNOWN - ", 15) == 0, "%s", o.out);
    cbctl_env(&o, url, badpw, false, (const char *const[]){"check", "turn", NULL});
    ck_assert_int_eq(o.code, 3);
    CBCTL(&o, "check", "turn", "--warn-rtt", "abc");
    ck_assert_int_eq(o.code, 3);
    th_relay_stop(&relay);
}
END_TEST

Suite *it_cbctl_suite(void)
{
    Suite *s = suite_create("it_cbctl");
    TCase *tc = tcase_create("cbctl");

    tcase_add_unchecked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cbctl_provisioning_and_exit_codes);
    tcase_add_test(tc, test_cbctl_calls_and_legs);
    tcase_add_test(tc, test_cbctl_lists_every_page);
    tcase_add_test(tc, test_cbctl_check_turn_states);
    suite_add_tcase(s, tc);
    return s;
}
