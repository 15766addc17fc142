/* Every layer type's ops table (one file each in this folder); the registry lists them. */
#ifndef CLT_NN_LAYERS_LAYERS_H
#define CLT_NN_LAYERS_LAYERS_H

#include "nn/layer.h"

extern const clt_layer_ops clt_layer_softmax;
extern const clt_layer_ops clt_layer_conv, clt_layer_dense;
extern const clt_layer_ops clt_layer_maxpool, clt_layer_avgpool, clt_layer_activation;
extern const clt_layer_ops clt_layer_dropout, clt_layer_batchnorm;
extern const clt_layer_ops clt_layer_mse;
extern const clt_layer_ops clt_layer_add, clt_layer_global_avgpool;

#endif
