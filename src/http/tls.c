/*
 * tls.c — reading and checking the HTTPS certificate and key (tls.h).
 *
 * The checks use OpenSSL's PEM readers (libcrypto is linked for the Hex
 * signatures already); libmicrohttpd then hands the same bytes to GnuTLS.
 * Reading a key needs no password: an encrypted key is refused here, since a
 * server that restarts unattended has nobody to type one.
 */
#include "tls.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "../lib/xalloc.h"

#define PEM_MAX (1u << 20)

int tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

/* The whole file into *out (NUL-terminated, malloc'd). 0, or -1 with e filled. */
static int slurp(const char *opt, const char *path, char **out, derr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return derr_set(e, 400, "config", "--%s %.120s: cannot read it: %s", opt, path, strerror(errno));
    size_t cap = 8192, n = 0;
    char *b = xmalloc(cap);
    for (;;) {
        if (n > PEM_MAX) {
            sodium_memzero(b, n);
            free(b);
            fclose(f);
            return derr_set(e, 400, "config", "--%s %.120s: larger than 1 MiB, not a PEM file", opt, path);
        }
        if (n + 1 == cap) {
            cap *= 2;
            b = xrealloc(b, cap);
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        sodium_memzero(b, n);
        free(b);
        return derr_set(e, 400, "config", "--%s %.120s: cannot read it", opt, path);
    }
    b[n] = '\0';
    *out = b;
    return 0;
}

/* Refuses to ask for a password (an encrypted key fails to load instead of blocking on a tty). */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    return 0;
}

int tls_load(const char *cert_path, const char *key_path, tls_pem *out, derr *e)
{
    memset(out, 0, sizeof *out);
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *bio = NULL;
    int rc = -1;
    if (slurp("tls-cert", cert_path, &out->cert, e) < 0 || slurp("tls-key", key_path, &out->key, e) < 0)
        goto out;
    bio = BIO_new_mem_buf(out->cert, -1);
    x = bio ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;
    BIO_free(bio);
    if (!x) {
        derr_set(e, 400, "config", "--tls-cert %.120s: no PEM certificate in it", cert_path);
        goto out;
    }
    bio = BIO_new_mem_buf(out->key, -1);
    k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
    BIO_free(bio);
    if (!k) {
        derr_set(e, 400, "config", "--tls-key %.120s: no unencrypted PEM private key in it", key_path);
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        derr_set(e, 400, "config", "--tls-key %.100s is not the key of the certificate in --tls-cert %.100s",
                 key_path, cert_path);
        goto out;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        log_warn("the TLS certificate has expired: clients will refuse it", "file", cert_path, NULL);
    rc = 0;
out:
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    if (rc < 0)
        tls_pem_free(out);
    return rc;
}

void tls_pem_free(tls_pem *p)
{
    if (!p)
        return;
    if (p->key) {
        sodium_memzero(p->key, strlen(p->key));
        free(p->key);
    }
    free(p->cert);
    p->cert = p->key = NULL;
}
