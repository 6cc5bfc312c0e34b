/* api/res/participants.c: the participants collections (cms-api.md §5; docs/api.md "Call
 * control"): GET /participants (filter, tenantFilter, paging), GET, PUT and DELETE
 * /participants/<id>, GET /participants/<id>/callLegs, GET and POST /calls/<id>/participants,
 * PUT and DELETE /calls/<id>/participants/<id>, and PUT /calls/<id>/participants/x for every
 * participant of a call (filterIds, mode).
 *
 * DESIGN: a participant is a leg: each guest and each endpoint has exactly one, so the
 * participant's id is its leg's id (GET /participants/<id>/callLegs lists that one leg), as
 * Mividas and Companion expect when they mute a participant through its leg. Changes go through
 * call control (api/res/control.c), so a participant's PUT acts as its leg's does. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/reply.h"
#include "api/res/calls.h"
#include "api/res/control.h"
#include "api/res/parse.h"
#include "api/res/participants.h"
#include "media/media.h"

#define PAGE_DEFAULT 10
#define FILTER_IDS_MAX 20 /* PUT /calls/<id>/participants/x: filterIds */

/* state: the leg's, for a full participant (NULL: the list's short form). */
static void write_participant(struct api_xml *x, const struct api_leg *l, const char *state)
{
    api_xml_start(x, "participant");
    api_xml_attr(x, "id", l->id);
    api_xml_text(x, "name", api_control_shown_name(l));
    api_xml_text(x, "call", l->call);
    if (state) {
        if (!l->webrtc)
            api_xml_text(x, "uri", l->remote_party);
        api_xml_int(x, "numCallLegs", 1);
        /* its call leg profile's needsActivation (api/res/lobby.c) */
        api_xml_bool(x, "isActivator",
                     strcmp(api_control_leg_value(l, API_LEGP_NEEDS_ACTIVATION), "true") != 0);
        api_xml_start(x, "status");
        api_xml_text(x, "state", state);
        api_xml_bool(x, "cameraControlAvailable", false);
        api_xml_end(x);
        api_xml_int(x, "importance", 0);
        api_control_write_leg(x, l);
    }
    api_xml_end(x);
}

/* Does leg l pass GET /participants' filters (call_id NULL: any call)? */
static bool listed(const struct api_leg *l, const char *call_id, const char *filter,
                   const char *tenant)
{
    if (call_id && strcmp(l->call, call_id) != 0)
        return false;
    if (tenant && *tenant) /* calls here belong to no tenant */
        return false;
    return !filter || !*filter || strcasestr(api_control_shown_name(l), filter) != NULL;
}

static void list_participants(const struct api *api, const struct api_request *req,
                              const char *call_id, struct api_reply *reply)
{
    const char *filter = api_params_get(req->query, "filter");
    const char *tenant = api_params_get(req->query, "tenantFilter");
    struct api_calls *c = api->calls;
    size_t offset, limit, total = 0, shown = 0;
    struct api_xml *x = NULL;

    if (api_page_from_query(req, PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    pthread_mutex_lock(&c->lock);
    if (!call_id || api_calls_find_call(c, call_id))
        x = api_reply_xml_new(reply);
    for (size_t i = 0; x && i < c->nlegs; i++)
        total += listed(&c->legs[i], call_id, filter, tenant);
    if (x) {
        api_xml_start(x, "participants");
        api_xml_attr_size(x, "total", total);
    }
    for (size_t i = 0, n = 0; x && i < c->nlegs && shown < limit; i++) {
        if (!listed(&c->legs[i], call_id, filter, tenant) || n++ < offset)
            continue;
        write_participant(x, &c->legs[i], NULL);
        shown++;
    }
    pthread_mutex_unlock(&c->lock);
    if (x)
        api_reply_xml(reply, x);
    else if (!reply->status)
        api_reply_failure(reply, 404, "callDoesNotExist");
}

/* The state GET /callLegs/<id> gives the leg: its media's (asked outside the registry's lock,
 * as calls.c does), failed for a dial-out, else connected. */
static const char *leg_state(const struct api *api, const struct api_leg *l)
{
    static const char *const states[] = {"connecting", "connected", "failed"};
    struct media_leg_status ms;

    if (l->dial_failed)
        return "failed";
    if (!l->has_media)
        return "connected";
    if (!api->media || media_leg_get(api->media, l->id, &ms) < 0)
        return "connecting";
    return states[ms.state];
}

/* GET one participant, or its legs (legs: the <callLegs> list of its one leg). */
static void get_participant(const struct api *api, const char *id, bool legs,
                            struct api_reply *reply)
{
    struct api_xml *x;
    struct api_leg l;

    if (!api_control_leg_copy(api, id, "participantDoesNotExist", &l, reply) ||
        !(x = api_reply_xml_new(reply)))
        return;
    if (legs) {
        api_xml_start(x, "callLegs");
        api_xml_attr_size(x, "total", 1);
        api_xml_start(x, "callLeg");
        api_xml_attr(x, "id", l.id);
        api_xml_text(x, "name", "");
        api_xml_text(x, "remoteParty", l.remote_party);
        api_xml_text(x, "call", l.call);
        api_xml_end(x);
        api_xml_end(x);
    } else {
        write_participant(x, &l, leg_state(api, &l));
    }
    api_reply_xml(reply, x);
}

void api_res_participants(const struct api *api, struct store *st, const struct api_request *req,
                          const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)st;
    if (!id)
        list_participants(api, req, NULL, reply);
    else if (!api_calls_path_id(id, lid, "participantDoesNotExist", reply))
        return;
    else if (api_calls_is_get(req))
        get_participant(api, lid, false, reply);
    else if (req->method == API_PUT)
        api_control_put_leg_as(api, req->form, lid, "participantDoesNotExist", reply);
    else
        api_calls_delete_leg(api, lid, "participantDoesNotExist", reply);
}

void api_res_participant_legs(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)st;
    (void)req;
    if (api_calls_path_id(id, lid, "participantDoesNotExist", reply))
        get_participant(api, lid, true, reply);
}

void api_res_call_participants(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    (void)st;
    if (!api_calls_path_id(id, lid, "callDoesNotExist", reply))
        return;
    if (api_calls_is_get(req))
        list_participants(api, req, lid, reply);
    else
        api_calls_post_leg(api, st, lid, req, "participants", reply);
}

/* The call of /calls/<call>/participants/...: the router's parent id. */
static bool call_of_path(const struct api_request *req, char *out, struct api_reply *reply)
{
    if (!req->parent_id) {
        api_reply_failure(reply, 404, "callDoesNotExist");
        return false;
    }
    return api_calls_path_id(req->parent_id, out, "callDoesNotExist", reply);
}

/* PUT or DELETE /calls/<call>/participants/<id>: the participant must be in that call. */
void api_res_call_participant(const struct api *api, struct store *st,
                              const struct api_request *req, const char *id,
                              struct api_reply *reply)
{
    char call[STORE_ID_LEN + 1], lid[STORE_ID_LEN + 1];
    struct api_leg *l;
    bool call_exists, in_call;

    (void)st;
    if (!call_of_path(req, call, reply) ||
        !api_calls_path_id(id, lid, "participantDoesNotExist", reply))
        return;
    pthread_mutex_lock(&api->calls->lock);
    call_exists = api_calls_find_call(api->calls, call) != NULL;
    l = api_calls_find_leg(api->calls, lid);
    in_call = call_exists && l && strcmp(l->call, call) == 0;
    pthread_mutex_unlock(&api->calls->lock);
    if (!call_exists)
        api_reply_failure(reply, 404, "callDoesNotExist");
    else if (!in_call)
        api_reply_failure(reply, 404, "participantDoesNotExist");
    else if (req->method == API_PUT)
        api_control_put_leg_as(api, req->form, lid, "participantDoesNotExist", reply);
    else
        api_calls_delete_leg(api, lid, "participantDoesNotExist", reply);
}

/* ---- PUT /calls/<id>/participants/x: every participant at once ---------------------------- */

struct bulk {
    struct api_param v[8]; /* the form's ParticipantProperties that a leg takes */
    struct api_params form;
    char ids[FILTER_IDS_MAX][STORE_ID_LEN + 1];
    size_t nids;
    bool selected; /* mode=selected: only ids; else (exclude) all but ids */
};

/* filterIds (comma-separated participant ids) and mode, and the leg parameters of the form. */
static int bulk_parse(const struct api_params *form, struct bulk *b, struct api_reply *reply)
{
    static const char *const takes[] = {"rxAudioMute", "txAudioMute", "rxVideoMute", "txVideoMute",
                                        "layout",      "importance",  NULL};
    const char *ids = api_params_get(form, "filterIds"), *mode = api_params_get(form, "mode");

    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < form->n; i++)
        for (size_t t = 0; takes[t] && b->form.n < 8; t++)
            if (strcasecmp(takes[t], form->v[i].name) == 0)
                b->v[b->form.n++] = form->v[i];
    b->form.v = b->v;
    if (mode && strcasecmp(mode, "selected") != 0 && strcasecmp(mode, "exclude") != 0) {
        api_reply_param_error(reply, "mode", "invalidValue");
        return -EINVAL;
    }
    b->selected = mode && strcasecmp(mode, "selected") == 0;
    for (const char *p = ids; p && *p;) {
        size_t n = strcspn(p, ",");
        char one[64];

        if (n >= sizeof(one) || b->nids == FILTER_IDS_MAX ||
            (memcpy(one, p, n), one[n] = '\0', api_parse_id(one, b->ids[b->nids]) < 0)) {
            api_reply_param_error(reply, "filterIds", "invalidValue");
            return -EINVAL;
        }
        b->nids++;
        p += n + (p[n] == ',');
    }
    return 0;
}

static bool bulk_takes(const struct bulk *b, const char *leg)
{
    bool named = false;

    for (size_t i = 0; i < b->nids && !named; i++)
        named = strcmp(b->ids[i], leg) == 0;
    return b->selected ? named : !named;
}

void api_res_call_participants_all(const struct api *api, struct store *st,
                                   const struct api_request *req, const char *id,
                                   struct api_reply *reply)
{
    char call[STORE_ID_LEN + 1], conf[API_LEG_PARAMS][API_LEG_VALUE_MAX];
    struct api_calls *c = api->calls;
    struct bulk b;

    (void)st;
    if (!api_calls_path_id(id, call, "callDoesNotExist", reply) ||
        bulk_parse(req->form, &b, reply) < 0)
        return;
    if (api_control_leg_form(&b.form, conf, reply) < 0) /* checked before any leg changes */
        return;
    pthread_mutex_lock(&c->lock);
    if (api_calls_find_call(c, call)) {
        for (size_t i = 0; i < c->nlegs; i++) {
            struct api_leg *l = &c->legs[i];

            if (strcmp(l->call, call) != 0 || !bulk_takes(&b, l->id))
                continue;
            (void)api_control_leg_apply(api, l, &b.form, reply);
        }
        reply->status = 200;
    }
    pthread_mutex_unlock(&c->lock);
    if (!reply->status)
        api_reply_failure(reply, 404, "callDoesNotExist");
}
