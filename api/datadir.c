/* api/datadir.c: the data directory's lock, modes, secrets key and backups (api/datadir.h).
 *
 * DESIGN: a start refuses, with the command that fixes it, rather than going on with a state
 * that would fail later in a misleading place: a second daemon (its list cache would serve
 * objects the other deleted), a key that does not open the sealed TURN secrets (the probe
 * would blame the TURN server's credentials), a directory or key others can change or read. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/datadir.h"
#include "api/log.h"
#include "api/util.h"

#define CHECK_MAX 128

static int path_in(char *dst, const char *given, const char *dir, const char *name)
{
    int n = given && *given ? snprintf(dst, PATH_MAX, "%s", given)
                            : snprintf(dst, PATH_MAX, "%s/%s", dir, name);

    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Copies n bytes of s to out at *o, within cap (the last byte kept for the NUL). */
static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *o + 1 < cap; i++)
        out[(*o)++] = s[i];
    out[*o] = '\0';
}

/* "key=value" strings: every "password=" value (quoted or not) becomes ***. */
static void conninfo_shown(const char *s, char *out, size_t cap, size_t *o)
{
    while (*s) {
        const char *k = strstr(s, "password");
        const char *v;

        if (!k) {
            put(out, cap, o, s, strlen(s));
            return;
        }
        v = k + strlen("password");
        while (*v == ' ')
            v++;
        if (*v != '=' || (k > s && k[-1] != ' ')) {
            put(out, cap, o, s, (size_t)(v - s));
            s = v;
            continue;
        }
        put(out, cap, o, s, (size_t)(v + 1 - s));
        put(out, cap, o, "***", 3);
        for (v++; *v == ' '; v++)
            ;
        if (*v == '\'') {
            for (v++; *v && *v != '\''; v++)
                if (*v == '\\' && v[1])
                    v++;
            if (*v)
                v++;
        } else {
            while (*v && *v != ' ')
                v++;
        }
        s = v;
    }
}

/* The rest of a URL: a "password=" parameter of its query (libpq takes one there too) becomes
 * ***, up to the next '&' or '#'. */
static void url_query_shown(const char *s, char *out, size_t cap, size_t *o)
{
    const char *q = strchr(s, '?');

    if (!q) {
        put(out, cap, o, s, strlen(s));
        return;
    }
    put(out, cap, o, s, (size_t)(q + 1 - s));
    for (s = q + 1; *s;) {
        size_t n = strcspn(s, "&#");

        if (strncmp(s, "password=", 9) == 0) {
            put(out, cap, o, s, 9);
            put(out, cap, o, "***", 3);
        } else {
            put(out, cap, o, s, n);
        }
        s += n;
        if (*s == '#') {
            put(out, cap, o, s, strlen(s));
            return;
        }
        if (*s)
            put(out, cap, o, s++, 1);
    }
}

void api_datadir_location_shown(const char *location, char *out, size_t cap)
{
    const char *scheme = strstr(location, "://");
    size_t o = 0;

    if (cap == 0)
        return;
    out[0] = '\0';
    if (scheme) {
        const char *auth = scheme + 3;
        const char *end = auth + strcspn(auth, "/?#");
        const char *at = memrchr(auth, '@', (size_t)(end - auth));
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;

        if (colon) {
            put(out, cap, &o, location, (size_t)(colon + 1 - location));
            put(out, cap, &o, "***", 3);
            location = at;
        }
        url_query_shown(location, out, cap, &o);
        return;
    }
    conninfo_shown(location, out, cap, &o);
}

int api_paths_make(const struct api_config *c, struct api_paths *p)
{
    if (path_in(p->db, c->database, c->data_dir, "callbridge.db") < 0 ||
        path_in(p->secret, NULL, c->data_dir, "secret.key") < 0 ||
        path_in(p->initial, NULL, c->data_dir, "initial-admin-password") < 0 ||
        path_in(p->lock, NULL, c->data_dir, "callbridged.lock") < 0 ||
        path_in(p->cert, c->cert, c->data_dir, "cert.pem") < 0 ||
        path_in(p->key, c->key, c->data_dir, "key.pem") < 0) {
        api_log(BASE_LOG_ERR, "data directory path too long: %s", c->data_dir);
        return -ENAMETOOLONG;
    }
    api_datadir_location_shown(p->db, p->db_shown, sizeof(p->db_shown));
    return 0;
}

static bool is_owner_ok(const struct stat *sb)
{
    return sb->st_uid == geteuid() || sb->st_uid == 0;
}

int api_datadir_prepare(const struct api_config *c)
{
    const char *d = c->data_dir;
    struct stat sb;

    if (mkdir(d, 0700) < 0 && errno != EEXIST) {
        api_log(BASE_LOG_ERR, "cannot create data directory %s: %s", d, strerror(errno));
        return -errno;
    }
    if (stat(d, &sb) < 0) {
        api_log(BASE_LOG_ERR, "cannot read data directory %s: %s", d, strerror(errno));
        return -errno;
    }
    if (!S_ISDIR(sb.st_mode)) {
        api_log(BASE_LOG_ERR, "data directory %s is not a directory", d);
        return -ENOTDIR;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        api_log(BASE_LOG_ERR,
                "data directory %s is writable by others (mode %04o): they could replace the "
                "database or secret.key; run: chmod 700 %s",
                d, (unsigned)(sb.st_mode & 07777), d);
        return -EPERM;
    }
    if (!is_owner_ok(&sb)) {
        api_log(BASE_LOG_ERR,
                "data directory %s is owned by uid %u, not by the user callbridged runs as "
                "(uid %u); run: chown -R %u %s",
                d, (unsigned)sb.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), d);
        return -EPERM;
    }
    return 0;
}

/* The PID holding a flock on fd's file, from /proc/locks (the file may hold a stale PID when
 * the holder could not write it), or 0. */
static long lock_holder(int fd)
{
    char line[256], dev[64];
    struct stat sb;
    long pid = 0;
    FILE *f;

    if (fstat(fd, &sb) < 0 || !(f = fopen("/proc/locks", "re")))
        return 0;
    (void)snprintf(dev, sizeof(dev), " %02x:%02x:%lu ", major(sb.st_dev), minor(sb.st_dev),
                   (unsigned long)sb.st_ino);
    while (!pid && fgets(line, sizeof(line), f)) {
        char *at = strstr(line, dev), *p = at;

        if (!at || !strstr(line, "FLOCK"))
            continue;
        while (p > line && p[-1] != ' ') /* the PID is the word before the device */
            p--;
        pid = strtol(p, NULL, 10);
    }
    (void)fclose(f);
    return pid;
}

static int open_lock(const char *dir, const char *path, bool *ret_writable)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    *ret_writable = fd >= 0;
    if (fd < 0 && (errno == EROFS || errno == EACCES)) /* a read-only directory: serve reads */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ENOENT || errno == EROFS || errno == EACCES))
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int api_datadir_lock(const char *dir, const struct api_paths *p, int *ret_fd)
{
    char pid[24];
    bool writable;
    int fd = open_lock(dir, p->lock, &writable), n;

    if (fd < 0) {
        api_log(BASE_LOG_ERR, "cannot open the lock file %s: %s", p->lock, strerror(-fd));
        return fd;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        long holder = e == EWOULDBLOCK ? lock_holder(fd) : 0;

        if (e != EWOULDBLOCK)
            api_log(BASE_LOG_ERR, "cannot lock %s: %s", p->lock, strerror(e));
        else if (holder > 0)
            api_log(BASE_LOG_ERR,
                    "the data directory %s is in use by another callbridged (PID %ld): stop it, "
                    "or give this one another --data-dir",
                    dir, holder);
        else
            api_log(BASE_LOG_ERR,
                    "the data directory %s is in use by another callbridged (it holds %s): "
                    "stop it, or give this one another --data-dir",
                    dir, p->lock);
        (void)close(fd);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (writable && (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n))
        api_log(BASE_LOG_WARN, "cannot write the PID into %s: %s", p->lock, strerror(errno));
    *ret_fd = fd;
    return 0;
}

int api_datadir_check_tls_key(const char *path)
{
    struct stat sb;
    mode_t bad = S_IRWXO | S_IWGRP | S_IXGRP;

    if (stat(path, &sb) < 0) /* start_http names the file when it cannot read it */
        return 0;
    if (sb.st_uid != 0)
        bad |= S_IRGRP;
    if ((sb.st_mode & bad) != 0) {
        api_log(BASE_LOG_ERR,
                "TLS key %s can be read or changed by others (mode %04o); run: chmod 600 %s", path,
                (unsigned)(sb.st_mode & 07777), path);
        return -EPERM;
    }
    if (!is_owner_ok(&sb)) {
        api_log(BASE_LOG_ERR,
                "TLS key %s is owned by uid %u, not by the user callbridged runs as (uid %u) "
                "nor root; run: chown %u %s",
                path, (unsigned)sb.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
        return -EPERM;
    }
    return 0;
}

/* ---- the secrets key ------------------------------------------------------------------------ */

struct sealed_walk {
    const struct api_secret *key; /* NULL: only count */
    size_t sealed, unopened;
};

static void try_open(struct sealed_walk *w, const char *id, const char *field,
                     const unsigned char *blob, size_t len)
{
    char aad[STORE_ID_LEN + 32], plain[STORE_TEXT_MAX + 1];

    if (len == 0)
        return;
    w->sealed++;
    if (!w->key)
        return;
    (void)snprintf(aad, sizeof(aad), "%s/%s", id, field); /* as api/res/turn.c seals them */
    if (api_secret_open(w->key, aad, blob, len, plain, sizeof(plain)) < 0)
        w->unopened++;
    OPENSSL_cleanse(plain, sizeof(plain));
}

static int walk_turn(const struct store_turn *t, void *userdata)
{
    try_open(userdata, t->id, "password", t->password, t->password_len);
    try_open(userdata, t->id, "sharedSecret", t->shared_secret, t->shared_secret_len);
    return 0;
}

static void log_wrong_key(const struct api_paths *p, bool missing)
{
    api_log(BASE_LOG_ERR,
            "%s %s the TURN passwords and shared secrets in %s were sealed with. Restore the "
            "secret.key that belongs with this database (from the same backup or machine) "
            "and start again; callbridged makes no new key for it, as every stored TURN secret "
            "would then be unreadable",
            p->secret, missing ? "is missing: it is the key" : "is not the key", p->db_shown);
}

static void log_key_mode(const struct api_paths *p)
{
    struct stat sb;

    if (stat(p->secret, &sb) < 0)
        api_log(BASE_LOG_ERR, "cannot read %s: %s", p->secret, strerror(errno));
    else if ((sb.st_mode & 077) != 0)
        api_log(BASE_LOG_ERR, "%s can be read or changed by others (mode %04o); run: chmod 600 %s",
                p->secret, (unsigned)(sb.st_mode & 07777), p->secret);
    else
        api_log(BASE_LOG_ERR,
                "%s is owned by uid %u, not by the user callbridged runs as (uid %u); run: "
                "chown %u %s",
                p->secret, (unsigned)sb.st_uid, (unsigned)geteuid(), (unsigned)geteuid(),
                p->secret);
}

/* A new key for a database that sealed nothing with any key yet. */
static int new_key(const struct api_paths *p, size_t sealed, bool has_check, struct api_secret *ret)
{
    int r;

    if (sealed > 0 || has_check) {
        log_wrong_key(p, true);
        return -ENOKEY;
    }
    api_log(BASE_LOG_INFO, "creating the secrets key %s", p->secret);
    r = api_secret_create(p->secret, ret);
    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot create %s: %s", p->secret, strerror(-r));
    return r;
}

static int record_check(struct store *st, const struct api_paths *p, const struct api_secret *k)
{
    unsigned char check[CHECK_MAX];
    long n = api_secret_check_make(k, check, sizeof(check));
    int r;

    if (store_read_only(st)) /* the next writable start records it */
        return 0;
    r = n < 0 ? (int)n : store_secret_check_add(st, check, (size_t)n);
    if (r < 0)
        api_log(BASE_LOG_ERR, "cannot record the check value of %s in %s: %s", p->secret,
                p->db_shown, strerror(-r));
    return r;
}

int api_datadir_secret(struct store *st, const struct api_paths *p, struct api_secret *ret)
{
    unsigned char check[CHECK_MAX];
    struct sealed_walk w = {0};
    struct api_secret k;
    size_t len = 0;
    int r, rc;

    rc = store_secret_check_get(st, check, sizeof(check), &len);
    if (rc < 0 && rc != -ENOENT) {
        api_log(BASE_LOG_ERR, "cannot read the check value of %s in %s: %s", p->secret, p->db_shown,
                strerror(-rc));
        return rc;
    }
    r = api_secret_load(p->secret, &k);
    if (r == -ENOENT) {
        r = store_turn_foreach(st, walk_turn, &w);
        if (r == 0)
            r = new_key(p, w.sealed, rc == 0, &k);
    } else if (r == 0 && rc == 0 && !api_secret_check_matches(&k, check, len)) {
        log_wrong_key(p, false);
        r = -EKEYREJECTED;
    } else if (r == 0 && rc == -ENOENT) { /* a database from before the check value */
        w.key = &k;
        r = store_turn_foreach(st, walk_turn, &w);
        if (r == 0 && w.unopened > 0) {
            log_wrong_key(p, false);
            r = -EKEYREJECTED;
        }
    } else if (r == -EPERM) {
        log_key_mode(p);
    } else if (r < 0) {
        api_log(BASE_LOG_ERR, "cannot load %s: %s", p->secret,
                r == -EINVAL ? "not a 32-byte key" : strerror(-r));
    }
    if (r == 0 && rc == -ENOENT)
        r = record_check(st, p, &k);
    if (r == 0)
        *ret = k;
    OPENSSL_cleanse(&k, sizeof(k));
    return r;
}

/* ---- backup --------------------------------------------------------------------------------- */

/* Refuses to overwrite: a backup directory may hold the only good copy. */
static int dest_path(const char *dest, const char *name, char *ret)
{
    if (snprintf(ret, PATH_MAX, "%s/%s", dest, name) >= PATH_MAX)
        return -ENAMETOOLONG;
    if (access(ret, F_OK) == 0) {
        fprintf(stderr, "callbridged: %s exists; give an empty or new directory\n", ret);
        return -EEXIST;
    }
    return 0;
}

/* The key is checked against the database first, so a backup never pairs the wrong two. */
static int backup_files(struct store *st, const struct api_paths *p, const char *dest)
{
    char db[PATH_MAX], key[PATH_MAX];
    unsigned char check[CHECK_MAX];
    struct api_secret k;
    size_t len;
    int r;

    r = dest_path(dest, "callbridge.db", db);
    if (r == 0)
        r = dest_path(dest, "secret.key", key);
    if (r < 0)
        return r;
    r = api_secret_load(p->secret, &k);
    if (r < 0) {
        fprintf(stderr, "callbridged: cannot read %s: %s\n", p->secret, strerror(-r));
        return r;
    }
    /* a backup never pairs the wrong two: without a check value to hold the key against (a
     * database this version has not started on yet), or when it cannot be read, nothing is
     * copied */
    r = store_secret_check_get(st, check, sizeof(check), &len);
    if (r == -ENOENT) {
        fprintf(stderr,
                "callbridged: %s has no check value of its key yet: start callbridged with it "
                "once (it writes one), then back up; nothing copied\n",
                p->db_shown);
    } else if (r < 0) {
        fprintf(stderr, "callbridged: cannot read the key's check value in %s: %s\n", p->db_shown,
                strerror(-r));
    } else if (!api_secret_check_matches(&k, check, len)) {
        fprintf(stderr, "callbridged: %s is not the key of %s; nothing copied\n", p->secret,
                p->db_shown);
        r = -EKEYREJECTED;
    } else if ((r = store_backup(st, db)) == -ENOTSUP) {
        fprintf(stderr,
                "callbridged: %s is a database server's: back it up with the server's own "
                "tools (then copy %s); nothing copied\n",
                p->db_shown, p->secret);
    } else if (r < 0) {
        fprintf(stderr, "callbridged: cannot write %s: %s\n", db, strerror(-r));
    } else if ((r = api_write_file(key, k.key, sizeof(k.key), 0600)) < 0) {
        fprintf(stderr, "callbridged: cannot write %s: %s\n", key, strerror(-r));
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return r;
}

int api_datadir_backup_cmd(const struct api_config *c)
{
    const char *dest = c->nargs == 2 ? c->args[1] : NULL;
    struct store *st = NULL;
    struct api_paths p;
    int r;

    if (!dest || !*dest) {
        fprintf(stderr, "callbridged: usage: backup DEST-DIR\n");
        return 2;
    }
    if (api_paths_make(c, &p) < 0)
        return 1;
    if (!c->database[0] && access(p.db, R_OK) < 0) {
        fprintf(stderr, "callbridged: no database to back up: %s: %s\n", p.db, strerror(errno));
        return 1;
    }
    if (mkdir(dest, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "callbridged: cannot create %s: %s\n", dest, strerror(errno));
        return 1;
    }
    r = store_open(p.db, &st);
    if (r < 0)
        fprintf(stderr, "callbridged: cannot open %s: %s\n", p.db_shown, strerror(-r));
    if (r == 0)
        r = backup_files(st, &p, dest);
    store_close(st);
    if (r == 0)
        printf("backed up %s and %s into %s\n", p.db_shown, p.secret, dest);
    return r == 0 ? 0 : 1;
}
