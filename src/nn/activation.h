/* Activation functions: names, codes shared with cl/common.clh, and host math. */
#ifndef CLT_NN_ACTIVATION_H
#define CLT_NN_ACTIVATION_H

typedef enum clt_activation {
  CLT_ACT_LINEAR = 0,
  CLT_ACT_RELU = 1,
  CLT_ACT_LEAKY_RELU = 2,
  CLT_ACT_SIGMOID = 3,
  CLT_ACT_TANH = 4,
  CLT_ACT_COUNT
} clt_activation;

/* Returns 0 and sets *out when name is known ("relu", ...), else -1. */
int clt_activation_from_name(const char *name, clt_activation *out);
const char *clt_activation_name(clt_activation act);
/* "linear, relu, leaky_relu, sigmoid, tanh", for error messages. */
const char *clt_activation_choices(void);

#endif
