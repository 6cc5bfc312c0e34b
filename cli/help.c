/* cli/help.c: what cbctl says about itself, all of it made from the command table in
 * commands.c and the options table in main.c: `cbctl --help` (the commands, the collections,
 * the options), one resource's usage, and the words the bash completion offers (`cbctl
 * __complete WORDS...`: the resources, a resource's verbs, the ids an argument takes, or the
 * options, one a line). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char settings_text[] =
    "Settings not given come from ~/.config/cbctl/config (key = value: url, user,\n"
    "password-file, cacert, insecure). Exit codes: 0 done, 1 server error, 2 usage,\n"
    "3 not found, 4 refused by the server, 5 no connection.\n";

/* "cbctl [OPTIONS] RESOURCE[ VERB][ ARGS]" without a line end; opts is "" or "[OPTIONS] ". */
static void synopsis(FILE *f, const char *lead, const char *opts, const struct cli_cmd *c)
{
    fprintf(f, "%scbctl %s%s%s%s%s%s", lead, opts, c->resource, c->verb ? " " : "",
            c->verb ? c->verb : "", c->args[0] ? " " : "", c->args);
}

static bool is_first_of_resource(const struct cli_cmd *c)
{
    return cli_find_resource(c->resource) == c;
}

void cli_usage_top(FILE *f)
{
    const struct cli_cmd *first = &cli_cmds[0];

    fputs("Usage: cbctl [OPTIONS] RESOURCE VERB [ID] [--PARAMETER VALUE ...]\n", f);
    for (size_t i = 0; i < cli_ncmds; i++)
        if (cli_cmds[i].kind == CLI_K_ALONE)
            synopsis(f, "       ", "[OPTIONS] ", &cli_cmds[i]), fputc('\n', f);
    fputs("\nResources (verbs ", f);
    for (size_t i = 0; i < cli_ncmds && strcmp(cli_cmds[i].resource, first->resource) == 0; i++)
        if (cli_cmds[i].kind == CLI_K_CRUD)
            fprintf(f, "%s%s", &cli_cmds[i] == first ? "" : ", ", cli_cmds[i].verb);
    fputs("):\n", f);
    for (size_t i = 0; i < cli_ncmds; i++)
        if (cli_cmds[i].kind == CLI_K_CRUD && is_first_of_resource(&cli_cmds[i]))
            fprintf(f, "  %-11s %s (/api/v1/%s)\n", cli_cmds[i].resource, cli_cmds[i].help,
                    cli_cmds[i].path);
    for (size_t i = 0; i < cli_ncmds; i++)
        if (cli_cmds[i].kind == CLI_K_MORE)
            fprintf(f, "  %s %s %s   %s\n", cli_cmds[i].resource, cli_cmds[i].verb,
                    cli_cmds[i].args, cli_cmds[i].help);
    fputs("\nOptions:\n", f);
    for (size_t i = 0; i < cli_noptions; i++)
        if (cli_options[i].help)
            fputs(cli_options[i].help, f);
    fprintf(f, "\n%s", settings_text);
}

/* The usage of row's resource (row is its first row): every form, then what the parameters
 * are. */
void cli_usage_of(FILE *f, const struct cli_cmd *row)
{
    const char *lead = "Usage: ";

    for (size_t i = 0; i < cli_ncmds; i++) {
        if (strcmp(cli_cmds[i].resource, row->resource) != 0)
            continue;
        synopsis(f, lead, "", &cli_cmds[i]);
        fprintf(f, "%s\n", cli_cmds[i].note);
        lead = "       ";
    }
    if (row->more)
        fputs(row->more, f);
    else if (row->kind == CLI_K_CRUD)
        fprintf(f, "Parameters and filters are the API's (/api/v1/%s), e.g. --filter TEXT.\n",
                row->path);
}

/* ---- the completion's words ---- */

/* Each resource once, in the table's order. */
static void complete_resources(void)
{
    for (size_t i = 0; i < cli_ncmds; i++)
        if (is_first_of_resource(&cli_cmds[i]))
            puts(cli_cmds[i].resource);
}

/* Each verb of resource once. */
static void complete_verbs(const char *resource)
{
    for (size_t i = 0; i < cli_ncmds; i++) {
        const struct cli_cmd *c = &cli_cmds[i], *same = NULL;

        if (!c->verb || strcmp(c->resource, resource) != 0)
            continue;
        for (size_t j = 0; j < i && !same; j++)
            if (cli_cmds[j].verb && strcmp(cli_cmds[j].resource, resource) == 0 &&
                strcmp(cli_cmds[j].verb, c->verb) == 0)
                same = &cli_cmds[j];
        if (!same)
            puts(c->verb);
    }
}

/* The collection whose items c's ID arguments name: the list row of c's path's first
 * segment. */
static const struct cli_cmd *collection_of(const struct cli_cmd *c)
{
    size_t len = strcspn(c->path, "/?");

    for (size_t i = 0; i < cli_ncmds; i++)
        if (cli_cmds[i].handler == cli_cmd_list && strlen(cli_cmds[i].path) == len &&
            strncmp(cli_cmds[i].path, c->path, len) == 0)
            return &cli_cmds[i];
    return NULL;
}

/* The ids of the collection when the next word of words is an item's id. */
static int complete_ids(struct cli_opts *o, char **words, size_t n)
{
    const struct cli_cmd *c = NULL, *list;
    size_t first;

    for (size_t i = 0; i < cli_ncmds && !c; i++)
        if (strcmp(cli_cmds[i].resource, words[0]) == 0 &&
            (!cli_cmds[i].verb || strcmp(cli_cmds[i].verb, words[1]) == 0))
            c = &cli_cmds[i];
    if (!c)
        return CLI_EX_OK;
    first = c->verb ? 2 : 1;
    if (strncmp(c->args, "ID", 2) != 0 && strncmp(c->args, "[ID", 3) != 0)
        return CLI_EX_OK;
    if (c->nargs >= 0 && n - first >= (size_t)c->nargs)
        return CLI_EX_OK;
    list = collection_of(c);
    if (!list)
        return CLI_EX_OK;
    o->out = CLI_OUT_IDS;
    o->limit = -1;
    o->nparams = 0;
    return list->handler(o, list, NULL, 0);
}

/* cbctl's options, those for one resource included. */
static void complete_options(const char *resource)
{
    for (size_t i = 0; i < cli_noptions; i++)
        if (!cli_options[i].only || (resource && strcmp(cli_options[i].only, resource) == 0))
            puts(cli_options[i].name);
}

/* `cbctl __complete WORDS...`: the words that may follow WORDS (the command line's words so
 * far, less the options main.c has taken out), one a line; a last word "--" asks for the
 * options. */
int cli_complete(struct cli_opts *o, char **words, size_t n)
{
    if (n > 0 && strcmp(words[n - 1], "--") == 0)
        complete_options(n > 1 ? words[0] : NULL);
    else if (n == 0)
        complete_resources();
    else if (n == 1)
        complete_verbs(words[0]);
    else
        return complete_ids(o, words, n);
    return CLI_EX_OK;
}
