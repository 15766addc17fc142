/* cltrain export CHECKPOINT -o MODEL.onnx: the checkpoint's model as an ONNX model
 * (src/export/onnx_export.h). Needs no OpenCL device. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/device_options.h"
#include "cli/exit_codes.h"
#include "export/onnx_export.h"

static void help(FILE *out) {
  fprintf(out,
          "usage: cltrain export CHECKPOINT -o MODEL.onnx\n\n"
          "Writes a checkpoint (cltrain train --save) as an ONNX model (opset 13) for ONNX\n"
          "Runtime, OpenVINO, TensorRT and other ONNX tools. Input \"input\": float32\n"
          "[batch, channels, height, width] (NCHW), pixels scaled to [0, 1] as in training.\n"
          "Output \"probabilities\" [batch, classes] (a [softmax] head) or \"prediction\"\n"
          "[batch, 1] (an [mse] head). The class names are in the model's metadata.\n"
          "  -o, --output FILE    the ONNX file to write (replaced atomically)\n"
          "Runs on the host: --device and the other device options are accepted and ignored.\n"
          "Supported layers: %s.\n",
          clt_onnx_supported_layers());
}

int clt_cmd_export(int argc, char **argv) {
  enum { O_HELP = 1 };
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"help", no_argument, NULL, O_HELP},
                                           CLT_DEVICE_LONG_OPTIONS,
                                           {NULL, 0, NULL, 0}};
  const char *output = NULL;
  clt_device_options ignored = {0};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, CLT_CLI_SHORT_OPTIONS "o:", longopts, NULL)) != -1) {
    if (clt_device_option(&ignored, opt, optarg)) continue; /* accepted as by every command */
    switch (opt) {
    case 'o':
      output = optarg;
      break;
    case 'h':
    case O_HELP:
      help(stdout);
      return CLT_EXIT_OK;
    default:
      return clt_cli_bad_option("export", argv, opt);
    }
  }
  if (optind != argc - 1 || !output) {
    fprintf(stderr, "cltrain export: expected one checkpoint and -o MODEL.onnx (see --help)\n");
    return CLT_EXIT_USAGE;
  }
  clt_onnx_summary s;
  clt_status st = clt_onnx_export_file(argv[optind], output, CLT_VERSION, &s);
  if (st != CLT_OK) return clt_report_failure(st);
  char input[96];
  if (s.tabular)
    snprintf(input, sizeof input, "[batch, %d] (CSV features, standardised inside)", s.input.c);
  else
    snprintf(input, sizeof input, "[batch, %d, %d, %d] (NCHW)", s.input.c, s.input.h, s.input.w);
  printf("wrote %s: %d layers as %d ONNX nodes, %zu parameters; input \"%s\" %s, output "
         "\"%s\" [batch, %d]\n",
         output, s.layers, s.nodes, s.param_floats, CLT_ONNX_INPUT, input, s.output, s.outputs);
  return CLT_EXIT_OK;
}
