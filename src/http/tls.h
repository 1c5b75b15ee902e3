/*
 * tls.h — the certificate and key the server speaks HTTPS with (--tls-cert, --tls-key).
 *
 * libmicrohttpd (built with GnuTLS) does the TLS; this module reads the two PEM
 * files and checks them first, so that a missing, unreadable, malformed or
 * mismatched pair stops the server at start with a sentence naming the file,
 * instead of libmicrohttpd's bare refusal to start.
 */
#ifndef DEPOT_TLS_H
#define DEPOT_TLS_H

#include "../lib/err.h"

typedef struct tls_pem {
    char *cert; /* the certificate file's text (leaf first, then any chain), NUL-terminated */
    char *key;  /* the private key file's text, NUL-terminated */
} tls_pem;

/* True when this libmicrohttpd can serve HTTPS. */
int tls_supported(void);

/* Reads both files (at most 1 MiB each) into out and checks that the certificate and the
 * key parse as PEM and that the key is the certificate's. A certificate past its end date is
 * loaded with a warning in the log. Returns 0 (out owned by the caller: tls_pem_free), or -1
 * with e naming the option, the file and what is wrong. */
int tls_load(const char *cert_path, const char *key_path, tls_pem *out, derr *e);

/* Wipes the key from memory and frees both texts; accepts an empty pem. */
void tls_pem_free(tls_pem *p);

#endif
