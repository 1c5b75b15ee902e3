/*
 * fuzz_auth.c — libFuzzer driver for the credentials a request carries:
 * auth_header (Authorization: "Bearer", "Basic", a bare token) and
 * auth_session_cookie (the Cookie header) in src/core/auth.c, down through
 * jwt_verify (src/lib/jwt.c) and base64.
 *
 * Input: one byte picking the mode, then
 *   0  an Authorization header value;
 *   1  a Cookie header value;
 *   2  a JWT's header JSON, a newline, its claims JSON: the driver signs
 *      them with the server's key and sends "Bearer <token>", so the claims
 *      parser runs (the fuzzer cannot forge a signature).
 * The store is a table of a few functions here: one user (id 1), one API
 * token (its secret in the corpus), no revoked JWT; a password lookup fails
 * as a store error, so no Argon2id hash is computed per input.
 *
 * Checked: a refusal is 401, 403 or the store's 500; an acceptance names
 * the user and is the known token, or a JWT whose claims name user 1 with a
 * jti; a cookie session is a JWT marked as from the cookie.
 *
 *   make fuzz FUZZERS=auth   (see fuzz/README.md)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"
#include "core/core_int.h"
#include "fronts.h"
#include "lib/crypto.h"
#include "lib/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN_SECRET "depot_fuzz0123456789abcdef"

static int user_by_id(store *s, arena *a, int64_t id, store_user *out, derr *e)
{
    if (id != 1)
        return STORE_NOT_FOUND;
    *out = (store_user){.id = 1, .username = "alice", .email = "alice@example.com"};
    return STORE_OK;
}

static int user_by_login(store *s, arena *a, const char *login, store_user *out, derr *e)
{
    derr_set(e, 500, "internal", "the store is down");
    return STORE_ERROR;
}

static int token_by_hash(store *s, arena *a, const char *hash, store_token *out, derr *e)
{
    char want[65];
    sha256_hex(TOKEN_SECRET, strlen(TOKEN_SECRET), want);
    if (strcmp(hash, want) != 0)
        return STORE_NOT_FOUND;
    *out = (store_token){.id = 7, .user_id = 1, .name = "ci", .hash = hash, .scopes = "publish:hex"};
    return STORE_OK;
}

static int token_touch(store *s, int64_t id, int64_t now, derr *e)
{
    return STORE_OK;
}

static int jwt_is_revoked(store *s, const char *jti, derr *e)
{
    return strcmp(jti, "revoked") == 0 ? STORE_OK : STORE_NOT_FOUND;
}

static int auth_epoch(store *s, int64_t *out, derr *e)
{
    *out = 0;
    return STORE_OK;
}

static const struct store_ops fake_ops = {
    .name = "fuzz",
    .user_by_id = user_by_id,
    .user_by_login = user_by_login,
    .token_by_hash = token_by_hash,
    .token_touch = token_touch,
    .jwt_is_revoked = jwt_is_revoked,
    .auth_epoch = auth_epoch,
};

static void check(int rc, const principal *p, const derr *e)
{
    if (rc < 0) {
        if (e->status != 401 && e->status != 403 && e->status != 500)
            abort();
        return;
    }
    if (!p->username || p->user_id != 1)
        abort();
    if (p->kind == CRED_TOKEN ? p->token_id != 7 || !p->scopes : p->kind != CRED_JWT || !p->jti)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store st = {.ops = &fake_ops};
    static core c;
    if (!c.st) {
        crypto_init();
        ecosystems_register(fronts_ecosystem); /* scopes name the table's ecosystems */
        c.st = &st;
        memset(c.jwt_key, 0x5a, 32);
        c.jwt_keylen = 32;
    }
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    arena *a = arena_new(0);
    principal p = {0};
    derr e = {0};

    if (mode == 0) {
        (void)auth_header_is_slow(text);
        check(auth_header(&c, a, text, &p, &e), &p, &e);
    } else if (mode == 1) {
        int rc = auth_session_cookie(&c, a, text, &p, &e);
        if (rc < -1 || rc > 1 || (rc == 1 && (p.kind != CRED_JWT || !p.via_cookie)))
            abort();
        if (rc != 0)
            check(rc, &p, &e);
    } else {
        /* Header and claims as given (up to a NUL), each base64url-encoded, then signed. */
        char *nl = strchr(text, '\n');
        const char *claims = nl ? nl + 1 : "";
        size_t hl = nl ? (size_t)(nl - text) : strlen(text);
        const char *signing = arena_printf(a, "%s.%s", b64url_encode(a, text, hl),
                                           b64url_encode(a, claims, strlen(claims)));
        unsigned char mac[32];
        hmac_sha256(c.jwt_key, c.jwt_keylen, signing, strlen(signing), mac);
        const char *hdr = arena_printf(a, "Bearer %s.%s", signing, b64url_encode(a, mac, sizeof mac));
        check(auth_header(&c, a, hdr, &p, &e), &p, &e);
    }
    arena_free(a);
    free(text);
    return 0;
}
