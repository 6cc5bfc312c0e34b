/* tests/jobs.c: see jobs.h. The parent writes the suites' indexes to a pipe, one byte each, last
 * first; each worker reads one byte at a time (a one-byte read from a pipe goes to one reader),
 * runs that suite with its stdout and stderr in DIR/N.out, and writes a fixed-size result to a
 * second pipe (smaller than PIPE_BUF, so results never interleave). The parent prints a suite's
 * file whole when it reports. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/jobs.h"

#define JOBS_MAX 16

struct job_result {
    int idx;
    int checks;
    int failures;
    int errors;
    int64_t us;
};

static char job_dir[96];

static void job_path(size_t idx, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/%zu.out", job_dir, idx);
}

static int64_t job_now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Runs one suite with stdout and stderr in its file (where they stay, interleaved with other
 * workers', if the file cannot be made) and fills r. */
static void job_run_one(th_suite_fn make, size_t idx, struct job_result *r)
{
    char path[128];
    int64_t t0 = job_now_us();
    SRunner *sr;
    TestResult **res;
    int fd, n;

    job_path(idx, path, sizeof(path));
    (void)fflush(stdout);
    (void)fflush(stderr);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        (void)close(fd);
    }
    sr = srunner_create(make());
    srunner_run_all(sr, CK_ENV);
    n = srunner_ntests_failed(sr);
    res = srunner_failures(sr);
    *r = (struct job_result){.idx = (int)idx, .checks = srunner_ntests_run(sr)};
    for (int i = 0; i < n; i++)
        r->failures += tr_rtype(res[i]) == CK_FAILURE;
    r->errors = n - r->failures;
    free(res);
    srunner_free(sr);
    (void)fflush(stdout);
    (void)fflush(stderr);
    r->us = job_now_us() - t0;
}

/* A worker: suites from the queue until it is empty. Never returns. */
static void job_worker(const th_suite_fn *suites, int queue, int results)
{
    unsigned char idx;
    ssize_t got;

    setvbuf(stdout, NULL, _IOLBF, 0); /* its lines in the order they happened, beside stderr's */
    for (;;) {
        struct job_result r;

        got = read(queue, &idx, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != 1)
            break;
        job_run_one(suites[idx], idx, &r);
        if (write(results, &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(2);
    }
    _exit(0);
}

/* Fills the queue, starts the workers (pids[j], 0 when a fork failed) and returns the read end
 * of the results pipe, or -errno. */
static int jobs_start(const th_suite_fn *suites, size_t n, unsigned jobs, pid_t *pids)
{
    int q[2], res[2];
    unsigned started = 0;

    if (pipe2(q, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(res, O_CLOEXEC) < 0) {
        int err = -errno;

        (void)close(q[0]);
        (void)close(q[1]);
        return err;
    }
    for (size_t i = n; i-- > 0;) { /* n < 256 bytes: the pipe holds them all */
        unsigned char idx = (unsigned char)i;

        (void)!write(q[1], &idx, 1);
    }
    (void)close(q[1]);
    (void)fflush(stdout);
    (void)fflush(stderr);
    for (unsigned j = 0; j < jobs; j++) {
        pids[j] = fork();
        if (pids[j] == 0) {
            (void)close(res[0]);
            job_worker(suites, q[0], res[1]);
        }
        started += pids[j] > 0;
        if (pids[j] < 0)
            pids[j] = 0;
    }
    (void)close(q[0]);
    (void)close(res[1]);
    if (started == 0) {
        (void)close(res[0]);
        return -EAGAIN;
    }
    return res[0];
}

/* Reaps the workers that have exited; counts those that did not exit 0 in *dead. Returns true
 * while one is still running. */
static bool jobs_alive(pid_t *pids, unsigned jobs, int *dead)
{
    bool alive = false;

    for (unsigned j = 0; j < jobs; j++) {
        int status;

        if (pids[j] <= 0)
            continue;
        if (waitpid(pids[j], &status, WNOHANG) != pids[j]) {
            alive = true;
            continue;
        }
        *dead += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        pids[j] = 0;
    }
    return alive;
}

/* Prints suite idx's file (nothing when it ran no test) and removes it; r is NULL when its
 * worker died before reporting. */
static void job_print(size_t idx, const struct job_result *r)
{
    char path[128], buf[8192];
    FILE *f;
    size_t k;

    job_path(idx, path, sizeof(path));
    f = fopen(path, "r");
    while (f && (!r || r->checks > 0) && (k = fread(buf, 1, sizeof(buf), f)) > 0)
        (void)fwrite(buf, 1, k, stdout);
    if (f)
        (void)fclose(f);
    (void)unlink(path);
    if (!r)
        printf("cb-tests: suite #%zu: its worker died before it reported: FAILED\n", idx);
    else if (r->checks > 0)
        printf("  suite wall time %.1f s\n", (double)r->us / 1e6);
    (void)fflush(stdout);
}

/* Reads results until every suite reported or no worker is left; prints each suite as it
 * reports (so the output follows the run), then those whose worker died. */
static void jobs_collect(int fd, pid_t *pids, unsigned jobs, struct job_result *rs, bool *done,
                         size_t n, int *dead)
{
    for (;;) {
        bool alive = jobs_alive(pids, jobs, dead);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct job_result r;
        int ready = poll(&p, 1, alive ? 1000 : 0);

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0 && !alive)
            break;
        if (ready <= 0)
            continue;
        if (read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
            break; /* every worker closed its end */
        if (r.idx < 0 || (size_t)r.idx >= n || done[r.idx])
            continue;
        rs[r.idx] = r;
        done[r.idx] = true;
        job_print((size_t)r.idx, &r);
    }
    for (size_t i = 0; i < n; i++)
        if (!done[i])
            job_print(i, NULL);
}

int th_jobs_run(const th_suite_fn *suites, size_t n, unsigned jobs, int *ret_checks,
                int *ret_failed)
{
    static struct job_result rs[256];
    static bool done[256];
    pid_t pids[JOBS_MAX] = {0};
    const char *base = getenv("TMPDIR");
    int fd, dead = 0, lost = 0, checks = 0, failures = 0, errors = 0;

    if (n == 0 || n > 255)
        return -EINVAL;
    jobs = jobs < 1 ? 1 : jobs > JOBS_MAX ? JOBS_MAX : jobs > n ? (unsigned)n : jobs;
    (void)snprintf(job_dir, sizeof(job_dir), "%s/cbjobs.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(job_dir))
        return -errno;
    memset(done, 0, sizeof(done));
    fd = jobs_start(suites, n, jobs, pids);
    if (fd < 0) {
        (void)rmdir(job_dir);
        return fd;
    }
    jobs_collect(fd, pids, jobs, rs, done, n, &dead);
    (void)close(fd);
    while (jobs_alive(pids, jobs, &dead)) /* only after a worker closed its pipe and lingers */
        (void)usleep(10 * 1000);
    (void)rmdir(job_dir);
    for (size_t i = 0; i < n; i++) { /* a suite that never reported counts as one failed check */
        checks += done[i] ? rs[i].checks : 1;
        failures += done[i] ? rs[i].failures : 1;
        errors += done[i] ? rs[i].errors : 0;
        lost += !done[i];
    }
    if (dead && !lost) { /* a worker that died after its last report still fails the run */
        checks += dead;
        failures += dead;
    }
    printf("%d%%: Checks: %d, Failures: %d, Errors: %d (all suites, %u workers%s)\n",
           checks ? (checks - failures - errors) * 100 / checks : 0, checks, failures, errors, jobs,
           dead ? ", one or more died" : "");
    *ret_checks = checks;
    *ret_failed = failures + errors;
    return 0;
}
