/* media/media.c: the public API of media/ (media/media.h) for API threads: legs are added and
 * removed by command (the media thread runs them, loop.c), a WebRTC leg's answer and candidates
 * are parsed here and queued the same way, a leg's status and the leg counts are read under
 * m->lock, and the media thread's CPU time for benchmarks.
 *
 * DESIGN: the module's files, in the order a datagram meets them: loop.c (the thread, its
 * commands and timers), path.c (the packet path), rtc_host.c (a guest's host candidate),
 * rtc_path.c (a guest's datagrams: ICE, DTLS, SRTP), sfu.c (forwarding among guests, RTCP), wire.c
 * (addresses, sending to a guest), rtpstats.c (RTP statistics), leg.c (legs, anchoring, failover),
 * rtc.c (a guest's offers, answers and end), call.c (the calls table), counters.c (counters and
 * totals); webrtc/ holds the pure codecs (SDP, RTCP) and DTLS-SRTP. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/media_int.h"
#include "media/webrtc/dtls.h"
#include "media/webrtc/sdp.h"

/* Queues a command of kind for leg_id (text: a name or a note; data: taken, freed with the
 * command; remote: a plain leg's endpoint, or NULL). */
static int queue(struct media *m, enum media_cmd_kind kind, const char *call_id, const char *leg_id,
                 const char *text, void *data, const struct sockaddr *remote)
{
    struct media_cmd *c = calloc(1, sizeof(*c));

    if (!c) {
        free(data);
        return -ENOMEM;
    }
    c->kind = kind;
    snprintf(c->call, sizeof(c->call), "%s", call_id ? call_id : "");
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    snprintf(c->name, sizeof(c->name), "%s", text ? text : "");
    c->data = data;
    if (remote)
        memcpy(&c->remote, remote,
               remote->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                            : sizeof(struct sockaddr_in6));
    media_loop_push(m, c);
    return 0;
}

int media_leg_add(struct media *m, const char *call_id, const char *leg_id,
                  const struct sockaddr *remote)
{
    if (remote->sa_family != AF_INET && remote->sa_family != AF_INET6)
        return -EINVAL;
    return queue(m, MEDIA_CMD_ADD, call_id, leg_id, NULL, NULL, remote);
}

int media_rtc_leg_add(struct media *m, const char *call_id, const char *leg_id, const char *name,
                      const char *turn_id)
{
    return queue(m, MEDIA_CMD_RTC_ADD, call_id, leg_id, name, turn_id ? strdup(turn_id) : NULL,
                 NULL);
}

int media_rtc_note(struct media *m, const char *leg_id, const char *note)
{
    return queue(m, MEDIA_CMD_RTC_NOTE, NULL, leg_id, note, NULL, NULL);
}

/* What callbridged needs of an answer beyond it being SDP: ICE credentials, a SHA-256
 * fingerprint, a DTLS role, an m-line. */
static int usable_answer(const struct sdp_session *s, char *err, size_t errcap)
{
    const char *why = NULL;

    if (!s->ice_ufrag[0] || !s->ice_pwd[0])
        why = "no a=ice-ufrag and a=ice-pwd";
    else if (strcmp(s->fp_alg, "sha-256") != 0 || s->fp_len != DTLS_FP_LEN)
        why = "no a=fingerprint:sha-256";
    else if (s->setup != SDP_SETUP_ACTIVE && s->setup != SDP_SETUP_PASSIVE)
        why = "a=setup must be active or passive in an answer";
    else if (s->n_media == 0)
        why = "no m-line";
    if (why)
        snprintf(err, errcap, "%s", why);
    return why ? -EINVAL : 0;
}

/* The answer and the candidates are parsed here, on the caller's thread, so a bad one is
 * refused to the page at once and the media thread only sees what it can use. */
int media_rtc_answer(struct media *m, const char *leg_id, const char *sdp, size_t len, char *err,
                     size_t errcap)
{
    struct sdp_session *s = malloc(sizeof(*s));
    int r = s ? sdp_parse(sdp, len, s, err, errcap) : -ENOMEM;

    if (r == 0)
        r = usable_answer(s, err, errcap);
    if (r < 0) {
        free(s);
        return r;
    }
    return queue(m, MEDIA_CMD_RTC_ANSWER, NULL, leg_id, NULL, s, NULL);
}

int media_rtc_candidate(struct media *m, const char *leg_id, const char *cand, size_t len,
                        char *err, size_t errcap)
{
    struct sdp_candidate *k = NULL;
    int r;

    if (len > 0) { /* "" is the end of them: queued as no candidate */
        k = malloc(sizeof(*k));
        r = k ? sdp_parse_candidate(cand, len, k, err, errcap) : -ENOMEM;
        if (r < 0) {
            free(k);
            return r == -EPROTONOSUPPORT ? 0 : r; /* well-formed, of no use (TCP): nothing */
        }
    }
    return queue(m, MEDIA_CMD_RTC_CANDIDATE, NULL, leg_id, NULL, k, NULL);
}

bool media_has_host_candidates(const struct media *m)
{
    return m->cfg.host_bind.ss_family != AF_UNSPEC; /* set before the thread started */
}

int media_leg_remove(struct media *m, const char *leg_id)
{
    return queue(m, MEDIA_CMD_REMOVE, NULL, leg_id, NULL, NULL, NULL);
}

int media_leg_set_mute(struct media *m, const char *leg_id, unsigned mute)
{
    struct media_cmd *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->kind = MEDIA_CMD_MUTE;
    c->mute = mute;
    snprintf(c->leg, sizeof(c->leg), "%s", leg_id);
    media_loop_push(m, c);
    return 0;
}

int media_leg_key_frame(struct media *m, const char *leg_id)
{
    return queue(m, MEDIA_CMD_KEY_FRAME, NULL, leg_id, NULL, NULL, NULL);
}

void media_set_leg_state_fn(struct media *m, media_leg_state_fn fn, void *userdata)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->leg_state = fn;
    m->leg_state_userdata = userdata;
    pthread_mutex_unlock(&m->lock);
}

int media_leg_get(struct media *m, const char *leg_id, struct media_leg_status *ret)
{
    struct media_leg *l;
    int r = -ENOENT;

    pthread_mutex_lock(&m->lock);
    l = media_leg_find(m, leg_id, NULL);
    if (l) {
        *ret = l->pub;
        media_leg_counters(l, ret->cls);
        ret->strangers = atomic_load(&l->strangers);
        r = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

void media_leg_counts(struct media *m, size_t *ret_active, size_t *ret_max)
{
    pthread_mutex_lock(&m->lock);
    *ret_active = m->nlegs;
    *ret_max = m->max_legs;
    pthread_mutex_unlock(&m->lock);
}

int64_t media_cpu_ns(struct media *m)
{
    struct timespec ts;
    clockid_t cid;

    if (pthread_getcpuclockid(m->thread, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
