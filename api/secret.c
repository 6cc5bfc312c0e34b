/* api/secret.c: AES-256-GCM sealing of TURN credentials (OpenSSL EVP).
 * Blob layout: 0x01 | 12-byte random nonce | ciphertext | 16-byte tag. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/secret.h"
#include "api/util.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN 12
#define TAG_LEN 16

/* What the check value seals: any fixed text would do, GCM's tag is what tells the keys apart. */
#define CHECK_AAD "callbridge/secret-check"
#define CHECK_TEXT "secret.key check value"

int api_secret_load(const char *path, struct api_secret *ret_secret)
{
    struct stat sb;
    char *data = NULL;
    size_t len;
    int r;

    r = api_read_file(path, sizeof(ret_secret->key), &data, &len);
    if (r < 0)
        return r == -E2BIG ? -EINVAL : r;
    if (len != sizeof(ret_secret->key)) {
        r = -EINVAL;
        goto out;
    }
    /* others who can read the key can read every TURN secret in a copy of the database; one
     * who owns it (root aside) can change its mode or swap it */
    if (stat(path, &sb) < 0 || (sb.st_mode & 077) != 0 ||
        (sb.st_uid != geteuid() && sb.st_uid != 0)) {
        r = -EPERM;
        goto out;
    }
    memcpy(ret_secret->key, data, sizeof(ret_secret->key));
out:
    OPENSSL_cleanse(data, len);
    free(data);
    return r;
}

int api_secret_create(const char *path, struct api_secret *ret_secret)
{
    struct api_secret s;
    int r;

    if (RAND_bytes(s.key, sizeof(s.key)) != 1)
        return -EIO;
    r = api_write_file(path, s.key, sizeof(s.key), 0600);
    if (r == 0)
        *ret_secret = s;
    OPENSSL_cleanse(&s, sizeof(s));
    return r;
}

long api_secret_check_make(const struct api_secret *s, unsigned char *out, size_t cap)
{
    return api_secret_seal(s, CHECK_AAD, CHECK_TEXT, strlen(CHECK_TEXT), out, cap);
}

bool api_secret_check_matches(const struct api_secret *s, const unsigned char *blob, size_t len)
{
    char plain[sizeof(CHECK_TEXT)];

    return api_secret_open(s, CHECK_AAD, blob, len, plain, sizeof(plain)) ==
               (long)strlen(CHECK_TEXT) &&
           strcmp(plain, CHECK_TEXT) == 0;
}

long api_secret_seal(const struct api_secret *s, const char *aad, const char *plain, size_t len,
                     unsigned char *out, size_t cap)
{
    EVP_CIPHER_CTX *ctx;
    unsigned char *ct = out + 1 + NONCE_LEN;
    int n = 0, fin = 0;
    long r = -EIO;

    if (len > (size_t)INT32_MAX || cap < len + API_SECRET_OVERHEAD)
        return -ENOSPC;
    out[0] = SEAL_VERSION;
    if (RAND_bytes(out + 1, NONCE_LEN) != 1)
        return -EIO;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -EIO;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->key, out + 1) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *)plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n + fin) != 1)
        goto out;
    r = (long)(1 + NONCE_LEN + (size_t)n + (size_t)fin + TAG_LEN);
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}

long api_secret_open(const struct api_secret *s, const char *aad, const unsigned char *in,
                     size_t len, char *out, size_t cap)
{
    EVP_CIPHER_CTX *ctx;
    size_t ct_len;
    int n = 0, fin = 0;
    long r = -EBADMSG;

    if (len < API_SECRET_OVERHEAD || in[0] != SEAL_VERSION)
        return -EBADMSG;
    ct_len = len - API_SECRET_OVERHEAD;
    if (ct_len + 1 > cap)
        return -ENOSPC;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -EIO;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->key, in + 1) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, in + 1 + NONCE_LEN, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            (void *)(uintptr_t)(in + len - TAG_LEN)) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &fin) != 1) {
        OPENSSL_cleanse(out, cap);
        goto out;
    }
    out[n + fin] = '\0';
    r = n + fin;
out:
    EVP_CIPHER_CTX_free(ctx);
    return r;
}
