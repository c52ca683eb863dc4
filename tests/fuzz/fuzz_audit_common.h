/* fedval fuzz targets: what the audit targets check of a verdict (include/fedval/audit.h). */
#ifndef FEDVAL_FUZZ_AUDIT_COMMON_H
#define FEDVAL_FUZZ_AUDIT_COMMON_H

#include <stdbool.h>
#include <string.h>

#include "fedval/audit.h"
#include "fuzz/fuzz_common.h"

static inline bool fuzz_is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* FV_OK exactly when every link holds; FV_ECORRUPT names a fault and why. */
static inline void fuzz_check_verdict(fv_err e, const struct fv_audit_verdict *v)
{
	FUZZ_CHECK(memchr(v->why, '\0', sizeof(v->why)) != NULL);
	FUZZ_CHECK(fuzz_is_hex64(v->head));
	FUZZ_CHECK(fv_audit_fault_name(v->fault) != NULL);
	if (e == FV_OK) {
		FUZZ_CHECK(v->fault == FV_AUDIT_OK && v->bad_line == 0);
		if (v->entries > 0)
			FUZZ_CHECK(v->last_seq - v->first_seq + 1 == v->entries);
		else
			FUZZ_CHECK(strcmp(v->head, FV_AUDIT_GENESIS) == 0 || v->first_seq > 0);
	} else if (e == FV_ECORRUPT) {
		FUZZ_CHECK(v->fault != FV_AUDIT_OK && v->why[0] != '\0');
		FUZZ_CHECK(v->fault <= FV_AUDIT_SIGNATURE);
		if (v->entries > 0)
			FUZZ_CHECK(v->last_seq - v->first_seq + 1 == v->entries);
	}
}

#endif
