/* api/res/leg_profile.c: the call leg profile in force on a leg, by CMS's precedence (leg >
 * access method > coSpace > tenant > system), and its trace (GET
 * /callLegs/<id>/callLegProfileTrace).
 *
 * DESIGN: a leg keeps, from the moment it joins, the profile ids of the levels above it and the
 * value each of call control's leg parameters takes from the nearest of them (struct
 * api_leg_profile, in the registry); its own values (PUT /callLegs) sit on top, so what is in
 * force is the leg's value, else the profiles' (api_control_leg_value). The lobby, the initial
 * mutes and the self-mute rights read that. The trace reads the profiles again when asked, so
 * it shows what each level's profile holds now, level by level as the apiary has it (each
 * <profile scope="..."> with its <callLegProfile id="...">), the leg's own values last. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/res/control_values.h"
#include "api/res/leg_profile.h"
#include "api/res/lobby.h"
#include "api/res/profiles.h"
#include "api/res/resource.h"

static const char *const scopes[API__LP_LEVELS] = {"global", "tenant", "coSpace", "accessMethod"};

/* The callLegProfile field of leg parameter i (same name), or NULL when profiles lack it. */
static const struct api_field *field_of(size_t i)
{
    const struct api_resource *res = &api_res_call_leg_profiles;
    const char *name = api_control_leg_param(i);

    for (size_t k = 0; k < res->nfields; k++)
        if (strcasecmp(res->fields[k].param, name) == 0)
            return &res->fields[k];
    return NULL;
}

/* A stored value as a PUT writes it: booleans are kept as 1/0. */
static void as_given(const struct api_field *f, const char *v, char *out, size_t cap)
{
    if (f->kind == AK_BOOL)
        snprintf(out, cap, "%s", strcmp(v, "0") != 0 ? "true" : "false");
    else
        snprintf(out, cap, "%s", v);
}

/* Copies the id column col of row (NULL or unset: "") into out. */
static void copy_id(const struct store_row *row, size_t col, char *out)
{
    snprintf(out, STORE_ID_LEN + 1, "%s", row && row->v[col] ? row->v[col] : "");
}

/* The profile ids of the levels above a leg of coSpace cospace joined through access. */
static int level_ids(struct store *st, const char *cospace, const char *access,
                     struct api_leg_profile *p)
{
    struct store_row sys = {0}, cs = {0}, tenant = {0}, am = {0};
    int r = store_row_get(st, &store_table_system_profile, API_SYSTEM_PROFILE_ID, &sys);

    if (r == 0)
        r = store_row_get(st, &store_table_cospace, cospace, &cs);
    if (r == 0 && cs.v[STORE_COSPACE_TENANT] &&
        (r = store_row_get(st, &store_table_tenant, cs.v[STORE_COSPACE_TENANT], &tenant)) ==
            -ENOENT)
        r = 0; /* no such tenant: no tenant level */
    if (r == 0 && access && *access &&
        (r = store_row_get(st, &store_table_access_method, access, &am)) == -ENOENT)
        r = 0; /* deleted since: the coSpace's levels still hold */
    if (r == 0) {
        copy_id(&sys, STORE_SP_CALL_LEG_PROFILE, p->ids[API_LP_GLOBAL]);
        copy_id(&tenant, STORE_TENANT_CALL_LEG_PROFILE, p->ids[API_LP_TENANT]);
        copy_id(&cs, STORE_COSPACE_LEG_PROFILE, p->ids[API_LP_COSPACE]);
        copy_id(&am, STORE_ACCESS_LEG_PROFILE, p->ids[API_LP_ACCESS]);
    }
    store_row_done(&sys);
    store_row_done(&cs);
    store_row_done(&tenant);
    store_row_done(&am);
    return r;
}

int api_leg_profile_resolve(struct store *st, const char *cospace, const char *access,
                            struct api_leg_profile *ret)
{
    struct api_leg_profile p;
    int r;

    memset(&p, 0, sizeof(p));
    r = store_read_begin(st);
    if (r == 0)
        r = level_ids(st, cospace, access, &p);
    for (int lv = 0; r == 0 && lv < API__LP_LEVELS; lv++) {
        struct store_row prof = {0};

        if (!p.ids[lv][0])
            continue;
        r = store_row_get(st, &store_table_call_leg_profile, p.ids[lv], &prof);
        if (r == -ENOENT) { /* deleted between the two reads: as if unset */
            p.ids[lv][0] = '\0';
            r = 0;
            continue;
        }
        for (size_t i = 0; r == 0 && i < API_LEG_PARAMS; i++) {
            const struct api_field *f = field_of(i);

            if (f && prof.v[f->col]) /* nearer levels come later and win */
                as_given(f, prof.v[f->col], p.v[i], sizeof(p.v[i]));
        }
        store_row_done(&prof);
    }
    if (r == 0)
        r = api_profiles_lock_all(st, cospace, &p.lock_all);
    store_read_end(st);
    snprintf(p.cospace, sizeof(p.cospace), "%s", cospace);
    snprintf(p.access, sizeof(p.access), "%s", access ? access : "");
    if (r == 0)
        *ret = p;
    return r;
}

/* One level's profile as the trace shows it: every parameter its profile sets. */
static int trace_level(struct store *st, const char *scope, const char *id, struct api_xml *x)
{
    const struct api_resource *res = &api_res_call_leg_profiles;
    struct store_row prof = {0};
    char v[STORE_TEXT_MAX + 1];
    int r = store_row_get(st, &store_table_call_leg_profile, id, &prof);

    if (r == -ENOENT)
        return 0; /* deleted: the level no longer contributes */
    if (r < 0)
        return r;
    api_xml_start(x, "profile");
    api_xml_attr(x, "scope", scope);
    api_xml_start(x, "callLegProfile");
    api_xml_attr(x, "id", id);
    for (size_t k = 0; k < res->nfields; k++) {
        const struct api_field *f = &res->fields[k];

        if (f->col == STORE_CLP_NAME || !prof.v[f->col])
            continue;
        as_given(f, prof.v[f->col], v, sizeof(v));
        api_xml_text(x, f->param, v);
    }
    api_xml_end(x);
    api_xml_end(x);
    store_row_done(&prof);
    return 0;
}

int api_leg_profile_trace(struct store *st, const struct api_leg *l, struct api_xml *x)
{
    bool own = false;
    int r = 0;

    api_xml_start(x, "callLegProfileTrace");
    api_xml_attr(x, "callLeg", l->id);
    for (int lv = 0; r == 0 && lv < API__LP_LEVELS; lv++)
        if (l->prof.ids[lv][0])
            r = trace_level(st, scopes[lv], l->prof.ids[lv], x);
    for (size_t i = 0; i < API_LEG_PARAMS; i++)
        own |= l->conf[i][0] && field_of(i);
    if (r == 0 && own) { /* PUT /callLegs: the leg's own level, which has no profile id */
        api_xml_start(x, "profile");
        api_xml_attr(x, "scope", "callLeg");
        api_xml_start(x, "callLegProfile");
        for (size_t i = 0; i < API_LEG_PARAMS; i++)
            if (l->conf[i][0] && field_of(i))
                api_xml_text(x, api_control_leg_param(i), l->conf[i]);
        api_xml_end(x);
        api_xml_end(x);
    }
    api_xml_end(x);
    return r;
}

/* ---- a profile changed under legs in calls ------------------------------------------------ */

struct stale {
    char leg[STORE_ID_LEN + 1], cospace[STORE_ID_LEN + 1], access[STORE_ID_LEN + 1];
};

static bool uses(const struct api_leg_profile *p, const char *profile)
{
    for (int lv = 0; lv < API__LP_LEVELS; lv++)
        if (strcmp(p->ids[lv], profile) == 0)
            return true;
    return false;
}

/* The legs to resolve again (lock held): those with profiles and, unless profile is NULL,
 * one of its levels on profile. */
static size_t stale_legs(struct api_calls *c, const char *profile, struct stale **ret)
{
    struct stale *v = c->nlegs ? calloc(c->nlegs, sizeof(*v)) : NULL;
    size_t n = 0;

    for (size_t i = 0; v && i < c->nlegs; i++) {
        const struct api_leg_profile *p = &c->legs[i].prof;

        if (!p->cospace[0] || (profile && !uses(p, profile)))
            continue;
        memcpy(v[n].leg, c->legs[i].id, sizeof(v[n].leg));
        memcpy(v[n].cospace, p->cospace, sizeof(v[n].cospace));
        memcpy(v[n].access, p->access, sizeof(v[n].access));
        n++;
    }
    *ret = v;
    return n;
}

void api_leg_profiles_changed(const struct api *api, struct store *st, const char *profile)
{
    struct stale *v = NULL;
    size_t n;

    if (!api->calls)
        return;
    pthread_mutex_lock(&api->calls->lock);
    n = stale_legs(api->calls, profile, &v);
    pthread_mutex_unlock(&api->calls->lock);
    for (size_t i = 0; i < n; i++) {
        struct api_leg_profile p;
        char call[STORE_ID_LEN + 1];
        struct api_leg *l;

        if (api_leg_profile_resolve(st, v[i].cospace, v[i].access, &p) < 0)
            continue; /* its coSpace is gone: the leg keeps what it had */
        pthread_mutex_lock(&api->calls->lock);
        if ((l = api_calls_find_leg(api->calls, v[i].leg))) {
            l->prof = p;
            memcpy(call, l->call, sizeof(call));
            api_control_leg_refresh(api, l); /* mutes, rights, labels */
            (void)api_lobby_update(api, call, NULL, 0);
        }
        pthread_mutex_unlock(&api->calls->lock);
    }
    free(v);
}

void api_leg_profile_written(const struct api *api, struct store *st, const char *id)
{
    api_leg_profiles_changed(api, st, id);
}
