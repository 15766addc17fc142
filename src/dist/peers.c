/* Single-process peers: the calls for peers == NULL. The MPI implementation is
 * dist/peers_mpi.c (built when Open MPI is found). */
#include "dist/peers.h"

#include "runtime/fail.h"

#ifndef CLT_HAVE_MPI
clt_status clt_peers_open(clt_peers **out) {
  *out = NULL;
  return clt_fail(CLT_ERR_USAGE, "this build of cltrain has no MPI: rebuild it with Open MPI "
                                 "installed (apt-get install openmpi-bin libopenmpi-dev)");
}

void clt_peers_close(clt_peers *p) {
  (void)p;
}
int clt_peers_rank(const clt_peers *p) {
  (void)p;
  return 0;
}
int clt_peers_size(const clt_peers *p) {
  (void)p;
  return 1;
}
const char *clt_peers_host(const clt_peers *p) {
  (void)p;
  return "";
}

clt_status clt_peers_sum_start(clt_peers *p, float *data, size_t n, int *request) {
  (void)p, (void)data, (void)n;
  *request = 0;
  return CLT_OK;
}

clt_status clt_peers_sum_wait(clt_peers *p, int request) {
  (void)p, (void)request;
  return CLT_OK;
}

clt_status clt_peers_sum_doubles(clt_peers *p, double *data, int n) {
  (void)p, (void)data, (void)n;
  return CLT_OK;
}

clt_status clt_peers_max_int(clt_peers *p, int *value) {
  (void)p, (void)value;
  return CLT_OK;
}

clt_status clt_peers_broadcast(clt_peers *p, void *data, size_t bytes) {
  (void)p, (void)data, (void)bytes;
  return CLT_OK;
}
#endif
