/* Fault injection for test_fault_injection: link-time wrappers (ld --wrap, see
 * tests/CMakeLists.txt) around the host allocations (malloc, calloc, realloc, strdup, free),
 * OpenCL buffer creation (clCreateBuffer, clCreateSubBuffer, clReleaseMemObject) and every
 * enqueue our code makes (clEnqueue*, CLBlastSgemmWithTempBuffer), and the other OpenCL calls
 * that can fail at run time: context, queue, program and kernel creation, program builds and
 * the waits (clFinish, clFlush, clWaitForEvents). --wrap redirects only the
 * references of the objects linked into the test program (cltrain_lib, the test utilities,
 * the test), not those inside PoCL, CLBlast or libc: the faults hit our code alone.
 *
 * While recording, the wrappers count calls per class, fail call number N of the armed
 * class (allocations return NULL; buffer creation NULL with CL_MEM_OBJECT_ALLOCATION_FAILURE;
 * enqueues CL_OUT_OF_RESOURCES, CLBlast CLBlastOpenCLOutOfResources; the other calls
 * CL_OUT_OF_RESOURCES or CL_OUT_OF_HOST_MEMORY) and track what is live: host blocks
 * allocated and not yet freed, buffers created and not yet released, and the other OpenCL
 * objects (contexts, queues, programs, kernels, events) made and not yet released. */
#ifndef CLT_TEST_FAULT_WRAP_H
#define CLT_TEST_FAULT_WRAP_H

typedef enum fault_class {
  FAULT_HOST_ALLOC, /* malloc, calloc, realloc, strdup */
  FAULT_BUFFER,     /* clCreateBuffer, clCreateSubBuffer */
  FAULT_ENQUEUE,    /* clEnqueue*, CLBlastSgemmWithTempBuffer */
  FAULT_OTHER_CL,   /* clCreateContext, ...CommandQueue, ...Program*, clBuildProgram,
                       clCreateKernel*, clFinish, clFlush, clWaitForEvents */
  FAULT_CLASSES
} fault_class;

const char *fault_class_name(fault_class c);

/* Starts recording from nothing: counts zeroed, the live sets emptied, nothing armed. */
void fault_record_start(void);
/* Stops recording (counts and live sets stay readable; calls pass straight through). */
void fault_record_stop(void);
/* Fails call number n (1-based) of class c while recording; n = 0 disarms. Only one class
 * is armed at a time. */
void fault_arm(fault_class c, long n);

/* Calls of class c since fault_record_start. */
long fault_calls(fault_class c);
/* 1 when the armed call was reached and failed. */
int fault_fired(void);
/* Where the failed call came from: the caller's address as an offset into its binary (for
 * addr2line -f -e BINARY OFFSET), and the binary's path. */
unsigned long fault_site_offset(void);
const char *fault_site_binary(void);

/* Every call counted since fault_record_start, in order: its class and the address it was
 * made from (the first FAULT_TRACE_MAX calls). Two runs whose traces agree up to a point made
 * the same calls from the same places up to there. */
#define FAULT_TRACE_MAX 16384
typedef struct fault_call {
  fault_class c;
  const void *site;
} fault_call;
const fault_call *fault_trace(long *count);

/* Host blocks allocated while recording and not freed since. */
long fault_live_host_blocks(void);
/* Buffers and sub-buffers created while recording and not released since. */
long fault_live_buffers(void);
/* Contexts, queues, programs, kernels and events made while recording and not released. */
long fault_live_cl_objects(void);
/* clRelease* calls, while recording, on a buffer or object not live (a double release). */
long fault_bad_releases(void);

#endif
