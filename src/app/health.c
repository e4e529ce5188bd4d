#include "app/health.h"

#include "app/app.h"
#include "db/pool.h"
#include "util/buf.h"
#include "util/errors.h"

int
health_healthz(const struct request *r, struct response *resp)
{
	(void)r;
	buf_reset(&resp->body);
	buf_puts(&resp->body, "{\"status\":\"ok\"}");
	resp->status = 200;
	resp->content_type = CT_JSON;
	return buf_failed(&resp->body) ? ERR_ALLOC : 0;
}

int
health_readyz(const struct request *r, struct response *resp)
{
	const char *detail;
	int rc = ERR_DB_UNAVAILABLE;

	if (r->app != NULL && r->app->pool != NULL)
		rc = db_ready(r->app->pool);
	buf_reset(&resp->body);
	resp->content_type = CT_JSON;
	if (rc == 0) {
		resp->status = 200;
		buf_puts(&resp->body, "{\"status\":\"ready\"}");
	} else {
		/* db_ready logs the cause; the client gets the category */
		detail = rc == ERR_CONFIG ? "database not migrated"
					  : "database unreachable";
		resp->status = 503;
		resp->retry_after = 1;
		buf_printf(&resp->body,
		    "{\"status\":\"unavailable\",\"detail\":\"%s\"}", detail);
	}
	return buf_failed(&resp->body) ? ERR_ALLOC : 0;
}
