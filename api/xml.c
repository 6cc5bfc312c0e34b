/* api/xml.c: the only file that uses libxml2.
 *
 * DESIGN: answers are small and flat, and written on every GET, so the writer is lean: markup
 * goes straight into one xmlBuffer, and all text and attribute values are escaped by libxml2
 * (xmlAttrSerializeTxtContent, against a document that declares UTF-8, so non-ASCII stays raw
 * UTF-8 as a real CMS sends it). Element names are the caller's string literals, kept on a fixed
 * stack. libxml2's xmlTextWriter did the same job with several allocations per element and was
 * a third of the CPU time of a list request (see README "Benchmark").
 * The declaration has no newline after it, as in captured CMS answers. failureDetails bodies are
 * formatted by hand: clients cut them at fixed offsets and need the space before "/>". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "api/xml.h"

#define XML_DECL "<?xml version=\"1.0\"?>"
#define MAX_DEPTH 16

struct api_xml {
    xmlBufferPtr buf;
    xmlDocPtr doc; /* only carries encoding="UTF-8" for the escaper */
    const char *open[MAX_DEPTH];
    size_t depth;
    bool tag_open; /* the innermost start tag still lacks its '>' */
    int err;
};

/* decl: the document's XML declaration, or "" for a fragment. */
static struct api_xml *writer_new(const char *decl)
{
    struct api_xml *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->buf = xmlBufferCreateSize(4096);
    x->doc = xmlNewDoc((const xmlChar *)"1.0");
    if (x->doc)
        x->doc->encoding = xmlStrdup((const xmlChar *)"UTF-8");
    if (!x->buf || !x->doc || !x->doc->encoding ||
        xmlBufferAdd(x->buf, (const xmlChar *)decl, -1) != 0) {
        api_xml_free(x);
        return NULL;
    }
    return x;
}

struct api_xml *api_xml_new(void)
{
    return writer_new(XML_DECL);
}

struct api_xml *api_xml_new_fragment(void)
{
    return writer_new("");
}

void api_xml_free(struct api_xml *x)
{
    if (!x)
        return;
    if (x->buf)
        xmlBufferFree(x->buf);
    if (x->doc)
        xmlFreeDoc(x->doc);
    free(x);
}

static void put(struct api_xml *x, const char *s)
{
    if (xmlBufferCat(x->buf, (const xmlChar *)s) != 0)
        x->err = -ENOMEM;
}

static void put_escaped(struct api_xml *x, const char *s)
{
    size_t before = (size_t)xmlBufferLength(x->buf);

    xmlAttrSerializeTxtContent(x->buf, x->doc, NULL, (const xmlChar *)s);
    if (*s && (size_t)xmlBufferLength(x->buf) == before)
        x->err = -EIO; /* libxml2 refused the text (invalid UTF-8) */
}

static void close_start_tag(struct api_xml *x)
{
    if (x->tag_open) {
        put(x, ">");
        x->tag_open = false;
    }
}

void api_xml_start(struct api_xml *x, const char *name)
{
    if (x->depth == MAX_DEPTH) {
        x->err = -E2BIG;
        return;
    }
    close_start_tag(x);
    put(x, "<");
    put(x, name);
    x->open[x->depth++] = name;
    x->tag_open = true;
}

void api_xml_attr(struct api_xml *x, const char *name, const char *value)
{
    if (!x->tag_open) {
        x->err = -EINVAL;
        return;
    }
    put(x, " ");
    put(x, name);
    put(x, "=\"");
    put_escaped(x, value);
    put(x, "\"");
}

void api_xml_attr_size(struct api_xml *x, const char *name, size_t value)
{
    char s[32];

    (void)snprintf(s, sizeof(s), "%zu", value);
    api_xml_attr(x, name, s);
}

void api_xml_end(struct api_xml *x)
{
    if (x->depth == 0) {
        x->err = -EINVAL;
        return;
    }
    x->depth--;
    if (x->tag_open) {
        put(x, "/>");
        x->tag_open = false;
        return;
    }
    put(x, "</");
    put(x, x->open[x->depth]);
    put(x, ">");
}

void api_xml_text(struct api_xml *x, const char *name, const char *value)
{
    api_xml_start(x, name);
    close_start_tag(x);
    put_escaped(x, value);
    api_xml_end(x);
}

void api_xml_int(struct api_xml *x, const char *name, int64_t value)
{
    char s[32];

    (void)snprintf(s, sizeof(s), "%" PRId64, value);
    api_xml_text(x, name, s);
}

void api_xml_bool(struct api_xml *x, const char *name, bool value)
{
    api_xml_text(x, name, value ? "true" : "false");
}

void api_xml_raw(struct api_xml *x, const char *markup)
{
    close_start_tag(x);
    put(x, markup);
}

int api_xml_finish(struct api_xml *x, char **ret_body, size_t *ret_len)
{
    size_t len;
    char *body;
    int r;

    while (x->depth > 0 && x->err == 0)
        api_xml_end(x);
    r = x->err;
    if (r < 0)
        goto out;
    len = (size_t)xmlBufferLength(x->buf);
    body = malloc(len + 1);
    if (!body) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(body, xmlBufferContent(x->buf), len);
    body[len] = '\0';
    *ret_body = body;
    *ret_len = len;
out:
    api_xml_free(x);
    return r;
}

/* Returns a malloc()ed copy of s with the XML attribute specials escaped, or NULL. */
static char *escape_attr(const char *s)
{
    char *out = malloc(6 * strlen(s) + 1), *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        const char *e;

        switch (*s) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        default:
            *o++ = *s;
            continue;
        }
        o = stpcpy(o, e);
    }
    *o = '\0';
    return out;
}

int api_xml_failure(const char *reason, const char *param, const char *error, char **ret_body,
                    size_t *ret_len)
{
    char *p = NULL, *e = NULL, *body = NULL;
    int n, r = -ENOMEM;

    if (param) {
        p = escape_attr(param);
        e = escape_attr(error ? error : "invalidValue");
        if (!p || !e)
            goto out;
        n = asprintf(&body,
                     XML_DECL "<failureDetails><parameterError parameter=\"%s\" error=\"%s\" />"
                              "</failureDetails>",
                     p, e);
    } else {
        n = asprintf(&body, XML_DECL "<failureDetails><%s /></failureDetails>", reason);
    }
    if (n < 0)
        goto out;
    *ret_body = body;
    *ret_len = (size_t)n;
    r = 0;
out:
    free(p);
    free(e);
    return r;
}
