/* api/res/prober_link.c: the link from stored TURN servers to the prober (turnclient/prober.c):
 * a server is handed over, with its secrets unsealed, after a create or an update and at start,
 * and a status request that finds no probe results yet waits here for them (api_wait, given to
 * the HTTP edge by the composition root), so no handler file is called by the edge. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/res/parse.h"
#include "api/res/prober_link.h"
#include "turnclient/turnclient.h"

/* Decrypts a sealed field into out (cap bytes); "" when unset or unreadable. */
static void unseal(const struct api *api, const char *id, const char *field,
                   const unsigned char *blob, size_t len, char *out, size_t cap)
{
    char aad[64];

    out[0] = '\0';
    if (len == 0)
        return;
    (void)snprintf(aad, sizeof(aad), "%s/%s", id, field);
    if (api_secret_open(&api->secret, aad, blob, len, out, cap) < 0)
        out[0] = '\0';
}

void api_turn_probe(const struct api *api, const struct store_turn *t)
{
    struct turn_server_spec spec = {0};
    bool bracketed;

    if (!api->prober)
        return;
    (void)snprintf(spec.id, sizeof(spec.id), "%s", t->id);
    /* validated on the way in (api_is_host_port): it parses */
    (void)api_parse_host_port(t->server_address, spec.host, sizeof(spec.host), &spec.port,
                              &bracketed);
    if (!spec.port) /* the type's default: 3478, 443 for Lync/Skype edges (cms-api.md §2.1) */
        spec.port = strcmp(t->type, "lyncEdge") == 0 ? 443 : 3478;
    spec.tcp_port = t->has_tcp_port_number_override ? (uint16_t)t->tcp_port_number_override : 0;
    (void)snprintf(spec.username, sizeof(spec.username), "%s", t->username);
    unseal(api, t->id, "password", t->password, t->password_len, spec.password,
           sizeof(spec.password));
    spec.use_shared_secret = t->use_short_term_credentials && t->shared_secret_len > 0;
    unseal(api, t->id, "sharedSecret", t->shared_secret, t->shared_secret_len, spec.shared_secret,
           sizeof(spec.shared_secret));
    (void)turn_prober_set(api->prober, &spec);
    OPENSSL_cleanse(&spec, sizeof(spec));
}

static int probe_one(const struct store_turn *t, void *userdata)
{
    api_turn_probe(userdata, t);
    return 0;
}

int api_turn_probe_all(const struct api *api, struct store *st)
{
    return store_turn_foreach(st, probe_one, (void *)(uintptr_t)api);
}

int api_wait(const struct api *api, const char *wait_id, int64_t until_us,
             void (*resume)(void *ctx), void *ctx)
{
    if (!api->prober)
        return -ENOENT;
    return turn_prober_wait(api->prober, wait_id, until_us, resume, ctx);
}
