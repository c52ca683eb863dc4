/* fedval: the demo's synthetic heart-failure 30-day readmission cohorts.
 *
 * Determinism contract: the same (profile, seed, rows) writes the same bytes on every machine
 * with IEEE-754 binary64 arithmetic. To keep it:
 *   - the generator is our own (splitmix64 to seed xoshiro256**, both integer-only);
 *   - only +, -, *, / and sqrt are used on doubles (IEEE-754 rounds them exactly), plus the
 *     exact frexp/ldexp; exp and log are our own series built from those operations, because
 *     libm's may differ in the last bit between platforms and a last bit can move a printed
 *     digit or flip a label;
 *   - no fused multiply-add (pragmas below) and no excess precision (checked below); do not
 *     build this file with -ffast-math;
 *   - numbers are rounded to fixed decimals by integer arithmetic and printed by our own
 *     formatter, so printf's rounding of ties cannot differ either.
 *
 * The cohort (one row per index admission for heart failure):
 *   patient_id            "D000001" (profile 0), "A..", "B..", "C.." for hospitals A-C
 *   age                   years, integer, 25-99
 *   sex_male              1 = male, 0 = female
 *   ejection_fraction     %, integer, 10-75 (a HFrEF/HFpEF mixture)
 *   nyha_class            1-4
 *   systolic_bp           mmHg, integer
 *   heart_rate            beats/min, integer
 *   sodium                mmol/L, integer
 *   creatinine            mg/dL, 2 decimals (log-normal)
 *   bnp                   pg/mL, integer (log-normal)
 *   hemoglobin            g/dL, 1 decimal
 *   bmi                   kg/m2, 1 decimal
 *   diabetes, copd, ckd, atrial_fibrillation                       0/1
 *   prior_admissions_12m  count (Poisson)
 *   length_of_stay        days, integer (log-normal)
 *   loop_diuretic_dose    furosemide-equivalent mg/day, multiple of 20, 0 = none
 *   beta_blocker, ace_arb, discharge_home                          0/1
 *   readmit_30d           the label, 0/1
 *
 * A latent severity (normal, shifted per profile) links the variables. The outcome follows a
 * true logistic model with terms a linear model on the raw columns cannot represent exactly: a
 * quadratic in age, a hinge below sodium 136, logarithms of creatinine, BNP and prior
 * admissions, and a CKD x loop-diuretic interaction. So a logistic regression fitted on
 * profile 0 discriminates well and is nearly, not perfectly, calibrated.
 *
 * Profiles (prevalence is the target the intercepts were tuned for; see tests/unit/data):
 *   0  vendor development population                        ~17%
 *   1  hospital A: older, more women, smaller BMI            ~20%  same risk relationship
 *   2  hospital B: younger urban, fewer comorbidities        ~12%  same risk relationship
 *   3  hospital C: sicker tertiary centre                    ~28%  shifted relationship:
 *      the risk factors carry 0.55 times their weight (treatment and case mix at a referral
 *      centre flatten the gradient) on top of a higher baseline, so a model developed on
 *      profile 0 is too extreme there (calibration slope well below 1). */
#include "fedval/data.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "synth.c needs FLT_EVAL_METHOD == 0 (SSE2 or similar) for platform-independent output"
#endif

/* Output is assembled here and handed to fwrite in large pieces. */
#define SYN_BUF_SIZE (64u * 1024)
/* A row is far shorter than this (about 120 bytes); flushing before less room is left keeps
 * every row whole in the buffer. */
#define SYN_ROW_MAX 512

static const char *const syn_predictors[] = {
    "age",
    "sex_male",
    "ejection_fraction",
    "nyha_class",
    "systolic_bp",
    "heart_rate",
    "sodium",
    "creatinine",
    "bnp",
    "hemoglobin",
    "bmi",
    "diabetes",
    "copd",
    "ckd",
    "atrial_fibrillation",
    "prior_admissions_12m",
    "length_of_stay",
    "loop_diuretic_dose",
    "beta_blocker",
    "ace_arb",
    "discharge_home",
    NULL,
};

static const char syn_label[] = "readmit_30d";

const char *const *fv_synth_hf_predictors(void)
{
	return syn_predictors;
}

const char *fv_synth_hf_label(void)
{
	return syn_label;
}

/* ---- random numbers ---- */

struct syn_rng {
	uint64_t s[4];
	double spare; /* second normal of the last polar pair */
	bool has_spare;
};

static uint64_t syn_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t syn_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t syn_next(struct syn_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = syn_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = syn_rotl(s[3], 45);
	return out;
}

static void syn_seed(struct syn_rng *r, int profile, uint64_t seed)
{
	/* "fedval-h" keeps seed 0 away from an all-zero state; the profile goes into the top byte
	 * so the four profiles draw different streams from the same seed. */
	uint64_t x = seed ^ ((uint64_t)profile << 56) ^ 0x66656476616c2d68u;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = syn_splitmix64(&x);
	r->has_spare = false;
	r->spare = 0;
}

/* Uniform on [0, 1) with 53 random bits. */
static double syn_unif(struct syn_rng *r)
{
	return (double)(syn_next(r) >> 11) * 0x1.0p-53;
}

/* ---- deterministic elementary functions (exactly reproducible) ----
 * Accuracy: syn_log within a few ulp; syn_exp within about 4 ulp for |x| <= 10 (all the
 * arguments here but the clamped logistic tails), growing with |x| to ~25 ulp at |x| = 50
 * because k * ln2 is not split (Cody-Waite). Splitting it would change every cohort's bytes;
 * the data need reproducibility, not the last digit. */

#define SYN_LN2	      0.69314718055994530942
#define SYN_LOG2E     1.44269504088896340736
#define SYN_SQRT_HALF 0.70710678118654752440

/* Round half away from zero; |x| < 2^62. */
static double syn_round(double x)
{
	return x >= 0 ? (double)(int64_t)(x + 0.5) : -(double)(int64_t)(-x + 0.5);
}

/* e^x for |x| <= 700: x = k ln2 + r with |r| <= ln2 / 2, Taylor series of e^r. */
static double syn_exp(double x)
{
	double k, r, term = 1.0, sum = 1.0;
	int i;

	if (x > 700)
		x = 700;
	if (x < -700)
		x = -700;
	k = syn_round(x * SYN_LOG2E);
	r = x - k * SYN_LN2;
	for (i = 1; i <= 16; i++) {
		term = term * r / i;
		sum += term;
	}
	return ldexp(sum, (int)k);
}

/* ln x for x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh((m-1)/(m+1)). */
static double syn_log(double x)
{
	double m, s, s2, term, sum = 0;
	int e, i;

	m = frexp(x, &e);
	if (m < SYN_SQRT_HALF) {
		m *= 2;
		e--;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	term = s;
	for (i = 1; i <= 29; i += 2) {
		sum += term / i;
		term *= s2;
	}
	return e * SYN_LN2 + 2 * sum;
}

static double syn_logistic(double x)
{
	return 1.0 / (1.0 + syn_exp(-x));
}

/* Standard normal by Marsaglia's polar method (needs only log and sqrt). */
static double syn_normal(struct syn_rng *r)
{
	double u, v, s, f;

	if (r->has_spare) {
		r->has_spare = false;
		return r->spare;
	}
	do {
		u = 2 * syn_unif(r) - 1;
		v = 2 * syn_unif(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	f = sqrt(-2 * syn_log(s) / s);
	r->spare = v * f;
	r->has_spare = true;
	return u * f;
}

static int syn_bern(struct syn_rng *r, double p)
{
	return syn_unif(r) < p;
}

/* Poisson by multiplying uniforms (Knuth); fine for the small means used here. */
static int syn_poisson(struct syn_rng *r, double mean, int cap)
{
	double limit = syn_exp(-mean), p = 1;
	int k = 0;

	for (;;) {
		p *= syn_unif(r);
		if (p <= limit || k == cap)
			return k;
		k++;
	}
}

static double syn_clip(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Round to `decimals` places and return the value scaled by 10^decimals as an integer, so the
 * printed text and the value the outcome model sees are the same number. */
static int64_t syn_fixed(double x, int decimals)
{
	double scale = decimals == 0 ? 1 : decimals == 1 ? 10 : 100;
	return (int64_t)syn_round(x * scale);
}

/* ---- output ---- */

struct syn_out {
	FILE *f;
	char buf[SYN_BUF_SIZE];
	size_t n;
	bool failed;
};

static void syn_flush(struct syn_out *o)
{
	if (o->n && !o->failed && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = true;
	o->n = 0;
}

static void syn_put(struct syn_out *o, const char *s, size_t len)
{
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

/* v / 10^decimals with exactly `decimals` digits after '.', then sep. */
static void syn_put_fixed(struct syn_out *o, int64_t v, int decimals, char sep)
{
	char tmp[32];
	size_t i = sizeof(tmp);
	uint64_t u;
	int digits = 0;

	tmp[--i] = sep;
	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		if (decimals > 0 && digits == decimals)
			tmp[--i] = '.';
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
		digits++;
	} while (u || digits <= decimals);
	if (v < 0)
		tmp[--i] = '-';
	syn_put(o, tmp + i, sizeof(tmp) - i);
}

/* ---- the cohort ---- */

struct syn_profile {
	char id_prefix;
	double age_mean, age_sd;
	double p_male;
	double sev_mean; /* shift of the latent severity */
	double p_hfref;
	double p_diabetes, p_copd;
	double prior_mean; /* admissions in the last 12 months at average severity */
	double bmi_mean;
	double intercept; /* of the true outcome model */
	double slope;	  /* weight of the risk factors relative to profile 0 */
};

/* intercept: tuned so the prevalence lands near the target given in the header comment. */
static const struct syn_profile syn_profiles[] = {
    {'D', 74, 11, 0.55, 0.00, 0.45, 0.38, 0.22, 0.9, 29.0, -2.34, 1.00},
    {'A', 80, 9, 0.47, -0.02, 0.38, 0.34, 0.25, 1.0, 27.5, -2.34, 1.00},
    {'B', 65, 12, 0.62, -0.03, 0.52, 0.40, 0.14, 0.6, 31.0, -2.34, 1.00},
    {'C', 70, 12, 0.60, 0.70, 0.60, 0.42, 0.26, 1.6, 28.0, -1.62, 0.55},
};

/* Draw one patient and write their row. */
static void syn_row(struct syn_out *o, struct syn_rng *r, const struct syn_profile *pr,
		    size_t index)
{
	double sev, t, lp, p;
	int64_t age, male, ef, nyha, sbp, hr, afib, sodium, creat100, ckd, bnp, hgb10, bmi10;
	int64_t dm, copd, prior, los, loop, bb, acei, home, hfref, y;
	char id[24];
	size_t i = sizeof(id);
	size_t k = index;
	int digits = 0;

	sev = pr->sev_mean + syn_normal(r);
	age = syn_fixed(syn_clip(pr->age_mean + pr->age_sd * syn_normal(r), 25, 99), 0);
	male = syn_bern(r, pr->p_male);
	hfref = syn_bern(r, pr->p_hfref);
	if (hfref)
		ef = syn_fixed(syn_clip(28 - 2 * sev + 6 * syn_normal(r), 10, 45), 0);
	else
		ef = syn_fixed(syn_clip(55 + 7 * syn_normal(r), 35, 75), 0);
	t = 0.8 * sev + 0.6 * syn_normal(r);
	nyha = t < -1.0 ? 1 : t < 0.2 ? 2 : t < 1.3 ? 3 : 4;
	sbp = syn_fixed(syn_clip(128 - 10 * (ef < 40) - 6 * sev + 18 * syn_normal(r), 70, 220), 0);
	afib = syn_bern(r, syn_logistic(-0.6 + 0.04 * (double)(age - 75)));
	hr = syn_fixed(syn_clip(78 + 5 * sev + 8 * afib + 13 * syn_normal(r), 40, 160), 0);
	sodium = syn_fixed(syn_clip(138.5 - 1.5 * sev + 3.5 * syn_normal(r), 115, 155), 0);
	creat100 = syn_fixed(syn_clip(syn_exp(0.1398 + 0.18 * sev + 0.008 * (double)(age - 75) +
					      0.33 * syn_normal(r)),
				      0.4, 9.0),
			     2);
	ckd = syn_bern(r, creat100 >= 150 ? 0.85 : 0.08);
	bnp = syn_fixed(syn_clip(syn_exp(6.2538 + 0.55 * sev + 0.45 * hfref +
					 0.012 * (double)(age - 75) + 0.8 * syn_normal(r)),
				 20, 35000),
			0);
	hgb10 = syn_fixed(
	    syn_clip(12.6 - 0.4 * sev - 0.7 * ckd + 0.9 * male + 1.5 * syn_normal(r), 6, 18), 1);
	bmi10 = syn_fixed(
	    syn_clip(pr->bmi_mean - 0.08 * (double)(age - 75) + 5.5 * syn_normal(r), 15, 60), 1);
	dm = syn_bern(r, syn_clip(pr->p_diabetes + 0.012 * ((double)bmi10 / 10 - 29), 0.02, 0.95));
	copd = syn_bern(r, pr->p_copd);
	prior = syn_poisson(r, pr->prior_mean * syn_exp(0.35 * sev), 15);
	los = syn_fixed(syn_clip(syn_exp(1.5041 + 0.22 * sev + 0.5 * syn_normal(r)), 1, 60), 0);
	if (syn_bern(r, 0.07))
		loop = 0;
	else
		loop = 20 * syn_fixed(syn_clip(syn_exp(0.6931 + 0.30 * sev + 0.35 * ckd +
						       0.45 * syn_normal(r)),
					       1, 25),
				      0);
	bb = syn_bern(r, ef < 40 ? 0.82 : 0.55);
	acei = syn_bern(r, (ef < 40 ? 0.78 : 0.50) - 0.2 * ckd);
	home = syn_bern(r, syn_logistic(2.0 - 0.06 * (double)(age - 75) - 0.45 * sev));

	/* The true model sees exactly the printed values. */
	{
		double a = (double)(age - 75), cr = (double)creat100 / 100;
		double na_def = 136 - (double)sodium;
		lp = 0.030 * a + 0.0006 * a * a + 0.12 * male - 0.010 * (double)(ef - 40) +
		     0.30 * (double)(nyha - 2) - 0.006 * (double)(sbp - 125) +
		     0.008 * (double)(hr - 80) + 0.10 * (na_def > 0 ? na_def : 0) +
		     0.50 * syn_log(cr / 1.1) + 0.35 * syn_log((double)bnp / 500) -
		     0.10 * ((double)hgb10 / 10 - 12.5) - 0.015 * ((double)bmi10 / 10 - 28) +
		     0.20 * dm + 0.30 * copd + 0.25 * ckd + 0.15 * afib +
		     0.45 * syn_log(1 + (double)prior) +
		     0.04 * (double)((los < 20 ? los : 20) - 5) + 0.001 * (double)loop +
		     0.0025 * (double)(ckd * loop) - 0.20 * bb - 0.15 * acei - 0.40 * home;
	}
	p = syn_logistic(pr->intercept + pr->slope * lp);
	y = syn_bern(r, p);

	/* patient_id: prefix and at least six digits. */
	do {
		id[--i] = (char)('0' + k % 10);
		k /= 10;
		digits++;
	} while (k || digits < 6);
	id[--i] = pr->id_prefix;
	syn_put(o, id + i, sizeof(id) - i);
	syn_put(o, ",", 1);
	syn_put_fixed(o, age, 0, ',');
	syn_put_fixed(o, male, 0, ',');
	syn_put_fixed(o, ef, 0, ',');
	syn_put_fixed(o, nyha, 0, ',');
	syn_put_fixed(o, sbp, 0, ',');
	syn_put_fixed(o, hr, 0, ',');
	syn_put_fixed(o, sodium, 0, ',');
	syn_put_fixed(o, creat100, 2, ',');
	syn_put_fixed(o, bnp, 0, ',');
	syn_put_fixed(o, hgb10, 1, ',');
	syn_put_fixed(o, bmi10, 1, ',');
	syn_put_fixed(o, dm, 0, ',');
	syn_put_fixed(o, copd, 0, ',');
	syn_put_fixed(o, ckd, 0, ',');
	syn_put_fixed(o, afib, 0, ',');
	syn_put_fixed(o, prior, 0, ',');
	syn_put_fixed(o, los, 0, ',');
	syn_put_fixed(o, loop, 0, ',');
	syn_put_fixed(o, bb, 0, ',');
	syn_put_fixed(o, acei, 0, ',');
	syn_put_fixed(o, home, 0, ',');
	syn_put_fixed(o, y, 0, '\n');
}

fv_err fv_synth_hf_write(FILE *out, int profile, uint64_t seed, size_t rows, struct fv_diag *d)
{
	struct syn_out *o = NULL;
	struct syn_rng r;
	fv_err e = FV_OK;
	size_t i;

	if (!out) {
		e = fv_diag_set(d, FV_EINVAL, "synthetic cohort: no output stream");
		goto out;
	}
	if (profile < 0 || (size_t)profile >= sizeof(syn_profiles) / sizeof(syn_profiles[0])) {
		e = fv_diag_set(d, FV_EINVAL, "synthetic cohort: unknown profile %d (0-3)",
				profile);
		goto out;
	}
	if (rows > FV_MAX_ROWS) {
		e = fv_diag_set(d, FV_ELIMIT, "synthetic cohort: %zu rows, at most %u", rows,
				(unsigned)FV_MAX_ROWS);
		goto out;
	}
	o = fv_alloc(sizeof(*o));
	if (!o) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	o->f = out;
	o->n = 0;
	o->failed = false;
	syn_seed(&r, profile, seed);

	syn_put(o, "patient_id", strlen("patient_id"));
	for (i = 0; syn_predictors[i]; i++) {
		syn_put(o, ",", 1);
		syn_put(o, syn_predictors[i], strlen(syn_predictors[i]));
	}
	syn_put(o, ",", 1);
	syn_put(o, syn_label, strlen(syn_label));
	syn_put(o, "\n", 1);
	for (i = 0; i < rows && !o->failed; i++) {
		if (SYN_BUF_SIZE - o->n < SYN_ROW_MAX)
			syn_flush(o);
		syn_row(o, &r, &syn_profiles[profile], i + 1);
	}
	syn_flush(o);
	if (o->failed || fflush(out) != 0 || ferror(out)) {
		e = fv_diag_set(d, FV_EIO, "synthetic cohort: write failed");
		goto out;
	}
out:
	fv_free(o);
	return e;
}
