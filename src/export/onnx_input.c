#include "export/onnx_input.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "data/csv_schema.h"
#include "export/onnx_export.h"

static clt_status image_input(clt_onnx_graph *g, const clt_model *m, clt_onnx_value *x) {
  const int64_t dims[4] = {-1, m->input.c, m->input.h, m->input.w};
  clt_onnx_add_input(g, CLT_ONNX_INPUT, dims, 4);
  clt_onnx_add_metadata(g, "input_layout",
                        "float32 [batch, channels, height, width] (NCHW), pixels scaled to [0, 1] "
                        "as in training");
  *x = (clt_onnx_value){CLT_ONNX_INPUT, 1, m->input};
  return CLT_OK;
}

static void add_names(clt_onnx_graph *g, const char *key, char *const *names, int n) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; arr && i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
  char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
  clt_onnx_add_metadata(g, key, text);
  free(text);
  cJSON_Delete(arr);
}

/* input [batch, F] -> Sub mean -> Div std: (v - mean) / std as the CSV reader computes it
 * (in double there, in float here: within a few ulp). */
static clt_status table_input(clt_onnx_graph *g, const clt_model *m, const clt_csv_schema *s,
                              clt_onnx_value *x) {
  int F = s->features;
  if (m->input.h != 1 || m->input.w != 1 || m->input.c != F)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the checkpoint's table has %d feature columns but its model reads %dx%dx%d "
                    "values; the file is damaged: use another checkpoint",
                    F, m->input.h, m->input.w, m->input.c);
  float *mean = malloc((size_t)F * sizeof *mean), *std = malloc((size_t)F * sizeof *std);
  if (!mean || !std) {
    free(mean);
    free(std);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the table's statistics");
  }
  for (int j = 0; j < F; j++) {
    mean[j] = (float)s->mean[j];
    std[j] = (float)s->std[j];
  }
  const int64_t in_dims[2] = {-1, F}, stat_dims[1] = {F};
  clt_onnx_add_input(g, CLT_ONNX_INPUT, in_dims, 2);
  const char *sub_in[2] = {CLT_ONNX_INPUT, clt_onnx_floats(g, "input_mean", stat_dims, 1, mean)};
  clt_onnx_add_node(g, "Sub", "input_centered", sub_in, 2, "input_centered");
  const char *div_in[2] = {"input_centered", clt_onnx_floats(g, "input_std", stat_dims, 1, std)};
  clt_onnx_add_node(g, "Div", "input_standardized", div_in, 2, "input_standardized");
  free(mean);
  free(std);
  clt_onnx_add_metadata(g, "input_layout",
                        "float32 [batch, features]: the CSV feature columns in the order of "
                        "feature_names, as in the file (standardised inside the model)");
  add_names(g, "feature_names", s->feature_names, F);
  clt_onnx_add_metadata(g, "label", s->label ? s->label : "");
  *x = (clt_onnx_value){"input_standardized", 0, m->input};
  return CLT_OK;
}

clt_status clt_onnx_add_graph_input(clt_onnx_graph *g, const clt_model *m, const clt_checkpoint *ck,
                                    clt_onnx_value *x) {
  if (!ck->table) return image_input(g, m, x);
  clt_csv_schema s;
  CLT_TRY(clt_csv_schema_decode(ck->table, ck->table_length, "the checkpoint", &s));
  clt_status st = table_input(g, m, &s, x);
  clt_csv_schema_free(&s);
  return st;
}
