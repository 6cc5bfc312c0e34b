/* api/main.c: callbridged's entry point. Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include <string.h>

#include "api/config.h"
#include "api/datadir.h"
#include "api/daemon.h"

int main(int argc, char **argv)
{
    struct api_config c;
    int r = api_config_parse(&c, argc, argv);

    if (r != 0)
        return r > 0 ? 0 : 2;
    if (c.nargs > 0 && strcmp(c.args[0], "backup") == 0)
        return api_datadir_backup_cmd(&c);
    if (c.nargs > 0)
        return api_daemon_user_cmd(&c);
    return api_daemon_run(&c);
}
