/* The check groups, one file each: their registration functions, which check.c calls to
 * build the list. */
#ifndef CLT_CHECK_CHECK_GROUPS_H
#define CLT_CHECK_CHECK_GROUPS_H

#include "check/check.h"

/* The groups' registration functions (one file each). */
clt_status clt_check_add_build(clt_check_list *list, int quick);
clt_status clt_check_add_layers(clt_check_list *list, int quick);
clt_status clt_check_add_residual(clt_check_list *list, int quick);
/* 1 for the layer types check_residual.c covers (check_layers.c skips them). */
int clt_check_residual_covers(const char *layer);
clt_status clt_check_add_optim(clt_check_list *list, int quick);
clt_status clt_check_add_gemm(clt_check_list *list, int quick);
clt_status clt_check_add_train(clt_check_list *list, int quick);
clt_status clt_check_add_augment(clt_check_list *list, int quick);

#endif
