/* Checkpoint files (docs/CHECKPOINT.md): everything a run needs to be evaluated or
 * resumed bit for bit, in one file of CRC-checked sections, written atomically.
 *
 * Writing: a temporary file PATH.tmp in the same folder, written, fsync'ed, renamed over
 * PATH, then the folder fsync'ed: a crash or kill -9 at any moment leaves either the old
 * or the new checkpoint at PATH, never a broken one (a stale PATH.tmp is replaced by the
 * next save). Two runs must not save to the same PATH at the same time.
 *
 * Reading checks everything before anything is used: a file that is truncated, damaged
 * (a CRC mismatch), not a checkpoint (magic), of another byte order, or made by a newer
 * cltrain fails with CLT_ERR_BAD_DATA and a message that says what to do. */
#ifndef CLT_TRAIN_CHECKPOINT_H
#define CLT_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "nn/network.h"
#include "train/trainer.h"

#define CLT_CHECKPOINT_VERSION 1 /* the newest format this build reads and the one it writes */

/* One layer's tensors, as the model defines them (independent of the device's alignment). */
typedef struct clt_checkpoint_layer {
  int param_count;
  uint64_t param_floats[CLT_MAX_PARAMS];
  uint64_t state_floats;
} clt_checkpoint_layer;

typedef struct clt_checkpoint {
  uint32_t version; /* format version of the file read (CLT_CHECKPOINT_VERSION when written) */
  char *model_text; /* MODL: the model file's text, NUL-terminated */
  size_t model_length;
  char *options;        /* OPTS: "key = value" lines: the recipe and the command-line options */
  char *device;         /* DEVC: "key = value" lines: device, driver, kernel build options */
  char *class_names;    /* CLAS: one name per line, or NULL when the data had none */
  unsigned char *table; /* TABL: the CSV statistics (data/csv_schema.h), or NULL */
  size_t table_length;

  /* POSN: where the run stands. */
  clt_train_position pos;
  int epochs;          /* the run's total epochs */
  int steps_per_epoch; /* with batch and train_n */
  int batch;
  uint32_t seed;
  int train_n, val_n; /* samples in the training and validation sets */
  uint32_t data_crc;  /* clt_checkpoint_data_crc of the training set */

  /* SHAP: the tensor table; PARM, OPTM, LSTA: the floats, each tensor densely packed. */
  int layer_count;
  clt_checkpoint_layer *layers;
  int optimizer_blocks; /* optimizer-state floats per parameter float (0, 1 or 2) */
  float *params;        /* every parameter tensor, layer by layer, in the layer's order */
  size_t param_floats;
  float *optimizer; /* block b (v; or m then v) of every tensor, for b = 0, 1, ... */
  size_t optimizer_floats;
  float *state; /* every layer's state (batchnorm running mean and variance) */
  size_t state_floats;
  /* RPLC (optional): the replica layout as "key = value" lines: replicas (ranks x local
   * devices), ranks, batch (global) and split (samples per replica, comma-separated);
   * NULL: one replica (checkpoints before data-parallel training have none). */
  char *layout;
} clt_checkpoint;

/* Reads and checks path. *out is zeroed first (clt_checkpoint_free is safe after a
 * failure). CLT_ERR_MISSING_INPUT: no such file; CLT_ERR_IO: unreadable;
 * CLT_ERR_BAD_DATA: anything wrong with the contents. */
clt_status clt_checkpoint_read(const char *path, clt_checkpoint *out);
/* The same checks on the bytes of a file already in memory (name for messages). */
clt_status clt_checkpoint_parse(const unsigned char *data, size_t size, const char *name,
                                clt_checkpoint *out);

/* Writes ck to path atomically and durably (see above). CLT_ERR_IO on failure (the old
 * file, if any, is then unchanged). path must be a regular file or a new path (a symbolic
 * link is followed: the file it names is replaced, the link stays); a folder, device, FIFO or
 * socket is refused with CLT_ERR_USAGE (runtime/file_check.h). */
clt_status clt_checkpoint_write(const char *path, const clt_checkpoint *ck);

/* 1 when the n bytes at head start with the checkpoint magic number. */
int clt_checkpoint_has_magic(const void *head, size_t n);

/* Checks path as a place to save checkpoints before a run starts: a new path, an empty file or
 * an existing checkpoint is fine; anything else existing is refused with CLT_ERR_USAGE unless
 * overwrite (--overwrite) says to replace it; a folder, device, FIFO or socket always is. */
clt_status clt_checkpoint_target_check(const char *path, int overwrite);

void clt_checkpoint_free(clt_checkpoint *ck);

/* Copies the tensor table, parameters, optimizer state and layer state of net into ck
 * (replacing any held there): blocking reads after all work queued so far. A NaN or
 * infinite value anywhere is CLT_ERR_NON_FINITE (ck unchanged): no checkpoint holds one. */
clt_status clt_checkpoint_capture(clt_network *net, clt_checkpoint *ck);

/* Parses ck's model text (model_name for its messages) into *out and checks it against the
 * tensors of checkpoint ck (read from name)
 * before anything is planned or allocated: a tensor table that is not the model's and a NaN
 * or infinite parameter, optimizer-state or layer-state float are CLT_ERR_BAD_DATA naming the
 * layer (and the tensor and index). Eval, predict and resume read checkpoints through it. */
clt_status clt_checkpoint_model(const clt_checkpoint *ck, const char *name, const char *model_name,
                                clt_model **out);

/* Writes ck's tensors into net: the parameters and layer state always, the optimizer
 * state when with_optimizer (then its layout must match net's optimizer). A tensor
 * table that differs from net's model is CLT_ERR_BAD_DATA naming the first difference. */
clt_status clt_checkpoint_restore(clt_network *net, const clt_checkpoint *ck, int with_optimizer);

/* The DEVC text for ctx: device, vendor, platform, driver and OpenCL versions, and the
 * build options of every program built so far. Caller frees. */
char *clt_checkpoint_device_text(const clt_ctx *ctx);

/* The value of key in "key = value" lines (ck->options or ck->device), copied into buf.
 * Returns 1 when found (and it fits), else 0 (buf = ""). */
int clt_checkpoint_value(const char *text, const char *key, char *buf, size_t size);

/* CRC32 of a data set's labels and images: tells whether a resumed run sees the same data. */
uint32_t clt_checkpoint_data_crc(const clt_dataset *ds);

/* The --keep-best file of path: "-best" before the extension of the file name
 * ("run.ckpt" -> "run-best.ckpt", "run" -> "run-best"). Returns 0, or -1 when it does not
 * fit in size. */
int clt_checkpoint_best_path(const char *path, char *out, size_t size);

#endif
