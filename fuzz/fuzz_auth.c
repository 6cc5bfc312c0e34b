/* fuzz/fuzz_auth.c: Basic auth header parsing (api/http/auth.c) on arbitrary header values: what it
 * accepts fits its buffers, and a user and password it returns encode back to a header it
 * parses the same way. The password it returns is then hashed (api/http/pbkdf2.c, the user as
 * the salt, 1 to 3 iterations) to the same bytes as OpenSSL's PKCS5_PBKDF2_HMAC. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api.h"
#include "api/http/auth.h"
#include "api/http/pbkdf2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char user[STORE_USER_NAME_MAX + 1], pass[API_PASSWORD_MAX + 1];
    char *header = malloc(size + 1);

    if (!header)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0'; /* MHD gives header values as C strings */
    if (api_auth_parse_basic(header, user, pass) == 0) {
        char plain[sizeof(user) + sizeof(pass) + 1], again[8 + 4 * sizeof(plain) / 3 + 4];
        char user2[sizeof(user)], pass2[sizeof(pass)];
        int n;

        if (strlen(user) > STORE_USER_NAME_MAX || strlen(pass) > API_PASSWORD_MAX)
            __builtin_trap();
        n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);
        memcpy(again, "Basic ", 6);
        EVP_EncodeBlock((unsigned char *)again + 6, (const unsigned char *)plain, n);
        if (api_auth_parse_basic(again, user2, pass2) != 0 || strcmp(user, user2) != 0 ||
            strcmp(pass, pass2) != 0)
            __builtin_trap();
        {
            unsigned char ours[API_PBKDF2_LEN], theirs[API_PBKDF2_LEN];
            unsigned it = 1 + (unsigned)(size % 3);

            api_pbkdf2_sha256(pass, strlen(pass), (const unsigned char *)user, strlen(user), it,
                              ours);
            if (PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), (const unsigned char *)user,
                                  (int)strlen(user), (int)it, EVP_sha256(), sizeof(theirs),
                                  theirs) != 1 ||
                memcmp(ours, theirs, sizeof(ours)) != 0)
                __builtin_trap();
        }
    }
    free(header);
    return 0;
}
