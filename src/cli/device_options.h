/* Options every device-using subcommand shares, and opening the device. */
#ifndef CLT_CLI_DEVICE_OPTIONS_H
#define CLT_CLI_DEVICE_OPTIONS_H

#include "cltrain/cltrain.h"
#include "runtime/device_open.h"

/* getopt_long ids for the shared options (above any short option letter). */
enum { CLT_OPT_DEVICE = 1000, CLT_OPT_KERNEL_DIR, CLT_OPT_NO_KERNEL_CACHE };

#define CLT_DEVICE_LONG_OPTIONS                                                                    \
  {"device", required_argument, NULL, CLT_OPT_DEVICE},                                             \
      {"kernel-dir", required_argument, NULL, CLT_OPT_KERNEL_DIR}, {                               \
    "no-kernel-cache", no_argument, NULL, CLT_OPT_NO_KERNEL_CACHE                                  \
  }

#define CLT_DEVICE_OPTIONS_HELP                                                                    \
  "  --device SPEC        P:D, gpu, cpu, accelerator, or part of a platform/vendor/device\n"       \
  "                       name (default: $CLTRAIN_DEVICE, else the first GPU, else the first);\n"  \
  "                       train and bench: a list A,B or all for one replica per device\n"         \
  "  --kernel-dir DIR     load the OpenCL sources from DIR instead of the built-in ones\n"         \
  "  --no-kernel-cache    do not read or write the program cache (also CLTRAIN_KERNEL_CACHE=0)\n"

/* Returns 1 when opt was one of the shared options (and records it). */
int clt_device_option(clt_device_options *o, int opt, const char *arg);

/* Fills what the flags left unset from the environment (runtime/env_settings.h: the library
 * reads no variable); the device spec too when with_device. */
void clt_cli_device_env(clt_device_options *o, int with_device);

/* A session configuration (include/cltrain/cltrain.h) with o's device settings; the rest at
 * clt_config_init's defaults. */
void clt_cli_session_config(const clt_device_options *o, clt_config *c);

#endif
