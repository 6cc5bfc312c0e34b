/* api/res/system.h: the node's /api/v1/system objects: status, load, database, diagnostics
 * (api/res/system.c), licensing (api/res/licensing.c), alarms (api/res/alarms.h). */
#ifndef API_RES_SYSTEM_H
#define API_RES_SYSTEM_H

#include <stdint.h>

#include "api/api.h"

/* The CMS API level callbridged answers (softwareVersion): the level of the Cisco reference
 * it implements (the API Blueprint and Postman collection of CMS 3.0). docs/api.md, "Monitoring",
 * says why callbridged's own version (API_VERSION) is not given there. */
#define API_CMS_LEVEL "3.0.0"

/* What the node's system objects keep between requests: its ids (hostId, clusterId), the
 * media thread's load over the last interval, and the CDR correlator index. */
struct api_system;

/* Reads the node's ids from <data_dir>/node.id, made on the first start. A data directory
 * that cannot be written gets ids for this run only (logged). Returns 0 or -ENOMEM. */
int api_system_new(const char *data_dir, struct api_system **ret);
void api_system_free(struct api_system *s); /* NULL is a no-op */
/* CDR HOOK: the CDR sender (not built here) calls this with the correlator index of the next
 * record it will send (cdrCorrelatorIndex; 0 until one was sent). Thread-safe. */
void api_system_set_cdr_index(struct api_system *s, uint64_t next_index);
/* This node's hostId into out[37] ("" without an api_system). */
void api_system_host_id(const struct api *api, char *out);
/* The clusterId shown: this node's own (node.id), or its cluster's once set (api/cluster.c,
 * before the HTTP server starts; s NULL is a no-op). */
void api_system_cluster_id(const struct api *api, char *out);

/* The routes' handlers (api/res/routes.c): GET only, id the :id segment or NULL. */
#define API_SYSTEM_ROUTE(name)                                                                     \
    void name(const struct api *api, struct store *st, const struct api_request *req,              \
              const char *id, struct api_reply *reply)
API_SYSTEM_ROUTE(api_res_system_status);               /* /system/status */
API_SYSTEM_ROUTE(api_res_system_load);                 /* /system/load */
API_SYSTEM_ROUTE(api_res_system_database);             /* /system/database */
API_SYSTEM_ROUTE(api_res_system_diagnostics);          /* /system/diagnostics[/<id>] */
API_SYSTEM_ROUTE(api_res_system_diagnostics_contents); /* /system/diagnostics/<id>/contents */
/* api/res/licensing.c: answered for an open server with no licence file. */
API_SYSTEM_ROUTE(api_res_licensing);                /* /system/licensing */
API_SYSTEM_ROUTE(api_res_cluster_licensing);        /* /clusterLicensing */
API_SYSTEM_ROUTE(api_res_multiparty_licensing);     /* /system/multipartyLicensing */
API_SYSTEM_ROUTE(api_res_active_personal_licenses); /* .../activePersonalLicenses */
API_SYSTEM_ROUTE(api_res_mp_license_usage);         /* /system/MPLicenseUsage */
API_SYSTEM_ROUTE(api_res_mp_known_hosts);           /* /system/MPLicenseUsage/knownHosts */

#endif
