/* api/res/outbound.h: the outbound dial plan applied to a leg that is dialled out. */
#ifndef API_RES_OUTBOUND_H
#define API_RES_OUTBOUND_H

#include "api/api.h"
#include "api/res/matching.h"

/* Where a call out to a remote party would go: the dial transforms applied, then the outbound
 * rules in CMS's order. */
struct api_dial_out {
    char destination[API_MATCH_DEST_MAX]; /* after the dial transform */
    char transform[STORE_ID_LEN + 1];     /* the transform applied, "" none */
    char rule[STORE_ID_LEN + 1];          /* the first outbound rule that matched, "" none */
    unsigned tried;                       /* rules tried: 1 and those its failureAction
                                             "continue" let through to */
    char from_domain[STORE_TEXT_MAX + 1]; /* the rule's localFromDomain, "" none */
    const char *reason; /* why it fails: "noSipDialOut" (a rule matched, but no SIP here to
                           place it), "noMatchingRule", "dialTransformDeny" */
};

/* Routes a call to party from a call of tenant ("": none): the outbound rules whose domain
 * (a wildcard pattern) matches the destination's domain, that are global (callbridged is no
 * configured callBridge, so rules scoped to one or to a group do not apply to it) and of no
 * tenant or of that one, highest priority first, then oldest. Returns 0 with *ret filled, or a
 * store error. */
int api_dial_out_route(struct store *st, const char *party, const char *tenant,
                       struct api_dial_out *ret);

#endif
