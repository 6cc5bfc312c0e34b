/* fuzz/fuzz_form.c: the form and query parser (api/form.c) on arbitrary bodies: every
 * parameter it accepts must be valid UTF-8 without NUL bytes, within the input's size. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s++;
        int n = c < 0x80                 ? 0
                : c >= 0xC2 && c <= 0xDF ? 1
                : c >= 0xE0 && c <= 0xEF ? 2
                : c >= 0xF0 && c <= 0xF4 ? 3
                                         : -1;
        unsigned char lo = 0x80, hi = 0xBF;

        if (n < 0)
            return 0;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        for (int i = 0; i < n; i++, s++) {
            if (*s < (i ? 0x80 : lo) || *s > (i ? 0xBF : hi))
                return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_params p = {0};

    if (api_params_parse(&p, (const char *)data, size) == 0) {
        for (size_t i = 0; i < p.n; i++) {
            const char *v = api_params_get(&p, p.v[i].name);

            if (!v || strlen(p.v[i].name) > size || strlen(p.v[i].value) > size ||
                !utf8_ok((const unsigned char *)p.v[i].name) ||
                !utf8_ok((const unsigned char *)p.v[i].value))
                __builtin_trap();
        }
    }
    api_params_done(&p);
    return 0;
}
