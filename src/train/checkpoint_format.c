/* The checkpoint encoding (docs/CHECKPOINT.md): CRCs, the file and section headers, and the
 * POSN and SHAP payloads. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "train/checkpoint.h"
#include "train/checkpoint_internal.h"

const unsigned char clt_ckpt_magic[8] = {'c', 'l', 't', 'c', 'k', 'p', 't', '\0'};

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

uint32_t clt_ckpt_crc(const void *data, size_t n) {
  return crc_update((uint32_t)crc32(0L, Z_NULL, 0), data, n);
}

uint32_t clt_checkpoint_data_crc(const clt_dataset *ds) {
  uint32_t c = clt_ckpt_crc(NULL, 0);
  if (ds->n <= 0) return c;
  if (ds->source) return ds->source->data_crc;
  c = crc_update(c, ds->labels, (size_t)ds->n * sizeof *ds->labels);
  size_t floats = (size_t)ds->n * (size_t)ds->h * (size_t)ds->w * (size_t)ds->c;
  return crc_update(c, ds->images, floats * sizeof *ds->images);
}

/* ---- the POSN and SHAP sections ---------------------------------------------------------- */

void clt_ckpt_pack_position(const clt_checkpoint *ck, clt_bytes *b) {
  const clt_train_position *p = &ck->pos;
  clt_bytes_put_u32(b, (uint32_t)p->epoch);
  clt_bytes_put_u32(b, (uint32_t)p->step);
  clt_bytes_put_u64(b, (uint64_t)p->global_step);
  clt_bytes_put_u64(b, (uint64_t)p->global_step); /* optimizer t of the last update */
  clt_bytes_put_u32(b, (uint32_t)ck->epochs);
  clt_bytes_put_u32(b, (uint32_t)ck->steps_per_epoch);
  clt_bytes_put_u32(b, (uint32_t)ck->batch);
  clt_bytes_put_u32(b, ck->seed);
  clt_bytes_put_u32(b, (uint32_t)ck->train_n);
  clt_bytes_put_u32(b, (uint32_t)ck->val_n);
  clt_bytes_put_u32(b, ck->data_crc);
  clt_bytes_put_u32(b, (uint32_t)p->has_best);
  clt_bytes_put_f64(b, p->best_val_accuracy);
  clt_bytes_put(b, p->metrics, sizeof p->metrics);
  clt_bytes_put_f64(b, p->epoch_seconds);
}

int clt_ckpt_unpack_position(clt_byte_cursor *c, clt_checkpoint *ck) {
  clt_train_position *p = &ck->pos;
  p->epoch = (int)clt_cursor_u32(c);
  p->step = (int)clt_cursor_u32(c);
  p->global_step = (long)clt_cursor_u64(c);
  (void)clt_cursor_u64(c); /* optimizer t: equal to global_step in format 1 */
  ck->epochs = (int)clt_cursor_u32(c);
  ck->steps_per_epoch = (int)clt_cursor_u32(c);
  ck->batch = (int)clt_cursor_u32(c);
  ck->seed = clt_cursor_u32(c);
  ck->train_n = (int)clt_cursor_u32(c);
  ck->val_n = (int)clt_cursor_u32(c);
  ck->data_crc = clt_cursor_u32(c);
  p->has_best = (int)clt_cursor_u32(c);
  p->best_val_accuracy = clt_cursor_f64(c);
  clt_cursor_get(c, p->metrics, sizeof p->metrics);
  p->epoch_seconds = clt_cursor_f64(c);
  return !c->short_read && c->at == c->n && p->epoch >= 0 && p->step >= 0 && p->global_step >= 0 &&
         ck->batch > 0;
}

void clt_ckpt_pack_shapes(const clt_checkpoint *ck, clt_bytes *b) {
  clt_bytes_put_u32(b, (uint32_t)ck->layer_count);
  clt_bytes_put_u32(b, (uint32_t)ck->optimizer_blocks);
  for (int i = 0; i < ck->layer_count; i++) {
    const clt_checkpoint_layer *l = &ck->layers[i];
    clt_bytes_put_u32(b, (uint32_t)l->param_count);
    for (int p = 0; p < l->param_count; p++) clt_bytes_put_u64(b, l->param_floats[p]);
    clt_bytes_put_u64(b, l->state_floats);
  }
}

int clt_ckpt_unpack_shapes(clt_byte_cursor *c, clt_checkpoint *ck) {
  uint32_t count = clt_cursor_u32(c);
  ck->optimizer_blocks = (int)clt_cursor_u32(c);
  if (c->short_read || count > 100000 || ck->optimizer_blocks < 0 || ck->optimizer_blocks > 8)
    return 0;
  ck->layer_count = (int)count;
  ck->layers = calloc(count ? count : 1, sizeof *ck->layers);
  if (!ck->layers) return 0;
  for (uint32_t i = 0; i < count && !c->short_read; i++) {
    clt_checkpoint_layer *l = &ck->layers[i];
    uint32_t pc = clt_cursor_u32(c);
    if (pc > CLT_MAX_PARAMS) return 0;
    l->param_count = (int)pc;
    for (uint32_t p = 0; p < pc; p++) l->param_floats[p] = clt_cursor_u64(c);
    l->state_floats = clt_cursor_u64(c);
  }
  return !c->short_read && c->at == c->n;
}

/* ---- headers -------------------------------------------------------------------------------- */

void clt_ckpt_file_header(unsigned char *h, uint32_t version) {
  uint32_t fields[3] = {version, CLT_CKPT_ENDIAN_MARK, 0u};
  memcpy(h, clt_ckpt_magic, 8);
  memcpy(h + 8, fields, sizeof fields);
  uint32_t crc = clt_ckpt_crc(h, 20);
  memcpy(h + 20, &crc, 4);
}

void clt_ckpt_section_header(unsigned char *h, const clt_ckpt_section *s) {
  uint64_t length = s->length;
  uint32_t crc = clt_ckpt_crc(s->data, s->length);
  memcpy(h, s->tag, 4);
  memcpy(h + 4, &length, 8);
  memcpy(h + 12, &crc, 4);
  uint32_t hcrc = clt_ckpt_crc(h, 16);
  memcpy(h + 16, &hcrc, 4);
}
