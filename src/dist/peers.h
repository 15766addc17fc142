/* The processes of one training run (MPI ranks) as the trainer sees them. A run of one
 * process has peers == NULL, and every call below then acts on a single rank: rank 0 of 1,
 * sums and broadcasts leave the data as they are.
 *
 * Every rank must make the same calls in the same order with the same sizes (collective
 * calls). The sums are deterministic: for the same number of ranks and the same sizes the
 * reduction order does not depend on timing, so a rerun gives the same bits, and every rank
 * receives the same bits. */
#ifndef CLT_DIST_PEERS_H
#define CLT_DIST_PEERS_H

#include <stddef.h>

#include "cltrain/status.h"

typedef struct clt_peers clt_peers;

/* Joins the run's processes (MPI_COMM_WORLD; MPI must be initialised by the program).
 * CLT_ERR_USAGE when this build has no MPI or MPI is not initialised. */
clt_status clt_peers_open(clt_peers **out);
void clt_peers_close(clt_peers *p);

int clt_peers_rank(const clt_peers *p); /* 0 when p is NULL */
int clt_peers_size(const clt_peers *p); /* 1 when p is NULL */
/* This process's host name, for messages ("" when p is NULL). */
const char *clt_peers_host(const clt_peers *p);

/* Starts an in-place sum of data[0, n) over all ranks and returns at once; *request names
 * it for clt_peers_sum_wait. data must stay untouched until the wait returns. */
clt_status clt_peers_sum_start(clt_peers *p, float *data, size_t n, int *request);
clt_status clt_peers_sum_wait(clt_peers *p, int request);

/* Blocking: in-place sums of a few doubles (metrics) and the largest of an int over all
 * ranks (a failure or stop flag every rank must agree on). */
clt_status clt_peers_sum_doubles(clt_peers *p, double *data, int n);
clt_status clt_peers_max_int(clt_peers *p, int *value);
/* Blocking: rank 0's bytes to every rank. */
clt_status clt_peers_broadcast(clt_peers *p, void *data, size_t bytes);

#endif
