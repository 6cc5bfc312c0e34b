/* api/res/outbound.c: the outbound dial plan behind dial-out (apiary "Outgoing Dial Plan API
 * Methods", "Group Dial Transform Methods").
 *
 * DESIGN: a leg posted to /calls/<id>/callLegs (or participants) without a media address is a
 * call to make. CMS first applies the dial transforms to the dialled string ("when dial
 * transforms are applied to all outbound calls, then the outbound dial plan rules are applied
 * to the transformed number"), then the outbound rules: the rules whose domain, complete or
 * wildcarded ("*.com"), matches the destination's domain, higher priority first; a rule with a
 * tenant only serves calls of that tenant; a rule scoped to a callBridge or callBridgeGroup only
 * serves that bridge, and callbridged is none of the configured ones, so only global rules serve
 * it. A matched rule whose call cannot be made passes on to the next (lower) one when its
 * failureAction is continue, and stops there when it is stop. callbridged has no SIP stack, so
 * every rule's call fails: the leg fails with noSipDialOut and shows the rule that matched and
 * how many were tried; with no rule it fails with noMatchingRule (the call matching's name for
 * the same miss inbound); a transform that denies it, dialTransformDeny. Equal priorities are
 * tried oldest first, as the inbound rules are. At most 1,000 rules are read. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/res/outbound.h"

#define MAX_RULES 1000

struct cand {
    long long priority;
    size_t order;
    char id[STORE_ID_LEN + 1];
    char from[STORE_TEXT_MAX + 1];
    bool go_on; /* failureAction continue */
};

struct walk {
    const char *domain, *tenant;
    struct cand *v;
    size_t n;
};

static int consider(const struct store_row *row, void *userdata)
{
    struct walk *w = userdata;
    const char *domain = row->v[STORE_OUT_DOMAIN], *tenant = row->v[STORE_OUT_TENANT];
    const char *scope = row->v[STORE_OUT_SCOPE], *action = row->v[STORE_OUT_FAILURE_ACTION];
    struct cand *c;

    if (!domain || fnmatch(domain, w->domain, FNM_CASEFOLD) != 0)
        return 0;
    if (tenant && *tenant && strcasecmp(tenant, w->tenant) != 0)
        return 0;
    if (scope && *scope && strcmp(scope, "global") != 0)
        return 0;
    if (w->n >= MAX_RULES)
        return 0;
    c = &w->v[w->n];
    c->priority = row->v[STORE_OUT_PRIORITY] ? strtoll(row->v[STORE_OUT_PRIORITY], NULL, 10) : 0;
    c->order = w->n++;
    snprintf(c->id, sizeof(c->id), "%s", row->v[STORE_COL_ID]);
    snprintf(c->from, sizeof(c->from), "%s",
             row->v[STORE_OUT_FROM_DOMAIN] ? row->v[STORE_OUT_FROM_DOMAIN] : "");
    c->go_on = action && strcmp(action, "continue") == 0;
    return 0;
}

static int by_priority(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The domain of a dialled string: after its last '@', up to a port, parameters or '>'
 * ("sip:bob@example.com;transport=tls" is example.com); "" for a bare user or number. */
static void domain_of(const char *dest, char *out, size_t cap)
{
    const char *at = strrchr(dest, '@');
    size_t n;

    out[0] = '\0';
    if (!at)
        return;
    n = strcspn(at + 1, ":;>");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, at + 1, n);
    out[n] = '\0';
}

int api_dial_out_route(struct store *st, const char *party, const char *tenant,
                       struct api_dial_out *ret)
{
    struct api_dial_out d = {.reason = "noMatchingRule"};
    char domain[STORE_TEXT_MAX + 1];
    struct store_query q = {0};
    struct api_match m;
    struct walk w = {.domain = domain, .tenant = tenant ? tenant : ""};
    int r = store_read_begin(st);

    if (r == 0)
        r = api_match_dial_transform(st, party ? party : "", &m);
    if (r == 0 && m.result == API_MATCH_DENIED)
        d.reason = "dialTransformDeny";
    snprintf(d.destination, sizeof(d.destination), "%s", r == 0 ? m.destination : "");
    snprintf(d.transform, sizeof(d.transform), "%s", r == 0 ? m.transform : "");
    domain_of(d.destination, domain, sizeof(domain));
    if (r == 0 && domain[0] && m.result != API_MATCH_DENIED) {
        if (!(w.v = calloc(MAX_RULES, sizeof(*w.v))))
            r = -ENOMEM;
        else
            r = store_row_list(st, &store_table_outbound_rule, &q, 0, MAX_RULES, consider, &w);
    }
    store_read_end(st);
    if (r == 0 && w.n) {
        qsort(w.v, w.n, sizeof(*w.v), by_priority);
        memcpy(d.rule, w.v[0].id, sizeof(d.rule));
        memcpy(d.from_domain, w.v[0].from, sizeof(d.from_domain));
        d.reason = "noSipDialOut";
        for (d.tried = 1; d.tried < w.n && w.v[d.tried - 1].go_on; d.tried++)
            ;
    }
    free(w.v);
    if (r == 0)
        *ret = d;
    return r;
}
