/*
 * config.c — the option table and its four sources.
 *
 * Each option is one row: its name (also the config-file key and, upper-cased,
 * the environment name), type, default, where it lands in struct config, and
 * its help line. Values are first collected as text per row, source over
 * source, then converted and checked once.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/netaddr.h"
#include "../lib/xalloc.h"
#include "ecosystem.h"

/* The table's short names for config.h's option types. */
#define T_STR CONFIG_STR
#define T_LONG CONFIG_LONG
#define T_BOOL CONFIG_BOOL

#define O(f) offsetof(config, f)
#define R(cl, i) (offsetof(config, rate) + sizeof(long) * ((size_t)(cl) * 2 + (i)))

static const config_opt opts[] = {
    {"listen", T_STR, "127.0.0.1:4000", O(listen), 0, 0, "address to listen on, HOST:PORT (port 0: any free port)"},
    {"data", T_STR, "./data", O(data), 0, 0, "data folder (database, blobs, secrets)"},
    {"base-url", T_STR, "", O(base_url), 0, 0, "public URL of this server, used in every absolute URL it prints (default http://LISTEN)"},
    {"store", T_STR, "", O(store_url), 0, 0, "metadata store URL: sqlite:PATH (default sqlite:DATA/depot.db)"},
    {"blobs", T_STR, "", O(blob_url), 0, 0, "blob store URL: file:DIR or s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path_style=0|1... (default file:DATA/blobs; docs/s3-and-redis.md lists the S3 options)"},
    {"blob-redirect", T_BOOL, "false", O(blob_redirect), 0, 0, "answer package downloads with a 302 to a presigned URL of the S3 store instead of sending the bytes"},
    {"redis", T_STR, "", O(redis_url), 0, 0, "Redis URL for rate limits shared by every server, redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (empty: counted per process)"},
    {"config", T_STR, "", O(config_file), 0, 0, "config file of `name = value` lines"},
    {"log-level", T_STR, "info", O(log_level), 0, 0, "debug, info, warn or error"},
    {"log-format", T_STR, "text", O(log_format), 0, 0, "text or json"},
    {"threads", T_LONG, "0", O(threads), 0, 256, "HTTP event threads (0: one per core)"},
    {"workers", T_LONG, "0", O(workers), 0, 256, "threads for slow work such as password hashing (0: one per core, at least 2; at least 16 with S3 blobs)"},
    {"max-body", T_LONG, "1048576", O(max_body), 1024, LONG_MAX, "largest JSON request body, bytes"},
    {"max-upload", T_LONG, "104857600", O(max_upload), 1024, LONG_MAX, "largest package upload, bytes"},
    {"max-url", T_LONG, "8192", O(max_url), 256, 65536, "longest request URL, bytes (414 past it)"},
    {"max-headers", T_LONG, "16384", O(max_headers), 1024, 262144, "largest total of request headers, bytes (431 past it)"},
    {"max-connections", T_LONG, "1024", O(max_connections), 1, 1000000, "open connections in all"},
    {"max-connections-per-ip", T_LONG, "128", O(max_connections_per_ip), 0, 1000000, "open connections from one IP (0: no cap)"},
    {"connection-timeout", T_LONG, "30", O(connection_timeout), 1, 86400, "seconds an idle connection stays open"},
    {"request-timeout", T_LONG, "300", O(request_timeout), 1, 86400, "seconds one request may take to arrive (408 past it)"},
    {"shutdown-timeout", T_LONG, "30", O(shutdown_timeout), 0, 3600, "seconds to let in-flight requests finish on SIGTERM"},
    {"tls-cert", T_STR, "", O(tls_cert), 0, 0, "PEM certificate (chain) to serve HTTPS with, leaf first; needs --tls-key (empty: plain HTTP)"},
    {"tls-key", T_STR, "", O(tls_key), 0, 0, "PEM private key of --tls-cert (unencrypted; keep it readable by this user only)"},
    {"trusted-proxies", T_STR, "", O(trusted_proxies), 0, 0, "comma-separated addresses or networks (10.0.0.0/8, ::1) of load balancers whose X-Forwarded-For names the client, for rate limits and logs (empty: none)"},
    {"cors-origins", T_STR, "", O(cors_origins), 0, 0, "comma-separated origins allowed by CORS (empty: none)"},
    {"registration", T_STR, "open", O(registration), 0, 0, "open (anyone may register) or closed (only an admin adds users)"},
    {"private", T_BOOL, "false", O(private_mode), 0, 0, "every read needs a credential"},
    {"jwt-secret", T_STR, "", O(jwt_secret), 0, 0, "secret for session tokens (default: generated into DATA/jwt.key)"},
    {"jwt-ttl", T_LONG, "2592000", O(jwt_ttl), 1, 31622400, "session token lifetime, seconds"},
    {"rate-limit", T_BOOL, "true", O(rate_limit), 0, 0, "enforce rate limits (on/off)"},
    {"rate-auth", T_LONG, "300", R(RL_AUTH, 0), 0, 3600000, "logins, registrations, password resets and failed credentials per hour per IP, sustained"},
    {"rate-auth-burst", T_LONG, "60", R(RL_AUTH, 1), 0, 10000000, "... at once"},
    {"rate-publish", T_LONG, "120", R(RL_PUBLISH, 0), 0, 3600000, "uploads (a version, its docs) per hour per user, sustained"},
    {"rate-publish-burst", T_LONG, "30", R(RL_PUBLISH, 1), 0, 10000000, "... at once"},
    {"rate-write", T_LONG, "1200", R(RL_WRITE, 0), 0, 3600000, "other writes per hour per user (per IP when anonymous), sustained"},
    {"rate-write-burst", T_LONG, "120", R(RL_WRITE, 1), 0, 10000000, "... at once"},
    {"rate-search", T_LONG, "3600", R(RL_SEARCH, 0), 0, 3600000, "searches per hour per user (per IP when anonymous), sustained"},
    {"rate-search-burst", T_LONG, "300", R(RL_SEARCH, 1), 0, 10000000, "... at once"},
    {"rate-read", T_LONG, "120000", R(RL_READ, 0), 0, 3600000, "reads (metadata, tarballs, pages) per hour per user (per IP when anonymous), sustained"},
    {"rate-read-burst", T_LONG, "80000", R(RL_READ, 1), 0, 10000000, "... at once"},
    {"login-failures", T_LONG, "10", O(login_failures), 0, 1000000, "failed password checks one account may take in any --login-lock seconds, from anywhere; then 429 for its password logins (0: no account lock)"},
    {"login-lock", T_LONG, "900", O(login_lock), 1, 86400, "seconds of the window above; after the limit, one more try each this many seconds"},
    {"unpublish-window", T_LONG, "259200", O(unpublish_window), 0, LONG_MAX, "seconds after publishing during which owners may remove a version (npm unpublish; a Hex revert follows --hex-replace-window); 0: never"},
    {"docs-url", T_STR, "", O(docs_url), 0, 0, "public URL of a separate origin serving hosted docs (default: /docs on this server)"},
    {"cache-size", T_LONG, "64", O(cache_size), 1, 1048576, "MiB of built documents (packuments, registry files, listings) kept in memory"},
    {"auth-cache-ttl", T_LONG, "30", O(auth_cache_ttl), 0, 3600, "seconds a checked token or session is kept in memory (any revocation anywhere drops it at once; 0: off)"},
    {"argon2-ops", T_LONG, "0", O(argon2_ops), 0, 64, "Argon2id passes (0: libsodium's interactive default)"},
    {"argon2-mem", T_LONG, "0", O(argon2_mem), 0, 4294967296L, "Argon2id memory, bytes (0: libsodium's interactive default; minimum 8192)"},
    {"server-name", T_STR, "depot", O(server_name), 0, 0, "the name people see: page titles, the sender name and subjects of mail"},
    {"smtp-url", T_STR, "", O(smtp_url), 0, 0, "mail server for password resets and address checks, smtp://HOST:PORT or smtps://HOST:PORT (user:password@ allowed); empty: no mail"},
    {"smtp-from", T_STR, "", O(smtp_from), 0, 0, "sender address of mail (default depot@ the base URL's host)"},
};
#define NOPTS (sizeof opts / sizeof opts[0])
/* The fronts' options are listed after this one of the table above. */
#define FRONTS_AFTER "unpublish-window"
#define MAX_OPTS 128

/* An option and where its value lands: struct config (front -1), or the block of entry `front`
 * of the table of fronts. */
typedef struct slot {
    const config_opt *o;
    int front;
} slot;

/* Every option in the order --help lists them: the table above, with each front's options
 * after FRONTS_AFTER in the order of the table of fronts. Made once (the table is constant);
 * returns how many. */
static slot slots[MAX_OPTS];
static size_t nslots;

static size_t all_slots(void)
{
    if (nslots)
        return nslots;
    slot *out = slots;
    size_t n = 0;
    for (size_t i = 0; i < NOPTS && n < MAX_OPTS; i++) {
        out[n++] = (slot){&opts[i], -1};
        if (strcmp(opts[i].name, FRONTS_AFTER) != 0)
            continue;
        const eco_desc *eco;
        for (size_t f = 0; (eco = ecosystem_entry(f)) && f < CONFIG_FRONTS_MAX; f++)
            for (size_t k = 0; eco->opts && eco->opts[k].name && n < MAX_OPTS; k++)
                out[n++] = (slot){&eco->opts[k], (int)f};
    }
    return nslots = n;
}

void *config_eco(const config *c, const eco_desc *eco)
{
    const eco_desc *x;
    for (size_t f = 0; (x = ecosystem_entry(f)) && f < CONFIG_FRONTS_MAX; f++)
        if (x == eco)
            return c->eco_opts[f];
    return NULL;
}

void config_set_eco(config *c, const eco_desc *eco, void *block)
{
    const eco_desc *x;
    for (size_t f = 0; (x = ecosystem_entry(f)) && f < CONFIG_FRONTS_MAX; f++)
        if (x == eco)
            c->eco_opts[f] = block;
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: depot serve [options]\n\n"
                 "Options (flag > environment DEPOT_NAME > config file > default):\n");
    size_t n = all_slots();
    for (size_t i = 0; i < n; i++) {
        const config_opt *o = slots[i].o;
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name,
                 o->type == CONFIG_BOOL ? "[=on|off]" : o->type == CONFIG_LONG ? " N" : " VALUE");
        fprintf(out, "  %-30s %s", left, o->help);
        if (o->def[0])
            fprintf(out, " [%s]", o->def);
        fputc('\n', out);
    }
    fprintf(out, "  %-30s %s\n", "--help", "this list");
}

/* The index of the option called name (n bytes) in slots[], or -1. */
static int find_opt(const char *name, size_t n)
{
    size_t ns = all_slots();
    for (size_t i = 0; i < ns; i++)
        if (strlen(slots[i].o->name) == n && memcmp(slots[i].o->name, name, n) == 0)
            return (int)i;
    return -1;
}

/* A hint for an option of an earlier release that is gone: the hourly windows per anonymous IP
 * and per user (--rate-download-anon, --rate-other-user ...) became one token bucket per class. */
static const char *retired_hint(const char *name, size_t n)
{
    bool rate = n > 5 && strncmp(name, "rate-", 5) == 0;
    bool split = (n > 5 && memcmp(name + n - 5, "-anon", 5) == 0) || (n > 5 && memcmp(name + n - 5, "-user", 5) == 0);
    if (rate && split)
        return ": rate limits are token buckets per class now, set with --rate-CLASS and "
               "--rate-CLASS-burst (auth, publish, write, search, read; see SECURITY.md)";
    return "";
}

/* Keeps s to be freed by config_free; returns it. */
static char *own(config *c, char *s)
{
    if (c->nowned < (int)(sizeof c->owned / sizeof c->owned[0]))
        c->owned[c->nowned++] = s;
    return s;
}

void config_free(config *c)
{
    for (int i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    c->nowned = 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "on", "yes"}, *no[] = {"0", "false", "off", "no"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Text values per option, strings owned by the process (config lives as long as it). */
static int read_file(config *c, const char *path, const char **vals, derr *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return derr_set(e, 400, "config", "cannot read config file %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fclose(f);
            return derr_set(e, 400, "config", "%s:%d: expected name = value", path, lineno);
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && ((v[0] == '"' && v[vl - 1] == '"') || (v[0] == '\'' && v[vl - 1] == '\''))) {
            v[vl - 1] = '\0';
            v++;
        }
        int o = find_opt(k, strlen(k));
        if (o < 0 || strcmp(k, "config") == 0) {
            fclose(f);
            return derr_set(e, 400, "config", "%s:%d: unknown option '%s'%s", path, lineno, k,
                            retired_hint(k, strlen(k)));
        }
        vals[o] = own(c, xstrdup(v));
    }
    fclose(f);
    return 0;
}

static void env_name(const char *name, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "DEPOT_%s", name);
    for (size_t i = 6; i < n && i < cap; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static int convert(config *c, const char **vals, derr *e)
{
    for (size_t i = 0; i < nslots; i++) {
        const config_opt *o = slots[i].o;
        const char *v = vals[i] ? vals[i] : o->def;
        char *base = slots[i].front < 0 ? (char *)c : c->eco_opts[slots[i].front];
        void *dst = base + o->off;
        if (o->type == CONFIG_STR) {
            *(const char **)dst = v;
        } else if (o->type == CONFIG_BOOL) {
            if (parse_bool(v, (bool *)dst) < 0)
                return derr_set(e, 400, "config", "--%s: expected on or off, got '%s'", o->name, v);
        } else {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || end == v || *end || n < o->min || n > o->max)
                return derr_set(e, 400, "config", "--%s: expected a whole number from %ld to %ld, got '%s'",
                                o->name, o->min, o->max, v);
            *(long *)dst = n;
        }
    }
    return 0;
}

static int check(config *c, derr *e)
{
    if (strcmp(c->registration, "open") && strcmp(c->registration, "closed"))
        return derr_set(e, 400, "config", "--registration: expected open or closed");
    if (strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") && strcmp(c->log_level, "warn") &&
        strcmp(c->log_level, "error"))
        return derr_set(e, 400, "config", "--log-level: expected debug, info, warn or error");
    if (strcmp(c->log_format, "text") && strcmp(c->log_format, "json"))
        return derr_set(e, 400, "config", "--log-format: expected text or json");
    const char *colon = strrchr(c->listen, ':');
    if (!colon || colon == c->listen || !colon[1])
        return derr_set(e, 400, "config", "--listen: expected HOST:PORT, got '%s'", c->listen);
    if (c->smtp_url[0] && strncmp(c->smtp_url, "smtp://", 7) && strncmp(c->smtp_url, "smtps://", 8))
        return derr_set(e, 400, "config", "--smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT");
    if (c->smtp_from[0] && (!strchr(c->smtp_from, '@') || strpbrk(c->smtp_from, "<>\r\n\" ,;")))
        return derr_set(e, 400, "config", "--smtp-from: expected a bare address such as depot@example.com");
    if (strpbrk(c->server_name, "\r\n<>\""))
        return derr_set(e, 400, "config", "--server-name: no line breaks, quotes or angle brackets");
    if (c->argon2_mem && c->argon2_mem < 8192)
        return derr_set(e, 400, "config", "--argon2-mem: at least 8192 bytes");
    if (!c->data[0])
        return derr_set(e, 400, "config", "--data: a folder is needed");
    if (!c->tls_cert[0] != !c->tls_key[0])
        return derr_set(e, 400, "config", "--tls-cert and --tls-key go together: give both or neither");
    netaddr_list proxies;
    if (netaddr_list_parse(c->trusted_proxies, &proxies, e) < 0)
        return -1;
    /* Derived defaults. */
    char *s;
    if (!c->store_url[0]) {
        size_t n = strlen(c->data) + 32;
        s = own(c, xmalloc(n));
        snprintf(s, n, "sqlite:%s/depot.db", c->data);
        c->store_url = s;
    }
    if (!c->blob_url[0]) {
        size_t n = strlen(c->data) + 32;
        s = own(c, xmalloc(n));
        snprintf(s, n, "file:%s/blobs", c->data);
        c->blob_url = s;
    } else if (strncmp(c->blob_url, "s3://", 5) == 0 && !strstr(c->blob_url, "?tmp=") &&
               !strstr(c->blob_url, "&tmp=")) {
        /* The S3 store's local folder (uploads, fetched bytes) defaults to DATA/s3-tmp. */
        buf b;
        buf_init(&b, 0);
        buf_printf(&b, "%s%stmp=", c->blob_url, strchr(c->blob_url, '?') ? "&" : "?");
        for (const char *p = c->data; *p; p++) {
            if (strchr("%&#+ ", *p))
                buf_printf(&b, "%%%02X", (unsigned char)*p);
            else
                buf_append(&b, p, 1);
        }
        buf_puts(&b, "/s3-tmp");
        c->blob_url = own(c, xstrdup(b.data));
        buf_free(&b);
    }
    if (!c->base_url[0]) {
        size_t n = strlen(c->listen) + 32;
        s = own(c, xmalloc(n));
        snprintf(s, n, "%s://%s", c->tls_cert[0] ? "https" : "http", c->listen);
        c->base_url = s;
        c->base_url_derived = true;
    } else {
        if (strncmp(c->base_url, "http://", 7) && strncmp(c->base_url, "https://", 8))
            return derr_set(e, 400, "config", "--base-url: expected http:// or https://");
        if (c->tls_cert[0] && strncmp(c->base_url, "https://", 8))
            return derr_set(e, 400, "config", "--base-url: this server speaks HTTPS (--tls-cert), so its URL starts with https://");
        size_t n = strlen(c->base_url);
        if (c->base_url[n - 1] == '/') {
            s = own(c, xstrdup(c->base_url));
            while (n > 1 && s[n - 1] == '/')
                s[--n] = '\0';
            c->base_url = s;
        }
    }
    c->https = c->tls_cert[0] || strncmp(c->base_url, "https://", 8) == 0;
    return 0;
}

/* The flags of argv into flag_vals[] (by slot), the rest into rest[] when it is not NULL.
 * 1 when --help was asked (printed to out), 0, or -1 with e filled. */
static int read_flags(int argc, char **argv, const char **flag_vals, char **rest, int *nrest, FILE *out,
                      derr *e)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(out);
            return 1;
        }
        int o = -1;
        const char *v = NULL;
        if (strncmp(a, "--", 2) == 0 && a[2]) {
            const char *eq = strchr(a, '=');
            o = find_opt(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (o >= 0 && eq)
                v = eq + 1;
        }
        if (o < 0) {
            if (!rest)
                return derr_set(e, 400, "config", "unknown option '%s' (see --help)%s", a,
                                a[0] == '-' && a[1] == '-' ? retired_hint(a + 2, strcspn(a + 2, "=")) : "");
            rest[(*nrest)++] = argv[i];
            continue;
        }
        if (!v) {
            bool b;
            if (slots[o].o->type == CONFIG_BOOL) {
                if (i + 1 < argc && parse_bool(argv[i + 1], &b) == 0)
                    v = argv[++i];
                else
                    v = "true";
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                return derr_set(e, 400, "config", "--%s needs a value", slots[o].o->name);
            }
        }
        flag_vals[o] = v;
    }
    return 0;
}

int config_load(config *c, int argc, char **argv, char **rest, int *nrest, FILE *out, derr *e)
{
    const char *flag_vals[MAX_OPTS] = {0}, *vals[MAX_OPTS] = {0};
    if (nrest)
        *nrest = 0;
    memset(c, 0, sizeof *c);
    size_t n = all_slots();
    const eco_desc *eco;
    for (size_t f = 0; (eco = ecosystem_entry(f)) && f < CONFIG_FRONTS_MAX; f++)
        if (eco->opts_size)
            c->eco_opts[f] = own(c, xcalloc(1, eco->opts_size));
    int rc = read_flags(argc, argv, flag_vals, rest, nrest, out, e);
    if (rc != 0)
        return rc;

    /* Config file: the flag, else the environment. */
    const char *cf = flag_vals[find_opt("config", 6)];
    if (!cf)
        cf = getenv("DEPOT_CONFIG");
    if (cf && *cf && read_file(c, cf, vals, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char name[64];
        env_name(slots[i].o->name, name, sizeof name);
        const char *ev = getenv(name);
        if (ev)
            vals[i] = ev;
        if (flag_vals[i])
            vals[i] = flag_vals[i];
    }
    if (convert(c, vals, e) < 0)
        return -1;
    return check(c, e);
}
