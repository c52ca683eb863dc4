/* Tensors: element types, allocation under the limits, conversion from TensorProto. */
#include "model/model_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t fv_dtype_size(enum fv_dtype dt)
{
	switch (dt) {
	case FV_DTYPE_BOOL:
	case FV_DTYPE_UINT8:
	case FV_DTYPE_INT8:
		return 1;
	case FV_DTYPE_UINT16:
	case FV_DTYPE_INT16:
	case FV_DTYPE_FLOAT16:
	case FV_DTYPE_BFLOAT16:
		return 2;
	case FV_DTYPE_FLOAT:
	case FV_DTYPE_INT32:
	case FV_DTYPE_UINT32:
		return 4;
	case FV_DTYPE_INT64:
	case FV_DTYPE_DOUBLE:
	case FV_DTYPE_UINT64:
		return 8;
	}
	return 0;
}

bool fv_dtype_is_float(enum fv_dtype dt)
{
	return dt == FV_DTYPE_FLOAT || dt == FV_DTYPE_DOUBLE || dt == FV_DTYPE_FLOAT16 ||
	       dt == FV_DTYPE_BFLOAT16;
}

bool fv_dtype_is_int(enum fv_dtype dt)
{
	switch (dt) {
	case FV_DTYPE_UINT8:
	case FV_DTYPE_INT8:
	case FV_DTYPE_UINT16:
	case FV_DTYPE_INT16:
	case FV_DTYPE_INT32:
	case FV_DTYPE_UINT32:
	case FV_DTYPE_INT64:
	case FV_DTYPE_UINT64:
		return true;
	default:
		return false;
	}
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
	case FV_DTYPE_UINT8:
		return "uint8";
	case FV_DTYPE_INT8:
		return "int8";
	case FV_DTYPE_UINT16:
		return "uint16";
	case FV_DTYPE_INT16:
		return "int16";
	case FV_DTYPE_INT32:
		return "int32";
	case FV_DTYPE_FLOAT16:
		return "float16";
	case FV_DTYPE_UINT32:
		return "uint32";
	case FV_DTYPE_UINT64:
		return "uint64";
	case FV_DTYPE_BFLOAT16:
		return "bfloat16";
	}
	return "unknown";
}

/* ---- half precision ---- */

float fv_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
	float f;

	if (exp == 0x1f) {
		u = sign | 0x7f800000u | (man << 13); /* inf, NaN (payload kept) */
	} else if (exp) {
		u = sign | ((exp + 112) << 23) | (man << 13);
	} else {
		/* zero or subnormal: man * 2^-24 exactly */
		f = (float)man * 0x1p-24f;
		memcpy(&u, &f, 4);
		u |= sign;
	}
	memcpy(&f, &u, 4);
	return f;
}

uint16_t fv_float_to_half(float f)
{
	uint32_t u, sign, absu;
	uint16_t h;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	absu = u & 0x7fffffffu;
	if (absu > 0x7f800000u) /* NaN: keep it quiet */
		return (uint16_t)(sign | 0x7e00 | ((absu >> 13) & 0x3ff));
	if (absu >= 0x477ff000u) /* rounds to >= 65520: infinity */
		return (uint16_t)(sign | 0x7c00);
	if (absu < 0x38800000u) {
		/* subnormal half (or zero): round |f| * 2^24 to nearest even integer */
		float a;
		memcpy(&a, &absu, 4);
		h = (uint16_t)nearbyintf(a * 0x1p24f);
		return (uint16_t)(sign | h);
	}
	/* normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even */
	absu = absu - 0x38000000u;
	absu += 0xfffu + ((absu >> 13) & 1);
	return (uint16_t)(sign | (absu >> 13));
}

float fv_bfloat16_to_float(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

uint16_t fv_float_to_bfloat16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
	u += 0x7fffu + ((u >> 16) & 1);		     /* round to nearest even */
	return (uint16_t)(u >> 16);
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

static fv_err tensor_alloc(struct fv_tensor *t, enum fv_dtype dt, size_t rank, const int64_t *dims,
			   bool zero, struct fv_diag *d)
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
	/* fv_dims_count bounds count by FV_MAX_TENSOR_ELEMS, so count * es does not overflow */
	t->data = zero ? fv_calloc(count ? count : 1, es) : fv_alloc((count ? count : 1) * es);
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

fv_err fv_tensor_alloc(struct fv_tensor *t, enum fv_dtype dt, size_t rank, const int64_t *dims,
		       struct fv_diag *d)
{
	return tensor_alloc(t, dt, rank, dims, true, d);
}

fv_err fv_tensor_alloc_uninit(struct fv_tensor *t, enum fv_dtype dt, size_t rank,
			      const int64_t *dims, struct fv_diag *d)
{
	return tensor_alloc(t, dt, rank, dims, false, d);
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
	case FV_DTYPE_UINT8:
		return ((const uint8_t *)t->data)[i];
	case FV_DTYPE_INT8:
		return ((const int8_t *)t->data)[i];
	case FV_DTYPE_UINT16:
		return ((const uint16_t *)t->data)[i];
	case FV_DTYPE_INT16:
		return ((const int16_t *)t->data)[i];
	case FV_DTYPE_INT32:
		return ((const int32_t *)t->data)[i];
	case FV_DTYPE_UINT32:
		return ((const uint32_t *)t->data)[i];
	case FV_DTYPE_UINT64:
		return (double)((const uint64_t *)t->data)[i];
	case FV_DTYPE_FLOAT16:
		return fv_half_to_float(((const uint16_t *)t->data)[i]);
	case FV_DTYPE_BFLOAT16:
		return fv_bfloat16_to_float(((const uint16_t *)t->data)[i]);
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
	case FV_DTYPE_UINT8:
		return ((const uint8_t *)t->data)[i];
	case FV_DTYPE_INT8:
		return ((const int8_t *)t->data)[i];
	case FV_DTYPE_UINT16:
		return ((const uint16_t *)t->data)[i];
	case FV_DTYPE_INT16:
		return ((const int16_t *)t->data)[i];
	case FV_DTYPE_INT32:
		return ((const int32_t *)t->data)[i];
	case FV_DTYPE_UINT32:
		return ((const uint32_t *)t->data)[i];
	case FV_DTYPE_UINT64:
		return (int64_t)((const uint64_t *)t->data)[i];
	default:
		return fv_d2i(fv_tensor_getd(t, i));
	}
}

void fv_tensor_seti(struct fv_tensor *t, size_t i, int64_t v)
{
	switch (t->dtype) {
	case FV_DTYPE_INT64:
		((int64_t *)t->data)[i] = v;
		break;
	case FV_DTYPE_UINT64:
		((uint64_t *)t->data)[i] = (uint64_t)v;
		break;
	case FV_DTYPE_BOOL:
		((uint8_t *)t->data)[i] = v != 0;
		break;
	case FV_DTYPE_UINT8:
		((uint8_t *)t->data)[i] = (uint8_t)v;
		break;
	case FV_DTYPE_INT8:
		((int8_t *)t->data)[i] = (int8_t)(uint8_t)v;
		break;
	case FV_DTYPE_UINT16:
		((uint16_t *)t->data)[i] = (uint16_t)v;
		break;
	case FV_DTYPE_INT16:
		((int16_t *)t->data)[i] = (int16_t)(uint16_t)v;
		break;
	case FV_DTYPE_INT32:
		((int32_t *)t->data)[i] = (int32_t)(uint32_t)v;
		break;
	case FV_DTYPE_UINT32:
		((uint32_t *)t->data)[i] = (uint32_t)v;
		break;
	default:
		fv_tensor_setd(t, i, (double)v);
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
	case FV_DTYPE_FLOAT16:
		((uint16_t *)t->data)[i] = fv_float_to_half((float)v);
		break;
	case FV_DTYPE_BFLOAT16:
		((uint16_t *)t->data)[i] = fv_float_to_bfloat16((float)v);
		break;
	case FV_DTYPE_BOOL:
		((uint8_t *)t->data)[i] = v != 0;
		break;
	case FV_DTYPE_UINT64:
		/* values past INT64_MAX would saturate through fv_d2i */
		((uint64_t *)t->data)[i] =
		    v >= 9223372036854775808.0
			? (v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v)
			: (uint64_t)fv_d2i(v);
		break;
	default:
		fv_tensor_seti(t, i, fv_d2i(v));
	}
}

static bool dtype_known(int32_t dt)
{
	return dt > 0 && fv_dtype_size((enum fv_dtype)dt) != 0;
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
				   "double, float16, bfloat16, bool and the integer types)",
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
	case FV_DTYPE_UINT32:
	case FV_DTYPE_UINT64:
		if (tp->n_uint64_data != count)
			goto count_mismatch;
		for (size_t i = 0; i < count; i++)
			fv_tensor_seti(t, i, (int64_t)tp->uint64_data[i]);
		break;
	case FV_DTYPE_FLOAT16:
	case FV_DTYPE_BFLOAT16:
		/* ONNX stores the 16-bit patterns in int32_data. */
		if (tp->n_int32_data != count)
			goto count_mismatch;
		for (size_t i = 0; i < count; i++)
			((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i];
		break;
	default:
		/* bool and the narrow integers are stored in int32_data. */
		if (tp->n_int32_data != count)
			goto count_mismatch;
		for (size_t i = 0; i < count; i++)
			fv_tensor_seti(t, i, tp->int32_data[i]);
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
