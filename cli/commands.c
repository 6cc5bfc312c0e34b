/* cli/commands.c: cbctl's commands as ONE table, {resource, verb, path, args, handler, help},
 * and the handlers it names. Dispatch (main.c), the usage text and the completion words
 * (help.c) all come from this table: a new collection of the API is one CLI_CRUD line here.
 * The handlers are generic (list, show, add, set, rm over a path below /api/v1/); a leg's add
 * and the call matching are the two with something of their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"

#define ROW_MORE(res, verb, path, args, n, fn, kind, note, help, more)                             \
    {                                                                                              \
        res, verb, path, args, n, fn, kind, false, note, help, more                                \
    }
#define ROW(res, verb, path, args, n, fn, kind, note, help)                                        \
    ROW_MORE(res, verb, path, args, n, fn, kind, note, help, NULL)

/* The five verbs of a collection. The notes are the remarks after each synopsis in the
 * resource's usage; params is that usage's last paragraph (NULL: the API's parameters and
 * filters, in general words). */
#define CLI_CRUD(res, coll, what, add, params)                                                     \
    ROW_MORE(res, "list", coll, "[--limit N] [--FILTER VALUE ...]", 0, cli_cmd_list, CLI_K_CRUD,   \
             "   " what ", every page", what, params),                                             \
        ROW(res, "show", coll "/{id}", "ID", 1, cli_cmd_show, CLI_K_CRUD, "", "one item"),         \
        ROW(res, "add", coll, "--PARAMETER VALUE ...", 0, add, CLI_K_CRUD,                         \
            "            prints the new id", "a new item, prints its id"),                         \
        ROW(res, "set", coll "/{id}", "ID --PARAMETER VALUE ...", 1, cli_cmd_set, CLI_K_CRUD, "",  \
            "changes an item"),                                                                    \
        ROW(res, "rm", coll "/{id}", "ID", 1, cli_cmd_rm, CLI_K_CRUD, "", "removes an item")

#define LEG_MARGIN "\n                                        "

const struct cli_cmd cli_cmds[] = {
    CLI_CRUD("turn", "turnServers", "TURN servers (and their status)", cli_cmd_add,
             "Parameters are the API's: serverAddress, clientAddress, username, password,\n"
             "type, tcpPortNumberOverride, useShortTermCredentials, sharedSecret, ...\n"),
    ROW("turn", "status", "turnServers/{id}/status", "ID", 1, cli_cmd_show, CLI_K_MORE, "",
        "the probe results of one TURN server"),
    CLI_CRUD("cospace", "coSpaces", "spaces", cli_cmd_add, NULL),
    CLI_CRUD("rule", "inboundDialPlanRules", "inbound dial plan rules", cli_cmd_add, NULL),
    CLI_CRUD("tenant", "tenants", "tenants", cli_cmd_add, NULL),
    CLI_CRUD("callbridge", "callBridges", "call bridges", cli_cmd_add, NULL),
    CLI_CRUD("call", "calls", "active calls", cli_cmd_add, NULL),
    CLI_CRUD("leg", "callLegs", "call legs", cli_cmd_add_leg, NULL),
    ROW("leg", "add", "calls/{id}/callLegs",
        "--call ID --remoteParty URI --remoteMediaAddress IP:PORT", 0, cli_cmd_add_leg, CLI_K_FORM,
        LEG_MARGIN "a leg of that call, anchored for media", "a leg of that call"),
    ROW("leg", "add", "callLegs", "--destination USER@DOMAIN", 0, cli_cmd_add_leg, CLI_K_FORM,
        "   an incoming leg, placed by the" LEG_MARGIN "call matching (or --callId, --passcode)",
        "an incoming leg, placed by the call matching"),
    ROW("match", NULL, "callMatching?destination={id}", "USER@DOMAIN", 1, cli_cmd_match,
        CLI_K_ALONE, "   what an incoming call to that address reaches",
        "what an incoming call to that address reaches"),
    ROW("system", "status", "system/status", "", 0, cli_cmd_show, CLI_K_ALONE, "",
        "the daemon's status"),
    {"check", "turn", "turnServers", "[ID ...] [--warn-rtt MS] [--crit-rtt MS]", -1,
     cli_cmd_check_turn, CLI_K_ALONE, true, "", "a Nagios/Icinga plugin for TURN health",
     "A Nagios/Icinga plugin: every address of the TURN servers given (default:\n"
     "all). Exit 0 OK, 1 WARNING (an RTT over --warn-rtt), 2 CRITICAL (an address\n"
     "unreachable, any failureReason, an RTT over --crit-rtt), 3 UNKNOWN (the API\n"
     "did not answer or refused the credentials). Perfdata: 'rtt_ADDR:PORT/"
     "TRANSPORT'=MSms;WARN;CRIT.\n"},
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);

/* The first row of a resource (its list row for a collection), or NULL. */
const struct cli_cmd *cli_find_resource(const char *name)
{
    for (size_t i = 0; i < cli_ncmds; i++)
        if (strcmp(cli_cmds[i].resource, name) == 0)
            return &cli_cmds[i];
    return NULL;
}

/* The row that words (resource, verb, arguments) call, or NULL when none takes them. */
const struct cli_cmd *cli_find_cmd(char **words, size_t n)
{
    for (size_t i = 0; i < cli_ncmds; i++) {
        const struct cli_cmd *c = &cli_cmds[i];
        size_t first = c->verb ? 2 : 1;

        if (n < first || strcmp(c->resource, words[0]) != 0)
            continue;
        if (c->verb && strcmp(c->verb, words[1]) != 0)
            continue;
        if (c->nargs < 0 || (size_t)c->nargs == n - first)
            return c;
    }
    return NULL;
}

/* What a misuse of row's resource exits with: the plugin's UNKNOWN, or usage. */
int cli_usage_exit(const struct cli_cmd *row)
{
    return row->plugin ? CLI_NAGIOS_UNKNOWN : CLI_EX_USAGE;
}

/* "/api/v1/" + tmpl, "{id}" in it replaced by id. */
static void make_path(char *buf, size_t size, const char *tmpl, const char *id)
{
    const char *at = strstr(tmpl, "{id}");

    if (at)
        snprintf(buf, size, "/api/v1/%.*s%s%s", (int)(at - tmpl), tmpl, id ? id : "", at + 4);
    else
        snprintf(buf, size, "/api/v1/%s", tmpl);
}

/* "a=1&b=2" from the --name value pairs, URL-encoded. */
static char *form_of(const struct cli_opts *o)
{
    size_t cap = 1, len = 0;
    char *s;
    CURL *h = curl_easy_init();

    for (size_t i = 0; i < o->nparams; i++)
        cap += 3 * (strlen(o->params[i][0]) + strlen(o->params[i][1])) + 2;
    s = calloc(1, cap);
    if (!s || !h) {
        free(s);
        curl_easy_cleanup(h);
        return NULL;
    }
    for (size_t i = 0; i < o->nparams; i++) {
        char *k = curl_easy_escape(h, o->params[i][0], 0);
        char *v = curl_easy_escape(h, o->params[i][1], 0);

        len +=
            (size_t)snprintf(s + len, cap - len, "%s%s=%s", i ? "&" : "", k ? k : "", v ? v : "");
        curl_free(k);
        curl_free(v);
    }
    curl_easy_cleanup(h);
    return s;
}

/* GET path, answering errors; on success *ret_doc is the parsed answer, and with --xml the
 * answer is printed as it came. */
int cli_get_doc(const struct cli_opts *o, const char *path, xmlDocPtr *ret_doc)
{
    struct cli_answer a;
    int r = cli_request(&o->conn, "GET", path, NULL, &a);

    *ret_doc = NULL;
    if (r)
        return r;
    if (a.status < 200 || a.status >= 300) {
        r = cli_refused(&o->conn, "GET", path, &a);
    } else {
        *ret_doc = cli_parse(&a);
        if (!*ret_doc) {
            cli_fail("GET %s: the answer is not XML", path);
            r = CLI_EX_SERVER;
        } else if (o->out == CLI_OUT_XML) {
            fwrite(a.body.data, 1, a.body.len, stdout);
            if (a.body.data[a.body.len - 1] != '\n')
                fputc('\n', stdout);
        }
    }
    cli_answer_done(&a);
    return r;
}

/* GETs the pages of collection in turn (only the first when one_page), with query appended,
 * and calls fn for each item. Bounded by the total the server gives. Returns 0 or the exit
 * code of a failed request; *ret_total is the server's total. */
int cli_each_item(const struct cli_opts *o, const char *collection, const char *query, long limit,
                  bool one_page, void (*fn)(xmlNodePtr item, void *ctx), void *ctx,
                  size_t *ret_total)
{
    size_t offset = 0, pages = 0;
    int r = 0;

    *ret_total = 0;
    do {
        char path[4096];
        xmlDocPtr doc;
        xmlNodePtr root;
        xmlChar *tot;
        size_t got = 0;

        snprintf(path, sizeof(path), "/api/v1/%s?offset=%zu&limit=%ld%s%s", collection, offset,
                 limit, *query ? "&" : "", query);
        r = cli_get_doc(o, path, &doc);
        if (r)
            break;
        root = xmlDocGetRootElement(doc);
        tot = xmlGetProp(root, (const xmlChar *)"total");
        *ret_total = tot ? strtoul((const char *)tot, NULL, 10) : 0;
        xmlFree(tot);
        for (xmlNodePtr e = root->children; e; e = e->next) {
            if (cli_is_element(e)) {
                fn(e, ctx);
                got++;
            }
        }
        xmlFreeDoc(doc);
        offset += got;
        pages++;
        if (got == 0)
            break;
    } while (!one_page && offset < *ret_total && pages < 100000);
    return r;
}

struct list_ctx {
    enum cli_output out;
    struct cli_table table;
    json_t *items;
};

static void list_item(xmlNodePtr e, void *ctx)
{
    struct list_ctx *l = ctx;

    if (l->out == CLI_OUT_JSON) {
        json_array_append_new(l->items, cli_to_json(e));
    } else if (l->out == CLI_OUT_IDS) {
        xmlChar *id = xmlGetProp(e, (const xmlChar *)"id");

        if (id)
            puts((const char *)id);
        xmlFree(id);
    } else if (l->out == CLI_OUT_TABLE) {
        cli_table_add(&l->table, e);
    }
}

/* The list row's path is the collection, its help what the collection holds. */
int cli_cmd_list(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    struct list_ctx l = {.out = o->out, .items = json_array()};
    char *query = form_of(o);
    size_t total = 0;
    int r;

    (void)args, (void)nargs;
    if (!query || !l.items) {
        free(query);
        json_decref(l.items);
        return CLI_EX_SERVER;
    }
    /* every page, unless --limit; --xml is the answer as received: one page */
    r = cli_each_item(o, cmd->path, query, o->limit >= 0 ? o->limit : CLI_PAGE,
                      o->limit >= 0 || o->out == CLI_OUT_XML, list_item, &l, &total);
    if (r == 0 && o->out == CLI_OUT_JSON) {
        json_t *j = json_object();

        json_object_set_new(j, "total", json_integer((json_int_t)total));
        json_object_set(j, "items", l.items);
        cli_print_json(j);
        json_decref(j);
    } else if (r == 0 && o->out == CLI_OUT_TABLE) {
        if (l.table.nrows)
            cli_table_print(&l.table);
        else
            printf("no %s\n", cmd->help);
    }
    cli_table_free(&l.table);
    json_decref(l.items);
    free(query);
    return r;
}

/* Prints one object: XML as received, JSON, or key: value lines. */
static int show_path(const struct cli_opts *o, const char *path)
{
    xmlDocPtr doc;
    int r = cli_get_doc(o, path, &doc);

    if (r)
        return r;
    if (o->out == CLI_OUT_JSON) {
        json_t *j = cli_to_json(xmlDocGetRootElement(doc));

        cli_print_json(j);
        json_decref(j);
    } else if (o->out != CLI_OUT_XML) {
        cli_print_fields(xmlDocGetRootElement(doc), "");
    }
    xmlFreeDoc(doc);
    return 0;
}

static int cmd_write(const struct cli_opts *o, const char *method, const char *path, bool print_id)
{
    struct cli_answer a;
    char *form = form_of(o);
    int r;

    if (!form)
        return CLI_EX_SERVER;
    r = cli_request(&o->conn, method, path, form, &a);
    free(form);
    if (r)
        return r;
    if (a.status < 200 || a.status >= 300) {
        r = cli_refused(&o->conn, method, path, &a);
    } else if (print_id) {
        const char *slash = strrchr(a.location, '/');

        puts(slash ? slash + 1 : a.location);
    }
    cli_answer_done(&a);
    return r;
}

int cli_cmd_show(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];

    make_path(path, sizeof(path), cmd->path, nargs ? args[0] : NULL);
    return show_path(o, path);
}

int cli_cmd_add(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];

    (void)args, (void)nargs;
    make_path(path, sizeof(path), cmd->path, NULL);
    return cmd_write(o, "POST", path, true);
}

/* The form of cmd's verb whose path names an item: "leg add --call ID". */
static const char *item_form_path(const struct cli_cmd *cmd)
{
    for (size_t i = 0; i < cli_ncmds; i++)
        if (strcmp(cli_cmds[i].resource, cmd->resource) == 0 && cli_cmds[i].verb &&
            strcmp(cli_cmds[i].verb, cmd->verb) == 0 && strstr(cli_cmds[i].path, "{id}"))
            return cli_cmds[i].path;
    return cmd->path;
}

/* --call ID: a leg of that call (its form's path), not an incoming one; the API takes the call
 * from the path, so --call is not passed on. */
int cli_cmd_add_leg(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];

    (void)args, (void)nargs;
    make_path(path, sizeof(path), cmd->path, NULL);
    for (size_t i = 0; i < o->nparams; i++) {
        if (strcmp(o->params[i][0], "call") != 0)
            continue;
        make_path(path, sizeof(path), item_form_path(cmd), o->params[i][1]);
        o->params[i][0] = o->params[o->nparams - 1][0];
        o->params[i][1] = o->params[--o->nparams][1];
        break;
    }
    return cmd_write(o, "POST", path, true);
}

int cli_cmd_set(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];

    (void)nargs;
    make_path(path, sizeof(path), cmd->path, args[0]);
    return cmd_write(o, "PUT", path, false);
}

int cli_cmd_rm(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];

    (void)nargs;
    make_path(path, sizeof(path), cmd->path, args[0]);
    return cmd_write(o, "DELETE", path, false);
}

/* The address goes into a query string, so it is escaped (an item id never needs it). */
int cli_cmd_match(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs)
{
    char path[1024];
    CURL *h = curl_easy_init();
    char *q = h ? curl_easy_escape(h, args[0], 0) : NULL;

    (void)nargs;
    make_path(path, sizeof(path), cmd->path, q ? q : "");
    curl_free(q);
    curl_easy_cleanup(h);
    return show_path(o, path);
}
