/* api/cdr_record.c: CMS call detail records as XML: the content of one <record> from an event,
 * and the <records> body a receiver is posted.
 *
 * DESIGN: the element names and their order follow Cisco's "Cisco Meeting Server Call Detail
 * Records Guide" (releases 2.0 to 3.x, sections 4.1 to 4.5 and the example traffic flow of
 * section 6): callStart <call id><name><callType><coSpace><callCorrelator>, callEnd
 * <call id><callLegsCompleted><callLegsMaxActive><durationSeconds>, callLegStart
 * <callLeg id><displayName><remoteParty><guestConnection><type><subType><direction><call>,
 * callLegUpdate <callLeg id><state><call>, callLegEnd <callLeg id><reason><remoteTeardown>
 * <durationSeconds>. A record's inner XML is stored in the outbox; its index is the outbox's,
 * given when it is stored, so the envelope is written when it is posted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/cdr.h"
#include "api/xml.h"

static const char *const type_names[] = {"callStart", "callEnd", "callLegStart", "callLegUpdate",
                                         "callLegEnd"};

/* The leg elements that describe who it is (callLegStart). */
static void leg_start(struct api_xml *x, const struct api_cdr_event *e)
{
    api_xml_text(x, "displayName", e->webrtc ? e->name : "");
    api_xml_text(x, "remoteParty", e->party);
    if (e->webrtc)
        api_xml_bool(x, "guestConnection", true);
    /* a guest's browser is CMS's web app; an RTP endpoint posted through the API has no
     * signalling CMS would name, and "sip" is the closest a receiver understands */
    api_xml_text(x, "type", e->webrtc ? "acano" : "sip");
    if (e->webrtc)
        api_xml_text(x, "subType", "webApp");
    api_xml_text(x, "direction", e->dial_failed ? "outgoing" : "incoming");
    api_xml_text(x, "call", e->call);
}

static void leg_end(struct api_xml *x, const struct api_cdr_event *e)
{
    api_xml_text(x, "reason", e->reason);
    api_xml_bool(x, "remoteTeardown", e->remote_teardown);
    api_xml_int(x, "durationSeconds", e->duration_s);
    if (e->media_reason[0]) /* an extension: why the media failed, in the media thread's words */
        api_xml_text(x, "mediaFailureReason", e->media_reason);
    if (e->out_rule[0]) /* an extension: the outbound rule a dial-out matched */
        api_xml_text(x, "outboundDialPlanRule", e->out_rule);
}

static void write_event(struct api_xml *x, const struct api_cdr_event *e)
{
    bool call = e->type == API_CDR_CALL_START || e->type == API_CDR_CALL_END;

    api_xml_start(x, call ? "call" : "callLeg");
    api_xml_attr(x, "id", call ? e->call : e->leg);
    if (e->type == API_CDR_CALL_START) {
        api_xml_text(x, "name", e->name);
        api_xml_text(x, "callType", "coSpace");
        api_xml_text(x, "coSpace", e->cospace);
        api_xml_text(x, "callCorrelator", e->call); /* one node: the call is its own correlator */
    } else if (e->type == API_CDR_CALL_END) {
        api_xml_int(x, "callLegsCompleted", (int64_t)e->legs_completed);
        api_xml_int(x, "callLegsMaxActive", (int64_t)e->legs_max_active);
        api_xml_int(x, "durationSeconds", e->duration_s);
    } else if (e->type == API_CDR_LEG_START) {
        leg_start(x, e);
    } else if (e->type == API_CDR_LEG_UPDATE) {
        api_xml_text(x, "state", e->state);
        api_xml_text(x, "call", e->call);
    } else {
        leg_end(x, e);
    }
    api_xml_end(x);
}

int api_cdr_record_make(const struct api_cdr_event *e, struct store_cdr_record *ret)
{
    static const char decl[] = "<?xml version=\"1.0\"?>";
    struct api_xml *x = api_xml_new();
    time_t t = (time_t)(e->wall_ms / 1000);
    struct tm tm;
    char *body;
    size_t len;

    if (e->type > API_CDR_LEG_END) { /* not a record */
        api_xml_free(x);
        return -EINVAL;
    }
    if (!x)
        return -ENOMEM;
    write_event(x, e);
    if (api_xml_finish(x, &body, &len) < 0)
        return -ENOMEM;
    /* the fragment goes inside <record>: without the declaration the writer starts with */
    if (strncmp(body, decl, sizeof(decl) - 1) == 0)
        memmove(body, body + sizeof(decl) - 1, len - (sizeof(decl) - 1) + 1);
    ret->body = body;
    (void)snprintf(ret->type, sizeof(ret->type), "%s", type_names[e->type]);
    (void)gmtime_r(&t, &tm);
    (void)strftime(ret->time, sizeof(ret->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

char *api_cdr_records_xml(const struct store_cdr_record *recs, size_t n, const char *bridge,
                          size_t *ret_len)
{
    size_t cap = 256, len = 0;
    char *out;

    for (size_t i = 0; i < n; i++)
        cap += strlen(recs[i].body) + 200;
    if (!(out = malloc(cap)))
        return NULL;
    /* the attributes are UUIDs, types and times this file wrote: nothing to escape */
    len += (size_t)snprintf(out + len, cap - len,
                            "<?xml version=\"1.0\"?><records session=\"%s\" callBridge=\"%s\">",
                            n ? recs[0].session : "", bridge);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len,
                                "<record type=\"%s\" time=\"%s\" recordIndex=\"%lld\" "
                                "correlatorIndex=\"%lld\">%s</record>",
                                recs[i].type, recs[i].time, (long long)recs[i].index,
                                (long long)recs[i].correlator, recs[i].body);
    len += (size_t)snprintf(out + len, cap - len, "</records>");
    *ret_len = len;
    return out;
}
