/*
 * sigv4.h — AWS Signature Version 4, as S3-compatible stores check it: the
 * Authorization header of a request, and the query string of a presigned URL.
 *
 * We sign ourselves rather than through libcurl's CURLOPT_AWS_SIGV4 because
 * presigned URLs (--blob-redirect) need query signing, which libcurl does not
 * do, and one implementation for both is easier to trust than two. It needs
 * nothing but HMAC-SHA-256 and SHA-256 (crypto.h).
 *
 * The caller gives the canonical pieces: the URI path already encoded (S3 keys
 * are encoded once, '/' kept), the query string already sorted and encoded,
 * and the header names in lower case with trimmed values. sigv4_uri_encode
 * makes those pieces.
 */
#ifndef DEPOT_SIGV4_H
#define DEPOT_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The payload hash of a presigned URL, and of a request whose body is not hashed. */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of no bytes: the payload hash of GET, HEAD and DELETE. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct sigv4_params {
    const char *access_key;
    const char *secret_key;
    const char *region;   /* "us-east-1" */
    const char *service;  /* "s3" */
    const char *amz_date; /* the request's time, "20130524T000000Z" (UTC) */
} sigv4_params;

typedef struct sigv4_header {
    const char *name;  /* lower case */
    const char *value; /* trimmed */
} sigv4_header;

/* Appends s to out, percent-encoding every byte but the unreserved ones
 * (A-Z a-z 0-9 - . _ ~), and '/' too when keep_slash. Returns 0, or -1 when
 * out's cap is reached. */
int sigv4_uri_encode(buf *out, const char *s, bool keep_slash);

/* "YYYYMMDDTHHMMSSZ" of a unix time, into out (at least 17 bytes). */
void sigv4_amz_date(long long unix_time, char out[17]);

/* Appends to out the value of the Authorization header for a request signed
 * with every header given (at least host, x-amz-date and x-amz-content-sha256;
 * any order, no duplicates). uri is the encoded path ("/bucket/key"), query
 * the canonical query ("" when none), payload_hash the hex SHA-256 of the body
 * or SIGV4_UNSIGNED_PAYLOAD. Returns 0, or -1 when out's cap is reached. */
int sigv4_authorization(buf *out, const sigv4_params *p, const char *method, const char *uri,
                        const char *query, const sigv4_header *headers, size_t nheaders,
                        const char *payload_hash);

/* Appends to out the query string of a presigned URL (no leading '?'): the
 * X-Amz-* parameters in canonical order, then X-Amz-Signature. Only the host
 * header is signed and the payload is UNSIGNED-PAYLOAD, as S3 expects of a URL
 * a browser or package client follows. session_token may be NULL. Returns 0,
 * or -1 when out's cap is reached. */
int sigv4_presign(buf *out, const sigv4_params *p, const char *method, const char *uri, const char *host,
                  long expires, const char *session_token);

#endif
