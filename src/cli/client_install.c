/*
 * client_install.c — `depot install [NAME[@REQ] ...]`: a project's
 * dependencies, resolved, downloaded, verified and unpacked into
 * depot_modules/, with a lock file for reproducible installs.
 *
 * The project is the current folder and must have a depot.json. Names given
 * on the command line are added to its dependencies (REQ defaults to
 * ^<latest>); depot.json is rewritten only when the install succeeded.
 *
 * depot.lock records what was installed:
 *   {"lockfile_version": 1,
 *    "dependencies": {name: requirement, ...},    the project's requirements it was made from
 *    "packages": {name: {"version", "sha256", "download_url"}, ...}}
 * with sorted keys. When it exists and still satisfies depot.json (see
 * lock_matches), install takes exactly its versions without asking the
 * resolver; otherwise POST /api/v1/resolve picks them (the registry's
 * resolver skips yanked versions unless pinned exactly with =X.Y.Z).
 *
 * Every tarball is checked against the SHA-256 the lock or the resolver
 * gave; a signed version is checked against the signer's public key when
 * that key is in $config/trusted_keys/<key_id>.pub (an unknown key gets a
 * note, a bad signature stops the install). Everything is unpacked into a
 * temp folder inside depot_modules first and renamed into place only when
 * every package is ready, so a failed install leaves the previous one as it
 * was. Folders of packages no longer needed are removed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/crypto.h"
#include "../lib/semver.h"
#include "client.h"

#define MODULES "depot_modules"

static const char install_usage[] =
    "usage: depot install [NAME[@REQ] ...] [--dev] [--no-dev] [--locked] [--registry URL]\n"
    "\n"
    "Installs the project's dependencies (depot.json in the current folder) into\n"
    "depot_modules/. NAMEs are added to depot.json first (to dev_dependencies with\n"
    "--dev); REQ defaults to ^<latest version>. When depot.lock matches depot.json,\n"
    "its exact versions are installed; otherwise the registry resolves them and\n"
    "depot.lock is written. --locked fails instead of resolving when the lock is\n"
    "missing or out of date. --no-dev leaves dev_dependencies out. Checksums are\n"
    "always verified; signatures when the signer's key is in\n"
    "$XDG_CONFIG_HOME/depot/trusted_keys/<key_id>.pub.\n";

/* ^[a-z][a-z0-9_-]{0,63}$: also what makes a name safe as a folder name. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static bool valid_hex(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void rm_tmpdir(void *p)
{
    client_rmtree(p);
}

static void free_json(void *p)
{
    json_decref(p);
}

/* ---- adding names to depot.json ------------------------------------------------------------ */

static int add_names(client *c, json_t *manifest, const char **args, int nargs, bool dev)
{
    const char *field = dev ? "dev_dependencies" : "dependencies";
    json_t *deps = json_object_get(manifest, field);
    if (deps && !json_is_object(deps)) {
        fprintf(stderr, "depot: depot.json: \"%s\" must be an object\n", field);
        return EXIT_FAIL;
    }
    if (!deps) {
        deps = json_object();
        json_object_set_new(manifest, field, deps);
    }
    for (int i = 0; i < nargs; i++) {
        const char *at = strchr(args[i], '@');
        const char *name = at ? arena_strndup(c->a, args[i], (size_t)(at - args[i])) : args[i];
        const char *req = at ? at + 1 : NULL;
        if (!valid_name(name)) {
            fprintf(stderr, "depot: '%s' is not a package name (lower-case letters, digits, '-' and '_')\n",
                    name);
            return EXIT_USAGE;
        }
        if (at && !req[0]) {
            fprintf(stderr, "depot: '%s': the requirement after '@' is empty\n", args[i]);
            return EXIT_USAGE;
        }
        if (!req) {
            client_resp r;
            const char *path = arena_printf(c->a, "/api/v1/packages/%s", client_esc(c, name));
            if (client_expect(c, "GET", path, NULL, 200, name, &r) < 0)
                return EXIT_FAIL;
            const char *latest = json_string_value(json_object_get(r.json, "latest"));
            if (!latest || !latest[0]) {
                fprintf(stderr, "depot: %s has no version to install (all yanked?); give one: %s@=X.Y.Z\n",
                        name, name);
                return EXIT_FAIL;
            }
            req = arena_printf(c->a, "^%s", latest);
        }
        json_object_set_new(deps, name, json_string(req));
    }
    return EXIT_OK;
}

/* The requirements to install: dependencies, plus dev_dependencies unless no_dev. */
static int root_requirements(json_t *manifest, bool no_dev, json_t **out)
{
    json_t *roots = json_object();
    const char *fields[] = {"dev_dependencies", "dependencies"}; /* dependencies win on a clash */
    for (int f = no_dev ? 1 : 0; f < 2; f++) {
        json_t *deps = json_object_get(manifest, fields[f]);
        if (!deps || json_is_null(deps))
            continue;
        if (!json_is_object(deps)) {
            fprintf(stderr, "depot: depot.json: \"%s\" must be an object of name: requirement\n", fields[f]);
            json_decref(roots);
            return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach(deps, k, v)
        {
            if (!json_is_string(v)) {
                fprintf(stderr, "depot: depot.json: the requirement of %s must be a string\n", k);
                json_decref(roots);
                return -1;
            }
            json_object_set(roots, k, v);
        }
    }
    *out = roots;
    return 0;
}

/* ---- the lock ------------------------------------------------------------------------------ */

/* Is the lock usable for these requirements? It is when it still satisfies depot.json: no
 * requirement it was made from has gone (else it would install what is no longer needed), and
 * every requirement now has a locked version that matches it. A root added since is fine when
 * the lock already has it (as someone's dependency) at a matching version. */
static bool lock_matches(client *c, json_t *lock, json_t *roots)
{
    if (!json_is_object(lock) || json_integer_value(json_object_get(lock, "lockfile_version")) != 1)
        return false;
    json_t *deps = json_object_get(lock, "dependencies");
    json_t *pkgs = json_object_get(lock, "packages");
    if (!json_is_object(deps) || !json_is_object(pkgs))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(deps, k, v)
    {
        if (!json_object_get(roots, k))
            return false;
    }
    json_object_foreach(roots, k, v)
    {
        const char *locked = json_string_value(json_object_get(json_object_get(pkgs, k), "version"));
        if (!locked)
            return false;
        if (json_equal(v, json_object_get(deps, k)))
            continue; /* the requirement it was locked for */
        derr e;
        semver sv;
        semver_req *req = semver_req_parse(c->a, SEMVER_NATIVE, json_string_value(v), &e);
        if (!req || semver_parse(c->a, locked, &sv) < 0 || !semver_req_match(req, &sv, false))
            return false;
    }
    return true;
}

/* ---- verifying ----------------------------------------------------------------------------- */

/* The version's signature ({algorithm, key_id, signature}) or NULL when unsigned. The
 * resolver sends it flat ("signature": base64, "signing_key_id") and leaves both out for an
 * unsigned version; a lock has neither, so then the version document says. */
static int version_signature(client *c, const char *name, const char *version, json_t *entry, json_t **sig)
{
    *sig = NULL;
    json_t *s = json_object_get(entry, "signature");
    if (json_is_object(s)) {
        *sig = s;
        return 0;
    }
    if (json_is_string(s)) {
        json_t *o = json_object();
        json_object_set_new(o, "algorithm", json_string("ed25519"));
        json_object_set(o, "key_id", json_object_get(entry, "signing_key_id"));
        json_object_set(o, "signature", s);
        arena_on_free(c->a, free_json, o);
        *sig = o;
        return 0;
    }
    client_resp r;
    const char *path =
        arena_printf(c->a, "/api/v1/packages/%s/versions/%s", client_esc(c, name), client_esc(c, version));
    if (client_expect(c, "GET", path, NULL, 200, arena_printf(c->a, "%s@%s", name, version), &r) < 0)
        return EXIT_FAIL;
    s = json_object_get(r.json, "signature");
    *sig = json_is_object(s) ? s : NULL;
    return 0;
}

/* Checks a signature with a trusted key; returns EXIT_OK when it verified or the key is not
 * trusted (a note is printed), EXIT_FAIL when it does not verify. */
static int check_signature(client *c, const char *name, const char *version, json_t *sig, const char *tarball)
{
    const char *key_id = json_string_value(json_object_get(sig, "key_id"));
    const char *sig64 = json_string_value(json_object_get(sig, "signature"));
    const char *alg = json_string_value(json_object_get(sig, "algorithm"));
    if (!valid_hex(key_id, 16) || !sig64) {
        fprintf(stderr, "depot: %s@%s: the registry sent a malformed signature record\n", name, version);
        return EXIT_FAIL;
    }
    if (alg && strcasecmp(alg, "ed25519") != 0) {
        fprintf(stderr, "note: %s@%s is signed with %s, which this client cannot check\n", name, version,
                alg);
        return EXIT_OK;
    }
    char lower[17];
    for (int i = 0; i < 16; i++)
        lower[i] = (char)tolower((unsigned char)key_id[i]);
    lower[16] = '\0';
    const char *kp = arena_printf(c->a, "%s/trusted_keys/%s.pub", c->config_dir, lower);
    if (access(kp, F_OK) != 0) {
        fprintf(stderr, "note: %s@%s is signed by key %s (not in your trusted keys)\n", name, version, lower);
        return EXIT_OK;
    }
    unsigned char pk[32];
    char real_id[17];
    derr e;
    if (client_load_public_key(c, kp, pk, real_id, &e) < 0)
        return client_fail(&e);
    if (strcmp(real_id, lower) != 0) {
        fprintf(stderr, "depot: the trusted key file %s holds key %s, not %s\n", kp, real_id, lower);
        return EXIT_FAIL;
    }
    unsigned char *raw;
    size_t rl;
    if (b64_decode(c->a, sig64, strlen(sig64), &raw, &rl) < 0 || rl != crypto_sign_BYTES) {
        fprintf(stderr, "depot: %s@%s: the signature is not base64 of %d bytes\n", name, version,
                crypto_sign_BYTES);
        return EXIT_FAIL;
    }
    int fd = open(tarball, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "depot: cannot read the downloaded tarball of %s@%s\n", name, version);
        return EXIT_FAIL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "depot: cannot map the downloaded tarball of %s@%s\n", name, version);
        return EXIT_FAIL;
    }
    int ok = crypto_sign_verify_detached(raw, p, (unsigned long long)st.st_size, pk);
    munmap(p, (size_t)st.st_size);
    if (ok != 0) {
        fprintf(stderr,
                "depot: the signature of %s@%s does NOT verify with your trusted key %s; refusing to "
                "install it\n",
                name, version, lower);
        return EXIT_FAIL;
    }
    printf("  signature of %s@%s verified (key %s)\n", name, version, lower);
    return EXIT_OK;
}

/* Downloads, verifies and unpacks one package into tmp/<name>. */
static int fetch_one(client *c, const char *tmp, const char *name, json_t *entry)
{
    const char *version = json_string_value(json_object_get(entry, "version"));
    const char *want = json_string_value(json_object_get(entry, "sha256"));
    const char *url = json_string_value(json_object_get(entry, "download_url"));
    if (!version || !version[0] || !valid_hex(want, 64)) {
        fprintf(stderr,
                "depot: %s: no version or no valid sha256 for it (in depot.lock or the registry's "
                "answer)\n",
                name);
        return EXIT_FAIL;
    }
    if (!url || !url[0])
        url = arena_printf(c->a, "/api/v1/packages/%s/versions/%s/download", client_esc(c, name),
                           client_esc(c, version));
    const char *tarball = arena_printf(c->a, "%s/%s.tar.gz", tmp, name);
    int fd = open(tarball, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "depot: cannot create %s: %s\n", tarball, strerror(errno));
        return EXIT_FAIL;
    }
    unsigned char sha[32];
    derr e;
    int rc = client_download(c, url, fd, CLIENT_MAX_TARBALL, sha, &e);
    if (close(fd) < 0 && rc == 0)
        rc = derr_set(&e, 500, "internal", "cannot write %s: %s", tarball, strerror(errno));
    if (rc < 0) {
        fprintf(stderr, "depot: downloading %s@%s failed: %s\n", name, version, e.message);
        return EXIT_FAIL;
    }
    char got[65];
    hex_encode(sha, 32, got);
    if (strcasecmp(got, want) != 0) {
        fprintf(
            stderr,
            "depot: checksum mismatch for %s@%s: expected sha256 %s, downloaded %s; refusing to install it\n",
            name, version, want, got);
        return EXIT_FAIL;
    }
    json_t *sig;
    if (version_signature(c, name, version, entry, &sig) != 0)
        return EXIT_FAIL;
    if (sig && check_signature(c, name, version, sig, tarball) != EXIT_OK)
        return EXIT_FAIL;
    if (unpack_targz(tarball, arena_printf(c->a, "%s/%s", tmp, name), &e) < 0) {
        fprintf(stderr, "depot: cannot unpack %s@%s: %s\n", name, version, e.message);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Moves every unpacked package into depot_modules and removes folders of packages no longer needed. */
static int put_in_place(client *c, const char *tmp, json_t *plan)
{
    const char *name;
    json_t *v;
    json_object_foreach(plan, name, v)
    {
        const char *dest = arena_printf(c->a, MODULES "/%s", name);
        const char *old = arena_printf(c->a, "%s/.old-%s", tmp, name);
        if (rename(dest, old) < 0 && errno != ENOENT) {
            fprintf(stderr, "depot: cannot replace %s: %s\n", dest, strerror(errno));
            return EXIT_FAIL;
        }
        if (rename(arena_printf(c->a, "%s/%s", tmp, name), dest) < 0) {
            fprintf(stderr, "depot: cannot move %s into place: %s\n", dest, strerror(errno));
            return EXIT_FAIL;
        }
    }
    DIR *d = opendir(MODULES);
    if (!d)
        return EXIT_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !valid_name(de->d_name) || json_object_get(plan, de->d_name))
            continue;
        const char *p = arena_printf(c->a, MODULES "/%s", de->d_name);
        if (client_rmtree(p) < 0)
            fprintf(stderr, "depot: warning: cannot remove %s: %s\n", p, strerror(errno));
        else
            printf("  removed %s (no longer a dependency)\n", de->d_name);
    }
    closedir(d);
    return EXIT_OK;
}

static int resolve(client *c, json_t *roots, json_t **plan)
{
    json_t *body = json_object();
    json_object_set(body, "dependencies", roots);
    json_object_set_new(body, "include_prerelease", json_false());
    client_resp r;
    derr e;
    int rc = client_call(c, "POST", "/api/v1/resolve", body, NULL, &r, &e);
    json_decref(body);
    if (rc < 0)
        return client_fail(&e);
    if (r.status == 422) {
        fprintf(stderr, "depot: cannot resolve the dependencies: %s\n", client_errmsg(c, &r));
        fprintf(stderr, "depot: (yanked versions are only installed when pinned exactly, as in "
                        "\"=1.2.3\", or when depot.lock has them)\n");
        return EXIT_FAIL;
    }
    if (r.status != 200)
        return client_fail_resp(c, "resolving the dependencies failed", &r);
    json_t *pkgs = json_object_get(r.json, "packages");
    if (!json_is_object(pkgs)) {
        fprintf(stderr, "depot: the registry's resolve answer has no \"packages\" object\n");
        return EXIT_FAIL;
    }
    *plan = pkgs;
    return EXIT_OK;
}

/* depot.json as a JSON object; *out stays NULL (and the reason is printed) otherwise. */
static int read_manifest(client *c, json_t **out)
{
    derr e;
    json_t *manifest;
    if (client_read_json(c, "depot.json", true, &manifest, &e) < 0)
        return client_fail(&e);
    if (!manifest) {
        fprintf(stderr, "depot: no depot.json in this folder: `depot install` works in a project folder "
                        "(write a depot.json with at least \"name\" and \"version\")\n");
        return EXIT_FAIL;
    }
    if (!json_is_object(manifest)) {
        fprintf(stderr, "depot: depot.json must be a JSON object\n");
        return EXIT_FAIL;
    }
    *out = manifest;
    return EXIT_OK;
}

/* What to install: depot.lock when it still matches the roots, else the
 * registry's resolution (refused with --locked); *from_lock says which. */
static int make_plan(client *c, json_t *roots, bool locked, json_t **plan, bool *from_lock)
{
    derr e;
    json_t *lock;
    if (client_read_json(c, "depot.lock", true, &lock, &e) < 0) {
        fprintf(stderr, "depot: warning: ignoring depot.lock: %s\n", e.message);
        lock = NULL;
    }
    *from_lock = lock && lock_matches(c, lock, roots);
    if (*from_lock) {
        *plan = json_object_get(lock, "packages");
        printf("Installing from depot.lock\n");
    } else if (locked) {
        fprintf(stderr,
                "depot: depot.lock is %s depot.json; run `depot install` without --locked to update it\n",
                lock ? "out of date with" : "missing for");
        return EXIT_FAIL;
    } else if (json_object_size(roots)) {
        return resolve(c, roots, plan);
    } else {
        *plan = json_object();
        arena_on_free(c->a, free_json, *plan);
    }
    return EXIT_OK;
}

/* Every name of the plan checked before it becomes a path, then the names
 * sorted (jansson objects iterate in insertion order; output must be stable). */
static int plan_names(client *c, json_t *plan, const char ***out)
{
    const char *name;
    json_t *entry;
    json_object_foreach(plan, name, entry)
    {
        if (!valid_name(name) || !json_is_object(entry)) {
            fprintf(stderr, "depot: refusing to install '%.80s': not a valid package name or entry\n", name);
            return EXIT_FAIL;
        }
    }
    size_t n = json_object_size(plan), k = 0;
    const char **names = arena_alloc(c->a, sizeof(char *) * (n + 1));
    json_object_foreach(plan, name, entry)
    {
        names[k++] = name;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    *out = names;
    return EXIT_OK;
}

/* A fresh folder inside MODULES for the downloads, removed with the arena. */
static int make_tmpdir(client *c, char **out)
{
    if (mkdir(MODULES, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "depot: cannot create %s: %s\n", MODULES, strerror(errno));
        return EXIT_FAIL;
    }
    char *tmp = arena_strdup(c->a, MODULES "/.depot-tmp-XXXXXX");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "depot: cannot make a temp folder in %s: %s\n", MODULES, strerror(errno));
        return EXIT_FAIL;
    }
    arena_on_free(c->a, rm_tmpdir, tmp);
    *out = tmp;
    return EXIT_OK;
}

/* depot.lock: the same shape whether the plan came from the resolver or the old lock. */
static int write_lock(json_t *roots, json_t *plan)
{
    json_t *newlock = json_object();
    json_object_set_new(newlock, "lockfile_version", json_integer(1));
    json_object_set(newlock, "dependencies", roots);
    json_t *pk = json_object();
    const char *name;
    json_t *entry;
    json_object_foreach(plan, name, entry)
    {
        json_t *o = json_object();
        json_object_set(o, "version", json_object_get(entry, "version"));
        json_object_set(o, "sha256", json_object_get(entry, "sha256"));
        const char *url = json_string_value(json_object_get(entry, "download_url"));
        if (url)
            json_object_set_new(o, "download_url", json_string(url));
        json_object_set_new(pk, name, o);
    }
    json_object_set_new(newlock, "packages", pk);
    derr e;
    int wrc = client_write_json("depot.lock", newlock, true, 0644, &e);
    json_decref(newlock);
    return wrc < 0 ? client_fail(&e) : EXIT_OK;
}

int client_install(client *c, int argc, char **argv)
{
    bool dev = false, no_dev = false, locked = false;
    client_opt opts[] = {{"--dev", false, NULL, &dev},
                         {"--no-dev", false, NULL, &no_dev},
                         {"--locked", false, NULL, &locked},
                         {0}};
    const char *pos[256];
    int npos = client_parse(argc, argv, opts, pos, 256, install_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    if (npos && locked) {
        fprintf(stderr, "depot: --locked installs the lock as it is; it cannot add packages\n");
        return EXIT_USAGE;
    }
    json_t *manifest = NULL, *roots, *plan = NULL;
    int rc = read_manifest(c, &manifest);
    if (rc == EXIT_OK && npos)
        rc = add_names(c, manifest, pos, npos, dev);
    if (rc != EXIT_OK)
        return rc;
    if (root_requirements(manifest, no_dev, &roots) < 0)
        return EXIT_FAIL;
    arena_on_free(c->a, free_json, roots);

    bool from_lock;
    const char **names;
    char *tmp;
    if ((rc = make_plan(c, roots, locked, &plan, &from_lock)) != EXIT_OK ||
        (rc = plan_names(c, plan, &names)) != EXIT_OK || (rc = make_tmpdir(c, &tmp)) != EXIT_OK)
        return rc;
    size_t n = json_object_size(plan);
    for (size_t i = 0; i < n; i++)
        if (fetch_one(c, tmp, names[i], json_object_get(plan, names[i])) != EXIT_OK)
            return EXIT_FAIL;
    if (put_in_place(c, tmp, plan) != EXIT_OK)
        return EXIT_FAIL;
    if ((rc = write_lock(roots, plan)) != EXIT_OK)
        return rc;
    derr e;
    if (npos && client_write_json("depot.json", manifest, false, 0644, &e) < 0)
        return client_fail(&e);

    for (size_t i = 0; i < n; i++) {
        json_t *ent = json_object_get(plan, names[i]);
        printf("  %s@%s\n", names[i], json_string_value(json_object_get(ent, "version")));
    }
    printf("Installed %zu package%s into %s/ (checksums verified)%s\n", n, n == 1 ? "" : "s", MODULES,
           from_lock ? "" : "; wrote depot.lock");
    return EXIT_OK;
}
