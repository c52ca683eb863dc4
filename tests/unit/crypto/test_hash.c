/* Tests for lib/crypto/hash.c. Expected digests: FIPS 180-2, Appendix B (SHA-256 examples
 * B.1 "abc", B.2 the 448-bit message, B.3 one million 'a'), and the well-known digest of
 * the empty string (NIST CAVP SHA256ShortMsg, Len = 0). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/crypto.h"
#include "fedval/util.h"

#define ABC_HEX	      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HEX     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MSG448	      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define MSG448_HEX    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_A_HEX "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

Test(hash, fips180_abc)
{
	char hex[FV_SHA256_HEX];

	fv_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, ABC_HEX);
}

Test(hash, empty_string)
{
	char hex[FV_SHA256_HEX];

	fv_sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, EMPTY_HEX);
	fv_sha256_hex(NULL, 0, hex);
	cr_assert_str_eq(hex, EMPTY_HEX);
}

Test(hash, fips180_448_bit_message)
{
	char hex[FV_SHA256_HEX];

	cr_assert_eq(strlen(MSG448) * 8, 448);
	fv_sha256_hex(MSG448, strlen(MSG448), hex);
	cr_assert_str_eq(hex, MSG448_HEX);
}

Test(hash, raw_matches_hex)
{
	uint8_t md[FV_SHA256_LEN];
	char hex[FV_SHA256_HEX];

	fv_sha256("abc", 3, md);
	fv_hex(md, sizeof(md), hex);
	cr_assert_str_eq(hex, ABC_HEX);
}

Test(hash, incremental_byte_by_byte)
{
	struct fv_sha256 *h;
	uint8_t md[FV_SHA256_LEN];
	char hex[FV_SHA256_HEX];

	cr_assert_eq(fv_sha256_new(&h), FV_OK);
	for (size_t i = 0; i < strlen(MSG448); i++)
		fv_sha256_update(h, MSG448 + i, 1);
	fv_sha256_update(h, NULL, 0);
	fv_sha256_final(h, md);
	fv_hex(md, sizeof(md), hex);
	cr_assert_str_eq(hex, MSG448_HEX);
}

Test(hash, incremental_million_a)
{
	struct fv_sha256 *h;
	uint8_t md[FV_SHA256_LEN];
	char hex[FV_SHA256_HEX];
	char block[1000];

	memset(block, 'a', sizeof(block));
	cr_assert_eq(fv_sha256_new(&h), FV_OK);
	for (int i = 0; i < 1000; i++)
		fv_sha256_update(h, block, sizeof(block));
	fv_sha256_final(h, md);
	fv_hex(md, sizeof(md), hex);
	cr_assert_str_eq(hex, MILLION_A_HEX);
}

Test(hash, incremental_empty)
{
	struct fv_sha256 *h;
	uint8_t md[FV_SHA256_LEN];
	char hex[FV_SHA256_HEX];

	cr_assert_eq(fv_sha256_new(&h), FV_OK);
	fv_sha256_final(h, md);
	fv_hex(md, sizeof(md), hex);
	cr_assert_str_eq(hex, EMPTY_HEX);
}

Test(hash, new_reports_allocation_failure)
{
	struct fv_sha256 *h = (struct fv_sha256 *)1;

	fv_alloc_fail_after(1);
	cr_assert_eq(fv_sha256_new(&h), FV_ENOMEM);
	fv_alloc_fail_after(0);
	cr_assert_null(h);
}
