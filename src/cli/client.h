/*
 * client.h — what the depot client commands (`depot login`, `publish`,
 * `install` ...) share: the per-invocation client (registry URL, saved
 * credential, one libcurl handle, an arena for everything the command
 * allocates), the one HTTP helper, the config folder and its files, and the
 * small option parser every command uses.
 *
 * Ownership: everything a function here returns lives in the client's arena
 * (or is registered on it for cleanup, like parsed JSON) unless its comment
 * says otherwise, so a command frees nothing by hand. Errors follow err.h;
 * messages are for a person and are printed by the command with a `depot: `
 * prefix. Secrets (tokens, private keys) are never printed.
 */
#ifndef DEPOT_CLI_CLIENT_H
#define DEPOT_CLI_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"

/* Exit statuses of every client command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Caps on what a server may send us. */
#define CLIENT_MAX_DOC (64u << 20)       /* a JSON document */
#define CLIENT_MAX_TARBALL (1024u << 20) /* a downloaded tarball */

typedef struct client {
    arena *a;
    const char *cmd;        /* "publish", "owner add" ...: for messages */
    const char *registry;   /* base URL, no trailing '/' */
    const char *config_dir; /* $XDG_CONFIG_HOME/depot or ~/.config/depot */
    const char *token;      /* saved API token for this registry (or $DEPOT_TOKEN), or NULL */
    const char *auth;       /* Authorization header value for the next calls; NULL: none */
    json_t *config;         /* config.json (borrowed from the arena), never NULL */
    CURL *curl;             /* created on first use, kept for connection reuse */
    bool progress;          /* show an upload progress bar on stderr (publish on a terminal) */
} client;

/* ---- the HTTP helper (client_http.c) ---------------------------------------------------- */

typedef struct client_resp {
    long status;
    char *body; /* NUL-terminated, in the arena ("" when empty) */
    size_t len;
    json_t *json;           /* the body parsed, when it is JSON; freed with the arena */
    const char *request_id; /* X-Request-Id, or NULL */
} client_resp;

/* One request to path (relative to the registry, starting with '/') or to an
 * absolute http(s) URL. body (JSON, borrowed) or mime (borrowed) or neither.
 * The Authorization header is c->auth, sent only to the registry's own origin.
 * Returns 0 when a response arrived, whatever its status; -1 with e filled
 * when none did (connection refused, timeout, a body over CLIENT_MAX_DOC). */
int client_call(client *c, const char *method, const char *path, json_t *body, curl_mime *mime,
                client_resp *out, derr *e);

/* GET url into fd (a file opened for writing), hashing as it goes; at most
 * max bytes. Returns 0 on a 2xx with the SHA-256 in sha, or -1 with e filled
 * (the server's error message on a 4xx/5xx, with status set). */
int client_download(client *c, const char *url, int fd, uint64_t max, unsigned char sha[32], derr *e);

/* The server's error.message for a failed response, or a generic text. */
const char *client_errmsg(client *c, const client_resp *r);

/* Prints "depot: <what>: <server message> (HTTP <status>)" and a hint for 401
 * when a saved token was sent; returns EXIT_FAIL. */
int client_fail_resp(client *c, const char *what, const client_resp *r);

/* Prints "depot: <message>" for e; returns EXIT_FAIL. */
int client_fail(const derr *e);

/* What client_expect accepts besides one exact status. */
enum { CLIENT_200_OR_204 = 0, CLIENT_ANY_2XX = -1 };

/* Calls the registry (client_call, no mime) and wants the status want (or
 * one of the sets above). Returns 0 with the answer in *out; or -1 after
 * saying why (client_fail when no answer came, client_fail_resp(c, what, ...)
 * for another status). */
int client_expect(client *c, const char *method, const char *path, json_t *body, int want, const char *what,
                  client_resp *out);

/* A path segment escaped for a URL, in the arena. */
const char *client_esc(client *c, const char *segment);

/* Creates the libcurl handle lazily; frees it at the end (client.c). */
CURL *client_curl(client *c);

/* ---- files (client_files.c) ------------------------------------------------------------- */

/* Makes the config folder (mode 0700, its parents as needed). */
int client_config_mkdir(client *c, derr *e);

/* path joined with a name, in the arena. */
const char *client_path(client *c, const char *dir, const char *name);

/* Reads a whole file (at most max bytes) into the arena, NUL-terminated.
 * -1 with errno kept and e filled when it cannot. */
int client_read_file(arena *a, const char *path, size_t max, char **out, size_t *len, derr *e);

/* Reads a JSON file; *out is NULL (and 0 returned) when the file does not
 * exist and missing_ok. The value is freed with the arena. */
int client_read_json(client *c, const char *path, bool missing_ok, json_t **out, derr *e);

/* Writes data to path atomically (temp file in the same folder, fsync,
 * rename) with the given mode. */
int client_write_file(const char *path, const void *data, size_t len, unsigned mode, derr *e);

/* Writes JSON (sorted keys when sort, two-space indent, final newline) atomically. */
int client_write_json(const char *path, json_t *v, bool sort, unsigned mode, derr *e);

/* Removes a file tree (never following links). Returns 0 or -1. */
int client_rmtree(const char *path);

/* The saved token for the registry (credentials.json), or NULL; also the
 * token's name and the username when asked. */
int client_creds_get(client *c, const char **token, const char **token_name, const char **username, derr *e);
/* Saves (token != NULL) or forgets (token == NULL) the registry's credential. */
int client_creds_put(client *c, const char *token, const char *token_name, const char *username, derr *e);

/* ---- option parsing (client.c) ---------------------------------------------------------- */

typedef struct client_opt {
    const char *name; /* "--out" */
    bool has_value;
    const char **value; /* has_value: where the value goes */
    bool *flag;         /* !has_value: set to true */
} client_opt;

enum { CLIENT_PARSE_HELP = -1, CLIENT_PARSE_BAD = -2 };

/* Parses argv[1..] (argv[0] is the command) against opts (terminated by a
 * {NULL}); positional arguments go to pos (at most maxpos).
 * "--opt=value" and "--opt value" both work; "--" ends options.
 * Returns how many positional arguments there are; CLIENT_PARSE_HELP when
 * --help was asked (usage printed to stdout); CLIENT_PARSE_BAD on a usage
 * error (the problem and the usage printed to stderr). A command returns
 * client_parse_exit(r) when r is negative. */
int client_parse(int argc, char **argv, const client_opt *opts, const char **pos, int maxpos,
                 const char *usage);

/* The exit status of a command whose client_parse returned r < 0. */
int client_parse_exit(int r);

/* Prints "depot: <what>" and the usage to stderr; returns EXIT_USAGE. */
int client_usage_error(const char *what, const char *usage);

/* ---- the commands ----------------------------------------------------------------------- */

int client_login(client *c, int argc, char **argv);
int client_logout(client *c, int argc, char **argv);
int client_whoami(client *c, int argc, char **argv);
int client_keygen(client *c, int argc, char **argv);
int client_key(client *c, int argc, char **argv);
int client_publish(client *c, int argc, char **argv);
int client_search(client *c, int argc, char **argv);
int client_info(client *c, int argc, char **argv);
int client_yank(client *c, int argc, char **argv);
int client_owner(client *c, int argc, char **argv);
int client_install(client *c, int argc, char **argv);

/* ---- pieces shared between commands ----------------------------------------------------- */

/* The signing key file to use: --sign-key, else config "sign_key", else the
 * default path when that file exists; NULL when there is none. */
const char *client_sign_key_path(client *c, const char *flag);
/* The default private key path ($config/signing.key). */
const char *client_default_key_path(client *c);
/* Hex of the first 8 bytes of SHA-256(pk), as the registry names keys. */
void client_key_id(const unsigned char pk[32], char out[17]);
/* Reads a private key file (base64 of the 64-byte secret key) and derives its
 * public key; warns when other users may read the file. */
int client_load_secret_key(client *c, const char *path, unsigned char sk[64], unsigned char pk[32], derr *e);
/* Reads a public key file (or derives the public key from a private key file),
 * and its key id (client_key_id) into id. */
int client_load_public_key(client *c, const char *path, unsigned char pk[32], char id[17], derr *e);

/* One file to pack: its path in the archive and on disk. */
typedef struct pack_file {
    const char *arc;
    const char *disk;
    uint64_t size;
} pack_file;

/* Lists the files of the package folder dir that go into its tarball:
 * regular files not matched by .depotignore, never .git/, depot_modules/
 * or any file in skip (paths of files to keep out, like the signing key; may
 * hold NULLs). Sorted by archive path. Symlinks and special files are left
 * out with a warning on stderr. */
int pack_list(client *c, const char *dir, const char *const *skip, int nskip, pack_file **out, int *n,
              derr *e);

/* Gitignore-like rules (client_pack.c). */
typedef struct ignore_rules ignore_rules;
/* Parses the text of an ignore file. */
ignore_rules *ignore_parse(arena *a, const char *text);
/* Is path (relative, '/'-separated; is_dir for folders) ignored? */
bool ignore_match(const ignore_rules *r, const char *path, bool is_dir);

/* Safe unpacking of a .tar.gz into a new folder (client_unpack.c): only
 * regular files and folders, relative paths without "..", under limits.
 * dest must not exist; it is created. Returns 0, or -1 with e filled (dest
 * may be left half-filled: the caller unpacks into a temp folder). */
int unpack_targz(const char *tarball, const char *dest, derr *e);

#endif
