/* Checkpoint files: layout in docs/CHECKPOINT.md. */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/memory.h"

static const unsigned char magic[8] = {'c', 'l', 't', 'c', 'k', 'p', 't', '\0'};
#define ENDIAN_MARK    0x01020304u
#define HEADER_BYTES   24 /* magic, version, endianness marker, flags, header CRC */
#define SECTION_BYTES  20 /* tag, length, payload CRC, section-header CRC */
#define MAX_TEXT_BYTES (16u << 20)

/* ---- CRC32 (zlib) over any length ----------------------------------------------------- */

static uint32_t crc_update(uint32_t crc, const void *data, size_t n) {
  const unsigned char *p = data;
  uLong c = crc;
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)c;
}

static uint32_t crc_of(const void *data, size_t n) {
  return crc_update((uint32_t)crc32(0L, Z_NULL, 0), data, n);
}

uint32_t clt_checkpoint_data_crc(const clt_dataset *ds) {
  uint32_t c = crc_of(NULL, 0);
  if (ds->n <= 0) return c;
  c = crc_update(c, ds->labels, (size_t)ds->n * sizeof *ds->labels);
  size_t floats = (size_t)ds->n * (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
  return crc_update(c, ds->images, floats * sizeof *ds->images);
}

/* ---- a growing byte buffer for the small sections --------------------------------------- */

typedef struct bytes {
  unsigned char *p;
  size_t n, cap;
  int failed;
} bytes;

static void put(bytes *b, const void *data, size_t n) {
  if (b->failed) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void put_u32(bytes *b, uint32_t v) {
  put(b, &v, sizeof v);
}
static void put_u64(bytes *b, uint64_t v) {
  put(b, &v, sizeof v);
}
static void put_f64(bytes *b, double v) {
  put(b, &v, sizeof v);
}

/* A cursor over a payload that reads nothing past its end. */
typedef struct cursor {
  const unsigned char *p;
  size_t n, at;
  int short_read;
} cursor;

static void get(cursor *c, void *out, size_t n) {
  if (c->short_read || c->n - c->at < n) {
    c->short_read = 1;
    memset(out, 0, n);
    return;
  }
  memcpy(out, c->p + c->at, n);
  c->at += n;
}

static uint32_t get_u32(cursor *c) {
  uint32_t v;
  get(c, &v, sizeof v);
  return v;
}
static uint64_t get_u64(cursor *c) {
  uint64_t v;
  get(c, &v, sizeof v);
  return v;
}
static double get_f64(cursor *c) {
  double v;
  get(c, &v, sizeof v);
  return v;
}

/* ---- the POSN and SHAP sections ---------------------------------------------------------- */

static void pack_position(const clt_checkpoint *ck, bytes *b) {
  const clt_train_position *p = &ck->pos;
  put_u32(b, (uint32_t)p->epoch);
  put_u32(b, (uint32_t)p->step);
  put_u64(b, (uint64_t)p->global_step);
  put_u64(b, (uint64_t)p->global_step); /* optimizer t of the last update */
  put_u32(b, (uint32_t)ck->epochs);
  put_u32(b, (uint32_t)ck->steps_per_epoch);
  put_u32(b, (uint32_t)ck->batch);
  put_u32(b, ck->seed);
  put_u32(b, (uint32_t)ck->train_n);
  put_u32(b, (uint32_t)ck->val_n);
  put_u32(b, ck->data_crc);
  put_u32(b, (uint32_t)p->has_best);
  put_f64(b, p->best_val_accuracy);
  put(b, p->metrics, sizeof p->metrics);
  put_f64(b, p->epoch_seconds);
}

static int unpack_position(cursor *c, clt_checkpoint *ck) {
  clt_train_position *p = &ck->pos;
  p->epoch = (int)get_u32(c);
  p->step = (int)get_u32(c);
  p->global_step = (long)get_u64(c);
  (void)get_u64(c); /* optimizer t: equal to global_step in format 1 */
  ck->epochs = (int)get_u32(c);
  ck->steps_per_epoch = (int)get_u32(c);
  ck->batch = (int)get_u32(c);
  ck->seed = get_u32(c);
  ck->train_n = (int)get_u32(c);
  ck->val_n = (int)get_u32(c);
  ck->data_crc = get_u32(c);
  p->has_best = (int)get_u32(c);
  p->best_val_accuracy = get_f64(c);
  get(c, p->metrics, sizeof p->metrics);
  p->epoch_seconds = get_f64(c);
  return !c->short_read && c->at == c->n && p->epoch >= 0 && p->step >= 0 && p->global_step >= 0 &&
         ck->batch > 0;
}

static void pack_shapes(const clt_checkpoint *ck, bytes *b) {
  put_u32(b, (uint32_t)ck->layer_count);
  put_u32(b, (uint32_t)ck->optimizer_blocks);
  for (int i = 0; i < ck->layer_count; i++) {
    const clt_checkpoint_layer *l = &ck->layers[i];
    put_u32(b, (uint32_t)l->param_count);
    for (int p = 0; p < l->param_count; p++) put_u64(b, l->param_floats[p]);
    put_u64(b, l->state_floats);
  }
}

static int unpack_shapes(cursor *c, clt_checkpoint *ck) {
  uint32_t count = get_u32(c);
  ck->optimizer_blocks = (int)get_u32(c);
  if (c->short_read || count > 100000 || ck->optimizer_blocks < 0 || ck->optimizer_blocks > 8)
    return 0;
  ck->layer_count = (int)count;
  ck->layers = calloc(count ? count : 1, sizeof *ck->layers);
  if (!ck->layers) return 0;
  for (uint32_t i = 0; i < count && !c->short_read; i++) {
    clt_checkpoint_layer *l = &ck->layers[i];
    uint32_t pc = get_u32(c);
    if (pc > CLT_MAX_PARAMS) return 0;
    l->param_count = (int)pc;
    for (uint32_t p = 0; p < pc; p++) l->param_floats[p] = get_u64(c);
    l->state_floats = get_u64(c);
  }
  return !c->short_read && c->at == c->n;
}

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct section {
  char tag[4];
  const void *data;
  size_t length;
} section;

static int write_all(int fd, const void *data, size_t n) {
  const unsigned char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void header_bytes(unsigned char *h, uint32_t version) {
  uint32_t fields[3] = {version, ENDIAN_MARK, 0u};
  memcpy(h, magic, 8);
  memcpy(h + 8, fields, sizeof fields);
  uint32_t crc = crc_of(h, 20);
  memcpy(h + 20, &crc, 4);
}

static void section_header(unsigned char *h, const section *s) {
  uint64_t length = s->length;
  uint32_t crc = crc_of(s->data, s->length);
  memcpy(h, s->tag, 4);
  memcpy(h + 4, &length, 8);
  memcpy(h + 12, &crc, 4);
  uint32_t hcrc = crc_of(h, 16);
  memcpy(h + 16, &hcrc, 4);
}

static int write_sections(int fd, const section *s, int count) {
  unsigned char h[HEADER_BYTES];
  header_bytes(h, CLT_CHECKPOINT_VERSION);
  if (write_all(fd, h, sizeof h) != 0) return -1;
  for (int i = 0; i < count; i++) {
    unsigned char sh[SECTION_BYTES];
    section_header(sh, &s[i]);
    if (write_all(fd, sh, sizeof sh) != 0) return -1;
    if (s[i].length && write_all(fd, s[i].data, s[i].length) != 0) return -1;
  }
  return 0;
}

/* Makes the rename durable: fsync of the folder that holds path. */
static int sync_folder(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  /* Some file systems cannot fsync a folder (EINVAL): the rename is as durable as they go. */
  if (rc != 0 && errno == EINVAL) rc = 0;
  close(fd);
  return rc;
}

clt_status clt_checkpoint_write(const char *path, const clt_checkpoint *ck) {
  bytes pos = {0}, shapes = {0};
  pack_position(ck, &pos);
  pack_shapes(ck, &shapes);
  if (pos.failed || shapes.failed) {
    free(pos.p);
    free(shapes.p);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory writing checkpoint %s", path);
  }
  const char *opts = ck->options ? ck->options : "";
  const char *dev = ck->device ? ck->device : "";
  section s[10];
  int n = 0;
  s[n++] = (section){{'M', 'O', 'D', 'L'}, ck->model_text, ck->model_length};
  s[n++] = (section){{'O', 'P', 'T', 'S'}, opts, strlen(opts)};
  s[n++] = (section){{'D', 'E', 'V', 'C'}, dev, strlen(dev)};
  if (ck->class_names)
    s[n++] = (section){{'C', 'L', 'A', 'S'}, ck->class_names, strlen(ck->class_names)};
  s[n++] = (section){{'P', 'O', 'S', 'N'}, pos.p, pos.n};
  s[n++] = (section){{'S', 'H', 'A', 'P'}, shapes.p, shapes.n};
  s[n++] = (section){{'P', 'A', 'R', 'M'}, ck->params, ck->param_floats * sizeof(float)};
  s[n++] = (section){{'O', 'P', 'T', 'M'}, ck->optimizer, ck->optimizer_floats * sizeof(float)};
  s[n++] = (section){{'L', 'S', 'T', 'A'}, ck->state, ck->state_floats * sizeof(float)};
  s[n++] = (section){{'E', 'N', 'D', ' '}, NULL, 0};

  char tmp[4096];
  clt_status st = CLT_OK;
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
    st = clt_fail(CLT_ERR_USAGE, "checkpoint path too long: %s", path);
  } else {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      st =
          clt_fail(CLT_ERR_IO, "cannot create %s: %s; check that the folder exists and is writable",
                   tmp, strerror(errno));
    } else {
      int bad = write_sections(fd, s, n) != 0 || fsync(fd) != 0;
      int err = errno;
      if (close(fd) != 0 && !bad) {
        bad = 1;
        err = errno;
      }
      if (bad) {
        unlink(tmp);
        st = clt_fail(CLT_ERR_IO, "cannot write checkpoint %s: %s (%s is unchanged)", tmp,
                      strerror(err), path);
      } else if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        st = clt_fail(CLT_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(err));
      } else if (sync_folder(path) != 0) {
        st = clt_fail(CLT_ERR_IO, "cannot sync the folder of %s: %s", path, strerror(errno));
      }
    }
  }
  free(pos.p);
  free(shapes.p);
  return st;
}

/* ---- reading ------------------------------------------------------------------------------ */

static const char *const fix_damaged =
    "the file is damaged: use another copy (the -best file when training used --keep-best) or "
    "train again";

static clt_status read_file(const char *path, unsigned char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT)
      return clt_fail(CLT_ERR_MISSING_INPUT, "%s: no such checkpoint file", path);
    return clt_fail(CLT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return clt_fail(CLT_ERR_BAD_DATA, "%s is not a regular file; give a checkpoint file", path);
  }
  size_t n = (size_t)sb.st_size;
  unsigned char *p = malloc(n ? n : 1);
  if (!p) {
    fclose(f);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s (%zu bytes)", path, n);
  }
  size_t got = fread(p, 1, n, f);
  int err = ferror(f);
  fclose(f);
  if (err || got != n) {
    free(p);
    return clt_fail(CLT_ERR_IO, "cannot read %s", path);
  }
  *data = p;
  *size = n;
  return CLT_OK;
}

static clt_status check_header(const char *path, const unsigned char *p, size_t n) {
  if (n < HEADER_BYTES) {
    if (n > 0 && memcmp(p, magic, n < 8 ? n : 8) == 0)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: the file ends inside its header (%zu bytes); %s", path, n,
                      fix_damaged);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is not a cltrain checkpoint (%zu bytes, too short); give a file written by "
                    "cltrain train --save",
                    path, n);
  }
  if (memcmp(p, magic, 8) != 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is not a cltrain checkpoint (wrong magic number); give a file written by "
                    "cltrain train --save",
                    path);
  uint32_t version, mark, crc;
  memcpy(&version, p + 8, 4);
  memcpy(&mark, p + 12, 4);
  memcpy(&crc, p + 20, 4);
  if (crc != crc_of(p, 20))
    return clt_fail(CLT_ERR_BAD_DATA, "%s: damaged header (CRC mismatch); %s", path, fix_damaged);
  if (mark != ENDIAN_MARK)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s was written on a machine of the other byte order; this build reads "
                    "little-endian checkpoints only",
                    path);
  if (version > CLT_CHECKPOINT_VERSION)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s was made by a newer cltrain (format %u); this build reads up to format "
                    "%d: update cltrain",
                    path, version, CLT_CHECKPOINT_VERSION);
  if (version < 1)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: format version 0 does not exist; %s", path, fix_damaged);
  return CLT_OK;
}

static char *copy_text(const unsigned char *p, size_t n) {
  char *t = malloc(n + 1);
  if (!t) return NULL;
  memcpy(t, p, n);
  t[n] = '\0';
  return t;
}

static float *copy_floats(const unsigned char *p, size_t n, size_t *count) {
  *count = n / sizeof(float);
  float *f = malloc(n ? n : 1);
  if (f && n) memcpy(f, p, n);
  return f;
}

enum {
  HAVE_MODL = 1,
  HAVE_OPTS = 2,
  HAVE_DEVC = 4,
  HAVE_POSN = 8,
  HAVE_SHAP = 16,
  HAVE_PARM = 32,
  HAVE_OPTM = 64,
  HAVE_LSTA = 128
};

/* One section's payload into ck. Returns 0, or -1 for out of memory, -2 for a malformed
 * payload. */
static int take_section(const char *tag, const unsigned char *p, size_t n, clt_checkpoint *ck,
                        unsigned *have) {
  cursor c = {p, n, 0, 0};
  if (memcmp(tag, "MODL", 4) == 0) {
    if (n > MAX_TEXT_BYTES || memchr(p, '\0', n)) return -2;
    free(ck->model_text);
    if (!(ck->model_text = copy_text(p, n))) return -1;
    ck->model_length = n;
    *have |= HAVE_MODL;
  } else if (memcmp(tag, "OPTS", 4) == 0 || memcmp(tag, "DEVC", 4) == 0 ||
             memcmp(tag, "CLAS", 4) == 0) {
    if (n > MAX_TEXT_BYTES || memchr(p, '\0', n)) return -2;
    char **dst = tag[0] == 'O' ? &ck->options : tag[0] == 'D' ? &ck->device : &ck->class_names;
    free(*dst);
    if (!(*dst = copy_text(p, n))) return -1;
    *have |= tag[0] == 'O' ? HAVE_OPTS : tag[0] == 'D' ? HAVE_DEVC : 0;
  } else if (memcmp(tag, "POSN", 4) == 0) {
    if (!unpack_position(&c, ck)) return -2;
    *have |= HAVE_POSN;
  } else if (memcmp(tag, "SHAP", 4) == 0) {
    free(ck->layers);
    ck->layers = NULL;
    if (!unpack_shapes(&c, ck)) return ck->layers ? -2 : -1;
    *have |= HAVE_SHAP;
  } else if (memcmp(tag, "PARM", 4) == 0 || memcmp(tag, "OPTM", 4) == 0 ||
             memcmp(tag, "LSTA", 4) == 0) {
    if (n % sizeof(float)) return -2;
    float **dst = tag[0] == 'P' ? &ck->params : tag[0] == 'O' ? &ck->optimizer : &ck->state;
    size_t *count = tag[0] == 'P'   ? &ck->param_floats
                    : tag[0] == 'O' ? &ck->optimizer_floats
                                    : &ck->state_floats;
    free(*dst);
    if (!(*dst = copy_floats(p, n, count))) return -1;
    *have |= tag[0] == 'P' ? HAVE_PARM : tag[0] == 'O' ? HAVE_OPTM : HAVE_LSTA;
  }
  /* Unknown tags are skipped: a later minor addition that older readers may ignore. */
  return 0;
}

/* The tensor table must account for the floats of PARM, OPTM and LSTA exactly. */
static int sizes_agree(const clt_checkpoint *ck) {
  uint64_t params = 0, state = 0;
  for (int i = 0; i < ck->layer_count; i++) {
    for (int p = 0; p < ck->layers[i].param_count; p++) params += ck->layers[i].param_floats[p];
    state += ck->layers[i].state_floats;
  }
  return params == ck->param_floats && state == ck->state_floats &&
         params * (uint64_t)ck->optimizer_blocks == ck->optimizer_floats;
}

static clt_status parse_sections(const char *path, const unsigned char *p, size_t n,
                                 clt_checkpoint *ck) {
  size_t at = HEADER_BYTES;
  unsigned have = 0;
  for (;;) {
    if (n - at < SECTION_BYTES)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: the file ends at byte %zu, before its end marker; %s", path,
                      n, fix_damaged);
    const unsigned char *h = p + at;
    char tag[5] = {0};
    uint64_t length;
    uint32_t crc, hcrc;
    memcpy(tag, h, 4);
    memcpy(&length, h + 4, 8);
    memcpy(&crc, h + 12, 4);
    memcpy(&hcrc, h + 16, 4);
    if (hcrc != crc_of(h, 16))
      return clt_fail(CLT_ERR_BAD_DATA, "%s: damaged section header at byte %zu (CRC mismatch); %s",
                      path, at, fix_damaged);
    at += SECTION_BYTES;
    if (length > n - at)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: section %s needs %llu bytes but the file has %zu left; %s",
                      path, tag, (unsigned long long)length, n - at, fix_damaged);
    if (crc != crc_of(p + at, (size_t)length))
      return clt_fail(CLT_ERR_BAD_DATA, "%s: section %s is damaged (CRC mismatch); %s", path, tag,
                      fix_damaged);
    if (memcmp(tag, "END ", 4) == 0) {
      at += (size_t)length;
      break;
    }
    int rc = take_section(tag, p + at, (size_t)length, ck, &have);
    if (rc == -1) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
    if (rc == -2)
      return clt_fail(CLT_ERR_BAD_DATA, "%s: section %s is malformed; %s", path, tag, fix_damaged);
    at += (size_t)length;
  }
  if (at != n)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: %zu unexpected bytes after the end marker; %s", path,
                    n - at, fix_damaged);
  static const char *const names[] = {"MODL", "OPTS", "DEVC", "POSN",
                                      "SHAP", "PARM", "OPTM", "LSTA"};
  for (int i = 0; i < 8; i++)
    if (!(have & (1u << i)))
      return clt_fail(CLT_ERR_BAD_DATA, "%s: section %s is missing; %s", path, names[i],
                      fix_damaged);
  if (!sizes_agree(ck))
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s: the tensor table does not match the tensor data (%zu parameter, %zu "
                    "optimizer, %zu state floats); %s",
                    path, ck->param_floats, ck->optimizer_floats, ck->state_floats, fix_damaged);
  return CLT_OK;
}

clt_status clt_checkpoint_read(const char *path, clt_checkpoint *out) {
  memset(out, 0, sizeof *out);
  unsigned char *data;
  size_t n;
  CLT_TRY(read_file(path, &data, &n));
  clt_status st = check_header(path, data, n);
  if (st == CLT_OK) {
    memcpy(&out->version, data + 8, 4);
    st = parse_sections(path, data, n, out);
  }
  free(data);
  if (st != CLT_OK) clt_checkpoint_free(out);
  return st;
}

void clt_checkpoint_free(clt_checkpoint *ck) {
  if (!ck) return;
  free(ck->model_text);
  free(ck->options);
  free(ck->device);
  free(ck->class_names);
  free(ck->layers);
  free(ck->params);
  free(ck->optimizer);
  free(ck->state);
  memset(ck, 0, sizeof *ck);
}

/* ---- between a network and a checkpoint -------------------------------------------------- */

static clt_status table_of(const clt_network *net, clt_checkpoint_layer **out, size_t *params,
                           size_t *state) {
  int count = net->model->layer_count;
  clt_checkpoint_layer *t = calloc((size_t)(count ? count : 1), sizeof *t);
  if (!t) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the tensor table");
  *params = *state = 0;
  for (int i = 0; i < count; i++) {
    const clt_layer_sizes *s = &net->layers[i].sizes;
    t[i].param_count = s->param_count;
    for (int p = 0; p < s->param_count; p++) {
      t[i].param_floats[p] = s->params[p].count;
      *params += s->params[p].count;
    }
    t[i].state_floats = s->state_floats;
    *state += s->state_floats;
  }
  *out = t;
  return CLT_OK;
}

/* Host copies of the three arenas (the optimizer one only when it exists). */
typedef struct arena_images {
  float *params, *optimizer, *state;
  size_t param_floats; /* floats in the parameter arena, padding included */
} arena_images;

static void free_images(arena_images *a) {
  free(a->params);
  free(a->optimizer);
  free(a->state);
}

static clt_status alloc_images(const clt_network *net, arena_images *a) {
  memset(a, 0, sizeof *a);
  a->param_floats = net->params.size / sizeof(float);
  a->params = calloc(net->params.size ? net->params.size : 1, 1);
  a->optimizer = calloc(net->optimizer.size ? net->optimizer.size : 1, 1);
  a->state = calloc(net->state.size ? net->state.size : 1, 1);
  if (!a->params || !a->optimizer || !a->state) {
    free_images(a);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory copying the network's tensors");
  }
  return CLT_OK;
}

static int all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

clt_status clt_checkpoint_capture(clt_network *net, clt_checkpoint *ck) {
  clt_checkpoint_layer *table = NULL;
  size_t params = 0, state = 0;
  CLT_TRY(table_of(net, &table, &params, &state));
  arena_images a;
  clt_status st = alloc_images(net, &a);
  if (st != CLT_OK) {
    free(table);
    return st;
  }
  int blocks = net->optimizer.size ? net->optimizer_blocks : 0;
  float *p = malloc((params ? params : 1) * sizeof *p);
  float *o = malloc((params * (size_t)blocks + 1) * sizeof *o);
  float *s = malloc((state ? state : 1) * sizeof *s);
  if (!p || !o || !s) st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for a checkpoint");
  if (st == CLT_OK) st = clt_buffer_read(net->ctx, net->params.mem, 0, net->params.size, a.params);
  if (st == CLT_OK && blocks)
    st = clt_buffer_read(net->ctx, net->optimizer.mem, 0, net->optimizer.size, a.optimizer);
  if (st == CLT_OK && net->state.size)
    st = clt_buffer_read(net->ctx, net->state.mem, 0, net->state.size, a.state);
  if (st == CLT_OK) {
    size_t pi = 0, si = 0, oi = 0;
    for (int b = 0; b < blocks; b++)
      for (int i = 0; i < net->model->layer_count; i++)
        for (int k = 0; k < net->layers[i].sizes.param_count; k++) {
          size_t off = net->layers[i].param_offset[k] / sizeof(float),
                 cnt = table[i].param_floats[k];
          memcpy(o + oi, a.optimizer + (size_t)b * a.param_floats + off, cnt * sizeof *o);
          oi += cnt;
        }
    for (int i = 0; i < net->model->layer_count; i++) {
      const clt_net_layer *nl = &net->layers[i];
      for (int k = 0; k < nl->sizes.param_count; k++) {
        memcpy(p + pi, a.params + nl->param_offset[k] / sizeof(float),
               nl->sizes.params[k].count * sizeof *p);
        pi += nl->sizes.params[k].count;
      }
      memcpy(s + si, a.state + nl->state_offset / sizeof(float),
             nl->sizes.state_floats * sizeof *s);
      si += nl->sizes.state_floats;
    }
  }
  free_images(&a);
  if (st == CLT_OK &&
      (!all_finite(p, params) || !all_finite(o, params * (size_t)blocks) || !all_finite(s, state)))
    st = clt_fail(CLT_ERR_NON_FINITE, "the parameters or optimizer state hold NaN or infinite "
                                      "values; lower the learning rate (--lr)");
  if (st != CLT_OK) {
    free(table);
    free(p);
    free(o);
    free(s);
    return st;
  }
  free(ck->layers);
  free(ck->params);
  free(ck->optimizer);
  free(ck->state);
  ck->layer_count = net->model->layer_count;
  ck->layers = table;
  ck->optimizer_blocks = blocks;
  ck->params = p;
  ck->param_floats = params;
  ck->optimizer = o;
  ck->optimizer_floats = params * (size_t)blocks;
  ck->state = s;
  ck->state_floats = state;
  return CLT_OK;
}

static clt_status compare_tables(const clt_network *net, const clt_checkpoint *ck) {
  const clt_model *m = net->model;
  if (ck->layer_count != m->layer_count)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "the checkpoint holds tensors of %d layers but the model has %d; use the model "
                    "the checkpoint was made with",
                    ck->layer_count, m->layer_count);
  for (int i = 0; i < m->layer_count; i++) {
    const clt_layer_sizes *s = &net->layers[i].sizes;
    const clt_checkpoint_layer *l = &ck->layers[i];
    int same = l->param_count == s->param_count && l->state_floats == s->state_floats;
    for (int p = 0; same && p < s->param_count; p++)
      same = l->param_floats[p] == s->params[p].count;
    if (!same)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "the checkpoint's tensors of layer %d (%s) differ from the model's; use the "
                      "model the checkpoint was made with",
                      i + 1, m->layers[i].ops->name);
  }
  return CLT_OK;
}

clt_status clt_checkpoint_restore(clt_network *net, const clt_checkpoint *ck, int with_optimizer) {
  CLT_TRY(compare_tables(net, ck));
  int blocks = net->optimizer.size ? net->optimizer_blocks : 0;
  if (with_optimizer && blocks != ck->optimizer_blocks)
    return clt_fail(CLT_ERR_USAGE,
                    "the checkpoint holds %d optimizer-state tensors per parameter but this run's "
                    "optimizer needs %d: resume with the optimizer the checkpoint was made with",
                    ck->optimizer_blocks, blocks);
  arena_images a;
  CLT_TRY(alloc_images(net, &a));
  size_t pi = 0, si = 0, oi = 0;
  for (int i = 0; i < net->model->layer_count; i++) {
    const clt_net_layer *nl = &net->layers[i];
    for (int k = 0; k < nl->sizes.param_count; k++) {
      memcpy(a.params + nl->param_offset[k] / sizeof(float), ck->params + pi,
             nl->sizes.params[k].count * sizeof(float));
      pi += nl->sizes.params[k].count;
    }
    memcpy(a.state + nl->state_offset / sizeof(float), ck->state + si,
           nl->sizes.state_floats * sizeof(float));
    si += nl->sizes.state_floats;
  }
  if (with_optimizer)
    for (int b = 0; b < blocks; b++)
      for (int i = 0; i < net->model->layer_count; i++)
        for (int k = 0; k < net->layers[i].sizes.param_count; k++) {
          size_t off = net->layers[i].param_offset[k] / sizeof(float);
          size_t cnt = net->layers[i].sizes.params[k].count;
          memcpy(a.optimizer + (size_t)b * a.param_floats + off, ck->optimizer + oi,
                 cnt * sizeof(float));
          oi += cnt;
        }
  clt_status st = clt_buffer_write(net->ctx, net->params.mem, 0, net->params.size, a.params);
  if (st == CLT_OK && net->state.size)
    st = clt_buffer_write(net->ctx, net->state.mem, 0, net->state.size, a.state);
  if (st == CLT_OK && with_optimizer && blocks)
    st = clt_buffer_write(net->ctx, net->optimizer.mem, 0, net->optimizer.size, a.optimizer);
  free_images(&a);
  return st;
}

/* ---- text sections ------------------------------------------------------------------------ */

char *clt_checkpoint_device_text(const clt_ctx *ctx) {
  bytes b = {0};
  char line[2600];
  const clt_device_info *d = &ctx->dev;
  snprintf(line, sizeof line,
           "device = %s\nvendor = %s\nplatform = %s\nplatform_version = %s\ndriver = %s\n"
           "device_version = %s\nopencl_c = %s\nbuild_options = %s\n",
           d->name, d->vendor, d->platform_name, d->platform_version, d->driver_version,
           d->device_version, d->opencl_c_version, ctx->std_option);
  put(&b, line, strlen(line));
  for (int i = 0; i < ctx->program_count; i++) {
    snprintf(line, sizeof line, "program %s = %s\n", ctx->programs[i].file,
             ctx->programs[i].options ? ctx->programs[i].options : "");
    put(&b, line, strlen(line));
  }
  put(&b, "", 1);
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  return (char *)b.p;
}

int clt_checkpoint_value(const char *text, const char *key, char *buf, size_t size) {
  if (size) buf[0] = '\0';
  if (!text) return 0;
  size_t klen = strlen(key);
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > klen + 2 && strncmp(line, key, klen) == 0 && strncmp(line + klen, " = ", 3) == 0) {
      size_t vlen = len - klen - 3;
      if (vlen + 1 > size) return 0;
      memcpy(buf, line + klen + 3, vlen);
      buf[vlen] = '\0';
      return 1;
    }
    if (len == klen + 2 && strncmp(line, key, klen) == 0 && strncmp(line + klen, " =", 2) == 0)
      return 1; /* an empty value */
    line += len + (end ? 1 : 0);
  }
  return 0;
}

int clt_checkpoint_best_path(const char *path, char *out, size_t size) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) dot = base + strlen(base); /* no extension, or a hidden file */
  int n = snprintf(out, size, "%.*s-best%s", (int)(dot - path), path, dot);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}
