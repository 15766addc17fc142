/* allreduce-bench: what summing gradients costs here, per MiB (docs/SCALING.md).
 *
 *   mpirun --oversubscribe -np 2 build/allreduce-bench [--device SPEC] [--repeats N]
 *
 * For buffer sizes from 64 KiB to 64 MiB of floats, the median over repeats of
 *  - MPI_Allreduce (blocking, in place, float sum) between the ranks (over loopback when they
 *    share the machine);
 *  - MPI_Iallreduce + MPI_Wait, the call the trainer makes (dist/peers_mpi.c);
 *  - on rank 0, the in-process host reduction of two replicas: two OpenCL buffers of that size
 *    in host-mappable memory (CL_MEM_ALLOC_HOST_PTR) on one device (PoCL by default), both
 *    mapped, the second added into the first, the sum copied back into the second, unmapped.
 * Rank 0 prints one table. */
#include <CL/cl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/devices.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, compare);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median seconds of one allreduce of n floats (blocking or not), the ranks lined up by a
 * barrier before each. */
static double time_mpi(float *data, int n, int repeats, int nonblocking) {
  double *t = malloc((size_t)repeats * sizeof *t);
  for (int r = -1; r < repeats; r++) { /* r == -1: warm-up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    if (nonblocking) {
      MPI_Request q;
      MPI_Iallreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &q);
      MPI_Wait(&q, MPI_STATUS_IGNORE);
    } else {
      MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    double dt = now() - t0;
    if (r >= 0) t[r] = dt;
  }
  /* The slowest rank's time is the step's. */
  double m = median(t, repeats);
  MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  free(t);
  return m;
}

typedef struct host_bench {
  cl_context ctx;
  cl_command_queue queue;
  char name[256];
} host_bench;

static int host_open(const char *spec, host_bench *h) {
  clt_device_list list;
  int index = -1;
  if (clt_device_list_query(&list) != CLT_OK) return -1;
  if (clt_device_select(&list, spec, &index) != CLT_OK) {
    fprintf(stderr, "allreduce-bench: %s\n", clt_last_error());
    clt_device_list_free(&list);
    return -1;
  }
  cl_device_id dev = list.devices[index].id;
  snprintf(h->name, sizeof h->name, "%s", list.devices[index].name);
  clt_device_list_free(&list);
  cl_int err;
  h->ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
  if (err != CL_SUCCESS) return -1;
  h->queue = clCreateCommandQueue(h->ctx, dev, 0, &err);
  return err == CL_SUCCESS ? 0 : -1;
}

/* Median seconds of the host reduction of two replicas' n floats (see the top). */
static double time_host(host_bench *h, size_t n, int repeats) {
  size_t bytes = n * sizeof(float);
  cl_int err;
  cl_mem a = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
  cl_mem b = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
  float one = 1.0f;
  clEnqueueFillBuffer(h->queue, a, &one, sizeof one, 0, bytes, 0, NULL, NULL);
  clEnqueueFillBuffer(h->queue, b, &one, sizeof one, 0, bytes, 0, NULL, NULL);
  clFinish(h->queue);
  double *t = malloc((size_t)repeats * sizeof *t);
  for (int r = -1; r < repeats; r++) {
    double t0 = now();
    float *pa = clEnqueueMapBuffer(h->queue, a, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
                                   NULL, NULL, &err);
    float *pb = clEnqueueMapBuffer(h->queue, b, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
                                   NULL, NULL, &err);
    for (size_t i = 0; i < n; i++) pa[i] += pb[i];
    memcpy(pb, pa, bytes);
    clEnqueueUnmapMemObject(h->queue, a, pa, 0, NULL, NULL);
    clEnqueueUnmapMemObject(h->queue, b, pb, 0, NULL, NULL);
    clFinish(h->queue);
    double dt = now() - t0;
    if (r >= 0) t[r] = dt;
  }
  clReleaseMemObject(a);
  clReleaseMemObject(b);
  double m = median(t, repeats);
  free(t);
  return m;
}

int main(int argc, char **argv) {
  const char *spec = "pocl";
  int repeats = 15;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
      spec = argv[++i];
    else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
      repeats = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: mpirun -np N allreduce-bench [--device SPEC] [--repeats N]\n");
      return 64;
    }
  }
  if (repeats < 1) repeats = 1;
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  host_bench h;
  memset(&h, 0, sizeof h);
  int host_ok = rank == 0 && host_open(spec, &h) == 0;
  if (rank == 0) {
    printf("ranks %d; host reduction on %s; median of %d repeats\n", size,
           host_ok ? h.name : "(no device)", repeats);
    printf("%10s %14s %10s %14s %10s %14s %10s\n", "size", "Allreduce ms", "ms/MiB",
           "Iallreduce ms", "ms/MiB", "host (2) ms", "ms/MiB");
  }
  for (size_t kib = 64; kib <= 64 * 1024; kib *= 4) {
    int n = (int)(kib * 1024 / sizeof(float));
    float *data = malloc((size_t)n * sizeof *data);
    for (int i = 0; i < n; i++) data[i] = 1e-3f * (float)(i % 1000);
    double blocking = time_mpi(data, n, repeats, 0);
    double nonblocking = time_mpi(data, n, repeats, 1);
    free(data);
    double mib = (double)kib / 1024.0;
    if (rank == 0) {
      double host = host_ok ? time_host(&h, (size_t)n, repeats) : 0.0;
      printf("%7zu KiB %14.3f %10.3f %14.3f %10.3f %14.3f %10.3f\n", kib, 1e3 * blocking,
             1e3 * blocking / mib, 1e3 * nonblocking, 1e3 * nonblocking / mib, 1e3 * host,
             1e3 * host / mib);
      fflush(stdout);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  if (host_ok) {
    clReleaseCommandQueue(h.queue);
    clReleaseContext(h.ctx);
  }
  MPI_Finalize();
  return 0;
}
