/* tests/test_it_ldap.c: LDAP configuration objects and syncs against a real directory: Debian's
 * slapd, started by the test on a free loopback port with a slapd.conf and an mdb database in a
 * temporary directory, loaded with ldapadd, stopped by its PID. The objects follow the API
 * conventions (required parameters, references, 404 reasons, the password never shown); a sync
 * imports the people as users with the mapped jid and name, each with the coSpace the mapping
 * makes; a second sync after an entry was deleted removes that user and its coSpace; a wrong bind
 * password, a server that is not listening, a coSpace uri that clashes and a missing source end
 * the sync failed with the API reference's reason; a sync that runs cannot be cancelled, one that
 * waits can. On PostgreSQL a sync of 1,100 users leaves the planner statistics current (the
 * server records the ANALYZE with the rows counted), one of three users does not analyze. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers.h"
#include "tests/skip.h"
#include "tests/suites.h"

#define SLAPD "/usr/sbin/slapd"
#define LDAPADD "/usr/bin/ldapadd"
#define BASE "dc=example,dc=com"
#define ROOT_DN "cn=admin," BASE
#define ROOT_PW "Adm1nPw-0815"

struct slapd {
    pid_t pid;
    char dir[64];
    unsigned short port, tls_port; /* ldap://, and ldaps:// when started with tls */
    char cert[96]; /* with tls: its self-signed certificate (CN and SAN 127.0.0.1) */
};

static struct th_daemon d;
static struct slapd ds;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

static bool port_open(unsigned short port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        (void)close(fd);
    return ok;
}

/* A self-signed certificate for 127.0.0.1 and its key in s->dir, made with openssl(1); the TLS
 * lines of slapd.conf that use them into tls (cap bytes). */
static void make_cert(struct slapd *s, char *tls, size_t cap)
{
    char key[96], out[4096];
    const char *argv[] = {"openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "ec",
                          "-pkeyopt",
                          "ec_paramgen_curve:P-256",
                          "-nodes",
                          "-keyout",
                          key,
                          "-out",
                          s->cert,
                          "-days",
                          "1",
                          "-subj",
                          "/CN=127.0.0.1",
                          "-addext",
                          "subjectAltName=IP:127.0.0.1",
                          NULL};
    int rc;

    (void)snprintf(key, sizeof(key), "%s/key.pem", s->dir);
    (void)snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", s->dir);
    rc = th_run("/usr/bin/openssl", argv, NULL, NULL, out, sizeof(out), NULL, 0);
    ck_assert_msg(rc == 0, "openssl: %d %s", rc, out);
    (void)snprintf(tls, cap, "TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", s->cert, key);
}

/* slapd in the foreground (-d 0) with a configuration and database of its own; with tls it
 * also serves ldaps:// on s->tls_port. */
static void slapd_start(struct slapd *s, bool tls)
{
    char conf[4096], path[128], db[96], url[160], tls_conf[256] = "";

    memset(s, 0, sizeof(*s));
    th_tmpdir(s->dir);
    s->port = th_free_port();
    if (tls) {
        s->tls_port = th_free_port();
        make_cert(s, tls_conf, sizeof(tls_conf));
    }
    (void)snprintf(db, sizeof(db), "%s/db", s->dir);
    ck_assert_int_eq(mkdir(db, 0700), 0);
    (void)snprintf(conf, sizeof(conf),
                   "%s"
                   "include /etc/ldap/schema/core.schema\n"
                   "include /etc/ldap/schema/cosine.schema\n"
                   "include /etc/ldap/schema/inetorgperson.schema\n"
                   "modulepath /usr/lib/ldap\n"
                   "moduleload back_mdb\n"
                   "pidfile %s/slapd.pid\n"
                   "database mdb\n"
                   "maxsize 10485760\n"
                   "suffix \"" BASE "\"\n"
                   "rootdn \"" ROOT_DN "\"\n"
                   "rootpw " ROOT_PW "\n"
                   "directory %s\n",
                   tls_conf, s->dir, db);
    (void)snprintf(path, sizeof(path), "%s/slapd.conf", s->dir);
    write_file(path, conf);
    if (tls)
        (void)snprintf(url, sizeof(url), "ldap://127.0.0.1:%u/ ldaps://127.0.0.1:%u/", s->port,
                       s->tls_port);
    else
        (void)snprintf(url, sizeof(url), "ldap://127.0.0.1:%u/", s->port);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        char log[128];
        int fd;

        (void)snprintf(log, sizeof(log), "%s/slapd.log", s->dir);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        execl(SLAPD, "slapd", "-d", "0", "-f", path, "-h", url, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(s->port); i++) { /* at most 10 s */
        int status;

        ck_assert_msg(waitpid(s->pid, &status, WNOHANG) == 0, "slapd exited (see %s)", s->dir);
        usleep(50000);
    }
    ck_assert_msg(port_open(s->port), "slapd did not listen on %u", s->port);
}

static void slapd_stop(struct slapd *s)
{
    int status;

    if (s->pid <= 0)
        return;
    (void)kill(s->pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
        usleep(50000);
    if (waitpid(s->pid, &status, WNOHANG) == 0) {
        (void)kill(s->pid, SIGKILL);
        (void)waitpid(s->pid, &status, 0);
    }
    s->pid = 0;
    th_rmdir(s->dir);
}

/* Runs an OpenLDAP client tool (ldapadd, ldapdelete) as the directory's administrator. */
static void ldap_tool(const struct slapd *s, const char *tool, const char *input, const char *arg)
{
    char url[64], out[4096];
    const char *argv[] = {tool, "-x", "-H", url, "-D", ROOT_DN, "-w", ROOT_PW, arg, NULL};
    int rc;

    (void)snprintf(url, sizeof(url), "ldap://127.0.0.1:%u/", s->port);
    rc = th_run(tool, argv, NULL, input, out, sizeof(out), NULL, 0);
    ck_assert_msg(rc == 0, "%s: %d: %s", tool, rc, out);
}

static const char people[] = "dn: " BASE "\n"
                             "objectClass: dcObject\nobjectClass: organization\no: Example\n"
                             "dc: example\n\n"
                             "dn: ou=people," BASE "\n"
                             "objectClass: organizationalUnit\nou: people\n\n"
                             "dn: uid=alice,ou=people," BASE "\n"
                             "objectClass: inetOrgPerson\nuid: alice\ncn: Alice Liddell\n"
                             "sn: Liddell\nmail: alice@example.com\ntelephoneNumber: 7001\n\n"
                             "dn: uid=bob,ou=people," BASE "\n"
                             "objectClass: inetOrgPerson\nuid: bob\ncn: Bob Builder\n"
                             "sn: Builder\nmail: bob@example.com\ntelephoneNumber: 7002\n\n"
                             "dn: uid=carol,ou=people," BASE "\n"
                             "objectClass: inetOrgPerson\nuid: carol\ncn: Carol Danvers\n"
                             "sn: Danvers\ntelephoneNumber: 7003\n";

static void start(void)
{
    memset(&d, 0, sizeof(d));
    memset(&ds, 0, sizeof(ds));
    th_daemon_start(&d, "0", NULL);
}

static void stop(void)
{
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    th_rmdir(d.dir);
    slapd_stop(&ds);
}

/* A directory with the people; false (skipped) when slapd is not installed. */
static bool directory_up_tls(bool tls)
{
    if (access(SLAPD, X_OK) != 0 || access(LDAPADD, X_OK) != 0) {
        th_skip_missing_dep("slapd and ldap-utils (scripts/install-deps.sh test)");
        return false;
    }
    slapd_start(&ds, tls);
    ldap_tool(&ds, LDAPADD, people, NULL);
    return true;
}

static bool directory_up(void)
{
    return directory_up_tls(false);
}

/* POSTs form to path, asserts 200, returns the new id (static storage: copy it). */
static const char *create(const char *path, const char *form)
{
    static char id[64];
    char body[1024], loc[128];
    long st = th_admin_keep(&d, "POST", path, form, body, sizeof(body), loc);
    const char *slash = strrchr(loc, '/');

    ck_assert_msg(st == 200, "POST %s %s: %ld %s", path, form, st, body);
    ck_assert_ptr_nonnull(slash);
    (void)snprintf(id, sizeof(id), "%s", slash + 1);
    return id;
}

static void expect(const char *method, const char *path, const char *form, long status,
                   const char *needle)
{
    char body[8192];
    long st = th_admin_keep(&d, method, path, form, body, sizeof(body), NULL);

    ck_assert_msg(st == status, "%s %s %s: %ld %s", method, path, form ? form : "", st, body);
    if (needle)
        ck_assert_msg(strstr(body, needle), "%s %s: no %s in %s", method, path, needle, body);
}

/* A server, a mapping and a source for the directory (or for port when not 0), with password;
 * secure: through ldaps:// at the directory's TLS port. */
static void configure_server(unsigned short port, bool secure, const char *password,
                             char source[64])
{
    char form[512], server[64], mapping[64];

    (void)snprintf(form, sizeof(form),
                   "address=127.0.0.1&portnumber=%u&secure=%s&username=cn%%3Dadmin%%2Cdc%%3D"
                   "example%%2Cdc%%3Dcom&password=%s",
                   (unsigned)(port     ? port
                              : secure ? ds.tls_port
                                       : ds.port),
                   secure ? "true" : "false", password);
    (void)snprintf(server, sizeof(server), "%s", create("/api/v1/ldapServers", form));
    (void)snprintf(mapping, sizeof(mapping), "%s",
                   create("/api/v1/ldapMappings",
                          "jidMapping=%24uid%24%40example.com&nameMapping=%24cn%24"
                          "&coSpaceNameMapping=%24cn%24+space&coSpaceUriMapping=%24uid%24.space"
                          "&coSpaceCallIdMapping=%24telephoneNumber%24"
                          "&authenticationIdMapping=%24mail%24"));
    (void)snprintf(form, sizeof(form),
                   "server=%s&mapping=%s&baseDn=ou%%3Dpeople%%2Cdc%%3Dexample%%2Cdc%%3Dcom"
                   "&filter=%%28objectClass%%3DinetOrgPerson%%29",
                   server, mapping);
    (void)snprintf(source, 64, "%s", create("/api/v1/ldapSources", form));
}

static void configure(unsigned short port, const char *password, char source[64])
{
    configure_server(port, false, password, source);
}

/* Starts a sync that stays listed, waits (at most 20 s) until it has finished and returns its
 * state element's text in state and the whole answer in body. */
static void sync_wait(const char *form, char state[32], char *body, size_t cap)
{
    char path[128], id[64];

    (void)snprintf(id, sizeof(id), "%s", create("/api/v1/ldapSyncs", form));
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSyncs/%s", id);
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, cap, NULL), 200);
        th_xml_text(body, "state", state, 32);
        if (strcmp(state, "complete") == 0 || strcmp(state, "failed") == 0)
            return;
        usleep(100000);
    }
    ck_abort_msg("sync %s did not finish: %s", id, body);
}

START_TEST(test_objects_follow_the_api_conventions)
{
    char body[8192], server[64], mapping[64], source[64], path[160], form[512];
    const char *nobody = "00000000-0000-4000-8000-00000000abcd";

    /* servers: required parameters, ranges, the password never shown */
    expect("POST", "/api/v1/ldapServers", "portNumber=389&secure=false", 400,
           "parameter=\"address\"");
    expect("POST", "/api/v1/ldapServers",
           "address=ldap.example.com%2Fx&portNumber=389&secure=false", 400,
           "parameter=\"address\"");
    expect("POST", "/api/v1/ldapServers", "address=ldap.example.com&portNumber=70000&secure=false",
           400, "parameter=\"portNumber\"");
    expect("POST", "/api/v1/ldapServers", "address=ldap.example.com&portNumber=389&secure=maybe",
           400, "parameter=\"secure\"");
    expect("POST", "/api/v1/ldapServers", "address=ldap.example.com&portNumber=389", 400,
           "parameter=\"secure\"");
    (void)snprintf(server, sizeof(server), "%s",
                   create("/api/v1/ldapServers",
                          "address=ldap.example.com&portnumber=636"
                          "&secure=TRUE&username=reader&password=Pw-Kept-9"));
    (void)snprintf(path, sizeof(path), "/api/v1/ldapServers/%s", server);
    expect("GET", path, NULL, 200, "<portNumber>636</portNumber>");
    ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<secure>true</secure>"));
    ck_assert_ptr_nonnull(strstr(body, "<username>reader</username>"));
    ck_assert_ptr_null(strstr(body, "Pw-Kept-9"));
    ck_assert_ptr_null(strstr(body, "password"));
    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/ldapservers", NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<ldapServers total=\"1\">"));
    ck_assert_ptr_null(strstr(body, "Pw-Kept-9"));
    ck_assert_int_eq(th_log_count(&d, "Pw-Kept-9"), 0);
    expect("PUT", path, "portNumber=0", 400, "parameter=\"portNumber\"");
    expect("PUT", path, "portNumber=3268", 200, NULL);
    expect("GET", path, NULL, 200, "<portNumber>3268</portNumber>");
    (void)snprintf(path, sizeof(path), "/api/v1/ldapServers/%s", nobody);
    expect("GET", path, NULL, 404, "<ldapServerDoesNotExist />");

    /* mappings: templates are $attr$ */
    expect("POST", "/api/v1/ldapMappings", "jidMapping=%24uid%40example.com", 400,
           "parameter=\"jidMapping\"");
    (void)snprintf(mapping, sizeof(mapping), "%s",
                   create("/api/v1/ldapMappings", "jidMapping=%24uid%24%40example.com"));
    (void)snprintf(path, sizeof(path), "/api/v1/ldapMappings/%s", mapping);
    expect("GET", path, NULL, 200, "<jidMapping>$uid$@example.com</jidMapping>");
    expect("GET", path, NULL, 200, "<coSpaceSecondaryUriMapping></coSpaceSecondaryUriMapping>");

    /* sources: every reference checked, nothing stored from a refusal */
    (void)snprintf(form, sizeof(form), "server=%s&mapping=%s&baseDn=dc%%3Dexample", nobody,
                   mapping);
    expect("POST", "/api/v1/ldapSources", form, 400, "<ldapServerDoesNotExist />");
    (void)snprintf(form, sizeof(form), "server=%s&mapping=%s&baseDn=dc%%3Dexample", server, nobody);
    expect("POST", "/api/v1/ldapSources", form, 400, "<ldapMappingDoesNotExist />");
    (void)snprintf(form, sizeof(form), "server=%s&mapping=%s&baseDn=dc%%3Dexample&tenant=%s",
                   server, mapping, nobody);
    expect("POST", "/api/v1/ldapSources", form, 400, "<tenantDoesNotExist />");
    (void)snprintf(form, sizeof(form), "server=%s&mapping=%s&baseDn=dc%%3Dexample&userProfile=%s",
                   server, mapping, nobody);
    expect("POST", "/api/v1/ldapSources", form, 400, "<userProfileDoesNotExist />");
    (void)snprintf(form, sizeof(form), "server=%s&mapping=%s", server, mapping);
    expect("POST", "/api/v1/ldapSources", form, 400, "parameter=\"baseDn\"");
    expect("GET", "/api/v1/ldapSources", NULL, 200, "<ldapSources total=\"0\"");
    (void)snprintf(form, sizeof(form),
                   "server=%s&mapping=%s&baseDN=dc%%3Dexample%%2Cdc%%3Dcom"
                   "&nonMemberAccess=false&name=ignored",
                   server, mapping);
    (void)snprintf(source, sizeof(source), "%s", create("/api/v1/ldapSources", form));
    expect("GET", "/api/v1/ldapSources", NULL, 200, "<baseDn>dc=example,dc=com</baseDn>");
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSources/%s", source);
    expect("GET", path, NULL, 200, "<nonMemberAccess>false</nonMemberAccess>");

    /* directory search locations and coSpace template sources */
    expect("POST", "/api/v1/directorySearchLocations", "label=Corp", 400,
           "parameter=\"ldapServer\"");
    (void)snprintf(form, sizeof(form), "ldapServer=%s&label=Corp&firstName=givenName", server);
    (void)snprintf(path, sizeof(path), "/api/v1/directorySearchLocations/%s",
                   create("/api/v1/directorySearchLocations", form));
    expect("GET", path, NULL, 200, "<priority>0</priority>");
    expect("GET", path, NULL, 200, "<firstName>givenName</firstName>");
    (void)snprintf(form, sizeof(form), "coSpaceTemplate=%s&ldapSource=%s", nobody, source);
    expect("POST", "/api/v1/ldapUserCoSpaceTemplateSources", form, 400,
           "<coSpaceTemplateDoesNotExist />");
    (void)snprintf(form, sizeof(form), "ldapSource=%s&filter=%%28cn%%3D*%%29", source);
    (void)snprintf(path, sizeof(path), "/api/v1/ldapUserCoSpaceTemplateSources/%s",
                   create("/api/v1/ldapUserCoSpaceTemplateSources", form));
    expect("GET", path, NULL, 200, "<filter>(cn=*)</filter>");

    /* syncs: unknown ones, no PUT */
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSyncs/%s", nobody);
    expect("GET", path, NULL, 404, "<ldapSyncDoesNotExist />");
    expect("DELETE", path, NULL, 404, "<ldapSyncDoesNotExist />");
    expect("PUT", path, NULL, 405, NULL);

    /* deletes: a source, then its server (CMS names no "in use" refusal) */
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSources/%s", source);
    expect("DELETE", path, NULL, 200, NULL);
    expect("GET", path, NULL, 404, "<ldapSourceDoesNotExist />");
    (void)snprintf(path, sizeof(path), "/api/v1/ldapMappings/%s", mapping);
    expect("DELETE", path, NULL, 200, NULL);
    expect("DELETE", path, NULL, 404, "<ldapMappingDoesNotExist />");
}
END_TEST

START_TEST(test_sync_imports_users_and_removes_the_departed)
{
    char body[16384], state[32], source[64], id[64], path[160];

    if (!directory_up())
        return;
    configure(0, ROOT_PW, source);
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"0\"");
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "complete") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<numUsersImported>3</numUsersImported>"));
    ck_assert_ptr_nonnull(strstr(body, "<numLdapSourcesComplete>1</numLdapSourcesComplete>"));
    if (th_on_pg()) { /* three users are no reason to ANALYZE (a large sync is: below) */
        int64_t n = -1;

        ck_assert_int_eq(th_daemon_sql(&d,
                                       "SELECT count(*) FROM pg_stat_user_tables WHERE "
                                       "relname = 'ldap_user' AND last_analyze IS NOT NULL",
                                       &n),
                         0);
        ck_assert_int_eq(n, 0);
    }

    ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/users", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<users total=\"3\">"), "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<userJid>alice@example.com</userJid>"));
    ck_assert_ptr_nonnull(strstr(body, "<userJid>bob@example.com</userJid>"));
    expect("GET", "/api/v1/users", "", 200, "<userJid>carol@example.com</userJid>");
    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/users?filter=alice", NULL, body, sizeof(body), NULL),
        200);
    ck_assert_msg(strstr(body, "<users total=\"1\">"), "%s", body);
    (void)snprintf(id, sizeof(id), "%.36s", strstr(body, "<user id=\"") + 10);
    (void)snprintf(path, sizeof(path), "/api/v1/users/%s", id);
    expect("GET", path, NULL, 200, "<name>Alice Liddell</name>");
    expect("GET", path, NULL, 200, "<email>alice@example.com</email>");
    expect("GET", path, NULL, 200, "<authenticationId>alice@example.com</authenticationId>");

    /* each user owns the coSpace the mapping makes, and is its member */
    ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/coSpaces?filter=alice.space", NULL, body,
                                   sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<coSpaces total=\"1\">"), "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<name>Alice Liddell space</name>"));
    ck_assert_ptr_nonnull(strstr(body, "<callId>7001</callId>"));
    (void)snprintf(path, sizeof(path), "/api/v1/coSpaces/%.36s",
                   strstr(body, "<coSpace id=\"") + 13);
    expect("DELETE", path, NULL, 400, "<invalidOperation />"); /* it goes with its user */
    (void)snprintf(path, sizeof(path), "/api/v1/users/%s/usercoSpaces", id);
    expect("GET", path, NULL, 200, "<userCoSpaces total=\"1\">");
    (void)snprintf(path, sizeof(path), "/api/v1/users/%s/userCoSpaceTemplates", id);
    expect("GET", path, NULL, 200, "<userCoSpaceTemplates total=\"0\"/>");
    expect("POST", path, "coSpaceTemplate=00000000-0000-4000-8000-00000000abcd", 400,
           "<invalidOperation />");
    (void)snprintf(path, sizeof(path),
                   "/api/v1/users/%s/userCoSpaceTemplates/00000000-0000-4000-8000-00000000abcd",
                   id);
    expect("GET", path, NULL, 404, "<userCoSpaceTemplateDoesNotExist />");
    expect("DELETE", "/api/v1/users", NULL, 405, NULL);
    expect("GET", "/api/v1/coSpaces", NULL, 200, "<coSpaces total=\"3\">");

    /* bob leaves the directory: the next sync removes him and his coSpace, keeps the others */
    ldap_tool(&ds, "/usr/bin/ldapdelete", NULL, "uid=bob,ou=people," BASE);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "complete") == 0, "%s", body);
    ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/users", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<users total=\"2\">"), "%s", body);
    ck_assert_ptr_null(strstr(body, "bob@example.com"));
    expect("GET", "/api/v1/users/", NULL, 200, "<userJid>alice@example.com</userJid>");
    (void)snprintf(path, sizeof(path), "/api/v1/users/%s", id); /* alice kept her id */
    expect("GET", path, NULL, 200, "<name>Alice Liddell</name>");
    expect("GET", "/api/v1/coSpaces", NULL, 200, "<coSpaces total=\"2\">");

    /* a finished sync kept on the list is removed by DELETE; by default it goes by itself */
    ck_assert_int_eq(th_admin_keep(&d, "GET", "/api/v1/ldapSyncs", NULL, body, sizeof(body), NULL),
                     200);
    ck_assert_msg(strstr(body, "<ldapSyncs total=\"2\">"), "%s", body);
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSyncs/%.36s",
                   strstr(body, "<ldapSync id=\"") + 14);
    expect("DELETE", path, NULL, 200, NULL);
    expect("GET", path, NULL, 404, "<ldapSyncDoesNotExist />");
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSyncs/%s",
                   create("/api/v1/ldapSyncs", "ldapSource=" /* empty: every source */));
    for (int i = 0; i < 200 && th_admin_keep(&d, "GET", path, NULL, NULL, 0, NULL) == 200; i++)
        usleep(100000);
    expect("GET", path, NULL, 404, "<ldapSyncDoesNotExist />");
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"2\">");

    /* a mapping that makes no user of any entry (a jidMapping naming an attribute the directory
     * lacks) fails the sync, and removes nobody */
    ck_assert_int_eq(
        th_admin_keep(&d, "GET", "/api/v1/ldapMappings", NULL, body, sizeof(body), NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<ldapMapping id=\""));
    (void)snprintf(path, sizeof(path), "/api/v1/ldapMappings/%.36s",
                   strstr(body, "<ldapMapping id=\"") + 17);
    expect("PUT", path, "jidMapping=%24noSuchAttribute%24%40example.com", 200, NULL);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<failureReason>ldapError</failureReason>"));
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"2\">");
    ck_assert_uint_ge(th_log_count(&d, "none with a jid from the mapping's jidMapping"), 1);
}
END_TEST

START_TEST(test_wrong_bind_password_fails_with_ldap_error)
{
    char body[4096], state[32], source[64];

    if (!directory_up())
        return;
    configure(0, "Wr0ng-Secret-42", source);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<failureReason>ldapError</failureReason>"));
    ck_assert_uint_ge(th_log_count(&d, "Invalid credentials"), 1);
    ck_assert_int_eq(th_log_count(&d, "Wr0ng-Secret-42"), 0);
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"0\"");
}
END_TEST

START_TEST(test_server_not_listening_fails_with_ldap_error)
{
    char body[4096], state[32], source[64];

    configure(th_free_port(), "whatever", source);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<failureReason>ldapError</failureReason>"));
    ck_assert_uint_ge(th_log_count(&d, "Can't contact LDAP server"), 1);
}
END_TEST

START_TEST(test_missing_source_and_clash_are_named)
{
    char body[4096], state[32], source[64];

    sync_wait("removeWhenFinished=false&ldapSource=00000000-0000-4000-8000-00000000abcd", state,
              body, sizeof(body));
    ck_assert_msg(strstr(body, "<failureReason>ldapSourceDoesNotExist</failureReason>"), "%s",
                  body);
    sync_wait("removeWhenFinished=false&tenant=00000000-0000-4000-8000-00000000abcd", state, body,
              sizeof(body));
    ck_assert_msg(strstr(body, "<failureReason>tenantDoesNotExist</failureReason>"), "%s", body);
    if (!directory_up())
        return;
    configure(0, ROOT_PW, source);
    (void)create("/api/v1/coSpaces", "name=Taken&uri=bob.space");
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<failureReason>clashOccurred</failureReason>"));
    /* nothing of the source was written */
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"0\"");
    expect("GET", "/api/v1/coSpaces", NULL, 200, "<coSpaces total=\"1\">");
}
END_TEST

/* A server that accepts connections and never answers, as the source's server, and a sync of it
 * (kept on the list) seen inProgress, its bind waiting: its path into path, the listening
 * socket returned (close it to let the sync fail). */
static int silent_server_sync(char *path, size_t cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    char body[4096], state[32] = "", source[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    configure(ntohs(a.sin_port), "whatever", source);
    (void)snprintf(path, cap, "/api/v1/ldapSyncs/%s",
                   create("/api/v1/ldapSyncs", "removeWhenFinished=false"));
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "inProgress") == 0)
            break;
        usleep(50000);
    }
    ck_assert_str_eq(state, "inProgress");
    return fd;
}

/* A server that accepts connections and never answers keeps a sync inProgress (its bind waits);
 * one started after it stays pending and can be cancelled; the running one cannot. */
START_TEST(test_running_sync_cannot_be_cancelled_a_pending_one_can)
{
    char body[4096], state[32], first[160], second[160];
    int fd;

    fd = silent_server_sync(first, sizeof(first));
    (void)snprintf(second, sizeof(second), "/api/v1/ldapSyncs/%s",
                   create("/api/v1/ldapSyncs", "removeWhenFinished=false"));
    expect("GET", second, NULL, 200, "<state>pending</state>");
    expect("DELETE", first, NULL, 400, "<ldapSyncCannotBeCancelled />");
    expect("DELETE", second, NULL, 200, NULL);
    expect("GET", second, NULL, 404, "<ldapSyncDoesNotExist />");
    (void)close(fd); /* the bind now fails at once */
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "GET", first, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "failed") == 0)
            break;
        usleep(100000);
    }
    ck_assert_msg(strstr(body, "<failureReason>ldapError</failureReason>"), "%s", body);
}
END_TEST

/* tenant= restricts a sync to the sources of that tenant, whose users belong to the tenant. */
START_TEST(test_a_tenant_sync_covers_the_tenants_sources)
{
    char body[8192], state[32], source[64], tenant[64], path[160], form[256], req[128];

    if (!directory_up())
        return;
    (void)snprintf(tenant, sizeof(tenant), "%s", create("/api/v1/tenants", "name=Acme"));
    configure(0, ROOT_PW, source); /* no tenant */
    (void)snprintf(path, sizeof(path), "/api/v1/ldapSources/%s", source);
    (void)snprintf(form, sizeof(form), "tenant=%s", tenant);
    (void)snprintf(req, sizeof(req), "tenant=%s&removeWhenFinished=false", tenant);
    sync_wait(req, state, body, sizeof(body)); /* the tenant has no source yet */
    ck_assert_msg(strcmp(state, "complete") == 0, "%s", body);
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"0\"");
    expect("PUT", path, form, 200, NULL);
    sync_wait(req, state, body, sizeof(body));
    ck_assert_msg(strstr(body, "<numUsersImported>3</numUsersImported>"), "%s", body);
    (void)snprintf(path, sizeof(path), "/api/v1/users?tenantFilter=%s", tenant);
    expect("GET", path, NULL, 200, "<users total=\"3\">");
    (void)snprintf(form, sizeof(form), "<tenant>%s</tenant>", tenant);
    expect("GET", path, NULL, 200, form);
    expect("GET", "/api/v1/users?tenantFilter=00000000-0000-4000-8000-00000000abcd", NULL, 200,
           "<users total=\"0\"");
}
END_TEST

/* secure=true is ldaps://: the server's certificate is checked against the CAs libldap trusts
 * (here LDAPTLS_CACERT, the directory's own certificate, in the daemon's environment); a server
 * whose certificate is not trusted fails with ldapError. */
START_TEST(test_secure_servers_use_ldaps_and_check_the_certificate)
{
    char body[4096], state[32], source[64];

    if (!directory_up_tls(true))
        return;
    configure_server(0, true, ROOT_PW, source);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "failed") == 0, "%s", body); /* an unknown CA */
    ck_assert_ptr_nonnull(strstr(body, "<failureReason>ldapError</failureReason>"));
    ck_assert_uint_ge(th_log_count(&d, "is its certificate trusted"), 1);
    ck_assert_int_eq(th_daemon_stop(&d), 0);
    ck_assert_int_eq(setenv("LDAPTLS_CACERT", ds.cert, 1), 0);
    th_daemon_start(&d, "0", NULL);
    ck_assert_int_eq(unsetenv("LDAPTLS_CACERT"), 0);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "complete") == 0, "%s", body);
    ck_assert_ptr_nonnull(strstr(body, "<numUsersImported>3</numUsersImported>"));
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"3\">");
}
END_TEST

/* More entries than one page (API_LDAP_PAGE, 500) holds: the sync follows the paged results
 * cookie to the end. */
START_TEST(test_a_large_directory_is_read_in_pages)
{
    enum { N = 1100 };
    char body[4096], state[32], form[512], server[64], mapping[64];
    char *ldif = malloc(N * 160 + 128);
    size_t o = 0;

    if (!directory_up()) {
        free(ldif);
        return;
    }
    ck_assert_ptr_nonnull(ldif);
    o += (size_t)sprintf(ldif,
                         "dn: ou=many," BASE "\nobjectClass: organizationalUnit\nou: many\n\n");
    for (int i = 0; i < N; i++)
        o += (size_t)sprintf(ldif + o,
                             "dn: uid=u%04d,ou=many," BASE "\nobjectClass: inetOrgPerson\n"
                             "uid: u%04d\ncn: User %04d\nsn: %04d\n\n",
                             i, i, i, i);
    ldap_tool(&ds, LDAPADD, ldif, NULL);
    free(ldif);
    (void)snprintf(form, sizeof(form),
                   "address=127.0.0.1&portNumber=%u&secure=false&username=cn%%3Dadmin%%2Cdc%%3D"
                   "example%%2Cdc%%3Dcom&password=" ROOT_PW,
                   (unsigned)ds.port);
    (void)snprintf(server, sizeof(server), "%s", create("/api/v1/ldapServers", form));
    (void)snprintf(mapping, sizeof(mapping), "%s",
                   create("/api/v1/ldapMappings", "jidMapping=%24uid%24%40big.example"
                                                  "&nameMapping=%24cn%24"));
    (void)snprintf(form, sizeof(form),
                   "server=%s&mapping=%s&baseDn=ou%%3Dmany%%2C"
                   "dc%%3Dexample%%2Cdc%%3Dcom&filter=%%28uid%%3Du*%%29",
                   server, mapping);
    (void)create("/api/v1/ldapSources", form);
    sync_wait("removeWhenFinished=false", state, body, sizeof(body));
    ck_assert_msg(strcmp(state, "complete") == 0, "%s", body);
    ck_assert_msg(strstr(body, "<numUsersImported>1100</numUsersImported>"), "%s", body);
    expect("GET", "/api/v1/users", NULL, 200, "<users total=\"1100\">");
    expect("GET", "/api/v1/users?filter=u1099", NULL, 200, "<userJid>u1099@big.example</userJid>");
    if (th_on_pg()) { /* 1,100 users created: analyzed in the sync's transaction, rows counted */
        int64_t n = -1;

        ck_assert_int_eq(
            th_daemon_sql(&d,
                          "SELECT CAST(c.reltuples AS BIGINT) FROM "
                          "pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                          "WHERE s.relname = 'ldap_user' AND s.last_analyze IS NOT NULL",
                          &n),
            0);
        ck_assert_int_eq(n, N);
    }
}
END_TEST

/* The list keeps at most 100 syncs: the 101st is refused, nothing stored, until one is deleted. */
START_TEST(test_too_many_syncs_are_refused)
{
    char body[1024], loc[128], first[128] = "";

    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "POST", "/api/v1/ldapSyncs", "removeWhenFinished=false",
                                       body, sizeof(body), loc),
                         200);
        if (!first[0])
            (void)snprintf(first, sizeof(first), "%s", loc);
    }
    expect("POST", "/api/v1/ldapSyncs", NULL, 400, "<tooManyLdapSyncs />");
    expect("GET", "/api/v1/ldapSyncs", NULL, 200, "<ldapSyncs total=\"100\">");
    for (int i = 0; i < 200; i++) { /* the first has finished (no sources: complete) */
        ck_assert_int_eq(th_admin_keep(&d, "GET", first, NULL, body, sizeof(body), NULL), 200);
        if (strstr(body, "<state>complete</state>"))
            break;
        usleep(50000);
    }
    expect("DELETE", first, NULL, 200, NULL);
    expect("POST", "/api/v1/ldapSyncs", NULL, 200, NULL);
}
END_TEST

/* A sync waiting on a server that never answers does not hold the daemon up when it stops, and
 * runs again at the next start. */
START_TEST(test_a_sync_interrupted_by_a_stop_runs_at_the_next_start)
{
    char body[4096], state[32], path[160];
    int fd;

    fd = silent_server_sync(path, sizeof(path));
    ck_assert_int_eq(th_daemon_stop(&d), 0); /* within the helper's bound, well under the 30 s
                                                an LDAP operation may take */
    (void)close(fd);                         /* now the server refuses connections */
    th_daemon_start(&d, "0", NULL);
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(th_admin_keep(&d, "GET", path, NULL, body, sizeof(body), NULL), 200);
        th_xml_text(body, "state", state, sizeof(state));
        if (strcmp(state, "failed") == 0)
            break;
        usleep(100000);
    }
    ck_assert_msg(strstr(body, "<failureReason>ldapError</failureReason>"), "%s", body);
}
END_TEST

Suite *it_ldap_suite(void)
{
    Suite *s = suite_create("it_ldap");
    TCase *tc = tcase_create("ldap");

    tcase_add_checked_fixture(tc, start, stop);
    tcase_set_tags(tc, "net");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_objects_follow_the_api_conventions);
    tcase_add_test(tc, test_sync_imports_users_and_removes_the_departed);
    tcase_add_test(tc, test_wrong_bind_password_fails_with_ldap_error);
    tcase_add_test(tc, test_server_not_listening_fails_with_ldap_error);
    tcase_add_test(tc, test_missing_source_and_clash_are_named);
    tcase_add_test(tc, test_running_sync_cannot_be_cancelled_a_pending_one_can);
    tcase_add_test(tc, test_a_sync_interrupted_by_a_stop_runs_at_the_next_start);
    tcase_add_test(tc, test_a_large_directory_is_read_in_pages);
    tcase_add_test(tc, test_secure_servers_use_ldaps_and_check_the_certificate);
    tcase_add_test(tc, test_a_tenant_sync_covers_the_tenants_sources);
    tcase_add_test(tc, test_too_many_syncs_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
