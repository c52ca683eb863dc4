/* Replays every file of the CSV fuzz seed corpus (tests/fuzz/corpus/csv) through the fuzz
 * target, so the corpus and the invariants of tests/fuzz/fuzz_csv.c are checked on every test
 * run, with or without libFuzzer. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FV_FUZZ_NO_MAIN
#include "fuzz/fuzz_csv.c"

#define CORPUS_DIR FV_SOURCE_DIR "/tests/fuzz/corpus/csv"

Test(csv_corpus, replay)
{
	DIR *dir = opendir(CORPUS_DIR);
	struct dirent *de;
	size_t files = 0;

	cr_assert_not_null(dir, "%s", CORPUS_DIR);
	while ((de = readdir(dir)) != NULL) {
		char path[1024];
		uint8_t *buf;
		long len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, de->d_name);
		f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		cr_assert_eq(fseek(f, 0, SEEK_END), 0);
		len = ftell(f);
		cr_assert(len >= 0);
		rewind(f);
		buf = malloc((size_t)len + 1);
		cr_assert_not_null(buf);
		cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		cr_log_info("corpus file %s (%ld bytes)", de->d_name, len);
		fv_fuzz_csv_one(buf, (size_t)len);
		free(buf);
		files++;
	}
	closedir(dir);
	cr_assert_geq(files, 10, "only %zu corpus files", files);
}

Test(csv_corpus, edge_inputs)
{
	/* Inputs too odd to keep as files: empty, a lone byte, a NUL, lone quote, lone CR. */
	static const char *const in[] = {"", "\n", "\r", "\"", "\0", "\xef\xbb\xbf", ",", ";"};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		fv_fuzz_csv_one((const uint8_t *)in[i], in[i][0] ? strlen(in[i]) : 1);
	fv_fuzz_csv_one((const uint8_t *)"", 0);
}
