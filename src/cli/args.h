/* Command-line option values shared by the cltrain commands. Each parser stores the value in
 * *out and returns 0, or prints "cltrain CMD: OPT ARG: must be ..." on stderr and returns -1
 * (leaving *out as it was). */
#ifndef CLT_CLI_ARGS_H
#define CLT_CLI_ARGS_H

/* A decimal integer from min to max. */
int clt_cli_int(const char *cmd, const char *opt, const char *arg, long min, long max, int *out);

/* A decimal integer from 1 to INT_MAX ("must be a positive integer"). */
int clt_cli_count(const char *cmd, const char *opt, const char *arg, int *out);

/* A finite number from min to max. */
int clt_cli_double(const char *cmd, const char *opt, const char *arg, double min, double max,
                   double *out);

/* A seed: a decimal integer from 0 to 4294967295, digits only. */
int clt_cli_seed(const char *cmd, const char *opt, const char *arg, long long *out);

/* Prints "cltrain CMD: unexpected argument 'ARG'" and returns CLT_EXIT_USAGE. */
int clt_cli_unexpected(const char *cmd, const char *arg);

/* The getopt_long option string of every command: a leading ':' makes getopt_long quiet
 * and tell a missing value (':') from an unknown option ('?'); then 'h' for -h. */
#define CLT_CLI_SHORT_OPTIONS ":h"

/* For getopt_long's '?' or ':' (opt): prints one line, "cltrain CMD: unknown option '--foo';
 * see 'cltrain CMD --help'" (or "option '--save' needs a value; ..."), and returns
 * CLT_EXIT_USAGE. argv as given to getopt_long. */
int clt_cli_bad_option(const char *cmd, char **argv, int opt);

/* The exit code for a parser's result rc != 0: CLT_EXIT_OK after --help (rc > 0),
 * CLT_EXIT_USAGE for a bad command line (rc < 0). */
int clt_cli_exit(int rc);

#endif
