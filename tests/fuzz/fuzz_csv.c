/* libFuzzer harness: pass 1 of the CSV table reader (tokenizer, header, row checks, label
 * set, statistics) over arbitrary bytes in memory, with and without --skip-bad-rows and
 * with each task. Any input must end in CLT_OK or a clean failure, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/csv_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The first byte picks the options; the rest is the file. */
  unsigned mode = size > 0 ? data[0] : 0;
  const uint8_t *text = size > 0 ? data + 1 : data;
  size_t length = size > 0 ? size - 1 : 0;
  clt_csv_options o;
  memset(&o, 0, sizeof o);
  o.skip_bad_rows = mode & 1;
  o.regression = (mode >> 1) & 1;
  o.val_split = (mode >> 2) & 1 ? 0.25 : 0.0;
  o.chunk_rows = 1 + (int)((mode >> 3) & 7);
  o.label = (mode >> 6) & 1 ? "y" : NULL;
  clt_csv_table t;
  if (clt_csv_scan_memory(text, length, "fuzz.csv", &o, &t) == CLT_OK) {
    /* Every good row parses again with the statistics found. */
    clt_csv_reader *r = NULL;
    if (clt_csv_open_memory(text, length, "fuzz.csv", &r) == CLT_OK) {
      float x[64];
      int32_t label;
      int got = 1;
      if (t.features <= 64 && clt_csv_next(r, &got) == CLT_OK && got)
        while (clt_csv_read_row(&t, r, x, &label, &got) == CLT_OK && got) {
        }
      clt_csv_close(r);
    }
  }
  clt_csv_table_free(&t);
  return 0;
}
