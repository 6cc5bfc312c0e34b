/* api/api.h: the request/reply model of the API, the router and the resource handlers.
 * Handlers are pure with respect to HTTP: a struct api_request in, a struct api_reply out, a
 * store connection lent for the duration of the call. api/http/http.c is the only MHD user. */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/form.h"
#include "api/secret.h"
#include "store/store.h"

#define API_VERSION "0.1.0"
#define API_MAX_BODY (64 * 1024)
#define API_PAGE_DEFAULT 20 /* items in a list page without limit (CMS clients assume it) */
#define API_PAGE_MAX 1000   /* the most an explicit limit gets */

struct api_cache;
struct api_calls;
struct api_metrics;
struct api_auth;
struct media;
struct turn_prober;

/* State shared by every handler; the fields are set at start-up and not changed after. */
struct api {
    struct api_secret secret;
    int64_t started_us;          /* monotonic */
    struct api_cache *cache;     /* rendered list pages (api/res/cache.h); NULL disables caching */
    struct turn_prober *prober;  /* TURN status (turnclient); NULL: none (tests of the API) */
    int64_t status_wait_us;      /* how long a status request waits for a first probe */
    struct api_calls *calls;     /* calls and legs in memory (api/res/calls.c) */
    struct media *media;         /* the media anchor; NULL: legs get no media */
    struct api_metrics *metrics; /* request counts for /metrics (api/res/metrics.c); NULL: none */
};

enum api_method { API_GET, API_HEAD, API_POST, API_PUT, API_DELETE, API_OTHER };

struct api_request {
    enum api_method method;
    const char *path;               /* decoded path, without the query */
    const struct api_params *query; /* never NULL */
    const struct api_params *form;  /* the body as a form; never NULL (empty on GET/DELETE) */
    const char *user;               /* authenticated API user */
    bool may_wait;                  /* the reply may ask to be answered later (once) */
};

struct api_reply {
    int status;
    char *body; /* malloc()ed or NULL; owned by the reply (api_reply_done frees it) */
    size_t len;
    char location[96];        /* "" or "/api/v1/<collection>/<id>" */
    const char *allow;        /* static; set with 405 */
    const char *content_type; /* static; NULL: text/xml when there is a body */
    int retry_after_s;        /* > 0: a Retry-After header */
    bool close_connection;    /* "Connection: close": nothing more is read from the client */
    /* Set instead of a status: answer later. The HTTP layer suspends the connection, calls
     * api_wait() and routes the request again, with may_wait false, when woken. */
    char wait_id[40];
    int64_t wait_until_us;
};

/* Wakes resume(ctx) (from another thread) when TURN server wait_id has probe results or at
 * until_us. Returns 0 or -errno (then answer at once). */
int api_wait(const struct api *api, const char *wait_id, int64_t until_us,
             void (*resume)(void *ctx), void *ctx);

/* Dispatches one authenticated request. Always fills *reply (status, maybe body/headers). */
void api_route(const struct api *api, struct store *st, const struct api_request *req,
               struct api_reply *reply);

/* ---- resources -------------------------------------------------------------------------- */
/* /api/v1/turnServers[/<id>]; id NULL for the collection. */
void api_res_turn(const struct api *api, struct store *st, const struct api_request *req,
                  const char *id, struct api_reply *reply);
/* GET /api/v1/turnServers/<id>/status */
void api_res_turn_status(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply);
/* Hands a stored TURN server to the prober (after a create or an update, and at start). */
void api_turn_probe(const struct api *api, const struct store_turn *t);
/* Hands every stored TURN server to the prober. Returns 0 or a store error. */
int api_turn_probe_all(const struct api *api, struct store *st);
/* Calls and call legs (api/res/calls.c): the registry, and /calls[...] and /callLegs[...],
 * segs starting at the collection. */
int api_calls_new(struct api_calls **ret);
void api_calls_free(struct api_calls *c); /* NULL is a no-op */
void api_calls_counts(struct api_calls *c, size_t *ret_calls, size_t *ret_active, size_t *ret_max);
/* Sets how many legs with media (a socket each) are admitted at once: what turn_fds, the
 * descriptors left for TURN sockets (-1: no limit known), leaves after the prober's share, or
 * max_legs when it is lower (0: not set). Logs the figure; returns it. Before HTTP starts. */
#define API_CALLS_UNLIMITED_BUDGET 100000 /* when RLIMIT_NOFILE sets no bound */
size_t api_calls_set_budget(struct api_calls *c, long turn_fds, unsigned max_legs);
/* The most calls at once (default 10,000). Calls live in memory, and POST /calls makes one for
 * any coSpace, so without a bound an API client could grow the registry, and the walk of it on
 * every leg's admission, without end; beyond it POST /calls is answered 400 tooManyCalls, as a
 * full collection is. */
void api_calls_set_max_calls(struct api_calls *c, unsigned max_calls);
/* The prober's share of turn_fds, the most probe sockets it may hold at once
 * (turn_prober_config.max_sockets): an eighth, at least 16; 0 (no cap) when turn_fds is -1. */
size_t api_calls_prober_sockets(long turn_fds);
struct api_calls_budget {
    size_t media_legs, budget;           /* legs with media now, and the most admitted */
    uint64_t refused_call, refused_node; /* POSTs refused: call full, node's budget spent */
};
void api_calls_budget(struct api_calls *c, struct api_calls_budget *ret); /* thread-safe */
void api_res_calls(const struct api *api, struct store *st, const struct api_request *req,
                   char **segs, int n, struct api_reply *reply);
void api_res_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                       char **segs, int n, struct api_reply *reply);
/* GET /api/v1/system/status */
void api_res_system_status(const struct api *api, const struct api_request *req,
                           struct api_reply *reply);

/* ---- /metrics (api/res/metrics.c) ---------------------------------------------------------- */
int api_metrics_new(struct api_metrics **ret);
void api_metrics_free(struct api_metrics *m); /* NULL is a no-op */
/* Counts one answered request (any thread; m NULL is a no-op). */
void api_metrics_request(struct api_metrics *m, const char *method, const char *path, int status,
                         int64_t duration_us);
/* Counts one connection closed with its client still sending, drained (api/http/linger.h). */
void api_metrics_lingered(struct api_metrics *m);
/* /metrics shows auth's password verifications and throttle records (api/http/auth.h) from now on;
 * auth must outlive the scrapes. m NULL is a no-op. */
void api_metrics_watch_auth(struct api_metrics *m, struct api_auth *auth);
/* Why the server closed a connection before libmicrohttpd's own timeout (api/http/guard.h). */
enum api_close_reason {
    API_CLOSE_HEAD_DEADLINE, /* TLS handshake and headers not in within --header-timeout */
    API_CLOSE_BODY_DEADLINE, /* body not in within --body-timeout */
    API_CLOSE_IDLE_DEADLINE, /* no complete request line within a keep-alive wait */
    API_CLOSE_EVICTED,       /* gave way to a new connection on a full port */
    API_CLOSE_N,
};
/* Counts one such close. */
void api_metrics_closed(struct api_metrics *m, enum api_close_reason why);
/* GET /metrics: the Prometheus text format. */
void api_res_metrics(const struct api *api, struct store *st, const struct api_request *req,
                     struct api_reply *reply);

#endif
