/* ckpt-compare A B [TOLERANCE]: compares the tensors of two checkpoints for the MPI tests.
 *   without TOLERANCE: the parameters, optimizer state and layer state must be the same bits;
 *   with it: the largest parameter difference, relative to the largest parameter magnitude of
 *   A, must be at most TOLERANCE.
 * Prints the largest difference; exit 0 when within, 1 when not, 2 when a file cannot be
 * read or the two hold different tensor tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"

static int same_bits(const float *a, const float *b, size_t n) {
  return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: ckpt-compare A B [TOLERANCE]\n");
    return 2;
  }
  clt_checkpoint a, b;
  if (clt_checkpoint_read(argv[1], &a) != CLT_OK || clt_checkpoint_read(argv[2], &b) != CLT_OK) {
    fprintf(stderr, "ckpt-compare: %s\n", clt_last_error());
    return 2;
  }
  int rc = 0;
  if (a.param_floats != b.param_floats || a.optimizer_floats != b.optimizer_floats ||
      a.state_floats != b.state_floats) {
    fprintf(stderr, "ckpt-compare: %s and %s hold different tensors\n", argv[1], argv[2]);
    rc = 2;
  } else {
    double largest = 0, diff = 0;
    for (size_t i = 0; i < a.param_floats; i++) {
      largest = fmax(largest, fabs(a.params[i]));
      diff = fmax(diff, fabs((double)a.params[i] - (double)b.params[i]));
    }
    double relative = largest > 0 ? diff / largest : diff;
    printf("%zu parameters: largest difference %.3g (%.3g of the largest magnitude %.3g)\n",
           a.param_floats, diff, relative, largest);
    if (argc == 4) {
      rc = relative <= atof(argv[3]) ? 0 : 1;
    } else {
      int params = same_bits(a.params, b.params, a.param_floats);
      int optim = same_bits(a.optimizer, b.optimizer, a.optimizer_floats);
      int state = same_bits(a.state, b.state, a.state_floats);
      printf("bit-identical: parameters %s, optimizer state %s, layer state %s\n",
             params ? "yes" : "no", optim ? "yes" : "no", state ? "yes" : "no");
      rc = params && optim && state ? 0 : 1;
    }
  }
  clt_checkpoint_free(&a);
  clt_checkpoint_free(&b);
  return rc;
}
