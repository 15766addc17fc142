/* cltrain train's command line: --help and the options into clt_train_options. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/device_options.h"
#include "cli/train_args.h"
#include "data/dataset.h"
#include "train/memory_budget.h"
#include "train/replicas.h"

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain train MODEL [options]\n"
          "       cltrain train --resume CHECKPOINT [--epochs N] [options]\n\n"
          "Trains MODEL (a model file, see models/) on a data set and reports the test-set\n"
          "loss and accuracy at the end. Options override the model's [net] recipe.\n"
          "  --data DIR           folder of IDX files, CIFAR-10 binary batches, or PNG/JPEG\n"
          "                       images in one sub-folder per class (or train/, test/)\n"
          "                       (default " CLT_DEFAULT_DATA_DIR ")\n"
          "  --data FILE.csv      a CSV table: a header row, numeric feature columns and one\n"
          "                       label column; streamed from the file in chunks\n"
          "  --label NAME         the CSV label column (default: the last column); this,\n"
          "                       --task and --skip-bad-rows are refused for image data\n"
          "  --task T             classification (default; classes are the label's values)\n"
          "                       or regression (a numeric target, model ending in [mse])\n"
          "  --skip-bad-rows      skip and count malformed CSV rows instead of stopping\n"
          "  --skip-bad-images    skip and count undecodable images of an image folder\n"
          "  --epochs N           number of epochs\n"
          "  --batch N|auto       samples per step; auto: the largest power of two from %d\n"
          "                       to %d that fits in %.0f%% of the device's memory\n"
          "  --lr X               learning rate\n"
          "  --optimizer NAME     sgd, adam or adamw\n"
          "  --seed N             seed of initialisation, shuffling and dropout (0..4294967295)\n"
          "  --augment-crop N     random crop of training images with N pixels of zero\n"
          "                       padding (0: none), as [augment] crop_padding\n"
          "  --augment-flip       random horizontal flip of training images\n"
          "  --no-augment         ignore the model's [augment] section (only the\n"
          "                       --augment-* flags given, if any)\n"
          "  --val-split X        fraction of the training file held out for validation,\n"
          "                       taken from its end before shuffling (default 0.1)\n"
          "  --subset N           use only the first N images of the training and test files\n"
          "  --read-every N       steps between loss read-backs from the device (default 20)\n"
          "  --stream             stream batches through the transfer queue even when the\n"
          "                       data set fits in device memory (image folders: and read\n"
          "                       them from the image cache file, not from host memory)\n"
          "  --json               one JSON object per epoch on stdout instead of the "
          "display\n"
          "  --save FILE          write a checkpoint to FILE at the end of every epoch\n"
          "                       (atomically: a crash leaves the old or the new one)\n"
          "  --save-every N       also every N steps inside an epoch\n"
          "  --keep-best          also keep the checkpoint of the best validation accuracy\n"
          "                       in FILE with -best before its extension (run-best.ckpt);\n"
          "                       needs a validation set (--val-split above 0)\n"
          "  --resume FILE        go on from checkpoint FILE exactly where it stopped: the\n"
          "                       model, recipe, data options, --save-every, --keep-best\n"
          "                       and --log come from it; --epochs is the total (as in\n"
          "                       Keras); saves go to FILE unless --save says else\n"
          "  --log FILE.csv       one row per epoch (loss, accuracy, val_loss, val_accuracy,\n"
          "                       learning rate, seconds, images/s); appended on --resume,\n"
          "                       started anew otherwise (plot it with tools/plot-log)\n"
          "  --overwrite          let --save replace an existing file that is not a\n"
          "                       checkpoint, and --log one that is not a log (without it\n"
          "                       such a run stops at once); folders, devices, pipes and\n"
          "                       sockets are never written\n"
          "  --balance MODE       several devices (--device A,B): auto sizes each device's\n"
          "                       share of a batch by its speed measured at start-up\n"
          "                       (default when the devices differ), equal splits "
          "evenly\n"
          "  --bucket-kib N       several devices or processes: read and sum the gradients\n"
          "                       in buckets of about N KiB (default 64), each as soon as\n"
          "                       the backward pass has produced it, overlapping the rest\n"
          "                       of the backward pass; the results do not depend on "
          "it\n" CLT_DEVICE_OPTIONS_HELP,
          CLT_AUTO_BATCH_MIN, CLT_AUTO_BATCH_MAX, 100 * CLT_AUTO_BATCH_FRACTION);
}

int clt_train_parse_args(int argc, char **argv, clt_train_options *o) {
  enum {
    O_DATA = 1,
    O_EPOCHS,
    O_BATCH,
    O_LR,
    O_OPT,
    O_SEED,
    O_VAL,
    O_SUBSET,
    O_READ,
    O_STREAM,
    O_JSON,
    O_HELP,
    O_PROFILE,
    O_SAVE,
    O_SAVE_EVERY,
    O_KEEP_BEST,
    O_RESUME,
    O_LOG,
    O_LABEL,
    O_TASK,
    O_SKIP_BAD,
    O_SKIP_IMG,
    O_AUG_CROP,
    O_AUG_FLIP,
    O_NO_AUG,
    O_OVERWRITE,
    O_BALANCE,
    O_BUCKET
  };
  static const struct option longopts[] = {{"data", required_argument, NULL, O_DATA},
                                           {"epochs", required_argument, NULL, O_EPOCHS},
                                           {"batch", required_argument, NULL, O_BATCH},
                                           {"lr", required_argument, NULL, O_LR},
                                           {"optimizer", required_argument, NULL, O_OPT},
                                           {"seed", required_argument, NULL, O_SEED},
                                           {"val-split", required_argument, NULL, O_VAL},
                                           {"subset", required_argument, NULL, O_SUBSET},
                                           {"read-every", required_argument, NULL, O_READ},
                                           {"stream", no_argument, NULL, O_STREAM},
                                           {"json", no_argument, NULL, O_JSON},
                                           {"help", no_argument, NULL, O_HELP},
                                           {"profile", no_argument, NULL, O_PROFILE},
                                           {"save", required_argument, NULL, O_SAVE},
                                           {"save-every", required_argument, NULL, O_SAVE_EVERY},
                                           {"keep-best", no_argument, NULL, O_KEEP_BEST},
                                           {"resume", required_argument, NULL, O_RESUME},
                                           {"log", required_argument, NULL, O_LOG},
                                           {"label", required_argument, NULL, O_LABEL},
                                           {"task", required_argument, NULL, O_TASK},
                                           {"skip-bad-rows", no_argument, NULL, O_SKIP_BAD},
                                           {"skip-bad-images", no_argument, NULL, O_SKIP_IMG},
                                           {"augment-crop", required_argument, NULL, O_AUG_CROP},
                                           {"augment-flip", no_argument, NULL, O_AUG_FLIP},
                                           {"no-augment", no_argument, NULL, O_NO_AUG},
                                           {"overwrite", no_argument, NULL, O_OVERWRITE},
                                           {"balance", required_argument, NULL, O_BALANCE},
                                           {"bucket-kib", required_argument, NULL, O_BUCKET},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->val_split = 0.1;
  o->seed = -1;
  o->augment_crop = -1;
  int opt, rc = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1 && rc == 0) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_DATA:
      o->data = optarg;
      break;
    case O_EPOCHS:
      rc = clt_cli_int("train", "--epochs", optarg, 1, 100000, &o->epochs);
      break;
    case O_BATCH:
      if (strcmp(optarg, "auto") == 0)
        o->batch_auto = 1;
      else if ((rc = clt_cli_int("train", "--batch", optarg, 1, INT_MAX, &o->batch)) == 0)
        o->batch_auto = 0; /* the last --batch counts */
      break;
    case O_LR:
      rc = clt_cli_double("train", "--lr", optarg, 1e-12, 10, &o->lr);
      break;
    case O_OPT:
      o->optimizer = optarg;
      break;
    case O_SEED:
      rc = clt_cli_seed("train", "--seed", optarg, &o->seed);
      break;
    case O_VAL:
      rc = clt_cli_double("train", "--val-split", optarg, 0, 0.9, &o->val_split);
      o->val_split_given = 1;
      break;
    case O_SUBSET:
      rc = clt_cli_int("train", "--subset", optarg, 1, INT_MAX, &o->subset);
      break;
    case O_READ:
      rc = clt_cli_int("train", "--read-every", optarg, 1, 1000000, &o->read_every);
      break;
    case O_STREAM:
      o->stream = 1;
      break;
    case O_JSON:
      o->json = 1;
      break;
    case O_PROFILE:
      o->profile = 1;
      break;
    case O_SAVE:
      o->save = optarg;
      break;
    case O_SAVE_EVERY:
      rc = clt_cli_int("train", "--save-every", optarg, 1, INT_MAX, &o->save_every);
      break;
    case O_KEEP_BEST:
      o->keep_best = 1;
      break;
    case O_RESUME:
      o->resume = optarg;
      break;
    case O_LOG:
      o->log = optarg;
      break;
    case O_LABEL:
      o->label = optarg;
      break;
    case O_TASK:
      if (strcmp(optarg, "classification") != 0 && strcmp(optarg, "regression") != 0) {
        fprintf(stderr, "cltrain train: --task %s: choose classification or regression\n", optarg);
        rc = -1;
      }
      o->task = optarg;
      break;
    case O_SKIP_BAD:
      o->skip_bad_rows = 1;
      break;
    case O_SKIP_IMG:
      o->skip_bad_images = 1;
      break;
    case O_AUG_CROP:
      rc = clt_cli_int("train", "--augment-crop", optarg, 0, 65535, &o->augment_crop);
      break;
    case O_AUG_FLIP:
      o->augment_flip = 1;
      break;
    case O_NO_AUG:
      o->no_augment = 1;
      break;
    case O_OVERWRITE:
      o->overwrite = 1;
      break;
    case O_BALANCE:
      if (strcmp(optarg, "auto") && strcmp(optarg, "equal")) {
        fprintf(stderr,
                "cltrain train: --balance %s is not known: use auto (shards by measured "
                "speed) or equal\n",
                optarg);
        return -1;
      }
      o->balance = optarg;
      break;
    case O_BUCKET:
      rc = clt_cli_int("train", "--bucket-kib", optarg, 1, CLT_BUCKET_KIB_MAX, &o->bucket_kib);
      break;
    case O_HELP:
      help(stdout);
      return 1;
    default:
      clt_cli_bad_option("train", argv, opt);
      return -1;
    }
  }
  if (rc) return -1;
  if (optind == argc && o->resume) return 0; /* the checkpoint holds the model */
  if (optind != argc - 1) {
    fprintf(stderr, "cltrain train: expected one model file, e.g. cltrain train "
                    "models/fashion_cnn.cfg, or --resume CHECKPOINT (see --help)\n");
    return -1;
  }
  o->model = argv[optind];
  if (!o->resume && !o->save && (o->save_every || o->keep_best)) {
    fprintf(stderr, "cltrain train: --save-every and --keep-best need --save FILE\n");
    return -1;
  }
  return 0;
}
