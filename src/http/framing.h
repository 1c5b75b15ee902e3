/*
 * framing.h — whether a request's head frames its body one way only (RFC 9112, sections 5 and 6).
 *
 * A request whose length two parsers could read differently (a proxy in front and this server) is
 * how requests are smuggled: both Content-Length and Transfer-Encoding, several Content-Length
 * fields, a transfer coding other than chunked, whitespace between a field's name and its colon,
 * a folded (obs-fold) line. libmicrohttpd 0.9.75 takes all of them, each its own way, so the
 * server looks at the fields libmicrohttpd hands over before any body is read and refuses the
 * request (400, connection closed).
 */
#ifndef DEPOT_FRAMING_H
#define DEPOT_FRAMING_H

#include <stddef.h>

/* One header field as the HTTP library parsed it, in place in the request's head: the name, a
 * NUL where its colon was, optional whitespace, the value (both borrowed). */
typedef struct http_field {
    const char *name;
    const char *value;
} http_field;

/* NULL when the fields frame the body one way; else why not, a static sentence for the 400. */
const char *framing_problem(const http_field *f, size_t n);

#endif
