/* api/config.h: callbridged's configuration from flags and an optional INI-style file. */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/http/http.h"
#include "api/log.h"
#include "store/store.h"

/* Caps on the objects clients may create, one per collection (api/config.c's caps table). */
enum api_cap {
    API_CAP_COSPACES,
    API_CAP_INBOUND_RULES,
    API_CAP_TURN_SERVERS,
    API_CAP_TENANTS,
    API_CAP_CALL_BRIDGES,
    API_CAP_CALL_BRIDGE_GROUPS,
    API_CAP__N
};

struct api_config {
    uint16_t ports[API_MAX_LISTEN];
    size_t nports;
    char bind[64];
    char data_dir[PATH_MAX / 2];
    /* "" = <data_dir>/callbridge.db; else the store's location (store_open()), e.g. a
     * postgresql:// URL shared by several call bridges */
    char database[PATH_MAX / 2];
    char cert[PATH_MAX / 2]; /* "" = <data_dir>/cert.pem, created on first start */
    char key[PATH_MAX / 2];  /* "" = <data_dir>/key.pem */
    enum base_log_level log_level;
    unsigned threads; /* 0 = one per core */
    unsigned connection_limit;
    unsigned connection_timeout_s;
    unsigned per_ip_connection_limit;
    unsigned header_timeout_s; /* TLS handshake and request headers */
    unsigned body_timeout_s;   /* a request body, once its headers are in */
    unsigned probe_interval_s; /* between two probes of a TURN server */
    unsigned guest_timeout_s;  /* a silent guest's leg ends (media_config.rtc_silence_s) */
    char host_candidate[100];  /* "ADDR" or "ADDR=PUBLIC" (api_config_host_candidate); "" none */
    /* the most objects of each collection (enum api_cap); 0 = no cap */
    unsigned max_objects[API_CAP__N];
    unsigned max_legs;  /* call legs with media at once; 0 = what RLIMIT_NOFILE allows */
    unsigned max_calls; /* calls at once (they live in memory) */
    /* the alarm databaseLowDiskSpace is raised under this many MiB free in data_dir */
    unsigned min_free_mb;
    /* cluster membership (api/cluster.h; on a shared PostgreSQL database only) */
    char node_name[STORE_TEXT_MAX + 1];    /* "" = the host name */
    char node_address[STORE_TEXT_MAX + 1]; /* "" = https://<host name>:<first listening port> */
    unsigned heartbeat_interval_s;
    /* positional arguments (the "user ..." subcommand), pointing into argv */
    char *args[4];
    size_t nargs;
};

/* Parses argv. Flags may come in any order; the --config file (if any) is read first, so flags
 * override it. Returns 0, 1 when --help or --version was printed (exit 0), or -EINVAL after
 * printing one line naming the problem to stderr (exit 2). */
int api_config_parse(struct api_config *c, int argc, char **argv);

/* Applies one setting by its key ("listen", "data-dir", ...). Returns 0, -ENOENT (unknown key)
 * or -EINVAL (bad value). Exposed for the tests. */
int api_config_set(struct api_config *c, const char *key, const char *value);

/* --host-candidate's value: "ADDR" (bound and offered) or "ADDR=PUBLIC" (bound on ADDR, which
 * may be 0.0.0.0 or ::, offered as PUBLIC: the public side of a 1:1 NAT), numeric, one family.
 * Fills the two addresses (port 0). Returns 0 or -EINVAL. */
int api_config_host_candidate(const char *v, struct sockaddr_storage *ret_bind,
                              struct sockaddr_storage *ret_public);

/* Hands the object caps to the store (store_set_max_rows): a POST beyond one is refused.
 * Call before any thread writes. Returns 0 or a negative errno. */
int api_config_apply_caps(const struct api_config *c);

#endif
