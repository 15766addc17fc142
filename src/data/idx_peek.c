#include "data/idx_peek.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/file_check.h"

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode); /* never a FIFO: it would block */
}

static uint32_t big_endian(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int clt_idx_peek_images(const char *dir, int test_split, int *n, int *h, int *w) {
  char path[4096];
  const char *prefix = test_split ? "t10k" : "train";
  int k = snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  if (k < 0 || (size_t)k >= sizeof path) return -1;
  if (!is_file(path)) path[k - 3] = '\0'; /* the .gz first, as the loader does */
  if (!is_file(path)) return -1;
  int fd;
  if (clt_file_open_read(path, "file", NULL, &fd, NULL) != CLT_OK) return -1;
  gzFile f = gzdopen(fd, "rb"); /* reads raw files as they are */
  if (!f) {
    close(fd);
    return -1;
  }
  unsigned char head[16];
  int got = gzread(f, head, sizeof head);
  gzclose(f);
  if (got != (int)sizeof head || head[0] || head[1] || head[2] != 0x08 || head[3] != 3) return -1;
  uint32_t dims[3] = {big_endian(head + 4), big_endian(head + 8), big_endian(head + 12)};
  for (int i = 0; i < 3; i++)
    if (dims[i] == 0 || dims[i] > (uint32_t)INT32_MAX) return -1;
  *n = (int)dims[0];
  *h = (int)dims[1];
  *w = (int)dims[2];
  return 0;
}
