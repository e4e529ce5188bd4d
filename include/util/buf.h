#ifndef VB_UTIL_BUF_H
#define VB_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Bounded growable byte buffer with a sticky failure flag (cf. PgBouncer
 * pktbuf, curl dynbuf). Appends never fail loudly: once an append would
 * pass max or allocation fails, 'failed' is set and further appends are
 * ignored. Check buf_failed() once at the end. The data is always
 * NUL-terminated (the NUL is not counted in len).
 * The buf owns data; buf_free() releases it, buf_free_wipe() zeroes it
 * first (use it for anything that held a secret).
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int failed;
};

/* Empty buffer that may grow to max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Forget the contents, keep the allocation and the failure flag cleared. */
void buf_reset(struct buf *b);
int buf_failed(const struct buf *b);
/* Contents as a C string; "" for an empty buffer. Owned by b. */
const char *buf_str(const struct buf *b);
/* Hand over data to the caller (who frees it); b becomes empty. NULL if
 * failed or empty-and-unallocated (then returns a malloc'd ""). */
char *buf_steal(struct buf *b, size_t *lenp);
void buf_free(struct buf *b);
void buf_free_wipe(struct buf *b);

#endif
