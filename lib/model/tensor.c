/* Tensors: element types, allocation under the limits, conversion from TensorProto. */
#include "model/model_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t fv_dtype_size(enum fv_dtype dt)
{
	switch (dt) {
	case FV_DTYPE_FLOAT:
		return 4;
	case FV_DTYPE_INT64:
		return 8;
	case FV_DTYPE_BOOL:
		return 1;
	case FV_DTYPE_DOUBLE:
		return 8;
	}
	return 0;
}

const char *fv_dtype_name(enum fv_dtype dt)
{
	switch (dt) {
	case FV_DTYPE_FLOAT:
		return "float";
	case FV_DTYPE_INT64:
		return "int64";
	case FV_DTYPE_BOOL:
		return "bool";
	case FV_DTYPE_DOUBLE:
		return "double";
	}
	return "unknown";
}

void fv_tensor_fini(struct fv_tensor *t)
{
	if (!t)
		return;
	fv_free(t->data);
	memset(t, 0, sizeof(*t));
}

bool fv_dims_count(size_t rank, const int64_t *dims, size_t *count)
{
	size_t c = 1;

	if (rank > FV_MAX_TENSOR_RANK)
		return false;
	for (size_t i = 0; i < rank; i++) {
		if (dims[i] < 0 || (uint64_t)dims[i] > FV_MAX_TENSOR_ELEMS)
			return false;
		if (fv_mul_overflow(c, (size_t)dims[i], &c))
			return false;
	}
	/* A zero dimension makes the product 0 whatever the other (bounded) dims are. */
	if (c > FV_MAX_TENSOR_ELEMS)
		return false;
	*count = c;
	return true;
}

bool fv_axis(int64_t axis, size_t rank, size_t *out)
{
	if (axis < -(int64_t)rank || axis >= (int64_t)rank)
		return false;
	*out = (size_t)(axis < 0 ? axis + (int64_t)rank : axis);
	return true;
}

const char *fv_shape_str(const struct fv_tensor *t, char *buf, size_t cap)
{
	size_t used = 0;
	int k;

	buf[0] = '\0';
	k = snprintf(buf, cap, "[");
	for (size_t i = 0; i < t->rank && k >= 0 && (size_t)k < cap - used; i++) {
		used += (size_t)k;
		k = snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	}
	if (k >= 0 && (size_t)k < cap - used) {
		used += (size_t)k;
		snprintf(buf + used, cap - used, "]");
	}
	return buf;
}

fv_err fv_tensor_alloc(struct fv_tensor *t, enum fv_dtype dt, size_t rank, const int64_t *dims,
		       struct fv_diag *d)
{
	size_t count, es = fv_dtype_size(dt);

	memset(t, 0, sizeof(*t));
	if (!es)
		return fv_diag_set(d, FV_EUNSUPPORTED, "unsupported element type %d", (int)dt);
	if (rank > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "tensor rank %zu exceeds %d", rank,
				   FV_MAX_TENSOR_RANK);
	if (!fv_dims_count(rank, dims, &count))
		return fv_diag_set(d, FV_ELIMIT, "tensor would exceed %u elements",
				   FV_MAX_TENSOR_ELEMS);
	t->data = fv_calloc(count ? count : 1, es);
	if (!t->data)
		return fv_diag_set(d, FV_ENOMEM, "out of memory for a tensor of %zu elements",
				   count);
	t->dtype = dt;
	t->rank = rank;
	if (rank)
		memcpy(t->dims, dims, rank * sizeof(dims[0]));
	t->count = count;
	return FV_OK;
}

fv_err fv_tensor_copy(struct fv_tensor *dst, const struct fv_tensor *src, struct fv_diag *d)
{
	fv_err e = fv_tensor_alloc(dst, src->dtype, src->rank, src->dims, d);
	if (e == FV_OK && src->count)
		memcpy(dst->data, src->data, src->count * fv_dtype_size(src->dtype));
	return e;
}

int64_t fv_d2i(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 9223372036854775807.0)
		return INT64_MAX;
	if (v <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)v;
}

double fv_tensor_getd(const struct fv_tensor *t, size_t i)
{
	switch (t->dtype) {
	case FV_DTYPE_FLOAT:
		return ((const float *)t->data)[i];
	case FV_DTYPE_DOUBLE:
		return ((const double *)t->data)[i];
	case FV_DTYPE_INT64:
		return (double)((const int64_t *)t->data)[i];
	case FV_DTYPE_BOOL:
		return ((const uint8_t *)t->data)[i] ? 1.0 : 0.0;
	}
	return 0;
}

int64_t fv_tensor_geti(const struct fv_tensor *t, size_t i)
{
	switch (t->dtype) {
	case FV_DTYPE_INT64:
		return ((const int64_t *)t->data)[i];
	case FV_DTYPE_BOOL:
		return ((const uint8_t *)t->data)[i] ? 1 : 0;
	default:
		return fv_d2i(fv_tensor_getd(t, i));
	}
}

void fv_tensor_setd(struct fv_tensor *t, size_t i, double v)
{
	switch (t->dtype) {
	case FV_DTYPE_FLOAT:
		((float *)t->data)[i] = (float)v;
		break;
	case FV_DTYPE_DOUBLE:
		((double *)t->data)[i] = v;
		break;
	case FV_DTYPE_INT64:
		((int64_t *)t->data)[i] = fv_d2i(v);
		break;
	case FV_DTYPE_BOOL:
		((uint8_t *)t->data)[i] = v != 0;
		break;
	}
}

static bool dtype_known(int32_t dt)
{
	return dt == FV_DTYPE_FLOAT || dt == FV_DTYPE_INT64 || dt == FV_DTYPE_BOOL ||
	       dt == FV_DTYPE_DOUBLE;
}

fv_err fv_tensor_from_proto(const Onnx__TensorProto *tp, struct fv_tensor *t, struct fv_diag *d)
{
	const char *name = tp->name ? tp->name : "";
	size_t count, es, nbytes;
	fv_err e;

	memset(t, 0, sizeof(*t));
	if ((tp->has_data_location &&
	     tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
	    tp->n_external_data)
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "tensor '%s' uses external data; only self-contained models are "
				   "accepted",
				   name);
	if (tp->segment)
		return fv_diag_set(d, FV_EUNSUPPORTED, "tensor '%s' is segmented", name);
	if (!tp->has_data_type || !dtype_known(tp->data_type))
		return fv_diag_set(d, FV_EUNSUPPORTED,
				   "tensor '%s' has unsupported element type %d (supported: float, "
				   "double, int64, bool)",
				   name, tp->has_data_type ? (int)tp->data_type : 0);
	if (tp->n_dims > FV_MAX_TENSOR_RANK)
		return fv_diag_set(d, FV_ELIMIT, "tensor '%s' has rank %zu (limit %d)", name,
				   tp->n_dims, FV_MAX_TENSOR_RANK);
	if (!fv_dims_count(tp->n_dims, tp->dims, &count))
		return fv_diag_set(d, FV_ELIMIT,
				   "tensor '%s' has negative dims or more than %u elements", name,
				   FV_MAX_TENSOR_ELEMS);
	e = fv_tensor_alloc(t, (enum fv_dtype)tp->data_type, tp->n_dims, tp->dims, d);
	if (e != FV_OK)
		return e;
	es = fv_dtype_size(t->dtype);
	nbytes = count * es;

	if (tp->has_raw_data) {
		if (tp->raw_data.len != nbytes) {
			e = fv_diag_set(d, FV_ECORRUPT,
					"tensor '%s': raw_data has %zu bytes, shape needs %zu",
					name, tp->raw_data.len, nbytes);
			goto fail;
		}
		if (nbytes)
			memcpy(t->data, tp->raw_data.data, nbytes);
		if (t->dtype == FV_DTYPE_BOOL)
			for (size_t i = 0; i < count; i++)
				((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
		return FV_OK;
	}

	switch (t->dtype) {
	case FV_DTYPE_FLOAT:
		if (tp->n_float_data != count)
			goto count_mismatch;
		if (count)
			memcpy(t->data, tp->float_data, nbytes);
		break;
	case FV_DTYPE_DOUBLE:
		if (tp->n_double_data != count)
			goto count_mismatch;
		if (count)
			memcpy(t->data, tp->double_data, nbytes);
		break;
	case FV_DTYPE_INT64:
		if (tp->n_int64_data != count)
			goto count_mismatch;
		if (count)
			memcpy(t->data, tp->int64_data, nbytes);
		break;
	case FV_DTYPE_BOOL:
		/* ONNX stores bools in int32_data. */
		if (tp->n_int32_data != count)
			goto count_mismatch;
		for (size_t i = 0; i < count; i++)
			((uint8_t *)t->data)[i] = tp->int32_data[i] != 0;
		break;
	}
	return FV_OK;

count_mismatch:
	e = fv_diag_set(
	    d, FV_ECORRUPT,
	    "tensor '%s': number of stored values does not match its shape (%zu elements)", name,
	    count);
fail:
	fv_tensor_fini(t);
	return e;
}
