/* scripts/bench/minimal.c: the baseline for `make bench`. A libmicrohttpd HTTPS server with the
 * same TLS priorities, thread pool and event loop as callbridged (poll; MODE picks another one to
 * compare: epoll or select), answering every request with a fixed XML body read from a file
 * (callbridged's own answer, captured by bench.sh).
 * Usage: bench-minimal CERT KEY BODY_FILE THREADS [MODE]   (listens on 127.0.0.1, a free port,
 * printed as "listening on port N"; stops on SIGTERM or SIGINT). */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        exit(1);
    data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    data[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return data;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_len, void **req_cls)
{
    struct MHD_Response *resp = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)data;
    (void)data_len;
    if (!*req_cls) {
        *req_cls = conn;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct MHD_Response *resp;
    struct MHD_Daemon *d;
    size_t len, cert_len, key_len, body_len;
    char *cert, *key, *body;
    unsigned loop = MHD_USE_POLL;
    sigset_t set;
    int sig;

    if (argc != 5 && argc != 6)
        return 2;
    if (argc == 6 && strcmp(argv[5], "epoll") == 0)
        loop = MHD_USE_EPOLL;
    else if (argc == 6 && strcmp(argv[5], "select") == 0)
        loop = 0;
    else if (argc == 6 && strcmp(argv[5], "poll") != 0)
        return 2;
    cert = slurp(argv[1], &cert_len);
    key = slurp(argv[2], &key_len);
    body = slurp(argv[3], &body_len);
    len = body_len;
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/xml");
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | loop | MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0,
        NULL, NULL, answer, resp, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[4]), MHD_OPTION_CONNECTION_LIMIT, 1000u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_END);
    if (!d)
        return 1;
    printf("listening on port %u\n", MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    (void)sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(resp);
    free(body);
    free(cert);
    free(key);
    return 0;
}
