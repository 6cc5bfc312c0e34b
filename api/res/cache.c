/* api/res/cache.c: a small cache of rendered list pages.
 *
 * DESIGN: monitoring systems and paging scripts GET the same lists far more often than anyone
 * changes them, and rendering a page (SQLite count + page, XML) costs several times the HTTPS
 * exchange itself. Every entry carries the generation it was built at; every committed write
 * through the API bumps the generation before its 200 goes out, so a request that starts after
 * a write's answer never sees an older page. This relies on configuration being written only
 * through this daemon's API (the 'user' subcommands write API users, which are not cached).
 * Entries are looked up by key (collection and normalised query); 32 slots, the least recently
 * used replaced.
 * Several nodes on one PostgreSQL database write behind each other's back: there a request
 * reads the database's change mark (store_change_mark: its snapshot, one round trip) once,
 * before the lookup when a page under its key is kept, else first thing in its read snapshot
 * (api/res/list.c), and api_cache_generation_at() moves to a new generation whenever the mark is
 * not the last one seen, so a generation stands for one state of the database and an entry is
 * served only while the database still holds what it was built from: exact, not eventual (a
 * GET on node B after node A answered a write 200 never sees the page from before it). On
 * SQLite (one process per file) there is no mark and the path is as it was. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/res/cache.h"

struct slot {
    char key[API_CACHE_MAX_KEY];
    uint64_t generation;
    uint64_t stamp; /* last use (stored or found), for replacement */
    char *body;
    size_t len;
};

struct total {
    char key[API_CACHE_MAX_KEY];
    uint64_t mark;
    uint64_t stamp;
    size_t total;
    bool used;
};

struct api_cache {
    _Atomic uint64_t generation;
    pthread_mutex_t mark_lock; /* mark and its generation change together */
    uint64_t mark;
    bool has_mark;
    pthread_mutex_t lock;
    uint64_t clock;
    struct slot slots[API_CACHE_SLOTS];
    struct total totals[API_CACHE_TOTALS]; /* under lock */
};

int api_cache_new(struct api_cache **ret_cache)
{
    struct api_cache *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    atomic_init(&c->generation, 1);
    pthread_mutex_init(&c->mark_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    *ret_cache = c;
    return 0;
}

void api_cache_free(struct api_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < API_CACHE_SLOTS; i++)
        free(c->slots[i].body);
    pthread_mutex_destroy(&c->mark_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

uint64_t api_cache_generation(const struct api_cache *c)
{
    return atomic_load(&((struct api_cache *)(uintptr_t)c)->generation);
}

void api_cache_changed(struct api_cache *c)
{
    atomic_fetch_add(&c->generation, 1);
}

uint64_t api_cache_generation_at(struct api_cache *c, uint64_t mark)
{
    uint64_t g;

    pthread_mutex_lock(&c->mark_lock);
    if (!c->has_mark || mark != c->mark) {
        c->mark = mark;
        c->has_mark = true;
        atomic_fetch_add(&c->generation, 1);
    }
    g = atomic_load(&c->generation);
    pthread_mutex_unlock(&c->mark_lock);
    return g;
}

int api_cache_get(struct api_cache *c, const char *key, uint64_t generation, char **ret_body,
                  size_t *ret_len)
{
    int r = -ENOENT;

    if (generation == 0 || generation != atomic_load(&c->generation))
        return -ENOENT;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < API_CACHE_SLOTS; i++) {
        struct slot *s = &c->slots[i];
        char *copy;

        if (!s->body || s->generation != generation || strcmp(s->key, key) != 0)
            continue;
        copy = malloc(s->len + 1);
        if (!copy) {
            r = -ENOMEM;
            break;
        }
        memcpy(copy, s->body, s->len + 1);
        s->stamp = ++c->clock; /* used: replaced last (a filter's summary serves every page) */
        *ret_body = copy;
        *ret_len = s->len;
        r = 0;
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

bool api_cache_holds(struct api_cache *c, const char *key)
{
    uint64_t g = atomic_load(&c->generation);
    bool found = false;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < API_CACHE_SLOTS && !found; i++)
        found =
            c->slots[i].body && c->slots[i].generation == g && strcmp(c->slots[i].key, key) == 0;
    pthread_mutex_unlock(&c->lock);
    return found;
}

void api_cache_put(struct api_cache *c, const char *key, uint64_t generation, const char *body,
                   size_t len)
{
    struct slot *victim = NULL;
    char *copy;

    if (generation == 0 || len > API_CACHE_MAX_BODY || strlen(key) >= API_CACHE_MAX_KEY)
        return;
    copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, body, len);
    copy[len] = '\0';
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < API_CACHE_SLOTS; i++) {
        struct slot *s = &c->slots[i];
        bool stale = s->generation != generation;

        if (!s->body || stale || strcmp(s->key, key) == 0) { /* free, outdated or same key */
            victim = s;
            break;
        }
        if (!victim || s->stamp < victim->stamp)
            victim = s;
    }
    free(victim->body);
    (void)snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->generation = generation;
    victim->stamp = ++c->clock;
    victim->body = copy;
    victim->len = len;
    pthread_mutex_unlock(&c->lock);
}

int api_cache_total_get(struct api_cache *c, const char *key, uint64_t mark, size_t *ret_total)
{
    int r = -ENOENT;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < API_CACHE_TOTALS; i++) {
        struct total *t = &c->totals[i];

        if (t->used && t->mark == mark && strcmp(t->key, key) == 0) {
            t->stamp = ++c->clock;
            *ret_total = t->total;
            r = 0;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

void api_cache_total_put(struct api_cache *c, const char *key, uint64_t mark, size_t total)
{
    struct total *victim = NULL;

    if (strlen(key) >= API_CACHE_MAX_KEY)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < API_CACHE_TOTALS; i++) {
        struct total *t = &c->totals[i];

        if (!t->used || strcmp(t->key, key) == 0) { /* free, or this key at another mark */
            victim = t;
            break;
        }
        if (!victim || t->stamp < victim->stamp)
            victim = t;
    }
    (void)snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->mark = mark;
    victim->total = total;
    victim->stamp = ++c->clock;
    victim->used = true;
    pthread_mutex_unlock(&c->lock);
}
