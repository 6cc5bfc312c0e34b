/* api/daemon.h: what main() does, split out so that main.c stays a few lines. */
#ifndef API_DAEMON_H
#define API_DAEMON_H

#include "api/config.h"

/* Runs the daemon until SIGTERM or SIGINT. Returns the process exit code (0 after a clean stop). */
int api_daemon_run(const struct api_config *c);
/* Runs "user add|passwd|delete NAME" or "user list" (c->args). Returns the exit code. */
int api_daemon_user_cmd(const struct api_config *c);

#endif
