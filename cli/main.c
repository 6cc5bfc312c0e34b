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

enum opt_id {
    O_URL,
    O_USER,
    O_PASSWORD_FILE,
    O_CACERT,
    O_INSECURE,
    O_XML,
    O_JSON,
    O_QUIET,
    O_LIMIT,
    O_HELP,
    O_WARN_RTT,
    O_CRIT_RTT
};

/* cbctl's own options: parse_argv reads them, help.c prints their lines in `cbctl --help` (a
 * NULL help is told in another option's line, or in the command's usage) and offers their
 * names to the completion (only: the one resource they are for). Any other --NAME VALUE is a
 * parameter for the API. */
const struct cli_option cli_options[] = {
    {O_URL, "--url", NULL, true, NULL,
     "  --url URL            https://HOST:PORT of callbridged (CBCTL_URL)\n"},
    {O_USER, "--user", NULL, true, NULL, "  --user NAME          API user (CBCTL_USER)\n"},
    {O_PASSWORD_FILE, "--password-file", NULL, true, NULL,
     "  --password-file F    the user's password, first line (CBCTL_PASSWORD_FILE;\n"
     "                       or CBCTL_PASSWORD)\n"},
    {O_CACERT, "--cacert", NULL, true, NULL,
     "  --cacert FILE        trust this certificate (callbridged's cert.pem)\n"},
    {O_INSECURE, "--insecure", "-k", false, NULL,
     "  --insecure           do not verify the server's certificate\n"},
    {O_XML, "--xml", NULL, false, NULL,
     "  --xml | --json       the answer as XML (as received) or JSON, for jq\n"},
    {O_JSON, "--json", NULL, false, NULL, NULL},
    {O_QUIET, "--quiet", "-q", false, NULL, "  -q, --quiet          list: only the ids\n"},
    {O_LIMIT, "--limit", NULL, true, NULL,
     "  --limit N            list: one page of at most N (default: every page)\n"},
    {O_HELP, "--help", "-h", false, NULL,
     "  -h, --help           this text; 'cbctl RESOURCE --help' for one resource\n"},
    {O_WARN_RTT, "--warn-rtt", NULL, true, "check", NULL},
    {O_CRIT_RTT, "--crit-rtt", NULL, true, "check", NULL},
};
const size_t cli_noptions = sizeof(cli_options) / sizeof(cli_options[0]);

static const struct cli_option *find_option(const char *s)
{
    for (size_t i = 0; i < cli_noptions; i++)
        if (strcmp(s, cli_options[i].name) == 0 ||
            (cli_options[i].alias && strcmp(s, cli_options[i].alias) == 0))
            return &cli_options[i];
    return NULL;
}

/* An option without a value. */
static void set_flag(struct cli_opts *o, struct args *a, int id)
{
    if (id == O_HELP)
        a->help = true;
    else if (id == O_XML)
        o->out = CLI_OUT_XML;
    else if (id == O_JSON)
        o->out = CLI_OUT_JSON;
    else if (id == O_QUIET)
        o->out = CLI_OUT_IDS;
    else if (id == O_INSECURE)
        a->insecure = true;
}

/* An option with a value: a connection setting or a number. */
static int set_value(struct cli_opts *o, struct args *a, const char *flag, int id,
                     const char *value)
{
    if (id == O_URL)
        snprintf(a->flags.url, sizeof(a->flags.url), "%s", value);
    else if (id == O_USER)
        snprintf(a->flags.user, sizeof(a->flags.user), "%s", value);
    else if (id == O_PASSWORD_FILE)
        a->password_file = value;
    else if (id == O_CACERT)
        snprintf(a->flags.cacert, sizeof(a->flags.cacert), "%s", value);
    else if (id == O_LIMIT)
        return number_flag(flag, value, &o->limit);
    else if (id == O_WARN_RTT)
        return number_flag(flag, value, &o->warn_rtt);
    else if (id == O_CRIT_RTT)
        return number_flag(flag, value, &o->crit_rtt);
    return 0;
}

/* One "--name value" pair: one of cbctl's options, or a parameter for the API. */
static int value_flag(struct cli_opts *o, struct args *a, const char *flag, const char *value)
{
    const struct cli_option *opt = find_option(flag);

    if (opt)
        return set_value(o, a, flag, opt->id, value);
    if (o->nparams >= CLI_MAX_PARAMS) {
        cli_fail("more than %d parameters", CLI_MAX_PARAMS);
        return CLI_EX_USAGE;
    }
    o->params[o->nparams][0] = flag + 2;
    o->params[o->nparams++][1] = value;
    return 0;
}

/* Splits argv into positional words and options; --PARAMETER VALUE pairs go to o->params. */
static int parse_argv(int argc, char **argv, struct cli_opts *o, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const struct cli_option *opt = find_option(s);
        int r;

        if (opt && !opt->value) {
            set_flag(o, a, opt->id);
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
