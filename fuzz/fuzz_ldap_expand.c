/* fuzz/fuzz_ldap_expand.c: an LDAP mapping's $attr$ templates (api/ldap_sync.c
 * api_ldap_expand) expanded with attribute values as a directory server sends them. The template
 * is an administrator's, the values come over the network from the LDAP server (or whoever sits
 * on an ldap:// path): whatever they hold, the expansion must stay within its buffer, end it with
 * a NUL, and report a length that matches. The input is split at its first NUL into template and
 * value; each attribute's value is that value with the attribute's name appended, or none (missing)
 * for names starting with 'x'.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ldap_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct values {
    const char *value;
    char buf[1024];
};

static const char *value_of(void *userdata, const char *attr)
{
    struct values *v = userdata;

    if (attr[0] == 'x')
        return NULL;
    (void)snprintf(v->buf, sizeof(v->buf), "%s%s", v->value, attr);
    return v->buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct values v;
    char *buf, out[256];
    bool missing = false;
    size_t cap;
    int n;

    if (size == 0 || size > 4096)
        return 0;
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    v.value = buf + strlen(buf) + (strlen(buf) < size ? 1 : 0);
    cap = data[0] % 2 ? sizeof(out) : 16; /* a small buffer too: -E2BIG, never an overrun */
    n = api_ldap_expand(buf, value_of, &v, out, cap, &missing);
    if (n >= 0 && ((size_t)n >= cap || strlen(out) != (size_t)n))
        abort(); /* the length must be what was written, within the buffer */
    free(buf);
    return 0;
}
