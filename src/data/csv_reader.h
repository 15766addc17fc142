/* A streaming CSV tokenizer (RFC 4180 as spreadsheets write it): comma-separated fields,
 * optionally in double quotes ("" inside quotes is one quote; quoted fields may hold commas
 * and newlines), LF or CRLF line ends, the last line with or without a newline. Blank lines
 * are skipped. It reads through one fixed-size buffer, so its memory does not grow with the
 * file; only one record is held at a time (at most CLT_CSV_MAX_RECORD bytes).
 *
 * A record with a quoting error (text after a closing quote, a quote never closed) is still
 * returned, with clt_csv_record_error() saying what is wrong and where (so is a record with
 * a NUL byte in a field, which C strings would cut short): the caller decides
 * whether that stops the run or skips the row. The same code reads a file or a block of
 * memory (clt_csv_open_memory: tests and the fuzzer). */
#ifndef CLT_DATA_CSV_READER_H
#define CLT_DATA_CSV_READER_H

#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"

#define CLT_CSV_MAX_RECORD  (1u << 20) /* bytes of one record's field text */
#define CLT_CSV_READ_BUFFER (256u << 10)

typedef struct clt_csv_reader clt_csv_reader;

/* Opens path for reading. CLT_ERR_MISSING_INPUT when it does not exist, CLT_ERR_IO when it
 * cannot be read. */
clt_status clt_csv_open(const char *path, clt_csv_reader **out);
/* Reads size bytes at data (borrowed until close); name is used in messages. */
clt_status clt_csv_open_memory(const void *data, size_t size, const char *name,
                               clt_csv_reader **out);
void clt_csv_close(clt_csv_reader *r);

/* The file name given at open. */
const char *clt_csv_name(const clt_csv_reader *r);

/* Reads the next record: *got = 1, or 0 at the end of the data. CLT_ERR_BAD_DATA for a
 * record longer than CLT_CSV_MAX_RECORD, CLT_ERR_IO for a failed read. */
clt_status clt_csv_next(clt_csv_reader *r, int *got);

/* The fields of the record last read: count, NUL-terminated text (quotes removed), and the
 * 1-based byte column in its line where each field starts. */
int clt_csv_field_count(const clt_csv_reader *r);
const char *clt_csv_field(const clt_csv_reader *r, int i);
long clt_csv_field_column(const clt_csv_reader *r, int i);
/* 1-based line where the record starts, and its byte offset in the file. */
long clt_csv_record_line(const clt_csv_reader *r);
uint64_t clt_csv_record_offset(const clt_csv_reader *r);
/* NULL, or what is wrong with the record's quoting (and the column into *column). */
const char *clt_csv_record_error(const clt_csv_reader *r, long *column);

/* Goes to byte offset (the start of a record, as clt_csv_record_offset gave) whose line is
 * line. The CRC (below) is not kept across a seek. */
clt_status clt_csv_seek(clt_csv_reader *r, uint64_t offset, long line);

/* CRC32 (zlib) of every byte read so far from the start, when enabled before the first read. */
void clt_csv_crc_enable(clt_csv_reader *r);
uint32_t clt_csv_crc(const clt_csv_reader *r);

#endif
