/* A session's data-parallel side (train/replicas.h): the device list of a run, the run's
 * processes, and the replica set with its split (balance, the checkpoint's layout). Used by
 * train/session.c only. */
#ifndef CLT_TRAIN_SESSION_REPLICAS_H
#define CLT_TRAIN_SESSION_REPLICAS_H

#include <stdio.h>

#include "dist/peers.h"
#include "train/checkpoint.h"
#include "train/replicas.h"

/* The device specs of spec: a comma-separated list of specs, each as clt_device_select takes
 * it, or "all" (every device). No spec (NULL or "") under distributed with local_rank >= 0:
 * device local_rank modulo the machine's device count. *specs: count strings (free with
 * clt_device_specs_free), never empty on success. */
clt_status clt_device_specs(const char *spec, int distributed, int local_rank, char ***specs,
                            int *count);
void clt_device_specs_free(char **specs, int count);

/* What the session's replicas need besides its lane 0. */
typedef struct clt_replica_request {
  const char *balance;      /* "auto", "equal" or NULL (auto when the devices differ) */
  const clt_checkpoint *ck; /* resumed: the checkpoint (its RPLC layout), else NULL */
  const clt_dataset *train; /* for timing the devices */
  FILE *info;               /* the run's notes */
  int bucket_kib;           /* > 0: the gradient bucket size; 0: the default */
} clt_replica_request;

/* 0 when balance is NULL, "auto" or "equal"; else CLT_ERR_USAGE naming it. */
clt_status clt_balance_check(const char *balance);
/* 0 when bucket_kib is 0 (the default) or 1 to CLT_BUCKET_KIB_MAX; else CLT_ERR_USAGE. */
clt_status clt_bucket_check(int bucket_kib);

/* The replica set when the run has more than one replica (else *out NULL): the extra lanes,
 * the split (recorded, timed or equal, said in info) and the warning of a resume with another
 * replica count. A checkpoint of one replica resumed by one: nothing. */
clt_status clt_session_replicas(clt_model *model0, clt_ctx *ctx0, clt_optim *opt0,
                                clt_network *net0, const clt_device_options *dev,
                                char *const *specs, int spec_count, clt_peers *peers, int profiling,
                                const clt_replica_request *req, clt_replicas **out);

#endif
