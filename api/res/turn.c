/* api/res/turn.c: /api/v1/turnServers (cms-api.md section 2).
 *
 * DESIGN: one parameter table drives POST and PUT. PUT is partial: parameters not sent keep
 * their value, an empty value unsets. PUT reads, changes and writes the row inside one write
 * transaction so that two concurrent PUTs to different fields both land. Passwords and shared
 * secrets are sealed (api/secret.c) bound to "<id>/<field>" and never appear in an answer.
 * Every value is validated before anything is written; the first invalid one is reported as
 * parameterError in table order. Unknown parameters are ignored, as the reference advises. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/reply.h"
#include "api/res/list.h"
#include "api/res/parse.h"
#include "api/res/prober_link.h"
#include "api/res/turn.h"
#include "api/util.h"
#include "api/xml.h"
#include "turnclient/turnclient.h"

enum kind { K_ADDR, K_TEXT, K_SECRET, K_TYPE, K_COUNT, K_PORT, K_BOOL, K_BRIDGE, K_GROUP };

struct param {
    const char *name;
    enum kind kind;
    size_t off;     /* the field in struct store_turn */
    size_t aux_off; /* K_SECRET: its length; K_COUNT/K_PORT: its has_ flag */
};

#define F(field) offsetof(struct store_turn, field)
static const struct param params[] = {
    {"serverAddress", K_ADDR, F(server_address), 0},
    {"clientAddress", K_ADDR, F(client_address), 0},
    {"username", K_TEXT, F(username), 0},
    {"password", K_SECRET, F(password), F(password_len)},
    {"type", K_TYPE, F(type), 0},
    {"numRegistrations", K_COUNT, F(num_registrations), F(has_num_registrations)},
    {"tcpPortNumberOverride", K_PORT, F(tcp_port_number_override), F(has_tcp_port_number_override)},
    {"callBridge", K_BRIDGE, F(call_bridge), 0},
    {"callBridgeGroup", K_GROUP, F(call_bridge_group), 0},
    {"useShortTermCredentials", K_BOOL, F(use_short_term_credentials), 0},
    {"sharedSecret", K_SECRET, F(shared_secret), F(shared_secret_len)},
};
#undef F

_Static_assert(STORE_TEXT_MAX + API_SECRET_OVERHEAD <= STORE_BLOB_MAX,
               "a sealed secret of STORE_TEXT_MAX bytes must fit the store");

/* The CMS spellings; input matches in any case (PsCms sends "Cms"). */
static const char *const types[] = {"acano", "cms", "expressway", "lyncEdge", "standard"};

static bool is_text(const char *v)
{
    if (strlen(v) > STORE_TEXT_MAX)
        return false;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

static int set_secret(const struct api *api, struct store_turn *t, const struct param *p,
                      const char *v)
{
    unsigned char *blob = (unsigned char *)t + p->off;
    size_t *len = (size_t *)(void *)((char *)t + p->aux_off);
    char aad[STORE_ID_LEN + 32];
    long n;

    if (!*v) {
        *len = 0;
        return 0;
    }
    if (!is_text(v)) /* at most STORE_TEXT_MAX (sealed, that fits STORE_BLOB_MAX), and no
                      * control character: a TURN server could never match one (RFC 8265
                      * OpaqueString refuses them), so it could never work */
        return -EINVAL;
    (void)snprintf(aad, sizeof(aad), "%s/%s", t->id, p->name);
    n = api_secret_seal(&api->secret, aad, v, strlen(v), blob, STORE_BLOB_MAX);
    if (n < 0)
        return -EIO;
    *len = (size_t)n;
    return 0;
}

static int set_int(struct store_turn *t, const struct param *p, const char *v, int64_t min,
                   int64_t max)
{
    int64_t *field = (int64_t *)(void *)((char *)t + p->off);
    bool *has = (bool *)((char *)t + p->aux_off);

    if (!*v) {
        *has = false;
        return 0;
    }
    if (api_parse_int(v, min, max, field) < 0)
        return -EINVAL;
    *has = true;
    return 0;
}

static int set_type(struct store_turn *t, const char *v)
{
    if (!*v)
        v = "standard";
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcasecmp(v, types[i]) == 0) {
            (void)snprintf(t->type, sizeof(t->type), "%s", types[i]);
            return 0;
        }
    }
    return -EINVAL;
}

/* Copies a reference id to another object; -ENOENT when no such object exists. */
static int set_ref(struct store *st, char *field, const char *v, enum kind kind)
{
    char id[STORE_ID_LEN + 1];
    int r;

    if (!*v) {
        field[0] = '\0';
        return 0;
    }
    if (api_parse_id(v, id) < 0)
        return -ENOENT;
    r = kind == K_BRIDGE ? store_call_bridge_exists(st, id)
                         : store_call_bridge_group_exists(st, id);
    if (r < 0)
        return r;
    memcpy(field, id, sizeof(id));
    return 0;
}

/* Applies one parameter. Returns 0, -EINVAL (invalid value), -ENOENT (dangling reference) or a
 * store error. */
static int apply_one(const struct api *api, struct store *st, struct store_turn *t,
                     const struct param *p, const char *v)
{
    char *field = (char *)t + p->off;
    bool b;

    switch (p->kind) {
    case K_ADDR:
        if (*v && !api_is_host_port(v))
            return -EINVAL;
        (void)snprintf(field, STORE_TEXT_MAX + 1, "%s", v);
        return 0;
    case K_TEXT:
        if (!is_text(v))
            return -EINVAL;
        (void)snprintf(field, STORE_TEXT_MAX + 1, "%s", v);
        return 0;
    case K_SECRET:
        return set_secret(api, t, p, v);
    case K_TYPE:
        return set_type(t, v);
    case K_COUNT:
        return set_int(t, p, v, 0, INT32_MAX);
    case K_PORT:
        return set_int(t, p, v, 1, 65535);
    case K_BOOL:
        if (*v && api_parse_bool(v, &b) < 0)
            return -EINVAL;
        *(bool *)field = *v ? b : false;
        return 0;
    case K_BRIDGE:
    case K_GROUP:
        return set_ref(st, field, v, p->kind);
    }
    return -EINVAL;
}

/* Applies every parameter present in the form. On failure *reply holds the answer. */
static int apply_form(const struct api *api, struct store *st, const struct api_request *req,
                      struct store_turn *t, struct api_reply *reply)
{
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        const struct param *p = &params[i];
        const char *v = api_params_get(req->form, p->name);
        int r;

        if (!v)
            continue;
        r = apply_one(api, st, t, p, v);
        if (r == -EINVAL) {
            api_reply_param_error(reply, p->name, "invalidValue");
            return r;
        }
        if (r == -ENOENT) {
            api_reply_failure(reply, 400,
                              p->kind == K_BRIDGE ? "callBridgeDoesNotExist"
                                                  : "callBridgeGroupDoesNotExist");
            return r;
        }
        if (r < 0) {
            api_reply_err(reply, r);
            return r;
        }
    }
    return 0;
}

/* The elements a list shows; a GET of one object starts with the same. */
static void write_addresses(struct api_xml *x, const char *id, const char *server,
                            const char *client)
{
    api_xml_start(x, "turnServer");
    api_xml_attr(x, "id", id);
    if (server[0])
        api_xml_text(x, "serverAddress", server);
    if (client[0])
        api_xml_text(x, "clientAddress", client);
}

static void write_turn(struct api_xml *x, const struct store_turn *t)
{
    write_addresses(x, t->id, t->server_address, t->client_address);
    if (t->username[0])
        api_xml_text(x, "username", t->username);
    api_xml_int(x, "numRegistrations", t->has_num_registrations ? t->num_registrations : 0);
    api_xml_text(x, "type", t->type);
    if (t->has_tcp_port_number_override)
        api_xml_int(x, "tcpPortNumberOverride", t->tcp_port_number_override);
    if (t->call_bridge[0])
        api_xml_text(x, "callBridge", t->call_bridge);
    if (t->call_bridge_group[0])
        api_xml_text(x, "callBridgeGroup", t->call_bridge_group);
    api_xml_bool(x, "useShortTermCredentials", t->use_short_term_credentials);
    api_xml_end(x);
}

static int list_one(const struct store_turn_summary *t, void *userdata)
{
    write_addresses(userdata, t->id, t->server_address, t->client_address);
    api_xml_end(userdata);
    return 0;
}

static void turn_list(const struct api *api, struct store *st, const struct api_request *req,
                      struct api_reply *reply)
{
    const char *filter = api_params_get(req->query, "filter");
    size_t offset, limit, total = 0;
    struct api_xml *x = NULL;
    uint64_t generation;
    int r;

    if (api_page_from_query(req, API_PAGE_DEFAULT, &offset, &limit, reply) < 0)
        return;
    if (api_list_cached(api, "turnServers", filter, offset, limit, &generation, reply))
        return;
    r = store_read_begin(st);
    if (r < 0)
        goto out;
    r = store_turn_count(st, filter, &total);
    if (r < 0)
        goto out;
    x = api_xml_new();
    if (!x) {
        r = -ENOMEM;
        goto out;
    }
    api_xml_start(x, "turnServers");
    api_xml_attr_size(x, "total", total);
    r = store_turn_list(st, filter, offset, limit, list_one, x);
out:
    store_read_end(st);
    if (r < 0) {
        api_xml_free(x);
        api_reply_err(reply, r);
        return;
    }
    api_reply_xml(reply, x);
    api_list_remember(api, "turnServers", filter, offset, limit, generation, reply);
}

static void turn_create(const struct api *api, struct store *st, const struct api_request *req,
                        struct api_reply *reply)
{
    struct store_turn t = {0};
    int r;

    if (api_uuid_new(t.id) < 0) {
        api_reply_err(reply, -EIO);
        return;
    }
    (void)snprintf(t.type, sizeof(t.type), "standard");
    if (apply_form(api, st, req, &t, reply) < 0)
        return;
    r = store_turn_insert(st, &t);
    if (r < 0) {
        /* a reference deleted between the check and the insert is the same client error */
        if (r == -EINVAL)
            api_reply_failure(reply, 400, "callBridgeDoesNotExist");
        else if (r == -EDQUOT)
            api_reply_too_many(reply, "turnServers");
        else
            api_reply_err(reply, r);
        return;
    }
    api_changed(api);
    api_turn_probe(api, &t); /* probed at once */
    reply->status = 200;
    (void)snprintf(reply->location, sizeof(reply->location), "/api/v1/turnServers/%s", t.id);
}

static void turn_get(struct store *st, const char *id, struct api_reply *reply)
{
    struct store_turn t;
    struct api_xml *x;
    int r = store_turn_get(st, id, &t);

    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
        return;
    }
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    x = api_reply_xml_new(reply);
    if (!x)
        return;
    write_turn(x, &t);
    api_reply_xml(reply, x);
}

static void turn_update(const struct api *api, struct store *st, const struct api_request *req,
                        const char *id, struct api_reply *reply)
{
    struct store_turn t;
    int r;

    r = store_begin(st);
    if (r < 0) {
        api_reply_err(reply, r);
        return;
    }
    r = store_turn_get(st, id, &t);
    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
        goto out;
    }
    if (r == 0 && apply_form(api, st, req, &t, reply) < 0)
        goto out; /* reply already set */
    if (r == 0)
        r = store_turn_update(st, &t);
    if (r == 0)
        r = store_commit(st);
    if (r < 0) {
        api_reply_err(reply, r);
        goto out;
    }
    api_changed(api);
    api_turn_probe(api, &t); /* a changed server starts its history afresh */
    reply->status = 200;
out:
    store_rollback(st);
}

static void turn_delete(const struct api *api, struct store *st, const char *id,
                        struct api_reply *reply)
{
    int r = store_turn_delete(st, id);

    if (r == -ENOENT) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
    } else if (r < 0) {
        api_reply_err(reply, r);
    } else {
        api_changed(api);
        if (api->prober)
            turn_prober_remove(api->prober, id);
        reply->status = 200;
    }
}

void api_res_turn(const struct api *api, struct store *st, const struct api_request *req,
                  const char *id, struct api_reply *reply)
{
    char lid[STORE_ID_LEN + 1];

    if (!id) {
        if (req->method == API_POST)
            turn_create(api, st, req, reply);
        else
            turn_list(api, st, req, reply);
        return;
    }
    if (api_parse_id(id, lid) < 0) {
        api_reply_failure(reply, 404, "turnServerDoesNotExist");
        return;
    }
    if (req->method == API_PUT)
        turn_update(api, st, req, lid, reply);
    else if (req->method == API_DELETE)
        turn_delete(api, st, lid, reply);
    else
        turn_get(st, lid, reply);
}
