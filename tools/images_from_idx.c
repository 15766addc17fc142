/* images-from-idx: writes an image folder (OUT/train/CLASS/NNNNN.png, OUT/test/CLASS/NNNNN.png)
 * from the Fashion-MNIST (or MNIST) IDX files or from a CIFAR-10 binary folder, so that tests and
 * users have a real image folder to train on (README: Image folders).
 *
 *   images-from-idx OUT [--idx DIR | --cifar DIR] [--jpeg] [--quality Q] [--limit N]
 *
 * --idx DIR (default /usr/share/datasets/fashion-mnist): train- and t10k- IDX files, .gz or
 * not. --cifar DIR: data_batch_N.bin, test_batch.bin and batches.meta.txt (tools/fake-cifar
 * makes one). Class folders are "N_NAME" (N the label, so that the bytewise order of the
 * folders is the label order; NAME with '/' and spaces made '_'). --jpeg writes JPEG
 * (quality Q, default 95) instead of PNG; --limit N writes the first N images of each set.
 * In C with libpng and libjpeg-turbo (the readers' own libraries) since Python's standard
 * library has no JPEG writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE and size_t */
#include <png.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char *const fashion[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                        "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                        "Bag",         "Ankle boot"};

static int jpeg_out, quality = 95;
static long limit = -1;

static void die(const char *msg, const char *what) {
  fprintf(stderr, "images-from-idx: %s%s%s\n", msg, what ? ": " : "", what ? what : "");
  exit(1);
}

static void make_dir(const char *path) {
  if (mkdir(path, 0755) != 0 && errno != EEXIST) die("cannot create folder", path);
}

static void write_png(const char *path, const unsigned char *px, int h, int w, int c) {
  FILE *f = fopen(path, "wb");
  if (!f) die("cannot write", path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info || setjmp(png_jmpbuf(png))) die("libpng failed writing", path);
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
               c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(px + (size_t)y * w * c));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  if (fclose(f) != 0) die("cannot write", path);
}

static void write_jpeg(const char *path, const unsigned char *px, int h, int w, int c) {
  FILE *f = fopen(path, "wb");
  if (!f) die("cannot write", path);
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr err;
  ci.err = jpeg_std_error(&err); /* a tool: the default exit() on error is fine here */
  jpeg_create_compress(&ci);
  jpeg_stdio_dest(&ci, f);
  ci.image_width = (JDIMENSION)w;
  ci.image_height = (JDIMENSION)h;
  ci.input_components = c;
  ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, quality, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)ci.next_scanline * w * c);
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  if (fclose(f) != 0) die("cannot write", path);
}

/* Folder names of the classes: "N_NAME". */
static void class_dirs(const char *set_dir, char names[][128], int classes) {
  make_dir(set_dir);
  for (int k = 0; k < classes; k++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", set_dir, names[k]);
    make_dir(path);
  }
}

static void write_image(const char *set_dir, const char *cls, long i, const unsigned char *px,
                        int h, int w, int c) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s/%05ld.%s", set_dir, cls, i, jpeg_out ? "jpg" : "png");
  if (jpeg_out)
    write_jpeg(path, px, h, w, c);
  else
    write_png(path, px, h, w, c);
}

static unsigned char *read_gz(const char *dir, const char *name, size_t *size) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.gz", dir, name);
  gzFile g = gzopen(path, "rb");
  if (!g) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    g = gzopen(path, "rb"); /* zlib reads plain files too */
  }
  if (!g) die("cannot open", path);
  size_t cap = 1 << 20, n = 0;
  unsigned char *buf = malloc(cap);
  int got;
  while (buf && (got = gzread(g, buf + n, (unsigned)(cap - n))) > 0) {
    n += (size_t)got;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  gzclose(g);
  if (!buf) die("out of memory reading", path);
  *size = n;
  return buf;
}

static unsigned be32(const unsigned char *p) {
  return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void idx_set(const char *dir, const char *prefix, const char *set_dir, char names[][128]) {
  char name[128];
  size_t isize, lsize;
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  unsigned char *im = read_gz(dir, name, &isize);
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
  unsigned char *lb = read_gz(dir, name, &lsize);
  if (isize < 16 || lsize < 8 || be32(im) != 0x803 || be32(lb) != 0x801) die("not IDX", dir);
  long n = be32(im + 4);
  int h = (int)be32(im + 8), w = (int)be32(im + 12);
  if ((size_t)n * h * w + 16 > isize || (size_t)n + 8 > lsize) die("IDX file too short", dir);
  if (limit >= 0 && n > limit) n = limit;
  class_dirs(set_dir, names, 10);
  for (long i = 0; i < n; i++) {
    if (lb[8 + i] > 9) die("label above 9 in", dir);
    write_image(set_dir, names[lb[8 + i]], i, im + 16 + (size_t)i * h * w, h, w, 1);
  }
  free(im);
  free(lb);
  printf("%s: %ld images of %dx%d\n", set_dir, n, h, w);
}

static void cifar_set(const char *dir, int test, const char *set_dir, char names[][128],
                      int classes) {
  class_dirs(set_dir, names, classes);
  long written = 0;
  unsigned char px[32 * 32 * 3];
  for (int b = 1;; b++) {
    char path[4400];
    if (test)
      snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    else
      snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b);
    FILE *f = fopen(path, "rb");
    if (!f) {
      if (b == 1) die("cannot open", path);
      break;
    }
    unsigned char rec[3073];
    while ((limit < 0 || written < limit) && fread(rec, 1, sizeof rec, f) == sizeof rec) {
      if (rec[0] >= classes) die("label out of range in", path);
      for (int p = 0; p < 1024; p++)
        for (int ch = 0; ch < 3; ch++) px[p * 3 + ch] = rec[1 + ch * 1024 + p];
      write_image(set_dir, names[rec[0]], written++, px, 32, 32, 3);
    }
    fclose(f);
    if (test) break;
  }
  printf("%s: %ld images of 32x32x3\n", set_dir, written);
}

static void folder_name(char *out, int k, const char *name) {
  snprintf(out, 128, "%d_%s", k, name);
  for (char *p = out; *p; p++)
    if (*p == '/' || *p == ' ') *p = '_';
}

int main(int argc, char **argv) {
  const char *out = NULL, *idx = "/usr/share/datasets/fashion-mnist", *cifar = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--jpeg") == 0)
      jpeg_out = 1;
    else if (strcmp(argv[i], "--idx") == 0 && i + 1 < argc)
      idx = argv[++i];
    else if (strcmp(argv[i], "--cifar") == 0 && i + 1 < argc)
      cifar = argv[++i];
    else if (strcmp(argv[i], "--quality") == 0 && i + 1 < argc)
      quality = atoi(argv[++i]);
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
      limit = atol(argv[++i]);
    else if (argv[i][0] != '-' && !out)
      out = argv[i];
    else {
      fprintf(stderr, "usage: images-from-idx OUT [--idx DIR | --cifar DIR] [--jpeg] "
                      "[--quality Q] [--limit N]\n");
      return 64;
    }
  }
  if (!out) die("no output folder given (images-from-idx OUT ...)", NULL);
  if (quality < 1 || quality > 100) die("--quality must lie in 1..100", NULL);
  make_dir(out);
  char train[4200], test[4200], names[10][128];
  snprintf(train, sizeof train, "%s/train", out);
  snprintf(test, sizeof test, "%s/test", out);
  if (cifar) {
    int classes = 0;
    char path[4400], line[100];
    snprintf(path, sizeof path, "%s/batches.meta.txt", cifar);
    FILE *f = fopen(path, "r");
    while (f && classes < 10 && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\r\n")] = '\0';
      if (line[0]) folder_name(names[classes], classes, line), classes++;
    }
    if (f) fclose(f);
    for (; classes < 10; classes++) folder_name(names[classes], classes, "class");
    cifar_set(cifar, 0, train, names, classes);
    cifar_set(cifar, 1, test, names, classes);
  } else {
    int is_fashion = strstr(idx, "fashion") != NULL;
    for (int k = 0; k < 10; k++) {
      char digit[8];
      snprintf(digit, sizeof digit, "%d", k);
      folder_name(names[k], k, is_fashion ? fashion[k] : digit);
    }
    idx_set(idx, "train", train, names);
    idx_set(idx, "t10k", test, names);
  }
  return 0;
}
