/* tests/cluster_helpers.h: what the suites of several callbridged nodes on one PostgreSQL share
 * (tests/test_it_cluster.c, test_it_calls.c, test_it_notify.c, test_it_unique.c): the check that
 * PostgreSQL is there, and a node's start on a database with the first node's secret.key (nodes on
 * one database need the same key, docs/cluster.md). */
#ifndef TESTS_CLUSTER_HELPERS_H
#define TESTS_CLUSTER_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/helpers.h"

/* Starts node d on the database url as --node-name name at --node-address address (NULL: the
 * daemon's default), heartbeating every second, listening on listen (e.g. "0"), with extra
 * arguments (NULL-ended, may be NULL). A node started for the first time gets first's
 * secret.key (first may be d itself or NULL: a key of its own). The node's database is url
 * whether CB_TEST_PG is set or not (th_daemon_destroy does not drop it). */
void th_cluster_node_start(struct th_daemon *d, const struct th_daemon *first, const char *url,
                           const char *name, const char *address, const char *listen,
                           const char *const *extra);
/* The <callBridge .../> element of the node named name in d's system/database, in out (cap
 * bytes); fails the test when d lists no such node. */
void th_cluster_bridge_entry(const struct th_daemon *d, const char *name, char *out, size_t cap);

#endif
