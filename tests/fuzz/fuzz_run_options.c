/* Fuzz harness: the checkpoint's OPTS text (clt_run_options_parse): the recipe in model-file
 * syntax and the [run] lines a resumed run takes over. What reads well must write back
 * (clt_run_options_text) to a text that reads to the same options and recipe. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "train/run_options.h"

#define H "fuzz_run_options"

static int same_recipe(const clt_recipe *a, const clt_recipe *b) {
  return a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c && a->batch == b->batch &&
         a->epochs == b->epochs && a->optimizer == b->optimizer &&
         a->learning_rate == b->learning_rate && a->momentum == b->momentum &&
         a->nesterov == b->nesterov && a->weight_decay == b->weight_decay &&
         a->schedule == b->schedule && a->warmup == b->warmup && a->step_every == b->step_every &&
         a->gamma == b->gamma && a->beta1 == b->beta1 && a->beta2 == b->beta2 &&
         a->epsilon == b->epsilon && a->seed == b->seed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 20)) return 0;
  /* The OPTS section is text without NUL bytes (the checkpoint reader refuses them). */
  if (memchr(data, '\0', size)) return 0;
  char *text = malloc(size + 1);
  if (!text) abort();
  memcpy(text, data, size);
  text[size] = '\0';
  clt_clear_error();
  clt_run_options *o = malloc(2 * sizeof *o); /* 16 KiB each: not on the stack */
  if (!o) abort();
  clt_recipe r, r2;
  clt_status st = clt_run_options_parse(text, "fuzz.ckpt", &o[0], &r);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
  } else {
    FUZZ_CHECK(H, o[0].val_split >= 0 && o[0].val_split < 1);
    char *again = clt_run_options_text(&o[0], &r);
    FUZZ_CHECK(H, again != NULL);
    st = clt_run_options_parse(again, "fuzz.ckpt (written back)", &o[1], &r2);
    FUZZ_CHECK(H, st == CLT_OK);
    FUZZ_CHECK(H, memcmp(&o[0], &o[1], sizeof o[0]) == 0);
    FUZZ_CHECK(H, same_recipe(&r, &r2));
    free(again);
  }
  free(o);
  free(text);
  return 0;
}
