#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/seal.h"
#include "testlib.h"
#include "util/bounds.h"

/*
 * Keys used throughout: A = bytes 01..20, B = bytes 81..a0, C = 32 x 0x5c
 * (text bytes would be refused in raw form; C only ever goes as hex).
 */
#define KEY_A_HEX "0102030405060708090a0b0c0d0e0f10" \
	"1112131415161718191a1b1c1d1e1f20"
#define KEY_A_B64 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define KEY_B_HEX "8182838485868788898a8b8c8d8e8f90" \
	"9192939495969798999a9b9c9d9e9fa0"
#define KEY_B_B64 "gYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6A="
#define KEY_C_HEX "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c" \
	"5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c"

#define SAFE	"safe:0b5e7f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
#define AD1	SAFE "/account:1"
#define AD2	SAFE "/account:2"

static char tmpdir[64];

static void
tdir(void)
{
	if (tmpdir[0] != '\0')
		return;
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_seal.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(tmpdir));
}

/* path of name in the temp dir into out (PATH_MAX-free: tests use short
 * names) */
static void
tpath(const char *name, char *out, size_t outsz)
{
	int n;

	tdir();
	n = snprintf(out, outsz, "%s/%s", tmpdir, name);
	ASSERT_TRUE(n > 0 && (size_t)n < outsz);
}

static void
put_file(const char *name, const void *data, size_t len, mode_t mode,
    char *path, size_t pathsz)
{
	int fd;

	tpath(name, path, pathsz);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, data, len), (long long)len);
	ASSERT_INT_EQ(fchmod(fd, mode), 0);
	ASSERT_INT_EQ(close(fd), 0);
}

static void
put_text(const char *name, const char *text, mode_t mode, char *path,
    size_t pathsz)
{
	put_file(name, text, strlen(text), mode, path, pathsz);
}

static struct seal_keyring *
load(const char *const *paths, size_t n)
{
	struct seal_keyring *kr = NULL;
	char err[SEAL_ERR_MAX] = "";
	int r;

	r = seal_keyring_load(paths, n, &kr, err, sizeof(err));
	if (r != 0)
		TL_FAIL("keyring load: %d %s", r, err);
	ASSERT_NOT_NULL(kr);
	return kr;
}

/* Keyring of one key given in hex, written to file name. */
static struct seal_keyring *
load_hex(const char *name, const char *hex)
{
	char path[256];
	const char *paths[1];

	put_text(name, hex, 0600, path, sizeof(path));
	paths[0] = path;
	return load(paths, 1);
}

static void
id_of(const struct seal_keyring *kr, size_t i, char id[SEAL_KEY_ID_LEN + 1])
{
	ASSERT_INT_EQ(seal_keyring_key_id(kr, i, id), 0);
	ASSERT_INT_EQ(strlen(id), SEAL_KEY_ID_LEN);
}

static void
new_dek(const struct seal_keyring *kr, struct seal_blob *dek)
{
	char err[SEAL_ERR_MAX] = "";

	ASSERT_INT_EQ(seal_dek_new(kr, dek, err, sizeof(err)), 0);
	ASSERT_NOT_NULL(dek->data);
	ASSERT_INT_EQ(dek->len, SEAL_WRAPPED_DEK_LEN);
}

static void
seal(const struct seal_keyring *kr, const struct seal_blob *dek,
    const char *ad, const void *pt, size_t len, struct seal_blob *ct)
{
	char err[SEAL_ERR_MAX] = "";
	int r;

	r = seal_encrypt(kr, dek, ad, pt, len, ct, err, sizeof(err));
	if (r != 0)
		TL_FAIL("seal_encrypt: %d %s", r, err);
	ASSERT_INT_EQ(ct->len, len + SEAL_SECRET_OVERHEAD);
}

/* Expect sealed ct to open to pt[0..len). */
static void
opens_to(const struct seal_keyring *kr, const struct seal_blob *dek,
    const char *ad, const struct seal_blob *ct, const void *pt, size_t len)
{
	struct seal_secret *s = NULL;
	char err[SEAL_ERR_MAX] = "";
	int r;

	r = seal_decrypt(kr, dek, ad, ct, &s, err, sizeof(err));
	if (r != 0)
		TL_FAIL("seal_decrypt: %d %s", r, err);
	ASSERT_NOT_NULL(s);
	ASSERT_INT_EQ(seal_secret_len(s), len);
	ASSERT_TRUE(len == 0 || memcmp(seal_secret_data(s), pt, len) == 0);
	ASSERT_INT_EQ(seal_secret_data(s)[len], '\0');
	seal_secret_free(s);
}

/* Expect decryption to fail closed: ERR_CRYPTO, no secret, a message. */
static void
fails_closed(const struct seal_keyring *kr, const struct seal_blob *dek,
    const char *ad, const struct seal_blob *ct, char *err, size_t errsz)
{
	struct seal_secret *s = (struct seal_secret *)&s;

	err[0] = '\0';
	ASSERT_INT_EQ(seal_decrypt(kr, dek, ad, ct, &s, err, errsz),
	    ERR_CRYPTO);
	ASSERT_NULL(s);
	ASSERT_TRUE(err[0] != '\0');
}

static void
test_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 1000, SEAL_SECRET_MAX };
	struct seal_keyring *kr;
	struct seal_blob dek, ct;
	unsigned char *pt;
	size_t i, k;

	kr = load_hex("rt.key", KEY_A_HEX);
	new_dek(kr, &dek);
	ASSERT_NOT_NULL(pt = malloc(SEAL_SECRET_MAX));
	for (k = 0; k < SEAL_SECRET_MAX; k++)
		pt[k] = (unsigned char)(k * 7 + 3);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		seal(kr, &dek, AD1, sizes[i] == 0 ? NULL : pt, sizes[i], &ct);
		opens_to(kr, &dek, AD1, &ct, pt, sizes[i]);
		seal_blob_free(&ct);
		ASSERT_NULL(ct.data);
		ASSERT_INT_EQ(ct.len, 0);
	}
	/* a zero-length secret given with a non-NULL pointer */
	seal(kr, &dek, AD1, pt, 0, &ct);
	opens_to(kr, &dek, AD1, &ct, pt, 0);
	seal_blob_free(&ct);
	free(pt);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

static void
test_over_max(void)
{
	struct seal_keyring *kr;
	struct seal_blob dek, ct;
	char err[SEAL_ERR_MAX] = "";
	unsigned char *pt;

	kr = load_hex("max.key", KEY_A_HEX);
	new_dek(kr, &dek);
	ASSERT_NOT_NULL(pt = calloc(1, SEAL_SECRET_MAX + 1));
	ASSERT_INT_EQ(seal_encrypt(kr, &dek, AD1, pt, SEAL_SECRET_MAX + 1,
	    &ct, err, sizeof(err)), ERR_TOO_LARGE);
	ASSERT_NULL(ct.data);
	ASSERT_TRUE(strstr(err, "65537") != NULL);
	/* NULL plaintext with a length is a caller bug */
	ASSERT_INT_EQ(seal_encrypt(kr, &dek, AD1, NULL, 1, &ct, err,
	    sizeof(err)), ERR_INTERNAL);
	free(pt);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

static const unsigned char flips[] = { 0x01, 0x80, 0xff };

/* Every single-byte change of the wrapped data key must fail closed,
 * for decrypt, rewrap and check alike. */
static void
test_dek_flip(void)
{
	struct seal_keyring *kr;
	struct seal_blob dek, ct, out;
	char err[SEAL_ERR_MAX];
	size_t i, f;

	kr = load_hex("flip.key", KEY_A_HEX);
	new_dek(kr, &dek);
	seal(kr, &dek, AD1, "hunter2", 7, &ct);
	for (i = 0; i < dek.len; i++) {
		for (f = 0; f < sizeof(flips); f++) {
			dek.data[i] ^= flips[f];
			fails_closed(kr, &dek, AD1, &ct, err, sizeof(err));
			ASSERT_INT_EQ(seal_dek_rewrap(kr, &dek, &out, err,
			    sizeof(err)), ERR_CRYPTO);
			ASSERT_NULL(out.data);
			ASSERT_INT_EQ(seal_dek_check(kr, &dek, err,
			    sizeof(err)), ERR_CRYPTO);
			dek.data[i] ^= flips[f];
		}
	}
	opens_to(kr, &dek, AD1, &ct, "hunter2", 7);
	seal_blob_free(&ct);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

static void
test_ct_flip(void)
{
	struct seal_keyring *kr;
	struct seal_blob dek, ct;
	char err[SEAL_ERR_MAX], pt[100];
	size_t i, f;

	kr = load_hex("ctflip.key", KEY_A_HEX);
	new_dek(kr, &dek);
	memset(pt, 'p', sizeof(pt));
	seal(kr, &dek, AD1, pt, sizeof(pt), &ct);
	for (i = 0; i < ct.len; i++) {
		for (f = 0; f < sizeof(flips); f++) {
			ct.data[i] ^= flips[f];
			fails_closed(kr, &dek, AD1, &ct, err, sizeof(err));
			ct.data[i] ^= flips[f];
		}
	}
	opens_to(kr, &dek, AD1, &ct, pt, sizeof(pt));
	seal_blob_free(&ct);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

/* Every proper prefix fails, and so does one byte appended. */
static void
test_truncation(void)
{
	struct seal_keyring *kr;
	struct seal_blob dek, ct, cut, out;
	char err[SEAL_ERR_MAX];
	unsigned char *longer;
	size_t n;

	kr = load_hex("trunc.key", KEY_A_HEX);
	new_dek(kr, &dek);
	seal(kr, &dek, AD1, "secret-value", 12, &ct);
	for (n = 0; n < dek.len; n++) {
		/* a fresh copy of exactly n bytes, so ASan sees overreads */
		cut.data = malloc(n + 1);
		ASSERT_NOT_NULL(cut.data);
		memcpy(cut.data, dek.data, n);
		cut.len = n;
		fails_closed(kr, &cut, AD1, &ct, err, sizeof(err));
		ASSERT_INT_EQ(seal_dek_rewrap(kr, &cut, &out, err,
		    sizeof(err)), ERR_CRYPTO);
		seal_blob_free(&cut);
	}
	for (n = 0; n < ct.len; n++) {
		cut.data = malloc(n + 1);
		ASSERT_NOT_NULL(cut.data);
		memcpy(cut.data, ct.data, n);
		cut.len = n;
		fails_closed(kr, &dek, AD1, &cut, err, sizeof(err));
		seal_blob_free(&cut);
	}
	ASSERT_NOT_NULL(longer = malloc(ct.len + 1));
	memcpy(longer, ct.data, ct.len);
	longer[ct.len] = 0;
	cut.data = longer;
	cut.len = ct.len + 1;
	fails_closed(kr, &dek, AD1, &cut, err, sizeof(err));
	seal_blob_free(&cut);
	ASSERT_NOT_NULL(longer = malloc(dek.len + 1));
	memcpy(longer, dek.data, dek.len);
	longer[dek.len] = 0;
	cut.data = longer;
	cut.len = dek.len + 1;
	fails_closed(kr, &cut, AD1, &ct, err, sizeof(err));
	ASSERT_TRUE(strstr(err, "malformed") != NULL);
	seal_blob_free(&cut);
	/* no blob at all */
	cut.data = NULL;
	cut.len = 0;
	fails_closed(kr, &dek, AD1, &cut, err, sizeof(err));
	fails_closed(kr, &cut, AD1, &ct, err, sizeof(err));
	fails_closed(kr, &dek, AD1, NULL, err, sizeof(err));
	fails_closed(kr, NULL, AD1, &ct, err, sizeof(err));
	seal_blob_free(&ct);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

static void
test_wrong_ad(void)
{
	static const struct {
		const char *ad;
		int want;
	} cases[] = {
		{ AD1, 0 },
		{ AD2, ERR_CRYPTO },
		{ AD1 "x", ERR_CRYPTO },
		{ SAFE "/account:", ERR_CRYPTO },
		{ SAFE "/account:01", ERR_CRYPTO },
		{ "SAFE:0b5e7f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b/account:1",
		    ERR_CRYPTO },
		{ "x", ERR_CRYPTO },
		{ "", ERR_INTERNAL },
		{ NULL, ERR_INTERNAL },
	};
	struct seal_keyring *kr;
	struct seal_blob dek, ct;
	struct seal_secret *s;
	char err[SEAL_ERR_MAX], big[SEAL_AD_MAX + 2];
	size_t i;

	kr = load_hex("ad.key", KEY_A_HEX);
	new_dek(kr, &dek);
	seal(kr, &dek, AD1, "pw", 2, &ct);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = NULL;
		err[0] = '\0';
		ASSERT_INT_EQ(seal_decrypt(kr, &dek, cases[i].ad, &ct, &s, err,
		    sizeof(err)), cases[i].want);
		if (cases[i].want == 0) {
			ASSERT_NOT_NULL(s);
			seal_secret_free(s);
		} else {
			ASSERT_NULL(s);
			ASSERT_TRUE(err[0] != '\0');
		}
	}
	/* sealing needs an ad too, of bounded size */
	seal_blob_free(&ct);
	ASSERT_INT_EQ(seal_encrypt(kr, &dek, "", "pw", 2, &ct, err,
	    sizeof(err)), ERR_INTERNAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_INT_EQ(seal_encrypt(kr, &dek, big, "pw", 2, &ct, err,
	    sizeof(err)), ERR_TOO_LARGE);
	big[SEAL_AD_MAX] = '\0';
	seal(kr, &dek, big, "pw", 2, &ct);
	opens_to(kr, &dek, big, &ct, "pw", 2);
	seal_blob_free(&ct);
	seal_blob_free(&dek);
	seal_keyring_free(kr);
}

/* A secret of one safe does not open with another safe's data key. */
static void
test_other_dek(void)
{
	struct seal_keyring *kr;
	struct seal_blob dek1, dek2, ct;
	char err[SEAL_ERR_MAX];

	kr = load_hex("other.key", KEY_A_HEX);
	new_dek(kr, &dek1);
	new_dek(kr, &dek2);
	seal(kr, &dek1, AD1, "pw", 2, &ct);
	fails_closed(kr, &dek2, AD1, &ct, err, sizeof(err));
	ASSERT_TRUE(strstr(err, "failed authentication") != NULL);
	/* one kind of blob never stands in for the other */
	fails_closed(kr, &ct, AD1, &dek1, err, sizeof(err));
	fails_closed(kr, &dek1, AD1, &dek1, err, sizeof(err));
	seal_blob_free(&ct);
	seal_blob_free(&dek1);
	seal_blob_free(&dek2);
	seal_keyring_free(kr);
}

static void
test_wrong_master(void)
{
	struct seal_keyring *ka, *kb;
	struct seal_blob dek, ct;
	char err[SEAL_ERR_MAX], ida[SEAL_KEY_ID_LEN + 1];
	char idb[SEAL_KEY_ID_LEN + 1], idblob[SEAL_KEY_ID_LEN + 1];

	ka = load_hex("wm-a.key", KEY_A_HEX);
	kb = load_hex("wm-b.key", KEY_B_HEX);
	id_of(ka, 0, ida);
	id_of(kb, 0, idb);
	ASSERT_TRUE(strcmp(ida, idb) != 0);
	new_dek(ka, &dek);
	ASSERT_INT_EQ(seal_blob_key_id(&dek, idblob, err, sizeof(err)), 0);
	ASSERT_STR_EQ(idblob, ida);
	seal(ka, &dek, AD1, "pw", 2, &ct);
	fails_closed(kb, &dek, AD1, &ct, err, sizeof(err));
	ASSERT_TRUE(strstr(err, ida) != NULL);
	ASSERT_TRUE(strstr(err, idb) != NULL);
	ASSERT_TRUE(strstr(err, "not loaded") != NULL);
	err[0] = '\0';
	ASSERT_INT_EQ(seal_dek_check(kb, &dek, err, sizeof(err)), ERR_CRYPTO);
	ASSERT_TRUE(strstr(err, ida) != NULL);
	ASSERT_INT_EQ(seal_dek_check(ka, &dek, err, sizeof(err)), 0);
	/* sealing under a data key the keyring cannot open fails too */
	seal_blob_free(&ct);
	ASSERT_INT_EQ(seal_encrypt(kb, &dek, AD1, "pw", 2, &ct, err,
	    sizeof(err)), ERR_CRYPTO);
	ASSERT_NULL(ct.data);
	seal_blob_free(&dek);
	seal_keyring_free(ka);
	seal_keyring_free(kb);
}

/* Same key id, other key bytes: the MAC check still fails closed. */
static void
test_wrong_master_same_id(void)
{
	struct seal_keyring *ka, *kc;
	struct seal_blob dek, forged;
	char err[SEAL_ERR_MAX], idc[SEAL_KEY_ID_LEN + 1];

	ka = load_hex("sid-a.key", KEY_A_HEX);
	kc = load_hex("sid-c.key", KEY_C_HEX);
	id_of(kc, 0, idc);
	new_dek(kc, &dek);
	new_dek(ka, &forged);
	/* a blob of A relabelled with C's id */
	memcpy(forged.data + 2, dek.data + 2, SEAL_KEY_ID_LEN / 2);
	err[0] = '\0';
	ASSERT_INT_EQ(seal_dek_check(kc, &forged, err, sizeof(err)),
	    ERR_CRYPTO);
	ASSERT_TRUE(strstr(err, idc) != NULL);
	ASSERT_TRUE(strstr(err, "failed authentication") != NULL);
	seal_blob_free(&dek);
	seal_blob_free(&forged);
	seal_keyring_free(ka);
	seal_keyring_free(kc);
}

static void
test_rotation(void)
{
	struct seal_keyring *ka, *kba, *kb;
	struct seal_blob dek, dek2, ct;
	char pa[256], pb[256], err[SEAL_ERR_MAX];
	char ida[SEAL_KEY_ID_LEN + 1], idb[SEAL_KEY_ID_LEN + 1];
	char id[SEAL_KEY_ID_LEN + 1];
	const char *paths[2];

	put_text("rot-a.key", KEY_A_HEX "\n", 0600, pa, sizeof(pa));
	put_text("rot-b.key", KEY_B_HEX "\n", 0600, pb, sizeof(pb));
	paths[0] = pa;
	ka = load(paths, 1);
	paths[0] = pb;
	paths[1] = pa;
	kba = load(paths, 2);
	kb = load(paths, 1);
	ASSERT_INT_EQ(seal_keyring_count(kba), 2);
	id_of(ka, 0, ida);
	id_of(kb, 0, idb);
	id_of(kba, 0, id);
	ASSERT_STR_EQ(id, idb);
	id_of(kba, 1, id);
	ASSERT_STR_EQ(id, ida);
	ASSERT_INT_EQ(seal_keyring_key_id(kba, 2, id), ERR_NOT_FOUND);

	new_dek(ka, &dek);
	seal(ka, &dek, AD1, "before rotation", 15, &ct);
	/* during the rotation both keys open it */
	opens_to(kba, &dek, AD1, &ct, "before rotation", 15);
	ASSERT_INT_EQ(seal_dek_rewrap(kba, &dek, &dek2, err, sizeof(err)), 0);
	ASSERT_INT_EQ(seal_blob_key_id(&dek2, id, err, sizeof(err)), 0);
	ASSERT_STR_EQ(id, idb);
	/* the data key is unchanged: old secrets open with the new wrap */
	opens_to(kb, &dek2, AD1, &ct, "before rotation", 15);
	opens_to(kba, &dek2, AD1, &ct, "before rotation", 15);
	fails_closed(ka, &dek2, AD1, &ct, err, sizeof(err));
	ASSERT_TRUE(strstr(err, idb) != NULL);
	ASSERT_TRUE(strstr(err, ida) != NULL);
	/* the old wrap needs the old key */
	fails_closed(kb, &dek, AD1, &ct, err, sizeof(err));
	/* new data keys go under the current key */
	seal_blob_free(&dek);
	new_dek(kba, &dek);
	ASSERT_INT_EQ(seal_blob_key_id(&dek, id, err, sizeof(err)), 0);
	ASSERT_STR_EQ(id, idb);
	seal_blob_free(&ct);
	seal_blob_free(&dek);
	seal_blob_free(&dek2);
	seal_keyring_free(ka);
	seal_keyring_free(kba);
	seal_keyring_free(kb);
}

static void
test_key_forms(void)
{
	static const unsigned char raw_a[32] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
	};
	static const struct {
		const char *name;
		const char *text;	/* NULL: raw_a[0..rawlen) */
		size_t rawlen;
		mode_t mode;
		int want;
		const char *msg;	/* in the error */
	} cases[] = {
		{ "hex", KEY_A_HEX, 0, 0600, 0, NULL },
		{ "hex-nl", KEY_A_HEX "\n", 0, 0600, 0, NULL },
		{ "hex-upper", "0102030405060708090A0B0C0D0E0F10"
		    "1112131415161718191A1B1C1D1E1F20", 0, 0600, 0, NULL },
		{ "hex-0400", KEY_A_HEX "\n", 0, 0400, 0, NULL },
		{ "b64", KEY_A_B64, 0, 0600, 0, NULL },
		{ "b64-nl", KEY_A_B64 "\n", 0, 0600, 0, NULL },
		{ "raw", NULL, 32, 0600, 0, NULL },
		{ "raw-31", NULL, 31, 0600, ERR_CONFIG, "found 31 bytes" },
		{ "raw-33", NULL, 33, 0600, ERR_CONFIG, "found 33 bytes" },
		{ "empty", "", 0, 0600, ERR_CONFIG, "found 0 bytes" },
		{ "hex-63", "0102030405060708090a0b0c0d0e0f10"
		    "1112131415161718191a1b1c1d1e1f2", 0, 0600, ERR_CONFIG,
		    "found 63" },
		{ "hex-65", KEY_A_HEX "0", 0, 0600, ERR_CONFIG, "found 65" },
		{ "hex-2nl", KEY_A_HEX "\n\n", 0, 0600, ERR_CONFIG,
		    "found 66" },
		{ "hex-crlf", KEY_A_HEX "\r\n", 0, 0600, ERR_CONFIG,
		    "found 66" },
		{ "hex-bad", "0102030405060708090a0b0c0d0e0f10"
		    "1112131415161718191a1b1c1d1e1fzz", 0, 0600, ERR_CONFIG,
		    "not all hex" },
		{ "hex-space", " 102030405060708090a0b0c0d0e0f10"
		    "1112131415161718191a1b1c1d1e1f20", 0, 0600, ERR_CONFIG,
		    "not all hex" },
		{ "b64-noncanon",
		    "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB=", 0, 0600,
		    ERR_CONFIG, "base64" },
		{ "b64-url", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH-_=",
		    0, 0600, ERR_CONFIG, "base64" },
		{ "b64-nopad", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
		    0, 0600, ERR_CONFIG, "found 43" },
		{ "text-32", "correct horse battery staple 123", 0, 0600,
		    ERR_CONFIG, "text" },
		{ "hex-31-nl", "0102030405060708090a0b0c0d0e0f1\n", 0, 0600,
		    ERR_CONFIG, "text" },
		{ "zero", "00000000000000000000000000000000"
		    "00000000000000000000000000000000", 0, 0600, ERR_CONFIG,
		    "all zero" },
		{ "mode-0644", KEY_A_HEX, 0, 0644, ERR_CONFIG, "mode 0644" },
		{ "mode-0640", KEY_A_HEX, 0, 0640, ERR_CONFIG, "mode 0640" },
		{ "mode-0604", KEY_A_HEX, 0, 0604, ERR_CONFIG, "mode 0604" },
		{ "mode-0610", KEY_A_HEX, 0, 0610, ERR_CONFIG, "mode 0610" },
	};
	unsigned char big[SEAL_KEY_FILE_MAX + 1];
	struct seal_keyring *kr, *ref;
	char path[256], err[SEAL_ERR_MAX], id[SEAL_KEY_ID_LEN + 1];
	char refid[SEAL_KEY_ID_LEN + 1], badraw[33];
	const char *paths[1];
	size_t i;
	int r;

	ref = load_hex("ref.key", KEY_A_HEX);
	id_of(ref, 0, refid);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].text != NULL)
			put_text(cases[i].name, cases[i].text, cases[i].mode,
			    path, sizeof(path));
		else if (cases[i].rawlen <= 32)
			put_file(cases[i].name, raw_a, cases[i].rawlen,
			    cases[i].mode, path, sizeof(path));
		else {
			memcpy(badraw, raw_a, 32);
			badraw[32] = '\n';
			put_file(cases[i].name, badraw, 33, cases[i].mode,
			    path, sizeof(path));
		}
		paths[0] = path;
		kr = NULL;
		err[0] = '\0';
		r = seal_keyring_load(paths, 1, &kr, err, sizeof(err));
		if (r != cases[i].want)
			TL_FAIL("%s: got %d (%s), want %d", cases[i].name, r,
			    err, cases[i].want);
		if (r == 0) {
			/* every spelling of key A is key A */
			id_of(kr, 0, id);
			ASSERT_STR_EQ(id, refid);
			seal_keyring_free(kr);
			continue;
		}
		ASSERT_NULL(kr);
		if (strstr(err, cases[i].msg) == NULL)
			TL_FAIL("%s: \"%s\" lacks \"%s\"", cases[i].name, err,
			    cases[i].msg);
		ASSERT_TRUE(strstr(err, path) != NULL);
		/* never echo key material */
		ASSERT_TRUE(strstr(err, "0102030405") == NULL);
		ASSERT_TRUE(strstr(err, "AQIDBAUG") == NULL);
	}
	/* too large to be a key file */
	memset(big, 'a', sizeof(big));
	put_file("big", big, sizeof(big), 0600, path, sizeof(path));
	paths[0] = path;
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "larger") != NULL);
	seal_keyring_free(ref);
}

static void
test_key_file_kinds(void)
{
	struct seal_keyring *kr = NULL;
	char path[256], link[256], dir[256], err[SEAL_ERR_MAX];
	const char *paths[2];

	put_text("target.key", KEY_A_HEX, 0600, path, sizeof(path));
	tpath("link.key", link, sizeof(link));
	(void)unlink(link);
	ASSERT_INT_EQ(symlink(path, link), 0);
	paths[0] = link;
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_NULL(kr);
	ASSERT_TRUE(strstr(err, "symbolic link") != NULL);
	ASSERT_TRUE(strstr(err, link) != NULL);

	tpath("dir.key", dir, sizeof(dir));
	(void)rmdir(dir);
	ASSERT_INT_EQ(mkdir(dir, 0700), 0);
	paths[0] = dir;
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "not a regular file") != NULL);
	ASSERT_INT_EQ(rmdir(dir), 0);

	tpath("missing.key", dir, sizeof(dir));
	paths[0] = dir;
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_IO);
	ASSERT_TRUE(strstr(err, "missing.key") != NULL);

	paths[0] = "";
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);

	/* owned by someone else (only root can arrange that) */
	if (geteuid() == 0) {
		put_text("other-owner.key", KEY_A_HEX, 0600, dir, sizeof(dir));
		ASSERT_INT_EQ(chown(dir, 4242, (gid_t)-1), 0);
		paths[0] = dir;
		ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err,
		    sizeof(err)), ERR_CONFIG);
		ASSERT_TRUE(strstr(err, "owned by uid 4242") != NULL);
	}

	/* a second key failing fails the whole load */
	paths[0] = path;
	paths[1] = link;
	ASSERT_INT_EQ(seal_keyring_load(paths, 2, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_NULL(kr);
}

static void
test_keyring_args(void)
{
	static const char *const hexes[SEAL_KEYRING_MAX + 1] = {
		KEY_A_HEX, KEY_B_HEX, KEY_C_HEX,
		"02020202020202020202020202020202"
		    "02020202020202020202020202020202",
		"03030303030303030303030303030303"
		    "03030303030303030303030303030303",
		"04040404040404040404040404040404"
		    "04040404040404040404040404040404",
		"05050505050505050505050505050505"
		    "05050505050505050505050505050505",
		"06060606060606060606060606060606"
		    "06060606060606060606060606060606",
		"07070707070707070707070707070707"
		    "07070707070707070707070707070707",
	};
	struct seal_keyring *kr = NULL;
	char store[SEAL_KEYRING_MAX + 1][256], name[32], err[SEAL_ERR_MAX];
	const char *paths[SEAL_KEYRING_MAX + 1];
	size_t i;

	for (i = 0; i < SEAL_KEYRING_MAX + 1; i++) {
		snprintf(name, sizeof(name), "ring-%zu.key", i);
		put_text(name, hexes[i], 0600, store[i], sizeof(store[i]));
		paths[i] = store[i];
	}
	kr = load(paths, SEAL_KEYRING_MAX);
	ASSERT_INT_EQ(seal_keyring_count(kr), SEAL_KEYRING_MAX);
	seal_keyring_free(kr);
	kr = NULL;
	ASSERT_INT_EQ(seal_keyring_load(paths, SEAL_KEYRING_MAX + 1, &kr, err,
	    sizeof(err)), ERR_INTERNAL);
	ASSERT_NULL(kr);
	ASSERT_INT_EQ(seal_keyring_load(paths, 0, &kr, err, sizeof(err)),
	    ERR_INTERNAL);
	/* the same key twice is a configuration mistake */
	paths[1] = paths[0];
	ASSERT_INT_EQ(seal_keyring_load(paths, 2, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "same key") != NULL);
	ASSERT_NULL(kr);
	/* err may be absent */
	ASSERT_INT_EQ(seal_keyring_load(paths, 2, &kr, NULL, 0), ERR_CONFIG);
	seal_keyring_free(NULL);
	ASSERT_INT_EQ(seal_keyring_count(NULL), 0);
}

static void
test_cred(void)
{
	struct seal_keyring *kr, *ref;
	char path[256], err[SEAL_ERR_MAX], id[SEAL_KEY_ID_LEN + 1];
	char refid[SEAL_KEY_ID_LEN + 1];
	const char *paths[1];
	static const char *const bad[] = {
		"cred:", "cred:.", "cred:..", "cred:../cred-master",
		"cred:a/b",
	};
	size_t i;

	ref = load_hex("cred-ref.key", KEY_B_HEX);
	id_of(ref, 0, refid);
	put_text("cred-master", KEY_B_B64 "\n", 0400, path, sizeof(path));
	ASSERT_INT_EQ(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
	paths[0] = "cred:cred-master";
	kr = load(paths, 1);
	id_of(kr, 0, id);
	ASSERT_STR_EQ(id, refid);
	seal_keyring_free(kr);
	kr = NULL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		paths[0] = bad[i];
		ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err,
		    sizeof(err)), ERR_CONFIG);
		ASSERT_TRUE(strstr(err, "credential name") != NULL);
	}
	paths[0] = "cred:no-such-cred";
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_IO);
	ASSERT_TRUE(strstr(err, "cred:no-such-cred") != NULL);
	/* a credential with loose permissions is refused like a file */
	put_text("cred-loose", KEY_B_HEX, 0644, path, sizeof(path));
	paths[0] = "cred:cred-loose";
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "mode 0644") != NULL);
	ASSERT_INT_EQ(setenv("CREDENTIALS_DIRECTORY", "relative", 1), 0);
	paths[0] = "cred:cred-master";
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_INT_EQ(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	ASSERT_INT_EQ(seal_keyring_load(paths, 1, &kr, err, sizeof(err)),
	    ERR_CONFIG);
	ASSERT_TRUE(strstr(err, "CREDENTIALS_DIRECTORY") != NULL);
	ASSERT_NULL(kr);
	seal_keyring_free(ref);
}

static void
test_generate(void)
{
	struct seal_keyring *kr;
	char path[256], link[256], err[SEAL_ERR_MAX], text[80], again[80];
	char id[SEAL_KEY_ID_LEN + 1], lid[SEAL_KEY_ID_LEN + 1];
	const char *paths[1];
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	tpath("gen.key", path, sizeof(path));
	(void)unlink(path);
	ASSERT_INT_EQ(seal_key_generate(path, id, err, sizeof(err)), 0);
	ASSERT_INT_EQ(strlen(id), SEAL_KEY_ID_LEN);
	ASSERT_INT_EQ(lstat(path, &st), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_INT_EQ(st.st_mode & 07777, 0600);
	ASSERT_INT_EQ(st.st_size, 65);
	ASSERT_TRUE((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, text, sizeof(text));
	close(fd);
	ASSERT_INT_EQ(n, 65);
	for (i = 0; i < 64; i++)
		ASSERT_TRUE(strchr("0123456789abcdef", text[i]) != NULL);
	ASSERT_INT_EQ(text[64], '\n');
	paths[0] = path;
	kr = load(paths, 1);
	id_of(kr, 0, lid);
	ASSERT_STR_EQ(lid, id);
	seal_keyring_free(kr);

	/* never overwrite: the file stays as it was */
	ASSERT_INT_EQ(seal_key_generate(path, NULL, err, sizeof(err)),
	    ERR_CONFLICT);
	ASSERT_TRUE(strstr(err, "already exists") != NULL);
	ASSERT_TRUE((fd = open(path, O_RDONLY)) >= 0);
	ASSERT_INT_EQ(read(fd, again, sizeof(again)), 65);
	close(fd);
	ASSERT_INT_EQ(memcmp(text, again, 65), 0);

	/* nor write through a symlink, even a dangling one */
	tpath("gen-link.key", link, sizeof(link));
	(void)unlink(link);
	tpath("gen-target.key", text, sizeof(text));
	(void)unlink(text);
	ASSERT_INT_EQ(symlink(text, link), 0);
	ASSERT_TRUE(seal_key_generate(link, NULL, err, sizeof(err)) != 0);
	ASSERT_INT_EQ(access(text, F_OK), -1);

	/* a second key differs */
	tpath("gen2.key", text, sizeof(text));
	(void)unlink(text);
	ASSERT_INT_EQ(seal_key_generate(text, lid, err, sizeof(err)), 0);
	ASSERT_TRUE(strcmp(lid, id) != 0);
	tpath("no-such-dir/gen.key", text, sizeof(text));
	ASSERT_INT_EQ(seal_key_generate(text, NULL, err, sizeof(err)), ERR_IO);
}

static int
contains(const unsigned char *hay, size_t hlen, const void *needle,
    size_t nlen)
{
	size_t i;

	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

static void
test_random_and_opaque(void)
{
	static const char pw[] = "correct horse battery staple";
	struct seal_keyring *kr;
	struct seal_blob dek, dek2, re, ct1, ct2;
	char err[SEAL_ERR_MAX];

	kr = load_hex("rnd.key", KEY_A_HEX);
	new_dek(kr, &dek);
	new_dek(kr, &dek2);
	ASSERT_TRUE(memcmp(dek.data, dek2.data, dek.len) != 0);
	ASSERT_INT_EQ(seal_dek_rewrap(kr, &dek, &re, err, sizeof(err)), 0);
	ASSERT_INT_EQ(re.len, dek.len);
	ASSERT_TRUE(memcmp(re.data, dek.data, dek.len) != 0);
	seal(kr, &dek, AD1, pw, sizeof(pw) - 1, &ct1);
	seal(kr, &dek, AD1, pw, sizeof(pw) - 1, &ct2);
	ASSERT_TRUE(memcmp(ct1.data, ct2.data, ct1.len) != 0);
	/* the plaintext (or a piece of it) and the ad are not in the blob */
	ASSERT_FALSE(contains(ct1.data, ct1.len, pw, sizeof(pw) - 1));
	ASSERT_FALSE(contains(ct1.data, ct1.len, "horse", 5));
	ASSERT_FALSE(contains(ct2.data, ct2.len, "horse", 5));
	ASSERT_FALSE(contains(ct1.data, ct1.len, "safe:", 5));
	/* the rewrapped key still opens both */
	opens_to(kr, &re, AD1, &ct1, pw, sizeof(pw) - 1);
	opens_to(kr, &re, AD1, &ct2, pw, sizeof(pw) - 1);
	seal_blob_free(&ct1);
	seal_blob_free(&ct2);
	seal_blob_free(&re);
	seal_blob_free(&dek);
	seal_blob_free(&dek2);
	seal_blob_free(NULL);
	seal_secret_free(NULL);
	seal_keyring_free(kr);
}

static void
test_blob_key_id(void)
{
	struct seal_blob b;
	unsigned char junk[SEAL_WRAPPED_DEK_LEN];
	char err[SEAL_ERR_MAX], id[SEAL_KEY_ID_LEN + 1];

	memset(junk, 0, sizeof(junk));
	b.data = junk;
	b.len = sizeof(junk);
	ASSERT_INT_EQ(seal_blob_key_id(&b, id, err, sizeof(err)), ERR_CRYPTO);
	ASSERT_TRUE(strstr(err, "version 0") != NULL);
	junk[0] = SEAL_VERSION;
	junk[1] = 'S';
	ASSERT_INT_EQ(seal_blob_key_id(&b, id, err, sizeof(err)), ERR_CRYPTO);
	junk[1] = 'D';
	junk[2] = 0xab;
	ASSERT_INT_EQ(seal_blob_key_id(&b, id, err, sizeof(err)), 0);
	ASSERT_STR_EQ(id, "ab00000000000000");
	b.len--;
	ASSERT_INT_EQ(seal_blob_key_id(&b, id, err, sizeof(err)), ERR_CRYPTO);
	ASSERT_INT_EQ(seal_blob_key_id(NULL, id, err, sizeof(err)),
	    ERR_CRYPTO);
}

/* Last: remove the temp dir and everything in it. */
static void
test_cleanup(void)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if (tmpdir[0] == '\0')
		return;
	ASSERT_NOT_NULL(d = opendir(tmpdir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		ASSERT_INT_EQ(unlink(path), 0);
	}
	closedir(d);
	ASSERT_INT_EQ(rmdir(tmpdir), 0);
}

static const struct testlib_case cases[] = {
	{ "round_trip", test_round_trip },
	{ "over_max", test_over_max },
	{ "dek_flip", test_dek_flip },
	{ "ct_flip", test_ct_flip },
	{ "truncation", test_truncation },
	{ "wrong_ad", test_wrong_ad },
	{ "other_dek", test_other_dek },
	{ "wrong_master", test_wrong_master },
	{ "wrong_master_same_id", test_wrong_master_same_id },
	{ "rotation", test_rotation },
	{ "key_forms", test_key_forms },
	{ "key_file_kinds", test_key_file_kinds },
	{ "keyring_args", test_keyring_args },
	{ "cred", test_cred },
	{ "generate", test_generate },
	{ "random_and_opaque", test_random_and_opaque },
	{ "blob_key_id", test_blob_key_id },
	{ "cleanup", test_cleanup },
};

TEST_MAIN(cases)
