/*
 * utf8.h — strict UTF-8, the one definition every parser checks text with.
 *
 * "Valid" means well-formed as RFC 3629 and Unicode §3.9 say: the shortest
 * encoding of each code point (no overlongs, so no C0/C1 lead bytes), no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no lead byte F5..FF,
 * no stray continuation byte and no sequence cut short. A NUL byte is a
 * valid code point (U+0000): callers that want C strings refuse it
 * themselves. Nothing here allocates; every function is thread-safe.
 */
#ifndef DEPOT_UTF8_H
#define DEPOT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether s[0..len) is valid UTF-8 (an empty string is). */
bool utf8_valid(const char *s, size_t len);

/* The length of the longest prefix of s[0..len) that is valid UTF-8 and
 * ends between two code points: len when the whole text is valid, else the
 * offset of the first sequence that is not. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Decodes the code point at the start of s[0..len) into *cp; returns the
 * bytes it takes (1 to 4), or 0 (and *cp is left alone) when len is 0 or
 * s does not start with a valid sequence. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Writes the UTF-8 encoding of cp to out and returns its length (1 to 4).
 * cp must be at most U+10FFFF; a surrogate is written as its three bytes
 * (which utf8_valid refuses), so callers that take code points from a
 * client check them first. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Whether every byte of s[0..len) is an ASCII letter, an ASCII digit or one
 * of the bytes of the C string extra (an empty string is): the alphabet of
 * identifiers and tokens that admit no other text. */
bool ascii_alnum_or(const char *s, size_t len, const char *extra);

#endif
