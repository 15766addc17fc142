/* Checkpoint files: layout in docs/CHECKPOINT.md. */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/file_check.h"
#include "train/checkpoint_internal.h"

/* ---- writing ------------------------------------------------------------------------------ */

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

static int write_sections(int fd, const clt_ckpt_section *s, int count) {
  unsigned char h[CLT_CKPT_HEADER_BYTES];
  clt_ckpt_file_header(h, CLT_CHECKPOINT_VERSION);
  if (write_all(fd, h, sizeof h) != 0) return -1;
  for (int i = 0; i < count; i++) {
    unsigned char sh[CLT_CKPT_SECTION_BYTES];
    clt_ckpt_section_header(sh, &s[i]);
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
  clt_bytes pos = {0}, shapes = {0};
  clt_ckpt_pack_position(ck, &pos);
  clt_ckpt_pack_shapes(ck, &shapes);
  if (pos.failed || shapes.failed) {
    free(pos.p);
    free(shapes.p);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory writing checkpoint %s", path);
  }
  const char *opts = ck->options ? ck->options : "";
  const char *dev = ck->device ? ck->device : "";
  clt_ckpt_section s[12];
  int n = 0;
  s[n++] = (clt_ckpt_section){{'M', 'O', 'D', 'L'}, ck->model_text, ck->model_length};
  s[n++] = (clt_ckpt_section){{'O', 'P', 'T', 'S'}, opts, strlen(opts)};
  s[n++] = (clt_ckpt_section){{'D', 'E', 'V', 'C'}, dev, strlen(dev)};
  if (ck->class_names)
    s[n++] = (clt_ckpt_section){{'C', 'L', 'A', 'S'}, ck->class_names, strlen(ck->class_names)};
  if (ck->layout) s[n++] = (clt_ckpt_section){{'R', 'P', 'L', 'C'}, ck->layout, strlen(ck->layout)};
  if (ck->table) s[n++] = (clt_ckpt_section){{'T', 'A', 'B', 'L'}, ck->table, ck->table_length};
  s[n++] = (clt_ckpt_section){{'P', 'O', 'S', 'N'}, pos.p, pos.n};
  s[n++] = (clt_ckpt_section){{'S', 'H', 'A', 'P'}, shapes.p, shapes.n};
  s[n++] = (clt_ckpt_section){{'P', 'A', 'R', 'M'}, ck->params, ck->param_floats * sizeof(float)};
  s[n++] =
      (clt_ckpt_section){{'O', 'P', 'T', 'M'}, ck->optimizer, ck->optimizer_floats * sizeof(float)};
  s[n++] = (clt_ckpt_section){{'L', 'S', 'T', 'A'}, ck->state, ck->state_floats * sizeof(float)};
  s[n++] = (clt_ckpt_section){{'E', 'N', 'D', ' '}, NULL, 0};

  /* The file written is the regular file path names (through links, which survive); a
   * device, FIFO, socket or folder is never replaced. */
  char real[4096], tmp[4200];
  clt_status st = clt_file_write_target(path, "checkpoint", real, sizeof real, NULL);
  if (st == CLT_OK && (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", real) >= sizeof tmp)
    st = clt_fail(CLT_ERR_USAGE, "checkpoint path too long: %s", path);
  if (st == CLT_OK) {
    path = real;
    int fd = clt_file_create_fresh(tmp);
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
    "the file is damaged: use another copy (the -best file when training kept the best epoch) or "
    "train again";

static clt_status read_file(const char *path, unsigned char **data, size_t *size) {
  return clt_file_read_all(path, "checkpoint file", "check the path", CLT_CKPT_MAX_FILE_BYTES,
                           "is it really a checkpoint?", data, size);
}

int clt_checkpoint_has_magic(const void *head, size_t n) {
  return n >= sizeof clt_ckpt_magic && memcmp(head, clt_ckpt_magic, sizeof clt_ckpt_magic) == 0;
}

clt_status clt_checkpoint_target_check(const char *path, int overwrite) {
  char real[4096];
  int exists;
  CLT_TRY(clt_file_write_target(path, "checkpoint", real, sizeof real, &exists));
  if (!exists || overwrite) return CLT_OK;
  unsigned char head[sizeof clt_ckpt_magic];
  size_t got;
  CLT_TRY(clt_file_read_head(real, "checkpoint", head, sizeof head, &got));
  if (got == 0 || clt_checkpoint_has_magic(head, got)) return CLT_OK; /* empty, or ours */
  return clt_fail(CLT_ERR_USAGE,
                  "%s exists and is not a cltrain checkpoint: saving would replace it; give "
                  "another path, or allow overwriting to replace it",
                  path);
}

static clt_status check_header(const char *path, const unsigned char *p, size_t n) {
  if (n < CLT_CKPT_HEADER_BYTES) {
    if (n > 0 && memcmp(p, clt_ckpt_magic, n < 8 ? n : 8) == 0)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: the file ends inside its header (%zu bytes); %s", path, n,
                      fix_damaged);
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is not a cltrain checkpoint (%zu bytes, too short); give a checkpoint "
                    "that training saved",
                    path, n);
  }
  if (memcmp(p, clt_ckpt_magic, 8) != 0)
    return clt_fail(CLT_ERR_BAD_DATA,
                    "%s is not a cltrain checkpoint (wrong magic number); give a checkpoint "
                    "that training saved",
                    path);
  uint32_t version, mark, crc;
  memcpy(&version, p + 8, 4);
  memcpy(&mark, p + 12, 4);
  memcpy(&crc, p + 20, 4);
  if (crc != clt_ckpt_crc(p, 20))
    return clt_fail(CLT_ERR_BAD_DATA, "%s: damaged header (CRC mismatch); %s", path, fix_damaged);
  if (mark != CLT_CKPT_ENDIAN_MARK)
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
  clt_byte_cursor c = {p, n, 0, 0};
  if (memcmp(tag, "MODL", 4) == 0) {
    if (n > CLT_CKPT_MAX_TEXT_BYTES || memchr(p, '\0', n)) return -2;
    free(ck->model_text);
    if (!(ck->model_text = copy_text(p, n))) return -1;
    ck->model_length = n;
    *have |= HAVE_MODL;
  } else if (memcmp(tag, "OPTS", 4) == 0 || memcmp(tag, "DEVC", 4) == 0 ||
             memcmp(tag, "CLAS", 4) == 0) {
    if (n > CLT_CKPT_MAX_TEXT_BYTES || memchr(p, '\0', n)) return -2;
    char **dst = tag[0] == 'O' ? &ck->options : tag[0] == 'D' ? &ck->device : &ck->class_names;
    free(*dst);
    if (!(*dst = copy_text(p, n))) return -1;
    *have |= tag[0] == 'O' ? HAVE_OPTS : tag[0] == 'D' ? HAVE_DEVC : 0;
  } else if (memcmp(tag, "RPLC", 4) == 0) { /* optional: the replica layout */
    if (n > CLT_CKPT_MAX_TEXT_BYTES || memchr(p, '\0', n)) return -2;
    free(ck->layout);
    if (!(ck->layout = copy_text(p, n))) return -1;
  } else if (memcmp(tag, "TABL", 4) == 0) { /* optional: CSV statistics, opaque here */
    free(ck->table);
    if (!(ck->table = malloc(n ? n : 1))) return -1;
    memcpy(ck->table, p, n);
    ck->table_length = n;
  } else if (memcmp(tag, "POSN", 4) == 0) {
    if (!clt_ckpt_unpack_position(&c, ck)) return -2;
    *have |= HAVE_POSN;
  } else if (memcmp(tag, "SHAP", 4) == 0) {
    free(ck->layers);
    ck->layers = NULL;
    if (!clt_ckpt_unpack_shapes(&c, ck)) return ck->layers ? -2 : -1;
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
  size_t at = CLT_CKPT_HEADER_BYTES;
  unsigned have = 0;
  for (;;) {
    if (n - at < CLT_CKPT_SECTION_BYTES)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: the file ends at byte %zu, before its end marker; %s", path,
                      n, fix_damaged);
    const unsigned char *h = p + at;
    char tag[5] = {0};
    uint64_t length;
    uint32_t crc, hcrc;
    memcpy(tag, h, 4);
    /* The tag goes into messages: any byte that is not printable ASCII shows as '?'. */
    for (int i = 0; i < 4; i++)
      if (tag[i] < 0x20 || tag[i] > 0x7e) tag[i] = '?';
    memcpy(&length, h + 4, 8);
    memcpy(&crc, h + 12, 4);
    memcpy(&hcrc, h + 16, 4);
    if (hcrc != clt_ckpt_crc(h, 16))
      return clt_fail(CLT_ERR_BAD_DATA, "%s: damaged section header at byte %zu (CRC mismatch); %s",
                      path, at, fix_damaged);
    at += CLT_CKPT_SECTION_BYTES;
    if (length > n - at)
      return clt_fail(CLT_ERR_BAD_DATA,
                      "%s: truncated: section %s needs %llu bytes but the file has %zu left; %s",
                      path, tag, (unsigned long long)length, n - at, fix_damaged);
    if (crc != clt_ckpt_crc(p + at, (size_t)length))
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

clt_status clt_checkpoint_parse(const unsigned char *data, size_t size, const char *name,
                                clt_checkpoint *out) {
  memset(out, 0, sizeof *out);
  clt_status st = check_header(name, data, size);
  if (st == CLT_OK) {
    memcpy(&out->version, data + 8, 4);
    st = parse_sections(name, data, size, out);
  }
  if (st != CLT_OK) clt_checkpoint_free(out);
  return st;
}

clt_status clt_checkpoint_read(const char *path, clt_checkpoint *out) {
  memset(out, 0, sizeof *out);
  unsigned char *data;
  size_t n;
  CLT_TRY(read_file(path, &data, &n));
  clt_status st = clt_checkpoint_parse(data, n, path, out);
  free(data);
  return st;
}

void clt_checkpoint_free(clt_checkpoint *ck) {
  if (!ck) return;
  free(ck->model_text);
  free(ck->options);
  free(ck->device);
  free(ck->class_names);
  free(ck->layout);
  free(ck->table);
  free(ck->layers);
  free(ck->params);
  free(ck->optimizer);
  free(ck->state);
  memset(ck, 0, sizeof *ck);
}
