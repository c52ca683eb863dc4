/* fedval: reading a hospital's local data. Sources decode records into the named variables
 * a benchmark declares; nothing here knows about sockets or the coordinator. */
#ifndef FEDVAL_DATA_H
#define FEDVAL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fedval/err.h"

/* ---- CSV (RFC 4180) ---- */
/* A zeroed struct (or opts == NULL) means the defaults. The grammar accepted and every error
 * are described at the top of lib/data/csv.c. */
struct fv_csv_opts {
	char delimiter;		      /* default ','; tab or ASCII punctuation other than '"' */
	char decimal;		      /* '.' or ',' (then delimiter must not be ','); default '.' */
	const char *const *na_tokens; /* NULL-terminated; NULL means {"", "NA", "NaN", "null"};
					 {NULL} means no token is missing. Copied at open. */
};

struct fv_csv;
/* Open a CSV file with a header line. A UTF-8 BOM is skipped. */
fv_err fv_csv_open(const char *path, const struct fv_csv_opts *opts, struct fv_csv **out,
		   struct fv_diag *d);
void fv_csv_close(struct fv_csv *c);
size_t fv_csv_ncols(const struct fv_csv *c);
const char *fv_csv_colname(const struct fv_csv *c, size_t i);
/* Index of a named column, or -1. */
long fv_csv_find(const struct fv_csv *c, const char *name);
/* Fraction of the file consumed so far, in [0, 1]; -1 when the size is unknown (not a regular
 * file). */
double fv_csv_progress(const struct fv_csv *c);
/* Read only the records in bytes [start, end) of the file from now on, the first on physical
 * line `line`: one part of an fv_csv_split, after fv_csv_open read the header. */
fv_err fv_csv_set_range(struct fv_csv *c, uint64_t start, uint64_t end, uint64_t line,
			struct fv_diag *d);
/* Cut a CSV file's records (after the header line) into at most nparts parts of about equal
 * size at record boundaries (line feeds outside quotes): part i starts at byte start[i], on
 * physical line line[i], and ends where part i + 1 starts (the last at the end of the file).
 * *got: parts found (0 for a file without records). One read of the file, by up to
 * min(online cores, 8) threads (one per MiB of records) that the call starts and joins. */
fv_err fv_csv_split(const char *path, size_t nparts, uint64_t *start, uint64_t *line, size_t *got,
		    struct fv_diag *d);
/* Read the next record. On success *fields points at ncols NUL-terminated strings owned by c
 * (valid until the next call). *eof is set at the end of the file. A record with the wrong
 * number of fields is an error naming its line. */
fv_err fv_csv_next(struct fv_csv *c, char ***fields, bool *eof, struct fv_diag *d);
/* 1-based line number of the record last returned (for messages). */
uint64_t fv_csv_line(const struct fv_csv *c);
/* Whether field (blanks around it ignored) is one of the reader's NA tokens. */
bool fv_csv_is_na(const struct fv_csv *c, const char *field);
/* Convert field as a plain decimal number written with the reader's decimal mark (blanks around
 * it ignored; no thousands separators, hex, inf or nan). FV_EINVAL if it is not one; d then
 * holds a short reason ("not a number", "empty", ...) for the caller to put in context. */
fv_err fv_csv_parse_double(const struct fv_csv *c, const char *field, double *out,
			   struct fv_diag *d);

/* ---- a tabular dataset mapped to benchmark variables ---- */
/* Each of columns[i] and label_column is a local column's name or an expression over the
 * source's columns (docs/mapping.md: arithmetic, unit conversion, recoding, dates); a value that
 * is exactly a column's name is that column. */
struct fv_mapping {
	size_t nvars;
	const char *const *vars;    /* benchmark variable names, in model input order */
	const char *const *columns; /* the local column (or expression) giving each variable */
	const char *label_column;   /* the local column (or expression) giving the 0/1 label */
};

/* What a mapping's label and last variables hold for a task other than binary
 * (fv_source_open_task). */
struct fv_labels {
	/* 0 (or 2): the label is 0 or 1; K >= 3: a class 0..K-1 (multiclass, K <= 255); 1: no
	 * label (label_column NULL; every record's label is 0: a regression's outcome is one of
	 * the variables). */
	uint32_t classes;
	/* The last n_outcomes variables are outcomes (a regression's target, a survival time),
	 * read with the record but by no model: like the label, no predictor may read their
	 * columns. */
	size_t n_outcomes;
};

struct fv_dataset {
	size_t n, nvars;
	float *x;   /* row-major [n][nvars] */
	uint8_t *y; /* [n], 0 or 1 */
};

/* Read a whole CSV file into a dataset through the mapping. A missing column, a value that
 * is not a finite number, or a label other than 0/1 is an error naming the variable, line and
 * value. Codes: FV_EINVAL for a bad mapping or bad data (missing column included), FV_ELIMIT for
 * more than FV_MAX_ROWS rows or a limit of the CSV reader, FV_ENOTFOUND/FV_EIO for the file,
 * FV_ENOMEM. A predictor may not be mapped to the label column. The message in d may quote up to
 * 40 characters of a record value: it is for the local operator, never for the coordinator or
 * the log. On failure *out is left empty (fv_dataset_fini on it is harmless). */
fv_err fv_data_read_csv(const char *path, const struct fv_csv_opts *opts,
			const struct fv_mapping *map, struct fv_dataset *out, struct fv_diag *d);
void fv_dataset_fini(struct fv_dataset *ds);

/* ---- streaming sources of records (CSV, SQLite, PostgreSQL, image folders) ---- */
enum fv_source_kind { FV_SOURCE_CSV = 1, FV_SOURCE_SQLITE, FV_SOURCE_POSTGRES, FV_SOURCE_IMAGES };

struct fv_source_spec {
	enum fv_source_kind kind;
	const char *path;	/* CSV file, SQLite database file (opened read-only), or the CSV
				   index of an image folder */
	const char *table;	/* SQLite/PostgreSQL: a table (or view) to read whole */
	const char *query;	/* SQLite/PostgreSQL: a read-only SELECT (instead of table) */
	const char *conninfo;	/* PostgreSQL: libpq connection string */
	struct fv_csv_opts csv; /* CSV, and the index of an image folder */
	/* Image folder (docs/data-sources.md, "Image folder"): the index column holding each
	 * image's path relative to the index file's directory, and the model's input shape.
	 * Every image must be a PNG or an uncompressed DICOM file of exactly image_height x
	 * image_width pixels; it becomes image_channels (1: gray, 3: RGB) * height * width
	 * virtual columns pixel_0, pixel_1, ... in channel-major, row-major order, each a stored
	 * sample (for DICOM: the rescaled value, MONOCHROME1 inverted) divided by image_scale
	 * (8-bit) or 257 * image_scale (16-bit); image_scale 0 means 255, so PNG pixels lie in
	 * [0, 1]. */
	const char *image_column;
	unsigned image_channels, image_height, image_width;
	double image_scale;
	/* CSV only, range_end > 0: read just the records in bytes [range_start, range_end),
	 * the first on physical line range_line (a part of fv_csv_split). */
	uint64_t range_start, range_end, range_line;
};

/* A source mapped to benchmark variables: records come out as float features and 0/1 labels
 * in batches, never all at once. Values are checked as fv_data_read_csv describes, with the
 * same messages naming the variable, the record ("line 12", "row 12") and the value. */
struct fv_source;
fv_err fv_source_open(const struct fv_source_spec *spec, const struct fv_mapping *map,
		      struct fv_source **out, struct fv_diag *d);
/* fv_source_open for a task whose label is not 0/1 or whose outcomes are variables. */
fv_err fv_source_open_task(const struct fv_source_spec *spec, const struct fv_mapping *map,
			   const struct fv_labels *labels, struct fv_source **out,
			   struct fv_diag *d);
/* Restrict a mapped source to the benchmark's cohort: rule is a condition over the mapping's
 * variable names (their mapped values) and the source's columns (docs/mapping.md), e.g.
 *     age >= 18 and date(admitted) >= date("2022-01-01")
 * Records where it is false are skipped and counted (fv_source_excluded); a missing value the
 * rule needs is an error unless isna() asks about it. Call before the first fv_source_read;
 * FV_ESTATE after it or without a mapping, FV_EINVAL/FV_ELIMIT for a bad rule (the message
 * shows where, with a caret line). rule is not kept. */
fv_err fv_source_set_cohort(struct fv_source *s, const char *rule, struct fv_diag *d);
/* Read up to cap records into x[cap][nvars] and y[cap]; *got == 0 at the end. */
fv_err fv_source_read(struct fv_source *s, float *x, uint8_t *y, size_t cap, size_t *got,
		      struct fv_diag *d);
/* Records handed out so far, and the fraction of the input consumed (-1 when unknown). */
uint64_t fv_source_records(const struct fv_source *s);
/* Records the mapping's cohort rule has left out so far. */
uint64_t fv_source_excluded(const struct fv_source *s);
/* Check one mapping value (a column's name or an expression) against the source's columns
 * without reading a record, as fv_source_open would (for --check-config). FV_EINVAL or
 * FV_ELIMIT with a message naming var and the position, with a caret line under the
 * expression. s may have been opened without a mapping. */
fv_err fv_source_check_mapping(const struct fv_source *s, const char *var, const char *value,
			       struct fv_diag *d);
double fv_source_progress(const struct fv_source *s);
void fv_source_close(struct fv_source *s);
/* Column names of the source (for --check-config); valid while s lives. */
size_t fv_source_ncols(const struct fv_source *s);
const char *fv_source_colname(const struct fv_source *s, size_t i);
/* Unmapped reading, for a caller that needs a record's text (a record key) rather than mapped
 * numbers, such as site-supplied predictions joined to labels. On a source opened without a
 * mapping: the next record's ncols fields, NUL-terminated text owned by s and valid until the
 * next call, NULL for SQL NULL; *eof at the end. FV_ESTATE on a mapped source or an image
 * folder; FV_ELIMIT after FV_MAX_ROWS records; the source's own codes otherwise. Records are
 * counted by fv_source_records. */
fv_err fv_source_next_fields(struct fv_source *s, char ***fields, bool *eof, struct fv_diag *d);
/* Where the record last handed out came from, for messages: "line 12" (CSV), "row 12" (SQL). */
void fv_source_where(struct fv_source *s, char *buf, size_t cap);
/* Index of a named column, or -1. */
long fv_source_find(const struct fv_source *s, const char *name);
/* Whether a field is missing: NULL (SQL NULL) or one of a CSV source's NA tokens. */
bool fv_source_is_na(struct fv_source *s, const char *field);
/* A field as a number, the way the source reads mapped values (a CSV source's decimal mark;
 * SQL text of numeric types, booleans as 1/0); no inf, nan or hex. FV_EINVAL with a short
 * reason in d ("not a number", "empty") for the caller to put in context. */
fv_err fv_source_parse_number(struct fv_source *s, const char *field, double *out,
			      struct fv_diag *d);
/* Copy at most 40 bytes of a record value into buf (cap >= 48) for a message to the local
 * operator: cut on a UTF-8 boundary, control characters shown as '?', "..." when cut. */
const char *fv_data_show_value(char *buf, size_t cap, const char *v);
/* "csv", "sqlite", "postgres", "images"; and the reverse (FV_EINVAL for anything else). */
const char *fv_source_kind_name(enum fv_source_kind k);
fv_err fv_source_kind_parse(const char *s, enum fv_source_kind *out);

/* ---- the demo's synthetic hospitals ---- */
/* Write a deterministic synthetic heart-failure readmission cohort as CSV (header + rows)
 * to out. profile selects a population (0: vendor development data, 1..3: hospitals A..C with
 * different case mix and prevalence). Same (profile, seed, rows) -> same bytes. */
fv_err fv_synth_hf_write(FILE *out, int profile, uint64_t seed, size_t rows, struct fv_diag *d);
/* Names of the synthetic cohort's predictor columns (NULL-terminated) and label column. */
const char *const *fv_synth_hf_predictors(void);
const char *fv_synth_hf_label(void);

/* ---- data-quality and representativeness summary (lib/data/summary.c, docs/data-summary.md) ----
 * A per-dataset summary a hospital may share: counts of missing, invalid and out-of-range values,
 * coarsened distributions, label prevalence and subgroup counts with small cells suppressed.
 * Unlike fv_source_read, bad values are counted, never an error. One pass, memory bounded by
 * the number of variables and categories, not by the number of records. */
struct json_t;

struct fv_summary_var {
	const char *name;   /* benchmark variable (appears in the summary) */
	const char *column; /* local column (does not appear in the summary) */
	bool has_min, has_max;
	double min, max; /* declared range, inclusive; values outside are counted, not described */
};

/* A subgroup variable: categorical (nedges == 0: each distinct text value is a category,
 * blanks around it ignored) or numeric bands ("age band": nedges ascending edges e give the
 * bands <e[0], [e[0],e[1]), ..., >=e[n-1]). */
struct fv_summary_subgroup {
	const char *name;
	const char *column;
	size_t nedges;
	const double *edges;
};

struct fv_summary_opts {
	size_t nvars; /* 0..FV_MAX_FEATURES */
	const struct fv_summary_var *vars;
	const char *label;	  /* benchmark label name (NULL: no label section) */
	const char *label_column; /* its local column */
	size_t nsubgroups;
	const struct fv_summary_subgroup *subgroups;
	uint32_t min_cell; /* smallest released count (struct fv_policy); 0 means 1 */
};

/* Read the whole source once and build the summary (a new JSON object, json_decref'd by the
 * caller) with its "fingerprint". Codes: FV_EINVAL for bad opts or a column not in the source,
 * FV_ELIMIT for more than FV_MAX_ROWS records or a subgroup with too many or too long
 * categories, the source's own codes for I/O, SQL and CSV syntax errors, FV_ENOMEM. */
fv_err fv_data_summarise(const struct fv_source_spec *spec, const struct fv_summary_opts *opts,
			 struct json_t **out, struct fv_diag *d);
/* SHA-256 (lowercase hex) of the canonical text of a summary without its "fingerprint" member:
 * json_dumps with JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6).
 * Lets a receiver check the fingerprint it was given. */
fv_err fv_data_summary_fingerprint(const struct json_t *summary, char hex[65], struct fv_diag *d);

#endif
