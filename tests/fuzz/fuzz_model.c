/* Fuzz harness: the model-file parser (clt_model_parse), what `cltrain train MODEL` and every
 * checkpoint's MODL section go through. On success the model must be consistent: shapes
 * chained from the input to the loss head ([softmax] for classification, [mse] for
 * regression), parameter counts summed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "nn/model.h"

#define H "fuzz_model"

static int positive(clt_shape s) {
  return s.h > 0 && s.w > 0 && s.c > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0; /* clt_model_load refuses files over 1 MiB */
  clt_clear_error();
  clt_model *m = (clt_model *)1;
  clt_status st = clt_model_parse((const char *)data, size, "fuzz.cfg", &m);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, m == NULL);
    return 0;
  }
  FUZZ_CHECK(H, m && m->layer_count >= 1 && m->text_length == size);
  FUZZ_CHECK(H, memcmp(m->text, data, size) == 0 && m->text[size] == '\0');
  FUZZ_CHECK(H, positive(m->input));
  const char *head = m->layers[m->layer_count - 1].ops->name;
  FUZZ_CHECK(H, strcmp(head, m->regression ? "mse" : "softmax") == 0);
  clt_shape shape = m->input;
  size_t params = 0;
  for (int i = 0; i < m->layer_count; i++) {
    const clt_model_layer *l = &m->layers[i];
    FUZZ_CHECK(H, l->ops && l->self);
    FUZZ_CHECK(H, memcmp(&l->in, &shape, sizeof shape) == 0);
    FUZZ_CHECK(H, positive(l->out));
    params += l->param_floats;
    shape = l->out;
  }
  FUZZ_CHECK(H, params == m->param_floats);
  FUZZ_CHECK(H, m->classes == shape.c && m->classes >= 1);
  clt_model_free(m);
  return 0;
}
