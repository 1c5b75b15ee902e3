/*
 * targz.h — reading and writing .tar.gz package archives with libarchive,
 * under limits, without ever unpacking to disk.
 *
 * Every front gets its package as a gzip-compressed tar (npm, the native
 * client, pub; Hex's outer tar is plain). targz_read walks every entry once,
 * checks the archive against the caller's limits as it decompresses (entry
 * count, bytes, compression ratio) and every path against escaping the
 * archive, and keeps in memory only the few files the caller asks for (the
 * manifest, the readme). Only the tar formats and the gzip filter are
 * enabled, so no other decoder in libarchive is reachable from an upload.
 *
 * targz_write is for the depot client's `publish`: it packs files into a
 * reproducible .tar.gz (same inputs, same bytes).
 */
#ifndef DEPOT_TARGZ_H
#define DEPOT_TARGZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/* targz_limits.flags */
enum {
    TARGZ_ALLOW_PLAIN = 1 << 0,   /* also accept an uncompressed tar */
    TARGZ_STRIP_PACKAGE = 1 << 1, /* "package/x" → "x" (npm's layout); the "package" directory
                                     entry itself is dropped; paths outside it are kept as they are */
    TARGZ_REGULAR_ONLY = 1 << 2,  /* refuse links and special files (devices, FIFOs): a package
                                     that holds only regular files and folders */
};

typedef struct targz_limits {
    uint64_t max_entries; /* entries of any type; 0: 10000 */
    uint64_t max_total;   /* sum of the entries' sizes (uncompressed bytes); 0: 1 GiB */
    uint64_t max_entry;   /* bytes of one file that `want` accepts; 0: 1 MiB */
    uint64_t max_ratio;   /* uncompressed / compressed bytes, checked once the archive has
                             expanded past 1 MiB (small archives of tar padding compress
                             very well and are harmless); 0: 100 */
    unsigned flags;       /* TARGZ_* */
} targz_limits;

typedef struct targz_entry {
    const char *path; /* normalised (see targz_read) */
    uint64_t size;
    int type;         /* 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'o' other (devices, fifos) */
    const char *link; /* 'l': the symlink's target as stored; 'h': the path it links to as stored;
                         NULL otherwise. Not checked: a caller that honours links checks them. */
} targz_entry;

typedef struct targz_file {
    const char *path; /* as in targz_entry */
    const char *data; /* len bytes in the arena, followed by a NUL that len does not count */
    size_t len;
} targz_file;

/* Reads the tar.gz in fd from its current position to the end, and fills,
 * in the arena: every entry in archive order (*entries, *nentries) and the
 * content of each regular file whose path want(path, ctx) accepts (*files,
 * *nfiles, in archive order). want may be NULL (no files kept); it is called
 * once per regular file. lim may be NULL for the defaults.
 *
 * Paths are normalised: "./" and empty components are dropped ("./a//b/" is
 * "a/b"), a directory's trailing '/' too, and with TARGZ_STRIP_PACKAGE a
 * leading "package/". The root itself ("./") is not listed. A path must then
 * be relative, without ".." components, at most 1024 bytes, valid UTF-8
 * without control characters, and unique in the archive (a second copy of a
 * path could make what we validate differ from what a client unpacks).
 *
 * Returns 0, or -1 with e filled:
 *   400 bad_request  not a gzip tar archive (or not a tar, with
 *                    TARGZ_ALLOW_PLAIN), a corrupt or truncated archive
 *   422 invalid      "entry ../x escapes the archive", an absolute path, a bad
 *                    or duplicate path, more than N entries, "archive expands
 *                    beyond N bytes", "compression ratio over N", a wanted
 *                    file larger than max_entry, with TARGZ_REGULAR_ONLY "x is a link
 *                    or a special file; ..."
 *   500 internal     libarchive could not be set up
 * Messages do not carry the caller's prefix (callers say "tarball: ..."). */
int targz_read(arena *a, int fd, const targz_limits *lim, bool (*want)(const char *path, void *ctx),
               void *ctx, targz_entry **entries, int *nentries, targz_file **files, int *nfiles, derr *e);

/* Writes a .tar.gz to out_path (created or truncated, mode 0644) holding, for
 * each i < n, the regular file disk_paths[i] under the name arc_paths[i].
 * Entries are sorted by archive path (strcmp) and carry mode 0644, mtime 0,
 * uid/gid 0 and no owner names, and the gzip header has no time or name, so
 * the same files give the same bytes. Archive paths follow targz_read's
 * rules (relative, no "..", no duplicates, ≤ 1024 bytes); long paths use a
 * pax header. Returns 0, or -1 with e filled (400 for a bad archive path or a
 * disk path that is not a regular file, 500 for I/O) and out_path removed. */
int targz_write(const char *out_path, const char *const *arc_paths, const char *const *disk_paths, int n,
                derr *e);

#endif
