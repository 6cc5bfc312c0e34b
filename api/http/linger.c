/* api/http/linger.c: the lingering thread (see linger.h).
 *
 * DESIGN: one thread with an epoll set of at most API_LINGER_MAX duplicated sockets and an eventfd
 * that wakes it (for a new socket's deadline, or to stop); it sleeps until the nearest deadline,
 * and without sockets until woken. api_linger_add() runs on libmicrohttpd's worker threads: it
 * takes a free slot under the lock, duplicates the descriptor and registers it; only the thread
 * frees slots, after it has handled the events of its last epoll_wait(), so an event never meets a
 * reused slot. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http/linger.h"
#include "api/metrics.h"
#include "api/util.h"

#define WAKE_TAG UINT32_MAX

struct slot {
    int fd; /* -1 when free */
    int64_t deadline_us;
    size_t dropped;
};

struct api_linger {
    pthread_t thread;
    pthread_mutex_t lock;
    int epfd, wakefd; /* the eventfd: a socket was added, or stop */
    atomic_bool stopping;
    unsigned max; /* slots in use at most */
    struct api_metrics *metrics;
    struct slot slots[API_LINGER_MAX];
};

/* Reads and drops what is there; false once the socket is done with (end of stream, error, or
 * API_LINGER_BYTES dropped). */
static bool drain(int fd, size_t *dropped)
{
    static char sink[64 * 1024]; /* only this thread writes it, and nothing reads it */

    for (;;) {
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

        if (n > 0) {
            *dropped += (size_t)n;
            if (*dropped >= API_LINGER_BYTES)
                return false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* Milliseconds until the nearest deadline, -1 when no socket lingers. */
static int next_timeout(const struct api_linger *l, int64_t now)
{
    int64_t next = -1;

    for (size_t k = 0; k < API_LINGER_MAX; k++) {
        const struct slot *s = &l->slots[k];

        if (s->fd >= 0 && (next < 0 || s->deadline_us < next))
            next = s->deadline_us;
    }
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

static void *linger_main(void *arg)
{
    struct api_linger *l = arg;
    struct epoll_event ev[16];
    bool done[API_LINGER_MAX] = {false};
    int timeout = -1;

    for (;;) {
        int n = epoll_wait(l->epfd, ev, 16, timeout);
        int64_t now = api_now_us();

        for (int i = 0; i < n; i++) {
            uint32_t k = (uint32_t)ev[i].data.u64;
            uint64_t wakes;
            int fd;

            if (k == WAKE_TAG) {
                if (read(l->wakefd, &wakes, sizeof(wakes)) < 0 && errno != EAGAIN)
                    return NULL;
                if (atomic_load(&l->stopping))
                    return NULL;
                continue;
            }
            /* the lock orders this after the api_linger_add() that filled the slot */
            pthread_mutex_lock(&l->lock);
            fd = l->slots[k].fd;
            pthread_mutex_unlock(&l->lock);
            if (fd >= 0) {
                bool had = l->slots[k].dropped > 0;

                done[k] = !drain(fd, &l->slots[k].dropped);
                if (!had && l->slots[k].dropped > 0)
                    api_metrics_lingered(l->metrics);
            }
        }
        pthread_mutex_lock(&l->lock);
        for (size_t k = 0; k < API_LINGER_MAX; k++) {
            struct slot *s = &l->slots[k];

            if (s->fd >= 0 && (done[k] || now >= s->deadline_us)) {
                (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
                (void)close(s->fd);
                s->fd = -1;
            }
            done[k] = false;
        }
        timeout = next_timeout(l, now);
        pthread_mutex_unlock(&l->lock);
    }
}

int api_linger_start(unsigned max, struct api_metrics *metrics, struct api_linger **ret)
{
    struct api_linger *l = calloc(1, sizeof(*l));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
    int r;

    if (!l)
        return -ENOMEM;
    l->max = max < API_LINGER_MAX ? max : API_LINGER_MAX;
    l->metrics = metrics;
    for (size_t k = 0; k < API_LINGER_MAX; k++)
        l->slots[k].fd = -1;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    pthread_mutex_init(&l->lock, NULL);
    r = -pthread_create(&l->thread, NULL, linger_main, l);
    if (r < 0) {
        pthread_mutex_destroy(&l->lock);
        goto fail;
    }
    (void)pthread_setname_np(l->thread, "cb-linger");
    *ret = l;
    return 0;
fail:
    if (l->epfd >= 0)
        (void)close(l->epfd);
    if (l->wakefd >= 0)
        (void)close(l->wakefd);
    free(l);
    return r;
}

static void wake(struct api_linger *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->wakefd, &one, sizeof(one)); /* fails only if the counter overflows */

    (void)w;
}

bool api_linger_add(struct api_linger *l, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
    struct slot *s = NULL;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    bool kept = false, others = false;
    int dup;

    /* the client has closed its side (the usual end of a keep-alive connection), or the
     * connection is gone: nothing can be reset */
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return false;
    pthread_mutex_lock(&l->lock);
    for (size_t k = 0; k < l->max; k++) {
        if (l->slots[k].fd >= 0)
            others = true;
        else if (!s)
            s = &l->slots[k];
    }
    if (s && (dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
        s->fd = dup;
        s->deadline_us = api_now_us() + (int64_t)API_LINGER_MS * 1000;
        s->dropped = 0;
        ev.data.u64 = (uint64_t)(s - l->slots);
        (void)shutdown(dup, SHUT_WR); /* the answer already queued goes out, then the end */
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, dup, &ev) < 0) {
            (void)close(dup);
            s->fd = -1;
        } else {
            kept = true;
        }
    }
    pthread_mutex_unlock(&l->lock);
    /* Every deadline is API_LINGER_MS after its socket came, so with others lingering the
     * thread already wakes before this one's; alone, it sleeps without a timeout until told. */
    if (kept && !others)
        wake(l);
    return kept;
}

void api_linger_stop(struct api_linger *l)
{
    if (!l)
        return;
    atomic_store(&l->stopping, true);
    wake(l);
    (void)pthread_join(l->thread, NULL);
    for (size_t k = 0; k < API_LINGER_MAX; k++) {
        if (l->slots[k].fd >= 0)
            (void)close(l->slots[k].fd);
    }
    pthread_mutex_destroy(&l->lock);
    (void)close(l->epfd);
    (void)close(l->wakefd);
    free(l);
}
