/* api/http/web.h: the guest join page (web/join.html, join.js, join.css), embedded in the
 * binary at build time by scripts/web2c.sh (build/gen/web.c), so the daemon serves it without
 * reading files at run time and a page can never be out of step with the daemon that serves it. */
#ifndef API_HTTP_WEB_H
#define API_HTTP_WEB_H

#include <stddef.h>

struct web_file {
    const char *name;          /* the file's base name: "join.js" */
    const char *type;          /* its Content-Type: "text/javascript; charset=utf-8" */
    const unsigned char *data; /* the bytes, static; not NUL-terminated as far as len counts */
    size_t len;
};

/* The embedded file named 'name' ("join.js", no directory), or NULL if there is none. Only an
 * exact name matches, so a request path like "../x" finds nothing. Thread-safe (read-only). */
const struct web_file *web_find(const char *name);

#endif
