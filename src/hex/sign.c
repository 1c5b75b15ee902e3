/*
 * sign.c — the Hex repository key (sign.h), over OpenSSL 3.
 *
 * Keys are cached per path in a small list that lives until exit, so a
 * pointer handed out stays valid; the list is guarded by a mutex and only
 * grows when a process is given another path (tests do that).
 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/xalloc.h"
#include "options.h"

struct hex_key {
    EVP_PKEY *pkey;
    char *pem;
    char fingerprint[64];
    char *path;
    struct hex_key *next;
};

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static hex_key *keys;

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends an SSH mpint (length, big-endian magnitude with a 0 byte when the top bit is set). */
static size_t put_mpint(unsigned char *out, const BIGNUM *bn)
{
    int n = BN_num_bytes(bn);
    unsigned char tmp[1024];
    if (n <= 0 || n > (int)sizeof tmp)
        return 0;
    BN_bn2bin(bn, tmp);
    int pad = (tmp[0] & 0x80) != 0;
    put_u32(out, (uint32_t)(n + pad));
    out[4] = 0;
    memcpy(out + 4 + pad, tmp, (size_t)n);
    return 4 + (size_t)pad + (size_t)n;
}

static int finish(hex_key *k, derr *e)
{
    if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA)
        return derr_set(e, 500, "config", "the Hex repository key is not an RSA key");
    if (EVP_PKEY_get_bits(k->pkey) < 2048)
        return derr_set(e, 500, "config", "the Hex repository key has fewer than 2048 bits");
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_PUBKEY(b, k->pkey) != 1) {
        BIO_free(b);
        return derr_set(e, 500, "config", "cannot write the Hex public key");
    }
    char *p;
    long n = BIO_get_mem_data(b, &p);
    k->pem = xmalloc((size_t)n + 1);
    memcpy(k->pem, p, (size_t)n);
    k->pem[n] = '\0';
    BIO_free(b);

    BIGNUM *bn_n = NULL, *bn_e = NULL;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1 ||
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1) {
        BN_free(bn_n);
        BN_free(bn_e);
        return derr_set(e, 500, "config", "cannot read the Hex key's parameters");
    }
    /* The OpenSSH public key blob: string "ssh-rsa", mpint e, mpint n (RFC 4253 §6.6). */
    unsigned char blob[2200];
    size_t w = 0;
    put_u32(blob, 7);
    memcpy(blob + 4, "ssh-rsa", 7);
    w = 11;
    size_t pe = put_mpint(blob + w, bn_e);
    w += pe;
    size_t pn = pe ? put_mpint(blob + w, bn_n) : 0;
    w += pn;
    BN_free(bn_n);
    BN_free(bn_e);
    if (!pe || !pn)
        return derr_set(e, 500, "config", "the Hex key is too large");
    unsigned char sum[32];
    sha256(blob, w, sum);
    arena *a = arena_new(256);
    const char *b64 = b64_encode(a, sum, sizeof sum);
    size_t bl = strlen(b64);
    while (bl && b64[bl - 1] == '=')
        bl--;
    snprintf(k->fingerprint, sizeof k->fingerprint, "SHA256:%.*s", (int)bl, b64);
    arena_free(a);
    return 0;
}

void hex_key_free(hex_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->pem);
    free(k->path);
    free(k);
}

hex_key *hex_key_load(const char *path, derr *e)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        derr_set(e, 500, "config", "cannot read the Hex repository key %s: %s", path, strerror(errno));
        return NULL;
    }
    hex_key *k = xcalloc(1, sizeof *k);
    k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k->pkey) {
        derr_set(e, 500, "config", "%s is not a PEM private key", path);
        hex_key_free(k);
        return NULL;
    }
    if (finish(k, e) < 0) {
        hex_key_free(k);
        return NULL;
    }
    k->path = xstrdup(path);
    return k;
}

/* Makes a new RSA-2048 key at path, unless another process made one first. */
static int generate(const char *path, derr *e)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    if (!pkey)
        return derr_set(e, 500, "config", "cannot generate the Hex repository key");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = f && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    if (f)
        fclose(f);
    else if (fd >= 0)
        close(fd);
    EVP_PKEY_free(pkey);
    if (!ok) {
        unlink(tmp);
        return derr_set(e, 500, "config", "cannot write the Hex repository key");
    }
    /* link() fails when another process made the key first; then theirs is used. */
    if (link(tmp, path) < 0 && errno != EEXIST) {
        int err = errno;
        unlink(tmp);
        return derr_set(e, 500, "config", "cannot create %s: %s", path, strerror(err));
    }
    unlink(tmp);
    log_info("generated the Hex repository key", "path", path, NULL);
    return 0;
}

int hex_key_get(const config *cfg, const hex_key **out, derr *e)
{
    char path[4096];
    const char *key = hex_opts(cfg)->key;
    if (key && key[0])
        snprintf(path, sizeof path, "%s", key);
    else
        snprintf(path, sizeof path, "%s/hex_repo_key.pem", cfg->data);
    pthread_mutex_lock(&keys_lock);
    for (hex_key *k = keys; k; k = k->next)
        if (strcmp(k->path, path) == 0) {
            pthread_mutex_unlock(&keys_lock);
            *out = k;
            return 0;
        }
    int rc = 0;
    if (!(key && key[0]) && access(path, F_OK) != 0)
        rc = generate(path, e);
    hex_key *k = rc == 0 ? hex_key_load(path, e) : NULL;
    if (k) {
        k->next = keys;
        keys = k;
    }
    pthread_mutex_unlock(&keys_lock);
    *out = k;
    return k ? 0 : -1;
}

int hex_sign(const hex_key *k, arena *a, const void *payload, size_t n, unsigned char **sig, size_t *siglen,
             derr *e)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 0;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha512(), NULL, k->pkey) == 1 &&
             EVP_DigestSign(ctx, NULL, &len, payload, n) == 1;
    unsigned char *s = ok ? arena_alloc(a, len) : NULL;
    ok = ok && EVP_DigestSign(ctx, s, &len, payload, n) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return derr_set(e, 500, "internal", "cannot sign the Hex registry");
    *sig = s;
    *siglen = len;
    return 0;
}

const char *hex_key_public_pem(const hex_key *k)
{
    return k->pem;
}

const char *hex_key_fingerprint(const hex_key *k)
{
    return k->fingerprint;
}
