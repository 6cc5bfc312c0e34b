/* api/res/list.h: list pages through the rendered-page cache. */
#ifndef API_RES_LIST_H
#define API_RES_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

/* Where a list request stands with the change mark: read once per request on a database other
 * nodes write (PostgreSQL, api/res/cache.c), where it is one round trip. */
struct api_list_at {
    uint64_t generation; /* of the page cache; 0: nothing is remembered */
    uint64_t mark;       /* the change mark, when read (has_mark) */
    bool read;           /* generation (and the mark if any) were read */
    bool has_mark;       /* mark was read inside the page's read snapshot */
};

/* api_list_cached() answers from the cache (returns true) when the page for this key is
 * current. Only when the cache holds a page under this key at its current generation
 * (api_cache_holds) does it read the change mark, before any snapshot (a hit costs that one
 * round trip); otherwise nothing is read yet. Then, inside the read snapshot (store_read_begin),
 * api_list_snapshot() reads what is left: the mark of the snapshot itself, which gives both the
 * generation to remember the page under and the key of the list's total (api_list_total), so an
 * uncached page reads the mark once (twice only when the page it held was current until this
 * request saw a new mark). api_list_remember() with the reply built from the store (generation
 * 0, the mark unreadable: nothing is remembered). api_changed() after every committed write,
 * before the reply. */
bool api_list_cached(const struct api *api, struct store *st, const char *collection,
                     const char *filter, size_t offset, size_t limit, struct api_list_at *at,
                     struct api_reply *reply);
void api_list_snapshot(const struct api *api, struct store *st, struct api_list_at *at);
void api_list_remember(const struct api *api, const char *collection, const char *filter,
                       size_t offset, size_t limit, const struct api_list_at *at,
                       const struct api_reply *reply);
void api_changed(const struct api *api);

/* A list's total over every match, inside the read snapshot the page is read in
 * (store_read_begin, then api_list_snapshot). On a database with a change mark (PostgreSQL) a
 * total counted in a snapshot with the same mark is reused: counting 100,000 rows costs
 * PostgreSQL milliseconds a page, and a script paging a long list asks for the same total on
 * every page. Exact: one mark is one snapshot, so the mark must be the snapshot's own: when at's
 * was read before the snapshot (a page cached at an older mark), it is read again here.
 * Elsewhere (SQLite) it counts every time. count() is store_row_count's call. */
int api_list_total(const struct api *api, struct store *st, const struct api_list_at *at,
                   const char *collection, const char *filter,
                   int (*count)(void *arg, size_t *ret_total), void *arg, size_t *ret_total);

#endif
