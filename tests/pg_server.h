/* tests/pg_server.h: PostgreSQL 15 servers for the tests (Debian's postgresql package). A
 * primary or a streaming replica of one, each in a temporary directory of its own, run as an
 * unprivileged user when the tests run as root (postgres refuses root), on a free loopback port,
 * with its socket inside that directory; the postmaster is this process's child, stopped by its
 * PID and reaped. Every wait is bounded. scripts/pg-test-server.sh does the same for shell tests.
 * The functions fail the running test (ck_assert) on any error. */
#ifndef TESTS_PG_SERVER_H
#define TESTS_PG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct th_pg {
    pid_t pid;   /* the postmaster, a child of this process; 0 when stopped */
    pid_t guard; /* stops the server if this process ends first (pg_server.c) */
    int guard_fd;
    char dir[64]; /* temporary directory: data/, the socket, log */
    unsigned short port;
    char password[32];  /* the callbridge role's */
    char url[192];      /* postgresql://callbridge:PASSWORD@127.0.0.1:PORT/callbridge */
    char admin_url[96]; /* postgresql://postgres@127.0.0.1:PORT/postgres: the superuser */
};

/* false (with the reason in why) when PostgreSQL 15's server programs are not installed. */
bool th_pg_available(char *why, size_t cap);
/* th_pg_available, or the test is counted as skipped (a missing dependency) and false. */
bool th_pg_or_skip(void);
/* A new primary (initdb, started, ready) with a role "callbridge" that logs in with a password
 * over TCP and owns the database "callbridge"; the superuser "postgres" reaches it without one
 * over the socket (th_pg_sql). p is zeroed first. */
void th_pg_start(struct th_pg *p);
/* A streaming replica of primary (pg_basebackup -R), started and ready; with sync, the primary's
 * synchronous_standby_names is set to it ('*') and reloaded. r is zeroed first; its url and
 * password name the same role and database, read-only until promoted. */
void th_pg_start_replica(struct th_pg *r, const struct th_pg *primary, bool sync);
/* pg_ctl promote, waiting (bounded) until the replica accepts writes. */
void th_pg_promote(struct th_pg *r);
/* Stops the postmaster by its PID (SIGINT: fast shutdown; SIGKILL after 30 s), reaps it, and
 * removes the directory. A stopped or zeroed p is a no-op. */
void th_pg_stop(struct th_pg *p);
/* Runs sql with psql as the superuser over the socket, in database db ("callbridge",
 * "postgres"), unaligned and tuples only; the output (rows, '|' between columns) goes to out
 * (cap bytes), trailing newline removed. Returns psql's exit code (0: success). */
int th_pg_sql(const struct th_pg *p, const char *db, const char *sql, char *out, size_t cap);
/* Removes dir and everything under it (the server directories are several levels deep). */
void th_rmtree(const char *dir);

#endif
