/* api/res/matching.h: call matching (cms-api.md §4.2): where a dialled address, or the web
 * app's callId and passcode, lands. The reads it needs are in store/q_match.c. */
#ifndef API_RES_MATCHING_H
#define API_RES_MATCHING_H

#include "api/api.h"

enum api_match_result {
    API_MATCH_COSPACE,
    API_MATCH_NO_RULE,
    API_MATCH_NO_TARGET,
    API_MATCH_NO_CALL_ID,
    API_MATCH_WRONG_PASSCODE,
    API_MATCH_FORWARD, /* no inbound rule: a forwarding rule forwards the call */
    API_MATCH_REJECT,  /* no inbound rule: a forwarding rule rejects the call */
    API_MATCH_DENIED,  /* a dial transform with action deny matched the destination */
    API_MATCH_IVR      /* a rule resolving to IVRs reached an IVR by its uri */
};
#define API_MATCH_DEST_MAX 512
struct api_match {
    enum api_match_result result;
    char rule[STORE_ID_LEN + 1]; /* the rule that matched, or the last one tried */
    char cospace[STORE_ID_LEN + 1];
    char ivr[STORE_ID_LEN + 1];        /* the IVR reached (API_MATCH_IVR) */
    char transform[STORE_ID_LEN + 1];  /* the dial transform applied, "" when none */
    char forwarding[STORE_ID_LEN + 1]; /* the forwarding rule that decided, "" when none */
    /* The destination matched (after the transform), or where a forward sends the call. */
    char destination[API_MATCH_DEST_MAX];
};
const char *api_match_name(enum api_match_result r); /* "coSpace", "noMatchingRule", ... */
int api_match_destination(struct store *st, const char *destination, struct api_match *ret);
int api_match_call_id(struct store *st, const char *call_id, const char *passcode,
                      struct api_match *ret);
/* Does the key fit the space or access method e: a secret, when given, must be e's; without
 * one the passcode must be e's when e has one (CMS: one without a passcode admits its callId).
 * Compared in constant time. */
bool api_match_key_fits(const struct store_cospace_entry *e, const char *secret,
                        const char *passcode);
/* The first access method with this callId that the key fits (api_match_key_fits), in *ret:
 * 0; -EACCES when methods have the callId but the key fits none (*ret: the last of them);
 * -ENOENT when none has it; or a store error. The call matching and the join page both ask
 * this, so what a passcode opens is the same from either. */
int api_match_access_entry(struct store *st, const char *call_id, const char *secret,
                           const char *passcode, struct store_cospace_entry *ret);
/* Only the dial transforms, for a call made (api/res/outbound.c): ret->destination is
 * destination rewritten by the one that applies (ret->transform its id), or result
 * API_MATCH_DENIED. Returns 0 or a store error. */
int api_match_dial_transform(struct store *st, const char *destination, struct api_match *ret);
/* Matches what p names: destination, or callId and passcode. Returns 0, or a negative errno
 * with *reply filled (parameterError when neither is there). */
int api_match_params(struct store *st, const struct api_params *p, struct api_match *ret,
                     struct api_reply *reply);

/* POST /api/v1/accessQuery and /api/v1/uriUsageQuery (api/res/query.c). */
void api_res_access_query(const struct api *api, struct store *st, const struct api_request *req,
                          struct api_reply *reply);
void api_res_uri_usage_query(const struct api *api, struct store *st, const struct api_request *req,
                             struct api_reply *reply);

/* GET /api/v1/callMatching (a troubleshooting extension): the answer of api_match_params. */
void api_res_call_matching(const struct api *api, struct store *st, const struct api_request *req,
                           struct api_reply *reply);

#endif
