#include "http/auth.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "crypto/token.h"
#include "db/pool.h"
#include "util/bounds.h"
#include "util/clock.h"
#include "util/strutil.h"

/*
 * The cache maps a token id to what the database said about it when it
 * was last found active. It is a small array scanned under one mutex:
 * at HTTP_AUTH_CACHE_MAX entries a scan costs far less than the database
 * round trip it saves. Only the hash of the secret is kept, never the
 * token text.
 *
 * Correctness rests on the watcher (auth_watch.c): it enables the cache
 * only while notifications of token changes reach it, drops what they
 * name, and renews a lease with each answered ping, so a watcher that
 * hangs or a session that dies silently turns the cache off by itself
 * when the lease runs out. gen closes the race between a request that
 * read a token before a change committed and the drop of that change:
 * the request's put carries the generation it saw before its read, and
 * every drop moves it on.
 */
struct auth_cache_entry {
	int used;
	char id[sizeof(((struct principal *)0)->token_id)];
	unsigned char hash[TOKEN_HASH_LEN];
	unsigned scopes;
	char name[TOKEN_NAME_MAX + 1];
	uint64_t until_ms; /* CLOCK_MONOTONIC */
};

struct auth_cache {
	pthread_mutex_t mu;
	unsigned ttl_ms;
	int live;		/* between enable and disable */
	uint64_t live_until_ms;	/* the lease, CLOCK_MONOTONIC */
	uint64_t gen;		/* bumped by every enable/disable/drop */
	struct auth_cache_entry e[HTTP_AUTH_CACHE_MAX];
};


/* RFC 6750 b64token: ALPHA DIGIT "-" "." "_" "~" "+" "/" *"=" */
static int
auth_b64token(const char *t, size_t n)
{
	size_t i = 0;
	unsigned char c;

	for (; i < n; i++) {
		c = (unsigned char)t[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '+' || c == '/')
			continue;
		break;
	}
	if (i == 0)
		return 0;
	while (i < n && t[i] == '=')
		i++;
	return i == n;
}

int
http_auth_parse(const char *hdr, const char **tok, size_t *len)
{
	const char *sp, *t;
	size_t slen, n;

	*tok = NULL;
	*len = 0;
	if (hdr == NULL || hdr[0] == '\0')
		return ERR_NOT_FOUND;
	sp = strchr(hdr, ' ');
	slen = sp != NULL ? (size_t)(sp - hdr) : strlen(hdr);
	if (!str_ieq_n(hdr, slen, "Bearer"))
		return ERR_NOT_FOUND;
	if (sp == NULL)
		return ERR_AUTH;
	t = sp + 1;
	n = strnlen(t, TOKEN_TEXT_MAX + 1);
	if (n == 0 || n > TOKEN_TEXT_MAX || !auth_b64token(t, n))
		return ERR_AUTH;
	*tok = t;
	*len = n;
	return 0;
}

int
http_auth_cache_new(unsigned ttl_ms, struct auth_cache **out)
{
	struct auth_cache *c;

	*out = NULL;
	if (ttl_ms == 0)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_ALLOC;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return ERR_ALLOC;
	}
	c->ttl_ms = ttl_ms;
	*out = c;
	return 0;
}

void
http_auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Under c->mu: may entries be read and written now? */
static int
cache_live(const struct auth_cache *c, uint64_t now)
{
	return c->live && now < c->live_until_ms;
}

/* Under c->mu. */
static void
cache_flush(struct auth_cache *c)
{
	explicit_bzero(c->e, sizeof(c->e));
	c->gen++;
}

void
http_auth_cache_enable(struct auth_cache *c, unsigned lease_ms)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	cache_flush(c);
	c->live = 1;
	c->live_until_ms = (uint64_t)clock_mono_ms() + lease_ms;
	pthread_mutex_unlock(&c->mu);
}

void
http_auth_cache_renew(struct auth_cache *c, unsigned lease_ms)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->live)
		c->live_until_ms = (uint64_t)clock_mono_ms() + lease_ms;
	pthread_mutex_unlock(&c->mu);
}

void
http_auth_cache_disable(struct auth_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	cache_flush(c);
	c->live = 0;
	c->live_until_ms = 0;
	pthread_mutex_unlock(&c->mu);
}

void
http_auth_cache_drop(struct auth_cache *c, const char *id)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(c->e[0].id))
		cache_flush(c);
	else {
		for (i = 0; i < HTTP_AUTH_CACHE_MAX; i++)
			if (c->e[i].used && strcmp(c->e[i].id, id) == 0)
				explicit_bzero(&c->e[i], sizeof(c->e[i]));
		c->gen++;
	}
	pthread_mutex_unlock(&c->mu);
}

void
http_auth_cache_ticket(struct auth_cache *c, struct auth_cache_ticket *t)
{
	memset(t, 0, sizeof(*t));
	if (c == NULL)
		return;
	/* the time first: an entry may end early, never late */
	t->t0_ms = (uint64_t)clock_mono_ms();
	pthread_mutex_lock(&c->mu);
	t->gen = c->gen;
	pthread_mutex_unlock(&c->mu);
}

int
http_auth_cache_get(struct auth_cache *c, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], struct principal *who)
{
	struct auth_cache_entry *e;
	uint64_t now;
	size_t i;
	int r = ERR_NOT_FOUND;

	if (c == NULL || id == NULL)
		return ERR_NOT_FOUND;
	now = (uint64_t)clock_mono_ms();
	pthread_mutex_lock(&c->mu);
	if (!cache_live(c, now))
		goto out;
	for (i = 0; i < HTTP_AUTH_CACHE_MAX; i++) {
		e = &c->e[i];
		if (!e->used || strcmp(e->id, id) != 0)
			continue;
		if (e->until_ms <= now) {
			explicit_bzero(e, sizeof(*e));
			break;
		}
		if (!crypto_token_hash_eq(e->hash, hash)) {
			r = ERR_AUTH;
			break;
		}
		memset(who, 0, sizeof(*who));
		snprintf(who->token_id, sizeof(who->token_id), "%s", e->id);
		snprintf(
		    who->token_name, sizeof(who->token_name), "%s", e->name);
		who->scopes = e->scopes;
		r = 0;
		break;
	}
out:
	pthread_mutex_unlock(&c->mu);
	return r;
}

void
http_auth_cache_put(struct auth_cache *c, const struct auth_cache_ticket *t,
    const char *id, const unsigned char hash[TOKEN_HASH_LEN],
    unsigned scopes, const char *name, long long expires_in_ms)
{
	struct auth_cache_entry *e, *slot = NULL;
	uint64_t now, life, until;
	size_t i;

	if (c == NULL || t == NULL || id == NULL ||
	    strlen(id) >= sizeof(slot->id))
		return;
	life = c->ttl_ms;
	if (expires_in_ms >= 0 && (uint64_t)expires_in_ms < life)
		life = (uint64_t)expires_in_ms;
	until = t->t0_ms + life;
	now = (uint64_t)clock_mono_ms();
	if (until <= now)
		return;
	pthread_mutex_lock(&c->mu);
	/* a change since the ticket: what the request read may be stale */
	if (!cache_live(c, now) || t->gen != c->gen)
		goto out;
	for (i = 0; i < HTTP_AUTH_CACHE_MAX; i++) {
		e = &c->e[i];
		if (e->used && strcmp(e->id, id) == 0) {
			slot = e;
			break;
		}
		/* prefer a free or stale slot, else the one ending first */
		if (slot == NULL ||
		    (slot->used &&
			(!e->used || e->until_ms <= now ||
			    e->until_ms < slot->until_ms)))
			slot = e;
	}
	memset(slot, 0, sizeof(*slot));
	slot->used = 1;
	snprintf(slot->id, sizeof(slot->id), "%s", id);
	memcpy(slot->hash, hash, TOKEN_HASH_LEN);
	slot->scopes = scopes;
	snprintf(
	    slot->name, sizeof(slot->name), "%s", name != NULL ? name : "");
	slot->until_ms = until;
out:
	pthread_mutex_unlock(&c->mu);
}

/*
 * Look the token up in the cache, then in the database. 0 with *who
 * filled, ERR_AUTH, ERR_DB_UNAVAILABLE or another ERR_*.
 *
 * Only service tokens are cached. A user-bound token is checked in the
 * database at every request, by the query that reads the token, so a
 * user deactivated ("active": false) or deleted through SCIM loses
 * access at once (a user's change sends no notification the cache
 * could act on): vault access is exactly what deprovisioning must end.
 */
static int
auth_lookup(struct app *app, const char *id,
    const unsigned char hash[TOKEN_HASH_LEN], struct principal *who)
{
	struct auth_cache_ticket tk;
	struct db_conn *c = NULL;
	struct db_token tok;
	int r;

	memset(&tok, 0, sizeof(tok));
	r = http_auth_cache_get(app->auth_cache, id, hash, who);
	if (r != ERR_NOT_FOUND)
		goto out;
	/* before the read: a change notified after it voids the put */
	http_auth_cache_ticket(app->auth_cache, &tk);
	if (app->pool == NULL) {
		r = ERR_DB_UNAVAILABLE;
		goto out;
	}
	if ((r = db_acquire(app->pool, &c)) != 0)
		goto out;
	r = db_token_get(c, id, &tok);
	db_release(app->pool, c);
	if (r == ERR_NOT_FOUND) {
		r = ERR_AUTH;
		goto out;
	}
	if (r != 0)
		goto out;
	/* the hash comparison runs whatever the row's state */
	if (!crypto_token_hash_eq(tok.hash, hash) || tok.revoked ||
	    tok.expired || !tok.user_ok) {
		r = ERR_AUTH;
		goto out;
	}
	memset(who, 0, sizeof(*who));
	snprintf(who->token_id, sizeof(who->token_id), "%s", tok.id);
	snprintf(who->token_name, sizeof(who->token_name), "%s", tok.name);
	who->scopes = tok.scopes;
	if (tok.user_ref[0] != '\0') {
		/* what the database allows a user token, and no more */
		who->scopes &= DB_TOKEN_USER_SCOPES;
		snprintf(
		    who->user_ref, sizeof(who->user_ref), "%s", tok.user_ref);
		snprintf(who->user_name, sizeof(who->user_name), "%s",
		    tok.user_name);
	} else {
		who->scopes &= ~(unsigned)SCOPE_VAULT;
		http_auth_cache_put(app->auth_cache, &tk, tok.id, tok.hash,
		    who->scopes, tok.name, tok.expires_in_ms);
	}
	r = 0;
out:
	explicit_bzero(&tok, sizeof(tok));
	return r;
}

const char *
http_auth_forbidden_detail(const struct principal *who, unsigned need_scope)
{
	if ((need_scope & SCOPE_VAULT) != 0 && who != NULL &&
	    who->token_id[0] != '\0' && who->user_ref[0] == '\0')
		return "token is not bound to a user";
	if (who != NULL && who->user_ref[0] != '\0' &&
	    (need_scope & ~DB_TOKEN_USER_SCOPES) != 0)
		return "a user token is only good for the vault API";
	return "token lacks the scope this endpoint needs";
}

int
http_auth_check(struct app *app, const char *authorization_header,
    unsigned need_scope, struct principal *who)
{
	unsigned char hash[TOKEN_HASH_LEN];
	char id[CRYPTO_TOKEN_ID_LEN + 1];
	const char *tok;
	size_t len;
	int r;

	memset(who, 0, sizeof(*who));
	if (http_auth_parse(authorization_header, &tok, &len) != 0 ||
	    crypto_token_parse(tok, len, id, sizeof(id), hash) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	if ((r = auth_lookup(app, id, hash, who)) != 0)
		goto out;
	/* SCOPE_VAULT acts as a user: never granted to a service token
	 * (auth_lookup masks it off, also for a cached entry) */
	if ((who->scopes & need_scope) != need_scope ||
	    ((need_scope & SCOPE_VAULT) != 0 && who->user_ref[0] == '\0')) {
		r = ERR_FORBIDDEN;
		goto out;
	}
	r = 0;
out:
	explicit_bzero(hash, sizeof(hash));
	if (r == ERR_AUTH)
		memset(who, 0, sizeof(*who));
	return r;
}
