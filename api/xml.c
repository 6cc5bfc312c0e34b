/* api/xml.c: the only libxml2 writer. A document is written with xmlTextWriter into an
 * xmlBuffer; the declaration is written by hand because xmlTextWriterStartDocument puts a newline
 * after it, and captured CMS answers have none. failureDetails bodies are formatted by hand too:
 * clients cut them at fixed offsets and need the space before "/>" that libxml2 never writes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "api/xml.h"

#define XML_DECL "<?xml version=\"1.0\"?>"

struct api_xml {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    int err;
};

struct api_xml *api_xml_new(void)
{
    struct api_xml *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->buf = xmlBufferCreate();
    if (x->buf)
        x->w = xmlNewTextWriterMemory(x->buf, 0);
    if (!x->w) {
        api_xml_free(x);
        return NULL;
    }
    return x;
}

void api_xml_free(struct api_xml *x)
{
    if (!x)
        return;
    if (x->w)
        xmlFreeTextWriter(x->w);
    if (x->buf)
        xmlBufferFree(x->buf);
    free(x);
}

static void check(struct api_xml *x, int rc)
{
    if (rc < 0)
        x->err = -EIO;
}

void api_xml_start(struct api_xml *x, const char *name)
{
    check(x, xmlTextWriterStartElement(x->w, (const xmlChar *)name));
}

void api_xml_attr(struct api_xml *x, const char *name, const char *value)
{
    check(x, xmlTextWriterWriteAttribute(x->w, (const xmlChar *)name, (const xmlChar *)value));
}

void api_xml_attr_size(struct api_xml *x, const char *name, size_t value)
{
    char s[32];

    (void)snprintf(s, sizeof(s), "%zu", value);
    api_xml_attr(x, name, s);
}

void api_xml_end(struct api_xml *x)
{
    check(x, xmlTextWriterEndElement(x->w));
}

void api_xml_text(struct api_xml *x, const char *name, const char *value)
{
    check(x, xmlTextWriterWriteElement(x->w, (const xmlChar *)name, (const xmlChar *)value));
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

int api_xml_finish(struct api_xml *x, char **ret_body, size_t *ret_len)
{
    size_t decl = strlen(XML_DECL), len;
    const xmlChar *content;
    char *body;
    int r = x->err;

    if (r == 0 && xmlTextWriterEndDocument(x->w) < 0)
        r = -EIO;
    if (r == 0 && xmlTextWriterFlush(x->w) < 0)
        r = -EIO;
    if (r < 0)
        goto out;
    content = xmlBufferContent(x->buf);
    len = (size_t)xmlBufferLength(x->buf);
    while (len > 0 && content[len - 1] == '\n') /* EndDocument adds a newline */
        len--;
    body = malloc(decl + len + 1);
    if (!body) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(body, XML_DECL, decl);
    memcpy(body + decl, content, len);
    body[decl + len] = '\0';
    *ret_body = body;
    *ret_len = decl + len;
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
