/* api/reply.c: the helpers that fill a struct api_reply (failures in CMS's failureDetails shape,
 * store errors, XML answers) and the one map from a negative errno to an HTTP status. Part of
 * the request/reply model, so the HTTPS edge and the handlers answer errors alike. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/log.h"
#include "api/reply.h"
#include "api/xml.h"

int api_status_from_err(int err)
{
    switch (err) {
    case -EINVAL:
        return 400;
    case -ENOENT:
        return 404;
    case -E2BIG:
        return 413;
    case -EDQUOT:
        return 400;
    case -EBUSY:
    case -EDEADLK: /* a PostgreSQL deadlock not run again (resource.c runs its writes again) */
    case -ENOSPC:
    case -EROFS:
    case -ENOTCONN: /* the database server lost (a primary down, before a replica's promotion) */
        return 503;
    default:
        return 500;
    }
}

void api_reply_done(struct api_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}

static void set_failure(struct api_reply *reply, int status, const char *reason, const char *param,
                        const char *error)
{
    api_reply_done(reply);
    reply->status = status;
    if (api_xml_failure(reason, param, error, &reply->body, &reply->len) < 0) {
        reply->status = 500;
        reply->body = NULL;
        reply->len = 0;
    }
}

void api_reply_failure(struct api_reply *reply, int status, const char *reason)
{
    set_failure(reply, status, reason, NULL, NULL);
}

void api_reply_param_error(struct api_reply *reply, const char *param, const char *error)
{
    set_failure(reply, 400, NULL, param, error);
}

/* A full disk or a read-only data directory fails every write until someone acts, and each
 * of those requests is answered 503: the log says why, at most once per 10 s. */
static void log_store_fault(int err)
{
    if (err == -ENOTCONN) {
        api_log_every(10, BASE_LOG_ERR,
                      "the database server cannot be reached, or none that takes writes "
                      "answers: writes are answered 503 (reads too when no standby answers) "
                      "until one does");
        return;
    }
    if (err != -ENOSPC && err != -EROFS)
        return;
    api_log_every(10, BASE_LOG_ERR,
                  "the database cannot be written (%s): writes are answered 503 until %s",
                  strerror(-err),
                  err == -ENOSPC ? "the data directory's file system has space again"
                                 : "the database takes writes again and callbridged restarts");
}

void api_reply_err(struct api_reply *reply, int err)
{
    int status = api_status_from_err(err);

    log_store_fault(err);

    /* databaseNotReady is CMS's own word for a store that cannot take the request now. */
    api_reply_failure(reply, status,
                      status == 503   ? "databaseNotReady"
                      : status == 413 ? "requestTooLarge"
                                      : "internalError");
}

/* CMS has no reason for a full table; its limits are named tooMany<Things> (tooManyCdrReceivers,
 * tooManyLdapSyncs), so a full collection is tooMany<Collection>, with 400 as every refusal of a
 * request that cannot succeed as it stands (a 503 would tell clients to retry). */
void api_reply_too_many(struct api_reply *reply, const char *collection)
{
    char reason[64];

    (void)snprintf(reason, sizeof(reason), "tooMany%c%s", toupper((unsigned char)collection[0]),
                   collection + 1);
    static const struct api_log_rate every_10s = {.interval_us = 10000000, .burst = 1};

    api_reply_failure(reply, 400, reason);
    /* one line per collection (the name is a string constant of its caller) every 10 s */
    api_log_site(collection, &every_10s, BASE_LOG_WARN,
                 "%s: the cap on objects is reached, creating more is refused (%s); delete some "
                 "or raise the cap (callbridged --help, --max-...)",
                 collection, reason);
}

void api_reply_xml(struct api_reply *reply, struct api_xml *x)
{
    api_reply_done(reply);
    if (api_xml_finish(x, &reply->body, &reply->len) < 0)
        api_reply_failure(reply, 500, "internalError");
    else
        reply->status = 200;
}

struct api_xml *api_reply_xml_new(struct api_reply *reply)
{
    struct api_xml *x = api_xml_new();

    if (!x)
        api_reply_err(reply, -ENOMEM);
    return x;
}
