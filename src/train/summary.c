#include "train/summary.h"

#include "nn/augment_section.h"

#include <string.h>

static double mib(size_t bytes) {
  return (double)bytes / 1048576.0;
}

void clt_train_summary(FILE *out, const clt_model *model, const clt_ctx *ctx, int optimizer_blocks,
                       const clt_dataset *train, const clt_dataset *val, const clt_dataset *test) {
  const clt_recipe *r = &model->recipe;
  fprintf(out, "Device: %d:%d %s (%s, driver %s)\n", ctx->dev.platform_index, ctx->dev.device_index,
          ctx->dev.name, ctx->dev.platform_name, ctx->dev.driver_version);
  fprintf(out, "Model: %s\n", model->name);
  /* Columns as wide as their longest entry: names like global_avgpool and the [add]
   * descriptions outgrow fixed widths. */
  int name_w = 5, desc_w = 8;
  char desc[96], shape[32];
  for (int i = 0; i < model->layer_count; i++) {
    const clt_model_layer *l = &model->layers[i];
    l->ops->describe(l->self, desc, sizeof desc);
    if ((int)strlen(l->ops->name) > name_w) name_w = (int)strlen(l->ops->name);
    if ((int)strlen(desc) > desc_w) desc_w = (int)strlen(desc);
  }
  fprintf(out, "  %-3s %-*s %-*s %-14s %10s\n", "#", name_w, "layer", desc_w, "settings", "output",
          "params");
  fprintf(out, "  %-3s %-*s %-*s %-14s %10s\n", "", name_w, "input", desc_w, "", "", "");
  for (int i = 0; i < model->layer_count; i++) {
    const clt_model_layer *l = &model->layers[i];
    l->ops->describe(l->self, desc, sizeof desc);
    snprintf(shape, sizeof shape, "%dx%dx%d", l->out.h, l->out.w, l->out.c);
    fprintf(out, "  %-3d %-*s %-*s %-14s %10zu\n", i + 1, name_w, l->ops->name, desc_w, desc, shape,
            l->param_floats);
  }
  fprintf(out, "  Total parameters: %zu; input %dx%dx%d, %d classes\n", model->param_floats,
          model->input.h, model->input.w, model->input.c, model->classes);
  fprintf(out, "Data: %d training, %d validation, %d test images\n", train->n, val->n, test->n);
  fprintf(out, "Recipe: %s, learning rate %g, batch %d, %d epochs, seed %u\n",
          clt_optimizer_name(r->optimizer), r->learning_rate, r->batch, r->epochs, r->seed);
  char augment[64];
  if (clt_augment_active(r))
    fprintf(out, "Augmentation of training batches: %s\n",
            clt_augment_describe(r, augment, sizeof augment));
  clt_memory_plan plan;
  int batch = r->batch < train->n ? r->batch : train->n;
  clt_network_plan(model, ctx, batch, optimizer_blocks, &plan);
  size_t data_bytes = ((size_t)train->n + (size_t)val->n) * (size_t)train->h * (size_t)train->w *
                      (size_t)train->c * sizeof(float);
  char chunks[32] = "";
  if (plan.activation_chunks > 1)
    snprintf(chunks, sizeof chunks, " in %d buffers", plan.activation_chunks);
  if (train->source) /* streamed: two staging batches on the device */
    data_bytes =
        2 * (size_t)batch * (size_t)train->h * (size_t)train->w * (size_t)train->c * sizeof(float);
  fprintf(out,
          "Device memory: %.1f MiB planned (parameters %.2f, gradients %.2f, optimizer %.2f, "
          "activations %.1f%s) + %.1f MiB data, of %.0f MiB on the device\n",
          mib(plan.total), mib(plan.params), mib(plan.grads), mib(plan.optimizer),
          mib(plan.activations), chunks, mib(data_bytes), mib(ctx->dev.global_mem));
  fflush(out);
}
