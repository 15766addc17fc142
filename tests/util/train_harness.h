/* In-process training runs for the trainer tests (train/trainer.h): a learnable data set of
 * small images, a network with its optimizer built from model text, and a whole run (fresh or
 * resumed from a checkpoint file, optionally saving one at a given step) whose final tensors
 * and epoch reports are kept for comparison. Include after <cmocka.h>'s prerequisites. */
#ifndef CLT_TEST_TRAIN_HARNESS_H
#define CLT_TEST_TRAIN_HARNESS_H

#include <stddef.h>

#include "data/dataset.h"
#include "runtime/context.h"
#include "train/trainer.h"

/* The side of the images of clt_test_make_block_set(). */
#define CLT_TEST_TRAIN_SIDE 12

/* n samples (first to first + n - 1 of a seeded stream) of 12x12x1 images in 10 classes: the
 * image of class k has a bright 4x3 block (row k / 4, column k % 4) over noise, placed off
 * centre so that shifts and flips change it. Free with clt_dataset_free(). */
void clt_test_make_block_set(int first, int n, clt_dataset *ds);

/* The data of a resume test: training and validation sets of clt_test_make_block_set() (samples
 * 0 to train_n - 1, then val_n more) and the program's temporary folder (temp_files.h). */
typedef struct clt_test_block_data {
  clt_dataset train, val;
  const char *folder;
} clt_test_block_data;
/* Makes them; 0, or -1 when the folder cannot be made (the return value of a group setup). */
int clt_test_block_data_create(clt_test_block_data *data, int train_n, int val_n);
/* Frees the sets and removes the folder. */
void clt_test_block_data_free(clt_test_block_data *data);

/* A network built from model text: its recipe in cfg (read_every 4), its optimizer, and the
 * network with the recipe's batch and seed. Fails the test when any part cannot be built. */
typedef struct clt_test_trainee {
  clt_model *model;
  clt_train_config cfg;
  clt_optim *opt;
  clt_network *net;
} clt_test_trainee;
void clt_test_trainee_build(clt_ctx *ctx, const char *text, const char *name, clt_test_trainee *t);
void clt_test_trainee_destroy(clt_test_trainee *t);

/* One run: the model text (name in messages), the data, and how to run it. */
typedef struct clt_test_run_spec {
  const char *text, *name;
  const clt_dataset *train, *val;
  int stream;              /* stream the batches from the host (cfg.force_stream) */
  const char *resume_from; /* a checkpoint file to start from; NULL: a fresh run */
  const char *save_path;   /* where to save a checkpoint at global step save_at; NULL: nowhere */
  int save_at;
  int evaluate; /* run clt_evaluate on val after training (into eval_loss, eval_accuracy) */
} clt_test_run_spec;

/* What a run ends with: the tensors read back from the device and the epoch reports. */
typedef struct clt_test_run_result {
  unsigned char *params, *optimizer, *state; /* malloc'd copies of the arenas */
  size_t params_size, optimizer_size, state_size;
  clt_epoch_report reports[8]; /* the first 8 epochs' */
  int report_count;
  double eval_loss, eval_accuracy;
} clt_test_run_result;

/* Trains as spec says into out (zeroed first); fails the test when training fails or, with
 * save_path, no checkpoint was saved. */
void clt_test_train_run(const clt_test_run_spec *spec, clt_test_run_result *out);
void clt_test_run_result_free(clt_test_run_result *r);

/* How many of the bytes / 4 floats of a and b differ bit for bit. */
size_t clt_test_differing_floats(const unsigned char *a, const unsigned char *b, size_t bytes);

#endif
