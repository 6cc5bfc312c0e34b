/* api/ldap_sync.h: LDAP syncs (POST /ldapSyncs, docs/api.md "LDAP"): a thread of its own takes
 * each pending sync in creation order, reads every LDAP source it covers from its directory
 * server with OpenLDAP's libldap, and writes the users (GET /users) and their coSpaces. */
#ifndef API_LDAP_SYNC_H
#define API_LDAP_SYNC_H

#include <stdbool.h>
#include <stddef.h>

struct api;
struct api_ldap;

/* Bounds of one source's read: entries (a directory with more fails the sync with ldapError,
 * nothing written) and seconds for the connection and for each page of the search. */
#define API_LDAP_MAX_ENTRIES 100000
#define API_LDAP_PAGE 500
#define API_LDAP_CONNECT_S 5
#define API_LDAP_SEARCH_S 30
/* The most syncs the table holds (pending, running and finished ones kept): tooManyLdapSyncs. */
#define API_LDAP_MAX_SYNCS 100

/* Starts the sync thread on its own connection to the database at db_path. api (its secret
 * opens the servers' passwords; its list cache is told of every write) must outlive the thread.
 * A sync left inProgress by a stopped process is run again. Returns 0, -ENOMEM or a store
 * error. */
int api_ldap_sync_start(const char *db_path, const struct api *api, struct api_ldap **ret);
/* Stops the thread (a sync running is abandoned between two LDAP operations and left to the
 * next start) and frees l. NULL is a no-op. */
void api_ldap_sync_stop(struct api_ldap *l);
/* A sync was created: look now rather than at the next tick. Thread-safe; l may be NULL. */
void api_ldap_sync_wake(struct api_ldap *l);

/* Expands a mapping template: each $attr$ becomes value(attr) (the attribute's first value; ""
 * when the entry has none, which sets *ret_missing), "$$" a '$'. Writes at most cap bytes,
 * NUL-terminated. Returns the length, or -E2BIG / -EINVAL (an unclosed '$'). Pure. */
typedef const char *(*api_ldap_attr_fn)(void *userdata, const char *attr);
int api_ldap_expand(const char *tmpl, api_ldap_attr_fn value, void *userdata, char *out, size_t cap,
                    bool *ret_missing);

#endif
