/* api/res/transform.h: dial transforms' expressions (CMS API reference, "Dial Transforms"):
 * the pre-processing of a dialled string into components, the match expression that selects a
 * transform and the transform expression that rewrites the string. */
#ifndef API_RES_TRANSFORM_H
#define API_RES_TRANSFORM_H

#include <stddef.h>

/* 0 when the expression is well formed and its regular expressions compile, else -EINVAL. */
int api_transform_check_match(const char *match);
int api_transform_check(const char *transform);

/* Applies one dial transform of type ("raw", "strip" or "phone") to in: 1 when match holds (an
 * empty or NULL match always holds) with the rewritten string in out (cap bytes; an empty or NULL
 * transform leaves the pre-processed string unchanged), 0 when it does not (or in is not a phone
 * number for "phone"), or a negative errno (-EINVAL for a malformed expression, -ENAMETOOLONG). */
int api_transform_apply(const char *type, const char *match, const char *transform, const char *in,
                        char *out, size_t cap);

#endif
