/* Enumeration of OpenCL platforms and devices. */
#include "runtime/devices.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"

static void platform_string(cl_platform_id p, cl_platform_info what, char *buf, size_t size) {
  buf[0] = '\0';
  if (clGetPlatformInfo(p, what, size, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
  buf[size - 1] = '\0';
}

static void device_string(cl_device_id d, cl_device_info what, char *buf, size_t size) {
  buf[0] = '\0';
  if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
  buf[size - 1] = '\0';
}

static int has_extension(cl_device_id d, const char *ext) {
  size_t size = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS) return 0;
  char *all = malloc(size + 1);
  if (!all) return 0;
  int found = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, size, all, NULL) == CL_SUCCESS) {
    all[size] = '\0';
    size_t n = strlen(ext);
    for (const char *p = all; (p = strstr(p, ext)) != NULL; p += n) {
      if ((p == all || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
        found = 1;
        break;
      }
    }
  }
  free(all);
  return found;
}

static void fill_device(clt_device_info *d) {
  device_string(d->id, CL_DEVICE_NAME, d->name, sizeof d->name);
  device_string(d->id, CL_DEVICE_VENDOR, d->vendor, sizeof d->vendor);
  device_string(d->id, CL_DRIVER_VERSION, d->driver_version, sizeof d->driver_version);
  device_string(d->id, CL_DEVICE_VERSION, d->device_version, sizeof d->device_version);
  device_string(d->id, CL_DEVICE_OPENCL_C_VERSION, d->opencl_c_version, sizeof d->opencl_c_version);
  cl_device_type type = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  d->kind = (type & CL_DEVICE_TYPE_GPU)           ? CLT_DEVICE_GPU
            : (type & CL_DEVICE_TYPE_CPU)         ? CLT_DEVICE_CPU
            : (type & CL_DEVICE_TYPE_ACCELERATOR) ? CLT_DEVICE_ACCELERATOR
                                                  : CLT_DEVICE_OTHER;
  cl_uint u = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL);
  d->compute_units = u;
  u = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL);
  d->clock_mhz = u;
  cl_ulong l = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof l, &l, NULL);
  d->global_mem = l;
  l = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof l, &l, NULL);
  d->max_alloc = l;
  l = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof l, &l, NULL);
  d->local_mem = l;
  size_t s = 0;
  clGetDeviceInfo(d->id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof s, &s, NULL);
  d->max_work_group = s;
  d->has_fp16 = has_extension(d->id, "cl_khr_fp16");
  d->has_fp64 = has_extension(d->id, "cl_khr_fp64");
  if (!d->has_fp64) {
    cl_device_fp_config cfg = 0;
    if (clGetDeviceInfo(d->id, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof cfg, &cfg, NULL) == CL_SUCCESS &&
        cfg != 0)
      d->has_fp64 = 1;
  }
}

clt_status clt_device_list_query(clt_device_list *out) {
  memset(out, 0, sizeof *out);
  cl_uint nplat = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &nplat);
  if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: no ICD installed */ || nplat == 0) return CLT_OK;
  CLT_CL_CHECK_ERR(err, "clGetPlatformIDs");
  cl_platform_id *ids = calloc(nplat, sizeof *ids);
  out->platforms = calloc(nplat, sizeof *out->platforms);
  if (!ids || !out->platforms) {
    free(ids);
    clt_device_list_free(out);
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory listing OpenCL platforms");
  }
  err = clGetPlatformIDs(nplat, ids, NULL);
  if (err != CL_SUCCESS) {
    free(ids);
    clt_device_list_free(out);
    return clt_cl_fail(err, "clGetPlatformIDs", __FILE__, __LINE__);
  }
  out->platform_count = (int)nplat;
  for (cl_uint p = 0; p < nplat; p++) {
    clt_platform_info *pi = &out->platforms[p];
    pi->id = ids[p];
    pi->index = (int)p;
    platform_string(ids[p], CL_PLATFORM_NAME, pi->name, sizeof pi->name);
    platform_string(ids[p], CL_PLATFORM_VENDOR, pi->vendor, sizeof pi->vendor);
    platform_string(ids[p], CL_PLATFORM_VERSION, pi->version, sizeof pi->version);
    cl_uint ndev = 0;
    err = clGetDeviceIDs(ids[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev);
    if (err != CL_SUCCESS || ndev == 0) continue; /* CL_DEVICE_NOT_FOUND: listed, empty */
    cl_device_id *devs = calloc(ndev, sizeof *devs);
    clt_device_info *grown =
        realloc(out->devices, (size_t)(out->device_count + (int)ndev) * sizeof *grown);
    if (!devs || !grown) {
      free(devs);
      if (grown) out->devices = grown;
      free(ids);
      clt_device_list_free(out);
      return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory listing OpenCL devices");
    }
    out->devices = grown;
    if (clGetDeviceIDs(ids[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL) != CL_SUCCESS) ndev = 0;
    for (cl_uint d = 0; d < ndev; d++) {
      clt_device_info *di = &out->devices[out->device_count++];
      memset(di, 0, sizeof *di);
      di->platform = ids[p];
      di->id = devs[d];
      di->platform_index = (int)p;
      di->device_index = (int)d;
      memcpy(di->platform_name, pi->name, sizeof di->platform_name);
      memcpy(di->platform_vendor, pi->vendor, sizeof di->platform_vendor);
      memcpy(di->platform_version, pi->version, sizeof di->platform_version);
      fill_device(di);
    }
    pi->device_count = (int)ndev;
    free(devs);
  }
  free(ids);
  return CLT_OK;
}

void clt_device_list_free(clt_device_list *list) {
  free(list->platforms);
  free(list->devices);
  memset(list, 0, sizeof *list);
}

const char *clt_device_kind_name(clt_device_kind kind) {
  switch (kind) {
  case CLT_DEVICE_GPU:
    return "GPU";
  case CLT_DEVICE_CPU:
    return "CPU";
  case CLT_DEVICE_ACCELERATOR:
    return "accelerator";
  default:
    return "other";
  }
}
