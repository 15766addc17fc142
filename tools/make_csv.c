/* make-csv: writes a CSV table with a learnable rule, for cltrain's CSV tests and the
 * larger-than-memory measurement (docs/PERFORMANCE.md).
 *
 *   make-csv OUT.csv [--rows N | --bytes SIZE[K|M|G]] [--features F] [--classes K]
 *            [--regression] [--seed S]
 *
 * Features: x_j = offset_j + scale_j * z_j with z_j standard normal (offsets and scales differ
 * per column, so standardisation matters, and are the same for every seed: another seed
 * gives a held-out sample of the same table). The rule is nonlinear in z:
 *   s = z0 * z1 + sin(2 z2) + 0.5 (z3^2 - 1) + 0.5 z4 + 0.2 noise
 * Classification: the label is one of K class names ("c0", "c1", ...) by the bin of s
 * between fixed thresholds, roughly balanced. Regression: the label is s itself.
 * Written in C because Python formats numbers too slowly for gigabytes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state;

static double uniform(void) { /* xorshift64*: (0, 1) */
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return ((double)((state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void) {
  return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* A number with 4 decimals, fast (printf is the bottleneck at gigabytes). */
static char *put_number(char *p, double v) {
  long long k = llround(v * 10000.0);
  if (k < 0) {
    *p++ = '-';
    k = -k;
  }
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + k % 10);
    k /= 10;
  } while (k > 0 || n < 5);
  while (n > 4) *p++ = digits[--n];
  *p++ = '.';
  while (n > 0) *p++ = digits[--n];
  return p;
}

static long long parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (*end == 'K' || *end == 'k') v *= 1024;
  if (*end == 'M' || *end == 'm') v *= 1024 * 1024;
  if (*end == 'G' || *end == 'g') v *= 1024.0 * 1024 * 1024;
  return (long long)v;
}

static int usage(void) {
  fprintf(stderr, "usage: make-csv OUT.csv [--rows N | --bytes SIZE[K|M|G]] [--features F] "
                  "[--classes K] [--regression] [--seed S]\n");
  return 64;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') return usage();
  const char *out = argv[1];
  long long rows = 1000, bytes = 0;
  int features = 24, classes = 4, regression = 0;
  unsigned long long seed = 1;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
      rows = atoll(argv[++i]);
    } else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
      bytes = parse_size(argv[++i]);
    } else if (!strcmp(argv[i], "--features") && i + 1 < argc) {
      features = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--classes") && i + 1 < argc) {
      classes = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--regression")) {
      regression = 1;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 10);
    } else {
      return usage();
    }
  }
  if (features < 5 || features > 1000 || classes < 2 || classes > 100 || rows < 1) return usage();
  FILE *f = fopen(out, "wb");
  if (!f) {
    perror(out);
    return 73;
  }
  /* The columns' offsets and scales are the same for every seed: files written with other
   * seeds are samples of the same distribution (a training and a held-out file). */
  state = 0x9E3779B97F4A7C15ull;
  double *offset = malloc(sizeof(double) * features), *scale = malloc(sizeof(double) * features);
  double *z = malloc(sizeof(double) * features);
  char *line = malloc((size_t)features * 32 + 64);
  for (int j = 0; j < features; j++) {
    offset[j] = 100.0 * (uniform() - 0.5);
    scale[j] = exp(4.0 * (uniform() - 0.5));
    fprintf(f, "x%d,", j);
  }
  fprintf(f, "%s\n", regression ? "target" : "label");
  state = seed * 0x9E3779B97F4A7C15ull + 1;
  long long written = 0, n = 0;
  for (;; n++) {
    if (bytes ? written >= bytes : n >= rows) break;
    char *p = line;
    for (int j = 0; j < features; j++) {
      z[j] = normal();
      p = put_number(p, offset[j] + scale[j] * z[j]);
      *p++ = ',';
    }
    double s = z[0] * z[1] + sin(2 * z[2]) + 0.5 * (z[3] * z[3] - 1) + 0.5 * z[4] + 0.2 * normal();
    if (regression) {
      p = put_number(p, s);
    } else {
      /* Bins of width 3.2 / K centred on 0: the middle classes are the larger ones. */
      int k = (int)floor((s + 1.6) / (3.2 / classes));
      k = k < 0 ? 0 : k >= classes ? classes - 1 : k;
      p += sprintf(p, "c%d", k);
    }
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), f);
    written += p - line;
  }
  if (fclose(f) != 0) {
    perror(out);
    return 74;
  }
  char target[32];
  snprintf(target, sizeof target, regression ? "a regression target" : "%d classes", classes);
  fprintf(stderr, "make-csv: %s: %lld rows, %d features, %s, %.1f MB\n", out, n, features, target,
          (double)written / 1e6);
  free(offset);
  free(scale);
  free(z);
  free(line);
  return 0;
}
