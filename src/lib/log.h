/*
 * log.h — leveled, structured logging to stderr, as text or JSON lines.
 *
 * A log line is a message plus key=value fields:
 *   log_info("listening", "addr", "127.0.0.1:4000", NULL);
 * Field lists are pairs of strings ended by NULL. One line is written with one
 * write(2), so lines from several threads never interleave.
 */
#ifndef DEPOT_LOG_H
#define DEPOT_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug|info|warn|error" and "text|json"; return 0 or -1. */
int log_set_level(const char *name);
int log_set_format(const char *name);
int log_enabled(enum log_level l);

void log_kv(enum log_level l, const char *msg, ...) __attribute__((sentinel));
#define log_debug(...) log_kv(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_kv(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_kv(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_kv(LOG_ERROR, __VA_ARGS__)

#endif
