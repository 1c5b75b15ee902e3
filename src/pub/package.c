/*
 * package.c — an uploaded pub archive, checked (see package.h).
 *
 * lib/targz.c already refuses absolute and `..` paths, duplicate paths and
 * bad names, and enforces the entry, size and ratio caps while it
 * decompresses; here come the rules particular to pub: links and special
 * files are refused (pub.dev refuses them; the client would skip or create
 * them on extraction), paths that collide when case is ignored are refused
 * (they overwrite each other on macOS and Windows), and pubspec.yaml must
 * be a regular file at the root.
 */
#include "package.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/targz.h"

#define README_MAX (512u << 10)
#define WANTED_MAX (4u << 20) /* the largest pubspec.yaml or README we read at all */

static bool is_readme(const char *path)
{
    return strcasecmp(path, "README.md") == 0;
}

static bool want(const char *path, void *ctx)
{
    (void)ctx;
    return strcmp(path, "pubspec.yaml") == 0 || is_readme(path);
}

static int by_lower(const void *x, const void *y)
{
    return strcasecmp(*(const char *const *)x, *(const char *const *)y);
}

int pub_package_read(arena *a, int fd, uint64_t size, const config *cfg, pub_package *out, derr *e)
{
    memset(out, 0, sizeof *out);
    if (size == 0)
        return derr_set(e, 422, "invalid", "archive: the uploaded file is empty");
    const pub_options *o = pub_opts(cfg);
    if (o->max_archive > 0 && size > (uint64_t)o->max_archive)
        return derr_set(e, 422, "invalid", "archive: %llu bytes is over this server's limit of %ld bytes",
                        (unsigned long long)size, o->max_archive);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return derr_set(e, 500, "internal", "cannot read the upload");
    targz_limits lim = {
        .max_entries = o->max_entries > 0 ? (uint64_t)o->max_entries : 65536,
        .max_total = o->max_unpacked > 0 ? (uint64_t)o->max_unpacked : (256u << 20),
        .max_entry = WANTED_MAX,
        .max_ratio = 1000,
    };
    targz_entry *ents;
    targz_file *files;
    int nents, nfiles;
    if (targz_read(a, fd, &lim, want, NULL, &ents, &nents, &files, &nfiles, e) < 0) {
        if (e->status >= 500)
            return -1;
        char why[sizeof e->message];
        memcpy(why, e->message, sizeof why); /* derr_set must not read what it writes */
        return derr_set(e, 422, "invalid", "archive: %.200s", why);
    }
    const char **paths = arena_alloc(a, sizeof *paths * (size_t)(nents ? nents : 1));
    const targz_entry *pubspec_entry = NULL;
    for (int i = 0; i < nents; i++) {
        const targz_entry *t = &ents[i];
        if (t->type == 'l' || t->type == 'h')
            return derr_set(e, 422, "invalid",
                            "archive: %.200s is a %s link; package archives may not hold links", t->path,
                            t->type == 'l' ? "symbolic" : "hard");
        if (t->type != 'f' && t->type != 'd')
            return derr_set(e, 422, "invalid", "archive: %.200s is not a regular file or a directory",
                            t->path);
        if (strcmp(t->path, "pubspec.yaml") == 0)
            pubspec_entry = t;
        paths[i] = t->path;
    }
    qsort(paths, (size_t)nents, sizeof *paths, by_lower);
    for (int i = 1; i < nents; i++)
        if (strcasecmp(paths[i - 1], paths[i]) == 0)
            return derr_set(
                e, 422, "invalid",
                "archive: %.120s and %.120s differ only in case; they would overwrite each other on "
                "case-insensitive file systems",
                paths[i - 1], paths[i]);
    if (!pubspec_entry || pubspec_entry->type != 'f')
        return derr_set(e, 422, "invalid", "archive: there is no pubspec.yaml at the archive's root");
    if (pubspec_entry->size > PUBSPEC_MAX_BYTES)
        return derr_set(e, 422, "invalid", "pubspec.yaml is larger than %u KiB", PUBSPEC_MAX_BYTES >> 10);
    const targz_file *yaml = NULL, *readme = NULL;
    for (int i = 0; i < nfiles; i++) {
        if (strcmp(files[i].path, "pubspec.yaml") == 0)
            yaml = &files[i];
        else if (is_readme(files[i].path) && (!readme || strcmp(files[i].path, "README.md") == 0))
            readme = &files[i];
    }
    if (!yaml)
        return derr_set(e, 422, "invalid", "archive: there is no pubspec.yaml at the archive's root");
    if (pubspec_parse(a, yaml->data, yaml->len, &out->ps, e) < 0)
        return -1;
    if (readme && readme->len <= README_MAX)
        out->readme = arena_strndup(a, readme->data, readme->len);
    return 0;
}
