/* A throwaway PostgreSQL server for a unit test: initdb (trust authentication) in a fresh
 * directory under /tmp, listening only on a Unix socket in that directory, run as the postgres
 * user when the tests run as root (the server refuses root); stopped and removed afterwards.
 * test_source_pg.c has its own, richer set-up (passwords, a second server) for the source
 * itself. */
#ifndef FEDVAL_TEST_PG_TEST_H
#define FEDVAL_TEST_PG_TEST_H

#include <criterion/criterion.h>
#include <glob.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fedval/util.h"

struct pg_test {
	char dir[64];  /* data in dir/data, logs beside it; the socket directory (conninfo host) */
	char bin[256]; /* the server's binaries */
};

/* Run a command line, as the postgres user when we are root and as_postgres. */
static inline int pg_test_sh(bool as_postgres, const char *cmd)
{
	char line[4352]; /* a pg_test_psql command and the runuser prefix */
	snprintf(line, sizeof(line), "%s%s",
		 as_postgres && geteuid() == 0 ? "runuser -u postgres -- " : "", cmd);
	return system(line);
}

/* Create and start a server in a fresh /tmp/fv-TAG-pg.XXXXXX (asserts on failure). */
static inline void pg_test_start(struct pg_test *pg, const char *tag)
{
	char cmd[2048];
	struct passwd *pw;
	glob_t g;
	char *slash;

	cr_assert_eq(glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g), 0,
		     "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin");
	fv_strlcpy(pg->bin, g.gl_pathv[g.gl_pathc - 1], sizeof(pg->bin));
	globfree(&g);
	if ((slash = strrchr(pg->bin, '/')))
		*slash = '\0';
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/fv-%s-pg.XXXXXX", tag);
	cr_assert_not_null(mkdtemp(pg->dir));
	if (geteuid() == 0) {
		cr_assert_not_null(pw = getpwnam("postgres"));
		cr_assert_eq(chown(pg->dir, pw->pw_uid, pw->pw_gid), 0);
	}
	snprintf(cmd, sizeof(cmd),
		 "%s/initdb -D %s/data -U postgres -A trust -E UTF8 --locale=C --no-sync "
		 ">%s/initdb.log 2>&1",
		 pg->bin, pg->dir, pg->dir);
	cr_assert_eq(pg_test_sh(true, cmd), 0, "initdb failed: see %s/initdb.log", pg->dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/pg_ctl -D %s/data -l %s/server.log -w -t 30 -o \"-c listen_addresses='' "
		 "-c unix_socket_directories=%s -c fsync=off\" start >/dev/null",
		 pg->bin, pg->dir, pg->dir, pg->dir);
	cr_assert_eq(pg_test_sh(true, cmd), 0, "the server did not start: see %s/server.log",
		     pg->dir);
}

/* psql as the superuser on the server's socket with the given arguments (-c ...); its output
 * goes to dir/psql.log. Returns the exit status. */
static inline int pg_test_psql(const struct pg_test *pg, const char *args)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "psql -q -v ON_ERROR_STOP=1 -h %s -U postgres -d postgres %s >%s/psql.log 2>&1",
		 pg->dir, args, pg->dir);
	return pg_test_sh(false, cmd);
}

/* Stop the server at once and remove its directory. */
static inline void pg_test_stop(struct pg_test *pg)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/pg_ctl -D %s/data -m immediate stop >/dev/null 2>&1",
		 pg->bin, pg->dir);
	pg_test_sh(true, cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pg->dir);
	cr_assert_eq(system(cmd), 0);
}

#endif
