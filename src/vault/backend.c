#include "vault/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
vault_backend_free(struct vault_backend *b)
{
	if (b != NULL && b->ops != NULL && b->ops->free != NULL)
		b->ops->free(b);
}

int
vault_error_set(struct vault_error *e, int code, int temporary,
    const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (e == NULL)
		return code;
	e->temporary = temporary != 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* one line, for logs and the dead-letter list */
	for (p = e->msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return code;
}
