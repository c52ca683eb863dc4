/* fedval-node internals: the [data] settings of an image-folder source, shared by the node
 * (main.c) and `fedval site summary`, which read the same config file. */
#ifndef FEDVAL_NODE_SOURCE_CONFIG_H
#define FEDVAL_NODE_SOURCE_CONFIG_H

#include "fedval/config.h"
#include "fedval/data.h"

/* Read [data] image_column, image_channels, image_height, image_width and image_scale into sp
 * (docs/data-sources.md, "Image folder"). For source = images all but image_scale are
 * required; for any other source none may be given. Errors are FV_EINVAL naming the file and
 * the key. sp keeps pointers into cfg. */
fv_err node_image_settings(const struct fv_config *cfg, struct fv_source_spec *sp,
			   struct fv_diag *d);

#endif
