/*
 * fuzz_framing.c — libFuzzer driver for the framing rules (framing_problem in
 * src/http/framing.c) and the logged form of a path (redact_path in
 * src/http/redact.c).
 *
 * Input: a request head: a request line, then header lines ending in LF or
 * CRLF. The lines are parsed in place as libmicrohttpd 0.9.75 does (name, NUL
 * for the colon, optional whitespace, value; a line that starts with a space
 * or a tab joined to the previous name in memory further on), and a line
 * without a colon ends the head, as the library answers it 400 itself.
 *
 * Checked: framing_problem refuses exactly when a name is not a token, a name
 * was moved by a fold, Content-Length comes more than once or with
 * Transfer-Encoding, or Transfer-Encoding is anything but one "chunked" (a
 * second judge written here from the rules); the logged path of the request
 * target (with the npm logout route, whose last segment is secret) holds no
 * '?', no credential-shaped segment and nothing after the route's secret.
 *
 *   make fuzz FUZZERS=framing   (see fuzz/README.md)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/framing.h"
#include "http/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 64
#define MOVED 4096

static void h(req *r)
{
    (void)r;
}

static const route logout = {
    .method = "DELETE", .pattern = "/npm/-/user/token/{token}", .fn = h, .secret_param = "token"};

static bool tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The second judge: whether the head should be refused. */
static bool should_refuse(const http_field *f, const bool *moved, size_t n)
{
    int ncl = 0, nte = 0;
    const char *te = NULL;
    for (size_t i = 0; i < n; i++) {
        if (moved[i] || !*f[i].name)
            return true;
        for (const char *p = f[i].name; *p; p++)
            if (!tchar((unsigned char)*p))
                return true;
        if (!strcasecmp(f[i].name, "Content-Length"))
            ncl++;
        if (!strcasecmp(f[i].name, "Transfer-Encoding")) {
            nte++;
            te = f[i].value;
        }
    }
    if ((ncl && nte) || ncl > 1 || nte > 1)
        return true;
    if (te) {
        te += strspn(te, " \t");
        size_t l = strlen(te);
        while (l && (te[l - 1] == ' ' || te[l - 1] == '\t'))
            l--;
        return !(l == 7 && !strncasecmp(te, "chunked", 7));
    }
    return false;
}

static bool secret_shaped(const char *s, size_t n)
{
    if (n >= 24 && !strncmp(s, "dpt_", 4))
        return strspn(s + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") >= n - 4;
    return false;
}

static void check_path(arena *a, const char *target)
{
    const char *p = redact_path(a, target, &logout);
    if (strchr(p, '?') || strlen(p) > strlen(target) + 16 * (strlen(target) + 1))
        abort();
    for (const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if (secret_shaped(s, n))
            abort();
        s += n;
        if (*s)
            s++;
    }
    const char *pre = "/npm/-/user/token/";
    if (!strncmp(p, pre, strlen(pre)) && !strchr(p + strlen(pre), '/') &&
        strcmp(p + strlen(pre), REDACTED) != 0 && p[strlen(pre)])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *mem = calloc(1, size + 1 + MOVED);
    memcpy(mem, data, size);
    char *moved_at = mem + size + 1;
    size_t moved_left = MOVED;
    http_field f[MAXF];
    bool moved[MAXF] = {false};
    size_t n = 0;
    arena *a = arena_new(0);

    char *line = mem, *end = mem + size;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl)
        *nl = '\0';
    check_path(a, line);
    while (nl && n < MAXF) {
        line = nl + 1;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl) {
            *nl = '\0';
            if (nl > line && nl[-1] == '\r')
                nl[-1] = '\0';
        }
        if (!*line)
            break;
        if ((*line == ' ' || *line == '\t') && n) {
            const char *t = line + strspn(line, " \t");
            size_t need = strlen(f[n - 1].name) + strlen(t) + 1;
            if (need > moved_left)
                break;
            memcpy(moved_at, f[n - 1].name, strlen(f[n - 1].name));
            memcpy(moved_at + strlen(f[n - 1].name), t, strlen(t) + 1);
            f[n - 1].name = moved_at;
            moved[n - 1] = true;
            moved_at += need;
            moved_left -= need;
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon)
            break;
        *colon = '\0';
        char *v = colon + 1;
        v += strspn(v, " \t");
        f[n].name = line;
        f[n].value = v;
        n++;
    }
    /* A value more than 256 bytes of whitespace after its colon is refused too. */
    bool far = false;
    for (size_t i = 0; i < n; i++)
        if (!moved[i] && (size_t)(f[i].value - f[i].name) > strlen(f[i].name) + 256)
            far = true;
    const char *why = framing_problem(f, n);
    if (!far && !why != !should_refuse(f, moved, n))
        abort();
    if (far && !why)
        abort();
    arena_free(a);
    free(mem);
    return 0;
}
