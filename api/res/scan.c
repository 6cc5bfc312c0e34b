/* api/res/scan.c: summaries of filters that no index serves (api/res/scan.h).
 *
 * DESIGN: a filter such as ?filter=ab (under the 3 characters the trigram index needs) can
 * only be answered by reading every row. Before, each page did so twice, for its count and
 * for the page (a deep page reading up to its offset): 0.2-0.4 s per request at 100,000
 * coSpaces, for every page. Now one read of the matching rows' seq finds the total, exact,
 * and the seq of every E-th match (E doubles whenever API_SCAN_ANCHORS would be exceeded, so
 * a summary stays under 33 KB however many rows match). The summary is kept in the list
 * cache under the current generation, so it is dropped by the next write like every cached
 * page. A page then reads only the rows from the anchor before it to the anchor after it:
 * at most limit + 2 E matches' worth, whatever the offset. The read of every row remains, once
 * per filter value and write; it is bounded by the object caps (api/config.c). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/cache.h"
#include "api/res/scan.h"
#include "api/util.h"

struct api_scan {
    uint64_t total;
    uint64_t every; /* anchor[i] is the seq of match number i * every (from 0) */
    int64_t last;   /* the seq of the last match */
    uint64_t n;     /* anchors in use */
    int64_t anchor[API_SCAN_ANCHORS];
};

#define HEAD_LEN offsetof(struct api_scan, anchor)

static int add_match(int64_t seq, void *userdata)
{
    struct api_scan *s = userdata;

    if (s->total % s->every == 0 && s->n == API_SCAN_ANCHORS) {
        for (size_t i = 0; i < API_SCAN_ANCHORS / 2; i++) /* keep every other: E doubles */
            s->anchor[i] = s->anchor[2 * i];
        s->n = API_SCAN_ANCHORS / 2;
        s->every *= 2;
    }
    if (s->total % s->every == 0)
        s->anchor[s->n++] = seq;
    s->total++;
    s->last = seq;
    return 0;
}

/* Copies a cached summary into s; false when there is none or it is not one. */
static bool from_cache(const struct api *api, const char *key, uint64_t generation,
                       struct api_scan *s)
{
    char *body = NULL;
    size_t len = 0;
    bool ok;

    if (!api->cache || api_cache_get(api->cache, key, generation, &body, &len) < 0)
        return false;
    ok = len >= HEAD_LEN && len <= sizeof(*s);
    if (ok)
        memcpy(s, body, len);
    ok = ok && s->n <= API_SCAN_ANCHORS && len == HEAD_LEN + s->n * sizeof(s->anchor[0]);
    free(body);
    return ok;
}

int api_scan_summary(const struct api *api, struct store *st, const struct store_table *t,
                     const struct store_query *q, const char *key, uint64_t generation,
                     struct api_scan **ret_scan)
{
    char ckey[API_CACHE_MAX_KEY];
    bool cacheable;
    struct api_scan *s = calloc(1, sizeof(*s));
    int n = snprintf(ckey, sizeof(ckey), "scan|%s|%s", t->name, key), r = 0;

    if (!s)
        return -ENOMEM;
    if (n > 0 && (size_t)n >= sizeof(ckey)) { /* a long filter: its digest names it */
        char hex[65];

        n = api_sha256_hex(key, strlen(key), hex) < 0
                ? -1
                : snprintf(ckey, sizeof(ckey), "scan|%s|#%s", t->name, hex);
    }
    cacheable = n > 0 && (size_t)n < sizeof(ckey);
    if (!cacheable || !from_cache(api, ckey, generation, s)) {
        memset(s, 0, sizeof(*s));
        s->every = 1;
        r = store_row_seqs(st, t, q, add_match, s);
        if (r == 0 && cacheable && api->cache)
            api_cache_put(api->cache, ckey, generation, (const char *)s,
                          HEAD_LEN + s->n * sizeof(s->anchor[0]));
    }
    if (r < 0) {
        free(s);
        return r;
    }
    *ret_scan = s;
    return 0;
}

size_t api_scan_total(const struct api_scan *s)
{
    return (size_t)s->total;
}

int api_scan_list(struct store *st, const struct store_table *t, const struct store_query *q,
                  const struct api_scan *s, size_t offset, size_t limit, store_row_fn fn,
                  void *userdata)
{
    struct store_query range = *q;
    uint64_t first, after;

    if (offset >= s->total || limit == 0)
        return 0;
    first = offset / s->every;
    after = (offset + limit >= s->total ? s->total - 1 : offset + limit - 1) / s->every + 1;
    range.seq_min = s->anchor[first];
    range.seq_max = after < s->n ? s->anchor[after] - 1 : s->last;
    return store_row_list(st, t, &range, offset - first * s->every, limit, fn, userdata);
}

void api_scan_free(struct api_scan *s)
{
    free(s);
}
