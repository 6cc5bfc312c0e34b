/* store/q_row.c: generic rows for tables whose columns are text, integers or blobs (tenants,
 * coSpaces, inbound dial plan rules, call bridges and their groups, TURN servers). The SQL is built
 * from the table description, never from input; values are always bound. Statements are cached by
 * their text (store_stmt_sql), so a resource costs one prepare per statement shape per connection.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define SQL_MAX 2048

void store_row_done(struct store_row *r)
{
    for (size_t i = 0; i < STORE_MAX_COLS; i++) {
        free(r->v[i]);
        r->v[i] = NULL;
    }
}

int store_row_set(struct store_row *r, size_t col, const char *value)
{
    char *copy = NULL;

    if (col >= STORE_MAX_COLS)
        return -EINVAL;
    if (value && !(copy = strdup(value)))
        return -ENOMEM;
    free(r->v[col]);
    r->v[col] = copy;
    return 0;
}

/* Appends the columns from 'first' on, comma-separated: "name", or "name = ?N" when assign. */
static void put_cols(char *sql, size_t cap, const struct store_table *t, size_t first, bool assign)
{
    size_t o = strlen(sql);

    for (size_t i = first; i < t->ncols && o < cap; i++) {
        const char *sep = i > first ? ", " : "";

        if (assign)
            o += (size_t)snprintf(sql + o, cap - o, "%s%s = ?%zu", sep, t->cols[i], i + 1);
        else
            o += (size_t)snprintf(sql + o, cap - o, "%s%s", sep, t->cols[i]);
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A 'b' value: lowercase hex in the row, bytes in the database. */
static int bind_blob(struct db_stmt *stmt, int idx, const char *v)
{
    unsigned char b[STORE_BLOB_MAX];
    size_t n = strlen(v);

    if (n % 2 || n / 2 > sizeof(b))
        return -EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -EINVAL;
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    return db_bind_blob(stmt, idx, b, n / 2);
}

static int bind_value(struct db_stmt *stmt, int idx, char type, const char *v)
{
    if (!v)
        return db_bind_null(stmt, idx);
    if (type == 'b')
        return bind_blob(stmt, idx, v);
    if (type == 'i') {
        char *end;
        long long n = strtoll(v, &end, 10);

        if (*end)
            return -EINVAL;
        return db_bind_int64(stmt, idx, n);
    }
    return db_bind_text(stmt, idx, v);
}

static int bind_row(struct db_stmt *stmt, const struct store_table *t, const struct store_row *r)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (bind_value(stmt, (int)i + 1, t->types[i], r->v[i]) < 0)
            return -EINVAL;
    return db_bind_int64(stmt, (int)t->ncols + 1, store_now_ms()) == 0 ? 0 : -EIO;
}

/* Column i of the current result row as the row keeps it (NULL for SQL NULL), malloc()ed. */
static char *column_value(struct db_stmt *stmt, int i, char type)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b;
    const char *text;
    char *hex;
    size_t n;

    if (type != 'b') {
        text = db_column_text(stmt, i);
        return text ? strdup(text) : NULL;
    }
    b = db_column_blob(stmt, i);
    n = db_column_bytes(stmt, i);
    if (!b || n == 0)
        return strdup("");
    if (!(hex = malloc(2 * n + 1)))
        return NULL;
    for (size_t k = 0; k < n; k++) {
        hex[2 * k] = digits[b[k] >> 4];
        hex[2 * k + 1] = digits[b[k] & 15];
    }
    hex[2 * n] = '\0';
    return hex;
}

/* Reads the current result row (columns in table order) into *r. */
static int read_row(struct db_stmt *stmt, const struct store_table *t, struct store_row *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < t->ncols; i++) {
        bool null = db_column_is_null(stmt, (int)i);

        if (!null && !(r->v[i] = column_value(stmt, (int)i, t->types[i]))) {
            store_row_done(r);
            return -ENOMEM;
        }
    }
    return 0;
}

static int step_write(struct store *st, const char *sql, const struct store_table *t,
                      const struct store_row *r, const char *id)
{
    struct db_stmt *stmt;
    int err = 0;

    stmt = store_stmt_sql(st, sql, &err);
    if (!stmt)
        return err;
    err = r ? bind_row(stmt, t, r) : db_bind_text(stmt, 1, id);
    if (err == 0)
        err = db_step_done(stmt);
    if (err == 0 && db_changes(st->db) == 0)
        err = -ENOENT;
    db_stmt_done(stmt);
    if (err == 0) /* announced to the other nodes at the commit */
        store_note_write(st, t->name, r ? r->v[STORE_COL_ID] : id);
    return err;
}

/* One write in the caller's transaction or its own; an insert first checks the table's cap. */
static int run_write(struct store *st, const char *sql, const struct store_table *t,
                     const struct store_row *r, const char *id, bool insert)
{
    bool own;
    int err = store_write_enter(st, &own);

    if (err == 0 && insert)
        err = store_check_room(st, t->name);
    if (err == 0)
        err = step_write(st, sql, t, r, id);
    return store_write_leave(st, own, err);
}

int store_row_insert(struct store *st, const struct store_table *t, const struct store_row *r)
{
    char sql[SQL_MAX];

    snprintf(sql, sizeof(sql), "INSERT INTO %s (", t->name);
    put_cols(sql, sizeof(sql), t, 0, false);
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ", created_ms, updated_ms) VALUES (");
    for (size_t i = 0; i < t->ncols; i++)
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "?%zu, ", i + 1);
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "?%zu, ?%zu)", t->ncols + 1,
             t->ncols + 1);
    return run_write(st, sql, t, r, NULL, true);
}

int store_row_update(struct store *st, const struct store_table *t, const struct store_row *r)
{
    char sql[SQL_MAX];

    snprintf(sql, sizeof(sql), "UPDATE %s SET ", t->name);
    put_cols(sql, sizeof(sql), t, 1, true);
    /* a table with no column but its id (tenant groups) sets updated_ms alone */
    snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%supdated_ms = ?%zu WHERE id = ?1",
             t->ncols > 1 ? ", " : "", t->ncols + 1);
    return run_write(st, sql, t, r, NULL, false);
}

int store_row_delete(struct store *st, const struct store_table *t, const char *id)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?1", t->name);
    return run_write(st, sql, t, NULL, id, false);
}

/* SELECT <cols> FROM <table> [WHERE ...] ORDER BY seq with a tail appended. */
static void select_sql(char *sql, size_t cap, const struct store_table *t, const char *where,
                       const char *tail)
{
    snprintf(sql, cap, "SELECT ");
    put_cols(sql, cap, t, 0, false);
    snprintf(sql + strlen(sql), cap - strlen(sql), " FROM %s%s%s ORDER BY seq%s", t->name,
             where[0] ? " WHERE " : "", where, tail);
}

/* "<what> FROM <table> [WHERE <where>]<tail>" into sql. */
static void from_where_sql(char *sql, size_t cap, const char *what, const struct store_table *t,
                           const char *where, const char *tail)
{
    snprintf(sql, cap, "%s FROM %s%s%s%s", what, t->name, where[0] ? " WHERE " : "", where, tail);
}

/* Prepares sql and binds w's arguments to ?1..?n; NULL with *ret_err set on failure. */
static struct db_stmt *prepare_where(struct store *st, const char *sql, const struct store_where *w,
                                     int *ret_err)
{
    struct db_stmt *stmt = store_stmt_sql(st, sql, ret_err);

    for (size_t i = 0; stmt && i < w->nargs; i++) {
        if (db_bind_text(stmt, (int)i + 1, w->args[i]) < 0) {
            db_stmt_done(stmt);
            *ret_err = -EIO;
            return NULL;
        }
    }
    return stmt;
}

/* Prepares "<what> FROM <t> [WHERE <q's conditions>]<tail>" (what NULL: every column, in
 * creation order) with q's arguments bound; NULL with *ret_err set on failure. page: the tail
 * is " LIMIT ?a OFFSET ?b", numbered after q's arguments, and *ret_page is a (then b = a + 1). */
static struct db_stmt *prepare_query(struct store *st, const struct store_table *t,
                                     const struct store_query *q, const char *what,
                                     const char *tail, int *ret_page, int *ret_err)
{
    struct store_where w;
    char sql[SQL_MAX], page[48];
    int r = store_where_build(db_dialect(st->db), t, q, &w);

    if (r < 0) {
        *ret_err = r;
        return NULL;
    }
    if (ret_page) {
        *ret_page = (int)w.nargs + 1;
        (void)snprintf(page, sizeof(page), " LIMIT ?%zu OFFSET ?%zu", w.nargs + 1, w.nargs + 2);
        tail = page;
    }
    if (what)
        from_where_sql(sql, sizeof(sql), what, t, w.sql, tail);
    else
        select_sql(sql, sizeof(sql), t, w.sql, tail);
    return prepare_where(st, sql, &w, ret_err);
}

int store_row_get(struct store *st, const struct store_table *t, const char *id,
                  struct store_row *ret_row)
{
    char sql[SQL_MAX];
    struct db_stmt *stmt;
    int r = 0;

    /* dialect difference 9 (store/db.h): in a write transaction the row is read to be
     * rewritten, so PostgreSQL locks it until the commit; SQLite's write lock covers it */
    select_sql(sql, sizeof(sql), t, "id = ?1",
               st->writing && db_dialect(st->db) == DB_DIALECT_PG ? " FOR UPDATE" : "");
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    if (db_bind_text(stmt, 1, id) < 0) {
        db_stmt_done(stmt);
        return -EIO;
    }
    r = db_step_one(stmt);
    if (r == 0)
        r = read_row(stmt, t, ret_row);
    db_stmt_done(stmt);
    return r;
}

int store_row_count(struct store *st, const struct store_table *t, const struct store_query *q,
                    size_t *ret_count)
{
    int r = 0;
    struct db_stmt *stmt = prepare_query(st, t, q, "SELECT count(*)", "", NULL, &r);

    if (!stmt)
        return r;
    r = db_step_count(stmt, ret_count);
    db_stmt_done(stmt);
    return r;
}

int store_row_list(struct store *st, const struct store_table *t, const struct store_query *q,
                   size_t offset, size_t limit, store_row_fn fn, void *userdata)
{
    int r = 0, page = 0;
    struct db_stmt *stmt = prepare_query(st, t, q, NULL, NULL, &page, &r);

    if (!stmt)
        return r;
    /* SIZE_MAX means every row: SQLite reads the -1 it would become so, PostgreSQL refuses it */
    db_bind_int64(stmt, page, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    db_bind_int64(stmt, page + 1, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
    while (r == 0 && (r = db_step(stmt)) == DB_ROW) {
        struct store_row row;

        r = read_row(stmt, t, &row);
        if (r == 0) {
            r = fn(&row, userdata);
            store_row_done(&row);
        }
    }
    if (r > 0) /* fn's own stop value, as the SQLite code always answered it */
        r = -EIO;
    db_stmt_done(stmt);
    return r;
}

int store_row_seqs(struct store *st, const struct store_table *t, const struct store_query *q,
                   store_seq_fn fn, void *userdata)
{
    int r = 0;
    struct db_stmt *stmt = prepare_query(st, t, q, "SELECT seq", " ORDER BY seq", NULL, &r);

    if (!stmt)
        return r;
    while (r == 0 && (r = db_step(stmt)) == DB_ROW)
        r = fn(db_column_int64(stmt, 0), userdata);
    if (r > 0) /* fn's own stop value, as the SQLite code always answered it */
        r = -EIO;
    db_stmt_done(stmt);
    return r;
}

int store_row_taken(struct store *st, const struct store_table *t, size_t col, const char *value,
                    const char *except_id, bool nocase)
{
    char sql[256], eq[128];
    struct db_stmt *stmt;
    int r = 0;

    if (col >= t->ncols)
        return -EINVAL;
    if (nocase)
        db_eq_nocase(st->db, t->cols[col], "?1", eq, sizeof(eq));
    else
        snprintf(eq, sizeof(eq), "%s = ?1", t->cols[col]);
    /* the CAST gives ?2 a type where it is first seen: PostgreSQL cannot infer one from IS NULL */
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM %s WHERE %s AND (CAST(?2 AS TEXT) IS NULL OR id != ?2) LIMIT 1",
             t->name, eq);
    stmt = store_stmt_sql(st, sql, &r);
    if (!stmt)
        return r;
    db_bind_text(stmt, 1, value);
    if (except_id)
        db_bind_text(stmt, 2, except_id);
    r = db_step_one(stmt);
    db_stmt_done(stmt);
    return r;
}
