/* The run's processes over MPI (built when CMake finds MPI: CLT_HAVE_MPI). The program
 * initialises MPI (the CLI: cli/mpi_launch.c); this file only uses it, on its own duplicate
 * of MPI_COMM_WORLD with errors returned (MPI_ERRORS_RETURN), never aborting or exiting.
 *
 * Determinism. Gradient buckets are summed in place with MPI_Iallreduce. In Open MPI 4.1
 * that is the libnbc component (the only one with a non-blocking allreduce in the Debian
 * build; han and adapt have priority 0), and libnbc picks its binomial schedule for every
 * in-place call, whatever the size (nbc_iallreduce.c: "inplace" forces NBC_ARED_BINOMIAL
 * unless coll_libnbc_iallreduce_algorithm is set): a binomial tree reduces to rank 0 in
 * rounds with fixed partners, each round's sum done after its receive completes, and rank
 * 0's result is broadcast. The order of the additions is a function of the rank count alone,
 * not of message timing, and every rank receives rank 0's bits. The other libnbc schedules
 * (ring, recursive doubling, reduce-scatter/allgather, chosen by that MCA parameter) are
 * static too. The blocking sums of doubles (metrics) go through coll/tuned, whose choice
 * depends on the size and rank count only. A build with a vendor collective component
 * (hcoll, ucc) may reduce in the network in any order: exclude it (--mca coll ^hcoll,ucc)
 * for bit-identical reruns (docs/SCALING.md).
 *
 * Progress. Open MPI moves a non-blocking collective on only inside MPI calls of this
 * process, so each new start also tests the sums still under way: buckets started while
 * backward runs make progress without a thread of their own. */
#ifdef CLT_HAVE_MPI
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dist/peers.h"
#include "runtime/fail.h"

struct clt_peers {
  MPI_Comm comm;
  int rank, size;
  char host[MPI_MAX_PROCESSOR_NAME + 1];
  MPI_Request *requests; /* one per request id; MPI_REQUEST_NULL once complete */
  unsigned char *in_use; /* the id was returned by sum_start and not yet waited for */
  int capacity;
};

/* One line for an MPI error code: what failed, where, MPI's words. */
static clt_status mpi_fail(const clt_peers *p, const char *call, int code) {
  char text[MPI_MAX_ERROR_STRING + 1] = "";
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) strcpy(text, "unknown MPI error");
  return clt_fail(CLT_ERR_IO, "%s failed on rank %d of %d (%s): %s", call, p ? p->rank : -1,
                  p ? p->size : 0, p ? p->host : "?", text);
}

clt_status clt_peers_open(clt_peers **out) {
  *out = NULL;
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (!initialised || finalised)
    return clt_fail(CLT_ERR_USAGE, "MPI is not initialised: a program that asks for a "
                                   "distributed run must call MPI_Init_thread first");
  clt_peers *p = calloc(1, sizeof *p);
  if (!p) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "no host memory for the MPI peers");
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &p->comm);
  if (rc != MPI_SUCCESS) {
    free(p);
    return mpi_fail(NULL, "MPI_Comm_dup", rc);
  }
  MPI_Comm_set_errhandler(p->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(p->comm, &p->rank);
  MPI_Comm_size(p->comm, &p->size);
  int length = 0;
  if (MPI_Get_processor_name(p->host, &length) != MPI_SUCCESS) strcpy(p->host, "?");
  p->host[length < 0 ? 0 : length] = '\0';
  *out = p;
  return CLT_OK;
}

void clt_peers_close(clt_peers *p) {
  if (!p) return;
  /* A sum still under way (a step that failed between start and wait): waiting could block
   * for ever if another rank never starts it, and freeing its request is not allowed for a
   * collective. The program is about to stop the run (MPI_Abort): leave it all as it is. */
  for (int i = 0; i < p->capacity; i++)
    if (p->requests[i] != MPI_REQUEST_NULL) return;
  MPI_Comm_free(&p->comm);
  free(p->requests);
  free(p->in_use);
  free(p);
}

int clt_peers_rank(const clt_peers *p) {
  return p ? p->rank : 0;
}
int clt_peers_size(const clt_peers *p) {
  return p ? p->size : 1;
}
const char *clt_peers_host(const clt_peers *p) {
  return p ? p->host : "";
}

/* A free request id, growing the table when every one is taken. */
static clt_status take_request(clt_peers *p, int *id) {
  for (int i = 0; i < p->capacity; i++)
    if (!p->in_use[i]) {
      *id = i;
      return CLT_OK;
    }
  int grown = p->capacity ? 2 * p->capacity : 16;
  MPI_Request *requests = realloc(p->requests, (size_t)grown * sizeof *requests);
  if (!requests) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "no host memory for MPI requests");
  p->requests = requests;
  unsigned char *in_use = realloc(p->in_use, (size_t)grown);
  if (!in_use) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "no host memory for MPI requests");
  p->in_use = in_use;
  for (int i = p->capacity; i < grown; i++) {
    p->requests[i] = MPI_REQUEST_NULL;
    p->in_use[i] = 0;
  }
  *id = p->capacity;
  p->capacity = grown;
  return CLT_OK;
}

clt_status clt_peers_sum_start(clt_peers *p, float *data, size_t n, int *request) {
  *request = -1;
  if (!p) return CLT_OK;
  if (n > INT_MAX)
    return clt_fail(CLT_ERR_USAGE,
                    "a gradient bucket of %zu floats is more than one MPI "
                    "call can sum (at most %d)",
                    n, INT_MAX);
  int id = -1;
  CLT_TRY(take_request(p, &id));
  int rc =
      MPI_Iallreduce(MPI_IN_PLACE, data, (int)n, MPI_FLOAT, MPI_SUM, p->comm, &p->requests[id]);
  if (rc != MPI_SUCCESS) return mpi_fail(p, "MPI_Iallreduce", rc);
  p->in_use[id] = 1;
  *request = id;
  /* Move the sums under way on (see Progress above); a completed one turns null. */
  for (int i = 0; i < p->capacity; i++) {
    if (p->requests[i] == MPI_REQUEST_NULL) continue;
    int done = 0;
    rc = MPI_Test(&p->requests[i], &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(p, "MPI_Test", rc);
  }
  return CLT_OK;
}

clt_status clt_peers_sum_wait(clt_peers *p, int request) {
  if (!p) return CLT_OK;
  if (request < 0 || request >= p->capacity || !p->in_use[request])
    return clt_fail(CLT_ERR_INTERNAL, "clt_peers_sum_wait: no sum under way with id %d", request);
  int rc = MPI_Wait(&p->requests[request], MPI_STATUS_IGNORE);
  p->in_use[request] = 0;
  if (rc != MPI_SUCCESS) return mpi_fail(p, "MPI_Iallreduce (wait)", rc);
  return CLT_OK;
}

clt_status clt_peers_sum_doubles(clt_peers *p, double *data, int n) {
  if (!p) return CLT_OK;
  int rc = MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_DOUBLE, MPI_SUM, p->comm);
  return rc == MPI_SUCCESS ? CLT_OK : mpi_fail(p, "MPI_Allreduce", rc);
}

clt_status clt_peers_max_int(clt_peers *p, int *value) {
  if (!p) return CLT_OK;
  int rc = MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MAX, p->comm);
  return rc == MPI_SUCCESS ? CLT_OK : mpi_fail(p, "MPI_Allreduce", rc);
}

clt_status clt_peers_broadcast(clt_peers *p, void *data, size_t bytes) {
  if (!p) return CLT_OK;
  /* In pieces of at most 1 GiB: MPI counts are ints. */
  unsigned char *at = data;
  while (bytes > 0) {
    size_t piece = bytes < ((size_t)1 << 30) ? bytes : ((size_t)1 << 30);
    int rc = MPI_Bcast(at, (int)piece, MPI_BYTE, 0, p->comm);
    if (rc != MPI_SUCCESS) return mpi_fail(p, "MPI_Bcast", rc);
    at += piece;
    bytes -= piece;
  }
  return CLT_OK;
}
#endif
