/* api/res/profiles_effect.c: the values of the profiles in effect for a coSpace, by CMS's
 * precedence (coSpace > tenant > system), that the join path enforces (api/res/guest.c),
 * coSpace and access method writes check (api/res/cospace.c, api/res/access.c) and the lobby
 * reads (api/res/leg_profile.c: lockMode). It reads the store and calls no other file of
 * api/res/, so all of those can stand above it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/profiles.h"

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

/* lockMode is text: "all" unless a profile in effect says needsActivation (CMS's default). */
int api_profiles_lock_all(struct store *st, const char *cospace_id, bool *ret)
{
    struct store_row cs = {0}, prof = {0};
    int r = store_row_get(st, &store_table_cospace, cospace_id, &cs);

    if (r == 0)
        r = profile_in_effect(st, &cs, &call_profile_cols, &prof);
    if (r == 0)
        *ret = !prof.v[STORE_CP_LOCK_MODE] || strcmp(prof.v[STORE_CP_LOCK_MODE], "all") == 0;
    store_row_done(&cs);
    store_row_done(&prof);
    return r;
}
