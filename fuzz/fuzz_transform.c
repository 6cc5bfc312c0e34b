/* fuzz/fuzz_transform.c: dial transforms (api/res/transform.c) on arbitrary expressions and
 * dialled strings. An administrator's match and transform expressions reach the call matching of
 * every incoming call, and the dialled string comes from the caller: whatever they hold, the
 * checks must not crash, and an expression the checks accept must apply without overrunning its
 * output. The input is split at NUL bytes into type selector, match, transform and dialled string.
 * Its first run found fuzz/corpus/transform/oom-1: stacked repetition operators that made
 * glibc's regcomp take 4 GB (api/res/transform.c now refuses them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/res/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"raw", "strip", "phone"};
    const char *part[4] = {"", "", "", ""};
    char *buf, out[256];
    size_t n = 0;
    int r;

    if (size == 0 || size > 4096)
        return 0;
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    part[0] = buf;
    for (size_t i = 0; i + 1 < size && n < 3; i++)
        if (buf[i] == '\0')
            part[++n] = buf + i + 1;
    (void)api_transform_check_match(part[0]);
    (void)api_transform_check(part[1]);
    r = api_transform_apply(types[data[0] % 3], part[0], part[1], part[2], out, sizeof(out));
    if (r == 1 && strnlen(out, sizeof(out)) == sizeof(out))
        abort(); /* the rewritten string must end within its buffer */
    free(buf);
    return 0;
}
