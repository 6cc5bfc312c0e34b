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

#endif
