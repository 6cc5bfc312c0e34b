/* api/res/cache.h: rendered list pages, reused until the next write through the API. */
#ifndef API_CACHE_H
#define API_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_CACHE_SLOTS 32
#define API_CACHE_MAX_BODY (64 * 1024) /* larger answers are not kept */
#define API_CACHE_MAX_KEY 512
#define API_CACHE_TOTALS 16 /* list totals kept, by key and change mark */

struct api_cache; /* opaque; thread-safe */

int api_cache_new(struct api_cache **ret_cache);
void api_cache_free(struct api_cache *c); /* NULL is a no-op */

/* The current generation. Read it before reading the store, and store under that value:
 * an answer is then never newer-keyed than the data it was built from. */
uint64_t api_cache_generation(const struct api_cache *c);
/* Invalidates every entry: call after a write has committed and before answering it. */
void api_cache_changed(struct api_cache *c);
/* The generation to use with the database's change mark (store_change_mark, read before the
 * store is read): when mark differs from the one seen last, every entry is invalidated first.
 * Each generation is then tied to one mark, so an entry is only found by a request whose mark
 * says the database holds what the entry was built from (writes of other nodes included). */
uint64_t api_cache_generation_at(struct api_cache *c, uint64_t mark);

/* Generation 0 is never current: a get misses and a put does nothing (for a request that could
 * not read the change mark). On a hit for (key, generation), copies the body into a new malloc()ed
 * buffer (caller frees) and returns 0; -ENOENT on a miss, -ENOMEM. */
int api_cache_get(struct api_cache *c, const char *key, uint64_t generation, char **ret_body,
                  size_t *ret_len);
/* Whether a page is kept under key at the current generation: one of an older generation is
 * never found again (generations only grow), so a request that finds none need not read the
 * change mark before its snapshot: it misses whatever the mark. */
bool api_cache_holds(struct api_cache *c, const char *key);
/* Keeps a copy of body for (key, generation), replacing the least recently used entry. Best
 * effort. */
void api_cache_put(struct api_cache *c, const char *key, uint64_t generation, const char *body,
                   size_t len);

/* List totals by (key, the database's change mark read inside the read snapshot that counted
 * them). One mark is one snapshot (store_change_mark), so a total found is exact for any read
 * snapshot with that mark. Kept apart from the pages: a paging script walks more pages than the
 * page slots hold, and every page of one filter has the same total. -ENOENT on a miss. */
int api_cache_total_get(struct api_cache *c, const char *key, uint64_t mark, size_t *ret_total);
void api_cache_total_put(struct api_cache *c, const char *key, uint64_t mark, size_t total);

#endif
