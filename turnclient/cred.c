/* turnclient/cred.c: long-term and shared-secret (TURN REST) credentials.
 *
 * DESIGN: the password goes through SASLprep (RFC 4013, through libidn's stringprep) as RFC 5389
 * §15.4 asks and as coturn and Expressway compute it; RFC 8489's OpaqueString gives the same
 * result for the passwords administrators type. The key is recomputed per allocation, never
 * stored, and wiped after use by the caller's stack discipline (OPENSSL_cleanse here). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stringprep.h>

#include "turnclient/cred.h"
#include "turnclient/stun.h"

static int digest3(const EVP_MD *md, const char *a, const uint8_t *b, size_t b_len, const char *c,
                   uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;
    int r = -EIO;

    if (ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, strlen(a)) == 1 &&
        EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, b, b_len) == 1 &&
        (!c || (EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, c, strlen(c)) == 1)) &&
        EVP_DigestFinal_ex(ctx, out, &n) == 1)
        r = (int)n;
    EVP_MD_CTX_free(ctx);
    return r;
}

int turn_cred_long_term_key(const char *username, const uint8_t *realm, size_t realm_len,
                            const char *password, uint16_t algorithm, uint8_t *ret_key)
{
    const EVP_MD *md = algorithm == STUN_PASSWORD_ALGORITHM_MD5      ? EVP_md5()
                       : algorithm == STUN_PASSWORD_ALGORITHM_SHA256 ? EVP_sha256()
                                                                     : NULL;
    char *prepared = NULL;
    int r;

    if (!md)
        return -EINVAL;
    r = stringprep_profile(password, &prepared, "SASLprep", 0);
    if (r != STRINGPREP_OK) {
        free(prepared);
        return r == STRINGPREP_MALLOC_ERROR ? -ENOMEM : -EINVAL;
    }
    r = digest3(md, username, realm, realm_len, prepared, ret_key);
    OPENSSL_cleanse(prepared, strlen(prepared));
    free(prepared);
    return r;
}

int turn_cred_userhash(const char *username, const uint8_t *realm, size_t realm_len,
                       uint8_t *ret_hash)
{
    return digest3(EVP_sha256(), username, realm, realm_len, NULL, ret_hash) == 32 ? 0 : -EIO;
}

int turn_cred_rest(const char *secret, const char *user, int64_t expiry_unix, char *ret_username,
                   size_t ucap, char *ret_password)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    int n;

    n = snprintf(ret_username, ucap, "%lld:%s", (long long)expiry_unix, user);
    if (n < 0 || (size_t)n >= ucap)
        return -ENOSPC;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)ret_username, (size_t)n,
              mac, &mac_len))
        return -EIO;
    (void)EVP_EncodeBlock((uint8_t *)ret_password, mac, (int)mac_len); /* 20 bytes -> 28 chars */
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}
