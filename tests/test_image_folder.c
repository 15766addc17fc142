/* Image folders (data/image_folder.h) and the PNG/JPEG decoders (data/image_decode.h), on
 * files written by the test: formats and channels, the header pixel limit, bad files (their
 * messages, and --skip-bad-images' counts), class order, the train/test/val layout, channel
 * conversion and resizing both ways, a 1-pixel image, unsupported files listed, symlink loops,
 * and the cache (a hit reads no image; a touched file or a corrupt cache file rebuilds). No
 * device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/image_decode.h"
#include "data/image_folder.h"
#include "util/image_files.h"
#include "util/temp_files.h"

static void mkdir_p(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(buf, 0755);
      *p = '/';
    }
  if (mkdir(buf, 0755) != 0 && access(buf, F_OK) != 0) fail_msg("cannot create %s", buf);
}

static const char *path_in(const char *dir, const char *name) { /* 4 buffers used in turn */
  static char buf[4][4400];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

/* A w x h grey PNG of one value. */
static void flat_png(const char *path, int h, int w, int c, uint8_t v) {
  uint8_t px[64 * 64 * 4];
  memset(px, v, (size_t)h * w * c);
  clt_test_write_png(path, h, w, c, px);
}

static clt_image_options opts(int h, int w, int c) {
  clt_image_options o;
  memset(&o, 0, sizeof o);
  o.h = h;
  o.w = w;
  o.c = c;
  o.no_cache = 1;
  o.threads = 2;
  return o;
}

static void expect_error(clt_status st, clt_status want, const char *a, const char *b) {
  if (st != want) fail_msg("status %d, expected %d (%s)", st, want, clt_last_error());
  if (a && !strstr(clt_last_error(), a)) fail_msg("message lacks '%s': %s", a, clt_last_error());
  if (b && !strstr(clt_last_error(), b)) fail_msg("message lacks '%s': %s", b, clt_last_error());
  assert_null(strchr(clt_last_error(), '\n'));
}

/* ---- decoders ---- */

static void test_decode_formats(void **state) {
  (void)state;
  uint8_t px[4 * 3 * 4];
  for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 5);
  size_t n;
  clt_image img;
  static const int channels[4][2] = {{1, 1}, {2, 1}, {3, 3}, {4, 3}}; /* written, decoded */
  for (int k = 0; k < 4; k++) {
    int c = channels[k][0];
    uint8_t *b = clt_test_png_bytes(3, 4, c, px, &n);
    assert_int_equal(clt_image_sniff(b, n), CLT_IMAGE_PNG);
    assert_int_equal(clt_image_decode(b, n, "x.png", 0, &img), CLT_OK);
    assert_int_equal(img.h, 3);
    assert_int_equal(img.w, 4);
    assert_int_equal(img.c, channels[k][1]);
    for (int p = 0; p < 12; p++) /* alpha dropped: the first channels of each pixel */
      for (int j = 0; j < img.c; j++)
        assert_float_equal(img.pixels[p * img.c + j], px[p * c + j] / 255.0f, 1e-6);
    clt_image_free(&img);
    free(b);
  }
  uint8_t flat[8 * 8 * 3];
  memset(flat, 100, sizeof flat);
  for (int c = 1; c <= 3; c += 2) {
    uint8_t *b = clt_test_jpeg_bytes(8, 8, c, flat, 95, &n);
    assert_int_equal(clt_image_sniff(b, n), CLT_IMAGE_JPEG);
    assert_int_equal(clt_image_decode(b, n, "x.jpg", 0, &img), CLT_OK);
    assert_int_equal(img.c, c);
    for (int i = 0; i < 8 * 8 * c; i++) assert_float_equal(img.pixels[i], 100 / 255.0f, 3 / 255.0);
    clt_image_free(&img);
    free(b);
  }
  assert_int_equal(clt_image_format_of_name("a/B.JPEG"), CLT_IMAGE_JPEG);
  assert_int_equal(clt_image_format_of_name("a.Png"), CLT_IMAGE_PNG);
  assert_int_equal(clt_image_format_of_name("a.png.txt"), CLT_IMAGE_UNKNOWN);
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* A header that claims 20,000 x 20,000 pixels is refused before any pixel is allocated, in
 * both formats; the limit itself is exact. */
static void test_header_limit(void **state) {
  (void)state;
  uint8_t px[36] = {0};
  size_t n;
  clt_image img;
  uint8_t *b = clt_test_png_bytes(6, 6, 1, px, &n);
  assert_int_equal(clt_png_decode(b, n, "six.png", 36, &img), CLT_OK);
  clt_image_free(&img);
  expect_error(clt_png_decode(b, n, "six.png", 35, &img), CLT_ERR_BAD_DATA, "six.png",
               "more than the limit of 35");
  put_be32(b + 16, 20000); /* IHDR: width, height, then its CRC over type and data */
  put_be32(b + 20, 20000);
  put_be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
  expect_error(clt_image_decode(b, n, "huge.png", 0, &img), CLT_ERR_BAD_DATA, "20000x20000",
               "more than the limit");
  assert_null(img.pixels);
  free(b);
  b = clt_test_jpeg_bytes(6, 6, 1, px, 90, &n);
  assert_int_equal(clt_jpeg_decode(b, n, "six.jpg", 36, &img), CLT_OK);
  clt_image_free(&img);
  size_t sof = 0;
  for (size_t i = 2; i + 9 < n && !sof; i++)
    if (b[i] == 0xFF && b[i + 1] == 0xC0) sof = i;
  assert_true(sof > 0);
  b[sof + 5] = 20000 >> 8; /* SOF0: length (2), precision (1), height (2), width (2) */
  b[sof + 6] = 20000 & 255;
  b[sof + 7] = 20000 >> 8;
  b[sof + 8] = 20000 & 255;
  expect_error(clt_image_decode(b, n, "huge.jpg", 0, &img), CLT_ERR_BAD_DATA, "20000x20000",
               "more than the limit");
  free(b);
}

static void test_bad_bytes(void **state) {
  (void)state;
  clt_image img;
  expect_error(clt_image_decode((const uint8_t *)"", 0, "zero.png", 0, &img), CLT_ERR_BAD_DATA,
               "zero.png", "empty file");
  const char *text = "this is text, not an image\n";
  expect_error(clt_image_decode((const uint8_t *)text, strlen(text), "text.jpg", 0, &img),
               CLT_ERR_BAD_DATA, "text.jpg", "neither a PNG nor a JPEG");
  uint8_t px[16 * 16];
  for (int i = 0; i < 256; i++) px[i] = (uint8_t)(i * 7);
  size_t n;
  uint8_t *b = clt_test_png_bytes(16, 16, 1, px, &n);
  expect_error(clt_image_decode(b, n / 2, "half.png", 0, &img), CLT_ERR_BAD_DATA, "half.png",
               "cannot decode the PNG");
  b[n / 2] ^= 0x55; /* inside IDAT: its CRC no longer matches */
  expect_error(clt_image_decode(b, n, "flipped.png", 0, &img), CLT_ERR_BAD_DATA, "flipped.png",
               "cannot decode the PNG");
  free(b);
  b = clt_test_jpeg_bytes(16, 16, 1, px, 90, &n);
  expect_error(clt_image_decode(b, n * 3 / 4, "cut.jpg", 0, &img), CLT_ERR_BAD_DATA, "cut.jpg",
               "Premature end");
  expect_error(clt_image_decode(b, 40, "header-only.jpg", 0, &img), CLT_ERR_BAD_DATA,
               "header-only.jpg", "cannot decode the JPEG");
  /* corrupt entropy-coded data, the file whole: an error, not a grey patch */
  size_t sos = 0;
  for (size_t i = 2; i + 1 < n && !sos; i++)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) sos = i;
  assert_true(sos > 0 && sos + 40 < n - 2);
  b[sos + 20] = 0xFF; /* a restart marker where none may be: the data segment ends early */
  b[sos + 21] = 0xD5;
  expect_error(clt_image_decode(b, n, "garbled.jpg", 0, &img), CLT_ERR_BAD_DATA, "garbled.jpg",
               "Corrupt JPEG data");
  free(b);
}

/* ---- folders ---- */

/* class_values[k]: the grey value of the images of the k-th class folder in bytewise order. */
static void test_class_order_channels_resize(void **state) {
  (void)state;
  char root[4096];
  clt_test_make_subdir(root, sizeof root, "order");
  static const char *const names[3] = {"b", "a", "C"}; /* bytewise: C, a, b */
  static const uint8_t values[3] = {200, 100, 50};
  for (int k = 0; k < 3; k++) {
    mkdir_p(path_in(root, names[k]));
    for (int i = 0; i < 2; i++) {
      char name[64];
      snprintf(name, sizeof name, "%s/%d.png", names[k], i);
      flat_png(path_in(root, name), 6, 6, 1, values[k]);
    }
  }
  clt_image_options o = opts(4, 4, 3); /* grey to colour, 6x6 down to 4x4 */
  clt_dataset ds;
  assert_int_equal(clt_image_folder_load(root, CLT_FOLDER_TRAIN, &o, NULL, &ds), CLT_OK);
  assert_int_equal(ds.n, 6);
  assert_int_equal(ds.classes, 3);
  assert_string_equal(ds.class_names[0], "C");
  assert_string_equal(ds.class_names[1], "a");
  assert_string_equal(ds.class_names[2], "b");
  int per_class[3] = {0, 0, 0};
  for (int i = 0; i < ds.n; i++) {
    int k = ds.labels[i];
    uint8_t v = k == 0 ? 50 : k == 1 ? 100 : 200;
    per_class[k]++;
    for (int j = 0; j < 4 * 4 * 3; j++) assert_float_equal(ds.images[i * 48 + j], v / 255.0f, 1e-6);
  }
  assert_int_equal(per_class[0], 2);
  assert_int_equal(per_class[2], 2);
  clt_dataset_free(&ds);

  /* colour to grey (0.299 R + 0.587 G + 0.114 B), down by area average, up bilinearly, and
   * one pixel to 4x4 */
  char rgb[4096];
  clt_test_make_subdir(rgb, sizeof rgb, "rgb");
  mkdir_p(path_in(rgb, "down"));
  mkdir_p(path_in(rgb, "up"));
  uint8_t px[8 * 8 * 3];
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) {
      uint8_t *p = px + (y * 8 + x) * 3;
      p[0] = x < 4 ? 255 : 0; /* left half red, right half blue */
      p[1] = 0;
      p[2] = x < 4 ? 0 : 255;
    }
  clt_test_write_png(path_in(rgb, "down/8x8.png"), 8, 8, 3, px);
  uint8_t two[4] = {0, 255, 255, 0};
  clt_test_write_png(path_in(rgb, "up/2x2.png"), 2, 2, 1, two);
  uint8_t one = 200;
  clt_test_write_png(path_in(rgb, "up/1x1.png"), 1, 1, 1, &one);
  o = opts(4, 4, 1);
  assert_int_equal(clt_image_folder_load(rgb, CLT_FOLDER_TRAIN, &o, NULL, &ds), CLT_OK);
  assert_int_equal(ds.n, 3);
  for (int i = 0; i < ds.n; i++) {
    const float *im = ds.images + i * 16;
    if (ds.labels[i] == 0) { /* down: columns 0-1 red, 2-3 blue */
      for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
          assert_float_equal(im[y * 4 + x], x < 2 ? 0.299f : 0.114f, 1e-5);
    } else if (im[0] > 0.7f && im[5] > 0.7f && fabsf(im[0] - im[15]) < 1e-6f) {
      for (int j = 0; j < 16; j++) assert_float_equal(im[j], 200 / 255.0f, 1e-6); /* 1 pixel */
    } else { /* up: corners keep the source corners, the middle blends */
      assert_float_equal(im[0], 0.0f, 1e-6);
      assert_float_equal(im[3], 1.0f, 1e-6);
      assert_float_equal(im[12], 1.0f, 1e-6);
      assert_float_equal(im[15], 0.0f, 1e-6);
      assert_true(im[5] > 0.2f && im[5] < 0.8f);
    }
  }
  clt_dataset_free(&ds);
  /* without a target shape: the first image's (through the format detection) */
  assert_int_equal(clt_dataset_load_dir(root, 0, &ds), CLT_OK);
  assert_int_equal(ds.h, 6);
  assert_int_equal(ds.c, 1);
  assert_int_equal(ds.n, 6);
  clt_dataset_free(&ds);
}

static void make_classes(const char *root_arg, const char *const *names, int classes, int per,
                         int size) {
  char root[4096];
  snprintf(root, sizeof root, "%s", root_arg); /* path_in's buffers are reused below */
  for (int k = 0; k < classes; k++) {
    mkdir_p(path_in(root, names[k]));
    for (int i = 0; i < per; i++) {
      char name[128];
      snprintf(name, sizeof name, "%s/%02d.png", names[k], i);
      flat_png(path_in(root, name), size, size, 1, (uint8_t)(30 * k + i));
    }
  }
}

static void test_split_layout(void **state) {
  (void)state;
  char root[4096];
  clt_test_make_subdir(root, sizeof root, "splits");
  static const char *const names[3] = {"cat", "dog", "eel"};
  make_classes(path_in(root, "train"), names, 2, 5, 4);
  make_classes(path_in(root, "test"), names, 2, 3, 4);
  make_classes(path_in(root, "val"), names, 2, 2, 4);
  clt_image_options o = opts(4, 4, 1);
  clt_dataset ds;
  int want[3] = {10, 6, 4};
  for (int s = 0; s < 3; s++) {
    assert_int_equal(clt_dataset_load_dir_images(root, s, &o, NULL, &ds), CLT_OK);
    assert_int_equal(ds.n, want[s]);
    assert_int_equal(ds.classes, 2);
    assert_string_equal(ds.class_names[1], "dog");
    clt_dataset_free(&ds);
  }
  assert_true(clt_image_folder_has_val(root));
  make_classes(path_in(root, "test"), names, 3, 1, 4); /* test/ gains eel/ */
  expect_error(clt_image_folder_load(root, CLT_FOLDER_TEST, &o, NULL, &ds), CLT_ERR_BAD_DATA,
               "test/ has the class folder \"eel\" but train/ has not", NULL);
  /* a one-set folder: no test set, its shape and classes */
  assert_int_equal(clt_image_folder_load(path_in(root, "train"), CLT_FOLDER_TEST, &o, NULL, &ds),
                   CLT_OK);
  assert_int_equal(ds.n, 0);
  assert_int_equal(ds.classes, 2);
  assert_int_equal(ds.h, 4);
  clt_dataset_free(&ds);
  assert_false(clt_image_folder_has_val(path_in(root, "train")));
}

static void test_bad_files_and_skip(void **state) {
  (void)state;
  char root[4096];
  clt_test_make_subdir(root, sizeof root, "bad");
  static const char *const names[2] = {"a", "b"};
  make_classes(root, names, 2, 4, 5);
  clt_test_write_file(path_in(root, "a/zero.png"), "", 0);
  clt_image_options o = opts(5, 5, 1);
  clt_dataset ds;
  expect_error(clt_image_folder_load(root, 0, &o, NULL, &ds), CLT_ERR_BAD_DATA, "a/zero.png",
               "empty file (0 bytes); remove or replace the file, or set skip_bad_images");
  const char *text = "not a picture\n";
  clt_test_write_file(path_in(root, "b/text.jpg"), text, strlen(text));
  uint8_t px[25] = {0};
  size_t n;
  uint8_t *b = clt_test_jpeg_bytes(5, 5, 1, px, 90, &n);
  clt_test_write_file(path_in(root, "b/cut.jpg"), b, n / 2);
  free(b);
  o.skip_bad = 1;
  clt_image_report r;
  if (clt_image_folder_load(root, 0, &o, &r, &ds) != CLT_OK) fail_msg("%s", clt_last_error());
  assert_int_equal(ds.n, 8);
  assert_int_equal(r.skipped, 3);
  assert_int_equal(r.images, 8);
  assert_non_null(strstr(r.first_skipped, "a/zero.png"));
  clt_dataset_free(&ds);
}

static void test_folder_problems(void **state) {
  (void)state;
  char root[4096];
  clt_image_options o = opts(4, 4, 1);
  clt_dataset ds;
  clt_test_make_subdir(root, sizeof root, "noclass");
  clt_test_write_text(root, "readme.txt", "hello");
  expect_error(clt_image_folder_load(root, 0, &o, NULL, &ds), CLT_ERR_BAD_DATA, "no class folders",
               NULL);
  clt_test_make_subdir(root, sizeof root, "emptyclass");
  static const char *const names[2] = {"a", "b"};
  make_classes(root, names, 1, 2, 4);
  mkdir_p(path_in(root, "b"));
  clt_test_write_text(path_in(root, "b"), "notes.txt", "x");
  expect_error(clt_image_folder_load(root, 0, &o, NULL, &ds), CLT_ERR_BAD_DATA, "/b: class folder",
               "holds no PNG or JPEG image");
  clt_test_make_subdir(root, sizeof root, "oneclass");
  make_classes(root, names, 1, 2, 4);
  expect_error(clt_image_folder_load(root, 0, &o, NULL, &ds), CLT_ERR_BAD_DATA,
               "only one class folder (a)", NULL);

  /* unsupported files listed by extension; a symlink loop and a dangling link counted */
  clt_test_make_subdir(root, sizeof root, "others");
  make_classes(root, names, 2, 2, 4);
  clt_test_write_text(path_in(root, "a"), "x.txt", "1");
  clt_test_write_text(path_in(root, "b"), "y.TXT", "1");
  clt_test_write_text(path_in(root, "b"), "z.gif", "1");
  assert_int_equal(symlink("..", path_in(root, "a/up")), 0);     /* back to the root */
  assert_int_equal(symlink("self", path_in(root, "b/self")), 0); /* ELOOP */
  assert_int_equal(symlink("../b", path_in(root, "a/to-b")), 0); /* b walked twice */
  clt_image_report r;
  if (clt_image_folder_load(root, 0, &o, &r, &ds) != CLT_OK) fail_msg("%s", clt_last_error());
  assert_int_equal(ds.n, 4);
  assert_int_equal(r.unsupported, 3);
  assert_non_null(strstr(r.unsupported_list, ".txt (2)"));
  assert_non_null(strstr(r.unsupported_list, ".gif (1)"));
  assert_int_equal(r.loops, 3);
  assert_true(r.first_loop[0] != '\0');
  clt_dataset_free(&ds);
}

static void file_times(const char *path, long long *size, struct timespec *mtime) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  *size = st.st_size;
  *mtime = st.st_mtim;
}

static void test_cache(void **state) {
  (void)state;
  char root[4096], cache[4096];
  clt_test_make_subdir(root, sizeof root, "cached");
  clt_test_make_subdir(cache, sizeof cache, "cache");
  static const char *const names[2] = {"a", "b"};
  make_classes(root, names, 2, 3, 4);
  clt_image_options o = opts(4, 4, 1);
  o.no_cache = 0;
  o.cache_dir = cache;
  clt_image_report r;
  clt_dataset first, ds;
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &first), CLT_OK);
  assert_int_equal(r.cache_hit, 0);
  assert_int_equal(r.cache_written, 1);
  char cache_file[4096];
  snprintf(cache_file, sizeof cache_file, "%s", r.cache_path);
  assert_true(strncmp(cache_file, cache, strlen(cache)) == 0);

  /* a hit reads no image: one file's bytes changed under the same size and mtime go unseen */
  const char *victim = path_in(root, "a/00.png");
  long long size;
  struct timespec mtime;
  file_times(victim, &size, &mtime);
  uint8_t px[16];
  memset(px, 255, sizeof px);
  size_t n;
  uint8_t *b = clt_test_png_bytes(4, 4, 1, px, &n);
  FILE *f = fopen(victim, "r+b");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n < (size_t)size ? n : (size_t)size, f) > 0, 1);
  fclose(f);
  free(b);
  struct timespec times[2] = {mtime, mtime};
  assert_int_equal(utimensat(AT_FDCWD, victim, times, 0), 0);
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.cache_hit, 1);
  assert_int_equal(ds.n, first.n);
  assert_memory_equal(ds.images, first.images, (size_t)ds.n * 16 * sizeof(float));
  assert_memory_equal(ds.labels, first.labels, (size_t)ds.n * sizeof(int32_t));
  assert_string_equal(ds.class_names[1], "b");
  clt_dataset_free(&ds);

  /* a touched file (new mtime) is a miss: decoded again and rewritten */
  flat_png(victim, 4, 4, 1, 0);
  times[0].tv_sec = times[1].tv_sec = mtime.tv_sec + 10;
  assert_int_equal(utimensat(AT_FDCWD, victim, times, 0), 0);
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.cache_hit, 0);
  assert_int_equal(r.cache_written, 1);
  assert_memory_equal(ds.images, first.images, (size_t)ds.n * 16 * sizeof(float));
  clt_dataset_free(&ds);

  /* a corrupt cache file (one byte of pixels flipped) and a truncated one are rebuilt */
  size_t cn;
  uint8_t *bytes = clt_test_read_file(cache_file, &cn);
  bytes[cn - 40] ^= 0x10;
  clt_test_write_file(cache_file, bytes, cn);
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.cache_hit, 0);
  assert_int_equal(r.cache_written, 1);
  assert_memory_equal(ds.images, first.images, (size_t)ds.n * 16 * sizeof(float));
  clt_dataset_free(&ds);
  bytes[cn - 40] ^= 0x10;
  clt_test_write_file(cache_file, bytes, cn / 2);
  free(bytes);
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.cache_hit, 0);
  clt_dataset_free(&ds);
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.cache_hit, 1);
  clt_dataset_free(&ds);
  clt_dataset_free(&first);
}

static void test_threads_agree(void **state) {
  (void)state;
  char root[4096];
  clt_test_make_subdir(root, sizeof root, "threads");
  static const char *const names[3] = {"x", "y", "z"};
  make_classes(root, names, 3, 7, 9);
  clt_dataset a, b;
  clt_image_options o = opts(5, 5, 1);
  o.threads = 1;
  assert_int_equal(clt_image_folder_load(root, 0, &o, NULL, &a), CLT_OK);
  o.threads = 4;
  assert_int_equal(clt_image_folder_load(root, 0, &o, NULL, &b), CLT_OK);
  assert_int_equal(a.n, 21);
  assert_memory_equal(a.images, b.images, (size_t)a.n * 25 * sizeof(float));
  assert_memory_equal(a.labels, b.labels, (size_t)a.n * sizeof(int32_t));
  /* the fixed order mixes the classes: the last third is not one class */
  int seen[3] = {0, 0, 0};
  for (int i = 14; i < 21; i++) seen[a.labels[i]] = 1;
  assert_true(seen[0] + seen[1] + seen[2] >= 2);
  clt_dataset_free(&a);
  clt_dataset_free(&b);
}

/* Streamed from the cache file (larger than memory, forced here): decoded a chunk of 4 at a
 * time with a bad file skipped, the samples read on demand equal the resident ones, a split
 * gives streamed ranges, an epoch's order is a permutation, and a second load streams from
 * the cache without decoding. The automatic choice follows the options' host_memory. */
static void test_stream(void **state) {
  (void)state;
  char root[4096], cache[4096];
  clt_test_make_subdir(root, sizeof root, "streamed");
  clt_test_make_subdir(cache, sizeof cache, "scache");
  static const char *const names[3] = {"x", "y", "z"};
  make_classes(root, names, 3, 5, 6);
  clt_test_write_file(path_in(root, "y/zero.png"), "", 0);
  clt_image_options o = opts(4, 4, 1);
  o.skip_bad = 1;
  clt_dataset resident, ds;
  assert_int_equal(clt_image_folder_load(root, 0, &o, NULL, &resident), CLT_OK);
  assert_int_equal(resident.n, 15);
  o.no_cache = 0;
  o.cache_dir = cache;
  o.stream = 1;
  o.stream_chunk = 4;
  clt_image_report r;
  for (int pass = 0; pass < 2; pass++) {
    if (clt_image_folder_load(root, 0, &o, &r, &ds) != CLT_OK) fail_msg("%s", clt_last_error());
    assert_int_equal(r.streamed, 1);
    assert_int_equal(r.cache_hit, pass);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(ds.n, 15);
    assert_null(ds.images);
    assert_non_null(ds.source);
    assert_string_equal(ds.class_names[2], "z");
    float x[15 * 16];
    int32_t y[15];
    assert_int_equal(ds.source->read(ds.source->self, 0, 15, x, y), CLT_OK);
    assert_memory_equal(x, resident.images, sizeof x);
    assert_memory_equal(y, resident.labels, sizeof y);
    clt_dataset train, val;
    assert_int_equal(clt_dataset_split(&ds, 0.2, &train, &val), CLT_OK);
    assert_int_equal(train.n, 12);
    assert_int_equal(val.n, 3);
    assert_int_equal(val.source->read(val.source->self, 1, 2, x, y), CLT_OK);
    assert_memory_equal(x, resident.images + 13 * 16, 2 * 16 * sizeof(float));
    assert_int_equal(y[1], resident.labels[14]);
    /* an epoch's order: every sample once */
    assert_int_equal(train.source->begin_epoch(train.source->self, 3, 1), CLT_OK);
    assert_int_equal(train.source->read(train.source->self, 0, 12, x, y), CLT_OK);
    int seen[12] = {0};
    for (int i = 0; i < 12; i++)
      for (int k = 0; k < 12; k++)
        if (memcmp(x + i * 16, resident.images + k * 16, 16 * sizeof(float)) == 0 &&
            y[i] == resident.labels[k])
          seen[k] = 1;
    for (int k = 0; k < 12; k++) assert_int_equal(seen[k], 1);
    clt_dataset_free(&train);
    clt_dataset_free(&val);
    clt_dataset_free(&ds);
  }
  /* automatic: a 1 KiB host memory limit streams, a large one does not */
  o.stream = 0;
  o.host_memory = 1024;
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.streamed, 1);
  clt_dataset_free(&ds);
  o.host_memory = 1LL << 30;
  assert_int_equal(clt_image_folder_load(root, 0, &o, &r, &ds), CLT_OK);
  assert_int_equal(r.streamed, 0);
  assert_non_null(ds.images);
  clt_dataset_free(&ds);
  clt_dataset_free(&resident);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_formats),  cmocka_unit_test(test_header_limit),
      cmocka_unit_test(test_bad_bytes),       cmocka_unit_test(test_class_order_channels_resize),
      cmocka_unit_test(test_split_layout),    cmocka_unit_test(test_bad_files_and_skip),
      cmocka_unit_test(test_folder_problems), cmocka_unit_test(test_cache),
      cmocka_unit_test(test_threads_agree),   cmocka_unit_test(test_stream),
  };
  return cmocka_run_group_tests(tests, clt_test_tmpdir_setup, clt_test_tmpdir_teardown);
}
