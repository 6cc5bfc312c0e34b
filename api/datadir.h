/* api/datadir.h: the data directory as one daemon's own: its paths, its lock, the modes and
 * owners of what it holds, the secrets key matched to the database it sealed, and backups. */
#ifndef API_DATADIR_H
#define API_DATADIR_H

#include <limits.h>

#include "api/config.h"
#include "api/secret.h"
#include "store/store.h"

struct api_paths {
    char db[PATH_MAX], secret[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], initial[PATH_MAX];
    char lock[PATH_MAX];
    char db_shown[PATH_MAX]; /* db for messages: a password in it replaced by "***" */
};

/* Fills p from c: files in c->data_dir, or --cert/--key; the database is --database when
 * given. Logs and returns -ENAMETOOLONG. */
int api_paths_make(const struct api_config *c, struct api_paths *p);

/* Creates the data directory (0700) if needed, then refuses one that the group or others can
 * write or that another user than this process's (root aside) owns: whoever can write it can
 * swap the database or the key. Logs what to run (chmod/chown). Returns 0 or -EPERM / -errno. */
int api_datadir_prepare(const struct api_config *c);

/* Takes an exclusive flock on p->lock (created 0600, this process's PID written in it), held
 * until the process ends: a second daemon on the same directory would serve stale caches. In
 * a read-only directory without the file, the directory itself is locked. Returns 0 with the
 * descriptor in *ret_fd, or -EBUSY after logging the directory and the holder's PID. */
int api_datadir_lock(const char *dir, const struct api_paths *p, int *ret_fd);

/* Refuses a TLS key (--key, or key.pem in the data directory) that others can read or write,
 * or that another user owns. Group-readable is accepted only for a key owned by root (Debian's
 * root:ssl-cert 0640 in /etc/ssl/private, where the group is how the key is granted). */
int api_datadir_check_tls_key(const char *path);

/* Loads secret.key and checks it against the check value stored with the database: a
 * different key, or a missing one while the database holds sealed secrets or a check value,
 * is refused (logged, naming secret.key and what to do). A new data directory gets a new key.
 * A database from before the check value gets one when its sealed secrets open with the key.
 * Returns 0 or -EKEYREJECTED (wrong key), -ENOKEY (missing key) or -errno. */
int api_datadir_secret(struct store *st, const struct api_paths *p, struct api_secret *ret);

/* "callbridged [--data-dir DIR] backup DEST-DIR": the database (online backup, while a daemon
 * serves) and secret.key (0600) into DEST-DIR, created if needed. Returns the exit code. A
 * --database whose backend has no backup of its own (a database server's) is refused: the
 * server's tools back it up. */
int api_datadir_backup_cmd(const struct api_config *c);

/* location with the password it may hold replaced by "***": in a URL's user information
 * ("scheme://user:password@host") and in a "password=" key of a key=value string. Into out
 * (cap bytes, truncated). */
void api_datadir_location_shown(const char *location, char *out, size_t cap);

#endif
