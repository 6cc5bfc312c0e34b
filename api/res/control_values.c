/* api/res/control_values.c: call control's values of a leg, below its handlers
 * (api/res/control.c): the table of the parameters a leg takes (from PUT /callLegs and its call
 * leg profiles), the value in force on a leg, and a live leg following its values: its mutes in
 * the media path, its rights and labels on its guest's page.
 *
 * DESIGN: the lobby (api/res/lobby.c) and the call leg profiles (api/res/leg_profile.c) read
 * and apply a leg's values from here, and call control's handlers stand above all three, so no
 * file below the handlers calls up into them. Everything here runs with the registry's lock
 * held and calls no other file of api/res/ but the registry. */
#include <string.h>

#include "api/res/control_values.h"
#include "api/res/resource.h"
#include "media/media.h"

/* The guest signalling, through the hook the composition root sets (api/res/registry.h). */
static void guest_control(const struct api *api, const char *leg, const struct api_guest_view *view)
{
    if (api->calls->guest_control)
        api->calls->guest_control(api->calls->guest_userdata, leg, view);
}

const char *const api_res_layouts[] = {"allEqual",           "speakerOnly",
                                       "telepresence",       "stacked",
                                       "allEqualQuarters",   "allEqualNinths",
                                       "allEqualSixteenths", "allEqualTwentyFifths",
                                       "onePlusFive",        "onePlusSeven",
                                       "onePlusNine",        "automatic",
                                       "onePlusN",           NULL};
static const char *const display_modes[] = {"dualStream", "singleStream", NULL};
static const char *const video_modes[] = {"auto", "disabled", NULL};
static const char *const encryption[] = {"optional", "required", "prohibited", NULL};
static const char *const deactivation[] = {"deactivate", "disconnect", "remainActivated", NULL};
static const char *const bfcp[] = {"serverOnly", "serverAndClient", NULL};
static const char *const quality_main[] = {"unrestricted", "max1080p30", "max720p30", "max480p30",
                                           NULL};
static const char *const quality_pres[] = {"unrestricted", "max1080p30", "max720p5", NULL};
static const char *const counter[] = {"never", "auto", "always", NULL};
static const char *const gain[] = {"disabled", "agc", NULL};

const struct api_control_param api_control_leg_params[] = {
    API_PARAM_TEXT("ownerId", API_LEG_VALUE_MAX - 1),
    API_PARAM_ENUM("chosenLayout", api_res_layouts),
    API_PARAM_ENUM("defaultLayout", api_res_layouts),
    API_PARAM_ENUM("layout", api_res_layouts),
    API_PARAM_BOOL("needsActivation"),
    API_PARAM_BOOL("participantLabels"),
    API_PARAM_ENUM("presentationDisplayMode", display_modes),
    API_PARAM_BOOL("presentationContributionAllowed"),
    API_PARAM_BOOL("presentationViewingAllowed"),
    API_PARAM_BOOL("endCallAllowed"),
    API_PARAM_BOOL("muteOthersAllowed"),
    API_PARAM_BOOL("videoMuteOthersAllowed"),
    API_PARAM_BOOL("muteSelfAllowed"),
    API_PARAM_BOOL("videoMuteSelfAllowed"),
    API_PARAM_BOOL("changeLayoutAllowed"),
    API_PARAM_INT("joinToneParticipantThreshold", 0, 100),
    API_PARAM_INT("leaveToneParticipantThreshold", 0, 100),
    API_PARAM_ENUM("videoMode", video_modes),
    API_PARAM_BOOL("rxAudioMute"),
    API_PARAM_BOOL("txAudioMute"),
    API_PARAM_BOOL("rxVideoMute"),
    API_PARAM_BOOL("txVideoMute"),
    API_PARAM_ENUM("sipMediaEncryption", encryption),
    API_PARAM_INT("audioPacketSizeMs", 10, 60),
    API_PARAM_ENUM("deactivationMode", deactivation),
    API_PARAM_INT("deactivationModeTime", 0, 86400),
    API_PARAM_BOOL("telepresenceCallsAllowed"),
    API_PARAM_BOOL("sipPresentationChannelEnabled"),
    API_PARAM_ENUM("bfcpMode", bfcp),
    API_PARAM_BOOL("disconnectOthersAllowed"),
    API_PARAM_BOOL("addParticipantAllowed"),
    API_PARAM_ENUM("qualityMain", quality_main),
    API_PARAM_ENUM("qualityPresentation", quality_pres),
    API_PARAM_ENUM("participantCounter", counter),
    API_PARAM_TEXT("nameLabelOverride", 50),
    API_PARAM_INT("importance", 0, 2147483647),
    API_PARAM_BOOL("controlRemoteCameraAllowed"),
    API_PARAM_ENUM("audioGainMode", gain),
};
_Static_assert(sizeof(api_control_leg_params) / sizeof(api_control_leg_params[0]) == API_LEG_PARAMS,
               "API_LEG_PARAMS is the number of leg parameters");
_Static_assert(API_LEGP_NEEDS_ACTIVATION == 4 && API_LEGP_PARTICIPANT_LABELS == 5 &&
                   API_LEGP_MUTE_SELF == 12 && API_LEGP_VIDEO_MUTE_SELF == 13 &&
                   API_LEGP_RX_AUDIO == 18 && API_LEGP_TX_AUDIO == 19 && API_LEGP_RX_VIDEO == 20 &&
                   API_LEGP_TX_VIDEO == 21 && API_LEGP_DEACTIVATION_MODE == 24 &&
                   API_LEGP_DEACTIVATION_MODE_TIME == 25 && API_LEGP_LABEL == 34,
               "control_values.h's leg parameter numbers follow api_control_leg_params");

static bool is_true(const char *v)
{
    return strcmp(v, "true") == 0;
}

static bool is_false(const char *v)
{
    return strcmp(v, "false") == 0;
}

const char *api_control_leg_param(size_t i)
{
    return i < API_LEG_PARAMS ? api_control_leg_params[i].name : "";
}

const char *api_control_leg_value(const struct api_leg *l, size_t i)
{
    return l->conf[i][0] ? l->conf[i] : l->prof.v[i];
}

static unsigned mute_of(const struct api_leg *l)
{
    return (is_true(api_control_leg_value(l, API_LEGP_RX_AUDIO)) ? MEDIA_MUTE_RX_AUDIO : 0) |
           (is_true(api_control_leg_value(l, API_LEGP_RX_VIDEO)) ? MEDIA_MUTE_RX_VIDEO : 0) |
           (is_true(api_control_leg_value(l, API_LEGP_TX_AUDIO)) ? MEDIA_MUTE_TX_AUDIO : 0) |
           (is_true(api_control_leg_value(l, API_LEGP_TX_VIDEO)) ? MEDIA_MUTE_TX_VIDEO : 0);
}

/* What the leg's page may do and shows (lock held): CMS's muteSelfAllowed and
 * videoMuteSelfAllowed are true unless a level says false; the call's allowAllMuteSelf lets
 * everyone mute and unmute their own audio. */
void api_control_leg_view(const struct api *api, const struct api_leg *l, struct api_guest_view *v)
{
    const struct api_call *c = api_calls_find_call(api->calls, l->call);

    v->label = l->conf[API_LEGP_LABEL];
    v->mute = l->mute;
    v->lobby = l->deactivated;
    v->mute_self = !is_false(api_control_leg_value(l, API_LEGP_MUTE_SELF)) ||
                   (c && is_true(c->conf[API_CALLP_ALL_MUTE_SELF]));
    v->video_mute_self = !is_false(api_control_leg_value(l, API_LEGP_VIDEO_MUTE_SELF));
    v->labels = !is_false(api_control_leg_value(l, API_LEGP_PARTICIPANT_LABELS));
}

void api_control_leg_refresh(const struct api *api, struct api_leg *l)
{
    unsigned mute = mute_of(l);
    unsigned media = l->deactivated ? MEDIA_MUTE_RX_AUDIO | MEDIA_MUTE_RX_VIDEO |
                                          MEDIA_MUTE_TX_AUDIO | MEDIA_MUTE_TX_VIDEO
                                    : mute;

    /* recorded only once the media thread has it, so that a refusal (-ENOMEM) is tried again
     * at the next refresh rather than shown deactivated while its media flows */
    if (media != l->media_mute &&
        (!l->has_media || !api->media || media_leg_set_mute(api->media, l->id, media) == 0))
        l->media_mute = media;
    l->mute = mute;
    if (l->webrtc) {
        struct api_guest_view v;

        api_control_leg_view(api, l, &v);
        guest_control(api, l->id, &v);
    }
}
