/* api/http/tls.c: first-start certificate. An administrator replaces it with --cert/--key; until
 * then clients use curl -k, or --cacert with this file, which carries the names they connect to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/http/tls.h"
#include "api/util.h"

#define VALID_DAYS 825

static int add_ext(X509 *crt, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -EIO;
    ok = X509_add_ext(crt, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -EIO;
}

static int set_identity(X509 *crt, const char *hostname)
{
    X509_NAME *name = X509_get_subject_name(crt);
    unsigned char serial[16];
    BIGNUM *bn;
    char san[600];
    int r;

    if (RAND_bytes(serial, sizeof(serial)) != 1)
        return -EIO;
    serial[0] &= 0x7f; /* positive */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    r = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) ? 0 : -EIO;
    BN_free(bn);
    if (r < 0)
        return r;
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"callbridge",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1,
                                    -1, 0) ||
        !X509_set_issuer_name(crt, name))
        return -EIO;
    (void)snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
    if (add_ext(crt, NID_subject_alt_name, san) < 0 ||
        add_ext(crt, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(crt, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(crt, NID_ext_key_usage, "serverAuth") < 0)
        return -EIO;
    return 0;
}

/* PEM-encodes through a memory BIO and writes the file atomically with 'mode'. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *crt)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;
    int r = -EIO;

    if (!bio)
        return -ENOMEM;
    if (key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
            : PEM_write_bio_X509(bio, crt)) {
        len = BIO_get_mem_data(bio, &data);
        r = len > 0 ? api_write_file(path, data, (size_t)len, mode) : -EIO;
    }
    BIO_free(bio);
    return r;
}

int api_tls_make_selfsigned(const char *hostname, const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = NULL;
    X509 *crt = NULL;
    int r = -EIO;

    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    crt = X509_new();
    if (!key || !crt)
        goto out;
    if (!X509_set_version(crt, 2) || !X509_gmtime_adj(X509_getm_notBefore(crt), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(crt), 60L * 60 * 24 * VALID_DAYS) ||
        !X509_set_pubkey(crt, key))
        goto out;
    r = set_identity(crt, hostname);
    if (r < 0)
        goto out;
    r = -EIO;
    if (!X509_sign(crt, key, EVP_sha256()))
        goto out;
    r = write_pem(key_path, 0600, key, NULL);
    if (r == 0)
        r = write_pem(cert_path, 0600, NULL, crt); /* clients get a copy; no one else needs it */
out:
    X509_free(crt);
    EVP_PKEY_free(key);
    return r;
}
