/*
 * libFuzzer target: the configuration file and its environment
 * overrides (include/config/config.h).
 *
 * The input up to its first NUL byte is the file; config_load() takes a
 * path, so it is written to a memfd and read back as /proc/self/fd/N.
 * After the NUL, each line is one environment entry (so
 * VAULTBRIDGE_HTTP_PORT=0 can be tried); the process environment is
 * never used. A rejected input must give ERR_CONFIG with a message and
 * no config. An accepted one must survive config_check() (unless it
 * names both TLS files, which would be opened) and round trip: config_dump()
 * output loads back to a config whose dump is the same text.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "util/errors.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENV_MAX		32

struct memfile {
	int fd;
	char path[64];
};

static void
mf_open(struct memfile *m, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	if ((m->fd = memfd_create("fuzz_config", MFD_CLOEXEC)) < 0)
		abort();
	while (len > 0) {
		if ((n = write(m->fd, s, len)) <= 0)
			abort();
		s += n;
		len -= (size_t)n;
	}
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
}

static void
mf_close(struct memfile *m)
{
	close(m->fd);
	m->fd = -1;
}

/* config_dump() of c as a NUL-terminated string (caller frees). */
static char *
dump(const struct config *c, size_t *lenp)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&s, &len)) == NULL)
		abort();
	config_dump(c, f);
	if (fclose(f) != 0 || s == NULL)
		abort();
	*lenp = len;
	return s;
}

static void
round_trip(const struct config *c)
{
	struct memfile mf;
	struct config *c2 = NULL;
	char *envp[1] = { NULL };
	char err[512], *d1, *d2;
	size_t l1, l2;

	d1 = dump(c, &l1);
	mf_open(&mf, d1, l1);
	if (config_load(mf.path, envp, &c2, err, sizeof(err)) != 0)
		abort();
	mf_close(&mf);
	d2 = dump(c2, &l2);
	if (l1 != l2 || memcmp(d1, d2, l1) != 0)
		abort();
	free(d1);
	free(d2);
	config_free(c2);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memfile mf;
	struct config *c = NULL;
	char *envp[ENV_MAX + 1], *envtext = NULL, *s, *nl;
	char err[512];
	const uint8_t *nul;
	size_t flen, n = 0;
	int r;

	nul = memchr(data, '\0', size);
	flen = nul != NULL ? (size_t)(nul - data) : size;
	if (nul != NULL) {
		if ((envtext = malloc(size - flen)) == NULL)
			abort();
		memcpy(envtext, nul + 1, size - flen - 1);
		envtext[size - flen - 1] = '\0';
		for (s = envtext; s != NULL && n < ENV_MAX; s = nl) {
			if ((nl = strchr(s, '\n')) != NULL)
				*nl++ = '\0';
			envp[n++] = s;
		}
	}
	envp[n] = NULL;

	mf_open(&mf, data, flen);
	memset(err, 'x', sizeof(err));
	r = config_load(mf.path, envp, &c, err, sizeof(err));
	mf_close(&mf);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (r != 0) {
		if (r != ERR_CONFIG || c != NULL || err[0] == '\0')
			abort();
		goto out;
	}
	if (c == NULL)
		abort();
	if (c->http_tls_cert == NULL || c->http_tls_key == NULL) {
		r = config_check(c, err, sizeof(err));
		if (r != 0 && (r != ERR_CONFIG || err[0] == '\0'))
			abort();
	}
	round_trip(c);
	config_free(c);
out:
	free(envtext);
	return 0;
}
