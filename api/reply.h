/* api/reply.h: filling a struct api_reply (api/api.h): CMS failures, store errors, XML answers. */
#ifndef API_REPLY_H
#define API_REPLY_H

#include "api/api.h"

struct api_xml;

/* Maps a handler's negative errno to an HTTP status (the single place that does):
 * -EINVAL/-EDQUOT 400, -ENOENT 404, -E2BIG 413, -EBUSY/-EDEADLK/-ENOSPC/-EROFS 503, anything else
 * 500. */
int api_status_from_err(int err);

/* Fill a reply. Each replaces any previous body. */
void api_reply_failure(struct api_reply *reply, int status, const char *reason);
void api_reply_param_error(struct api_reply *reply, const char *param, const char *error);
void api_reply_err(struct api_reply *reply, int err); /* a store/system error: 500 or 503 */
/* A create refused because the collection holds its cap of objects (-EDQUOT from the store):
 * 400 tooMany<Collection>, e.g. tooManyCoSpaces, and a warning in the log. */
void api_reply_too_many(struct api_reply *reply, const char *collection);
/* Finishes x (see api_xml_finish) into a 200 reply, or a 500 when that fails. */
void api_reply_xml(struct api_reply *reply, struct api_xml *x);
void api_reply_done(struct api_reply *reply); /* frees the body; reply may be reused */
/* A new XML answer, or NULL after setting a 500 in *reply (out of memory). */
struct api_xml *api_reply_xml_new(struct api_reply *reply);

#endif
