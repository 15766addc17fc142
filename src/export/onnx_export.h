/* cltrain export: a checkpoint's model as an ONNX model (docs/INTERNALS.md "ONNX export").
 *
 * The ONNX model takes the input named CLT_ONNX_INPUT, float32 [batch, C, H, W] (NCHW, batch
 * dynamic), pixels scaled as in training ([0, 1]) (a model trained on a CSV table: [batch,
 * features], the raw feature columns, standardised inside the graph); it gives
 * CLT_ONNX_PROBABILITIES [batch, classes] for the [softmax] head or CLT_ONNX_PREDICTION [batch, 1]
 * for [mse]. Weights are converted from cltrain's NHWC layouts, so no transposition is left to the
 * user. Opset CLT_ONNX_OPSET, IR version CLT_ONNX_IR_VERSION (export/onnx_graph.h); metadata_props
 * hold the producer, the class names (a JSON array), the head and the model file. */
#ifndef CLT_EXPORT_ONNX_EXPORT_H
#define CLT_EXPORT_ONNX_EXPORT_H

#include <stddef.h>

#include "train/checkpoint.h"

#define CLT_ONNX_INPUT         "input"
#define CLT_ONNX_PROBABILITIES "probabilities"
#define CLT_ONNX_PREDICTION    "prediction"

/* What was written, for the command's report. */
typedef struct clt_onnx_summary {
  clt_shape input;    /* the model's input, NHWC (the ONNX input is [batch, c, h, w]) */
  int tabular;        /* 1: trained on a CSV table: the ONNX input is [batch, c], raw features */
  int outputs;        /* classes, or 1 for the regression head */
  const char *output; /* CLT_ONNX_PROBABILITIES or CLT_ONNX_PREDICTION */
  int layers, nodes, initializers;
  size_t param_floats;
} clt_onnx_summary;

/* Writes the model and tensors of ck to path (atomically: PATH.tmp, then renamed).
 * producer_version: cltrain's version, stored in the model. A layer type without an ONNX
 * form, or a checkpoint whose tensors do not fit its model, is CLT_ERR_BAD_DATA naming the
 * layer; CLT_ERR_IO when path cannot be written. summary may be NULL. */
clt_status clt_onnx_export(const clt_checkpoint *ck, const char *path, const char *producer_version,
                           clt_onnx_summary *summary);

/* The same from a checkpoint file (clt_checkpoint_read's errors). */
clt_status clt_onnx_export_file(const char *checkpoint, const char *path,
                                const char *producer_version, clt_onnx_summary *summary);

/* The layer types that have an ONNX form, "conv, dense, ...", for messages and docs. */
const char *clt_onnx_supported_layers(void);

#endif
