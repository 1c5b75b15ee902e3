/*
 * client_keys.c — Ed25519 signing keys on the client side: `depot keygen`
 * makes a key pair, `depot key register | list | remove` manages the public
 * keys the registry knows for the account (a signature verifies on the
 * server only with a key its publisher registered), and `depot key trust`
 * adds someone's public key to the local trusted keys that `install` checks
 * signatures against ($config/trusted_keys/<key_id>.pub).
 *
 * Key files hold one line of standard base64: the 64-byte libsodium secret
 * key (seed and public key) for a private key, written with mode 0600, or the
 * 32-byte public key. A key id is the hex of the first 8 bytes of the SHA-256
 * of the public key, as the registry computes it. Private keys never leave
 * this process: not in output, not in requests.
 */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "client.h"

static const char keygen_usage[] =
    "usage: depot keygen [--out FILE] [--force]\n"
    "\n"
    "Makes an Ed25519 key pair for signing packages. The private key goes to FILE\n"
    "(default $XDG_CONFIG_HOME/depot/signing.key, mode 0600), the public key to\n"
    "FILE.pub and to stdout. Once the key exists, `depot publish` signs with it.\n"
    "An existing key is kept unless --force is given.\n";

static const char key_usage[] =
    "usage: depot key register [--name N] [--key FILE]   register your public key on the registry\n"
    "       depot key list                                the keys registered for your account\n"
    "       depot key remove KEY_ID                       unregister a key\n"
    "       depot key trust FILE.pub                      trust a public key when installing\n"
    "\n"
    "--key is the private key or its .pub file (default: the signing key).\n";

const char *client_default_key_path(client *c)
{
    return client_path(c, c->config_dir, "signing.key");
}

const char *client_sign_key_path(client *c, const char *flag)
{
    if (flag && flag[0])
        return flag;
    const char *cfg = json_string_value(json_object_get(c->config, "sign_key"));
    if (cfg && cfg[0])
        return cfg;
    const char *def = client_default_key_path(c);
    return access(def, F_OK) == 0 ? def : NULL;
}

void client_key_id(const unsigned char pk[32], char out[17])
{
    unsigned char h[32];
    sha256(pk, 32, h);
    hex_encode(h, 8, out);
}

/* Reads a key file: base64 of want bytes (trailing whitespace allowed). */
static int read_key_file(client *c, const char *path, unsigned char *out, size_t *outlen, derr *e)
{
    char *text;
    size_t n;
    if (client_read_file(c->a, path, 4096, &text, &n, e) < 0)
        return -1;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    unsigned char *raw;
    size_t rl;
    if (b64_decode(c->a, text, n, &raw, &rl) < 0 || (rl != 32 && rl != 64)) {
        sodium_memzero(text, n);
        return derr_set(e, 400, "bad_request", "%s is not a depot key file (one line of base64)", path);
    }
    memcpy(out, raw, rl);
    *outlen = rl;
    sodium_memzero(raw, rl);
    sodium_memzero(text, n);
    return 0;
}

int client_load_secret_key(client *c, const char *path, unsigned char sk[64], unsigned char pk[32], derr *e)
{
    unsigned char raw[64];
    size_t n;
    if (read_key_file(c, path, raw, &n, e) < 0)
        return -1;
    if (n != 64) {
        sodium_memzero(raw, sizeof raw);
        return derr_set(e, 400, "bad_request", "%s holds a public key, not a private signing key", path);
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "depot: warning: %s can be read by other users (chmod 600 it)\n", path);
    memcpy(sk, raw, 64);
    sodium_memzero(raw, sizeof raw);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    return 0;
}

int client_load_public_key(client *c, const char *path, unsigned char pk[32], char id[17], derr *e)
{
    unsigned char raw[64];
    size_t n;
    if (read_key_file(c, path, raw, &n, e) < 0)
        return -1;
    if (n == 64)
        crypto_sign_ed25519_sk_to_pk(pk, raw);
    else
        memcpy(pk, raw, 32);
    sodium_memzero(raw, sizeof raw);
    client_key_id(pk, id);
    return 0;
}

int client_keygen(client *c, int argc, char **argv)
{
    const char *out = NULL;
    bool force = false;
    client_opt opts[] = {{"--out", true, &out, NULL}, {"--force", false, NULL, &force}, {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 0, keygen_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    derr e;
    if (!out || !out[0]) {
        if (client_config_mkdir(c, &e) < 0)
            return client_fail(&e);
        out = client_default_key_path(c);
    }
    const char *pub = arena_printf(c->a, "%s.pub", out);
    if (!force && access(out, F_OK) == 0) {
        fprintf(stderr, "depot: %s already exists (use --force to replace it)\n", out);
        return EXIT_FAIL;
    }
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char *sk64 = b64_encode(c->a, sk, sizeof sk);
    sodium_memzero(sk, sizeof sk);
    const char *sk_line = arena_printf(c->a, "%s\n", sk64);
    sodium_memzero(sk64, strlen(sk64));
    int rc = client_write_file(out, sk_line, strlen(sk_line), 0600, &e);
    sodium_memzero((char *)sk_line, strlen(sk_line));
    if (rc < 0)
        return client_fail(&e);
    const char *pk64 = b64_encode(c->a, pk, sizeof pk);
    const char *pk_line = arena_printf(c->a, "%s\n", pk64);
    if (client_write_file(pub, pk_line, strlen(pk_line), 0644, &e) < 0)
        return client_fail(&e);
    char id[17];
    client_key_id(pk, id);
    printf("Public key:  %s\n", pk64);
    printf("Key id:      %s\n", id);
    printf("Private key: %s (mode 0600)\n", out);
    printf("Next: `depot key register` so the registry accepts your signatures.\n");
    return EXIT_OK;
}

static const char *default_key_name(client *c)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        return "depot-cli";
    host[sizeof host - 1] = '\0';
    return arena_strdup(c->a, host);
}

static int key_register(client *c, const char *name, const char *file)
{
    derr e;
    if (!file || !file[0]) {
        file = client_sign_key_path(c, NULL);
        if (!file) {
            fprintf(stderr, "depot: no signing key (run `depot keygen` or pass --key FILE)\n");
            return EXIT_FAIL;
        }
    }
    unsigned char pk[32];
    /* prefer FILE.pub when FILE is the private key and the .pub is beside it: no need to read a secret */
    const char *pubfile = arena_printf(c->a, "%s.pub", file);
    size_t fl = strlen(file);
    bool is_pub = fl > 4 && strcmp(file + fl - 4, ".pub") == 0;
    char mine[17];
    if (client_load_public_key(c, !is_pub && access(pubfile, R_OK) == 0 ? pubfile : file, pk, mine, &e) < 0)
        return client_fail(&e);
    json_t *body = json_object();
    json_object_set_new(body, "name", json_string(name && name[0] ? name : default_key_name(c)));
    json_object_set_new(body, "public_key", json_string(b64_encode(c->a, pk, 32)));
    client_resp r;
    int rc = client_call(c, "POST", "/api/v1/me/keys", body, NULL, &r, &e);
    json_decref(body);
    if (rc < 0)
        return client_fail(&e);
    if (r.status != 201 && r.status != 200)
        return client_fail_resp(c, "cannot register the key", &r);
    const char *id = json_string_value(json_object_get(r.json, "key_id"));
    printf("Registered key %s (%s) on %s\n", id ? id : mine,
           json_string_value(json_object_get(r.json, "name"))
               ? json_string_value(json_object_get(r.json, "name"))
               : "",
           c->registry);
    if (id && strcmp(id, mine) != 0)
        fprintf(stderr, "depot: warning: the registry calls the key %s, the client computes %s\n", id, mine);
    return EXIT_OK;
}

static int key_list(client *c)
{
    client_resp r;
    if (client_expect(c, "GET", "/api/v1/me/keys", NULL, 200, "cannot list keys", &r) < 0)
        return EXIT_FAIL;
    json_t *keys = json_is_array(r.json) ? r.json : json_object_get(r.json, "keys");
    if (!json_array_size(keys)) {
        printf("No keys registered.\n");
        return EXIT_OK;
    }
    printf("%-17s %-24s %s\n", "KEY ID", "NAME", "CREATED");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *id = json_string_value(json_object_get(k, "key_id"));
        const char *name = json_string_value(json_object_get(k, "name"));
        const char *at = json_string_value(json_object_get(k, "created_at"));
        printf("%-17s %-24s %s\n", id ? id : "?", name ? name : "", at ? at : "");
    }
    return EXIT_OK;
}

static int key_remove(client *c, const char *id)
{
    client_resp r;
    const char *path = arena_printf(c->a, "/api/v1/me/keys/%s", client_esc(c, id));
    if (client_expect(c, "DELETE", path, NULL, CLIENT_200_OR_204, "cannot remove the key", &r) < 0)
        return EXIT_FAIL;
    printf("Removed key %s\n", id);
    return EXIT_OK;
}

static int key_trust(client *c, const char *file)
{
    unsigned char pk[32];
    char id[17];
    derr e;
    if (client_load_public_key(c, file, pk, id, &e) < 0)
        return client_fail(&e);
    const char *dir = client_path(c, c->config_dir, "trusted_keys");
    if (client_config_mkdir(c, &e) < 0)
        return client_fail(&e);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "depot: cannot create %s: %s\n", dir, strerror(errno));
        return EXIT_FAIL;
    }
    const char *line = arena_printf(c->a, "%s\n", b64_encode(c->a, pk, 32));
    if (client_write_file(arena_printf(c->a, "%s/%s.pub", dir, id), line, strlen(line), 0644, &e) < 0)
        return client_fail(&e);
    printf("Trusted key %s\n", id);
    return EXIT_OK;
}

int client_key(client *c, int argc, char **argv)
{
    const char *name = NULL, *file = NULL;
    client_opt opts[] = {{"--name", true, &name, NULL}, {"--key", true, &file, NULL}, {0}};
    const char *pos[2];
    int npos = client_parse(argc, argv, opts, pos, 2, key_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    const char *sub = npos ? pos[0] : "";
    if (strcmp(sub, "register") == 0 && npos == 1)
        return key_register(c, name, file);
    if (strcmp(sub, "list") == 0 && npos == 1)
        return key_list(c);
    if (strcmp(sub, "remove") == 0 && npos == 2)
        return key_remove(c, pos[1]);
    if (strcmp(sub, "trust") == 0 && (npos == 2 || file))
        return key_trust(c, npos == 2 ? pos[1] : file);
    return client_usage_error("key: expected register, list, remove KEY_ID or trust FILE", key_usage);
}
