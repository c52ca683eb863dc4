/* fedval pki init / pki issue: the federation's certificate authority, kept by the authority. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/util.h"

static const char init_usage[] =
    "usage: fedval pki init --dir DIR [--name NAME] [--days N]\n"
    "\n"
    "Create the federation CA: DIR/ca.key (ECDSA P-256, mode 0600) and DIR/ca.crt.\n"
    "Refuses to overwrite an existing CA.\n"
    "\n"
    "  --dir DIR     where the CA lives (created if missing)\n"
    "  --name NAME   CA common name (default fedval-ca)\n"
    "  --days N      validity in days (default 3650)\n";

static fv_err parse_days(const char *s, int *out, struct fv_diag *d)
{
	long v;
	if (fv_parse_long(s, 1, 36500, &v) != FV_OK)
		return fv_diag_set(d, FV_EINVAL, "--days '%s' must be a number of days in 1..36500",
				   s);
	*out = (int)v;
	return FV_OK;
}

int cmd_pki_init(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"name", required_argument, NULL, 'n'},
					     {"days", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	const char *dir = NULL, *name = "fedval-ca";
	int days = 3650, c, bad = 0;
	struct fv_diag d = {{0}};

	if (cli_wants_help(argc, argv, init_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, init_usage, &bad)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 't' && parse_days(optarg, &days, &d) != FV_OK)
			return cli_usage(init_usage, "%s", d.msg);
	}
	if (bad)
		return CLI_USAGE;
	if (!dir || optind != argc)
		return cli_usage(init_usage, "pki init needs --dir and no other arguments");
	if (fv_pki_init(dir, name, days, &d) != FV_OK)
		return cli_fail("pki init", &d);
	printf("created CA '%s': %s/ca.crt, %s/ca.key (keep ca.key offline)\n", name, dir, dir);
	return CLI_OK;
}

static const char issue_usage[] =
    "usage: fedval pki issue --ca DIR --role ROLE --name NAME [--out DIR] [--dns HOST]...\n"
    "                        [--days N]\n"
    "\n"
    "Issue an ECDSA P-256 key (OUT/NAME.key, mode 0600) and a certificate (OUT/NAME.crt)\n"
    "signed by the federation CA. The role goes in the subject's OU, the name in its CN.\n"
    "\n"
    "  --ca DIR      the CA directory of 'fedval pki init'\n"
    "  --role ROLE   authority | vendor | node | coordinator\n"
    "  --name NAME   principal name: 1-64 of [A-Za-z0-9._-]\n"
    "  --out DIR     where to write the key and certificate (default: the CA directory)\n"
    "  --dns HOST    coordinator only: a DNS name clients dial (repeatable; default localhost)\n"
    "  --days N      validity in days (default 825)\n";

int cmd_pki_issue(int argc, char **argv)
{
	static const struct option opts[] = {{"ca", required_argument, NULL, 'a'},
					     {"role", required_argument, NULL, 'r'},
					     {"name", required_argument, NULL, 'n'},
					     {"out", required_argument, NULL, 'o'},
					     {"dns", required_argument, NULL, 's'},
					     {"days", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	const char *ca = NULL, *role_s = NULL, *name = NULL, *out = NULL;
	const char *dns[17] = {NULL};
	size_t ndns = 0;
	enum fv_role role;
	int days = 825, c, bad = 0;
	struct fv_diag d = {{0}};

	if (cli_wants_help(argc, argv, issue_usage))
		return CLI_OK;
	while ((c = cli_getopt(argc, argv, opts, issue_usage, &bad)) != -1) {
		switch (c) {
		case 'a':
			ca = optarg;
			break;
		case 'r':
			role_s = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (ndns == 16)
				return cli_usage(issue_usage, "at most 16 --dns names");
			dns[ndns++] = optarg;
			break;
		case 't':
			if (parse_days(optarg, &days, &d) != FV_OK)
				return cli_usage(issue_usage, "%s", d.msg);
			break;
		}
	}
	if (bad)
		return CLI_USAGE;
	if (!ca || !role_s || !name || optind != argc)
		return cli_usage(issue_usage, "pki issue needs --ca, --role and --name");
	if (fv_role_parse(role_s, &role) != FV_OK)
		return cli_usage(issue_usage,
				 "--role '%s': use authority, vendor, node or coordinator", role_s);
	if (!fv_name_valid(name))
		return cli_usage(issue_usage, "--name '%s': 1-64 characters of [A-Za-z0-9._-]",
				 name);
	if (ndns && role != FV_ROLE_COORDINATOR)
		return cli_usage(issue_usage, "--dns is for the coordinator's certificate only");
	if (role == FV_ROLE_COORDINATOR && ndns == 0)
		dns[ndns++] = "localhost";
	if (fv_pki_issue(ca, role, name, dns, days, out ? out : ca, &d) != FV_OK)
		return cli_fail("pki issue", &d);
	printf("issued %s '%s': %s/%s.crt, %s/%s.key\n", role_s, name, out ? out : ca, name,
	       out ? out : ca, name);
	return CLI_OK;
}
