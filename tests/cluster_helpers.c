/* tests/cluster_helpers.c: nodes of a cluster for the tests (tests/cluster_helpers.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/cluster_helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"

bool th_cluster_pg_or_skip(void)
{
    char why[256];

    if (th_pg_available(why, sizeof(why)))
        return true;
    th_skip_missing_dep("postgresql (scripts/install-deps.sh test)");
    return false;
}

void th_copy_file(const char *from, const char *to)
{
    char buf[4096];
    int in = open(from, O_RDONLY), out;
    ssize_t n;

    ck_assert_msg(in >= 0, "cannot read %s", from);
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(out >= 0, "cannot write %s", to);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
    (void)close(in);
    (void)close(out);
}

void th_cluster_node_start(struct th_daemon *d, const struct th_daemon *first, const char *url,
                           const char *name, const char *address, const char *listen,
                           const char *const *extra)
{
    const char *args[32] = {"--database", url, "--node-name", name, "--heartbeat-interval", "1"};
    size_t n = 6;

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
    th_daemon_start(d, listen, args);
}
