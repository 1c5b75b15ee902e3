/*
 * sign.h — the Hex repository's RSA key: loaded or made once per process,
 * used to sign every registry resource, and published as a PEM public key
 * with the fingerprint `mix hex.repo add --fetch-public-key` checks.
 *
 * Signatures are RSASSA-PKCS1-v1_5 with SHA-512 over the raw protobuf
 * payload (facts: hex.md §1.3), what `openssl dgst -sha512 -sign` makes.
 * The key comes from --hex-key (a PEM private key file), else from
 * DATA/hex_repo_key.pem, which is generated at first use (RSA 2048, mode
 * 0600; several processes racing to make it end up sharing one).
 */
#ifndef DEPOT_HEX_SIGN_H
#define DEPOT_HEX_SIGN_H

#include <stddef.h>

#include "../core/config.h"
#include "../lib/arena.h"
#include "../lib/err.h"

typedef struct hex_key hex_key;

/* The key for these settings; loaded once and then shared (owned by this
 * module, valid until exit, safe to use from every thread). Returns 0, or -1
 * with e filled (500 "config": unreadable, not an RSA key, under 2048 bits,
 * cannot be written). */
int hex_key_get(const config *cfg, const hex_key **out, derr *e);

/* Loads a PEM private key file (tests, the CLI). The caller frees it with hex_key_free. */
hex_key *hex_key_load(const char *path, derr *e);
void hex_key_free(hex_key *k);

/* Signs payload; *sig (in the arena) holds *siglen bytes (the modulus size). 0 or -1 with e. */
int hex_sign(const hex_key *k, arena *a, const void *payload, size_t n, unsigned char **sig, size_t *siglen,
             derr *e);

/* The public key as PEM (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY"), NUL-terminated; owned by k. */
const char *hex_key_public_pem(const hex_key *k);

/* The fingerprint hex_core's repo fingerprint computes: "SHA256:" and the unpadded base64
 * of the SHA-256 of the OpenSSH ssh-rsa public key blob (what `ssh-keygen -l -E sha256`
 * prints). Owned by k. */
const char *hex_key_fingerprint(const hex_key *k);

#endif
