#include "runtime/file_check.h"
#include "train/checkpoint.h"
#include "export/onnx_graph.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"

struct clt_onnx_graph {
  int failed;
  void **owned; /* every string, array and message made, freed together */
  size_t n_owned;
  Onnx__GraphProto graph;                  /* its node, initializer, input and output arrays */
  Onnx__StringStringEntryProto **metadata; /* grow with realloc and are freed on their own */
  size_t n_metadata;
};

/* Takes p into the graph's ownership; NULL (a failed allocation) marks the graph. */
static void *own(clt_onnx_graph *g, void *p) {
  if (!p || g->failed) {
    free(p);
    g->failed = 1;
    return NULL;
  }
  void **more = realloc(g->owned, (g->n_owned + 1) * sizeof *more);
  if (!more) {
    free(p);
    g->failed = 1;
    return NULL;
  }
  g->owned = more;
  g->owned[g->n_owned++] = p;
  return p;
}

static void *zalloc(clt_onnx_graph *g, size_t size) {
  return own(g, calloc(1, size));
}

static char *copy_string(clt_onnx_graph *g, const char *s) {
  return own(g, strdup(s));
}

/* Appends item to the realloc'ed array field of count elements. */
#define PUSH(g, field, count, item)                                                                \
  do {                                                                                             \
    if ((g)->failed || !(item)) {                                                                  \
      (g)->failed = 1;                                                                             \
      break;                                                                                       \
    }                                                                                              \
    void *grown_ = realloc((field), ((count) + 1) * sizeof *(field));                              \
    if (!grown_) {                                                                                 \
      (g)->failed = 1;                                                                             \
      break;                                                                                       \
    }                                                                                              \
    (field) = grown_;                                                                              \
    (field)[(count)++] = (item);                                                                   \
  } while (0)

clt_onnx_graph *clt_onnx_graph_create(const char *graph_name) {
  clt_onnx_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  onnx__graph_proto__init(&g->graph);
  g->graph.name = copy_string(g, graph_name);
  if (g->failed) {
    clt_onnx_graph_free(g);
    return NULL;
  }
  return g;
}

void clt_onnx_graph_free(clt_onnx_graph *g) {
  if (!g) return;
  for (size_t i = 0; i < g->graph.n_node; i++) free(g->graph.node[i]->attribute);
  free(g->graph.node);
  free(g->graph.initializer);
  free(g->graph.input);
  free(g->graph.output);
  free(g->metadata);
  for (size_t i = 0; i < g->n_owned; i++) free(g->owned[i]);
  free(g->owned);
  free(g);
}

int clt_onnx_graph_failed(const clt_onnx_graph *g) {
  return g->failed;
}

void clt_onnx_graph_counts(const clt_onnx_graph *g, int *nodes, int *initializers) {
  *nodes = (int)g->graph.n_node;
  *initializers = (int)g->graph.n_initializer;
}

const char *clt_onnx_name(clt_onnx_graph *g, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  const char *s = copy_string(g, buf);
  return s ? s : "";
}

static Onnx__TensorProto *tensor(clt_onnx_graph *g, const char *name, const int64_t *dims,
                                 int ndims, int32_t data_type) {
  Onnx__TensorProto *t = zalloc(g, sizeof *t);
  int64_t *d = zalloc(g, (size_t)(ndims > 0 ? ndims : 1) * sizeof *d);
  char *n = copy_string(g, name);
  if (g->failed) return NULL;
  onnx__tensor_proto__init(t);
  memcpy(d, dims, (size_t)ndims * sizeof *d);
  t->n_dims = (size_t)ndims;
  t->dims = d;
  t->has_data_type = 1;
  t->data_type = data_type;
  t->name = n;
  return t;
}

const char *clt_onnx_floats(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims,
                            const float *data) {
  size_t count = 1;
  for (int i = 0; i < ndims; i++) count *= (size_t)dims[i];
  Onnx__TensorProto *t = tensor(g, name, dims, ndims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  float *copy = own(g, malloc((count ? count : 1) * sizeof *copy));
  if (g->failed) return name;
  memcpy(copy, data, count * sizeof *copy);
  t->n_float_data = count;
  t->float_data = copy;
  PUSH(g, g->graph.initializer, g->graph.n_initializer, t);
  return name;
}

const char *clt_onnx_int64s(clt_onnx_graph *g, const char *name, const int64_t *values, int n) {
  int64_t dims[1] = {n};
  Onnx__TensorProto *t = tensor(g, name, dims, 1, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
  int64_t *copy = own(g, malloc((size_t)(n > 0 ? n : 1) * sizeof *copy));
  if (g->failed) return name;
  memcpy(copy, values, (size_t)n * sizeof *copy);
  t->n_int64_data = (size_t)n;
  t->int64_data = copy;
  PUSH(g, g->graph.initializer, g->graph.n_initializer, t);
  return name;
}

clt_onnx_node *clt_onnx_add_node(clt_onnx_graph *g, const char *op_type, const char *node_name,
                                 const char *const *inputs, int n_in, const char *output) {
  Onnx__NodeProto *node = zalloc(g, sizeof *node);
  char **in = zalloc(g, (size_t)(n_in > 0 ? n_in : 1) * sizeof *in);
  char **out = zalloc(g, sizeof *out);
  if (g->failed) return NULL;
  onnx__node_proto__init(node);
  for (int i = 0; i < n_in; i++) in[i] = copy_string(g, inputs[i]);
  out[0] = copy_string(g, output);
  node->op_type = copy_string(g, op_type);
  node->name = copy_string(g, node_name);
  if (g->failed) return NULL;
  node->n_input = (size_t)n_in;
  node->input = in;
  node->n_output = 1;
  node->output = out;
  PUSH(g, g->graph.node, g->graph.n_node, node);
  return g->failed ? NULL : node;
}

static Onnx__AttributeProto *attribute(clt_onnx_graph *g, clt_onnx_node *node, const char *name,
                                       Onnx__AttributeProto__AttributeType type) {
  if (!node || g->failed) return NULL;
  Onnx__AttributeProto *a = zalloc(g, sizeof *a);
  char *n = copy_string(g, name);
  if (g->failed) return NULL;
  onnx__attribute_proto__init(a);
  a->name = n;
  a->has_type = 1;
  a->type = type;
  PUSH(g, node->attribute, node->n_attribute, a);
  return g->failed ? NULL : a;
}

void clt_onnx_attr_int(clt_onnx_graph *g, clt_onnx_node *node, const char *name, int64_t v) {
  Onnx__AttributeProto *a = attribute(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (!a) return;
  a->has_i = 1;
  a->i = v;
}

void clt_onnx_attr_ints(clt_onnx_graph *g, clt_onnx_node *node, const char *name, const int64_t *v,
                        int n) {
  Onnx__AttributeProto *a = attribute(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  int64_t *copy = a ? own(g, malloc((size_t)(n > 0 ? n : 1) * sizeof *copy)) : NULL;
  if (!copy) return;
  memcpy(copy, v, (size_t)n * sizeof *copy);
  a->n_ints = (size_t)n;
  a->ints = copy;
}

void clt_onnx_attr_float(clt_onnx_graph *g, clt_onnx_node *node, const char *name, float v) {
  Onnx__AttributeProto *a = attribute(g, node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (!a) return;
  a->has_f = 1;
  a->f = v;
}

/* A float32 tensor's name and type [dims]; dims[0] < 0 is the dimension "batch". */
static Onnx__ValueInfoProto *value_info(clt_onnx_graph *g, const char *name, const int64_t *dims,
                                        int ndims) {
  Onnx__ValueInfoProto *v = zalloc(g, sizeof *v);
  Onnx__TypeProto *type = zalloc(g, sizeof *type);
  Onnx__TypeProto__Tensor *tt = zalloc(g, sizeof *tt);
  Onnx__TensorShapeProto *shape = zalloc(g, sizeof *shape);
  Onnx__TensorShapeProto__Dimension **dim = zalloc(g, (size_t)ndims * sizeof *dim);
  if (g->failed) return NULL;
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(type);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(shape);
  for (int i = 0; i < ndims; i++) {
    Onnx__TensorShapeProto__Dimension *d = zalloc(g, sizeof *d);
    if (!d) return NULL;
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[i] < 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = copy_string(g, "batch");
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    }
    dim[i] = d;
  }
  shape->n_dim = (size_t)ndims;
  shape->dim = dim;
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = shape;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  v->type = type;
  v->name = copy_string(g, name);
  return g->failed ? NULL : v;
}

void clt_onnx_add_input(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims) {
  Onnx__ValueInfoProto *v = value_info(g, name, dims, ndims);
  PUSH(g, g->graph.input, g->graph.n_input, v);
}

void clt_onnx_add_output(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims) {
  Onnx__ValueInfoProto *v = value_info(g, name, dims, ndims);
  PUSH(g, g->graph.output, g->graph.n_output, v);
}

void clt_onnx_add_metadata(clt_onnx_graph *g, const char *key, const char *value) {
  if (!value) g->failed = 1;
  Onnx__StringStringEntryProto *e = zalloc(g, sizeof *e);
  if (!e) return;
  onnx__string_string_entry_proto__init(e);
  e->key = copy_string(g, key);
  e->value = copy_string(g, value);
  PUSH(g, g->metadata, g->n_metadata, e);
}

/* Writes n bytes to path through a temporary file beside it, fsync and rename. Only a regular
 * file (or a new path) is written, through a symbolic link to its target; a folder, device,
 * pipe or socket is refused, and so is a cltrain checkpoint (an easy slip: export run.ckpt -o
 * run.ckpt would destroy the only copy of the trained model). */
static clt_status write_atomically(const char *target, const uint8_t *bytes, size_t n) {
  char path[4096], tmp[4200];
  int exists = 0;
  CLT_TRY(clt_file_write_target(target, "model export", path, sizeof path, &exists));
  if (exists) {
    unsigned char head[16];
    size_t got = 0;
    CLT_TRY(clt_file_read_head(path, "model export", head, sizeof head, &got));
    if (clt_checkpoint_has_magic(head, got))
      return clt_fail(CLT_ERR_USAGE,
                      "%s is a cltrain checkpoint: exporting there would replace it; choose "
                      "another output path (e.g. model.onnx)",
                      target);
  }
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
    return clt_fail(CLT_ERR_USAGE, "output path too long: %s", target);
  int fd = clt_file_create_fresh(tmp);
  if (fd < 0)
    return clt_fail(CLT_ERR_IO,
                    "cannot create %s: %s; check that the folder exists and is writable", tmp,
                    strerror(errno));
  size_t done = 0;
  int bad = 0;
  while (done < n && !bad) {
    ssize_t w = write(fd, bytes + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      bad = 1;
    else
      done += (size_t)w;
  }
  bad = bad || fsync(fd) != 0;
  int err = errno;
  if (close(fd) != 0 && !bad) {
    bad = 1;
    err = errno;
  }
  if (bad) {
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot write %s: %s (%s is unchanged)", tmp, strerror(err), path);
  }
  if (rename(tmp, path) != 0) {
    err = errno;
    unlink(tmp);
    return clt_fail(CLT_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(err));
  }
  return CLT_OK;
}

clt_status clt_onnx_graph_write(clt_onnx_graph *g, const char *path, const char *producer,
                                const char *producer_version) {
  Onnx__ModelProto model;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1] = {&opset};
  onnx__model_proto__init(&model);
  onnx__operator_set_id_proto__init(&opset);
  opset.domain = copy_string(g, "");
  opset.has_version = 1;
  opset.version = CLT_ONNX_OPSET;
  model.has_ir_version = 1;
  model.ir_version = CLT_ONNX_IR_VERSION;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.producer_name = copy_string(g, producer);
  model.producer_version = copy_string(g, producer_version);
  model.graph = &g->graph;
  model.n_metadata_props = g->n_metadata;
  model.metadata_props = g->metadata;
  if (g->failed)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory building the ONNX model %s", path);
  size_t size = onnx__model_proto__get_packed_size(&model);
  if (size > (size_t)INT32_MAX)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the ONNX model would take %zu bytes, over protobuf's 2 GiB limit for one "
                    "file (external tensor data is not supported); export a smaller model",
                    size);
  uint8_t *bytes = malloc(size ? size : 1);
  if (!bytes)
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the %zu bytes of %s", size,
                    path);
  size_t packed = onnx__model_proto__pack(&model, bytes);
  clt_status st = packed == size ? write_atomically(path, bytes, size)
                                 : clt_fail(CLT_ERR_INTERNAL, "protobuf-c packed %zu of %zu bytes",
                                            packed, size);
  free(bytes);
  return st;
}
