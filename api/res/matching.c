/* api/res/matching.c: call matching (api/res/matching.h) and GET /api/v1/callMatching.
 *
 * DESIGN: a dialled user@domain is matched like this: the rules whose domain equals the domain
 * (case-insensitive, no wildcards), highest priority first (then oldest), each resolving the
 * user part against what it enables - here coSpaces by uri or secondaryUri, then IVRs by uri,
 * within the rule's tenant when it has one. The first rule that finds a space wins. Rules that find
 * nothing is noMatchingTarget. No rule for the domain hands the call to the forwarding rules, as
 * CMS does: the highest-priority one (then oldest) whose matchPattern matches the domain
 * (case-insensitive, '*' any run of characters) forwards it (to user@destinationDomain, or the
 * same domain when it has none) or rejects it; when none matches it is noMatchingRule. A bare
 * user part is tried against every rule that resolves to coSpaces and is never forwarded.
 * Before all this the highest-priority dial transform (then oldest) whose match holds rewrites
 * the destination (api/res/transform.c has the syntax), or denies the call.
 * The web app's callId + passcode is a separate path: the space with that callId, whose passcode
 * must match when it has one. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "api/reply.h"
#include "api/res/matching.h"
#include "api/res/transform.h"
#include "api/xml.h"

const char *api_match_name(enum api_match_result r)
{
    static const char *const names[] = {"coSpace",          "noMatchingRule",    "noMatchingTarget",
                                        "noMatchingCallId", "wrongPasscode",     "forward",
                                        "reject",           "dialTransformDeny", "ivr"};

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
    r = rule->resolve_to_cospaces ? store_match_cospace_uri(w->st, w->user, rule->tenant, id)
                                  : -ENOENT;
    if (r == -ENOENT && rule->resolve_to_cospaces) /* an access method's uri reaches its space */
        r = store_match_access_uri(w->st, w->user, rule->tenant, id);
    if (r == 0) {
        snprintf(w->m->cospace, sizeof(w->m->cospace), "%s", id);
        return 1;
    }
    if (r == -ENOENT && rule->resolve_to_ivrs)
        r = store_match_ivr_uri(w->st, w->user, rule->tenant, id);
    if (r == 0) {
        snprintf(w->m->ivr, sizeof(w->m->ivr), "%s", id);
        return 1;
    }
    return r == -ENOENT ? 0 : r;
}

/* The best row so far of a priority-ordered table: higher priority wins, then the older row
 * (rows come oldest first). */
struct pick {
    const char *in;
    bool found;
    long long priority;
    char id[STORE_ID_LEN + 1];
    char out[API_MATCH_DEST_MAX];
    char action[16];
};

static bool better(struct pick *p, const char *priority)
{
    long long n = priority ? strtoll(priority, NULL, 10) : 0;

    return !p->found || n > p->priority;
}

static void take(struct pick *p, const struct store_row *row, const char *priority,
                 const char *action)
{
    p->found = true;
    p->priority = priority ? strtoll(priority, NULL, 10) : 0;
    snprintf(p->id, sizeof(p->id), "%s", row->v[STORE_COL_ID]);
    snprintf(p->action, sizeof(p->action), "%s", action ? action : "");
}

static int pick_transform(const struct store_row *row, void *userdata)
{
    struct pick *p = userdata;
    char out[API_MATCH_DEST_MAX];
    int r;

    if (!better(p, row->v[STORE_XFORM_PRIORITY]))
        return 0;
    r = api_transform_apply(row->v[STORE_XFORM_TYPE], row->v[STORE_XFORM_MATCH],
                            row->v[STORE_XFORM_TRANSFORM], p->in, out, sizeof(out));
    if (r <= 0) /* a transform that no longer applies (too long a result) is skipped */
        return 0;
    take(p, row, row->v[STORE_XFORM_PRIORITY], row->v[STORE_XFORM_ACTION]);
    snprintf(p->out, sizeof(p->out), "%s", out);
    return 0;
}

static int pick_forwarding(const struct store_row *row, void *userdata)
{
    struct pick *p = userdata;
    const char *pattern = row->v[STORE_FWD_PATTERN];

    if (!pattern || !better(p, row->v[STORE_FWD_PRIORITY]) ||
        fnmatch(pattern, p->in, FNM_CASEFOLD) != 0)
        return 0;
    take(p, row, row->v[STORE_FWD_PRIORITY], row->v[STORE_FWD_ACTION]);
    snprintf(p->out, sizeof(p->out), "%s",
             row->v[STORE_FWD_DESTINATION] ? row->v[STORE_FWD_DESTINATION] : "");
    return 0;
}

/* Reads every row of t (at most 1,000) into fn. */
static int each_row(struct store *st, const struct store_table *t, store_row_fn fn, struct pick *p)
{
    struct store_query q = {0};

    return store_row_list(st, t, &q, 0, 1000, fn, p);
}

/* The dial transform for m->destination: rewrites it, or denies the call. */
static int transform(struct store *st, struct api_match *m)
{
    struct pick p = {.in = m->destination};
    int r = each_row(st, &store_table_dial_transform, pick_transform, &p);

    if (r < 0 || !p.found)
        return r;
    snprintf(m->transform, sizeof(m->transform), "%s", p.id);
    if (strcmp(p.action, "deny") == 0)
        m->result = API_MATCH_DENIED;
    else
        snprintf(m->destination, sizeof(m->destination), "%s", p.out);
    return 0;
}

int api_match_dial_transform(struct store *st, const char *destination, struct api_match *ret)
{
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->destination, sizeof(ret->destination), "%s", destination);
    return transform(st, ret);
}

/* No inbound rule for domain: the forwarding rules decide. */
static int forwarding(struct store *st, const char *user, const char *domain, struct api_match *m)
{
    struct pick p = {.in = domain};
    int r = each_row(st, &store_table_forwarding_rule, pick_forwarding, &p);

    if (r < 0 || !p.found)
        return r;
    snprintf(m->forwarding, sizeof(m->forwarding), "%s", p.id);
    m->result = strcmp(p.action, "forward") == 0 ? API_MATCH_FORWARD : API_MATCH_REJECT;
    if (m->result == API_MATCH_FORWARD)
        snprintf(m->destination, sizeof(m->destination), "%.255s@%.255s", user,
                 p.out[0] ? p.out : domain);
    return 0;
}

/* Matches "user@domain" (or a bare user part). Returns 0 with *m filled, or a store error. */
int api_match_destination(struct store *st, const char *destination, struct api_match *m)
{
    char user[STORE_TEXT_MAX + 1];
    const char *at;
    struct rule_walk w = {.st = st, .user = user, .m = m};
    size_t n;
    int r;

    memset(m, 0, sizeof(*m));
    snprintf(m->destination, sizeof(m->destination), "%s", destination);
    if ((r = transform(st, m)) < 0 || m->result == API_MATCH_DENIED)
        return r;
    at = strrchr(m->destination, '@');
    n = at ? (size_t)(at - m->destination) : strlen(m->destination);
    if (n >= sizeof(user))
        n = sizeof(user) - 1;
    memcpy(user, m->destination, n);
    user[n] = '\0';
    if (!strncasecmp(user, "sip:", 4)) /* a SIP URI as a person pastes it */
        memmove(user, user + 4, strlen(user + 4) + 1);
    r = store_match_rules(st, at ? at + 1 : NULL, try_rule, &w);
    if (r < 0)
        return r;
    m->result = m->cospace[0] ? API_MATCH_COSPACE
                : m->ivr[0]   ? API_MATCH_IVR
                : m->rule[0]  ? API_MATCH_NO_TARGET
                              : API_MATCH_NO_RULE;
    if (m->result == API_MATCH_NO_RULE && at)
        r = forwarding(st, user, at + 1, m);
    return r;
}

/* ---- access methods (api/res/access.c) --------------------------------------------------
 * A coSpace's access methods add uris and callId+passcode pairs that reach it: try_rule falls
 * back to an access method's uri, and a callId whose space's own passcode does not match tries
 * the access methods with that callId (the host and guest PINs of one meeting). */
static bool same_key(const char *expected, const char *given)
{
    size_t n = strlen(expected);

    return n > 0 && strlen(given) == n && CRYPTO_memcmp(expected, given, n) == 0;
}

bool api_match_key_fits(const struct store_cospace_entry *e, const char *secret,
                        const char *passcode)
{
    if (secret && *secret)
        return same_key(e->secret, secret);
    if (e->has_passcode)
        return passcode && same_key(e->passcode, passcode);
    return true;
}

struct access_walk {
    const char *secret, *passcode;
    struct store_cospace_entry *e;
    bool seen;
};

static int access_fits(const struct store_cospace_entry *e, void *userdata)
{
    struct access_walk *w = userdata;

    *w->e = *e;
    w->seen = true;
    return api_match_key_fits(e, w->secret, w->passcode) ? 1 : 0;
}

int api_match_access_entry(struct store *st, const char *call_id, const char *secret,
                           const char *passcode, struct store_cospace_entry *ret)
{
    struct access_walk w = {secret, passcode, ret, false};
    int r = store_match_access_call_id(st, call_id, access_fits, &w);

    if (r < 0)
        return r;
    return r == 1 ? 0 : w.seen ? -EACCES : -ENOENT;
}

static int api_match_access(struct store *st, const char *call_id, const char *passcode,
                            struct api_match *m)
{
    struct store_cospace_entry e = {0};
    int r = api_match_access_entry(st, call_id, NULL, passcode, &e);

    if (r == -ENOENT)
        return 0; /* m stays as the caller left it */
    if (r < 0 && r != -EACCES)
        return r;
    snprintf(m->cospace, sizeof(m->cospace), "%s", e.id);
    m->result = r == 0 ? API_MATCH_COSPACE : API_MATCH_WRONG_PASSCODE;
    return 0;
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
    m->result =
        api_match_key_fits(&space, NULL, passcode) ? API_MATCH_COSPACE : API_MATCH_WRONG_PASSCODE;
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

/* <element id="id"/>, when id is set. */
static void ref(struct api_xml *x, const char *element, const char *id)
{
    if (!id[0])
        return;
    api_xml_start(x, element);
    api_xml_attr(x, "id", id);
    api_xml_end(x);
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
    ref(x, "inboundDialPlanRule", m.rule);
    ref(x, "coSpace", m.cospace);
    ref(x, "ivr", m.ivr);
    ref(x, "dialTransform", m.transform);
    if (m.forwarding[0]) {
        ref(x, "forwardingDialPlanRule", m.forwarding);
        api_xml_text(x, "action", m.result == API_MATCH_FORWARD ? "forward" : "reject");
    }
    /* the address matched, when a transform rewrote it, or the one a forward goes to */
    if ((m.transform[0] && m.result != API_MATCH_DENIED) || m.result == API_MATCH_FORWARD)
        api_xml_text(x, "destination", m.destination);
    api_xml_end(x);
    api_reply_xml(reply, x);
}
