/* Inference with per-sample outputs, for `cltrain eval` and `cltrain predict`: the head's
 * probabilities read back batch by batch (not the hot loop), a confusion matrix, top-5
 * accuracy and per-class precision, recall and F1. */
#ifndef CLT_TRAIN_EVALUATE_H
#define CLT_TRAIN_EVALUATE_H

#include "data/dataset.h"
#include "nn/network.h"

/* Probabilities [n, classes] of the first n samples of x [n, H, W, C] (n <= net->batch),
 * in inference mode. labels [n] may be NULL (then zeros are used and the metrics
 * accumulators mean nothing). Blocking. */
clt_status clt_infer(clt_network *net, const float *x, const int32_t *labels, int n, float *probs);

typedef struct clt_class_stats {
  double precision, recall, f1;
  long support; /* samples of this class */
} clt_class_stats;

typedef struct clt_eval_result {
  int n, classes;
  double loss;                /* mean cross-entropy (computed on the device) */
  double accuracy;            /* top-1, from the probabilities (first maximum) */
  double top5;                /* true class among the 5 most probable (ties: lower index first) */
  double mae;                 /* regression ([mse] head): mean absolute error; loss is the MSE */
  long *confusion;            /* [classes, classes]: row = true class, column = predicted */
  clt_class_stats *per_class; /* [classes] */
  clt_class_stats macro, weighted; /* unweighted and support-weighted means */
} clt_eval_result;

/* Evaluates net on all of ds in file order. *out is zeroed first; free with
 * clt_eval_result_free. */
clt_status clt_evaluate_detailed(clt_network *net, const clt_dataset *ds, clt_eval_result *out);
void clt_eval_result_free(clt_eval_result *r);

/* Fills per_class, macro and weighted from confusion (n and classes set). Precision of a
 * class never predicted, recall of a class with no sample, and their F1 are 0. */
void clt_eval_class_stats(clt_eval_result *r);

/* Index of the first maximum of p[k]. */
int clt_argmax(const float *p, int k);

/* The k most probable classes of p[classes] in descending order (ties: lower index first)
 * into top[k]; k is clamped to classes. Returns k. */
int clt_top_k(const float *p, int classes, int k, int *top);

#endif
