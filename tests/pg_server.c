/* tests/pg_server.c: see pg_server.h.
 *
 * DESIGN. The tests run as root and postgres refuses root, so every server program (initdb,
 * pg_basebackup, pg_ctl, postgres) runs as "nobody" in a directory "nobody" owns: the tools
 * through setpriv(1), the postmaster forked here and switched to nobody before its exec, so that
 * it stays this process's child (stopped by PID, reaped) and gets PR_SET_PDEATHSIG after the
 * switch (a credential change clears it): a test that fails half-way takes its servers with it.
 * A test that fails exits (Check's fork mode: _exit, then SIGKILL to its process group) without
 * reaching th_pg_stop: each server's guard process (guard_main), in a session of its own as the
 * postmaster is, then stops it and removes its directory.
 * Clients (psql, pg_isready) run as this process, over the socket in the server's directory.
 * fsync is off: these clusters are thrown away. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "tests/helpers.h"
#include "tests/pg_server.h"
#include "tests/skip.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define PG_USER "nobody"
#define PG_WAIT_S 30 /* every wait: start, stop, promote, replay */

/* The pg_hba.conf of every server (the same as scripts/pg-test-server.sh's): the superuser
 * without a password over the socket (tests, pg_basebackup) and over TCP (admin_url, which
 * CB_TEST_PG takes: it creates a database per daemon); everyone else over TCP with one, as
 * callbridged connects. */
static const char hba[] = "local all         all                   trust\n"
                          "local replication all                   trust\n"
                          "host  replication postgres 127.0.0.1/32 trust\n"
                          "host  all         postgres 127.0.0.1/32 trust\n"
                          "host  all         all      127.0.0.1/32 scram-sha-256\n";

/* The guard of a server: a process of this one's that waits on a pipe. When this process ends
 * in any way (a failed test exits without running its cleanup, a signal to the whole run), the
 * pipe reaches end-of-file and the guard stops the postmaster (SIGINT, then SIGKILL), whose PID
 * it reads from postmaster.pid, and removes the directory; th_pg_stop writes a byte first, which
 * tells the guard that it has nothing to do. It starts before initdb or pg_basebackup, so that a
 * run killed while they work leaves no directory either, and keeps no descriptor but its end of
 * the pipe (another server's guard, forked later, does not hold this one's open). */
static pid_t pidfile_pid(const char *dir)
{
    char path[96];
    long pid = 0;
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/data/postmaster.pid", dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    (void)fclose(f);
    return (pid_t)pid;
}

static void guard_main(const char *dir)
{
    char c;
    ssize_t n;

    do
        n = read(STDIN_FILENO, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n == 0) { /* the test process is gone */
        pid_t pid = pidfile_pid(dir);

        if (pid > 0) {
            (void)kill(pid, SIGINT);
            /* gone when its pid file is (the postmaster, no longer our child, may stay a zombie) */
            for (int i = 0; i < PG_WAIT_S * 100 && kill(pid, 0) == 0 && pidfile_pid(dir) == pid;
                 i++)
                (void)usleep(10 * 1000);
            (void)kill(pid, SIGKILL);
            (void)usleep(100 * 1000);
        }
        th_rmtree(dir);
    }
    _exit(0);
}

static void guard_start(struct th_pg *p)
{
    int fds[2];

    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0); /* no exec'd child keeps the write end */
    p->guard = fork();
    ck_assert_int_ge(p->guard, 0);
    if (p->guard == 0) {
        (void)setsid(); /* out of the test's process group, which Check kills when it ends */
        if (dup2(fds[0], STDIN_FILENO) < 0)
            _exit(1);
        (void)close_range(STDERR_FILENO + 1, ~0U, 0);
        guard_main(p->dir);
    }
    close(fds[0]);
    p->guard_fd = fds[1];
}

static void guard_stop(struct th_pg *p)
{
    int status;

    if (p->guard <= 0)
        return;
    (void)!write(p->guard_fd, "x", 1);
    close(p->guard_fd);
    (void)waitpid(p->guard, &status, 0);
    p->guard = 0;
}

bool th_pg_available(char *why, size_t cap)
{
    static const char *const progs[] = {"initdb",        "postgres",   "pg_ctl",
                                        "pg_basebackup", "pg_isready", "psql"};

    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        char path[128];

        (void)snprintf(path, sizeof(path), PG_BIN "/%s", progs[i]);
        if (access(path, X_OK) != 0) {
            (void)snprintf(why, cap, "%s is missing (Debian package postgresql-15)", path);
            return false;
        }
    }
    return true;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0;
}

void th_rmtree(const char *dir)
{
    (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new temporary directory that the server's user owns. */
static void pg_dir(struct th_pg *p)
{
    th_tmpdir(p->dir);
    if (geteuid() == 0) {
        const struct passwd *pw = getpwnam(PG_USER);

        ck_assert_ptr_nonnull(pw);
        ck_assert_int_eq(chown(p->dir, pw->pw_uid, pw->pw_gid), 0);
    }
}

/* Runs the program at path with args (NULL-ended) as the server's user; fails the test on a
 * non-zero exit, with the program's output. */
static void run_path_as_server(const char *path, const char *const *args)
{
    char out[4096];
    const char *argv[24];
    size_t n = 0;
    int rc;

    if (geteuid() == 0) {
        argv[n++] = "setpriv";
        argv[n++] = "--reuid=" PG_USER;
        argv[n++] = "--regid=nogroup";
        argv[n++] = "--clear-groups";
        argv[n++] = "--";
    }
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    rc = th_run(geteuid() == 0 ? "/usr/bin/setpriv" : path, argv, NULL, NULL, out, sizeof(out),
                NULL, 0);
    ck_assert_msg(rc == 0, "%s exited %d: %s", path, rc, out);
}

/* Runs PG_BIN/prog (run_path_as_server). */
static void run_as_server(const char *prog, const char *const *args)
{
    char path[128];

    (void)snprintf(path, sizeof(path), PG_BIN "/%s", prog);
    run_path_as_server(path, args);
}

/* A new cluster in data: a copy of CB_TEST_PG_TEMPLATE when the run has one
 * (scripts/pg-test-server.sh run makes it with these same initdb options), else initdb. */
static void pg_initdb(const char *data)
{
    const char *tmpl = getenv("CB_TEST_PG_TEMPLATE");
    const char *initdb[] = {"-D",           data, "-U",   "postgres",
                            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                            "--no-sync",    NULL};

    if (tmpl && *tmpl && access(tmpl, R_OK | X_OK) == 0) {
        const char *cp[] = {"-a", "--", tmpl, data, NULL};

        run_path_as_server("/bin/cp", cp);
        return;
    }
    run_as_server("initdb", initdb);
}

/* The child side of postmaster_start: the server's user, the parent-death signal, postgres. */
static void postmaster_exec(const struct th_pg *p, const char *data, const char *port)
{
    char log[128];
    int fd;

    (void)setsid(); /* out of the test's process group, which Check kills: a clean shutdown */
    (void)snprintf(log, sizeof(log), "%s/postgres.log", p->dir);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        _exit(126);
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
    fd = open("/dev/null", O_RDONLY);
    (void)dup2(fd, STDIN_FILENO);
    if (geteuid() == 0) {
        const struct passwd *pw = getpwnam(PG_USER);

        if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
            _exit(126);
    }
    (void)prctl(PR_SET_PDEATHSIG, SIGINT); /* after the switch, which clears it */
    execl(PG_BIN "/postgres", "postgres", "-D", data, "-p", port, "-k", p->dir, "-c",
          "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c",
          "synchronous_commit=on", (char *)NULL);
    _exit(127);
}

/* pg_isready until the server accepts connections, at most PG_WAIT_S. */
static void wait_ready(const struct th_pg *p)
{
    char port[8], out[512];
    const char *argv[] = {"pg_isready", "-q", "-h", p->dir, "-p", port, "-t", "1", NULL};

    (void)snprintf(port, sizeof(port), "%u", p->port);
    for (int i = 0; i < PG_WAIT_S * 10; i++) {
        int status;

        ck_assert_msg(waitpid(p->pid, &status, WNOHANG) == 0,
                      "postgres exited during start-up; see %s/postgres.log", p->dir);
        if (th_run(PG_BIN "/pg_isready", argv, NULL, NULL, out, sizeof(out), NULL, 0) == 0)
            return;
        (void)usleep(100 * 1000);
    }
    ck_abort_msg("postgres did not accept connections in %d s; see %s/postgres.log", PG_WAIT_S,
                 p->dir);
}

static void postmaster_start(struct th_pg *p)
{
    char data[96], port[8];

    p->port = th_free_port();
    (void)snprintf(data, sizeof(data), "%s/data", p->dir);
    (void)snprintf(port, sizeof(port), "%u", p->port);
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0)
        postmaster_exec(p, data, port);
    wait_ready(p);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

static void make_url(struct th_pg *p, const char *password)
{
    (void)snprintf(p->password, sizeof(p->password), "%s", password);
    (void)snprintf(p->url, sizeof(p->url), "postgresql://callbridge:%s@127.0.0.1:%u/callbridge",
                   p->password, p->port);
    (void)snprintf(p->admin_url, sizeof(p->admin_url),
                   "postgresql://postgres@127.0.0.1:%u/postgres", p->port);
}

void th_pg_start(struct th_pg *p)
{
    char data[96], path[128], sql[256], out[512], pw[32];

    memset(p, 0, sizeof(*p));
    pg_dir(p);
    guard_start(p);
    (void)snprintf(data, sizeof(data), "%s/data", p->dir);
    pg_initdb(data);
    (void)snprintf(path, sizeof(path), "%s/pg_hba.conf", data);
    write_file(path, hba);
    postmaster_start(p);
    (void)snprintf(pw, sizeof(pw), "pw-%ld-%d", (long)time(NULL) % 100000, (int)getpid());
    (void)snprintf(sql, sizeof(sql), "CREATE ROLE callbridge LOGIN PASSWORD '%s'", pw);
    ck_assert_msg(th_pg_sql(p, "postgres", sql, out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(th_pg_sql(p, "postgres", "CREATE DATABASE callbridge OWNER callbridge", out,
                            sizeof(out)) == 0,
                  "%s", out);
    make_url(p, pw);
}

void th_pg_start_replica(struct th_pg *r, const struct th_pg *primary, bool sync)
{
    char data[96], port[8], out[512];
    const char *backup[] = {"-h", primary->dir, "-p",     port, "-U",   "postgres",  "-D", data,
                            "-R", "-X",         "stream", "-c", "fast", "--no-sync", NULL};

    memset(r, 0, sizeof(*r));
    pg_dir(r);
    guard_start(r);
    (void)snprintf(data, sizeof(data), "%s/data", r->dir);
    (void)snprintf(port, sizeof(port), "%u", primary->port);
    run_as_server("pg_basebackup", backup);
    postmaster_start(r);
    make_url(r, primary->password);
    if (!sync)
        return;
    ck_assert_msg(th_pg_sql(primary, "postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'",
                            out, sizeof(out)) == 0,
                  "%s", out);
    ck_assert_msg(th_pg_sql(primary, "postgres", "SELECT pg_reload_conf()", out, sizeof(out)) == 0,
                  "%s", out);
}

void th_pg_promote(struct th_pg *r)
{
    char data[96], wait[8], out[64];
    const char *promote[] = {"-D", data, "-w", "-t", wait, "promote", NULL};

    (void)snprintf(data, sizeof(data), "%s/data", r->dir);
    (void)snprintf(wait, sizeof(wait), "%d", PG_WAIT_S);
    run_as_server("pg_ctl", promote);
    ck_assert_int_eq(th_pg_sql(r, "postgres", "SELECT pg_is_in_recovery()", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "f");
}

void th_pg_stop(struct th_pg *p)
{
    int status;

    guard_stop(p);
    if (p->pid > 0) {
        bool reaped = false;

        (void)kill(p->pid, SIGINT); /* fast shutdown: rolls back, disconnects, checkpoints */
        for (int i = 0; i < PG_WAIT_S * 100 && !reaped; i++) {
            reaped = waitpid(p->pid, &status, WNOHANG) == p->pid;
            if (!reaped)
                (void)usleep(10 * 1000);
        }
        if (!reaped) { /* still our unreaped child, so the PID cannot have been reused */
            (void)kill(p->pid, SIGKILL);
            (void)waitpid(p->pid, &status, 0);
        }
        p->pid = 0;
    }
    if (p->dir[0])
        th_rmtree(p->dir);
    p->dir[0] = '\0';
}

int th_pg_sql(const struct th_pg *p, const char *db, const char *sql, char *out, size_t cap)
{
    char port[8];
    const char *argv[] = {"psql", "-X",   "-q", "-A", "-t", "-v",       "ON_ERROR_STOP=1",
                          "-h",   p->dir, "-p", port, "-U", "postgres", "-d",
                          db,     "-c",   sql,  NULL};
    size_t n;
    int rc;

    (void)snprintf(port, sizeof(port), "%u", p->port);
    rc = th_run(PG_BIN "/psql", argv, NULL, NULL, out, cap, NULL, 0);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    return rc;
}

bool th_pg_or_skip(void)
{
    char why[256];

    if (th_pg_available(why, sizeof(why)))
        return true;
    th_skip_missing_dep("postgresql (scripts/install-deps.sh test)");
    return false;
}
