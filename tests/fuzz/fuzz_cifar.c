/* libFuzzer harness for the CIFAR-10 binary parser (src/data/cifar.c): the input is taken
 * both as a batch file (records of 1 label byte + 3072 planar pixels) and as the text of
 * batches.meta.txt. Any input must give CLT_OK or a clean failure status, never a crash,
 * an out-of-bounds access or a leak. Seeds: tests/fuzz/corpus/cifar/. */
#include <stddef.h>
#include <stdint.h>

#include "data/cifar.h"
#include "data/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clt_dataset ds;
  /* CIFAR-10's ten classes, then as few as the first byte allows (a meta file with fewer
   * names narrows the label range). */
  if (clt_cifar_parse(data, size, "fuzz-input", CLT_CIFAR_CLASSES, &ds) == CLT_OK) {
    if ((size_t)ds.n * CLT_CIFAR_RECORD != size || ds.h != 32 || ds.w != 32 || ds.c != 3)
      __builtin_trap();
    for (int i = 0; i < ds.n; i++)
      if (ds.labels[i] < 0 || ds.labels[i] >= CLT_CIFAR_CLASSES) __builtin_trap();
  }
  clt_dataset_free(&ds);
  int classes = size > 0 ? 1 + data[0] % CLT_CIFAR_CLASSES : CLT_CIFAR_CLASSES;
  if (clt_cifar_parse(data, size, "fuzz-input", classes, &ds) == CLT_OK)
    for (int i = 0; i < ds.n; i++)
      if (ds.labels[i] >= classes) __builtin_trap();
  clt_dataset_free(&ds);

  clt_dataset names = {0};
  if (clt_cifar_parse_names((const char *)data, size, "fuzz-meta", &names) == CLT_OK) {
    if (names.classes < 2 || names.classes > CLT_CIFAR_CLASSES || !names.class_names)
      __builtin_trap();
    clt_dataset copy = names;
    if (clt_dataset_copy_class_names(&names, &copy) == CLT_OK) clt_dataset_free(&copy);
  }
  clt_dataset_free(&names);
  return 0;
}
