/* A small builder of one ONNX model over the protobuf-c structs generated from onnx.proto
 * (cmake/OnnxProto.cmake): nodes, float and int64 initializers, the graph's input and
 * output, metadata; then one serialised model written atomically.
 *
 * The builder owns every string, array and message it makes. Allocation failures are
 * sticky: the call that fails marks the graph and every later call does nothing, so the
 * layer mappings need no checks of their own; clt_onnx_graph_write then reports
 * CLT_ERR_OUT_OF_MEMORY. */
#ifndef CLT_EXPORT_ONNX_GRAPH_H
#define CLT_EXPORT_ONNX_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"

#define CLT_ONNX_IR_VERSION 8 /* ONNX 1.10 to 1.12; every ONNX Runtime since 1.10 reads it */
#define CLT_ONNX_OPSET      13

typedef struct clt_onnx_graph clt_onnx_graph;
typedef struct Onnx__NodeProto clt_onnx_node; /* from onnx.pb-c.h */

/* NULL when out of host memory. */
clt_onnx_graph *clt_onnx_graph_create(const char *graph_name);
void clt_onnx_graph_free(clt_onnx_graph *g);
/* 1 when an allocation has failed. */
int clt_onnx_graph_failed(const clt_onnx_graph *g);

/* Nodes and initializers added so far. */
void clt_onnx_graph_counts(const clt_onnx_graph *g, int *nodes, int *initializers);

/* A tensor name owned by the graph, printf-style ("" after a failure). */
const char *clt_onnx_name(clt_onnx_graph *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A float32 initializer named name with dims [ndims] holding a copy of data (the product
 * of dims floats). Returns name. */
const char *clt_onnx_floats(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims,
                            const float *data);
/* An int64 1-D initializer of n values (Reshape's shape). Returns name. */
const char *clt_onnx_int64s(clt_onnx_graph *g, const char *name, const int64_t *values, int n);

/* Appends node op_type (in the default domain) with n_in inputs and one output. Returns
 * the node for the attribute calls below, NULL after a failure (which they accept). */
clt_onnx_node *clt_onnx_add_node(clt_onnx_graph *g, const char *op_type, const char *node_name,
                                 const char *const *inputs, int n_in, const char *output);
void clt_onnx_attr_int(clt_onnx_graph *g, clt_onnx_node *node, const char *name, int64_t v);
void clt_onnx_attr_ints(clt_onnx_graph *g, clt_onnx_node *node, const char *name, const int64_t *v,
                        int n);
void clt_onnx_attr_float(clt_onnx_graph *g, clt_onnx_node *node, const char *name, float v);

/* The graph's float32 input or output name with dims [ndims]; dims[0] < 0 is the dynamic
 * dimension "batch". */
void clt_onnx_add_input(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims);
void clt_onnx_add_output(clt_onnx_graph *g, const char *name, const int64_t *dims, int ndims);

/* A metadata_props entry of the model. value NULL (the caller's allocation failed) marks
 * the graph as failed. */
void clt_onnx_add_metadata(clt_onnx_graph *g, const char *key, const char *value);

/* Serialises the model (IR version CLT_ONNX_IR_VERSION, default-domain opset
 * CLT_ONNX_OPSET, the producer's name and version) and writes it to path atomically
 * (PATH.tmp, fsync, rename). CLT_ERR_OUT_OF_MEMORY after a failed allocation,
 * CLT_ERR_IO when the file cannot be written (path is then unchanged). */
clt_status clt_onnx_graph_write(clt_onnx_graph *g, const char *path, const char *producer,
                                const char *producer_version);

#endif
