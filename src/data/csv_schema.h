/* The part of a CSV table that a trained model depends on (clt_csv_schema, csv_table.h):
 * feature names with their training mean and standard deviation, the label column, the
 * task and the class names. Checkpoints keep it (section TABL, docs/CHECKPOINT.md) so that
 * `cltrain eval` standardises new data with the training statistics. Encoding, in the
 * machine's byte order:
 *   u32 format (1), u32 regression, u32 features, u32 classes, str label,
 *   features x (str name, f64 mean, f64 std), classes x str name
 * where str is a u32 length and that many bytes. */
#ifndef CLT_DATA_CSV_SCHEMA_H
#define CLT_DATA_CSV_SCHEMA_H

#include <stddef.h>

#include "data/csv_table.h"

/* The schema of t as bytes (*out malloc'd). */
clt_status clt_csv_schema_encode(const clt_csv_table *t, unsigned char **out, size_t *length);
/* Decodes bytes into *s (zeroed first); CLT_ERR_BAD_DATA when malformed (name in messages). */
clt_status clt_csv_schema_decode(const unsigned char *p, size_t n, const char *name,
                                 clt_csv_schema *s);
void clt_csv_schema_free(clt_csv_schema *s);

#endif
