/* api/res/profiles.h: what other files read of the profiles (api/res/profiles.c) and web bridges
 * (api/res/webbridge.c): the values in effect for a coSpace or the join page, resolved by CMS's
 * precedence (coSpace or web bridge > tenant > system), and the route handlers. */
#ifndef API_RES_PROFILES_H
#define API_RES_PROFILES_H

#include <stdint.h>

#include "api/res/resource.h"

/* The id of the one system_profile row (schema/0006_profiles.sql); never shown. */
#define API_SYSTEM_PROFILE_ID "00000000-0000-4000-8000-000000000001"
/* The web bridge that is this daemon's join page (schema/0006_profiles.sql). */
#define API_BUILTIN_WEB_BRIDGE_ID "d041a4ef-8194-4de3-8586-bb095384f57b"

/* The callProfile participantLimit in effect for coSpace id (its own profile, else its tenant's,
 * else the system's): 0 with *ret_limit (0: no limit), -ENOENT (no such coSpace), or -errno. */
int api_profiles_participant_limit(struct store *st, const char *cospace_id, int64_t *ret_limit);
/* The dialInSecurityProfile minPasscodeLength in effect (0: none) for the coSpace row cospace
 * (one being written), or when cospace is NULL for the stored coSpace cospace_id. */
int api_profiles_min_passcode(struct store *st, const char *cospace_id,
                              const struct store_row *cospace, int64_t *ret_min);
/* The dialInSecurityProfile blankPasscodeAllowed in effect for the stored coSpace cospace_id
 * (true when no level sets it): may a space without a passcode be joined by its callId? */
int api_profiles_blank_passcode_allowed(struct store *st, const char *cospace_id, bool *ret);

/* The callProfile lockMode in effect for the stored coSpace cospace_id is "all" (everyone new
 * waits in the lobby of a locked call), as when no level sets it; false: "needsActivation". */
int api_profiles_lock_all(struct store *st, const char *cospace_id, bool *ret);

/* What the join page may accept, from the web bridge profile in effect on the built-in web bridge.
 */
struct api_join_policy {
    bool allow_passcodes, allow_secrets, allow_guests, resolve_call_ids;
};
int api_web_bridge_join_policy(struct store *st, struct api_join_policy *ret);

/* The check hook of every profile and web bridge: URLs are http(s), DTMF sequences digits * #. */
int api_profiles_check(const struct api *api, struct store *st, const struct api_request *req,
                       const struct api_resource *res, struct store_row *row, bool create,
                       struct api_reply *reply);

/* A value among the profile levels: the first set of the rows' column col (NULL rows skipped). */
const char *api_profiles_first(const struct store_row *const *rows, size_t n, size_t col);

void api_res_call_leg_profile_usage(const struct api *api, struct store *st,
                                    const struct api_request *req, const char *id,
                                    struct api_reply *reply);
void api_res_layout_template_body(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply);
void api_res_system_profiles(const struct api *api, struct store *st, const struct api_request *req,
                             const char *id, struct api_reply *reply);
void api_res_web_bridge_status(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply);
void api_res_web_bridge_customization(const struct api *api, struct store *st,
                                      const struct api_request *req, const char *id,
                                      struct api_reply *reply);
/* /system/profiles/effectiveWebBridgeProfile, /tenants/<id>/... and /webBridges/<id>/... */
void api_res_effective_wbp_system(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply);
void api_res_effective_wbp_tenant(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply);
void api_res_effective_wbp_web_bridge(const struct api *api, struct store *st,
                                      const struct api_request *req, const char *id,
                                      struct api_reply *reply);

#endif
