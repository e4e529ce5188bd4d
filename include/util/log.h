#ifndef VB_UTIL_LOG_H
#define VB_UTIL_LOG_H

#include <stddef.h>

/*
 * Logging to stderr, one line per event, logfmt (key=value) after the
 * level and message. Never pass a secret. Client-supplied strings must
 * go through log_clean() first (escaped, cut to LOG_CLIENT_STR_MAX).
 * The level is process-wide and set once at startup before threads
 * start; it is the only global in the logger and is read-only afterwards.
 */

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR };

void log_set_level(enum log_level l);
/* Parse "debug|info|warn|error"; 0 or ERR_INVALID. */
int log_level_parse(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug_f(fmt, ...) log_debug("%s: " fmt, __func__, ##__VA_ARGS__)
#define log_info_f(fmt, ...) log_info("%s: " fmt, __func__, ##__VA_ARGS__)
#define log_warn_f(fmt, ...) log_warn("%s: " fmt, __func__, ##__VA_ARGS__)
#define log_error_f(fmt, ...) log_error("%s: " fmt, __func__, ##__VA_ARGS__)

/*
 * Copy client text s into out (size outsz) for logging: control chars,
 * quotes, backslashes and non-ASCII escaped as \xNN, cut to
 * LOG_CLIENT_STR_MAX input bytes with "..." appended when cut.
 * Returns out.
 */
char *log_clean(const char *s, char *out, size_t outsz);

#endif
