/* fedval: INI configuration (daemons, CLI profiles). Parsed by inih into a flat list of
 * (section, key, value, line) so that errors can name the line of a bad setting. */
#ifndef FEDVAL_CONFIG_H
#define FEDVAL_CONFIG_H

#include <stddef.h>

#include "fedval/err.h"

struct fv_config;

struct fv_config_entry {
	char *section, *key, *value;
	int line;
};

fv_err fv_config_load(const char *path, struct fv_config **out, struct fv_diag *d);
void fv_config_free(struct fv_config *c);
const char *fv_config_path(const struct fv_config *c);
/* The value, or NULL when absent. */
const char *fv_config_get(const struct fv_config *c, const char *section, const char *key);
/* The value, or an FV_EINVAL naming the missing section.key. */
fv_err fv_config_require(const struct fv_config *c, const char *section, const char *key,
			 const char **out, struct fv_diag *d);
/* Integer in [min, max]; def when absent. Errors name the file, line and key. */
fv_err fv_config_long(const struct fv_config *c, const char *section, const char *key, long def,
		      long min, long max, long *out, struct fv_diag *d);
/* Refuse keys not in `known` ("section.key", or "section.*" for free-form sections). */
fv_err fv_config_check_known(const struct fv_config *c, const char *const *known,
			     struct fv_diag *d);
size_t fv_config_count(const struct fv_config *c);
const struct fv_config_entry *fv_config_entry(const struct fv_config *c, size_t i);
/* Resolve a path setting relative to the config file's directory (absolute paths are kept).
 * Result is fv_free'd by the caller. */
char *fv_config_resolve(const struct fv_config *c, const char *value);

#endif
