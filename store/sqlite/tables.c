/* store/sqlite/tables.c: the configuration tables as SQLite names them: each table's name, its
 * columns in the order of enum store_<table>_col (store/store.h) and their storage types ('t'
 * text, 'i' integer, 'b' blob). Only this backend knows these names; api/ refers to a table by
 * its struct and to a column by its number. The schema is in schema/. */
#include "store/store.h"

static const char *const tenant_cols[] = {"id", "name", "tenant_group", "participant_limit"};
const struct store_table store_table_tenant = {"tenant", tenant_cols, "ttti", STORE_TENANT__N};

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
