/* scripts/bench/cospaces.c: coSpaces and call matching at scale, against a running callbridged.
 * Usage: bench-cospaces URL PASSWORD CACERT DBFILE DAEMON_PID SPACES RULES
 * Creates RULES inbound dial plan rules and SPACES coSpaces through the API (4 threads, each
 * one keep-alive HTTPS connection), then measures, one request at a time: GET
 * coSpaces?filter=<callId> and GET callMatching, and the same filter as a direct SQLite query on
 * DBFILE (the API's overhead as a ratio); filters under 3 characters (no index serves them);
 * then the database size and the daemon's RSS. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *base, *password, *cacert;
static int spaces, rules;
static atomic_int busy; /* 503 answers, each retried as CMS clients do */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static CURL *handle(void)
{
    CURL *c = curl_easy_init();

    curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    curl_easy_setopt(c, CURLOPT_USERNAME, "admin");
    curl_easy_setopt(c, CURLOPT_PASSWORD, password);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    return c;
}

/* One request; returns the HTTP status (0 on a transport error). A 503 ("busy, retry later":
 * the store's lock was held longer than its busy timeout) is counted and retried, at most 5
 * times, 100 ms apart, as CMS clients do. */
static long request(CURL *c, const char *path, const char *form)
{
    char url[512];
    long status = 0;
    CURLcode rc = CURLE_OK;

    snprintf(url, sizeof(url), "%s%s", base, path);
    for (int attempt = 0; attempt < 6; attempt++) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        if (form)
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
        else
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        status = 0;
        rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status != 503)
            break;
        atomic_fetch_add(&busy, 1);
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    if (status != 200) /* say which, and why: a failure the figures hide is no figure */
        fprintf(stderr, "bench-cospaces: %s %s: %s %ld\n", form ? "POST" : "GET", path,
                rc == CURLE_OK ? "HTTP" : curl_easy_strerror(rc), status);
    return status;
}

struct worker {
    int first, count, failed;
};

static void *create_spaces(void *arg)
{
    struct worker *w = arg;
    CURL *c = handle();
    char form[256];

    for (int i = w->first; i < w->first + w->count; i++) {
        snprintf(form, sizeof(form), "name=Bench+Space+%d&uri=bench.%d&callId=%d", i, i,
                 10000000 + i);
        w->failed += request(c, "/api/v1/coSpaces", form) != 200;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double p99(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return v[(int)(n * 0.99)] * 1e3;
}

/* The API's filter query (callbridge's trigram index, schema/0003), run directly: count, then
 * the first page. */
static double direct(sqlite3 *db, const char *filter)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM cospace WHERE seq IN (SELECT rowid FROM cospace_search WHERE "
        "cospace_search MATCH ?1)",
        "SELECT id, name, uri, secondary_uri, call_id, tenant FROM cospace WHERE seq IN (SELECT "
        "rowid FROM cospace_search WHERE cospace_search MATCH ?1) ORDER BY seq LIMIT 20"};
    char phrase[64];
    double t = now_s();

    snprintf(phrase, sizeof(phrase), "\"%s\"", filter);
    for (int q = 0; q < 2; q++) {
        sqlite3_stmt *st;

        sqlite3_prepare_v2(db, sql[q], -1, &st, NULL);
        sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
    }
    return now_s() - t;
}

/* Filters of 1-2 characters, which the trigram index cannot serve: the first page of 10
 * values not asked before (each reads every row once), then 20 pages of one value at offsets
 * across the table (read from its summary, api/res/scan.c). Prints the median and maximum of each.
 */
static int short_filters(CURL *c)
{
    static const char *const values[] = {"ch", "e1", "23", "99", "ac", "5S", "7", "e", "01", "ze"};
    double first[10], later[20];
    char path[128];
    int failed = 0;

    for (int i = 0; i < 10; i++) {
        double s = now_s();

        snprintf(path, sizeof(path), "/api/v1/coSpaces?filter=%s", values[i]);
        failed += request(c, path, NULL) != 200;
        first[i] = now_s() - s;
    }
    for (int i = 0; i < 20; i++) {
        double s = now_s();

        snprintf(path, sizeof(path), "/api/v1/coSpaces?filter=ch&offset=%d&limit=20",
                 20 + i * (spaces / 20));
        failed += request(c, path, NULL) != 200;
        later[i] = now_s() - s;
    }
    qsort(first, 10, sizeof(first[0]), cmp);
    qsort(later, 20, sizeof(later[0]), cmp);
    printf("cospaces: short filters (under 3 characters, no index): first page of a new value "
           "median %.1f ms, max %.1f ms; a later page median %.1f ms, max %.1f ms\n",
           first[5] * 1e3, first[9] * 1e3, later[10] * 1e3, later[19] * 1e3);
    return failed;
}

int main(int argc, char **argv)
{
    enum { SAMPLES = 200, THREADS = 4 };
    static double api[SAMPLES], match[SAMPLES], sql[SAMPLES];
    struct worker w[THREADS];
    pthread_t t[THREADS];
    char path[256], form[256], line[256];
    struct stat sb;
    long rss = 0, size = 0;
    double t0, create_s;
    int failed = 0;
    sqlite3 *db;
    CURL *c;
    FILE *f;

    if (argc != 8)
        return 2;
    base = argv[1];
    password = argv[2];
    cacert = argv[3];
    spaces = atoi(argv[6]);
    rules = atoi(argv[7]);
    srand(42);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = handle();
    for (int i = 0; i < rules; i++) {
        snprintf(form, sizeof(form), "domain=d%d.bench.example.com&priority=%d", i, i % 10);
        failed += request(c, "/api/v1/inboundDialPlanRules", form) != 200;
    }
    t0 = now_s();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){i * (spaces / THREADS), spaces / THREADS, 0};
        pthread_create(&t[i], NULL, create_spaces, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        failed += w[i].failed;
    }
    create_s = now_s() - t0;
    sqlite3_open_v2(argv[4], &db, SQLITE_OPEN_READONLY, NULL);
    for (int i = 0; i < SAMPLES; i++) {
        char filter[32];
        double s;

        snprintf(filter, sizeof(filter), "%d", 10000000 + rand() % spaces);
        snprintf(path, sizeof(path), "/api/v1/coSpaces?filter=%s", filter);
        s = now_s();
        failed += request(c, path, NULL) != 200;
        api[i] = now_s() - s;
        sql[i] = direct(db, filter);
        snprintf(path, sizeof(path),
                 "/api/v1/callMatching?destination=bench.%d@d%d.bench.example.com", rand() % spaces,
                 rand() % rules);
        s = now_s();
        failed += request(c, path, NULL) != 200;
        match[i] = now_s() - s;
    }
    sqlite3_close(db);
    failed += short_filters(c);
    curl_easy_cleanup(c);
    snprintf(path, sizeof(path), "%s", argv[4]);
    if (stat(path, &sb) == 0)
        size += sb.st_size;
    snprintf(path, sizeof(path), "%s-wal", argv[4]);
    if (stat(path, &sb) == 0)
        size += sb.st_size;
    snprintf(path, sizeof(path), "/proc/%s/status", argv[5]);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld", &rss) == 1)
            break;
    if (f)
        fclose(f);
    {
        double fp = p99(api, SAMPLES), dp = p99(sql, SAMPLES), mp = p99(match, SAMPLES);
        double rate = spaces / create_s;

        printf("cospaces: %d coSpaces created in %.1f s: %.0f per second (target >= 1000: %s)\n",
               spaces, create_s, rate, rate >= 1000 ? "met" : "MISSED");
        printf("cospaces: GET coSpaces?filter=<callId> p99 %.2f ms (target < 20 ms: %s); the "
               "same query on SQLite directly p99 %.2f ms, ratio %.2f\n",
               fp, fp < 20 ? "met" : "MISSED", dp, fp / dp);
        printf("cospaces: callMatching p99 %.2f ms with %d rules (target < 2 ms: %s)\n", mp, rules,
               mp < 2 ? "met" : "MISSED");
        printf("cospaces: database %.1f MB; daemon peak RSS %.1f MB (target < 60 MB: %s); %d "
               "failed requests; %d answers 503 (busy), retried\n",
               size / 1048576.0, rss / 1024.0, rss < 60 * 1024 ? "met" : "MISSED", failed,
               atomic_load(&busy));
    }
    return failed ? 1 : 0;
}
