/* fedval fuzz corpus replay, for the Criterion tests tests/unit/<module>/test_<name>_corpus.c:
 * every file of tests/fuzz/corpus/<name>/ through the target, then deterministic mutations of
 * each (bit flips, byte sets, truncations, deletions, duplications, insertions, chosen by a
 * seeded PRNG), so the targets' invariants hold on every test run without libFuzzer.
 *
 * A corpus file named "ok-*" is a valid input: the target's main entry point must accept it.
 * Include after the target's .c (which defines fuzz_tally through fuzz_common.h). */
#ifndef FEDVAL_FUZZ_REPLAY_H
#define FEDVAL_FUZZ_REPLAY_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_common.h"

typedef int (*fuzz_one_fn)(const uint8_t *data, size_t size);

/* splitmix64: small, fast, and the same sequence everywhere. */
static inline uint64_t replay_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline size_t replay_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(replay_rand(s) % n) : 0;
}

/* One mutation of buf[*len] in place; buf holds at least cap bytes. */
static inline void replay_mutate(uint64_t *s, uint8_t *buf, size_t *len, size_t cap)
{
	static const uint8_t special[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\n', '"', ',', '{', '0'};
	size_t n = *len, at = replay_below(s, n + 1), k;

	switch (replay_rand(s) % 8) {
	case 0: /* flip one bit */
		if (n)
			buf[at % n] ^= (uint8_t)(1u << replay_below(s, 8));
		break;
	case 1: /* set a byte to a value parsers treat specially */
		if (n)
			buf[at % n] = special[replay_below(s, sizeof(special))];
		break;
	case 2: /* truncate */
		*len = at;
		break;
	case 3: /* delete a range */
		k = replay_below(s, n - at + 1);
		memmove(buf + at, buf + at + k, n - at - k);
		*len = n - k;
		break;
	case 4: /* duplicate a range after itself */
		k = replay_below(s, n - at + 1);
		if (k > cap - n)
			k = cap - n;
		memmove(buf + at + k, buf + at, n - at);
		*len = n + k;
		break;
	case 5: /* insert random bytes */
		k = 1 + replay_below(s, 8);
		if (k > cap - n)
			k = cap - n;
		memmove(buf + at + k, buf + at, n - at);
		for (size_t i = 0; i < k; i++)
			buf[at + i] = (uint8_t)replay_rand(s);
		*len = n + k;
		break;
	case 6: /* overwrite a range with random bytes */
		k = replay_below(s, 9);
		for (size_t i = 0; i < k && at + i < n; i++)
			buf[at + i] = (uint8_t)replay_rand(s);
		break;
	default: /* add or subtract a small number at a byte (lengths, counts, tags) */
		if (n)
			buf[at % n] = (uint8_t)(buf[at % n] + (int)replay_below(s, 33) - 16);
		break;
	}
}

static inline uint64_t replay_seed(const char *name)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 1099511628211ull;
	return h;
}

static inline uint8_t *replay_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Run fn on every file of tests/fuzz/corpus/<name> and on `mutations` mutants of each (each
 * mutant gets 1..3 stacked mutations, in an exactly sized heap copy so that ASan sees any read
 * past its end). At least min_files files; every "ok-*" file must be accepted. */
static inline void fuzz_replay(const char *name, fuzz_one_fn fn, unsigned mutations,
			       size_t min_files)
{
	char dirpath[1024];
	DIR *dir;
	struct dirent *de;
	size_t files = 0, valid = 0;
	unsigned long refused = 0;

	snprintf(dirpath, sizeof(dirpath), "%s/tests/fuzz/corpus/%s", FV_SOURCE_DIR, name);
	dir = opendir(dirpath);
	cr_assert_not_null(dir, "%s", dirpath);
	memset(&fuzz_tally, 0, sizeof(fuzz_tally));
	while ((de = readdir(dir)) != NULL) {
		char path[1400];
		uint8_t *seed, *work;
		size_t len, cap;
		uint64_t s;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		seed = replay_slurp(path, &len);
		fuzz_tally.last = (fv_err)-1;
		fn(seed, len);
		if (!strncmp(de->d_name, "ok-", 3)) {
			cr_assert_eq(fuzz_tally.last, FV_OK, "valid seed %s refused: %s",
				     de->d_name, fv_strerror(fuzz_tally.last));
			valid++;
		}
		cap = 2 * len + 64;
		work = malloc(cap);
		cr_assert_not_null(work);
		s = replay_seed(de->d_name);
		for (unsigned i = 0; i < mutations; i++) {
			size_t n = len;
			uint8_t *exact;
			memcpy(work, seed, len);
			for (unsigned k = 1 + (unsigned)replay_below(&s, 3); k > 0; k--)
				replay_mutate(&s, work, &n, cap);
			exact = malloc(n ? n : 1);
			cr_assert_not_null(exact);
			memcpy(exact, work, n);
			fn(exact, n);
			free(exact);
		}
		free(work);
		free(seed);
		files++;
	}
	closedir(dir);
	for (int e = 1; e < FV_ERR_COUNT; e++)
		refused += fuzz_tally.n[e];
	cr_log_info("%s: %zu files (%zu valid), %lu accepted, %lu refused calls", name, files,
		    valid, fuzz_tally.n[FV_OK], refused);
	cr_assert_geq(files, min_files, "only %zu corpus files in %s", files, dirpath);
	cr_assert_gt(valid, 0, "no ok-* seed in %s", dirpath);
	cr_assert_gt(refused, 0, "no mutant of %s was refused", name);
}

#endif
