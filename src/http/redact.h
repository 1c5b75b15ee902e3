/*
 * redact.h — request paths as the logs show them, without the secrets some carry.
 *
 * npm's logout names the token it ends in the path (DELETE /npm/-/user/token/<secret>), and a
 * client may send a secret to a path by mistake. Logs are read by more people than the
 * registry's users trust with their tokens, and kept longer, so the access log and the audit log
 * write a request's path through here.
 */
#ifndef DEPOT_REDACT_H
#define DEPOT_REDACT_H

#include "../lib/arena.h"
#include "http.h"

/* What takes a secret's place in a logged path. */
#define REDACTED "[redacted]"

/* url (a raw request target: path and optional query) as logs show it, allocated in a: the query
 * left out; the segment of rt's secret parameter (route.secret_param; rt may be NULL) and every
 * segment shaped like a credential (an API token, a JWT; percent-escaped or not) replaced by
 * REDACTED. */
const char *redact_path(arena *a, const char *url, const route *rt);

#endif
