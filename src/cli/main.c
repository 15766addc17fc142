/* cltrain: train neural networks on any OpenCL device. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/mpi_launch.h"
#include "runtime/context.h"

static const clt_command commands[] = {
    {"devices", clt_cmd_devices, "list OpenCL platforms and devices; --check builds every kernel"},
    {"train", clt_cmd_train, "train a model file on a data set"},
    {"eval", clt_cmd_eval, "evaluate a checkpoint: accuracy, per-class scores, confusion matrix"},
    {"predict", clt_cmd_predict, "classify IDX samples or PGM/PPM images with a checkpoint"},
    {"check", clt_cmd_check, "compare every kernel on the device with the float64 reference"},
    {"bench", clt_cmd_bench, "training and inference speed, per-layer time and GFLOP/s"},
    {"export", clt_cmd_export, "write a checkpoint as an ONNX model (ONNX Runtime, OpenVINO, ...)"},
    {"tune", clt_cmd_tune, "search and store the fastest SGEMM kernel parameters for a model"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: cltrain COMMAND [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'cltrain COMMAND --help' describes a command's options.\n"
               "Device selection (every command): --device SPEC or $CLTRAIN_DEVICE, where SPEC\n"
               "is P:D, gpu, cpu, accelerator, or part of a platform, vendor or device name.\n");
}

int main(int argc, char **argv) {
  clt_set_warning_handler(clt_cli_warning);
  if (argc < 2) {
    usage(stderr);
    return CLT_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLT_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("cltrain %s\n", CLT_VERSION);
    return CLT_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      /* Under mpirun, train and bench run between MPI_Init and MPI_Finalize (or MPI_Abort
       * on failure, which stops the other ranks). */
      int rc = clt_mpi_begin(commands[i].name);
      if (rc) return clt_mpi_end(rc);
      return clt_mpi_end(commands[i].run(argc - 1, argv + 1));
    }
  fprintf(stderr, "cltrain: unknown command '%s'; run 'cltrain --help' for the list\n", argv[1]);
  return CLT_EXIT_USAGE;
}
