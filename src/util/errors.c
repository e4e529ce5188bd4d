#include "util/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
err_str(int err)
{
	switch (err) {
	case ERR_OK: return "ok";
	case ERR_INTERNAL: return "internal error";
	case ERR_ALLOC: return "out of memory";
	case ERR_INVALID: return "invalid input";
	case ERR_NOT_FOUND: return "not found";
	case ERR_CONFLICT: return "conflict";
	case ERR_PRECONDITION: return "precondition failed";
	case ERR_DB_UNAVAILABLE: return "database unavailable";
	case ERR_TOO_LARGE: return "too large";
	case ERR_AUTH: return "unauthorized";
	case ERR_FORBIDDEN: return "forbidden";
	case ERR_IO: return "i/o error";
	case ERR_LIMIT: return "limit exceeded";
	case ERR_NEED_MEMBERS: return "members needed";
	case ERR_NOT_MODIFIED: return "not modified";
	case ERR_CONFIG: return "configuration error";
	case ERR_CRYPTO: return "crypto error";
	default: return "unknown error";
	}
}

int
api_error_set(struct api_error *e, int status, const char *scim_type,
    const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->status != 0)
		return ERR_INVALID;
	e->status = status;
	snprintf(e->scim_type, sizeof(e->scim_type), "%s",
	    scim_type != NULL ? scim_type : "");
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return ERR_INVALID;
}

void
api_error_clear(struct api_error *e)
{
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

void
err_msg(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}
