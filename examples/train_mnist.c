/* train_mnist: the smallest client of the cltrain library.
 *
 * Opens a session on a small multilayer perceptron and an MNIST-style data folder, trains one
 * epoch on a subset of it, then prints the predicted class of five test images.
 *
 *   cc -std=c11 train_mnist.c $(pkg-config --cflags --libs cltrain) -o train_mnist
 *   ./train_mnist [DATA_FOLDER [DEVICE]]   (default: /usr/share/datasets/fashion-mnist)
 */
#include <stdio.h>
#include <stdlib.h>

#include <cltrain/cltrain.h>

static const char model[] = "[net]\n"
                            "input = 28x28x1\n"
                            "batch = 32\n"
                            "optimizer = adam\n"
                            "learning_rate = 0.002\n"
                            "seed = 7\n"
                            "[dense]\n"
                            "units = 64\n"
                            "activation = relu\n"
                            "[dense]\n"
                            "units = 10\n"
                            "[softmax]\n";

/* Called every read_every steps; a non-zero return would stop the run. */
static int progress(const clt_progress_info *p, void *user) {
  (void)user;
  printf("epoch %d step %d/%d: loss %.4f\n", p->epoch, p->step, p->steps, p->loss);
  return 0;
}

static int fail(const char *what, clt_status st) {
  fprintf(stderr, "train_mnist: %s: %s (%s)\n", what, clt_last_error(), clt_status_string(st));
  return 1;
}

int main(int argc, char **argv) {
  clt_config config;
  clt_config_init(&config);
  config.device = argc > 2 ? argv[2] : NULL;

  clt_run_config run;
  clt_run_config_init(&run);
  run.data = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  run.subset = 2000;
  run.epochs = 1;
  run.read_every = 14;

  clt_session *session = NULL;
  clt_status st = clt_session_open_text(&config, model, sizeof model - 1, "mlp", &run, &session);
  if (st != CLT_OK) return fail("opening the session", st);

  clt_callbacks callbacks = {sizeof callbacks, progress, NULL, NULL};
  st = clt_session_train(session, &callbacks, NULL);
  double loss = 0, accuracy = 0;
  if (st == CLT_OK) st = clt_session_evaluate(session, NULL, &loss, &accuracy, NULL);
  if (st != CLT_OK) {
    clt_session_close(session);
    return fail("training", st);
  }
  printf("test: loss %.4f, accuracy %.4f\n", loss, accuracy);

  enum { N = 5, CLASSES = 10, PIXELS = 28 * 28 };
  static float images[N * PIXELS], probabilities[N * CLASSES];
  int labels[N];
  st = clt_session_samples(session, CLT_SPLIT_TEST, 0, N, images, labels);
  if (st == CLT_OK) st = clt_session_predict(session, images, N, probabilities);
  for (int i = 0; i < N && st == CLT_OK; i++) {
    int best = 0;
    for (int k = 1; k < CLASSES; k++)
      if (probabilities[i * CLASSES + k] > probabilities[i * CLASSES + best]) best = k;
    const char *name = NULL, *truth = NULL;
    clt_session_class_name(session, best, &name);
    clt_session_class_name(session, labels[i], &truth);
    printf("image %d: predicted %s (%.2f), labelled %s\n", i, name,
           probabilities[i * CLASSES + best], truth);
  }
  clt_session_close(session);
  return st == CLT_OK ? 0 : fail("predicting", st);
}
