/* base/base.c: the log helper and the command queue of base/base.h.
 *
 * DESIGN: the queue is an intrusive list under a mutex plus an eventfd, the shape Janus and
 * coturn use to hand work to an event-loop thread: a producer never blocks on the consumer, and
 * the consumer takes the whole list in one lock, so the lock is held for a few pointer moves. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/base.h"

void base_logf(const struct base_logger *lg, enum base_log_level level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!lg || !lg->fn)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lg->fn(lg->userdata, level, msg);
}

int base_cmdq_init(struct base_cmdq *q)
{
    q->head = q->tail = NULL;
    q->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->evfd < 0)
        return -errno;
    pthread_mutex_init(&q->lock, NULL);
    return 0;
}

void base_cmdq_done(struct base_cmdq *q)
{
    if (q->evfd < 0)
        return;
    close(q->evfd);
    q->evfd = -1;
    pthread_mutex_destroy(&q->lock);
}

int base_cmdq_fd(const struct base_cmdq *q)
{
    return q->evfd;
}

void base_cmdq_push(struct base_cmdq *q, struct base_cmd *c)
{
    uint64_t one = 1;

    c->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    pthread_mutex_unlock(&q->lock);
    (void)!write(q->evfd, &one, sizeof(one));
}

struct base_cmd *base_cmdq_take(struct base_cmdq *q)
{
    struct base_cmd *c;
    uint64_t v;

    (void)!read(q->evfd, &v, sizeof(v));
    pthread_mutex_lock(&q->lock);
    c = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->lock);
    return c;
}
