/* Shared by the checkpoint files in src/train (not used outside it): the on-disk encoding of
 * checkpoint_format.c, used by the writer and reader in checkpoint.c and by checkpoint_net.c. */
#ifndef CLT_TRAIN_CHECKPOINT_INTERNAL_H
#define CLT_TRAIN_CHECKPOINT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/bytes.h"
#include "train/checkpoint.h"

extern const unsigned char clt_ckpt_magic[8];
#define CLT_CKPT_ENDIAN_MARK    0x01020304u
#define CLT_CKPT_HEADER_BYTES   24 /* magic, version, endianness marker, flags, header CRC */
#define CLT_CKPT_SECTION_BYTES  20 /* tag, length, payload CRC, section-header CRC */
#define CLT_CKPT_MAX_TEXT_BYTES (16u << 20)
/* A bound on any read of a checkpoint file (the file's own size is read, never more). */
#define CLT_CKPT_MAX_FILE_BYTES ((uint64_t)1 << 40)

/* CRC32 (zlib) of n bytes, any length. */
uint32_t clt_ckpt_crc(const void *data, size_t n);

/* The POSN and SHAP sections. The unpackers return 1 when the payload is well formed (and
 * used up exactly); unpack_shapes leaves ck->layers NULL when memory ran out. */
void clt_ckpt_pack_position(const clt_checkpoint *ck, clt_bytes *b);
int clt_ckpt_unpack_position(clt_byte_cursor *c, clt_checkpoint *ck);
void clt_ckpt_pack_shapes(const clt_checkpoint *ck, clt_bytes *b);
int clt_ckpt_unpack_shapes(clt_byte_cursor *c, clt_checkpoint *ck);

/* One section to write: a four-letter tag and its payload. */
typedef struct clt_ckpt_section {
  char tag[4];
  const void *data;
  size_t length;
} clt_ckpt_section;

/* The file header (CLT_CKPT_HEADER_BYTES) and a section header (CLT_CKPT_SECTION_BYTES). */
void clt_ckpt_file_header(unsigned char *h, uint32_t version);
void clt_ckpt_section_header(unsigned char *h, const clt_ckpt_section *s);

#endif
