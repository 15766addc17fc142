/* Fuzz harness: the checkpoint reader (clt_checkpoint_parse, what clt_checkpoint_read runs on
 * a file's bytes), then what `cltrain eval`, `predict` and `train --resume` do next with the
 * host-side sections: the run options (OPTS), the model text (MODL) and the device lines.
 *
 * Every input is read twice: as given (the CRC checks must refuse damage), and with every CRC
 * recomputed, so that mutations reach the section parsers behind the CRC checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/run_options.h"

#define H "fuzz_checkpoint"

static uint32_t crc(const uint8_t *p, size_t n) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void put32(uint8_t *p, uint32_t v) {
  memcpy(p, &v, 4); /* the format is little-endian, as is every machine this runs on */
}

/* Rewrites the header CRC and each section's CRCs (docs/CHECKPOINT.md) in place. */
static void fix_crcs(uint8_t *p, size_t n) {
  if (n < 24) return;
  put32(p + 20, crc(p, 20));
  size_t at = 24;
  while (n - at >= 20) {
    uint8_t *h = p + at;
    uint64_t length;
    memcpy(&length, h + 4, 8);
    at += 20;
    if (length <= n - at) put32(h + 12, crc(p + at, (size_t)length));
    put32(h + 16, crc(h, 16));
    if (length > n - at || memcmp(h, "END ", 4) == 0) break;
    at += (size_t)length;
  }
}

static void check_read(const clt_checkpoint *ck) {
  FUZZ_CHECK(H, ck->version >= 1 && ck->version <= CLT_CHECKPOINT_VERSION);
  FUZZ_CHECK(H, ck->model_text && ck->options && ck->device);
  FUZZ_CHECK(H, strlen(ck->model_text) == ck->model_length);
  FUZZ_CHECK(H, ck->batch > 0 && ck->layer_count >= 0 && (ck->layers || !ck->layer_count));
  uint64_t params = 0, state = 0;
  for (int i = 0; i < ck->layer_count; i++) {
    FUZZ_CHECK(H, ck->layers[i].param_count >= 0 && ck->layers[i].param_count <= CLT_MAX_PARAMS);
    for (int p = 0; p < ck->layers[i].param_count; p++) params += ck->layers[i].param_floats[p];
    state += ck->layers[i].state_floats;
  }
  FUZZ_CHECK(H, params == ck->param_floats && state == ck->state_floats);
  FUZZ_CHECK(H, params * (uint64_t)ck->optimizer_blocks == ck->optimizer_floats);
  /* Touch every float: the sanitizers check each buffer's extent. */
  float sum = 0;
  for (size_t i = 0; i < ck->param_floats; i++) sum += ck->params[i];
  for (size_t i = 0; i < ck->optimizer_floats; i++) sum += ck->optimizer[i];
  for (size_t i = 0; i < ck->state_floats; i++) sum += ck->state[i];
  fuzz_sink_float = sum;
}

/* What inference.c and the resume path do with a checkpoint that read well. */
static void use_sections(const clt_checkpoint *ck) {
  clt_run_options run;
  clt_recipe recipe;
  clt_status st = clt_run_options_parse(ck->options, "fuzz.ckpt", &run, &recipe);
  if (st != CLT_OK) fuzz_check_failure(H, st);
  clt_model *model = NULL;
  st = clt_model_parse(ck->model_text, ck->model_length, "fuzz.ckpt", &model);
  if (st != CLT_OK) fuzz_check_failure(H, st);
  clt_model_free(model);
  char value[256];
  clt_checkpoint_value(ck->device, "device", value, sizeof value);
  clt_checkpoint_value(ck->device, "build_options", value, sizeof value);
}

static void read_once(const uint8_t *data, size_t size) {
  clt_clear_error();
  clt_checkpoint ck;
  clt_status st = clt_checkpoint_parse(data, size, "fuzz.ckpt", &ck);
  if (st != CLT_OK) {
    fuzz_check_failure(H, st);
    FUZZ_CHECK(H, ck.model_text == NULL && ck.layers == NULL && ck.params == NULL);
    return;
  }
  check_read(&ck);
  use_sections(&ck);
  clt_checkpoint_free(&ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exactly size bytes each time, so that the sanitizers see any read past the end. */
  uint8_t *copy = calloc(size ? size : 1, 1);
  if (!copy) abort();
  if (size) memcpy(copy, data, size);
  read_once(copy, size);
  fix_crcs(copy, size);
  read_once(copy, size);
  free(copy);
  return 0;
}
