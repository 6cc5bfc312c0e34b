/* base/base.h: what every module shares, and nothing else: the log vocabulary (syslog(3) levels
 * and the callback through which a leaf module logs) and the command queue through which one
 * thread hands work to another (mutex + eventfd). A leaf: it includes only libc. */
#ifndef BASE_BASE_H
#define BASE_BASE_H

#include <pthread.h>

/* syslog(3) numbers, so a line's level means the same in every module and in the journal. */
enum base_log_level { BASE_LOG_ERR = 3, BASE_LOG_WARN = 4, BASE_LOG_INFO = 6, BASE_LOG_DEBUG = 7 };

/* How a module that does not own the log (turnclient, media) hands a line to the one that does.
 * msg is one formatted line without a newline; it never holds a secret. */
typedef void (*base_log_fn)(void *userdata, enum base_log_level level, const char *msg);

struct base_logger {
    base_log_fn fn; /* NULL: lines are dropped */
    void *userdata;
};

/* Formats one line (at most 511 bytes, longer is cut) and hands it to lg->fn. */
void base_logf(const struct base_logger *lg, enum base_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A command is embedded as the first member of a module's own command struct. */
struct base_cmd {
    struct base_cmd *next;
};

/* Many producers, one consumer thread that polls base_cmdq_fd(). */
struct base_cmdq {
    pthread_mutex_t lock;
    struct base_cmd *head, *tail;
    int evfd;
};

/* Returns 0 or -errno (eventfd). */
int base_cmdq_init(struct base_cmdq *q);
/* Closes the eventfd. Commands still queued are the caller's: take them first. */
void base_cmdq_done(struct base_cmdq *q);
/* The descriptor that becomes readable when a command is queued. */
int base_cmdq_fd(const struct base_cmdq *q);
/* Appends c and wakes the consumer. Thread-safe; never fails. */
void base_cmdq_push(struct base_cmdq *q, struct base_cmd *c);
/* Clears the wake-up and returns every queued command, oldest first (NULL if none). The
 * consumer owns the list. Thread-safe. */
struct base_cmd *base_cmdq_take(struct base_cmdq *q);

#endif
