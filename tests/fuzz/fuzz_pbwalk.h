/* fedval fuzz targets: whether an unpacked protobuf-c message holds an unknown field at any
 * depth. protobuf-c keeps unknown fields and packs them back, but not always as it read them:
 * a tag of field number 0 written in two bytes (0x82 0x00) is accepted and kept, and its
 * one-byte re-encoding (0x02) is then refused. The round-trip checks skip such messages. */
#ifndef FEDVAL_FUZZ_PBWALK_H
#define FEDVAL_FUZZ_PBWALK_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

static inline bool fuzz_pb_has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;

	if (m->n_unknown_fields)
		return true;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *base = (const char *)m;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *v =
			    *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t k = 0; k < n; k++)
				if (fuzz_pb_has_unknown(v[k]))
					return true;
		} else {
			const ProtobufCMessage *v = *(ProtobufCMessage *const *)(base + f->offset);
			/* A oneof member is set only when the case says so. */
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			if (v && fuzz_pb_has_unknown(v))
				return true;
		}
	}
	return false;
}

#endif
