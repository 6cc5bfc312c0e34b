/* tests/test_it_cluster.c: three real callbridged nodes on one PostgreSQL primary with a
 * streaming replica (tests/pg_server.h), as a CMS cluster of call bridges:
 * - membership: each node registers itself as a callBridges object (any node lists the three),
 *   system/status says clusterEnabled, system/database shows the primary and its streaming
 *   replica and the three nodes up; a node killed with SIGKILL is shown down by the others
 *   within a bounded time, and up again after its restart, which updates its object (no
 *   duplicate); a node stopped with SIGTERM is shown stopped; a second node under a name that a
 *   live node holds is refused at start.
 * - TURN views: each node answers with its own prober's view, naming itself, and shows another
 *   node's on request (?callBridge=<id or name>), with that node named and the view's age; with
 *   one node in a network namespace of its own (a veth pair; PostgreSQL and its API reached
 *   through forwarders of the test), a coturn on the test's loopback is reachable from one node
 *   only, and the two views differ.
 * - LDAP: two nodes, one sync (of a server that never answers, so it stays running): exactly one
 *   node runs it; a restart of the other node does not take it away; once its node is killed,
 *   the other node takes it up when it shows that node down.
 * Every node has its own data directory with the same secret.key (copied from the first). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "tests/cluster_helpers.h"
#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"
#include "tests/suites.h"

#define NODES 3
#define POLL_MS 100
#define DOWN_POLLS 150 /* 15 s: a node heartbeating every second is down after 3 */

static struct th_pg primary, replica;
static struct th_daemon nodes[NODES];
static const char *const names[NODES] = {"cb-east", "cb-west", "cb-north"};

/* A primary and a streaming replica; the role may read the replication statistics. */
static bool cluster_db_up(void)
{
    char out[128];

    memset(nodes, 0, sizeof(nodes));
    memset(&primary, 0, sizeof(primary));
    memset(&replica, 0, sizeof(replica));
    if (!th_pg_or_skip())
        return false;
    th_pg_start(&primary);
    th_pg_start_replica(&replica, &primary, false);
    ck_assert_int_eq(
        th_pg_sql(&primary, "postgres", "GRANT pg_monitor TO callbridge", out, sizeof(out)), 0);
    return true;
}

/* Node i on the primary, heartbeating every second, named names[i]. The first start of a node
 * after the first gets the first's secret.key. */
static void node_start(size_t i)
{
    char address[64];

    (void)snprintf(address, sizeof(address), "https://%s.example.com:8443", names[i]);
    th_cluster_node_start(&nodes[i], &nodes[0], primary.url, names[i], address, "0", NULL);
}

static void netns_teardown(void);

static void teardown(void)
{
    for (size_t i = 0; i < NODES; i++)
        if (nodes[i].dir[0])
            th_daemon_destroy(&nodes[i]);
    netns_teardown();
    th_pg_stop(&replica);
    th_pg_stop(&primary);
}

/* Stops every running node, each of which must exit cleanly, its log free of sanitizer
 * reports (a UBSan report does not always end the process). */
static void nodes_stop_clean(void)
{
    for (size_t i = 0; i < NODES; i++) {
        if (nodes[i].pid <= 0)
            continue;
        ck_assert_msg(th_daemon_stop(&nodes[i]) == 0, "%s did not exit cleanly", names[i]);
        ck_assert_msg(th_log_count(&nodes[i], "runtime error") == 0 &&
                          th_log_count(&nodes[i], "Sanitizer") == 0,
                      "%s: a sanitizer report in %s", names[i], nodes[i].log);
    }
}

static long get(size_t i, const char *path, char *body, size_t cap)
{
    return th_admin_keep(&nodes[i], "GET", path, NULL, body, cap, NULL);
}

/* GETs path on node i until its body holds text (has) or no longer holds it (!has): 50 polls of
 * POLL_MS (a view is published with the heartbeat, every second). */
static void get_until(size_t i, const char *path, const char *text, bool has, char *body,
                      size_t cap)
{
    for (int k = 0; k < 50; k++) {
        ck_assert_int_eq(get(i, path, body, cap), 200);
        if ((strstr(body, text) != NULL) == has)
            return;
        (void)usleep(POLL_MS * 1000);
    }
}

/* The <callBridge .../> element of the node named name in node i's system/database. */
static void bridge_entry(size_t i, const char *name, char *out, size_t cap)
{
    th_cluster_bridge_entry(&nodes[i], name, out, cap);
}

/* Polls node i's view of node name until its state is state (bounded). */
static void wait_state(size_t i, const char *name, const char *state)
{
    char entry[512] = "", want[48];

    (void)snprintf(want, sizeof(want), "state=\"%s\"", state);
    for (int k = 0; k < DOWN_POLLS; k++) {
        bridge_entry(i, name, entry, sizeof(entry));
        if (strstr(entry, want))
            return;
        (void)usleep(POLL_MS * 1000);
    }
    ck_abort_msg("%s never shown %s by %s: %s", name, state, names[i], entry);
}

/* The id of the callBridges object named name, from node i's list ("" when none); the number
 * of objects of that name in *ret_count. */
static void bridge_id(size_t i, const char *name, char *id, size_t cap, int *ret_count)
{
    char body[8192], needle[96];
    const char *p;

    ck_assert_int_eq(get(i, "/api/v1/callBridges?limit=100", body, sizeof(body)), 200);
    id[0] = '\0';
    *ret_count = 0;
    (void)snprintf(needle, sizeof(needle), "<name>%s</name>", name);
    for (p = strstr(body, needle); p; p = strstr(p + 1, needle)) {
        const char *q = p;

        while (q > body && strncmp(q, "<callBridge id=\"", 16) != 0)
            q--;
        (void)snprintf(id, cap, "%.36s", q + 16);
        (*ret_count)++;
    }
}

/* Runs callbridged with args; true when it exits non-zero within 20 s (killed otherwise), its
 * output in out. */
static bool refused(const char *const *args, char *out, size_t cap)
{
    char log[128];
    int status = 0, fd;
    bool exited = false;
    pid_t pid;

    (void)snprintf(log, sizeof(log), "%s/refused.log", args[2]);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        (void)setenv("CALLBRIDGE_ADMIN_PASSWORD", "refused-node-pw", 1);
        execv(th_daemon_path(), (char *const *)(uintptr_t)args);
        _exit(127);
    }
    for (int i = 0; i < 200 && !exited; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            exited = true;
        else
            (void)usleep(100 * 1000);
    }
    if (!exited) {
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    out[0] = '\0';
    fd = open(log, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, out, cap - 1);

        out[n > 0 ? n : 0] = '\0';
        (void)close(fd);
    }
    return exited && WIFEXITED(status) && WEXITSTATUS(status) != 0;
}

/* Polls node i's /system/alarms until it holds text (has) or no longer does (!has); asserts. */
static void alarms_until(size_t i, const char *text, bool has)
{
    char body[8192];

    get_until(i, "/api/v1/system/alarms", text, has, body, sizeof(body));
    ck_assert_msg((strstr(body, text) != NULL) == has, "%s %s in %s", has ? "no" : "still", text,
                  body);
}

/* cb-west paused past the down time, its name taken by a node of another data directory: once
 * it runs again it is out of the cluster (a warning, the alarm callBridgeConnectionFailure),
 * and registers again, shown up, when that node stopped. */
static void name_taken_while_shown_down(void)
{
    static struct th_daemon other;
    char address[64];

    ck_assert_int_eq(kill(nodes[1].pid, SIGSTOP), 0);
    wait_state(0, names[1], "down");
    memset(&other, 0, sizeof(other));
    (void)snprintf(address, sizeof(address), "https://%s.example.com:8443", names[1]);
    th_cluster_node_start(&other, &nodes[0], primary.url, names[1], address, "0", NULL);
    wait_state(0, names[1], "up");
    ck_assert_int_eq(kill(nodes[1].pid, SIGCONT), 0);
    alarms_until(1, "<type>callBridgeConnectionFailure</type>", true);
    ck_assert_int_eq(th_log_count(&nodes[1], "was registered by another call bridge"), 1);
    ck_assert_int_eq(th_daemon_stop(&other), 0);
    th_daemon_destroy(&other);
    alarms_until(1, "<type>callBridgeConnectionFailure</type>", false);
    ck_assert_int_eq(th_log_count(&nodes[1], "registered again"), 1);
    wait_state(0, names[1], "up");
}

START_TEST(test_three_nodes_register_and_are_shown_up_down_and_stopped)
{
    char body[8192], entry[512], before[64], after[64], dir[64], out[4096], state[40], cluster[40];
    const char *args[16];
    int count = 0;

    if (!cluster_db_up())
        return;
    for (size_t i = 0; i < NODES; i++)
        node_start(i);
    for (size_t i = 0; i < NODES; i++) {
        ck_assert_int_eq(get(i, "/api/v1/callBridges", body, sizeof(body)), 200);
        ck_assert_msg(strstr(body, "<callBridges total=\"3\">"), "%s: %s", names[i], body);
        for (size_t k = 0; k < NODES; k++) {
            char needle[64];

            (void)snprintf(needle, sizeof(needle), "<name>%s</name>", names[k]);
            ck_assert_msg(strstr(body, needle), "%s lacks %s: %s", names[i], names[k], body);
        }
        ck_assert_int_eq(get(i, "/api/v1/system/status", body, sizeof(body)), 200);
        ck_assert_msg(strstr(body, "<clusterEnabled>true</clusterEnabled>"), "%s", body);
        /* one clusterId on every node: the first node's */
        th_xml_text(body, "clusterId", entry, sizeof(cluster));
        if (i == 0)
            memcpy(cluster, entry, sizeof(cluster));
        ck_assert_int_eq(strlen(entry), 36);
        ck_assert_str_eq(entry, cluster);
    }
    /* the object says where the node is reached */
    bridge_id(0, names[1], before, sizeof(before), &count);
    ck_assert_int_eq(count, 1);
    (void)snprintf(out, sizeof(out), "/api/v1/callBridges/%s", before);
    ck_assert_int_eq(get(2, out, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<address>https://cb-west.example.com:8443</address>"), "%s", body);

    /* the database: the primary in use, its replica streaming (wait for the walsender) */
    for (int k = 0; k < 100; k++) {
        ck_assert_int_eq(get(1, "/api/v1/system/database", body, sizeof(body)), 200);
        if (strstr(body, "state=\"streaming\""))
            break;
        (void)usleep(POLL_MS * 1000);
    }
    ck_assert_msg(strstr(body, "<database clustered=\"enabled\"><cluster>"), "%s", body);
    ck_assert_msg(strstr(body, "<totalNodes>2</totalNodes>"), "%s", body);
    th_xml_text(body, "nodeInUse", state, sizeof(state));
    ck_assert_str_eq(state, "127.0.0.1");
    (void)snprintf(out, sizeof(out), "master=\"true\" port=\"%u\" inUse=\"true\"", primary.port);
    ck_assert_msg(strstr(body, out), "no primary (%s) in %s", out, body);
    ck_assert_msg(strstr(body, "up=\"true\" syncBehind=\"") &&
                      strstr(body, "master=\"false\" inUse=\"false\""),
                  "no replica in %s", body);
    ck_assert_msg(strstr(body, "state=\"streaming\" syncState=\"async\""), "%s", body);
    ck_assert_msg(strstr(body, "<callBridges total=\"3\" answeredBy=\""), "%s", body);
    for (size_t k = 0; k < NODES; k++) {
        bridge_entry(1, names[k], entry, sizeof(entry));
        ck_assert_msg(strstr(entry, "state=\"up\""), "%s", entry);
        ck_assert_msg(strstr(entry, k == 1 ? "self=\"true\"" : "self=\"false\""), "%s", entry);
    }

    /* killed: the others show it down within a few intervals, and up again after a restart
     * that keeps its object */
    bridge_id(0, names[2], before, sizeof(before), &count);
    ck_assert_int_eq(count, 1);
    th_daemon_kill9(&nodes[2]);
    wait_state(0, names[2], "down");
    wait_state(1, names[2], "down");
    node_start(2);
    wait_state(0, names[2], "up");
    bridge_id(2, names[2], after, sizeof(after), &count);
    ck_assert_int_eq(count, 1);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(get(2, "/api/v1/callBridges", body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<callBridges total=\"3\">"), "%s", body);

    /* a second node under a live node's name (any case) is refused at start */
    th_tmpdir(dir);
    (void)snprintf(out, sizeof(out), "%s/secret.key", nodes[0].dir);
    (void)snprintf(entry, sizeof(entry), "%s/secret.key", dir);
    th_copy_file(out, entry);
    {
        const char *const a[] = {"callbridged", "--data-dir",  dir,       "--bind",
                                 "127.0.0.1",   "--listen",    "0",       "--database",
                                 primary.url,   "--node-name", "CB-EAST", "--heartbeat-interval",
                                 "1",           NULL};

        memcpy(args, a, sizeof(a));
    }
    ck_assert_msg(refused(args, out, sizeof(out)), "not refused: %s", out);
    ck_assert_msg(strstr(out, "another call bridge named 'CB-EAST' is up"), "%s", out);
    th_rmdir(dir);
    bridge_id(0, "CB-EAST", after, sizeof(after), &count);
    ck_assert_int_eq(count, 0);

    name_taken_while_shown_down();

    /* stopped cleanly: shown stopped at once */
    ck_assert_int_eq(th_daemon_stop(&nodes[1]), 0);
    bridge_entry(0, names[1], entry, sizeof(entry));
    ck_assert_msg(strstr(entry, "state=\"stopped\""), "%s", entry);
    nodes_stop_clean();
}
END_TEST

/* Each node answers with its own view, naming itself; another's on request, as published. */
START_TEST(test_each_node_shows_its_own_turn_view_and_another_on_request)
{
    struct th_coturn co = {0};
    char why[128], body[8192], loc[160], path[192], id[64], self[64], v[64];
    const char *slash;
    int count = 0;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn (scripts/install-deps.sh test)");
        return;
    }
    if (!cluster_db_up())
        return;
    th_coturn_start(&co, NULL);
    node_start(0);
    node_start(1);
    (void)snprintf(body, sizeof(body),
                   "serverAddress=127.0.0.1:%u&username=alice&password=secret&type=standard",
                   co.port);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/turnServers", body, NULL, 0, loc),
                     200);
    slash = strrchr(loc, '/');
    ck_assert_ptr_nonnull(slash);
    (void)snprintf(id, sizeof(id), "%s", slash + 1);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", id);

    /* each node's own view names it */
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(get(i, path, body, sizeof(body)), 200);
        ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
        th_xml_text(body, "callBridgeName", v, sizeof(v));
        ck_assert_str_eq(v, names[i]);
        bridge_id(i, names[i], self, sizeof(self), &count);
        th_xml_text(body, "callBridge", v, sizeof(v));
        ck_assert_str_eq(v, self);
        ck_assert_msg(!strstr(body, "viewAgeSeconds"), "%s", body);
        /* /metrics says whose probes its TURN series are */
        ck_assert_int_eq(get(i, "/metrics", body, sizeof(body)), 200);
        (void)snprintf(loc, sizeof(loc),
                       "callbridge_cluster_node_info{name=\"%s\",call_bridge=\"%s\"} 1", names[i],
                       self);
        ck_assert_msg(strstr(body, loc), "no %s in %s", loc, body);
    }

    /* cb-west's view from cb-east, by name, once published (a heartbeat, 1 s) */
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status?callBridge=CB-WEST", id);
    get_until(0, path, "<status>success</status>", true, body, sizeof(body));
    ck_assert_msg(strstr(body, "<status>success</status>"), "%s", body);
    ck_assert_msg(strstr(body, "<reachable>true</reachable>"), "%s", body);
    th_xml_text(body, "callBridgeName", v, sizeof(v));
    ck_assert_str_eq(v, names[1]);
    th_xml_text(body, "callBridgeState", v, sizeof(v));
    ck_assert_str_eq(v, "up");
    ck_assert_msg(strstr(body, "<viewAgeSeconds>"), "%s", body);

    /* cb-east's view from cb-west, by id; this node itself by its own id is its own view */
    bridge_id(1, names[0], self, sizeof(self), &count);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status?callBridge=%s", id, self);
    get_until(1, path, "<status>success</status>", true, body, sizeof(body));
    th_xml_text(body, "callBridgeName", v, sizeof(v));
    ck_assert_str_eq(v, names[0]);
    ck_assert_msg(strstr(body, "<viewAgeSeconds>"), "%s", body);
    ck_assert_int_eq(get(0, path, body, sizeof(body)), 200);
    ck_assert_msg(!strstr(body, "viewAgeSeconds"), "%s", body);

    /* a name no node has */
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status?callBridge=nobody", id);
    ck_assert_int_eq(get(0, path, body, sizeof(body)), 400);
    ck_assert_str_eq(body, "<?xml version=\"1.0\"?><failureDetails><callBridgeDoesNotExist />"
                           "</failureDetails>");
    nodes_stop_clean();
    th_coturn_stop(&co);
}
END_TEST

/* A listening socket that accepts and never answers: an LDAP server whose bind waits. */
static int silent_server(unsigned short *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* not in the nodes started later */

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *ret_port = ntohs(a.sin_port);
    return fd;
}

static void create(size_t i, const char *path, const char *form, char *id, size_t cap)
{
    char body[1024], loc[160];
    long st = th_admin_keep(&nodes[i], "POST", path, form, body, sizeof(body), loc);
    const char *slash = strrchr(loc, '/');

    ck_assert_msg(st == 200, "POST %s %s: %ld %s", path, form, st, body);
    ck_assert_ptr_nonnull(slash);
    (void)snprintf(id, cap, "%s", slash + 1);
}

/* How many of the two nodes' logs (the current one and the previous run's) say the sync
 * started. */
static size_t started(const char *sync)
{
    char needle[96];
    size_t n = 0;

    (void)snprintf(needle, sizeof(needle), "ldap sync %s: started", sync);
    for (size_t i = 0; i < 2; i++) {
        struct th_daemon old = nodes[i];

        n += th_log_count(&nodes[i], needle);
        (void)snprintf(old.log, sizeof(old.log), "%s/daemon.log.prev", nodes[i].dir);
        if (access(old.log, F_OK) == 0)
            n += th_log_count(&old, needle);
    }
    return n;
}

/* Which node's log says it started the sync (-1: none). */
static int runner(const char *sync)
{
    char needle[96];

    (void)snprintf(needle, sizeof(needle), "ldap sync %s: started", sync);
    for (int i = 0; i < 2; i++)
        if (th_log_count(&nodes[i], needle) > 0)
            return i;
    return -1;
}

START_TEST(test_one_node_runs_a_sync_and_another_takes_it_when_it_is_down)
{
    char form[512], server[64], mapping[64], source[64], sync[64], path[160], body[4096];
    unsigned short port;
    int fd, owner = -1, other;

    if (!cluster_db_up())
        return;
    node_start(0);
    node_start(1);
    fd = silent_server(&port);
    (void)snprintf(form, sizeof(form),
                   "address=127.0.0.1&portnumber=%u&secure=false&username=cn%%3Dadmin&"
                   "password=whatever",
                   port);
    create(0, "/api/v1/ldapServers", form, server, sizeof(server));
    create(0, "/api/v1/ldapMappings", "jidMapping=%24uid%24%40example.com&nameMapping=%24cn%24",
           mapping, sizeof(mapping));
    (void)snprintf(form, sizeof(form),
                   "server=%s&mapping=%s&baseDn=dc%%3Dexample&filter=%%28uid%%3D%%2A%%29", server,
                   mapping);
    create(0, "/api/v1/ldapSources", form, source, sizeof(source));
    create(1, "/api/v1/ldapSyncs", "removeWhenFinished=false", sync, sizeof(sync));
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSyncs/%s", sync);

    /* one node claims it; both tick every second, so give the other a few chances */
    for (int k = 0; k < 100 && owner < 0; k++) {
        owner = runner(sync);
        if (owner < 0)
            (void)usleep(POLL_MS * 1000);
    }
    ck_assert_msg(owner >= 0, "no node started the sync");
    (void)usleep(3000 * 1000);
    ck_assert_int_eq(started(sync), 1);
    ck_assert_int_eq(get(0, path, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<state>inProgress</state>"), "%s", body);

    /* the other node restarts: the sync is not its own, and its node is up */
    other = 1 - owner;
    ck_assert_int_eq(th_daemon_stop(&nodes[other]), 0);
    node_start((size_t)other);
    (void)usleep(3000 * 1000);
    ck_assert_int_eq(started(sync), 1);

    /* the owner dies: once it is shown down, the other node takes the sync up */
    th_daemon_kill9(&nodes[owner]);
    for (int k = 0; k < DOWN_POLLS && started(sync) < 2; k++)
        (void)usleep(POLL_MS * 1000);
    ck_assert_int_eq(started(sync), 2);
    {
        char needle[96];

        (void)snprintf(needle, sizeof(needle), "ldap sync %s: started", sync);
        ck_assert_int_eq(th_log_count(&nodes[other], needle), 1);
    }
    (void)close(fd); /* the bind fails now, and the sync with it */
    for (int k = 0; k < 200; k++) {
        ck_assert_int_eq(get((size_t)other, path, body, sizeof(body)), 200);
        if (strstr(body, "<state>failed</state>"))
            break;
        (void)usleep(POLL_MS * 1000);
    }
    ck_assert_msg(strstr(body, "<state>failed</state>"), "%s", body);
    nodes_stop_clean();
}
END_TEST

/* ---- a node in a network namespace of its own ------------------------------------------------ */

/* A TCP forwarder run by a thread of the test: connections accepted on listen_addr:port (in
 * the test's network namespace) are joined to upstream:upstream_port, opened in the namespace
 * at ns_path ("" for the test's own). */
#define FWD_PAIRS 16
struct fwd {
    int listen_fd;
    unsigned short port;
    struct sockaddr_in upstream;
    char ns_path[64];
    atomic_bool stop;
    pthread_t thread;
    int fds[FWD_PAIRS][2]; /* client, upstream; -1 when free */
};

static void fwd_close(struct fwd *f, size_t i)
{
    (void)close(f->fds[i][0]);
    (void)close(f->fds[i][1]);
    f->fds[i][0] = f->fds[i][1] = -1;
}

static void *fwd_run(void *arg)
{
    struct fwd *f = arg;

    if (f->ns_path[0]) { /* this thread's sockets are the namespace's from now on */
        int ns = open(f->ns_path, O_RDONLY | O_CLOEXEC);

        if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
            return NULL;
        (void)close(ns);
    }
    while (!atomic_load(&f->stop)) {
        struct pollfd p[1 + 2 * FWD_PAIRS];
        size_t n = 1;
        char buf[16384];

        p[0] = (struct pollfd){.fd = f->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < FWD_PAIRS; i++)
            for (size_t k = 0; k < 2; k++)
                p[n++] = (struct pollfd){.fd = f->fds[i][k], .events = POLLIN};
        if (poll(p, n, 100) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC), u = -1;
            size_t i = 0;

            while (i < FWD_PAIRS && f->fds[i][0] >= 0)
                i++;
            if (c >= 0 && i < FWD_PAIRS)
                u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (u >= 0 && connect(u, (struct sockaddr *)&f->upstream, sizeof(f->upstream)) == 0) {
                f->fds[i][0] = c;
                f->fds[i][1] = u;
            } else {
                if (u >= 0)
                    (void)close(u);
                if (c >= 0)
                    (void)close(c);
            }
        }
        for (size_t i = 0; i < FWD_PAIRS; i++)
            for (size_t k = 0; k < 2; k++) {
                struct pollfd *q = &p[1 + 2 * i + k];
                ssize_t r;

                if (q->fd < 0 || !(q->revents & (POLLIN | POLLHUP | POLLERR)) ||
                    f->fds[i][k] != q->fd)
                    continue;
                r = read(q->fd, buf, sizeof(buf));
                if (r <= 0 || write(f->fds[i][1 - k], buf, (size_t)r) != r)
                    fwd_close(f, i);
            }
    }
    for (size_t i = 0; i < FWD_PAIRS; i++)
        if (f->fds[i][0] >= 0)
            fwd_close(f, i);
    return NULL;
}

static void fwd_start(struct fwd *f, const char *listen_addr, const char *upstream,
                      unsigned short upstream_port, const char *ns_path)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int one = 1;

    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < FWD_PAIRS; i++)
        f->fds[i][0] = f->fds[i][1] = -1;
    f->upstream.sin_family = AF_INET;
    f->upstream.sin_port = htons(upstream_port);
    ck_assert_int_eq(inet_pton(AF_INET, upstream, &f->upstream.sin_addr), 1);
    (void)snprintf(f->ns_path, sizeof(f->ns_path), "%s", ns_path);
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(f->listen_fd, 0);
    (void)setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_int_eq(inet_pton(AF_INET, listen_addr, &a.sin_addr), 1);
    ck_assert_int_eq(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(f->listen_fd, 16), 0);
    ck_assert_int_eq(getsockname(f->listen_fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&f->thread, NULL, fwd_run, f), 0);
}

static void fwd_stop(struct fwd *f)
{
    if (f->listen_fd <= 0)
        return;
    atomic_store(&f->stop, true);
    (void)pthread_join(f->thread, NULL);
    (void)close(f->listen_fd);
    f->listen_fd = 0;
}

static char netns[32];
static struct fwd pg_fwd, api_fwd;

/* Runs ip with args; its exit code. */
static int ip(const char *const *args)
{
    char out[1024];
    const char *argv[16] = {"ip"};
    size_t n = 1;

    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    return th_run("/usr/sbin/ip", argv, NULL, NULL, out, sizeof(out), NULL, 0);
}

static void netns_teardown(void)
{
    fwd_stop(&api_fwd);
    fwd_stop(&pg_fwd);
    if (netns[0]) {
        (void)ip((const char *const[]){"netns", "delete", netns, NULL});
        netns[0] = '\0';
    }
}

/* Deletes the namespaces of test processes that died before their teardown (a failed check
 * ends the test's process): "cbcl<PID>" whose PID is gone. */
static void netns_reap(void)
{
    char out[4096], *save = NULL;
    const char *argv[] = {"ip", "netns", "list", NULL};

    if (th_run("/usr/sbin/ip", argv, NULL, NULL, out, sizeof(out), NULL, 0) != 0)
        return;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[32];
        int pid;

        if (sscanf(line, "cbcl%d", &pid) != 1 || pid <= 0 || (kill(pid, 0) == 0 || errno != ESRCH))
            continue;
        (void)snprintf(name, sizeof(name), "cbcl%d", pid);
        (void)ip((const char *const[]){"netns", "delete", name, NULL});
    }
}

/* A network namespace reached through a veth pair: host side *host, its side *inside (/30). */
static bool netns_up(char host[16], char inside[16], char why[128])
{
    char veth_h[16], veth_n[16], cidr[24];
    unsigned x = (unsigned)getpid() % 250 + 1;

    if (geteuid() != 0 || access("/usr/sbin/ip", X_OK) != 0) {
        (void)snprintf(why, 128, "root and ip(8)");
        return false;
    }
    netns_reap();
    (void)snprintf(netns, sizeof(netns), "cbcl%d", (int)getpid());
    (void)snprintf(veth_h, sizeof(veth_h), "cbh%d", (int)getpid() % 100000);
    (void)snprintf(veth_n, sizeof(veth_n), "cbn%d", (int)getpid() % 100000);
    (void)snprintf(host, 16, "10.213.%u.1", x);
    (void)snprintf(inside, 16, "10.213.%u.2", x);
    if (ip((const char *const[]){"netns", "add", netns, NULL}) != 0) {
        netns[0] = '\0';
        (void)snprintf(why, 128, "network namespaces (ip netns add failed)");
        return false;
    }
    ck_assert_int_eq(ip((const char *const[]){"link", "add", veth_h, "type", "veth", "peer", "name",
                                              veth_n, NULL}),
                     0);
    ck_assert_int_eq(ip((const char *const[]){"link", "set", veth_n, "netns", netns, NULL}), 0);
    (void)snprintf(cidr, sizeof(cidr), "%s/30", host);
    ck_assert_int_eq(ip((const char *const[]){"addr", "add", cidr, "dev", veth_h, NULL}), 0);
    ck_assert_int_eq(ip((const char *const[]){"link", "set", veth_h, "up", NULL}), 0);
    (void)snprintf(cidr, sizeof(cidr), "%s/30", inside);
    ck_assert_int_eq(
        ip((const char *const[]){"-n", netns, "addr", "add", cidr, "dev", veth_n, NULL}), 0);
    ck_assert_int_eq(ip((const char *const[]){"-n", netns, "link", "set", veth_n, "up", NULL}), 0);
    ck_assert_int_eq(ip((const char *const[]){"-n", netns, "link", "set", "lo", "up", NULL}), 0);
    return true;
}

/* One coturn on the test's loopback: the node on it reaches it, the node in the namespace
 * (whose loopback is its own) does not. Each shows its own view, and the other's on request. */
START_TEST(test_views_differ_when_a_turn_server_is_reachable_from_one_node_only)
{
    static const char *const wrap_fmt[] = {"ip", "netns", "exec", NULL, NULL};
    const char *wrap[5];
    struct th_coturn co = {0};
    char why[128], host[16], inside[16], body[8192], loc[160], path[192], id[64], v[64], url[320],
        address[64];
    const char *slash;

    if (!th_coturn_available(why, sizeof(why))) {
        th_skip_missing_dep("coturn (scripts/install-deps.sh test)");
        return;
    }
    if (!cluster_db_up())
        return;
    if (!netns_up(host, inside, why)) {
        th_skip_missing_dep(why);
        return;
    }
    th_coturn_start(&co, NULL);
    node_start(0);

    /* cb-west in the namespace: the database through a forwarder on the veth's host side */
    fwd_start(&pg_fwd, host, "127.0.0.1", primary.port, "");
    (void)snprintf(url, sizeof(url), "postgresql://callbridge:%s@%s:%u/callbridge",
                   primary.password, host, pg_fwd.port);
    memcpy(wrap, wrap_fmt, sizeof(wrap));
    wrap[3] = netns;
    nodes[1].wrapper = wrap;
    {
        char from[128], to[128];
        const char *args[] = {
            "--database",           url, "--node-name", names[1], "--node-address", address,
            "--heartbeat-interval", "1", NULL};

        (void)snprintf(address, sizeof(address), "https://%s:8443", inside);
        th_tmpdir(nodes[1].dir);
        (void)snprintf(from, sizeof(from), "%s/secret.key", nodes[0].dir);
        (void)snprintf(to, sizeof(to), "%s/secret.key", nodes[1].dir);
        th_copy_file(from, to);
        th_daemon_start(&nodes[1], "0", args);
    }
    /* its API, bound to the namespace's loopback, through a forwarder into the namespace */
    {
        char ns_path[64];

        (void)snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", netns);
        fwd_start(&api_fwd, "127.0.0.1", "127.0.0.1", nodes[1].ports[0], ns_path);
        nodes[1].ports[0] = api_fwd.port;
    }
    ck_assert_int_eq(get(1, "/api/v1/system/status", body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<clusterEnabled>true</clusterEnabled>"), "%s", body);

    (void)snprintf(body, sizeof(body),
                   "serverAddress=127.0.0.1:%u&username=alice&password=secret&type=standard",
                   co.port);
    ck_assert_int_eq(th_admin_keep(&nodes[0], "POST", "/api/v1/turnServers", body, NULL, 0, loc),
                     200);
    slash = strrchr(loc, '/');
    ck_assert_ptr_nonnull(slash);
    (void)snprintf(id, sizeof(id), "%s", slash + 1);

    /* each its own */
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", id);
    ck_assert_int_eq(get(0, path, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<status>success</status>"), "cb-east: %s", body);
    ck_assert_int_eq(get(1, path, body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "<status>failure</status>"), "cb-west: %s", body);
    ck_assert_msg(strstr(body, "<reachable>false</reachable>"), "cb-west: %s", body);
    th_xml_text(body, "callBridgeName", v, sizeof(v));
    ck_assert_str_eq(v, names[1]);

    /* and the other's, both ways */
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status?callBridge=%s", id, names[1]);
    get_until(0, path, "<status>pending</status>", false, body, sizeof(body));
    ck_assert_msg(strstr(body, "<status>failure</status>"), "cb-west from cb-east: %s", body);
    th_xml_text(body, "callBridgeName", v, sizeof(v));
    ck_assert_str_eq(v, names[1]);
    (void)snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status?callBridge=%s", id, names[0]);
    get_until(1, path, "<status>pending</status>", false, body, sizeof(body));
    ck_assert_msg(strstr(body, "<status>success</status>"), "cb-east from cb-west: %s", body);
    th_xml_text(body, "callBridgeName", v, sizeof(v));
    ck_assert_str_eq(v, names[0]);

    nodes_stop_clean();
    th_coturn_stop(&co);
}
END_TEST

Suite *it_cluster_suite(void)
{
    Suite *s = suite_create("it_cluster");
    TCase *tc = tcase_create("cluster");

    tcase_set_tags(tc, "net pgserver");
    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_three_nodes_register_and_are_shown_up_down_and_stopped);
    tcase_add_test(tc, test_each_node_shows_its_own_turn_view_and_another_on_request);
    tcase_add_test(tc, test_one_node_runs_a_sync_and_another_takes_it_when_it_is_down);
    tcase_add_test(tc, test_views_differ_when_a_turn_server_is_reachable_from_one_node_only);
    suite_add_tcase(s, tc);
    return s;
}
