/*
 * spdx.h — checking SPDX license expressions ("MIT OR Apache-2.0",
 * "GPL-2.0-or-later WITH Classpath-exception-2.0", "LicenseRef-Custom").
 *
 * The grammar is the SPDX specification's annex D: license ids from the SPDX
 * License List (deprecated ones included), an optional "+" right after an id,
 * LicenseRef-<idstring> and DocumentRef-<idstring>:LicenseRef-<idstring>,
 * "WITH" and an exception id (or an AdditionRef-<idstring>) after a simple
 * license, "AND" binding tighter than "OR", and parentheses. Operators must be
 * upper case; ids and the Ref- prefixes match in any case ("mit" is MIT).
 *
 * The id lists are data: src/lib/spdx_ids.inc, written by scripts/gen-spdx
 * from the npm packages spdx-license-ids and spdx-exceptions.
 */
#ifndef DEPOT_SPDX_H
#define DEPOT_SPDX_H

#include <stdbool.h>
#include <stddef.h>

/* Checks that expr is a valid SPDX license expression. Returns 0, or -1 with
 * a sentence for a person in why (always NUL-terminated when whylen > 0;
 * why may be NULL) that names the problem: the unknown id, the misplaced
 * operator, the unbalanced parenthesis. Parentheses nest at most 32 deep and
 * an expression is at most 4096 bytes. Thread-safe; allocates nothing. */
int spdx_check(const char *expr, char *why, size_t whylen);

/* Whether id (no "+", no Ref- form) is on the SPDX License List, or on the
 * exception list, matched case-insensitively. When canonical is not NULL it
 * receives the list's spelling ("mit" → "MIT"), a static string. */
bool spdx_license_known(const char *id, size_t len, const char **canonical);
bool spdx_exception_known(const char *id, size_t len, const char **canonical);

#endif
