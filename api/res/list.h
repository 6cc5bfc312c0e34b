/* api/res/list.h: list pages through the rendered-page cache. */
#ifndef API_RES_LIST_H
#define API_RES_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

/* api_list_cached() answers from the cache (returns true) when the page for this key is
 * current; otherwise it fills *ret_generation, to be passed to api_list_remember() with the
 * reply built from the store (0 when st's change mark could not be read: nothing is
 * remembered). On a database other nodes write (PostgreSQL) it reads st's change mark first
 * (api/res/cache.c). api_changed() after every committed write, before the reply. */
bool api_list_cached(const struct api *api, struct store *st, const char *collection,
                     const char *filter, size_t offset, size_t limit, uint64_t *ret_generation,
                     struct api_reply *reply);
void api_list_remember(const struct api *api, const char *collection, const char *filter,
                       size_t offset, size_t limit, uint64_t generation,
                       const struct api_reply *reply);
void api_changed(const struct api *api);

/* A list's total over every match, inside the read snapshot the page is read in
 * (store_read_begin). On a database with a change mark (PostgreSQL) a total counted in a
 * snapshot with the same mark is reused: counting 100,000 rows costs PostgreSQL milliseconds a
 * page, and a script paging a long list asks for the same total on every page. Exact: one mark
 * is one snapshot. Elsewhere (SQLite) it counts every time. count() is store_row_count's call. */
int api_list_total(const struct api *api, struct store *st, const char *collection,
                   const char *filter, int (*count)(void *arg, size_t *ret_total), void *arg,
                   size_t *ret_total);

#endif
