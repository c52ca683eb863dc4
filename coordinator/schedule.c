/* Monitoring schedules: the scheduler thread, drift analysis of a schedule's runs and the
 * authority's schedule requests. See schedule.h and docs/monitoring.md. */
#include "schedule.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fedval/limits.h"
#include "fedval/report.h"
#include "fedval/stats.h"
#include "fedval/util.h"

#define FINAL_STATES "('done', 'failed', 'vetoed')"
/* A run all of whose jobs are final (alias sr for schedule_runs). */
#define RUN_COMPLETE                                                                               \
	"NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = sr.run_id AND j.state NOT "             \
	"IN " FINAL_STATES ")"

/* ---- cadence ---- */

fv_err schedule_cadence_parse(const char *s, struct schedule_cadence *c)
{
	const char *p;
	const char *units = "YMWD";
	int order = 0;
	bool any = false, in_time = false;
	int64_t months = 0, secs = 0;

	if (!s)
		return FV_EINVAL;
	if (!strcmp(s, "monthly") || !strcmp(s, "yearly") || !strcmp(s, "biennial")) {
		c->months = s[0] == 'm' ? 1 : s[0] == 'y' ? 12 : 24;
		c->seconds = 0;
		return FV_OK;
	}
	if (s[0] != 'P')
		return FV_EINVAL;
	for (p = s + 1; *p;) {
		int64_t v = 0;
		const char *u;
		if (*p == 'T') {
			if (in_time || !p[1])
				return FV_EINVAL;
			in_time = true;
			units = "HMS";
			order = 0;
			p++;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return FV_EINVAL;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > FV_SCHED_MAX_UNITS)
				return FV_ELIMIT;
		}
		if (!*p || !(u = strchr(units, *p)) || (int)(u - units) < order)
			return FV_EINVAL;
		order = (int)(u - units) + 1;
		switch (in_time ? 'a' + *p : *p) {
		case 'Y':
			months += 12 * v;
			break;
		case 'M':
			months += v;
			break;
		case 'W':
			secs += 7 * 86400 * v;
			break;
		case 'D':
			secs += 86400 * v;
			break;
		case 'a' + 'H':
			secs += 3600 * v;
			break;
		case 'a' + 'M':
			secs += 60 * v;
			break;
		default:
			secs += v;
			break;
		}
		p++;
		any = true;
	}
	if (!any)
		return FV_EINVAL;
	if (months == 0 && secs < FV_SCHED_MIN_SECONDS)
		return FV_ELIMIT;
	c->months = (int)months;
	c->seconds = secs;
	return FV_OK;
}

const char *schedule_mdr_cadence(const char *mdr_class)
{
	if (!mdr_class)
		return NULL;
	if (!strcasecmp(mdr_class, "IIa"))
		return "biennial";
	if (!strcasecmp(mdr_class, "IIb") || !strcasecmp(mdr_class, "III"))
		return "yearly";
	return NULL;
}

static int days_in_month(int year, int mon)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return mon == 1 && leap ? 29 : dm[mon];
}

/* due_us + sign * cadence (sign is +1 or -1). */
static int64_t step_by(int64_t due_us, const struct schedule_cadence *c, int sign)
{
	int64_t sec = due_us / 1000000, frac = due_us % 1000000;
	if (c->months) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		int64_t m = (int64_t)tm.tm_year * 12 + tm.tm_mon + sign * (int64_t)c->months;
		tm.tm_year = (int)(m >= 0 ? m / 12 : -((-m + 11) / 12));
		tm.tm_mon = (int)(m - (int64_t)tm.tm_year * 12);
		if (tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon))
			tm.tm_mday = days_in_month(tm.tm_year + 1900, tm.tm_mon);
		sec = (int64_t)timegm(&tm);
	}
	sec += sign * c->seconds;
	return sec * 1000000 + frac;
}

int64_t schedule_step(int64_t due_us, const struct schedule_cadence *c)
{
	return step_by(due_us, c, 1);
}

/* ISO 8601: the date alone when the cadence is whole days or calendar months, else the UTC
 * date and time. */
static void window_str(int64_t us, const struct schedule_cadence *c, char *out, size_t cap)
{
	fv_time_iso(us, out, cap);
	if (c->seconds % 86400 == 0 && strlen(out) > 10)
		out[10] = '\0';
}

/* ---- small store helpers ---- */

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? fv_strdup((const char *)s) : NULL;
}

/* ---- drift analysis of one schedule ---- */

enum { MET_AUC = 0, MET_OE, MET_N };
static const char *const met_name[MET_N] = {"auroc", "oe"};

struct obs {
	double y, v;
	int ok;
};

/* One released subgroup category of a site's result (suppressed ones only mark that the
 * site reported the subgroup). */
struct mix_obs {
	char *subgroup, *category;
	uint64_t n;
	bool suppressed;
};

/* Categories kept per site result: the node sends at most FV_MAX_SUBGROUP_RESULTS. */
struct site_obs {
	char node[FV_MAX_NAME + 1];
	struct obs o[MET_N];
	uint64_t n; /* 0 unless the result is usable */
	struct mix_obs *mix;
	size_t nmix;
};

struct period {
	char run_id[FV_MAX_ID];
	struct site_obs *s;
	size_t n;
	struct obs pool[MET_N];
};

/* One site's metrics from its stored SiteResult on the test scale (as cli/monitor.c reads
 * them from a report: logit AUROC with DeLong variance, log O/E with variance 1/O). */
static void result_obs(const uint8_t *buf, size_t len, struct site_obs *so)
{
	struct fv_pb *pb = NULL;
	struct fv_diag d = {{0}};

	for (int m = 0; m < MET_N; m++)
		so->o[m] = (struct obs){NAN, NAN, 0};
	if (fv_pb_unpack(&fedval__site_result__descriptor, buf, len, FV_MAX_UNPACK_ALLOC, &pb,
			 &d) != FV_OK)
		return;
	const Fedval__SiteResult *r = (const Fedval__SiteResult *)pb->msg;
	if (r->status == 0 && r->n > 0 && r->n_subgroups <= FV_MAX_SUBGROUP_RESULTS &&
	    (so->mix = fv_calloc(r->n_subgroups + 1, sizeof(*so->mix)))) {
		so->n = r->n;
		for (size_t g = 0; g < r->n_subgroups; g++) {
			const Fedval__SubgroupResult *sg = r->subgroups[g];
			struct mix_obs *m = &so->mix[so->nmix];
			m->subgroup = fv_strdup(sg->subgroup);
			m->category = fv_strdup(sg->category);
			if (!m->subgroup || !m->category) {
				fv_free(m->subgroup);
				fv_free(m->category);
				continue;
			}
			m->suppressed = sg->has_suppressed && sg->suppressed;
			m->n = sg->n;
			so->nmix++;
		}
	}
	if (r->status == 0) {
		if (r->has_auc && r->has_auc_var)
			so->o[MET_AUC].ok =
			    fv_stats_monitor_auc(r->auc, r->auc_var, &so->o[MET_AUC].y,
						 &so->o[MET_AUC].v) == FV_OK;
		if (r->has_n_pos && r->has_sum_p)
			so->o[MET_OE].ok =
			    fv_stats_monitor_oe((double)r->n_pos, r->sum_p, &so->o[MET_OE].y,
						&so->o[MET_OE].v) == FV_OK;
	}
	fv_pb_free(pb);
}

/* Random-effects pool of a period's usable sites, as cli/monitor.c: REML (fixed effect for one
 * site), DerSimonian-Laird if REML fails; its standard error squared is the variance. */
static struct obs pool_obs(const struct period *p, int m)
{
	struct obs o = {NAN, NAN, 0};
	double *y = fv_calloc(p->n + 1, sizeof(double)), *v = fv_calloc(p->n + 1, sizeof(double));
	struct fv_meta mt;
	size_t k = 0;

	if (!y || !v)
		goto out;
	for (size_t i = 0; i < p->n; i++)
		if (p->s[i].o[m].ok) {
			y[k] = p->s[i].o[m].y;
			v[k++] = p->s[i].o[m].v;
		}
	if (k == 0)
		goto out;
	if (fv_stats_meta(y, v, k, k >= 2 ? FV_META_REML : FV_META_FE, 0, 0.95, &mt, NULL) !=
		FV_OK &&
	    fv_stats_meta(y, v, k, FV_META_DL, 0, 0.95, &mt, NULL) != FV_OK)
		goto out;
	o.y = mt.mu;
	o.v = mt.se * mt.se;
	o.ok = isfinite(o.y) && o.v > 0;
out:
	fv_free(y);
	fv_free(v);
	return o;
}

static const struct obs *find_obs(const struct period *p, const char *site, int m)
{
	if (!site)
		return &p->pool[m];
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].node, site))
			return &p->s[i].o[m];
	return NULL;
}

/* Load the schedule's complete runs (store locked by the caller), oldest first. */
static fv_err periods_load(struct coord *co, const char *id, struct period **out, size_t *np)
{
	struct store *s = co->store;
	sqlite3_stmt *st = NULL, *rs = NULL;
	struct period *P = NULL;
	size_t n = 0;
	fv_err e;

	e = store_query(s, &st,
			"SELECT sr.run_id FROM schedule_runs sr WHERE sr.schedule_id = ? "
			"AND " RUN_COMPLETE " ORDER BY sr.seq LIMIT ?",
			"ti", id, (int64_t)FV_SCHED_MAX_PERIODS);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct period *np2 = fv_realloc(P, (n + 1) * sizeof(*P));
		if (!np2) {
			e = FV_ENOMEM;
			break;
		}
		P = np2;
		memset(&P[n], 0, sizeof(P[n]));
		fv_strlcpy(P[n].run_id, (const char *)sqlite3_column_text(st, 0),
			   sizeof(P[n].run_id));
		n++;
	}
	sqlite3_finalize(st);
	for (size_t t = 0; e == FV_OK && t < n; t++) {
		e = store_query(s, &rs,
				"SELECT j.node, r.result FROM results r JOIN jobs j ON j.job_id = "
				"r.job_id WHERE j.run_id = ? ORDER BY j.node",
				"t", P[t].run_id);
		while (e == FV_OK && sqlite3_step(rs) == SQLITE_ROW) {
			struct site_obs *ns = fv_realloc(P[t].s, (P[t].n + 1) * sizeof(*ns));
			if (!ns) {
				e = FV_ENOMEM;
				break;
			}
			P[t].s = ns;
			memset(&ns[P[t].n], 0, sizeof(*ns));
			fv_strlcpy(ns[P[t].n].node, (const char *)sqlite3_column_text(rs, 0),
				   sizeof(ns[P[t].n].node));
			result_obs(sqlite3_column_blob(rs, 1), (size_t)sqlite3_column_bytes(rs, 1),
				   &ns[P[t].n]);
			P[t].n++;
		}
		sqlite3_finalize(rs);
		rs = NULL;
		for (int m = 0; m < MET_N; m++)
			P[t].pool[m] = pool_obs(&P[t], m);
	}
	*out = P;
	*np = n;
	return e;
}

static void periods_free(struct period *P, size_t n)
{
	for (size_t t = 0; P && t < n; t++) {
		for (size_t i = 0; i < P[t].n; i++) {
			for (size_t g = 0; g < P[t].s[i].nmix; g++) {
				fv_free(P[t].s[i].mix[g].subgroup);
				fv_free(P[t].s[i].mix[g].category);
			}
			fv_free(P[t].s[i].mix);
		}
		fv_free(P[t].s);
	}
	fv_free(P);
}

static const struct site_obs *find_site(const struct period *p, const char *site)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].node, site))
			return &p->s[i];
	return NULL;
}

/* The released categories of subgroup sub at site so: their count, -1 when the site has no
 * usable result or did not report the subgroup. */
static int mix_cells(const struct site_obs *so, const char *sub, struct fv_mix_cell *out)
{
	int k = 0;
	bool seen = false;
	for (size_t g = 0; so && so->n && g < so->nmix; g++) {
		if (strcmp(so->mix[g].subgroup, sub) != 0)
			continue;
		seen = true;
		if (!so->mix[g].suppressed && strcmp(so->mix[g].category, "(merged)") != 0 &&
		    k < FV_MAX_MIX_CATEGORIES)
			out[k++] = (struct fv_mix_cell){so->mix[g].category, so->mix[g].n};
	}
	return seen ? k : -1;
}

/* Input drift (docs/monitoring.md): per (site of the baseline, subgroup) the case mix of each
 * period against period 0, PSI and chi-square, Holm across a period's tests; alerts at the
 * first period with PSI >= FV_MIX_PSI and adjusted p < FV_MIX_ALPHA. Appends the series to
 * *series and the alerts to al. */
static fv_err input_drift(const struct period *P, size_t np, json_t *series, json_t *al)
{
	const struct site_obs *b0 = np ? P[0].s : NULL;
	struct {
		const char *site, *sub;
	} *key = NULL;
	struct fv_mix_cell *b = fv_calloc(FV_MAX_MIX_CATEGORIES, sizeof(*b));
	struct fv_mix_cell *c = fv_calloc(FV_MAX_MIX_CATEGORIES, sizeof(*c));
	struct fv_psi *r = NULL;
	int *ok = NULL;
	double *ph = NULL;
	size_t *alarm = NULL, ns = 0;
	fv_err e = FV_ENOMEM;

	if (np < 2) {
		e = FV_OK;
		goto out;
	}
	if (!b || !c)
		goto out;
	for (size_t i = 0; i < P[0].n; i++)
		for (size_t g = 0; g < b0[i].nmix; g++) {
			size_t q = 0;
			while (q < ns && (strcmp(key[q].site, b0[i].node) ||
					  strcmp(key[q].sub, b0[i].mix[g].subgroup)))
				q++;
			if (q < ns)
				continue;
			void *nk = fv_realloc(key, (ns + 1) * sizeof(*key));
			if (!nk)
				goto out;
			key = nk;
			key[ns].site = b0[i].node;
			key[ns++].sub = b0[i].mix[g].subgroup;
		}
	r = fv_calloc(ns * np + 1, sizeof(*r));
	ok = fv_calloc(ns * np + 1, sizeof(*ok));
	ph = fv_calloc(ns * np + 1, sizeof(*ph));
	alarm = fv_calloc(ns + 1, sizeof(*alarm));
	if (!r || !ok || !ph || !alarm)
		goto out;
	for (size_t q = 0; q < ns; q++) {
		const struct site_obs *bs = find_site(&P[0], key[q].site);
		int nb = mix_cells(bs, key[q].sub, b);
		for (size_t t = 1; t < np && nb >= 0; t++) {
			const struct site_obs *cs = find_site(&P[t], key[q].site);
			int nc = mix_cells(cs, key[q].sub, c);
			size_t kept;
			ok[q * np + t] = nc >= 0 && fv_stats_mix_shift(
							b, (size_t)nb, bs->n, c, (size_t)nc, cs->n,
							5, &r[q * np + t], &kept, NULL) == FV_OK;
		}
	}
	if ((e = fv_stats_mix_alarms(r, ok, ns, np, FV_MIX_PSI, FV_MIX_ALPHA, ph, alarm)) != FV_OK)
		goto out;
	for (size_t q = 0; q < ns; q++) {
		json_t *pts = json_array(), *aj = json_null();
		char metric[FV_MAX_NAME + 8];
		fv_fmt(metric, sizeof(metric), "input:%s", key[q].sub);
		json_array_append_new(pts, json_pack("{s:i,s:b}", "period", 0, "baseline", 1));
		for (size_t t = 1; t < np; t++) {
			size_t x = q * np + t;
			json_t *pt =
			    json_pack("{s:I,s:b}", "period", (json_int_t)t, "missing", !ok[x]);
			if (ok[x])
				json_object_update_new(
				    pt, json_pack("{s:o,s:o,s:o}", "psi", fv_json_finite(r[x].psi),
						  "p", fv_json_finite(r[x].p), "p_holm",
						  fv_json_finite(ph[x])));
			json_array_append_new(pts, pt);
		}
		if (alarm[q] < np) {
			size_t x = q * np + alarm[q];
			aj = json_pack("{s:I,s:s}", "period", (json_int_t)alarm[q], "direction",
				       "shift");
			json_array_append_new(
			    al,
			    json_pack("{s:s,s:s,s:I,s:s,s:o,s:o,s:s}", "site", key[q].site,
				      "metric", metric, "period", (json_int_t)alarm[q], "direction",
				      "shift", "psi", fv_json_finite(r[x].psi), "p_holm",
				      fv_json_finite(ph[x]), "run_id", P[alarm[q]].run_id));
		}
		json_array_append_new(series,
				      json_pack("{s:s,s:b,s:s,s:b,s:o,s:o}", "site", key[q].site,
						"pooled", 0, "metric", metric, "monitored", 1,
						"alarm", aj, "points", pts));
	}
	e = FV_OK;
out:
	fv_free(key);
	fv_free(b);
	fv_free(c);
	fv_free(r);
	fv_free(ok);
	fv_free(ph);
	fv_free(alarm);
	return e;
}

/* The CUSUM of every series (each site of the baseline and the pool, AUROC and O/E) over the
 * periods. Fills *drift (fedval.schedule-drift/1) and *alerts ([{site, metric, period,
 * direction, cusum, run_id}]). */
static fv_err drift_compute(const struct period *P, size_t np, double k, double h, json_t **drift,
			    json_t **alerts)
{
	json_t *series = json_array(), *al = json_array(), *periods = json_array();
	double *y = fv_calloc(np + 1, sizeof(double)), *v = fv_calloc(np + 1, sizeof(double));
	struct fv_cusum_point *cp = fv_calloc(np + 1, sizeof(*cp));
	fv_err e = FV_OK;

	if (!series || !al || !periods || !y || !v || !cp) {
		e = FV_ENOMEM;
		goto out;
	}
	for (size_t t = 0; t < np; t++)
		json_array_append_new(periods, json_pack("{s:I,s:s}", "period", (json_int_t)t,
							 "run_id", P[t].run_id));
	for (size_t q = 0; np > 0 && q <= P[0].n; q++) {
		const char *site = q < P[0].n ? P[0].s[q].node : NULL; /* the pool last */
		for (int m = 0; m < MET_N; m++) {
			const struct obs *b = find_obs(&P[0], site, m);
			struct fv_cusum cu = {.alarm = np, .direction = 0};
			struct fv_diag d = {{0}};
			json_t *pts = json_array(), *alarm = json_null();
			bool monitored = b && b->ok && np >= 2;

			for (size_t t = 1; monitored && t < np; t++) {
				const struct obs *o = find_obs(&P[t], site, m);
				y[t - 1] = o && o->ok ? o->y : NAN;
				v[t - 1] = o && o->ok ? o->v : NAN;
			}
			if (monitored &&
			    fv_stats_cusum(y, v, np - 1, b->y, b->v, k, h, cp, &cu, &d) != FV_OK)
				monitored = false;
			for (size_t t = 0; t < np; t++) {
				const struct obs *o = find_obs(&P[t], site, m);
				json_t *pt = json_pack("{s:I,s:b}", "period", (json_int_t)t,
						       "missing", !(o && o->ok));
				if (o && o->ok)
					json_object_set_new(
					    pt, "estimate",
					    fv_json_finite(m == MET_AUC ? fv_stats_expit(o->y)
									: exp(o->y)));
				if (t > 0 && monitored) {
					json_object_set_new(pt, "z", fv_json_finite(cp[t - 1].z));
					json_object_set_new(pt, "cusum_plus",
							    fv_json_finite(cp[t - 1].cplus));
					json_object_set_new(pt, "cusum_minus",
							    fv_json_finite(cp[t - 1].cminus));
				}
				json_array_append_new(pts, pt);
			}
			if (monitored && cu.direction != 0) {
				/* cusum counts monitored periods from 0; periods count from the
				 * baseline */
				size_t period = cu.alarm + 1;
				const char *dir = cu.direction > 0 ? "up" : "down";
				double sum =
				    cu.direction > 0 ? cp[cu.alarm].cplus : cp[cu.alarm].cminus;
				json_decref(alarm);
				alarm = json_pack("{s:I,s:s}", "period", (json_int_t)period,
						  "direction", dir);
				json_array_append_new(
				    al, json_pack("{s:s,s:s,s:I,s:s,s:o,s:s}", "site",
						  site ? site : "pooled", "metric", met_name[m],
						  "period", (json_int_t)period, "direction", dir,
						  "cusum", fv_json_finite(sum), "run_id",
						  P[period].run_id));
			}
			json_array_append_new(series, json_pack("{s:s,s:b,s:s,s:b,s:o,s:o}", "site",
								site ? site : "pooled", "pooled",
								site == NULL, "metric", met_name[m],
								"monitored", monitored, "alarm",
								alarm, "points", pts));
		}
	}
	if ((e = input_drift(P, np, series, al)) != FV_OK)
		goto out;
	*drift = json_pack("{s:s,s:f,s:f,s:o,s:o}", "schema", "fedval.schedule-drift/1", "k", k,
			   "h", h, "periods", periods, "series", series);
	*alerts = al;
	periods = series = al = NULL;
	if (!*drift || !*alerts)
		e = FV_ENOMEM;
out:
	json_decref(series);
	json_decref(al);
	json_decref(periods);
	fv_free(y);
	fv_free(v);
	fv_free(cp);
	return e;
}

static bool alert_known(const json_t *prev, const json_t *a)
{
	size_t i;
	json_t *p;
	json_array_foreach(prev, i, p)
	{
		if (json_equal(json_object_get(p, "site"), json_object_get(a, "site")) &&
		    json_equal(json_object_get(p, "metric"), json_object_get(a, "metric")))
			return true;
	}
	return false;
}

/* Recompute the drift state of schedule id over its complete runs and store it; log and audit
 * every series that crossed h for the first time. */
static void analyse(struct coord *co, const char *id)
{
	struct store *s = co->store;
	struct period *P = NULL;
	size_t np = 0;
	sqlite3_stmt *st = NULL;
	double k = FV_CUSUM_K, h = FV_CUSUM_H;
	json_t *prev = NULL, *drift = NULL, *alerts = NULL;
	char *dtxt = NULL, *atxt = NULL;
	fv_err e;

	store_lock(s);
	e = store_query(s, &st, "SELECT cusum_k, cusum_h, alerts_json FROM schedules WHERE id = ?",
			"t", id);
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *pj = sqlite3_column_text(st, 2);
		k = sqlite3_column_double(st, 0);
		h = sqlite3_column_double(st, 1);
		prev = pj ? json_loads((const char *)pj, 0, NULL) : NULL;
	}
	sqlite3_finalize(st);
	if (e == FV_OK)
		e = periods_load(co, id, &P, &np);
	if (e == FV_OK)
		e = drift_compute(P, np, k, h, &drift, &alerts);
	if (e == FV_OK) {
		dtxt = json_dumps(drift, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		atxt = json_dumps(alerts, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		e = dtxt && atxt ? FV_OK : FV_ENOMEM;
	}
	if (e == FV_OK)
		e = store_exec(s, NULL,
			       "UPDATE schedules SET alert = ?, alerts_json = ?, drift_json = ?, "
			       "periods = ? WHERE id = ?",
			       "ittit", (int64_t)(json_array_size(alerts) > 0), atxt, dtxt,
			       (int64_t)np, id);
	/* Runs that completed after periods_load stay unanalysed: the store is locked. */
	if (e == FV_OK)
		e = store_exec(s, NULL,
			       "UPDATE schedule_runs AS sr SET analysed = 1 WHERE sr.schedule_id = "
			       "? AND " RUN_COMPLETE,
			       "t", id);
	store_unlock(s);
	if (e != FV_OK) {
		fv_log(FV_LOG_ERROR, "schedule_analysis_failed", "schedule=%s code=%s", id,
		       fv_strerror(e));
		goto out;
	}
	fv_log(FV_LOG_INFO, "schedule_analysed", "schedule=%s periods=%zu alerts=%zu", id, np,
	       json_array_size(alerts));
	size_t i;
	json_t *a;
	json_array_foreach(alerts, i, a)
	{
		if (alert_known(prev, a))
			continue;
		char *one = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
		/* a CUSUM alert says its sum and h; an input-drift alert its PSI and p */
		char what[96];
		if (json_object_get(a, "psi"))
			fv_fmt(what, sizeof(what), "psi=%.3f p_holm=%.3g",
			       json_number_value(json_object_get(a, "psi")),
			       json_number_value(json_object_get(a, "p_holm")));
		else
			fv_fmt(what, sizeof(what), "cusum=%.3f h=%g",
			       json_number_value(json_object_get(a, "cusum")), h);
		fv_log(FV_LOG_WARN, "monitor_alert",
		       "schedule=%s site=%s metric=%s period=%lld direction=%s %s run=%s", id,
		       json_string_value(json_object_get(a, "site")),
		       json_string_value(json_object_get(a, "metric")),
		       (long long)json_integer_value(json_object_get(a, "period")),
		       json_string_value(json_object_get(a, "direction")), what,
		       json_string_value(json_object_get(a, "run_id")));
		if (one)
			coord_audit(co, "monitor_alert", co->name, one, strlen(one));
		free(one);
	}
out:
	periods_free(P, np);
	json_decref(prev);
	json_decref(drift);
	json_decref(alerts);
	free(dtxt);
	free(atxt);
}

/* ---- the scheduler thread ---- */

struct sched_start {
	struct coord *co;
	const char *id;
	int64_t seq, due_us, next_us;
	char ws[32], we[32];
};

/* Inside the run's transaction: link the run to its schedule and advance the schedule, so that
 * a crash leaves either both or neither. */
static fv_err record_run(void *arg, const char *run_id)
{
	struct sched_start *ss = arg;
	fv_err e = store_exec(ss->co->store, NULL,
			      "INSERT INTO schedule_runs(run_id, schedule_id, seq, due_us, "
			      "window_start, window_end) VALUES(?, ?, ?, ?, ?, ?)",
			      "ttiitt", run_id, ss->id, ss->seq, ss->due_us, ss->ws, ss->we);
	if (e == FV_OK)
		e = store_exec(ss->co->store, NULL,
			       "UPDATE schedules SET next_due_us = ?, last_run_id = ? WHERE id = ?",
			       "itt", ss->next_us, run_id, ss->id);
	return e;
}

struct due {
	char *id, *bench, *model, *cadence, *by;
	int64_t due_us, max_runs, nruns;
	bool busy;
};

/* The next due time after due_us that lies in the future: missed periods (the coordinator was
 * down) are not caught up one by one. */
static int64_t next_after(int64_t due_us, const struct schedule_cadence *c, int64_t now)
{
	int64_t t = schedule_step(due_us, c);
	for (int guard = 0; t <= now && guard < 100000; guard++)
		t = schedule_step(t, c);
	return t > now ? t : schedule_step(now, c);
}

static void start_due(struct coord *co, const struct due *u)
{
	struct schedule_cadence c;
	struct fv_diag d = {{0}};
	Fedval__StartRun q = FEDVAL__START_RUN__INIT;
	struct sched_start ss = {.co = co, .id = u->id, .seq = u->nruns + 1, .due_us = u->due_us};
	char run_id[FV_MAX_ID] = "", audit[FV_MAX_ID + 64];
	size_t njobs = 0;
	fv_err e;

	if (schedule_cadence_parse(u->cadence, &c) != FV_OK) {
		fv_log(FV_LOG_ERROR, "schedule_invalid", "schedule=%s cadence=%s", u->id,
		       FV_Q(u->cadence));
		return;
	}
	ss.next_us = next_after(u->due_us, &c, fv_now_us());
	window_str(step_by(u->due_us, &c, -1), &c, ss.ws, sizeof(ss.ws));
	window_str(u->due_us, &c, ss.we, sizeof(ss.we));
	q.benchmark = u->bench;
	q.model_version_id = u->model;
	e = coord_start_run(co, u->by, &q, record_run, &ss, run_id, &njobs, &d);
	if (e == FV_OK) {
		fv_log(FV_LOG_INFO, "schedule_run_started",
		       "schedule=%s run=%s seq=%lld jobs=%zu window=%s/%s", u->id, run_id,
		       (long long)ss.seq, njobs, ss.ws, ss.we);
		fv_fmt(audit, sizeof(audit), "%s %s", u->id, run_id);
		coord_audit(co, "schedule_run_started", co->name, audit, strlen(audit));
		return;
	}
	/* Not startable now (benchmark closed, no site, ...): try again next period. */
	fv_log(FV_LOG_WARN, "schedule_run_failed", "schedule=%s code=%s reason=%s", u->id,
	       fv_strerror(e), FV_Q(d.msg[0] ? d.msg : fv_strerror(e)));
	store_exec(co->store, NULL, "UPDATE schedules SET next_due_us = ? WHERE id = ?", "it",
		   ss.next_us, u->id);
	coord_audit(co, "schedule_run_failed", co->name, u->id, strlen(u->id));
}

/* One pass: start the runs that are due, analyse the schedules with newly completed runs. */
static void tick(struct coord *co)
{
	struct store *s = co->store;
	sqlite3_stmt *st = NULL;
	struct due *u = NULL;
	char **ids = NULL;
	size_t n = 0, nids = 0;
	fv_err e;

	store_lock(s);
	e = store_query(
	    s, &st,
	    "SELECT s.id, s.benchmark_name || '@' || s.benchmark_version, s.model_version_id, "
	    "s.cadence, s.created_by, s.next_due_us, s.max_runs, (SELECT count(*) FROM "
	    "schedule_runs x WHERE x.schedule_id = s.id), EXISTS (SELECT 1 FROM schedule_runs sr "
	    "WHERE sr.schedule_id = s.id AND NOT " RUN_COMPLETE ") FROM schedules s WHERE "
	    "s.removed_us IS NULL AND s.next_due_us <= ? ORDER BY s.next_due_us LIMIT ?",
	    "ii", fv_now_us(), (int64_t)FV_SCHED_MAX);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct due *nu = fv_realloc(u, (n + 1) * sizeof(*u));
		if (!nu)
			break;
		u = nu;
		u[n] = (struct due){.id = col_dup(st, 0),
				    .bench = col_dup(st, 1),
				    .model = col_dup(st, 2),
				    .cadence = col_dup(st, 3),
				    .by = col_dup(st, 4),
				    .due_us = sqlite3_column_int64(st, 5),
				    .max_runs = sqlite3_column_int64(st, 6),
				    .nruns = sqlite3_column_int64(st, 7),
				    .busy = sqlite3_column_int(st, 8) != 0};
		n++;
	}
	sqlite3_finalize(st);
	st = NULL;
	store_unlock(s);
	for (size_t i = 0; i < n; i++) {
		if (!u[i].id || !u[i].bench || !u[i].model || !u[i].cadence || !u[i].by)
			continue;
		/* One open run per schedule: a period starts after the previous one completed. */
		if (u[i].busy || (u[i].max_runs > 0 && u[i].nruns >= u[i].max_runs))
			continue;
		start_due(co, &u[i]);
	}
	for (size_t i = 0; i < n; i++) {
		fv_free(u[i].id);
		fv_free(u[i].bench);
		fv_free(u[i].model);
		fv_free(u[i].cadence);
		fv_free(u[i].by);
	}
	fv_free(u);

	store_lock(s);
	e = store_query(s, &st,
			"SELECT DISTINCT sr.schedule_id FROM schedule_runs sr WHERE sr.analysed = "
			"0 AND " RUN_COMPLETE " LIMIT ?",
			"i", (int64_t)FV_SCHED_MAX);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		char **ni = fv_realloc(ids, (nids + 1) * sizeof(*ids));
		if (!ni)
			break;
		ids = ni;
		if ((ids[nids] = col_dup(st, 0)))
			nids++;
	}
	sqlite3_finalize(st);
	store_unlock(s);
	for (size_t i = 0; i < nids; i++) {
		analyse(co, ids[i]);
		fv_free(ids[i]);
	}
	fv_free(ids);
}

struct scheduler {
	struct coord *co;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void *sched_main(void *arg)
{
	struct scheduler *sc = arg;
	struct timespec ts;

	pthread_mutex_lock(&sc->mu);
	while (!sc->stop) {
		pthread_mutex_unlock(&sc->mu);
		tick(sc->co);
		pthread_mutex_lock(&sc->mu);
		if (sc->stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&sc->cv, &sc->mu, &ts);
	}
	pthread_mutex_unlock(&sc->mu);
	return NULL;
}

fv_err scheduler_start(struct coord *co, struct scheduler **out, struct fv_diag *d)
{
	struct scheduler *sc = fv_calloc(1, sizeof(*sc));
	pthread_condattr_t ca;

	if (!sc)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	sc->co = co;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&sc->th, NULL, sched_main, sc) != 0) {
		pthread_cond_destroy(&sc->cv);
		pthread_mutex_destroy(&sc->mu);
		fv_free(sc);
		return fv_diag_set(d, FV_ENOMEM, "cannot start the scheduler thread");
	}
	*out = sc;
	return FV_OK;
}

void scheduler_stop(struct scheduler *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stop = true;
	pthread_cond_signal(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	pthread_join(sc->th, NULL);
	pthread_cond_destroy(&sc->cv);
	pthread_mutex_destroy(&sc->mu);
	fv_free(sc);
}

/* ---- listing: one JSON shape for the ScheduleListReply and the dashboard ---- */

/* Runs listed per schedule (the newest ones); the drift state covers all analysed runs. */
#define LIST_RUNS 100

static json_t *jtext(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	json_t *j = s ? json_string((const char *)s) : NULL;
	return j ? j : json_null();
}

static json_t *jiso(int64_t us)
{
	char ts[32];
	if (us <= 0)
		return json_null();
	fv_time_iso(us, ts, sizeof(ts));
	return json_string(ts);
}

/* The runs of one schedule, oldest first, the newest LIST_RUNS of them; store locked. */
static json_t *runs_json(struct store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	json_t *runs = json_array();
	int64_t period = 0;

	if (store_query(
		s, &st,
		"SELECT sr.run_id, r.created_us, sr.window_start, sr.window_end, " RUN_COMPLETE
		" FROM schedule_runs sr JOIN runs r ON r.run_id = sr.run_id "
		"WHERE sr.schedule_id = ? ORDER BY sr.seq",
		"t", id) != FV_OK)
		return runs;
	while (sqlite3_step(st) == SQLITE_ROW) {
		bool complete = sqlite3_column_int(st, 4) != 0;
		json_array_append_new(
		    runs,
		    json_pack(
			"{s:o,s:s,s:I,s:o,s:o,s:o,s:I}", "run_id", jtext(st, 0), "state",
			complete ? "complete" : "running", "created_us",
			(json_int_t)sqlite3_column_int64(st, 1), "created",
			jiso(sqlite3_column_int64(st, 1)), "window_start", jtext(st, 2),
			"window_end", jtext(st, 3), "period",
			(json_int_t)(complete && period < FV_SCHED_MAX_PERIODS ? period++ : -1)));
		if (json_array_size(runs) > LIST_RUNS)
			json_array_remove(runs, 0);
	}
	sqlite3_finalize(st);
	return runs;
}

/* Active schedules (or the one named id), oldest first. */
static fv_err schedules_load(struct coord *co, const char *id, bool authority, bool with_drift,
			     json_t **out)
{
	struct store *s = co->store;
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	fv_err e;

	if (!arr)
		return FV_ENOMEM;
	store_lock(s);
	e = store_query(s, &st,
			"SELECT id, benchmark_name || '@' || benchmark_version, model_version_id, "
			"cadence, mdr_class, next_due_us, last_run_id, window_kind, cusum_k, "
			"cusum_h, max_runs, created_by, created_us, alert, alerts_json, "
			"drift_json, periods, (SELECT m.name || ' ' || m.version FROM models m "
			"WHERE m.version_id = model_version_id) FROM schedules WHERE removed_us IS "
			"NULL AND (? = '' OR id = ?) ORDER BY created_us LIMIT ?",
			"tti", id ? id : "", id ? id : "", (int64_t)FV_SCHED_MAX);
	while (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(st, 0);
		int64_t due = sqlite3_column_int64(st, 5);
		json_t *o = json_pack(
		    "{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:f,s:f,s:I,s:o,s:I,s:o,s:I}", "id",
		    jtext(st, 0), "benchmark", jtext(st, 1), "model_version_id", jtext(st, 2),
		    "model", jtext(st, 17), "cadence", jtext(st, 3), "mdr_class", jtext(st, 4),
		    "next_due_us", (json_int_t)due, "next_due", jiso(due), "last_run_id",
		    jtext(st, 6), "window", jtext(st, 7), "cusum_k", sqlite3_column_double(st, 8),
		    "cusum_h", sqlite3_column_double(st, 9), "max_runs",
		    (json_int_t)sqlite3_column_int64(st, 10), "created_by", jtext(st, 11),
		    "created_us", (json_int_t)sqlite3_column_int64(st, 12), "created",
		    jiso(sqlite3_column_int64(st, 12)), "periods",
		    (json_int_t)sqlite3_column_int64(st, 16));
		if (!o || !sid) {
			json_decref(o);
			e = FV_ENOMEM;
			break;
		}
		json_object_set_new(o, "runs", runs_json(s, sid));
		if (authority) {
			const unsigned char *a = sqlite3_column_text(st, 14),
					    *dj = sqlite3_column_text(st, 15);
			json_t *al = a ? json_loads((const char *)a, 0, NULL) : NULL;
			json_object_set_new(o, "alert", json_boolean(sqlite3_column_int(st, 13)));
			json_object_set_new(o, "alerts", al ? al : json_array());
			if (with_drift) {
				json_t *dr = dj ? json_loads((const char *)dj, 0, NULL) : NULL;
				json_object_set_new(o, "drift", dr ? dr : json_null());
			}
		} else {
			json_object_set_new(o, "alert", json_null());
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	store_unlock(s);
	if (e != FV_OK) {
		json_decref(arr);
		return e;
	}
	*out = arr;
	return FV_OK;
}

json_t *schedule_json(struct coord *co, bool authority)
{
	json_t *arr = NULL;
	if (schedules_load(co, NULL, authority, false, &arr) != FV_OK)
		return NULL;
	return json_pack("{s:o,s:I}", "schedules", arr, "now_us", (json_int_t)fv_now_us());
}

/* ---- requests ---- */

static fv_err seal(struct req *r, Fedval__Envelope *rep)
{
	return fv_wire_seal(rep, r->co->name, r->seq, r->co->key, &r->out, &r->out_len);
}

static fv_err ack(struct req *r, const char *id, const char *status)
{
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__Ack a = FEDVAL__ACK__INIT;
	a.id = (char *)id;
	a.status = (char *)status;
	rep.body_case = FEDVAL__ENVELOPE__BODY_ACK;
	rep.ack = &a;
	return seal(r, &rep);
}

fv_err schedule_handle_add(struct req *r, struct fv_diag *d)
{
	Fedval__ScheduleAdd *q = r->env->schedule_add;
	struct store *s = r->co->store;
	struct schedule_cadence c;
	const char *cadence = q->cadence && *q->cadence ? q->cadence : NULL;
	const char *mdr = NULL;
	double k = q->has_cusum_k ? q->cusum_k : FV_CUSUM_K;
	double h = q->has_cusum_h ? q->cusum_h : FV_CUSUM_H;
	char bname[FV_MAX_TEXT + 1], bver[FV_MAX_TEXT + 1] = "", id[16], bid[2 * FV_MAX_TEXT + 2];
	uint8_t dig[FV_SHA256_LEN];
	int64_t now = fv_now_us(), first, active = 0;
	sqlite3_stmt *st = NULL;
	bool model_ok = false;
	fv_err e;

	if (strlen(q->benchmark) > FV_MAX_TEXT || strlen(q->model_version_id) > FV_MAX_ID ||
	    (cadence && strlen(cadence) > FV_MAX_NAME))
		return fv_diag_set(d, FV_ELIMIT, "schedule field too long");
	if (q->mdr_class && *q->mdr_class) {
		static const char *const classes[] = {"IIa", "IIb", "III"};
		for (size_t i = 0; i < 3; i++)
			if (!strcasecmp(q->mdr_class, classes[i]))
				mdr = classes[i];
		if (!mdr)
			return fv_diag_set(d, FV_EINVAL,
					   "MDR class '%.8s': IIa, IIb or III (class I: give a "
					   "cadence)",
					   q->mdr_class);
		if (!cadence)
			cadence = schedule_mdr_cadence(mdr);
	}
	if (!cadence)
		return fv_diag_set(d, FV_EINVAL, "a schedule needs a cadence or an MDR class");
	if ((e = schedule_cadence_parse(cadence, &c)) != FV_OK)
		return fv_diag_set(d, e,
				   "cadence '%s': monthly, yearly, biennial or an ISO 8601 "
				   "duration such as P30D or PT60S (at least %d s)",
				   cadence, FV_SCHED_MIN_SECONDS);
	if (!(k >= 0 && isfinite(k)) || !(h > 0 && isfinite(h)))
		return fv_diag_set(d, FV_EINVAL, "CUSUM needs k >= 0 and h > 0");
	first = q->has_first_due_us && q->first_due_us > 0 ? q->first_due_us : now;

	/* name@version, or the newest version of name: a schedule follows one version. */
	fv_strlcpy(bname, q->benchmark, sizeof(bname));
	char *at = strchr(bname, '@');
	if (at)
		*at = '\0';
	store_lock(s);
	e = store_query(s, &st,
			"SELECT version, spec_json FROM benchmarks WHERE name = ? AND (? = '' OR "
			"version = ?) ORDER BY created_us DESC LIMIT 1",
			"ttt", bname, at ? at + 1 : "", at ? at + 1 : "");
	if (e == FV_OK && sqlite3_step(st) == SQLITE_ROW) {
		fv_strlcpy(bver, (const char *)sqlite3_column_text(st, 0), sizeof(bver));
		/* Drift is watched on AUROC, O/E and case mix: binary benchmarks only. */
		json_t *spec = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		const char *task = json_string_value(json_object_get(spec, "task"));
		if (fv_task_parse(task) != FV_TASK_BINARY)
			e = fv_diag_set(
			    d, FV_EUNSUPPORTED,
			    "benchmark %s@%s is a %.20s benchmark: scheduled monitoring "
			    "watches binary benchmarks only",
			    bname, bver, task);
		json_decref(spec);
	}
	sqlite3_finalize(st);
	st = NULL; /* the checks below are skipped after an error: nothing to finalize twice */
	if (e == FV_OK && store_query(s, &st, "SELECT 1 FROM models WHERE version_id = ?", "t",
				      q->model_version_id) == FV_OK)
		model_ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	st = NULL;
	if (e == FV_OK &&
	    store_query(s, &st,
			"SELECT count(*), sum(benchmark_name = ? AND benchmark_version "
			"= ? AND model_version_id = ?) FROM schedules WHERE "
			"removed_us IS NULL",
			"ttt", bname, bver, q->model_version_id) == FV_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		active = sqlite3_column_int64(st, 0);
		if (sqlite3_column_int64(st, 1) > 0)
			e = fv_diag_set(d, FV_EEXIST,
					"benchmark %s@%s and model %.16s already have a schedule: "
					"remove it first",
					bname, bver, q->model_version_id);
	}
	sqlite3_finalize(st);
	if (e == FV_OK && !bver[0])
		e = fv_diag_set(d, FV_ENOTFOUND, "no benchmark '%s'", q->benchmark);
	else if (e == FV_OK && !model_ok)
		e = fv_diag_set(d, FV_ENOTFOUND, "no model version %.80s", q->model_version_id);
	else if (e == FV_OK && active >= FV_SCHED_MAX)
		e = fv_diag_set(d, FV_ELIMIT, "at most %d active schedules", FV_SCHED_MAX);
	if (e == FV_OK) {
		char seed[FV_MAX_ID + FV_MAX_TEXT + 64];
		fv_fmt(seed, sizeof(seed), "%lld %s %s %s", (long long)now, r->who.name,
		       q->benchmark, q->model_version_id);
		fv_sha256(seed, strlen(seed), dig);
		memcpy(id, "sch-", 4);
		fv_hex(dig, 4, id + 4);
		e = store_exec(
		    s, NULL,
		    "INSERT INTO schedules(id, benchmark_name, benchmark_version, "
		    "model_version_id, cadence, mdr_class, next_due_us, cusum_k, "
		    "cusum_h, max_runs, created_by, created_us) VALUES(?, ?, ?, ?, ?, ?, "
		    "?, ?, ?, ?, ?, ?)",
		    mdr ? "ttttttidditi" : "tttttnidditi", id, bname, bver, q->model_version_id,
		    cadence, mdr, first, k, h, (int64_t)(q->has_max_runs ? q->max_runs : 0),
		    r->who.name, now);
		if (e != FV_OK)
			fv_diag_set(d, e, "cannot store the schedule");
	}
	store_unlock(s);
	if (e != FV_OK)
		return e;
	fv_strlcpy(bid, bname, sizeof(bid));
	fv_log(FV_LOG_INFO, "schedule_added",
	       "schedule=%s benchmark=%s@%s model=%.16s cadence=%s mdr_class=%s k=%g h=%g by=%s",
	       id, bid, bver, q->model_version_id, cadence, mdr ? mdr : "-", k, h, r->who.name);
	return ack(r, id, "created");
}

fv_err schedule_handle_remove(struct req *r, struct fv_diag *d)
{
	const char *id = r->env->schedule_remove->id;
	int changed = 0;
	fv_err e = store_exec(r->co->store, &changed,
			      "UPDATE schedules SET removed_us = ? WHERE id = ? AND removed_us IS "
			      "NULL",
			      "it", fv_now_us(), id);
	if (e != FV_OK)
		return fv_diag_set(d, e, "cannot remove the schedule");
	if (changed == 0)
		return fv_diag_set(d, FV_ENOTFOUND, "no active schedule %.80s", id);
	/* Its runs and drift state stay in the store; a run in progress completes. */
	fv_log(FV_LOG_INFO, "schedule_removed", "schedule=%s by=%s", id, r->who.name);
	return ack(r, id, "removed");
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

fv_err schedule_handle_list(struct req *r, struct fv_diag *d)
{
	const char *id = r->env->schedule_list->id;
	Fedval__Envelope rep = FEDVAL__ENVELOPE__INIT;
	Fedval__ScheduleListReply body = FEDVAL__SCHEDULE_LIST_REPLY__INIT;
	json_t *arr = NULL, *o;
	size_t i, nall = 0;
	void **pool = NULL;
	size_t npool = 0;
	fv_err e;

	if (id && !*id)
		id = NULL;
	if ((e = schedules_load(r->co, id, true, id != NULL, &arr)) != FV_OK)
		return fv_diag_set(d, e, "cannot read schedules");
	if (id && json_array_size(arr) == 0) {
		json_decref(arr);
		return fv_diag_set(d, FV_ENOTFOUND, "no active schedule %.80s", id);
	}
	json_array_foreach(arr, i, o) nall += 4 + json_array_size(json_object_get(o, "runs")) * 2 +
					      json_array_size(json_object_get(o, "alerts")) * 2;
	/* Every message of the reply, each a pointer into pool; strings point into arr. */
	pool = fv_calloc(nall + 2, sizeof(void *));
	body.schedules = fv_calloc(json_array_size(arr) + 1, sizeof(*body.schedules));
	if (!pool || !body.schedules) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
#define NEW(T, init)                                                                               \
	({                                                                                         \
		T *x_ = fv_alloc(sizeof(T));                                                       \
		if (x_) {                                                                          \
			init(x_);                                                                  \
			pool[npool++] = x_;                                                        \
		}                                                                                  \
		x_;                                                                                \
	})
	json_array_foreach(arr, i, o)
	{
		Fedval__ScheduleStatus *ss =
		    NEW(Fedval__ScheduleStatus, fedval__schedule_status__init);
		Fedval__Schedule *sc = NEW(Fedval__Schedule, fedval__schedule__init);
		const json_t *runs = json_object_get(o, "runs"),
			     *alerts = json_object_get(o, "alerts");
		json_t *x;
		size_t k;
		if (!ss || !sc) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
		sc->id = (char *)jstr(o, "id");
		sc->benchmark = (char *)jstr(o, "benchmark");
		sc->model_version_id = (char *)jstr(o, "model_version_id");
		sc->cadence = (char *)jstr(o, "cadence");
		if (json_is_string(json_object_get(o, "mdr_class")))
			sc->mdr_class = (char *)jstr(o, "mdr_class");
		sc->has_next_due_us = 1;
		sc->next_due_us = json_integer_value(json_object_get(o, "next_due_us"));
		if (json_is_string(json_object_get(o, "last_run_id")))
			sc->last_run_id = (char *)jstr(o, "last_run_id");
		sc->window = (char *)jstr(o, "window");
		sc->has_cusum_k = sc->has_cusum_h = sc->has_max_runs = sc->has_created_us = 1;
		sc->cusum_k = json_number_value(json_object_get(o, "cusum_k"));
		sc->cusum_h = json_number_value(json_object_get(o, "cusum_h"));
		sc->max_runs = (uint32_t)json_integer_value(json_object_get(o, "max_runs"));
		sc->created_by = (char *)jstr(o, "created_by");
		sc->created_us = json_integer_value(json_object_get(o, "created_us"));
		ss->schedule = sc;
		ss->has_alert = ss->has_periods = 1;
		ss->alert = json_is_true(json_object_get(o, "alert"));
		ss->periods = (uint32_t)json_integer_value(json_object_get(o, "periods"));
		ss->runs = fv_calloc(json_array_size(runs) + 1, sizeof(*ss->runs));
		ss->alerts = fv_calloc(json_array_size(alerts) + 1, sizeof(*ss->alerts));
		pool[npool++] = ss->runs;
		pool[npool++] = ss->alerts;
		if (!ss->runs || !ss->alerts) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
		json_array_foreach(runs, k, x)
		{
			Fedval__ScheduleRun *sr =
			    NEW(Fedval__ScheduleRun, fedval__schedule_run__init);
			if (!sr) {
				e = fv_diag_set(d, FV_ENOMEM, "out of memory");
				goto out;
			}
			sr->run_id = (char *)jstr(x, "run_id");
			sr->state = (char *)jstr(x, "state");
			sr->has_created_us = sr->has_period = 1;
			sr->created_us = json_integer_value(json_object_get(x, "created_us"));
			sr->period = (int32_t)json_integer_value(json_object_get(x, "period"));
			sr->window_start = (char *)jstr(x, "window_start");
			sr->window_end = (char *)jstr(x, "window_end");
			ss->runs[ss->n_runs++] = sr;
		}
		json_array_foreach(alerts, k, x)
		{
			Fedval__ScheduleAlert *sa =
			    NEW(Fedval__ScheduleAlert, fedval__schedule_alert__init);
			if (!sa) {
				e = fv_diag_set(d, FV_ENOMEM, "out of memory");
				goto out;
			}
			sa->site = (char *)jstr(x, "site");
			sa->metric = (char *)jstr(x, "metric");
			sa->period = (uint32_t)json_integer_value(json_object_get(x, "period"));
			sa->direction = (char *)jstr(x, "direction");
			if (json_object_get(x, "psi")) {
				sa->has_psi = sa->has_p_holm = 1;
				sa->psi = json_number_value(json_object_get(x, "psi"));
				sa->p_holm = json_number_value(json_object_get(x, "p_holm"));
			} else {
				sa->has_cusum = 1;
				sa->cusum = json_number_value(json_object_get(x, "cusum"));
			}
			sa->run_id = (char *)jstr(x, "run_id");
			ss->alerts[ss->n_alerts++] = sa;
		}
		if (json_object_get(o, "drift") && !json_is_null(json_object_get(o, "drift"))) {
			ss->drift_json =
			    json_dumps(json_object_get(o, "drift"),
				       JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
			if (ss->drift_json) {
				/* jansson's allocation: freed with free() below */
				json_object_set_new(o, "drift_text", json_string(ss->drift_json));
				free(ss->drift_json);
				ss->drift_json = (char *)jstr(o, "drift_text");
			}
		}
		body.schedules[body.n_schedules++] = ss;
	}
#undef NEW
	rep.body_case = FEDVAL__ENVELOPE__BODY_SCHEDULE_LIST_REPLY;
	rep.schedule_list_reply = &body;
	e = seal(r, &rep);
out:
	for (size_t j = 0; pool && j < npool; j++)
		fv_free(pool[j]);
	fv_free(pool);
	fv_free(body.schedules);
	json_decref(arr);
	return e;
}
