/* api/http/pbkdf2.c: see pbkdf2.h.
 *
 * OpenSSL 3 deprecates the low-level SHA256_* functions (for the provider interface), but the
 * provider interface has no way to copy a digest state without a heap allocation; these are
 * still in every OpenSSL 3 and use the same assembly (SHA-NI where the CPU has it). The
 * deprecation is silenced in this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/http/pbkdf2.h"

#define BLOCK 64 /* SHA-256's block: HMAC's key length */

/* HMAC's keyed states: SHA-256 after (key ^ ipad) and after (key ^ opad). */
static void hmac_keyed(const void *key, size_t key_len, SHA256_CTX *inner, SHA256_CTX *outer)
{
    unsigned char k[BLOCK] = {0}, pad[BLOCK];

    if (key_len > BLOCK)
        (void)SHA256(key, key_len, k);
    else if (key_len > 0)
        memcpy(k, key, key_len);
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    (void)SHA256_Init(inner);
    (void)SHA256_Update(inner, pad, BLOCK);
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    (void)SHA256_Init(outer);
    (void)SHA256_Update(outer, pad, BLOCK);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
}

/* u = HMAC(key, a || b), from the keyed states. */
static void hmac(const SHA256_CTX *inner, const SHA256_CTX *outer, const void *a, size_t a_len,
                 const void *b, size_t b_len, unsigned char u[SHA256_DIGEST_LENGTH])
{
    SHA256_CTX c = *inner;

    (void)SHA256_Update(&c, a, a_len);
    if (b_len > 0)
        (void)SHA256_Update(&c, b, b_len);
    (void)SHA256_Final(u, &c);
    c = *outer;
    (void)SHA256_Update(&c, u, SHA256_DIGEST_LENGTH);
    (void)SHA256_Final(u, &c);
    OPENSSL_cleanse(&c, sizeof(c));
}

void api_pbkdf2_sha256(const void *password, size_t password_len, const unsigned char *salt,
                       size_t salt_len, unsigned iterations, unsigned char out[API_PBKDF2_LEN])
{
    static const unsigned char block_one[4] = {0, 0, 0, 1}; /* INT(1): the first block */
    unsigned char u[SHA256_DIGEST_LENGTH];
    SHA256_CTX inner, outer;

    hmac_keyed(password, password_len, &inner, &outer);
    hmac(&inner, &outer, salt, salt_len, block_one, sizeof(block_one), u); /* U1 */
    memcpy(out, u, API_PBKDF2_LEN);
    for (unsigned n = 1; n < iterations; n++) { /* U2 .. Uc, each folded in */
        hmac(&inner, &outer, u, sizeof(u), NULL, 0, u);
        for (size_t i = 0; i < API_PBKDF2_LEN; i++)
            out[i] ^= u[i];
    }
    OPENSSL_cleanse(u, sizeof(u));
    OPENSSL_cleanse(&inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
}
