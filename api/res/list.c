/* api/res/list.c: list pages through the rendered-page cache (api/res/cache.h): the key of a
 * page, the lookup before the store is read, the remembering after, and the invalidation after
 * every committed write. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/reply.h"
#include "api/res/cache.h"
#include "api/res/list.h"

/* Length-prefixes the filter, so that no filter value can make two keys equal. */
static int list_key(char *key, size_t cap, const char *collection, const char *filter,
                    size_t offset, size_t limit)
{
    int n = snprintf(key, cap, "%s|%zu|%zu|%zu:%s", collection, offset, limit,
                     filter ? strlen(filter) : 0, filter ? filter : "");

    return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

/* Reads the generation to read the store at into at: the cache's own on SQLite; on a shared
 * database the one of its current change mark, or 0 (no caching) when the mark cannot be read.
 * in_snapshot: the caller's read snapshot is open, so the mark is the snapshot's. */
static void read_mark(const struct api *api, struct store *st, bool in_snapshot,
                      struct api_list_at *at)
{
    int r = store_change_mark(st, &at->mark);

    at->read = true;
    at->has_mark = r == 0 && in_snapshot;
    if (r == -ENOTSUP)
        at->generation = api_cache_generation(api->cache);
    else
        at->generation = r == 0 ? api_cache_generation_at(api->cache, at->mark) : 0;
}

bool api_list_cached(const struct api *api, struct store *st, const char *collection,
                     const char *filter, size_t offset, size_t limit, struct api_list_at *at,
                     struct api_reply *reply)
{
    char key[API_CACHE_MAX_KEY];
    char *body;
    size_t len;

    *at = (struct api_list_at){0};
    if (!api->cache || list_key(key, sizeof(key), collection, filter, offset, limit) < 0) {
        at->read = true; /* nothing to cache: generation 0 */
        return false;
    }
    if (!api_cache_holds(api->cache, key))
        return false; /* a miss whatever the mark: it is read once, in the snapshot */
    read_mark(api, st, false, at);
    if (api_cache_get(api->cache, key, at->generation, &body, &len) < 0)
        return false;
    api_reply_done(reply);
    reply->status = 200;
    reply->body = body;
    reply->len = len;
    return true;
}

void api_list_snapshot(const struct api *api, struct store *st, struct api_list_at *at)
{
    if (!at->read)
        read_mark(api, st, true, at);
}

void api_list_remember(const struct api *api, const char *collection, const char *filter,
                       size_t offset, size_t limit, const struct api_list_at *at,
                       const struct api_reply *reply)
{
    char key[API_CACHE_MAX_KEY];

    if (api->cache && reply->status == 200 && reply->body &&
        list_key(key, sizeof(key), collection, filter, offset, limit) == 0)
        api_cache_put(api->cache, key, at->generation, reply->body, reply->len);
}

void api_changed(const struct api *api)
{
    if (api->cache)
        api_cache_changed(api->cache);
}

int api_list_total(const struct api *api, struct store *st, const struct api_list_at *at,
                   const char *collection, const char *filter,
                   int (*count)(void *arg, size_t *ret_total), void *arg, size_t *ret_total)
{
    char key[API_CACHE_MAX_KEY];
    uint64_t mark = at->mark;
    bool keep = api->cache && (at->has_mark || store_change_mark(st, &mark) == 0) &&
                list_key(key, sizeof(key), collection, filter, 0, 0) == 0;
    int r;

    if (keep && api_cache_total_get(api->cache, key, mark, ret_total) == 0)
        return 0;
    r = count(arg, ret_total);
    if (r == 0 && keep)
        api_cache_total_put(api->cache, key, mark, *ret_total);
    return r;
}
