/* scripts/bench/stall.c: the stalled-handshake part of `make bench`. Opens CONNS TCP connections
 * to 127.0.0.1:PORT, sends each the first byte of a TLS ClientHello and nothing more, holds them
 * for SECONDS, and prints the CPU seconds (user + system, from /proc/PID/stat) that process PID
 * used meanwhile: what clients that send nothing cost the server.
 * Usage: bench-stall PID PORT CONNS SECONDS   (prints "cpu S.SS held N") */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 4096

/* utime + stime of pid in clock ticks, or -1. */
static long long cpu_ticks(const char *pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

int main(int argc, char **argv)
{
    static int fds[MAX_CONNS];
    struct sockaddr_in sin = {.sin_family = AF_INET};
    long long before, after;
    int conns, held = 0;

    if (argc != 5)
        return 2;
    conns = atoi(argv[3]);
    if (conns < 0 || conns > MAX_CONNS)
        return 2;
    sin.sin_port = htons((unsigned short)atoi(argv[2]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
            send(fds[i], "\x16", 1, 0) != 1)
            continue; /* counted as not held */
        held++;
    }
    before = cpu_ticks(argv[1]);
    sleep((unsigned)atoi(argv[4]));
    after = cpu_ticks(argv[1]);
    if (before < 0 || after < 0)
        return 1;
    printf("cpu %.2f held %d\n", (double)(after - before) / (double)sysconf(_SC_CLK_TCK), held);
    for (int i = 0; i < conns; i++)
        if (fds[i] >= 0)
            (void)close(fds[i]);
    return 0;
}
