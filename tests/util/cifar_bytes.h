/* CIFAR-10 binary batch bytes for the tests: records of 1 label byte + 3072 planar pixel bytes
 * (R plane, G plane, B plane, each 32x32 row-major), a learnable synthetic set, and whole
 * folders (data_batch_N.bin, test_batch.bin, batches.meta.txt). */
#ifndef CLT_TEST_CIFAR_BYTES_H
#define CLT_TEST_CIFAR_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define CLT_TEST_CIFAR_RECORD 3073

/* CIFAR-10's ten class names, in label order. */
extern const char *const clt_test_cifar_names[10];

/* Writes record number index of a learnable set into rec[3073]: label (index hashed with seed)
 * % classes; the class sets a colour and a bright 8x8 square at a class-dependent place, under
 * uniform noise of +-48 levels. Returns the label. */
int clt_test_cifar_record(uint8_t *rec, uint32_t seed, int index, int classes);

/* Writes n learnable records (indices first .. first + n - 1) as the file "<dir>/<name>". */
void clt_test_write_cifar_batch(const char *dir, const char *name, uint32_t seed, int first, int n,
                                int classes);

/* Writes "<dir>/batches.meta.txt": count names, one per line, and a blank line at the end
 * (as the real file has). */
void clt_test_write_cifar_meta(const char *dir, const char *const *names, int count);

#endif
