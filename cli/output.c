/* cli/output.c: how cbctl prints an answer. One object as "key: value" lines (nested elements
 * as a.b), a list as an aligned table, and either as JSON for jq with types put back (XML text
 * has none); --xml needs nothing here, it is the answer as received. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

bool cli_is_element(xmlNodePtr n)
{
    return n && n->type == XML_ELEMENT_NODE;
}

static bool has_element_children(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (cli_is_element(c))
            return true;
    return false;
}

/* "key: value" lines, nested elements as a.b, attributes as keys. */
void cli_print_fields(xmlNodePtr n, const char *prefix)
{
    char key[256];

    for (xmlAttrPtr at = n->properties; at; at = at->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)at);

        printf("%s%s: %s\n", prefix, (const char *)at->name, (const char *)v);
        xmlFree(v);
    }
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (!cli_is_element(c))
            continue;
        snprintf(key, sizeof(key), "%s%s", prefix, (const char *)c->name);
        if (has_element_children(c) || c->properties) {
            strncat(key, ".", sizeof(key) - strlen(key) - 1);
            cli_print_fields(c, key);
        } else {
            xmlChar *v = xmlNodeGetContent(c);

            printf("%s: %s\n", key, (const char *)v);
            xmlFree(v);
        }
    }
}

/* Children that are lists whatever their number, so jq paths do not depend on it. */
static bool always_array(const char *name)
{
    return strcmp(name, "host") == 0;
}

/* XML text has no types; jq users need them (the string "false" is true to jq). true and
 * false become booleans; a canonical integer becomes a number, except in fields that are
 * digits by accident (call ids, passcodes, URIs, names, secrets), which stay strings. */
static json_t *typed(const char *name, const char *v)
{
    static const char *const textual[] = {"callId", "passcode", "uri",    "Uri",
                                          "name",   "Name",     "secret", "Secret"};
    const char *d = v + (*v == '-');
    bool text = false;

    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return json_boolean(v[0] == 't');
    for (size_t i = 0; i < sizeof(textual) / sizeof(textual[0]); i++)
        text = text || strstr(name, textual[i]) != NULL;
    if (!text && *d && strspn(d, "0123456789") == strlen(d) && (d[0] != '0' || !d[1]) &&
        strlen(d) < 16)
        return json_integer(strtoll(v, NULL, 10));
    return json_string(v);
}

json_t *cli_to_json(xmlNodePtr n)
{
    json_t *o;

    if (!has_element_children(n) && !n->properties) {
        xmlChar *v = xmlNodeGetContent(n);
        json_t *s = typed((const char *)n->name, (const char *)v);

        xmlFree(v);
        return s;
    }
    o = json_object();
    for (xmlAttrPtr at = n->properties; at; at = at->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)at);

        json_object_set_new(o, (const char *)at->name,
                            typed((const char *)at->name, (const char *)v));
        xmlFree(v);
    }
    for (xmlNodePtr c = n->children; c; c = c->next) {
        const char *name = (const char *)c->name;
        json_t *prev;
        size_t same = 0;

        if (!cli_is_element(c))
            continue;
        for (xmlNodePtr d = n->children; d; d = d->next)
            same += cli_is_element(d) && strcmp((const char *)d->name, name) == 0;
        prev = json_object_get(o, name);
        if (same > 1 || always_array(name)) {
            if (!prev) {
                prev = json_array();
                json_object_set_new(o, name, prev);
            }
            json_array_append_new(prev, cli_to_json(c));
        } else {
            json_object_set_new(o, name, cli_to_json(c));
        }
    }
    return o;
}

void cli_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
}

/* The aligned table (struct cli_table): rows[r][c], row 0 the header. */
static int col_of(struct cli_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return (int)i;
    if (t->ncols == sizeof(t->cols) / sizeof(t->cols[0]))
        return -1;
    t->cols[t->ncols] = strdup(name);
    return (int)t->ncols++;
}

void cli_table_add(struct cli_table *t, xmlNodePtr item)
{
    char **row = calloc(32, sizeof(char *));
    char ***rows = realloc(t->rows, (t->nrows + 1) * sizeof(*rows));

    if (!row || !rows) {
        free(row);
        if (rows)
            t->rows = rows;
        return;
    }
    t->rows = rows;
    t->rows[t->nrows++] = row;
    for (xmlAttrPtr at = item->properties; at; at = at->next) {
        int c = col_of(t, (const char *)at->name);

        if (c >= 0)
            row[c] = (char *)xmlNodeGetContent((xmlNodePtr)at);
    }
    for (xmlNodePtr e = item->children; e; e = e->next) {
        int c;

        if (!cli_is_element(e) || has_element_children(e))
            continue;
        c = col_of(t, (const char *)e->name);
        if (c >= 0)
            row[c] = (char *)xmlNodeGetContent(e);
    }
}

void cli_table_print(const struct cli_table *t)
{
    size_t w[32] = {0};

    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->cols[c]);
        for (size_t r = 0; r < t->nrows; r++)
            if (t->rows[r][c] && strlen(t->rows[r][c]) > w[c])
                w[c] = strlen(t->rows[r][c]);
    }
    for (size_t c = 0; c < t->ncols; c++)
        printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, t->cols[c],
               c + 1 < t->ncols ? "  " : "\n");
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++)
            printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, t->rows[r][c] ? t->rows[r][c] : "",
                   c + 1 < t->ncols ? "  " : "\n");
}

void cli_table_free(struct cli_table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < 32; c++)
            xmlFree(t->rows[r][c]);
        free(t->rows[r]);
    }
    free(t->rows);
    for (size_t c = 0; c < t->ncols; c++)
        free(t->cols[c]);
}

/* The text of n's first child element called name (xmlFree it), or NULL. */
char *cli_child_text(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (cli_is_element(c) && strcmp((const char *)c->name, name) == 0)
            return (char *)xmlNodeGetContent(c);
    return NULL;
}
