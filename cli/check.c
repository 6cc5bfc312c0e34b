/* cli/check.c: `cbctl check turn`, a Nagios/Icinga plugin. It reads the probe status of every
 * address of the TURN servers given (default: all) and prints one status line with perfdata;
 * its exit codes are the plugin's (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), not cbctl's. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct check {
    int state;
    size_t hosts, bad;
    long max_rtt;
    char problems[1024];
    char perf[4096];
};

static void check_problem(struct check *c, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_problem(struct check *c, int state, const char *fmt, ...)
{
    size_t o = strlen(c->problems);
    va_list ap;

    if (state > c->state)
        c->state = state;
    if (o + 3 >= sizeof(c->problems))
        return;
    if (o)
        o += (size_t)snprintf(c->problems + o, sizeof(c->problems) - o, "; ");
    va_start(ap, fmt);
    vsnprintf(c->problems + o, sizeof(c->problems) - o, fmt, ap);
    va_end(ap);
}

/* One address's RTT as perfdata: 'rtt_ADDR:PORT/TRANSPORT'=MSms;WARN;CRIT. */
static void check_perf(const struct cli_opts *o, struct check *c, const char *addr,
                       const char *port, const char *transport, long ms)
{
    size_t po = strlen(c->perf);

    if (po + 200 >= sizeof(c->perf))
        return;
    po += (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, "%s'rtt_%s:%s/%s'=%ldms;",
                           po ? " " : "", addr, port, transport, ms);
    if (o->warn_rtt >= 0)
        po += (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, "%ld", o->warn_rtt);
    po += (size_t)snprintf(c->perf + po, sizeof(c->perf) - po, ";");
    if (o->crit_rtt >= 0)
        snprintf(c->perf + po, sizeof(c->perf) - po, "%ld", o->crit_rtt);
}

/* One <host> of a status: unreachable is CRITICAL, else its RTT against the thresholds. */
static void check_host(const struct cli_opts *o, struct check *c, xmlNodePtr h)
{
    char *addr = cli_child_text(h, "address"), *port = cli_child_text(h, "portNumber");
    char *transport = cli_child_text(h, "transport"), *reach = cli_child_text(h, "reachable");
    char *rtt = cli_child_text(h, "roundTripTimeMs"), *why = cli_child_text(h, "failureReason");
    const char *tr = transport ? transport : "udp";

    c->hosts++;
    if (!reach || strcmp(reach, "true") != 0) {
        c->bad++;
        check_problem(c, CLI_NAGIOS_CRITICAL, "%s:%s/%s %s", addr ? addr : "?", port ? port : "?",
                      tr, why ? why : "unreachable");
    } else if (rtt) {
        long ms = strtol(rtt, NULL, 10);

        if (ms > c->max_rtt)
            c->max_rtt = ms;
        if (o->crit_rtt >= 0 && ms > o->crit_rtt)
            check_problem(c, CLI_NAGIOS_CRITICAL, "%s:%s/%s RTT %ld ms", addr, port, tr, ms);
        else if (o->warn_rtt >= 0 && ms > o->warn_rtt)
            check_problem(c, CLI_NAGIOS_WARNING, "%s:%s/%s RTT %ld ms", addr, port, tr, ms);
        check_perf(o, c, addr, port, tr, ms);
    }
    xmlFree(addr);
    xmlFree(port);
    xmlFree(transport);
    xmlFree(reach);
    xmlFree(rtt);
    xmlFree(why);
}

static void check_server(const struct cli_opts *o, struct check *c, const char *id, int *err)
{
    char path[256];
    xmlDocPtr doc;
    xmlNodePtr root;
    char *reason;

    snprintf(path, sizeof(path), "/api/v1/turnServers/%s/status", id);
    *err = cli_get_doc(o, path, &doc);
    if (*err)
        return;
    root = xmlDocGetRootElement(doc);
    reason = cli_child_text(root, "failureReason");
    if (reason) { /* the server as a whole: dnsFailure */
        check_problem(c, CLI_NAGIOS_CRITICAL, "turnServer %s: %s", id, reason);
        xmlFree(reason);
    }
    for (xmlNodePtr h = root->children; h; h = h->next)
        if (cli_is_element(h) && strcmp((const char *)h->name, "host") == 0)
            check_host(o, c, h);
    xmlFreeDoc(doc);
}

struct check_walk {
    const struct cli_opts *o;
    struct check *c;
    int err;
};

static void check_item(xmlNodePtr e, void *ctx)
{
    struct check_walk *w = ctx;
    xmlChar *id = xmlGetProp(e, (const xmlChar *)"id");

    if (id && !w->err)
        check_server(w->o, w->c, (const char *)id, &w->err);
    xmlFree(id);
}

/* The plugin: ids are the TURN servers to check, none for all of them. */
int cli_cmd_check_turn(struct cli_opts *o, const struct cli_cmd *cmd, char **ids, size_t nids)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    struct check c = {.max_rtt = 0};
    int err = 0;

    (void)cmd;
    if (nids == 0) { /* every TURN server there is */
        struct check_walk w = {o, &c, 0};
        size_t total;

        err = cli_each_item(o, "turnServers", "", CLI_PAGE, false, check_item, &w, &total);
        if (!err)
            err = w.err;
    }
    for (size_t i = 0; i < nids && !err; i++)
        check_server(o, &c, ids[i], &err);
    if (err) { /* the API did not answer, or refused us: cbctl already said why on stderr */
        printf("TURN UNKNOWN - the callbridge API did not give the TURN status (%s)\n",
               err == CLI_EX_CONNECT   ? "no connection"
               : err == CLI_EX_REFUSED ? "refused"
                                       : "error");
        return CLI_NAGIOS_UNKNOWN;
    }
    if (c.hosts == 0 && c.state == CLI_NAGIOS_OK) {
        printf("TURN UNKNOWN - no TURN server addresses to check\n");
        return CLI_NAGIOS_UNKNOWN;
    }
    if (c.state == CLI_NAGIOS_OK)
        printf("TURN OK - %zu of %zu addresses reachable, highest RTT %ld ms", c.hosts - c.bad,
               c.hosts, c.max_rtt);
    else
        printf("TURN %s - %s", names[c.state], c.problems);
    printf("%s%s\n", c.perf[0] ? " | " : "", c.perf);
    return c.state;
}
