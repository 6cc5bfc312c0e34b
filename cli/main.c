/* cli/main.c: cbctl, the command-line client of the callbridge (CMS) API, and a Nagios/Icinga
 * plugin for TURN health. This file reads the command line and runs the row of the command
 * table (commands.c) it names; the exit code is that command's.
 *
 *   cbctl [connection options] RESOURCE VERB [ARGS] [--param value ...] [--xml|--json]
 *
 * Connection: flags, then CBCTL_URL / CBCTL_USER / CBCTL_PASSWORD / CBCTL_PASSWORD_FILE, then
 * ~/.config/cbctl/config ($XDG_CONFIG_HOME), "key = value" lines: url, user, password-file,
 * cacert, insecure. Exit codes: 0 done, 1 server error, 2 usage, 3 not found, 4 refused by the
 * server (a 4xx: bad parameters, bad credentials), 5 no connection (TLS included). The check
 * command uses the plugin codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. man cbctl(1)
 * says the same for users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cli/cli.h"

#define MAX_WORDS 16

/* What the command line says, before the settings file and the environment are read. */
struct args {
    struct cli_conn flags;
    bool insecure;
    const char *password_file;
    char *words[MAX_WORDS];
    size_t nwords;
    bool help;
};

/* --limit, --warn-rtt, --crit-rtt: a count, 0 or more. */
static int number_flag(const char *flag, const char *value, long *ret)
{
    char *end;
    long v = strtol(value, &end, 10);

    if (!*value || *end || v < 0) {
        cli_fail("%s takes a number, not '%s'", flag, value);
        return CLI_EX_USAGE;
    }
    *ret = v;
    return 0;
}

/* One "--name value" pair: a connection setting, a number, or a parameter for the API. */
static int value_flag(struct cli_opts *o, struct args *a, const char *flag, const char *value)
{
    const char *name = flag + 2;

    if (strcmp(name, "url") == 0)
        snprintf(a->flags.url, sizeof(a->flags.url), "%s", value);
    else if (strcmp(name, "user") == 0)
        snprintf(a->flags.user, sizeof(a->flags.user), "%s", value);
    else if (strcmp(name, "password-file") == 0)
        a->password_file = value;
    else if (strcmp(name, "cacert") == 0)
        snprintf(a->flags.cacert, sizeof(a->flags.cacert), "%s", value);
    else if (strcmp(name, "limit") == 0)
        return number_flag(flag, value, &o->limit);
    else if (strcmp(name, "warn-rtt") == 0)
        return number_flag(flag, value, &o->warn_rtt);
    else if (strcmp(name, "crit-rtt") == 0)
        return number_flag(flag, value, &o->crit_rtt);
    else if (o->nparams < CLI_MAX_PARAMS) {
        o->params[o->nparams][0] = name;
        o->params[o->nparams++][1] = value;
    } else {
        cli_fail("more than %d parameters", CLI_MAX_PARAMS);
        return CLI_EX_USAGE;
    }
    return 0;
}

/* Splits argv into positional words and options; --PARAMETER VALUE pairs go to o->params. */
static int parse_argv(int argc, char **argv, struct cli_opts *o, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int r;

        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            a->help = true;
        } else if (strcmp(s, "--xml") == 0) {
            o->out = CLI_OUT_XML;
        } else if (strcmp(s, "--json") == 0) {
            o->out = CLI_OUT_JSON;
        } else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
            o->out = CLI_OUT_IDS;
        } else if (strcmp(s, "--insecure") == 0 || strcmp(s, "-k") == 0) {
            a->insecure = true;
        } else if (strncmp(s, "--", 2) == 0 && s[2]) {
            if (i + 1 >= argc) {
                cli_fail("%s needs a value", s);
                return CLI_EX_USAGE;
            }
            r = value_flag(o, a, s, argv[++i]);
            if (r)
                return r;
        } else if (a->nwords < MAX_WORDS) {
            a->words[a->nwords++] = argv[i];
        } else {
            cli_fail("too many arguments");
            return CLI_EX_USAGE;
        }
    }
    return 0;
}

/* The connection: defaults, then the file, then the environment, then the flags. */
static int settle_conn(struct cli_conn *c, const struct args *a)
{
    size_t n;

    snprintf(c->url, sizeof(c->url), "https://127.0.0.1:8443");
    snprintf(c->user, sizeof(c->user), "admin");
    if (cli_load_settings(c) < 0)
        return CLI_EX_USAGE;
    if (a->flags.url[0])
        snprintf(c->url, sizeof(c->url), "%s", a->flags.url);
    if (a->flags.user[0])
        snprintf(c->user, sizeof(c->user), "%s", a->flags.user);
    if (a->flags.cacert[0])
        snprintf(c->cacert, sizeof(c->cacert), "%s", a->flags.cacert);
    if (a->insecure)
        c->insecure = true;
    if (a->password_file && cli_read_password_file(a->password_file, c) < 0)
        return CLI_EX_USAGE;
    n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    return 0;
}

/* Runs the row words name; a resource without such a row gets its usage. */
static int run(struct cli_opts *o, char **w, size_t n, bool help)
{
    const struct cli_cmd *res, *cmd;
    size_t first;

    if (n == 0) {
        cli_usage_top(help ? stdout : stderr);
        return help ? CLI_EX_OK : CLI_EX_USAGE;
    }
    if (strcmp(w[0], "__complete") == 0)
        return cli_complete(o, w + 1, n - 1);
    res = cli_find_resource(w[0]);
    if (!res) {
        cli_fail("unknown resource '%s' (cbctl --help lists them)", w[0]);
        return CLI_EX_USAGE;
    }
    cmd = help ? NULL : cli_find_cmd(w, n);
    if (!cmd) {
        cli_usage_of(help ? stdout : stderr, res);
        return help ? CLI_EX_OK : cli_usage_exit(res);
    }
    first = cmd->verb ? 2 : 1;
    return cmd->handler(o, cmd, w + first, n - first);
}

int main(int argc, char **argv)
{
    struct cli_opts o = {.out = CLI_OUT_TABLE, .limit = -1, .warn_rtt = -1, .crit_rtt = -1};
    struct args a = {.nwords = 0};
    int r = parse_argv(argc, argv, &o, &a);

    if (!r)
        r = settle_conn(&o.conn, &a);
    if (r) {
        /* the check reports UNKNOWN for any trouble of its own */
        const struct cli_cmd *res = a.nwords ? cli_find_resource(a.words[0]) : NULL;

        return res && res->plugin ? CLI_NAGIOS_UNKNOWN : r;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    r = run(&o, a.words, a.nwords, a.help);
    xmlCleanupParser();
    curl_global_cleanup();
    explicit_bzero(o.conn.password, sizeof(o.conn.password));
    return r;
}
