/* api/res/routes.c: the router: one table of routes, from which dispatch, 404 and 405 come.
 *
 * DESIGN: paths are matched as CMS clients use them (cms-api.md 1.4): segments compare
 * case-insensitively, one trailing slash is ignored, the query is separate. A method a resource
 * does not have is a 405 with Allow; a path no resource has is 404 unrecognizedObject. Both come
 * from the one table below, as do the metrics labels (api_route_label): adding a collection is
 * one entry here and one descriptor or handler file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/metrics.h"
#include "api/reply.h"
#include "api/res/alarms.h"
#include "api/res/calls.h"
#include "api/res/control.h"
#include "api/res/ldap.h"
#include "api/res/diag.h"
#include "api/res/participants.h"
#include "api/res/metrics.h"
#include "api/res/profiles.h"
#include "api/res/resource.h"
#include "api/res/routes.h"
#include "api/res/system.h"
#include "api/res/turn_status.h"

#define MAX_SEGS 6

/* Splits path into at most MAX_SEGS segments, in place in buf. Returns the count, or -1 when
 * the path has more segments or an empty one (other than one trailing slash). */
static int split(char *buf, char *segs[MAX_SEGS])
{
    size_t len = strlen(buf);
    int n = 0;
    char *p;

    if (buf[0] != '/')
        return -1;
    if (len > 1 && buf[len - 1] == '/')
        buf[len - 1] = '\0';
    for (p = buf + 1; p;) {
        char *slash = strchr(p, '/');

        if (slash)
            *slash = '\0';
        if (!*p || n == MAX_SEGS)
            return -1;
        segs[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    return n;
}

/* Methods as bits; GET admits HEAD. */
#define M_GET (1u << API_GET)
#define M_POST (1u << API_POST)
#define M_PUT (1u << API_PUT)
#define M_DELETE (1u << API_DELETE)

typedef void (*route_fn)(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply);

struct route {
    const char *collection; /* the segment after /api/v1/ ("metrics": the path /metrics) */
    const char *shape;      /* the rest: "", "/:id", "/:id/status", "/status" */
    unsigned methods;
    route_fn fn;                    /* called with the :id segment, or NULL */
    const struct api_resource *res; /* instead of fn: the generic resource engine */
    bool calls;                     /* exists only with a call registry (api->calls) */
};

static void call_matching(const struct api *api, struct store *st, const struct api_request *req,
                          const char *id, struct api_reply *reply)
{
    (void)id;
    api_res_call_matching(api, st, req, reply);
}

static void access_query(const struct api *api, struct store *st, const struct api_request *req,
                         const char *id, struct api_reply *reply)
{
    (void)id;
    api_res_access_query(api, st, req, reply);
}

static void uri_usage_query(const struct api *api, struct store *st, const struct api_request *req,
                            const char *id, struct api_reply *reply)
{
    (void)id;
    api_res_uri_usage_query(api, st, req, reply);
}

static void metrics(const struct api *api, struct store *st, const struct api_request *req,
                    const char *id, struct api_reply *reply)
{
    (void)id;
    api_res_metrics(api, st, req, reply);
}

/* In the order of the metrics labels. */
static const struct route routes[] = {
    {"turnServers", "", M_GET | M_POST, NULL, &api_res_turn_servers, false},
    {"turnServers", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_turn_servers, false},
    {"turnServers", "/:id/status", M_GET, api_res_turn_status, NULL, false},
    {"coSpaces", "", M_GET | M_POST, NULL, &api_res_cospaces, false},
    {"coSpaces", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_cospaces, false},
    {"coSpaces", "/:id/meetingEntryDetail", M_GET, api_res_meeting_entry_detail, NULL, false},
    /* a coSpace's access methods and members (api/res/access.c), its diagnostics (users.c) */
    {"coSpaces", "/:id/accessMethods", M_GET | M_POST, NULL, &api_res_access_methods, false},
    {"coSpaces", "/:id/accessMethods/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_access_methods,
     false},
    {"coSpaces", "/:id/coSpaceUsers", M_GET | M_POST, NULL, &api_res_cospace_users, false},
    {"coSpaces", "/:id/coSpaceUsers/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_cospace_users,
     false},
    {"coSpaces", "/:id/diagnostics", M_POST, api_res_cospace_diagnostics, NULL, false},
    {"inboundDialPlanRules", "", M_GET | M_POST, NULL, &api_res_inbound_rules, false},
    {"inboundDialPlanRules", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_inbound_rules, false},
    {"tenants", "", M_GET | M_POST, NULL, &api_res_tenants, false},
    {"tenants", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_tenants, false},
    {"tenants", "/:id/effectiveWebBridgeProfile", M_GET, api_res_effective_wbp_tenant, NULL, false},
    {"callBridges", "", M_GET | M_POST, NULL, &api_res_call_bridges, false},
    {"callBridges", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_call_bridges, false},
    {"callBridgeGroups", "", M_GET | M_POST, NULL, &api_res_call_bridge_groups, false},
    {"callBridgeGroups", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_call_bridge_groups,
     false},
    {"calls", "", M_GET | M_POST, api_res_calls, NULL, true},
    {"calls", "/:id", M_GET | M_PUT | M_DELETE, api_res_calls, NULL, true},
    {"calls", "/:id/callLegs", M_GET | M_POST, api_res_call_call_legs, NULL, true},
    /* call control (api/res/control.c): "*" before ":id", so that it is not taken for an id */
    {"calls", "/:id/participants", M_GET | M_POST, api_res_call_participants, NULL, true},
    {"calls", "/:id/participants/*", M_PUT, api_res_call_participants_all, NULL, true},
    {"calls", "/:id/participants/:id", M_PUT | M_DELETE, api_res_call_participant, NULL, true},
    /* part diag: call diagnostics (api/res/diag.c), conversationIdQuery */
    {"calls", "/:id/diagnostics", M_POST, api_res_call_diagnostics, NULL, true},
    {"callLegs", "", M_GET | M_POST, api_res_call_legs, NULL, true},
    {"callLegs", "/:id", M_GET | M_PUT | M_DELETE, api_res_call_legs, NULL, true},
    {"callLegs", "/:id/generateKeyFrame", M_POST, api_res_leg_key_frame, NULL, true},
    {"callLegs", "/:id/cameraControl", M_PUT, api_res_leg_camera_control, NULL, true},
    {"callLegs", "/:id/callLegProfileTrace", M_GET, api_res_leg_profile_trace, NULL, true},
    {"participants", "", M_GET, api_res_participants, NULL, true},
    {"participants", "/:id", M_GET | M_PUT | M_DELETE, api_res_participants, NULL, true},
    {"participants", "/:id/callLegs", M_GET, api_res_participant_legs, NULL, true},
    {"callMatching", "", M_GET, call_matching, NULL, false},
    {"outboundDialPlanRules", "", M_GET | M_POST, NULL, &api_res_outbound_rules, false},
    {"outboundDialPlanRules", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_outbound_rules,
     false},
    {"forwardingDialPlanRules", "", M_GET | M_POST, NULL, &api_res_forwarding_rules, false},
    {"forwardingDialPlanRules", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_forwarding_rules,
     false},
    {"dialTransforms", "", M_GET | M_POST, NULL, &api_res_dial_transforms, false},
    {"dialTransforms", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_dial_transforms, false},
    {"tenantGroups", "", M_GET | M_POST, NULL, &api_res_tenant_groups, false},
    {"tenantGroups", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_tenant_groups, false},
    {"ivrs", "", M_GET | M_POST, NULL, &api_res_ivrs, false},
    {"ivrs", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_ivrs, false},
    {"accessQuery", "", M_POST, access_query, NULL, false},
    {"uriUsageQuery", "", M_POST, uri_usage_query, NULL, false},
    /* part diag */
    {"conversationIdQuery", "", M_GET, api_res_conversation_query, NULL, false},
    {"system", "/configuration/cluster", M_GET | M_PUT | M_POST, api_res_cluster, NULL, false},
    {"system", "/configuration/xmpp", M_GET | M_PUT | M_POST, api_res_xmpp, NULL, false},
    {"system", "/status", M_GET, api_res_system_status, NULL, false},
    {"system", "/cdrReceivers", M_GET | M_POST, api_res_cdr_receiver, NULL, false},
    {"system", "/cdrReceivers/:id", M_GET | M_PUT | M_DELETE, api_res_cdr_receiver, NULL, false},
    {"system", "/alarms", M_GET, api_res_system_alarms, NULL, false},
    {"system", "/load", M_GET, api_res_system_load, NULL, false},
    {"system", "/database", M_GET, api_res_system_database, NULL, false},
    {"system", "/licensing", M_GET, api_res_licensing, NULL, false},
    {"system", "/multipartyLicensing", M_GET, api_res_multiparty_licensing, NULL, false},
    {"system", "/multipartyLicensing/activePersonalLicenses", M_GET,
     api_res_active_personal_licenses, NULL, false},
    {"system", "/MPLicenseUsage", M_GET, api_res_mp_license_usage, NULL, false},
    {"system", "/MPLicenseUsage/knownHosts", M_GET, api_res_mp_known_hosts, NULL, false},
    {"system", "/diagnostics", M_GET, api_res_system_diagnostics, NULL, false},
    {"system", "/diagnostics/:id", M_GET, api_res_system_diagnostics, NULL, false},
    {"system", "/diagnostics/:id/contents", M_GET, api_res_system_diagnostics_contents, NULL,
     false},
    {"system", "/profiles", M_GET | M_POST | M_PUT, api_res_system_profiles, NULL, false},
    {"system", "/profiles/effectiveWebBridgeProfile", M_GET, api_res_effective_wbp_system, NULL,
     false},
    /* profiles and web bridges (api/res/profiles.c, api/res/webbridge.c) */
    {"callLegProfiles", "", M_GET | M_POST, NULL, &api_res_call_leg_profiles, false},
    {"callLegProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_call_leg_profiles, false},
    {"callLegProfiles", "/:id/usage", M_GET, api_res_call_leg_profile_usage, NULL, false},
    {"callProfiles", "", M_GET | M_POST, NULL, &api_res_call_profiles, false},
    {"callProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_call_profiles, false},
    {"dtmfProfiles", "", M_GET | M_POST, NULL, &api_res_dtmf_profiles, false},
    {"dtmfProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_dtmf_profiles, false},
    {"callBrandingProfiles", "", M_GET | M_POST, NULL, &api_res_call_branding_profiles, false},
    {"callBrandingProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_call_branding_profiles, false},
    {"ivrBrandingProfiles", "", M_GET | M_POST, NULL, &api_res_ivr_branding_profiles, false},
    {"ivrBrandingProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_ivr_branding_profiles,
     false},
    {"dialInSecurityProfiles", "", M_GET | M_POST, NULL, &api_res_dial_in_security_profiles, false},
    {"dialInSecurityProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_dial_in_security_profiles, false},
    {"compatibilityProfiles", "", M_GET | M_POST, NULL, &api_res_compatibility_profiles, false},
    {"compatibilityProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_compatibility_profiles, false},
    {"userProfiles", "", M_GET | M_POST, NULL, &api_res_user_profiles, false},
    {"userProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_user_profiles, false},
    {"layoutTemplates", "", M_GET | M_POST, NULL, &api_res_layout_templates, false},
    {"layoutTemplates", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_layout_templates, false},
    {"layoutTemplates", "/:id/template", M_GET | M_PUT, api_res_layout_template_body, NULL, false},
    {"webBridgeProfiles", "", M_GET | M_POST, NULL, &api_res_web_bridge_profiles, false},
    {"webBridgeProfiles", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_web_bridge_profiles,
     false},
    {"webBridges", "", M_GET | M_POST, NULL, &api_res_web_bridges, false},
    {"webBridges", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_web_bridges, false},
    {"webBridges", "/:id/status", M_GET, api_res_web_bridge_status, NULL, false},
    {"webBridges", "/:id/updateCustomization", M_POST, api_res_web_bridge_customization, NULL,
     false},
    {"webBridges", "/:id/effectiveWebBridgeProfile", M_GET, api_res_effective_wbp_web_bridge, NULL,
     false},
    /* users, templates and bulk sets (api/res/users.c, templates.c, bulk.c) */
    {"users", "", M_GET, api_res_users, NULL, false},
    {"users", "/:id", M_GET, api_res_users, NULL, false},
    {"users", "/:id/usercoSpaces", M_GET, api_res_users, NULL, false},
    {"users", "/:id/userCoSpaceTemplates", M_GET | M_POST, api_res_users, NULL, false},
    {"users", "/:id/userCoSpaceTemplates/:id", M_GET | M_DELETE, api_res_users, NULL, false},
    {"coSpaceTemplates", "", M_GET | M_POST, NULL, &api_res_cospace_templates, false},
    {"coSpaceTemplates", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_cospace_templates, false},
    {"coSpaceTemplates", "/:id/accessMethodTemplates", M_GET | M_POST, NULL,
     &api_res_access_method_templates, false},
    {"coSpaceTemplates", "/:id/accessMethodTemplates/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_access_method_templates, false},
    {"coSpaceBulkParameterSets", "", M_GET | M_POST, NULL, &api_res_bulk_sets, false},
    {"coSpaceBulkParameterSets", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_bulk_sets, false},
    {"coSpaceBulkSyncs", "", M_GET | M_POST, NULL, &api_res_bulk_syncs, false},
    {"coSpaceBulkSyncs", "/:id", M_GET | M_DELETE, NULL, &api_res_bulk_syncs, false},
    /* LDAP (api/res/ldap.c) */
    {"ldapServers", "", M_GET | M_POST, NULL, &api_res_ldap_servers, false},
    {"ldapServers", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_ldap_servers, false},
    {"ldapMappings", "", M_GET | M_POST, NULL, &api_res_ldap_mappings, false},
    {"ldapMappings", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_ldap_mappings, false},
    {"ldapSources", "", M_GET | M_POST, NULL, &api_res_ldap_sources, false},
    {"ldapSources", "/:id", M_GET | M_PUT | M_DELETE, NULL, &api_res_ldap_sources, false},
    {"ldapSyncs", "", M_GET | M_POST, api_res_ldap_sync, NULL, false},
    {"ldapSyncs", "/:id", M_GET | M_DELETE, api_res_ldap_sync, NULL, false},
    {"directorySearchLocations", "", M_GET | M_POST, NULL, &api_res_directory_search_locations,
     false},
    {"directorySearchLocations", "/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_directory_search_locations, false},
    {"ldapUserCoSpaceTemplateSources", "", M_GET | M_POST, NULL, &api_res_ldap_template_sources,
     false},
    {"ldapUserCoSpaceTemplateSources", "/:id", M_GET | M_PUT | M_DELETE, NULL,
     &api_res_ldap_template_sources, false},
    {"clusterLicensing", "", M_GET, api_res_cluster_licensing, NULL, false},
    {"metrics", "", M_GET, metrics, NULL, false},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
/* Every collection gets its own metrics label (a table with more routes than labels would count
 * the last collections as "other"): the table has at most as many collections as routes. */
_Static_assert(N_ROUTES < API_METRICS_MAX_LABELS,
               "more routes than metrics labels: raise API_METRICS_MAX_LABELS");

/* The Allow header for a set of methods, in one fixed order. */
static const char *allow_of(unsigned methods)
{
    static const char *const allow[16] = {"",
                                          "GET",
                                          "POST",
                                          "GET, POST",
                                          "PUT",
                                          "GET, PUT",
                                          "POST, PUT",
                                          "GET, POST, PUT",
                                          "DELETE",
                                          "GET, DELETE",
                                          "POST, DELETE",
                                          "GET, POST, DELETE",
                                          "PUT, DELETE",
                                          "GET, PUT, DELETE",
                                          "POST, PUT, DELETE",
                                          "GET, POST, PUT, DELETE"};

    return allow[((methods & M_GET) ? 1 : 0) | ((methods & M_POST) ? 2 : 0) |
                 ((methods & M_PUT) ? 4 : 0) | ((methods & M_DELETE) ? 8 : 0)];
}

/* True when segs (after the collection) have the shape; *ret_id is the first :id segment or
 * NULL, ret_id[1] the second (a nested object's) or NULL. */
static bool shape_matches(const char *shape, char **segs, int n, const char **ret_id)
{
    int i = 0;

    ret_id[0] = ret_id[1] = NULL;
    while (*shape) {
        const char *next = strchr(shape + 1, '/');
        size_t len = next ? (size_t)(next - shape - 1) : strlen(shape + 1);

        if (i == n)
            return false;
        if (len == 3 && strncmp(shape + 1, ":id", 3) == 0)
            ret_id[ret_id[0] ? 1 : 0] = segs[i];
        else if (strlen(segs[i]) != len || strncasecmp(segs[i], shape + 1, len) != 0)
            return false;
        i++;
        shape = next ? next : shape + 1 + len;
    }
    return i == n;
}

static bool method_allowed(unsigned methods, enum api_method m)
{
    return m != API_OTHER && ((methods & (1u << m)) || (m == API_HEAD && (methods & M_GET)));
}

/* The route for segs: the collection and the rest (/metrics is a route at the root); ret_id
 * takes two ids (shape_matches). */
static const struct route *find(const struct api *api, char **segs, int n, const char **ret_id)
{
    bool root = n == 1 && strcmp(segs[0], "metrics") == 0;

    if (!root && (n < 3 || strcasecmp(segs[0], "api") != 0 || strcasecmp(segs[1], "v1") != 0))
        return NULL;
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *r = &routes[i];
        bool is_root = strcmp(r->collection, "metrics") == 0;

        if (is_root != root || (r->calls && !api->calls))
            continue;
        if (root ? shape_matches(r->shape, segs + 1, 0, ret_id)
                 : strcasecmp(segs[2], r->collection) == 0 &&
                       shape_matches(r->shape, segs + 3, n - 3, ret_id))
            return r;
    }
    return NULL;
}

void api_route(const struct api *api, struct store *st, const struct api_request *req,
               struct api_reply *reply)
{
    char *buf = strdup(req->path), *segs[MAX_SEGS];
    const struct route *r;
    const char *id[2];
    int n;

    if (!buf) {
        api_reply_err(reply, -ENOMEM);
        return;
    }
    n = split(buf, segs);
    r = n > 0 ? find(api, segs, n, id) : NULL;
    if (!r) {
        api_reply_failure(reply, 404, "unrecognizedObject");
    } else if (!method_allowed(r->methods, req->method)) {
        api_reply_failure(reply, 405, "invalidOperation");
        reply->allow = allow_of(r->methods);
    } else if (r->res && r->res->parent) {
        api_res_nested(api, st, req, r->res, id[0], id[1], reply);
    } else if (r->res) {
        api_res_generic(api, st, req, r->res, id[0], reply);
    } else { /* a handler gets the innermost id (a call's participant), and the request the
              * outer one as its parent_id */
        struct api_request routed = *req;

        routed.parent_id = id[1] ? id[0] : NULL;
        r->fn(api, st, &routed, id[1] ? id[1] : id[0], reply);
    }
    free(buf);
}

size_t api_route_labels(const char **ret, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < N_ROUTES; i++) {
        if (n > 0 && strcmp(ret[n - 1], routes[i].collection) == 0)
            continue; /* the table keeps a collection's routes together */
        if (n + 1 < cap)
            ret[n++] = routes[i].collection;
    }
    if (n < cap)
        ret[n++] = "other";
    return n;
}

const char *api_route_label(const char *path)
{
    size_t n;

    if (strcmp(path, "/metrics") == 0)
        return "metrics";
    if (strncasecmp(path, "/api/v1/", 8) != 0)
        return "other";
    path += 8;
    n = strcspn(path, "/");
    for (size_t i = 0; i < N_ROUTES; i++)
        if (strcmp(routes[i].collection, "metrics") != 0 && strlen(routes[i].collection) == n &&
            strncasecmp(path, routes[i].collection, n) == 0)
            return routes[i].collection;
    return "other";
}
