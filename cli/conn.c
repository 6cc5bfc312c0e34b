/* cli/conn.c: how cbctl reaches the daemon. The connection settings (the config file
 * ~/.config/cbctl/config, then the environment CBCTL_*; main.c applies the flags last), one
 * HTTPS request with Basic auth through libcurl, and a refusal (a non-2xx answer) told as one
 * line on stderr with the exit code it maps to. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cli/cli.h"

void cli_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("cbctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

int cli_read_password_file(const char *path, struct cli_conn *c)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        cli_fail("cannot read the password file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!fgets(c->password, sizeof(c->password), f))
        c->password[0] = '\0';
    fclose(f);
    trim(c->password);
    return 0;
}

static int set_conn(struct cli_conn *c, const char *key, const char *value)
{
    if (strcmp(key, "url") == 0)
        snprintf(c->url, sizeof(c->url), "%s", value);
    else if (strcmp(key, "user") == 0)
        snprintf(c->user, sizeof(c->user), "%s", value);
    else if (strcmp(key, "password-file") == 0)
        return cli_read_password_file(value, c);
    else if (strcmp(key, "cacert") == 0)
        snprintf(c->cacert, sizeof(c->cacert), "%s", value);
    else if (strcmp(key, "insecure") == 0)
        c->insecure =
            strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0;
    else
        return 1; /* not a connection setting */
    return 0;
}

/* $XDG_CONFIG_HOME/cbctl/config or ~/.config/cbctl/config; false with neither variable. */
static bool config_path(char *path, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

    if (xdg && *xdg)
        snprintf(path, size, "%s/cbctl/config", xdg);
    else if (home && *home)
        snprintf(path, size, "%s/.config/cbctl/config", home);
    else
        return false;
    return true;
}

/* One line of the file: blank, a comment, or "key = value". */
static int config_line(struct cli_conn *c, char *line, const char *path, int lineno)
{
    char *eq, *key = line, *value;

    trim(line);
    key += strspn(key, " \t");
    if (!*key || *key == '#' || *key == ';')
        return 0;
    eq = strchr(key, '=');
    if (!eq) {
        cli_fail("%s:%d: expected key = value", path, lineno);
        return -1;
    }
    value = eq + 1 + strspn(eq + 1, " \t");
    while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
        eq--;
    *eq = '\0';
    if (set_conn(c, key, value) != 0) {
        cli_fail("%s:%d: unknown key %s (url, user, password-file, cacert, insecure)", path, lineno,
                 key);
        return -1;
    }
    return 0;
}

static int load_config_file(struct cli_conn *c)
{
    char path[1024], line[1200];
    FILE *f;
    int lineno = 0, r = 0;

    if (!config_path(path, sizeof(path)))
        return 0;
    f = fopen(path, "r");
    if (!f)
        return 0; /* optional */
    while (r == 0 && fgets(line, sizeof(line), f))
        r = config_line(c, line, path, ++lineno);
    fclose(f);
    return r;
}

static int load_env(struct cli_conn *c)
{
    const char *v;

    if ((v = getenv("CBCTL_URL")) && *v)
        set_conn(c, "url", v);
    if ((v = getenv("CBCTL_USER")) && *v)
        set_conn(c, "user", v);
    if ((v = getenv("CBCTL_PASSWORD")) && *v)
        snprintf(c->password, sizeof(c->password), "%s", v);
    else if ((v = getenv("CBCTL_PASSWORD_FILE")) && *v)
        return cli_read_password_file(v, c);
    return 0;
}

/* The settings not given as flags: the file, then the environment over it. */
int cli_load_settings(struct cli_conn *c)
{
    if (load_config_file(c) < 0 || load_env(c) < 0)
        return -1;
    return 0;
}

/* ---- HTTP --------------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    struct cli_buf *b = userdata;
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

/* The request's options: where, how, whom, and where the answer goes. */
static void set_options(CURL *h, const struct cli_conn *c, const char *method, const char *url,
                        const char *form, struct cli_answer *a, char *err)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)a->location);
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
}

/* One request; path starts with "/". Returns 0, or CLI_EX_CONNECT after saying why. */
int cli_request(const struct cli_conn *c, const char *method, const char *path, const char *form,
                struct cli_answer *a)
{
    char url[2048], err[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    CURLcode rc;

    memset(a, 0, sizeof(*a));
    if (!h) {
        cli_fail("cannot start libcurl");
        return CLI_EX_CONNECT;
    }
    snprintf(url, sizeof(url), "%s%s", c->url, path);
    set_options(h, c, method, url, form, a, err);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(h);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
        cli_fail("%s: the server's certificate is not trusted (%s); give its certificate with "
                 "--cacert FILE (callbridged's data directory has cert.pem), or --insecure",
                 c->url, err[0] ? err : curl_easy_strerror(rc));
        return CLI_EX_CONNECT;
    }
    if (rc != CURLE_OK) {
        cli_fail("%s: %s", c->url, err[0] ? err : curl_easy_strerror(rc));
        return CLI_EX_CONNECT;
    }
    return 0;
}

void cli_answer_done(struct cli_answer *a)
{
    free(a->body.data);
    a->body.data = NULL;
}

xmlDocPtr cli_parse(const struct cli_answer *a)
{
    if (!a->body.data || a->body.len == 0)
        return NULL;
    return xmlReadMemory(a->body.data, (int)a->body.len, NULL, NULL, XML_PARSE_NONET);
}

/* A non-2xx answer as one line on stderr; returns the exit code for it. */
int cli_refused(const struct cli_conn *c, const char *method, const char *path,
                const struct cli_answer *a)
{
    char what[512] = "";
    xmlDocPtr doc = cli_parse(a);
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
        cli_fail("%s %s: 401: the server does not accept user '%s' with this password", method,
                 path, c->user);
        return CLI_EX_REFUSED;
    }
    cli_fail("%s %s: %ld%s%s", method, path, a->status, what[0] ? ": " : "", what);
    if (a->status == 404)
        return CLI_EX_NOTFOUND;
    return a->status >= 400 && a->status < 500 ? CLI_EX_REFUSED : CLI_EX_SERVER;
}
