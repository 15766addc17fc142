/* cltrain predict CHECKPOINT INPUT...: the class and top-k probabilities of each input:
 * samples of an IDX file or of a CIFAR-10 binary batch (by index range), or PNG, JPEG and PGM/PPM
 * images. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "cltrain/cltrain.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/image_decode.h"
#include "data/pnm.h"
#include "runtime/file_check.h"
#include "train/evaluate.h"

/* A bound on the read of a CIFAR batch given to predict (its own size is read, never more). */
#define CLT_PREDICT_MAX_FILE_BYTES ((uint64_t)1 << 34)

typedef struct predict_options {
  clt_device_options dev;
  const char *checkpoint;
  char **inputs;
  int input_count;
  int top, json, resize;
  int has_range;
  long range_a, range_b;
} predict_options;

static void help(FILE *out) {
  fprintf(out, "usage: cltrain predict CHECKPOINT INPUT... [options]\n\n"
               "Classifies each INPUT with a checkpoint (cltrain train --save): the most probable\n"
               "class and the top-k probabilities. An INPUT is an IDX image file (raw or .gz, as\n"
               "MNIST's; every sample, or those of --range), a CIFAR-10 binary batch (NAME.bin,\n"
               "e.g. test_batch.bin; its labels shown too), a PNG or JPEG image, or a PGM/PPM\n"
               "image (P2, P5, P3, P6).\n"
               "Pixels are scaled to [0, 1] as in training (Fashion-MNIST is light on dark).\n"
               "Where an IDX file's labels file lies beside it, the true label is shown too.\n"
               "  --top K              probabilities of the K most likely classes (default 3)\n"
               "  --range A:B          IDX or CIFAR samples A to B-1 (default: all)\n"
               "  --resize             scale images of another size to the model's input\n"
               "                       (area average when shrinking, bilinear when enlarging) and\n"
               "                       convert colour to grey or grey to colour; without it such\n"
               "                       images are rejected\n"
               "  --json               one JSON object on stdout\n" CLT_DEVICE_OPTIONS_HELP);
}

static int parse_range(const char *arg, long *a, long *b) {
  char *end;
  errno = 0;
  *a = strtol(arg, &end, 10);
  if (end == arg || *end != ':' || *a < 0) return -1;
  const char *rest = end + 1;
  *b = strtol(rest, &end, 10);
  if (end == rest || *end != '\0' || *b <= *a || errno) return -1;
  return 0;
}

static int parse_args(int argc, char **argv, predict_options *o) {
  enum { O_TOP = 1, O_RANGE, O_RESIZE, O_JSON, O_HELP };
  static const struct option longopts[] = {{"top", required_argument, NULL, O_TOP},
                                           {"range", required_argument, NULL, O_RANGE},
                                           {"resize", no_argument, NULL, O_RESIZE},
                                           {"json", no_argument, NULL, O_JSON},
                                           {"help", no_argument, NULL, O_HELP},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
    if (clt_device_option(&o->dev, opt, optarg)) continue;
    switch (opt) {
    case O_TOP:
      if (clt_cli_int("predict", "--top", optarg, 1, 1000, &o->top) != 0) return -1;
      break;
    case O_RANGE:
      if (parse_range(optarg, &o->range_a, &o->range_b) != 0) {
        fprintf(stderr, "cltrain predict: --range %s: must be A:B with 0 <= A < B, e.g. 0:10\n",
                optarg);
        return -1;
      }
      o->has_range = 1;
      break;
    case O_RESIZE:
      o->resize = 1;
      break;
    case O_JSON:
      o->json = 1;
      break;
    case O_HELP:
      help(stdout);
      return 1;
    default:
      clt_cli_bad_option("predict", argv, opt);
      return -1;
    }
  }
  if (argc - optind < 2) {
    fprintf(stderr, "cltrain predict: expected a checkpoint and at least one input (see --help)\n");
    return -1;
  }
  o->checkpoint = argv[optind];
  o->inputs = argv + optind + 1;
  o->input_count = argc - optind - 1;
  return 0;
}

/* Every sample to classify, in order. */
typedef struct samples {
  int n, cap;
  size_t size; /* floats per sample */
  float *x;
  char **name; /* "file" or "file[i]" */
  int *label;  /* -1 when unknown */
} samples;

static clt_status add_sample(samples *s, const char *name, const float *x, int label) {
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 64;
    float *x2 = realloc(s->x, (size_t)cap * s->size * sizeof *x2);
    if (x2) s->x = x2;
    char **n2 = x2 ? realloc(s->name, (size_t)cap * sizeof *n2) : NULL;
    if (n2) s->name = n2;
    int *l2 = n2 ? realloc(s->label, (size_t)cap * sizeof *l2) : NULL;
    if (!l2) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the inputs");
    s->label = l2;
    s->cap = cap;
  }
  s->name[s->n] = strdup(name);
  if (!s->name[s->n]) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the inputs");
  memcpy(s->x + (size_t)s->n * s->size, x, s->size * sizeof *x);
  s->label[s->n] = label;
  s->n++;
  return CLT_OK;
}

static void free_samples(samples *s) {
  for (int i = 0; i < s->n; i++) free(s->name[i]);
  free(s->name);
  free(s->x);
  free(s->label);
}

/* Fits an image [h, w, c] in [0, 1] to the model's input, or says why it cannot. */
static clt_status fit_image(const predict_options *o, const char *what, const clt_image *img,
                            clt_shape in, float *out) {
  if (img->h == in.h && img->w == in.w && img->c == in.c) {
    memcpy(out, img->pixels, clt_shape_size(in) * sizeof *out);
    return CLT_OK;
  }
  if (!o->resize || (img->c != 1 && img->c != 3) || (in.c != 1 && in.c != 3))
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is %dx%dx%d (height x width x channels) but the model takes %dx%dx%d: %s",
                    what, img->h, img->w, img->c, in.h, in.w, in.c,
                    o->resize ? "only grey (1) and colour (3) channels convert"
                              : "pass --resize to scale and convert it, or give an image of "
                                "that size");
  return clt_image_fit(img, in.h, in.w, in.c, out);
}

/* The labels file beside an IDX images file, when there is one ("...-images-idx3-ubyte"). */
static void labels_beside(const char *path, long n, clt_idx *labels) {
  memset(labels, 0, sizeof *labels);
  const char *at = strstr(path, "images-idx3-ubyte");
  if (!at) return;
  char other[4200];
  snprintf(other, sizeof other, "%.*slabels-idx1-ubyte%s", (int)(at - path), path,
           at + strlen("images-idx3-ubyte"));
  if (clt_idx_read(other, labels) != CLT_OK || labels->ndims != 1 || labels->dims[0] != n)
    clt_idx_free(labels);
  clt_clear_error();
}

static clt_status add_idx(const predict_options *o, const char *path, clt_shape in, samples *s) {
  clt_idx idx;
  CLT_TRY(clt_idx_read(path, &idx));
  long n = 1;
  int h, w, c = 1;
  if (idx.ndims == 2) {
    h = (int)idx.dims[0];
    w = (int)idx.dims[1];
  } else if (idx.ndims == 3 || idx.ndims == 4) {
    n = idx.dims[0];
    h = (int)idx.dims[1];
    w = (int)idx.dims[2];
    if (idx.ndims == 4) c = (int)idx.dims[3];
  } else {
    clt_idx_free(&idx);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s holds a %d-dimensional array, not images; give an IDX image file (n x h "
                    "x w)",
                    path, idx.ndims);
  }
  long a = o->has_range ? o->range_a : 0, b = o->has_range ? o->range_b : n;
  if (b > n) {
    clt_idx_free(&idx);
    return clt_fail(CLT_ERR_USAGE, "--range %ld:%ld: %s holds samples 0 to %ld", a, b, path, n - 1);
  }
  clt_idx labels;
  labels_beside(path, n, &labels);
  size_t pixels = (size_t)h * w * c;
  clt_image img = {h, w, c, malloc(pixels * sizeof(float))};
  float *x = malloc(clt_shape_size(in) * sizeof *x);
  clt_status st = img.pixels && x ? CLT_OK : clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of memory");
  for (long i = a; i < b && st == CLT_OK; i++) {
    for (size_t j = 0; j < pixels; j++) img.pixels[j] = idx.data[(size_t)i * pixels + j] / 255.0f;
    char name[4200];
    snprintf(name, sizeof name, "%s[%ld]", path, i);
    st = fit_image(o, name, &img, in, x);
    if (st == CLT_OK) st = add_sample(s, name, x, labels.data ? labels.data[i] : -1);
  }
  free(img.pixels);
  free(x);
  clt_idx_free(&labels);
  clt_idx_free(&idx);
  return st;
}

/* Samples of a CIFAR-10 binary batch (records of a label byte and 3072 planar pixels). */
static clt_status add_cifar(const predict_options *o, const char *path, clt_shape in, samples *s) {
  unsigned char *bytes;
  size_t size;
  CLT_TRY(clt_file_read_all(path, "file", NULL, CLT_PREDICT_MAX_FILE_BYTES, NULL, &bytes, &size));
  clt_dataset ds;
  clt_status st = clt_cifar_parse(bytes, size, path, CLT_CIFAR_CLASSES, &ds);
  free(bytes);
  if (st != CLT_OK) return st;
  long a = o->has_range ? o->range_a : 0, b = o->has_range ? o->range_b : ds.n;
  if (b > ds.n)
    st = clt_fail(CLT_ERR_USAGE, "--range %ld:%ld: %s holds samples 0 to %d", a, b, path, ds.n - 1);
  float *x = malloc(clt_shape_size(in) * sizeof *x);
  if (st == CLT_OK && !x) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (long i = a; i < b && st == CLT_OK; i++) {
    clt_image img = {ds.h, ds.w, ds.c, ds.images + (size_t)i * CLT_CIFAR_PIXELS};
    char name[4200];
    snprintf(name, sizeof name, "%s[%ld]", path, i);
    st = fit_image(o, name, &img, in, x);
    if (st == CLT_OK) st = add_sample(s, name, x, ds.labels[i]);
  }
  free(x);
  clt_dataset_free(&ds);
  return st;
}

static int ends_with(const char *s, const char *end) {
  size_t n = strlen(s), k = strlen(end);
  return n >= k && strcmp(s + n - k, end) == 0;
}

static clt_status add_input(const predict_options *o, const char *path, clt_shape in, samples *s) {
  unsigned char head[8] = {0};
  size_t got;
  CLT_TRY(clt_file_read_head(path, "file", head, sizeof head, &got));
  int pnm = got >= 2 && head[0] == 'P' && strchr("2356", head[1]);
  int png_jpeg = clt_image_sniff(head, got) != CLT_IMAGE_UNKNOWN ||
                 clt_image_format_of_name(path) != CLT_IMAGE_UNKNOWN;
  if (pnm || png_jpeg) {
    if (o->has_range) /* one image: no samples to choose from */
      return clt_fail(CLT_ERR_USAGE,
                      "--range selects samples of IDX files and CIFAR-10 batches, but %s is one "
                      "image: drop --range (or give the samples' file)",
                      path);
    clt_image img;
    clt_status rs = pnm ? clt_pnm_read(path, &img) : clt_image_read(path, 0, &img);
    if (rs == CLT_ERR_BAD_DATA && !pnm) { /* the decoder's reason, and what to do */
      char why[1024];
      snprintf(why, sizeof why, "%s", clt_last_error());
      return clt_fail(rs, "%s; give an intact PNG or JPEG image", why);
    }
    if (rs != CLT_OK) return rs;
    float *x = malloc(clt_shape_size(in) * sizeof *x);
    clt_status st = x ? fit_image(o, path, &img, in, x) : clt_fail(CLT_ERR_OUT_OF_MEMORY, "oom");
    if (st == CLT_OK) st = add_sample(s, path, x, -1);
    free(x);
    clt_image_free(&img);
    return st;
  }
  /* CIFAR batches have no magic number: known by name (before IDX: a record may start 0 0). */
  if (ends_with(path, ".bin")) return add_cifar(o, path, in, s);
  if (got >= 2 && ((head[0] == 0 && head[1] == 0) || (head[0] == 0x1f && head[1] == 0x8b)))
    return add_idx(o, path, in, s);
  return clt_fail(
      CLT_ERR_BAD_DATA,
      "%s is neither an IDX file, a CIFAR-10 batch (.bin), a PNG or JPEG image nor a PGM/PPM "
      "image (P2, P3, P5, P6); convert it, e.g. with 'convert IMAGE image.png'",
      path);
}

static void print_text(const char *const *names, const samples *s, int i, const float *p, int k,
                       int top) {
  int t[1000];
  int kk = clt_top_k(p, k, top, t);
  printf("%s: %s (%.4f)", s->name[i], names[t[0]], p[t[0]]);
  if (kk > 1) {
    printf("  top %d:", kk);
    for (int j = 0; j < kk; j++) printf("%s %s %.4f", j ? "," : "", names[t[j]], p[t[j]]);
  }
  if (s->label[i] >= 0 && s->label[i] < k)
    printf("  [label: %s%s]", names[s->label[i]], s->label[i] == t[0] ? "" : ", wrong");
  printf("\n");
}

static cJSON *sample_json(const char *const *names, const samples *s, int i, const float *p, int k,
                          int top) {
  int t[1000];
  int kk = clt_top_k(p, k, top, t);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "input", s->name[i]);
  cJSON_AddNumberToObject(o, "class", t[0]);
  cJSON_AddStringToObject(o, "name", names[t[0]]);
  cJSON_AddNumberToObject(o, "probability", p[t[0]]);
  if (s->label[i] >= 0) cJSON_AddNumberToObject(o, "label", s->label[i]);
  cJSON *arr = cJSON_AddArrayToObject(o, "top");
  for (int j = 0; j < kk; j++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "class", t[j]);
    cJSON_AddStringToObject(e, "name", names[t[j]]);
    cJSON_AddNumberToObject(e, "probability", p[t[j]]);
    cJSON_AddItemToArray(arr, e);
  }
  return o;
}

/* The checkpoint opened through the public API, for predictions. */
static clt_status open_session(const predict_options *o, clt_session **s) {
  clt_config c;
  clt_cli_session_config(&o->dev, &c);
  c.warning = clt_cli_session_warning;
  return clt_session_open_checkpoint(&c, o->checkpoint, 0, s);
}

static clt_status run(const predict_options *o) {
  clt_session *session = NULL;
  clt_model_info mi = {.struct_size = sizeof mi};
  samples s;
  memset(&s, 0, sizeof s);
  clt_status st = open_session(o, &session);
  if (st == CLT_OK) st = clt_session_model(session, &mi);
  clt_shape in =
      st == CLT_OK ? (clt_shape){mi.height, mi.width, mi.channels} : (clt_shape){1, 1, 1};
  s.size = clt_shape_size(in);
  for (int i = 0; i < o->input_count && st == CLT_OK; i++) st = add_input(o, o->inputs[i], in, &s);
  int k = st == CLT_OK ? mi.classes : 1, top = o->top ? o->top : 3;
  const char **names = st == CLT_OK ? calloc((size_t)k, sizeof *names) : NULL;
  for (int c = 0; names && c < k && st == CLT_OK; c++)
    st = clt_session_class_name(session, c, &names[c]);
  float *probs = st == CLT_OK ? malloc((size_t)mi.batch * k * sizeof *probs) : NULL;
  if (st == CLT_OK && (!probs || !names))
    st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  cJSON *root = o->json ? cJSON_CreateObject() : NULL, *arr = NULL;
  if (root) {
    cJSON_AddStringToObject(root, "checkpoint", o->checkpoint);
    arr = cJSON_AddArrayToObject(root, "predictions");
  }
  for (int start = 0; start < s.n && st == CLT_OK; start += mi.batch) {
    int n = s.n - start < mi.batch ? s.n - start : mi.batch;
    st = clt_session_predict(session, s.x + (size_t)start * s.size, n, probs);
    for (int i = 0; i < n && st == CLT_OK; i++) {
      if (root)
        cJSON_AddItemToArray(arr, sample_json(names, &s, start + i, probs + (size_t)i * k, k, top));
      else
        print_text(names, &s, start + i, probs + (size_t)i * k, k, top);
    }
  }
  if (root && st == CLT_OK) {
    char *text = cJSON_PrintUnformatted(root);
    printf("%s\n", text ? text : "{}");
    free(text);
  }
  cJSON_Delete(root);
  free(probs);
  free(names);
  free_samples(&s);
  clt_session_close(session);
  return st;
}

int clt_cmd_predict(int argc, char **argv) {
  predict_options o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(argc, argv, &o);
  if (rc) return clt_cli_exit(rc);
  clt_cli_device_env(&o.dev, 1);
  return clt_exit_status(run(&o));
}
