#ifndef VB_HTTP_AUTH_WATCH_H
#define VB_HTTP_AUTH_WATCH_H

#include "util/errors.h"

/*
 * The invalidation watcher of the token cache (http/auth.h): one thread
 * with its own database session (db/token_watch.h, not from the pool)
 * that LISTENs for changes of api_token rows and drops each changed
 * token from the cache, so a revocation made through any daemon, the
 * CLI or plain SQL takes effect here as soon as it is delivered.
 *
 * Fail closed: the cache is live only while the session is connected,
 * its LISTEN confirmed and a ping answered within the last
 * HTTP_AUTH_WATCH_LEASE_MS. On (re)connection the cache is flushed and
 * only then enabled; on loss it is disabled (and flushed), then the
 * watcher reconnects after HTTP_AUTH_WATCH_BACKOFF_MIN_MS, doubling up
 * to HTTP_AUTH_WATCH_BACKOFF_MAX_MS. Logs at info when it listens, at
 * warn when it loses the session; token ids only, never a secret.
 */

/* Reconnect delays after a failed attempt or a lost session. */
#define HTTP_AUTH_WATCH_BACKOFF_MIN_MS 100
#define HTTP_AUTH_WATCH_BACKOFF_MAX_MS 5000
/*
 * Liveness: a ping goes out after HTTP_AUTH_WATCH_PING_MS without one
 * answered; no answer within HTTP_AUTH_WATCH_PING_TIMEOUT_MS means the
 * session is lost. Each answer renews the cache's lease, counted from
 * when the ping was sent, for the sum of both, so a session that dies
 * without a reset (a network partition) turns the cache off after at
 * most HTTP_AUTH_WATCH_LEASE_MS even if this thread were stuck.
 */
#define HTTP_AUTH_WATCH_PING_MS 1000
#define HTTP_AUTH_WATCH_PING_TIMEOUT_MS 1500
#define HTTP_AUTH_WATCH_LEASE_MS                                               \
	(HTTP_AUTH_WATCH_PING_MS + HTTP_AUTH_WATCH_PING_TIMEOUT_MS)

struct auth_cache;
struct auth_watch;

/*
 * Start the watcher of cache (borrowed: it must outlive the watcher)
 * with the database at dsn (copied), connect_timeout_s per attempt.
 * A NULL cache (no caching configured) starts nothing: 0 with *out
 * NULL. Otherwise 0 with *out (stop with http_auth_watch_stop); the
 * cache stays off until the first LISTEN succeeds. ERR_ALLOC, ERR_IO
 * (no pipe), ERR_INTERNAL (no thread). Start it with the signals that
 * the daemon takes by sigwait() already blocked: the thread inherits
 * the mask.
 */
int http_auth_watch_start(struct auth_cache *cache, const char *dsn,
    unsigned connect_timeout_s, struct auth_watch **out) WUR;

/* Stop the thread (promptly, also while it connects), join it, close
 * its session, leave the cache disabled, free. NULL is fine. */
void http_auth_watch_stop(struct auth_watch *w);

#endif
