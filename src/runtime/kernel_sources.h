/* The OpenCL C sources of cl/, embedded at build time (cmake/EmbedKernels.cmake). */
#ifndef CLT_RUNTIME_KERNEL_SOURCES_H
#define CLT_RUNTIME_KERNEL_SOURCES_H

#include <stddef.h>

typedef struct clt_kernel_source {
  const char *name;   /* file name, e.g. "conv.cl" */
  const char *text;   /* NUL-terminated source */
  size_t length;      /* bytes, without the NUL */
  const char *sha256; /* lower-case hex digest of the file */
} clt_kernel_source;

/* Terminated by an entry whose name is NULL. */
extern const clt_kernel_source clt_kernel_sources[];
extern const int clt_kernel_source_count;

#endif
