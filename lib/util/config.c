#include "fedval/config.h"
#include "fedval/limits.h"
#include "fedval/util.h"

#include <ini.h>
#include <stdio.h>
#include <string.h>

struct fv_config {
	char *path;
	struct fv_config_entry *e;
	size_t n, cap;
	fv_err err;
};

/* Debian's inih is built without INI_HANDLER_LINENO: line numbers are recovered afterwards by
 * assign_lines(). */
static int on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct fv_config *c = user;
	struct fv_config_entry *ent;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		void *p = fv_realloc(c->e, ncap * sizeof(*c->e));
		if (!p) {
			c->err = FV_ENOMEM;
			return 0;
		}
		c->e = p;
		c->cap = ncap;
	}
	ent = &c->e[c->n];
	ent->section = fv_strdup(section);
	ent->key = fv_strdup(key);
	ent->value = fv_strdup(value);
	ent->line = 0;
	c->n++;
	if (!ent->section || !ent->key || !ent->value) {
		c->err = FV_ENOMEM;
		return 0;
	}
	return 1;
}

/* inih strips with isspace() in the C locale: \v and \f too, and \r anywhere a blank is. */
static bool ini_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && ini_space(*p))
		p++;
	return p;
}

/* inih reports entries in file order: one per "key = value" line and, since it is built with
 * INI_ALLOW_MULTILINE, one more per indented continuation line after a key (same key, the
 * line's text as value). Walk the text with inih's rules and give each entry its line. */
static void assign_lines(struct fv_config *c, const char *text)
{
	const char *p = text;
	size_t next = 0;
	int line = 0;
	bool have_prev = false; /* inih's prev_name: a key line seen since the last section */

	if (!strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (*p && next < c->n) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *k = skip_ws(p, end), *ke = k, *te = end;
		line++;
		while (te > k && ini_space(te[-1]))
			te--;
		if (k == te || *k == ';' || *k == '#') {
			/* blank line or comment */
		} else if (have_prev && k > p) {
			/* inih passes a continuation's key from its prev_name buffer, which
			 * cuts a long key short (INI_MAX_NAME): a prefix of the key before. */
			if (next > 0 &&
			    !strncmp(c->e[next].key, c->e[next - 1].key, strlen(c->e[next].key)))
				c->e[next++].line = line;
		} else if (*k == '[') {
			have_prev = false;
		} else {
			while (ke < end && *ke != '=' && *ke != ':')
				ke++;
			if (ke < end) { /* an empty key ("= v") is an entry too */
				const char *kt = ke;
				while (kt > k && ini_space(kt[-1]))
					kt--;
				if (strlen(c->e[next].key) == (size_t)(kt - k) &&
				    !strncmp(c->e[next].key, k, (size_t)(kt - k))) {
					c->e[next++].line = line;
					/* inih continues only a non-empty key */
					have_prev = kt > k;
				}
			}
		}
		p = eol ? eol + 1 : end;
	}
}

/* inih reads a line into a fixed INI_MAX_LINE buffer and parses the rest of a longer line as
 * a line of its own (a value would be cut short and its tail could become a setting): refuse
 * such lines instead, naming the first one. Returns its line number, or 0. */
static int long_line(const char *text, size_t len)
{
	const size_t max = INI_MAX_LINE - 3; /* room for '\r', '\n' and the NUL */
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if ((size_t)(le - p) > max)
			return line;
		p = eol ? eol + 1 : end;
	}
	return 0;
}

fv_err fv_config_load(const char *path, struct fv_config **out, struct fv_diag *d)
{
	struct fv_config *c = fv_calloc(1, sizeof(*c));
	uint8_t *buf = NULL;
	size_t len;
	fv_err e;
	int rc;

	if (!c)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	if (!(c->path = fv_strdup(path))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	if ((e = fv_file_read(path, FV_MAX_CONFIG_BYTES, &buf, &len, d)) != FV_OK)
		goto fail;
	if (memchr(buf, '\0', len)) {
		e = fv_diag_set(d, FV_EINVAL, "%s: contains a NUL byte", path);
		goto fail;
	}
	if ((rc = long_line((const char *)buf, len)) != 0) {
		e = fv_diag_set(d, FV_ELIMIT, "%s:%d: line longer than %d characters", path, rc,
				INI_MAX_LINE - 3);
		goto fail;
	}
	rc = ini_parse_string((const char *)buf, on_entry, c);
	if (c->err) {
		e = fv_diag_set(d, c->err, "%s: %s", path, fv_strerror(c->err));
		goto fail;
	}
	if (rc != 0) {
		e = fv_diag_set(d, FV_EINVAL,
				"%s:%d: syntax error (expected [section] or key = value)", path,
				rc);
		goto fail;
	}
	assign_lines(c, (const char *)buf);
	fv_free(buf);
	*out = c;
	return FV_OK;
fail:
	fv_free(buf);
	fv_config_free(c);
	return e;
}

void fv_config_free(struct fv_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		fv_free(c->e[i].section);
		fv_free(c->e[i].key);
		fv_free(c->e[i].value);
	}
	fv_free(c->e);
	fv_free(c->path);
	fv_free(c);
}

const char *fv_config_path(const struct fv_config *c)
{
	return c->path;
}

static const struct fv_config_entry *find(const struct fv_config *c, const char *section,
					  const char *key)
{
	/* The last occurrence wins, as in most INI readers; --check-config shows the result. */
	for (size_t i = c->n; i-- > 0;)
		if (!strcmp(c->e[i].section, section) && !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

const char *fv_config_get(const struct fv_config *c, const char *section, const char *key)
{
	const struct fv_config_entry *e = find(c, section, key);
	return e ? e->value : NULL;
}

fv_err fv_config_require(const struct fv_config *c, const char *section, const char *key,
			 const char **out, struct fv_diag *d)
{
	const char *v = fv_config_get(c, section, key);
	if (!v || !*v)
		return fv_diag_set(d, FV_EINVAL, "%s: missing setting '%s' in section [%s]",
				   c->path, key, section);
	*out = v;
	return FV_OK;
}

fv_err fv_config_long(const struct fv_config *c, const char *section, const char *key, long def,
		      long min, long max, long *out, struct fv_diag *d)
{
	const struct fv_config_entry *e = find(c, section, key);
	if (!e) {
		*out = def;
		return FV_OK;
	}
	if (fv_parse_long(e->value, min, max, out) != FV_OK)
		return fv_diag_set(d, FV_EINVAL,
				   "%s:%d: [%s] %s = '%s' is not a whole number in %ld..%ld",
				   c->path, e->line, section, key, e->value, min, max);
	return FV_OK;
}

fv_err fv_config_check_known(const struct fv_config *c, const char *const *known, struct fv_diag *d)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct fv_config_entry *e = &c->e[i];
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++) {
			const char *dot = strchr(*k, '.');
			size_t sl = dot ? (size_t)(dot - *k) : 0;
			if (!dot || strlen(e->section) != sl || strncmp(*k, e->section, sl))
				continue;
			ok = !strcmp(dot + 1, "*") || !strcmp(dot + 1, e->key);
		}
		if (!ok)
			return fv_diag_set(d, FV_EINVAL,
					   "%s:%d: unknown setting '%s' in section [%s]", c->path,
					   e->line, e->key, e->section);
	}
	return FV_OK;
}

size_t fv_config_count(const struct fv_config *c)
{
	return c->n;
}

const struct fv_config_entry *fv_config_entry(const struct fv_config *c, size_t i)
{
	return i < c->n ? &c->e[i] : NULL;
}

char *fv_config_resolve(const struct fv_config *c, const char *value)
{
	const char *slash = strrchr(c->path, '/');
	size_t dl, vl;
	char *r;

	if (value[0] == '/' || !slash)
		return fv_strdup(value);
	dl = (size_t)(slash - c->path);
	vl = strlen(value);
	r = fv_alloc(dl + 1 + vl + 1);
	if (!r)
		return NULL;
	memcpy(r, c->path, dl);
	r[dl] = '/';
	memcpy(r + dl + 1, value, vl + 1);
	return r;
}
