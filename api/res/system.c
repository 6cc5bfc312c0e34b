/* api/res/system.c: GET /api/v1/system/status, which CMS clients read on connect (PsCms
 * New-CmsSession fails without <status>; Mividas reads softwareVersion). */
#include <errno.h>

#include "api/api.h"
#include "api/reply.h"
#include "api/res/registry.h"
#include "api/res/system.h"
#include "api/util.h"
#include "api/xml.h"

void api_res_system_status(const struct api *api, const struct api_request *req,
                           struct api_reply *reply)
{
    struct api_xml *x = api_reply_xml_new(reply);

    (void)req;
    if (!x)
        return;
    api_xml_start(x, "status");
    api_xml_text(x, "softwareVersion", API_VERSION);
    api_xml_int(x, "uptimeSeconds", (api_now_us() - api->started_us) / 1000000);
    api_xml_bool(x, "activated", true);
    api_xml_bool(x, "clusterEnabled", false);
    {
        size_t calls = 0, active = 0, max = 0;

        if (api->calls)
            api_calls_counts(api->calls, &calls, &active, &max);
        api_xml_int(x, "callLegsActive", (int64_t)active);
        api_xml_int(x, "callLegsMaxActive", (int64_t)max);
    }
    api_xml_end(x);
    api_reply_xml(reply, x);
}
