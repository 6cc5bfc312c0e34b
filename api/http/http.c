/* api/http/http.c: libmicrohttpd glue; the only file that includes microhttpd.h.
 *
 * DESIGN: one MHD daemon per listening port, each with an internal thread pool on poll() and TLS.
 * Not epoll: in libmicrohttpd 0.9.75 a TLS connection in its handshake stays on the epoll loop's
 * ready list after its socket ran dry, so one client that sends a byte and stalls keeps a worker
 * spinning (epoll_wait with timeout 0, recv EAGAIN) until the connection times out. Poll sleeps
 * (make bench measures both); select() would limit descriptors to FD_SETSIZE.
 * A request's state (its body, at most API_MAX_BODY bytes, and its start time) lives in
 * *req_cls from the first callback to on_completed(), which frees it on every path (done, error,
 * timeout). The last callback borrows a store connection from a pool (store/pool.c) with one
 * connection per worker thread, authenticates, routes (the router the composition root gives it)
 * and queues the reply. Each connection's stage goes to the connection table (api/http/guard.c),
 * which closes the ones past their stage's deadline and, on a full port, the ones holding it
 * without completing requests. A connection closed while its client is still sending lingers
 * (api/http/linger.c). Shutdown refuses new connections, waits until no request is in flight, then
 * stops the daemons. The first callback refuses, and closes the connection after, a request that
 * another reader of the same bytes could frame differently (api/http/framing.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "api/http/framing.h"
#include "api/http/guard.h"
#include "api/http/http.h"
#include "api/http/linger.h"
#include "api/http/web.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/reply.h"
#include "api/util.h"
#include "api/xml.h"

#define POOL_WAIT_MS 2000
/* A body over API_MAX_BODY is read and dropped up to this size, so that the client gets its
 * 413 instead of a connection closed under its upload; beyond it the 413 goes out at once. */
#define DRAIN_MAX (1024 * 1024)
/* The longest URI, query included (longer is 414), and the most query arguments (more is
 * 413; CMS clients send a handful). What libmicrohttpd keeps of such a request line, the line
 * and a record of about 56 bytes per argument, fits in its 32 KB of connection memory with room
 * for the headers. More memory per connection would cost every request: libmicrohttpd clears
 * it between the requests of a connection (measured: 128 KB took make bench from 0.84-0.89
 * of the minimal server to 0.52-0.73). */
#define URI_MAX (8 * 1024)
#define URI_ARGS_MAX 200
/* TLS 1.3 and 1.2 only; in 1.2 only forward-secret key exchange (ECDHE) with AEAD ciphers, as
 * in Mozilla's "intermediate" profile. curl, newman (Node) and Ansible (Python) negotiate these
 * in make test. */
#define TLS_PRIORITIES                                                                             \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"            \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA"

/* One listening port, as its connection callbacks see it. */
struct port_ref {
    const struct api_http *h;
    atomic_uint port; /* known once its daemon runs (for --listen 0), and read by its threads */
    size_t i;         /* its index in api_http.ports and in the connection table */
};

struct api_http {
    struct MHD_Daemon *daemons[API_MAX_LISTEN];
    size_t n;
    const struct api *api;
    struct api_auth *auth;
    void (*route)(const struct api *api, struct store *st, const struct api_request *req,
                  struct api_reply *reply);
    int (*wait)(const struct api *api, const char *wait_id, int64_t until_us,
                void (*resume)(void *ctx), void *ctx);
    void (*guest)(const struct api *api, struct store *st, const struct api_request *req,
                  struct api_reply *reply);
    struct store_pool *pool; /* one connection per worker thread */
    atomic_int inflight;
    uint32_t id_base;          /* random at start: ids differ across restarts */
    atomic_uint_fast32_t ids;  /* requests so far */
    unsigned limit;            /* open connections per port, beyond which new ones are refused */
    atomic_bool stopping;      /* api_http_stop() has begun: every new connection is refused */
    struct api_linger *linger; /* closes connections whose client is still sending */
    struct api_guard *guard;   /* stage deadlines and eviction */
    struct port_ref ports[API_MAX_LISTEN];
};

#define REQUEST_ID_MAX 64

/* Authenticated requests' log lines: a burst of 10,000, then 1,000 a second (an API user's own
 * script can go faster; what it loses is counted like every dropped line). Everything else,
 * requests without valid credentials included, goes at api_log's default rate. */
static const struct api_log_rate access_rate = {.interval_us = 1000, .burst = 10000};

struct req_state {
    int64_t start_us;
    char id[REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's if it sent a usable one */
    char *body;                  /* NUL-terminated */
    size_t len;
    size_t seen; /* body bytes received, kept or not */
    bool too_big;
    bool answered;  /* a 413 or a refusal was queued before the body arrived */
    bool waited;    /* suspended once already (api_reply.wait_id): answer now */
    bool started;   /* on_request has seen the headers */
    int uri_status; /* 413 or 414 when on_uri() cut the query off, else 0 */
    /* api/http/framing.c's verdict, from on_uri() or the first call to on_request() */
    struct api_framing_verdict refusal;
    /* waiting for a verification slot, or woken for one and not back yet (api/http/auth.h) */
    bool auth_woken;
};

/* ---- replies ------------------------------------------------------------------------------ */

/* Copies s into out for a log line, replacing control bytes, so a path cannot forge lines. */
static void sanitize(const char *s, char *out, size_t cap)
{
    size_t i = 0;

    for (; s && *s && i + 1 < cap; s++)
        out[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[i] = '\0';
}

/* What every answer of the guest interface carries: a stranger's browser reads them, so no
 * caching (a session token, a secret in the page's address), no referrer (the join link holds
 * the coSpace's secret), no sniffing, no framing by another site, and for the page a content
 * security policy that admits only its own script and style. */
static void guest_headers(struct MHD_Response *resp, const char *type)
{
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (type && strncmp(type, "text/html", 9) == 0)
        (void)MHD_add_response_header(resp, "Content-Security-Policy",
                                      "default-src 'none'; script-src 'self'; style-src 'self'; "
                                      "connect-src 'self'; img-src 'self' data:; media-src 'self' "
                                      "blob:; base-uri 'none'; form-action 'self'; "
                                      "frame-ancestors 'none'");
}

static enum MHD_Result send_reply(const struct api_http *h, struct MHD_Connection *conn,
                                  struct api_reply *reply, const struct req_state *rs,
                                  const char *method, const char *url, const char *user)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char path[256];

    resp = MHD_create_response_from_buffer(reply->len, reply->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        api_reply_done(reply);
        return MHD_NO;
    }
    reply->body = NULL; /* MHD frees it with free() */
    if (reply->len > 0)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      reply->content_type ? reply->content_type : "text/xml");
    if (reply->location[0])
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, reply->location);
    if (reply->allow)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->status == MHD_HTTP_UNAUTHORIZED)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Basic realm=\"callbridge\"");
    (void)MHD_add_response_header(resp, "X-Request-Id", rs->id);
    if (reply->retry_after_s > 0) {
        char v[16];

        snprintf(v, sizeof(v), "%d", reply->retry_after_s);
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (reply->guest)
        guest_headers(resp, reply->content_type);
    if (reply->close_connection) /* libmicrohttpd then closes once the answer is sent */
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, (unsigned)reply->status, resp);
    MHD_destroy_response(resp);
    api_metrics_request(h->api->metrics, method, url, reply->status, api_now_us() - rs->start_us);
    sanitize(url, path, sizeof(path));
    if (user && *user) /* an API user's own requests: logged at the rate they make them */
        api_log_at(&access_rate, BASE_LOG_INFO, "%s %s %d %lldus user=%s id=%s", method, path,
                   reply->status, (long long)(api_now_us() - rs->start_us), user, rs->id);
    else /* anyone's: at the default rate, like every other source */
        api_log(BASE_LOG_INFO, "%s %s %d %lldus user=- id=%s", method, path, reply->status,
                (long long)(api_now_us() - rs->start_us), rs->id);
    return ret;
}

/* ---- request handling --------------------------------------------------------------------- */

static enum api_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum api_method method;
    } map[] = {{"GET", API_GET},
               {"HEAD", API_HEAD},
               {"POST", API_POST},
               {"PUT", API_PUT},
               {"DELETE", API_DELETE}};

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(m, map[i].name) == 0)
            return map[i].method;
    return API_OTHER;
}

struct query_ctx {
    struct api_params *params;
    int err;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct query_ctx *q = cls;

    (void)kind;
    q->err = api_params_add(q->params, key, key_size, value ? value : "", value ? value_size : 0);
    return q->err < 0 ? MHD_NO : MHD_YES;
}

/* Parses query and body into *query and *form; on failure *reply holds the 400. */
static int parse_input(struct MHD_Connection *conn, const struct req_state *rs,
                       enum api_method method, struct api_params *query, struct api_params *form,
                       struct api_reply *reply)
{
    struct query_ctx q = {query, 0};
    int r;

    (void)MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, add_query, &q);
    if (q.err < 0) {
        if (q.err == -EINVAL)
            api_reply_param_error(reply, query->bad, "invalidValue");
        else
            api_reply_err(reply, q.err); /* -E2BIG: 413, -ENOMEM: 500 */
        return q.err;
    }
    if (method != API_POST && method != API_PUT) /* bodies on GET and DELETE are ignored */
        return 0;
    if (!form) /* the guest interface: its bodies are JSON, its handlers read them raw */
        return 0;
    r = api_params_parse(form, rs->body ? rs->body : "", rs->len);
    if (r == -EINVAL)
        api_reply_param_error(reply, form->bad, "invalidValue");
    else if (r < 0)
        api_reply_err(reply, r);
    return r;
}

static void resume(void *ctx)
{
    MHD_resume_connection(ctx); /* from the prober thread; MHD then calls on_request again */
}

/* The handler asked to answer later: suspend first, then ask to be woken, so the wake-up
 * cannot come before the suspension. */
static enum MHD_Result suspend(struct api_http *h, struct MHD_Connection *conn,
                               struct req_state *rs, struct api_reply *reply)
{
    rs->waited = true;
    MHD_suspend_connection(conn);
    if (h->wait(h->api, reply->wait_id, reply->wait_until_us, resume, conn) < 0)
        MHD_resume_connection(conn);
    api_reply_done(reply);
    return MHD_YES;
}

/* Counts a check's outcome for the client's address and logs a backoff it starts. */
static void count_login(const struct api_http *h, const char *addr, bool ok)
{
    bool shared;
    int64_t backoff = api_auth_record(h->auth, addr, ok, api_now_us(), &shared);

    if (backoff > 0 && shared)
        api_log(BASE_LOG_WARN,
                "client %s and others the failed-login table has no room for: %d or more failed "
                "logins in a row; their next credentials are checked in %lld s",
                addr, API_AUTH_FREE_FAILURES, (long long)(backoff / 1000000));
    else if (backoff > 0)
        api_log(BASE_LOG_WARN,
                "client %s: %d or more failed logins in a row; its next "
                "credentials are checked in %lld s",
                addr, API_AUTH_FREE_FAILURES, (long long)(backoff / 1000000));
}

/* Checks the Authorization header (into user) and counts the outcome for the client's
 * address; a header verified before is served at once, whatever the address's backoff (it is
 * no guess: api/http/auth.h). 'woken': the request was woken for a verification slot. Returns 0
 * when the request may go on; otherwise *reply holds the answer: 401, 429 while the address
 * waits, a store error, or (-EAGAIN) 503 when every password verification slot is busy, which
 * the caller may rather wait out (suspended: no worker waits). */
static int authenticate(const struct api_http *h, struct MHD_Connection *conn, struct store *st,
                        const char *addr, bool woken, char *user, struct api_reply *reply)
{
    const char *authz =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int r = api_auth_check_known(h->auth, st, authz, user);
    int64_t wait_us = r == -ENOENT ? api_auth_throttled(h->auth, addr, api_now_us()) : 0;

    /* woken for a slot it does not need after all: the next waiter may have it */
    if (woken && (r != -ENOENT || wait_us > 0))
        api_auth_pass_on(h->auth);
    if (wait_us > 0) { /* too many failed logins from there: not even checked */
        api_reply_failure(reply, 429, "tooManyFailedLogins");
        reply->retry_after_s = (int)((wait_us + 999999) / 1000000);
        return -EPERM;
    }
    if (r == -ENOENT) {
        r = woken ? api_auth_check_woken(h->auth, st, authz, user)
                  : api_auth_check(h->auth, st, authz, user);
        if (authz && (r == 0 || r == -EACCES)) /* no header is a first try, not a failure */
            count_login(h, addr, r == 0);
    }
    if (r == -EACCES) {
        reply->status = MHD_HTTP_UNAUTHORIZED;
    } else if (r == -EAGAIN) { /* not the client's failure: it may try again in a second */
        api_reply_failure(reply, MHD_HTTP_SERVICE_UNAVAILABLE, "authenticationBusy");
        reply->retry_after_s = 1;
    } else if (r < 0) {
        api_reply_err(reply, r);
    }
    return r;
}

/* How long a request may wait, suspended, for a password verification slot before it is
 * answered 503 (api/http/auth.h): a few checks' time, as a client's parallel first requests need.
 */
#define AUTH_WAIT_US (2 * 1000000LL)

/* True when the request, whose check found no verification slot free, may wait for one: it
 * has not waited that long yet and there is a place among the waiting. */
static bool may_wait_for_check(const struct api_http *h, const struct req_state *rs)
{
    return api_now_us() - rs->start_us < AUTH_WAIT_US && api_auth_wait_reserve(h->auth) == 0;
}

/* Suspends the request until a verification slot comes free; MHD then calls on_request again
 * and the request is authenticated anew. As in suspend(), the wake-up is asked for only once
 * the connection is suspended, so it cannot come first. */
static enum MHD_Result wait_for_check(struct api_http *h, struct MHD_Connection *conn,
                                      struct req_state *rs, struct api_reply *reply)
{
    MHD_suspend_connection(conn);
    rs->auth_woken = true; /* from the wake-up on, until handle() or on_completed() */
    if (api_auth_wait(h->auth, resume, conn) < 0) {
        rs->auth_woken = false;
        MHD_resume_connection(conn); /* a slot is free already: try again now */
    }
    api_reply_done(reply);
    return MHD_YES;
}

/* Writes a (network order) as inet_ntop(AF_INET) does, dotted decimal, into out (at least
 * INET_ADDRSTRLEN bytes): glibc's formats it with sprintf, on every request. */
static void ipv4_text(const struct in_addr *a, char *out)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;

    for (int i = 0; i < 4; i++) {
        if (b[i] >= 100)
            *out++ = (char)('0' + b[i] / 100);
        if (b[i] >= 10)
            *out++ = (char)('0' + b[i] / 10 % 10);
        *out++ = (char)('0' + b[i] % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

/* The client's numeric address (cap >= INET6_ADDRSTRLEN), for the throttle and the log. */
static void client_address(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    out[0] = '?';
    out[1] = '\0';
    if (sa && sa->sa_family == AF_INET)
        ipv4_text(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, out);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* The connection's entry in the table (api/http/guard.h), or NULL. */
static struct api_guard_conn *guard_entry(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Is url the guest interface (/meeting, /meeting/...)? It is outside /api/v1 and takes no
 * API credentials. */
static bool is_guest_path(const char *url)
{
    return strncmp(url, "/meeting", 8) == 0 && (url[8] == '\0' || url[8] == '/');
}

/* The join page and its files: /meeting, /meeting/<callId> (the guest link), and
 * /meeting/static/<file>. Returns false when url is none of them. */
static bool guest_file(const char *url, struct api_reply *reply)
{
    const char *rest = url[8] ? url + 9 : "";
    const struct web_file *f = NULL;

    if (strncmp(rest, "static/", 7) == 0)
        f = web_find(rest + 7);
    else if (!strchr(rest, '/') && strcmp(rest, "api") != 0)
        f = web_find("join.html");
    else
        return false;
    reply->guest = true;
    if (!f) {
        reply->status = MHD_HTTP_NOT_FOUND;
        return true;
    }
    reply->body = malloc(f->len ? f->len : 1);
    if (!reply->body) {
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return true;
    }
    memcpy(reply->body, f->data, f->len);
    reply->len = f->len;
    reply->content_type = f->type;
    reply->status = MHD_HTTP_OK;
    return true;
}

/* A request of the guest interface: the page (no store connection needed), or its signalling
 * (h->guest, with one). A join is throttled per client address as logins are, and a refused one
 * counts as a failed login. */
static enum MHD_Result handle_guest(struct api_http *h, struct MHD_Connection *conn,
                                    const char *url, const char *method, struct req_state *rs,
                                    const char *addr)
{
    struct api_params query = {0};
    struct api_reply reply = {.guest = true};
    struct api_request req = {.method = method_of(method),
                              .path = url,
                              .user = "",
                              .client = addr,
                              .body = rs->body ? rs->body : "",
                              .body_len = rs->len,
                              .may_wait = !rs->waited};
    bool join = strcmp(url, "/meeting/api/join") == 0;
    int64_t wait_us = join ? api_auth_throttled(h->auth, addr, api_now_us()) : 0;
    struct store *st;
    enum MHD_Result ret;

    if ((req.method == API_GET || req.method == API_HEAD) && guest_file(url, &reply)) {
        /* the page: answered from the binary */
    } else if (wait_us > 0) {
        reply.status = 429;
        reply.retry_after_s = (int)((wait_us + 999999) / 1000000);
    } else if (!h->guest || !(st = store_pool_get(h->pool, POOL_WAIT_MS))) {
        reply.status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else {
        req.query = &query;
        req.form = &query; /* never read: the guest handlers read the JSON body */
        if (parse_input(conn, rs, req.method, &query, NULL, &reply) == 0)
            h->guest(h->api, st, &req, &reply);
        store_pool_put(h->pool, st);
        if (join && reply.status == 403)
            count_login(h, addr, false); /* never a success: a known meeting must not reset it */
    }
    api_params_done(&query);
    if (reply.wait_id[0])
        return suspend(h, conn, rs, &reply);
    ret = send_reply(h, conn, &reply, rs, method, url, NULL);
    api_reply_done(&reply);
    return ret;
}

static enum MHD_Result handle(struct api_http *h, struct MHD_Connection *conn, const char *url,
                              const char *method, struct req_state *rs)
{
    struct api_params query = {0}, form = {0};
    struct api_reply reply = {0};
    char user[STORE_USER_NAME_MAX + 1] = "";
    struct api_request req = {.method = method_of(method), .path = url};
    char addr[64];
    struct store *st;
    enum MHD_Result ret;
    bool woken;
    int r;

    api_guard_stage(h->guard, guard_entry(conn), API_GUARD_BUSY); /* never evicted now */
    client_address(conn, addr, sizeof(addr));
    if (is_guest_path(url))
        return handle_guest(h, conn, url, method, rs, addr);
    st = store_pool_get(h->pool, POOL_WAIT_MS);
    if (!st) {
        api_reply_err(&reply, -EBUSY);
        return send_reply(h, conn, &reply, rs, method, url, NULL);
    }
    woken = rs->auth_woken;
    rs->auth_woken = false;
    r = authenticate(h, conn, st, addr, woken, user, &reply);
    if (r == -EAGAIN && may_wait_for_check(h, rs)) {
        store_pool_put(h->pool, st);
        return wait_for_check(h, conn, rs, &reply);
    }
    if (r == 0 && parse_input(conn, rs, req.method, &query, &form, &reply) == 0) {
        req.query = &query;
        req.form = &form;
        req.body = rs->body ? rs->body : ""; /* raw, for what is not a form: a layout template */
        req.body_len = rs->len;
        req.user = user;
        req.may_wait = !rs->waited;
        h->route(h->api, st, &req, &reply);
    }
    store_pool_put(h->pool, st);
    api_params_done(&query);
    api_params_done(&form);
    if (reply.wait_id[0])
        return suspend(h, conn, rs, &reply);
    ret = send_reply(h, conn, &reply, rs, method, url, user);
    api_reply_done(&reply);
    return ret;
}

static int append_body(struct req_state *rs, const char *data, size_t n)
{
    char *b;

    if (rs->len + n > API_MAX_BODY)
        return -E2BIG;
    b = realloc(rs->body, rs->len + n + 1);
    if (!b)
        return -ENOMEM;
    memcpy(b + rs->len, data, n);
    rs->len += n;
    b[rs->len] = '\0';
    rs->body = b;
    return 0;
}

/* 413, or 414 for a URI, before any handler. */
static enum MHD_Result too_large(const struct api_http *h, struct MHD_Connection *conn,
                                 struct req_state *rs, const char *method, const char *url,
                                 int status)
{
    static const char guest_body[] =
        "{\"error\":\"requestTooLarge\",\"message\":\"The request is too large.\"}";
    struct api_reply reply = {0};

    if (is_guest_path(url)) { /* the join page reads JSON, the API's clients XML */
        reply.status = status;
        reply.guest = true;
        reply.content_type = "application/json";
        reply.body = strdup(guest_body);
        reply.len = reply.body ? strlen(reply.body) : 0;
    } else {
        api_reply_failure(&reply, status, "requestTooLarge");
    }
    return send_reply(h, conn, &reply, rs, method, url, NULL);
}

/* libmicrohttpd 0.9.75 keeps a header line in its read buffer as the name, a NUL, the blanks
 * after the colon and the value, and hands out pointers into it. A line continued on the next
 * (obs-fold) it joins to the name in a copy made further on in its memory pool, leaving the
 * value behind: a value that does not follow its name that way was folded. At most
 * FOLD_GAP_MAX bytes between them are read, all inside that pool. */
#define FOLD_GAP_MAX 256
static bool is_folded(const char *key, size_t key_size, const char *value)
{
    const char *p = key + key_size + 1;

    if (!value)
        return false;
    if (value < p || (size_t)(value - p) > FOLD_GAP_MAX)
        return true;
    while (p < value && (*p == ' ' || *p == '\t'))
        p++;
    return p != value;
}

static enum MHD_Result add_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    api_framing_add_field(cls, key, key_size, value ? value : "", value ? value_size : 0,
                          is_folded(key, key_size, value));
    return MHD_YES;
}

/* A request framed in a way another reader of the same bytes could frame differently, or with
 * an encoded NUL or slash in its path (see api/http/framing.h), is answered at once, before its
 * body is read, and the connection is closed after the answer: whatever follows on it is never read
 * as a request. MHD_get_connection_values_n() hands every header line, repeats included. */
static struct api_framing_verdict check_headers(struct MHD_Connection *conn, const char *version)
{
    struct api_framing_scan scan = {0};

    (void)MHD_get_connection_values_n(conn, MHD_HEADER_KIND, add_field, &scan);
    return api_framing_check(&scan, version);
}

static enum MHD_Result refuse(const struct api_http *h, struct MHD_Connection *conn,
                              struct req_state *rs, const char *method, const char *url)
{
    struct api_reply reply = {0};
    char addr[64];

    client_address(conn, addr, sizeof(addr));
    api_log(BASE_LOG_WARN, "client %s: request refused with %d: %s; its connection is closed", addr,
            rs->refusal.status, rs->refusal.why);
    rs->answered = true;
    api_reply_failure(&reply, rs->refusal.status, rs->refusal.reason);
    reply.close_connection = true;
    return send_reply(h, conn, &reply, rs, method, url, NULL);
}

/* Writes v as 8 lower-case hex digits into out (no NUL). */
static void hex32(uint32_t v, char *out)
{
    for (int i = 7; i >= 0; i--, v >>= 4)
        out[i] = "0123456789abcdef"[v & 0xf];
}

/* The request's id: the client's X-Request-Id when it is 1 to 64 characters of letters, digits
 * and ".:_-" (what proxies and tracing tools send), so one id follows a request through
 * them; otherwise a new one, 16 hex digits. It goes back in X-Request-Id and into the log. */
static void request_id(struct api_http *h, struct MHD_Connection *conn, char *id)
{
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = given ? strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789.:_-")
                     : 0;

    if (n > 0 && n <= REQUEST_ID_MAX && given[n] == '\0') {
        memcpy(id, given, n + 1);
        return;
    }
    hex32(h->id_base, id); /* what "%08x%08x" writes, without snprintf on every request */
    hex32((uint32_t)(atomic_fetch_add(&h->ids, 1) + 1), id + 8);
    id[16] = '\0';
}

static struct req_state *req_state_new(struct api_http *h)
{
    struct req_state *rs = calloc(1, sizeof(*rs));

    if (rs) {
        rs->start_us = api_now_us();
        atomic_fetch_add(&h->inflight, 1); /* until on_completed() frees it */
    }
    return rs;
}

/* Called with the request line's URI before libmicrohttpd splits the query into arguments.
 * Splitting hundreds of them runs its connection memory out, and the 431 it then queues never
 * reaches a TLS client: the connection closes with no answer (in epoll mode the client even
 * waited for its own timeout; checked again in poll mode with 1,000 arguments). So a query with
 * more arguments than URI_ARGS_MAX, or a URI over URI_MAX, is cut off here (in the
 * connection's own read buffer) and answered 413 or 414 as soon as the headers are in. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct api_http *h = cls;
    struct req_state *rs = req_state_new(h);
    char *query;
    size_t args = 1;

    /* the request line is in: a keep-alive connection's wait ends, its headers are due */
    api_guard_stage(h->guard, guard_entry(conn), API_GUARD_HEAD);
    if (!rs || !uri)
        return rs;
    rs->refusal = api_framing_check_target(uri); /* answered on the first call to on_request */
    query = strchr(uri, '?');
    for (const char *s = query; s && *s && args <= URI_ARGS_MAX; s++)
        args += *s == '&';
    if (strlen(uri) > URI_MAX)
        rs->uri_status = MHD_HTTP_URI_TOO_LONG;
    else if (args > URI_ARGS_MAX)
        rs->uri_status = MHD_HTTP_CONTENT_TOO_LARGE;
    if (!query)
        return rs;
    if (rs->uri_status)  /* leave "?" (libmicrohttpd may have found it already), no arguments */
        query[1] = '\0'; /* writable: libmicrohttpd passes its read buffer */
    return rs;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_len, void **req_cls)
{
    struct api_http *h = cls;
    struct req_state *rs = *req_cls;

    if (!rs || !rs->started) { /* first call: headers only */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

        if (!rs) /* on_uri() could not allocate it, so the target went unchecked: drop */
            return MHD_NO;
        rs->started = true;
        api_guard_stage(h->guard, guard_entry(conn), API_GUARD_BODY);
        request_id(h, conn, rs->id);
        *req_cls = rs; /* freed in on_completed() */
        if (!rs->refusal.status)
            rs->refusal = check_headers(conn, version);
        if (rs->refusal.status)
            return refuse(h, conn, rs, method, url);
        if (rs->uri_status || (cl && strtoull(cl, NULL, 10) > DRAIN_MAX)) {
            rs->answered = true; /* refused before reading the body */
            return too_large(h, conn, rs, method, url,
                             rs->uri_status ? rs->uri_status : MHD_HTTP_CONTENT_TOO_LARGE);
        }
        return MHD_YES;
    }
    if (rs->answered) {
        *data_len = 0;
        return MHD_YES;
    }
    if (*data_len > 0) {
        rs->seen += *data_len;
        if (!rs->too_big && append_body(rs, data, *data_len) < 0)
            rs->too_big = true; /* keep draining, answer at the end */
        *data_len = 0;
        if (rs->seen > DRAIN_MAX) { /* a chunked upload that does not stop */
            rs->answered = true;
            return too_large(h, conn, rs, method, url, MHD_HTTP_CONTENT_TOO_LARGE);
        }
        return MHD_YES;
    }
    if (rs->too_big) {
        api_guard_stage(h->guard, guard_entry(conn), API_GUARD_BUSY);
        return too_large(h, conn, rs, method, url, MHD_HTTP_CONTENT_TOO_LARGE);
    }
    return handle(h, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_http *h = cls;
    struct req_state *rs = *req_cls;

    (void)toe;
    api_guard_stage(h->guard, guard_entry(conn), API_GUARD_IDLE); /* closed or kept alive */
    if (!rs)
        return;
    if (rs->auth_woken) /* woken for a verification slot, gone before it tried: pass it on */
        api_auth_pass_on(h->auth);
    free(rs->body);
    free(rs);
    *req_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

/* Enters a new connection in the table, its entry in *socket_ctx. A closed one, which
 * libmicrohttpd closes right after this callback (it still holds the socket), leaves the table
 * and lingers if its client is still sending. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct port_ref *port = cls;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_ctx = api_guard_open(port->h->guard, port->i, info ? info->connect_fd : -1);
        return;
    }
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    api_guard_close(port->h->guard, port->i, *socket_ctx);
    *socket_ctx = NULL;
    if (info) /* the lingering thread runs before any daemon starts */
        (void)api_linger_add(port->h->linger, info->connect_fd);
}

/* A connection over the limit is closed as soon as it is accepted: the client is refused at
 * once instead of waiting in the listen queue, as it would once libmicrohttpd's own limit (set
 * a little higher) stopped it accepting. At the limit, a connection that holds the port without
 * completing a request, or else an idle one, gives way to it (api_guard_admit). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct port_ref *port = cls;

    (void)addr;
    (void)addrlen;
    if (atomic_load(&port->h->stopping))
        return MHD_NO;
    if (api_guard_admit(port->h->guard, port->i, atomic_load(&port->port)))
        return MHD_YES;
    api_log_every(10, BASE_LOG_WARN,
                  "port %u has %u connections open, its limit, and none can give way (each is "
                  "being handled or already closing): new ones are refused until some close "
                  "(logged at most every 10 s)",
                  atomic_load(&port->port), port->h->limit);
    return MHD_NO;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    api_log_site(fmt, &api_log_rate_default, BASE_LOG_WARN, "http: %s",
                 msg); /* limited per libmicrohttpd's message */
}

/* ---- start and stop ----------------------------------------------------------------------- */

static int make_addr(const char *bind, uint16_t port, struct sockaddr_storage *ss, bool *ret_v6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *ret_v6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *ret_v6 = true;
        return 0;
    }
    return -EINVAL;
}

static struct MHD_Daemon *start_one(struct api_http *h, const struct api_http_config *cfg, size_t i)
{
    uint16_t port = cfg->ports[i];
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_TLS |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_storage ss;
    bool v6;

    if (make_addr(cfg->bind, port, &ss, &v6) < 0)
        return NULL;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->ports[i].h = h;
    h->ports[i].i = i;
    atomic_store(&h->ports[i].port, port);
    return MHD_start_daemon(
        flags, port, on_accept, &h->ports[i], on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem, MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
        MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT,
        cfg->connection_limit + cfg->threads * API_HTTP_SPARE_PER_THREAD,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connection_limit,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, &h->ports[i], MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_END);
}

static int start_guard(struct api_http *h, const struct api_http_config *cfg)
{
    struct api_guard_config gc = {
        .nports = cfg->nports,
        .limit = cfg->connection_limit,
        .capacity = cfg->connection_limit + cfg->threads * API_HTTP_SPARE_PER_THREAD,
        .head_ms = cfg->header_timeout_s * 1000,
        .body_ms = cfg->body_timeout_s * 1000,
        .idle_ms = cfg->connection_timeout_s * 1000,
        .metrics = h->api->metrics,
    };

    return api_guard_start(&gc, &h->guard);
}

int api_http_start(const struct api_http_config *cfg, const struct api *api, struct api_auth *auth,
                   struct api_http **ret_http)
{
    struct api_http *h;
    int r;

    if (cfg->nports == 0 || cfg->nports > API_MAX_LISTEN || cfg->threads == 0 || !cfg->route ||
        !cfg->wait)
        return -EINVAL;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->api = api;
    h->auth = auth;
    h->route = cfg->route;
    h->wait = cfg->wait;
    h->guest = cfg->guest;
    h->limit = cfg->connection_limit;
    /* password checks leave a worker of each port free for clients already in (api/http/auth.h) */
    api_auth_set_verify_limit(auth, cfg->threads > 1 ? cfg->threads - 1 : 1);
    if (RAND_bytes((unsigned char *)&h->id_base, sizeof(h->id_base)) != 1)
        h->id_base = (uint32_t)api_now_us() ^ (uint32_t)getpid();
    r = store_pool_open(cfg->db_path, cfg->threads * cfg->nports, &h->pool);
    if (r < 0)
        goto fail;
    r = api_linger_start(cfg->linger_max, api->metrics, &h->linger);
    if (r < 0)
        goto fail;
    r = start_guard(h, cfg);
    if (r < 0)
        goto fail;
    for (; h->n < cfg->nports; h->n++) {
        const union MHD_DaemonInfo *info;

        h->daemons[h->n] = start_one(h, cfg, h->n);
        if (!h->daemons[h->n]) {
            api_log(BASE_LOG_ERR,
                    "cannot listen on https://%s:%u (address in use, or a port "
                    "below 1024 without the capability to bind it?)",
                    cfg->bind, cfg->ports[h->n]);
            r = -EADDRINUSE;
            goto fail;
        }
        info = MHD_get_daemon_info(h->daemons[h->n], MHD_DAEMON_INFO_BIND_PORT);
        atomic_store(&h->ports[h->n].port, info ? info->port : cfg->ports[h->n]);
        api_log(BASE_LOG_INFO, "listening on https://%s%s%s:%u", strchr(cfg->bind, ':') ? "[" : "",
                cfg->bind, strchr(cfg->bind, ':') ? "]" : "", atomic_load(&h->ports[h->n].port));
    }
    *ret_http = h;
    return 0;
fail:
    api_http_stop(h, 0);
    return r;
}

uint16_t api_http_port(const struct api_http *h, size_t i)
{
    return i < h->n ? (uint16_t)atomic_load(&h->ports[i].port) : 0;
}

/* New connections are refused by on_accept() while requests in flight finish, rather than by
 * MHD_quiesce_daemon(): with a thread pool in epoll mode (used then), libmicrohttpd 0.9.75 aborted
 * the process once on a SIGTERM in the it_faults suite ("Failed to remove listen FD from epoll
 * set"), most likely its quiesce racing with the workers that take the listening socket out of
 * their own epoll sets once quiesced (not confirmed in its source). */
void api_http_stop(struct api_http *h, int drain_ms)
{
    if (!h)
        return;
    atomic_store(&h->stopping, true);
    for (int waited = 0; atomic_load(&h->inflight) > 0 && waited < drain_ms; waited += 10)
        (void)usleep(10 * 1000);
    for (size_t i = 0; i < h->n; i++)
        MHD_stop_daemon(h->daemons[i]);
    api_guard_stop(h->guard);
    api_linger_stop(h->linger);
    store_pool_close(h->pool);
    free(h);
}
