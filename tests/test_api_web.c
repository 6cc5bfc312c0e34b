/* tests/test_api_web.c: the join page as the daemon embeds it (scripts/web2c.sh, api/http/web.h):
 * each file of web/ is found by its exact base name with its Content-Type and the same bytes as
 * on disk; any other name, a path or a traversal finds nothing; the page loads its script and
 * style from the paths the guest edge serves and nothing from another origin. Run from the repo
 * root (make check-suites), where web/ is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/web.h"
#include "tests/suites.h"

#define WEB_FILE_MAX (1 << 20)

static const struct {
    const char *name;
    const char *type;
} files[] = {
    {"join.html", "text/html; charset=utf-8"},
    {"join.js", "text/javascript; charset=utf-8"},
    {"join.css", "text/css; charset=utf-8"},
};

/* The whole of web/<name> into a malloc'd buffer the caller frees. */
static unsigned char *read_web(const char *name, size_t *ret_len)
{
    char path[256];
    unsigned char *buf = malloc(WEB_FILE_MAX);
    FILE *f;
    size_t n;

    ck_assert_ptr_nonnull(buf);
    snprintf(path, sizeof(path), "web/%s", name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: run from the repository's top directory", path);
    n = fread(buf, 1, WEB_FILE_MAX, f);
    ck_assert_int_lt(n, WEB_FILE_MAX);
    fclose(f);
    *ret_len = n;
    return buf;
}

static int contains(const struct web_file *w, const char *needle)
{
    return memmem(w->data, w->len, needle, strlen(needle)) != NULL;
}

START_TEST(test_web_files_as_on_disk)
{
    const struct web_file *w = web_find(files[_i].name);
    size_t len;
    unsigned char *disk = read_web(files[_i].name, &len);

    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->name, files[_i].name);
    ck_assert_str_eq(w->type, files[_i].type);
    ck_assert_uint_eq(w->len, len);
    ck_assert_int_gt(len, 100);
    ck_assert_mem_eq(w->data, disk, len);
    ck_assert_uint_eq(w->data[w->len], 0); /* the NUL web2c.sh puts after the counted bytes */
    ck_assert_ptr_eq(web_find(files[_i].name), w);
    free(disk);
}
END_TEST

START_TEST(test_web_other_names)
{
    static const char *const names[] = {
        "",
        "join",
        "join.",
        "JOIN.JS",
        "join.js ",
        "join.js/",
        "/join.js",
        "./join.js",
        "../join.js",
        "static/join.js",
        "web/join.js",
        "join.html?x=1",
        "join.js.map",
        "index.html",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(web_find(names[i]) == NULL, "'%s' found", names[i]);
}
END_TEST

/* The page asks the edge for the paths it serves, and nothing from the internet: no CDN, no
 * font service, no analytics, so a guest's browser talks only to the bridge. */
START_TEST(test_web_page_self_contained)
{
    const struct web_file *html = web_find("join.html");

    ck_assert_ptr_nonnull(html);
    ck_assert(contains(html, "src=\"/meeting/static/join.js\""));
    ck_assert(contains(html, "href=\"/meeting/static/join.css\""));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const struct web_file *w = web_find(files[i].name);

        ck_assert_ptr_nonnull(w);
        ck_assert_msg(!contains(w, "http://") && !contains(w, "https://") && !contains(w, "\"//") &&
                          !contains(w, "'//"),
                      "%s names another origin", w->name);
    }
}
END_TEST

Suite *api_web_suite(void)
{
    Suite *s = suite_create("api_web");
    TCase *tc = tcase_create("embedded");

    tcase_add_loop_test(tc, test_web_files_as_on_disk, 0, sizeof(files) / sizeof(files[0]));
    tcase_add_test(tc, test_web_other_names);
    tcase_add_test(tc, test_web_page_self_contained);
    suite_add_tcase(s, tc);
    return s;
}
