/* api/res/cdr_receivers.c: /api/v1/system/cdrReceivers (the apiary's "CDR Receiver URI
 * Methods"): at most CDR_RECEIVERS_MAX receivers, each a uri, on the generic resource engine;
 * GET of one receiver adds what the sender (api/cdr.c) knows of its delivery.
 *
 * DESIGN: CMS 3.x takes up to four receivers (its list shows maximum="4"); a fifth is refused
 * tooManyCdrReceivers. A uri must be an http or https URL, the schemes the sender posts with; an
 * empty uri keeps the receiver, which then gets nothing (as CMS does on PUT with an empty uri). A
 * new receiver gets the records of events after its creation, not the backlog of the others.
 * The delivery block is an extension (CMS shows only the uri): the last success and failure, why,
 * and the records pending; the uri is never logged, as it may carry a token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/cdr.h"
#include "api/form.h"
#include "api/metrics.h"
#include "api/res/resource.h"
#include "api/res/routes.h"
#include "api/xml.h"

#define CDR_RECEIVERS_MAX API_CDR_RECEIVERS_MAX

static const struct api_field fields[] = {
    {.param = "uri", .col = STORE_CDR_RECEIVER_URI, .kind = AK_TEXT, .flags = AF_LIST},
};

static bool is_http_url(const char *v)
{
    const char *rest = strncasecmp(v, "http://", 7) == 0    ? v + 7
                       : strncasecmp(v, "https://", 8) == 0 ? v + 8
                                                            : NULL;

    return rest && *rest && *rest != '/';
}

/* The apiary's prose and Cisco's Postman collection send "url" where the reference names "uri":
 * both are taken, uri first. */
static int take_url(const struct api_request *req, struct store_row *row, struct api_reply *reply)
{
    const char *url = api_params_get(req->form, "url");

    if (!url || api_params_get(req->form, "uri"))
        return 0;
    if (strlen(url) > STORE_TEXT_MAX || (*url && !is_http_url(url))) {
        api_reply_param_error(reply, "url", "invalidValue");
        return -EINVAL;
    }
    return store_row_set(row, STORE_CDR_RECEIVER_URI, *url ? url : NULL);
}

static int check(const struct api *api, struct store *st, const struct api_request *req,
                 const struct api_resource *res, struct store_row *row, bool create,
                 struct api_reply *reply)
{
    const char *uri;
    char last[24];
    int64_t index = 0;
    size_t n = 0;
    int r;

    (void)api;
    if ((r = take_url(req, row, reply)) < 0)
        return r;
    uri = row->v[STORE_CDR_RECEIVER_URI];
    if (uri && !is_http_url(uri)) {
        api_reply_param_error(reply, "uri", "invalidValue");
        return -EINVAL;
    }
    if (!create)
        return 0;
    r = store_row_count(st, res->table, &(struct store_query){0}, &n);
    if (r == 0 && n >= CDR_RECEIVERS_MAX) {
        api_reply_failure(reply, 400, "tooManyCdrReceivers");
        return -EDQUOT;
    }
    if (r == 0)
        r = store_cdr_last_index(st, &index);
    (void)snprintf(last, sizeof(last), "%lld", (long long)index);
    if (r == 0)
        r = store_row_set(row, STORE_CDR_RECEIVER_DELIVERED, last);
    if (r < 0)
        api_reply_err(reply, r);
    return r;
}

static void changed(const struct api *api, struct store *st, const char *id)
{
    (void)st;
    api_cdr_changed(api->cdr, id);
}

const struct api_resource api_res_cdr_receivers = {
    .collection = "cdrReceivers", /* the list's element; the Location is fixed below */
    .element = "cdrReceiver",
    .missing = "cdrReceiverDoesNotExist",
    .table = &store_table_cdr_receiver,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = check,
    .after_write = changed,
    .after_delete = changed,
};

static void write_ms(struct api_xml *x, const char *name, int64_t ms)
{
    char text[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!ms)
        return;
    (void)gmtime_r(&t, &tm);
    (void)strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    api_xml_text(x, name, text);
}

static void write_delivery(struct api_xml *x, const struct api *api, struct store *st,
                           const struct store_row *row)
{
    struct api_cdr_state s = {0};
    size_t pending = 0;

    (void)api_cdr_state(api->cdr, row->v[STORE_COL_ID], &s);
    api_xml_start(x, "delivery");
    write_ms(x, "lastSuccess", s.last_success_ms);
    write_ms(x, "lastFailure", s.last_failure_ms);
    if (s.last_failure_ms)
        api_xml_text(x, "lastFailureReason", s.last_failure);
    /* every node's records it has still to get: the same answer on every node */
    if (row->v[STORE_CDR_RECEIVER_URI] &&
        store_cdr_pending(st, row->v[STORE_COL_ID], &pending) == 0)
        api_xml_int(x, "recordsPending", (int64_t)pending);
    api_xml_int(x, "recordsDelivered", (int64_t)s.records_delivered);
    api_xml_bool(x, "alarm", s.failing);
    api_xml_end(x);
}

static void get_receiver(const struct api *api, struct store *st, const char *id,
                         struct api_reply *reply)
{
    struct store_row row;
    struct api_xml *x;
    int r = store_row_get(st, &store_table_cdr_receiver, id, &row);

    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "cdrReceiverDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    if ((x = api_reply_xml_new(reply))) {
        api_xml_start(x, "cdrReceiver");
        api_xml_attr(x, "id", row.v[STORE_COL_ID]);
        if (row.v[STORE_CDR_RECEIVER_URI])
            api_xml_text(x, "uri", row.v[STORE_CDR_RECEIVER_URI]);
        write_delivery(x, api, st, &row);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    store_row_done(&row);
}

/* CMS's list says how many receivers it takes: <cdrReceivers total="N" maximum="4">. The engine
 * writes the root with total only; the attribute goes after it. */
static void add_maximum(struct api_reply *reply)
{
    static const char root[] = "<cdrReceivers total=\"";
    char *at = strstr(reply->body, root), *end, *body;
    char attr[32];
    size_t n;

    if (!at || !(end = strchr(at, '>')))
        return;
    n = (size_t)snprintf(attr, sizeof(attr), " maximum=\"%d\"", CDR_RECEIVERS_MAX);
    if (end[-1] == '/') /* an empty list: <cdrReceivers total="0"/> */
        end--;
    if (!(body = malloc(reply->len + n + 1)))
        return; /* the list without the attribute */
    memcpy(body, reply->body, (size_t)(end - reply->body));
    memcpy(body + (end - reply->body), attr, n);
    memcpy(body + (end - reply->body) + n, end, reply->len - (size_t)(end - reply->body) + 1);
    free(reply->body);
    reply->body = body;
    reply->len += n;
}

void api_res_cdr_receiver(const struct api *api, struct store *st, const struct api_request *req,
                          const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (id && (req->method == API_GET || req->method == API_HEAD)) {
        if (api_parse_id(id, lid) < 0)
            api_reply_failure(reply, 404, "cdrReceiverDoesNotExist");
        else
            get_receiver(api, st, lid, reply);
        return;
    }
    api_res_generic(api, st, req, &api_res_cdr_receivers, id, reply);
    if (!id && reply->status == 200 && reply->body)
        add_maximum(reply);
    if (reply->location[0]) { /* the engine writes /api/v1/<collection>/<id> */
        char made[STORE_ID_LEN + 1];

        (void)snprintf(made, sizeof(made), "%s", reply->location + strlen("/api/v1/cdrReceivers/"));
        (void)snprintf(reply->location, sizeof(reply->location), "/api/v1/system/cdrReceivers/%s",
                       made);
    }
}

void api_cdr_render_metrics(FILE *f, struct api_cdr *c)
{
    struct api_cdr_totals t;

    api_cdr_totals(c, &t);
    api_metrics_family(f, "callbridge_cdr_records_total", "counter",
                       "CDR records written to the outbox.");
    fprintf(f, "callbridge_cdr_records_total %llu\n", (unsigned long long)t.records);
    api_metrics_family(f, "callbridge_cdr_events_dropped_total", "counter",
                       "Call events not recorded: the queue to the outbox was full.");
    fprintf(f, "callbridge_cdr_events_dropped_total %llu\n", (unsigned long long)t.dropped);
    api_metrics_family(f, "callbridge_cdr_posts_total", "counter",
                       "POSTs of records to CDR receivers, by result.");
    fprintf(f, "callbridge_cdr_posts_total{result=\"delivered\"} %llu\n",
            (unsigned long long)t.posts);
    fprintf(f, "callbridge_cdr_posts_total{result=\"failed\"} %llu\n",
            (unsigned long long)t.failures);
    api_metrics_family(f, "callbridge_cdr_receivers", "gauge", "CDR receivers with a uri.");
    fprintf(f, "callbridge_cdr_receivers %zu\n", t.receivers);
    api_metrics_family(f, "callbridge_cdr_receivers_failing", "gauge",
                       "CDR receivers whose last delivery failed (alarm cdrConnectionFailure).");
    fprintf(f, "callbridge_cdr_receivers_failing %zu\n", t.failing);
    api_metrics_family(f, "callbridge_cdr_records_pending", "gauge",
                       "Records the receivers have still to get, summed over receivers, as of "
                       "the sender's last attempt.");
    fprintf(f, "callbridge_cdr_records_pending %zu\n", t.pending);
}
