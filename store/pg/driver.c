/* store/pg/driver.c: the PostgreSQL driver (libpq) behind store/db.h.
 *
 * DESIGN
 * - A connection is one PGconn, opened with PQconnectdbParams from the location as given (its
 *   keys override the driver's defaults: connect_timeout, TCP keepalives): a libpq URI
 *   ("postgresql://...") or key=value conninfo, multi-host and target_session_attrs=read-write
 *   included, so that after a failover libpq finds the promoted primary. A connection found
 *   broken (the server restarted, a failover) is re-established with PQreset before the next
 *   statement or transaction that starts outside a transaction; the statement that met the
 *   break fails with -ENOTCONN (as does a reconnection that fails), which the API answers 503
 *   databaseNotReady.
 * - SQL comes in db.h's convention: ?N is rewritten to $N outside string literals, quoted
 *   identifiers and comments (pg_rewrite_params, unit-tested in suite pg). A statement is
 *   prepared on the server at its first step (once per session: db.c caches statements, so
 *   the server parses and plans each once) and run with PQexecPrepared, parameters as text (the
 *   server infers their types from the SQL) and blobs as binary bytea parameters; the whole
 *   result is buffered and the steps walk its rows. bytea columns arrive in text form and are
 *   decoded on demand.
 * - Every session waits at most LOCK_TIMEOUT for a lock (unless its role, database or the
 *   location set a lock_timeout of their own), so that a table locked elsewhere answers -EBUSY
 *   instead of holding a request; a deadlock is -EDEADLK, for the caller to run again.
 * - Errors map from SQLSTATE as db.h says; a broken connection (no result, libpq's status bad,
 *   SQLSTATE class 08 or 57P01..57P03) is -ENOTCONN.
 * - A lost primary: a broken connection is replaced before the next statement or transaction
 *   that starts outside a transaction, by a new one to the location as given (multi-host with
 *   target_session_attrs=read-write finds a promoted replica). When no read-write server
 *   answers, writes fail with -ENOTCONN (at once for 100 ms after a failed attempt, and while
 *   another connection of the process is trying: a burst of requests does not each pay a
 *   connection attempt, nor wait connect_timeout for a host that does not answer) and reads go
 *   to the same
 *   location with target_session_attrs=any: a standby of a multi-host location serves them
 *   read-only until a read-write server answers again (looked for at each write, at once when
 *   another connection of the process found one, else every 250 ms; or the standby itself was
 *   promoted). A read that met the break outside a transaction is run once more; a transaction
 *   that met it fails whole (-ENOTCONN), never continued on a new connection.
 * - pg_open's failure keeps libpq's reason, password removed, for store_open_error().
 * - The schema version lives in a table of its own, callbridge_schema (one row), created by
 *   set_schema_version inside the migrations' DB_TX_SCHEMA transaction, which holds a
 *   transaction-scoped advisory lock so that two nodes starting at once migrate one after the
 *   other (the second then finds the version current).
 * - Nothing here logs: libpq's notices (e.g. "extension already exists") are dropped. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "store/pg/pg.h"

#define BYTEA_OID 17
/* pg_advisory_xact_lock's key for migrations: "cbschema" in ASCII. */
#define SCHEMA_LOCK_KEY "7161413228262944097" /* 0x6362736368656d61 */
/* How long DB_TX_SCHEMA waits for another node's migrations before -EBUSY. */
#define SCHEMA_LOCK_TIMEOUT "'60s'"
/* How long any other statement waits for a lock (a LOCK TABLE of an administrator's, another
 * node's migration, a row another transaction holds) before it fails with -EBUSY, which the API
 * answers 503 databaseNotReady: a request answers instead of hanging. Above the server's
 * deadlock_timeout (1 s by default), so that a deadlock is found as one (-EDEADLK, run again)
 * before the lock wait gives up. Set on each new session unless its role, database or the
 * location's options already set a lock_timeout (which is then kept). */
#define LOCK_TIMEOUT "5s"

struct pg_db {
    struct db base; /* first: a struct db * is a struct pg_db * */
    PGconn *conn;
    char *location;         /* as given to pg_open, to connect again */
    bool fallback;          /* connected read-only because no read-write server answered */
    int64_t rw_retry_us;    /* in fallback: when reads next look for a read-write server */
    unsigned long rw_epoch; /* rw_epoch (below) when this connection last looked */
    bool tx; /* a transaction of db_begin() is open (the server may have lost it: see begin) */
    int64_t changes;
    unsigned long session; /* counts PQreset()s: a new session has no prepared statements */
    unsigned long names;   /* prepared statements named so far: "cb1", "cb2", ... */
};

struct pg_stmt {
    struct db_stmt base;   /* first */
    char name[24];         /* its server-side name; "" until prepared */
    unsigned long session; /* the pg_db session it was prepared in */
    char *sql;             /* rewritten: $N */
    int nparams;
    char **values;        /* per parameter: malloc()ed text or bytes; NULL binds NULL */
    int *lengths;         /* bytes of a blob parameter */
    int *formats;         /* 1 for a blob (binary), 0 for text */
    unsigned *types;      /* BYTEA_OID for a blob, 0 (inferred) otherwise */
    PGresult *res;        /* after the first step */
    int row;              /* the current row; -1 before the first */
    unsigned char **blob; /* per column of the current row: a decoded bytea, or NULL */
    size_t *blob_len;
};

static struct pg_db *pg_of(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *stmt_of(struct db_stmt *stmt)
{
    return (struct pg_stmt *)stmt;
}

/* ---- ?N -> $N ------------------------------------------------------------------------------ */

/* Skips a quoted run starting at s[i] (the opening quote q) and returns the index after its
 * closing quote; a doubled quote inside is part of the run. Unterminated: the end. */
static size_t skip_quoted(const char *s, size_t i, char q)
{
    for (i++; s[i]; i++) {
        if (s[i] != q)
            continue;
        if (s[i + 1] != q)
            return i + 1;
        i++;
    }
    return i;
}

/* Skips a comment starting at s[i] ("--" to the end of the line, or a block comment, which
 * PostgreSQL nests). */
static size_t skip_comment(const char *s, size_t i)
{
    int depth = 0;

    if (s[i] == '-') {
        while (s[i] && s[i] != '\n')
            i++;
        return i;
    }
    while (s[i]) {
        if (s[i] == '/' && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else {
            i++;
        }
    }
    return i;
}

int pg_rewrite_params(const char *sql, char **ret_sql, int *ret_nparams)
{
    size_t len = strlen(sql), i = 0, o = 0;
    char *out = malloc(len + 1); /* "?N" and "$N" have the same length */
    int max = 0;

    if (!out)
        return -ENOMEM;
    while (sql[i]) {
        size_t start = i;
        char c = sql[i];

        if (c == '\'' || c == '"') {
            i = skip_quoted(sql, i, c);
        } else if ((c == '-' && sql[i + 1] == '-') || (c == '/' && sql[i + 1] == '*')) {
            i = skip_comment(sql, i);
        } else if (c == '?') {
            long n = 0;

            for (i++; sql[i] >= '0' && sql[i] <= '9' && n <= DB_MAX_PARAMS; i++)
                n = n * 10 + (sql[i] - '0');
            if (i == start + 1 || n < 1 || n > DB_MAX_PARAMS) { /* plain "?", ?0, too high */
                free(out);
                return -EINVAL;
            }
            if (n > max)
                max = (int)n;
            out[o++] = '$';
            start++;
        } else {
            i++;
        }
        memcpy(out + o, sql + start, i - start);
        o += i - start;
    }
    out[o] = '\0';
    *ret_sql = out;
    *ret_nparams = max;
    return 0;
}

/* ---- errors -------------------------------------------------------------------------------- */

int pg_errno_of_sqlstate(const char *state)
{
    static const struct {
        const char *state;
        int err;
    } map[] = {
        {"23505", -EEXIST},  {"23503", -EINVAL},  {"23514", -EINVAL}, {"23502", -EINVAL},
        {"40001", -EDEADLK}, {"40P01", -EDEADLK}, {"55P03", -EBUSY},  {"25006", -EROFS},
        {"53100", -ENOSPC},  {"53200", -ENOMEM},
    };

    for (size_t i = 0; state && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(state, map[i].state) == 0)
            return map[i].err;
    if (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                  strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0))
        return -ENOTCONN;
    return -EIO;
}

/* The errno of a failed result: -ENOTCONN when the connection is gone (no result came back,
 * libpq found the connection broken, or the server said it is shutting down or cannot take
 * connections: SQLSTATE class 08, 57P01..57P03), else the SQLSTATE's. */
static int result_errno(PGconn *conn, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (!res || PQstatus(conn) != CONNECTION_OK)
        return -ENOTCONN;
    return pg_errno_of_sqlstate(state);
}

/* true when the server only reads: a standby, or default_transaction_read_only. */
static bool server_read_only(PGconn *conn)
{
    const char *standby = PQparameterStatus(conn, "in_hot_standby");
    const char *ro = PQparameterStatus(conn, "default_transaction_read_only");

    return (standby && strcmp(standby, "on") == 0) || (ro && strcmp(ro, "on") == 0);
}

/* ---- connections --------------------------------------------------------------------------- */

static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Defaults before the location, which overrides them (libpq keeps the last value of a key):
 * bounded waits for a server that does not answer (connecting; a dead peer found by TCP
 * keepalives in about 25 s instead of the system's two hours), and a name in pg_stat_activity.
 * A read connection (no read-write server answers) adds target_session_attrs=any after the
 * location: the same hosts, whichever answers, a standby included. */
static const char *const connect_keys[] = {
    "connect_timeout",  "keepalives_idle", "keepalives_interval",  "keepalives_count",
    "application_name", "dbname",          "target_session_attrs", NULL};
#define CONNECT_DEFAULTS "10", "10", "5", "3", "callbridged"

/* How long a process that found no read-write server lets writes fail at once before it tries
 * again (so that a burst of requests does not each pay a connection attempt), and how often a
 * read connection to a standby looks for a read-write server again. */
#define RW_BACKOFF_US 100000
#define READ_RETRY_US 250000

/* Process-wide: bumped each time a connection reaches a read-write server, so that connections
 * reading from a standby look for it at their next statement; the monotonic time before which
 * no new attempt is made after one failed; and whether one is being made (one at a time: a host
 * that does not answer holds its attempt for connect_timeout, and the other requests meanwhile
 * answer at once, reads from the standby). */
static atomic_ulong rw_epoch;
static _Atomic int64_t rw_not_before_us;
static atomic_bool rw_trying;

static int64_t now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A new connection to location; read: to any server that answers. NULL only without memory;
 * check PQstatus. */
static PGconn *connect_to(const char *location, bool read)
{
    const char *values[] = {CONNECT_DEFAULTS, location, read ? "any" : NULL, NULL};
    PGconn *conn;

    /* !read: values[6] NULL leaves the location's own target_session_attrs */
    conn = PQconnectdbParams(connect_keys, values, 1);
    if (conn)
        (void)PQsetNoticeProcessor(conn, drop_notice, NULL);
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        PGresult *res = PQexec(conn, "SELECT set_config('lock_timeout', '" LOCK_TIMEOUT "', false) "
                                     "WHERE current_setting('lock_timeout') = '0'");

        PQclear(res); /* a failure here leaves the session as the server made it */
    }
    return conn;
}

/* Replaces the connection with conn (a new session: no prepared statements). */
static void adopt(struct pg_db *p, PGconn *conn, bool fallback)
{
    PQfinish(p->conn);
    p->conn = conn;
    p->session++;
    p->fallback = fallback;
    p->base.read_only = fallback || server_read_only(conn);
    p->rw_retry_us = now_us() + READ_RETRY_US;
}

/* A connection to a read-write server (the location as given, e.g. multi-host with
 * target_session_attrs=read-write: after a failover, the promoted replica). 0 or -ENOTCONN. */
static int connect_rw(struct pg_db *p)
{
    bool idle = false;
    PGconn *conn;

    if (now_us() < atomic_load(&rw_not_before_us) ||
        !atomic_compare_exchange_strong(&rw_trying, &idle, true))
        return -ENOTCONN;
    conn = connect_to(p->location, false);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        if (conn)
            atomic_store(&rw_not_before_us, now_us() + RW_BACKOFF_US);
        atomic_store(&rw_trying, false);
        PQfinish(conn);
        return conn ? -ENOTCONN : -ENOMEM;
    }
    atomic_store(&rw_trying, false);
    adopt(p, conn, false);
    p->rw_epoch = atomic_fetch_add(&rw_epoch, 1) + 1;
    return 0;
}

/* Makes the connection usable for the next statement or transaction, outside a transaction.
 * A broken connection (a server restart, a failover) is replaced by one to a read-write server;
 * when none answers, a read (write false) goes to any server of the location that answers (a
 * standby: reads keep working while the primary is down), and a write fails with -ENOTCONN. A
 * connection reading from a standby goes back to a read-write server as soon as one answers:
 * at once for a write, at its next statement when another connection of the process found one,
 * else every 250 ms; and it is one itself when its standby was promoted. */
static int ensure_connected(struct pg_db *p, bool write)
{
    PGconn *conn;
    int r;

    if (PQstatus(p->conn) == CONNECTION_OK) {
        if (!p->fallback)
            return 0;
        if (!server_read_only(p->conn)) { /* its standby was promoted */
            p->fallback = false;
            p->base.read_only = false;
            return 0;
        }
        if (!write && now_us() < p->rw_retry_us && p->rw_epoch == atomic_load(&rw_epoch))
            return 0;
    }
    r = connect_rw(p);
    if (r != -ENOTCONN)
        return r;
    p->rw_epoch = atomic_load(&rw_epoch);
    if (write)
        return -ENOTCONN;
    if (PQstatus(p->conn) == CONNECTION_OK) { /* still on the standby */
        p->rw_retry_us = now_us() + READ_RETRY_US;
        return 0;
    }
    conn = connect_to(p->location, true);
    if (!conn)
        return -ENOMEM;
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return -ENOTCONN;
    }
    adopt(p, conn, true);
    return 0;
}

/* Runs a command without parameters or rows; 0 or the mapped error. */
static int run(struct pg_db *p, const char *sql)
{
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : result_errno(p->conn, res);

    PQclear(res);
    return r;
}

/* Appends src to dst (cap bytes), with every occurrence of secret (when not empty) replaced. */
static void append_scrubbed(char *dst, size_t cap, const char *src, const char *secret)
{
    size_t o = strlen(dst), n = secret ? strlen(secret) : 0;

    while (*src && o + 1 < cap) {
        if (n > 0 && strncmp(src, secret, n) == 0) {
            (void)snprintf(dst + o, cap - o, "%s", "********");
            o = strlen(dst);
            src += n;
            continue;
        }
        dst[o++] = *src++;
        dst[o] = '\0';
    }
}

void pg_open_reason(const char *location, const char *message, char *out, size_t cap)
{
    char raw[256] = "", tmp[512] = "";
    PQconninfoOption *opts = location ? PQconninfoParse(location, NULL) : NULL;
    const char *password = NULL;
    const char *scheme = location ? strstr(location, "://") : NULL;

    if (cap == 0)
        return;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
            password = o->val;
    if (scheme) { /* the URI's user:password@, as written (percent-encoded or not parseable) */
        const char *user = scheme + 3, *at = strchr(user, '@'), *slash = strchr(user, '/');
        const char *colon = strchr(user, ':');

        if (at && (!slash || at < slash) && colon && colon < at &&
            (size_t)(at - colon) < sizeof(raw))
            (void)snprintf(raw, sizeof(raw), "%.*s", (int)(at - colon - 1), colon + 1);
    }
    append_scrubbed(tmp, sizeof(tmp), message ? message : "", password);
    append_scrubbed(out, cap, tmp, raw);
    /* libpq ends its messages with a newline, and multi-host attempts with one per host */
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = *(c + 1) ? ' ' : '\0';
    PQconninfoFree(opts);
}

/* A location whose read-write server does not answer opens on any server of it that does (a
 * standby of a multi-host location), read-only, as ensure_connected() falls back: a node starts
 * and serves reads while the primary is down (store_open checks that no migration is due). */
static int pg_open(const char *location, struct db **ret_db)
{
    bool fallback = false;
    struct pg_db *p;
    PGconn *conn;

    if (!location)
        return -EINVAL;
    conn = connect_to(location, false);
    if (!conn)
        return -ENOMEM;
    if (PQstatus(conn) != CONNECTION_OK) { /* no read-write server: is any server there? */
        PGconn *any = connect_to(location, true);
        char reason[512];
        int r;

        if (any && PQstatus(any) == CONNECTION_OK) { /* a standby: read from it meanwhile */
            PQfinish(conn);
            conn = any;
            fallback = true;
        } else if (any) {
            /* the server asked for a password (wrong, or none given), or no server answered */
            r = PQconnectionUsedPassword(any) || PQconnectionNeedsPassword(any) ? -EACCES
                                                                                : -ECONNREFUSED;
            pg_open_reason(location, PQerrorMessage(conn), reason, sizeof(reason));
            db_set_open_error(reason);
            PQfinish(conn);
            PQfinish(any);
            return r;
        } else {
            PQfinish(conn);
            return -ENOMEM;
        }
    }
    p = calloc(1, sizeof(*p));
    if (p)
        p->location = strdup(location);
    if (!p || !p->location) {
        PQfinish(conn);
        free(p);
        return -ENOMEM;
    }
    p->conn = conn;
    db_init(&p->base, &db_pg_ops);
    p->fallback = fallback;
    p->base.read_only = fallback || server_read_only(p->conn);
    p->rw_retry_us = now_us() + READ_RETRY_US;
    p->rw_epoch = atomic_load(&rw_epoch);
    *ret_db = &p->base;
    return 0;
}

static void pg_close(struct db *db)
{
    struct pg_db *p = pg_of(db);

    if (!db)
        return;
    PQfinish(p->conn); /* a transaction still open ends with the session: rolled back */
    if (p->location)   /* it may hold a password */
        memset(p->location, 0, strlen(p->location));
    free(p->location);
    free(p);
}

/* ---- statements ---------------------------------------------------------------------------- */

static void clear_row(struct pg_stmt *s)
{
    int n = s->res ? PQnfields(s->res) : 0;

    for (int i = 0; s->blob && i < n; i++) {
        PQfreemem(s->blob[i]);
        s->blob[i] = NULL;
    }
}

static void clear_result(struct pg_stmt *s)
{
    clear_row(s);
    free(s->blob);
    free(s->blob_len);
    s->blob = NULL;
    s->blob_len = NULL;
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
}

static void clear_params(struct pg_stmt *s)
{
    for (int i = 0; i < s->nparams; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
        s->lengths[i] = 0;
        s->formats[i] = 0;
        s->types[i] = 0;
    }
}

/* Drops the server's copy of a prepared statement, when the session that has it is usable (in
 * an aborted transaction it is not: the name then lives until the session ends, unused). */
static void deallocate(struct pg_stmt *s)
{
    struct pg_db *p = pg_of(s->base.db);
    PGTransactionStatusType tx = PQtransactionStatus(p->conn);
    char sql[48];

    if (!s->name[0] || s->session != p->session || PQstatus(p->conn) != CONNECTION_OK ||
        (tx != PQTRANS_IDLE && tx != PQTRANS_INTRANS))
        return;
    (void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
    (void)run(p, sql);
    s->name[0] = '\0';
}

/* Prepares s on the server once per session, the parameter types left to the server's
 * inference except blobs (bytea), as bound at the first execution. */
static int server_prepare(struct pg_stmt *s)
{
    struct pg_db *p = pg_of(s->base.db);
    PGresult *res;
    char name[24];
    int r = 0;

    if (s->name[0] && s->session == p->session)
        return 0;
    (void)snprintf(name, sizeof(name), "cb%lu", ++p->names);
    res = PQprepare(p->conn, name, s->sql, s->nparams, s->types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        r = result_errno(p->conn, res);
    PQclear(res);
    if (r < 0)
        return r;
    (void)snprintf(s->name, sizeof(s->name), "%s", name);
    s->session = p->session;
    return 0;
}

static void pg_finalize(struct db_stmt *stmt)
{
    struct pg_stmt *s = stmt_of(stmt);

    if (!stmt)
        return;
    deallocate(s);
    clear_result(s);
    clear_params(s);
    free(s->values);
    free(s->lengths);
    free(s->formats);
    free(s->types);
    free(s->sql);
    free(s);
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **ret_stmt)
{
    struct pg_stmt *s = calloc(1, sizeof(*s));
    size_t n;
    int r;

    if (!s)
        return -ENOMEM;
    s->base.db = db;
    s->row = -1;
    r = pg_rewrite_params(sql, &s->sql, &s->nparams);
    if (r < 0) {
        free(s);
        return r;
    }
    n = s->nparams > 0 ? (size_t)s->nparams : 1;
    s->values = calloc(n, sizeof(*s->values));
    s->lengths = calloc(n, sizeof(*s->lengths));
    s->formats = calloc(n, sizeof(*s->formats));
    s->types = calloc(n, sizeof(*s->types));
    if (!s->values || !s->lengths || !s->formats || !s->types) {
        pg_finalize(&s->base);
        return -ENOMEM;
    }
    *ret_stmt = &s->base;
    return 0;
}

static void pg_reset(struct db_stmt *stmt)
{
    struct pg_stmt *s = stmt_of(stmt);

    clear_result(s);
    clear_params(s);
}

/* Takes ownership of v (malloc()ed, or NULL for SQL NULL) as parameter idx. */
static int bind(struct db_stmt *stmt, int idx, char *v, int len, bool blob)
{
    struct pg_stmt *s = stmt_of(stmt);

    if (idx < 1 || idx > s->nparams) {
        free(v);
        return -EINVAL;
    }
    free(s->values[idx - 1]);
    s->values[idx - 1] = v;
    s->lengths[idx - 1] = len;
    s->formats[idx - 1] = blob ? 1 : 0;
    s->types[idx - 1] = blob ? BYTEA_OID : 0;
    return 0;
}

static int pg_bind_null(struct db_stmt *stmt, int idx)
{
    return bind(stmt, idx, NULL, 0, false);
}

static int pg_bind_text(struct db_stmt *stmt, int idx, const char *v)
{
    char *copy = strdup(v);

    return copy ? bind(stmt, idx, copy, 0, false) : -ENOMEM;
}

static int pg_bind_int64(struct db_stmt *stmt, int idx, int64_t v)
{
    char *text = malloc(24);

    if (!text)
        return -ENOMEM;
    (void)snprintf(text, 24, "%lld", (long long)v);
    return bind(stmt, idx, text, 0, false);
}

static int pg_bind_blob(struct db_stmt *stmt, int idx, const void *b, size_t len)
{
    char *copy;

    if (len > INT32_MAX)
        return -EINVAL;
    copy = malloc(len ? len : 1); /* an empty blob is a value, not NULL */
    if (!copy)
        return -ENOMEM;
    if (len)
        memcpy(copy, b, len);
    return bind(stmt, idx, copy, (int)len, true);
}

/* true for a command that changes rows (what SQLite's changes() counts). */
static bool counts_changes(const PGresult *res)
{
    const char *tag = PQcmdStatus((PGresult *)(uintptr_t)res);

    return strncmp(tag, "INSERT", 6) == 0 || strncmp(tag, "UPDATE", 6) == 0 ||
           strncmp(tag, "DELETE", 6) == 0 || strncmp(tag, "MERGE", 5) == 0;
}

/* true for a statement that only reads (run again on another connection when the first met a
 * broken one outside a transaction: nothing was written). */
static bool only_reads(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    return strncasecmp(sql, "SELECT", 6) == 0;
}

/* Prepares (once per session) and runs s; s->res set on success. */
static int run_prepared(struct pg_db *p, struct pg_stmt *s)
{
    ExecStatusType st;
    int r;

    if (!p->tx) {
        r = ensure_connected(p, !only_reads(s->sql));
        if (r < 0)
            return r;
    } else if (PQstatus(p->conn) != CONNECTION_OK) {
        return -ENOTCONN; /* the transaction died with its connection */
    }
    r = server_prepare(s);
    if (r < 0)
        return r;
    s->res = PQexecPrepared(p->conn, s->name, s->nparams, (const char *const *)s->values,
                            s->lengths, s->formats, 0);
    st = PQresultStatus(s->res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        r = result_errno(p->conn, s->res);
        clear_result(s);
        return r;
    }
    return 0;
}

/* The first step: runs the statement and keeps its rows. A read outside a transaction that
 * met a broken connection (the primary went away since the last statement) runs once more, on
 * a read-write server or, when none answers, a standby. */
static int execute(struct pg_stmt *s)
{
    struct pg_db *p = pg_of(s->base.db);
    bool retry = !p->tx && only_reads(s->sql);
    int r, n;

    r = run_prepared(p, s);
    if (r == -ENOTCONN && retry)
        r = run_prepared(p, s);
    if (r < 0)
        return r;
    if (counts_changes(s->res))
        p->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
    n = PQnfields(s->res);
    if (n > 0) {
        s->blob = calloc((size_t)n, sizeof(*s->blob));
        s->blob_len = calloc((size_t)n, sizeof(*s->blob_len));
        if (!s->blob || !s->blob_len) {
            clear_result(s);
            return -ENOMEM;
        }
    }
    return 0;
}

static int pg_step(struct db_stmt *stmt)
{
    struct pg_stmt *s = stmt_of(stmt);

    if (!s->res) {
        int r = execute(s);

        if (r < 0)
            return r;
    } else {
        clear_row(s);
    }
    if (s->row + 1 >= PQntuples(s->res)) {
        s->row = PQntuples(s->res);
        return DB_DONE;
    }
    s->row++;
    return DB_ROW;
}

/* true when col of the current row exists and is not NULL. */
static bool has_value(struct pg_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < PQntuples(s->res) && col >= 0 &&
           col < PQnfields(s->res) && !PQgetisnull(s->res, s->row, col);
}

static int pg_column_count(struct db_stmt *stmt)
{
    struct pg_stmt *s = stmt_of(stmt);

    return s->res ? PQnfields(s->res) : 0;
}

static bool pg_column_is_null(struct db_stmt *stmt, int col)
{
    return !has_value(stmt_of(stmt), col);
}

static const char *pg_column_text(struct db_stmt *stmt, int col)
{
    struct pg_stmt *s = stmt_of(stmt);

    return has_value(s, col) ? PQgetvalue(s->res, s->row, col) : NULL;
}

static int64_t pg_column_int64(struct db_stmt *stmt, int col)
{
    const char *v = pg_column_text(stmt, col);

    return v ? strtoll(v, NULL, 10) : 0; /* leading digits, as SQLite converts text */
}

/* A bytea column decoded from its text form (once per row and column). */
static const unsigned char *bytea_of(struct pg_stmt *s, int col, size_t *ret_len)
{
    if (!s->blob[col]) {
        size_t len = 0;

        s->blob[col] =
            PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, col), &len);
        s->blob_len[col] = s->blob[col] ? len : 0;
    }
    *ret_len = s->blob_len[col];
    return s->blob[col];
}

static const void *pg_column_blob(struct db_stmt *stmt, int col)
{
    struct pg_stmt *s = stmt_of(stmt);
    size_t len;
    const void *v;

    if (!has_value(s, col))
        return NULL;
    if (PQftype(s->res, col) == BYTEA_OID)
        v = bytea_of(s, col, &len);
    else {
        v = PQgetvalue(s->res, s->row, col);
        len = (size_t)PQgetlength(s->res, s->row, col);
    }
    return len > 0 ? v : NULL;
}

static size_t pg_column_bytes(struct db_stmt *stmt, int col)
{
    struct pg_stmt *s = stmt_of(stmt);
    size_t len;

    if (!has_value(s, col))
        return 0;
    if (PQftype(s->res, col) == BYTEA_OID) {
        (void)bytea_of(s, col, &len);
        return len;
    }
    return (size_t)PQgetlength(s->res, s->row, col);
}

static int64_t pg_changes(struct db *db)
{
    return pg_of(db)->changes;
}

static int pg_exec(struct db *db, const char *script)
{
    struct pg_db *p = pg_of(db);

    if (!p->tx) {
        int r = ensure_connected(p, true);

        if (r < 0)
            return r;
    }
    return run(p, script); /* several commands: the simple query protocol takes them */
}

/* ---- transactions -------------------------------------------------------------------------- */

/* p->tx, not the server's view: a transaction whose connection broke is still open here until
 * it is rolled back (or its commit fails), so that no later statement of it runs on a new
 * connection outside any transaction. */
static bool pg_in_transaction(struct db *db)
{
    return pg_of(db)->tx;
}

static void pg_rollback(struct db *db)
{
    struct pg_db *p = pg_of(db);
    PGTransactionStatusType st = PQtransactionStatus(p->conn);

    if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR)
        (void)run(p, "ROLLBACK");
    p->tx = false;
}

static int pg_begin(struct db *db, enum db_tx kind)
{
    static const char *const begin[] = {
        [DB_TX_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        [DB_TX_WRITE] = "BEGIN",
        [DB_TX_SCHEMA] = "BEGIN; SET LOCAL lock_timeout = " SCHEMA_LOCK_TIMEOUT
                         "; SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ")",
    };
    struct pg_db *p = pg_of(db);
    int r;

    if ((unsigned)kind >= sizeof(begin) / sizeof(begin[0]))
        return -EINVAL;
    if (p->tx)
        return -EINVAL;
    r = ensure_connected(p, kind != DB_TX_READ);
    if (r == 0) {
        r = run(p, begin[kind]);
        if (r == -ENOTCONN) { /* the server went away since the last statement: once more */
            pg_rollback(db);
            r = ensure_connected(p, kind != DB_TX_READ);
            if (r == 0)
                r = run(p, begin[kind]);
        }
    }
    if (r < 0) {
        pg_rollback(db);
        return r;
    }
    p->tx = true;
    return 0;
}

static int pg_commit(struct db *db)
{
    struct pg_db *p = pg_of(db);
    PGresult *res;
    int r;

    if (PQstatus(p->conn) != CONNECTION_OK) { /* the transaction died with its connection */
        pg_rollback(db);
        return -ENOTCONN;
    }
    if (PQtransactionStatus(p->conn) == PQTRANS_INERROR) { /* COMMIT would answer ROLLBACK */
        pg_rollback(db);
        return -EIO;
    }
    res = PQexec(p->conn, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        r = result_errno(p->conn, res);
    else
        r = strcmp(PQcmdStatus(res), "COMMIT") == 0 ? 0 : -EIO;
    PQclear(res);
    pg_rollback(db); /* ends p->tx; ROLLBACK only if the server still has it open */
    return r;
}

/* ---- the schema version -------------------------------------------------------------------- */

/* The one value of a query that gives one row and column, as an integer. */
static int query_int(struct pg_db *p, const char *sql, int *ret_value)
{
    PGresult *res = PQexec(p->conn, sql);
    int r = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 1)
        r = result_errno(p->conn, res);
    else
        *ret_value = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return r;
}

static int pg_schema_version(struct db *db, int *ret_version)
{
    struct pg_db *p = pg_of(db);
    int exists = 0, version = 0, r;

    if (!p->tx) {
        r = ensure_connected(p, false);
        if (r < 0)
            return r;
    }
    /* to_regclass: no error (which would abort the transaction) when there is no table yet */
    r = query_int(p, "SELECT CAST(to_regclass('callbridge_schema') IS NOT NULL AS int)", &exists);
    if (r == 0 && exists)
        r = query_int(p, "SELECT coalesce(max(version), 0) FROM callbridge_schema", &version);
    if (r == 0)
        *ret_version = version;
    return r;
}

static int pg_set_schema_version(struct db *db, int version)
{
    struct pg_db *p = pg_of(db);
    char sql[512];
    int r;

    r = run(p, "CREATE TABLE IF NOT EXISTS callbridge_schema (id bigint PRIMARY KEY "
               "CHECK (id = 1), version bigint NOT NULL)");
    if (r < 0)
        return r;
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO callbridge_schema (id, version) VALUES (1, %d) "
                   "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                   version);
    return run(p, sql);
}

/* ---- notifications ------------------------------------------------------------------------ */

static int pg_listen(struct db *db, const char *channel)
{
    struct pg_db *p = pg_of(db);
    char *ident;
    char sql[160];
    int r;

    if (p->tx)
        return -EINVAL;
    r = ensure_connected(p, true); /* LISTEN is refused during recovery: a primary's */
    if (r < 0)
        return r;
    ident = PQescapeIdentifier(p->conn, channel, strlen(channel));
    if (!ident)
        return -ENOMEM;
    (void)snprintf(sql, sizeof(sql), "LISTEN %s", ident);
    PQfreemem(ident);
    return run(p, sql);
}

static int pg_socket(struct db *db)
{
    PGconn *conn = pg_of(db)->conn;

    return PQstatus(conn) == CONNECTION_OK ? PQsocket(conn) : -1;
}

static int pg_notifications(struct db *db, void (*fn)(const char *payload, void *userdata),
                            void *userdata)
{
    struct pg_db *p = pg_of(db);
    PGnotify *n;

    if (PQstatus(p->conn) != CONNECTION_OK || !PQconsumeInput(p->conn))
        return -ENOTCONN;
    while ((n = PQnotifies(p->conn))) {
        fn(n->extra, userdata);
        PQfreemem(n);
    }
    return PQstatus(p->conn) == CONNECTION_OK ? 0 : -ENOTCONN;
}

const struct db_ops db_pg_ops = {
    .name = "postgresql",
    .dialect = DB_DIALECT_PG,
    .open = pg_open,
    .close = pg_close,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .bind_null = pg_bind_null,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .changes = pg_changes,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .schema_version = pg_schema_version,
    .set_schema_version = pg_set_schema_version,
    .backup = NULL,
    .listen = pg_listen,
    .socket = pg_socket,
    .notifications = pg_notifications,
};
