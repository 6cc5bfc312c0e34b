/* api/config.c: flags and the --config file share one table of keys, so every option can be
 * given either way; --help prints the same table. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/config.h"
#include "api/res/parse.h"

struct option_def {
    const char *key;
    const char *arg;
    const char *help;
};

static const struct option_def options[] = {
    {"listen", "PORTS", "comma-separated HTTPS ports (default 8443; e.g. 445,8443; 0 = any)"},
    {"bind", "ADDR", "numeric IPv4 or IPv6 address to listen on (default 0.0.0.0)"},
    {"data-dir", "DIR", "database, keys and certificate (default /var/lib/callbridge)"},
    {"database", "URL",
     "configuration database: postgresql://... shared by call bridges, or a SQLite file "
     "(default DATA-DIR/callbridge.db)"},
    {"cert", "FILE", "PEM certificate (default: self-signed DATA-DIR/cert.pem)"},
    {"key", "FILE", "PEM private key for --cert (default DATA-DIR/key.pem)"},
    {"log-level", "LEVEL", "error, warn, info (default) or debug"},
    {"threads", "N", "HTTP worker threads per port (default: one per core)"},
    {"connection-limit", "N", "open connections per port (default 1000)"},
    {"connection-timeout", "SECONDS", "idle connection timeout (default 30)"},
    {"per-ip-connection-limit", "N", "open connections per client address and port (default 100)"},
    {"header-timeout", "SECONDS", "for the TLS handshake and a request's headers (default 10)"},
    {"body-timeout", "SECONDS", "for a request's body once its headers are in (default 30)"},
    {"probe-interval", "SECONDS", "how often each TURN server is probed (default 30)"},
    {"guest-timeout", "SECONDS",
     "a guest's browser silent this long (no consent check, no media) is dropped (default 30)"},
    {"host-candidate", "ADDR[=PUBLIC]",
     "offer guests' browsers a UDP port on ADDR (as PUBLIC behind a 1:1 NAT) besides TURN"},
    {"max-legs", "N", "call legs with media at once (default: what open files allow)"},
    {"max-calls", "N", "calls at once (default 10000)"},
    {"min-free-mb", "N",
     "alarm databaseLowDiskSpace under N MiB free in the data directory (default 64)"},
    /* cluster membership (api/cluster.h, docs/cluster.md) */
    {"node-name", "NAME",
     "this call bridge's name in a cluster (its callBridges object; default: the host name)"},
    {"node-address", "URL",
     "where other nodes and guests reach it (default https://HOSTNAME:FIRST-LISTEN-PORT)"},
    {"heartbeat-interval", "SECONDS",
     "how often a cluster node heartbeats; down after 3 missed (default 5)"},
};

/* Generous defaults: a cap stops a runaway script or a hostile client from filling the disk
 * (each coSpace costs about 0.5 KB with its search index), not an operator's plan. */
static const struct cap_def {
    const char *key;
    const char *collection;
    const char *table; /* the store's table */
    unsigned dflt;
} caps[API_CAP__N] = {
    [API_CAP_COSPACES] = {"max-cospaces", "coSpaces", "cospace", 1000000},
    [API_CAP_INBOUND_RULES] = {"max-inbound-dial-plan-rules", "inboundDialPlanRules",
                               "inbound_dial_plan_rule", 100000},
    [API_CAP_TURN_SERVERS] = {"max-turn-servers", "turnServers", "turn_server", 10000},
    [API_CAP_TENANTS] = {"max-tenants", "tenants", "tenant", 100000},
    [API_CAP_CALL_BRIDGES] = {"max-call-bridges", "callBridges", "call_bridge", 1000},
    [API_CAP_CALL_BRIDGE_GROUPS] = {"max-call-bridge-groups", "callBridgeGroups",
                                    "call_bridge_group", 1000},
};

int api_config_apply_caps(const struct api_config *c)
{
    for (size_t i = 0; i < API_CAP__N; i++) {
        int r = store_set_max_rows(caps[i].table, c->max_objects[i]);

        if (r < 0)
            return r;
    }
    return 0;
}

static void usage(void)
{
    printf("Usage: callbridged [OPTION...]\n"
           "       callbridged [--data-dir DIR] user add|passwd|delete NAME   (password on stdin)\n"
           "       callbridged [--data-dir DIR] user list\n"
           "       callbridged [--data-dir DIR] backup DEST-DIR   (database and secret.key)\n\n"
           "CMS-compatible meeting-server API over HTTPS.\n\n");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        char opt[64];

        (void)snprintf(opt, sizeof(opt), "%s %s", options[i].key, options[i].arg);
        printf("  --%-33s %s\n", opt, options[i].help);
    }
    for (size_t i = 0; i < API_CAP__N; i++) {
        char opt[48];

        (void)snprintf(opt, sizeof(opt), "%s N", caps[i].key);
        printf("  --%-33s most %s (default %u; 0 = no cap)\n", opt, caps[i].collection,
               caps[i].dflt);
    }
    printf("  --config FILE                       read KEY = VALUE lines with the keys above\n"
           "                                      ([sections], # or ; comments); flags win\n"
           "  --help                              this text\n"
           "  --version                           print the version\n");
}

static bool is_known(const char *key)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strcmp(key, options[i].key) == 0)
            return true;
    for (size_t i = 0; i < API_CAP__N; i++)
        if (strcmp(key, caps[i].key) == 0)
            return true;
    return strcmp(key, "config") == 0;
}

static void defaults(struct api_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ports[0] = 8443;
    c->nports = 1;
    (void)snprintf(c->bind, sizeof(c->bind), "0.0.0.0");
    (void)snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/callbridge");
    c->log_level = BASE_LOG_INFO;
    c->connection_limit = 1000;
    c->connection_timeout_s = 30;
    c->per_ip_connection_limit = 100;
    c->header_timeout_s = 10;
    c->body_timeout_s = 30;
    c->probe_interval_s = 30;
    c->guest_timeout_s = 30;
    c->max_calls = 10000;
    c->min_free_mb = 64;
    c->heartbeat_interval_s = 5;
    for (size_t i = 0; i < API_CAP__N; i++)
        c->max_objects[i] = caps[i].dflt;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int set_ports(struct api_config *c, const char *v)
{
    uint16_t ports[API_MAX_LISTEN];
    char buf[128], *save = NULL, *tok;
    size_t n = 0;

    if (strlen(v) >= sizeof(buf))
        return -EINVAL;
    strcpy(buf, v);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t port;

        tok = trim(tok);
        if (n == API_MAX_LISTEN || api_parse_int(tok, 0, 65535, &port) < 0)
            return -EINVAL;
        for (size_t i = 0; i < n; i++)
            if (port != 0 && ports[i] == port)
                return -EINVAL;
        ports[n++] = (uint16_t)port;
    }
    if (n == 0)
        return -EINVAL;
    memcpy(c->ports, ports, sizeof(ports));
    c->nports = n;
    return 0;
}

static int set_str(char *dst, size_t cap, const char *v)
{
    if (!*v || strlen(v) >= cap)
        return -EINVAL;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_uint(unsigned *dst, const char *v, int64_t min, int64_t max)
{
    int64_t n;

    if (api_parse_int(v, min, max, &n) < 0)
        return -EINVAL;
    *dst = (unsigned)n;
    return 0;
}

/* A numeric address with port 0; *ret_any: it is 0.0.0.0 or ::. */
static int numeric_address(const char *v, struct sockaddr_storage *ret, bool *ret_any)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ret;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;

    memset(ret, 0, sizeof(*ret));
    if (inet_pton(AF_INET, v, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        *ret_any = in->sin_addr.s_addr == htonl(INADDR_ANY);
        return 0;
    }
    if (inet_pton(AF_INET6, v, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        *ret_any = memcmp(&in6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0;
        return 0;
    }
    return -EINVAL;
}

int api_config_host_candidate(const char *v, struct sockaddr_storage *ret_bind,
                              struct sockaddr_storage *ret_public)
{
    char local[64];
    const char *eq = strchr(v, '=');
    size_t n = eq ? (size_t)(eq - v) : strlen(v);
    bool any, public_any = false;

    if (n >= sizeof(local))
        return -EINVAL;
    memcpy(local, v, n);
    local[n] = '\0';
    if (numeric_address(local, ret_bind, &any) < 0)
        return -EINVAL;
    *ret_public = *ret_bind;
    if (eq && numeric_address(eq + 1, ret_public, &public_any) < 0)
        return -EINVAL;
    /* a browser cannot send to 0.0.0.0, and a relay of one family reaches only that family */
    if (public_any || (any && !eq) || ret_public->ss_family != ret_bind->ss_family)
        return -EINVAL;
    return 0;
}

int api_config_set(struct api_config *c, const char *key, const char *v)
{
    unsigned char addr[16];

    if (strcmp(key, "listen") == 0)
        return set_ports(c, v);
    if (strcmp(key, "bind") == 0) {
        if (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)
            return -EINVAL;
        return set_str(c->bind, sizeof(c->bind), v);
    }
    if (strcmp(key, "data-dir") == 0)
        return set_str(c->data_dir, sizeof(c->data_dir), v);
    if (strcmp(key, "database") == 0)
        return set_str(c->database, sizeof(c->database), v);
    if (strcmp(key, "cert") == 0)
        return set_str(c->cert, sizeof(c->cert), v);
    if (strcmp(key, "key") == 0)
        return set_str(c->key, sizeof(c->key), v);
    if (strcmp(key, "log-level") == 0)
        return api_log_parse_level(v, &c->log_level);
    if (strcmp(key, "threads") == 0)
        return set_uint(&c->threads, v, 1, 256);
    if (strcmp(key, "connection-limit") == 0)
        return set_uint(&c->connection_limit, v, 1, 100000);
    if (strcmp(key, "per-ip-connection-limit") == 0)
        return set_uint(&c->per_ip_connection_limit, v, 1, 100000);
    if (strcmp(key, "connection-timeout") == 0)
        return set_uint(&c->connection_timeout_s, v, 1, 3600);
    if (strcmp(key, "header-timeout") == 0)
        return set_uint(&c->header_timeout_s, v, 1, 3600);
    if (strcmp(key, "body-timeout") == 0)
        return set_uint(&c->body_timeout_s, v, 1, 3600);
    if (strcmp(key, "probe-interval") == 0)
        return set_uint(&c->probe_interval_s, v, 1, 86400);
    if (strcmp(key, "guest-timeout") == 0)
        return set_uint(&c->guest_timeout_s, v, 1, 3600);
    if (strcmp(key, "host-candidate") == 0) {
        struct sockaddr_storage b, p;

        if (api_config_host_candidate(v, &b, &p) < 0)
            return -EINVAL;
        return set_str(c->host_candidate, sizeof(c->host_candidate), v);
    }
    for (size_t i = 0; i < API_CAP__N; i++)
        if (strcmp(key, caps[i].key) == 0)
            return set_uint(&c->max_objects[i], v, 0, 1000000000);
    if (strcmp(key, "max-legs") == 0)
        return set_uint(&c->max_legs, v, 1, 1000000);
    if (strcmp(key, "max-calls") == 0)
        return set_uint(&c->max_calls, v, 1, 1000000);
    if (strcmp(key, "min-free-mb") == 0)
        return set_uint(&c->min_free_mb, v, 0, 100000000);
    /* cluster membership */
    if (strcmp(key, "node-name") == 0)
        return set_str(c->node_name, sizeof(c->node_name), v);
    if (strcmp(key, "node-address") == 0)
        return set_str(c->node_address, sizeof(c->node_address), v);
    if (strcmp(key, "heartbeat-interval") == 0)
        return set_uint(&c->heartbeat_interval_s, v, 1, 3600);
    return -ENOENT;
}

static int load_file(struct api_config *c, const char *path)
{
    char line[1024];
    unsigned lineno = 0;
    FILE *f = fopen(path, "re");
    int r = 0;

    if (!f) {
        fprintf(stderr, "callbridged: cannot read config file %s: %s\n", path, strerror(errno));
        return -EINVAL;
    }
    while (r == 0 && fgets(line, sizeof(line), f)) {
        char *s = trim(line), *eq;

        lineno++;
        if (!*s || *s == '#' || *s == ';' || *s == '[')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "callbridged: %s:%u: expected KEY = VALUE\n", path, lineno);
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        r = api_config_set(c, trim(s), trim(eq + 1));
        if (r == -ENOENT)
            fprintf(stderr, "callbridged: %s:%u: unknown key '%s'\n", path, lineno, trim(s));
        else if (r < 0)
            fprintf(stderr, "callbridged: %s:%u: invalid value for %s: '%s'\n", path, lineno,
                    trim(s), trim(eq + 1));
    }
    fclose(f);
    return r < 0 ? -EINVAL : 0;
}

/* Splits "--key=value" / "--key value"; returns the value or NULL when missing. */
static const char *flag_value(int argc, char **argv, int *i, char *key, size_t cap)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);

    (void)snprintf(key, cap, "%.*s", (int)klen, arg);
    if (eq)
        return eq + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int api_config_parse(struct api_config *c, int argc, char **argv)
{
    const char *config = NULL;

    defaults(c);
    for (int i = 1; i < argc; i++) { /* pass 1: --help, --version, --config, positionals */
        char key[64];
        const char *v;

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("callbridged %s\n", API_VERSION);
            return 1;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            if (c->nargs == sizeof(c->args) / sizeof(c->args[0])) {
                fprintf(stderr, "callbridged: unexpected argument '%s' (see --help)\n", argv[i]);
                return -EINVAL;
            }
            c->args[c->nargs++] = argv[i];
            continue;
        }
        v = flag_value(argc, argv, &i, key, sizeof(key));
        if (strcmp(key, "config") == 0)
            config = v;
    }
    if (config && load_file(c, config) < 0)
        return -EINVAL;
    for (int i = 1; i < argc; i++) { /* pass 2: flags override the file */
        char key[64];
        const char *v;
        int r;

        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        v = flag_value(argc, argv, &i, key, sizeof(key));
        if (!is_known(key)) {
            fprintf(stderr, "callbridged: unknown option '--%s' (see --help)\n", key);
            return -EINVAL;
        }
        if (!v) {
            fprintf(stderr, "callbridged: option '--%s' needs a value (see --help)\n", key);
            return -EINVAL;
        }
        if (strcmp(key, "config") == 0)
            continue;
        r = api_config_set(c, key, v);
        if (r < 0) {
            fprintf(stderr, "callbridged: invalid value for --%s: '%s' (see --help)\n", key, v);
            return -EINVAL;
        }
    }
    return 0;
}
