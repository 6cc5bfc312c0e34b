/* api/res/calls.c: /api/v1/calls, /api/v1/calls/<id>/callLegs and /api/v1/callLegs
 * (cms-api.md §5; DESIGN.md "Media").
 *
 * DESIGN: calls and call legs are runtime objects, as in CMS: they live in memory, in the registry
 * (api/res/registry.c), under its mutex, and are gone after a restart. A leg with a
 * remoteMediaAddress (an extension: where the endpoint's media comes from and goes to) is anchored
 * by the media thread (media/media.h); its GET shows the CMS <status> tree where it applies and an
 * extension <media> block with the TURN server, the relayed address the endpoint must send to, and
 * counters by class. An incoming leg (POST /callLegs with destination=user@domain, or callId and
 * passcode) goes through the call matching of the inbound dial plan and joins the coSpace's call,
 * created when there is none. Admission happens here, under the registry's lock, before the answer:
 * a call takes at most MEDIA_MAX_LEGS_PER_CALL legs (participantLimitReached), and the node at most
 * leg_budget legs with media, each of which holds a socket (nodeParticipantLimitReached): the
 * budget is what the descriptor limit leaves for TURN sockets after the prober's share
 * (api_calls_set_budget), and the prober never holds more than that share at once
 * (api_calls_prober_sockets, its max_sockets), so neither legs nor probes take the descriptors the
 * HTTP side was promised. What the limit cannot bound: descriptors opened outside these counts (a
 * CLI started by hand in the process's name, a library's own files) and a later prlimit on the
 * running daemon. A leg refused is never handed to the media thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/cluster.h"
#include "api/log.h"
#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/call_filters.h"
#include "api/res/call_home.h"
#include "api/res/calls.h"
#include "api/res/control.h"
#include "api/res/leg_profile.h"
#include "api/res/lobby.h"
#include "api/res/leg_alarms.h"
#include "api/res/matching.h"
#include "api/res/outbound.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/resource.h"
#include "api/res/tenant_limit.h"
#include "api/util.h"
#include "api/xml.h"
#include "media/media.h"

#define CALLS_PAGE_DEFAULT 10 /* clients step offset by 10 on /calls and /callLegs */

/* A numeric "v4:port" or "[v6]:port": the port is required, names are not resolved. */
static int parse_media_addr(const char *s, struct sockaddr_storage *ss)
{
    char host[64], port[8];
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_DGRAM},
                    *res;
    uint16_t p;
    bool bracketed;

    if (api_parse_host_port(s, host, sizeof(host), &p, &bracketed) < 0 || p == 0)
        return -EINVAL;
    (void)snprintf(port, sizeof(port), "%u", (unsigned)p);
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* ---- calls -------------------------------------------------------------------------------- */

static void write_call(struct api_xml *x, const struct api_call *c, bool full, size_t legs)
{
    api_xml_start(x, "call");
    api_xml_attr(x, "id", c->id);
    api_xml_text(x, "name", c->name);
    if (full)
        api_xml_text(x, "callType", "coSpace");
    api_xml_text(x, "coSpace", c->cospace);
    api_xml_text(x, "callCorrelator", api_control_correlator(c));
    if (full) {
        api_xml_int(x, "durationSeconds", (api_now_us() - c->started_us) / 1000000);
        api_xml_int(x, "numCallLegs", (int64_t)legs);
        api_control_write_call(x, c, legs);
    }
    api_xml_end(x);
}

/* Creates a call in coSpace (which the caller checked); copies its id into ret_id[37], which
 * may name it already (a claim in the call directory; "": a new id). Lock held. Returns 0, -EDQUOT
 * (max_calls calls already) or -ENOMEM. */
static int new_call_locked(struct api_calls *calls, const struct api_cospace_ref *space,
                           char *ret_id)
{
    struct api_call *c;
    int r = calls->ncalls >= calls->max_calls ? -EDQUOT : 0;

    if (r == 0)
        r = api_calls_grow((void **)&calls->calls, &calls->cap_calls, calls->ncalls,
                           sizeof(*calls->calls));
    if (r == 0) {
        c = &calls->calls[calls->ncalls];
        memset(c, 0, sizeof(*c));
        if (ret_id[0]) /* claimed in the call directory under this id */
            (void)snprintf(c->id, sizeof(c->id), "%s", ret_id);
        else
            r = api_uuid_new(c->id);
    }
    if (r == 0) {
        snprintf(c->cospace, sizeof(c->cospace), "%s", space->id);
        snprintf(c->name, sizeof(c->name), "%s", space->name);
        c->started_us = api_now_us();
        calls->ncalls++;
        memcpy(ret_id, c->id, STORE_ID_LEN + 1);
        if (calls->events.call_started)
            calls->events.call_started(calls->events.userdata, c);
    }
    return r;
}

/* A call of POST /calls, with its call control parameters conf (checked). */
static int new_call(const struct api *api, const struct api_cospace_ref *space,
                    char conf[][STORE_TEXT_MAX + 1], char *ret_id)
{
    struct api_calls *calls = api->calls;
    int r;

    pthread_mutex_lock(&calls->lock);
    r = new_call_locked(calls, space, ret_id);
    if (r == 0)
        api_control_call_created(api, api_calls_find_call(calls, ret_id), conf);
    pthread_mutex_unlock(&calls->lock);
    return r;
}

/* Ends call_id if it ends with its last leg and has none, nor a join on its way (lock held). */
static void end_if_empty(struct api_calls *c, const char *call_id)
{
    struct api_call *call = api_calls_find_call(c, call_id);

    if (!call || !call->ends_empty || call->joining || api_calls_legs_of(c, call_id))
        return;
    api_log(BASE_LOG_INFO, "call %s of coSpace %s ended: its last participant left", call->id,
            call->cospace);
    if (c->events.call_ended)
        c->events.call_ended(c->events.userdata, call);
    api_call_home_release(c->home, call->id);
    *call = c->calls[--c->ncalls];
}

static void create_call(const struct api *api, struct store *st, const struct api_request *req,
                        struct api_reply *reply)
{
    const char *cospace = api_params_get(req->form, "coSpace");
    char lid[STORE_ID_LEN + 1], id[STORE_ID_LEN + 1] = "";
    char conf[API_CALL_PARAMS][STORE_TEXT_MAX + 1];
    struct api_cospace_ref space;
    int r;

    if (!cospace || api_parse_id(cospace, lid) < 0 ||
        (r = api_cospace_ref_get(st, lid, &space)) == -ENOENT) {
        api_reply_failure(reply, 400, "coSpaceDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    if (api_control_call_form(req, conf, reply) < 0)
        return;
    r = new_call(api, &space, conf, id);
    if (r == 0) /* read again before each leg where the store is at hand */
        (void)api_tenant_limit_refresh(api, st, id);
    if (r == -EDQUOT) {
        api_reply_too_many(reply, "calls");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    reply->status = 200;
    snprintf(reply->location, sizeof(reply->location), "/api/v1/calls/%s", id);
}

/* The calls of coSpace filter (NULL or "": all), copied (lock held); *ret_n of them. */
static int copy_calls(struct api_calls *c, const char *filter, struct api_call **ret, size_t *ret_n)
{
    struct api_call *v = c->ncalls ? calloc(c->ncalls, sizeof(*v)) : NULL;
    size_t n = 0;

    if (c->ncalls && !v)
        return -ENOMEM;
    for (size_t i = 0; i < c->ncalls; i++)
        if (!filter || !*filter || strcasecmp(c->calls[i].cospace, filter) == 0)
            v[n++] = c->calls[i];
    *ret = v;
    *ret_n = n;
    return 0;
}

/* Keeps the calls whose coSpace belongs to tenant. */
static int keep_tenant(struct store *st, const char *tenant, struct api_call *v, size_t *n)
{
    char t[STORE_ID_LEN + 1];
    size_t kept = 0;
    int r = store_read_begin(st);

    for (size_t i = 0; r == 0 && i < *n; i++)
        if ((r = api_cospace_tenant(st, v[i].cospace, t)) == 0 && strcmp(t, tenant) == 0)
            v[kept++] = v[i];
    store_read_end(st);
    if (r == 0)
        *n = kept;
    return r;
}

static void list_calls(const struct api *api, struct store *st, const struct api_request *req,
                       struct api_reply *reply)
{
    const char *filter = api_params_get(req->query, "coSpaceFilter");
    char tenant[STORE_ID_LEN + 1];
    struct api_call *v = NULL;
    size_t offset, limit, n = 0;
    struct api_xml *x;
    int r;

    if (api_page_from_query(req, CALLS_PAGE_DEFAULT, &offset, &limit, reply) < 0 ||
        api_call_tenant_filter(req, tenant, reply) < 0)
        return;
    pthread_mutex_lock(&api->calls->lock);
    r = copy_calls(api->calls, filter, &v, &n);
    pthread_mutex_unlock(&api->calls->lock);
    if (r == 0 && tenant[0])
        r = keep_tenant(st, tenant, v, &n);
    if (r < 0) {
        free(v);
        api_reply_err(reply, r);
        return;
    }
    if ((x = api_reply_xml_new(reply))) {
        api_xml_start(x, "calls");
        api_xml_attr_size(x, "total", n);
        for (size_t i = offset; i < n && i - offset < limit; i++)
            write_call(x, &v[i], false, 0);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    free(v);
}

/* Removes leg i (lock held) and tells the media thread, and the guest's page when an
 * administrator dropped it (why: "dropped"; NULL when the guest's own signalling asked). */
static void drop_leg(const struct api *api, size_t i, const char *why)
{
    struct api_calls *c = api->calls;

    if (c->events.leg_ended)
        c->events.leg_ended(c->events.userdata, &c->legs[i], why);
    if (c->legs[i].webrtc && why && c->guest_dropped)
        c->guest_dropped(c->guest_userdata, c->legs[i].id, why);
    if (c->legs[i].has_media && api->media) {
        (void)media_leg_remove(api->media, c->legs[i].id);
        c->media_legs--;
    }
    c->legs[i] = c->legs[--c->nlegs];
    c->legs_completed++;
}

/* The lobby of call call_id after a change (lock held), and then, last, the legs that its
 * deactivationMode disconnects dropped here (a drop may end the call and moves legs in the
 * registry's array). */
static void lobby_update_dropping(const struct api *api, const char *call_id)
{
    char drops[API_LOBBY_DROPS_MAX][STORE_ID_LEN + 1];
    size_t n = api_lobby_update(api, call_id, drops, API_LOBBY_DROPS_MAX);

    for (size_t i = 0; i < n; i++) {
        api_log(BASE_LOG_INFO, "callLeg %s disconnected: the last activator left", drops[i]);
        api_calls_drop_leg_locked(api, drops[i], "deactivationMode");
    }
}

/* drop_leg, then the call ends if that was its last leg. */
static void drop_last_leg(const struct api *api, size_t i, const char *why)
{
    char call[STORE_ID_LEN + 1];

    memcpy(call, api->calls->legs[i].call, sizeof(call));
    drop_leg(api, i, why);
    lobby_update_dropping(api, call); /* was it the last activator? */
    end_if_empty(api->calls, call);
}

void api_calls_drop_leg_locked(const struct api *api, const char *leg_id, const char *why)
{
    for (size_t i = 0; i < api->calls->nlegs; i++) {
        if (strcmp(api->calls->legs[i].id, leg_id) == 0) {
            drop_last_leg(api, i, why);
            return;
        }
    }
}

void api_calls_lobby_tick(void *userdata)
{
    const struct api *api = userdata;
    struct api_calls *c = api->calls;
    int64_t now = api_now_us();
    char call[STORE_ID_LEN + 1];
    bool again = true;

    pthread_mutex_lock(&c->lock);
    for (unsigned rounds = 0; again && rounds < API_LOBBY_DROPS_MAX; rounds++) {
        again = false;
        for (size_t i = 0; i < c->nlegs && !again; i++) {
            if (c->legs[i].deactivate_us && c->legs[i].deactivate_us <= now) {
                memcpy(call, c->legs[i].call, sizeof(call));
                lobby_update_dropping(api, call); /* clears or drops what is due */
                again = true;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
}

static void delete_call(const struct api *api, const char *id, struct api_reply *reply)
{
    struct api_calls *c = api->calls;
    struct api_call *call;

    pthread_mutex_lock(&c->lock);
    call = api_calls_find_call(c, id);
    if (call) {
        for (size_t i = c->nlegs; i-- > 0;)
            if (strcmp(c->legs[i].call, id) == 0)
                drop_leg(api, i, "dropped");
        if (c->events.call_ended)
            c->events.call_ended(c->events.userdata, call);
        api_call_home_release(c->home, call->id);
        *call = c->calls[--c->ncalls];
        reply->status = 200;
    }
    pthread_mutex_unlock(&c->lock);
    if (!reply->status)
        api_reply_failure(reply, 404, "callDoesNotExist");
}

static void get_call(const struct api *api, const char *id, struct api_reply *reply)
{
    struct api_xml *x = api_reply_xml_new(reply);
    struct api_call *call;

    if (!x)
        return;
    pthread_mutex_lock(&api->calls->lock);
    call = api_calls_find_call(api->calls, id);
    if (call)
        write_call(x, call, true, api_calls_legs_of(api->calls, id));
    pthread_mutex_unlock(&api->calls->lock);
    if (call) {
        api_reply_xml(reply, x);
    } else {
        api_xml_free(x);
        api_reply_failure(reply, 404, "callDoesNotExist");
    }
}

/* ---- call legs ---------------------------------------------------------------------------- */

/* NULL when one more leg (with media or not) fits call_id and the node, else the CMS reason
 * it does not (counted). Lock held: the check and the count that follows it are one step, so
 * concurrent POSTs cannot both take the last place. */
static const char *admission(struct api_calls *c, const char *call_id, bool media, int64_t limit)
{
    size_t in_call = 0;

    for (size_t i = 0; i < c->nlegs; i++)
        in_call += strcmp(c->legs[i].call, call_id) == 0;
    if (in_call >= MEDIA_MAX_LEGS_PER_CALL || (limit > 0 && (int64_t)in_call >= limit)) {
        c->refused_call++;
        return "participantLimitReached";
    }
    if (api_tenant_limit_reached(c, api_calls_find_call(c, call_id))) {
        c->refused_call++;
        return "tenantParticipantLimitReached";
    }
    if (media && c->media_legs >= c->leg_budget) {
        c->refused_node++;
        return "nodeParticipantLimitReached";
    }
    return NULL;
}

static void refuse_leg(struct api_reply *reply, const char *reason, const char *call_id,
                       size_t budget)
{
    if (strcmp(reason, "participantLimitReached") == 0)
        api_log(BASE_LOG_WARN, "callLeg refused: call %s has %d legs, the most a call takes (%s)",
                call_id, MEDIA_MAX_LEGS_PER_CALL, reason);
    else if (strcmp(reason, "tenantParticipantLimitReached") == 0)
        api_log(BASE_LOG_WARN,
                "callLeg refused: the tenant of call %s has its participantLimit of legs (%s)",
                call_id, reason);
    else
        api_log(BASE_LOG_WARN,
                "callLeg refused: this node has %zu call legs with media, its budget (%s; "
                "--max-legs, RLIMIT_NOFILE)",
                budget, reason);
    api_reply_failure(reply, 400, reason);
}

/* What a new leg is: its remote party, and its media: a plain endpoint at addr (media_addr
 * its text), a guest's browser (webrtc), or none. */
struct new_leg {
    const char *id;   /* NULL: a new one */
    const char *turn; /* webrtc: the TURN server the browser uses */
    const char *party;
    const char *media_addr;              /* NULL: no plain media */
    const struct sockaddr_storage *addr; /* with media_addr */
    bool webrtc;
    int64_t limit;                   /* > 0: the callProfile's participantLimit in effect */
    bool dial_out;                   /* POST /calls/<id>/callLegs or participants: to be dialled */
    char (*conf)[API_LEG_VALUE_MAX]; /* its call control parameters, or NULL */
    const struct api_leg_profile *prof; /* its call leg profiles (api/res/leg_profile.c), or NULL */
    const struct api_dial_out *out;     /* dial_out without media: its route */
};

/* What a failed dial-out's route was, onto l. */
static void dial_out_keep(struct api_leg *l, const struct api_dial_out *out)
{
    snprintf(l->out_reason, sizeof(l->out_reason), "%s", out->reason);
    memcpy(l->out_rule, out->rule, sizeof(l->out_rule));
    l->out_tried = out->tried;
    snprintf(l->out_dest, sizeof(l->out_dest), "%.*s", (int)sizeof(l->out_dest) - 1,
             out->destination);
}

/* The outbound dial plan for a leg of call_id to party (api/res/outbound.c), with the call's
 * tenant, into *ret; 0, or a store error answered in *reply. */
static int dial_out_plan(const struct api *api, struct store *st, const char *call_id,
                         const char *party, struct api_dial_out *ret, struct api_reply *reply)
{
    char tenant[STORE_ID_LEN + 1] = "";
    struct api_call *call;
    int r;

    pthread_mutex_lock(&api->calls->lock);
    if ((call = api_calls_find_call(api->calls, call_id)))
        memcpy(tenant, call->tenant, sizeof(tenant));
    pthread_mutex_unlock(&api->calls->lock);
    if ((r = api_dial_out_route(st, party, tenant, ret)) < 0)
        api_reply_err(reply, r);
    return r;
}

/* Admits and adds a leg to call_id and hands it to the media thread; copies its id into
 * ret_id[37]. Returns 0, -ENOENT (no such call), -EDQUOT (*ret_refused says why, counted) or
 * -ENOMEM. */
static int insert_leg(const struct api *api, const char *call_id, const struct new_leg *n,
                      char *ret_id, const char **ret_refused)
{
    struct api_calls *c = api->calls;
    bool media = api->media && (n->media_addr || n->webrtc);
    struct api_leg *l = NULL;
    int r;

    pthread_mutex_lock(&c->lock);
    if (!api_calls_find_call(c, call_id)) {
        r = -ENOENT;
    } else if ((*ret_refused = admission(c, call_id, media, n->limit))) {
        r = -EDQUOT;
    } else if ((r = api_calls_grow((void **)&c->legs, &c->cap_legs, c->nlegs, sizeof(*c->legs))) ==
               0) {
        l = &c->legs[c->nlegs];
        memset(l, 0, sizeof(*l));
        if (n->id)
            snprintf(l->id, sizeof(l->id), "%s", n->id);
        else
            r = api_uuid_new(l->id);
    }
    if (r == 0) {
        snprintf(l->call, sizeof(l->call), "%s", call_id);
        snprintf(l->remote_party, sizeof(l->remote_party), "%s", n->party ? n->party : "");
        l->has_media = media;
        l->webrtc = media && n->webrtc;
        snprintf(l->media_addr, sizeof(l->media_addr), "%s",
                 media && n->media_addr ? n->media_addr : "");
        l->started_us = api_now_us();
        l->dial_failed = n->dial_out && !media && !n->webrtc;
        if (l->dial_failed && n->out)
            dial_out_keep(l, n->out);
        if (n->conf)
            memcpy(l->conf, n->conf, sizeof(l->conf));
        if (n->prof)
            l->prof = *n->prof;
        if (l->webrtc)
            r = media_rtc_leg_add(api->media, call_id, l->id, l->remote_party, n->turn);
        else if (l->has_media)
            r = media_leg_add(api->media, call_id, l->id, (const struct sockaddr *)n->addr);
    }
    if (r == 0) {
        struct api_call *call = api_calls_find_call(c, call_id);
        size_t in_call = api_calls_legs_of(c, call_id) + 1;

        c->nlegs++;
        c->media_legs += l->has_media;
        c->max_legs = c->nlegs > c->max_legs ? c->nlegs : c->max_legs;
        call->max_legs = in_call > call->max_legs ? in_call : call->max_legs;
        call->lock_all = n->prof ? n->prof->lock_all : true;
        api_control_leg_added(api, call, l);
        memcpy(ret_id, l->id, STORE_ID_LEN + 1);
        if (c->events.leg_started)
            c->events.leg_started(c->events.userdata, l);
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Adds a leg to call_id from the form (remoteParty, remoteMediaAddress, call control
 * parameters); dial_out: a leg to call, which without a remoteMediaAddress would need SIP, so
 * it fails at once (noSipDialOut) and is never connected. Location under collection. */
/* The call leg profiles of a leg of call_id (a coSpace's), into prof: 0, or -ENOENT (no such
 * call), or a store error. */
static int call_leg_profile(const struct api *api, struct store *st, const char *call_id,
                            struct api_leg_profile *prof)
{
    char cospace[STORE_ID_LEN + 1] = "";
    struct api_call *call;
    int r;

    pthread_mutex_lock(&api->calls->lock);
    if ((call = api_calls_find_call(api->calls, call_id)))
        memcpy(cospace, call->cospace, sizeof(cospace));
    pthread_mutex_unlock(&api->calls->lock);
    if (!cospace[0])
        return -ENOENT;
    r = api_leg_profile_resolve(st, cospace, NULL, prof);
    if (r == -ENOENT) { /* a coSpace deleted under its call: no profiles */
        memset(prof, 0, sizeof(*prof));
        r = 0;
    }
    return r;
}

static void add_leg(const struct api *api, struct store *st, const char *call_id,
                    const struct api_request *req, bool dial_out, const char *collection,
                    struct api_reply *reply)
{
    struct api_leg_profile prof;
    struct api_dial_out out;
    const char *media = api_params_get(req->form, "remoteMediaAddress");
    struct sockaddr_storage addr;
    char conf[API_LEG_PARAMS][API_LEG_VALUE_MAX];
    struct new_leg n = {.party = api_params_get(req->form, "remoteParty"),
                        .addr = &addr,
                        .dial_out = dial_out,
                        .conf = conf};
    const char *refused = NULL;
    char id[STORE_ID_LEN + 1];
    int r;

    if (n.party && strlen(n.party) > STORE_TEXT_MAX) {
        api_reply_param_error(reply, "remoteParty", "invalidValue");
        return;
    }
    if (media && *media && parse_media_addr(media, &addr) < 0) {
        api_reply_param_error(reply, "remoteMediaAddress", "invalidValue");
        return;
    }
    if (api_control_leg_form(req->form, conf, reply) < 0)
        return;
    n.media_addr = media && *media ? media : NULL;
    if (n.dial_out && !n.media_addr) {
        if (dial_out_plan(api, st, call_id, n.party, &out, reply) < 0)
            return;
        n.out = &out;
    }
    r = st ? call_leg_profile(api, st, call_id, &prof) : 0;
    n.prof = st && r == 0 ? &prof : NULL;
    if (r == 0)
        r = insert_leg(api, call_id, &n, id, &refused);
    if (r == 0 && n.out)
        api_log(BASE_LOG_WARN, "callLeg %s to %s failed (%s): %s%s%s, %u tried", id,
                out.destination, out.reason,
                out.rule[0] ? "outbound rule " : "no outbound rule matched", out.rule,
                out.rule[0] ? " matched, no SIP here to place the call" : "", out.tried);
    if (r == 0) {
        reply->status = 200;
        snprintf(reply->location, sizeof(reply->location), "/api/v1/%s/%s", collection, id);
    } else if (r == -ENOENT) {
        api_reply_failure(reply, 404, "callDoesNotExist");
    } else if (refused) {
        refuse_leg(reply, refused, call_id, api->calls->leg_budget);
    } else {
        api_reply_err(reply, r);
    }
}

/* The local call of cospace, counted as joined (lock held); NULL when there is none. */
static struct api_call *joined_call(struct api_calls *c, const char *cospace)
{
    for (size_t i = 0; i < c->ncalls; i++) {
        if (strcmp(c->calls[i].cospace, cospace) == 0) {
            c->calls[i].joining++;
            return &c->calls[i];
        }
    }
    return NULL;
}

/* A new call of cospace in a callBridgeGroup with loadBalancingEnabled: 0 when it goes here
 * (the least loaded of the group's live nodes, or in no balancing group), -EXDEV with the node
 * to send its participant to in *ret_home, unless the directory has the coSpace's call already
 * (then 0: the claim finds it). */
static int place(const struct api *api, struct store *st, const char *cospace,
                 struct store_call_home *ret_home)
{
    const char *self = api_call_home_node(api->calls->home);
    struct store_call_home best;
    int r = store_call_least_loaded(st, self, cospace, API_CLUSTER_DOWN_AFTER, &best);

    if (r == -ENOENT || (r == 0 && strcmp(best.node, self) == 0))
        return 0;
    if (r < 0)
        return r;
    *ret_home = best;
    api_log(BASE_LOG_INFO, "call of coSpace %s placed on node %s, the least loaded of the group",
            cospace, best.node);
    return -EXDEV;
}

/* A clustered node's call for space: the one here, or a new one claimed in the call directory
 * (api/res/call_home.h) under the directory's lock, so that two joins here claim once. -EXDEV
 * or -EHOSTDOWN (*ret_home: where it is) when another node hosts it. Lock not held. */
static int clustered_call(const struct api *api, struct store *st,
                          const struct api_cospace_ref *space, bool balance, char *ret_id,
                          struct store_call_home *ret_home)
{
    struct api_calls *c = api->calls;
    struct api_call *call;
    char id[STORE_ID_LEN + 1];
    int r = 0;

    api_call_home_lock(c->home);
    pthread_mutex_lock(&c->lock);
    if ((call = joined_call(c, space->id)))
        memcpy(ret_id, call->id, STORE_ID_LEN + 1);
    pthread_mutex_unlock(&c->lock);
    if (!call && balance && (r = place(api, st, space->id, ret_home)) < 0) {
        api_call_home_unlock(c->home);
        return r;
    }
    if (!call && (r = api_uuid_new(id)) == 0)
        r = api_call_home_claim(c->home, st, space->id, id, ret_home);
    if (!call && r == 0) {
        pthread_mutex_lock(&c->lock);
        r = new_call_locked(c, space, id);
        if (r == 0) {
            call = api_calls_find_call(c, id);
            call->ends_empty = true;
            call->joining++;
            memcpy(ret_id, id, STORE_ID_LEN + 1);
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
            api_call_home_release(c->home, id);
    }
    api_call_home_unlock(c->home);
    return r;
}

/* The coSpace's active call, made when there is none; its id into ret_id[37]. The call counts
 * the join until api_calls_join_done() is called, so that a leave in between does not end it.
 * On a clustered node the call may live on another node: -EXDEV (or -EHOSTDOWN when that node
 * is down), with where in *ret_home. Returns 0, -EDQUOT (max_calls), -ENOENT or a store
 * error. */
static int cospace_call(const struct api *api, struct store *st, const char *cospace, bool balance,
                        char *ret_id, struct store_call_home *ret_home)
{
    struct api_calls *c = api->calls;
    struct api_cospace_ref space;
    struct api_call *call = NULL;
    int r = api_cospace_ref_get(st, cospace, &space);

    if (r < 0)
        return r;
    ret_id[0] = '\0';
    pthread_mutex_lock(&c->lock);
    call = joined_call(c, cospace);
    if (!call && !c->home && (r = new_call_locked(c, &space, ret_id)) == 0) {
        call = api_calls_find_call(c, ret_id);
        call->ends_empty = true;
        call->joining++;
    }
    if (call)
        memcpy(ret_id, call->id, STORE_ID_LEN + 1);
    pthread_mutex_unlock(&c->lock);
    if (!call && c->home && r == 0)
        r = clustered_call(api, st, &space, balance, ret_id, ret_home);
    if (r == 0 && (r = api_tenant_limit_refresh(api, st, ret_id)) < 0)
        api_calls_join_done(api, ret_id);
    return r;
}

/* The join that cospace_call counted has added its leg, or failed to. */
void api_calls_join_done(const struct api *api, const char *call_id)
{
    struct api_calls *c = api->calls;
    struct api_call *call;

    pthread_mutex_lock(&c->lock);
    if ((call = api_calls_find_call(c, call_id)) && call->joining > 0)
        call->joining--;
    end_if_empty(c, call_id);
    pthread_mutex_unlock(&c->lock);
}

/* POST /callLegs: an incoming leg, placed by the call matching. */
static void incoming_leg(const struct api *api, struct store *st, const struct api_request *req,
                         struct api_reply *reply)
{
    char id[STORE_ID_LEN + 1];
    struct store_call_home home;
    struct api_match m;
    int r;

    if (api_match_params(st, req->form, &m, reply) < 0)
        return;
    if (m.result != API_MATCH_COSPACE) {
        api_reply_failure(reply, 400, api_match_name(m.result));
        return;
    }
    r = cospace_call(api, st, m.cospace, false, id, &home);
    if (r == -EDQUOT) {
        api_reply_too_many(reply, "calls");
    } else if (r == -EXDEV || r == -EHOSTDOWN) {
        /* its call runs on another node (or one shown down whose calls are not ended yet): the
         * leg is not placed here; the client posts it to that node (docs/cluster.md) */
        api_log(BASE_LOG_INFO, "callLeg for coSpace %s refused: its call %s is on node %s",
                m.cospace, home.call_id, home.node);
        api_reply_failure(reply, 400, "callBridgeUnavailable");
    } else if (r < 0) {
        api_reply_err(reply, r);
    } else {
        add_leg(api, st, id, req, false, "callLegs", reply);
        api_calls_join_done(api, id);
    }
}

int api_calls_guest_call(const struct api *api, struct store *st, const char *cospace, bool balance,
                         char *ret_call, struct store_call_home *ret_home)
{
    return api->media ? cospace_call(api, st, cospace, balance, ret_call, ret_home) : -ENOTSUP;
}

int api_calls_add_guest_leg(const struct api *api, const char *call, const char *leg,
                            const char *name, const char *turn_id, int64_t limit,
                            const struct api_leg_profile *prof, const char **ret_refused)
{
    struct new_leg n = {
        .id = leg, .turn = turn_id, .party = name, .webrtc = true, .limit = limit, .prof = prof};
    char id[STORE_ID_LEN + 1];
    int r;

    *ret_refused = NULL;
    r = insert_leg(api, call, &n, id, ret_refused);
    if (r == -EDQUOT && *ret_refused)
        api_log(BASE_LOG_WARN, "guest %s refused: %s", name, *ret_refused);
    return r;
}

int api_calls_remove_leg(const struct api *api, const char *leg_id)
{
    struct api_calls *c = api->calls;
    int r = -ENOENT;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nlegs && r; i++) {
        if (strcmp(c->legs[i].id, leg_id) == 0) {
            drop_last_leg(api, i, NULL);
            r = 0;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* The legs of call_id (NULL: all) and every call's coSpace, copied (lock held); *ret_n legs,
 * *ret_ncalls calls. Returns 0, -ENOENT (no such call) or -ENOMEM. */
static int copy_legs(struct api_calls *c, const char *call_id, struct api_leg_seen **ret,
                     size_t *ret_n, struct api_call_space **ret_calls, size_t *ret_ncalls)
{
    struct api_leg_seen *v = c->nlegs ? calloc(c->nlegs, sizeof(*v)) : NULL;
    struct api_call_space *cs = c->ncalls ? calloc(c->ncalls, sizeof(*cs)) : NULL;
    int r = (c->nlegs && !v) || (c->ncalls && !cs) ? -ENOMEM : 0;
    size_t n = 0;

    if (r == 0 && call_id && !api_calls_find_call(c, call_id))
        r = -ENOENT;
    if (r < 0) {
        free(v);
        free(cs);
        return r;
    }
    for (size_t i = 0; i < c->nlegs; i++)
        if (!call_id || strcmp(c->legs[i].call, call_id) == 0)
            v[n++].leg = c->legs[i];
    for (size_t i = 0; i < c->ncalls; i++) {
        memcpy(cs[i].call, c->calls[i].id, sizeof(cs[i].call));
        memcpy(cs[i].cospace, c->calls[i].cospace, sizeof(cs[i].cospace));
    }
    *ret = v;
    *ret_n = n;
    *ret_calls = cs;
    *ret_ncalls = c->ncalls;
    return 0;
}

/* Each leg's tenant (its call's coSpace's) and the alarms of its media. */
static int leg_details(const struct api *api, struct store *st, struct api_leg_seen *v, size_t n,
                       struct api_call_space *cs, size_t ncalls)
{
    int r = store_read_begin(st);

    api_call_spaces_sort(cs, ncalls);
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = api_call_space_tenant(st, cs, ncalls, v[i].leg.call, v[i].tenant);
        if (r == 0 && v[i].leg.has_media)
            v[i].alarms = api_leg_alarms_of(api, v[i].leg.id);
    }
    store_read_end(st);
    return r;
}

static void write_leg_item(struct api_xml *x, const struct api_leg_seen *l)
{
    api_xml_start(x, "callLeg");
    api_xml_attr(x, "id", l->leg.id);
    api_xml_text(x, "name", "");
    api_xml_text(x, "remoteParty", l->leg.remote_party);
    api_xml_text(x, "originalRemoteParty", l->leg.remote_party); /* never changed here */
    api_xml_text(x, "call", l->leg.call);
    if (l->tenant[0])
        api_xml_text(x, "tenant", l->tenant);
    api_leg_alarms_write(x, l->alarms);
    api_xml_end(x);
}

static void list_legs(const struct api *api, struct store *st, const struct api_request *req,
                      const char *call_id, struct api_reply *reply)
{
    size_t offset, limit, n = 0, ncalls = 0, total = 0, shown = 0;
    struct api_call_space *cs = NULL;
    struct api_leg_seen *v = NULL;
    struct api_leg_filter f;
    struct api_xml *x;
    int r;

    if (api_page_from_query(req, CALLS_PAGE_DEFAULT, &offset, &limit, reply) < 0 ||
        api_leg_filter_parse(req, &f, reply) < 0)
        return;
    pthread_mutex_lock(&api->calls->lock);
    r = copy_legs(api->calls, call_id, &v, &n, &cs, &ncalls);
    pthread_mutex_unlock(&api->calls->lock);
    if (r == 0)
        r = leg_details(api, st, v, n, cs, ncalls);
    free(cs);
    if (r < 0) {
        free(v);
        if (r == -ENOENT)
            api_reply_failure(reply, 404, "callDoesNotExist");
        else
            api_reply_err(reply, r);
        return;
    }
    for (size_t i = 0; i < n; i++)
        total += api_leg_filter_match(&f, &v[i]);
    if ((x = api_reply_xml_new(reply))) {
        api_xml_start(x, "callLegs");
        api_xml_attr_size(x, "total", total);
        for (size_t i = 0, k = 0; i < n && shown < limit; i++)
            if (api_leg_filter_match(&f, &v[i]) && k++ >= offset && ++shown)
                write_leg_item(x, &v[i]);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    free(v);
}

static void write_media(struct api_xml *x, const struct media_leg_status *m)
{
    api_xml_start(x, "media");
    api_xml_text(x, "turnServer", m->turn_server);
    if (m->relayed[0]) {
        api_xml_text(x, "relayedAddress", m->relayed);
        api_xml_int(x, "relayedPortNumber", m->relayed_port);
        api_xml_int(x, "allocationLifetimeLeft", m->lifetime_left_s);
    }
    if (m->reason[0])
        api_xml_text(x, "reason", m->reason);
    if (m->local_candidate[0])
        api_xml_text(x, "localCandidate", m->local_candidate);
    if (m->remote_candidate[0])
        api_xml_text(x, "remoteCandidate", m->remote_candidate);
    for (int c = 0; c < MEDIA__CLASSES; c++) {
        const struct media_counters *k = &m->cls[c];

        api_xml_start(x, media_class_name((enum media_class)c));
        api_xml_int(x, "packetsReceived", (int64_t)k->rx_packets);
        api_xml_int(x, "bytesReceived", (int64_t)k->rx_bytes);
        api_xml_int(x, "packetsForwarded", (int64_t)k->fwd_packets);
        api_xml_int(x, "bytesForwarded", (int64_t)k->fwd_bytes);
        api_xml_int(x, "packetsDropped", (int64_t)k->dropped);
        api_xml_end(x);
    }
    api_xml_int(x, "packetsFromStrangers", (int64_t)m->strangers);
    api_xml_int(x, "malformedDatagrams", (int64_t)m->malformed);
    api_xml_int(x, "anchors", m->anchors);
    /* call control as the media thread has it in force (PUT /callLegs is queued to it) */
    api_xml_bool(x, "rxAudioWithheld", (m->mute & MEDIA_MUTE_RX_AUDIO) != 0);
    api_xml_bool(x, "rxVideoWithheld", (m->mute & MEDIA_MUTE_RX_VIDEO) != 0);
    api_xml_bool(x, "txAudioWithheld", (m->mute & MEDIA_MUTE_TX_AUDIO) != 0);
    api_xml_bool(x, "txVideoWithheld", (m->mute & MEDIA_MUTE_TX_VIDEO) != 0);
    api_xml_end(x);
}

/* What the endpoint sends, as RTP: CMS's rxAudio/rxVideo figures, for a stream of unknown kind. */
static void write_rx_rtp(struct api_xml *x, const struct media_rtp_stats *r)
{
    char text[32];

    api_xml_start(x, "rxRtp");
    snprintf(text, sizeof(text), "%u", r->ssrc);
    api_xml_text(x, "ssrc", text);
    api_xml_int(x, "payloadType", r->payload_type);
    api_xml_int(x, "packetsReceived", (int64_t)r->received);
    api_xml_int(x, "packetsLost", (int64_t)r->lost);
    snprintf(text, sizeof(text), "%.1f", r->loss_percent);
    api_xml_text(x, "packetLossPercentage", text);
    if (r->has_jitter)
        api_xml_int(x, "jitter", (int64_t)(r->jitter_ms + 0.5));
    api_xml_int(x, "bitRate", (int64_t)r->bit_rate);
    api_xml_end(x);
}

/* A WebRTC leg's four streams, named as CMS's callLeg status names them. */
static void write_streams(struct api_xml *x, const struct media_leg_status *m)
{
    static const char *const names[MEDIA__STREAMS] = {"rxAudio", "rxVideo", "txAudio", "txVideo"};
    char text[32];

    for (int i = 0; i < MEDIA__STREAMS; i++) {
        const struct media_stream_status *s = &m->streams[i];
        bool rx = i == MEDIA_RX_AUDIO || i == MEDIA_RX_VIDEO;

        if (!s->active)
            continue;
        api_xml_start(x, names[i]);
        api_xml_text(x, "codec", s->codec);
        api_xml_int(x, rx ? "packetsReceived" : "packetsSent", (int64_t)s->packets);
        api_xml_int(x, "packetsLost", (int64_t)s->lost);
        snprintf(text, sizeof(text), "%.1f", s->loss_percent);
        api_xml_text(x, "packetLossPercentage", text);
        api_xml_int(x, "jitter", (int64_t)(s->jitter_ms + 0.5));
        api_xml_int(x, "bitRate", (int64_t)s->bit_rate);
        api_xml_end(x);
    }
}

/* An extension: where a failed dial-out was routed (api/res/outbound.c). */
static void write_dial_out(struct api_xml *x, const struct api_leg *l)
{
    api_xml_start(x, "dialOut");
    api_xml_text(x, "destination", l->out_dest);
    if (l->out_rule[0])
        api_xml_text(x, "outboundDialPlanRule", l->out_rule);
    api_xml_int(x, "outboundDialPlanRulesTried", l->out_tried);
    api_xml_end(x);
}

static void get_leg(const struct api *api, const char *id, struct api_reply *reply)
{
    static const char *const states[] = {"connecting", "connected", "failed"};
    struct media_leg_status ms = {.state = MEDIA_LEG_CONNECTING};
    struct api_leg copy;
    struct api_leg *l;
    struct api_xml *x;
    unsigned alarms;

    pthread_mutex_lock(&api->calls->lock);
    l = api_calls_find_leg(api->calls, id);
    if (l)
        copy = *l;
    pthread_mutex_unlock(&api->calls->lock);
    if (!l) {
        api_reply_failure(reply, 404, "callLegDoesNotExist");
        return;
    }
    if (copy.has_media && media_leg_get(api->media, id, &ms) < 0)
        snprintf(ms.reason, sizeof(ms.reason), "waiting for the media thread");
    if (!(x = api_reply_xml_new(reply)))
        return;
    api_xml_start(x, "callLeg");
    api_xml_attr(x, "id", copy.id);
    api_xml_text(x, "name", "");
    api_xml_text(x, "remoteParty", copy.remote_party);
    api_xml_text(x, "originalRemoteParty", copy.remote_party); /* never changed here */
    api_xml_text(x, "call", copy.call);
    /* as the CDRs say it (api/cdr_record.c): a leg dialled out is outgoing, every other one came
     * in (a guest, or placed by the call matching) */
    api_xml_text(x, "direction", copy.dial_failed ? "outgoing" : "incoming");
    api_xml_bool(x, "canMove", false); /* participants are not moved between calls here */
    api_xml_start(x, "status");
    api_xml_text(x, "state",
                 copy.dial_failed ? "failed"
                 : copy.has_media ? states[ms.state]
                                  : "connected");
    api_xml_int(x, "durationSeconds", (api_now_us() - copy.started_us) / 1000000);
    api_xml_text(x, "direction", copy.dial_failed ? "outgoing" : "incoming");
    if (copy.has_media) { /* a guest's is SRTP; a plain leg's RTP is forwarded as it comes */
        api_xml_bool(x, "encryptedMedia", copy.webrtc);
        api_xml_bool(x, "unencryptedMedia", !copy.webrtc);
    }
    if (copy.webrtc && ms.state == MEDIA_LEG_FAILED)
        api_xml_text(x, "reason", ms.reason);
    if (copy.dial_failed)
        api_xml_text(x, "reason", copy.out_reason[0] ? copy.out_reason : "noSipDialOut");
    api_xml_bool(x, "deactivated", copy.deactivated); /* in the lobby (api/res/lobby.c) */
    if (ms.rx_rtp.seen && !copy.webrtc)
        write_rx_rtp(x, &ms.rx_rtp);
    if (copy.webrtc)
        write_streams(x, &ms);
    api_xml_end(x);
    if (copy.has_media && (alarms = api_leg_alarms_of(api, copy.id)))
        api_leg_alarms_write(x, alarms); /* only when some are active, as the apiary says */
    if (copy.webrtc)
        api_xml_text(x, "subType", "webApp");
    if (copy.has_media && !copy.webrtc)
        api_xml_text(x, "remoteMediaAddress", copy.media_addr);
    if (copy.dial_failed)
        write_dial_out(x, &copy);
    api_control_write_leg(x, &copy);
    if (copy.has_media)
        write_media(x, &ms);
    api_xml_end(x);
    api_reply_xml(reply, x);
}

void api_calls_delete_leg(const struct api *api, const char *id, const char *missing,
                          struct api_reply *reply)
{
    struct api_calls *c = api->calls;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nlegs; i++) {
        if (strcmp(c->legs[i].id, id) == 0) {
            drop_last_leg(api, i, "dropped");
            reply->status = 200;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (!reply->status)
        api_reply_failure(reply, 404, missing);
}

/* ---- routing ------------------------------------------------------------------------------ */

void api_res_calls(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (!id && api_calls_is_get(req))
        list_calls(api, st, req, reply);
    else if (!id)
        create_call(api, st, req, reply);
    else if (!api_calls_path_id(id, lid, "callDoesNotExist", reply))
        return;
    else if (api_calls_is_get(req))
        get_call(api, lid, reply);
    else if (req->method == API_PUT)
        api_control_put_call(api, req, lid, reply);
    else
        delete_call(api, lid, reply);
}

void api_res_call_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                            const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    int r;

    if (!api_calls_path_id(id, lid, "callDoesNotExist", reply))
        return;
    if (api_calls_is_get(req))
        list_legs(api, st, req, lid, reply);
    else if ((r = api_tenant_limit_refresh(api, st, lid)) < 0)
        api_reply_err(reply, r);
    else
        add_leg(api, st, lid, req, true, "callLegs", reply);
}

void api_calls_post_leg(const struct api *api, struct store *st, const char *call_id,
                        const struct api_request *req, const char *collection,
                        struct api_reply *reply)
{
    add_leg(api, st, call_id, req, true, collection, reply);
}

void api_res_call_legs(const struct api *api, struct store *st, const struct api_request *req,
                       const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (!id && api_calls_is_get(req))
        list_legs(api, st, req, NULL, reply);
    else if (!id)
        incoming_leg(api, st, req, reply);
    else if (!api_calls_path_id(id, lid, "callLegDoesNotExist", reply))
        return;
    else if (api_calls_is_get(req))
        get_leg(api, lid, reply);
    else if (req->method == API_PUT)
        api_control_put_leg(api, req, lid, reply);
    else
        api_calls_delete_leg(api, lid, "callLegDoesNotExist", reply);
}
