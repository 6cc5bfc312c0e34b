/* turnclient/resolver.c: the prober's name resolution, off its loop. getaddrinfo() blocks, so a
 * small pool of threads runs it; a job is a TURN_CMD_RESOLVED command that goes back to the
 * prober thread through its command queue with the addresses filled in. A literal address, or a
 * name under .invalid, is answered at once without the pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "turnclient/prober_int.h"

/* Probing is background work: on a busy machine the API's answers come first. */
void turn_lower_priority(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
}

/* The next job, or NULL when the pool stops. */
static struct turn_cmd *take_job(struct turn_resolver *r)
{
    struct turn_cmd *job = NULL;

    pthread_mutex_lock(&r->lock);
    while (!r->head && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    if (!r->stop) {
        job = r->head;
        r->head = job->next;
        if (!r->head)
            r->tail = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    return job;
}

static void *resolver_main(void *arg)
{
    struct turn_resolver *r = arg;
    struct turn_cmd *job;

    turn_lower_priority();
    while ((job = take_job(r))) {
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG}, *res = NULL;

        job->gai_error = getaddrinfo(job->spec.host, NULL, &hints, &res);
        for (struct addrinfo *ai = res; ai && job->naddrs < TURN_PROBER_MAX_ADDRS; ai = ai->ai_next)
            if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
                memcpy(&job->addrs[job->naddrs++], ai->ai_addr, ai->ai_addrlen);
        if (res)
            freeaddrinfo(res);
        base_cmdq_push(r->answers, &job->base); /* back to the prober thread */
    }
    return NULL;
}

int turn_resolver_start(struct turn_resolver *r, unsigned n, struct base_cmdq *answers)
{
    int e;

    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->answers = answers;
    for (unsigned i = 0; i < n && i < TURN_MAX_RESOLVERS; i++) {
        e = pthread_create(&r->threads[i], NULL, resolver_main, r);
        if (e != 0)
            return -e;
        (void)pthread_setname_np(r->threads[i], "cb-resolver"); /* for top -H, ps -L */
        r->nthreads++;
    }
    return 0;
}

void turn_resolver_stop(struct turn_resolver *r)
{
    if (!r->answers)
        return; /* never started */
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < r->nthreads; i++)
        pthread_join(r->threads[i], NULL);
    for (struct turn_cmd *c = r->head; c;) {
        struct turn_cmd *next = c->next;

        free(c);
        c = next;
    }
    r->head = r->tail = NULL;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
}

/* RFC 6761 §6.4: names under .invalid never resolve, and resolvers should say so without
 * asking DNS (glibc asks). */
static bool is_invalid_tld(const char *host)
{
    size_t n = strlen(host);

    if (n > 0 && host[n - 1] == '.')
        n--;
    return (n == 7 && strncasecmp(host, "invalid", 7) == 0) ||
           (n > 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0);
}

/* Answers job at once when its host is a literal address or under .invalid. */
static bool answer_at_once(struct turn_cmd *job)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM}, *res;
    unsigned char buf[16];

    if (is_invalid_tld(job->spec.host)) {
        job->gai_error = EAI_NONAME;
        return true;
    }
    if (inet_pton(AF_INET, job->spec.host, buf) != 1 &&
        inet_pton(AF_INET6, job->spec.host, buf) != 1)
        return false;
    job->gai_error = getaddrinfo(job->spec.host, NULL, &hints, &res);
    if (job->gai_error == 0) {
        memcpy(&job->addrs[0], res->ai_addr, res->ai_addrlen);
        job->naddrs = 1;
        freeaddrinfo(res);
    }
    return true;
}

void turn_resolve(struct turn_resolver *r, struct turn_srv *s)
{
    struct turn_cmd *job = calloc(1, sizeof(*job));

    if (!job)
        return; /* retried at the next cycle */
    memcpy(job->spec.id, s->spec.id, sizeof(job->spec.id));
    memcpy(job->spec.host, s->spec.host, sizeof(job->spec.host));
    job->generation = s->generation;
    job->kind = TURN_CMD_RESOLVED;
    s->resolving = true;
    if (answer_at_once(job)) { /* a literal address needs no resolver round trip */
        base_cmdq_push(r->answers, &job->base);
        return;
    }
    pthread_mutex_lock(&r->lock);
    job->next = NULL;
    if (r->tail)
        r->tail->next = job;
    else
        r->head = job;
    r->tail = job;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}
