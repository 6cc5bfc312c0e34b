/* api/res/resource.h: table-driven CMS resources (tenants, coSpaces, inbound dial plan rules, call
 * bridges and their groups, TURN servers). One parameter table per resource drives validation,
 * storage, lists, filters and XML; hooks add what is particular to a resource. */
#ifndef API_RESOURCE_H
#define API_RESOURCE_H

#include "api/api.h"
#include "api/reply.h"
#include "api/res/list.h"
#include "api/res/parse.h"
#include "api/res/matching.h" /* call matching, once declared here */

enum api_kind {
    AK_TEXT,      /* printable UTF-8, at most max_len bytes (255 when 0) */
    AK_URI,       /* a SIP URI user part (RFC 3261 "user") */
    AK_DIGITS,    /* a numeric string such as a callId */
    AK_DOMAIN,    /* a complete domain or an IP address, no wildcard */
    AK_BOOL,      /* true/false in any case; stored 1/0 */
    AK_INT,       /* an integer in [min, max] */
    AK_ENUM,      /* one of enums, any case on input, stored as spelled there */
    AK_REF,       /* the id of an object in ref, which must exist (else ref_missing) */
    AK_ID,        /* a reference to an object this service does not keep yet: stored as given */
    AK_SECRET,    /* printable, at most STORE_TEXT_MAX bytes; stored sealed (api/secret.c) bound to
                   * "<id>/<param>" in a 'b' column, never shown */
    AK_HOST_PORT, /* host, IPv4 or [IPv6], with an optional :port (api_is_host_port) */
};

#define AF_LIST 0x01     /* shown in list elements */
#define AF_HIDDEN 0x02   /* stored, never shown */
#define AF_VIRTUAL 0x04  /* not stored: read by the hook */
#define AF_REQUIRED 0x08 /* must be given on POST and cannot be unset */
#define AF_PUT_ONLY 0x10 /* ignored on POST */
#define AF_READONLY 0x20 /* shown, never set by a client */
#define AF_NOCASE 0x40   /* with .duplicate: values that differ only in case are the same */

struct api_field {
    const char *param; /* as CMS spells it; input matches in any case */
    size_t col;        /* column in the table (ignored for AF_VIRTUAL) */
    enum api_kind kind;
    unsigned flags;
    size_t max_len;
    const char *const *enums; /* NULL-terminated */
    int64_t min, max;
    const struct store_table *ref;
    const char *ref_missing;
    const char *dflt;  /* stored on create when not given */
    const char *unset; /* shown (outside lists) when not set */
    /* Unique: the refusal (400) when another object of the table has the same value. The
     * check runs in the write transaction, after the resource's own check. */
    const char *duplicate;
};

/* A list filter: the query parameter, which is also the name of the store's filter on the
 * resource's table (store/q_filter.c says what it matches). */
struct api_filter {
    const char *param;
};

struct api_resource;
/* Runs inside the write transaction after the parameters were applied to row; may change
 * row. Returns 0, or a negative errno with *reply filled. */
typedef int (*api_check_fn)(const struct api *api, struct store *st, const struct api_request *req,
                            const struct api_resource *res, struct store_row *row, bool create,
                            struct api_reply *reply);

/* Runs after a write was committed (id: the object created or changed) or after a delete. */
typedef void (*api_after_fn)(const struct api *api, struct store *st, const char *id);

struct api_xml;
/* Adds to a GET's element what is counted rather than stored (numAccessMethods), after the
 * stored fields; list: the element is an item of a list. Runs in the read snapshot of the row
 * (or page). Returns 0 or a negative errno (the answer is then that error). */
typedef int (*api_show_fn)(struct store *st, const struct store_row *row, bool list,
                           struct api_xml *x);

struct api_resource {
    const char *collection; /* "coSpaces" */
    const char *element;    /* "coSpace" */
    const char *missing;    /* "coSpaceDoesNotExist" */
    const char *in_use;     /* refusal of a delete while others refer to it */
    const struct store_table *table;
    const struct api_field *fields;
    size_t nfields;
    const struct api_filter *filters;
    size_t nfilters;
    size_t page_default;
    api_check_fn check;
    api_after_fn after_write, after_delete;
    /* Runs in the delete's transaction before object id goes (NULL: always allowed): 0, or
     * -EPERM with *reply filled (a refusal), or another -errno. */
    int (*before_delete)(struct store *st, const char *id, struct api_reply *reply);
    /* The order in which the fields are shown, as indices into fields (nfields of them), when
     * it is not the order in which they are checked; NULL: the same. */
    const unsigned char *order;
    /* A nested collection (/<parent>/<pid>/<collection>): the parent's resource, and the column
     * that holds the parent's id (the table's "parent" filter selects by it). NULL: top level. */
    const struct api_resource *parent;
    size_t parent_col;
    /* A node that is one object (/system/configuration/cluster): CMS shows it without an id. */
    bool singleton;
    api_show_fn show; /* NULL: nothing but the stored fields */
};

/* Handles the collection (id NULL) or one object of res. */
void api_res_generic(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, const char *id, struct api_reply *reply);

/* Handles the nested collection res of the parent object pid (id NULL), or one object of it:
 * a missing parent is 404 with the parent's reason; an object of another parent is missing. */
void api_res_nested(const struct api *api, struct store *st, const struct api_request *req,
                    const struct api_resource *res, const char *pid, const char *id,
                    struct api_reply *reply);

/* A coSpace as a call sees it (api/res/cospace.c reads it, so no other file needs its columns).
 * Returns 0, -ENOENT or another -errno. */
struct api_cospace_ref {
    char id[STORE_ID_LEN + 1];
    char name[STORE_TEXT_MAX + 1];
};
int api_cospace_ref_get(struct store *st, const char *id, struct api_cospace_ref *ret);

/* The resources (api/res/cospace.c etc.), and the extra paths. */
extern const struct api_resource api_res_tenants, api_res_cospaces, api_res_inbound_rules,
    api_res_call_bridges, api_res_call_bridge_groups, api_res_turn_servers;
/* The dial plan (api/res/dialplan.c, api/res/tenant.c). */
extern const struct api_resource api_res_outbound_rules, api_res_forwarding_rules,
    api_res_dial_transforms, api_res_tenant_groups, api_res_ivrs;
void api_res_cluster(const struct api *api, struct store *st, const struct api_request *req,
                     const char *id, struct api_reply *reply);
/* /system/configuration/xmpp (api/res/tenant.c) */
void api_res_xmpp(const struct api *api, struct store *st, const struct api_request *req,
                  const char *id, struct api_reply *reply);
/* Profiles, layout templates and web bridges (api/res/profiles.c, api/res/webbridge.c). */
extern const struct api_resource api_res_call_leg_profiles, api_res_call_profiles,
    api_res_dtmf_profiles, api_res_call_branding_profiles, api_res_ivr_branding_profiles,
    api_res_dial_in_security_profiles, api_res_compatibility_profiles, api_res_user_profiles,
    api_res_layout_templates, api_res_web_bridge_profiles, api_res_web_bridges;
/* Access methods, coSpace members, users, templates and bulk sets (api/res/access.c, users.c,
 * bulk.c, templates.c). */
extern const struct api_resource api_res_access_methods, api_res_cospace_users,
    api_res_cospace_templates, api_res_access_method_templates, api_res_bulk_sets,
    api_res_bulk_syncs;
void api_res_users(const struct api *api, struct store *st, const struct api_request *req,
                   const char *id, struct api_reply *reply);
void api_res_cospace_diagnostics(const struct api *api, struct store *st,
                                 const struct api_request *req, const char *id,
                                 struct api_reply *reply);
/* Is uri or callId (either may be NULL) free for the coSpace cospace_id, or its access method
 * self_id (NULL when the coSpace itself is written) with passcode? 0 when free; else -EEXIST
 * with *ret_reason the CMS reason (duplicateCoSpaceUri, duplicateCoSpaceId, ...UriPasscode,
 * ...IdPasscode), or another -errno. Call it in the write transaction. */
int api_space_address_check(struct store *st, const char *cospace_id, const char *self_id,
                            const char *uri, const char *call_id, const char *passcode,
                            const char **ret_reason);
/* Is v a SIP URI user part (what AK_URI accepts)? */
bool api_res_is_uri_user(const char *v);
/* A new 22-character URL-safe secret, as CMS shows them (out: 23 bytes). 0 or -EIO. */
int api_space_secret_new(char *out);
void api_res_meeting_entry_detail(const struct api *api, struct store *st,
                                  const struct api_request *req, const char *id,
                                  struct api_reply *reply);

/* /system/cdrReceivers[/<id>] (api/res/cdr_receivers.c): the generic engine, and GET of one
 * receiver with its delivery state. */
extern const struct api_resource api_res_cdr_receivers;
void api_res_cdr_receiver(const struct api *api, struct store *st, const struct api_request *req,
                          const char *id, struct api_reply *reply);
/* CMS's video layouts (the Layouts data structure), NULL-terminated, for every object with a
 * layout parameter (coSpaces, call legs; defined in api/res/control.c). */
extern const char *const api_res_layouts[];

#endif
