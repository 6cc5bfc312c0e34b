/* api/res/matching.c: call matching (api/res/matching.h) and GET /api/v1/callMatching.
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
#include <string.h>
#include <strings.h>

#include "api/reply.h"
#include "api/res/matching.h"
#include "api/xml.h"

const char *api_match_name(enum api_match_result r)
{
    static const char *const names[] = {"coSpace", "noMatchingRule", "noMatchingTarget",
                                        "noMatchingCallId", "wrongPasscode"};

    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "noMatchingTarget";
}

struct rule_walk {
    struct store *st;
    const char *user;
    struct api_match *m;
};

/* For each rule, in priority order: a space this rule may reach. Stops at the first found. */
static int try_rule(const struct store_match_rule *rule, void *userdata)
{
    struct rule_walk *w = userdata;
    char id[STORE_ID_LEN + 1];
    int r;

    snprintf(w->m->rule, sizeof(w->m->rule), "%s", rule->id);
    if (!rule->resolve_to_cospaces)
        return 0;
    r = store_match_cospace_uri(w->st, w->user, rule->tenant, id);
    if (r == -ENOENT) /* access methods: see api_match_access below */
        r = store_match_access_uri(w->st, w->user, rule->tenant, id);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    snprintf(w->m->cospace, sizeof(w->m->cospace), "%s", id);
    return 1;
}

/* Matches "user@domain" (or a bare user part). Returns 0 with *m filled, or a store error. */
int api_match_destination(struct store *st, const char *destination, struct api_match *m)
{
    char user[STORE_TEXT_MAX + 1];
    const char *at = strrchr(destination, '@');
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
    r = store_match_rules(st, at ? at + 1 : NULL, try_rule, &w);
    if (r < 0)
        return r;
    m->result = m->cospace[0] ? API_MATCH_COSPACE
                : m->rule[0]  ? API_MATCH_NO_TARGET
                              : API_MATCH_NO_RULE;
    return 0;
}

/* ---- access methods (api/res/access.c) --------------------------------------------------
 * A coSpace's access methods add uris and callId+passcode pairs that reach it: try_rule falls
 * back to an access method's uri, and a callId whose space's own passcode does not match tries
 * the access methods with that callId (the host and guest PINs of one meeting). */
struct access_walk {
    const char *passcode;
    struct api_match *m;
};

static int access_passcode(const struct store_cospace_entry *e, void *userdata)
{
    struct access_walk *w = userdata;

    snprintf(w->m->cospace, sizeof(w->m->cospace), "%s", e->id);
    if (e->has_passcode && strcmp(e->passcode, w->passcode ? w->passcode : "") != 0) {
        w->m->result = API_MATCH_WRONG_PASSCODE;
        return 0;
    }
    w->m->result = API_MATCH_COSPACE;
    return 1;
}

static int api_match_access(struct store *st, const char *call_id, const char *passcode,
                            struct api_match *m)
{
    struct access_walk w = {passcode, m};
    int r = store_match_access_call_id(st, call_id, access_passcode, &w);

    return r < 0 ? r : 0;
}

/* The web app's join: callId, then the passcode when the space has one. */
int api_match_call_id(struct store *st, const char *call_id, const char *passcode,
                      struct api_match *m)
{
    struct store_cospace_entry space;
    int r;

    memset(m, 0, sizeof(*m));
    m->result = API_MATCH_NO_CALL_ID;
    r = store_match_call_id(st, call_id, &space);
    if (r == -ENOENT)
        return api_match_access(st, call_id, passcode, m);
    if (r < 0)
        return r;
    snprintf(m->cospace, sizeof(m->cospace), "%s", space.id);
    m->result = space.has_passcode && strcmp(space.passcode, passcode ? passcode : "") != 0
                    ? API_MATCH_WRONG_PASSCODE
                    : API_MATCH_COSPACE;
    return m->result == API_MATCH_COSPACE ? 0 : api_match_access(st, call_id, passcode, m);
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
