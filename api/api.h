/* api/api.h: the request/reply model of the API and nothing else: the context every handler
 * gets (struct api), a request, a reply. Handlers are pure with respect to HTTP: a struct
 * api_request in, a struct api_reply out, a store connection lent for the duration of the call.
 * api/http/http.c is the only MHD user. Functions live in the headers of the files that define
 * them (api/reply.h, api/res/routes.h, api/res/parse.h, ...). */
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
struct api_guests;
struct api_cdr;
struct api_ldap;
struct api_metrics;
struct api_auth;
struct api_alarms;
struct api_system;
struct api_cluster;
struct media;
struct turn_prober;

/* State shared by every handler; the fields are set at start-up and not changed after. */
struct api {
    struct api_secret secret;
    int64_t started_us;          /* monotonic */
    struct api_cache *cache;     /* rendered list pages (api/res/cache.h); NULL disables caching */
    struct turn_prober *prober;  /* TURN status (turnclient); NULL: none (tests of the API) */
    int64_t status_wait_us;      /* how long a status request waits for a first probe */
    struct api_calls *calls;     /* calls and legs in memory (api/res/registry.h) */
    struct media *media;         /* the media anchor; NULL: legs get no media */
    struct api_metrics *metrics; /* request counts for /metrics (api/metrics.h); NULL: none */
    struct api_guests *guests;   /* guests' signalling sessions (api/res/guest.h); NULL: none */
    struct api_alarms *alarms;   /* active alarms (api/res/alarms.h); NULL: none */
    struct api_system *system;   /* hostId, load, CDR index (api/res/system.h); NULL: none */
    struct api_cdr *cdr;         /* the CDR sender (api/cdr.h); NULL: none */
    struct api_ldap *ldap;       /* the LDAP sync thread (api/ldap_sync.h); NULL: none */
    struct api_diags *diags;     /* call diagnostics (api/res/diag.h); NULL: none */
    struct api_leg_alarms *leg_alarms; /* call-leg alarms (api/res/leg_alarms.h); NULL: none */
    struct api_cluster *cluster; /* this node in a cluster (api/cluster.h); NULL: not clustered */
};

enum api_method { API_GET, API_HEAD, API_POST, API_PUT, API_DELETE, API_OTHER };

struct api_request {
    enum api_method method;
    const char *path;               /* decoded path, without the query */
    const struct api_params *query; /* never NULL */
    const struct api_params *form;  /* the body as a form; never NULL (empty on GET/DELETE) */
    const char *user;               /* authenticated API user; "" for a guest */
    const char *body;               /* the raw body (the guest interface's JSON); never NULL */
    size_t body_len;
    const char *client;    /* the client's numeric address */
    bool may_wait;         /* the reply may ask to be answered later (once) */
    const char *parent_id; /* set by the router for a path with two ids: the first, the
                            * parent's (/calls/<parent>/participants/<id>); NULL otherwise */
};

struct api_reply {
    int status;
    char *body; /* malloc()ed or NULL; owned by the reply (api_reply_done frees it) */
    size_t len;
    char location[160];       /* "" or "/api/v1/<collection>/<id>[/<collection>/<id>]" */
    const char *allow;        /* static; set with 405 */
    const char *content_type; /* static; NULL: text/xml when there is a body */
    int retry_after_s;        /* > 0: a Retry-After header */
    bool close_connection;    /* "Connection: close": nothing more is read from the client */
    bool guest;               /* an answer of the guest interface: no-store, no referrer, no
                               * sniffing, no framing, and a content security policy */
    /* Set instead of a status: answer later. The HTTP layer suspends the connection, calls
     * the wait the composition root gave it (api_wait) and routes the request again, with may_wait
     * false, when woken. */
    char wait_id[40];
    int64_t wait_until_us;
};

#endif
