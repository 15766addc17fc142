/* The graph input of an exported model (not used outside src/export). Images: "input"
 * [batch, C, H, W] as the model reads them. A checkpoint trained on a CSV table (it holds the
 * table's statistics, section TABL): "input" [batch, features], the raw feature columns,
 * standardised inside the graph with the training mean and standard deviation as cltrain
 * does when it reads the table, so users feed rows as they are in the file. */
#ifndef CLT_EXPORT_ONNX_INPUT_H
#define CLT_EXPORT_ONNX_INPUT_H

#include "export/onnx_map.h"
#include "train/checkpoint.h"

/* Adds the input (and the standardisation) to g and sets *x to the tensor the first layer
 * reads; adds the input's metadata. CLT_ERR_BAD_DATA when the table's statistics do not fit
 * the model's input. */
clt_status clt_onnx_add_graph_input(clt_onnx_graph *g, const clt_model *m, const clt_checkpoint *ck,
                                    clt_onnx_value *x);

#endif
