/* cli/cli.h: the private header of cbctl, the command-line client of the callbridge API. It
 * holds what the files of cli/ share: the exit codes, the connection settings and one HTTP
 * answer (conn.c), the options of one run (main.c), the command table and its handlers
 * (commands.c, check.c), the usage text and completion words made from that table (help.c),
 * and the output forms (output.c). Nothing outside cli/ includes it. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <libxml/tree.h>

/* cbctl's exit codes; the check command uses the plugin codes instead. */
enum { CLI_EX_OK, CLI_EX_SERVER, CLI_EX_USAGE, CLI_EX_NOTFOUND, CLI_EX_REFUSED, CLI_EX_CONNECT };
enum { CLI_NAGIOS_OK, CLI_NAGIOS_WARNING, CLI_NAGIOS_CRITICAL, CLI_NAGIOS_UNKNOWN };

#define CLI_MAX_PARAMS 64
#define CLI_PAGE 1000 /* the API's largest page */

struct cli_conn {
    char url[512], user[128], password[256], cacert[1024];
    bool insecure;
};

enum cli_output { CLI_OUT_TABLE, CLI_OUT_XML, CLI_OUT_JSON, CLI_OUT_IDS };

struct cli_opts {
    struct cli_conn conn;
    enum cli_output out;
    long limit; /* -1: every page */
    const char *params[CLI_MAX_PARAMS][2];
    size_t nparams;
    long warn_rtt, crit_rtt;
};

/* ---- the command table (commands.c) ---- */

/* Where a row shows in `cbctl --help`: one of the five verbs of a collection (its list row
 * names the collection), another verb of a collection, another usage form of a verb already
 * listed (only in the resource's usage), or a command of its own with its own synopsis. */
enum cli_kind { CLI_K_CRUD, CLI_K_MORE, CLI_K_FORM, CLI_K_ALONE };

struct cli_cmd;
typedef int (*cli_handler)(struct cli_opts *o, const struct cli_cmd *cmd, char **args,
                           size_t nargs);

/* One row: `cbctl RESOURCE VERB ARGS`. path is below /api/v1/, "{id}" standing for the first
 * argument; nargs is the count of words after the verb (-1: any). note follows the synopsis
 * in the resource's usage as written; help is the one-line description (for a collection's
 * list row: what the collection holds), more is a paragraph after the usage (or NULL). */
struct cli_cmd {
    const char *resource, *verb, *path, *args;
    int nargs;
    cli_handler handler;
    enum cli_kind kind;
    bool plugin; /* exit codes are the Nagios ones */
    const char *note, *help, *more;
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

const struct cli_cmd *cli_find_resource(const char *name);
const struct cli_cmd *cli_find_cmd(char **words, size_t n);
int cli_usage_exit(const struct cli_cmd *row);

int cli_cmd_list(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_show(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_add(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_add_leg(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_set(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_rm(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_match(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);
int cli_cmd_check_turn(struct cli_opts *o, const struct cli_cmd *cmd, char **args, size_t nargs);

/* GET path; on success *ret_doc is the parsed answer (printed as received with --xml). */
int cli_get_doc(const struct cli_opts *o, const char *path, xmlDocPtr *ret_doc);
/* Calls fn for each item of every page of collection (the first only when one_page). */
int cli_each_item(const struct cli_opts *o, const char *collection, const char *query, long limit,
                  bool one_page, void (*fn)(xmlNodePtr item, void *ctx), void *ctx,
                  size_t *ret_total);

/* ---- cbctl's own options (main.c) ---- */

struct cli_option {
    int id;
    const char *name, *alias; /* "--name", and "-x" or NULL */
    bool value;               /* takes a value */
    const char *only;         /* for this resource only, or NULL */
    const char *help;         /* its lines in `cbctl --help`, or NULL */
};

extern const struct cli_option cli_options[];
extern const size_t cli_noptions;

/* ---- usage and completion (help.c) ---- */

void cli_usage_top(FILE *f);
void cli_usage_of(FILE *f, const struct cli_cmd *row);
int cli_complete(struct cli_opts *o, char **words, size_t n);

/* ---- connection (conn.c) ---- */

struct cli_buf {
    char *data;
    size_t len;
};

struct cli_answer {
    long status;
    struct cli_buf body;
    char location[256];
};

__attribute__((format(printf, 1, 2))) void cli_fail(const char *fmt, ...);
int cli_read_password_file(const char *path, struct cli_conn *c);
int cli_load_settings(struct cli_conn *c);
int cli_request(const struct cli_conn *c, const char *method, const char *path, const char *form,
                struct cli_answer *a);
void cli_answer_done(struct cli_answer *a);
xmlDocPtr cli_parse(const struct cli_answer *a);
int cli_refused(const struct cli_conn *c, const char *method, const char *path,
                const struct cli_answer *a);

/* ---- output (output.c) ---- */

bool cli_is_element(xmlNodePtr n);
char *cli_child_text(xmlNodePtr n, const char *name);
void cli_print_fields(xmlNodePtr n, const char *prefix);
json_t *cli_to_json(xmlNodePtr n);
void cli_print_json(json_t *j);

struct cli_table {
    char ***rows;
    size_t nrows, ncols;
    char *cols[32];
};

void cli_table_add(struct cli_table *t, xmlNodePtr item);
void cli_table_print(const struct cli_table *t);
void cli_table_free(struct cli_table *t);

#endif
