/* api/res/ldap.h: the LDAP configuration objects and syncs (api/res/ldap.c) and the users the
 * syncs import (api/res/users.c). */
#ifndef API_RES_LDAP_H
#define API_RES_LDAP_H

#include "api/res/resource.h"

extern const struct api_resource api_res_ldap_servers, api_res_ldap_mappings, api_res_ldap_sources,
    api_res_directory_search_locations, api_res_ldap_template_sources, api_res_ldap_syncs,
    api_res_ldap_users;
/* /ldapSyncs[/<id>]: the generic engine, and DELETE as the API reference has it. */
void api_res_ldap_sync(const struct api *api, struct store *st, const struct api_request *req,
                       const char *id, struct api_reply *reply);

#endif
