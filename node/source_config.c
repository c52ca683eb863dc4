/* fedval-node: the settings of a source ([data], [predictions]) and of an image folder. */
#include "source_config.h"

#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"

static fv_err char_setting(const struct fv_config *cfg, const char *section, const char *key,
			   char def, char *out, struct fv_diag *d)
{
	const char *v = fv_config_get(cfg, section, key);

	if (!v) {
		*out = def;
		return FV_OK;
	}
	if (!strcmp(v, "tab") || !strcmp(v, "\\t")) {
		*out = '\t';
		return FV_OK;
	}
	if (strlen(v) != 1)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [%s] %s = '%s' must be one character (or 'tab')",
				   fv_config_path(cfg), section, key, v);
	*out = v[0];
	return FV_OK;
}

fv_err node_source_settings(const struct fv_config *cfg, const char *section, bool allow_images,
			    struct fv_source_spec *sp, char **path, struct fv_diag *d)
{
	const char *src = fv_config_get(cfg, section, "source"), *p;
	fv_err e;

	*path = NULL;
	sp->kind = FV_SOURCE_CSV;
	if (src && (fv_source_kind_parse(src, &sp->kind) != FV_OK ||
		    (!allow_images && sp->kind == FV_SOURCE_IMAGES)))
		return fv_diag_set(d, FV_EINVAL, "%s: [%s] source = '%s': use csv, sqlite, %s",
				   fv_config_path(cfg), section, src,
				   allow_images ? "postgres or images" : "or postgres");
	sp->table = fv_config_get(cfg, section, "table");
	sp->query = fv_config_get(cfg, section, "query");
	sp->conninfo = fv_config_get(cfg, section, "conninfo");
	p = fv_config_get(cfg, section, "path");
	if (sp->kind != FV_SOURCE_POSTGRES && !p)
		return fv_diag_set(d, FV_EINVAL, "%s: [%s] path is required for source %s",
				   fv_config_path(cfg), section, fv_source_kind_name(sp->kind));
	if (sp->kind == FV_SOURCE_POSTGRES && !sp->conninfo)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [%s] conninfo is required for source postgres",
				   fv_config_path(cfg), section);
	if ((sp->kind == FV_SOURCE_SQLITE || sp->kind == FV_SOURCE_POSTGRES) &&
	    !sp->table == !sp->query)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [%s] needs exactly one of table or query for source %s",
				   fv_config_path(cfg), section, fv_source_kind_name(sp->kind));
	if ((sp->kind == FV_SOURCE_CSV || sp->kind == FV_SOURCE_IMAGES) &&
	    (sp->table || sp->query || sp->conninfo))
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [%s] table, query and conninfo are for sqlite and postgres "
				   "sources, not %s",
				   fv_config_path(cfg), section, fv_source_kind_name(sp->kind));
	if ((e = char_setting(cfg, section, "delimiter", ',', &sp->csv.delimiter, d)) ||
	    (e = char_setting(cfg, section, "decimal", '.', &sp->csv.decimal, d)))
		return e;
	if (p && !(*path = fv_config_resolve(cfg, p)))
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	sp->path = *path;
	return FV_OK;
}

static const char *const image_keys[] = {"image_column", "image_channels", "image_height",
					 "image_width", "image_scale"};

fv_err node_image_settings(const struct fv_config *cfg, struct fv_source_spec *sp,
			   struct fv_diag *d)
{
	const char *scale;
	long c = 0, h = 0, w = 0;
	fv_err e;

	if (sp->kind != FV_SOURCE_IMAGES) {
		for (size_t i = 0; i < sizeof(image_keys) / sizeof(*image_keys); i++)
			if (fv_config_get(cfg, "data", image_keys[i]))
				return fv_diag_set(d, FV_EINVAL,
						   "%s: [data] %s is only for source = images",
						   fv_config_path(cfg), image_keys[i]);
		return FV_OK;
	}
	if ((e = fv_config_require(cfg, "data", "image_column", &sp->image_column, d)) ||
	    (e = fv_config_long(cfg, "data", "image_channels", 0, 1, 3, &c, d)) ||
	    (e = fv_config_long(cfg, "data", "image_height", 0, 1, FV_MAX_FEATURES, &h, d)) ||
	    (e = fv_config_long(cfg, "data", "image_width", 0, 1, FV_MAX_FEATURES, &w, d)))
		return e;
	if (!c || !h || !w)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [data] image_channels, image_height and image_width are "
				   "required for source images",
				   fv_config_path(cfg));
	if (c == 2)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [data] image_channels = 2: use 1 (gray) or 3 (RGB)",
				   fv_config_path(cfg));
	if ((uint64_t)c * (uint64_t)h * (uint64_t)w > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [data] image_channels x image_height x image_width = "
				   "%ldx%ldx%ld: more than %u pixel values",
				   fv_config_path(cfg), c, h, w, (unsigned)FV_MAX_FEATURES);
	sp->image_channels = (unsigned)c;
	sp->image_height = (unsigned)h;
	sp->image_width = (unsigned)w;
	sp->image_scale = 0;
	scale = fv_config_get(cfg, "data", "image_scale");
	if (scale && (fv_parse_double(scale, &sp->image_scale) != FV_OK ||
		      !(sp->image_scale >= 1e-3 && sp->image_scale <= 1e9)))
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [data] image_scale = '%s': a number from 0.001 to 1e9",
				   fv_config_path(cfg), scale);
	return FV_OK;
}
