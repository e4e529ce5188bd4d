#include <stdio.h>
#include <string.h>

#include "crypto/token.h"
#include "testlib.h"
#include "util/bounds.h"

#define TEXT_LEN	64	/* "vbt_" + 16 + "_" + 43 */
#define A42	"AAAAAAAAAAAAAAAAAAAAA" "AAAAAAAAAAAAAAAAAAAAA"
#define ID	"0123456789abcdef"

static void
new_token(char id[CRYPTO_TOKEN_ID_LEN + 1], char text[TOKEN_TEXT_MAX],
    unsigned char hash[TOKEN_HASH_LEN])
{
	ASSERT_INT_EQ(crypto_init(), 0);
	ASSERT_INT_EQ(crypto_token_new(id, CRYPTO_TOKEN_ID_LEN + 1, text,
	    TOKEN_TEXT_MAX, hash), 0);
}

static void
test_form(void)
{
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	unsigned char hash[TOKEN_HASH_LEN];
	size_t i;

	new_token(id, text, hash);
	ASSERT_INT_EQ(strlen(id), CRYPTO_TOKEN_ID_LEN);
	ASSERT_INT_EQ(strlen(text), TEXT_LEN);
	ASSERT_INT_EQ(memcmp(text, "vbt_", 4), 0);
	ASSERT_INT_EQ(memcmp(text + 4, id, CRYPTO_TOKEN_ID_LEN), 0);
	ASSERT_INT_EQ(text[20], '_');
	for (i = 0; i < CRYPTO_TOKEN_ID_LEN; i++)
		ASSERT_TRUE(strchr("0123456789abcdef", id[i]) != NULL);
	for (i = 21; i < TEXT_LEN; i++)
		ASSERT_TRUE(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", text[i]) != NULL);
}

static void
test_round_trip(void)
{
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	char pid[CRYPTO_TOKEN_ID_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN], phash[TOKEN_HASH_LEN];

	new_token(id, text, hash);
	ASSERT_INT_EQ(crypto_token_parse(text, strlen(text), pid, sizeof(pid),
	    phash), 0);
	ASSERT_STR_EQ(pid, id);
	ASSERT_INT_EQ(crypto_token_hash_eq(hash, phash), 1);
	ASSERT_INT_EQ(memcmp(hash, phash, TOKEN_HASH_LEN), 0);
}

static void
test_unique(void)
{
	char id1[CRYPTO_TOKEN_ID_LEN + 1], t1[TOKEN_TEXT_MAX];
	char id2[CRYPTO_TOKEN_ID_LEN + 1], t2[TOKEN_TEXT_MAX];
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN];

	new_token(id1, t1, h1);
	new_token(id2, t2, h2);
	ASSERT_TRUE(strcmp(id1, id2) != 0);
	ASSERT_TRUE(strcmp(t1 + 21, t2 + 21) != 0);
	ASSERT_INT_EQ(crypto_token_hash_eq(h1, h2), 0);
}

/* Every single-character change of a valid token either is rejected or
 * (for the secret part) yields a different hash. */
static void
test_tampered(void)
{
	static const char repl[] = "aZ0-_+/=.\x01\xc3";
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	char t[TOKEN_TEXT_MAX], pid[CRYPTO_TOKEN_ID_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN], phash[TOKEN_HASH_LEN];
	size_t i, j;
	int r;

	new_token(id, text, hash);
	for (i = 0; i < TEXT_LEN; i++) {
		for (j = 0; j < sizeof(repl) - 1; j++) {
			if (text[i] == repl[j])
				continue;
			memcpy(t, text, TEXT_LEN + 1);
			t[i] = repl[j];
			r = crypto_token_parse(t, TEXT_LEN, pid, sizeof(pid),
			    phash);
			if (r == 0) {
				ASSERT_TRUE(i >= 4);
				if (i < 20)
					ASSERT_TRUE(strcmp(pid, id) != 0);
				else
					ASSERT_INT_EQ(crypto_token_hash_eq(
					    hash, phash), 0);
			} else
				ASSERT_INT_EQ(r, ERR_AUTH);
		}
	}
}

static void
test_bad_forms(void)
{
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	char t[TOKEN_TEXT_MAX * 2], pid[CRYPTO_TOKEN_ID_LEN + 1];
	unsigned char hash[TOKEN_HASH_LEN], phash[TOKEN_HASH_LEN];
	static const char *const bad[] = {
		"",
		"vbt_",
		"vbt_0123456789abcdef_",
		"garbage",
		"Bearer vbt_" ID "_" A42 "A",
		/* upper-case hex id */
		"vbt_0123456789ABCDEF_" A42 "A",
		/* wrong prefix */
		"vbx_" ID "_" A42 "A",
		"VBT_" ID "_" A42 "A",
		/* wrong separator */
		"vbt_" ID "-" A42 "A",
		/* padding / standard alphabet */
		"vbt_" ID "_" A42 "=",
		"vbt_" ID "_" A42 "+",
		/* non-canonical last char: unused low bits set */
		"vbt_" ID "_" A42 "B",
		/* short id, long id */
		"vbt_0123456789abcde_" A42 "AA",
		"vbt_" ID "0_" A42 "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (crypto_token_parse(bad[i], strlen(bad[i]), pid,
		    sizeof(pid), phash) != ERR_AUTH)
			TL_FAIL("accepted bad token #%zu", i);
	}
	/* the canonical all-zero secret is accepted */
	ASSERT_INT_EQ(crypto_token_parse("vbt_0123456789abcdef_AAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TEXT_LEN, pid, sizeof(pid),
	    phash), 0);
	ASSERT_STR_EQ(pid, "0123456789abcdef");

	new_token(id, text, hash);
	/* short: every proper prefix */
	for (i = 0; i < TEXT_LEN; i++)
		ASSERT_INT_EQ(crypto_token_parse(text, i, pid, sizeof(pid),
		    phash), ERR_AUTH);
	/* long: trailing bytes, including a NUL inside the length */
	memcpy(t, text, TEXT_LEN);
	memcpy(t + TEXT_LEN, "A\n\0x", 4);
	for (i = TEXT_LEN + 1; i <= TEXT_LEN + 4; i++)
		ASSERT_INT_EQ(crypto_token_parse(t, i, pid, sizeof(pid),
		    phash), ERR_AUTH);
	/* NUL in the middle */
	memcpy(t, text, TEXT_LEN + 1);
	t[30] = '\0';
	ASSERT_INT_EQ(crypto_token_parse(t, TEXT_LEN, pid, sizeof(pid),
	    phash), ERR_AUTH);
	ASSERT_INT_EQ(crypto_token_parse(NULL, TEXT_LEN, pid, sizeof(pid),
	    phash), ERR_AUTH);
}

static void
test_small_buffers(void)
{
	char id[CRYPTO_TOKEN_ID_LEN + 1], text[TOKEN_TEXT_MAX];
	unsigned char hash[TOKEN_HASH_LEN];

	ASSERT_INT_EQ(crypto_init(), 0);
	ASSERT_TRUE(crypto_token_new(id, CRYPTO_TOKEN_ID_LEN, text,
	    sizeof(text), hash) != 0);
	ASSERT_TRUE(crypto_token_new(id, sizeof(id), text, TEXT_LEN,
	    hash) != 0);
	new_token(id, text, hash);
	ASSERT_TRUE(crypto_token_parse(text, TEXT_LEN, id,
	    CRYPTO_TOKEN_ID_LEN, hash) != 0);
}

static void
test_hash_eq(void)
{
	unsigned char a[TOKEN_HASH_LEN], b[TOKEN_HASH_LEN];
	size_t i;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ASSERT_INT_EQ(crypto_token_hash_eq(a, b), 1);
	for (i = 0; i < TOKEN_HASH_LEN; i++) {
		b[i] ^= 0x01;
		ASSERT_INT_EQ(crypto_token_hash_eq(a, b), 0);
		b[i] ^= 0x01;
	}
	ASSERT_INT_EQ(crypto_token_hash_eq(a, b), 1);
}

/* BLAKE2b-256 of 32 zero bytes: the all-"A" secret must hash to it. */
static void
test_hash_value(void)
{
	static const unsigned char want[TOKEN_HASH_LEN] = {
		0x89, 0xeb, 0x0d, 0x6a, 0x8a, 0x69, 0x1d, 0xae,
		0x2c, 0xd1, 0x5e, 0xd0, 0x36, 0x99, 0x31, 0xce,
		0x0a, 0x94, 0x9e, 0xca, 0xfa, 0x5c, 0x3f, 0x93,
		0xf8, 0x12, 0x18, 0x33, 0x64, 0x6e, 0x15, 0xc3,
	};
	char pid[CRYPTO_TOKEN_ID_LEN + 1];
	unsigned char h[TOKEN_HASH_LEN];

	ASSERT_INT_EQ(crypto_token_parse("vbt_0000000000000000_AAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TEXT_LEN, pid, sizeof(pid), h),
	    0);
	ASSERT_INT_EQ(memcmp(h, want, TOKEN_HASH_LEN), 0);
}

static void
test_random_hex(void)
{
	char a[65], b[65];
	size_t i;

	memset(a, 'x', sizeof(a));
	crypto_random_hex(a, 32);
	ASSERT_INT_EQ(strlen(a), 64);
	for (i = 0; i < 64; i++)
		ASSERT_TRUE(strchr("0123456789abcdef", a[i]) != NULL);
	crypto_random_hex(b, 32);
	ASSERT_TRUE(strcmp(a, b) != 0);
	crypto_random_hex(a, 0);
	ASSERT_STR_EQ(a, "");
}

static const struct testlib_case cases[] = {
	{ "form", test_form },
	{ "round_trip", test_round_trip },
	{ "unique", test_unique },
	{ "tampered", test_tampered },
	{ "bad_forms", test_bad_forms },
	{ "small_buffers", test_small_buffers },
	{ "hash_eq", test_hash_eq },
	{ "hash_value", test_hash_value },
	{ "random_hex", test_random_hex },
};

TEST_MAIN(cases)
