/* fedval: the expression language of variable mappings and cohort rules.
 *
 * Grammar (docs/mapping.md says the same for a hospital's IT administrator):
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | cmp
 *   cmp     := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]     -- comparisons do not chain
 *   sum     := product (("+" | "-") product)*
 *   product := unary (("*" | "/") unary)*
 *   unary   := "-" unary | primary
 *   primary := number | name | "(" expr ")" | call
 *   call    := fname "(" args ")"
 *   number  := digits ["." digits] [("e" | "E") ["+" | "-"] digits]   -- always '.' as the mark
 *   name    := (letter | "_" | byte >= 0x80) (letter | digit | "_" | byte >= 0x80)*
 *            | "`" any text, "``" for a backtick "`"
 *   text    := '"' any text, '""' for a quote '"' | "'" any text, "''" for "'"
 *
 * Text literals appear only where a function asks for one (recode cases, units, dates); a column
 * whose name is not a plain name is written in backticks. The words and, or, not are reserved
 * (write `and` for a column of that name). Values are doubles; true is 1, false is 0, and any
 * number other than 0 counts as true where a condition is expected.
 *
 * The parsed tree is a flat array, children before parents, the root last. Its depth is checked
 * while it is built, so evaluation recurses at most FV_EXPR_MAX_DEPTH deep. */
#include "expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fedval/util.h"
#include "source_int.h"

enum op {
	OP_NUM,
	OP_COL,
	OP_VAR,
	OP_NEG,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_EQ,
	OP_NE,
	OP_AND,
	OP_OR,
	OP_NOT,
	OP_IF,
	OP_LOG,
	OP_EXP,
	OP_SQRT,
	OP_ABS,
	OP_MIN,
	OP_MAX,
	OP_ROUND,   /* k: 10^digits */
	OP_CONVERT, /* a * k + k2 */
	OP_RECODE,  /* a column; cases [first, first + n); else value k if has_else */
	OP_DATE,    /* a column read as an ISO date */
	OP_DAYS,    /* b - a, in days */
	OP_ISNA
};

struct node {
	uint8_t op;
	uint8_t depth;
	bool has_else;
	uint32_t a, b, c;
	uint32_t first, n; /* OP_MIN/OP_MAX: args[first..]; OP_RECODE: cases[first..] */
	size_t slot;	   /* OP_COL, OP_RECODE, OP_DATE: column; OP_VAR: variable */
	size_t pos;	   /* byte offset in the source, for messages */
	double k, k2;
};

struct rcase {
	const char *text; /* NULL: a numeric key */
	size_t len;
	double key, val;
};

struct fv_expr {
	struct node *nodes;
	uint32_t nnodes, cap;
	uint32_t *args;
	uint32_t nargs;
	struct rcase *cases;
	uint32_t ncases;
	char *pool; /* text of recode keys, NUL-terminated one after another */
	size_t pool_used, pool_cap;
	uint32_t root;
};

/* ---- lexer ---- */
enum tok {
	T_END,
	T_NUM,
	T_NAME,	 /* bare name */
	T_QNAME, /* `quoted name` */
	T_TEXT,	 /* "text" or 'text' */
	T_LP,
	T_RP,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE,
	T_ASSIGN, /* '=' (recode cases only) */
	T_AND,
	T_OR,
	T_NOT
};

struct parser {
	const char *s;
	size_t len, pos;
	enum tok tok;
	size_t tpos; /* start of the current token */
	double num;
	char text[FV_EXPR_MAX_NAME + 1]; /* name or text of the current token, unquoted */
	size_t tlen;
	const struct fv_expr_names *names;
	struct fv_expr *e;
	unsigned nest;
	size_t *errpos;
	struct fv_diag *d;
};

#define BAD UINT32_MAX

static fv_err perr(struct parser *p, fv_err e, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static fv_err perr(struct parser *p, fv_err e, size_t pos, const char *fmt, ...)
{
	va_list ap;

	*p->errpos = pos;
	va_start(ap, fmt);
	fv_diag_vset(p->d, e, fmt, ap);
	va_end(ap);
	return e;
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A quoted name or text starting at p->pos (the opening quote q). */
static fv_err lex_quoted(struct parser *p, char q)
{
	size_t start = p->pos++;

	p->tlen = 0;
	for (;;) {
		unsigned char c;
		if (p->pos >= p->len)
			return perr(p, FV_EINVAL, start, "%s not closed (missing %c)",
				    q == '`' ? "quoted name" : "text", q);
		c = (unsigned char)p->s[p->pos];
		if (c == (unsigned char)q) {
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == q) {
				p->pos++; /* doubled: the quote itself */
			} else {
				p->pos++;
				break;
			}
		} else if (c < 0x20 || c == 0x7f) {
			return perr(p, FV_EINVAL, p->pos, "control character (byte 0x%02x) in %s",
				    c, q == '`' ? "a quoted name" : "a text");
		}
		if (p->tlen >= FV_EXPR_MAX_NAME)
			return perr(p, FV_ELIMIT, start, "%s longer than %d bytes",
				    q == '`' ? "name" : "text", FV_EXPR_MAX_NAME);
		p->text[p->tlen++] = (char)c;
		p->pos++;
	}
	p->text[p->tlen] = '\0';
	if (q == '`' && p->tlen == 0)
		return perr(p, FV_EINVAL, start, "empty quoted name");
	p->tok = q == '`' ? T_QNAME : T_TEXT;
	return FV_OK;
}

static fv_err lex_number(struct parser *p)
{
	size_t start = p->pos, n;
	char buf[64];
	char *end;

	while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit((unsigned char)p->s[p->pos]))
			return perr(p, FV_EINVAL, start, "exponent without digits in number");
		while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (is_name_char((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.'))
		return perr(p, FV_EINVAL, p->pos, "unexpected character after a number");
	n = p->pos - start;
	if (n >= sizeof(buf))
		return perr(p, FV_ELIMIT, start, "number longer than %zu characters",
			    sizeof(buf) - 1);
	memcpy(buf, p->s + start, n);
	buf[n] = '\0';
	p->num = strtod(buf, &end);
	if (end != buf + n || !isfinite(p->num))
		return perr(p, FV_EINVAL, start, "number out of range");
	p->tok = T_NUM;
	return FV_OK;
}

static fv_err next(struct parser *p)
{
	unsigned char c;

	while (p->pos < p->len && is_blank((unsigned char)p->s[p->pos]))
		p->pos++;
	p->tpos = p->pos;
	if (p->pos >= p->len) {
		p->tok = T_END;
		return FV_OK;
	}
	c = (unsigned char)p->s[p->pos];
	if (c == 0)
		return perr(p, FV_EINVAL, p->pos, "NUL byte in expression");
	if (c < 0x20 || c == 0x7f)
		return perr(p, FV_EINVAL, p->pos, "control character (byte 0x%02x)", c);
	if (is_digit(c) ||
	    (c == '.' && p->pos + 1 < p->len && is_digit((unsigned char)p->s[p->pos + 1])))
		return lex_number(p);
	if (is_name_start(c)) {
		size_t start = p->pos;
		while (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
			p->pos++;
		p->tlen = p->pos - start;
		if (p->tlen > FV_EXPR_MAX_NAME)
			return perr(p, FV_ELIMIT, start, "name longer than %d bytes",
				    FV_EXPR_MAX_NAME);
		memcpy(p->text, p->s + start, p->tlen);
		p->text[p->tlen] = '\0';
		p->tok = !strcmp(p->text, "and")   ? T_AND
			 : !strcmp(p->text, "or")  ? T_OR
			 : !strcmp(p->text, "not") ? T_NOT
						   : T_NAME;
		return FV_OK;
	}
	if (c == '`' || c == '"' || c == '\'')
		return lex_quoted(p, (char)c);
	p->pos++;
	switch (c) {
	case '(':
		p->tok = T_LP;
		return FV_OK;
	case ')':
		p->tok = T_RP;
		return FV_OK;
	case ',':
		p->tok = T_COMMA;
		return FV_OK;
	case '+':
		p->tok = T_PLUS;
		return FV_OK;
	case '-':
		p->tok = T_MINUS;
		return FV_OK;
	case '*':
		p->tok = T_STAR;
		return FV_OK;
	case '/':
		p->tok = T_SLASH;
		return FV_OK;
	case '<':
	case '>':
		if (p->pos < p->len && p->s[p->pos] == '=') {
			p->pos++;
			p->tok = c == '<' ? T_LE : T_GE;
		} else {
			p->tok = c == '<' ? T_LT : T_GT;
		}
		return FV_OK;
	case '=':
		if (p->pos < p->len && p->s[p->pos] == '=') {
			p->pos++;
			p->tok = T_EQ;
		} else {
			p->tok = T_ASSIGN;
		}
		return FV_OK;
	case '!':
		if (p->pos < p->len && p->s[p->pos] == '=') {
			p->pos++;
			p->tok = T_NE;
			return FV_OK;
		}
		return perr(p, FV_EINVAL, p->tpos, "unexpected '!' (write 'not')");
	case '&':
		return perr(p, FV_EINVAL, p->tpos, "unexpected '&' (write 'and')");
	case '|':
		return perr(p, FV_EINVAL, p->tpos, "unexpected '|' (write 'or')");
	}
	if (c >= 0x20 && c < 0x7f)
		return perr(p, FV_EINVAL, p->tpos, "unexpected character '%c'", c);
	return perr(p, FV_EINVAL, p->tpos, "unexpected byte 0x%02x", c);
}

static fv_err expect(struct parser *p, enum tok t, const char *what)
{
	if (p->tok != t)
		return perr(p, FV_EINVAL, p->tpos, "expected %s", what);
	return next(p);
}

/* ---- tree building ---- */
static uint8_t depth_of(const struct fv_expr *e, uint32_t i)
{
	return i == BAD ? 0 : e->nodes[i].depth;
}

/* Append a node; *out is its index. */
static fv_err mk(struct parser *p, enum op op, size_t pos, uint32_t a, uint32_t b, uint32_t c,
		 uint32_t *out)
{
	struct fv_expr *e = p->e;
	struct node *n;
	unsigned dep = depth_of(e, a);

	if (depth_of(e, b) > dep)
		dep = depth_of(e, b);
	if (depth_of(e, c) > dep)
		dep = depth_of(e, c);
	if (dep + 1 > FV_EXPR_MAX_DEPTH)
		return perr(p, FV_ELIMIT, pos, "expression nested more than %d deep",
			    FV_EXPR_MAX_DEPTH);
	if (e->nnodes + e->ncases >= FV_EXPR_MAX_NODES || e->nnodes >= e->cap)
		return perr(p, FV_ELIMIT, pos, "expression has more than %d parts",
			    FV_EXPR_MAX_NODES);
	n = &e->nodes[e->nnodes];
	memset(n, 0, sizeof(*n));
	n->op = (uint8_t)op;
	n->depth = (uint8_t)(dep + 1);
	n->a = a;
	n->b = b;
	n->c = c;
	n->pos = pos;
	*out = e->nnodes++;
	return FV_OK;
}

static fv_err mk_num(struct parser *p, size_t pos, double v, uint32_t *out)
{
	fv_err err = mk(p, OP_NUM, pos, BAD, BAD, BAD, out);
	if (err == FV_OK)
		p->e->nodes[*out].k = v;
	return err;
}

static long find_name(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(list[i], name))
			return (long)i;
	return -1;
}

static const char *cols_where(const struct parser *p)
{
	return p->names->cols_where ? p->names->cols_where : "the source";
}

/* The current token names a column (bare or quoted); *col is its index. Consumes the token. */
static fv_err want_column(struct parser *p, const char *fn, size_t *col)
{
	long k;

	if (p->tok != T_NAME && p->tok != T_QNAME)
		return perr(p, FV_EINVAL, p->tpos, "%s() reads a column: expected a column name",
			    fn);
	if ((k = find_name(p->names->cols, p->names->ncols, p->text)) < 0)
		return perr(p, FV_EINVAL, p->tpos, "column '%s' is not in %s", p->text,
			    cols_where(p));
	*col = (size_t)k;
	return next(p);
}

static fv_err p_or(struct parser *p, uint32_t *out);

/* An optionally negative number literal (recode cases and values, round digits). */
static fv_err p_signed(struct parser *p, const char *what, double *v)
{
	bool neg = false;
	fv_err err;

	if (p->tok == T_MINUS) {
		neg = true;
		if ((err = next(p)) != FV_OK)
			return err;
	}
	if (p->tok != T_NUM)
		return perr(p, FV_EINVAL, p->tpos, "expected a number (%s)", what);
	*v = neg ? -p->num : p->num;
	return next(p);
}

/* recode(column, key = value, ..., [else = value]) after "recode(". */
static fv_err p_recode(struct parser *p, size_t pos, uint32_t *out)
{
	struct fv_expr *e = p->e;
	struct node *n;
	size_t col;
	uint32_t first = e->ncases, i;
	bool has_else = false;
	double else_val = 0;
	fv_err err;

	if ((err = want_column(p, "recode", &col)) != FV_OK)
		return err;
	while (p->tok == T_COMMA) {
		struct rcase rc = {0};
		size_t kpos;
		if ((err = next(p)) != FV_OK)
			return err;
		kpos = p->tpos;
		if (has_else)
			return perr(p, FV_EINVAL, kpos, "recode(): 'else' must be the last case");
		if (p->tok == T_NAME && !strcmp(p->text, "else")) {
			if ((err = next(p)) != FV_OK ||
			    (err = expect(p, T_ASSIGN, "'=' after else")) != FV_OK ||
			    (err = p_signed(p, "the value for else", &else_val)) != FV_OK)
				return err;
			has_else = true;
			continue;
		}
		if (p->tok == T_TEXT) {
			if (p->tlen + 1 > e->pool_cap - e->pool_used)
				return perr(p, FV_ELIMIT, kpos, "recode(): too much text");
			rc.text = e->pool + e->pool_used;
			rc.len = p->tlen;
			memcpy(e->pool + e->pool_used, p->text, p->tlen + 1);
			e->pool_used += p->tlen + 1;
			if ((err = next(p)) != FV_OK)
				return err;
		} else if (p->tok == T_NUM || p->tok == T_MINUS) {
			if ((err = p_signed(p, "a case", &rc.key)) != FV_OK)
				return err;
		} else {
			return perr(p, FV_EINVAL, kpos,
				    "recode(): expected a case (\"text\" = number, number = "
				    "number or else = number)");
		}
		if ((err = expect(p, T_ASSIGN, "'=' after the case")) != FV_OK ||
		    (err = p_signed(p, "the value of the case", &rc.val)) != FV_OK)
			return err;
		for (i = first; i < e->ncases; i++) {
			const struct rcase *o = &e->cases[i];
			if ((rc.text && o->text && !strcmp(rc.text, o->text)) ||
			    (!rc.text && !o->text && rc.key == o->key))
				return perr(p, FV_EINVAL, kpos,
					    "recode(): this case appears twice");
		}
		if (e->ncases - first >= FV_EXPR_MAX_ARGS)
			return perr(p, FV_ELIMIT, kpos, "recode(): more than %d cases",
				    FV_EXPR_MAX_ARGS);
		if (e->nnodes + e->ncases >= FV_EXPR_MAX_NODES || e->ncases >= e->cap)
			return perr(p, FV_ELIMIT, kpos, "expression has more than %d parts",
				    FV_EXPR_MAX_NODES);
		e->cases[e->ncases++] = rc;
	}
	if (e->ncases == first && !has_else)
		return perr(p, FV_EINVAL, p->tpos, "recode(): expected at least one case");
	if ((err = expect(p, T_RP, "')' closing recode(")) != FV_OK ||
	    (err = mk(p, OP_RECODE, pos, BAD, BAD, BAD, out)) != FV_OK)
		return err;
	n = &e->nodes[*out];
	n->slot = col;
	n->first = first;
	n->n = e->ncases - first;
	n->has_else = has_else;
	n->k = else_val;
	return FV_OK;
}

/* A date argument: a column or a text literal (folded to a number now), for date() and
 * days_between(); otherwise (days_between only) any expression giving days. */
static fv_err p_date_arg(struct parser *p, const char *fn, bool any, uint32_t *out)
{
	size_t pos = p->tpos;
	fv_err err;

	if (p->tok == T_TEXT) {
		double days;
		if (!fv_expr_parse_date(p->text, &days))
			return perr(p, FV_EINVAL, pos, "%s(): '%s' is not a date (YYYY-MM-DD)", fn,
				    p->text);
		if ((err = next(p)) != FV_OK)
			return err;
		return mk_num(p, pos, days, out);
	}
	if (p->tok == T_NAME || p->tok == T_QNAME) {
		/* A lone name: a column holding dates. Anything more is an expression. */
		struct parser save = *p;
		size_t col;
		if ((err = next(p)) != FV_OK)
			return err;
		if (!any || p->tok == T_COMMA || p->tok == T_RP) {
			*p = save;
			if ((err = want_column(p, fn, &col)) != FV_OK ||
			    (err = mk(p, OP_DATE, pos, BAD, BAD, BAD, out)) != FV_OK)
				return err;
			p->e->nodes[*out].slot = col;
			return FV_OK;
		}
		*p = save;
	}
	if (!any)
		return perr(p, FV_EINVAL, pos, "%s() reads a column or a \"YYYY-MM-DD\" text", fn);
	return p_or(p, out);
}

/* ---- units ---- */
enum dim { DIM_MASSCONC, DIM_MOLCONC, DIM_TEMP, DIM_MASS, DIM_LENGTH };

/* Value in the dimension's base unit = x * f + off. Bases: g/L, mol/L, degrees Celsius, kg, m.
 * Names are matched case-sensitively (litre may be L or l), with "µ" (U+00B5) or "μ" (U+03BC)
 * read as "u". Exact by definition: prefixes (BIPM, The International System of Units, 9th ed.,
 * 2019); the pound 0.45359237 kg and the inch 2.54 cm (international yard and pound agreement,
 * 1959); degF = degC * 9/5 + 32, K = degC + 273.15 (ibid. and NIST SP 811, 2008, appendix B). */
static const struct unit {
	const char *name;
	enum dim dim;
	double f, off;
} units[] = {
    {"g/L", DIM_MASSCONC, 1, 0},
    {"g/dL", DIM_MASSCONC, 10, 0},
    {"mg/dL", DIM_MASSCONC, 1e-2, 0},
    {"mg/L", DIM_MASSCONC, 1e-3, 0},
    {"ug/mL", DIM_MASSCONC, 1e-3, 0},
    {"ug/L", DIM_MASSCONC, 1e-6, 0},
    {"ng/mL", DIM_MASSCONC, 1e-6, 0},
    {"ng/L", DIM_MASSCONC, 1e-9, 0},
    {"pg/mL", DIM_MASSCONC, 1e-9, 0},
    {"mol/L", DIM_MOLCONC, 1, 0},
    {"mmol/L", DIM_MOLCONC, 1e-3, 0},
    {"umol/L", DIM_MOLCONC, 1e-6, 0},
    {"nmol/L", DIM_MOLCONC, 1e-9, 0},
    {"pmol/L", DIM_MOLCONC, 1e-12, 0},
    {"C", DIM_TEMP, 1, 0},
    {"degC", DIM_TEMP, 1, 0},
    {"\xc2\xb0"
     "C",
     DIM_TEMP, 1, 0},
    {"F", DIM_TEMP, 5.0 / 9.0, -160.0 / 9.0},
    {"degF", DIM_TEMP, 5.0 / 9.0, -160.0 / 9.0},
    {"\xc2\xb0"
     "F",
     DIM_TEMP, 5.0 / 9.0, -160.0 / 9.0},
    {"K", DIM_TEMP, 1, -273.15},
    {"kg", DIM_MASS, 1, 0},
    {"g", DIM_MASS, 1e-3, 0},
    {"lb", DIM_MASS, 0.45359237, 0},
    {"m", DIM_LENGTH, 1, 0},
    {"cm", DIM_LENGTH, 1e-2, 0},
    {"mm", DIM_LENGTH, 1e-3, 0},
    {"in", DIM_LENGTH, 0.0254, 0},
    {"ft", DIM_LENGTH, 0.3048, 0},
};

/* Molar mass in g/mol, for conversions between mass and amount concentrations; 0 where none
 * is defined (the analyte is then accepted only for conversions that do not need one).
 * Sources, with the factor they give (checked in tests/unit/data/test_expr.c):
 *   glucose C6H12O6 180.16: 1 mmol/L = 18.016 mg/dL;
 *   creatinine C4H7N3O 113.12: 1 mg/dL = 88.40 umol/L (usually rounded to 88.4);
 *   cholesterol C27H46O 386.65: 1 mmol/L = 38.67 mg/dL (total, HDL and LDL alike);
 *   triglycerides, as triolein C57H104O6 885.4: 1 mmol/L = 88.54 mg/dL (tables round to 88.5
 *     or 88.57, from 885.7);
 *   haemoglobin, per monomer (one haem, 64 458 / 4 = 16 114.5): 1 g/dL = 0.6206 mmol/L.
 * Molar masses from the IUPAC standard atomic weights (CIAAW, 2021); the clinical factors as
 * tabulated in the AMA Manual of Style, 11th ed., "SI conversion calculator", and in Young DS,
 * "Implementation of SI units for clinical laboratory data", Ann Intern Med 1987;106:114-129.
 * BNP and NT-proBNP have no molar mass here: pg/mL and ng/L are the same quantity. */
static const struct analyte {
	const char *name;
	double molar_mass;
} analytes[] = {
    {"glucose", 180.16},     {"creatinine", 113.12},
    {"cholesterol", 386.65}, {"triglycerides", 885.4},
    {"triglyceride", 885.4}, {"haemoglobin", 16114.5},
    {"hemoglobin", 16114.5}, {"bnp", 0},
    {"nt-probnp", 0},
};

/* Normalise a unit name: "µ"/"μ" -> "u". False if it does not fit. */
static bool unit_norm(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; in[i]; i++) {
		if (o + 1 >= cap)
			return false;
		if ((unsigned char)in[i] == 0xc2 && (unsigned char)in[i + 1] == 0xb5) {
			out[o++] = 'u';
			i++;
		} else if ((unsigned char)in[i] == 0xce && (unsigned char)in[i + 1] == 0xbc) {
			out[o++] = 'u';
			i++;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return true;
}

/* Unit names are case-sensitive ("mm" is not "Mm"), except that litre may be 'L' or 'l'. */
static bool unit_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == 'L' || *a == 'l') && (*b == 'L' || *b == 'l')))
			return false;
	return *a == *b;
}

static const struct unit *unit_find(const char *name)
{
	char buf[32];

	if (!unit_norm(name, buf, sizeof(buf)))
		return NULL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (unit_eq(units[i].name, buf))
			return &units[i];
	return NULL;
}

static const struct analyte *analyte_find(const char *name)
{
	for (size_t i = 0; i < sizeof(analytes) / sizeof(analytes[0]); i++)
		if (!strcasecmp(analytes[i].name, name))
			return &analytes[i];
	return NULL;
}

static const char *dim_name(enum dim d)
{
	switch (d) {
	case DIM_MASSCONC:
		return "a mass concentration";
	case DIM_MOLCONC:
		return "an amount concentration";
	case DIM_TEMP:
		return "a temperature";
	case DIM_MASS:
		return "a mass";
	case DIM_LENGTH:
		return "a length";
	}
	return "?";
}

/* convert(x, "from", "to" [, "analyte"]) after "convert(". */
static fv_err p_convert(struct parser *p, size_t pos, uint32_t *out)
{
	const struct unit *u[2];
	const struct analyte *an = NULL;
	uint32_t x;
	double k = 1;
	fv_err err;

	if ((err = p_or(p, &x)) != FV_OK)
		return err;
	for (int i = 0; i < 2; i++) {
		if ((err = expect(p, T_COMMA, "',' and a unit")) != FV_OK)
			return err;
		if (p->tok != T_TEXT)
			return perr(p, FV_EINVAL, p->tpos, "convert(): expected a unit in quotes");
		if (!(u[i] = unit_find(p->text)))
			return perr(p, FV_EINVAL, p->tpos, "convert(): unknown unit '%s'", p->text);
		if ((err = next(p)) != FV_OK)
			return err;
	}
	if (p->tok == T_COMMA) {
		if ((err = next(p)) != FV_OK)
			return err;
		if (p->tok != T_TEXT)
			return perr(p, FV_EINVAL, p->tpos,
				    "convert(): expected an analyte in quotes");
		if (!(an = analyte_find(p->text)))
			return perr(p, FV_EINVAL, p->tpos, "convert(): unknown analyte '%s'",
				    p->text);
		if ((err = next(p)) != FV_OK)
			return err;
	}
	if (u[0]->dim != u[1]->dim) {
		bool m2n = u[0]->dim == DIM_MASSCONC && u[1]->dim == DIM_MOLCONC;
		bool n2m = u[0]->dim == DIM_MOLCONC && u[1]->dim == DIM_MASSCONC;
		if (!m2n && !n2m)
			return perr(p, FV_EINVAL, pos, "convert(): cannot convert %s to %s",
				    dim_name(u[0]->dim), dim_name(u[1]->dim));
		if (!an)
			return perr(p, FV_EINVAL, pos,
				    "convert(): mass to amount needs the analyte, e.g. "
				    "convert(x, \"mg/dL\", \"mmol/L\", \"glucose\")");
		if (an->molar_mass <= 0)
			return perr(p, FV_EINVAL, pos, "convert(): no molar mass known for '%s'",
				    an->name);
		k = m2n ? 1.0 / an->molar_mass : an->molar_mass;
	}
	if ((err = expect(p, T_RP, "')' closing convert(")) != FV_OK ||
	    (err = mk(p, OP_CONVERT, pos, x, BAD, BAD, out)) != FV_OK)
		return err;
	/* out = (f0 x k + off0 k - off1) / f1; offsets are nonzero for temperatures only, k
	 * differs from 1 for mass <-> amount only. */
	p->e->nodes[*out].k = u[0]->f * k / u[1]->f;
	p->e->nodes[*out].k2 = (u[0]->off * k - u[1]->off) / u[1]->f;
	return FV_OK;
}

/* A comma-separated list of expressions into e->args; *first and *n describe it. */
static fv_err p_list(struct parser *p, const char *fn, uint32_t min, uint32_t *first, uint32_t *n)
{
	struct fv_expr *e = p->e;
	uint32_t a;
	fv_err err;

	*first = e->nargs;
	*n = 0;
	for (;;) {
		size_t apos = p->tpos;
		if ((err = p_or(p, &a)) != FV_OK)
			return err;
		if (*n >= FV_EXPR_MAX_ARGS || e->nargs >= e->cap)
			return perr(p, FV_ELIMIT, apos, "%s(): more than %d arguments", fn,
				    FV_EXPR_MAX_ARGS);
		e->args[e->nargs++] = a;
		(*n)++;
		if (p->tok != T_COMMA)
			break;
		if ((err = next(p)) != FV_OK)
			return err;
	}
	if (*n < min)
		return perr(p, FV_EINVAL, p->tpos, "%s() takes at least %u arguments", fn, min);
	return FV_OK;
}

static const struct fn {
	const char *name;
	enum op op;
	int nargs; /* fixed count of expression arguments; -1: parsed specially */
} fns[] = {
    {"log", OP_LOG, 1},
    {"exp", OP_EXP, 1},
    {"sqrt", OP_SQRT, 1},
    {"abs", OP_ABS, 1},
    {"if", OP_IF, 3},
    {"isna", OP_ISNA, 1},
    {"min", OP_MIN, -1},
    {"max", OP_MAX, -1},
    {"round", OP_ROUND, -1},
    {"convert", OP_CONVERT, -1},
    {"recode", OP_RECODE, -1},
    {"date", OP_DATE, -1},
    {"days_between", OP_DAYS, -1},
};

/* A call; the current token is the function's name, followed by '('. */
static fv_err p_call(struct parser *p, uint32_t *out)
{
	const struct fn *f = NULL;
	size_t pos = p->tpos;
	uint32_t a[3] = {BAD, BAD, BAD};
	fv_err err;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (!strcmp(fns[i].name, p->text))
			f = &fns[i];
	if (!f)
		return perr(p, FV_EINVAL, pos, "unknown function '%s'", p->text);
	if ((err = next(p)) != FV_OK || (err = next(p)) != FV_OK) /* name, '(' */
		return err;
	if (++p->nest > FV_EXPR_MAX_DEPTH)
		return perr(p, FV_ELIMIT, pos, "expression nested more than %d deep",
			    FV_EXPR_MAX_DEPTH);
	switch (f->op) {
	case OP_RECODE:
		err = p_recode(p, pos, out);
		goto done;
	case OP_CONVERT:
		err = p_convert(p, pos, out);
		goto done;
	case OP_DATE:
		if ((err = p_date_arg(p, "date", false, out)) == FV_OK)
			err = expect(p, T_RP, "')' closing date(");
		goto done;
	case OP_DAYS:
		if ((err = p_date_arg(p, "days_between", true, &a[0])) != FV_OK ||
		    (err = expect(p, T_COMMA, "',' and the second date")) != FV_OK ||
		    (err = p_date_arg(p, "days_between", true, &a[1])) != FV_OK ||
		    (err = expect(p, T_RP, "')' closing days_between(")) != FV_OK)
			goto done;
		err = mk(p, OP_DAYS, pos, a[0], a[1], BAD, out);
		goto done;
	case OP_ROUND: {
		double digits = 0;
		if ((err = p_or(p, &a[0])) != FV_OK)
			goto done;
		if (p->tok == T_COMMA) {
			size_t dpos;
			if ((err = next(p)) != FV_OK)
				goto done;
			dpos = p->tpos;
			if ((err = p_signed(p, "digits", &digits)) != FV_OK)
				goto done;
			if (digits != floor(digits) || digits < 0 || digits > 15) {
				err = perr(p, FV_EINVAL, dpos,
					   "round(): digits must be a whole number from 0 to 15");
				goto done;
			}
		}
		if ((err = expect(p, T_RP, "')' closing round(")) != FV_OK ||
		    (err = mk(p, OP_ROUND, pos, a[0], BAD, BAD, out)) != FV_OK)
			goto done;
		p->e->nodes[*out].k = pow(10, digits);
		goto done;
	}
	case OP_MIN:
	case OP_MAX: {
		uint32_t first, n;
		if ((err = p_list(p, f->name, 2, &first, &n)) != FV_OK ||
		    (err = expect(p, T_RP, "')'")) != FV_OK)
			goto done;
		/* Depth: the arguments hang below this node. */
		for (uint32_t i = 0; i < n; i++)
			if (depth_of(p->e, p->e->args[first + i]) > depth_of(p->e, a[0]))
				a[0] = p->e->args[first + i];
		if ((err = mk(p, f->op, pos, a[0], BAD, BAD, out)) != FV_OK)
			goto done;
		p->e->nodes[*out].first = first;
		p->e->nodes[*out].n = n;
		goto done;
	}
	default:
		break;
	}
	for (int i = 0; i < f->nargs; i++) {
		if (i > 0 && (err = expect(p, T_COMMA, "','")) != FV_OK)
			goto done;
		if ((err = p_or(p, &a[i])) != FV_OK)
			goto done;
	}
	if (p->tok == T_COMMA) {
		err = perr(p, FV_EINVAL, p->tpos, "%s() takes %d argument%s", f->name, f->nargs,
			   f->nargs > 1 ? "s" : "");
		goto done;
	}
	if ((err = expect(p, T_RP, "')'")) != FV_OK)
		goto done;
	err = mk(p, f->op, pos, a[0], a[1], a[2], out);
done:
	p->nest--;
	return err;
}

static fv_err p_primary(struct parser *p, uint32_t *out)
{
	size_t pos = p->tpos;
	fv_err err;
	long k;

	switch (p->tok) {
	case T_NUM:
		if ((err = mk_num(p, pos, p->num, out)) != FV_OK)
			return err;
		return next(p);
	case T_LP:
		if ((err = next(p)) != FV_OK || (err = p_or(p, out)) != FV_OK)
			return err;
		return expect(p, T_RP, "')'");
	case T_NAME: {
		/* A name right before '(' calls a function. */
		size_t q = p->pos;
		while (q < p->len && is_blank((unsigned char)p->s[q]))
			q++;
		if (q < p->len && p->s[q] == '(')
			return p_call(p, out);
	}
		/* fall through */
	case T_QNAME:
		if ((k = find_name(p->names->vars, p->names->nvars, p->text)) >= 0) {
			if ((err = mk(p, OP_VAR, pos, BAD, BAD, BAD, out)) != FV_OK)
				return err;
		} else if ((k = find_name(p->names->cols, p->names->ncols, p->text)) >= 0) {
			if ((err = mk(p, OP_COL, pos, BAD, BAD, BAD, out)) != FV_OK)
				return err;
		} else if (p->names->nvars) {
			return perr(p, FV_EINVAL, pos,
				    "'%s' is neither a benchmark variable nor a column of %s",
				    p->text, cols_where(p));
		} else {
			return perr(p, FV_EINVAL, pos, "column '%s' is not in %s", p->text,
				    cols_where(p));
		}
		p->e->nodes[*out].slot = (size_t)k;
		return next(p);
	case T_TEXT:
		return perr(p, FV_EINVAL, pos,
			    "text in quotes is a value for recode(), convert() or date(); write a "
			    "column name in backticks: `%s`",
			    p->text);
	case T_END:
		return perr(p, FV_EINVAL, pos, "expression ends too early");
	case T_AND:
	case T_OR:
	case T_NOT:
		return perr(p, FV_EINVAL, pos,
			    "'%s' is a reserved word; write a column of that name as `%s`", p->text,
			    p->text);
	default:
		return perr(p, FV_EINVAL, pos, "expected a number, a name or '('");
	}
}

static fv_err p_unary(struct parser *p, uint32_t *out)
{
	size_t pos = p->tpos;
	uint32_t a;
	fv_err err;

	if (p->tok != T_MINUS)
		return p_primary(p, out);
	if (++p->nest > FV_EXPR_MAX_DEPTH) {
		err = perr(p, FV_ELIMIT, pos, "expression nested more than %d deep",
			   FV_EXPR_MAX_DEPTH);
		goto out;
	}
	if ((err = next(p)) != FV_OK || (err = p_unary(p, &a)) != FV_OK)
		goto out;
	err = mk(p, OP_NEG, pos, a, BAD, BAD, out);
out:
	p->nest--;
	return err;
}

static fv_err p_product(struct parser *p, uint32_t *out)
{
	uint32_t r;
	fv_err err;

	if ((err = p_unary(p, out)) != FV_OK)
		return err;
	while (p->tok == T_STAR || p->tok == T_SLASH) {
		enum op op = p->tok == T_STAR ? OP_MUL : OP_DIV;
		size_t pos = p->tpos;
		if ((err = next(p)) != FV_OK || (err = p_unary(p, &r)) != FV_OK ||
		    (err = mk(p, op, pos, *out, r, BAD, out)) != FV_OK)
			return err;
	}
	return FV_OK;
}

static fv_err p_sum(struct parser *p, uint32_t *out)
{
	uint32_t r;
	fv_err err;

	if ((err = p_product(p, out)) != FV_OK)
		return err;
	while (p->tok == T_PLUS || p->tok == T_MINUS) {
		enum op op = p->tok == T_PLUS ? OP_ADD : OP_SUB;
		size_t pos = p->tpos;
		if ((err = next(p)) != FV_OK || (err = p_product(p, &r)) != FV_OK ||
		    (err = mk(p, op, pos, *out, r, BAD, out)) != FV_OK)
			return err;
	}
	return FV_OK;
}

static bool is_cmp(enum tok t)
{
	return t == T_LT || t == T_LE || t == T_GT || t == T_GE || t == T_EQ || t == T_NE;
}

static fv_err p_cmp(struct parser *p, uint32_t *out)
{
	static const enum op ops[] = {[T_LT] = OP_LT, [T_LE] = OP_LE, [T_GT] = OP_GT,
				      [T_GE] = OP_GE, [T_EQ] = OP_EQ, [T_NE] = OP_NE};
	uint32_t r;
	fv_err err;

	if ((err = p_sum(p, out)) != FV_OK)
		return err;
	if (is_cmp(p->tok)) {
		enum op op = ops[p->tok];
		size_t pos = p->tpos;
		if ((err = next(p)) != FV_OK || (err = p_sum(p, &r)) != FV_OK ||
		    (err = mk(p, op, pos, *out, r, BAD, out)) != FV_OK)
			return err;
		if (is_cmp(p->tok))
			return perr(p, FV_EINVAL, p->tpos,
				    "comparisons do not chain; write a < b and b < c");
	}
	if (p->tok == T_ASSIGN)
		return perr(p, FV_EINVAL, p->tpos,
			    "'=' only names a recode() case; compare with '=='");
	return FV_OK;
}

static fv_err p_not(struct parser *p, uint32_t *out)
{
	size_t pos = p->tpos;
	uint32_t a;
	fv_err err;

	if (p->tok != T_NOT)
		return p_cmp(p, out);
	if (++p->nest > FV_EXPR_MAX_DEPTH) {
		err = perr(p, FV_ELIMIT, pos, "expression nested more than %d deep",
			   FV_EXPR_MAX_DEPTH);
		goto out;
	}
	if ((err = next(p)) != FV_OK || (err = p_not(p, &a)) != FV_OK)
		goto out;
	err = mk(p, OP_NOT, pos, a, BAD, BAD, out);
out:
	p->nest--;
	return err;
}

static fv_err p_and(struct parser *p, uint32_t *out)
{
	uint32_t r;
	fv_err err;

	if ((err = p_not(p, out)) != FV_OK)
		return err;
	while (p->tok == T_AND) {
		size_t pos = p->tpos;
		if ((err = next(p)) != FV_OK || (err = p_not(p, &r)) != FV_OK ||
		    (err = mk(p, OP_AND, pos, *out, r, BAD, out)) != FV_OK)
			return err;
	}
	return FV_OK;
}

static fv_err p_or(struct parser *p, uint32_t *out)
{
	uint32_t r;
	fv_err err;

	if (++p->nest > FV_EXPR_MAX_DEPTH) {
		err = perr(p, FV_ELIMIT, p->tpos, "expression nested more than %d deep",
			   FV_EXPR_MAX_DEPTH);
		goto out;
	}
	if ((err = p_and(p, out)) != FV_OK)
		goto out;
	while (p->tok == T_OR) {
		size_t pos = p->tpos;
		if ((err = next(p)) != FV_OK || (err = p_and(p, &r)) != FV_OK ||
		    (err = mk(p, OP_OR, pos, *out, r, BAD, out)) != FV_OK)
			goto out;
	}
out:
	p->nest--;
	return err;
}

void fv_expr_free(struct fv_expr *e)
{
	if (!e)
		return;
	fv_free(e->nodes);
	fv_free(e->args);
	fv_free(e->cases);
	fv_free(e->pool);
	fv_free(e);
}

fv_err fv_expr_parse(const char *src, size_t len, const struct fv_expr_names *names,
		     struct fv_expr **out, size_t *errpos, struct fv_diag *d)
{
	struct parser p = {.s = src, .len = len, .names = names, .errpos = errpos, .d = d};
	struct fv_expr *e = NULL;
	size_t cap;
	fv_err err;

	*out = NULL;
	*errpos = 0;
	if (len > FV_EXPR_MAX_LEN) {
		err = fv_diag_set(d, FV_ELIMIT, "expression longer than %d bytes", FV_EXPR_MAX_LEN);
		goto fail;
	}
	/* Every node but an implicit date() consumes at least one byte of the source, and so
	 * does every recode case; text is never longer than the source. */
	cap = (len < FV_EXPR_MAX_NODES ? len : FV_EXPR_MAX_NODES) + 4;
	if (!(e = fv_calloc(1, sizeof(*e))) || !(e->nodes = fv_calloc(cap, sizeof(*e->nodes))) ||
	    !(e->args = fv_calloc(cap, sizeof(*e->args))) ||
	    !(e->cases = fv_calloc(cap, sizeof(*e->cases))) || !(e->pool = fv_alloc(len + 2))) {
		err = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	e->cap = (uint32_t)cap;
	e->pool_cap = len + 2;
	p.e = e;
	if ((err = next(&p)) != FV_OK)
		goto fail;
	if (p.tok == T_END) {
		err = perr(&p, FV_EINVAL, 0, "empty expression");
		goto fail;
	}
	if ((err = p_or(&p, &e->root)) != FV_OK)
		goto fail;
	if (p.tok != T_END) {
		err = perr(&p, FV_EINVAL, p.tpos,
			   p.tok == T_RP ? "unbalanced ')'" : "expected an operator or the end");
		goto fail;
	}
	*out = e;
	return FV_OK;
fail:
	fv_expr_free(e);
	return err;
}

fv_err fv_expr_new_column(size_t col, struct fv_expr **out, struct fv_diag *d)
{
	struct fv_expr *e = fv_calloc(1, sizeof(*e));

	*out = NULL;
	if (!e || !(e->nodes = fv_calloc(1, sizeof(*e->nodes)))) {
		fv_free(e);
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	e->cap = e->nnodes = 1;
	e->nodes[0].op = OP_COL;
	e->nodes[0].depth = 1;
	e->nodes[0].a = e->nodes[0].b = e->nodes[0].c = BAD;
	e->nodes[0].slot = col;
	*out = e;
	return FV_OK;
}

bool fv_expr_is_column(const struct fv_expr *e, size_t *col)
{
	if (e->nodes[e->root].op != OP_COL)
		return false;
	*col = e->nodes[e->root].slot;
	return true;
}

void fv_expr_mark(const struct fv_expr *e, uint8_t *cols, uint8_t *vars)
{
	for (uint32_t i = 0; i < e->nnodes; i++) {
		const struct node *n = &e->nodes[i];
		if (cols && (n->op == OP_COL || n->op == OP_RECODE || n->op == OP_DATE))
			cols[n->slot] = 1;
		if (vars && n->op == OP_VAR)
			vars[n->slot] = 1;
	}
}

/* ---- dates ---- */
/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant, "chrono-
 * Compatible Low-Level Date Algorithms", days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* n digits at *s into *v; advances *s. */
static bool digits(const char **s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((unsigned char)(*s)[i]))
			return false;
		*v = *v * 10 + (unsigned)((*s)[i] - '0');
	}
	*s += n;
	return true;
}

bool fv_expr_parse_date(const char *s, double *days)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, m, d, hh, mm, ss, dim;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &m) || *s++ != '-' ||
	    !digits(&s, 2, &d))
		return false;
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	if (d > dim)
		return false;
	if ((*s == 'T' || *s == ' ') && is_digit((unsigned char)s[1])) {
		s++;
		if (!digits(&s, 2, &hh) || *s++ != ':' || !digits(&s, 2, &mm) || hh > 23 || mm > 59)
			return false;
		if (*s == ':') {
			s++;
			if (!digits(&s, 2, &ss) || ss > 60)
				return false;
			if (*s == '.') {
				s++;
				if (!is_digit((unsigned char)*s))
					return false;
				while (is_digit((unsigned char)*s))
					s++;
			}
		}
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return false;
	*days = (double)days_from_civil((long)y, m, d);
	return true;
}

/* ---- evaluation ---- */
static enum fv_expr_status fault(struct fv_expr_fault *f, enum fv_expr_status st, const char *why,
				 long col, const char *value, const struct node *n)
{
	f->why = why;
	f->reason[0] = '\0';
	f->col = col;
	f->var = -1;
	f->value = value;
	f->has_num = false;
	f->num = 0;
	f->pos = n->pos;
	return st;
}

static enum fv_expr_status fault_num(struct fv_expr_fault *f, const char *why, double v,
				     const struct node *n)
{
	fault(f, FV_EXPR_FAIL, why, -1, NULL, n);
	f->has_num = true;
	f->num = v;
	return FV_EXPR_FAIL;
}

/* The text of a column, or MISSING. A numeric column (an image's pixel) has no text: it is
 * never missing, and reading it as text (a date, isna()) fails. */
static enum fv_expr_status col_text(const struct node *n, const struct fv_expr_env *env,
				    const char **v, struct fv_expr_fault *f)
{
	if (fv_rows_is_num(env->rows, n->slot)) {
		*v = FV_ROWS_NUM_SHOWN;
		return fault(f, FV_EXPR_FAIL, "is a pixel, not text", (long)n->slot, *v, n);
	}
	*v = env->fields[n->slot];
	if (!*v || env->rows->ops->is_na(env->rows, *v))
		return fault(f, FV_EXPR_MISSING, "is missing", (long)n->slot, *v, n);
	return FV_EXPR_OK;
}

static enum fv_expr_status col_num(const struct node *n, const struct fv_expr_env *env, double *out,
				   struct fv_expr_fault *f)
{
	struct fv_diag why; /* written only on failure */
	const char *v;
	enum fv_expr_status st;

	if (fv_rows_is_num(env->rows, n->slot)) {
		*out = env->num[n->slot - (env->rows->ncols - env->rows->nnum)];
		return FV_EXPR_OK;
	}
	if ((st = col_text(n, env, &v, f)) != FV_EXPR_OK)
		return st;
	if (env->rows->ops->parse(env->rows, v, out, &why) != FV_OK) {
		fault(f, FV_EXPR_FAIL, "is", (long)n->slot, v, n);
		fv_strlcpy(f->reason, why.msg, sizeof(f->reason));
		return FV_EXPR_FAIL;
	}
	return FV_EXPR_OK;
}

static enum fv_expr_status recode(const struct fv_expr *e, const struct node *n,
				  const struct fv_expr_env *env, double *out,
				  struct fv_expr_fault *f)
{
	const char *v, *t;
	size_t len;
	enum fv_expr_status st;
	struct fv_diag why;
	bool numeric = false, text = true;
	double num = 0;

	if (fv_rows_is_num(env->rows, n->slot)) {
		/* A pixel matches numeric cases only. */
		v = FV_ROWS_NUM_SHOWN;
		num = env->num[n->slot - (env->rows->ncols - env->rows->nnum)];
		numeric = true;
		text = false;
	} else if ((st = col_text(n, env, &v, f)) != FV_EXPR_OK) {
		return st;
	}
	t = v;
	while (*t == ' ' || *t == '\t')
		t++;
	len = strlen(t);
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct rcase *c = &e->cases[n->first + i];
		if (c->text) {
			if (text && c->len == len && !memcmp(c->text, t, len)) {
				*out = c->val;
				return FV_EXPR_OK;
			}
			continue;
		}
		if (!numeric) {
			if (env->rows->ops->parse(env->rows, v, &num, &why) != FV_OK)
				continue; /* not a number: no numeric case can match */
			numeric = true;
		}
		if (num == c->key) {
			*out = c->val;
			return FV_EXPR_OK;
		}
	}
	if (n->has_else) {
		*out = n->k;
		return FV_EXPR_OK;
	}
	return fault(f, FV_EXPR_FAIL, "matches no case of recode()", (long)n->slot, v, n);
}

static enum fv_expr_status ev(const struct fv_expr *e, uint32_t i, const struct fv_expr_env *env,
			      double *out, struct fv_expr_fault *f)
{
	const struct node *n = &e->nodes[i];
	enum fv_expr_status st;
	double a = 0, b = 0, r = 0;

	switch ((enum op)n->op) {
	case OP_NUM:
		*out = n->k;
		return FV_EXPR_OK;
	case OP_COL:
		return col_num(n, env, out, f);
	case OP_VAR:
		if (!env->var)
			return fault(f, FV_EXPR_FAIL, "cannot be read here", -1, NULL, n);
		return env->var(env->ctx, n->slot, out, f);
	case OP_DATE: {
		const char *v;
		if ((st = col_text(n, env, &v, f)) != FV_EXPR_OK)
			return st;
		if (!fv_expr_parse_date(v, out))
			return fault(f, FV_EXPR_FAIL, "is not a date (YYYY-MM-DD)", (long)n->slot,
				     v, n);
		return FV_EXPR_OK;
	}
	case OP_RECODE:
		return recode(e, n, env, out, f);
	case OP_ISNA:
		if (e->nodes[n->a].op == OP_COL) {
			/* A column is asked whether it is missing, not read as a number: text
			 * columns may be tested too. */
			const char *v;
			*out = col_text(&e->nodes[n->a], env, &v, f) == FV_EXPR_MISSING;
			return FV_EXPR_OK;
		}
		st = ev(e, n->a, env, &a, f);
		if (st == FV_EXPR_FAIL)
			return st;
		*out = st == FV_EXPR_MISSING;
		return FV_EXPR_OK;
	case OP_AND:
	case OP_OR:
		if ((st = ev(e, n->a, env, &a, f)) != FV_EXPR_OK)
			return st;
		if ((n->op == OP_AND) == (a == 0)) {
			*out = a != 0; /* decided by the left side */
			return FV_EXPR_OK;
		}
		if ((st = ev(e, n->b, env, &b, f)) != FV_EXPR_OK)
			return st;
		*out = b != 0;
		return FV_EXPR_OK;
	case OP_NOT:
		if ((st = ev(e, n->a, env, &a, f)) != FV_EXPR_OK)
			return st;
		*out = a == 0;
		return FV_EXPR_OK;
	case OP_IF:
		if ((st = ev(e, n->a, env, &a, f)) != FV_EXPR_OK)
			return st;
		return ev(e, a != 0 ? n->b : n->c, env, out, f);
	case OP_MIN:
	case OP_MAX:
		for (uint32_t k = 0; k < n->n; k++) {
			if ((st = ev(e, e->args[n->first + k], env, &b, f)) != FV_EXPR_OK)
				return st;
			if (k == 0 || (n->op == OP_MIN ? b < r : b > r))
				r = b;
		}
		*out = r;
		return FV_EXPR_OK;
	default:
		break;
	}
	/* Arithmetic: one or two operands, a finite result. */
	if ((st = ev(e, n->a, env, &a, f)) != FV_EXPR_OK)
		return st;
	if (n->b != BAD && (st = ev(e, n->b, env, &b, f)) != FV_EXPR_OK)
		return st;
	switch ((enum op)n->op) {
	case OP_NEG:
		r = -a;
		break;
	case OP_ADD:
		r = a + b;
		break;
	case OP_SUB:
	case OP_DAYS:
		r = n->op == OP_SUB ? a - b : b - a;
		break;
	case OP_MUL:
		r = a * b;
		break;
	case OP_DIV:
		if (b == 0)
			return fault(f, FV_EXPR_FAIL, "division by zero", -1, NULL, n);
		r = a / b;
		break;
	case OP_LT:
		r = a < b;
		break;
	case OP_LE:
		r = a <= b;
		break;
	case OP_GT:
		r = a > b;
		break;
	case OP_GE:
		r = a >= b;
		break;
	case OP_EQ:
		r = a == b;
		break;
	case OP_NE:
		r = a != b;
		break;
	case OP_LOG:
		if (a <= 0)
			return fault_num(f, "log() needs a number > 0", a, n);
		r = log(a);
		break;
	case OP_EXP:
		r = exp(a);
		break;
	case OP_SQRT:
		if (a < 0)
			return fault_num(f, "sqrt() needs a number >= 0", a, n);
		r = sqrt(a);
		break;
	case OP_ABS:
		r = fabs(a);
		break;
	case OP_ROUND:
		r = n->k == 1 ? round(a) : round(a * n->k) / n->k;
		break;
	case OP_CONVERT:
		r = a * n->k + n->k2;
		break;
	default:
		return fault(f, FV_EXPR_FAIL, "unknown operation", -1, NULL, n);
	}
	if (!isfinite(r))
		return fault_num(f, "result is not finite", a, n);
	*out = r;
	return FV_EXPR_OK;
}

enum fv_expr_status fv_expr_eval(const struct fv_expr *e, const struct fv_expr_env *env,
				 double *out, struct fv_expr_fault *f)
{
	return ev(e, e->root, env, out, f);
}

/* ---- messages ---- */
void fv_expr_caret(char *buf, size_t cap, const char *src, size_t len, size_t pos)
{
	/* The window shown: at most this many bytes, starting some way before pos. */
	enum { WIDTH = 72, BEFORE = 40 };
	size_t start = 0, end, o = 0, col = 0;

	if (cap == 0)
		return;
	if (pos > len)
		pos = len;
	if (pos > BEFORE)
		start = pos - BEFORE;
	while (start > 0 && start < len && ((unsigned char)src[start] & 0xc0) == 0x80)
		start++;
	end = start + WIDTH < len ? start + WIDTH : len;
	while (end < len && end > start && ((unsigned char)src[end] & 0xc0) == 0x80)
		end--;
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (o + 1 < cap)                                                                   \
			buf[o++] = (c);                                                            \
	} while (0)
	PUT(' ');
	PUT(' ');
	if (start > 0) {
		PUT('.');
		PUT('.');
		PUT('.');
		col += 3;
	}
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)src[i];
		PUT((c < 0x20 || c == 0x7f) ? '?' : (char)c);
		/* Columns count characters, not bytes, so the caret lines up under UTF-8. */
		if (i < pos && (c & 0xc0) != 0x80)
			col++;
	}
	if (end < len) {
		PUT('.');
		PUT('.');
		PUT('.');
	}
	PUT('\n');
	PUT(' ');
	PUT(' ');
	for (size_t i = 0; i < col; i++)
		PUT(' ');
	PUT('^');
#undef PUT
	buf[o] = '\0';
}
