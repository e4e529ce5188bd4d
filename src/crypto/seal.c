#include "crypto/seal.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "util/errors.h"
#include "util/bounds.h"

#define KEY_ID_BYTES	(SEAL_KEY_ID_LEN / 2)
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES

#define TYPE_DEK	'D'
#define TYPE_SECRET	'S'

/* wrapped data key: version, type, key id | nonce | ct + tag */
#define DEK_HDR_LEN	(2 + KEY_ID_BYTES)
#define DEK_LEN \
	(DEK_HDR_LEN + NONCE_LEN + SEAL_KEY_LEN + TAG_LEN)
/* sealed secret: version, type | nonce | ct + tag */
#define SECRET_HDR_LEN	2
#define SECRET_OVERHEAD	(SECRET_HDR_LEN + NONCE_LEN + TAG_LEN)

/*
 * Domain separation: each use of a key authenticates its own purpose
 * string (NUL included) ahead of the blob header, so a blob of one kind
 * never opens as another.
 */
#define KEY_ID_CONTEXT	"vaultbridge seal v1 master key id"
#define DEK_PURPOSE	"vaultbridge seal v1 data key"
#define SECRET_PURPOSE	"vaultbridge seal v1 secret"

#define CRED_PREFIX	"cred:"
#define CRED_PREFIX_LEN	5
/* ", " + id per key */
#define ID_LIST_MAX	(SEAL_KEYRING_MAX * (SEAL_KEY_ID_LEN + 2) + 1)

_Static_assert(DEK_LEN == SEAL_WRAPPED_DEK_LEN, "wrapped data key size");
_Static_assert(SECRET_OVERHEAD == SEAL_SECRET_OVERHEAD, "secret overhead");
_Static_assert(SEAL_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "key size");
_Static_assert(crypto_generichash_BYTES_MIN >= KEY_ID_BYTES, "key id size");

struct seal_keyring {
	size_t n;			/* keys loaded */
	size_t cap;			/* keys allocated */
	unsigned char *keys;		/* cap keys, sodium_malloc'd */
	unsigned char ids[SEAL_KEYRING_MAX][KEY_ID_BYTES];
	char hex[SEAL_KEYRING_MAX][SEAL_KEY_ID_LEN + 1];
};

struct seal_secret {
	unsigned char *data;		/* len + 1 bytes, sodium_malloc'd */
	size_t len;
};

static void
key_id(const unsigned char *key, unsigned char id[KEY_ID_BYTES])
{
	unsigned char h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h), (const unsigned char *)KEY_ID_CONTEXT,
	    sizeof(KEY_ID_CONTEXT) - 1, key, SEAL_KEY_LEN);
	memcpy(id, h, KEY_ID_BYTES);
	sodium_memzero(h, sizeof(h));
}

static void
id_hex(const unsigned char id[KEY_ID_BYTES], char out[SEAL_KEY_ID_LEN + 1])
{
	sodium_bin2hex(out, SEAL_KEY_ID_LEN + 1, id, KEY_ID_BYTES);
}

/* "id0, id1, ..." of every loaded key, for error messages. */
static void
id_list(const struct seal_keyring *kr, char out[ID_LIST_MAX])
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < kr->n; i++) {
		if (i > 0) {
			memcpy(out + off, ", ", 2);
			off += 2;
		}
		memcpy(out + off, kr->hex[i], SEAL_KEY_ID_LEN);
		off += SEAL_KEY_ID_LEN;
	}
	out[off] = '\0';
}

/*
 * Master key file parsing.
 */

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/*
 * Decode the contents of a key file (raw, hex or base64) into key.
 * Messages say which form was expected, never what the bytes were.
 */
static int
key_decode(const char *name, const unsigned char *in, size_t len,
    unsigned char *key, char *err, size_t errsz)
{
	const size_t b64len = sodium_base64_ENCODED_LEN(SEAL_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL) - 1;
	const char *text = (const char *)in;
	size_t i, blen = 0, flen = len;
	int r = ERR_CONFIG;

	if (len == SEAL_KEY_LEN) {
		/*
		 * 32 random bytes are all text with odds of about 1e-13;
		 * text is a password or a cut hex key, not a key.
		 */
		for (i = 0; i < len; i++)
			if ((in[i] < 0x20 || in[i] > 0x7e) && in[i] != '\n' &&
			    in[i] != '\r' && in[i] != '\t')
				break;
		if (i == len) {
			err_msg(err, errsz, "master key %s: 32 bytes of text, "
			    "not 32 random bytes (use 64 hex characters)",
			    name);
			goto out;
		}
		memcpy(key, in, SEAL_KEY_LEN);
		r = 0;
		goto out;
	}
	if (len > 0 && in[len - 1] == '\n')
		len--;
	if (len == SEAL_KEY_LEN * 2) {
		for (i = 0; i < len; i++)
			if (!is_hex(in[i]))
				break;
		if (i < len || sodium_hex2bin(key, SEAL_KEY_LEN, text, len,
		    NULL, &blen, NULL) != 0 || blen != SEAL_KEY_LEN) {
			err_msg(err, errsz, "master key %s: 64 characters but "
			    "not all hex digits", name);
			goto out;
		}
		r = 0;
		goto out;
	}
	if (len == b64len) {
		for (i = 0; i < len; i++)
			if (!is_b64(in[i]))
				break;
		/* libsodium also refuses nonzero unused bits in the last
		 * char, so each key has one spelling */
		if (i == len && sodium_base642bin(key, SEAL_KEY_LEN, text, len,
		    NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    blen == SEAL_KEY_LEN) {
			r = 0;
			goto out;
		}
		err_msg(err, errsz, "master key %s: %zu characters but not "
		    "the base64 form of 32 bytes", name, len);
		goto out;
	}
	err_msg(err, errsz, "master key %s: expected 32 raw bytes, 64 hex "
	    "characters or 44 base64 characters, found %zu bytes", name, flen);
out:
	if (r != 0)
		sodium_memzero(key, SEAL_KEY_LEN);
	return r;
}

/*
 * Resolve "cred:NAME" to $CREDENTIALS_DIRECTORY/NAME; any other spec is
 * a path used as is.
 */
static int
key_path(const char *spec, char *path, size_t pathsz, char *err,
    size_t errsz)
{
	const char *name, *dir;
	size_t nlen;
	int n;

	if (strncmp(spec, CRED_PREFIX, CRED_PREFIX_LEN) != 0) {
		if (spec[0] == '\0') {
			err_msg(err, errsz, "master key path is empty");
			return ERR_CONFIG;
		}
		if (strlen(spec) >= pathsz) {
			err_msg(err, errsz, "master key path is too long");
			return ERR_CONFIG;
		}
		memcpy(path, spec, strlen(spec) + 1);
		return 0;
	}
	name = spec + CRED_PREFIX_LEN;
	nlen = strlen(name);
	if (nlen == 0 || nlen > SEAL_CRED_NAME_MAX ||
	    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		err_msg(err, errsz, "master key %.300s: not a valid systemd "
		    "credential name", spec);
		return ERR_CONFIG;
	}
	if ((dir = secure_getenv("CREDENTIALS_DIRECTORY")) == NULL ||
	    dir[0] != '/') {
		err_msg(err, errsz, "master key %s: $CREDENTIALS_DIRECTORY is "
		    "not set to an absolute path (not started by systemd "
		    "with LoadCredential=?)", spec);
		return ERR_CONFIG;
	}
	n = snprintf(path, pathsz, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= pathsz) {
		err_msg(err, errsz, "master key %s: credential path is too "
		    "long", spec);
		return ERR_CONFIG;
	}
	return 0;
}

/* Read and check one key file into key (SEAL_KEY_LEN bytes). */
static int
key_read(const char *spec, unsigned char *key, char *err, size_t errsz)
{
	unsigned char raw[SEAL_KEY_FILE_MAX + 1];
	char path[PATH_MAX];
	struct stat st;
	size_t len = 0;
	ssize_t got;
	int fd = -1, r;

	if ((r = key_path(spec, path, sizeof(path), err, errsz)) != 0)
		return r;
	/* O_NONBLOCK: a FIFO must not hang startup before fstat sees it */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			err_msg(err, errsz, "master key %s is a symbolic link; "
			    "refusing it (point to the file itself)", spec);
		else
			err_msg(err, errsz, "master key %s: cannot open: %s",
			    spec, strerror(errno));
		r = errno == ELOOP ? ERR_CONFIG : ERR_IO;
		goto out;
	}
	r = ERR_CONFIG;
	if (fstat(fd, &st) == -1) {
		err_msg(err, errsz, "master key %s: %s", spec, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_msg(err, errsz, "master key %s is not a regular file",
		    spec);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err_msg(err, errsz, "master key %s has mode %04o: group or "
		    "others may access it; it must be 0600 or 0400 "
		    "(chmod 600 %s)", spec, (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		err_msg(err, errsz, "master key %s is owned by uid %u, neither "
		    "this user (%u) nor root", spec, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	while (len < sizeof(raw)) {
		got = read(fd, raw + len, sizeof(raw) - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			err_msg(err, errsz, "master key %s: read: %s", spec,
			    strerror(errno));
			r = ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > SEAL_KEY_FILE_MAX) {
		err_msg(err, errsz, "master key %s is larger than %d bytes; "
		    "not a key file", spec, SEAL_KEY_FILE_MAX);
		goto out;
	}
	if ((r = key_decode(spec, raw, len, key, err, errsz)) != 0)
		goto out;
	if (sodium_is_zero(key, SEAL_KEY_LEN)) {
		err_msg(err, errsz, "master key %s is all zero bytes", spec);
		sodium_memzero(key, SEAL_KEY_LEN);
		r = ERR_CONFIG;
		goto out;
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	sodium_memzero(raw, sizeof(raw));
	return r;
}

int
seal_keyring_load(const char *const *paths, size_t n,
    struct seal_keyring **out, char *err, size_t errsz)
{
	struct seal_keyring *kr = NULL;
	size_t i, j;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INTERNAL;
	*out = NULL;
	if (paths == NULL || n == 0 || n > SEAL_KEYRING_MAX) {
		err_msg(err, errsz, "between 1 and %d master keys are needed, "
		    "got %zu", SEAL_KEYRING_MAX, n);
		return ERR_INTERNAL;
	}
	if (sodium_init() < 0) {
		err_msg(err, errsz, "libsodium failed to initialise");
		return ERR_CRYPTO;
	}
	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		err_msg(err, errsz, "out of memory loading master keys");
		return ERR_ALLOC;
	}
	if ((kr->keys = sodium_malloc(n * SEAL_KEY_LEN)) == NULL) {
		err_msg(err, errsz, "cannot allocate locked memory for keys");
		r = ERR_ALLOC;
		goto out;
	}
	kr->cap = n;
	for (i = 0; i < n; i++) {
		if (paths[i] == NULL) {
			err_msg(err, errsz, "master key path %zu is missing",
			    i);
			r = ERR_INTERNAL;
			goto out;
		}
		if ((r = key_read(paths[i], kr->keys + i * SEAL_KEY_LEN, err,
		    errsz)) != 0)
			goto out;
		key_id(kr->keys + i * SEAL_KEY_LEN, kr->ids[i]);
		id_hex(kr->ids[i], kr->hex[i]);
		kr->n = i + 1;
		for (j = 0; j < i; j++) {
			if (memcmp(kr->ids[j], kr->ids[i], KEY_ID_BYTES) != 0)
				continue;
			err_msg(err, errsz, "master keys %s and %s are the "
			    "same key (id %s)", paths[j], paths[i], kr->hex[i]);
			r = ERR_CONFIG;
			goto out;
		}
	}
	/* keys never change after loading: a stray write faults */
	sodium_mprotect_readonly(kr->keys);
	*out = kr;
	kr = NULL;
	r = 0;
out:
	seal_keyring_free(kr);
	return r;
}

void
seal_keyring_free(struct seal_keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->keys != NULL) {
		sodium_mprotect_readwrite(kr->keys);
		sodium_memzero(kr->keys, kr->cap * SEAL_KEY_LEN);
		sodium_free(kr->keys);
	}
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

size_t
seal_keyring_count(const struct seal_keyring *kr)
{
	return kr == NULL ? 0 : kr->n;
}

int
seal_keyring_key_id(const struct seal_keyring *kr, size_t i,
    char id[SEAL_KEY_ID_LEN + 1])
{
	if (kr == NULL || i >= kr->n)
		return ERR_NOT_FOUND;
	memcpy(id, kr->hex[i], SEAL_KEY_ID_LEN + 1);
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
seal_key_generate(const char *path, char id[SEAL_KEY_ID_LEN + 1],
    char *err, size_t errsz)
{
	unsigned char key[SEAL_KEY_LEN], kid[KEY_ID_BYTES];
	char text[SEAL_KEY_LEN * 2 + 2];
	int fd = -1, created = 0, r = ERR_IO;

	if (path == NULL || path[0] == '\0') {
		err_msg(err, errsz, "no path for the new master key");
		return ERR_INTERNAL;
	}
	if (sodium_init() < 0) {
		err_msg(err, errsz, "libsodium failed to initialise");
		return ERR_CRYPTO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (fd == -1) {
		if (errno == EEXIST) {
			err_msg(err, errsz, "%s already exists; refusing to "
			    "overwrite a key file", path);
			r = ERR_CONFLICT;
		} else
			err_msg(err, errsz, "cannot create %s: %s", path,
			    strerror(errno));
		goto out;
	}
	created = 1;
	/* the umask may have taken bits away; say exactly what we mean */
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1) {
		err_msg(err, errsz, "chmod %s: %s", path, strerror(errno));
		goto out;
	}
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(text, sizeof(text), key, sizeof(key));
	text[SEAL_KEY_LEN * 2] = '\n';
	if (write_all(fd, (const unsigned char *)text, SEAL_KEY_LEN * 2 + 1)
	    != 0 || fsync(fd) != 0) {
		err_msg(err, errsz, "write %s: %s", path, strerror(errno));
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r != 0) {
		err_msg(err, errsz, "close %s: %s", path, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	key_id(key, kid);
	if (id != NULL)
		id_hex(kid, id);
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (r != 0 && created)
		unlink(path);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	return r;
}

/*
 * Data keys.
 */

static const unsigned char *
keyring_find(const struct seal_keyring *kr, const unsigned char *id)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (memcmp(kr->ids[i], id, KEY_ID_BYTES) == 0)
			return kr->keys + i * SEAL_KEY_LEN;
	return NULL;
}

/* Associated data of a wrapped data key: purpose, then its header. */
static size_t
dek_ad(const unsigned char *hdr, unsigned char *ad)
{
	memcpy(ad, DEK_PURPOSE, sizeof(DEK_PURPOSE));
	memcpy(ad + sizeof(DEK_PURPOSE), hdr, DEK_HDR_LEN);
	return sizeof(DEK_PURPOSE) + DEK_HDR_LEN;
}

/* Wrap dek under the current master key into *out. */
static int
dek_wrap(const struct seal_keyring *kr, const unsigned char *dek,
    struct seal_blob *out, char *err, size_t errsz)
{
	unsigned char ad[sizeof(DEK_PURPOSE) + DEK_HDR_LEN];
	unsigned char *b;
	size_t adlen;

	if ((b = malloc(DEK_LEN)) == NULL) {
		err_msg(err, errsz, "out of memory wrapping a data key");
		return ERR_ALLOC;
	}
	b[0] = SEAL_VERSION;
	b[1] = TYPE_DEK;
	memcpy(b + 2, kr->ids[0], KEY_ID_BYTES);
	randombytes_buf(b + DEK_HDR_LEN, NONCE_LEN);
	adlen = dek_ad(b, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(b + DEK_HDR_LEN + NONCE_LEN,
	    NULL, dek, SEAL_KEY_LEN, ad, adlen, NULL, b + DEK_HDR_LEN,
	    kr->keys);
	out->data = b;
	out->len = DEK_LEN;
	return 0;
}

static int
dek_parse(const struct seal_blob *w, char *err, size_t errsz)
{
	if (w == NULL || w->data == NULL) {
		err_msg(err, errsz, "no wrapped data key");
		return ERR_CRYPTO;
	}
	if (w->len != DEK_LEN) {
		err_msg(err, errsz, "wrapped data key is malformed: %zu bytes, "
		    "expected %d", w->len, DEK_LEN);
		return ERR_CRYPTO;
	}
	if (w->data[0] != SEAL_VERSION) {
		err_msg(err, errsz, "wrapped data key has unsupported format "
		    "version %u", (unsigned)w->data[0]);
		return ERR_CRYPTO;
	}
	if (w->data[1] != TYPE_DEK) {
		err_msg(err, errsz, "blob is not a wrapped data key");
		return ERR_CRYPTO;
	}
	return 0;
}

/*
 * Unwrap w into *dekp (SEAL_KEY_LEN bytes, sodium_malloc'd; the caller
 * sodium_free()s it, which wipes it, as soon as it is done).
 */
static int
dek_unwrap(const struct seal_keyring *kr, const struct seal_blob *w,
    unsigned char **dekp, char *err, size_t errsz)
{
	unsigned char ad[sizeof(DEK_PURPOSE) + DEK_HDR_LEN];
	char want[SEAL_KEY_ID_LEN + 1], have[ID_LIST_MAX];
	const unsigned char *mk;
	unsigned char *dek = NULL;
	size_t adlen;
	int r;

	*dekp = NULL;
	if ((r = dek_parse(w, err, errsz)) != 0)
		return r;
	if ((mk = keyring_find(kr, w->data + 2)) == NULL) {
		id_hex(w->data + 2, want);
		id_list(kr, have);
		err_msg(err, errsz, "data key is wrapped by master key %s, "
		    "which is not loaded; loaded keys: %s", want, have);
		return ERR_CRYPTO;
	}
	if ((dek = sodium_malloc(SEAL_KEY_LEN)) == NULL) {
		err_msg(err, errsz, "cannot allocate locked memory");
		return ERR_ALLOC;
	}
	adlen = dek_ad(w->data, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek, NULL, NULL,
	    w->data + DEK_HDR_LEN + NONCE_LEN, SEAL_KEY_LEN + TAG_LEN, ad,
	    adlen, w->data + DEK_HDR_LEN, mk) != 0) {
		id_hex(w->data + 2, want);
		err_msg(err, errsz, "data key wrapped by master key %s failed "
		    "authentication: wrong master key, or the wrapped key "
		    "is corrupt or was tampered with", want);
		sodium_free(dek);
		return ERR_CRYPTO;
	}
	*dekp = dek;
	return 0;
}

int
seal_dek_new(const struct seal_keyring *kr, struct seal_blob *out,
    char *err, size_t errsz)
{
	unsigned char *dek = NULL;
	int r;

	if (out == NULL)
		return ERR_INTERNAL;
	out->data = NULL;
	out->len = 0;
	if (kr == NULL) {
		err_msg(err, errsz, "no keyring");
		return ERR_INTERNAL;
	}
	if ((dek = sodium_malloc(SEAL_KEY_LEN)) == NULL) {
		err_msg(err, errsz, "cannot allocate locked memory");
		return ERR_ALLOC;
	}
	randombytes_buf(dek, SEAL_KEY_LEN);
	r = dek_wrap(kr, dek, out, err, errsz);
	sodium_free(dek);
	return r;
}

int
seal_dek_rewrap(const struct seal_keyring *kr, const struct seal_blob *in,
    struct seal_blob *out, char *err, size_t errsz)
{
	unsigned char *dek = NULL;
	int r;

	if (out == NULL)
		return ERR_INTERNAL;
	out->data = NULL;
	out->len = 0;
	if (kr == NULL) {
		err_msg(err, errsz, "no keyring");
		return ERR_INTERNAL;
	}
	if ((r = dek_unwrap(kr, in, &dek, err, errsz)) != 0)
		goto out;
	r = dek_wrap(kr, dek, out, err, errsz);
out:
	sodium_free(dek);
	return r;
}

int
seal_dek_check(const struct seal_keyring *kr, const struct seal_blob *wrapped,
    char *err, size_t errsz)
{
	unsigned char *dek = NULL;
	int r;

	if (kr == NULL) {
		err_msg(err, errsz, "no keyring");
		return ERR_INTERNAL;
	}
	r = dek_unwrap(kr, wrapped, &dek, err, errsz);
	sodium_free(dek);
	return r;
}

int
seal_blob_key_id(const struct seal_blob *b, char id[SEAL_KEY_ID_LEN + 1],
    char *err, size_t errsz)
{
	int r;

	if ((r = dek_parse(b, err, errsz)) != 0)
		return r;
	id_hex(b->data + 2, id);
	return 0;
}

/*
 * Secrets.
 */

#define SECRET_AD_BUF \
	(sizeof(SECRET_PURPOSE) + SECRET_HDR_LEN + SEAL_AD_MAX)

/*
 * Associated data of a sealed secret: purpose, header, then the
 * caller's ad. The two fixed-length parts come first, so the caller's
 * part cannot be confused with them.
 */
static int
secret_ad(const char *ad, unsigned char buf[SECRET_AD_BUF], size_t *lenp,
    char *err, size_t errsz)
{
	size_t alen;

	if (ad == NULL || ad[0] == '\0') {
		err_msg(err, errsz, "associated data is required");
		return ERR_INTERNAL;
	}
	if ((alen = strlen(ad)) > SEAL_AD_MAX) {
		err_msg(err, errsz, "associated data is %zu bytes, over the "
		    "limit of %d", alen, SEAL_AD_MAX);
		return ERR_TOO_LARGE;
	}
	memcpy(buf, SECRET_PURPOSE, sizeof(SECRET_PURPOSE));
	buf[sizeof(SECRET_PURPOSE)] = SEAL_VERSION;
	buf[sizeof(SECRET_PURPOSE) + 1] = TYPE_SECRET;
	memcpy(buf + sizeof(SECRET_PURPOSE) + SECRET_HDR_LEN, ad, alen);
	*lenp = sizeof(SECRET_PURPOSE) + SECRET_HDR_LEN + alen;
	return 0;
}

int
seal_encrypt(const struct seal_keyring *kr,
    const struct seal_blob *wrapped_dek, const char *ad, const void *pt,
    size_t ptlen, struct seal_blob *out, char *err, size_t errsz)
{
	static const unsigned char empty[1];
	unsigned char adbuf[SECRET_AD_BUF];
	unsigned char *dek = NULL, *c = NULL;
	size_t adlen = 0, clen;
	int r;

	if (out == NULL)
		return ERR_INTERNAL;
	out->data = NULL;
	out->len = 0;
	if (kr == NULL || (pt == NULL && ptlen > 0)) {
		err_msg(err, errsz, "no keyring or no plaintext");
		return ERR_INTERNAL;
	}
	if (ptlen > SEAL_SECRET_MAX) {
		err_msg(err, errsz, "secret is %zu bytes, over the limit of %d",
		    ptlen, SEAL_SECRET_MAX);
		return ERR_TOO_LARGE;
	}
	if (pt == NULL)
		pt = empty;
	if ((r = secret_ad(ad, adbuf, &adlen, err, errsz)) != 0)
		return r;
	if ((r = dek_unwrap(kr, wrapped_dek, &dek, err, errsz)) != 0)
		goto out;
	clen = SECRET_OVERHEAD + ptlen;
	if ((c = malloc(clen)) == NULL) {
		err_msg(err, errsz, "out of memory sealing a secret");
		r = ERR_ALLOC;
		goto out;
	}
	c[0] = SEAL_VERSION;
	c[1] = TYPE_SECRET;
	randombytes_buf(c + SECRET_HDR_LEN, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(c + SECRET_HDR_LEN +
	    NONCE_LEN, NULL, pt, ptlen, adbuf, adlen, NULL,
	    c + SECRET_HDR_LEN, dek);
	out->data = c;
	out->len = clen;
	c = NULL;
	r = 0;
out:
	sodium_free(dek);
	free(c);
	return r;
}

int
seal_decrypt(const struct seal_keyring *kr,
    const struct seal_blob *wrapped_dek, const char *ad,
    const struct seal_blob *ct, struct seal_secret **out, char *err,
    size_t errsz)
{
	unsigned char adbuf[SECRET_AD_BUF];
	struct seal_secret *s = NULL;
	unsigned char *dek = NULL;
	size_t adlen = 0;
	int r;

	if (out == NULL)
		return ERR_INTERNAL;
	*out = NULL;
	if (kr == NULL) {
		err_msg(err, errsz, "no keyring");
		return ERR_INTERNAL;
	}
	if (ct == NULL || ct->data == NULL || ct->len < SECRET_OVERHEAD) {
		err_msg(err, errsz, "sealed secret is truncated: %zu bytes, at "
		    "least %d expected", ct == NULL || ct->data == NULL ? 0 :
		    ct->len, SECRET_OVERHEAD);
		return ERR_CRYPTO;
	}
	if (ct->len - SECRET_OVERHEAD > SEAL_SECRET_MAX) {
		err_msg(err, errsz, "sealed secret is %zu bytes, longer than "
		    "any secret this version seals", ct->len);
		return ERR_CRYPTO;
	}
	if (ct->data[0] != SEAL_VERSION) {
		err_msg(err, errsz, "sealed secret has unsupported format "
		    "version %u", (unsigned)ct->data[0]);
		return ERR_CRYPTO;
	}
	if (ct->data[1] != TYPE_SECRET) {
		err_msg(err, errsz, "blob is not a sealed secret");
		return ERR_CRYPTO;
	}
	if ((r = secret_ad(ad, adbuf, &adlen, err, errsz)) != 0)
		return r;
	if ((r = dek_unwrap(kr, wrapped_dek, &dek, err, errsz)) != 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_msg(err, errsz, "out of memory opening a secret");
		r = ERR_ALLOC;
		goto out;
	}
	s->len = ct->len - SECRET_OVERHEAD;
	if ((s->data = sodium_malloc(s->len + 1)) == NULL) {
		err_msg(err, errsz, "cannot allocate locked memory");
		r = ERR_ALLOC;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(s->data, NULL, NULL,
	    ct->data + SECRET_HDR_LEN + NONCE_LEN,
	    ct->len - SECRET_HDR_LEN - NONCE_LEN, adbuf, adlen,
	    ct->data + SECRET_HDR_LEN, dek) != 0) {
		err_msg(err, errsz, "sealed secret failed authentication: "
		    "wrong data key or associated data, or the ciphertext is "
		    "corrupt or was tampered with");
		r = ERR_CRYPTO;
		goto out;
	}
	s->data[s->len] = '\0';
	*out = s;
	s = NULL;
	r = 0;
out:
	sodium_free(dek);
	seal_secret_free(s);
	return r;
}

const unsigned char *
seal_secret_data(const struct seal_secret *s)
{
	return s->data;
}

size_t
seal_secret_len(const struct seal_secret *s)
{
	return s->len;
}

void
seal_secret_free(struct seal_secret *s)
{
	if (s == NULL)
		return;
	if (s->data != NULL) {
		sodium_memzero(s->data, s->len + 1);
		sodium_free(s->data);
	}
	free(s);
}

void
seal_blob_free(struct seal_blob *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		sodium_memzero(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}
