/* api/res/templates.c: coSpace templates (/coSpaceTemplates) and their access method templates
 * (/coSpaceTemplates/<id>/accessMethodTemplates), from CMS 2.9.
 *
 * DESIGN: a template is what a user's coSpaces are created from; users are filled by LDAP, which
 * callbridge does not have yet, so templates are kept, validated and shown, and nothing creates a
 * space from one until LDAP comes (docs/api.md says so). A uriGenerator is checked as CMS
 * describes it: letters, digits, '.', '-', '_' and exactly one '$' (the user's part). */
#include <errno.h>
#include <string.h>

#include "api/res/resource.h"
#include "api/xml.h"

/* A list item has the profiles but not the description (apiary.apib:2076). */
static const struct api_field template_fields[] = {
    {.param = "name", .col = STORE_TEMPLATE_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "description", .col = STORE_TEMPLATE_DESCRIPTION, .kind = AK_TEXT},
    {.param = "callProfile", .col = STORE_TEMPLATE_CALL_PROFILE, .kind = AK_ID, .flags = AF_LIST},
    {.param = "callLegProfile", .col = STORE_TEMPLATE_LEG_PROFILE, .kind = AK_ID, .flags = AF_LIST},
    {.param = "dialInSecurityProfile",
     .col = STORE_TEMPLATE_DIAL_IN,
     .kind = AK_ID,
     .flags = AF_LIST},
};

static const struct api_filter name_filter[] = {{.param = "filter"}};

/* numAccessMethodTemplates, in a list item and in the object (apiary.apib:2032, 2076). */
static int show(struct store *st, const struct store_row *row, bool list, struct api_xml *x)
{
    struct store_query q = {.nconds = 1};
    size_t n = 0;
    int r;

    (void)list;
    q.conds[0] = (struct store_cond){"parent", row->v[STORE_COL_ID]};
    r = store_row_count(st, &store_table_access_method_template, &q, &n);
    if (r == 0)
        api_xml_int(x, "numAccessMethodTemplates", (int64_t)n);
    return r;
}

const struct api_resource api_res_cospace_templates = {
    .collection = "coSpaceTemplates",
    .element = "coSpaceTemplate",
    .missing = "coSpaceTemplateDoesNotExist",
    .table = &store_table_cospace_template,
    .fields = template_fields,
    .nfields = sizeof(template_fields) / sizeof(template_fields[0]),
    .filters = name_filter,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
    .show = show,
};

static const struct api_field amt_fields[] = {
    {.param = "name", .col = STORE_AMT_NAME, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "uriGenerator", .col = STORE_AMT_URI_GENERATOR, .kind = AK_TEXT, .flags = AF_LIST},
    {.param = "callLegProfile", .col = STORE_AMT_LEG_PROFILE, .kind = AK_ID},
    {.param = "generateUniqueCallId",
     .col = STORE_AMT_UNIQUE_CALL_ID,
     .kind = AK_BOOL,
     .flags = AF_LIST,
     .dflt = "0"},
    {.param = "dialInSecurityProfile", .col = STORE_AMT_DIAL_IN, .kind = AK_ID},
};

/* CMS: 'a'-'z', 'A'-'Z', '0'-'9', '.', '-', '_' and '$', with exactly one '$' when not empty. */
static bool uri_generator_valid(const char *v)
{
    size_t dollars = 0;

    for (const char *p = v; *p; p++) {
        if (*p == '$')
            dollars++;
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || strchr(".-_", *p)))
            return false;
    }
    return dollars == 1;
}

static int amt_check(const struct api *api, struct store *st, const struct api_request *req,
                     const struct api_resource *res, struct store_row *row, bool create,
                     struct api_reply *reply)
{
    const char *g = row->v[STORE_AMT_URI_GENERATOR];

    (void)api;
    (void)st;
    (void)req;
    (void)res;
    (void)create;
    if (g && !uri_generator_valid(g)) {
        api_reply_param_error(reply, "uriGenerator", "invalidValue");
        return -EINVAL;
    }
    return 0;
}

const struct api_resource api_res_access_method_templates = {
    .collection = "accessMethodTemplates",
    .element = "accessMethodTemplate",
    .missing = "coSpaceAccessMethodTemplateDoesNotExist",
    .table = &store_table_access_method_template,
    .fields = amt_fields,
    .nfields = sizeof(amt_fields) / sizeof(amt_fields[0]),
    .filters = name_filter,
    .nfilters = 1,
    .page_default = API_PAGE_DEFAULT,
    .check = amt_check,
    .parent = &api_res_cospace_templates,
    .parent_col = STORE_AMT_TEMPLATE,
};
