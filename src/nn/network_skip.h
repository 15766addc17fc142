/* The gradients of layers whose output is also read through a `from` key
 * ([add]): each such layer has an accumulator skip_grad [B, out] in the
 * activation arena. Backward zeroes them first, every reader ADDS its skip
 * gradient into its source's accumulator (pass->dx2), and when backward reaches
 * the source, its accumulator is added to the gradient from its direct successor
 * (the ping-pong buffer) before the source's own backward runs. */
#ifndef CLT_NN_NETWORK_SKIP_H
#define CLT_NN_NETWORK_SKIP_H

#include "nn/network.h"

/* Creates the add kernel when some layer has readers. */
clt_status clt_network_skip_prepare(clt_network *net);
/* Zeroes the first n samples of every accumulator. */
clt_status clt_network_skip_zero(clt_network *net, int n);
/* dy [n, out of layer i] += layer i's accumulator, when layer i has readers. */
clt_status clt_network_skip_collect(clt_network *net, int i, int n, cl_mem dy);

#endif
