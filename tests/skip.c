/* tests/skip.c: see skip.h. One line per skip, "KIND\tTEST\tREASON\n", appended with a single
 * write() to a file opened O_APPEND, so the forked test processes never interleave lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/skip.h"

#define SKIP_MAX 512 /* records the report reads; the suites have far fewer tests */

enum skip_kind {
    SKIP_ENV = 'E',     /* this machine cannot run it */
    SKIP_ALLOWED = 'A', /* a dependency is missing, and CB_ALLOW_MISSING=1 */
    SKIP_FAILED = 'F',  /* a dependency is missing: the test failed */
};

struct skip {
    char kind;
    char test[128];
    char reason[256];
};

static char skip_path[96];

static bool is_missing_allowed(void)
{
    const char *v = getenv("CB_ALLOW_MISSING");

    return v && strcmp(v, "1") == 0;
}

static void skip_record(enum skip_kind kind, const char *reason)
{
    char line[512];
    int fd, n;

    n = snprintf(line, sizeof(line), "%c\t%s\t%s\n", kind, tcase_name(), reason);
    if (n < 0 || (size_t)n >= sizeof(line) || !skip_path[0]) {
        fprintf(stderr, "skipped: %s: %s\n", tcase_name(), reason);
        return;
    }
    fd = open(skip_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "%s: %s", skip_path, strerror(errno));
    ck_assert_int_eq(write(fd, line, (size_t)n), n);
    (void)close(fd);
}

void th_skip(const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    skip_record(SKIP_ENV, reason);
}

bool th_is_root_or_skip(void)
{
    if (geteuid() == 0)
        return true;
    skip_record(SKIP_ENV, "needs root");
    return false;
}

void th_skip_missing_dep(const char *dep)
{
    char reason[256];

    (void)snprintf(reason, sizeof(reason), "missing dependency: %s", dep);
    if (is_missing_allowed()) {
        (void)snprintf(reason, sizeof(reason), "missing dependency: %s (CB_ALLOW_MISSING=1)", dep);
        skip_record(SKIP_ALLOWED, reason);
        return;
    }
    skip_record(SKIP_FAILED, reason);
    ck_abort_msg("%s is not installed: scripts/install-deps.sh test installs it "
                 "(CB_ALLOW_MISSING=1 turns this into a skip on a developer's machine)",
                 dep);
}

int th_skip_open(void)
{
    const char *base = getenv("TMPDIR");
    int fd;

    (void)snprintf(skip_path, sizeof(skip_path), "%s/cbskip.XXXXXX", base && *base ? base : "/tmp");
    fd = mkstemp(skip_path);
    if (fd < 0) {
        skip_path[0] = '\0';
        return -errno;
    }
    (void)close(fd);
    return 0;
}

void th_skip_close(void)
{
    if (skip_path[0])
        (void)unlink(skip_path);
    skip_path[0] = '\0';
}

/* Reads the records written so far into recs (at most SKIP_MAX); returns how many. */
static size_t skip_read(struct skip *recs)
{
    char line[512];
    size_t n = 0;
    FILE *f = skip_path[0] ? fopen(skip_path, "r") : NULL;

    while (f && n < SKIP_MAX && fgets(line, sizeof(line), f)) {
        char *test = strchr(line, '\t');
        char *reason = test ? strchr(test + 1, '\t') : NULL;

        if (!reason)
            continue;
        *test++ = '\0';
        *reason++ = '\0';
        reason[strcspn(reason, "\n")] = '\0';
        recs[n].kind = line[0];
        (void)snprintf(recs[n].test, sizeof(recs[n].test), "%s", test);
        (void)snprintf(recs[n].reason, sizeof(recs[n].reason), "%s", reason);
        n++;
    }
    if (f)
        (void)fclose(f);
    return n;
}

/* By kind, then reason, then test: a group is a run of equal kind and reason. */
static int skip_cmp(const void *a, const void *b)
{
    const struct skip *x = a, *y = b;
    int r = x->kind - y->kind;

    if (r == 0)
        r = strcmp(x->reason, y->reason);
    return r ? r : strcmp(x->test, y->test);
}

static size_t skip_count(const struct skip *recs, size_t n, char kind)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += recs[i].kind == kind;
    return c;
}

/* Prints the groups (a reason, its count, its tests) of the failed records or of the others. */
static void skip_print_groups(FILE *out, const struct skip *recs, size_t n, bool failed)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;

        while (j < n && recs[j].kind == recs[i].kind && strcmp(recs[j].reason, recs[i].reason) == 0)
            j++;
        if ((recs[i].kind == SKIP_FAILED) == failed) {
            fprintf(out, "  %s (%zu):\n", recs[i].reason, j - i);
            for (size_t k = i; k < j; k++)
                fprintf(out, "    %s\n", recs[k].test);
        }
        i = j;
    }
}

bool th_skip_report(FILE *out, int checks, int failed)
{
    static struct skip recs[SKIP_MAX];
    size_t n = skip_read(recs);
    size_t allowed = skip_count(recs, n, SKIP_ALLOWED);
    size_t skipped = skip_count(recs, n, SKIP_ENV) + allowed;
    size_t missing = skip_count(recs, n, SKIP_FAILED);

    qsort(recs, n, sizeof(recs[0]), skip_cmp);
    fprintf(out, "%zu skipped%s\n", skipped, skipped ? ":" : "");
    skip_print_groups(out, recs, n, false);
    if (missing) {
        fprintf(out, "%zu FAILED for a missing dependency (scripts/install-deps.sh test):\n",
                missing);
        skip_print_groups(out, recs, n, true);
    }
    if (allowed)
        fprintf(out,
                "*** WARNING: CB_ALLOW_MISSING=1: %zu tests did not run because a dependency "
                "that scripts/install-deps.sh installs is missing: this run proves nothing "
                "about them ***\n",
                allowed);
    fprintf(out, "cb-tests: %d checks, %d failed, %zu skipped, %d ran and passed\n", checks, failed,
            skipped, checks - failed - (int)skipped);
    return missing > 0;
}
