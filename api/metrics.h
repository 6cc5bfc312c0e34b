/* api/metrics.h: the request and connection counters behind /metrics. */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct api_metrics;
struct api_auth;

#define API_METRICS_MAX_LABELS 64
/* The route labels requests are counted under: names[n - 1] is the one for any other path,
 * of(path) one of names (the router's api_route_label and api_route_labels). */
struct api_metrics_labels {
    const char *names[API_METRICS_MAX_LABELS];
    size_t n;
    const char *(*of)(const char *path);
};
/* Returns 0, -EINVAL (no labels, or too many) or -ENOMEM. */
int api_metrics_new(const struct api_metrics_labels *labels, struct api_metrics **ret);
void api_metrics_free(struct api_metrics *m); /* NULL is a no-op */
/* Counts one answered request (any thread; m NULL is a no-op). */
void api_metrics_request(struct api_metrics *m, const char *method, const char *path, int status,
                         int64_t duration_us);
/* Counts one connection closed with its client still sending, drained (api/http/linger.h). */
void api_metrics_lingered(struct api_metrics *m);
/* /metrics shows auth's password verifications and throttle records (api/http/auth.h) from now on;
 * auth must outlive the scrapes. m NULL is a no-op. */
void api_metrics_watch_auth(struct api_metrics *m, struct api_auth *auth);
/* Why the server closed a connection before libmicrohttpd's own timeout (api/http/guard.h). */
enum api_close_reason {
    API_CLOSE_HEAD_DEADLINE, /* TLS handshake and headers not in within --header-timeout */
    API_CLOSE_BODY_DEADLINE, /* body not in within --body-timeout */
    API_CLOSE_IDLE_DEADLINE, /* no complete request line within a keep-alive wait */
    API_CLOSE_EVICTED,       /* gave way to a new connection on a full port */
    API_CLOSE_N,
};
/* Counts one such close. */
void api_metrics_closed(struct api_metrics *m, enum api_close_reason why);
/* Writes a family's HELP and TYPE lines. */
void api_metrics_family(FILE *f, const char *name, const char *type, const char *help);
/* Writes the counters' families in the Prometheus text format. */
void api_metrics_render(FILE *f, struct api_metrics *m);

#endif
