/* ckpt-diff A B [--max-rel X]: compares the parameters of two checkpoints of the same model.
 * Prints the largest absolute difference, the largest magnitude in A, their ratio (the
 * relative difference of docs/SCALING.md) and whether the parameter bytes are identical.
 * Exit 0, or 1 when the ratio exceeds X, 2 when the files cannot be compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--max-rel") == 0)) {
    fprintf(stderr, "usage: ckpt-diff A.ckpt B.ckpt [--max-rel X]\n");
    return 2;
  }
  clt_checkpoint a, b;
  if (clt_checkpoint_read(argv[1], &a) != CLT_OK || clt_checkpoint_read(argv[2], &b) != CLT_OK) {
    fprintf(stderr, "ckpt-diff: %s\n", clt_last_error());
    return 2;
  }
  if (a.param_floats != b.param_floats) {
    fprintf(stderr, "ckpt-diff: %s holds %zu parameters and %s %zu: not the same model\n", argv[1],
            a.param_floats, argv[2], b.param_floats);
    return 2;
  }
  double diff = 0, mag = 0;
  for (size_t i = 0; i < a.param_floats; i++) {
    double d = fabs((double)a.params[i] - (double)b.params[i]);
    if (d > diff || isnan(d)) diff = d;
    if (fabs((double)a.params[i]) > mag) mag = fabs((double)a.params[i]);
  }
  int same = memcmp(a.params, b.params, a.param_floats * sizeof(float)) == 0;
  double rel = mag > 0 ? diff / mag : diff;
  printf("parameters %zu, max |A-B| %.3g, max |A| %.3g, relative %.3g, bytes %s\n", a.param_floats,
         diff, mag, rel, same ? "identical" : "differ");
  int rc = argc == 5 && !(rel <= atof(argv[4])) ? 1 : 0;
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);
  return rc;
}
