/* api/res/scan.h: list pages of a filter that no index serves (a substring too short for the
 * trigram index, a substring of a domain): every row must be read to test it. */
#ifndef API_SCAN_H
#define API_SCAN_H

#include "api/api.h"

#define API_SCAN_ANCHORS 4096 /* at most this many anchors per summary (32 KB) */

struct api_scan; /* a summary: the total and anchors */

/* The summary of q over t for a list request: from the list cache (key names collection and
 * filter; generation as api_list_cached() gave it), or built by reading every matching row's
 * seq once and then kept there until the next write. Call inside a read snapshot. On success
 * *ret_scan is the caller's (api_scan_free). */
int api_scan_summary(const struct api *api, struct store *st, const struct store_table *t,
                     const struct store_query *q, const char *key, uint64_t generation,
                     struct api_scan **ret_scan);
size_t api_scan_total(const struct api_scan *s);
/* Calls fn for the page [offset, offset + limit) of the matches, reading only the rows
 * between the two anchors around it. Returns 0 or a negative errno (or fn's). */
int api_scan_list(struct store *st, const struct store_table *t, const struct store_query *q,
                  const struct api_scan *s, size_t offset, size_t limit, store_row_fn fn,
                  void *userdata);
void api_scan_free(struct api_scan *s); /* NULL is a no-op */

#endif
