/* api/res/leg_profile.h: the call leg profile in force on a leg (api/res/leg_profile.c). */
#ifndef API_RES_LEG_PROFILE_H
#define API_RES_LEG_PROFILE_H

#include "api/api.h"
#include "api/res/registry.h"
#include "api/xml.h"
#include "store/store.h"

/* Into *ret, the profiles above a leg of the stored coSpace cospace that joined through the
 * access method access (NULL or "": the coSpace itself): each level's callLegProfile id
 * (system/profiles, the coSpace's tenant, the coSpace, the access method) and, for each of call
 * control's leg parameters, the value of the nearest level that sets it; and the callProfile
 * lockMode in effect. Returns 0, -ENOENT (no such coSpace) or a store error (*ret untouched). */
int api_leg_profile_resolve(struct store *st, const char *cospace, const char *access,
                            struct api_leg_profile *ret);

/* <callLegProfileTrace callLeg="..."> of the leg l (a copy): a <profile scope="..."> per level
 * whose profile exists now, with what that profile sets, and the leg's own values last (scope
 * callLeg). Returns 0 or a store error. */
int api_leg_profile_trace(struct store *st, const struct api_leg *l, struct api_xml *x);

/* A call leg profile (profile) changed or went, or with profile NULL the system's: the legs in
 * calls that it governs take their profiles again, at once (their mutes in the media path,
 * their pages' rights, the lobby). Called after the write is committed. */
void api_leg_profiles_changed(const struct api *api, struct store *st, const char *profile);
/* The same as an after_write / after_delete hook of the callLegProfiles resource (id: the
 * profile). */
void api_leg_profile_written(const struct api *api, struct store *st, const char *id);

#endif
