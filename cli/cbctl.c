/* cli/cbctl.c: cbctl, the command-line client of the callbridge (CMS) API, and a Nagios/Icinga
 * plugin for TURN health. libcurl speaks HTTPS with Basic auth; libxml2 reads the answers;
 * jansson writes --json.
 *
 *   cbctl [connection options] RESOURCE VERB [ARGS] [--param value ...] [--xml|--json]
 *
 * Connection: flags, then CBCTL_URL / CBCTL_USER / CBCTL_PASSWORD / CBCTL_PASSWORD_FILE, then
 * ~/.config/cbctl/config ($XDG_CONFIG_HOME), "key = value" lines: url, user, password-file,
 * cacert, insecure. Exit codes: 0 done, 1 server error, 2 usage, 3 not found, 4 refused by the
 * server (a 4xx: bad parameters, bad credentials), 5 no connection (TLS included). The check
 * command uses the plugin codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

enum { EX_OK, EX_SERVER, EX_USAGE, EX_NOTFOUND, EX_REFUSED, EX_CONNECT };
enum { NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN };

#define MAX_PARAMS 64
#define PAGE 1000 /* the API's largest page */

struct conn {
    char url[512], user[128], password[256], cacert[1024];
    bool insecure;
};

enum output { OUT_TABLE, OUT_XML, OUT_JSON, OUT_IDS };

struct opts {
    struct conn conn;
    enum output out;
    long limit; /* -1: every page */
    const char *params[MAX_PARAMS][2];
    size_t nparams;
    long warn_rtt, crit_rtt;
};

struct resource {
    const char *name, *collection, *item, *what;
};

static const struct resource resources[] = {
    {"turn", "turnServers", "turnServer", "TURN servers (and their status)"},
    {"cospace", "coSpaces", "coSpace", "spaces"},
    {"rule", "inboundDialPlanRules", "inboundDialPlanRule", "inbound dial plan rules"},
    {"tenant", "tenants", "tenant", "tenants"},
    {"callbridge", "callBridges", "callBridge", "call bridges"},
    {"call", "calls", "call", "active calls"},
    {"leg", "callLegs", "callLeg", "call legs"},
};
#define N_RESOURCES (sizeof(resources) / sizeof(resources[0]))

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("cbctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- connection settings ------------------------------------------------------------------ */

static void trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static int read_password_file(const char *path, struct conn *c)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        fail("cannot read the password file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!fgets(c->password, sizeof(c->password), f))
        c->password[0] = '\0';
    fclose(f);
    trim(c->password);
    return 0;
}

static int set_conn(struct conn *c, const char *key, const char *value)
{
    if (strcmp(key, "url") == 0)
        snprintf(c->url, sizeof(c->url), "%s", value);
    else if (strcmp(key, "user") == 0)
        snprintf(c->user, sizeof(c->user), "%s", value);
    else if (strcmp(key, "password-file") == 0)
        return read_password_file(value, c);
    else if (strcmp(key, "cacert") == 0)
        snprintf(c->cacert, sizeof(c->cacert), "%s", value);
    else if (strcmp(key, "insecure") == 0)
        c->insecure =
            strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0;
    else
        return 1; /* not a connection setting */
    return 0;
}

static int load_config_file(struct conn *c)
{
    char path[1024], line[1200];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    FILE *f;
    int lineno = 0;

    if (xdg && *xdg)
        snprintf(path, sizeof(path), "%s/cbctl/config", xdg);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.config/cbctl/config", home);
    else
        return 0;
    f = fopen(path, "r");
    if (!f)
        return 0; /* optional */
    while (fgets(line, sizeof(line), f)) {
        char *eq, *key = line, *value;

        lineno++;
        trim(line);
        key += strspn(key, " \t");
        if (!*key || *key == '#' || *key == ';')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            fail("%s:%d: expected key = value", path, lineno);
            fclose(f);
            return -1;
        }
        value = eq + 1 + strspn(eq + 1, " \t");
        while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
            eq--;
        *eq = '\0';
        if (set_conn(c, key, value) != 0) {
            fail("%s:%d: unknown key %s (url, user, password-file, cacert, insecure)", path, lineno,
                 key);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static int load_env(struct conn *c)
{
    const char *v;

    if ((v = getenv("CBCTL_URL")) && *v)
        set_conn(c, "url", v);
    if ((v = getenv("CBCTL_USER")) && *v)
        set_conn(c, "user", v);
    if ((v = getenv("CBCTL_PASSWORD")) && *v)
        snprintf(c->password, sizeof(c->password), "%s", v);
    else if ((v = getenv("CBCTL_PASSWORD_FILE")) && *v)
        return read_password_file(v, c);
    return 0;
}

/* ---- HTTP --------------------------------------------------------------------------------- */

struct buf {
    char *data;
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    struct buf *b = userdata;
    char *d = realloc(b->data, b->len + size * n + 1);

    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->len += size * n;
    d[b->len] = '\0';
    b->data = d;
    return size * n;
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    char *location = userdata;

    if (size * n > 10 && strncasecmp(line, "Location:", 9) == 0) {
        size_t len = size * n - 9;
        const char *v = line + 9;

        while (len > 0 && *v == ' ')
            v++, len--;
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
            len--;
        snprintf(location, 256, "%.*s", (int)len, v);
    }
    return size * n;
}

struct answer {
    long status;
    struct buf body;
    char location[256];
};

/* One request; path starts with "/". Returns 0, or EX_CONNECT after saying why. */
static int request(const struct conn *c, const char *method, const char *path, const char *form,
                   struct answer *a)
{
    char url[2048], err[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    CURLcode rc;

    memset(a, 0, sizeof(*a));
    if (!h) {
        fail("cannot start libcurl");
        return EX_CONNECT;
    }
    snprintf(url, sizeof(url), "%s%s", c->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a->location);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->cacert[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (form) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
    }
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(h);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
        fail("%s: the server's certificate is not trusted (%s); give its certificate with "
             "--cacert FILE (callbridged's data directory has cert.pem), or --insecure",
             c->url, err[0] ? err : curl_easy_strerror(rc));
        return EX_CONNECT;
    }
    if (rc != CURLE_OK) {
        fail("%s: %s", c->url, err[0] ? err : curl_easy_strerror(rc));
        return EX_CONNECT;
    }
    return 0;
}

static void answer_done(struct answer *a)
{
    free(a->body.data);
    a->body.data = NULL;
}

static xmlDocPtr parse(const struct answer *a)
{
    if (!a->body.data || a->body.len == 0)
        return NULL;
    return xmlReadMemory(a->body.data, (int)a->body.len, NULL, NULL, XML_PARSE_NONET);
}

/* A non-2xx answer as one line on stderr; returns the exit code for it. */
static int refused(const struct conn *c, const char *method, const char *path,
                   const struct answer *a)
{
    char what[512] = "";
    xmlDocPtr doc = parse(a);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    size_t o = 0;

    if (root && strcmp((const char *)root->name, "failureDetails") == 0) {
        for (xmlNodePtr e = root->children; e; e = e->next) {
            if (e->type != XML_ELEMENT_NODE)
                continue;
            o += (size_t)snprintf(what + o, sizeof(what) - o, "%s%s", o ? "; " : "",
                                  (const char *)e->name);
            for (xmlAttrPtr at = e->properties; at && o < sizeof(what); at = at->next) {
                xmlChar *v = xmlNodeGetContent((xmlNodePtr)at);

                o += (size_t)snprintf(what + o, sizeof(what) - o, " %s=%s", (const char *)at->name,
                                      (const char *)v);
                xmlFree(v);
            }
            if (o >= sizeof(what))
                break;
        }
    }
    if (doc)
        xmlFreeDoc(doc);
    if (a->status == 401) {
        fail("%s %s: 401: the server does not accept user '%s' with this password", method, path,
             c->user);
        return EX_REFUSED;
    }
    fail("%s %s: %ld%s%s", method, path, a->status, what[0] ? ": " : "", what);
    if (a->status == 404)
        return EX_NOTFOUND;
    return a->status >= 400 && a->status < 500 ? EX_REFUSED : EX_SERVER;
}

/* ---- output ------------------------------------------------------------------------------- */

static bool is_element(xmlNodePtr n)
{
    return n && n->type == XML_ELEMENT_NODE;
}

static bool has_element_children(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (is_element(c))
            return true;
    return false;
}

/* "key: value" lines, nested elements as a.b, attributes as keys. */
static void print_fields(xmlNodePtr n, const char *prefix)
{
    char key[256];

    for (xmlAttrPtr at = n->properties; at; at = at->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)at);

        printf("%s%s: %s\n", prefix, (const char *)at->name, (const char *)v);
        xmlFree(v);
    }
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (!is_element(c))
            continue;
        snprintf(key, sizeof(key), "%s%s", prefix, (const char *)c->name);
        if (has_element_children(c) || c->properties) {
            strncat(key, ".", sizeof(key) - strlen(key) - 1);
            print_fields(c, key);
        } else {
            xmlChar *v = xmlNodeGetContent(c);

            printf("%s: %s\n", key, (const char *)v);
            xmlFree(v);
        }
    }
}

static json_t *to_json(xmlNodePtr n);

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

static json_t *to_json(xmlNodePtr n)
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

        if (!is_element(c))
            continue;
        for (xmlNodePtr d = n->children; d; d = d->next)
            same += is_element(d) && strcmp((const char *)d->name, name) == 0;
        prev = json_object_get(o, name);
        if (same > 1 || always_array(name)) {
            if (!prev) {
                prev = json_array();
                json_object_set_new(o, name, prev);
            }
            json_array_append_new(prev, to_json(c));
        } else {
            json_object_set_new(o, name, to_json(c));
        }
    }
    return o;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
}

/* An aligned table: rows[r][c], row 0 the header. */
struct table {
    char ***rows;
    size_t nrows, ncols;
    char *cols[32];
};

static int col_of(struct table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return (int)i;
    if (t->ncols == sizeof(t->cols) / sizeof(t->cols[0]))
        return -1;
    t->cols[t->ncols] = strdup(name);
    return (int)t->ncols++;
}

static void table_add(struct table *t, xmlNodePtr item)
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

        if (!is_element(e) || has_element_children(e))
            continue;
        c = col_of(t, (const char *)e->name);
        if (c >= 0)
            row[c] = (char *)xmlNodeGetContent(e);
    }
}

static void table_print(struct table *t)
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

static void table_free(struct table *t)
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

/* ---- commands ----------------------------------------------------------------------------- */

/* "a=1&b=2" from the --name value pairs, URL-encoded. */
static char *form_of(const struct opts *o)
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
static int get_doc(const struct opts *o, const char *path, xmlDocPtr *ret_doc)
{
    struct answer a;
    int r = request(&o->conn, "GET", path, NULL, &a);

    *ret_doc = NULL;
    if (r)
        return r;
    if (a.status < 200 || a.status >= 300) {
        r = refused(&o->conn, "GET", path, &a);
    } else {
        *ret_doc = parse(&a);
        if (!*ret_doc) {
            fail("GET %s: the answer is not XML", path);
            r = EX_SERVER;
        } else if (o->out == OUT_XML) {
            fwrite(a.body.data, 1, a.body.len, stdout);
            if (a.body.data[a.body.len - 1] != '\n')
                fputc('\n', stdout);
        }
    }
    answer_done(&a);
    return r;
}

/* GETs the pages of collection in turn (only the first when one_page), with query appended,
 * and calls fn for each item. Bounded by the total the server gives. Returns 0 or the exit
 * code of a failed request; *ret_total is the server's total. */
static int each_item(const struct opts *o, const char *collection, const char *query, long limit,
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
        r = get_doc(o, path, &doc);
        if (r)
            break;
        root = xmlDocGetRootElement(doc);
        tot = xmlGetProp(root, (const xmlChar *)"total");
        *ret_total = tot ? strtoul((const char *)tot, NULL, 10) : 0;
        xmlFree(tot);
        for (xmlNodePtr e = root->children; e; e = e->next) {
            if (is_element(e)) {
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
    enum output out;
    struct table table;
    json_t *items;
};

static void list_item(xmlNodePtr e, void *ctx)
{
    struct list_ctx *l = ctx;

    if (l->out == OUT_JSON) {
        json_array_append_new(l->items, to_json(e));
    } else if (l->out == OUT_IDS) {
        xmlChar *id = xmlGetProp(e, (const xmlChar *)"id");

        if (id)
            puts((const char *)id);
        xmlFree(id);
    } else if (l->out == OUT_TABLE) {
        table_add(&l->table, e);
    }
}

static int cmd_list(const struct opts *o, const struct resource *res)
{
    struct list_ctx l = {.out = o->out, .items = json_array()};
    char *query = form_of(o);
    size_t total = 0;
    int r;

    if (!query || !l.items) {
        free(query);
        json_decref(l.items);
        return EX_SERVER;
    }
    /* every page, unless --limit; --xml is the answer as received: one page */
    r = each_item(o, res->collection, query, o->limit >= 0 ? o->limit : PAGE,
                  o->limit >= 0 || o->out == OUT_XML, list_item, &l, &total);
    if (r == 0 && o->out == OUT_JSON) {
        json_t *j = json_object();

        json_object_set_new(j, "total", json_integer((json_int_t)total));
        json_object_set(j, "items", l.items);
        print_json(j);
        json_decref(j);
    } else if (r == 0 && o->out == OUT_TABLE) {
        if (l.table.nrows)
            table_print(&l.table);
        else
            printf("no %s\n", res->what);
    }
    table_free(&l.table);
    json_decref(l.items);
    free(query);
    return r;
}

/* Prints one object: XML as received, JSON, or key: value lines. */
static int show_path(const struct opts *o, const char *path)
{
    xmlDocPtr doc;
    int r = get_doc(o, path, &doc);

    if (r)
        return r;
    if (o->out == OUT_JSON) {
        json_t *j = to_json(xmlDocGetRootElement(doc));

        print_json(j);
        json_decref(j);
    } else if (o->out != OUT_XML) {
        print_fields(xmlDocGetRootElement(doc), "");
    }
    xmlFreeDoc(doc);
    return 0;
}

static int cmd_write(const struct opts *o, const char *method, const char *path, bool print_id)
{
    struct answer a;
    char *form = form_of(o);
    int r;

    if (!form)
        return EX_SERVER;
    r = request(&o->conn, method, path, form, &a);
    free(form);
    if (r)
        return r;
    if (a.status < 200 || a.status >= 300) {
        r = refused(&o->conn, method, path, &a);
    } else if (print_id) {
        const char *slash = strrchr(a.location, '/');

        puts(slash ? slash + 1 : a.location);
    }
    answer_done(&a);
    return r;
}

/* ---- the Nagios/Icinga check -------------------------------------------------------------- */

struct check {
    int state;
    size_t hosts, bad;
    long max_rtt;
    char problems[1024];
    char perf[4096];
};

static void check_problem(struct check *c, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_problem(struct check *c, int state, const char *fmt, ...)
{
    size_t o = strlen(c->problems);
    va_list ap;

    if (state > c->state)
        c->state = state;
    if (o + 3 >= sizeof(c->problems))
        return;
    if (o)
        o += (size_t)snprintf(c->problems + o, sizeof(c->problems) - o, "; ");
    va_start(ap, fmt);
    vsnprintf(c->problems + o, sizeof(c->problems) - o, fmt, ap);
    va_end(ap);
}

static char *child_text(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (is_element(c) && strcmp((const char *)c->name, name) == 0)
            return (char *)xmlNodeGetContent(c);
    return NULL;
}

static void check_server(const struct opts *o, struct check *c, const char *id, int *err)
{
    char path[256];
    xmlDocPtr doc;
    xmlNodePtr root;
    char *reason;

    snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", id);
    *err = get_doc(o, path, &doc);
    if (*err)
        return;
    root = xmlDocGetRootElement(doc);
    reason = child_text(root, "failureReason");
    if (reason) { /* the server as a whole: dnsFailure */
        check_problem(c, NAGIOS_CRITICAL, "turnServer %s: %s", id, reason);
        xmlFree(reason);
    }
    for (xmlNodePtr h = root->children; h; h = h->next) {
        char *addr, *port, *transport, *reach, *rtt, *why;
        size_t po;

        if (!is_element(h) || strcmp((const char *)h->name, "host") != 0)
            continue;
        addr = child_text(h, "address");
        port = child_text(h, "portNumber");
        transport = child_text(h, "transport");
        reach = child_text(h, "reachable");
        rtt = child_text(h, "roundTripTimeMs");
        why = child_text(h, "failureReason");
        c->hosts++;
        if (!reach || strcmp(reach, "true") != 0) {
            c->bad++;
            check_problem(c, NAGIOS_CRITICAL, "%s:%s/%s %s", addr ? addr : "?", port ? port : "?",
                          transport ? transport : "udp", why ? why : "unreachable");
        } else if (rtt) {
            long ms = strtol(rtt, NULL, 10);

            if (ms > c->max_rtt)
                c->max_rtt = ms;
            if (o->crit_rtt >= 0 && ms > o->crit_rtt)
                check_problem(c, NAGIOS_CRITICAL, "%s:%s/%s RTT %ld ms", addr, port,
                              transport ? transport : "udp", ms);
            else if (o->warn_rtt >= 0 && ms > o->warn_rtt)
                check_problem(c, NAGIOS_WARNING, "%s:%s/%s RTT %ld ms", addr, port,
                              transport ? transport : "udp", ms);
            po = strlen(c->perf);
            if (po + 200 < sizeof(c->perf)) {
                po +=
                    (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, "%s'rtt_%s:%s/%s'=%ldms;",
                                     po ? " " : "", addr, port, transport ? transport : "udp", ms);
                if (o->warn_rtt >= 0)
                    po += (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, "%ld", o->warn_rtt);
                po += (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, ";");
                if (o->crit_rtt >= 0)
                    snprintf(c->perf + po, sizeof(c->perf) - po, "%ld", o->crit_rtt);
            }
        }
        xmlFree(addr);
        xmlFree(port);
        xmlFree(transport);
        xmlFree(reach);
        xmlFree(rtt);
        xmlFree(why);
    }
    xmlFreeDoc(doc);
}

struct check_walk {
    const struct opts *o;
    struct check *c;
    int err;
};

static void check_item(xmlNodePtr e, void *ctx)
{
    struct check_walk *w = ctx;
    xmlChar *id = xmlGetProp(e, (const xmlChar *)"id");

    if (id && !w->err)
        check_server(w->o, w->c, (const char *)id, &w->err);
    xmlFree(id);
}

static int cmd_check_turn(const struct opts *o, char **ids, size_t nids)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    struct check c = {.max_rtt = 0};
    int err = 0;

    if (nids == 0) { /* every TURN server there is */
        struct check_walk w = {o, &c, 0};
        size_t total;

        err = each_item(o, "turnServers", "", PAGE, false, check_item, &w, &total);
        if (!err)
            err = w.err;
    }
    for (size_t i = 0; i < nids && !err; i++)
        check_server(o, &c, ids[i], &err);
    if (err) { /* the API did not answer, or refused us: cbctl already said why on stderr */
        printf("TURN UNKNOWN - the callbridge API did not give the TURN status (%s)\n",
               err == EX_CONNECT   ? "no connection"
               : err == EX_REFUSED ? "refused"
                                   : "error");
        return NAGIOS_UNKNOWN;
    }
    if (c.hosts == 0 && c.state == NAGIOS_OK) {
        printf("TURN UNKNOWN - no TURN server addresses to check\n");
        return NAGIOS_UNKNOWN;
    }
    if (c.state == NAGIOS_OK)
        printf("TURN OK - %zu of %zu addresses reachable, highest RTT %ld ms", c.hosts - c.bad,
               c.hosts, c.max_rtt);
    else
        printf("TURN %s - %s", names[c.state], c.problems);
    printf("%s%s\n", c.perf[0] ? " | " : "", c.perf);
    return c.state;
}

/* ---- command line ------------------------------------------------------------------------- */

static void usage_top(FILE *f)
{
    fputs("Usage: cbctl [OPTIONS] RESOURCE VERB [ID] [--PARAMETER VALUE ...]\n"
          "       cbctl [OPTIONS] match USER@DOMAIN\n"
          "       cbctl [OPTIONS] system status\n"
          "       cbctl [OPTIONS] check turn [ID ...] [--warn-rtt MS] [--crit-rtt MS]\n"
          "\n"
          "Resources (verbs list, show, add, set, rm):\n",
          f);
    for (size_t i = 0; i < N_RESOURCES; i++)
        fprintf(f, "  %-11s %s (/api/v1/%s)\n", resources[i].name, resources[i].what,
                resources[i].collection);
    fputs("  turn status ID   the probe results of one TURN server\n"
          "\n"
          "Options:\n"
          "  --url URL            https://HOST:PORT of callbridged (CBCTL_URL)\n"
          "  --user NAME          API user (CBCTL_USER)\n"
          "  --password-file F    the user's password, first line (CBCTL_PASSWORD_FILE;\n"
          "                       or CBCTL_PASSWORD)\n"
          "  --cacert FILE        trust this certificate (callbridged's cert.pem)\n"
          "  --insecure           do not verify the server's certificate\n"
          "  --xml | --json       the answer as XML (as received) or JSON, for jq\n"
          "  -q, --quiet          list: only the ids\n"
          "  --limit N            list: one page of at most N (default: every page)\n"
          "  -h, --help           this text; 'cbctl RESOURCE --help' for one resource\n"
          "\n"
          "Settings not given come from ~/.config/cbctl/config (key = value: url, user,\n"
          "password-file, cacert, insecure). Exit codes: 0 done, 1 server error, 2 usage,\n"
          "3 not found, 4 refused by the server, 5 no connection.\n",
          f);
}

static void usage_resource(FILE *f, const struct resource *r)
{
    fprintf(f,
            "Usage: cbctl %s list [--limit N] [--FILTER VALUE ...]   %s, every page\n"
            "       cbctl %s show ID\n"
            "       cbctl %s add --PARAMETER VALUE ...            prints the new id\n"
            "       cbctl %s set ID --PARAMETER VALUE ...\n"
            "       cbctl %s rm ID\n",
            r->name, r->what, r->name, r->name, r->name, r->name);
    if (strcmp(r->name, "leg") == 0)
        fputs("       cbctl leg add --call ID --remoteParty URI --remoteMediaAddress IP:PORT\n"
              "                                        a leg of that call, anchored for media\n"
              "       cbctl leg add --destination USER@DOMAIN   an incoming leg, placed by the\n"
              "                                        call matching (or --callId, --passcode)\n",
              f);
    if (strcmp(r->name, "turn") == 0)
        fputs("       cbctl turn status ID\n"
              "Parameters are the API's: serverAddress, clientAddress, username, password,\n"
              "type, tcpPortNumberOverride, useShortTermCredentials, sharedSecret, ...\n",
              f);
    else
        fprintf(f, "Parameters and filters are the API's (/api/v1/%s), e.g. --filter TEXT.\n",
                r->collection);
}

/* Splits argv into positional words and options; --PARAMETER VALUE pairs go to o->params. */
static int parse_args(int argc, char **argv, struct opts *o, char **words, size_t *nwords,
                      bool *help)
{
    struct conn flags = {0};
    bool insecure = false;
    const char *password_file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
        } else if (strcmp(a, "--xml") == 0) {
            o->out = OUT_XML;
        } else if (strcmp(a, "--json") == 0) {
            o->out = OUT_JSON;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->out = OUT_IDS;
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            insecure = true;
        } else if (strncmp(a, "--", 2) == 0 && a[2]) {
            const char *name = a + 2, *value;
            char *end;

            if (i + 1 >= argc) {
                fail("%s needs a value", a);
                return EX_USAGE;
            }
            value = argv[++i];
            if (strcmp(name, "url") == 0)
                snprintf(flags.url, sizeof(flags.url), "%s", value);
            else if (strcmp(name, "user") == 0)
                snprintf(flags.user, sizeof(flags.user), "%s", value);
            else if (strcmp(name, "password-file") == 0)
                password_file = value;
            else if (strcmp(name, "cacert") == 0)
                snprintf(flags.cacert, sizeof(flags.cacert), "%s", value);
            else if (strcmp(name, "limit") == 0 || strcmp(name, "warn-rtt") == 0 ||
                     strcmp(name, "crit-rtt") == 0) {
                long v = strtol(value, &end, 10);

                if (!*value || *end || v < 0) {
                    fail("%s takes a number, not '%s'", a, value);
                    return EX_USAGE;
                }
                if (name[0] == 'l')
                    o->limit = v;
                else if (name[0] == 'w')
                    o->warn_rtt = v;
                else
                    o->crit_rtt = v;
            } else if (o->nparams < MAX_PARAMS) {
                o->params[o->nparams][0] = name;
                o->params[o->nparams++][1] = value;
            } else {
                fail("more than %d parameters", MAX_PARAMS);
                return EX_USAGE;
            }
        } else if (*nwords < 16) {
            words[(*nwords)++] = argv[i];
        } else {
            fail("too many arguments");
            return EX_USAGE;
        }
    }
    /* precedence: the file, then the environment, then flags */
    snprintf(o->conn.url, sizeof(o->conn.url), "https://127.0.0.1:8443");
    snprintf(o->conn.user, sizeof(o->conn.user), "admin");
    if (load_config_file(&o->conn) < 0 || load_env(&o->conn) < 0)
        return EX_USAGE;
    if (flags.url[0])
        snprintf(o->conn.url, sizeof(o->conn.url), "%s", flags.url);
    if (flags.user[0])
        snprintf(o->conn.user, sizeof(o->conn.user), "%s", flags.user);
    if (flags.cacert[0])
        snprintf(o->conn.cacert, sizeof(o->conn.cacert), "%s", flags.cacert);
    if (insecure)
        o->conn.insecure = true;
    if (password_file && read_password_file(password_file, &o->conn) < 0)
        return EX_USAGE;
    {
        size_t n = strlen(o->conn.url);

        while (n > 0 && o->conn.url[n - 1] == '/')
            o->conn.url[--n] = '\0';
    }
    return 0;
}

static const struct resource *find_resource(const char *name)
{
    for (size_t i = 0; i < N_RESOURCES; i++)
        if (strcmp(resources[i].name, name) == 0)
            return &resources[i];
    return NULL;
}

static int run(struct opts *o, char **w, size_t n, bool help)
{
    const struct resource *res;
    char path[1024];

    if (n == 0) {
        usage_top(help ? stdout : stderr);
        return help ? EX_OK : EX_USAGE;
    }
    if (strcmp(w[0], "check") == 0) {
        if (help || n < 2 || strcmp(w[1], "turn") != 0) {
            fputs("Usage: cbctl check turn [ID ...] [--warn-rtt MS] [--crit-rtt MS]\n"
                  "A Nagios/Icinga plugin: every address of the TURN servers given (default:\n"
                  "all). Exit 0 OK, 1 WARNING (an RTT over --warn-rtt), 2 CRITICAL (an address\n"
                  "unreachable, any failureReason, an RTT over --crit-rtt), 3 UNKNOWN (the API\n"
                  "did not answer or refused the credentials). Perfdata: 'rtt_ADDR:PORT/"
                  "TRANSPORT'=MSms;WARN;CRIT.\n",
                  help ? stdout : stderr);
            return help ? EX_OK : NAGIOS_UNKNOWN;
        }
        return cmd_check_turn(o, w + 2, n - 2);
    }
    if (strcmp(w[0], "match") == 0) {
        char *q;
        CURL *h;

        if (help || n != 2) {
            fputs("Usage: cbctl match USER@DOMAIN   what an incoming call to that address "
                  "reaches\n",
                  help ? stdout : stderr);
            return help ? EX_OK : EX_USAGE;
        }
        h = curl_easy_init();
        q = h ? curl_easy_escape(h, w[1], 0) : NULL;
        snprintf(path, sizeof(path), "/api/v1/callMatching?destination=%s", q ? q : "");
        curl_free(q);
        curl_easy_cleanup(h);
        return show_path(o, path);
    }
    if (strcmp(w[0], "system") == 0) {
        if (help || n != 2 || strcmp(w[1], "status") != 0) {
            fputs("Usage: cbctl system status\n", help ? stdout : stderr);
            return help ? EX_OK : EX_USAGE;
        }
        return show_path(o, "/api/v1/system/status");
    }
    res = find_resource(w[0]);
    if (!res) {
        fail("unknown resource '%s' (cbctl --help lists them)", w[0]);
        return EX_USAGE;
    }
    if (help || n < 2) {
        usage_resource(help ? stdout : stderr, res);
        return help ? EX_OK : EX_USAGE;
    }
    if (strcmp(w[1], "list") == 0 && n == 2)
        return cmd_list(o, res);
    if (strcmp(w[1], "add") == 0 && n == 2) {
        snprintf(path, sizeof(path), "/api/v1/%s", res->collection);
        if (strcmp(res->name, "leg") ==
            0) { /* --call ID: a leg of that call, not an incoming one */
            for (size_t i = 0; i < o->nparams; i++) {
                if (strcmp(o->params[i][0], "call") != 0)
                    continue;
                snprintf(path, sizeof(path), "/api/v1/calls/%s/callLegs", o->params[i][1]);
                o->params[i][0] = o->params[o->nparams - 1][0];
                o->params[i][1] = o->params[--o->nparams][1];
                break;
            }
        }
        return cmd_write(o, "POST", path, true);
    }
    if (n == 3 && strcmp(w[1], "status") == 0 && strcmp(res->name, "turn") == 0) {
        snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", w[2]);
        return show_path(o, path);
    }
    if (n == 3) {
        snprintf(path, sizeof(path), "/api/v1/%s/%s", res->collection, w[2]);
        if (strcmp(w[1], "show") == 0)
            return show_path(o, path);
        if (strcmp(w[1], "set") == 0)
            return cmd_write(o, "PUT", path, false);
        if (strcmp(w[1], "rm") == 0)
            return cmd_write(o, "DELETE", path, false);
    }
    usage_resource(stderr, res);
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    struct opts o = {.out = OUT_TABLE, .limit = -1, .warn_rtt = -1, .crit_rtt = -1};
    char *words[16];
    size_t n = 0;
    bool help = false;
    int r;

    r = parse_args(argc, argv, &o, words, &n, &help);
    if (r) {
        /* the check reports UNKNOWN for any trouble of its own */
        return n > 0 && strcmp(words[0], "check") == 0 ? NAGIOS_UNKNOWN : r;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    r = run(&o, words, n, help);
    xmlCleanupParser();
    curl_global_cleanup();
    explicit_bzero(o.conn.password, sizeof(o.conn.password));
    return r;
}
