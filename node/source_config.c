/* fedval-node: the [data] settings of an image-folder source. */
#include "source_config.h"

#include "fedval/limits.h"
#include "fedval/util.h"

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
