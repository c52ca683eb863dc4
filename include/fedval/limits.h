/* fedval: every limit that protects against hostile input, in one place, each with its reason.
 * A value that crosses a trust boundary (socket, file, config) is checked against these. */
#ifndef FEDVAL_LIMITS_H
#define FEDVAL_LIMITS_H

/* ---- wire ---- */
/* Largest envelope a peer may send (NNG_OPT_RECVMAXSZ): a 1 MiB model chunk plus headers. */
#define FV_MAX_ENVELOPE (2u * 1024 * 1024)
/* Cap on memory protobuf-c may allocate while unpacking one envelope (peak is several times
 * the input size; DESIGN.md §12). */
#define FV_MAX_UNPACK_ALLOC (16u * FV_MAX_ENVELOPE + 65536)
/* Uncompressed bytes per model chunk; chosen so a zstd frame of it stays <= 1 MiB even when
 * the data is incompressible (ZSTD_compressBound adds n/256 plus a few hundred bytes). */
#define FV_MODEL_CHUNK_RAW (1016u * 1024)
/* A model chunk on the wire (compressed) may not exceed this. */
#define FV_MODEL_CHUNK_MAX (1024u * 1024)
/* Principal names: printable, used in logs and file names. */
#define FV_MAX_NAME 64
/* Identifiers (job ids, run ids): printable ASCII. */
#define FV_MAX_ID 80
/* Free text fields in messages (reasons, errors) are truncated to this. */
#define FV_MAX_TEXT 1024
/* Number of thresholds a benchmark may ask for: each adds four released counts. */
#define FV_MAX_THRESHOLDS 64
/* operating points in one result: 4 benchmark targets and the vendor's declared threshold */
#define FV_MAX_OPERATING_POINTS 5
/* Subgroup categories in one result (4 subgroups of at most 12 categories, plus spare). */
#define FV_MAX_SUBGROUP_RESULTS 64
/* Subgroups a benchmark may declare, and the categories of one (bands between at most
 * FV_MAX_SUBGROUP_CATEGORIES - 1 edges, or distinct small integers). */
#define FV_MAX_SUBGROUPS	   4
#define FV_MAX_SUBGROUP_CATEGORIES 12
/* A JSON document (benchmark spec, manifest) sent to the coordinator. */
#define FV_MAX_JSON (256u * 1024)
/* Certificates in PEM, as carried in enrolment and model metadata. */
#define FV_MAX_CERT_PEM 8192
/* Long-poll wait the coordinator grants, in milliseconds (DESIGN.md §5: ~25 s). */
#define FV_POLL_WAIT_MS 25000
/* A client gives up on one request after this (must exceed the long-poll wait). */
#define FV_REQUEST_TIMEOUT_MS 40000
/* Coordinator contexts serving requests in parallel (one nng context each). */
#define FV_MAX_INFLIGHT 64

/* ---- models ---- */
/* Models compared head to head in one run (each is evaluated on every record at a site). */
#define FV_MAX_COMPARE 8
/* A model upload untouched this long is abandoned: the coordinator drops it at start. */
#define FV_UPLOAD_STALE_S (7 * 24 * 3600)
/* Classes of a multiclass benchmark (K x K confusion counts per site). */
#define FV_MAX_CLASSES 16
/* Largest ONNX artefact a vendor may submit / a node will load. */
#define FV_MAX_MODEL_BYTES (512u * 1024 * 1024)
/* Graph size limits for the ONNX loader. */
#define FV_MAX_MODEL_NODES  100000
#define FV_MAX_TENSOR_RANK  8
#define FV_MAX_TENSOR_ELEMS (256u * 1024 * 1024)
/* Number of input variables of a tabular model. */
#define FV_MAX_FEATURES 4096

/* ---- data ---- */
/* A CSV line (one record) may not exceed this; a longer one is an error naming the line. */
#define FV_MAX_CSV_LINE (1u * 1024 * 1024)
/* Columns in a CSV header. */
#define FV_MAX_CSV_COLS 4096
/* An image file of an image-folder source: a model's input image is small (the pixels of one
 * record are at most FV_MAX_FEATURES values); a larger file is refused before it is read. */
#define FV_MAX_IMAGE_BYTES (16u * 1024 * 1024)
/* Memory libpng may allocate for one ancillary chunk (text, ICC profile, ...), compressed or
 * not: none is used, so a decompression bomb in one is refused, not expanded. */
#define FV_MAX_PNG_CHUNK (1u * 1024 * 1024)
/* DICOM files of an image-folder source (lib/data/dicom.c) are read whole into memory, so
 * FV_MAX_IMAGE_BYTES bounds them too. Sequences nested deeper than this are refused: real
 * images nest a few levels, and the depth bounds the reader's recursion. */
#define FV_MAX_DICOM_DEPTH 16
/* Rows x Columns x Samples per Pixel of a DICOM image: refused above this before any size
 * arithmetic (a file under FV_MAX_IMAGE_BYTES holds at most that many 8-bit values). */
#define FV_MAX_DICOM_PIXELS FV_MAX_IMAGE_BYTES
/* Bytes of a DICOM text value the reader interprets (transfer syntax UID: 64, Photometric
 * Interpretation: 16, Rescale Slope/Intercept: 16, Number of Frames: 12); longer is refused. */
#define FV_MAX_DICOM_TEXT 64
/* |Rescale Slope| and |Rescale Intercept|: keeps slope * sample + intercept, divided by the
 * smallest image_scale, far inside a float. */
#define FV_MAX_DICOM_RESCALE 1e9
/* Rows a node evaluates in one job while data is held in memory (before streaming). */
#define FV_MAX_ROWS (50u * 1000 * 1000)

/* ---- configs ---- */
/* Config files (INI) and their lines. */
#define FV_MAX_CONFIG_BYTES (1u * 1024 * 1024)

/* ---- reports ---- */
/* Sites in one report: bounds the HTML and the charts a hostile report can make us draw. */
#define FV_MAX_REPORT_SITES 1024
/* A count (n, tp, ...) in a report: exact in a double, so sums and ratios stay exact. */
#define FV_MAX_REPORT_COUNT 1000000000000000ull
/* Bytes of one report string shown in the HTML; longer strings are cut with an ellipsis. */
#define FV_MAX_REPORT_TEXT 4096

/* ---- audit ---- */
/* One audit log line: entries are small records (who, what, when, digests), never payloads;
 * a longer line is malformed, and the line reader never buffers more than this. */
#define FV_MAX_AUDIT_LINE 8192
/* Keys in an entry's optional detail object, and the length of each value in bytes. */
#define FV_MAX_AUDIT_DETAIL_KEYS  16
#define FV_MAX_AUDIT_DETAIL_VALUE 512
/* A signed audit extract is built and checked whole in memory. */
#define FV_MAX_AUDIT_EXTRACT (64u * 1024 * 1024)

#endif
