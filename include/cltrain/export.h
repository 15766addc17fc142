/* CLT_API marks the functions libcltrain.so exports; everything else in the library is built
 * with hidden visibility. */
#ifndef CLTRAIN_EXPORT_H
#define CLTRAIN_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define CLT_API __attribute__((visibility("default")))
#else
#define CLT_API
#endif

#endif
