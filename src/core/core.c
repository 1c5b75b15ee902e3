/*
 * core.c — opening the registry's shared context.
 *
 * The JWT secret comes from --jwt-secret, else from DATA/jwt.key, which is
 * made at first start from 32 random bytes with mode 0600.
 */
#include "core_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/log.h"
#include "authcache.h"

static int mkdirs(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int load_jwt_key(core *c, derr *e)
{
    if (c->cfg->jwt_secret[0]) {
        size_t n = strlen(c->cfg->jwt_secret);
        if (n < 16)
            return derr_set(e, 400, "config", "--jwt-secret: at least 16 characters");
        /* Any length works for HMAC; hash long ones down to a fixed key. */
        if (n > sizeof c->jwt_key) {
            sha256(c->cfg->jwt_secret, n, c->jwt_key);
            c->jwt_keylen = 32;
        } else {
            memcpy(c->jwt_key, c->cfg->jwt_secret, n);
            c->jwt_keylen = n;
        }
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/jwt.key", c->cfg->data);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, c->jwt_key, 32);
        close(fd);
        if (n != 32)
            return derr_set(e, 500, "config", "%s is damaged (expected 32 bytes)", path);
        c->jwt_keylen = 32;
        return 0;
    }
    unsigned char key[32];
    random_bytes(key, sizeof key);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, key, 32) != 32 || fsync(fd) < 0) {
        if (fd >= 0)
            close(fd);
        return derr_set(e, 500, "config", "cannot write %s: %s", tmp, strerror(errno));
    }
    close(fd);
    /* link() fails if another process made the key first; then use theirs. */
    if (link(tmp, path) < 0 && errno != EEXIST) {
        unlink(tmp);
        return derr_set(e, 500, "config", "cannot create %s: %s", path, strerror(errno));
    }
    unlink(tmp);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, c->jwt_key, 32) != 32) {
        if (fd >= 0)
            close(fd);
        return derr_set(e, 500, "config", "cannot read %s", path);
    }
    close(fd);
    c->jwt_keylen = 32;
    log_info("generated the session-token secret", "path", path, NULL);
    return 0;
}

int core_open(core *c, const config *cfg, derr *e)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    if (mkdirs(cfg->data) < 0)
        return derr_set(e, 500, "config", "cannot create the data folder %s: %s", cfg->data,
                        strerror(errno));
    if (crypto_init() < 0)
        return derr_set(e, 500, "internal", "libsodium failed to initialise");
    password_set_cost((unsigned long long)cfg->argon2_ops, (size_t)cfg->argon2_mem);
    authcache_init(cfg->auth_cache_ttl);
    if (load_jwt_key(c, e) < 0)
        return -1;
    c->st = store_open(cfg->store_url, e);
    if (!c->st)
        return -1;
    int applied = 0;
    if (store_call(c->st, migrate, &applied, e) < 0) {
        core_close(c);
        return -1;
    }
    if (applied) {
        char n[16];
        snprintf(n, sizeof n, "%d", applied);
        log_info("applied migrations", "count", n, NULL);
    }
    c->blobs = blob_open(cfg->blob_url, e);
    if (!c->blobs) {
        core_close(c);
        return -1;
    }
    return 0;
}

void core_close(core *c)
{
    authcache_shutdown();
    if (c->st)
        c->st->ops->close(c->st);
    if (c->blobs)
        c->blobs->ops->close(c->blobs);
    c->st = NULL;
    c->blobs = NULL;
}

void core_audit(core *c, int64_t user_id, const char *action, const char *target, const char *detail,
                const char *ip)
{
    store_audit ev = {user_id, action, target, detail, ip};
    derr e;
    if (store_call(c->st, audit, &ev, &e) < 0)
        log_warn("audit write failed", "action", action, NULL);
}

const config *core_config(const core *c)
{
    return c->cfg;
}

const char *core_tmp_dir(core *c)
{
    return blob_call(c->blobs, tmp_dir);
}

bool core_remote_blobs(const core *c)
{
    return c->blobs->ops->remote;
}

const char *core_store_name(const core *c)
{
    return c->st->ops->name;
}

void core_mac(const core *c, const void *msg, size_t n, unsigned char out[32])
{
    hmac_sha256(c->jwt_key, c->jwt_keylen, msg, n, out);
}

void core_health(core *c, bool *meta_ok, bool *bytes_ok)
{
    derr e;
    *meta_ok = store_call(c->st, ping, &e) == STORE_OK;
    *bytes_ok = blob_call(c->blobs, check, &e) == 0;
}

void content_close(content_reader *r)
{
    blob_reader_close(r);
}

int core_blob_read(core *c, const char *sha256, blob_reader *r, derr *e)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    return blob_call(c->blobs, open, sha256, r, e);
}
