/*
 * log.c — one line per event, text ("ts level msg k=v ...") or JSON.
 * Values with spaces or quotes are quoted in text form; JSON strings are
 * escaped by hand to keep this free of allocation on the hot path.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static int json_format;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            min_level = (enum log_level)i;
            return 0;
        }
    return -1;
}

int log_set_format(const char *name)
{
    if (strcmp(name, "json") == 0)
        json_format = 1;
    else if (strcmp(name, "text") == 0)
        json_format = 0;
    else
        return -1;
    return 0;
}

int log_enabled(enum log_level l)
{
    return l >= min_level;
}

struct line {
    char buf[4096];
    size_t len;
};

static void put(struct line *ln, const char *s, size_t n)
{
    if (n > sizeof ln->buf - 2 - ln->len)
        n = sizeof ln->buf - 2 - ln->len;
    memcpy(ln->buf + ln->len, s, n);
    ln->len += n;
}

static void puts_(struct line *ln, const char *s)
{
    put(ln, s, strlen(s));
}

static void put_json_str(struct line *ln, const char *s)
{
    put(ln, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(ln, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(ln, esc, 6);
        } else {
            put(ln, s, 1);
        }
    }
    put(ln, "\"", 1);
}

static void put_text_val(struct line *ln, const char *s)
{
    if (*s && !strpbrk(s, " \"=\t\n\r")) {
        puts_(ln, s);
        return;
    }
    put(ln, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            put(ln, "\\", 1);
        if (*s == '\n' || *s == '\r' || *s == '\t')
            put(ln, " ", 1);
        else
            put(ln, s, 1);
    }
    put(ln, "\"", 1);
}

/* One field after the message: ,"k":"v" in JSON, k=v in text. */
static void put_field(struct line *ln, const char *k, const char *v)
{
    if (json_format) {
        put(ln, ",", 1);
        put_json_str(ln, k);
        put(ln, ":", 1);
        put_json_str(ln, v);
    } else {
        put(ln, " ", 1);
        puts_(ln, k);
        put(ln, "=", 1);
        put_text_val(ln, v);
    }
}

void log_kv(enum log_level l, const char *msg, ...)
{
    if (l < min_level)
        return;
    struct line ln = {.len = 0};
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000));

    va_list ap;
    va_start(ap, msg);
    if (json_format) {
        puts_(&ln, "{\"ts\":\"");
        puts_(&ln, ts);
        puts_(&ln, "\",\"level\":\"");
        puts_(&ln, level_names[l]);
        puts_(&ln, "\",\"msg\":");
        put_json_str(&ln, msg);
    } else {
        puts_(&ln, ts);
        put(&ln, " ", 1);
        puts_(&ln, level_names[l]);
        put(&ln, " ", 1);
        puts_(&ln, msg);
    }
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        put_field(&ln, k, v ? v : "");
    }
    if (json_format)
        put(&ln, "}", 1);
    va_end(ap);
    ln.buf[ln.len++] = '\n';
    ssize_t w = write(STDERR_FILENO, ln.buf, ln.len);
    (void)w;
}
