/* Unit tests for framing_problem: the fields of a request head, parsed in place the way
 * libmicrohttpd 0.9.75 does (name, NUL for the colon, whitespace, value), refused or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/framing.h"

#define MAXF 8

/* Parses "Name: value\n..." lines into mem in place; a line that starts with a space or a tab
 * (obs-fold) is joined to the previous field's name further on in mem, as the library does in
 * its memory pool. */
static size_t parse(const char *head, char *mem, http_field *f)
{
    char *buf = mem, (*moved)[64] = (char(*)[64])(mem + 512);
    size_t cap = 512;
    size_t n = 0;
    snprintf(buf, cap, "%s", head);
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if ((*line == ' ' || *line == '\t') && n) {
            char *t = line;
            while (*t == ' ' || *t == '\t')
                t++;
            char joined[64];
            snprintf(joined, sizeof joined, "%s%s", f[n - 1].name, t);
            memcpy(moved[n - 1], joined, sizeof joined);
            f[n - 1].name = moved[n - 1];
        } else {
            char *colon = strchr(line, ':');
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            f[n].name = line;
            f[n].value = v;
            n++;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return n;
}

struct tcase {
    const char *head;
    const char *want; /* a word of the refusal, NULL when accepted */
};

static const struct tcase cases[] = {
    {"Host: x\nContent-Length: 5", NULL},
    {"Host: x\nTransfer-Encoding: chunked", NULL},
    {"Host: x\nTransfer-Encoding: Chunked ", NULL},
    {"Host: x\nX-Empty:", NULL},
    {"Host: x\nX-Spaced:      v", NULL},
    {"Content-Length: 5\nTransfer-Encoding: chunked", "both"},
    {"Transfer-Encoding: chunked\nContent-Length: 5", "both"},
    {"Content-Length: 5\nContent-Length: 6", "one Content-Length"},
    {"Content-Length: 5\ncontent-length: 5", "one Content-Length"},
    {"Transfer-Encoding: xchunked", "chunked, once"},
    {"Transfer-Encoding: gzip, chunked", "chunked, once"},
    {"Transfer-Encoding: identity", "chunked, once"},
    {"Transfer-Encoding:", "chunked, once"},
    {"Transfer-Encoding: chunked\nTransfer-Encoding: chunked", "chunked, once"},
    {"Transfer-Encoding : chunked", "whitespace"},
    {"X-A\t: 1", "whitespace"},
    {"X-A: 1\n 2", "folding"},
    {"X-A: 1\n\t2 3", "folding"},
    {"Transfer-Encoding: identity\n chunked", "folding"},
    {"X(A): 1", "token"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char mem[512 + MAXF * 64];
        http_field f[MAXF];
        size_t n = parse(cases[i].head, mem, f);
        const char *why = framing_problem(f, n);
        if (!cases[i].want) {
            if (why)
                fail_msg("%s: refused: %s", cases[i].head, why);
        } else if (!why || !strstr(why, cases[i].want)) {
            fail_msg("%s: want a refusal saying \"%s\", got %s", cases[i].head, cases[i].want,
                     why ? why : "none");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
