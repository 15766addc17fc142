/* A session's data-parallel side (train/session_replicas.h). */
#include "train/session_replicas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cltrain/status.h"
#include "runtime/fail.h"

void clt_device_specs_free(char **specs, int count) {
  for (int i = 0; specs && i < count; i++) free(specs[i]);
  free(specs);
}

static clt_status add_spec(char ***specs, int *count, const char *text, size_t n) {
  char **grown = realloc(*specs, (size_t)(*count + 1) * sizeof *grown);
  if (!grown) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the device list");
  *specs = grown;
  if (!(grown[*count] = strndup(text, n)))
    return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory for the device list");
  (*count)++;
  return CLT_OK;
}

static clt_status expand(const clt_device_list *list, const char *spec, int distributed,
                         int local_rank, char ***specs, int *count) {
  char pd[32];
  if ((!spec || !*spec) && distributed && local_rank >= 0 && list->device_count > 0) {
    const clt_device_info *d = &list->devices[local_rank % list->device_count];
    snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
    return add_spec(specs, count, pd, strlen(pd));
  }
  if (!spec || !strchr(spec, ',')) {
    /* "all": every device; "gpu": every GPU (one replica each), when there is one. */
    int all = spec && strcmp(spec, "all") == 0, gpus = 0;
    for (int i = 0; spec && !strcasecmp(spec, "gpu") && i < list->device_count; i++)
      gpus += list->devices[i].kind == CLT_DEVICE_GPU;
    if (all && list->device_count == 0)
      return clt_fail(CLT_ERR_NO_DEVICE, "device 'all': this machine has no OpenCL device");
    if (all || gpus > 1) {
      for (int i = 0; i < list->device_count; i++) {
        if (!all && list->devices[i].kind != CLT_DEVICE_GPU) continue;
        snprintf(pd, sizeof pd, "%d:%d", list->devices[i].platform_index,
                 list->devices[i].device_index);
        CLT_TRY(add_spec(specs, count, pd, strlen(pd)));
      }
      return CLT_OK;
    }
    return add_spec(specs, count, spec ? spec : "", spec ? strlen(spec) : 0);
  }
  for (const char *p = spec;;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 0)
      return clt_fail(CLT_ERR_USAGE,
                      "device list '%s' has an empty entry: give specs separated "
                      "by single commas, e.g. 0:0,1:0",
                      spec);
    char one[256];
    snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
    int index = 0;
    CLT_TRY(clt_device_select(list, one, &index)); /* names the unknown one */
    CLT_TRY(add_spec(specs, count, p, n));
    if (!end) break;
    p = end + 1;
  }
  return CLT_OK;
}

clt_status clt_device_specs(const char *spec, int distributed, int local_rank, char ***specs,
                            int *count) {
  *specs = NULL;
  *count = 0;
  clt_device_list list;
  CLT_TRY(clt_device_list_query(&list));
  clt_status st = expand(&list, spec, distributed, local_rank, specs, count);
  clt_device_list_free(&list);
  if (st != CLT_OK) {
    clt_device_specs_free(*specs, *count);
    *specs = NULL;
    *count = 0;
  }
  return st;
}

clt_status clt_balance_check(const char *balance) {
  if (!balance || !strcmp(balance, "auto") || !strcmp(balance, "equal")) return CLT_OK;
  return clt_fail(CLT_ERR_USAGE,
                  "balance '%s' is not known: use auto (shards by measured speed) "
                  "or equal",
                  balance);
}

clt_status clt_bucket_check(int bucket_kib) {
  if (bucket_kib >= 0 && bucket_kib <= CLT_BUCKET_KIB_MAX) return CLT_OK;
  return clt_fail(CLT_ERR_USAGE,
                  "a gradient bucket size of %d KiB is out of range: give 1 to %d KiB, or 0 "
                  "for the default (%d)",
                  bucket_kib, CLT_BUCKET_KIB_MAX, CLT_BUCKET_KIB_DEFAULT);
}

/* 1 when every lane is the same kind of device (same name and platform). */
static int same_devices(const clt_replicas *r) {
  for (int l = 1; l < r->lanes; l++)
    if (strcmp(r->lane[l].ctx->dev.name, r->lane[0].ctx->dev.name) ||
        strcmp(r->lane[l].ctx->dev.platform_name, r->lane[0].ctx->dev.platform_name))
      return 0;
  return 1;
}

/* The split: the checkpoint's for the same layout, else timed or equal. */
static clt_status choose_split(clt_replicas *r, const clt_replica_request *req) {
  int recorded = 1, batch = 0, split[CLT_REPLICAS_MAX * 16];
  const char *layout = req->ck ? req->ck->layout : NULL;
  if (req->ck && clt_replicas_layout_parse(layout, &recorded, &batch, split,
                                           (int)(sizeof split / sizeof split[0])) != 0)
    return clt_fail(CLT_ERR_BAD_DATA, "the checkpoint's replica layout (section RPLC) is "
                                      "malformed; resume from an earlier checkpoint");
  if (req->ck && recorded == r->global && batch == r->batch) {
    CLT_TRY(clt_replicas_set_split(r, layout ? split : NULL, NULL));
    fprintf(req->info, "Data parallel: %d replicas as the checkpoint's run", r->global);
    return CLT_OK;
  }
  if (req->ck)
    clt_warn("the checkpoint was written by a run of %d replica%s and this run has %d: it goes "
             "on with the same global batch of %d, but its results are no longer bit-identical "
             "to an uninterrupted run",
             recorded, recorded == 1 ? "" : "s", r->global, r->batch);
  int timed = req->balance ? !strcmp(req->balance, "auto") : !same_devices(r);
  if (timed && r->lanes > 1) {
    double speeds[CLT_REPLICAS_MAX];
    CLT_TRY(clt_replicas_measure(r, req->train, speeds));
    fprintf(req->info, "Device speeds (samples/s):");
    for (int l = 0; l < r->lanes; l++)
      fprintf(req->info, " %s %.0f", r->lane[l].ctx->dev.name, speeds[l]);
    fprintf(req->info, "\n");
    CLT_TRY(clt_replicas_set_split(r, NULL, speeds));
  } else {
    CLT_TRY(clt_replicas_set_split(r, NULL, NULL));
  }
  fprintf(req->info, "Data parallel: %d replicas, balance %s", r->global,
          timed && r->lanes > 1 ? "auto (by measured speed)" : "equal");
  return CLT_OK;
}

clt_status clt_session_replicas(clt_model *model0, clt_ctx *ctx0, clt_optim *opt0,
                                clt_network *net0, const clt_device_options *dev,
                                char *const *specs, int spec_count, clt_peers *peers, int profiling,
                                const clt_replica_request *req, clt_replicas **out) {
  *out = NULL;
  int global = spec_count * clt_peers_size(peers);
  int recorded = 1, batch = 0;
  if (req->ck && clt_replicas_layout_parse(req->ck->layout, &recorded, &batch, NULL, 0) != 0)
    return clt_fail(CLT_ERR_BAD_DATA, "the checkpoint's replica layout (section RPLC) is "
                                      "malformed; resume from an earlier checkpoint");
  if (global == 1) {
    if (recorded != 1)
      clt_warn("the checkpoint was written by a run of %d replicas and this run has 1: it goes "
               "on with the same global batch, but its results are no longer bit-identical to "
               "an uninterrupted run",
               recorded);
    return CLT_OK;
  }
  clt_replicas *r = NULL;
  CLT_TRY(clt_replicas_create(model0, ctx0, opt0, net0, dev, (const char *const *)specs + 1,
                              spec_count - 1, peers, profiling, &r));
  if (req->bucket_kib > 0) r->bucket_bytes = (size_t)req->bucket_kib << 10;
  clt_status st = choose_split(r, req);
  if (st == CLT_OK) {
    fprintf(req->info, " (%d process%s x %d device%s), global batch %d, split", r->ranks,
            r->ranks == 1 ? "" : "es", r->lanes, r->lanes == 1 ? "" : "s", r->batch);
    for (int g = 0; g < r->global; g++) fprintf(req->info, "%s%d", g ? "," : " ", r->split[g]);
    fprintf(req->info, "\n");
  }
  if (st != CLT_OK) {
    clt_replicas_destroy(r);
    return st;
  }
  *out = r;
  return CLT_OK;
}
