/* cltrain train --data on a folder: the data set of a split, loaded with the image-folder
 * options of the run (the model's input shape, --skip-bad-images, a decoding progress line)
 * and the folder's report printed (skipped files, unsupported files, loops, the cache). */
#ifndef CLT_CLI_TRAIN_IMAGES_H
#define CLT_CLI_TRAIN_IMAGES_H

#include <stdio.h>

#include "data/image_folder.h"
#include "nn/model.h"
#include "train/run_options.h"

/* clt_dataset_load_dir_images(ro->data, split, ...) for model m; IDX and CIFAR folders load
 * as before. */
clt_status clt_cli_load_images(const clt_run_options *ro, const clt_model *m, int split,
                               clt_dataset *out, FILE *info);

#endif
