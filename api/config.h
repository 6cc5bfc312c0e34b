/* api/config.h: callbridged's configuration from flags and an optional INI-style file. */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http.h"
#include "api/log.h"

struct api_config {
    uint16_t ports[API_MAX_LISTEN];
    size_t nports;
    char bind[64];
    char data_dir[PATH_MAX / 2];
    char cert[PATH_MAX / 2]; /* "" = <data_dir>/cert.pem, created on first start */
    char key[PATH_MAX / 2];  /* "" = <data_dir>/key.pem */
    enum api_log_level log_level;
    unsigned threads; /* 0 = one per core */
    unsigned connection_limit;
    unsigned connection_timeout_s;
    unsigned per_ip_connection_limit;
    unsigned probe_interval_s; /* between two probes of a TURN server */
    unsigned max_legs;         /* call legs with media at once; 0 = what RLIMIT_NOFILE allows */
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

#endif
