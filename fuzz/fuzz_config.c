/* fuzz/fuzz_config.c: callbridged's configuration file parser (api/config.c), given the input
 * as the --config file (a memfd, read through /proc/self/fd). */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1, quiet = -1, err = -1;
    static char path[64], prog[] = "callbridged", opt[] = "--config";
    struct api_config c;
    char *argv[] = {prog, opt, path, NULL};

    if (fd < 0) {
        fd = memfd_create("fuzz-config", 0);
        if (fd < 0)
            return 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        quiet = open("/dev/null", O_WRONLY);
        err = dup(STDERR_FILENO);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    fflush(stderr);
    (void)dup2(quiet, STDERR_FILENO); /* the parser names each problem on stderr: not here */
    (void)api_config_parse(&c, 3, argv);
    fflush(stderr);
    (void)dup2(err, STDERR_FILENO); /* libFuzzer reports there */
    return 0;
}
