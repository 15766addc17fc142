/* cltrain export under host allocation failures (tests/fault/fault_wrap.h): a checkpoint is
 * exported once to count our allocations, then once for every allocation with that one
 * failing. Each run must fail with CLT_ERR_OUT_OF_MEMORY and a message, free every block it
 * made, and leave the ONNX file written before unchanged (nothing half-written); a failure the
 * model parser tolerates must still give the same file. Allocations
 * inside libprotobuf-c and libcjson are not ours and are not failed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx_export.h"
#include "fault/fault_wrap.h"
#include "util/temp_files.h"

/* A conv, a batchnorm, a dense and a softmax: every kind of initializer and attribute. */
static char model_text[] =
    "[net]\ninput = 6x6x2\n"
    "[conv]\nfilters = 3\nsize = 3\npadding = same\nactivation = leaky_relu\n"
    "[batchnorm]\n[dense]\nunits = 2\n[softmax]\n";
enum { CONV = 3 * 3 * 3 * 2 + 3, BN = 3 + 3, DENSE = 2 * 108 + 2, STATE = 6 };

static void sample(clt_checkpoint *ck) {
  static char options[] = "[run]\nmodel = faults.cfg\n";
  static char names[] = "yes\nno\n";
  static clt_checkpoint_layer layers[4] = {{2, {CONV - 3, 3, 0, 0}, 0},
                                           {2, {3, 3, 0, 0}, STATE},
                                           {2, {DENSE - 2, 2, 0, 0}, 0},
                                           {0, {0}, 0}};
  static float params[CONV + BN + DENSE], state[STATE];
  for (int i = 0; i < CONV + BN + DENSE; i++) params[i] = 0.001f * (float)i;
  for (int i = 0; i < STATE; i++) state[i] = 1.0f + (float)i;
  memset(ck, 0, sizeof *ck);
  ck->model_text = model_text;
  ck->model_length = strlen(model_text);
  ck->options = options;
  ck->class_names = names;
  ck->layer_count = 4;
  ck->layers = layers;
  ck->params = params;
  ck->param_floats = CONV + BN + DENSE;
  ck->state = state;
  ck->state_floats = STATE;
}

static void every_allocation_fails_cleanly(void **state) {
  (void)state;
  clt_checkpoint ck;
  sample(&ck);
  const char *path = clt_test_tmp_path("m.onnx");
  assert_int_equal(clt_onnx_export(&ck, path, "1", NULL), CLT_OK);
  size_t good_size = 0;
  unsigned char *good = clt_test_read_file(path, &good_size);

  fault_record_start();
  assert_int_equal(clt_onnx_export(&ck, path, "1", NULL), CLT_OK);
  fault_record_stop();
  long total = fault_calls(FAULT_HOST_ALLOC);
  assert_true(total > 50);
  assert_int_equal(fault_live_host_blocks(), 0);

  long refused = 0;
  for (long n = 1; n <= total; n++) {
    fault_record_start();
    fault_arm(FAULT_HOST_ALLOC, n);
    clt_clear_error();
    clt_status st = clt_onnx_export(&ck, path, "1", NULL);
    int fired = fault_fired();
    fault_arm(FAULT_HOST_ALLOC, 0);
    fault_record_stop();
    if (!fired) continue; /* the count can differ run to run (e.g. realloc in place) */
    /* The model parser tolerates a few failures (clt_ini_has: a shorter list of known keys);
     * then the export succeeds and must write the same file. */
    if (st != CLT_OK && (st != CLT_ERR_OUT_OF_MEMORY || !clt_last_error()[0]))
      fail_msg("allocation %ld of %ld failing (addr2line -f -e %s 0x%lx): status %d, message '%s'",
               n, total, fault_site_binary(), fault_site_offset(), (int)st, clt_last_error());
    refused += st != CLT_OK;
    if (fault_live_host_blocks())
      fail_msg("allocation %ld of %ld failing: %ld blocks left allocated", n, total,
               fault_live_host_blocks());
    size_t size = 0;
    unsigned char *now = clt_test_read_file(path, &size);
    if (size != good_size || memcmp(now, good, size) != 0)
      fail_msg("allocation %ld of %ld failing: %s changed", n, total, path);
    free(now);
  }
  free(good);
  printf("%ld allocations, %ld failures refused with CLT_ERR_OUT_OF_MEMORY\n", total, refused);
  assert_true(refused > total / 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_allocation_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
