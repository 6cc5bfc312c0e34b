/* fuzz/fuzz_router.c: the router and every handler behind it (api/res/routes.c and the resources)
 * with a real store in a temporary directory. The input is a method byte, a path up to the
 * first newline, then a form body (as MHD hands them over: the path already decoded). Every
 * request must get an answer with a status, and never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/reply.h"
#include "api/res/routes.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct api api;
static char dir[] = "/tmp/cb-fuzz-router-XXXXXX";

/* libFuzzer ends with exit(): the database goes with it */
static void cleanup(void)
{
    static const char *const files[] = {"callbridge.db", "callbridge.db-wal", "callbridge.db-shm"};
    char path[96];

    store_close(st);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

static int setup(void)
{
    char path[96];

    if (!mkdtemp(dir))
        return -1;
    atexit(cleanup);
    snprintf(path, sizeof(path), "%s/callbridge.db", dir);
    if (store_open(path, &st) < 0)
        return -1;
    api.started_us = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum api_method methods[] = {API_GET, API_POST, API_PUT, API_DELETE, API_HEAD};
    struct api_params query = {0}, form = {0};
    struct api_reply reply = {0};
    struct api_request req = {0};
    const uint8_t *nl;
    char *path;

    if (!st && setup() < 0)
        abort();
    if (size < 1)
        return 0;
    req.method = methods[data[0] % 5];
    data++, size--;
    nl = memchr(data, '\n', size);
    path = strndup((const char *)data, nl ? (size_t)(nl - data) : size);
    if (!path)
        return 0;
    if (strlen(path) == 0 || path[0] != '/') { /* MHD only passes absolute paths */
        free(path);
        return 0;
    }
    if (nl && api_params_parse(&form, (const char *)nl + 1, size - (size_t)(nl + 1 - data)) < 0) {
        api_params_done(&form);
        free(path);
        return 0; /* the HTTP layer answers 400 before routing */
    }
    req.path = path;
    req.query = &query;
    req.form = &form;
    req.user = "admin";
    api_route(&api, st, &req, &reply);
    if (reply.status < 200 || reply.status > 599)
        __builtin_trap();
    api_reply_done(&reply);
    api_params_done(&form);
    free(path);
    return 0;
}
