/* Reader for the CIFAR-10 binary version (cifar-10-batches-bin).
 *
 * A batch file is a plain run of records of 3073 bytes: one label byte (0..9), then the
 * 3072 pixel bytes of one 32x32 colour image, channel-planar: the 1024 red values, then the
 * 1024 green, then the 1024 blue, each plane row-major (row 0 left to right first). There is
 * no header: the record count is the file size / 3073. The folder holds data_batch_1.bin ..
 * data_batch_5.bin (training), test_batch.bin (test) and batches.meta.txt (the class names,
 * one per line; blank lines are ignored).
 *
 * Decoded images are the engine's NHWC floats: [n, 32, 32, 3], value / 255. */
#ifndef CLT_DATA_CIFAR_H
#define CLT_DATA_CIFAR_H

#include "cltrain/status.h"
#include "data/dataset.h"

#include <stddef.h>
#include <stdint.h>

#define CLT_CIFAR_SIDE     32
#define CLT_CIFAR_CHANNELS 3
#define CLT_CIFAR_PLANE    (CLT_CIFAR_SIDE * CLT_CIFAR_SIDE)      /* 1024 */
#define CLT_CIFAR_PIXELS   (CLT_CIFAR_PLANE * CLT_CIFAR_CHANNELS) /* 3072 */
#define CLT_CIFAR_RECORD   (1 + CLT_CIFAR_PIXELS)                 /* 3073 */
#define CLT_CIFAR_CLASSES  10
/* Training files data_batch_1.bin .. data_batch_K.bin with K at most this. */
#define CLT_CIFAR_MAX_BATCHES 99
/* Longest class name kept from batches.meta.txt (longer ones are an error). */
#define CLT_CIFAR_MAX_NAME 120

/* Checks that bytes[size], the content of the batch file called name (for messages), is a
 * whole number of records (at least one) whose labels are below classes (1..10); the count
 * into *records. CLT_ERR_BAD_DATA with one line naming the file, the record and its byte
 * offset otherwise. */
clt_status clt_cifar_check(const uint8_t *bytes, size_t size, const char *name, int classes,
                           int *records);

/* Decodes records checked by clt_cifar_check: images [records, 32, 32, 3] (planar to NHWC,
 * / 255) and labels [records]. */
void clt_cifar_decode(const uint8_t *bytes, int records, float *images, int32_t *labels);

/* The in-memory parser (and the fuzzing entry point): check, then decode into a new data set
 * (n = records, 32x32x3, classes as given, no class names). out is zeroed first. */
clt_status clt_cifar_parse(const uint8_t *bytes, size_t size, const char *name, int classes,
                           clt_dataset *out);

/* Parses the text of batches.meta.txt (name for messages): one class name per line, blank
 * lines (and a trailing '\r') ignored, 2..10 names, each at most CLT_CIFAR_MAX_NAME bytes and
 * free of NUL bytes. Sets them on ds as owned names (clt_dataset_set_class_names) and
 * ds->classes to their count. */
clt_status clt_cifar_parse_names(const char *text, size_t size, const char *name, clt_dataset *ds);

/* Whether dir holds a file named as a CIFAR batch (data_batch_N.bin or test_batch.bin). */
int clt_cifar_dir_has_batches(const char *dir);

/* Loads the training set (test_split = 0: data_batch_1.bin .. data_batch_K.bin, K >= 1 with
 * no gap) or the test set (1: test_batch.bin) of dir, with the class names of
 * batches.meta.txt when it is there (classes = their count; else 10 and no names). Missing
 * file: CLT_ERR_MISSING_INPUT; malformed: CLT_ERR_BAD_DATA; each with one line. */
clt_status clt_cifar_load_dir(const char *dir, int test_split, clt_dataset *out);

#endif
