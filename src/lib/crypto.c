/*
 * crypto.c — the registry's cryptography, all on libsodium: SHA-256 (one-shot
 * and incremental), HMAC-SHA-256, hex and base64 codecs, random bytes,
 * constant-time comparison and Argon2id password hashing.
 *
 * Decoders are strict: they accept exactly one spelling of each value (no
 * whitespace, no missing or extra padding, no stray bits in the last
 * character), so that two different strings never decode to the same bytes.
 * The Argon2id cost is process-wide: set once at start (or low in tests) with
 * password_set_cost().
 */
#include "crypto.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((sha256_ctx *)0)->opaque),
              "sha256_ctx.opaque is too small for libsodium's SHA-256 state");
static_assert(_Alignof(crypto_hash_sha256_state) <= _Alignof(sha256_ctx),
              "sha256_ctx is not aligned enough for libsodium's SHA-256 state");
static_assert(crypto_pwhash_STRBYTES <= 128, "password_hash's out[128] is too small");

/* Returns 0, or -1 when libsodium cannot start (no entropy source). Calling it again is fine. */
int crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

static crypto_hash_sha256_state *sha_state(sha256_ctx *c)
{
    return (crypto_hash_sha256_state *)(void *)c->opaque;
}

void sha256_init(sha256_ctx *c)
{
    crypto_hash_sha256_init(sha_state(c));
}

void sha256_update(sha256_ctx *c, const void *p, size_t n)
{
    if (n)
        crypto_hash_sha256_update(sha_state(c), p, n);
}

/* Writes the digest and wipes the state; the context must be re-initialised to be reused. */
void sha256_final(sha256_ctx *c, unsigned char out[32])
{
    crypto_hash_sha256_final(sha_state(c), out);
    sodium_memzero(c, sizeof *c);
}

void sha256(const void *p, size_t n, unsigned char out[32])
{
    static const unsigned char empty[1];
    crypto_hash_sha256(out, n ? p : empty, n);
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

static int hex_digit(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (!isxdigit(c))
        return -1;
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Either case is accepted; an odd length, a non-hex character or too small an
 * output gives -1 (and *outlen is then left alone). */
int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *outlen)
{
    if (inlen % 2 != 0 || inlen / 2 > outcap)
        return -1;
    for (size_t i = 0; i < inlen; i += 2) {
        int hi = hex_digit(in[i]), lo = hex_digit(in[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    if (outlen)
        *outlen = inlen / 2;
    return 0;
}

void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    sha256(p, n, d);
    hex_encode(d, sizeof d, out);
}

static char *b64_encode_variant(arena *a, const void *p, size_t n, int variant)
{
    size_t cap = sodium_base64_encoded_len(n, variant);
    char *s = arena_alloc(a, cap);
    static const unsigned char empty[1];
    sodium_bin2base64(s, cap, n ? p : empty, n, variant);
    return s;
}

/* With ignore and b64_end both NULL, sodium_base642bin fails unless it used
 * every character, refuses non-zero bits left over in the last character and,
 * in the padded variant, requires exactly the right padding. */
static int b64_decode_variant(arena *a, const char *s, size_t len, unsigned char **out,
                              size_t *outlen, int variant)
{
    size_t cap = len / 4 * 3 + 3;
    unsigned char *bin = arena_alloc(a, cap);
    size_t n = 0;
    if (len == 0) {
        bin[0] = 0;
    } else if (sodium_base642bin(bin, cap, s, len, NULL, &n, NULL, variant) != 0) {
        return -1;
    }
    *out = bin;
    *outlen = n;
    return 0;
}

char *b64_encode(arena *a, const void *p, size_t n)
{
    return b64_encode_variant(a, p, n, sodium_base64_VARIANT_ORIGINAL);
}

char *b64url_encode(arena *a, const void *p, size_t n)
{
    return b64_encode_variant(a, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int b64_decode(arena *a, const char *s, size_t len, unsigned char **out, size_t *outlen)
{
    return b64_decode_variant(a, s, len, out, outlen, sodium_base64_VARIANT_ORIGINAL);
}

int b64url_decode(arena *a, const char *s, size_t len, unsigned char **out, size_t *outlen)
{
    return b64_decode_variant(a, s, len, out, outlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void random_bytes(void *p, size_t n)
{
    if (n)
        randombytes_buf(p, n);
}

/* sodium_memcmp only compares equal lengths. When they differ the answer is
 * already false, but we still walk alen bytes so the time taken depends on
 * the lengths alone, never on where the contents first differ. */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen) {
        volatile int sink = sodium_memcmp(a, a, alen);
        (void)sink;
        return false;
    }
    return sodium_memcmp(a, b, alen) == 0;
}

static _Atomic unsigned long long pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static _Atomic size_t pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void password_set_cost(unsigned long long ops, size_t mem)
{
    atomic_store(&pw_ops, ops ? ops : crypto_pwhash_OPSLIMIT_INTERACTIVE);
    atomic_store(&pw_mem, mem ? mem : crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

/* Returns 0, or -1 when libsodium refuses (the memory cost cannot be allocated,
 * or the cost is out of Argon2id's range). */
int password_hash(const char *pw, size_t len, char out[128])
{
    if (!pw && len) {
        out[0] = '\0';
        return -1;
    }
    if (crypto_pwhash_str_alg(out, pw ? pw : "", len, atomic_load(&pw_ops), atomic_load(&pw_mem),
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* The cost is read from the encoded string itself, so hashes made at an older
 * cost still verify. A NULL or malformed encoding is simply false. */
bool password_verify(const char *encoded, const char *pw, size_t len)
{
    if (!encoded || !pw)
        return false;
    return crypto_pwhash_str_verify(encoded, pw, len) == 0;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[128];

static void dummy_hash_make(void)
{
    static const char pw[] = "depot-dummy-password";
    if (password_hash(pw, sizeof pw - 1, dummy_hash) != 0)
        dummy_hash[0] = '\0';
}

/* The dummy hash is made once, at the cost in force on the first call. */
void password_dummy_verify(const char *pw, size_t len)
{
    pthread_once(&dummy_once, dummy_hash_make);
    if (dummy_hash[0]) {
        volatile int sink = crypto_pwhash_str_verify(dummy_hash, pw ? pw : "", pw ? len : 0);
        (void)sink;
    }
}

void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, unsigned char out[32])
{
    static const unsigned char empty[1];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, keylen ? key : empty, keylen);
    if (n)
        crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}
