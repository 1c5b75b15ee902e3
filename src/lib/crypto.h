/*
 * crypto.h — small wrappers over libsodium and OpenSSL for what the registry
 * needs: SHA-256, random secrets, encodings, constant-time comparison and
 * password hashing. Call crypto_init() once at start (it initialises
 * libsodium); every other function is thread-safe after that.
 */
#ifndef DEPOT_CRYPTO_H
#define DEPOT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

int crypto_init(void);

/* Incremental SHA-256. The context is plain memory the caller owns (on the
 * stack or in a struct); it holds libsodium's state, so it is aligned for it. */
typedef struct sha256_ctx {
    _Alignas(16) unsigned char opaque[128]; /* big enough for crypto_hash_sha256_state */
} sha256_ctx;
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *p, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
void sha256(const void *p, size_t n, unsigned char out[32]);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Decodes 2n hex chars into n bytes; returns 0, or -1 on a bad character/length. */
int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *outlen);
/* sha256 of p as 64 hex chars + NUL. */
void sha256_hex(const void *p, size_t n, char out[65]);

/* Base64 (standard alphabet, padded) and base64url (no padding).
 * Encoders write into the arena; decoders return -1 on malformed input. */
char *b64_encode(arena *a, const void *p, size_t n);
char *b64url_encode(arena *a, const void *p, size_t n);
int b64_decode(arena *a, const char *s, size_t len, unsigned char **out, size_t *outlen);
int b64url_decode(arena *a, const char *s, size_t len, unsigned char **out, size_t *outlen);

/* Cryptographically random bytes. */
void random_bytes(void *p, size_t n);

/* Constant-time equality of two byte strings (lengths may differ: then false,
 * still without an early exit on content). */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Argon2id password hashing (libsodium's encoded string form).
 * password_hash returns 0 and writes at most 128 bytes including the NUL. */
int password_hash(const char *pw, size_t len, char out[128]);
bool password_verify(const char *encoded, const char *pw, size_t len);
/* Spends the time of one verification; used when the user does not exist so
 * that a wrong user and a wrong password cost the same. */
void password_dummy_verify(const char *pw, size_t len);
/* Sets the Argon2id cost (ops, memory bytes); 0 keeps libsodium's interactive default. */
void password_set_cost(unsigned long long ops, size_t mem);

/* HMAC-SHA-256 with a key of any length. */
void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n, unsigned char out[32]);

#endif
