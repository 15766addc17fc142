/* cltrain.h: the public C API of cltrain, a neural-network training engine over OpenCL.
 *
 * SYNOPSIS
 *   #include <cltrain/cltrain.h>
 *   cc prog.c $(pkg-config --cflags --libs cltrain)
 *
 * DESCRIPTION
 *   One handle, clt_session: a model placed on one OpenCL device with its optimizer, its
 *   data and its run settings. Open one from a model file or text (clt_session_open,
 *   clt_session_open_text), from a checkpoint to go on training (clt_session_resume) or
 *   from a checkpoint for inference (clt_session_open_checkpoint). Then train
 *   (clt_session_train), evaluate, predict, save and close it. docs/API.md is the guide.
 *
 *   Settings are fields, never environment variables: the library reads none. Structs that
 *   may grow carry their size in their first field; fill them with their _init function,
 *   which sets that field and every default, then change what you need.
 *
 * RETURN VALUE
 *   Every call returns a clt_status (cltrain/status.h); CLT_OK (0) on success. On failure
 *   clt_last_error() holds one line saying what was wrong and what to do, output arguments
 *   are left zeroed (handles NULL) and nothing was printed.
 *
 * THREADS
 *   A session belongs to one thread at a time; different sessions may run on different
 *   threads at once (each has its own OpenCL context and queues). clt_last_error() is per
 *   thread. Callbacks run on the thread that called clt_session_train.
 */
#ifndef CLTRAIN_CLTRAIN_H
#define CLTRAIN_CLTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "cltrain/export.h"
#include "cltrain/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLT_API_VERSION 1

/* The library's version, e.g. "0.1.0". */
CLT_API const char *clt_version(void);

/* ---- devices ---------------------------------------------------------------------------- */

typedef struct clt_device_desc {
  int platform_index, device_index; /* the "P:D" of a device spec */
  char platform[256];               /* platform name */
  char name[256];                   /* device name */
  char vendor[256];                 /* device vendor */
  char driver[256];                 /* driver version */
  char kind[16];                    /* "GPU", "CPU", "accelerator" or "other" */
  uint64_t global_memory;           /* bytes */
  uint64_t max_alloc;               /* largest single buffer, bytes */
  int compute_units;
} clt_device_desc;

/* clt_list_devices - the OpenCL devices of this machine
 *
 * Writes up to capacity descriptions into out (out may be NULL when capacity is 0) and the
 * number of devices into *count (which may exceed capacity: call again with more room).
 * No device at all is CLT_OK with *count 0. */
CLT_API clt_status clt_list_devices(clt_device_desc *out, int capacity, int *count);

/* ---- configuration ---------------------------------------------------------------------- */

/* Where a session runs and what it may reuse between runs. */
typedef struct clt_config {
  size_t struct_size;     /* sizeof(clt_config); set by clt_config_init */
  const char *device;     /* device spec: "P:D", "gpu", "cpu", "accelerator", or part of a
                             platform, vendor or device name matching one device; NULL or "":
                             the first GPU, else the first device. Sessions that train
                             also take a comma list, "all" and "gpu" (every GPU): one
                             replica per device (data-parallel, docs/SCALING.md) */
  const char *cache_dir;  /* folder for built programs and GEMM tuning; NULL: none */
  int kernel_cache;       /* 1 (default): read and write built programs in cache_dir, except
                             on drivers that cache their kernels themselves (PoCL), where
                             producing a program's binary costs a compile of every kernel;
                             2: there too (faster warm starts, slower first builds); 0: off */
  int gemm_tuning;        /* 1 (default): apply the GEMM tuning stored in cache_dir */
  uint64_t memory_limit;  /* > 0: plan as if the device had only this many bytes */
  uint64_t alloc_limit;   /* > 0: plan as if no buffer could exceed this many bytes */
  const char *kernel_dir; /* load the OpenCL sources from this folder (kernel work); NULL:
                             the ones built into the library */
  int profile;            /* 1: time every kernel; clt_session_train reports per-step device
                             times through message */
  /* Notes for a person, as they happen: the memory plan, the model summary, resuming, the
   * GEMM warm-up, where checkpoints went; text may be a part of a line (no newline yet).
   * A text that starts with '\r' is a progress line redrawn in place (decoding an image
   * folder: "\rDecoding train images: 512/60000 (1%)", the last one ending in a newline);
   * a log may drop those. NULL: dropped. */
  void (*message)(const char *text, void *user);
  /* Warnings (a cache folder that cannot be used, a resumed run on another device ...), one
   * line without newline. NULL: dropped. */
  void (*warning)(const char *text, void *user);
  void *user;
  const char *gemm_selection; /* how GEMM kernels are picked: "auto" (NULL: timed once per
                                 device and shape, then stored in cache_dir), "default" (the
                                 device's default kernel, no timing), "engine", "clblast" */
  double gemm_budget;         /* > 0: seconds a first run may spend timing GEMM kernels
                                 (default 8) */
  uint64_t host_memory_limit; /* > 0: the host memory an image folder plans with: a decoded
                                 set larger than half of it is streamed from its cache file
                                 in cache_dir; 0: the memory available now */
  /* Data-parallel training (docs/SCALING.md). device may list several devices ("0:0,1:0",
   * "pocl,rusticl", the same one twice) or be "all": one replica per device. */
  const char *balance; /* how the global batch is split over this process's devices: "auto"
                          (by speed measured at start-up), "equal"; NULL: auto when the
                          devices differ, else equal */
  int distributed;     /* 1: this process is one rank of an MPI run (MPI initialised by the
                          program): gradients are summed over every rank, only rank 0 saves,
                          logs and validates (clt_session_rank) */
  int local_rank;      /* >= 0 with distributed and no device: use device local_rank modulo
                          the machine's device count (the launcher's local rank, e.g.
                          OMPI_COMM_WORLD_LOCAL_RANK); -1 (default): none */
  int bucket_kib;      /* data-parallel: the gradients are read and summed in buckets of about
                          this many KiB (whole tensors, last layer first), each as soon as the
                          backward pass has produced it, so that the sums overlap the rest of
                          the backward pass; 1 to 1048576, 0: the default (64). The results
                          do not depend on it */
} clt_config;

/* Sets struct_size and the defaults: kernel_cache and gemm_tuning on, local_rank -1, the
 * rest zero. */
CLT_API void clt_config_init(clt_config *config);

/* How a run trains: every field left at its default takes the model's [net] recipe (or, when
 * resuming, the checkpoint's). */
typedef struct clt_run_config {
  size_t struct_size;    /* sizeof(clt_run_config); set by clt_run_config_init */
  const char *data;      /* an MNIST-style IDX folder, a CIFAR-10 binary folder, an image
                            folder (PNG or JPEG images in one sub-folder per class, or in
                            train/, test/ and val/ folders that hold those) or a .csv file;
                            NULL: /usr/share/datasets/fashion-mnist (resuming: the
                            checkpoint's) */
  int subset;            /* > 0: only the first subset samples of each file */
  double val_split;      /* share of the training samples held out for validation; < 0
                            (default): 0.1, or the checkpoint's */
  int epochs;            /* > 0: the total number of epochs (resuming: may grow) */
  int batch;             /* > 0: samples per step */
  int batch_auto;        /* 1: the largest power-of-two batch that fits the device */
  double learning_rate;  /* > 0: the base learning rate */
  const char *optimizer; /* "sgd", "adam", "adamw"; NULL: the model's */
  long long seed;        /* >= 0: initialisation, shuffle and dropout seed; -1 (default) */
  int read_every;        /* steps between loss read-backs (default 20) */
  int stream;            /* 1: stream batches even when the data fit on the device */
  const char *save;      /* checkpoint file written at each epoch end; NULL: none */
  int save_every;        /* > 0: also every this many steps inside an epoch */
  int keep_best;         /* 1: also keep the best epoch by validation in SAVE.best */
  const char *log;       /* CSV file with one row per epoch; NULL: none */
  const char *label;     /* CSV data: the label column (NULL: the last) */
  int regression;        /* CSV data: 1 regression ([mse] head), 0 classification; -1
                            (default): classification, or the checkpoint's */
  int skip_bad_rows;     /* CSV data: skip malformed rows instead of failing */
  int augment_crop;      /* >= 0: random-crop padding in pixels; -1 (default): the model's */
  int augment_flip;      /* 1: random horizontal flips */
  int no_augment;        /* 1: no augmentation at all */
  int overwrite;         /* 1: save and log may replace an existing file that is not a
                            checkpoint (save) or a log (log); never a folder, device, pipe
                            or socket */
  int skip_bad_images;   /* image folders: skip and count undecodable images instead of
                            failing */
} clt_run_config;

/* Sets struct_size and the defaults: val_split, seed, augment_crop and regression -1, the
 * rest zero. */
CLT_API void clt_run_config_init(clt_run_config *run);

/* ---- sessions ----------------------------------------------------------------------------- */

typedef struct clt_session clt_session;

/* clt_session_open, clt_session_open_text - a fresh run of a model
 *
 * Reads the model file at model_path (or model text of length bytes, named name in
 * messages), selects the device of config (NULL: defaults), loads run->data, checks that
 * the whole run fits the device's memory before allocating anything, places the network and
 * prepares the GEMM kernels. Training starts with clt_session_train. run may be NULL (the
 * defaults of clt_run_config_init).
 * The strings of config and run are copied; the callbacks and user pointer of config are
 * kept for the session's life. */
CLT_API clt_status clt_session_open(const clt_config *config, const char *model_path,
                                    const clt_run_config *run, clt_session **out);
CLT_API clt_status clt_session_open_text(const clt_config *config, const char *text, size_t length,
                                         const char *name, const clt_run_config *run,
                                         clt_session **out);

/* clt_session_resume - go on training from a checkpoint
 *
 * The checkpoint holds the model, the recipe, the run settings and the position. overrides
 * (may be NULL) may change what keeps the run the same: data (the same samples), epochs
 * (the total; more than done), learning_rate, read_every, stream, save, save_every,
 * keep_best, log. A batch, optimizer, seed, subset, val_split, label or augmentation that
 * differs from the checkpoint's is CLT_ERR_USAGE. model_path, when not NULL, must hold the
 * same text as the checkpoint's model. Saving goes to the checkpoint itself unless
 * overrides->save says otherwise. */
CLT_API clt_status clt_session_resume(const clt_config *config, const char *checkpoint,
                                      const char *model_path, const clt_run_config *overrides,
                                      clt_session **out);

/* clt_session_open_checkpoint - a checkpoint for evaluation and prediction only
 *
 * batch: the most samples one device pass takes (0: the checkpoint's batch). */
CLT_API clt_status clt_session_open_checkpoint(const clt_config *config, const char *checkpoint,
                                               int batch, clt_session **out);

/* clt_session_close - frees everything the session holds; NULL is allowed. */
CLT_API void clt_session_close(clt_session *session);

/* ---- training ----------------------------------------------------------------------------- */

typedef struct clt_progress_info {
  int epoch, epochs;     /* 1-based epoch of epochs */
  int step, steps;       /* steps done in this epoch, of steps */
  long global_step;      /* optimizer updates in the whole run */
  double loss, accuracy; /* running means over the epoch so far (regression: accuracy is
                            the mean absolute error) */
  double elapsed;        /* seconds in this epoch */
  double images_per_second;
  double learning_rate;
} clt_progress_info;

typedef struct clt_epoch_info {
  int epoch, epochs;
  long global_step;
  double loss, accuracy; /* training, over the epoch */
  int has_validation;
  double val_loss, val_accuracy;
  double learning_rate; /* of the epoch's last step */
  double seconds;
  double images_per_second;
} clt_epoch_info;

/* Either callback may be NULL. A callback that returns non-zero stops the run: after the
 * current step (progress) or after the epoch (epoch_end); clt_session_train then returns
 * CLT_OK with *stopped 1, and the session may be saved and trained further. */
typedef struct clt_callbacks {
  size_t struct_size;                                      /* sizeof(clt_callbacks) */
  int (*progress)(const clt_progress_info *p, void *user); /* every read_every steps */
  int (*epoch_end)(const clt_epoch_info *e, void *user);   /* after validation */
  void *user;
} clt_callbacks;

/* clt_session_train - train up to the run's epochs
 *
 * Trains from where the session stands (a fresh session: epoch 1; a resumed one: the
 * checkpoint's position; a stopped one: where it stopped) to the run's total epochs,
 * validating after each epoch, writing the run's checkpoints and log. callbacks and stopped
 * may be NULL. A loss that becomes NaN or infinite stops the run with CLT_ERR_NON_FINITE
 * naming the step. A session opened with clt_session_open_checkpoint cannot train
 * (CLT_ERR_USAGE). */
CLT_API clt_status clt_session_train(clt_session *session, const clt_callbacks *callbacks,
                                     int *stopped);

/* clt_session_evaluate - mean loss and accuracy over a data set
 *
 * data: an IDX folder (its test files), a CIFAR-10 folder (its test batch), an image folder
 * (its test/ folder, fitted to the model's input) or NULL for the
 * test set of the session's own data (*samples 0 when it has none, as CSV data). loss,
 * accuracy and samples may be NULL. Inference mode: dropout off, batch statistics frozen. */
CLT_API clt_status clt_session_evaluate(clt_session *session, const char *data, double *loss,
                                        double *accuracy, int *samples);

typedef struct clt_class_scores {
  double precision, recall, f1;
  long support; /* samples of this class */
} clt_class_scores;

/* What clt_session_report finds. The arrays belong to the session and stay valid until its
 * next clt_session_report or clt_session_close. */
typedef struct clt_eval_report {
  size_t struct_size; /* sizeof(clt_eval_report) */
  int samples, classes;
  double loss;                       /* mean loss (regression: the mean squared error) */
  double accuracy;                   /* top-1 */
  double top5;                       /* the true class among the 5 most probable */
  double mae;                        /* regression: the mean absolute error */
  const long *confusion;             /* [classes x classes]: row true, column predicted */
  const clt_class_scores *per_class; /* [classes] */
  clt_class_scores macro, weighted;  /* unweighted and support-weighted means */
} clt_eval_report;

/* clt_session_report - a full evaluation: accuracy, top-5, per-class precision, recall and
 * F1, the confusion matrix
 *
 * data: an IDX, CIFAR-10 or image folder (its test split) or a CSV file (read with the training
 * statistics a checkpoint holds); NULL: the data the session trains or was trained on.
 * subset > 0: only the first subset samples (IDX and CIFAR data). */
CLT_API clt_status clt_session_report(clt_session *session, const char *data, int subset,
                                      clt_eval_report *report);

/* clt_session_predict - class probabilities of images
 *
 * images: count images, each height x width x channels floats (NHWC, the layout and value
 * range of the session's data: IDX and CIFAR pixels are scaled to [0, 1]).
 * probabilities: count x classes floats (each row sums to 1; regression: the outputs). */
CLT_API clt_status clt_session_predict(clt_session *session, const float *images, int count,
                                       float *probabilities);

/* clt_session_save - writes a checkpoint of the session where it stands
 *
 * The file is written to a temporary name and renamed: a reader never sees half of it.
 * Needs a session with data (the checkpoint records the data it was trained on). */
CLT_API clt_status clt_session_save(clt_session *session, const char *path);

/* ---- queries ------------------------------------------------------------------------------ */

typedef struct clt_model_info {
  size_t struct_size;          /* sizeof(clt_model_info) */
  int height, width, channels; /* one input image */
  int classes;                 /* outputs */
  int regression;              /* 1: an [mse] head (accuracy slots hold the mean absolute
                                  error), 0: classification */
  int layers;                  /* layers, the input not counted */
  uint64_t parameters;         /* trainable floats */
  int batch, epochs;           /* the run's */
  int epochs_done;             /* finished epochs */
  int train_samples, val_samples, test_samples;
  long global_step; /* optimizer updates done */
  const char *name; /* the model's name (its file, or the name given with its
                       text); lives as long as the session */
  const char *data; /* the data the run trains on (a checkpoint: was trained on) */
} clt_model_info;

/* clt_session_rank - this process's rank in a distributed run (0 otherwise) and, when ranks
 * is not NULL, the number of ranks (1 otherwise). Only rank 0 saves, logs and validates; a
 * program may keep the other ranks quiet. Data-parallel devices of one process are not
 * ranks. */
CLT_API int clt_session_rank(const clt_session *session, int *ranks);

/* clt_session_model - shape and size of the session's model and run. */
CLT_API clt_status clt_session_model(const clt_session *session, clt_model_info *info);

/* clt_session_summary - the model summary as text: device, layers with their settings,
 * output shapes and parameter counts, data, recipe and memory plan (what cltrain train
 * prints). Writes at most size bytes with a NUL into buf; *needed (may be NULL) gets the
 * full length plus 1. A buf too small is not an error: the text is cut. */
CLT_API clt_status clt_session_summary(const clt_session *session, char *buf, size_t size,
                                       size_t *needed);

/* Device memory the session's network holds, in bytes. */
typedef struct clt_memory_info {
  size_t struct_size; /* sizeof(clt_memory_info) */
  uint64_t parameters, gradients, optimizer, state, activations;
  uint64_t total;        /* the network's arenas */
  uint64_t data;         /* the data sets as the device holds them */
  uint64_t device;       /* the device's memory (after config->memory_limit) */
  int activation_chunks; /* buffers the activation arena is split into */
} clt_memory_info;

/* clt_session_memory - the session's memory plan. */
CLT_API clt_status clt_session_memory(const clt_session *session, clt_memory_info *info);

typedef enum clt_split { CLT_SPLIT_TRAIN, CLT_SPLIT_VALIDATION, CLT_SPLIT_TEST } clt_split;

/* clt_session_samples - copies of samples first .. first + count - 1 of the session's data
 *
 * images: count x height x width x channels floats, as clt_session_predict takes them;
 * labels (may be NULL): count class indices. Data streamed from a CSV file are not held in
 * memory: CLT_ERR_UNSUPPORTED. A range outside the split: CLT_ERR_USAGE. */
CLT_API clt_status clt_session_samples(const clt_session *session, clt_split split, int first,
                                       int count, float *images, int *labels);

/* clt_session_class_name - the name of class i ("0", "1", ... when the data named none).
 * The string lives as long as the session. */
CLT_API clt_status clt_session_class_name(const clt_session *session, int i, const char **name);

#ifdef __cplusplus
}
#endif
#endif
