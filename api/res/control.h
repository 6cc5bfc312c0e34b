/* api/res/control.h: call control (PUT /calls/<id>, PUT /callLegs/<id>, generateKeyFrame,
 * cameraControl, callLegProfileTrace): the handlers, what GET /calls/<id> and GET /callLegs/<id>
 * show of what they set, and what the participants (api/res/participants.c) use of it. A leg's
 * values and their effect on a live leg are below, in api/res/control_values.h. */
#ifndef API_RES_CONTROL_H
#define API_RES_CONTROL_H

#include "api/api.h"
#include "api/res/control_values.h"
#include "api/res/registry.h"
#include "api/xml.h"

/* PUT /calls/<id> and PUT /callLegs/<id> (id checked by the caller). */
void api_control_put_call(const struct api *api, const struct api_request *req, const char *id,
                          struct api_reply *reply);
void api_control_put_leg(const struct api *api, const struct api_request *req, const char *id,
                         struct api_reply *reply);
/* The call parameters of POST /calls, checked into conf (all "" first): 0, or -EINVAL with the
 * parameterError in *reply; then, once the call c is made (lock held), they take effect. */
int api_control_call_form(const struct api_request *req, char conf[][STORE_TEXT_MAX + 1],
                          struct api_reply *reply);
void api_control_call_created(const struct api *api, struct api_call *c,
                              char conf[][STORE_TEXT_MAX + 1]);
/* The leg parameters of a POST that adds a leg, checked into conf (all "" first): 0, or -EINVAL
 * with the parameterError in *reply. */
int api_control_leg_form(const struct api_params *form, char conf[][API_LEG_VALUE_MAX],
                         struct api_reply *reply);
/* A new leg l of call c, lock held: its mute from conf (or the call's joinAudioMuteOverride),
 * applied in the media path once it has one, and the call's message on its guest's page. */
void api_control_leg_added(const struct api *api, struct api_call *c, struct api_leg *l);
/* What GET shows, lock held: the call's control fields; the leg's <configuration>. */
void api_control_write_call(struct api_xml *x, const struct api_call *c, size_t legs);
void api_control_write_leg(struct api_xml *x, const struct api_leg *l);

/* For the participants (api/res/participants.c). Lock held: form's leg parameters onto l (0, or
 * -EINVAL with the parameterError in *reply and l unchanged). */
int api_control_leg_apply(const struct api *api, struct api_leg *l, const struct api_params *form,
                          struct api_reply *reply);
/* PUT on leg id with form (404 missing when there is none). */
void api_control_put_leg_as(const struct api *api, const struct api_params *form, const char *id,
                            const char *missing, struct api_reply *reply);
/* The name the others see: nameLabelOverride, else the remote party. */
const char *api_control_shown_name(const struct api_leg *l);
/* The call's callCorrelator: the one POST /calls gave, else its own id (lock held). */
const char *api_control_correlator(const struct api_call *c);
/* A copy of leg id (from the path), or 404 missing (false). */
bool api_control_leg_copy(const struct api *api, const char *id, const char *missing,
                          struct api_leg *out, struct api_reply *reply);

/* A guest mutes or unmutes its own audio or video (1 mute, 0 unmute, -1 unchanged), as its
 * page asks: rxAudioMute, rxVideoMute in its media path. 0; -EACCES when its profile or its
 * call does not allow it (nothing changed); -ENOENT when the leg is gone. Takes the lock. */
int api_control_self_mute(const struct api *api, const char *leg, int audio, int video);

/* Routes (the router checked the method): POST /callLegs/<id>/generateKeyFrame,
 * PUT /callLegs/<id>/cameraControl, GET /callLegs/<id>/callLegProfileTrace. */
void api_res_leg_key_frame(const struct api *api, struct store *st, const struct api_request *req,
                           const char *id, struct api_reply *reply);
void api_res_leg_camera_control(const struct api *api, struct store *st,
                                const struct api_request *req, const char *id,
                                struct api_reply *reply);
void api_res_leg_profile_trace(const struct api *api, struct store *st,
                               const struct api_request *req, const char *id,
                               struct api_reply *reply);

#endif
