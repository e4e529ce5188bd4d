#ifndef VB_UTIL_STRUTIL_H
#define VB_UTIL_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "util/errors.h"

/*
 * Parse a decimal unsigned integer in [min, max] (cf. strtonum): the whole
 * string must be digits, no sign, no spaces. 0 or ERR_INVALID.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) WUR;

/* Same for a string of known length (need not be NUL-terminated). */
int parse_u64n(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out) WUR;

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int utf8_valid(const char *s, size_t len);

/* ASCII case-insensitive equality of s[0..n) and NUL-terminated t. */
int str_ieq_n(const char *s, size_t n, const char *t);

/* strdup of s[0..n); NULL on allocation failure. Caller frees. */
char *str_ndup(const char *s, size_t n);

/* 1 if s is a canonical lower-case UUID text (8-4-4-4-12 hex). */
int str_is_uuid(const char *s);

/* Read a whole small file (<= max bytes) into a malloc'd NUL-terminated
 * buffer; trailing newlines stripped. Caller frees (wipe if secret).
 * 0, ERR_IO, ERR_TOO_LARGE or ERR_ALLOC. */
int file_read_small(const char *path, size_t max, char **outp, size_t *lenp) WUR;

/*
 * 1 if the JSON text s (n bytes) nests objects and arrays at most max
 * deep, found by a scan that skips strings, so that hostile nesting is
 * refused before a parser recurses into it (jansson has no such limit).
 * Not a validator: malformed text is the parser's to refuse.
 */
int json_depth_ok(const char *s, size_t n, int max);

#endif
