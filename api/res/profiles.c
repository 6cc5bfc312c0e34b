/* api/res/profiles.c: callLegProfiles, callProfiles, dtmfProfiles, callBrandingProfiles,
 * ivrBrandingProfiles, dialInSecurityProfiles, compatibilityProfiles, userProfiles and
 * layoutTemplates on the generic resource engine: their parameters, kinds and checks
 * (api/res/profile_views.c has their usage and the system level; api/res/profiles_effect.c the
 * values in effect).
 *
 * DESIGN: a profile parameter that is not set inherits from the level above (CMS: call leg >
 * access method > coSpace > tenant > system), so a profile stores no defaults except where the
 * API reference names one for a POST (callProfiles' recordingMode and streamingMode). Deleting
 * a profile in use is allowed, as on CMS (usageFilter=unreferenced exists to check first): the
 * references to it are cleared by the schema (schema/0006_profiles.sql). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "api/res/leg_profile.h"
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
     .enums = api_res_layouts},
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

/* c2w: a web bridge's url in CMS 3.x is the Call Bridge's C2W connection to Web Bridge 3
 * (c2w://join.example.com:9999, as the CMS 3 deployment guides and andrei-madalin's Ansible role
 * POST it); only that parameter takes it. */
static bool is_url(const char *v, bool c2w)
{
    size_t skip = strncasecmp(v, "https://", 8) == 0        ? 8
                  : strncasecmp(v, "http://", 7) == 0       ? 7
                  : c2w && strncasecmp(v, "c2w://", 6) == 0 ? 6
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
    bool is_web_bridge = res->table == &store_table_web_bridge;

    (void)api;
    (void)st;
    (void)req;
    (void)create;
    for (size_t i = 0; i < res->nfields; i++) {
        const struct api_field *f = &res->fields[i];
        const char *v = f->flags & AF_VIRTUAL ? NULL : row->v[f->col];
        bool bad = v && f->kind == AK_TEXT &&
                   (res->table == &store_table_dtmf_profile
                        ? !is_dtmf(v)
                        : is_url_param(f->param) && !is_url(v, is_web_bridge));

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

/* A call leg profile written or deleted acts at once on the legs it governs (leg_profile.c). */
const struct api_resource api_res_call_leg_profiles = {
    .collection = "callLegProfiles",
    .element = "callLegProfile",
    .missing = "callLegProfileDoesNotExist",
    .in_use = "callLegProfileInUse",
    .table = &store_table_call_leg_profile,
    .fields = call_leg_profile_fields,
    .nfields = sizeof(call_leg_profile_fields) / sizeof(call_leg_profile_fields[0]),
    .filters = name_filters,
    .nfilters = sizeof(name_filters) / sizeof(name_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = api_profiles_check,
    .after_write = api_leg_profile_written,
    .after_delete = api_leg_profile_written,
};
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
/* templateSize: the bytes of the template body, when it has one (apiary.apib:4872). */
static int layout_template_show(struct store *st, const struct store_row *row, bool list,
                                struct api_xml *x)
{
    const char *t = row->v[STORE_LT_TEMPLATE];

    (void)st;
    (void)list;
    if (t)
        api_xml_int(x, "templateSize", (int64_t)strlen(t));
    return 0;
}

const struct api_resource api_res_layout_templates = {
    .collection = "layoutTemplates",
    .element = "layoutTemplate",
    .missing = "layoutTemplateDoesNotExist",
    .in_use = "layoutTemplateInUse",
    .table = &store_table_layout_template,
    .fields = layout_template_fields,
    .nfields = sizeof(layout_template_fields) / sizeof(layout_template_fields[0]),
    .filters = name_filters,
    .nfilters = sizeof(name_filters) / sizeof(name_filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .check = api_profiles_check,
    .show = layout_template_show,
};
