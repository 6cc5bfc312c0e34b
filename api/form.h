/* api/form.h: name/value parameters from an application/x-www-form-urlencoded body or a query
 * string. Names match case-insensitively, as CMS clients rely on (cms-api.md 1.3). */
#ifndef API_FORM_H
#define API_FORM_H

#include <stddef.h>

#define API_PARAM_NAME_MAX 64 /* longer names are kept in the list but can match nothing */
#define API_PARAMS_MAX 1000   /* parameters per query or body; more is -E2BIG (413) */

struct api_param {
    char *name;  /* decoded, NUL-terminated, valid UTF-8 */
    char *value; /* decoded, NUL-terminated, valid UTF-8 */
};

struct api_params {
    struct api_param *v;
    size_t n, cap;
    char bad[API_PARAM_NAME_MAX + 1]; /* after -EINVAL: the offending parameter's name */
};

/* Appends a copy of name/value (lengths in bytes). Returns 0, -ENOMEM, -E2BIG (the list holds
 * API_PARAMS_MAX already), or -EINVAL when either
 * contains a NUL byte or is not valid UTF-8 (p->bad then holds the name, if printable). */
int api_params_add(struct api_params *p, const char *name, size_t nlen, const char *value,
                   size_t vlen);
/* Parses "a=1&b=x+y%21"; '+' is a space, %XX a byte; pairs without '=' have an empty value;
 * empty pairs are skipped. Returns 0, -ENOMEM, or -EINVAL for a bad %-escape, a NUL byte or
 * invalid UTF-8 (p->bad names the parameter). */
int api_params_parse(struct api_params *p, const char *s, size_t len);
/* The value of the last parameter named 'name' (any case), or NULL. */
const char *api_params_get(const struct api_params *p, const char *name);
void api_params_done(struct api_params *p); /* frees everything; p may be zeroed or used again */

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
int api_is_utf8(const char *s, size_t len);

#endif
