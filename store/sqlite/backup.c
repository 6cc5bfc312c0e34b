/* store/sqlite/backup.c: online backups of a SQLite database (store_backup() through
 * ops->backup): a consistent copy written beside the destination, synced, then renamed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/sqlite.h"

/* fsync()s the file or directory at path. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), r = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    (void)close(fd);
    return r;
}

/* The copy is written in rollback-journal mode (DELETE) so that it is one self-contained file;
 * the daemon that opens it switches it back to WAL. */
static int copy_to(sqlite3 *src, const char *path)
{
    sqlite3_backup *b;
    sqlite3 *dst = NULL;
    int fd, rc;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); /* SQLite keeps the mode */
    if (fd < 0)
        return -errno;
    (void)close(fd);
    rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        b = sqlite3_backup_init(dst, "main", src, "main");
        if (!b) {
            rc = sqlite3_errcode(dst);
        } else {
            /* -1: every page in one step, under one read transaction: one snapshot, however
             * many writers commit meanwhile (WAL lets them go on) */
            rc = sqlite3_backup_step(b, -1);
            rc = sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_IOERR;
    return rc == SQLITE_OK ? 0 : sqlite_err(rc) ? sqlite_err(rc) : -EIO;
}

int sqlite_backup(sqlite3 *h, const char *dest_path)
{
    char tmp[4096], dir[4096];
    const char *slash = strrchr(dest_path, '/');
    int r;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", dest_path) >= (int)sizeof(tmp) ||
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - dest_path) : 1,
                 slash ? dest_path : ".") >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    if (access(dest_path, F_OK) == 0)
        return -EEXIST;
    (void)unlink(tmp);
    r = copy_to(h, tmp);
    if (r == 0)
        r = sync_path(tmp, O_RDONLY);
    if (r == 0 && rename(tmp, dest_path) < 0)
        r = -errno;
    if (r == 0)
        r = sync_path(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY);
    if (r < 0)
        (void)unlink(tmp);
    return r;
}
