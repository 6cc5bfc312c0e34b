/* api/res/control.c: call control (cms-api.md §5; docs/api.md "Call control"): PUT /calls/<id>
 * (locked, messageText, recording, ...), PUT /callLegs/<id> (the four mutes, nameLabelOverride,
 * layouts and the leg's permissions), and a leg's generateKeyFrame, cameraControl and
 * callLegProfileTrace.
 *
 * DESIGN: every parameter CMS takes is checked against one table (its kind, range or values)
 * and kept as given in the registry, so GET shows it; the refusal names the first bad one and
 * changes nothing. A leg's value in force is its own, else its call leg profiles'
 * (api/res/leg_profile.c). What has behaviour here acts: the mutes go to the media path
 * (media_leg_set_mute), nameLabelOverride and the mutes to the rosters of the guests' pages,
 * messageText to their pages, the self-mute rights (muteSelfAllowed, videoMuteSelfAllowed,
 * allowAllMuteSelf) and participantLabels to each guest's page, needsActivation, the
 * deactivation modes, deactivated and locked to the lobby (api/res/lobby.c), which withholds a
 * waiting leg's media both ways; joinAudioMuteOverride mutes the legs that join. What nothing
 * here can act on (layouts, SIP and BFCP settings, tones, permissions of a SIP endpoint's
 * keypad) is stored and shown, never claimed. recording and streaming are kept as CMS keeps them
 * without a recorder or streamer: <recording> says what was asked, <recordingStatus> that nothing
 * records. The participants collections (api/res/participants.c) change legs through the functions
 * here. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/reply.h"
#include "api/res/calls.h"
#include "api/res/control.h"
#include "api/res/control_values.h"
#include "api/res/leg_profile.h"
#include "api/res/lobby.h"
#include "api/res/parse.h"
#include "api/res/registry.h"
#include "api/res/resource.h"
#include "api/util.h"
#include "media/media.h"

/* The guest signalling, through the hook the composition root sets (api/res/registry.h). */
static void guest_message(const struct api *api, const char *call, const char *leg,
                          const char *text, const char *position, const char *duration)
{
    if (api->calls->guest_message)
        api->calls->guest_message(api->calls->guest_userdata, call, leg, text, position, duration);
}

static const char *const positions[] = {"top", "middle", "bottom", NULL};
static const char *const pane_modes[] = {"skip", "self", "blank", "unset", NULL};

/* PUT /calls/<id>. */
static const struct api_control_param call_params[] = {
    API_PARAM_BOOL("locked"),
    API_PARAM_BOOL("recording"),
    API_PARAM_BOOL("streaming"),
    API_PARAM_BOOL("allowAllMuteSelf"),
    API_PARAM_BOOL("allowAllPresentationContribution"),
    API_PARAM_BOOL("joinAudioMuteOverride"),
    API_PARAM_TEXT("messageText", STORE_TEXT_MAX),
    API_PARAM_ENUM("messagePosition", positions),
    API_PARAM_TEXT("messageDuration", 16), /* a number of seconds or "permanent": checked below */
    API_PARAM_BOOL("activeWhenEmpty"),
    API_PARAM_INT("panePlacementHighestImportance", 0, 2147483647),
    API_PARAM_ENUM("panePlacementSelfPaneMode", pane_modes),
    API_PARAM_TEXT("name",
                   STORE_TEXT_MAX), /* POST only: the call's name instead of its coSpace's */
    API_PARAM_TEXT("callCorrelator",
                   STORE_ID_LEN), /* POST only: an id; the call's own when not given */
};
_Static_assert(sizeof(call_params) / sizeof(call_params[0]) == API_CALL_PARAMS,
               "API_CALL_PARAMS is the number of call_params");
enum {
    C_LOCKED,
    C_RECORDING,
    C_STREAMING,
    C_ALL_MUTE_SELF = API_CALLP_ALL_MUTE_SELF, /* 3 */
    C_JOIN_MUTE = 5,
    C_TEXT,
    C_POSITION,
    C_DURATION,
    C_ACTIVE_WHEN_EMPTY,
    C_NAME = 12,
    C_CORRELATOR
};

/* Parameters CMS takes that would need what callbridge does not have (a SIP stack, call leg
 * profiles by reference, DTMF, layout templates, a cluster, moving a participant between
 * calls): refused by name, never dropped. */
static const char *const unsupported[] = {"callLegProfile",
                                          "dtmfSequence",
                                          "layoutTemplate",
                                          "callBridge",
                                          "callBridgeGroup",
                                          "movedParticipant",
                                          NULL};

static bool in_list(const char *const *v, const char *s)
{
    for (; *v; v++)
        if (strcasecmp(*v, s) == 0)
            return true;
    return false;
}

/* The canonical text of value for p into out (cap bytes), or -EINVAL. */
static int check_value(const struct api_control_param *p, const char *value, char *out, size_t cap)
{
    bool b;
    int64_t n;

    switch (p->kind) {
    case API_PK_BOOL:
        if (api_parse_bool(value, &b) < 0)
            return -EINVAL;
        snprintf(out, cap, "%s", b ? "true" : "false");
        return 0;
    case API_PK_INT:
        if (api_parse_int(value, p->min, p->max, &n) < 0)
            return -EINVAL;
        snprintf(out, cap, "%lld", (long long)n);
        return 0;
    case API_PK_ENUM:
        for (const char *const *v = p->values; *v; v++) {
            if (strcasecmp(*v, value) == 0) {
                snprintf(out, cap, "%s", *v);
                return 0;
            }
        }
        return -EINVAL;
    case API_PK_TEXT:
        if (strlen(value) > (size_t)p->max || strlen(value) >= cap)
            return -EINVAL;
        snprintf(out, cap, "%s", value);
        return 0;
    }
    return -EINVAL;
}

/* Checks every parameter of form named in params (n of them) into conf (width bytes a value),
 * which holds the values now. Returns 0, or -EINVAL with the first bad one's parameterError. */
static int apply_form(const struct api_params *form, const struct api_control_param *params,
                      size_t n, char *conf, size_t width, struct api_reply *reply)
{
    for (size_t i = 0; i < form->n; i++) {
        const char *name = form->v[i].name;

        if (in_list(unsupported, name)) {
            api_reply_param_error(reply, name, "unsupported");
            return -EINVAL;
        }
        for (size_t j = 0; j < n; j++) {
            if (strcasecmp(params[j].name, name) != 0)
                continue;
            if (check_value(&params[j], form->v[i].value, conf + j * width, width) < 0) {
                api_reply_param_error(reply, params[j].name, "invalidValue");
                return -EINVAL;
            }
        }
    }
    return 0;
}

static bool is_true(const char *v)
{
    return strcmp(v, "true") == 0;
}

/* ---- legs --------------------------------------------------------------------------------- */

/* The leg's control values are now conf: its media path and its call's pages follow (lock
 * held). */
static void leg_takes(const struct api *api, struct api_leg *l, char conf[][API_LEG_VALUE_MAX])
{
    memcpy(l->conf, conf, sizeof(l->conf));
    api_control_leg_refresh(api, l);
}

int api_control_self_mute(const struct api *api, const char *leg, int audio, int video)
{
    struct api_guest_view v = {0};
    struct api_leg *l;
    int r = 0;

    pthread_mutex_lock(&api->calls->lock);
    l = api_calls_find_leg(api->calls, leg);
    if (!l)
        r = -ENOENT;
    else
        api_control_leg_view(api, l, &v);
    if (r == 0 && ((audio >= 0 && !v.mute_self) || (video >= 0 && !v.video_mute_self)))
        r = -EACCES;
    if (r == 0) {
        if (audio >= 0)
            snprintf(l->conf[API_LEGP_RX_AUDIO], sizeof(l->conf[0]), "%s",
                     audio ? "true" : "false");
        if (video >= 0)
            snprintf(l->conf[API_LEGP_RX_VIDEO], sizeof(l->conf[0]), "%s",
                     video ? "true" : "false");
        api_control_leg_refresh(api, l);
    }
    pthread_mutex_unlock(&api->calls->lock);
    return r;
}

int api_control_leg_form(const struct api_params *form, char conf[][API_LEG_VALUE_MAX],
                         struct api_reply *reply)
{
    memset(conf, 0, sizeof(char[API_LEG_PARAMS][API_LEG_VALUE_MAX]));
    return apply_form(form, api_control_leg_params, API_LEG_PARAMS, conf[0], API_LEG_VALUE_MAX,
                      reply);
}

int api_control_leg_apply(const struct api *api, struct api_leg *l, const struct api_params *form,
                          struct api_reply *reply)
{
    char conf[API_LEG_PARAMS][API_LEG_VALUE_MAX], call[STORE_ID_LEN + 1];
    const char *deactivated = api_params_get(form, "deactivated");
    bool lobby = l->deactivated;

    memcpy(conf, l->conf, sizeof(conf));
    if (apply_form(form, api_control_leg_params, API_LEG_PARAMS, conf[0], API_LEG_VALUE_MAX,
                   reply) < 0)
        return -EINVAL;
    if (deactivated && api_parse_bool(deactivated, &lobby) < 0) {
        api_reply_param_error(reply, "deactivated", "invalidValue");
        return -EINVAL;
    }
    if (deactivated) { /* CMS 2.9: an administrator lets a participant in, or back out */
        l->deactivated = lobby;
        l->held = lobby;
        l->deactivate_us = 0;
    }
    leg_takes(api, l, conf);
    memcpy(call, l->call, sizeof(call));
    (void)api_lobby_update(api, call, NULL, 0); /* its needsActivation may have changed */
    return 0;
}

static int64_t message_left(const struct api_call *c);

void api_control_leg_added(const struct api *api, struct api_call *c, struct api_leg *l)
{
    char conf[API_LEG_PARAMS][API_LEG_VALUE_MAX];
    int64_t left;

    memcpy(conf, l->conf, sizeof(conf));
    if (c->join_muted && !conf[API_LEGP_RX_AUDIO][0])
        snprintf(conf[API_LEGP_RX_AUDIO], sizeof(conf[API_LEGP_RX_AUDIO]), "true");
    l->deactivated = api_lobby_joins_deactivated(api, c, l);
    leg_takes(api, l, conf);
    (void)api_lobby_update(api, c->id, NULL, 0);
    if (l->webrtc && (left = message_left(c)) != 0) { /* what is left of it */
        char duration[24];

        snprintf(duration, sizeof(duration), "%lld", (long long)left);
        guest_message(api, c->id, l->id, c->conf[C_TEXT], c->conf[C_POSITION],
                      left < 0 ? "permanent" : duration);
    }
}

/* PUT on leg id with form; missing: the reason when there is no such leg. */
void api_control_put_leg_as(const struct api *api, const struct api_params *form, const char *id,
                            const char *missing, struct api_reply *reply)
{
    static const char *const post_only[] = {"remoteParty", "bandwidth", "confirmation", NULL};
    struct api_leg *l;

    for (size_t i = 0; i < form->n; i++) {
        if (in_list(post_only, form->v[i].name)) { /* CMS: cannot be modified */
            api_reply_param_error(reply, form->v[i].name, "invalidValue");
            return;
        }
    }
    pthread_mutex_lock(&api->calls->lock);
    l = api_calls_find_leg(api->calls, id);
    if (l) {
        if (api_control_leg_apply(api, l, form, reply) == 0)
            reply->status = 200;
    }
    pthread_mutex_unlock(&api->calls->lock);
    if (!l)
        api_reply_failure(reply, 404, missing);
}

void api_control_put_leg(const struct api *api, const struct api_request *req, const char *id,
                         struct api_reply *reply)
{
    api_control_put_leg_as(api, req->form, id, "callLegDoesNotExist", reply);
}

void api_control_write_leg(struct api_xml *x, const struct api_leg *l)
{
    api_xml_start(x, "configuration");
    for (size_t i = 0; i < API_LEG_PARAMS; i++)
        if (l->conf[i][0])
            api_xml_text(x, api_control_leg_params[i].name, l->conf[i]);
    api_xml_end(x);
}

/* ---- calls -------------------------------------------------------------------------------- */

static int check_duration(const char *v)
{
    int64_t n;

    return !*v || strcasecmp(v, "permanent") == 0 || api_parse_int(v, 0, 86400, &n) == 0 ? 0
                                                                                         : -EINVAL;
}

/* The call's values are now conf (lock held): guests' admission, their pages. */
static void call_takes(const struct api *api, struct api_call *c, char conf[][STORE_TEXT_MAX + 1])
{
    bool message = strcmp(c->conf[C_TEXT], conf[C_TEXT]) != 0 ||
                   strcmp(c->conf[C_POSITION], conf[C_POSITION]) != 0 ||
                   strcmp(c->conf[C_DURATION], conf[C_DURATION]) != 0;
    bool rights = strcmp(c->conf[C_ALL_MUTE_SELF], conf[C_ALL_MUTE_SELF]) != 0;
    bool locked = c->locked;

    memcpy(c->conf, conf, sizeof(c->conf));
    c->locked = is_true(conf[C_LOCKED]);
    c->join_muted = is_true(conf[C_JOIN_MUTE]);
    for (size_t i = 0; rights && i < api->calls->nlegs; i++) /* their pages' mute buttons */
        if (strcmp(api->calls->legs[i].call, c->id) == 0 && api->calls->legs[i].webrtc)
            api_control_leg_refresh(api, &api->calls->legs[i]);
    if (locked && !c->locked) /* unlocking admits the lobby */
        (void)api_lobby_update(api, c->id, NULL, 0);
    if (message) {
        c->message_us = api_now_us();
        guest_message(api, c->id, NULL, conf[C_TEXT], conf[C_POSITION], conf[C_DURATION]);
    }
}

/* Checks form's call parameters into conf (the call's values now); 0 or -EINVAL with the
 * parameterError in *reply. */
static int call_form(const struct api_params *form, char conf[][STORE_TEXT_MAX + 1],
                     struct api_reply *reply)
{
    char id[STORE_ID_LEN + 1];
    const char *bad = NULL;

    if (apply_form(form, call_params, API_CALL_PARAMS, conf[0], STORE_TEXT_MAX + 1, reply) < 0)
        return -EINVAL;
    if (check_duration(conf[C_DURATION]) < 0)
        bad = "messageDuration";
    else if (conf[C_CORRELATOR][0] && api_parse_id(conf[C_CORRELATOR], id) < 0)
        bad = "callCorrelator";
    if (!bad)
        return 0;
    api_reply_param_error(reply, bad, "invalidValue");
    return -EINVAL;
}

void api_control_put_call(const struct api *api, const struct api_request *req, const char *id,
                          struct api_reply *reply)
{
    static const char *const post_only[] = {"coSpace", "name", "callCorrelator", NULL};
    char conf[API_CALL_PARAMS][STORE_TEXT_MAX + 1];
    struct api_call *c;

    for (size_t i = 0; i < req->form->n; i++) {
        if (in_list(post_only, req->form->v[i].name)) { /* CMS: for POST only */
            api_reply_param_error(reply, req->form->v[i].name, "invalidValue");
            return;
        }
    }
    pthread_mutex_lock(&api->calls->lock);
    c = api_calls_find_call(api->calls, id);
    if (c) {
        memcpy(conf, c->conf, sizeof(conf));
        if (call_form(req->form, conf, reply) == 0) {
            call_takes(api, c, conf);
            reply->status = 200;
        }
    }
    pthread_mutex_unlock(&api->calls->lock);
    if (!c)
        api_reply_failure(reply, 404, "callDoesNotExist");
}

int api_control_call_form(const struct api_request *req, char conf[][STORE_TEXT_MAX + 1],
                          struct api_reply *reply)
{
    memset(conf, 0, sizeof(char[API_CALL_PARAMS][STORE_TEXT_MAX + 1]));
    return call_form(req->form, conf, reply);
}

void api_control_call_created(const struct api *api, struct api_call *c,
                              char conf[][STORE_TEXT_MAX + 1])
{
    if (conf[C_NAME][0])
        snprintf(c->name, sizeof(c->name), "%s", conf[C_NAME]);
    call_takes(api, c, conf);
}

/* Seconds the message is still shown: -1 permanent, 0 none or over. */
static int64_t message_left(const struct api_call *c)
{
    int64_t d, gone;

    if (!c->conf[C_TEXT][0])
        return 0;
    if (strcasecmp(c->conf[C_DURATION], "permanent") == 0)
        return -1;
    if (api_parse_int(c->conf[C_DURATION], 0, 86400, &d) < 0)
        return 0; /* unset: CMS shows no message without a duration */
    gone = (api_now_us() - c->message_us) / 1000000;
    return d > gone ? d - gone : 0;
}

static void write_flag(struct api_xml *x, const struct api_call *c, int i, bool dflt)
{
    api_xml_bool(x, call_params[i].name, c->conf[i][0] ? is_true(c->conf[i]) : dflt);
}

/* After name, callType, coSpace, callCorrelator, durationSeconds and numCallLegs (calls.c), in
 * the order of the apiary's example answer (apiary.apib:3106): activeWhenEmpty just before
 * endpointRecording, the parameters CMS shows only when set (messageText, joinAudioMuteOverride,
 * the pane placement) after the message's, numParticipantsRemote and numDistributedInstances
 * (the apiary's table) after numParticipantsLocal. */
void api_control_write_call(struct api_xml *x, const struct api_call *c, size_t legs)
{
    int64_t left = message_left(c);

    api_xml_int(x, "maxCallLegs", (int64_t)(c->max_legs > legs ? c->max_legs : legs));
    api_xml_int(x, "numParticipantsLocal", (int64_t)legs);
    api_xml_int(x, "numParticipantsRemote", 0);
    api_xml_int(x, "numDistributedInstances", 0);
    write_flag(x, c, C_LOCKED, false);
    write_flag(x, c, C_RECORDING, false);
    api_xml_bool(x, "recordingStatus", false); /* no recorder: nothing records */
    write_flag(x, c, C_STREAMING, false);
    api_xml_bool(x, "streamingStatus", false); /* no streamer */
    write_flag(x, c, C_ALL_MUTE_SELF, false);
    write_flag(x, c, C_ALL_MUTE_SELF + 1, false); /* allowAllPresentationContribution */
    for (int i = C_JOIN_MUTE; i < C_NAME; i++) {
        if (i == C_ACTIVE_WHEN_EMPTY)
            continue;
        if (i == C_POSITION || i == C_DURATION)
            api_xml_text(x, call_params[i].name,
                         c->conf[i][0]     ? c->conf[i]
                         : i == C_POSITION ? "middle"
                                           : "0");
        else if (c->conf[i][0])
            api_xml_text(x, call_params[i].name, c->conf[i]);
    }
    if (left > 0)
        api_xml_int(x, "messageTimeRemaining", left);
    write_flag(x, c, C_ACTIVE_WHEN_EMPTY, false);
    api_xml_bool(x, "endpointRecording", false);
}

/* ---- shared with the participants (api/res/participants.c) ---------------------------- */

/* The name others see: the override, else the remote party (a guest's display name). */
const char *api_control_shown_name(const struct api_leg *l)
{
    return l->conf[API_LEGP_LABEL][0] ? l->conf[API_LEGP_LABEL] : l->remote_party;
}

/* A copy of leg id (from the path), or 404 missing. */
bool api_control_leg_copy(const struct api *api, const char *id, const char *missing,
                          struct api_leg *out, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    struct api_leg *l = NULL;

    if (!api_calls_path_id(id, lid, missing, reply))
        return false;
    pthread_mutex_lock(&api->calls->lock);
    l = api_calls_find_leg(api->calls, lid);
    if (l)
        *out = *l;
    pthread_mutex_unlock(&api->calls->lock);
    if (!l)
        api_reply_failure(reply, 404, missing);
    return l != NULL;
}

/* ---- a leg's sub-resources ---------------------------------------------------------------- */

/* A key frame from the leg's browser (RTCP PLI), which every receiver then decodes from. A leg
 * without WebRTC media has no encoder to ask: invalidOperation. */
void api_res_leg_key_frame(const struct api *api, struct store *st, const struct api_request *req,
                           const char *id, struct api_reply *reply)
{
    struct api_leg l;
    int r;

    (void)st;
    (void)req;
    if (!api_control_leg_copy(api, id, "callLegDoesNotExist", &l, reply))
        return;
    if (!l.webrtc || !api->media) {
        api_reply_failure(reply, 400, "invalidOperation");
        return;
    }
    r = media_leg_key_frame(api->media, l.id);
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    reply->status = 200;
}

/* Far-end camera control: the request is checked, then refused, since no leg here advertises a
 * camera that can be moved (cameraControlAvailable is false on every leg). */
void api_res_leg_camera_control(const struct api *api, struct store *st,
                                const struct api_request *req, const char *id,
                                struct api_reply *reply)
{
    static const char *const pan[] = {"left", "right", NULL}, *const tilt[] = {"up", "down", NULL},
                             *const zoom[] = {"in", "out", NULL};
    static const struct api_control_param fecc[] = {
        API_PARAM_ENUM("pan", pan), API_PARAM_ENUM("tilt", tilt), API_PARAM_ENUM("zoom", zoom),
        API_PARAM_ENUM("focus", zoom)};
    char scratch[4][API_LEG_VALUE_MAX] = {{0}};
    struct api_leg l;

    (void)st;
    if (!api_control_leg_copy(api, id, "callLegDoesNotExist", &l, reply) ||
        apply_form(req->form, fecc, 4, scratch[0], API_LEG_VALUE_MAX, reply) < 0)
        return;
    api_reply_failure(reply, 400, "invalidOperation");
}

/* How the leg's call leg profile in force was arrived at (api/res/leg_profile.c). */
void api_res_leg_profile_trace(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply)
{
    struct api_leg l;
    struct api_xml *x;
    int r;

    (void)req;
    if (!api_control_leg_copy(api, id, "callLegDoesNotExist", &l, reply) ||
        !(x = api_reply_xml_new(reply)))
        return;
    r = api_leg_profile_trace(st, &l, x);
    if (r < 0) {
        api_xml_free(x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, x);
}

const char *api_control_correlator(const struct api_call *c)
{
    return c->conf[C_CORRELATOR][0] ? c->conf[C_CORRELATOR] : c->id;
}
