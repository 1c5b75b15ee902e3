/*
 * json.h — helpers over jansson for reading request documents with clear
 * errors. Each getter checks presence and type and fills a derr naming the
 * field (400 bad_request) when the document is not of the expected shape.
 * Returned strings are borrowed from the json_t and live as long as it.
 */
#ifndef DEPOT_JSON_H
#define DEPOT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Parses a request body that must be a JSON object (depth and size are the caller's limits).
 * Returns a new reference or NULL with e filled (400). */
json_t *json_parse_object(const char *p, size_t n, derr *e);

/* A string field. required: absent → 400; optional: absent or null → *out = NULL, 0. */
int json_str(json_t *obj, const char *key, bool required, const char **out, derr *e);
/* An array of strings; *out is the json array (borrowed) or NULL when absent/optional. */
int json_str_array(json_t *obj, const char *key, bool required, json_t **out, derr *e);

/* Whether arr is an array whose every element is a string (an empty one is). */
bool json_all_strings(const json_t *arr);

/* Adds key: string-or-null to obj. */
void json_set_str(json_t *obj, const char *key, const char *v);
/* Adds key: RFC 3339 time, or null when t == 0. */
void json_set_time(json_t *obj, const char *key, int64_t t);

#endif
