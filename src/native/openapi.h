/*
 * openapi.h — the native API's OpenAPI 3.1 document. src/native/openapi.json
 * is compiled in by scripts/embed-file (build/gen/openapi_json.c) and served
 * at GET /api/v1/openapi.json with its `servers` set to the base URL.
 */
#ifndef DEPOT_OPENAPI_H
#define DEPOT_OPENAPI_H

#include <stddef.h>

/* The document's bytes as written in src/native/openapi.json, NUL-terminated. */
extern const char openapi_json[];
extern const size_t openapi_json_len;

/* The document as a server at base_url serves it: compact JSON whose `servers`
 * is [{"url": base_url}] (left as written when base_url is NULL or empty).
 * malloc'd (free it), its length in *len; NULL when the document does not parse. */
char *openapi_render(const char *base_url, size_t *len);

#endif
