#include "fedval/util.h"
#include "fedval/wire.h"

#include <string.h>

/* Each block carries its size in front so that frees return budget. max_align_t keeps the
 * payload aligned for any field type. */
union blockhdr {
	size_t size;
	max_align_t align;
};

static void *capped_alloc(void *data, size_t size)
{
	struct fv_pb *p = data;
	size_t total;
	union blockhdr *h;

	if (fv_add_overflow(size, sizeof(*h), &total) || p->used + total > p->cap)
		return NULL;
	h = fv_alloc(total);
	if (!h)
		return NULL;
	h->size = total;
	p->used += total;
	return h + 1;
}

static void capped_free(void *data, void *ptr)
{
	struct fv_pb *p = data;
	union blockhdr *h;

	if (!ptr)
		return;
	h = (union blockhdr *)ptr - 1;
	p->used -= h->size;
	fv_free(h);
}

fv_err fv_pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		    size_t cap, struct fv_pb **out, struct fv_diag *d)
{
	struct fv_pb *p = fv_calloc(1, sizeof(*p));
	if (!p)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	p->cap = cap;
	p->alloc.alloc = capped_alloc;
	p->alloc.free = capped_free;
	p->alloc.allocator_data = p;
	p->msg = protobuf_c_message_unpack(desc, &p->alloc, len, buf);
	if (!p->msg) {
		/* protobuf-c does not say why; the budget tells the two cases apart well enough. */
		fv_err e = p->used + 4096 >= cap
			       ? fv_diag_set(d, FV_ELIMIT, "%s: message needs more than %zu bytes to unpack",
					     desc->short_name, cap)
			       : fv_diag_set(d, FV_EPROTO, "%s: malformed message (%zu bytes)",
					     desc->short_name, len);
		fv_free(p);
		return e;
	}
	*out = p;
	return FV_OK;
}

void fv_pb_free(struct fv_pb *p)
{
	if (!p)
		return;
	if (p->msg)
		protobuf_c_message_free_unpacked(p->msg, &p->alloc);
	fv_free(p);
}

fv_err fv_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = fv_alloc(n);
	if (!b)
		return FV_ENOMEM;
	*len = protobuf_c_message_pack(m, b);
	*out = b;
	return FV_OK;
}
