/* The --wrap wrappers of fault_wrap.h. They must not allocate through the wrapped
 * functions themselves: the live sets are fixed tables. */
#define _GNU_SOURCE
#include "fault_wrap.h"

#include <CL/cl.h>
#include <clblast_c.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The real functions (ld --wrap resolves __real_X to X). */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
cl_mem __real_clCreateBuffer(cl_context, cl_mem_flags, size_t, void *, cl_int *);
cl_mem __real_clCreateSubBuffer(cl_mem, cl_mem_flags, cl_buffer_create_type, const void *,
                                cl_int *);
cl_int __real_clReleaseMemObject(cl_mem);
cl_context __real_clCreateContext(const cl_context_properties *, cl_uint, const cl_device_id *,
                                  void(CL_CALLBACK *)(const char *, const void *, size_t, void *),
                                  void *, cl_int *);
cl_command_queue __real_clCreateCommandQueue(cl_context, cl_device_id, cl_command_queue_properties,
                                             cl_int *);
cl_program __real_clCreateProgramWithSource(cl_context, cl_uint, const char **, const size_t *,
                                            cl_int *);
cl_program __real_clCreateProgramWithBinary(cl_context, cl_uint, const cl_device_id *,
                                            const size_t *, const unsigned char **, cl_int *,
                                            cl_int *);
cl_int __real_clBuildProgram(cl_program, cl_uint, const cl_device_id *, const char *,
                             void(CL_CALLBACK *)(cl_program, void *), void *);
cl_kernel __real_clCreateKernel(cl_program, const char *, cl_int *);
cl_int __real_clCreateKernelsInProgram(cl_program, cl_uint, cl_kernel *, cl_uint *);
cl_int __real_clFinish(cl_command_queue);
cl_int __real_clFlush(cl_command_queue);
cl_int __real_clWaitForEvents(cl_uint, const cl_event *);
cl_int __real_clReleaseContext(cl_context);
cl_int __real_clReleaseCommandQueue(cl_command_queue);
cl_int __real_clReleaseProgram(cl_program);
cl_int __real_clReleaseKernel(cl_kernel);
cl_int __real_clReleaseEvent(cl_event);
cl_int __real_clEnqueueNDRangeKernel(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                                     const size_t *, const size_t *, cl_uint, const cl_event *,
                                     cl_event *);
cl_int __real_clEnqueueWriteBuffer(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *,
                                   cl_uint, const cl_event *, cl_event *);
cl_int __real_clEnqueueReadBuffer(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *,
                                  cl_uint, const cl_event *, cl_event *);
cl_int __real_clEnqueueCopyBuffer(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint,
                                  const cl_event *, cl_event *);
cl_int __real_clEnqueueFillBuffer(cl_command_queue, cl_mem, const void *, size_t, size_t, size_t,
                                  cl_uint, const cl_event *, cl_event *);
cl_int __real_clEnqueueMarkerWithWaitList(cl_command_queue, cl_uint, const cl_event *, cl_event *);
CLBlastStatusCode __real_CLBlastSgemmWithTempBuffer(const CLBlastLayout, const CLBlastTranspose,
                                                    const CLBlastTranspose, const size_t,
                                                    const size_t, const size_t, const float,
                                                    const cl_mem, const size_t, const size_t,
                                                    const cl_mem, const size_t, const size_t,
                                                    const float, cl_mem, const size_t, const size_t,
                                                    cl_command_queue *, cl_event *, cl_mem);

/* ---- state ------------------------------------------------------------------------------- */

#define HOST_SLOTS   (1u << 17) /* open addressing; far more than a short run keeps live */
#define BUFFER_SLOTS 4096u
#define OBJECT_SLOTS 8192u

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int recording;
static long calls[FAULT_CLASSES];
static int armed_class = -1;
static long armed_call;
static int fired;
static void *fired_site;
static fault_call trace[FAULT_TRACE_MAX];
static long trace_count;

static void *host_slot[HOST_SLOTS]; /* NULL: empty; TOMBSTONE: freed */
static long live_host;
static cl_mem buffer_slot[BUFFER_SLOTS];
static long live_buffers, bad_releases;
static void *object_slot[OBJECT_SLOTS]; /* contexts, queues, programs, kernels, events */
static long live_objects;

#define TOMBSTONE ((void *)1)

const char *fault_class_name(fault_class c) {
  static const char *const names[FAULT_CLASSES] = {"host allocation", "buffer creation", "enqueue",
                                                   "other OpenCL call"};
  return c < FAULT_CLASSES ? names[c] : "?";
}

static void die(const char *why) {
  fprintf(stderr, "fault_wrap: %s\n", why);
  abort();
}

static size_t hash_ptr(const void *p) {
  uintptr_t x = (uintptr_t)p;
  x ^= x >> 17;
  x *= 0x9e3779b97f4a7c15ull;
  return (size_t)(x >> 20);
}

static void host_add(void *p) {
  for (size_t i = hash_ptr(p), n = 0; n < HOST_SLOTS; i++, n++) {
    void **s = &host_slot[i & (HOST_SLOTS - 1)];
    if (*s == NULL || *s == TOMBSTONE) {
      *s = p;
      live_host++;
      return;
    }
  }
  die("host block table full");
}

/* Removes p; returns 1 when it was there. */
static int host_remove(void *p) {
  for (size_t i = hash_ptr(p), n = 0; n < HOST_SLOTS; i++, n++) {
    void **s = &host_slot[i & (HOST_SLOTS - 1)];
    if (*s == NULL) return 0;
    if (*s == p) {
      *s = TOMBSTONE;
      live_host--;
      return 1;
    }
  }
  return 0;
}

static void buffer_add(cl_mem m) {
  for (unsigned i = 0; i < BUFFER_SLOTS; i++)
    if (!buffer_slot[i]) {
      buffer_slot[i] = m;
      live_buffers++;
      return;
    }
  die("buffer table full");
}

static int buffer_remove(cl_mem m) {
  for (unsigned i = 0; i < BUFFER_SLOTS; i++)
    if (buffer_slot[i] == m) {
      buffer_slot[i] = NULL;
      live_buffers--;
      return 1;
    }
  return 0;
}

/* OpenCL handles of every other kind are distinct pointers: one table serves them all. */
static void object_add(void *o) {
  if (!o) return;
  pthread_mutex_lock(&lock);
  if (recording) {
    unsigned i = 0;
    while (i < OBJECT_SLOTS && object_slot[i]) i++;
    if (i == OBJECT_SLOTS) die("object table full");
    object_slot[i] = o;
    live_objects++;
  }
  pthread_mutex_unlock(&lock);
}

static void object_release(void *o) {
  pthread_mutex_lock(&lock);
  if (recording) {
    unsigned i = 0;
    while (i < OBJECT_SLOTS && object_slot[i] != o) i++;
    if (i < OBJECT_SLOTS) {
      object_slot[i] = NULL;
      live_objects--;
    } else {
      bad_releases++;
    }
  }
  pthread_mutex_unlock(&lock);
}

/* Counts a call of class c; returns 1 when this one must fail. Called with lock held. */
static int count_call(fault_class c, void *site) {
  if (!recording) return 0;
  long n = ++calls[c];
  if (trace_count < FAULT_TRACE_MAX) trace[trace_count++] = (fault_call){c, site};
  if ((int)c == armed_class && n == armed_call) {
    fired = 1;
    fired_site = site;
    return 1;
  }
  return 0;
}

static int should_fail(fault_class c, void *site) {
  pthread_mutex_lock(&lock);
  int fail = count_call(c, site);
  pthread_mutex_unlock(&lock);
  return fail;
}

/* ---- control ----------------------------------------------------------------------------- */

void fault_record_start(void) {
  pthread_mutex_lock(&lock);
  memset(calls, 0, sizeof calls);
  trace_count = 0;
  memset(host_slot, 0, sizeof host_slot);
  memset(buffer_slot, 0, sizeof buffer_slot);
  memset(object_slot, 0, sizeof object_slot);
  live_host = live_buffers = live_objects = bad_releases = 0;
  armed_class = -1;
  armed_call = 0;
  fired = 0;
  fired_site = NULL;
  recording = 1;
  pthread_mutex_unlock(&lock);
}

void fault_record_stop(void) {
  pthread_mutex_lock(&lock);
  recording = 0;
  pthread_mutex_unlock(&lock);
}

void fault_arm(fault_class c, long n) {
  pthread_mutex_lock(&lock);
  armed_class = n > 0 ? (int)c : -1;
  armed_call = n;
  fired = 0;
  fired_site = NULL;
  pthread_mutex_unlock(&lock);
}

const fault_call *fault_trace(long *count) {
  *count = trace_count;
  return trace;
}

long fault_calls(fault_class c) {
  return calls[c];
}
int fault_fired(void) {
  return fired;
}
long fault_live_host_blocks(void) {
  return live_host;
}
long fault_live_buffers(void) {
  return live_buffers;
}
long fault_live_cl_objects(void) {
  return live_objects;
}
long fault_bad_releases(void) {
  return bad_releases;
}

unsigned long fault_site_offset(void) {
  Dl_info info;
  if (!fired_site || !dladdr(fired_site, &info)) return 0;
  return (unsigned long)((char *)fired_site - (char *)info.dli_fbase);
}

const char *fault_site_binary(void) {
  Dl_info info;
  if (!fired_site || !dladdr(fired_site, &info) || !info.dli_fname) return "?";
  return info.dli_fname;
}

/* ---- host allocations -------------------------------------------------------------------- */

#define SITE __builtin_return_address(0)

static void *track(void *p) {
  if (!p) return p;
  pthread_mutex_lock(&lock);
  if (recording) host_add(p);
  pthread_mutex_unlock(&lock);
  return p;
}

void *__wrap_malloc(size_t size) {
  if (should_fail(FAULT_HOST_ALLOC, SITE)) {
    errno = ENOMEM;
    return NULL;
  }
  return track(__real_malloc(size));
}

void *__wrap_calloc(size_t n, size_t size) {
  if (should_fail(FAULT_HOST_ALLOC, SITE)) {
    errno = ENOMEM;
    return NULL;
  }
  return track(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t size) {
  if (should_fail(FAULT_HOST_ALLOC, SITE)) {
    errno = ENOMEM;
    return NULL; /* p stays allocated, as with a real failure */
  }
  void *q = __real_realloc(p, size);
  if (!q) return NULL;
  pthread_mutex_lock(&lock);
  /* A block from before recording (or from a library) is adopted once reallocated by us. */
  int was_tracked = p ? host_remove(p) : 0;
  if (recording || was_tracked) host_add(q);
  pthread_mutex_unlock(&lock);
  return q;
}

char *__wrap_strdup(const char *s) {
  if (should_fail(FAULT_HOST_ALLOC, SITE)) {
    errno = ENOMEM;
    return NULL;
  }
  size_t n = strlen(s) + 1;
  char *copy = __real_malloc(n);
  if (copy) memcpy(copy, s, n);
  return track(copy);
}

void __wrap_free(void *p) {
  if (p) {
    pthread_mutex_lock(&lock);
    host_remove(p); /* blocks from before recording or from libraries: not ours to count */
    pthread_mutex_unlock(&lock);
  }
  __real_free(p);
}

/* ---- buffers ----------------------------------------------------------------------------- */

static cl_mem track_buffer(cl_mem m) {
  if (!m) return m;
  pthread_mutex_lock(&lock);
  if (recording) buffer_add(m);
  pthread_mutex_unlock(&lock);
  return m;
}

cl_mem __wrap_clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void *host,
                             cl_int *err) {
  if (should_fail(FAULT_BUFFER, SITE)) {
    if (err) *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return NULL;
  }
  return track_buffer(__real_clCreateBuffer(context, flags, size, host, err));
}

cl_mem __wrap_clCreateSubBuffer(cl_mem parent, cl_mem_flags flags, cl_buffer_create_type type,
                                const void *info, cl_int *err) {
  if (should_fail(FAULT_BUFFER, SITE)) {
    if (err) *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return NULL;
  }
  return track_buffer(__real_clCreateSubBuffer(parent, flags, type, info, err));
}

cl_int __wrap_clReleaseMemObject(cl_mem m) {
  pthread_mutex_lock(&lock);
  if (recording && !buffer_remove(m)) bad_releases++;
  pthread_mutex_unlock(&lock);
  return __real_clReleaseMemObject(m);
}

/* ---- enqueues ---------------------------------------------------------------------------- */

cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                     const size_t *offset, const size_t *global,
                                     const size_t *local, cl_uint nwait, const cl_event *wait,
                                     cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err = __real_clEnqueueNDRangeKernel(q, k, dims, offset, global, local, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

cl_int __wrap_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                   size_t bytes, const void *host, cl_uint nwait,
                                   const cl_event *wait, cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err = __real_clEnqueueWriteBuffer(q, m, blocking, offset, bytes, host, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

cl_int __wrap_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset,
                                  size_t bytes, void *host, cl_uint nwait, const cl_event *wait,
                                  cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err = __real_clEnqueueReadBuffer(q, m, blocking, offset, bytes, host, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

cl_int __wrap_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset,
                                  size_t dst_offset, size_t bytes, cl_uint nwait,
                                  const cl_event *wait, cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err =
      __real_clEnqueueCopyBuffer(q, src, dst, src_offset, dst_offset, bytes, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

cl_int __wrap_clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pattern,
                                  size_t pattern_size, size_t offset, size_t bytes, cl_uint nwait,
                                  const cl_event *wait, cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err =
      __real_clEnqueueFillBuffer(q, m, pattern, pattern_size, offset, bytes, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

cl_int __wrap_clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint nwait, const cl_event *wait,
                                          cl_event *ev) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err = __real_clEnqueueMarkerWithWaitList(q, nwait, wait, ev);
  if (err == CL_SUCCESS && ev) object_add(*ev);
  return err;
}

CLBlastStatusCode __wrap_CLBlastSgemmWithTempBuffer(
    const CLBlastLayout layout, const CLBlastTranspose ta, const CLBlastTranspose tb,
    const size_t m, const size_t n, const size_t k, const float alpha, const cl_mem a,
    const size_t a_off, const size_t lda, const cl_mem b, const size_t b_off, const size_t ldb,
    const float beta, cl_mem c, const size_t c_off, const size_t ldc, cl_command_queue *queue,
    cl_event *ev, cl_mem temp) {
  if (should_fail(FAULT_ENQUEUE, SITE)) return CLBlastOpenCLOutOfResources;
  CLBlastStatusCode code =
      __real_CLBlastSgemmWithTempBuffer(layout, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off,
                                        ldb, beta, c, c_off, ldc, queue, ev, temp);
  if (code == CLBlastSuccess && ev) object_add(*ev);
  return code;
}

/* ---- other OpenCL calls ------------------------------------------------------------------ */

cl_context
__wrap_clCreateContext(const cl_context_properties *props, cl_uint ndev, const cl_device_id *devs,
                       void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *),
                       void *user, cl_int *err) {
  if (should_fail(FAULT_OTHER_CL, SITE)) {
    if (err) *err = CL_OUT_OF_HOST_MEMORY;
    return NULL;
  }
  cl_context c = __real_clCreateContext(props, ndev, devs, notify, user, err);
  object_add(c);
  return c;
}

cl_command_queue __wrap_clCreateCommandQueue(cl_context c, cl_device_id dev,
                                             cl_command_queue_properties props, cl_int *err) {
  if (should_fail(FAULT_OTHER_CL, SITE)) {
    if (err) *err = CL_OUT_OF_RESOURCES;
    return NULL;
  }
  cl_command_queue q = __real_clCreateCommandQueue(c, dev, props, err);
  object_add(q);
  return q;
}

cl_program __wrap_clCreateProgramWithSource(cl_context c, cl_uint count, const char **strings,
                                            const size_t *lengths, cl_int *err) {
  if (should_fail(FAULT_OTHER_CL, SITE)) {
    if (err) *err = CL_OUT_OF_HOST_MEMORY;
    return NULL;
  }
  cl_program p = __real_clCreateProgramWithSource(c, count, strings, lengths, err);
  object_add(p);
  return p;
}

cl_program __wrap_clCreateProgramWithBinary(cl_context c, cl_uint ndev, const cl_device_id *devs,
                                            const size_t *lengths, const unsigned char **binaries,
                                            cl_int *status, cl_int *err) {
  if (should_fail(FAULT_OTHER_CL, SITE)) {
    if (err) *err = CL_OUT_OF_HOST_MEMORY;
    return NULL;
  }
  cl_program p = __real_clCreateProgramWithBinary(c, ndev, devs, lengths, binaries, status, err);
  object_add(p);
  return p;
}

cl_int __wrap_clBuildProgram(cl_program p, cl_uint ndev, const cl_device_id *devs,
                             const char *options, void(CL_CALLBACK *notify)(cl_program, void *),
                             void *user) {
  if (should_fail(FAULT_OTHER_CL, SITE)) return CL_OUT_OF_RESOURCES;
  return __real_clBuildProgram(p, ndev, devs, options, notify, user);
}

cl_kernel __wrap_clCreateKernel(cl_program p, const char *name, cl_int *err) {
  if (should_fail(FAULT_OTHER_CL, SITE)) {
    if (err) *err = CL_OUT_OF_RESOURCES;
    return NULL;
  }
  cl_kernel k = __real_clCreateKernel(p, name, err);
  object_add(k);
  return k;
}

cl_int __wrap_clCreateKernelsInProgram(cl_program p, cl_uint n, cl_kernel *kernels,
                                       cl_uint *n_ret) {
  if (should_fail(FAULT_OTHER_CL, SITE)) return CL_OUT_OF_RESOURCES;
  cl_int err = __real_clCreateKernelsInProgram(p, n, kernels, n_ret);
  for (cl_uint i = 0; err == CL_SUCCESS && kernels && i < n; i++) object_add(kernels[i]);
  return err;
}

cl_int __wrap_clFinish(cl_command_queue q) {
  /* The real wait comes first: a failed wait must not leave work running on freed memory. */
  cl_int err = __real_clFinish(q);
  return should_fail(FAULT_OTHER_CL, SITE) ? CL_OUT_OF_RESOURCES : err;
}

cl_int __wrap_clFlush(cl_command_queue q) {
  if (should_fail(FAULT_OTHER_CL, SITE)) return CL_OUT_OF_RESOURCES;
  return __real_clFlush(q);
}

cl_int __wrap_clWaitForEvents(cl_uint n, const cl_event *events) {
  cl_int err = __real_clWaitForEvents(n, events);
  return should_fail(FAULT_OTHER_CL, SITE) ? CL_OUT_OF_RESOURCES : err;
}

cl_int __wrap_clReleaseContext(cl_context c) {
  object_release(c);
  return __real_clReleaseContext(c);
}

cl_int __wrap_clReleaseCommandQueue(cl_command_queue q) {
  object_release(q);
  return __real_clReleaseCommandQueue(q);
}

cl_int __wrap_clReleaseProgram(cl_program p) {
  object_release(p);
  return __real_clReleaseProgram(p);
}

cl_int __wrap_clReleaseKernel(cl_kernel k) {
  object_release(k);
  return __real_clReleaseKernel(k);
}

cl_int __wrap_clReleaseEvent(cl_event e) {
  object_release(e);
  return __real_clReleaseEvent(e);
}
