/* api/notify.c: the writes of other nodes on the same database, acted on in this one.
 *
 * DESIGN: two mechanisms, each where it fits.
 * - The rendered list pages (api/res/cache.c) must never be stale after another node's 200:
 *   that check is synchronous, on the request's own connection (store_change_mark, the
 *   database's snapshot, before the store is read), so it is exact and needs nothing here.
 * - State that lives on between requests and is not read from the database each time (the
 *   prober's TURN servers, the legs' call leg profiles, the CDR sender's receivers) is told by
 *   PostgreSQL's LISTEN/NOTIFY: every write transaction announces the rows it wrote when it
 *   commits (store.c), and this thread, on a listening connection of its own, runs for each the
 *   same hook the writing node ran after its write (api/res/resource.h after_write and
 *   after_delete), reading the row from the database on a second connection of its own. Prompt
 *   (a round trip after the commit) but asynchronous. The list pages are invalidated here too
 *   (api_changed), which costs nothing and keeps a node whose mark reads fail from serving old
 *   pages for long.
 * - A lost listening connection loses what was sent meanwhile: once connected again (tried
 *   every second), everything is taken as changed ("*"): the TURN servers are compared with the
 *   row versions (updated_ms) the prober last took, so that only what changed is probed again
 *   and what was deleted is forgotten.
 * An LDAP source's after_write (it starts a sync) is an action of the node that wrote it, not
 * state, so it is not run here. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/cdr.h"
#include "api/log.h"
#include "api/notify.h"
#include "api/res/leg_profile.h"
#include "api/res/list.h"
#include "api/res/prober_link.h"
#include "store/store.h"
#include "turnclient/turnclient.h"

#define RECONNECT_MS 1000

/* A TURN server as this node's prober last took it: its row's updated_ms. */
struct turn_seen {
    char id[STORE_ID_LEN + 1];
    int64_t updated_ms;
    bool found; /* in the current resync */
};

struct api_notify {
    const struct api *api;
    struct turn_seen *turns; /* what the prober has, by row version (for a resync) */
    size_t nturns, turns_cap;
    char *location;
    struct store_listener *listener;
    struct store *st; /* for the hooks' reads; opened when first needed */
    pthread_t thread;
    int stop_fd; /* eventfd: stop */
    bool lost;   /* the listening connection is lost (logged once) */
};

static struct store *hook_store(struct api_notify *n)
{
    if (!n->st && store_open(n->location, &n->st) < 0)
        n->st = NULL;
    return n->st;
}

static bool is_table(const char *table, const struct store_table *t)
{
    return strcmp(table, "*") == 0 || strcmp(table, t->name) == 0;
}

static struct turn_seen *turn_find(struct api_notify *n, const char *id)
{
    for (size_t i = 0; i < n->nturns; i++)
        if (strcmp(n->turns[i].id, id) == 0)
            return &n->turns[i];
    return NULL;
}

/* Records that the prober has id's row of version updated_ms (best effort: without memory a
 * resync probes it again). */
static struct turn_seen *turn_saw(struct api_notify *n, const char *id, int64_t updated_ms)
{
    struct turn_seen *t = turn_find(n, id);

    if (!t && n->nturns == n->turns_cap) {
        size_t cap = n->turns_cap ? 2 * n->turns_cap : 16;
        struct turn_seen *v = realloc(n->turns, cap * sizeof(*v));

        if (!v)
            return NULL;
        n->turns = v;
        n->turns_cap = cap;
    }
    if (!t) {
        t = &n->turns[n->nturns++];
        (void)snprintf(t->id, sizeof(t->id), "%s", id);
    }
    t->updated_ms = updated_ms;
    return t;
}

static void turn_forget(struct api_notify *n, struct turn_seen *t)
{
    turn_prober_remove(n->api->prober, t->id);
    *t = n->turns[--n->nturns];
}

/* Another node wrote TURN server id: the prober takes the row as stored now (a new or changed
 * server probed at once), or forgets a deleted one. */
static int turn_changed(struct api_notify *n, struct store *st, const char *id)
{
    struct store_turn t;
    struct turn_seen *s;
    int r = store_turn_get(st, id, &t);

    if (r == -ENOENT) {
        s = turn_find(n, id);
        if (s)
            turn_forget(n, s);
        else
            turn_prober_remove(n->api->prober, id);
        return 0;
    }
    if (r == 0) {
        api_turn_probe(n->api, &t);
        (void)turn_saw(n, id, t.updated_ms);
    }
    OPENSSL_cleanse(&t, sizeof(t));
    return r;
}

static int resync_one(const struct store_turn *t, void *userdata)
{
    struct api_notify *n = userdata;
    struct turn_seen *s = turn_find(n, t->id);
    struct turn_server_status status;

    if (!s || s->updated_ms != t->updated_ms ||
        turn_prober_get(n->api->prober, t->id, &status) == -ENOENT)
        api_turn_probe(n->api, t);
    s = turn_saw(n, t->id, t->updated_ms);
    if (s)
        s->found = true;
    return 0;
}

/* What was written while the listening connection was lost is unknown: every stored TURN server
 * whose row changed since the prober took it is handed over again, one the prober does not have
 * is handed over, and one no longer stored is forgotten. */
static int turn_resync(struct api_notify *n, struct store *st)
{
    int r;

    for (size_t i = 0; i < n->nturns; i++)
        n->turns[i].found = false;
    r = store_turn_foreach(st, resync_one, n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n->nturns;)
        if (!n->turns[i].found)
            turn_forget(n, &n->turns[i]); /* the last one moves here */
        else
            i++;
    return 0;
}

static int turn_load_one(const struct store_turn *t, void *userdata)
{
    (void)turn_saw(userdata, t->id, t->updated_ms);
    return 0;
}

/* One row another node wrote (or "*", "*": anything). */
static void on_change(const char *table, const char *id, void *userdata)
{
    struct api_notify *n = userdata;
    const struct api *api = n->api;
    bool all = strcmp(id, "*") == 0;
    struct store *st;
    int r = 0;

    api_changed(api);
    if (is_table(table, &store_table_turn_server) && api->prober && (st = hook_store(n)))
        r = all ? turn_resync(n, st) : turn_changed(n, st, id);
    if (is_table(table, &store_table_call_leg_profile) && (st = hook_store(n)))
        api_leg_profiles_changed(api, st, all ? NULL : id);
    if (is_table(table, &store_table_system_profile) && (st = hook_store(n)))
        api_leg_profiles_changed(api, st, NULL);
    if (is_table(table, &store_table_cdr_receiver) && api->cdr)
        api_cdr_changed(api->cdr, id);
    if (r < 0)
        api_log_every(10, BASE_LOG_WARN, "cannot read a TURN server another node wrote: %s",
                      strerror(-r));
}

/* Waits up to ms for input on fd (-1: none) or the stop signal; true when stopping. */
static bool wait_input(struct api_notify *n, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = n->stop_fd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};

    (void)poll(p, fd >= 0 ? 2 : 1, ms);
    return (p[0].revents & POLLIN) != 0;
}

static void *run(void *arg)
{
    struct api_notify *n = arg;
    struct store *st;

    /* what the prober took at start (api_turn_probe_all): the versions a resync compares with */
    if (n->api->prober && (st = hook_store(n)))
        (void)store_turn_foreach(st, turn_load_one, n);

    for (;;) {
        int fd = store_listener_fd(n->listener);

        if (fd < 0) {
            if (wait_input(n, -1, RECONNECT_MS))
                break;
            if (store_listener_reconnect(n->listener) < 0)
                continue;
            api_log(BASE_LOG_INFO, "listening to the other nodes' writes again");
            n->lost = false;
            on_change("*", "*", n); /* what was sent meanwhile is lost */
            continue;
        }
        if (wait_input(n, fd, RECONNECT_MS))
            break;
        if (store_listener_read(n->listener, on_change, n) == -ENOTCONN && !n->lost) {
            n->lost = true;
            api_log(BASE_LOG_WARN, "lost the database connection that hears the other nodes' "
                                   "writes: connecting again every second");
        }
    }
    return NULL;
}

static void free_notify(struct api_notify *n)
{
    store_listener_close(n->listener);
    store_close(n->st);
    free(n->turns);
    if (n->stop_fd >= 0)
        (void)close(n->stop_fd);
    if (n->location)
        memset(n->location, 0, strlen(n->location)); /* it may hold a password */
    free(n->location);
    free(n);
}

int api_notify_start(const struct api *api, const char *location, struct api_notify **ret_n)
{
    struct api_notify *n;
    int r;

    *ret_n = NULL;
    n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->api = api;
    n->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    n->location = strdup(location);
    if (n->stop_fd < 0 || !n->location) {
        r = n->stop_fd < 0 ? -errno : -ENOMEM;
        free_notify(n);
        return r;
    }
    r = store_listener_open(location, &n->listener);
    if (r == 0)
        r = -pthread_create(&n->thread, NULL, run, n);
    if (r < 0) {
        free_notify(n);
        return r == -ENOTSUP ? 0 : r;
    }
    *ret_n = n;
    return 0;
}

void api_notify_stop(struct api_notify *n)
{
    uint64_t one = 1;

    if (!n)
        return;
    if (write(n->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
        api_log(BASE_LOG_ERR, "cannot stop the thread that hears the other nodes' writes");
    (void)pthread_join(n->thread, NULL);
    free_notify(n);
}
