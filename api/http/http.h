/* api/http/http.h: the HTTPS server (libmicrohttpd). */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api/http/auth.h"
#include "api/http/guard.h" /* API_MAX_LISTEN */

/* Connections libmicrohttpd may accept per worker beyond connection_limit: the server's own
 * limit refuses those at once, before libmicrohttpd's would stop accepting. */
#define API_HTTP_SPARE_PER_THREAD 4

struct api_http; /* opaque */

struct api_http_config {
    const char *bind;                 /* numeric IPv4 or IPv6 address */
    const uint16_t *ports;            /* 0 = any free port */
    size_t nports;                    /* 1 .. API_MAX_LISTEN */
    unsigned threads;                 /* worker threads per port */
    unsigned connection_limit;        /* per port */
    unsigned connection_timeout_s;    /* idle connections are closed after this */
    unsigned per_ip_connection_limit; /* per client address and port */
    unsigned header_timeout_s;        /* TLS handshake and request headers (api/http/guard.h) */
    unsigned body_timeout_s;          /* a body, once the headers are in */
    unsigned linger_max;              /* sockets lingering at once (api/http/linger.h), all ports */
    const char *db_path;              /* every worker gets a pooled connection to it */
    const char *cert_pem, *key_pem;   /* PEM text */
    /* Given by the composition root, so the edge calls no handler file: the router (always
     * fills *reply), and the wait of a reply that asked to be answered later (wakes resume(ctx)
     * from another thread; returns 0, or -errno to answer at once). */
    void (*route)(const struct api *api, struct store *st, const struct api_request *req,
                  struct api_reply *reply);
    int (*wait)(const struct api *api, const char *wait_id, int64_t until_us,
                void (*resume)(void *ctx), void *ctx);
    /* The guest interface's signalling (/meeting/api/...): no credentials, JSON bodies. NULL:
     * the signalling answers 503; the page's files are still served. */
    void (*guest)(const struct api *api, struct store *st, const struct api_request *req,
                  struct api_reply *reply);
};

/* Opens the store pool and starts one MHD daemon per port. 'api' and 'auth' must outlive the
 * server. Logs "listening on https://<bind>:<port>" for each. Returns 0 or -errno. */
int api_http_start(const struct api_http_config *cfg, const struct api *api, struct api_auth *auth,
                   struct api_http **ret_http);
/* The port actually bound for ports[i] (useful with port 0). */
uint16_t api_http_port(const struct api_http *h, size_t i);
/* Stops accepting, lets requests in flight finish (up to drain_ms), stops the daemons and closes
 * the pool. NULL is a no-op. */
void api_http_stop(struct api_http *h, int drain_ms);

#endif
