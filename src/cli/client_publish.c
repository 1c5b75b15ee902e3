/*
 * client_publish.c — `depot publish [DIR]`: pack a package folder and upload it.
 *
 * The folder must hold a depot.json with a name and a version. Its files
 * (see pack_list for what is left out) are packed with targz_write into a
 * reproducible .tar.gz in a private temp folder; when a signing key is
 * configured, the exact bytes of that tarball are signed (Ed25519, detached,
 * base64) so the registry and every installer can check them. The upload is
 * one multipart POST /api/v1/packages with a `tarball` file part and an
 * optional `signature` part, with a progress bar on stderr when stderr is a
 * terminal. --dry-run packs and lists the files without uploading.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/targz.h"
#include "client.h"

static const char publish_usage[] =
    "usage: depot publish [DIR] [--dry-run] [--sign-key FILE | --no-sign] [--registry URL]\n"
    "\n"
    "Packs DIR (default: the current folder), which must hold depot.json, into a\n"
    ".tar.gz and uploads it. Files matched by DIR/.depotignore (gitignore-like\n"
    "globs), .git/, depot_modules/ and the signing key are left out. When a\n"
    "signing key exists (--sign-key, \"sign_key\" in config.json, or\n"
    "$XDG_CONFIG_HOME/depot/signing.key) the tarball is signed with it.\n"
    "--dry-run lists what would be uploaded and stops.\n";

static void rm_tmpdir(void *p)
{
    client_rmtree(p);
}

static void human(uint64_t n, char out[32])
{
    if (n < 1024)
        snprintf(out, 32, "%llu B", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, 32, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, 32, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

/* Reads the manifest and checks what the client needs from it. */
static int read_manifest(client *c, const char *dir, const char **name, const char **version, derr *e)
{
    const char *path = client_path(c, dir, "depot.json");
    json_t *m;
    if (client_read_json(c, path, true, &m, e) < 0)
        return -1;
    if (!m)
        return derr_set(e, 404, "not_found",
                        "%s not found: a package folder needs a depot.json manifest with at least "
                        "\"name\" and \"version\"",
                        path);
    if (!json_is_object(m))
        return derr_set(e, 422, "invalid", "%s: the manifest must be a JSON object", path);
    *name = json_string_value(json_object_get(m, "name"));
    *version = json_string_value(json_object_get(m, "version"));
    if (!*name || !(*name)[0])
        return derr_set(e, 422, "invalid", "%s: \"name\" is missing or not a string", path);
    if (!*version || !(*version)[0])
        return derr_set(e, 422, "invalid", "%s: \"version\" is missing or not a string", path);
    return 0;
}

/* Hashes (and signs, when sk) the tarball's exact bytes. */
static int digest_tarball(client *c, const char *path, const unsigned char *sk, uint64_t *size,
                          char sha_hex[65], const char **sig_b64, derr *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return derr_set(e, 500, "internal", "cannot read the packed tarball: %s", strerror(errno));
    }
    *size = (uint64_t)st.st_size;
    if (*size > CLIENT_MAX_TARBALL) {
        close(fd);
        return derr_set(e, 413, "too_large", "the tarball is larger than %u bytes", CLIENT_MAX_TARBALL);
    }
    void *p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (st.st_size && p == MAP_FAILED)
        return derr_set(e, 500, "internal", "cannot map the packed tarball: %s", strerror(errno));
    sha256_hex(p, (size_t)st.st_size, sha_hex);
    *sig_b64 = NULL;
    if (sk) {
        unsigned char sig[crypto_sign_BYTES];
        crypto_sign_detached(sig, NULL, p, (unsigned long long)st.st_size, sk);
        *sig_b64 = b64_encode(c->a, sig, sizeof sig);
    }
    if (p)
        munmap(p, (size_t)st.st_size);
    return 0;
}

/* The packed tarball: where it is and what it holds. */
typedef struct packed {
    const char *path;
    uint64_t unpacked, size; /* bytes of the files, of the tarball */
    char sha[65];
    const char *sig; /* base64, or NULL when not signed */
} packed;

/* Packs the files into a private temp folder (removed with the arena) and
 * hashes, and signs when sk, the tarball. */
static int pack_tarball(client *c, const char *dir, const pack_file *files, int n, const unsigned char *sk,
                        packed *t, derr *e)
{
    const char *tmpl = getenv("TMPDIR");
    char *tmpdir = arena_printf(c->a, "%s/depot-publish-XXXXXX", tmpl && tmpl[0] == '/' ? tmpl : "/tmp");
    if (!mkdtemp(tmpdir))
        return derr_set(e, 500, "internal", "cannot make a temp folder: %s", strerror(errno));
    arena_on_free(c->a, rm_tmpdir, tmpdir);
    t->path = client_path(c, tmpdir, "package.tar.gz");
    const char **arcs = arena_alloc(c->a, sizeof(char *) * (size_t)(n + 1));
    const char **disks = arena_alloc(c->a, sizeof(char *) * (size_t)(n + 1));
    t->unpacked = 0;
    for (int i = 0; i < n; i++) {
        arcs[i] = files[i].arc;
        disks[i] = files[i].disk;
        t->unpacked += files[i].size;
    }
    if (targz_write(t->path, arcs, disks, n, e) < 0) {
        char msg[sizeof e->message];
        memcpy(msg, e->message, sizeof msg);
        return derr_set(e, e->status, e->code, "cannot pack %s: %s", dir, msg);
    }
    t->size = 0;
    return digest_tarball(c, t->path, sk, &t->size, t->sha, &t->sig, e);
}

/* --dry-run: the files and what would be uploaded. key_id NULL: not signed. */
static void print_dry_run(const char *name, const char *version, const pack_file *files, int n,
                          const packed *t, const char *key_id)
{
    char h1[32], h2[32];
    human(t->unpacked, h1);
    human(t->size, h2);
    for (int i = 0; i < n; i++) {
        char hs[32];
        human(files[i].size, hs);
        printf("%10s  %s\n", hs, files[i].arc);
    }
    printf("%s@%s: %d files, %s unpacked, tarball %s, sha256 %s\n", name, version, n, h1, h2, t->sha);
    if (key_id)
        printf("signed with key %s\n", key_id);
    else
        printf("not signed\n");
    printf("dry run: nothing uploaded\n");
}

/* The multipart POST of the tarball (and its signature), and what the registry said. */
static int upload(client *c, const char *name, const char *version, int n, const packed *t,
                  const char *key_id)
{
    curl_mime *mime = curl_mime_init(client_curl(c));
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "tarball");
    curl_mime_filedata(part, t->path);
    curl_mime_filename(part, arena_printf(c->a, "%s-%s.tar.gz", name, version));
    curl_mime_type(part, "application/gzip");
    if (t->sig) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "signature");
        curl_mime_data(part, t->sig, CURL_ZERO_TERMINATED);
    }
    c->progress = isatty(STDERR_FILENO);
    client_resp r;
    derr e;
    int crc = client_call(c, "POST", "/api/v1/packages", NULL, mime, &r, &e);
    curl_mime_free(mime);
    if (crc < 0) {
        client_fail(&e);
        return EXIT_FAIL;
    }
    if (r.status != 201 && r.status != 200)
        return client_fail_resp(c, arena_printf(c->a, "publishing %s@%s failed", name, version), &r);
    const char *srv_sha = json_string_value(json_object_get(r.json, "sha256"));
    if (srv_sha && strcmp(srv_sha, t->sha) != 0)
        fprintf(stderr, "depot: warning: the registry stored sha256 %s, the client sent %s\n", srv_sha,
                t->sha);
    char h2[32];
    human(t->size, h2);
    printf("Published %s@%s to %s (%d files, %s, sha256 %s%s%s)\n", name, version, c->registry, n, h2, t->sha,
           key_id ? ", signed with key " : "", key_id ? key_id : "");
    return EXIT_OK;
}

/* DIR without trailing slashes, when it is a folder; NULL (said) when not. */
static const char *package_dir(client *c, const char *dir)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    dir = arena_strndup(c->a, dir, dl);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "depot: %s is not a folder\n", dir);
        return NULL;
    }
    return dir;
}

int client_publish(client *c, int argc, char **argv)
{
    bool dry = false, no_sign = false;
    const char *key_flag = NULL;
    client_opt opts[] = {{"--dry-run", false, NULL, &dry},
                         {"--no-sign", false, NULL, &no_sign},
                         {"--sign-key", true, &key_flag, NULL},
                         {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 1, publish_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    const char *dir = package_dir(c, npos ? pos[0] : ".");
    if (!dir)
        return EXIT_FAIL;
    derr e;
    const char *name = NULL, *version = NULL;
    if (read_manifest(c, dir, &name, &version, &e) < 0)
        return client_fail(&e);
    if (!dry && !c->auth) {
        fprintf(stderr, "depot: not logged in to %s; run `depot login` first\n", c->registry);
        return EXIT_FAIL;
    }

    unsigned char sk[64], pk[32];
    const char *key_path = no_sign ? NULL : client_sign_key_path(c, key_flag);
    if (key_path && client_load_secret_key(c, key_path, sk, pk, &e) < 0)
        return client_fail(&e);

    /* the files; a private key or the credentials never go in, even with --no-sign */
    const char *skip[] = {client_sign_key_path(c, key_flag), client_default_key_path(c),
                          client_path(c, c->config_dir, "credentials.json")};
    pack_file *files;
    int n;
    packed t;
    int rc = pack_list(c, dir, skip, 3, &files, &n, &e);
    if (rc == 0)
        rc = pack_tarball(c, dir, files, n, key_path ? sk : NULL, &t, &e);
    sodium_memzero(sk, sizeof sk);
    if (rc < 0) {
        client_fail(&e);
        return EXIT_FAIL;
    }
    char key_id[17] = "";
    if (key_path)
        client_key_id(pk, key_id);
    if (dry) {
        print_dry_run(name, version, files, n, &t, key_path ? key_id : NULL);
        return EXIT_OK;
    }
    return upload(c, name, version, n, &t, key_path ? key_id : NULL);
}
