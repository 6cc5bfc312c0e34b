/* media/call.c: the calls table: which legs belong to one call, so the packet path knows where
 * a leg's datagrams go. A call exists while it has a leg; at most MEDIA_MAX_LEGS_PER_CALL (the
 * API refuses more before it gets here). Media thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_int.h"

struct media_call *media_call_join(struct media *m, const char *id, struct media_leg *l)
{
    struct media_call *c = m->calls;

    while (c && strcmp(c->id, id) != 0)
        c = c->next;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return NULL;
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->next = m->calls;
        m->calls = c;
    }
    if (c->n == MEDIA_MAX_LEGS_PER_CALL)
        return NULL;
    c->legs[c->n++] = l;
    return c;
}

void media_call_leave(struct media *m, struct media_leg *l)
{
    struct media_call *c = l->call;

    for (size_t i = 0; i < c->n; i++)
        if (c->legs[i] == l)
            c->legs[i] = c->legs[--c->n];
    if (c->n > 0)
        return;
    for (struct media_call **link = &m->calls; *link; link = &(*link)->next) {
        if (*link == c) {
            *link = c->next;
            free(c);
            return;
        }
    }
}
