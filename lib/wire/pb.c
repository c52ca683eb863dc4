#include "fedval/util.h"
#include "fedval/wire.h"

#include <string.h>

/* Each block carries its size in front so that frees return budget. max_align_t keeps the
 * payload aligned for any field type. */
union blockhdr {
	size_t size;
	max_align_t align;
};

/* The public struct plus what only this file needs. protobuf-c frees everything it allocated
 * when unpacking fails, so `used` is back near 0 by then: whether the budget was the reason
 * has to be remembered when an allocation is refused. */
struct pb_state {
	struct fv_pb pub; /* first: a struct fv_pb * is a struct pb_state * */
	bool over_budget;
	bool oom;
};

static void *capped_alloc(void *data, size_t size)
{
	struct pb_state *s = data;
	struct fv_pb *p = &s->pub;
	size_t total;
	union blockhdr *h;

	if (fv_add_overflow(size, sizeof(*h), &total) || total > p->cap - p->used) {
		s->over_budget = true;
		return NULL;
	}
	h = fv_alloc(total);
	if (!h) {
		s->oom = true;
		return NULL;
	}
	h->size = total;
	p->used += total;
	return h + 1;
}

static void capped_free(void *data, void *ptr)
{
	struct fv_pb *p = &((struct pb_state *)data)->pub;
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
	struct pb_state *s = fv_calloc(1, sizeof(*s));
	struct fv_pb *p;
	if (!s)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	p = &s->pub;
	p->cap = cap;
	p->alloc.alloc = capped_alloc;
	p->alloc.free = capped_free;
	p->alloc.allocator_data = s;
	p->msg = protobuf_c_message_unpack(desc, &p->alloc, len, buf);
	if (!p->msg) {
		/* protobuf-c does not say why; the allocator remembers whether it refused for the
		 * budget or ran out of memory, anything else is the input's fault. */
		fv_err e = s->oom ? fv_diag_set(d, FV_ENOMEM, "%s: out of memory", desc->short_name)
			   : s->over_budget
			       ? fv_diag_set(d, FV_ELIMIT,
					     "%s: message needs more than %zu bytes to unpack",
					     desc->short_name, cap)
			       : fv_diag_set(d, FV_EPROTO, "%s: malformed message (%zu bytes)",
					     desc->short_name, len);
		fv_free(s);
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
	fv_free((struct pb_state *)p);
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
