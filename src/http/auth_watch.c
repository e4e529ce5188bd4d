#include "http/auth_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/token_watch.h"
#include "http/auth.h"
#include "util/bounds.h"
#include "util/clock.h"
#include "util/log.h"

struct auth_watch {
	struct auth_cache *cache; /* borrowed */
	char *dsn;
	unsigned connect_timeout_s;
	int stop[2]; /* pipe: readable = stop */
	pthread_t thread;
};


/* Sleep ms unless asked to stop; 1 when asked to stop. */
static int
watch_sleep(struct auth_watch *w, unsigned ms)
{
	struct pollfd pfd;
	long long deadline, left;
	int pr;

	deadline = clock_mono_ms() + ms;
	while ((left = deadline - clock_mono_ms()) > 0) {
		pfd.fd = w->stop[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, (int)left);
		if (pr > 0)
			return 1;
		if (pr < 0 && errno != EINTR)
			return 1; /* cannot wait: better stop than spin */
	}
	return 0;
}

/* A token's row changed (or, for "", possibly any token's). */
static void
watch_notified(void *arg, const char *token_id)
{
	struct auth_watch *w = arg;
	char clean[LOG_CLIENT_STR_MAX * 4 + 8];

	http_auth_cache_drop(w->cache, token_id);
	log_debug("auth cache: token changed, dropped id=%s",
	    token_id[0] != '\0' ? log_clean(token_id, clean, sizeof(clean))
				: "(all)");
}

/*
 * Serve one listening session until it is lost or the watcher is
 * stopped: a ping every HTTP_AUTH_WATCH_PING_MS (counted from the last
 * one sent, so a slow answer does not eat into the next lease), the
 * lease renewed with each answer. DB_TOKEN_WATCH_STOPPED or a negative
 * ERR_*.
 */
static int
watch_session(
    struct auth_watch *w, struct db_token_watch *tw, long long listened_ms)
{
	long long now, next = listened_ms + HTTP_AUTH_WATCH_PING_MS;
	long long sent = 0, wait_ms, lease;
	int r;

	for (;;) {
		now = clock_mono_ms();
		if (sent == 0 && now >= next) {
			if ((r = db_token_watch_ping(tw)) != 0)
				return r;
			sent = now;
		}
		if (sent != 0 &&
		    now - sent >= HTTP_AUTH_WATCH_PING_TIMEOUT_MS) {
			log_warn("auth cache: no answer to a ping within %d ms",
			    HTTP_AUTH_WATCH_PING_TIMEOUT_MS);
			return ERR_DB_UNAVAILABLE;
		}
		wait_ms = sent != 0
		    ? sent + HTTP_AUTH_WATCH_PING_TIMEOUT_MS - now
		    : next - now;
		r = db_token_watch_wait(tw, w->stop[0],
		    wait_ms > 0 ? (unsigned)wait_ms : 0, watch_notified, w);
		if (r < 0 || r == DB_TOKEN_WATCH_STOPPED)
			return r;
		if (r == DB_TOKEN_WATCH_PONG) {
			/* counted from the ping: what the answer proves */
			now = clock_mono_ms();
			lease = sent + HTTP_AUTH_WATCH_LEASE_MS - now;
			http_auth_cache_renew(
			    w->cache, lease > 0 ? (unsigned)lease : 0);
			next = sent + HTTP_AUTH_WATCH_PING_MS;
			sent = 0;
		}
	}
}

static void *
watch_main(void *arg)
{
	struct auth_watch *w = arg;
	struct db_token_watch *tw = NULL;
	unsigned backoff = HTTP_AUTH_WATCH_BACKOFF_MIN_MS;
	long long t0, lease;
	int r;

	for (;;) {
		t0 = clock_mono_ms();
		r = db_token_watch_open(
		    w->dsn, w->connect_timeout_s, w->stop[0], &tw);
		if (r == DB_TOKEN_WATCH_STOPPED)
			break;
		if (r == 0) {
			/* what changed before the LISTEN is unknown: flush */
			lease = t0 + HTTP_AUTH_WATCH_LEASE_MS - clock_mono_ms();
			http_auth_cache_enable(
			    w->cache, lease > 0 ? (unsigned)lease : 0);
			log_info("auth cache: listening for token changes "
				 "channel=%s",
			    DB_TOKEN_WATCH_CHANNEL);
			backoff = HTTP_AUTH_WATCH_BACKOFF_MIN_MS;
			r = watch_session(w, tw, t0);
			http_auth_cache_disable(w->cache);
			db_token_watch_free(tw);
			tw = NULL;
			if (r == DB_TOKEN_WATCH_STOPPED)
				break;
			log_warn(
			    "auth cache: lost the token change listener "
			    "(%s); cache off until it is back, retry in %u ms",
			    err_str(r), backoff);
		} else
			log_debug("auth cache: token change listener not "
				  "connected (%s), retry in %u ms",
			    err_str(r), backoff);
		if (watch_sleep(w, backoff))
			break;
		backoff = backoff * 2 > HTTP_AUTH_WATCH_BACKOFF_MAX_MS
		    ? HTTP_AUTH_WATCH_BACKOFF_MAX_MS
		    : backoff * 2;
	}
	http_auth_cache_disable(w->cache);
	return NULL;
}

static void
watch_free(struct auth_watch *w)
{
	if (w == NULL)
		return;
	if (w->stop[0] >= 0)
		close(w->stop[0]);
	if (w->stop[1] >= 0)
		close(w->stop[1]);
	free(w->dsn);
	free(w);
}

int
http_auth_watch_start(struct auth_cache *cache, const char *dsn,
    unsigned connect_timeout_s, struct auth_watch **out)
{
	struct auth_watch *w = NULL;
	int r = ERR_ALLOC;

	*out = NULL;
	if (cache == NULL)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto out;
	w->stop[0] = w->stop[1] = -1;
	w->cache = cache;
	w->connect_timeout_s = connect_timeout_s;
	if ((w->dsn = strdup(dsn != NULL ? dsn : "")) == NULL)
		goto out;
	if (pipe2(w->stop, O_CLOEXEC) != 0) {
		log_error("auth cache watcher: pipe: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	/* off until the watcher has its LISTEN */
	http_auth_cache_disable(cache);
	if ((r = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
		log_error("auth cache watcher: thread: %s", strerror(r));
		r = ERR_INTERNAL;
		goto out;
	}
	*out = w;
	w = NULL;
	r = 0;
out:
	watch_free(w);
	return r;
}

void
http_auth_watch_stop(struct auth_watch *w)
{
	ssize_t n;

	if (w == NULL)
		return;
	do
		n = write(w->stop[1], "x", 1);
	while (n < 0 && errno == EINTR);
	/* one byte into an empty pipe of our own: cannot fail */
	if (n != 1)
		fatal("auth cache watcher: cannot signal stop: %s",
		    strerror(errno));
	pthread_join(w->thread, NULL);
	watch_free(w);
}
