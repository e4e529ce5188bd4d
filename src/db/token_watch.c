#include "db/token_watch.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "util/bounds.h"
#include "util/clock.h"
#include "util/log.h"

/*
 * The session is used in libpq's asynchronous style only (PQconnectPoll,
 * PQsendQueryParams, PQconsumeInput), so every wait is our own poll()
 * on the socket and the stop descriptor, never a blocking libpq call.
 */
/* payloads of pings, never a token id (hex) */
#define TW_PING_PREFIX "ping:"
#define TW_PING_PREFIX_LEN 5

struct db_token_watch {
	PGconn *pg;
	int query_out;	/* a statement was sent, its end not yet read */
	int ping_out;	/* that statement is a ping */
	int ping_heard;	/* and its notification came back */
	unsigned ping_seq;
	char ping[48];	/* the payload of the ping that is out */
};


/*
 * Wait until fd is ready for events, stop_fd is readable, or timeout_ms
 * passed. 1 ready, 0 timed out, DB_TOKEN_WATCH_STOPPED, ERR_IO, or
 * ERR_DB_UNAVAILABLE for a session without a socket.
 */
static int
tw_poll(int fd, short events, int stop_fd, long long timeout_ms)
{
	struct pollfd pfd[2];
	long long deadline;
	int pr;

	if (fd < 0)
		return ERR_DB_UNAVAILABLE;
	deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		pfd[0].fd = stop_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = fd;
		pfd[1].events = events;
		pfd[1].revents = 0;
		pr = poll(pfd, 2, (int)(timeout_ms > 0 ? timeout_ms : 0));
		if (pr < 0 && errno != EINTR)
			return ERR_IO;
		if (pr > 0 && pfd[0].revents != 0)
			return DB_TOKEN_WATCH_STOPPED;
		if (pr > 0 && pfd[1].revents != 0)
			return 1;
		timeout_ms = deadline - clock_mono_ms();
		if (timeout_ms <= 0)
			return 0;
	}
}

/* The session cannot be used any more: say why (libpq's message). */
static int
tw_lost(struct db_token_watch *w, const char *what)
{
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];

	log_clean(PQerrorMessage(w->pg), msg, sizeof(msg));
	log_warn("token watch: %s failed: %s", what, msg);
	return ERR_DB_UNAVAILABLE;
}

/*
 * Read what has arrived of the statement that is out: *done = 1 once it
 * has ended (libpq's NULL result). An error answer loses the session.
 */
static int
tw_results(struct db_token_watch *w, int *done)
{
	ExecStatusType st;
	PGresult *res;
	char msg[LOG_CLIENT_STR_MAX * 4 + 8];

	while (w->query_out && !PQisBusy(w->pg)) {
		if ((res = PQgetResult(w->pg)) == NULL) {
			w->query_out = 0;
			*done = 1;
			break;
		}
		st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			log_clean(PQresultErrorMessage(res), msg, sizeof(msg));
			log_warn("token watch: statement failed: %s", msg);
			PQclear(res);
			return ERR_DB_UNAVAILABLE;
		}
		PQclear(res);
	}
	return 0;
}

static void
tw_notifies(struct db_token_watch *w,
    void (*fn)(void *arg, const char *token_id), void *arg)
{
	PGnotify *nf;

	while ((nf = PQnotifies(w->pg)) != NULL) {
		if (strcmp(nf->relname, DB_TOKEN_WATCH_CHANNEL) != 0)
			;
		else if (nf->extra != NULL && strncmp(nf->extra,
		    TW_PING_PREFIX, TW_PING_PREFIX_LEN) == 0) {
			/* a watcher's ping (ours or another daemon's) */
			if (w->ping_out && strcmp(nf->extra, w->ping) == 0)
				w->ping_heard = 1;
		} else
			fn(arg, nf->extra != NULL ? nf->extra : "");
		PQfreemem(nf);
	}
}

/* fixed text, no parameters; sent with the extended protocol */
static int
tw_send(struct db_token_watch *w, const char *sql, const char *what)
{
	if (w->query_out)
		return 0;
	if (PQsendQueryParams(w->pg, sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
		return tw_lost(w, what);
	w->query_out = 1;
	return 0;
}

/*
 * The ping is a notification on the channel to ourselves: its answer
 * counts only if the notification came back on this session before the
 * statement's end. A session that does not hear its own notifications
 * (a transaction-pooling proxy such as PgBouncer in transaction mode
 * between daemon and database: the LISTEN stayed on another server
 * session) would hear no revocation either, and a plain "SELECT 1"
 * would still be answered, keeping a deaf cache alive.
 */
int
db_token_watch_ping(struct db_token_watch *w)
{
	const char *vals[2];

	if (w->query_out)
		return 0;
	w->ping_seq++;
	snprintf(w->ping, sizeof(w->ping), TW_PING_PREFIX "%d:%u",
	    PQbackendPID(w->pg), w->ping_seq);
	vals[0] = DB_TOKEN_WATCH_CHANNEL;
	vals[1] = w->ping;
	if (PQsendQueryParams(w->pg, "SELECT pg_notify($1, $2)", 2, NULL,
	    vals, NULL, NULL, 0) != 1)
		return tw_lost(w, "ping");
	w->query_out = 1;
	w->ping_out = 1;
	w->ping_heard = 0;
	return 0;
}

int
db_token_watch_wait(struct db_token_watch *w, int stop_fd, unsigned timeout_ms,
    void (*fn)(void *arg, const char *token_id), void *arg)
{
	long long deadline, left;
	int r, done = 0;

	deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		/* first what libpq has read already */
		if ((r = tw_results(w, &done)) != 0)
			return r;
		tw_notifies(w, fn, arg);
		if (done && w->ping_out) {
			w->ping_out = 0;
			if (!w->ping_heard) {
				log_warn("token watch: this session does not "
					 "receive notifications (a "
					 "transaction-pooling proxy in front "
					 "of the database?): the token cache "
					 "stays off");
				return ERR_DB_UNAVAILABLE;
			}
		}
		if (done)
			return DB_TOKEN_WATCH_PONG;
		if ((left = deadline - clock_mono_ms()) <= 0)
			return 0;
		r = tw_poll(PQsocket(w->pg), POLLIN, stop_fd, left);
		if (r == 0 || r == DB_TOKEN_WATCH_STOPPED || r < 0)
			return r;
		if (PQconsumeInput(w->pg) != 1 ||
		    PQstatus(w->pg) != CONNECTION_OK)
			return tw_lost(w, "session");
	}
}

void
db_token_watch_free(struct db_token_watch *w)
{
	if (w == NULL)
		return;
	if (w->pg != NULL)
		PQfinish(w->pg);
	free(w);
}

/* PQconnectPoll until connected, bounded by deadline and stop_fd. */
static int
tw_connect(struct db_token_watch *w, int stop_fd, long long deadline)
{
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	long long left;
	int r;

	if (PQstatus(w->pg) == CONNECTION_BAD)
		return tw_lost(w, "connect");
	for (;;) {
		if (ps == PGRES_POLLING_OK)
			return 0;
		if (ps == PGRES_POLLING_FAILED)
			return tw_lost(w, "connect");
		if ((left = deadline - clock_mono_ms()) <= 0)
			break;
		/* the socket may change between calls (several hosts) */
		r = tw_poll(PQsocket(w->pg),
		    ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, stop_fd,
		    left);
		if (r == DB_TOKEN_WATCH_STOPPED || r < 0)
			return r;
		if (r == 0)
			break;
		ps = PQconnectPoll(w->pg);
	}
	log_warn("token watch: connect timed out");
	return ERR_DB_UNAVAILABLE;
}

static void
tw_ignore(void *arg, const char *token_id)
{
	(void)arg;
	(void)token_id;
}

int
db_token_watch_open(const char *dsn, unsigned connect_timeout_s, int stop_fd,
    struct db_token_watch **out)
{
	struct db_conn_params cp;
	struct db_token_watch *w = NULL;
	long long deadline, left;
	int r;

	*out = NULL;
	if (dsn == NULL)
		dsn = "";
	if (strlen(dsn) > DB_DSN_MAX)
		return ERR_CONFIG;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ERR_ALLOC;
	db_conn_params(&cp, dsn, connect_timeout_s, DB_TOKEN_WATCH_APP_NAME);
	deadline = clock_mono_ms() +
	    (long long)(connect_timeout_s > 0 ? connect_timeout_s : 5) * 1000;
	if ((w->pg = PQconnectStartParams(cp.keys, cp.vals, 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = tw_connect(w, stop_fd, deadline)) != 0)
		goto out;
	PQsetNoticeProcessor(w->pg, db_conn_notice, NULL);
	if ((r = tw_send(w, "LISTEN " DB_TOKEN_WATCH_CHANNEL, "LISTEN")) != 0)
		goto out;
	/* no notification can come before the LISTEN's own answer */
	left = deadline - clock_mono_ms();
	r = db_token_watch_wait(
	    w, stop_fd, left > 0 ? (unsigned)left : 0, tw_ignore, NULL);
	/* and prove that notifications reach this session at all */
	if (r == DB_TOKEN_WATCH_PONG) {
		if ((r = db_token_watch_ping(w)) != 0)
			goto out;
		left = deadline - clock_mono_ms();
		r = db_token_watch_wait(w, stop_fd,
		    left > 0 ? (unsigned)left : 0, tw_ignore, NULL);
	}
	if (r == DB_TOKEN_WATCH_PONG) {
		*out = w;
		w = NULL;
		r = 0;
	} else if (r == 0) {
		log_warn("token watch: LISTEN timed out");
		r = ERR_DB_UNAVAILABLE;
	}
out:
	db_token_watch_free(w);
	return r;
}
