/* api/res/dialplan.c: /api/v1/inboundDialPlanRules, call matching (cms-api.md §4.2), and the
 * troubleshooting extension GET /api/v1/callMatching, and /coSpaces/<id>/meetingEntryDetail.
 *
 * DESIGN: a dialled user@domain is matched like this: the rules whose domain equals the domain
 * (case-insensitive, no wildcards), highest priority first (then oldest), each resolving the
 * user part against what it enables - here coSpaces by uri or secondaryUri, within the rule's
 * tenant when it has one. The first rule that finds a space wins. No rule for the domain is
 * noMatchingRule (a CMS would try its forwarding rules next); rules that find nothing is
 * noMatchingTarget. A bare user part is tried against every rule that resolves to coSpaces.
 * The web app's callId + passcode is a separate path: the space with that callId, whose passcode
 * must match when it has one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/res/resource.h"
#include "api/xml.h"

enum { R_ID, R_DOMAIN, R_PRIORITY, R_USERS, R_COSPACES, R_IVRS, R_LYNC, R_SIMPLEJOIN, R_TENANT };

static const char *const cols[] = {"id",
                                   "domain",
                                   "priority",
                                   "resolve_to_users",
                                   "resolve_to_cospaces",
                                   "resolve_to_ivrs",
                                   "resolve_to_lync_conferences",
                                   "resolve_to_lync_simplejoin",
                                   "tenant"};
const struct store_table api_table_inbound_rule = {"inbound_dial_plan_rule", cols, "ttiiiiiit", 9};

static const struct api_field fields[] = {
    {.param = "domain", .col = R_DOMAIN, .kind = AK_DOMAIN, .flags = AF_LIST | AF_REQUIRED},
    {.param = "priority",
     .col = R_PRIORITY,
     .kind = AK_INT,
     .flags = AF_LIST,
     .min = -2147483648LL,
     .max = 2147483647,
     .dflt = "0"},
    {.param = "resolveToUsers", .col = R_USERS, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveTocoSpaces", .col = R_COSPACES, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveToIvrs", .col = R_IVRS, .kind = AK_BOOL, .dflt = "1"},
    {.param = "resolveToLyncConferences", .col = R_LYNC, .kind = AK_BOOL, .dflt = "0"},
    {.param = "resolveToLyncSimplejoin", .col = R_SIMPLEJOIN, .kind = AK_BOOL, .dflt = "0"},
    {.param = "tenant",
     .col = R_TENANT,
     .kind = AK_REF,
     .ref = &api_table_tenant,
     .ref_missing = "tenantDoesNotExist"},
};

static const struct api_filter filters[] = {
    {.param = "filter", .where = "domain LIKE ? ESCAPE '\\'", .nargs = 1, .substring = true},
    {.param = "tenantFilter", .where = "tenant = lower(?)", .nargs = 1},
};

const struct api_resource api_res_inbound_rules = {
    .collection = "inboundDialPlanRules",
    .element = "inboundDialPlanRule",
    .missing = "inboundDialPlanRuleDoesNotExist",
    .in_use = "inboundDialPlanRuleInUse",
    .table = &api_table_inbound_rule,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .filters = filters,
    .nfilters = sizeof(filters) / sizeof(filters[0]),
    .page_default = API_PAGE_DEFAULT,
};

/* ---- call matching ------------------------------------------------------------------------ */

const char *api_match_name(enum api_match_result r)
{
    static const char *const names[] = {"coSpace", "noMatchingRule", "noMatchingTarget",
                                        "noMatchingCallId", "wrongPasscode"};

    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "noMatchingTarget";
}

/* Copies the first row's id (the lists below ask for one row). */
static int copy_id(const struct store_row *row, void *userdata)
{
    snprintf(userdata, STORE_ID_LEN + 1, "%s", row->v[0]);
    return 0;
}

struct rule_walk {
    struct store *st;
    const char *user;
    struct api_match *m;
    bool found;
};

/* For each rule, in priority order: a space this rule may reach, by uri or secondaryUri. */
static int try_rule(const struct store_row *rule, void *userdata)
{
    struct rule_walk *w = userdata;
    const char *tenant = rule->v[R_TENANT] ? rule->v[R_TENANT] : "";
    const char *args[] = {w->user, w->user, tenant};
    struct store_query q = {.where =
                                "(uri = ? COLLATE NOCASE OR secondary_uri = ? COLLATE NOCASE) AND "
                                "(?3 = '' OR tenant = ?3)",
                            .args = args,
                            .nargs = 3};
    char id[STORE_ID_LEN + 1] = "";
    int r;

    if (w->found)
        return 0;
    snprintf(w->m->rule, sizeof(w->m->rule), "%s", rule->v[R_ID]);
    if (strcmp(rule->v[R_COSPACES], "0") == 0) /* this rule does not resolve to coSpaces */
        return 0;
    r = store_row_list(w->st, &api_table_cospace, &q, 0, 1, copy_id, id);
    if (r < 0)
        return r;
    if (id[0]) {
        snprintf(w->m->cospace, sizeof(w->m->cospace), "%s", id);
        w->found = true;
    }
    return 0;
}

/* Matches "user@domain" (or a bare user part). Returns 0 with *m filled, or a store error. */
int api_match_destination(struct store *st, const char *destination, struct api_match *m)
{
    char user[STORE_TEXT_MAX + 1];
    const char *at = strrchr(destination, '@'), *domain = at ? at + 1 : NULL;
    const char *args[] = {domain};
    struct store_query q = {.where = domain ? "domain = ? COLLATE NOCASE" : NULL,
                            .args = args,
                            .nargs = domain ? 1 : 0,
                            .order = "priority DESC, seq"};
    struct rule_walk w = {.st = st, .user = user, .m = m};
    size_t n = at ? (size_t)(at - destination) : strlen(destination);
    int r;

    memset(m, 0, sizeof(*m));
    if (n >= sizeof(user))
        n = sizeof(user) - 1;
    memcpy(user, destination, n);
    user[n] = '\0';
    if (!strncasecmp(user, "sip:", 4)) /* a SIP URI as a person pastes it */
        memmove(user, user + 4, strlen(user + 4) + 1);
    r = store_row_list(st, &api_table_inbound_rule, &q, 0, 1000, try_rule, &w);
    if (r < 0)
        return r;
    m->result = w.found ? API_MATCH_COSPACE : m->rule[0] ? API_MATCH_NO_TARGET : API_MATCH_NO_RULE;
    return 0;
}

/* The web app's join: callId, then the passcode when the space has one. */
int api_match_call_id(struct store *st, const char *call_id, const char *passcode,
                      struct api_match *m)
{
    struct store_row space;
    char id[STORE_ID_LEN + 1] = "";
    const char *args[] = {call_id};
    struct store_query q = {.where = "call_id = ?", .args = args, .nargs = 1};
    int r;

    memset(m, 0, sizeof(*m));
    r = store_row_list(st, &api_table_cospace, &q, 0, 1, copy_id, id);
    if (r < 0)
        return r;
    if (!id[0]) {
        m->result = API_MATCH_NO_CALL_ID;
        return 0;
    }
    snprintf(m->cospace, sizeof(m->cospace), "%s", id);
    r = store_row_get(st, &api_table_cospace, id, &space);
    if (r < 0)
        return r;
    m->result = space.v[API_COSPACE_PASSCODE] &&
                        strcmp(space.v[API_COSPACE_PASSCODE], passcode ? passcode : "") != 0
                    ? API_MATCH_WRONG_PASSCODE
                    : API_MATCH_COSPACE;
    store_row_done(&space);
    return 0;
}

int api_match_params(struct store *st, const struct api_params *p, struct api_match *ret,
                     struct api_reply *reply)
{
    const char *destination = api_params_get(p, "destination");
    const char *call_id = api_params_get(p, "callId");
    int r;

    if (destination && *destination)
        r = api_match_destination(st, destination, ret);
    else if (call_id && *call_id)
        r = api_match_call_id(st, call_id, api_params_get(p, "passcode"), ret);
    else {
        api_reply_param_error(reply, "destination", "missing");
        return -EINVAL;
    }
    if (r < 0)
        api_reply_err(reply, r);
    return r;
}

void api_res_call_matching(const struct api *api, struct store *st, const struct api_request *req,
                           struct api_reply *reply)
{
    struct api_xml *x;
    struct api_match m;

    (void)api;
    if (api_match_params(st, req->query, &m, reply) < 0)
        return;
    x = api_reply_xml_new(reply);
    if (!x)
        return;
    api_xml_start(x, "callMatching");
    api_xml_text(x, "result", api_match_name(m.result));
    if (m.rule[0]) {
        api_xml_start(x, "inboundDialPlanRule");
        api_xml_attr(x, "id", m.rule);
        api_xml_end(x);
    }
    if (m.cospace[0]) {
        api_xml_start(x, "coSpace");
        api_xml_attr(x, "id", m.cospace);
        api_xml_end(x);
    }
    api_xml_end(x);
    api_reply_xml(reply, x);
}

/* ---- meetingEntryDetail ------------------------------------------------------------------- */

void api_res_meeting_entry_detail(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1], rule_id[STORE_ID_LEN + 1] = "";
    struct store_row space = {0}, rule = {0};
    struct api_xml *x;
    int r;

    (void)api;
    (void)req;
    if (api_parse_id(id, lid) < 0 ||
        (r = store_row_get(st, &api_table_cospace, lid, &space)) == -ENOENT) {
        api_reply_failure(reply, 404, "coSpaceDoesNotExist");
        return;
    }
    if (r == 0) { /* the domain advertised: the highest-priority rule reaching this space */
        const char *args[] = {space.v[API_COSPACE_TENANT] ? space.v[API_COSPACE_TENANT] : ""};
        struct store_query q = {.where =
                                    "resolve_to_cospaces = 1 AND (tenant IS NULL OR tenant = ?)",
                                .args = args,
                                .nargs = 1,
                                .order = "priority DESC, seq"};

        r = store_row_list(st, &api_table_inbound_rule, &q, 0, 1, copy_id, rule_id);
    }
    if (r == 0 && rule_id[0])
        r = store_row_get(st, &api_table_inbound_rule, rule_id, &rule);
    if (r < 0 || !(x = api_xml_new())) {
        api_reply_err(reply, r < 0 ? r : -ENOMEM);
        goto out;
    }
    api_xml_start(x, "meetingEntryDetail");
    if (space.v[API_COSPACE_URI] && rule.v[R_DOMAIN]) {
        char uri[2 * STORE_TEXT_MAX + 2];

        snprintf(uri, sizeof(uri), "%s@%s", space.v[API_COSPACE_URI], rule.v[R_DOMAIN]);
        api_xml_text(x, "uri", uri);
    }
    if (space.v[API_COSPACE_CALL_ID])
        api_xml_text(x, "callId", space.v[API_COSPACE_CALL_ID]);
    api_xml_end(x);
    api_reply_xml(reply, x);
out:
    store_row_done(&space);
    store_row_done(&rule);
}
