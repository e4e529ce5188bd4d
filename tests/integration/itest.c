/*
 * Integration test harness (see itest.h): a throwaway PostgreSQL cluster
 * through scripts/pg.sh, a generated config, the real binary started
 * with fork/exec, HTTP through libcurl. Every wait is bounded: child
 * commands are killed after a timeout, HTTP requests have connect and
 * total timeouts, and a watchdog alarm ends a hung suite after cleaning
 * up the server and the cluster.
 */

#include "itest.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/clock.h"

struct itest_env *itest;

#define ITEST_CMD_TIMEOUT_S	120	/* pg.sh, migrate, psql */
#define ITEST_CLI_TIMEOUT_S	60
#define ITEST_START_WAIT_MS	10000	/* server up (/healthz) */
#define ITEST_STOP_WAIT_MS	15000	/* > http.drain_timeout */
#define ITEST_BODY_MAX		(64 * 1024 * 1024)
#define ITEST_OUT_MAX		(1024 * 1024)
#define ITEST_WATCHDOG_S	1200

static char root_dir[1024];
static char binary[1200];
static char pg_script[1200];
static char tls_ca[512];	/* CA file for https (from extra_config) */
static int dir_made;
static int pg_running;
static int curl_ready;
static int http_quiet;	/* no transport error messages (start polling) */

/* Prebuilt for the signal handler (execv only, no allocation there). */
static char wd_dir[256];
static int wd_keep;		/* ITEST_KEEP=1 */
static volatile pid_t cur_child;	/* run_cmd's child (own group) */
static pid_t *wd_server_pid;

long long
itest_now_ms(void)
{
	return clock_mono_ms();
}

void
itest_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Wait for pid up to timeout_ms; then SIGKILL its process group and pid.
 * Returns the waitpid status or -1.
 */
static int
wait_bounded(pid_t pid, long timeout_ms, int killgrp)
{
	long long deadline = itest_now_ms() + timeout_ms;
	int status = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -1;
		if (itest_now_ms() >= deadline)
			break;
		itest_sleep_ms(20);
	}
	fprintf(stderr, "itest: pid %d did not exit in %ld ms, killing\n",
	    (int)pid, timeout_ms);
	if (killgrp)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	return r == pid ? status : -1;
}

/* Append what can be read from fd now; 1 at EOF or error, else 0. */
static int
drain(int fd, char *out, size_t outsz, size_t *used)
{
	char sink[4096];
	ssize_t n;

	for (;;) {
		if (out != NULL && *used + 1 < outsz)
			n = read(fd, out + *used, outsz - 1 - *used);
		else
			n = read(fd, sink, sizeof(sink));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return 1;
		if (out != NULL && *used + 1 < outsz) {
			*used += (size_t)n;
			out[*used] = '\0';
		}
	}
}

/*
 * Run argv (argv[0] a path) with stdout captured into out (NUL
 * terminated, truncated to outsz - 1) and stderr inherited, killing it
 * (and its process group) after timeout_s. The command is done when it
 * exits, even if a daemon it started still holds the pipe open.
 * Returns the exit status (0..255), or -1 when it could not run, was
 * killed or crashed.
 */
static int
run_cmd(const char *const *argv, char *out, size_t outsz, int timeout_s)
{
	int pfd[2] = { -1, -1 };
	size_t used = 0;
	long long deadline;
	pid_t pid, r;
	int status = -1, ret = -1, eof = 0;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		/* own process group so a timeout kills its children too */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], STDOUT_FILENO);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "itest: exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	cur_child = pid;
	close(pfd[1]);
	(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	deadline = itest_now_ms() + (long long)timeout_s * 1000;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };

		if (!eof && poll(&p, 1, 20) > 0)
			eof = drain(pfd[0], out, outsz, &used);
		else if (eof)
			itest_sleep_ms(20);
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			(void)drain(pfd[0], out, outsz, &used);
			break;
		}
		if (r == -1 && errno != EINTR) {
			status = -1;
			break;
		}
		if (itest_now_ms() >= deadline) {
			fprintf(stderr, "itest: %s timed out after %d s\n",
			    argv[0], timeout_s);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while ((r = waitpid(pid, &status, 0)) == -1 &&
			    errno == EINTR)
				;
			status = -1;
			break;
		}
	}
	cur_child = 0;
	close(pfd[0]);
	if (status != -1 && WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (status != -1 && WIFSIGNALED(status))
		fprintf(stderr, "itest: %s killed by signal %d\n", argv[0],
		    WTERMSIG(status));
	return ret;
}

int
itest_run(const char *const *argv, char *out, size_t outsz, int timeout_s)
{
	return run_cmd(argv, out, outsz, timeout_s);
}

static int
type_listed(const char *list, const char *t)
{
	const char *p = list, *e;
	size_t n;

	for (;;) {
		e = strchr(p, '|');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (strlen(t) == n && strncmp(p, t, n) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/*
 * itest_check_error with the Content-Type check optional: the callers
 * of itest_assert_error check it on their own (itest_assert_scim_ct).
 */
static int
check_error(const struct itest_resp *r, long status, const char *scim_types,
    int check_ct, char *why, size_t whysz)
{
	const char *st, *ty;
	char want[16];
	json_t *schemas, *v;
	size_t i;
	int has = 0;

	why[0] = '\0';
	if (r->status != status) {
		snprintf(why, whysz, "status %ld, want %ld; body %.300s",
		    r->status, status, r->body != NULL ? r->body : "");
		return 0;
	}
	if (check_ct &&
	    strncasecmp(r->content_type, "application/scim+json", 21) != 0) {
		snprintf(why, whysz, "Content-Type \"%s\"", r->content_type);
		return 0;
	}
	if (r->json == NULL || !json_is_object(r->json)) {
		snprintf(why, whysz, "body not a JSON object: %.300s",
		    r->body != NULL ? r->body : "");
		return 0;
	}
	schemas = json_object_get(r->json, "schemas");
	json_array_foreach(schemas, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v),
		    "urn:ietf:params:scim:api:messages:2.0:Error") == 0)
			has = 1;
	}
	if (!has) {
		snprintf(why, whysz, "no Error schema: %.300s", r->body);
		return 0;
	}
	snprintf(want, sizeof(want), "%ld", status);
	st = itest_json_str(r, "status");
	if (st == NULL || strcmp(st, want) != 0) {
		snprintf(why, whysz, "\"status\" not the string \"%s\": %.300s",
		    want, r->body);
		return 0;
	}
	if (scim_types == NULL)
		return 1;
	ty = itest_json_str(r, "scimType");
	if (scim_types[0] == '\0') {
		if (ty != NULL && ty[0] != '\0') {
			snprintf(why, whysz, "unexpected scimType %s", ty);
			return 0;
		}
		return 1;
	}
	if (ty == NULL || !type_listed(scim_types, ty)) {
		snprintf(why, whysz, "scimType %s, want %s; detail %.200s",
		    ty != NULL ? ty : "(none)", scim_types,
		    itest_json_str(r, "detail") != NULL ?
		    itest_json_str(r, "detail") : "(none)");
		return 0;
	}
	return 1;
}

int
itest_check_error(const struct itest_resp *r, long status,
    const char *scim_types, char *why, size_t whysz)
{
	return check_error(r, status, scim_types, 1, why, whysz);
}

void
itest_assert_error(const struct itest_resp *r, long status,
    const char *scim_type, int line)
{
	char why[512];

	if (!check_error(r, status, scim_type != NULL ? scim_type : "", 0,
	    why, sizeof(why)))
		TL_FAIL("line %d: want SCIM error %ld/%s: %s", line, status,
		    scim_type != NULL ? scim_type : "-", why);
}

int
itest_server_alive(struct itest_env *env)
{
	int st;

	if (env->pid <= 0)
		return 0;
	if (waitpid(env->pid, &st, WNOHANG) == env->pid) {
		fprintf(stderr, "  server exited, status %d\n", st);
		env->pid = 0;
		return 0;
	}
	return kill(env->pid, 0) == 0;
}

void
itest_assert_no_5xx(struct itest_env *env)
{
	struct itest_resp r;

	/* sanitizer builds (VB_BINARY=build-asan/vaultbridge) report here */
	ASSERT_FALSE(itest_log_contains(env, "Sanitizer"));
	ASSERT_FALSE(itest_log_contains(env, "runtime error:"));
	ASSERT_FALSE(itest_log_contains(env, "status=5"));
	ASSERT_INT_EQ(itest_http(env, "GET", "/healthz", "", NULL, NULL, &r),
	    0);
	ASSERT_INT_EQ(r.status, 200);
	itest_resp_free(&r);
}

void
itest_assert_clean_exit(struct itest_env *env)
{
	int st;

	ASSERT_TRUE(itest_server_alive(env));
	st = itest_server_stop(env, SIGTERM);
	ASSERT_TRUE(st != -1 && WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	ASSERT_FALSE(itest_log_contains(env, "Sanitizer"));
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int
pg_cmd(const char *verb, char *out, size_t outsz)
{
	const char *argv[] = { "/bin/sh", pg_script, verb, itest->dir, NULL };

	return run_cmd(argv, out, outsz, ITEST_CMD_TIMEOUT_S);
}

static void
watchdog(int sig)
{
	static const char msg[] = "itest: watchdog / signal: cleaning up\n";
	const char *argv[] = { "/bin/sh", pg_script, "stop", wd_dir, NULL };
	const char *rm[] = { "/bin/rm", "-rf", wd_dir, NULL };
	pid_t p = -1;
	ssize_t w;
	int st;

	(void)sig;
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	if (wd_server_pid != NULL && *wd_server_pid > 0)
		kill(*wd_server_pid, SIGKILL);
	/* a command in flight (pg.sh start, initdb, psql, the CLI) */
	if (cur_child > 0) {
		kill(-cur_child, SIGKILL);
		kill(cur_child, SIGKILL);
		waitpid(cur_child, &st, 0);
	}
	if (pg_running && wd_dir[0] != '\0')
		p = fork();
	if (p == 0) {
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	} else if (p > 0)
		waitpid(p, &st, 0);
	p = -1;
	if (dir_made && !wd_keep && wd_dir[0] != '\0')
		p = fork();
	if (p == 0) {
		execv(rm[0], (char *const *)(uintptr_t)rm);
		_exit(127);
	} else if (p > 0)
		waitpid(p, &st, 0);
	_exit(3);
}

/* A free loopback TCP port (bind port 0, read it, close). */
int
itest_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 if extra holds a line setting key ("key = value" or "key=value"). */
static int
extra_has_key(const char *extra, const char *key, char *val, size_t valsz)
{
	const char *p = extra, *e, *k;
	size_t klen = strlen(key);

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		k = p;
		while (*k == ' ' || *k == '\t')
			k++;
		if (strncmp(k, key, klen) == 0 &&
		    (k[klen] == ' ' || k[klen] == '\t' || k[klen] == '=')) {
			if (val != NULL && valsz > 0) {
				const char *v = strchr(k, '=');
				size_t n;

				val[0] = '\0';
				if (v != NULL) {
					v++;
					while (*v == ' ' || *v == '\t' ||
					    *v == '"')
						v++;
					n = e != NULL ? (size_t)(e - v) :
					    strlen(v);
					if (n >= valsz)
						n = valsz - 1;
					memcpy(val, v, n);
					val[n] = '\0';
					chomp(val);
					n = strlen(val);
					if (n > 0 && val[n - 1] == '"')
						val[n - 1] = '\0';
				}
			}
			return 1;
		}
		p = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

static int
write_config(struct itest_env *env)
{
	const char *extra = env->extra_config;
	char tmp[sizeof(env->config_path) + 8];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", env->config_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "# generated by tests/integration/itest.c\n");
	if (!extra_has_key(extra, "http.listen", NULL, 0))
		fprintf(f, "http.listen = 127.0.0.1\n");
	if (!extra_has_key(extra, "http.port", NULL, 0))
		fprintf(f, "http.port = %d\n", env->port);
	if (!extra_has_key(extra, "db.dsn", NULL, 0))
		fprintf(f, "db.dsn = \"%s\"\n", env->dsn);
	if (!extra_has_key(extra, "log.level", NULL, 0))
		fprintf(f, "log.level = info\n");
	if (!extra_has_key(extra, "vault.dsn", NULL, 0))
		fprintf(f, "vault.dsn = \"%s\"\n", env->vault_dsn);
	if (!extra_has_key(extra, "vault.master_key", NULL, 0))
		fprintf(f, "vault.master_key = \"%s\"\n", env->master_key);
	if (extra[0] != '\0')
		fprintf(f, "%s\n", extra);
	ok = ferror(f) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, env->config_path) != 0)
		return -1;
	return 0;
}

static void
log_tail(struct itest_env *env, size_t max)
{
	char buf[4096];
	FILE *f;
	long sz;
	size_t n;

	if ((f = fopen(env->log_path, "r")) == NULL)
		return;
	if (max > sizeof(buf))
		max = sizeof(buf);
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > (long)max)
		fseek(f, sz - (long)max, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, max, f);
	fclose(f);
	fprintf(stderr, "---- server log (tail) ----\n%.*s\n----\n",
	    (int)n, buf);
}

/*
 * The embedded vault's own database on the same cluster, and a master
 * key file: 32 random bytes as hex, mode 0600.
 */
static int
vault_setup(struct itest_env *env)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char key[32];
	char text[66], out[256];
	const char *p;
	size_t i;
	FILE *f;
	int fd, ok;

	if ((p = strstr(env->dsn, "dbname=vaultbridge")) == NULL) {
		fprintf(stderr, "itest: unexpected DSN %s\n", env->dsn);
		return -1;
	}
	snprintf(env->vault_dsn, sizeof(env->vault_dsn), "%.*sdbname="
	    "vaultbridge_vault%s", (int)(p - env->dsn), env->dsn,
	    p + strlen("dbname=vaultbridge"));
	if (itest_sql(env, out, sizeof(out), "SELECT 1 FROM pg_database "
	    "WHERE datname = 'vaultbridge_vault'") != 0)
		return -1;
	if (out[0] != '1' && itest_sql(env, out, sizeof(out),
	    "CREATE DATABASE vaultbridge_vault") != 0) {
		fprintf(stderr, "itest: cannot create the vault database\n");
		return -1;
	}
	if ((f = fopen("/dev/urandom", "rb")) == NULL)
		return -1;
	ok = fread(key, 1, sizeof(key), f) == sizeof(key);
	fclose(f);
	if (!ok)
		return -1;
	for (i = 0; i < sizeof(key); i++) {
		text[2 * i] = hex[key[i] >> 4];
		text[2 * i + 1] = hex[key[i] & 15];
	}
	text[64] = '\n';
	text[65] = '\0';
	snprintf(env->master_key, sizeof(env->master_key), "%s/master.key",
	    env->dir);
	if ((fd = open(env->master_key, O_WRONLY | O_CREAT | O_EXCL, 0600)) <
	    0)
		return -1;
	ok = write(fd, text, 65) == 65;
	if (close(fd) != 0 || !ok)
		return -1;
	return 0;
}

int
itest_setup(struct itest_env *env)
{
	char tmpl[] = "/tmp/vb-itest-XXXXXX";
	char out[4096];
	const char *s;
	const char *mig[] = { "migrate", NULL };
	const char *tok[] = { "token", "create", "--name", "itest-admin",
	    "--scopes", "all", NULL };
	char *nl;
	int r;

	itest = env;
	wd_server_pid = &env->pid;
	if ((s = getenv("VB_ROOT")) != NULL && *s != '\0')
		snprintf(root_dir, sizeof(root_dir), "%s", s);
	else if (getcwd(root_dir, sizeof(root_dir)) == NULL)
		return -1;
	if ((s = getenv("VB_BINARY")) != NULL && *s != '\0') {
		if (s[0] == '/')
			snprintf(binary, sizeof(binary), "%s", s);
		else
			snprintf(binary, sizeof(binary), "%s/%s", root_dir, s);
	} else
		snprintf(binary, sizeof(binary), "%s/vaultbridge", root_dir);
	snprintf(pg_script, sizeof(pg_script), "%s/scripts/pg.sh", root_dir);
	if (access(binary, X_OK) != 0) {
		fprintf(stderr, "itest: binary %s: %s\n", binary,
		    strerror(errno));
		return -1;
	}
	if (access(pg_script, R_OK) != 0) {
		fprintf(stderr, "itest: %s: %s\n", pg_script, strerror(errno));
		return -1;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_ALL) != 0)
			return -1;
		curl_ready = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpl) == NULL)
		return -1;
	dir_made = 1;
	snprintf(env->dir, sizeof(env->dir), "%s", tmpl);
	snprintf(wd_dir, sizeof(wd_dir), "%s", tmpl);
	wd_keep = getenv("ITEST_KEEP") != NULL &&
	    strcmp(getenv("ITEST_KEEP"), "1") == 0;
	if (chmod(env->dir, 0755) != 0)
		return -1;
	signal(SIGALRM, watchdog);
	signal(SIGINT, watchdog);
	signal(SIGTERM, watchdog);
	signal(SIGHUP, watchdog);
	alarm(ITEST_WATCHDOG_S);

	snprintf(env->config_path, sizeof(env->config_path), "%s/vb.conf",
	    env->dir);
	snprintf(env->log_path, sizeof(env->log_path), "%s/server.log",
	    env->dir);
	pg_running = 1;	/* stop even a half-started cluster */
	if ((r = pg_cmd("start", out, sizeof(out))) != 0) {
		fprintf(stderr, "itest: pg.sh start failed (%d)\n", r);
		return -1;
	}
	chomp(out);
	/* the DSN is the last stdout line */
	s = strrchr(out, '\n') != NULL ? strrchr(out, '\n') + 1 : out;
	if (*s == '\0' || strlen(s) >= sizeof(env->dsn)) {
		fprintf(stderr, "itest: pg.sh printed no DSN\n");
		return -1;
	}
	memcpy(env->dsn, s, strlen(s) + 1);	/* length checked above */
	if (vault_setup(env) != 0)
		return -1;
	if ((env->port = itest_free_port()) <= 0)
		return -1;
	if (write_config(env) != 0)
		return -1;
	if ((r = itest_cli(env, out, sizeof(out), mig)) != 0) {
		fprintf(stderr, "itest: migrate failed (%d): %s\n", r, out);
		return -1;
	}
	if ((r = itest_cli(env, out, sizeof(out), tok)) != 0) {
		fprintf(stderr, "itest: token create failed (%d)\n", r);
		return -1;
	}
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
	chomp(out);
	if (out[0] == '\0' || strlen(out) >= sizeof(env->token)) {
		fprintf(stderr, "itest: token create printed no token\n");
		return -1;
	}
	memcpy(env->token, out, strlen(out) + 1);	/* length checked above */
	return itest_server_start(env);
}

static void
rm_rf(const char *dir)
{
	const char *argv[] = { "/bin/rm", "-rf", dir, NULL };

	if (run_cmd(argv, NULL, 0, ITEST_CMD_TIMEOUT_S) != 0)
		fprintf(stderr, "itest: could not remove %s\n", dir);
}

void
itest_teardown(struct itest_env *env)
{
	const char *keep = getenv("ITEST_KEEP");

	if (env->pid > 0)
		(void)itest_server_stop(env, SIGTERM);
	if (pg_running) {
		if (pg_cmd("stop", NULL, 0) != 0)
			fprintf(stderr, "itest: pg.sh stop failed\n");
		pg_running = 0;
	}
	if (dir_made) {
		if (keep != NULL && strcmp(keep, "1") == 0)
			fprintf(stderr, "itest: kept %s\n", env->dir);
		else
			rm_rf(env->dir);
		dir_made = 0;
	}
	alarm(0);
	if (curl_ready) {
		curl_global_cleanup();
		curl_ready = 0;
	}
}

int
itest_server_start(struct itest_env *env)
{
	const char *scheme = "http";
	long long deadline;
	int fd, status;
	pid_t pid;

	if (env->pid > 0)
		(void)itest_server_stop(env, SIGTERM);
	if (write_config(env) != 0)
		return -1;
	tls_ca[0] = '\0';
	if (extra_has_key(env->extra_config, "http.tls_cert", tls_ca,
	    sizeof(tls_ca)))
		scheme = "https";
	snprintf(env->addr, sizeof(env->addr), "%s://127.0.0.1:%d", scheme,
	    env->port);
	if ((fd = open(env->log_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		/* never outlive the test binary */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(binary, binary, "--config", env->config_path, "serve",
		    (char *)NULL);
		_exit(127);
	}
	close(fd);
	env->pid = pid;
	deadline = itest_now_ms() + ITEST_START_WAIT_MS;
	http_quiet = 1;
	while (itest_now_ms() < deadline) {
		struct itest_resp r;
		int ok = 0;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			env->pid = 0;
			http_quiet = 0;
			fprintf(stderr, "itest: server exited at start "
			    "(status %d)\n", status);
			log_tail(env, 2048);
			return -1;
		}
		if (itest_http(env, "GET", "/healthz", "", NULL, NULL,
		    &r) == 0 && r.status == 200)
			ok = 1;
		itest_resp_free(&r);
		if (ok) {
			/* best effort: wait for the pool, too */
			while (itest_now_ms() < deadline) {
				int ready = 0;

				if (itest_http(env, "GET", "/readyz", "",
				    NULL, NULL, &r) == 0 && r.status == 200)
					ready = 1;
				itest_resp_free(&r);
				if (ready)
					break;
				itest_sleep_ms(50);
			}
			http_quiet = 0;
			return 0;
		}
		itest_sleep_ms(50);
	}
	http_quiet = 0;
	fprintf(stderr, "itest: server not healthy after %d ms\n",
	    ITEST_START_WAIT_MS);
	log_tail(env, 2048);
	(void)itest_server_stop(env, SIGKILL);
	return -1;
}

int
itest_server_stop(struct itest_env *env, int sig)
{
	int status;

	if (env->pid <= 0)
		return -1;
	kill(env->pid, sig);
	status = wait_bounded(env->pid, sig == SIGKILL ? 5000 :
	    ITEST_STOP_WAIT_MS, 0);
	env->pid = 0;
	return status;
}

int
itest_db_stop(struct itest_env *env)
{
	(void)env;
	return pg_cmd("stop", NULL, 0) == 0 ? 0 : -1;
}

int
itest_db_start(struct itest_env *env)
{
	char out[1024];

	(void)env;
	return pg_cmd("start", out, sizeof(out)) == 0 ? 0 : -1;
}

int
itest_cli(struct itest_env *env, char *out, size_t outsz,
    const char *const *argv)
{
	const char *av[64];
	size_t i, n = 0;

	av[n++] = binary;
	av[n++] = "--config";
	av[n++] = env->config_path;
	for (i = 0; argv != NULL && argv[i] != NULL; i++) {
		if (n + 2 > sizeof(av) / sizeof(av[0]))
			return -1;
		av[n++] = argv[i];
	}
	av[n] = NULL;
	return run_cmd(av, out, outsz, ITEST_CLI_TIMEOUT_S);
}

int
itest_sql(struct itest_env *env, char *out, size_t outsz, const char *sql)
{
	const char *argv[] = { "/usr/bin/psql", env->dsn, "-XAtq",
	    "-v", "ON_ERROR_STOP=1", "-c", sql, NULL };

	if (access(argv[0], X_OK) != 0)
		argv[0] = "/usr/local/bin/psql";
	setenv("PGCONNECT_TIMEOUT", "5", 1);
	return run_cmd(argv, out, outsz, ITEST_CMD_TIMEOUT_S);
}

int
itest_vault_sql(struct itest_env *env, char *out, size_t outsz,
    const char *sql)
{
	const char *argv[] = { "/usr/bin/psql", env->vault_dsn, "-XAtq",
	    "-v", "ON_ERROR_STOP=1", "-c", sql, NULL };

	if (access(argv[0], X_OK) != 0)
		argv[0] = "/usr/local/bin/psql";
	setenv("PGCONNECT_TIMEOUT", "5", 1);
	return run_cmd(argv, out, outsz, ITEST_CMD_TIMEOUT_S);
}

/* HTTP */

struct body_acc {
	char *p;
	size_t len, cap;
	int over;
};

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body_acc *b = arg;
	size_t n = size * nmemb, ncap;
	char *np;

	if (b->len + n > ITEST_BODY_MAX) {
		b->over = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return 0;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static void
hdr_copy(char *dst, size_t dstsz, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct itest_resp *r = arg;
	size_t n = size * nmemb;
	static const struct {
		const char *name;
		size_t off, sz;
	} want[] = {
		{ "content-type", offsetof(struct itest_resp, content_type),
		    sizeof(((struct itest_resp *)0)->content_type) },
		{ "location", offsetof(struct itest_resp, location),
		    sizeof(((struct itest_resp *)0)->location) },
		{ "etag", offsetof(struct itest_resp, etag),
		    sizeof(((struct itest_resp *)0)->etag) },
		{ "www-authenticate", offsetof(struct itest_resp,
		    www_authenticate),
		    sizeof(((struct itest_resp *)0)->www_authenticate) },
		{ "retry-after", offsetof(struct itest_resp, retry_after),
		    sizeof(((struct itest_resp *)0)->retry_after) },
	};
	const char *colon;
	size_t i, nl;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the old one */
		r->content_type[0] = r->location[0] = r->etag[0] = '\0';
		r->www_authenticate[0] = r->retry_after[0] = '\0';
		return n;
	}
	if ((colon = memchr(data, ':', n)) == NULL)
		return n;
	nl = (size_t)(colon - data);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strlen(want[i].name) == nl &&
		    strncasecmp(data, want[i].name, nl) == 0) {
			hdr_copy((char *)r + want[i].off, want[i].sz,
			    colon + 1, n - nl - 1);
			break;
		}
	}
	return n;
}

int
itest_http_raw(struct itest_env *env, const char *method, const char *path,
    const char *token, const char *body, size_t len,
    const char *const *headers, struct itest_resp *out)
{
	struct curl_slist *hl = NULL, *t;
	struct body_acc acc = { NULL, 0, 0, 0 };
	char *url = NULL, auth[300];
	size_t ulen;
	CURL *c = NULL;
	CURLcode cr;
	json_error_t jerr;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	ulen = strlen(env->addr) + strlen(path) + 1;
	if ((url = malloc(ulen)) == NULL)
		return -1;
	snprintf(url, ulen, "%s%s", env->addr, path);
	if ((c = curl_easy_init()) == NULL) {
		free(url);
		return -1;
	}
	if (token == NULL)
		token = env->token;
	if (token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		if ((t = curl_slist_append(hl, auth)) == NULL)
			goto out;
		hl = t;
	}
	if (body != NULL) {
		if ((t = curl_slist_append(hl,
		    "Content-Type: application/scim+json")) == NULL)
			goto out;
		hl = t;
	}
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((t = curl_slist_append(hl, headers[i])) == NULL)
			goto out;
		hl = t;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &acc);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
	if (tls_ca[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, tls_ca);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cr = curl_easy_perform(c);
	if (cr != CURLE_OK && http_quiet)
		goto out;
	if (cr != CURLE_OK) {
		fprintf(stderr, "itest: %s %.200s: %s%s\n", method, path,
		    curl_easy_strerror(cr), acc.over ? " (body too big)" : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (acc.p == NULL && (acc.p = calloc(1, 1)) == NULL)
		goto out;
	out->body = acc.p;
	out->body_len = acc.len;
	acc.p = NULL;
	if (out->body_len > 0)
		out->json = json_loadb(out->body, out->body_len,
		    JSON_REJECT_DUPLICATES, &jerr);
	ret = 0;
out:
	free(acc.p);
	free(url);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return ret;
}

int
itest_http(struct itest_env *env, const char *method, const char *path,
    const char *token, const char *body, const char *const *headers,
    struct itest_resp *out)
{
	return itest_http_raw(env, method, path, token, body,
	    body != NULL ? strlen(body) : 0, headers, out);
}

void
itest_resp_free(struct itest_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	json_decref(r->json);
	r->json = NULL;
}

static char *
read_file(const char *path, size_t max, size_t *lenp)
{
	char *p = NULL, *np;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (cap > max + 1)
				cap = max + 1;
			if (cap <= len + 1) {
				free(p);
				p = NULL;
				break;
			}
			if ((np = realloc(p, cap)) == NULL) {
				free(p);
				p = NULL;
				break;
			}
			p = np;
		}
		n = fread(p + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				free(p);
				p = NULL;
			}
			break;
		}
	}
	fclose(f);
	if (p != NULL) {
		p[len] = '\0';
		if (lenp != NULL)
			*lenp = len;
	}
	return p;
}

char *
itest_fixture(const char *relpath)
{
	return itest_fixture_len(relpath, NULL);
}

char *
itest_fixture_len(const char *relpath, size_t *lenp)
{
	char path[2048];

	if (root_dir[0] == '\0') {
		const char *s = getenv("VB_ROOT");

		if (s != NULL && *s != '\0')
			snprintf(root_dir, sizeof(root_dir), "%s", s);
		else if (getcwd(root_dir, sizeof(root_dir)) == NULL)
			return NULL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root_dir,
	    relpath) >= sizeof(path))
		return NULL;
	return read_file(path, ITEST_BODY_MAX, lenp);
}

int
itest_log_contains(struct itest_env *env, const char *needle)
{
	return itest_log_count(env, needle) > 0;
}

int
itest_log_count(struct itest_env *env, const char *needle)
{
	size_t len, nlen = strlen(needle);
	const char *at, *end;
	char *p;
	int n = 0;

	if ((p = read_file(env->log_path, ITEST_BODY_MAX, &len)) == NULL)
		return -1;
	/* the log may hold NULs from hostile input: search bytewise */
	end = p + len;
	for (at = p; nlen > 0 && (at = memmem(at, (size_t)(end - at),
	    needle, nlen)) != NULL; at += nlen)
		n++;
	free(p);
	return n;
}

/*
 * Walk a dotted path. Object keys may themselves contain dots (schema
 * URNs such as "...:enterprise:2.0:User"), so at an object the longest
 * key that is a prefix of the rest of the path (ending at a '.' or the
 * end) wins. At an array a component is an index.
 */
static json_t *
json_walk(json_t *j, const char *path)
{
	const char *p = path, *dot;
	char key[512];
	size_t n, idx;
	json_t *v;

	while (j != NULL && *p != '\0') {
		if (json_is_object(j)) {
			v = NULL;
			n = strlen(p);
			for (;;) {
				if (n < sizeof(key)) {
					memcpy(key, p, n);
					key[n] = '\0';
					if ((v = json_object_get(j, key)) !=
					    NULL)
						break;
				}
				/* shorten to the previous '.' */
				while (n > 0 && p[n - 1] != '.')
					n--;
				if (n == 0)
					break;
				n--;
			}
			if (v == NULL)
				return NULL;
			j = v;
			p += n;
		} else if (json_is_array(j)) {
			dot = strchr(p, '.');
			n = dot != NULL ? (size_t)(dot - p) : strlen(p);
			if (n == 0 || n > 9)
				return NULL;
			idx = 0;
			for (size_t i = 0; i < n; i++) {
				if (!isdigit((unsigned char)p[i]))
					return NULL;
				idx = idx * 10 + (size_t)(p[i] - '0');
			}
			j = json_array_get(j, idx);
			p += n;
		} else
			return NULL;
		if (*p == '.')
			p++;
		else if (*p != '\0')
			return NULL;
	}
	return j;
}

const char *
itest_json_str(const struct itest_resp *r, const char *path)
{
	json_t *v;

	if (r == NULL || r->json == NULL)
		return NULL;
	v = json_walk(r->json, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long
itest_json_int(const struct itest_resp *r, const char *path)
{
	json_t *v;

	if (r == NULL || r->json == NULL)
		return -1;
	v = json_walk(r->json, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}
