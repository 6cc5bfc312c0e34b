/* api/res/conversation.c: GET /api/v1/conversationIdQuery?conversationId=... (apiary
 * "conversationIdQuery Method", CMS 2.3 on).
 *
 * DESIGN: CMS answers whether a conversation with that id is going on. In CMS the id names a
 * conversation a call bridge takes part in; callbridge's conversations are its live calls, each
 * known by its id and by its callCorrelator (the call's own id unless POST /calls gave one: the
 * id the CDRs and a cluster use to tie a conversation's pieces together), and their legs by
 * their ids. So found is true when a call in the registry has that id or that callCorrelator,
 * or a call leg has that id; it is answered from the registry at the time of the request,
 * nothing stored. The value is echoed as given (it is any text in CMS: a Lync conversation's
 * id is not a UUID), compared without regard to case. A missing or empty conversationId is
 * 400 parameterError missing; a longer one than STORE_TEXT_MAX invalidValue. */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "api/form.h"
#include "api/reply.h"
#include "api/res/control.h"
#include "api/res/diag.h"
#include "api/res/registry.h"
#include "api/xml.h"

/* Is there a live call or leg that conversation id names? */
static bool is_live(struct api_calls *c, const char *id)
{
    bool found = false;

    if (!c)
        return false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->ncalls && !found; i++)
        found = strcasecmp(c->calls[i].id, id) == 0 ||
                strcasecmp(api_control_correlator(&c->calls[i]), id) == 0;
    for (size_t i = 0; i < c->nlegs && !found; i++)
        found = strcasecmp(c->legs[i].id, id) == 0;
    pthread_mutex_unlock(&c->lock);
    return found;
}

void api_res_conversation_query(const struct api *api, struct store *st,
                                const struct api_request *req, const char *id,
                                struct api_reply *reply)
{
    const char *conv = api_params_get(req->query, "conversationId");
    struct api_xml *x;

    (void)st;
    (void)id;
    if (!conv || !*conv) {
        api_reply_param_error(reply, "conversationId", "missing");
        return;
    }
    if (strlen(conv) > STORE_TEXT_MAX) {
        api_reply_param_error(reply, "conversationId", "invalidValue");
        return;
    }
    if (!(x = api_reply_xml_new(reply)))
        return;
    api_xml_start(x, "conversationIdQuery");
    api_xml_text(x, "conversationId", conv);
    api_xml_bool(x, "found", is_live(api->calls, conv));
    api_xml_end(x);
    api_reply_xml(reply, x);
}
