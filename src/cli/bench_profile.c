#include "cli/bench_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static group *group_for(profile_summary *p, const char *name) {
  for (int i = 0; i < p->n; i++)
    if (strcmp(p->g[i].name, name) == 0) return &p->g[i];
  if (p->n == MAX_GROUPS) return &p->g[MAX_GROUPS - 1];
  group *g = &p->g[p->n++];
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "%s", name);
  return g;
}

/* Entries are "SCOPE/KERNEL"; scopes of layers are "I TYPE PASS". */
void clt_bench_profile_summarise(const clt_profiler *pr, long steps, profile_summary *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < pr->count; i++) {
    const clt_profile_entry *e = &pr->entries[i];
    char scope[CLT_PROFILE_NAME], name[CLT_PROFILE_NAME];
    snprintf(scope, sizeof scope, "%s", e->name);
    char *slash = strchr(scope, '/');
    const char *kernel = slash ? slash + 1 : "";
    if (slash) *slash = '\0';
    int pass = 2;
    snprintf(name, sizeof name, "%s", scope);
    char *sp = strrchr(name, ' ');
    if (name[0] >= '0' && name[0] <= '9' && sp) {
      pass = strcmp(sp + 1, "forward") == 0 ? 0 : strcmp(sp + 1, "backward") == 0 ? 1 : 2;
      *sp = '\0';
    }
    group *g = group_for(out, name);
    double ms = e->total_ms / (double)steps;
    g->ms[pass] += ms;
    g->launches += (double)e->count / (double)steps;
    char ta, tb;
    size_t m, n, k;
    if (sscanf(kernel, "sgemm_%c%c %zux%zux%zu", &ta, &tb, &m, &n, &k) == 5) {
      double flops = 2.0 * (double)m * (double)n * (double)k * (double)e->count / (double)steps;
      g->gemm_ms += ms;
      g->flops += flops;
      if (out->nrows < MAX_GEMM_ROWS) {
        gemm_row *r = &out->rows[out->nrows++];
        snprintf(r->layer, sizeof r->layer, "%s", name);
        r->pass = pass;
        const char *sp = strchr(kernel, ' ');
        const char *vn = sp ? strchr(sp + 1, ' ') : NULL;
        snprintf(r->shape, sizeof r->shape, "%c%c %zux%zux%zu", ta, tb, m, n, k);
        snprintf(r->kernel, sizeof r->kernel, "%s", vn ? vn + 1 : "clblast");
        r->ms = ms;
        r->flops = flops;
      }
    }
  }
  for (int i = 0; i < out->n; i++) {
    out->total_ms += out->g[i].ms[0] + out->g[i].ms[1] + out->g[i].ms[2];
    out->gemm_ms += out->g[i].gemm_ms;
    out->flops += out->g[i].flops;
    out->launches += out->g[i].launches;
  }
}

void clt_bench_conv_algorithms(const clt_model *m, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < m->layer_count && len < size; i++) {
    clt_layer_info info;
    memset(&info, 0, sizeof info);
    if (m->layers[i].ops->info) m->layers[i].ops->info(m->layers[i].self, &info);
    if (!info.algorithm) continue;
    const char *bwd = info.algorithm_backward ? info.algorithm_backward : info.algorithm;
    int same = strcmp(info.algorithm, bwd) == 0;
    int n = snprintf(buf + len, size - len, "%s%d %s %s%s%s%s%s", len ? ", " : "", i + 1,
                     m->layers[i].ops->name, same ? "" : "forward ", info.algorithm,
                     same ? "" : " backward ", same ? "" : bwd, info.measured ? " (measured)" : "");
    if (n > 0) len += (size_t)n;
  }
}
