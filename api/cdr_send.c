/* api/cdr_send.c: delivery of the CDR outbox: each receiver is posted, as CMS posts, the
 * records after the last it acknowledged, in order, up to BATCH_MAX of one session at a time,
 * with libcurl (http or https as its uri says); what it acknowledged is stored, and what every
 * receiver has is deleted.
 *
 * DESIGN: a receiver that fails (no connection, a status other than 2xx, no answer within
 * POST_TIMEOUT_MS) is retried from the same record after an exponential backoff
 * (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS), so it gets every record once and in order while
 * the others go on; a receiver that processed a POST it did not answer in time gets it again
 * (at least once, as CMS). Its state (last success, last failure and why, records pending) is
 * kept for the API, /metrics and the alarm; its uri is never logged (it may carry a token). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cdr_int.h"
#include "api/cluster.h"
#include "api/log.h"
#include "api/util.h"

#define BATCH_MAX 100 /* records in one POST */
#define BACKOFF_MIN_MS 250
/* A receiver back after an outage gets its records at most this long after its return (plus a
 * POST); a dead one costs an attempt this often (a refused connection, or up to the 2 s connect
 * timeout of an address that does not answer). tests/cdr/receiver_killed.py measures the wait. */
#define BACKOFF_MAX_MS 4000
#define POST_TIMEOUT_MS 5000

struct receiver {
    char id[STORE_ID_LEN + 1];
    char uri[STORE_TEXT_MAX + 1];
    int64_t delivered;     /* how far it has the records being sent */
    int64_t own_delivered; /* its own delivered index (cdr_receiver) */
};

struct receivers {
    struct receiver r[MAX_RECEIVERS];
    size_t n;
};

static int read_receiver(const struct store_row *row, void *userdata)
{
    struct receivers *rs = userdata;
    struct receiver *r;

    if (rs->n == MAX_RECEIVERS)
        return -E2BIG;
    r = &rs->r[rs->n++];
    (void)snprintf(r->id, sizeof(r->id), "%s", row->v[STORE_CDR_RECEIVER_ID]);
    (void)snprintf(r->uri, sizeof(r->uri), "%s",
                   row->v[STORE_CDR_RECEIVER_URI] ? row->v[STORE_CDR_RECEIVER_URI] : "");
    r->delivered = row->v[STORE_CDR_RECEIVER_DELIVERED]
                       ? strtoll(row->v[STORE_CDR_RECEIVER_DELIVERED], NULL, 10)
                       : 0;
    r->own_delivered = r->delivered;
    return 0;
}

/* The receiver's state (lock held), made when new; NULL when there is no room. */
static struct cdr_rx *rx_of(struct api_cdr *c, const char *id)
{
    for (size_t i = 0; i < c->nrx; i++)
        if (strcmp(c->rx[i].id, id) == 0)
            return &c->rx[i];
    if (c->nrx == MAX_RECEIVERS)
        return NULL;
    memset(&c->rx[c->nrx], 0, sizeof(c->rx[0]));
    memcpy(c->rx[c->nrx].id, id, STORE_ID_LEN + 1);
    return &c->rx[c->nrx++];
}

/* Keeps the states of the receivers that exist, and only those. */
static void sync_states(struct api_cdr *c, const struct receivers *rs)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = c->nrx; i-- > 0;) {
        bool found = false;

        for (size_t j = 0; j < rs->n && !found; j++)
            found = strcmp(rs->r[j].id, c->rx[i].id) == 0 && rs->r[j].uri[0];
        if (!found)
            c->rx[i] = c->rx[--c->nrx];
    }
    for (size_t j = 0; j < rs->n; j++)
        if (rs->r[j].uri[0])
            (void)rx_of(c, rs->r[j].id);
    pthread_mutex_unlock(&c->lock);
}

struct batch {
    struct store_cdr_record recs[BATCH_MAX];
    size_t n;
};

/* One POST holds the records of one session. */
static int collect(const struct store_cdr_record *r, void *userdata)
{
    struct batch *b = userdata;
    struct store_cdr_record *d = &b->recs[b->n];

    if (b->n && strcmp(b->recs[0].session, r->session) != 0)
        return -ECANCELED;
    *d = *r;
    if (!(d->body = strdup(r->body)))
        return -ENOMEM;
    b->n++;
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *userdata)
{
    (void)p;
    (void)userdata;
    return size * n;
}

/* POSTs body to uri as CMS does; 0, or -EIO with why in err (curl's words or the status). */
static int post(const char *uri, const char *body, size_t len, char *err, size_t cap)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/xml");
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc;

    if (!curl || !h) {
        curl_easy_cleanup(curl);
        curl_slist_free_all(h);
        (void)snprintf(err, cap, "out of memory");
        return -EIO;
    }
    curl_easy_setopt(curl, CURLOPT_URL, uri);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK)
        (void)snprintf(err, cap, "%s", curl_easy_strerror(rc));
    else if (status < 200 || status > 299)
        (void)snprintf(err, cap, "HTTP status %ld", status);
    return rc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -EIO;
}

/* What one attempt did to the receiver's state. */
static void note(struct api_cdr *c, const struct receiver *r, int res, const char *err, size_t sent,
                 size_t pending)
{
    struct cdr_rx *x;

    pthread_mutex_lock(&c->lock);
    if ((x = rx_of(c, r->id))) {
        x->s.posts += sent > 0;
        if (pending != SIZE_MAX) /* SIZE_MAX: another node's records (adopted), not counted */
            x->s.pending = pending;
        if (res == 0) {
            x->s.last_success_ms = sent ? cdr_wall_ms() : x->s.last_success_ms;
            x->s.records_delivered += sent;
            x->s.failing = false;
            x->backoff_ms = 0;
        } else {
            if (!x->s.failing)
                api_log(BASE_LOG_WARN, "CDR receiver %s: cannot deliver (%s); retrying", r->id,
                        err);
            x->s.failures++;
            x->s.last_failure_ms = cdr_wall_ms();
            (void)snprintf(x->s.last_failure, sizeof(x->s.last_failure), "%s", err);
            x->s.failing = true;
            x->backoff_ms = x->backoff_ms ? x->backoff_ms * 2 : BACKOFF_MIN_MS;
            x->backoff_ms = x->backoff_ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : x->backoff_ms;
            x->next_try_us = api_now_us() + x->backoff_ms * 1000;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

static bool due(struct api_cdr *c, const char *id)
{
    struct cdr_rx *x;
    bool r;

    pthread_mutex_lock(&c->lock);
    x = rx_of(c, id);
    r = x && x->next_try_us <= api_now_us();
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Posts the next batch of node's records to r (this node's, c->tnode, or a down node's it
 * adopted). Returns 1 when it delivered some (there may be more), else 0. */
static int deliver(struct api_cdr *c, struct receiver *r, const char *node)
{
    struct batch *b = calloc(1, sizeof(*b));
    char err[96] = "";
    size_t len = 0, pending = 0;
    char *body = NULL;
    int res = -ENOMEM;

    if (b && (res = store_cdr_after_node(c->st, node, r->delivered, BATCH_MAX, collect, b)) ==
                 -ECANCELED)
        res = 0;
    if (res == 0 && b->n && !(body = api_cdr_records_xml(b->recs, b->n, b->recs[0].session, &len)))
        res = -ENOMEM;
    if (res == 0 && b->n)
        res = post(r->uri, body, len, err, sizeof(err));
    if (res == 0 && b->n) {
        res = store_cdr_delivered_node(c->st, r->id, node, b->recs[b->n - 1].index);
        r->delivered = b->recs[b->n - 1].index;
    }
    if (res < 0 && !err[0])
        (void)snprintf(err, sizeof(err), "%s", strerror(-res));
    if (strcmp(node, c->tnode) != 0)
        pending = SIZE_MAX;
    else
        (void)store_cdr_count_after_node(c->st, c->tnode, r->delivered, &pending);
    note(c, r, res, err, res == 0 && b ? b->n : 0, pending);
    free(body);
    for (size_t i = 0; b && i < b->n; i++)
        store_cdr_record_done(&b->recs[i]);
    res = res == 0 && b && b->n ? 1 : 0;
    free(b);
    return res;
}

/* When r is to be tried again (monotonic us): its backoff's end while it fails, else never. */
static int64_t retry_at(struct api_cdr *c, const char *id)
{
    struct cdr_rx *x;
    int64_t at = INT64_MAX;

    pthread_mutex_lock(&c->lock);
    x = rx_of(c, id);
    if (x && x->s.failing)
        at = x->next_try_us;
    pthread_mutex_unlock(&c->lock);
    return at;
}

static int set_delivered(const char *receiver, int64_t delivered, void *userdata)
{
    struct receivers *rs = userdata;

    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].id, receiver) == 0)
            rs->r[i].delivered = delivered;
    return 0;
}

/* How far each receiver of rs has node's records (cdr_delivery), in one query; a receiver
 * without a row keeps its own delivered index. */
static int delivered_of(struct api_cdr *c, struct receivers *rs, const char *node)
{
    return store_cdr_delivered_each(c->st, node, set_delivered, rs);
}

/* A down node's records (docs/cluster.md "CDRs"): the oldest waiting of a node no live node
 * sends, claimed in the database (store_cdr_adopt: one live node) and sent as that node would,
 * in its order after how far each receiver has them, the claim confirmed before each batch.
 * Returns 1 when a backlog is left. */
static int adopt(struct api_cdr *c, const struct receivers *own)
{
    struct receivers all = *own;
    char node[STORE_TEXT_MAX + 1];
    int more = 0, r;

    if (store_cdr_orphan(c->st, c->tnode, API_CLUSTER_DOWN_AFTER, node, sizeof(node)) < 0)
        return 0;
    r = store_cdr_adopt(c->st, node, c->tnode, API_CLUSTER_DOWN_AFTER);
    if (r < 0)
        return 0; /* another live node sends them, or the node is back */
    if (strcmp(c->adopted, node) != 0) {
        api_log(BASE_LOG_INFO, "CDR: node %s is down with records unsent; this node sends them",
                node);
        (void)snprintf(c->adopted, sizeof(c->adopted), "%s", node);
    }
    for (size_t i = 0; i < all.n; i++) /* a receiver without a row for node: its own index */
        all.r[i].delivered = all.r[i].own_delivered;
    if (delivered_of(c, &all, node) < 0)
        return 0;
    for (size_t i = 0; i < all.n && r == 0; i++) {
        struct receiver rv = all.r[i];
        int k = 0;

        if (!rv.uri[0])
            continue;
        for (; k < 8 && r == 0 && due(c, rv.id); k++) {
            if (k > 0 && (r = store_cdr_adopt(c->st, node, c->tnode, API_CLUSTER_DOWN_AFTER)) < 0)
                break;
            if (deliver(c, &rv, node) == 0)
                break;
        }
        more |= k == 8;
    }
    return more;
}

int64_t api_cdr_deliver_all(struct api_cdr *c)
{
    struct store_query q = {0};
    struct receivers rs = {0};
    int64_t next = INT64_MAX, now;
    int held = 0;

    if (store_row_list(c->st, &store_table_cdr_receiver, &q, 0, MAX_RECEIVERS, read_receiver, &rs) <
        0)
        return RETRY_DB_MS; /* the database is busy: soon again */
    sync_states(c, &rs);    /* c->tnode: drain() copied the node's name just before */
    /* a live node still sends this node's records from while it was down: not yet */
    if (c->tnode[0] && (held = store_cdr_adopted(c->st, c->tnode, API_CLUSTER_DOWN_AFTER)) < 0)
        return RETRY_DB_MS;
    if (c->tnode[0] && rs.n && delivered_of(c, &rs, c->tnode) < 0)
        return RETRY_DB_MS;
    if (rs.n == 0)
        (void)store_cdr_prune(c->st); /* the last receiver was removed */
    for (size_t i = 0; !held && i < rs.n; i++) {
        int k = 0, more = 0;

        /* a few batches in a row, so that a backlog drains without starving the others */
        for (; k < 8 && rs.r[i].uri[0] && due(c, rs.r[i].id); k++)
            if ((more = deliver(c, &rs.r[i], c->tnode)) == 0)
                break;
        if (more && k == 8)
            next = 0; /* a backlog is left: at once */
        else if (rs.r[i].uri[0])
            next = retry_at(c, rs.r[i].id) < next ? retry_at(c, rs.r[i].id) : next;
    }
    if (c->tnode[0] && rs.n && adopt(c, &rs))
        next = 0;
    if (next == 0)
        return 0;
    now = api_now_us();
    if (next - now >= IDLE_MS * 1000) /* INT64_MAX too: nothing to retry */
        return IDLE_MS;
    return next <= now ? 0 : (next - now + 999) / 1000;
}
