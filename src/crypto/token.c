#include "crypto/token.h"

#include <string.h>

#include <sodium.h>

#include "util/bounds.h"

/*
 * Token text: "vbt_" <16 lower-case hex id> "_" <43 base64url chars, no
 * padding, the 32-byte secret>. The id finds the row; the secret is
 * checked against BLAKE2b-256(secret) stored in it.
 */
#define TOKEN_PREFIX		"vbt_"
#define TOKEN_PREFIX_LEN	4
#define TOKEN_SECRET_LEN	32
#define TOKEN_SECRET_B64_LEN	43
#define TOKEN_TEXT_LEN \
	(TOKEN_PREFIX_LEN + CRYPTO_TOKEN_ID_LEN + 1 + TOKEN_SECRET_B64_LEN)

int
crypto_init(void)
{
	return sodium_init() < 0 ? ERR_CRYPTO : 0;
}

void
crypto_random_hex(char *out, size_t n)
{
	unsigned char b[64];
	size_t k;

	while (n > 0) {
		k = n < sizeof(b) ? n : sizeof(b);
		randombytes_buf(b, k);
		sodium_bin2hex(out, k * 2 + 1, b, k);
		out += k * 2;
		n -= k;
	}
	*out = '\0';
	sodium_memzero(b, sizeof(b));
}

static void
hash_secret(const unsigned char secret[TOKEN_SECRET_LEN],
    unsigned char hash[TOKEN_HASH_LEN])
{
	crypto_generichash(hash, TOKEN_HASH_LEN, secret, TOKEN_SECRET_LEN,
	    NULL, 0);
}

int
crypto_token_new(char *id, size_t idsz, char *text, size_t textsz,
    unsigned char hash[TOKEN_HASH_LEN])
{
	unsigned char secret[TOKEN_SECRET_LEN];
	char b64[TOKEN_SECRET_B64_LEN + 1];

	if (idsz < CRYPTO_TOKEN_ID_LEN + 1 || textsz < TOKEN_TEXT_LEN + 1 ||
	    TOKEN_TEXT_LEN + 1 > TOKEN_TEXT_MAX)
		return ERR_INTERNAL;
	crypto_random_hex(id, CRYPTO_TOKEN_ID_LEN / 2);
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memcpy(text, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	memcpy(text + TOKEN_PREFIX_LEN, id, CRYPTO_TOKEN_ID_LEN);
	text[TOKEN_PREFIX_LEN + CRYPTO_TOKEN_ID_LEN] = '_';
	memcpy(text + TOKEN_PREFIX_LEN + CRYPTO_TOKEN_ID_LEN + 1, b64,
	    TOKEN_SECRET_B64_LEN);
	text[TOKEN_TEXT_LEN] = '\0';
	hash_secret(secret, hash);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(b64, sizeof(b64));
	return 0;
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
crypto_token_parse(const char *text, size_t len, char *id, size_t idsz,
    unsigned char hash[TOKEN_HASH_LEN])
{
	unsigned char secret[TOKEN_SECRET_LEN];
	char again[TOKEN_SECRET_B64_LEN + 1];
	const char *s;
	size_t i, blen = 0;
	int r = ERR_AUTH;

	if (idsz < CRYPTO_TOKEN_ID_LEN + 1)
		return ERR_INTERNAL;
	if (text == NULL || len != TOKEN_TEXT_LEN ||
	    memcmp(text, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0 ||
	    text[TOKEN_PREFIX_LEN + CRYPTO_TOKEN_ID_LEN] != '_')
		return ERR_AUTH;
	for (i = 0; i < CRYPTO_TOKEN_ID_LEN; i++)
		if (!is_lower_hex(text[TOKEN_PREFIX_LEN + i]))
			return ERR_AUTH;
	s = text + TOKEN_PREFIX_LEN + CRYPTO_TOKEN_ID_LEN + 1;
	for (i = 0; i < TOKEN_SECRET_B64_LEN; i++)
		if (!is_b64url(s[i]))
			return ERR_AUTH;
	if (sodium_base642bin(secret, sizeof(secret), s, TOKEN_SECRET_B64_LEN,
	    NULL, &blen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    blen != TOKEN_SECRET_LEN)
		goto out;
	/* one spelling per secret: the unused low bits of the last char
	 * must be zero */
	sodium_bin2base64(again, sizeof(again), secret, sizeof(secret),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (memcmp(again, s, TOKEN_SECRET_B64_LEN) != 0)
		goto out;
	memcpy(id, text + TOKEN_PREFIX_LEN, CRYPTO_TOKEN_ID_LEN);
	id[CRYPTO_TOKEN_ID_LEN] = '\0';
	hash_secret(secret, hash);
	r = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(again, sizeof(again));
	return r;
}

int
crypto_token_hash_eq(const unsigned char a[TOKEN_HASH_LEN],
    const unsigned char b[TOKEN_HASH_LEN])
{
	return sodium_memcmp(a, b, TOKEN_HASH_LEN) == 0;
}
