/* api/util.c: file, id, clock and base64 helpers for the api module. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/util.h"

int api_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
    char *data = NULL;
    size_t len = 0;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    data = malloc(max + 1);
    if (!data) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, data + len, max + 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            r = -E2BIG;
            goto out;
        }
    }
    data[len] = '\0';
    *ret_data = data;
    *ret_len = len;
    data = NULL;
    r = 0;
out:
    free(data);
    close(fd);
    return r;
}

int api_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[4096];
    size_t done = 0;
    int fd, r = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, mode) < 0)
        r = -errno;
    while (r == 0 && done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);

        if (n < 0 && errno != EINTR)
            r = -errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r;
}

int api_uuid_new(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    (void)snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                   b[13], b[14], b[15]);
    return 0;
}

int64_t api_now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void api_b64_encode(const unsigned char *in, size_t len, char *out)
{
    (void)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

long api_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    unsigned char *tmp;
    size_t pad = 0;
    int n;

    if (len % 4 != 0 || len / 4 * 3 > cap + 2)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || (c == '=' && i >= len - 2);

        if (!ok || (pad && c != '='))
            return -EINVAL;
        if (c == '=')
            pad++;
    }
    tmp = malloc(len / 4 * 3 + 1);
    if (!tmp)
        return -ENOMEM;
    n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0 || (size_t)n - pad > cap) {
        free(tmp);
        return -EINVAL;
    }
    memcpy(out, tmp, (size_t)n - pad);
    free(tmp);
    return (long)((size_t)n - pad);
}

int api_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return -EIO;
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}
