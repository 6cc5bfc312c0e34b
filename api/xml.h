/* api/xml.h: XML answers, built with libxml2 (correct escaping), compact as a real CMS sends
 * them: '<?xml version="1.0"?>' directly followed by the root, no whitespace between elements.
 * The only file that includes libxml2 is api/xml.c. */
#ifndef API_XML_H
#define API_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_xml; /* opaque; one document being written */

/* Returns a new writer, or NULL when out of memory. */
struct api_xml *api_xml_new(void);
/* A writer of a fragment: markup to embed in another document (api_xml_raw), without the
 * declaration, and any number of elements at its top level. */
struct api_xml *api_xml_new_fragment(void);
void api_xml_free(struct api_xml *x); /* NULL is a no-op */

/* Element helpers. Errors are remembered and reported by api_xml_finish(); text must be UTF-8. */
void api_xml_start(struct api_xml *x, const char *name);
void api_xml_attr(struct api_xml *x, const char *name, const char *value);
void api_xml_attr_size(struct api_xml *x, const char *name, size_t value);
void api_xml_end(struct api_xml *x);
void api_xml_text(struct api_xml *x, const char *name, const char *value); /* <name>v</name> */
void api_xml_int(struct api_xml *x, const char *name, int64_t value);
void api_xml_bool(struct api_xml *x, const char *name, bool value);
/* Appends markup a fragment writer made earlier (api_xml_new_fragment; as another node
 * published it: api/cluster.c), unchecked, inside the element open now. */
void api_xml_raw(struct api_xml *x, const char *markup);

/* Closes open elements and hands the document over: *ret_body is malloc()ed (caller frees with
 * free()), NUL-terminated, *ret_len bytes without the NUL. Frees x in every case.
 * Returns 0, -ENOMEM or -EIO. */
int api_xml_finish(struct api_xml *x, char **ret_body, size_t *ret_len);

/* Builds the byte-exact single-line error body CMS clients parse (cms-api.md 1.6):
 *   <?xml version="1.0"?><failureDetails><REASON /></failureDetails>
 * or, with param and error set,
 *   <?xml version="1.0"?><failureDetails><parameterError parameter="P" error="E"
 * /></failureDetails> (REASON is then ignored). Returns 0 or -ENOMEM; *ret_body is malloc()ed. */
int api_xml_failure(const char *reason, const char *param, const char *error, char **ret_body,
                    size_t *ret_len);

#endif
