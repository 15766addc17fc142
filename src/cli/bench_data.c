#include "cli/bench_data.h"

#include <stdlib.h>

#include "runtime/fail.h"

clt_status clt_bench_synthetic_data(const clt_model *m, int n, clt_dataset *data, int32_t **order) {
  size_t sample = clt_shape_size(m->input);
  data->n = n;
  data->h = m->input.h;
  data->w = m->input.w;
  data->c = m->input.c;
  data->classes = m->classes;
  data->images = malloc((size_t)n * sample * sizeof(float));
  data->labels = malloc((size_t)n * sizeof(int32_t));
  *order = malloc((size_t)n * sizeof(int32_t));
  if (!data->images || !data->labels || !*order)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the synthetic data");
  uint32_t x = 12345u;
  for (size_t i = 0; i < (size_t)n * sample; i++) {
    x = x * 1664525u + 1013904223u;
    data->images[i] = (float)(x >> 8) / 16777216.0f;
  }
  for (int i = 0; i < n; i++) {
    data->labels[i] = i % m->classes;
    (*order)[i] = i;
  }
  return CLT_OK;
}
