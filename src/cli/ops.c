/*
 * ops.c — operating a registry from the console, on the store and blobs directly:
 *   depot fsck [--repair]   every referenced blob present with the right SHA-256 and size, the
 *                           store's own integrity check, stale upload temp files; --repair removes
 *                           the temp files and makes every server rebuild its cached documents
 *   depot backup DIR        a consistent copy taken while the server runs: the store through its
 *                           online backup, then every blob the copy references, and the secrets
 *   depot restore DIR       into an empty data folder (the server stopped), every blob re-verified
 * Each takes --data DIR / --store URL / --blobs URL like `serve`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/core_int.h"
#include "../core/ecosystem.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "../lib/timeutil.h"
#include "cli.h"

struct fsck_ctx {
    blob_store *b;
    long checked, bad;
};

static int fsck_one(void *vctx, const char *kind, const char *sha, int64_t size, const char *what)
{
    struct fsck_ctx *f = vctx;
    char why[160];
    f->checked++;
    if (blob_verify(f->b, sha, kind && strcmp(kind, "version") == 0 ? size : -1, NULL, why, sizeof why) < 0) {
        f->bad++;
        printf("BAD  %s %s: blob %s %s\n", kind, what, sha, why);
    }
    return 0;
}

/* Upload temp files older than an hour belong to no request any more. */
static long stale_temps(const char *dir, bool remove)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    long n = 0;
    struct dirent *de;
    int64_t now = now_unix();
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < 3600)
            continue;
        n++;
        printf("%s stale temp file %s\n", remove ? "REMOVED" : "STALE", de->d_name);
        if (remove)
            unlink(path);
    }
    closedir(d);
    return n;
}

static int do_fsck(core *c, bool repair)
{
    derr e;
    arena *a = arena_new(0);
    const char *report;
    int problems = 0;
    if (store_call(c->st, integrity, a, &report, &e) != STORE_OK) {
        fprintf(stderr, "depot fsck: %s\n", e.message);
        arena_free(a);
        return 1;
    }
    if (strcmp(report, "ok") != 0) {
        printf("BAD  store integrity:\n%s\n", report);
        problems++;
    } else {
        printf("ok   store integrity\n");
    }
    struct fsck_ctx f = {c->blobs, 0, 0};
    if (store_call(c->st, each_blob_ref, fsck_one, &f, &e) != STORE_OK) {
        fprintf(stderr, "depot fsck: %s\n", e.message);
        arena_free(a);
        return 1;
    }
    printf("%s %ld referenced blobs checked, %ld bad\n", f.bad ? "BAD " : "ok  ", f.checked, f.bad);
    problems += f.bad > 0;
    long stale = stale_temps(c->blobs->ops->tmp_dir(c->blobs), repair);
    if (repair) {
        if (store_call(c->st, bump_generations, &e) != STORE_OK) {
            fprintf(stderr, "depot fsck: %s\n", e.message);
            arena_free(a);
            return 1;
        }
        printf("ok   cached documents will be rebuilt on every server\n");
    } else if (stale) {
        problems++;
    }
    arena_free(a);
    printf("%s\n", problems ? "fsck: problems found" : "fsck: clean");
    return problems ? 1 : 0;
}

/* ---- backup and restore ---- */

static int copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? 1 : -1;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0 || fsync(out) < 0)
        rc = -1;
    close(in);
    close(out);
    return rc;
}

struct copy_ctx {
    blob_store *from, *to;
    long copied, failed;
};

/* Copies one blob between stores (blob_copy_to hashes it on the way, put_file again). */
static int copy_blob(void *vctx, const char *kind, const char *sha, int64_t size, const char *what)
{
    struct copy_ctx *cc = vctx;
    derr e;
    char why[200];
    (void)size;
    if (blob_call(cc->to, exists, sha, &e) == 1)
        return 0;
    if (blob_copy_to(cc->from, cc->to, sha, NULL, why, sizeof why) < 0) {
        printf("%s %s %s: blob %s %s\n", strcmp(why, "missing") == 0 ? "MISSING" : "FAILED", kind, what, sha,
               why);
        cc->failed++;
    } else {
        cc->copied++;
    }
    return 0;
}

/* Copies the files of list (ended by NULL) from folder `from` to `to` (mode 0600); one that cannot
 * be copied is named on stderr when `say` is set. */
static void copy_files(const char *const *list, const char *from, const char *to, const char *say)
{
    for (int i = 0; list && list[i]; i++) {
        char src[4200], dst[4200];
        snprintf(src, sizeof src, "%s/%s", from, list[i]);
        snprintf(dst, sizeof dst, "%s/%s", to, list[i]);
        if (copy_file(src, dst, 0600) < 0 && say)
            fprintf(stderr, "%s: could not copy %s\n", say, list[i]);
    }
}

/* The server's secrets (the session-token key) and every ecosystem's (a signing key). */
static void copy_secrets(const char *from, const char *to, const char *say)
{
    static const char *const own[] = {"jwt.key", NULL};
    copy_files(own, from, to, say);
    const eco_desc *eco;
    for (size_t i = 0; (eco = ecosystem_at(i)); i++)
        copy_files(eco->secrets, from, to, say);
}

static int do_backup(core *c, const char *dir)
{
    derr e;
    if (mkdir(dir, 0700) < 0) {
        fprintf(stderr, "depot backup: cannot create %s: %s (it must not exist yet)\n", dir, strerror(errno));
        return 1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/depot.db", dir);
    if (store_call(c->st, backup, path, &e) != STORE_OK) {
        fprintf(stderr, "depot backup: %s\n", e.message);
        return 1;
    }
    /* The blobs the copy references, read from the copy itself, so the two agree. */
    char url[4300];
    snprintf(url, sizeof url, "sqlite:%s", path);
    store *copy = store_open(url, &e);
    snprintf(url, sizeof url, "file:%s/blobs", dir);
    blob_store *to = copy ? blob_open(url, &e) : NULL;
    if (!copy || !to) {
        fprintf(stderr, "depot backup: %s\n", e.message);
        if (copy)
            copy->ops->close(copy);
        return 1;
    }
    struct copy_ctx cc = {c->blobs, to, 0, 0};
    int rc = store_call(copy, each_blob_ref, copy_blob, &cc, &e);
    copy->ops->close(copy);
    to->ops->close(to);
    if (rc != STORE_OK) {
        fprintf(stderr, "depot backup: %s\n", e.message);
        return 1;
    }
    copy_secrets(c->cfg->data, dir, "depot backup");
    printf("backup in %s: the store, %ld blobs copied, %ld missing or failed\n", dir, cc.copied, cc.failed);
    return cc.failed ? 1 : 0;
}

static int do_restore(const config *cfg, const char *dir)
{
    derr e;
    char src[4200], url[4300];
    snprintf(src, sizeof src, "%s/depot.db", dir);
    if (access(src, R_OK) < 0) {
        fprintf(stderr, "depot restore: %s has no depot.db; is it a backup?\n", dir);
        return 1;
    }
    if (strncmp(cfg->store_url, "sqlite:", 7) != 0) {
        fprintf(stderr, "depot restore: restores into a SQLite store; use migrate-store for others\n");
        return 1;
    }
    const char *dst = cfg->store_url + 7;
    if (access(dst, F_OK) == 0) {
        fprintf(stderr, "depot restore: %s exists; restore into an empty data folder (the server stopped)\n", dst);
        return 1;
    }
    if (mkdir(cfg->data, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "depot restore: cannot create %s: %s\n", cfg->data, strerror(errno));
        return 1;
    }
    if (copy_file(src, dst, 0600) != 0) {
        fprintf(stderr, "depot restore: cannot copy the store to %s\n", dst);
        return 1;
    }
    copy_secrets(dir, cfg->data, NULL);
    snprintf(url, sizeof url, "file:%s/blobs", dir);
    blob_store *from = blob_open(url, &e);
    blob_store *to = from ? blob_open(cfg->blob_url, &e) : NULL;
    store *st = to ? store_open(cfg->store_url, &e) : NULL;
    if (!st) {
        fprintf(stderr, "depot restore: %s\n", e.message);
        if (from)
            from->ops->close(from);
        if (to)
            to->ops->close(to);
        return 1;
    }
    struct copy_ctx cc = {from, to, 0, 0};
    int rc = store_call(st, each_blob_ref, copy_blob, &cc, &e);
    st->ops->close(st);
    from->ops->close(from);
    to->ops->close(to);
    if (rc != STORE_OK) {
        fprintf(stderr, "depot restore: %s\n", e.message);
        return 1;
    }
    printf("restored into %s: the store, %ld blobs verified and copied, %ld missing or failed\n", cfg->data,
           cc.copied, cc.failed);
    return cc.failed ? 1 : 0;
}

int cli_ops(int argc, char **argv)
{
    const char *cmd = argv[0];
    config cfg;
    derr e;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0, rc = config_load(&cfg, argc, argv, rest, &nrest, stdout, &e);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "depot %s: %s\n", cmd, e.message);
        free(rest);
        config_free(&cfg);
        return rc < 0 ? 2 : 0;
    }
    log_set_level("warn");
    bool repair = false;
    const char *dir = NULL;
    for (int i = 0; i < nrest; i++) {
        if (strcmp(rest[i], "--repair") == 0 && strcmp(cmd, "fsck") == 0)
            repair = true;
        else if (rest[i][0] != '-' && !dir)
            dir = rest[i];
        else {
            fprintf(stderr, "depot %s: unexpected '%s'\n", cmd, rest[i]);
            free(rest);
            config_free(&cfg);
            return 2;
        }
    }
    free(rest);
    if (strcmp(cmd, "fsck") != 0 && !dir) {
        fprintf(stderr, "usage: depot %s DIR [--data DIR]\n", cmd);
        config_free(&cfg);
        return 2;
    }
    if (strcmp(cmd, "restore") == 0) {
        rc = do_restore(&cfg, dir);
        config_free(&cfg);
        return rc;
    }
    core c;
    if (core_open(&c, &cfg, &e) < 0) {
        fprintf(stderr, "depot %s: %s\n", cmd, e.message);
        config_free(&cfg);
        return 1;
    }
    rc = strcmp(cmd, "fsck") == 0 ? do_fsck(&c, repair) : do_backup(&c, dir);
    core_close(&c);
    config_free(&cfg);
    return rc;
}
