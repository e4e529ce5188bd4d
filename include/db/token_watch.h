#ifndef VB_DB_TOKEN_WATCH_H
#define VB_DB_TOKEN_WATCH_H

#include "util/errors.h"

/*
 * A dedicated session, outside the pool, that LISTENs for changes of
 * api_token rows. sql/0007_auth_notify.sql makes every UPDATE that
 * matters to authentication and every DELETE of a row send the row's
 * old id on DB_TOKEN_WATCH_CHANNEL (a TRUNCATE sends ""), whatever
 * client made the change. The session is for one thread (it is not
 * locked): http/auth_watch.c, which drops cached tokens on each
 * notification. Pooled sessions never LISTEN (db/pool.c treats input
 * on an idle pooled session as its end), hence a session of its own.
 *
 * Every wait below also watches a stop descriptor (the read end of a
 * pipe, say), so the owning thread can be stopped promptly even while
 * it connects.
 */

/* The channel: the one place its name is written in C. */
#define DB_TOKEN_WATCH_CHANNEL "vaultbridge_auth"
/* application_name of the session, so an operator (and the tests) can
 * find it in pg_stat_activity. */
#define DB_TOKEN_WATCH_APP_NAME "vaultbridge-auth-watch"

/* Positive results of open and wait (errors are negative ERR_*). */
#define DB_TOKEN_WATCH_PONG 1    /* the ping was answered */
#define DB_TOKEN_WATCH_STOPPED 2 /* stop_fd became readable */

struct db_token_watch;

/*
 * Connect to dsn (as db/pool.c does: connect_timeout_s, 0 = 5 s, bounds
 * the whole attempt here) and LISTEN on DB_TOKEN_WATCH_CHANNEL. Returns
 * 0 with *out (caller frees with db_token_watch_free) only once the
 * server confirmed the LISTEN and a first ping came back (see
 * db_token_watch_ping): from then on every committed change is
 * reported. DB_TOKEN_WATCH_STOPPED when stop_fd became readable first,
 * ERR_DB_UNAVAILABLE (connect or LISTEN failed or timed out; logged at
 * warn, never the DSN), ERR_CONFIG (dsn too long), ERR_ALLOC.
 */
int db_token_watch_open(const char *dsn, unsigned connect_timeout_s,
    int stop_fd, struct db_token_watch **out) WUR;

/* Close the session and free; NULL is fine. */
void db_token_watch_free(struct db_token_watch *w);

/*
 * Send a ping unless one is still unanswered: a notification on the
 * channel with a payload of our own ("ping:..."; every watcher ignores
 * other watchers' pings). Its answer shows up as DB_TOKEN_WATCH_PONG
 * from db_token_watch_wait only if that notification came back to this
 * session before the statement's end. PostgreSQL sends a listener the
 * notifications signalled to it before it reports that a statement is
 * done (ReadyForQuery), so a pong means that the session is alive,
 * nothing is held back, and notifications do reach it (they do not
 * through a transaction-pooling proxy, where a "SELECT 1" would still
 * be answered): the proof the watcher renews its lease with. A ping
 * answered without its notification loses the session
 * (ERR_DB_UNAVAILABLE from the wait, logged at warn).
 * 0 or ERR_DB_UNAVAILABLE (the session is lost: free it).
 */
int db_token_watch_ping(struct db_token_watch *w) WUR;

/*
 * Wait up to timeout_ms, calling fn(arg, token_id) for each
 * notification as it arrives (token_id is the changed row's old id, or
 * "" for "any token"; borrowed for the call). Returns 0 when the time
 * is up, DB_TOKEN_WATCH_PONG as soon as the ping was answered (after
 * the notifications that came before it), DB_TOKEN_WATCH_STOPPED when
 * stop_fd is readable (checked first), ERR_DB_UNAVAILABLE when the
 * session is lost (server gone, terminated, or an error answer), ERR_IO
 * when poll() fails.
 */
int db_token_watch_wait(struct db_token_watch *w, int stop_fd,
    unsigned timeout_ms, void (*fn)(void *arg, const char *token_id),
    void *arg) WUR;

#endif
