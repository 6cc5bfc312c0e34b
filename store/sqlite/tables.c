/* store/sqlite/tables.c: the configuration tables as SQLite names them: each table's name, its
 * columns in the order of enum store_<table>_col (store/store.h) and their storage types ('t'
 * text, 'i' integer, 'b' blob). Only this backend knows these names; api/ refers to a table by
 * its struct and to a column by its number. The schema is in schema/. */
#include "store/store.h"

static const char *const tenant_cols[] = {"id", "name"};
const struct store_table store_table_tenant = {"tenant", tenant_cols, "tt", STORE_TENANT__N};

static const char *const group_cols[] = {"id", "name"};
const struct store_table store_table_call_bridge_group = {"call_bridge_group", group_cols, "tt",
                                                          STORE_GROUP__N};

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

static const char *const cdr_receiver_cols[] = {"id", "uri", "delivered"};
const struct store_table store_table_cdr_receiver = {"cdr_receiver", cdr_receiver_cols, "tti",
                                                     STORE_CDR_RECEIVER__N};
