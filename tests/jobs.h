/* tests/jobs.h: runs the suites in a few worker processes at once. The integration suites spend
 * most of their time waiting (daemons starting, timeouts running out), so a second worker
 * shortens a run of one variant (make test runs the two variants side by side instead: on a
 * loaded two-core machine, more than two streams at once failed timing tests). Each suite's output
 * (Check's lines and what its tests print) is kept in a file and printed whole when the suite ends,
 * never interleaved with another's, with the suite's wall time; then one Check-style line of
 * totals. */
#ifndef TESTS_JOBS_H
#define TESTS_JOBS_H

#include <stddef.h>

#include <check.h>

typedef Suite *(*th_suite_fn)(void);

/* Runs suites[0..n) (n < 256) with CK_ENV in 'jobs' worker processes, each suite in a runner of
 * its own; a suite that runs no test (CK_RUN_SUITE chose another) prints nothing. The workers
 * take the suites from the end of the list first: the long integration suites are listed last,
 * the short unit suites fill in at the end. Writes the checks run and the failed ones (failures
 * and errors, plus one for each suite whose worker died) to *ret_checks and *ret_failed.
 * Returns 0 or -errno (no worker could start). */
int th_jobs_run(const th_suite_fn *suites, size_t n, unsigned jobs, int *ret_checks,
                int *ret_failed);

#endif
