/*
 * client_files.c — the client's files: the config folder
 * ($XDG_CONFIG_HOME/depot, else ~/.config/depot, mode 0700), config.json,
 * credentials.json (one API token per registry URL, mode 0600), and the
 * helpers every command uses to read and write files: whole-file reads with a
 * cap, atomic writes (temp file beside the target, fsync, rename, so a crash
 * never leaves half a lock file or half a credential), and removing a tree
 * without following links.
 *
 * credentials.json:
 *   {"registries": {"http://127.0.0.1:4000":
 *       {"token": "dpt_...", "token_name": "cli-host-20260101120000", "username": "ann"}}}
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "client.h"

const char *client_path(client *c, const char *dir, const char *name)
{
    return arena_printf(c->a, "%s/%s", dir, name);
}

/* mkdir -p with mode for every folder it creates. */
static int mkdirs(arena *a, const char *path, unsigned mode, derr *e)
{
    char *p = arena_strdup(a, path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return derr_set(e, 500, "internal", "cannot create %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return derr_set(e, 500, "internal", "cannot create %s: %s", p, strerror(errno));
    return 0;
}

int client_config_mkdir(client *c, derr *e)
{
    if (mkdirs(c->a, c->config_dir, 0700, e) < 0)
        return -1;
    /* the folder holds a token and maybe a private key: only its owner may look in */
    if (chmod(c->config_dir, 0700) < 0)
        return derr_set(e, 500, "internal", "cannot chmod %s: %s", c->config_dir, strerror(errno));
    return 0;
}

int client_read_file(arena *a, const char *path, size_t max, char **out, size_t *len, derr *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        derr_set(e, 404, "not_found", "cannot open %s: %s", path, strerror(err));
        errno = err;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        derr_set(e, 400, "bad_request", "%s is not a regular file", path);
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        derr_set(e, 413, "too_large", "%s is larger than %zu bytes", path, max);
        errno = EFBIG;
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *p = arena_alloc(a, n + 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int saved = errno;
    close(fd);
    if (got != n) {
        derr_set(e, 500, "internal", "cannot read %s", path);
        errno = saved ? saved : EIO;
        return -1;
    }
    p[n] = '\0';
    *out = p;
    if (len)
        *len = n;
    return 0;
}

static void free_json(void *p)
{
    json_decref(p);
}

int client_read_json(client *c, const char *path, bool missing_ok, json_t **out, derr *e)
{
    *out = NULL;
    char *text;
    size_t n;
    if (client_read_file(c->a, path, CLIENT_MAX_DOC, &text, &n, e) < 0) {
        if (errno == ENOENT && missing_ok) {
            derr_clear(e);
            return 0;
        }
        if (errno == ENOENT)
            return derr_set(e, 404, "not_found", "%s does not exist", path);
        return -1;
    }
    json_error_t je;
    json_t *v = json_loadb(text, n, 0, &je);
    if (!v)
        return derr_set(e, 400, "bad_request", "%s: line %d, column %d: %s", path, je.line, je.column,
                        je.text);
    arena_on_free(c->a, free_json, v);
    *out = v;
    return 0;
}

int client_write_file(const char *path, const void *data, size_t len, unsigned mode, derr *e)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp)
        return derr_set(e, 500, "internal", "out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp-XXXXXX", 12);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        derr_set(e, 500, "internal", "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = -1;
    if (fchmod(fd, (mode_t)mode) < 0)
        goto io;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto io;
        off += (size_t)w;
    }
    if (fsync(fd) < 0)
        goto io;
    if (close(fd) < 0) {
        fd = -1;
        goto io;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto io;
    rc = 0;
    goto out;
io:
    derr_set(e, 500, "internal", "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out:
    free(tmp);
    return rc;
}

int client_write_json(const char *path, json_t *v, bool sort, unsigned mode, derr *e)
{
    size_t flags = JSON_INDENT(2) | (sort ? JSON_SORT_KEYS : 0);
    char *text = json_dumps(v, flags);
    if (!text)
        return derr_set(e, 500, "internal", "cannot encode %s", path);
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return derr_set(e, 500, "internal", "out of memory");
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    int rc = client_write_file(path, withnl, n + 1, mode, e);
    free(withnl);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int client_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- credentials.json ---------------------------------------------------------------------- */

static const char *creds_path(client *c)
{
    return client_path(c, c->config_dir, "credentials.json");
}

int client_creds_get(client *c, const char **token, const char **token_name, const char **username, derr *e)
{
    *token = NULL;
    if (token_name)
        *token_name = NULL;
    if (username)
        *username = NULL;
    json_t *all;
    const char *path = creds_path(c);
    if (client_read_json(c, path, true, &all, e) < 0)
        return -1;
    if (!all)
        return 0;
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "depot: warning: %s can be read by other users (chmod 600 it)\n", path);
    json_t *ent = json_object_get(json_object_get(all, "registries"), c->registry);
    const char *t = json_string_value(json_object_get(ent, "token"));
    if (!t || !t[0])
        return 0;
    *token = arena_strdup(c->a, t);
    if (token_name)
        *token_name = arena_strdup(c->a, json_string_value(json_object_get(ent, "token_name")));
    if (username)
        *username = arena_strdup(c->a, json_string_value(json_object_get(ent, "username")));
    return 0;
}

int client_creds_put(client *c, const char *token, const char *token_name, const char *username, derr *e)
{
    if (client_config_mkdir(c, e) < 0)
        return -1;
    json_t *all;
    const char *path = creds_path(c);
    if (client_read_json(c, path, true, &all, e) < 0) {
        if (e->status != 400)
            return -1;
        fprintf(stderr, "depot: warning: %s was not valid JSON; starting it afresh\n", path);
        all = NULL;
    }
    json_t *doc = all && json_is_object(all) ? json_deep_copy(all) : json_object();
    json_t *regs = json_object_get(doc, "registries");
    if (!json_is_object(regs)) {
        regs = json_object();
        json_object_set_new(doc, "registries", regs);
    }
    if (token) {
        json_t *ent = json_object();
        json_object_set_new(ent, "token", json_string(token));
        if (token_name)
            json_object_set_new(ent, "token_name", json_string(token_name));
        if (username)
            json_object_set_new(ent, "username", json_string(username));
        json_object_set_new(regs, c->registry, ent);
    } else {
        json_object_del(regs, c->registry);
    }
    int rc = client_write_json(path, doc, true, 0600, e);
    json_decref(doc);
    return rc;
}
