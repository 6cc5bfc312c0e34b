/* tests/cluster_helpers.c: nodes of a cluster for the tests (tests/cluster_helpers.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/cluster_helpers.h"
#include "tests/pg_server.h"

void th_cluster_node_start(struct th_daemon *d, const struct th_daemon *first, const char *url,
                           const char *name, const char *address, const char *listen,
                           const char *const *extra)
{
    const char *args[32] = {"--node-name", name, "--heartbeat-interval", "1"};
    size_t n = 4;

    if (address) {
        args[n++] = "--node-address";
        args[n++] = address;
    }
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (first && first != d && !d->dir[0]) {
        char from[128], to[128];

        th_tmpdir(d->dir);
        (void)snprintf(from, sizeof(from), "%s/secret.key", first->dir);
        (void)snprintf(to, sizeof(to), "%s/secret.key", d->dir);
        th_copy_file(from, to);
    }
    (void)snprintf(d->database, sizeof(d->database), "%s", url); /* CB_TEST_PG or not */
    th_daemon_start(d, listen, args);
}

void th_cluster_bridge_entry(const struct th_daemon *d, const char *name, char *out, size_t cap)
{
    char body[8192], needle[160];
    const char *p, *e;

    ck_assert_int_eq(
        th_admin_keep(d, "GET", "/api/v1/system/database", NULL, body, sizeof(body), NULL), 200);
    (void)snprintf(needle, sizeof(needle), "name=\"%s\"", name);
    p = strstr(body, needle);
    ck_assert_msg(p, "no node %s in %s", name, body);
    while (p > body && strncmp(p, "<callBridge ", 12) != 0)
        p--;
    e = strstr(p, "/>");
    ck_assert_ptr_nonnull(e);
    (void)snprintf(out, cap, "%.*s", (int)(e - p + 2), p);
}
