/* api/res/control_values.h: call control's values of a leg (api/res/control_values.c), below
 * the handlers that set them (api/res/control.c) and the files that read them (the lobby, the
 * call leg profiles, the participants): the table of a leg's parameters, the value in force on
 * a leg, and a live leg following its values. Every function given a leg runs with the
 * registry's lock held. */
#ifndef API_RES_CONTROL_VALUES_H
#define API_RES_CONTROL_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api/res/registry.h"

/* A parameter of call control: its kind, and what it may be. */
enum api_control_kind { API_PK_BOOL, API_PK_INT, API_PK_ENUM, API_PK_TEXT };

struct api_control_param {
    const char *name;
    enum api_control_kind kind;
    int64_t min, max;          /* API_PK_INT; API_PK_TEXT: max is the longest, in bytes */
    const char *const *values; /* API_PK_ENUM, NULL-terminated */
};
/* Rows of a table of them, by kind. */
#define API_PARAM_BOOL(n)                                                                          \
    {                                                                                              \
        n, API_PK_BOOL, 0, 0, NULL                                                                 \
    }
#define API_PARAM_ENUM(n, v)                                                                       \
    {                                                                                              \
        n, API_PK_ENUM, 0, 0, v                                                                    \
    }
#define API_PARAM_INT(n, lo, hi)                                                                   \
    {                                                                                              \
        n, API_PK_INT, lo, hi, NULL                                                                \
    }
#define API_PARAM_TEXT(n, len)                                                                     \
    {                                                                                              \
        n, API_PK_TEXT, 0, len, NULL                                                               \
    }

/* PUT /callLegs/<id>: the callLeg object's parameters that a PUT may change, in the order of
 * struct api_leg's conf and struct api_leg_profile's v. */
extern const struct api_control_param api_control_leg_params[API_LEG_PARAMS];

/* Some leg parameters by their index: the call leg profile's that the lobby and the guests'
 * rights read, the mutes and the name label. */
enum {
    API_LEGP_NEEDS_ACTIVATION = 4,
    API_LEGP_PARTICIPANT_LABELS = 5,
    API_LEGP_MUTE_SELF = 12,
    API_LEGP_VIDEO_MUTE_SELF = 13,
    API_LEGP_RX_AUDIO = 18,
    API_LEGP_TX_AUDIO,
    API_LEGP_RX_VIDEO,
    API_LEGP_TX_VIDEO,
    API_LEGP_DEACTIVATION_MODE = 24,
    API_LEGP_DEACTIVATION_MODE_TIME = 25,
    API_LEGP_LABEL = 34,
};
/* The index of allowAllMuteSelf among PUT /calls/<id>'s parameters (api/res/control.c), which
 * a guest's rights read. */
#define API_CALLP_ALL_MUTE_SELF 3

/* The name of leg parameter i ("" beyond them). */
const char *api_control_leg_param(size_t i);
/* Leg parameter i in force on l: its own value (PUT /callLegs), else its profiles' ("": none). */
const char *api_control_leg_value(const struct api_leg *l, size_t i);
/* What leg l's page may do and shows, into *v (v->label points into l). */
void api_control_leg_view(const struct api *api, const struct api_leg *l, struct api_guest_view *v);
/* l's values, or its lobby state, changed: its media path and its page follow. */
void api_control_leg_refresh(const struct api *api, struct api_leg *l);

#endif
