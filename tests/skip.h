/* tests/skip.h: a test that cannot run says so. Check has no "skipped" result (a test that
 * returns early is a pass), so th_skip* write the running test's name and the reason to the
 * run's skip file, which tests/main.c reads after Check's forked children have exited and
 * prints after Check's summary. A tool that scripts/install-deps.sh installs being missing is
 * not a skip but a failure, unless CB_ALLOW_MISSING=1 says this is a developer's machine. */
#ifndef TESTS_SKIP_H
#define TESTS_SKIP_H

#include <stdbool.h>
#include <stdio.h>

/* Records that the running test skips, and why (printf format); the test returns right after.
 * For what this machine cannot offer (a port taken, no mount namespace). */
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* true when this process is root; otherwise records the skip "needs root" and returns false.
 * Tests that call it sit in a test case tagged "root" (CK_EXCLUDE_TAGS=root leaves them out). */
bool th_is_root_or_skip(void);
/* A tool that scripts/install-deps.sh installs (coturn, gst-launch-1.0, ...) is missing: fails
 * the running test naming it, or with CB_ALLOW_MISSING=1 records a skip the summary shouts
 * about. The test returns right after. */
void th_skip_missing_dep(const char *dep);

/* Runner side (tests/main.c). th_skip_open makes the run's skip file (under $TMPDIR) before
 * the suites run; returns 0 or -errno. */
int th_skip_open(void);
/* Prints "N skipped:" and each test grouped by reason with counts, then one line of counts
 * ('checks' run, 'failed' of them). Returns true when a skip must fail the run (a missing
 * dependency without CB_ALLOW_MISSING=1). */
bool th_skip_report(FILE *out, int checks, int failed);
/* Removes the skip file. */
void th_skip_close(void);

#endif
