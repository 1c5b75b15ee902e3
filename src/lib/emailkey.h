/*
 * emailkey.h — the form in which email addresses are compared, so that two
 * spellings of one address (case, fullwidth or other compatibility forms,
 * a domain written in Unicode or as xn-- punycode) name one account.
 *
 * The key is the whole address under Unicode NFKC_Casefold (NFKC, full case
 * folding, default-ignorable characters removed), with the domain first
 * turned from its punycode (A-label) form into Unicode by UTS #46. The local
 * part is folded too: depot already matched it without regard to ASCII case,
 * and a mailbox whose name differs only by case or compatibility form is
 * the same person's everywhere that matters. Look-alikes from different
 * scripts (Latin a, Cyrillic а) are different characters and stay apart.
 * For an ASCII address the key is its ASCII lower case, what depot stored
 * before. ICU does the Unicode work.
 */
#ifndef DEPOT_EMAILKEY_H
#define DEPOT_EMAILKEY_H

/* The comparison key of an address, in a new string the caller frees; NULL for NULL. Text ICU
 * cannot take (not UTF-8, too long) gets its ASCII lower case. Thread-safe. */
char *email_key(const char *email);

#endif
