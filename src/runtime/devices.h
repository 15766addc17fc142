/* OpenCL platforms and devices: enumeration, the facts `cltrain devices` shows,
 * and selection by a device spec (see docs and clt_device_select). */
#ifndef CLT_RUNTIME_DEVICES_H
#define CLT_RUNTIME_DEVICES_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "cltrain/status.h"

typedef struct clt_platform_info {
  cl_platform_id id;
  int index; /* P in P:D */
  char name[256];
  char vendor[256];
  char version[256];
  int device_count;
} clt_platform_info;

typedef enum clt_device_kind {
  CLT_DEVICE_GPU,
  CLT_DEVICE_CPU,
  CLT_DEVICE_ACCELERATOR,
  CLT_DEVICE_OTHER
} clt_device_kind;

typedef struct clt_device_info {
  cl_platform_id platform;
  cl_device_id id;
  int platform_index; /* P */
  int device_index;   /* D, within its platform */
  char platform_name[256];
  char platform_vendor[256];
  char platform_version[256];
  char name[256];
  char vendor[256];
  char driver_version[256];
  char device_version[256];
  char opencl_c_version[256];
  clt_device_kind kind;
  unsigned compute_units;
  unsigned clock_mhz;
  uint64_t global_mem;
  uint64_t max_alloc;
  uint64_t local_mem;
  size_t max_work_group;
  int has_fp16;
  int has_fp64;
} clt_device_info;

typedef struct clt_device_list {
  int platform_count;
  clt_platform_info *platforms;
  int device_count;
  clt_device_info *devices;
} clt_device_list;

/* Enumerates every platform and every device of every type. A platform without
 * devices is listed with device_count 0; no platform at all gives an empty list
 * and CLT_OK (the caller decides whether that is an error). */
clt_status clt_device_list_query(clt_device_list *out);
void clt_device_list_free(clt_device_list *list);

const char *clt_device_kind_name(clt_device_kind kind);

/* Picks one device by spec: "P:D", "gpu", "cpu", "accelerator" (the first of
 * that type), or a case-insensitive substring of the platform name, platform
 * vendor or device name, which must match exactly one device. An empty or NULL
 * spec means: the first GPU, else the first device.
 * On failure the message lists the devices. Pure: works on any list (tests use
 * fake ones). */
clt_status clt_device_select(const clt_device_list *list, const char *spec, int *index_out);

/* "0:0 NAME (PLATFORM), 1:0 ..." for error messages. */
void clt_device_list_summary(const clt_device_list *list, char *buf, size_t size);

#endif
