/* fedval-node internals: the settings of a source ([data], [predictions]), shared by the node
 * (main.c) and `fedval site summary`, which read the same config file. */
#ifndef FEDVAL_NODE_SOURCE_CONFIG_H
#define FEDVAL_NODE_SOURCE_CONFIG_H

#include "fedval/config.h"
#include "fedval/data.h"

/* Read a section's source settings into sp (docs/data-sources.md): source = csv | sqlite |
 * postgres | images (default csv; images only when allow_images), path (required but for
 * postgres, resolved against the config's directory into *path, which the caller frees;
 * NULL when absent), table or query (exactly one for sqlite and postgres), conninfo
 * (postgres), delimiter and decimal (one character or 'tab'). Errors are FV_EINVAL naming
 * the file, the section and the key. sp keeps pointers into cfg. */
fv_err node_source_settings(const struct fv_config *cfg, const char *section, bool allow_images,
			    struct fv_source_spec *sp, char **path, struct fv_diag *d);

/* Read [data] image_column, image_channels, image_height, image_width and image_scale into sp
 * (docs/data-sources.md, "Image folder"). For source = images all but image_scale are
 * required; for any other source none may be given. Errors are FV_EINVAL naming the file and
 * the key. sp keeps pointers into cfg. */
fv_err node_image_settings(const struct fv_config *cfg, struct fv_source_spec *sp,
			   struct fv_diag *d);

#endif
