/* Command-line option values shared by the cltrain commands (see args.h). */
#include "cli/args.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/exit_codes.h"

int clt_cli_int(const char *cmd, const char *opt, const char *arg, long min, long max, int *out) {
  char *end;
  long v = strtol(arg, &end, 10);
  if (*arg == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "cltrain %s: %s %s: must be an integer from %ld to %ld\n", cmd, opt, arg, min,
            max);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int clt_cli_count(const char *cmd, const char *opt, const char *arg, int *out) {
  char *end;
  long v = strtol(arg, &end, 10);
  if (*arg == '\0' || *end != '\0' || v < 1 || v > INT_MAX) {
    fprintf(stderr, "cltrain %s: %s %s: must be a positive integer\n", cmd, opt, arg);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int clt_cli_double(const char *cmd, const char *opt, const char *arg, double min, double max,
                   double *out) {
  char *end;
  double v = strtod(arg, &end);
  if (*arg == '\0' || *end != '\0' || !isfinite(v) || v < min || v > max) {
    fprintf(stderr, "cltrain %s: %s %s: must be a number from %g to %g\n", cmd, opt, arg, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

int clt_cli_seed(const char *cmd, const char *opt, const char *arg, long long *out) {
  char *end;
  unsigned long long v = strtoull(arg, &end, 10);
  if (*arg < '0' || *arg > '9' || *end != '\0' || v > 4294967295ull) {
    fprintf(stderr, "cltrain %s: %s %s: must be an integer from 0 to 4294967295\n", cmd, opt, arg);
    return -1;
  }
  *out = (long long)v;
  return 0;
}

int clt_cli_unexpected(const char *cmd, const char *arg) {
  fprintf(stderr, "cltrain %s: unexpected argument '%s'\n", cmd, arg);
  return CLT_EXIT_USAGE;
}

int clt_cli_bad_option(const char *cmd, char **argv, int opt) {
  /* The word getopt_long stepped over: a long option (cut at '='), else the letter. */
  const char *word = optind > 0 ? argv[optind - 1] : "";
  char name[64];
  if (strncmp(word, "--", 2) == 0)
    snprintf(name, sizeof name, "%.*s", (int)strcspn(word, "="), word);
  else if (optopt > ' ' && optopt < 127)
    snprintf(name, sizeof name, "-%c", optopt);
  else
    snprintf(name, sizeof name, "%.60s", word);
  if (opt != ':' && strncmp(word, "--", 2) == 0 && strchr(word, '='))
    fprintf(stderr,
            "cltrain %s: unknown option '%s', or one that takes no value ('%.60s'); see "
            "'cltrain %s --help'\n",
            cmd, name, word, cmd);
  else if (opt == ':')
    fprintf(stderr, "cltrain %s: option '%s' needs a value; see 'cltrain %s --help'\n", cmd, name,
            cmd);
  else
    fprintf(stderr, "cltrain %s: unknown option '%s'; see 'cltrain %s --help'\n", cmd, name, cmd);
  return CLT_EXIT_USAGE;
}

int clt_cli_exit(int rc) {
  return rc > 0 ? CLT_EXIT_OK : CLT_EXIT_USAGE;
}
