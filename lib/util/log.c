#include "fedval/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum fv_log_level min_level = FV_LOG_INFO;
static char component[64] = "fedval";

void fv_log_set_level(enum fv_log_level lvl)
{
	min_level = lvl;
}

void fv_log_set_component(const char *name)
{
	fv_strlcpy(component, name, sizeof(component));
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void fv_log(enum fv_log_level lvl, const char *event, const char *fmt, ...)
{
	char line[2048];
	char ts[32];
	size_t off;
	int n;
	va_list ap;

	if (lvl < min_level)
		return;
	if ((unsigned)lvl > FV_LOG_ERROR)
		lvl = FV_LOG_ERROR;
	fv_time_iso(fv_now_us(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "level=%s ts=%s comp=%s event=%s ", level_names[lvl], ts,
		     component, event);
	off = n > 0 && (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	va_start(ap, fmt);
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	off += (size_t)n < sizeof(line) - off - 1 ? (size_t)n : sizeof(line) - off - 2;
	/* One event, one line: a value the caller did not quote (a peer's name, an error text)
	 * must not be able to start a forged line or hide the rest of this one. */
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	while (off > 0 && line[off - 1] == ' ')
		off--;
	line[off++] = '\n';
	/* One write per line keeps lines whole when several threads log. */
	if (write(STDERR_FILENO, line, off) < 0)
		return;
}

const char *fv_log_quote(char *buf, size_t cap, const char *s)
{
	bool quote = false;
	size_t o = 0;

	if (!s)
		s = "";
	if (cap < 3) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\t')
			quote = true;
	if (!*s)
		quote = true;
	if (quote)
		buf[o++] = '"';
	for (const char *p = s; *p && o + 2 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (c == '"' ? '\'' : (char)c);
	}
	if (quote)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
