/* json.c — typed field access with errors that name the field. */
#include "json.h"

#include <stdint.h>
#include <string.h>

#include "timeutil.h"

json_t *json_parse_object(const char *p, size_t n, derr *e)
{
    json_error_t je;
    if (n == 0) {
        derr_set(e, 400, "bad_request", "the request body is empty; a JSON object was expected");
        return NULL;
    }
    json_t *doc = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        derr_set(e, 400, "bad_request", "malformed JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        derr_set(e, 400, "bad_request", "the request body must be a JSON object");
        return NULL;
    }
    return doc;
}

/* obj[key] into *v: 1; NULL and 0 when it is absent or null, unless required (then 400, -1). */
static int field(json_t *obj, const char *key, bool required, json_t **v, derr *e)
{
    *v = json_object_get(obj, key);
    if (*v && json_is_null(*v))
        *v = NULL;
    if (!*v && required)
        return derr_set(e, 400, "bad_request", "field '%s' is required", key);
    return *v ? 1 : 0;
}

int json_str(json_t *obj, const char *key, bool required, const char **out, derr *e)
{
    json_t *v;
    *out = NULL;
    int rc = field(obj, key, required, &v, e);
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return derr_set(e, 400, "bad_request", "field '%s' must be a string", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return derr_set(e, 400, "bad_request", "field '%s' must not contain NUL", key);
    *out = json_string_value(v);
    return 0;
}

bool json_all_strings(const json_t *arr)
{
    if (!json_is_array(arr))
        return false;
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!json_is_string(json_array_get(arr, i)))
            return false;
    return true;
}

int json_str_array(json_t *obj, const char *key, bool required, json_t **out, derr *e)
{
    json_t *v;
    *out = NULL;
    int rc = field(obj, key, required, &v, e);
    if (rc <= 0)
        return rc;
    if (!json_all_strings(v))
        return derr_set(e, 400, "bad_request", "field '%s' must be an array of strings", key);
    *out = v;
    return 0;
}

void json_set_str(json_t *obj, const char *key, const char *v)
{
    json_object_set_new(obj, key, v ? json_string(v) : json_null());
}

void json_set_time(json_t *obj, const char *key, int64_t t)
{
    if (!t) {
        json_object_set_new(obj, key, json_null());
        return;
    }
    char b[32];
    time_rfc3339(t, b);
    json_object_set_new(obj, key, json_string(b));
}
