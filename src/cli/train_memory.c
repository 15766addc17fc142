#include "cli/train_memory.h"

clt_status clt_train_memory_plan(clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                                 const clt_dataset *train, const clt_dataset *val,
                                 const clt_dataset *test, int force_stream, int batch_auto,
                                 int resumed, FILE *info) {
  clt_memory_budget b = {model, ctx, optimizer_blocks, train, val, test, force_stream, 0};
  clt_recipe *r = &model->recipe;
  if (batch_auto && resumed) {
    fprintf(info, "batch auto: %d, the checkpoint's (a resumed run keeps its batch)\n", r->batch);
  } else if (batch_auto) {
    char line[128];
    CLT_TRY(clt_budget_auto_batch(&b, &r->batch, line, sizeof line));
    fprintf(info, "%s\n", line);
    fflush(info);
  }
  int batch = r->batch < train->n ? r->batch : train->n;
  if (batch < r->batch) b.requested_batch = r->batch;
  return clt_budget_check(&b, batch);
}
