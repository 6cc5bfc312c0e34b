/* api/res/turn.c: /api/v1/turnServers (cms-api.md section 2) on the generic resource engine
 * (api/res/resource.c): one descriptor and the hooks that tell the prober.
 *
 * DESIGN: passwords and shared secrets are sealed (api/secret.c) bound to "<id>/<field>" and
 * never appear in an answer. The prober is told of every committed create or change (a changed
 * server starts its history afresh) and of every delete; it reads the sealed secrets itself
 * (api/res/turn_status.c). numRegistrations is shown as 0 when not set, and type before it
 * although it is checked after, as CMS does. */
#include <stddef.h>
#include <stdint.h>

#include "api/res/prober_link.h"
#include "api/res/resource.h"
#include "turnclient/turnclient.h"

/* The CMS spellings; input matches in any case (PsCms sends "Cms"). */
static const char *const types[] = {"acano", "cms", "expressway", "lyncEdge", "standard", NULL};

static const struct api_field fields[] = {
    {.param = "serverAddress", .col = STORE_TURN_SERVER, .kind = AK_HOST_PORT, .flags = AF_LIST},
    {.param = "clientAddress", .col = STORE_TURN_CLIENT, .kind = AK_HOST_PORT, .flags = AF_LIST},
    {.param = "username", .col = STORE_TURN_USERNAME, .kind = AK_TEXT},
    {.param = "password", .col = STORE_TURN_PASSWORD, .kind = AK_SECRET, .flags = AF_HIDDEN},
    {.param = "type", .col = STORE_TURN_TYPE, .kind = AK_ENUM, .enums = types, .dflt = "standard"},
    {.param = "numRegistrations",
     .col = STORE_TURN_REGISTRATIONS,
     .kind = AK_INT,
     .min = 0,
     .max = INT32_MAX,
     .unset = "0"},
    {.param = "tcpPortNumberOverride",
     .col = STORE_TURN_TCP_PORT,
     .kind = AK_INT,
     .min = 1,
     .max = 65535},
    {.param = "callBridge",
     .col = STORE_TURN_BRIDGE,
     .kind = AK_REF,
     .ref = &store_table_call_bridge,
     .ref_missing = "callBridgeDoesNotExist"},
    {.param = "callBridgeGroup",
     .col = STORE_TURN_GROUP,
     .kind = AK_REF,
     .ref = &store_table_call_bridge_group,
     .ref_missing = "callBridgeGroupDoesNotExist"},
    {.param = "useShortTermCredentials",
     .col = STORE_TURN_SHORT_TERM,
     .kind = AK_BOOL,
     .dflt = "0"},
    {.param = "sharedSecret",
     .col = STORE_TURN_SHARED_SECRET,
     .kind = AK_SECRET,
     .flags = AF_HIDDEN},
};

/* numRegistrations (5) is shown before type (4). */
static const unsigned char order[] = {0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10};
_Static_assert(sizeof(order) == sizeof(fields) / sizeof(fields[0]), "one place per field");

static const struct api_filter filters[] = {
    {.param = "filter"}, /* a substring of serverAddress or clientAddress, in any case */
};

/* A created or changed server is probed at once, from what was committed. */
static void probe(const struct api *api, struct store *st, const char *id)
{
    struct store_turn t;

    if (store_turn_get(st, id, &t) == 0)
        api_turn_probe(api, &t);
}

static void forget(const struct api *api, struct store *st, const char *id)
{
    (void)st;
    if (api->prober)
        turn_prober_remove(api->prober, id);
}

const struct api_resource api_res_turn_servers = {
    .collection = "turnServers",
    .element = "turnServer",
    .missing = "turnServerDoesNotExist",
    .in_use = "turnServerInUse",
    .table = &store_table_turn_server,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
    .filters = filters,
    .nfilters = sizeof(filters) / sizeof(filters[0]),
    .page_default = API_PAGE_DEFAULT,
    .after_write = probe,
    .after_delete = forget,
    .order = order,
};
