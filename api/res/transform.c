/* api/res/transform.c: the dial transform expressions (api/res/transform.h).
 *
 * DESIGN: the subset of CMS's syntax implemented: pre-processing raw ($1 = the string), strip
 * ($1 = the string without dots, dashes and spaces) and phone (an international number, "+" or
 * "00" then digits: $1 the country code by the ITU E.164 code lengths, $2 the rest); a match is
 * "($N/regex/)" groups, optionally separated by spaces, all of which must find their regex in
 * component N; a transform is literal text with "$N", "$N{}" and "$N{/regex/replacement/}..."
 * (every occurrence replaced, "\1".."\9" in the replacement name capture groups). Regular
 * expressions are POSIX extended ones, with the Perl classes \d \D \s \S \w \W that CMS's
 * examples use rewritten into bracket expressions. */
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/res/transform.h"

#define NCOMP 3
#define COMP_MAX 256
#define RE_MAX 512

struct comps {
    char c[NCOMP][COMP_MAX]; /* c[1], c[2]: $1, $2 */
};

/* glibc's regcomp copies a repeated operand's tree once per repetition: stacked operators
 * ("M+++...", 114 of them, found by fuzz/fuzz_transform.c) took 4 GB, and nested intervals
 * multiply ("((a{99}){99}){99}"). True when no repetition operator follows another (POSIX
 * leaves "a**" undefined) and the product of the intervals' largest counts ({m}, {m,n}, {m,}:
 * m+1) stays within RE_MAX_COPIES, far more than a dial plan needs. */
#define RE_MAX_COPIES 1000
static bool repetition_bounded(const char *s)
{
    unsigned long product = 1;
    bool after_op = false;

    for (const char *p = s; *p; p++) {
        bool interval = *p == '{' && p[1] >= '0' && p[1] <= '9';

        if (*p == '\\' && p[1]) {
            p++;
            after_op = false;
            continue;
        }
        if (*p == '[') { /* a bracket expression: its '*' and '+' are characters */
            const char *q = p + 1 + (p[1] == '^');

            q = strchr(q + (*q == ']'), ']');
            if (!q)
                return true; /* unterminated: regcomp refuses it */
            p = q;
            after_op = false;
            continue;
        }
        if ((*p == '*' || *p == '+' || *p == '?' || interval) && after_op)
            return false;
        if (interval) {
            char *end;
            unsigned long m = strtoul(p + 1, &end, 10), n = m + 1;

            if (*end == ',' && end[1] >= '0' && end[1] <= '9')
                n = strtoul(end + 1, &end, 10);
            if (n > RE_MAX_COPIES || (product *= n ? n : 1) > RE_MAX_COPIES)
                return false;
            p = *end == '}' ? end : p;
        }
        after_op = *p == '*' || *p == '+' || *p == '?' || interval;
    }
    return true;
}

/* Compiles a regex of length len, rewriting the Perl classes. */
static int compile(regex_t *re, const char *s, size_t len)
{
    static const char *const perl[][2] = {{"d", "[0-9]"},        {"D", "[^0-9]"},
                                          {"s", "[[:space:]]"},  {"S", "[^[:space:]]"},
                                          {"w", "[[:alnum:]_]"}, {"W", "[^[:alnum:]_]"}};
    char buf[RE_MAX];
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        const char *add = NULL;

        if (s[i] == '\\' && i + 1 < len)
            for (size_t k = 0; k < sizeof(perl) / sizeof(perl[0]); k++)
                if (s[i + 1] == perl[k][0][0])
                    add = perl[k][1];
        if (add)
            i++;
        if (o + (add ? strlen(add) : 1) >= sizeof(buf))
            return -EINVAL;
        if (add) {
            memcpy(buf + o, add, strlen(add));
            o += strlen(add);
        } else {
            buf[o++] = s[i];
        }
    }
    buf[o] = '\0';
    if (!repetition_bounded(buf))
        return -EINVAL;
    return regcomp(re, buf, REG_EXTENDED) == 0 ? 0 : -EINVAL;
}

/* An ITU country code's length from its first digits: 1 and 7 are one digit, these two-digit
 * prefixes are two, the rest three. */
static size_t country_code_len(const char *d)
{
    static const char *const two[] = {
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};

    if (d[0] == '1' || d[0] == '7')
        return 1;
    for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
        if (strncmp(d, two[i], 2) == 0)
            return 2;
    return 3;
}

/* Fills c from in as type says; 0, or -ENOENT when in is not of the type (phone). */
static int preprocess(const char *type, const char *in, struct comps *c)
{
    bool strip = strcmp(type, "raw") != 0, phone = strcmp(type, "phone") == 0;
    char *d, *s;
    size_t o = 0, cc;

    memset(c, 0, sizeof(*c));
    d = s = c->c[1];
    for (; *in && o + 1 < COMP_MAX; in++)
        if (!strip || !strchr(phone ? ".- ()" : ".- ", *in))
            d[o++] = *in;
    if (*in)
        return -ENAMETOOLONG;
    if (!phone)
        return 0;
    s += s[0] == '+' ? 1 : strncmp(s, "00", 2) == 0 ? 2 : 0;
    if (s == d || strspn(s, "0123456789") != strlen(s) || strlen(s) < 4)
        return -ENOENT;
    cc = country_code_len(s);
    snprintf(c->c[2], COMP_MAX, "%s", s + cc);
    memmove(d, s, cc);
    d[cc] = '\0';
    return 0;
}

/* Reads "$N" at *p: the component number, or -EINVAL. */
static int comp_ref(const char **p)
{
    int n;

    if (**p != '$' || (*p)[1] < '1' || (*p)[1] >= '0' + NCOMP)
        return -EINVAL;
    n = (*p)[1] - '0';
    *p += 2;
    return n;
}

/* Evaluates match against c: 1 holds, 0 not, -EINVAL malformed. */
static int eval_match(const char *m, const struct comps *c)
{
    int holds = 1;

    while (*m) {
        const char *end;
        regex_t re;
        int n;

        if (*m == ' ') {
            m++;
            continue;
        }
        if (*m++ != '(' || (n = comp_ref(&m)) < 0 || *m++ != '/' || !(end = strstr(m, "/)")))
            return -EINVAL;
        if (compile(&re, m, (size_t)(end - m)) < 0)
            return -EINVAL;
        if (regexec(&re, c->c[n], 0, NULL, 0) != 0)
            holds = 0;
        regfree(&re);
        m = end + 2;
    }
    return holds;
}

struct out {
    char *buf;
    size_t cap, len;
};

static int put(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap)
        return -ENAMETOOLONG;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
    return 0;
}

/* The replacement rep (length len) for one match: "\N" is capture group N. */
static int put_replacement(struct out *o, const char *rep, size_t len, const char *subject,
                           const regmatch_t *g)
{
    for (size_t i = 0; i < len; i++) {
        int r;

        if (rep[i] == '\\' && i + 1 < len && rep[i + 1] >= '0' && rep[i + 1] <= '9') {
            const regmatch_t *m = &g[rep[++i] - '0'];

            r = m->rm_so < 0 ? 0 : put(o, subject + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
        } else {
            r = put(o, rep + i, 1);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* Replaces every match of re in s by rep into o. */
static int substitute(const regex_t *re, const char *s, const char *rep, size_t rep_len,
                      struct out *o)
{
    regmatch_t g[10];
    int flags = 0, r;

    while (*s && regexec(re, s, 10, g, flags) == 0) {
        size_t adv = g[0].rm_eo > g[0].rm_so ? (size_t)g[0].rm_eo : (size_t)g[0].rm_so + 1;

        if ((r = put(o, s, (size_t)g[0].rm_so)) < 0 ||
            (r = put_replacement(o, rep, rep_len, s, g)) < 0)
            return r;
        if (g[0].rm_eo == g[0].rm_so && (r = put(o, s + g[0].rm_so, 1)) < 0)
            return r;
        s += adv;
        flags = REG_NOTBOL;
    }
    return put(o, s, strlen(s));
}

/* One "{/regex/replacement/}" at *p applied to value (in place, cap COMP_MAX). */
static int apply_group(const char **p, char *value)
{
    const char *re_s = *p + 2, *re_e = strchr(re_s, '/'), *rep_e;
    char result[COMP_MAX];
    struct out o = {result, sizeof(result), 0};
    regex_t re;
    int r;

    if (!re_e || !(rep_e = strstr(re_e + 1, "/}")) || compile(&re, re_s, (size_t)(re_e - re_s)) < 0)
        return -EINVAL;
    result[0] = '\0';
    r = substitute(&re, value, re_e + 1, (size_t)(rep_e - re_e - 1), &o);
    regfree(&re);
    if (r == 0)
        memcpy(value, result, o.len + 1);
    *p = rep_e + 2;
    return r;
}

/* Writes transform t of c into o. */
static int eval_transform(const char *t, const struct comps *c, struct out *o)
{
    while (*t) {
        char value[COMP_MAX];
        int n, r;

        if (*t != '$') {
            if ((r = put(o, t++, 1)) < 0)
                return r;
            continue;
        }
        if ((n = comp_ref(&t)) < 0)
            return n;
        memcpy(value, c->c[n], COMP_MAX);
        while (*t == '{') {
            if (t[1] == '}')
                t += 2;
            else if (t[1] != '/')
                return -EINVAL;
            else if ((r = apply_group(&t, value)) < 0)
                return r;
        }
        if ((r = put(o, value, strlen(value))) < 0)
            return r;
    }
    return 0;
}

int api_transform_check_match(const char *match)
{
    struct comps c;

    memset(&c, 0, sizeof(c));
    return eval_match(match, &c) < 0 ? -EINVAL : 0;
}

int api_transform_check(const char *transform)
{
    char buf[COMP_MAX * 4];
    struct out o = {buf, sizeof(buf), 0};
    struct comps c;

    memset(&c, 0, sizeof(c));
    return eval_transform(transform, &c, &o) == -EINVAL ? -EINVAL : 0;
}

int api_transform_apply(const char *type, const char *match, const char *transform, const char *in,
                        char *out, size_t cap)
{
    struct out o = {out, cap, 0};
    struct comps c;
    int r = preprocess(type, in, &c);

    if (r == -ENOENT)
        return 0;
    if (r < 0 || cap == 0)
        return r < 0 ? r : -ENAMETOOLONG;
    out[0] = '\0';
    if (match && *match && (r = eval_match(match, &c)) <= 0)
        return r;
    if (!transform || !*transform)
        r = put(&o, c.c[1], strlen(c.c[1])) < 0 || put(&o, c.c[2], strlen(c.c[2])) < 0
                ? -ENAMETOOLONG
                : 0;
    else
        r = eval_transform(transform, &c, &o);
    return r < 0 ? r : 1;
}
