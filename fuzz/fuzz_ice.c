/* fuzz/fuzz_ice.c: the ICE-lite agent (turnclient/ice.c) on arbitrary datagrams from an IPv4
 * and an IPv6 peer, with fixed credentials, before and after the remote ufrag is known.
 * Nothing may read outside the input or the reply buffer, and a reply must fit what it says. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "turnclient/turnclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ice_lite ice;
    struct sockaddr_in p4 = {.sin_family = AF_INET, .sin_port = htons(59429)};
    struct sockaddr_in6 p6 = {.sin6_family = AF_INET6, .sin6_port = htons(50001)};
    uint8_t out[256];
    size_t n = 0;

    memset(&ice, 0, sizeof(ice));
    strcpy(ice.local_ufrag, "Qk7dWm2x");
    strcpy(ice.local_pwd, "VOkJxbRl1RmTxUk/WvJxBt3z");
    p4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p6.sin6_addr = in6addr_loopback;
    if (ice_lite_on_stun(&ice, data, size, (struct sockaddr *)&p4, 1, out, sizeof(out), &n) !=
            ICE_IGNORE &&
        n > sizeof(out))
        __builtin_trap();
    strcpy(ice.remote_ufrag, "2GBS");
    if (ice_lite_on_stun(&ice, data, size, (struct sockaddr *)&p6, 2, out, sizeof(out), &n) !=
            ICE_IGNORE &&
        n > sizeof(out))
        __builtin_trap();
    return 0;
}
