/* Class names a data set owns: one allocation holding the count, the pointer array and the
 * strings, so that a copy is one malloc and a free is one free. */
#include "data/dataset.h"

#include <stdlib.h>
#include <string.h>

/* The block: [count][names[count]][the strings, each NUL-terminated]. */
typedef struct names_block {
  int count;
  const char *names[]; /* [count] */
} names_block;

static clt_status build_block(const char *const *names, int count, names_block **out) {
  *out = NULL;
  size_t text = 0;
  for (int i = 0; i < count; i++) text += strlen(names[i]) + 1;
  names_block *b = malloc(sizeof *b + (size_t)count * sizeof b->names[0] + text);
  if (!b) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for %d class names", count);
  b->count = count;
  char *p = (char *)&b->names[count];
  for (int i = 0; i < count; i++) {
    size_t n = strlen(names[i]) + 1;
    memcpy(p, names[i], n);
    b->names[i] = p;
    p += n;
  }
  *out = b;
  return CLT_OK;
}

clt_status clt_dataset_set_class_names(clt_dataset *ds, const char *const *names, int count) {
  if (count < 0 || (count > 0 && !names))
    return clt_fail(CLT_ERR_INTERNAL, "clt_dataset_set_class_names: %d names at %p", count,
                    (const void *)names);
  names_block *b;
  CLT_TRY(build_block(names, count, &b));
  free(ds->names_storage);
  ds->names_storage = b;
  ds->class_names = b->names;
  return CLT_OK;
}

clt_status clt_dataset_copy_class_names(const clt_dataset *from, clt_dataset *to) {
  if (!from->names_storage) return CLT_OK;
  to->names_storage = NULL;
  to->class_names = NULL;
  const names_block *src = from->names_storage;
  names_block *b;
  CLT_TRY(build_block(src->names, src->count, &b));
  to->names_storage = b;
  to->class_names = b->names;
  return CLT_OK;
}
