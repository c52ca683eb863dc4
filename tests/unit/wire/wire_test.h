/* Helpers shared by the wire unit tests (header-only: each test file is its own program). */
#ifndef FV_TEST_WIRE_H
#define FV_TEST_WIRE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fedval/crypto.h"
#include "fedval/util.h"
#include "fedval/wire.h"

/* A temp CA and one node principal "site-a" issued by it. */
struct t_pki {
	char dir[64];
	struct fv_key *key;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t pub_len;
};

static inline int t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void t_pki_key(struct t_pki *t, const char *name, struct fv_key **key, uint8_t *pub,
			     size_t *pub_len)
{
	char ca[128], kp[160];
	struct fv_diag d;

	snprintf(ca, sizeof(ca), "%s/ca", t->dir);
	cr_assert_eq(fv_pki_issue(ca, FV_ROLE_NODE, name, NULL, 10, t->dir, &d), FV_OK, "%s",
		     d.msg);
	snprintf(kp, sizeof(kp), "%s/%s.key", t->dir, name);
	cr_assert_eq(fv_key_load(kp, key, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_key_public_der(*key, pub, FV_PUBKEY_MAX, pub_len), FV_OK);
}

static inline void t_pki_init(struct t_pki *t)
{
	char ca[128];
	struct fv_diag d;

	snprintf(t->dir, sizeof(t->dir), "/tmp/fv-wire-test.XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(ca, sizeof(ca), "%s/ca", t->dir);
	cr_assert_eq(fv_pki_init(ca, "test-ca", 10, &d), FV_OK, "%s", d.msg);
	t_pki_key(t, "site-a", &t->key, t->pub, &t->pub_len);
}

static inline void t_pki_fini(struct t_pki *t)
{
	fv_key_free(t->key);
	nftw(t->dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
