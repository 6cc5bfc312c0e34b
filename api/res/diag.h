/* api/res/diag.h: call diagnostics: POST /calls/<id>/diagnostics (and coSpaces/<id>/diagnostics)
 * start a collection, /system/diagnostics lists them and returns their contents. */
#ifndef API_RES_DIAG_H
#define API_RES_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

#define API_DIAG_MAX 16                /* collections kept; the oldest goes first */
#define API_DIAG_BYTES (64 * 1024)     /* what one collection holds at most */
#define API_DIAG_PERIOD_S 60           /* how long a collection runs (durationSeconds) */
#define API_DIAG_PERIOD_MAX_S 600      /* the longest durationSeconds takes */
#define API_DIAG_TICK_US (1000 * 1000) /* how often the call's legs are looked at */
#define API_DIAG_COUNTERS_EVERY 5      /* ticks between two lines of counters per leg */

/* A bounded text: appends stop at cap, where one last line says the rest was left out. */
struct api_diag_text {
    char *buf; /* NUL-terminated; NULL until the first append */
    size_t len, cap;
    bool truncated;
};
/* Appends len bytes of s (and a newline); 0, or -E2BIG once the bound is reached (the text
 * then ends with the truncation line), -ENOMEM. */
int api_diag_text_append(struct api_diag_text *t, const char *s, size_t len);
void api_diag_text_done(struct api_diag_text *t);

struct api_diags; /* opaque */

/* The collections, with a thread of their own that looks at the calls every API_DIAG_TICK_US
 * and the log tap (api_log_set_tap) that keeps the lines naming a call or its legs. api (its
 * calls and media) must outlive it; api_diags_free stops the thread. Returns 0 or -errno. */
int api_diags_start(const struct api *api, struct api_diags **ret);
/* Ends the collections and stops the thread (before the calls and media go). */
void api_diags_stop(struct api_diags *d);
/* Stops it if need be and frees it, the log tap removed: only once no other thread logs (the
 * tap could be running on one). NULL is a no-op. */
void api_diags_free(struct api_diags *d);

/* Starts collecting for call call_id for seconds (1..API_DIAG_PERIOD_MAX_S); its id into
 * ret_id[37]. Returns 0, -ENOENT (no such call), -ENOTSUP (no diagnostics here) or -ENOMEM. */
int api_diag_collect(const struct api *api, const char *call_id, int64_t seconds, char *ret_id);
/* The call of coSpace cospace now into ret_call[37]: 0 or -ENOENT. */
int api_diag_cospace_call(const struct api *api, const char *cospace, char *ret_call);

/* POST /calls/<id>/diagnostics and coSpaces/<id>/diagnostics (the latter in api/res/users.c):
 * the form's durationSeconds checked, then api_diag_collect; 200 with the Location. */
void api_res_call_diagnostics(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply);
void api_diag_post(const struct api *api, const struct api_request *req, const char *call_id,
                   struct api_reply *reply);

/* GET /conversationIdQuery (api/res/conversation.c): is a live call (by id or callCorrelator)
 * or call leg (by id) named conversationId? */
void api_res_conversation_query(const struct api *api, struct store *st,
                                const struct api_request *req, const char *id,
                                struct api_reply *reply);

#endif
