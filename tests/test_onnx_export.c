/* cltrain export without a device (export/onnx_export.h): a hand-made checkpoint of a
 * strided, "same"-padded conv and a dense layer is written as ONNX and read back with
 * protobuf-c: opset, IR version, producer, input and output names and shapes, the nodes in
 * order with their attributes, the converted weights and the metadata. A checkpoint whose
 * tensors do not fit its model and an unwritable path are refused with their messages;
 * every registered layer type has a mapping (a new type must get one or be refused). The
 * command `cltrain export` (the built binary, no device needed): its output and exit codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx_export.h"
#include "export/onnx_graph.h"
#include "export/onnx_layout.h"
#include "export/onnx_map.h"
#include "nn/layer.h"
#include "onnx.pb-c.h"
#include "util/cltrain_child.h"
#include "util/expect.h"
#include "util/temp_files.h"

/* 4x4x2 input; conv 3 filters 3x3 stride 2 same (2x2x3 out, pads top/left 0, bottom/right 1);
 * dense 2 units over the 12 flattened values; softmax. */
static char model_text[] = "[net]\ninput = 4x4x2\n"
                           "[conv]\nfilters = 3\nsize = 3\nstride = 2\npadding = same\n"
                           "activation = relu\n"
                           "[dense]\nunits = 2\n[softmax]\n";
enum { CONV_W = 3 * 3 * 3 * 2, CONV_B = 3, DENSE_W = 2 * 12, DENSE_B = 2 };
enum { PARAMS = CONV_W + CONV_B + DENSE_W + DENSE_B };

static clt_checkpoint_layer layers[3] = {
    {2, {CONV_W, CONV_B, 0, 0}, 0}, {2, {DENSE_W, DENSE_B, 0, 0}, 0}, {0, {0}, 0}};
static float params[PARAMS];

static void sample(clt_checkpoint *ck) {
  memset(ck, 0, sizeof *ck);
  static char options[] = "[run]\nmodel = models/tiny.cfg\n";
  static char names[] = "cat\n\"dog\"\n";
  for (int i = 0; i < PARAMS; i++) params[i] = 0.01f * (float)i - 0.3f;
  ck->model_text = model_text;
  ck->model_length = strlen(model_text);
  ck->options = options;
  ck->class_names = names;
  ck->layer_count = 3;
  ck->layers = layers;
  ck->params = params;
  ck->param_floats = PARAMS;
}

static Onnx__ModelProto *read_model(const char *path) {
  size_t size = 0;
  unsigned char *bytes = clt_test_read_file(path, &size);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
  free(bytes);
  assert_non_null(m);
  return m;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  fail_msg("node %s has no attribute %s", n->name, name);
  return NULL;
}

static void expect_ints(const Onnx__AttributeProto *a, const int64_t *want, size_t n) {
  assert_int_equal(a->n_ints, n);
  for (size_t i = 0; i < n; i++) assert_int_equal(a->ints[i], want[i]);
}

static const Onnx__TensorProto *initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (strcmp(g->initializer[i]->name, name) == 0) return g->initializer[i];
  fail_msg("no initializer %s", name);
  return NULL;
}

static void expect_dims(const Onnx__ValueInfoProto *v, const char *name, const int64_t *dims,
                        size_t n) {
  assert_string_equal(v->name, name);
  const Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
  assert_int_equal(v->type->tensor_type->elem_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  assert_int_equal(s->n_dim, n);
  assert_int_equal(s->dim[0]->value_case, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM);
  assert_string_equal(s->dim[0]->dim_param, "batch");
  for (size_t i = 1; i < n; i++) assert_int_equal(s->dim[i]->dim_value, dims[i]);
}

static void export_reads_back(void **state) {
  (void)state;
  clt_checkpoint ck;
  sample(&ck);
  const char *path = clt_test_tmp_path("tiny.onnx");
  clt_onnx_summary s;
  OK(clt_onnx_export(&ck, path, "9.8.7", &s));
  assert_int_equal(s.layers, 3);
  assert_int_equal(s.outputs, 2);
  assert_string_equal(s.output, "probabilities");

  Onnx__ModelProto *m = read_model(path);
  assert_int_equal(m->ir_version, CLT_ONNX_IR_VERSION);
  assert_int_equal(m->n_opset_import, 1);
  assert_string_equal(m->opset_import[0]->domain, "");
  assert_int_equal(m->opset_import[0]->version, 13);
  assert_string_equal(m->producer_name, "cltrain");
  assert_string_equal(m->producer_version, "9.8.7");
  const Onnx__GraphProto *g = m->graph;
  assert_string_equal(g->name, "tiny");
  assert_int_equal(g->n_input, 1);
  assert_int_equal(g->n_output, 1);
  expect_dims(g->input[0], "input", (const int64_t[]){-1, 2, 4, 4}, 4);
  expect_dims(g->output[0], "probabilities", (const int64_t[]){-1, 2}, 2);

  static const char *const ops[] = {"Conv", "Relu", "Flatten", "Gemm", "Softmax"};
  assert_int_equal(g->n_node, 5);
  for (int i = 0; i < 5; i++) assert_string_equal(g->node[i]->op_type, ops[i]);
  const Onnx__NodeProto *conv = g->node[0];
  assert_string_equal(conv->input[0], "input");
  expect_ints(attr(conv, "kernel_shape"), (const int64_t[]){3, 3}, 2);
  expect_ints(attr(conv, "strides"), (const int64_t[]){2, 2}, 2);
  expect_ints(attr(conv, "pads"), (const int64_t[]){0, 0, 1, 1}, 4); /* top, left, bottom, right */
  assert_int_equal(attr(g->node[2], "axis")->i, 1);
  assert_int_equal(attr(g->node[3], "transB")->i, 1);
  assert_int_equal(attr(g->node[4], "axis")->i, 1);
  assert_string_equal(g->node[4]->output[0], "probabilities");
  for (int i = 1; i < 5; i++) /* a chain: each node reads the previous one's output */
    assert_string_equal(g->node[i]->input[0], g->node[i - 1]->output[0]);

  float want[CONV_W > DENSE_W ? CONV_W : DENSE_W];
  const Onnx__TensorProto *cw = initializer(g, conv->input[1]);
  assert_int_equal(cw->n_dims, 4);
  assert_int_equal(cw->dims[0], 3);
  assert_int_equal(cw->dims[1], 2);
  assert_int_equal(cw->dims[2], 3);
  assert_int_equal(cw->n_float_data, CONV_W);
  clt_onnx_conv_weights(params, 3, 3, 2, want);
  assert_memory_equal(cw->float_data, want, sizeof(float) * CONV_W);
  assert_memory_equal(initializer(g, conv->input[2])->float_data, params + CONV_W,
                      sizeof(float) * CONV_B);
  const Onnx__TensorProto *dw = initializer(g, g->node[3]->input[1]);
  assert_int_equal(dw->dims[0], 2);
  assert_int_equal(dw->dims[1], 12);
  clt_onnx_dense_weights(params + CONV_W + CONV_B, 2, 2, 2, 3, want);
  assert_memory_equal(dw->float_data, want, sizeof(float) * DENSE_W);
  assert_true(memcmp(want, params + CONV_W + CONV_B, sizeof(float) * DENSE_W) !=
              0); /* really permuted */

  int seen = 0;
  for (size_t i = 0; i < m->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto *e = m->metadata_props[i];
    for (size_t j = 0; j < i; j++) /* onnx.checker refuses duplicate keys */
      assert_string_not_equal(e->key, m->metadata_props[j]->key);
    if (strcmp(e->key, "class_names") == 0) {
      assert_string_equal(e->value, "[\"cat\",\"\\\"dog\\\"\"]");
      seen |= 1;
    }
    if (strcmp(e->key, "cltrain_model_file") == 0) {
      assert_string_equal(e->value, model_text);
      seen |= 2;
    }
  }
  assert_int_equal(seen, 3);
  onnx__model_proto__free_unpacked(m, NULL);
}

static void mismatched_tensors_refused(void **state) {
  (void)state;
  clt_checkpoint ck;
  sample(&ck);
  clt_checkpoint_layer wrong[3];
  memcpy(wrong, layers, sizeof wrong);
  wrong[1].param_floats[0] = DENSE_W - 1;
  ck.layers = wrong;
  const char *path = clt_test_tmp_path("wrong.onnx");
  EXPECT_FAIL(clt_onnx_export(&ck, path, "1", NULL), CLT_ERR_BAD_DATA, "layer 2 [dense]");
  ck.layers = layers;
  ck.layer_count = 2;
  EXPECT_FAIL(clt_onnx_export(&ck, path, "1", NULL), CLT_ERR_BAD_DATA, "tensors of 2 layers");
  ck.layer_count = 3;
  ck.param_floats = PARAMS + 1;
  EXPECT_FAIL(clt_onnx_export(&ck, path, "1", NULL), CLT_ERR_BAD_DATA, "parameter");
  FILE *f = fopen(path, "rb");
  assert_null(f); /* nothing written */
}

static void unwritable_path_refused(void **state) {
  (void)state;
  clt_checkpoint ck;
  sample(&ck);
  char path[1200];
  snprintf(path, sizeof path, "%s/no-such-folder/m.onnx", clt_test_tmpdir());
  EXPECT_FAIL(clt_onnx_export(&ck, path, "1", NULL), CLT_ERR_IO, "no-such-folder");
}

static void every_layer_type_has_a_mapping(void **state) {
  (void)state;
  for (const clt_layer_ops *const *ops = clt_layer_all(); *ops; ops++)
    if (!clt_onnx_mapping((*ops)->name))
      fail_msg("layer type [%s] has no ONNX mapping: add one in src/export or list it here as "
               "refused",
               (*ops)->name);
  assert_null(clt_onnx_mapping("lstm"));
  assert_non_null(strstr(clt_onnx_supported_layers(), "conv, dense"));
}

/* Runs cltrain export ARGS... in the temporary folder; its exit code, stderr into err. */
static int run_export(char *err, size_t size, const char *const *args) {
  const char *argv[8] = {"export"};
  int n = 1;
  for (int i = 0; args[i] && n < 7; i++) argv[n++] = args[i];
  argv[n] = NULL;
  int rc = clt_test_cltrain_wait(clt_test_cltrain_start(clt_test_tmpdir(), "cpu", argv));
  size_t got = 0;
  unsigned char *text = clt_test_read_file(clt_test_tmp_path("err.txt"), &got);
  snprintf(err, size, "%s", (char *)text);
  free(text);
  return rc;
}

static void command_exit_codes(void **state) {
  (void)state;
  clt_checkpoint ck;
  sample(&ck);
  ck.batch = 4; /* a readable file needs a position */
  OK(clt_checkpoint_write(clt_test_tmp_path("tiny.ckpt"), &ck));
  clt_test_write_file(clt_test_tmp_path("text.ckpt"), "not a checkpoint\n", 17);
  char err[4096];
  int rc = run_export(err, sizeof err, (const char *[]){"tiny.ckpt", "-o", "t.onnx", NULL});
  if (rc != 0) fail_msg("cltrain export exited %d: %s", rc, err);
  size_t size = 0;
  unsigned char *out = clt_test_read_file(clt_test_tmp_path("out.txt"), &size);
  assert_non_null(strstr((char *)out, "wrote t.onnx: 3 layers"));
  assert_non_null(strstr((char *)out, "input \"input\" [batch, 2, 4, 4] (NCHW)"));
  free(out);
  onnx__model_proto__free_unpacked(read_model(clt_test_tmp_path("t.onnx")), NULL);

  struct {
    const char *args[5];
    int rc;
    const char *says;
  } cases[] = {
      {{NULL}, 64, "expected one checkpoint and -o"},
      {{"tiny.ckpt", NULL}, 64, "-o MODEL.onnx"},
      {{"tiny.ckpt", "tiny.ckpt", "-o", "x.onnx", NULL}, 64, "expected one checkpoint"},
      {{"missing.ckpt", "-o", "x.onnx", NULL}, 66, "missing.ckpt: no such checkpoint"},
      {{"text.ckpt", "-o", "x.onnx", NULL}, 65, "text.ckpt"},
      {{"tiny.ckpt", "-o", "no-folder/x.onnx", NULL}, 74, "no-folder/x.onnx.tmp"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = run_export(err, sizeof err, cases[i].args);
    if (rc != cases[i].rc || !strstr(err, cases[i].says))
      fail_msg("case %zu: exit %d (want %d), stderr: %s (want '%s')", i, rc, cases[i].rc, err,
               cases[i].says);
  }
}

int main(void) {
  if (clt_test_cltrain_missing()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(export_reads_back),       cmocka_unit_test(mismatched_tensors_refused),
      cmocka_unit_test(unwritable_path_refused), cmocka_unit_test(every_layer_type_has_a_mapping),
      cmocka_unit_test(command_exit_codes),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
