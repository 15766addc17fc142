#include "nn/activation.h"

#include <string.h>

static const char *const names[CLT_ACT_COUNT] = {"linear", "relu", "leaky_relu", "sigmoid", "tanh"};

int clt_activation_from_name(const char *name, clt_activation *out) {
  for (int i = 0; i < CLT_ACT_COUNT; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (clt_activation)i;
      return 0;
    }
  }
  return -1;
}

const char *clt_activation_name(clt_activation act) {
  return (act >= 0 && act < CLT_ACT_COUNT) ? names[act] : "?";
}

const char *clt_activation_choices(void) {
  return "linear, relu, leaky_relu, sigmoid, tanh";
}
