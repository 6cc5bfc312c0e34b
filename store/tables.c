/* store/tables.c: the configuration tables as both backends name them: each table's name, its
 * columns in the order of enum store_<table>_col (store/store.h) and their storage types ('t'
 * text, 'i' integer, 'b' blob; store/db.h says what each is on either backend). Only store/
 * knows these names; api/ refers to a table by its struct and to a column by its number. The
 * schema is in schema/ (SQLite) and schema/pg/ (PostgreSQL). */
#include "store/store.h"

static const char *const tenant_cols[] = {"id",
                                          "name",
                                          "tenant_group",
                                          "participant_limit",
                                          "call_leg_profile",
                                          "call_profile",
                                          "dtmf_profile",
                                          "ivr_branding_profile",
                                          "call_branding_profile",
                                          "user_profile",
                                          "dial_in_security_profile",
                                          "web_bridge_profile"};
const struct store_table store_table_tenant = {"tenant", tenant_cols, "tttitttttttt",
                                               STORE_TENANT__N};

static const char *const group_cols[] = {"id",
                                         "name",
                                         "load_balancing_enabled",
                                         "load_balance_lync_calls",
                                         "load_balance_outgoing_calls",
                                         "load_balance_user_calls",
                                         "load_balance_indirect_calls"};
const struct store_table store_table_call_bridge_group = {"call_bridge_group", group_cols,
                                                          "ttiiiii", STORE_GROUP__N};

static const char *const bridge_cols[] = {"id", "name", "address", "sip_domain",
                                          "call_bridge_group"};
const struct store_table store_table_call_bridge = {"call_bridge", bridge_cols, "ttttt",
                                                    STORE_BRIDGE__N};

static const char *const cospace_cols[] = {"id",
                                           "name",
                                           "auto_generated",
                                           "uri",
                                           "secondary_uri",
                                           "call_id",
                                           "cdr_tag",
                                           "passcode",
                                           "default_layout",
                                           "tenant",
                                           "call_leg_profile",
                                           "call_profile",
                                           "call_branding_profile",
                                           "dial_in_security_profile",
                                           "secret",
                                           "non_member_access",
                                           "owner_jid",
                                           "stream_url",
                                           "owner_ad_guid",
                                           "meeting_scheduler",
                                           "pane_placement_highest_importance",
                                           "pane_placement_self_pane_mode"};
const struct store_table store_table_cospace = {"cospace", cospace_cols, "ttittttttttttttittttit",
                                                STORE_COSPACE__N};

static const char *const rule_cols[] = {"id",
                                        "domain",
                                        "priority",
                                        "resolve_to_users",
                                        "resolve_to_cospaces",
                                        "resolve_to_ivrs",
                                        "resolve_to_lync_conferences",
                                        "resolve_to_lync_simplejoin",
                                        "tenant"};
const struct store_table store_table_inbound_rule = {"inbound_dial_plan_rule", rule_cols,
                                                     "ttiiiiiit", STORE_RULE__N};

static const char *const turn_cols[] = {"id",
                                        "server_address",
                                        "client_address",
                                        "username",
                                        "password",
                                        "type",
                                        "num_registrations",
                                        "tcp_port_number_override",
                                        "call_bridge",
                                        "call_bridge_group",
                                        "use_short_term_credentials",
                                        "shared_secret"};
const struct store_table store_table_turn_server = {"turn_server", turn_cols, "ttttbtiittib",
                                                    STORE_TURN__N};

/* ---- the dial plan (schema/0005_dialplan.sql) ---------------------------------------------- */
static const char *const tgroup_cols[] = {"id"};
const struct store_table store_table_tenant_group = {"tenant_group", tgroup_cols, "t",
                                                     STORE_TGROUP__N};

static const char *const out_cols[] = {"id",
                                       "domain",
                                       "priority",
                                       "local_contact_domain",
                                       "local_from_domain",
                                       "sip_proxy",
                                       "trunk_type",
                                       "failure_action",
                                       "sip_control_encryption",
                                       "scope",
                                       "call_bridge",
                                       "call_bridge_group",
                                       "tenant",
                                       "call_routing"};
const struct store_table store_table_outbound_rule = {"outbound_dial_plan_rule", out_cols,
                                                      "ttittttttttttt", STORE_OUT__N};

static const char *const fwd_cols[] = {"id",     "match_pattern",  "destination_domain",
                                       "action", "caller_id_mode", "priority",
                                       "tenant", "uri_parameters"};
const struct store_table store_table_forwarding_rule = {"forwarding_dial_plan_rule", fwd_cols,
                                                        "tttttitt", STORE_FWD__N};

static const char *const xform_cols[] = {"id", "type", "match", "transform", "priority", "action"};
const struct store_table store_table_dial_transform = {"dial_transform", xform_cols, "ttttit",
                                                       STORE_XFORM__N};

static const char *const ivr_cols[] = {"id",
                                       "uri",
                                       "tenant",
                                       "tenant_group",
                                       "ivr_branding_profile",
                                       "resolve_cospace_call_ids",
                                       "resolve_lync_conference_ids"};
const struct store_table store_table_ivr = {"ivr", ivr_cols, "tttttii", STORE_IVR__N};

static const char *const cluster_cols[] = {"id",
                                           "unique_name",
                                           "peer_link_bit_rate",
                                           "participant_limit",
                                           "load_limit",
                                           "new_conference_load_limit_basis_points",
                                           "existing_conference_load_limit_basis_points",
                                           "max_peer_video_streams"};
const struct store_table store_table_cluster_config = {"cluster_config", cluster_cols, "ttiiiiii",
                                                       STORE_CLUSTER__N};
static const char *const xmpp_cols[] = {"id", "unique_name", "domain", "shared_secret",
                                        "server_address_override"};
const struct store_table store_table_xmpp_config = {"xmpp_config", xmpp_cols, "tttbt",
                                                    STORE_XMPP__N};
/* ---- profiles, layout templates, web bridges (schema/0006_profiles.sql) ---- */
static const char *const call_leg_profile_cols[] = {"id",
                                                    "name",
                                                    "needs_activation",
                                                    "default_layout",
                                                    "change_layout_allowed",
                                                    "participant_labels",
                                                    "presentation_display_mode",
                                                    "presentation_contribution_allowed",
                                                    "presentation_viewing_allowed",
                                                    "end_call_allowed",
                                                    "mute_others_allowed",
                                                    "video_mute_others_allowed",
                                                    "mute_self_allowed",
                                                    "video_mute_self_allowed",
                                                    "join_tone_participant_threshold",
                                                    "leave_tone_participant_threshold",
                                                    "video_mode",
                                                    "rx_audio_mute",
                                                    "tx_audio_mute",
                                                    "rx_video_mute",
                                                    "tx_video_mute",
                                                    "sip_media_encryption",
                                                    "audio_packet_size_ms",
                                                    "deactivation_mode",
                                                    "deactivation_mode_time",
                                                    "telepresence_calls_allowed",
                                                    "sip_presentation_channel_enabled",
                                                    "bfcp_mode",
                                                    "call_lock_allowed",
                                                    "set_importance_allowed",
                                                    "allow_all_mute_self_allowed",
                                                    "allow_all_presentation_contribution_allowed",
                                                    "change_join_audio_mute_override_allowed",
                                                    "recording_control_allowed",
                                                    "streaming_control_allowed",
                                                    "max_call_duration_time",
                                                    "quality_main",
                                                    "quality_presentation",
                                                    "participant_counter",
                                                    "control_remote_camera_allowed",
                                                    "layout_template",
                                                    "audio_gain_mode",
                                                    "disconnect_others_allowed",
                                                    "add_participant_allowed"};
const struct store_table store_table_call_leg_profile = {
    "call_leg_profile", call_leg_profile_cols, "ttitiitiiiiiiiiitiiiititiiitiiiiiiiitttittii",
    STORE_CLP__N};
static const char *const call_profile_cols[] = {"id",
                                                "participant_limit",
                                                "locked",
                                                "lock_mode",
                                                "recording_mode",
                                                "streaming_mode",
                                                "sip_recorder_uri",
                                                "sip_streamer_uri",
                                                "passcode_mode",
                                                "passcode_timeout",
                                                "gateway_audio_call_optimization",
                                                "lync_conference_mode"};
const struct store_table store_table_call_profile = {"call_profile", call_profile_cols,
                                                     "tiittttttiit", STORE_CP__N};
static const char *const dtmf_profile_cols[] = {"id",
                                                "lock_call",
                                                "unlock_call",
                                                "next_layout",
                                                "previous_layout",
                                                "mute_self_audio",
                                                "unmute_self_audio",
                                                "toggle_mute_self_audio",
                                                "mute_all_except_self_audio",
                                                "unmute_all_except_self_audio",
                                                "start_recording",
                                                "stop_recording",
                                                "start_streaming",
                                                "stop_streaming",
                                                "allow_all_mute_self",
                                                "cancel_allow_all_mute_self",
                                                "allow_all_presentation_contribution",
                                                "cancel_allow_all_presentation_contribution",
                                                "mute_all_new_audio",
                                                "unmute_all_new_audio",
                                                "default_mute_all_new_audio",
                                                "mute_all_new_and_all_except_self_audio",
                                                "unmute_all_new_and_all_except_self_audio",
                                                "end_call",
                                                "get_total_participant_count"};
const struct store_table store_table_dtmf_profile = {"dtmf_profile", dtmf_profile_cols,
                                                     "ttttttttttttttttttttttttt", STORE_DTMF__N};
static const char *const call_branding_profile_cols[] = {"id", "invitation_template",
                                                         "resource_location"};
const struct store_table store_table_call_branding_profile = {
    "call_branding_profile", call_branding_profile_cols, "ttt", STORE_CBP__N};
static const char *const ivr_branding_profile_cols[] = {"id", "resource_location"};
const struct store_table store_table_ivr_branding_profile = {
    "ivr_branding_profile", ivr_branding_profile_cols, "tt", STORE_IBP__N};
static const char *const dial_in_security_profile_cols[] = {"id", "name", "min_passcode_length",
                                                            "blank_passcode_allowed"};
const struct store_table store_table_dial_in_security_profile = {
    "dial_in_security_profile", dial_in_security_profile_cols, "ttii", STORE_DISP__N};
static const char *const compatibility_profile_cols[] = {"id",
                                                         "sip_udt",
                                                         "sip_multistream",
                                                         "sip_media_payload_type_mode",
                                                         "chrome_web_rtc_video_codec",
                                                         "chrome_web_rtc_h264interop_mode",
                                                         "h264_chp_mode",
                                                         "sip_h224",
                                                         "distribution_link_media_traversal"};
const struct store_table store_table_compatibility_profile = {
    "compatibility_profile", compatibility_profile_cols, "tiittttit", STORE_COMP__N};
static const char *const user_profile_cols[] = {"id",
                                                "can_create_co_spaces",
                                                "can_create_calls",
                                                "can_use_external_devices",
                                                "can_make_phone_calls",
                                                "user_to_user_messaging_allowed",
                                                "has_license"};
const struct store_table store_table_user_profile = {"user_profile", user_profile_cols, "tiiiiii",
                                                     STORE_UP__N};
static const char *const layout_template_cols[] = {"id", "name", "template"};
const struct store_table store_table_layout_template = {"layout_template", layout_template_cols,
                                                        "ttt", STORE_LT__N};
static const char *const web_bridge_profile_cols[] = {"id",
                                                      "name",
                                                      "resource_archive",
                                                      "allow_passcodes",
                                                      "allow_secrets",
                                                      "user_portal_enabled",
                                                      "allow_unauthenticated_guests",
                                                      "resolve_co_space_call_ids",
                                                      "resolve_lync_conference_ids",
                                                      "resolve_co_space_uris"};
const struct store_table store_table_web_bridge_profile = {
    "web_bridge_profile", web_bridge_profile_cols, "tttiiiiiit", STORE_WBP__N};
static const char *const web_bridge_cols[] = {
    "id", "url", "tenant", "call_bridge", "call_bridge_group", "web_bridge_profile"};
const struct store_table store_table_web_bridge = {"web_bridge", web_bridge_cols, "tttttt",
                                                   STORE_WB__N};
static const char *const system_profile_cols[] = {"id",
                                                  "call_leg_profile",
                                                  "call_profile",
                                                  "dtmf_profile",
                                                  "user_profile",
                                                  "ivr_branding_profile",
                                                  "call_branding_profile",
                                                  "compatibility_profile",
                                                  "dial_in_security_profile",
                                                  "web_bridge_profile"};
const struct store_table store_table_system_profile = {"system_profile", system_profile_cols,
                                                       "tttttttttt", STORE_SP__N};
static const char *const access_cols[] = {"id",
                                          "cospace",
                                          "uri",
                                          "call_id",
                                          "passcode",
                                          "name",
                                          "call_leg_profile",
                                          "secret",
                                          "scope",
                                          "importance",
                                          "dial_in_security_profile"};
const struct store_table store_table_access_method = {"access_method", access_cols, "tttttttttit",
                                                      STORE_ACCESS__N};

static const char *const member_cols[] = {"id",
                                          "cospace",
                                          "user_jid",
                                          "auto_generated",
                                          "call_leg_profile",
                                          "can_destroy",
                                          "can_add_remove_member",
                                          "can_change_name",
                                          "can_change_uri",
                                          "can_change_call_id",
                                          "can_change_passcode",
                                          "can_post_message",
                                          "can_remove_self",
                                          "can_delete_all_messages",
                                          "can_change_non_member_access_allowed"};
const struct store_table store_table_cospace_user = {"cospace_user", member_cols, "tttitiiiiiiiiii",
                                                     STORE_MEMBER__N};

static const char *const template_cols[] = {
    "id", "name", "description", "call_profile", "call_leg_profile", "dial_in_security_profile"};
const struct store_table store_table_cospace_template = {"cospace_template", template_cols,
                                                         "tttttt", STORE_TEMPLATE__N};

static const char *const am_template_cols[] = {"id",
                                               "cospace_template",
                                               "name",
                                               "uri_generator",
                                               "call_leg_profile",
                                               "generate_unique_call_id",
                                               "dial_in_security_profile"};
const struct store_table store_table_access_method_template = {
    "access_method_template", am_template_cols, "tttttit", STORE_AMT__N};

static const char *const bulk_set_cols[] = {"id",
                                            "start_index",
                                            "end_index",
                                            "cospace_uri_mapping",
                                            "cospace_name_mapping",
                                            "cospace_call_id_mapping",
                                            "tenant",
                                            "call_profile",
                                            "call_branding_profile",
                                            "non_member_access"};
const struct store_table store_table_bulk_set = {"cospace_bulk_set", bulk_set_cols, "tiitttttti",
                                                 STORE_BULK__N};

static const char *const bulk_member_cols[] = {"id", "bulk_set", "idx"};
const struct store_table store_table_bulk_member = {"cospace_bulk_member", bulk_member_cols, "tti",
                                                    STORE_BMEMBER__N};

static const char *const bulk_sync_cols[] = {"id", "bulk_set", "status", "remove_all"};
const struct store_table store_table_bulk_sync = {"cospace_bulk_sync", bulk_sync_cols, "ttti",
                                                  STORE_SYNC__N};
static const char *const cdr_receiver_cols[] = {"id", "uri", "delivered"};
const struct store_table store_table_cdr_receiver = {"cdr_receiver", cdr_receiver_cols, "tti",
                                                     STORE_CDR_RECEIVER__N};

/* ---- LDAP (schema/0009_ldap.sql) ----------------------------------------------------------- */
static const char *const lserver_cols[] = {"id",       "address",  "name",   "port_number",
                                           "username", "password", "secure", "use_paged_results"};
const struct store_table store_table_ldap_server = {"ldap_server", lserver_cols, "tttitbii",
                                                    STORE_LSERVER__N};
static const char *const lmap_cols[] = {"id",
                                        "jid_mapping",
                                        "name_mapping",
                                        "cdr_tag_mapping",
                                        "authentication_id_mapping",
                                        "cospace_uri_mapping",
                                        "cospace_secondary_uri_mapping",
                                        "cospace_name_mapping",
                                        "cospace_call_id_mapping"};
const struct store_table store_table_ldap_mapping = {"ldap_mapping", lmap_cols, "ttttttttt",
                                                     STORE_LMAP__N};
static const char *const lsource_cols[] = {"id",     "server", "mapping",      "base_dn",
                                           "filter", "tenant", "user_profile", "non_member_access"};
const struct store_table store_table_ldap_source = {"ldap_source", lsource_cols, "ttttttti",
                                                    STORE_LSOURCE__N};
static const char *const dir_cols[] = {
    "id",    "ldap_server", "tenant",     "base_dn",   "filter_format",
    "label", "priority",    "first_name", "last_name", "display_name",
    "phone", "mobile",      "email",      "sip",       "organisation"};
const struct store_table store_table_directory_search_location = {
    "directory_search_location", dir_cols, "ttttttitttttttt", STORE_DIR__N};
static const char *const lts_cols[] = {"id", "cospace_template", "ldap_source", "filter"};
const struct store_table store_table_ldap_template_source = {"ldap_user_cospace_template_source",
                                                             lts_cols, "tttt", STORE_LTS__N};
static const char *const lsync_cols[] = {
    "id",    "tenant",         "ldap_source",        "remove_when_finished",
    "state", "failure_reason", "num_users_imported", "num_ldap_sources_complete"};
const struct store_table store_table_ldap_sync = {"ldap_sync", lsync_cols, "tttittii",
                                                  STORE_LSYNC__N};
static const char *const luser_cols[] = {
    "id",           "user_jid",    "name",  "email",  "authentication_id", "cdr_tag", "tenant",
    "user_profile", "ldap_source", "entry", "cospace"};
const struct store_table store_table_ldap_user = {"ldap_user", luser_cols, "ttttttttttt",
                                                  STORE_LUSER__N};
