/* scripts/bench/rtcpeer_sig.c: rtcpeer's side of the guest signalling (docs/guests.md) over
 * HTTPS with libcurl and jansson: the join (a blocking POST: it comes once, before the loop),
 * then per guest one events long poll always running and one POST at a time (answer, leave)
 * from a small queue (sent again when no answer came), both on the process's one curl multi handle,
 * which the loop drives. An offer goes to the media side; an "end" event is kept as the guest's end
 * (its detail names the reason, e.g. "dtlsFailed: ...").
 *
 * DESIGN: curl is driven by curl_multi_perform from the epoll loop's short ticks instead of
 * having its sockets in the epoll set: a few requests per guest per offer are nothing next to
 * the media, and the loop stays one simple wait. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scripts/bench/rtcpeer.h"

#define BODY_MAX (256 * 1024) /* an events batch of a few offers of 64 m-lines */
#define POST_TRIES 3

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
    struct peer_buf *b = userdata;
    size_t add = size * n;
    char *grown;

    if (b->len + add + 1 > BODY_MAX)
        return 0; /* curl fails the transfer: a bounded buffer */
    grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static CURL *easy(struct peer_guest *g, const char *path, struct peer_buf *body)
{
    static struct curl_slist *json_hdr;
    char url[512];
    CURL *c = curl_easy_init();

    if (!c)
        return NULL;
    if (!json_hdr)
        json_hdr = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(url, sizeof(url), "%s%s", g->base[0] ? g->base : g->p->opt.url, path);
    free(body->data);
    body->data = NULL;
    body->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, json_hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PRIVATE, g);
    if (g->p->opt.cacert) {
        curl_easy_setopt(c, CURLOPT_CAINFO, g->p->opt.cacert);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L); /* a test certificate for 127.0.0.1 */
    } else {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return c;
}

/* "turn:HOST:PORT?transport=udp" (HOST may be [v6]) into an address. */
static int turn_url(const char *url, struct sockaddr_storage *ret)
{
    char host[256];
    const char *p = strncmp(url, "turn:", 5) == 0 ? url + 5 : NULL, *colon;
    unsigned port;

    if (!p)
        return -1;
    if (*p == '[') {
        colon = strchr(p, ']');
        if (!colon || colon[1] != ':')
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - p - 1), p + 1);
        colon++;
    } else {
        colon = strrchr(p, ':');
        if (!colon)
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - p), p);
    }
    if (sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535)
        return -1;
    memset(ret, 0, sizeof(*ret));
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ret;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
    }
}

static int read_join(struct peer_guest *g, json_t *j)
{
    const char *session = NULL, *leg = NULL, *url = NULL, *user = NULL, *pass = NULL;
    json_error_t e;

    if (json_unpack_ex(j, &e, 0, "{s:s, s:s, s:[{s:[s!], s:s, s:s}]}", "session", &session, "leg",
                       &leg, "iceServers", "urls", &url, "username", &user, "credential",
                       &pass) < 0) {
        fprintf(stderr, "rtcpeer: guest %u: join answer: %s\n", g->idx, e.text);
        return -1;
    }
    snprintf(g->session, sizeof(g->session), "%s", session);
    snprintf(g->leg, sizeof(g->leg), "%s", leg);
    snprintf(g->turn_user, sizeof(g->turn_user), "%s", user);
    snprintf(g->turn_pass, sizeof(g->turn_pass), "%s", pass);
    if (turn_url(url, &g->turn) < 0) {
        fprintf(stderr, "rtcpeer: guest %u: cannot use TURN server %s\n", g->idx, url);
        return -1;
    }
    return 0;
}

/* A cluster's node sent the guest to the node hosting its call (docs/guests.md): the join page's
 * redirect, https://NODE/meeting/<callId>#handoff=<ticket>; g then talks to NODE, and req is
 * the join with the ticket. Returns 0, or -1 when ans is not a redirect. */
static int follow(struct peer_guest *g, json_t *ans, json_t **req)
{
    const char *url = json_string_value(json_object_get(ans, "redirect"));
    const char *path = url ? strstr(url, "/meeting/") : NULL;
    const char *ticket = url ? strstr(url, "#handoff=") : NULL;

    if (!path || !ticket || (size_t)(path - url) >= sizeof(g->base))
        return -1;
    snprintf(g->base, sizeof(g->base), "%.*s", (int)(path - url), url);
    json_decref(*req);
    *req = json_pack("{s:s, s:s}", "callId", g->p->opt.call_id, "handoff",
                     ticket + strlen("#handoff="));
    return *req ? 0 : -1;
}

int peer_sig_join(struct peer_guest *g)
{
    struct peer_buf body = {0};
    CURL *c = easy(g, "/meeting/api/join", &body);
    json_t *req, *ans = NULL;
    char *text = NULL;
    long status = 0;
    int r = -1;

    req = json_pack("{s:s, s:s, s:s}", "callId", g->p->opt.call_id, "secret", g->p->opt.secret,
                    "name", g->name);
    for (int hops = 0; hops < 2; hops++) { /* sent on once at most: the hosting node admits */
        text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        if (c && text) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
            if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        }
        ans = status == 200 ? json_loads(body.data ? body.data : "", 0, NULL) : NULL;
        if (!ans || !json_object_get(ans, "redirect") || follow(g, ans, &req) < 0)
            break;
        json_decref(ans);
        ans = NULL;
        free(text);
        text = NULL;
        status = 0;
        if (c)
            curl_easy_cleanup(c);
        c = easy(g, "/meeting/api/join", &body);
    }
    if (ans)
        r = read_join(g, ans);
    else
        fprintf(stderr, "rtcpeer: guest %u: join: HTTP %ld %s\n", g->idx, status,
                body.data ? body.data : "");
    json_decref(ans);
    json_decref(req);
    free(text);
    free(body.data);
    if (c)
        curl_easy_cleanup(c);
    return r;
}

void peer_sig_poll(struct peer_guest *g)
{
    char path[200];

    if (g->ev_busy || g->ended || !g->session[0])
        return;
    snprintf(path, sizeof(path), "/meeting/api/events?session=%s&after=%lld", g->session, g->after);
    g->ev = easy(g, path, &g->ev_body);
    if (g->ev && curl_multi_add_handle(g->p->multi, g->ev) == CURLM_OK)
        g->ev_busy = true;
}

static void next_post(struct peer_guest *g)
{
    char path[64], *body;
    size_t verb;

    if (g->post_busy || g->nqueue == 0)
        return;
    verb = strcspn(g->queue[0], "\n");
    snprintf(path, sizeof(path), "/meeting/api/%.*s", (int)verb, g->queue[0]);
    g->post = easy(g, path, &g->post_body);
    body = g->queue[0] + verb + 1;
    if (!g->post)
        return;
    curl_easy_setopt(g->post, CURLOPT_COPYPOSTFIELDS, body);
    if (curl_multi_add_handle(g->p->multi, g->post) == CURLM_OK)
        g->post_busy = true;
}

/* The POST at the head of the queue got an answer (status 0: none): it goes, unless the server
 * could not take it now (no answer, 5xx), when it is sent again, three times at most. A lost
 * answer would leave callbridged waiting for it and the guest without the next offer. */
static void post_done(struct peer_guest *g, long status)
{
    bool again = (status == 0 || status >= 500) && g->post_tries < POST_TRIES && !g->leaving;

    if (status != 200 && !g->leaving)
        fprintf(stderr, "rtcpeer: guest %u: POST: HTTP %ld %s%s\n", g->idx, status,
                g->post_body.data ? g->post_body.data : "", again ? " (again)" : "");
    g->post = NULL;
    g->post_busy = false;
    if (again) {
        g->post_tries++;
    } else {
        g->post_tries = 0;
        free(g->queue[0]);
        memmove(g->queue, g->queue + 1, (--g->nqueue) * sizeof(g->queue[0]));
    }
    next_post(g);
}

int peer_sig_post(struct peer_guest *g, const char *verb, const char *body)
{
    size_t n = strlen(verb) + strlen(body) + 2;
    char *item;

    if (g->nqueue == PEER_QUEUE)
        return -1;
    item = malloc(n);
    if (!item)
        return -1;
    snprintf(item, n, "%s\n%s", verb, body);
    g->queue[g->nqueue++] = item;
    next_post(g);
    return 0;
}

static void on_event(struct peer_guest *g, json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *seq = json_object_get(ev, "seq");

    if (json_is_integer(seq) && json_integer_value(seq) > g->after)
        g->after = json_integer_value(seq);
    if (!type)
        return;
    if (strcmp(type, "offer") == 0 && json_is_string(json_object_get(ev, "sdp"))) {
        const char *sdp = json_string_value(json_object_get(ev, "sdp"));
        char err[200];

        if (!g->offer)
            g->offer = malloc(sizeof(*g->offer));
        if (!g->offer || sdp_parse(sdp, strlen(sdp), g->offer, err, sizeof(err)) < 0) {
            fprintf(stderr, "rtcpeer: guest %u: an offer it cannot read\n", g->idx);
            return;
        }
        peer_sdp_streams(g, sdp);
        g->offer_pending = true; /* answered by the loop (rtcpeer.c), after this poll */
    } else if (strcmp(type, "end") == 0) {
        const char *detail = json_string_value(json_object_get(ev, "detail"));

        g->ended = true;
        g->ended_us = turn_now_us();
        snprintf(g->end, sizeof(g->end), "%s", detail ? detail : "");
    }
}

static void events_done(struct peer_guest *g, long status)
{
    json_t *j = status == 200 && g->ev_body.data ? json_loads(g->ev_body.data, 0, NULL) : NULL;
    json_t *list = json_object_get(j, "events");

    if (status == 410 && !g->ended) {
        g->ended = true;
        g->ended_us = turn_now_us();
        snprintf(g->end, sizeof(g->end), "session over");
    }
    for (size_t i = 0; i < json_array_size(list); i++)
        on_event(g, json_array_get(list, i));
    json_decref(j);
}

void peer_sig_done(struct peer *p)
{
    CURLMsg *msg;
    int left, running;

    (void)curl_multi_perform(p->multi, &running);
    while ((msg = curl_multi_info_read(p->multi, &left))) {
        struct peer_guest *g = NULL;
        long status = 0;
        CURL *c = msg->easy_handle;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&g);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(p->multi, c);
        curl_easy_cleanup(c);
        if (c == g->ev) {
            g->ev = NULL;
            g->ev_busy = false;
            events_done(g, status);
        } else {
            post_done(g, status);
        }
    }
}

void peer_sig_free(struct peer_guest *g)
{
    CURL *c[2] = {g->ev, g->post};

    for (int i = 0; i < 2; i++) {
        if (c[i]) {
            curl_multi_remove_handle(g->p->multi, c[i]);
            curl_easy_cleanup(c[i]);
        }
    }
    for (size_t i = 0; i < g->nqueue; i++)
        free(g->queue[i]);
    free(g->ev_body.data);
    free(g->post_body.data);
    free(g->offer);
}
