/* api/res/profiles.c: callLegProfiles (with /usage), callProfiles, dtmfProfiles,
 * callBrandingProfiles, ivrBrandingProfiles, dialInSecurityProfiles, compatibilityProfiles,
 * userProfiles, layoutTemplates (with /template) and /system/profiles, on the generic resource
 * engine, and the values in effect for a coSpace that the join path enforces.
 *
 * DESIGN: a profile parameter that is not set inherits from the level above (CMS: call leg >
 * access method > coSpace > tenant > system), so a profile stores no defaults except where the
 * API reference names one for a POST (callProfiles' recordingMode and streamingMode). Deleting
 * a profile in use is allowed, as on CMS (usageFilter=unreferenced exists to check first): the
 * references to it are cleared by the schema (schema/0005_profiles.sql). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/res/profiles.h"
#include "api/xml.h"

static const char *const e_presentationDisplayMode[] = {"dualStream", "singleStream", NULL};
static const char *const e_videoMode[] = {"auto", "disabled", NULL};
static const char *const e_sipMediaEncryption[] = {"optional", "required", "prohibited", NULL};
static const char *const e_deactivationMode[] = {"deactivate", "disconnect", "remainActivated",
                                                 NULL};
static const char *const e_bfcpMode[] = {"serverOnly", "serverAndClient", NULL};
static const char *const e_qualityMain[] = {"unrestricted", "max1080p30", "max720p30", "max480p30",
                                            NULL};
static const char *const e_qualityPresentation[] = {"unrestricted", "max1080p30", "max720p5", NULL};
static const char *const e_participantCounter[] = {"never", "auto", "always", NULL};
static const char *const e_audioGainMode[] = {"disabled", "agc", NULL};
static const char *const e_lockMode[] = {"all", "needsActivation", NULL};
static const char *const e_recordingMode[] = {"disabled", "manual", "automatic", NULL};
static const char *const e_streamingMode[] = {"disabled", "manual", "automatic", NULL};
static const char *const e_passcodeMode[] = {"required", "timeout", NULL};
static const char *const e_lyncConferenceMode[] = {"dualHomeCluster", "dualHomeCallBridge",
                                                   "gateway", NULL};
static const char *const e_sipMediaPayloadTypeMode[] = {"auto", "broadsoft", NULL};
static const char *const e_chromeWebRtcVideoCodec[] = {"auto", "avoidH264", NULL};
static const char *const e_chromeWebRtcH264interopMode[] = {"auto", "none", NULL};
static const char *const e_h264CHPMode[] = {"auto", "basic", NULL};
static const char *const e_distributionLinkMediaTraversal[] = {"enabled", "disabled", NULL};

static const struct api_field call_leg_profile_fields[] = {
    {.param = "name", .col = STORE_CLP_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "needsActivation", .col = STORE_CLP_NEEDS_ACTIVATION, .kind = AK_BOOL},
    {.param = "defaultLayout",
     .col = STORE_CLP_DEFAULT_LAYOUT,
     .kind = AK_ENUM,
     .enums = api_cospace_layouts},
    {.param = "changeLayoutAllowed", .col = STORE_CLP_CHANGE_LAYOUT_ALLOWED, .kind = AK_BOOL},
    {.param = "participantLabels", .col = STORE_CLP_PARTICIPANT_LABELS, .kind = AK_BOOL},
    {.param = "presentationDisplayMode",
     .col = STORE_CLP_PRESENTATION_DISPLAY_MODE,
     .kind = AK_ENUM,
     .enums = e_presentationDisplayMode},
    {.param = "presentationContributionAllowed",
     .col = STORE_CLP_PRESENTATION_CONTRIBUTION_ALLOWED,
     .kind = AK_BOOL},
    {.param = "presentationViewingAllowed",
     .col = STORE_CLP_PRESENTATION_VIEWING_ALLOWED,
     .kind = AK_BOOL},
    {.param = "endCallAllowed", .col = STORE_CLP_END_CALL_ALLOWED, .kind = AK_BOOL},
    {.param = "muteOthersAllowed", .col = STORE_CLP_MUTE_OTHERS_ALLOWED, .kind = AK_BOOL},
    {.param = "videoMuteOthersAllowed",
     .col = STORE_CLP_VIDEO_MUTE_OTHERS_ALLOWED,
     .kind = AK_BOOL},
    {.param = "muteSelfAllowed", .col = STORE_CLP_MUTE_SELF_ALLOWED, .kind = AK_BOOL},
    {.param = "videoMuteSelfAllowed", .col = STORE_CLP_VIDEO_MUTE_SELF_ALLOWED, .kind = AK_BOOL},
    {.param = "joinToneParticipantThreshold",
     .col = STORE_CLP_JOIN_TONE_PARTICIPANT_THRESHOLD,
     .kind = AK_INT,
     .min = 0,
     .max = 100},
    {.param = "leaveToneParticipantThreshold",
     .col = STORE_CLP_LEAVE_TONE_PARTICIPANT_THRESHOLD,
     .kind = AK_INT,
     .min = 0,
     .max = 100},
    {.param = "videoMode", .col = STORE_CLP_VIDEO_MODE, .kind = AK_ENUM, .enums = e_videoMode},
    {.param = "rxAudioMute", .col = STORE_CLP_RX_AUDIO_MUTE, .kind = AK_BOOL},
    {.param = "txAudioMute", .col = STORE_CLP_TX_AUDIO_MUTE, .kind = AK_BOOL},
    {.param = "rxVideoMute", .col = STORE_CLP_RX_VIDEO_MUTE, .kind = AK_BOOL},
    {.param = "txVideoMute", .col = STORE_CLP_TX_VIDEO_MUTE, .kind = AK_BOOL},
    {.param = "sipMediaEncryption",
     .col = STORE_CLP_SIP_MEDIA_ENCRYPTION,
     .kind = AK_ENUM,
     .enums = e_sipMediaEncryption},
    {.param = "audioPacketSizeMs",
     .col = STORE_CLP_AUDIO_PACKET_SIZE_MS,
     .kind = AK_INT,
     .min = 10,
     .max = 40},
    {.param = "deactivationMode",
     .col = STORE_CLP_DEACTIVATION_MODE,
     .kind = AK_ENUM,
     .enums = e_deactivationMode},
    {.param = "deactivationModeTime",
     .col = STORE_CLP_DEACTIVATION_MODE_TIME,
     .kind = AK_INT,
     .min = 0,
     .max = 86400},
    {.param = "telepresenceCallsAllowed",
     .col = STORE_CLP_TELEPRESENCE_CALLS_ALLOWED,
     .kind = AK_BOOL},
    {.param = "sipPresentationChannelEnabled",
     .col = STORE_CLP_SIP_PRESENTATION_CHANNEL_ENABLED,
     .kind = AK_BOOL},
    {.param = "bfcpMode", .col = STORE_CLP_BFCP_MODE, .kind = AK_ENUM, .enums = e_bfcpMode},
    {.param = "callLockAllowed", .col = STORE_CLP_CALL_LOCK_ALLOWED, .kind = AK_BOOL},
    {.param = "setImportanceAllowed", .col = STORE_CLP_SET_IMPORTANCE_ALLOWED, .kind = AK_BOOL},
    {.param = "allowAllMuteSelfAllowed",
     .col = STORE_CLP_ALLOW_ALL_MUTE_SELF_ALLOWED,
     .kind = AK_BOOL},
    {.param = "allowAllPresentationContributionAllowed",
     .col = STORE_CLP_ALLOW_ALL_PRESENTATION_CONTRIBUTION_ALLOWED,
     .kind = AK_BOOL},
    {.param = "changeJoinAudioMuteOverrideAllowed",
     .col = STORE_CLP_CHANGE_JOIN_AUDIO_MUTE_OVERRIDE_ALLOWED,
     .kind = AK_BOOL},
    {.param = "recordingControlAllowed",
     .col = STORE_CLP_RECORDING_CONTROL_ALLOWED,
     .kind = AK_BOOL},
    {.param = "streamingControlAllowed",
     .col = STORE_CLP_STREAMING_CONTROL_ALLOWED,
     .kind = AK_BOOL},
    {.param = "maxCallDurationTime",
     .col = STORE_CLP_MAX_CALL_DURATION_TIME,
     .kind = AK_INT,
     .min = 1,
     .max = 2147483647},
    {.param = "qualityMain",
     .col = STORE_CLP_QUALITY_MAIN,
     .kind = AK_ENUM,
     .enums = e_qualityMain},
    {.param = "qualityPresentation",
     .col = STORE_CLP_QUALITY_PRESENTATION,
     .kind = AK_ENUM,
     .enums = e_qualityPresentation},
    {.param = "participantCounter",
     .col = STORE_CLP_PARTICIPANT_COUNTER,
     .kind = AK_ENUM,
     .enums = e_participantCounter},
    {.param = "controlRemoteCameraAllowed",
     .col = STORE_CLP_CONTROL_REMOTE_CAMERA_ALLOWED,
     .kind = AK_BOOL},
    {.param = "layoutTemplate",
     .col = STORE_CLP_LAYOUT_TEMPLATE,
     .kind = AK_REF,
     .ref = &store_table_layout_template,
     .ref_missing = "layoutTemplateDoesNotExist"},
    {.param = "audioGainMode",
     .col = STORE_CLP_AUDIO_GAIN_MODE,
     .kind = AK_ENUM,
     .enums = e_audioGainMode},
    {.param = "disconnectOthersAllowed",
     .col = STORE_CLP_DISCONNECT_OTHERS_ALLOWED,
     .kind = AK_BOOL},
    {.param = "addParticipantAllowed", .col = STORE_CLP_ADD_PARTICIPANT_ALLOWED, .kind = AK_BOOL},
};
static const struct api_field call_profile_fields[] = {
    {.param = "participantLimit",
     .col = STORE_CP_PARTICIPANT_LIMIT,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = 1,
     .max = 1000000},
    {.param = "locked", .col = STORE_CP_LOCKED, .kind = AK_BOOL},
    {.param = "lockMode", .col = STORE_CP_LOCK_MODE, .kind = AK_ENUM, .enums = e_lockMode},
    {.param = "recordingMode",
     .col = STORE_CP_RECORDING_MODE,
     .kind = AK_ENUM,
     .enums = e_recordingMode,
     .dflt = "manual"},
    {.param = "streamingMode",
     .col = STORE_CP_STREAMING_MODE,
     .kind = AK_ENUM,
     .enums = e_streamingMode,
     .dflt = "manual"},
    {.param = "sipRecorderUri", .col = STORE_CP_SIP_RECORDER_URI, .kind = AK_TEXT},
    {.param = "sipStreamerUri", .col = STORE_CP_SIP_STREAMER_URI, .kind = AK_TEXT},
    {.param = "passcodeMode",
     .col = STORE_CP_PASSCODE_MODE,
     .kind = AK_ENUM,
     .enums = e_passcodeMode},
    {.param = "passcodeTimeout",
     .col = STORE_CP_PASSCODE_TIMEOUT,
     .kind = AK_INT,
     .min = 1,
     .max = 3600},
    {.param = "gatewayAudioCallOptimization",
     .col = STORE_CP_GATEWAY_AUDIO_CALL_OPTIMIZATION,
     .kind = AK_BOOL},
    {.param = "lyncConferenceMode",
     .col = STORE_CP_LYNC_CONFERENCE_MODE,
     .kind = AK_ENUM,
     .enums = e_lyncConferenceMode},
};
static const struct api_field dtmf_profile_fields[] = {
    {.param = "lockCall", .col = STORE_DTMF_LOCK_CALL, .kind = AK_TEXT, .max_len = 32},
    {.param = "unlockCall", .col = STORE_DTMF_UNLOCK_CALL, .kind = AK_TEXT, .max_len = 32},
    {.param = "nextLayout", .col = STORE_DTMF_NEXT_LAYOUT, .kind = AK_TEXT, .max_len = 32},
    {.param = "previousLayout", .col = STORE_DTMF_PREVIOUS_LAYOUT, .kind = AK_TEXT, .max_len = 32},
    {.param = "muteSelfAudio", .col = STORE_DTMF_MUTE_SELF_AUDIO, .kind = AK_TEXT, .max_len = 32},
    {.param = "unmuteSelfAudio",
     .col = STORE_DTMF_UNMUTE_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "toggleMuteSelfAudio",
     .col = STORE_DTMF_TOGGLE_MUTE_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "muteAllExceptSelfAudio",
     .col = STORE_DTMF_MUTE_ALL_EXCEPT_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "unmuteAllExceptSelfAudio",
     .col = STORE_DTMF_UNMUTE_ALL_EXCEPT_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "startRecording", .col = STORE_DTMF_START_RECORDING, .kind = AK_TEXT, .max_len = 32},
    {.param = "stopRecording", .col = STORE_DTMF_STOP_RECORDING, .kind = AK_TEXT, .max_len = 32},
    {.param = "startStreaming", .col = STORE_DTMF_START_STREAMING, .kind = AK_TEXT, .max_len = 32},
    {.param = "stopStreaming", .col = STORE_DTMF_STOP_STREAMING, .kind = AK_TEXT, .max_len = 32},
    {.param = "allowAllMuteSelf",
     .col = STORE_DTMF_ALLOW_ALL_MUTE_SELF,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "cancelAllowAllMuteSelf",
     .col = STORE_DTMF_CANCEL_ALLOW_ALL_MUTE_SELF,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "allowAllPresentationContribution",
     .col = STORE_DTMF_ALLOW_ALL_PRESENTATION_CONTRIBUTION,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "cancelAllowAllPresentationContribution",
     .col = STORE_DTMF_CANCEL_ALLOW_ALL_PRESENTATION_CONTRIBUTION,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "muteAllNewAudio",
     .col = STORE_DTMF_MUTE_ALL_NEW_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "unmuteAllNewAudio",
     .col = STORE_DTMF_UNMUTE_ALL_NEW_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "defaultMuteAllNewAudio",
     .col = STORE_DTMF_DEFAULT_MUTE_ALL_NEW_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "muteAllNewAndAllExceptSelfAudio",
     .col = STORE_DTMF_MUTE_ALL_NEW_AND_ALL_EXCEPT_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "unmuteAllNewAndAllExceptSelfAudio",
     .col = STORE_DTMF_UNMUTE_ALL_NEW_AND_ALL_EXCEPT_SELF_AUDIO,
     .kind = AK_TEXT,
     .max_len = 32},
    {.param = "endCall", .col = STORE_DTMF_END_CALL, .kind = AK_TEXT, .max_len = 32},
    {.param = "getTotalParticipantCount",
     .col = STORE_DTMF_GET_TOTAL_PARTICIPANT_COUNT,
     .kind = AK_TEXT,
     .max_len = 32},
};
static const struct api_field call_branding_profile_fields[] = {
    {.param = "invitationTemplate",
     .col = STORE_CBP_INVITATION_TEMPLATE,
     .kind = AK_TEXT,
     .flags = AF_LIST},
    {.param = "resourceLocation",
     .col = STORE_CBP_RESOURCE_LOCATION,
     .kind = AK_TEXT,
     .flags = AF_LIST},
};
static const struct api_field ivr_branding_profile_fields[] = {
    {.param = "resourceLocation",
     .col = STORE_IBP_RESOURCE_LOCATION,
     .kind = AK_TEXT,
     .flags = AF_LIST},
};
static const struct api_field dial_in_security_profile_fields[] = {
    {.param = "name", .col = STORE_DISP_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "minPasscodeLength",
     .col = STORE_DISP_MIN_PASSCODE_LENGTH,
     .kind = AK_INT,
     .min = 0,
     .max = 20},
    {.param = "blankPasscodeAllowed", .col = STORE_DISP_BLANK_PASSCODE_ALLOWED, .kind = AK_BOOL},
};
static const struct api_field compatibility_profile_fields[] = {
    {.param = "sipUdt", .col = STORE_COMP_SIP_UDT, .kind = AK_BOOL},
    {.param = "sipMultistream", .col = STORE_COMP_SIP_MULTISTREAM, .kind = AK_BOOL},
    {.param = "sipMediaPayloadTypeMode",
     .col = STORE_COMP_SIP_MEDIA_PAYLOAD_TYPE_MODE,
     .kind = AK_ENUM,
     .enums = e_sipMediaPayloadTypeMode},
    {.param = "chromeWebRtcVideoCodec",
     .col = STORE_COMP_CHROME_WEB_RTC_VIDEO_CODEC,
     .kind = AK_ENUM,
     .enums = e_chromeWebRtcVideoCodec},
    {.param = "chromeWebRtcH264interopMode",
     .col = STORE_COMP_CHROME_WEB_RTC_H264INTEROP_MODE,
     .kind = AK_ENUM,
     .enums = e_chromeWebRtcH264interopMode},
    {.param = "h264CHPMode",
     .col = STORE_COMP_H264_CHP_MODE,
     .kind = AK_ENUM,
     .enums = e_h264CHPMode},
    {.param = "sipH224", .col = STORE_COMP_SIP_H224, .kind = AK_BOOL},
    {.param = "distributionLinkMediaTraversal",
     .col = STORE_COMP_DISTRIBUTION_LINK_MEDIA_TRAVERSAL,
     .kind = AK_ENUM,
     .enums = e_distributionLinkMediaTraversal},
};
static const struct api_field user_profile_fields[] = {
    {.param = "canCreateCoSpaces", .col = STORE_UP_CAN_CREATE_CO_SPACES, .kind = AK_BOOL},
    {.param = "canCreateCalls", .col = STORE_UP_CAN_CREATE_CALLS, .kind = AK_BOOL},
    {.param = "canUseExternalDevices", .col = STORE_UP_CAN_USE_EXTERNAL_DEVICES, .kind = AK_BOOL},
    {.param = "canMakePhoneCalls", .col = STORE_UP_CAN_MAKE_PHONE_CALLS, .kind = AK_BOOL},
    {.param = "userToUserMessagingAllowed",
     .col = STORE_UP_USER_TO_USER_MESSAGING_ALLOWED,
     .kind = AK_BOOL},
    {.param = "hasLicense", .col = STORE_UP_HAS_LICENSE, .kind = AK_BOOL},
};
static const struct api_field layout_template_fields[] = {
    {.param = "name", .col = STORE_LT_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "template",
     .col = STORE_LT_TEMPLATE,
     .kind = AK_TEXT,
     .flags = AF_HIDDEN | AF_READONLY},
};

/* ---- checks ------------------------------------------------------------------------------- */

/* The parameters whose value is an HTTP or HTTPS URL (API reference: "(URL)"). */
static bool is_url_param(const char *param)
{
    static const char *const urls[] = {"invitationTemplate", "resourceLocation", "resourceArchive",
                                       "url", NULL};

    for (const char *const *u = urls; *u; u++)
        if (strcmp(param, *u) == 0)
            return true;
    return false;
}

static bool is_url(const char *v)
{
    size_t skip = strncasecmp(v, "https://", 8) == 0  ? 8
                  : strncasecmp(v, "http://", 7) == 0 ? 7
                                                      : 0;

    return skip && v[skip] && v[skip] != '/' && !strchr(v, ' ');
}

/* A DTMF sequence: digits, '*' and '#' (API reference: dtmfProfile). */
static bool is_dtmf(const char *v)
{
    return *v && strspn(v, "0123456789*#") == strlen(v);
}

int api_profiles_check(const struct api *api, struct store *st, const struct api_request *req,
                       const struct api_resource *res, struct store_row *row, bool create,
                       struct api_reply *reply)
{
    (void)api;
    (void)st;
    (void)req;
    (void)create;
    for (size_t i = 0; i < res->nfields; i++) {
        const struct api_field *f = &res->fields[i];
        const char *v = f->flags & AF_VIRTUAL ? NULL : row->v[f->col];
        bool bad = v && f->kind == AK_TEXT &&
                   (res->table == &store_table_dtmf_profile ? !is_dtmf(v)
                                                            : is_url_param(f->param) && !is_url(v));

        if (bad) {
            api_reply_param_error(reply, f->param, "invalidValue");
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- the resources ------------------------------------------------------------------------ */
static const struct api_filter usage_filter[] = {{.param = "usageFilter"}};
static const struct api_filter name_filters[] = {{.param = "filter"}, {.param = "usageFilter"}};

#define PROFILE(var, coll, elem, tbl, flds, filt)                                                  \
    const struct api_resource var = {                                                              \
        .collection = coll,                                                                        \
        .element = elem,                                                                           \
        .missing = elem "DoesNotExist",                                                            \
        .in_use = elem "InUse",                                                                    \
        .table = &store_table_##tbl,                                                               \
        .fields = flds,                                                                            \
        .nfields = sizeof(flds) / sizeof(flds[0]),                                                 \
        .filters = filt,                                                                           \
        .nfilters = sizeof(filt) / sizeof(filt[0]),                                                \
        .page_default = API_PAGE_DEFAULT,                                                          \
        .check = api_profiles_check,                                                               \
    }

PROFILE(api_res_call_leg_profiles, "callLegProfiles", "callLegProfile", call_leg_profile,
        call_leg_profile_fields, name_filters);
PROFILE(api_res_call_profiles, "callProfiles", "callProfile", call_profile, call_profile_fields,
        usage_filter);
PROFILE(api_res_dtmf_profiles, "dtmfProfiles", "dtmfProfile", dtmf_profile, dtmf_profile_fields,
        usage_filter);
PROFILE(api_res_call_branding_profiles, "callBrandingProfiles", "callBrandingProfile",
        call_branding_profile, call_branding_profile_fields, usage_filter);
PROFILE(api_res_ivr_branding_profiles, "ivrBrandingProfiles", "ivrBrandingProfile",
        ivr_branding_profile, ivr_branding_profile_fields, usage_filter);
PROFILE(api_res_dial_in_security_profiles, "dialInSecurityProfiles", "dialInSecurityProfile",
        dial_in_security_profile, dial_in_security_profile_fields, name_filters);
PROFILE(api_res_compatibility_profiles, "compatibilityProfiles", "compatibilityProfile",
        compatibility_profile, compatibility_profile_fields, usage_filter);
PROFILE(api_res_user_profiles, "userProfiles", "userProfile", user_profile, user_profile_fields,
        usage_filter);
PROFILE(api_res_layout_templates, "layoutTemplates", "layoutTemplate", layout_template,
        layout_template_fields, name_filters);

/* ---- /callLegProfiles/<id>/usage ---------------------------------------------------------- */
#define USAGE_MAX 1000 /* tenants, and coSpaces, named in one answer; total counts them all */

static int usage_one(const char *element, const struct store_row *row, struct api_xml *x)
{
    api_xml_start(x, element);
    api_xml_attr(x, "id", row->v[STORE_COL_ID]);
    api_xml_end(x);
    return 0;
}

static int usage_cospace(const struct store_row *row, void *userdata)
{
    return usage_one("coSpace", row, userdata);
}

static int usage_tenant(const struct store_row *row, void *userdata)
{
    return usage_one("tenant", row, userdata);
}

static int write_usage(struct store *st, const char *id, struct api_xml *x)
{
    struct store_query q = {.conds = {{"callLegProfileFilter", id}}, .nconds = 1};
    struct store_row sys;
    size_t n = 0, nt = 0;
    bool global = false;
    int r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &sys);

    if (r == 0) {
        global =
            sys.v[STORE_SP_CALL_LEG_PROFILE] && strcmp(sys.v[STORE_SP_CALL_LEG_PROFILE], id) == 0;
        store_row_done(&sys);
        r = store_row_count(st, &store_table_cospace, &q, &n);
    }
    if (r == 0)
        r = store_row_count(st, &store_table_tenant, &q, &nt);
    if (r < 0)
        return r;
    api_xml_start(x, "callLegProfileUsage");
    api_xml_attr(x, "id", id);
    api_xml_attr_size(x, "total", n + nt + global);
    if (global) {
        api_xml_start(x, "global");
        api_xml_end(x);
    }
    r = store_row_list(st, &store_table_tenant, &q, 0, USAGE_MAX, usage_tenant, x);
    if (r == 0)
        r = store_row_list(st, &store_table_cospace, &q, 0, USAGE_MAX, usage_cospace, x);
    api_xml_end(x);
    return r;
}

void api_res_call_leg_profile_usage(const struct api *api, struct store *st,
                                    const struct api_request *req, const char *id,
                                    struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];
    struct api_xml *x;
    int r;

    (void)api;
    (void)req;
    if (api_parse_id(id, lid) < 0 ||
        (r = store_row_taken(st, &store_table_call_leg_profile, STORE_COL_ID, lid, NULL, false)) ==
            -ENOENT) {
        api_reply_failure(reply, 404, "callLegProfileDoesNotExist");
        return;
    }
    x = r == 0 ? api_xml_new() : NULL;
    r = r < 0 ? r : !x ? -ENOMEM : store_read_begin(st);
    if (r == 0)
        r = write_usage(st, lid, x);
    store_read_end(st);
    if (r < 0) {
        api_xml_free(x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, x);
}

/* ---- /layoutTemplates/<id>/template ------------------------------------------------------- */
#define TEMPLATE_MAX                                                                               \
    (32 * 1024) /* a layout template's JSON (CMS's own are a few KB), under API_MAX_BODY */

static int store_template(struct store *st, const char *id, const struct api_request *req,
                          struct api_reply *reply)
{
    struct store_row row = {0};
    int r = store_begin(st);

    if (r == 0 && (r = store_row_get(st, &store_table_layout_template, id, &row)) == -ENOENT)
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
    if (r == 0 && (r = store_row_set(&row, STORE_LT_TEMPLATE, req->body)) == 0 &&
        (r = store_row_update(st, &store_table_layout_template, &row)) == 0)
        r = store_commit(st);
    store_rollback(st);
    store_row_done(&row);
    if (r < 0 && r != -ENOENT)
        api_reply_err(reply, r);
    return r;
}

static void get_template(struct store *st, const char *id, struct api_reply *reply)
{
    struct store_row row;
    int r = store_row_get(st, &store_table_layout_template, id, &row);

    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    reply->status = 200;
    reply->body = strdup(row.v[STORE_LT_TEMPLATE] ? row.v[STORE_LT_TEMPLATE] : "");
    reply->len = reply->body ? strlen(reply->body) : 0;
    reply->content_type = "application/json";
    store_row_done(&row);
}

void api_res_layout_template_body(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (api_parse_id(id, lid) < 0) {
        api_reply_failure(reply, 404, "layoutTemplateDoesNotExist");
        return;
    }
    if (req->method != API_PUT) {
        get_template(st, lid, reply);
        return;
    }
    /* the whole body, as sent: no NUL inside (a text column), at most TEMPLATE_MAX bytes */
    if (req->body_len == 0 || req->body_len > TEMPLATE_MAX || strlen(req->body) != req->body_len) {
        api_reply_param_error(reply, "template", "invalidValue");
        return;
    }
    if (store_template(st, lid, req, reply) == 0) {
        api_changed(api);
        reply->status = 200;
    }
}

/* ---- /system/profiles --------------------------------------------------------------------- */
static const struct api_field system_profile_fields[] = {
    {.param = "callLegProfile",
     .col = STORE_SP_CALL_LEG_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_leg_profile,
     .ref_missing = "callLegProfileDoesNotExist"},
    {.param = "callProfile",
     .col = STORE_SP_CALL_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_profile,
     .ref_missing = "callProfileDoesNotExist"},
    {.param = "dtmfProfile",
     .col = STORE_SP_DTMF_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dtmf_profile,
     .ref_missing = "dtmfProfileDoesNotExist"},
    {.param = "userProfile",
     .col = STORE_SP_USER_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_user_profile,
     .ref_missing = "userProfileDoesNotExist"},
    {.param = "ivrBrandingProfile",
     .col = STORE_SP_IVR_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_ivr_branding_profile,
     .ref_missing = "ivrBrandingProfileDoesNotExist"},
    {.param = "callBrandingProfile",
     .col = STORE_SP_CALL_BRANDING_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_call_branding_profile,
     .ref_missing = "callBrandingProfileDoesNotExist"},
    {.param = "compatibilityProfile",
     .col = STORE_SP_COMPATIBILITY_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_compatibility_profile,
     .ref_missing = "compatibilityProfileDoesNotExist"},
    {.param = "dialInSecurityProfile",
     .col = STORE_SP_DIAL_IN_SECURITY_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_dial_in_security_profile,
     .ref_missing = "dialInSecurityProfileDoesNotExist"},
    {.param = "webBridgeProfile",
     .col = STORE_SP_WEB_BRIDGE_PROFILE,
     .kind = AK_REF,
     .ref = &store_table_web_bridge_profile,
     .ref_missing = "webBridgeProfileDoesNotExist"},
};

static const struct api_resource system_profiles = {
    .collection = "system/profiles",
    .element = "profiles",
    .missing = "objectDoesNotExist",
    .table = &store_table_system_profile,
    .fields = system_profile_fields,
    .nfields = sizeof(system_profile_fields) / sizeof(system_profile_fields[0]),
};

static void get_system_profiles(struct store *st, struct api_reply *reply)
{
    struct store_row row;
    struct api_xml *x;
    int r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &row);

    if (r < 0) {
        api_reply_err(reply, r == -ENOENT ? -EIO : r);
        return;
    }
    x = api_reply_xml_new(reply);
    if (x) {
        api_xml_start(x, "profiles");
        for (size_t i = 0; i < system_profiles.nfields; i++)
            if (row.v[system_profile_fields[i].col])
                api_xml_text(x, system_profile_fields[i].param,
                             row.v[system_profile_fields[i].col]);
        api_xml_end(x);
        api_reply_xml(reply, x);
    }
    store_row_done(&row);
}

/* GET shows the ids set; PUT and POST (CMS takes both) set or, with an empty value, unset. */
void api_res_system_profiles(const struct api *api, struct store *st, const struct api_request *req,
                             const char *id, struct api_reply *reply)
{
    struct api_request put = *req;

    (void)id;
    if (req->method == API_GET || req->method == API_HEAD) {
        get_system_profiles(st, reply);
        return;
    }
    put.method = API_PUT;
    api_res_generic(api, st, &put, &system_profiles, API_SYSTEM_PROFILE_ID, reply);
    reply->location[0] = '\0';
}

/* ---- values in effect --------------------------------------------------------------------- */

const char *api_profiles_first(const struct store_row *const *rows, size_t n, size_t col)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] && rows[i]->v[col])
            return rows[i]->v[col];
    return NULL;
}

/* Which profile column each level has for one kind of profile. */
struct kind_cols {
    size_t cospace, tenant, sys;
    const struct store_table *t;
};

static const struct kind_cols call_profile_cols = {STORE_COSPACE_CALL_PROFILE,
                                                   STORE_TENANT_CALL_PROFILE, STORE_SP_CALL_PROFILE,
                                                   &store_table_call_profile};
static const struct kind_cols dial_in_cols = {
    STORE_COSPACE_DIAL_IN, STORE_TENANT_DIAL_IN_SECURITY_PROFILE, STORE_SP_DIAL_IN_SECURITY_PROFILE,
    &store_table_dial_in_security_profile};

/* Into prof, the profile of kind k in effect for the coSpace cs: its own, else its tenant's,
 * else the system's; prof stays empty when no level names one. */
static int profile_in_effect(struct store *st, const struct store_row *cs,
                             const struct kind_cols *k, struct store_row *prof)
{
    struct store_row tenant = {0}, sys = {0};
    const char *pid = cs->v[k->cospace];
    int r = 0;

    if (!pid && cs->v[STORE_COSPACE_TENANT] &&
        (r = store_row_get(st, &store_table_tenant, cs->v[STORE_COSPACE_TENANT], &tenant)) == 0)
        pid = tenant.v[k->tenant];
    if (r == 0 && !pid &&
        (r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &sys)) == 0)
        pid = sys.v[k->sys];
    if (r == 0 && pid)
        r = store_row_get(st, k->t, pid, prof);
    store_row_done(&tenant);
    store_row_done(&sys);
    return r;
}

/* The integer column col of the profile of kind k in effect for the coSpace row cs (NULL: the
 * stored coSpace cospace_id). 0 with *ret, dflt when no level sets it. */
static int effective_int(struct store *st, const char *cospace_id, const struct store_row *cs,
                         const struct kind_cols *k, size_t col, int64_t dflt, int64_t *ret)
{
    struct store_row stored = {0}, prof = {0};
    int r = cs ? 0 : store_row_get(st, &store_table_cospace, cospace_id, &stored);

    if (r == 0)
        r = profile_in_effect(st, cs ? cs : &stored, k, &prof);
    if (r == 0)
        *ret = prof.v[col] ? strtoll(prof.v[col], NULL, 10) : dflt;
    store_row_done(&stored);
    store_row_done(&prof);
    return r;
}

int api_profiles_participant_limit(struct store *st, const char *cospace_id, int64_t *ret_limit)
{
    return effective_int(st, cospace_id, NULL, &call_profile_cols, STORE_CP_PARTICIPANT_LIMIT, 0,
                         ret_limit);
}

int api_profiles_min_passcode(struct store *st, const char *cospace_id,
                              const struct store_row *cospace, int64_t *ret_min)
{
    return effective_int(st, cospace_id, cospace, &dial_in_cols, STORE_DISP_MIN_PASSCODE_LENGTH, 0,
                         ret_min);
}

int api_profiles_blank_passcode_allowed(struct store *st, const char *cospace_id, bool *ret)
{
    int64_t v;
    int r = effective_int(st, cospace_id, NULL, &dial_in_cols, STORE_DISP_BLANK_PASSCODE_ALLOWED, 1,
                          &v);

    if (r == 0)
        *ret = v != 0;
    return r;
}
