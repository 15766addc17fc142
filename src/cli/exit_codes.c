#include "cli/exit_codes.h"

#include <stdio.h>

#include "cli/flag_names.h"
#include "cli/mpi_launch.h"

int clt_exit_code(clt_status status) {
  switch (status) {
  case CLT_OK:
    return CLT_EXIT_OK;
  case CLT_ERR_USAGE:
    return CLT_EXIT_USAGE;
  case CLT_ERR_BAD_DATA:
    return CLT_EXIT_BAD_DATA;
  case CLT_ERR_MISSING_INPUT:
    return CLT_EXIT_NO_INPUT;
  case CLT_ERR_NO_DEVICE:
  case CLT_ERR_UNSUPPORTED:
    return CLT_EXIT_NO_DEVICE;
  case CLT_ERR_DEVICE:
  case CLT_ERR_BUILD:
    return CLT_EXIT_DEVICE;
  case CLT_ERR_OUT_OF_MEMORY:
    return CLT_EXIT_OUT_OF_MEMORY;
  case CLT_ERR_NON_FINITE:
    return CLT_EXIT_NON_FINITE;
  case CLT_ERR_IO:
    return CLT_EXIT_IO;
  default:
    return CLT_EXIT_INTERNAL;
  }
}

int clt_report_failure(clt_status status) {
  static char msg[20000];
  clt_cli_flag_names(clt_last_error(), msg, sizeof msg);
  char rank[512];
  clt_mpi_rank_label(rank, sizeof rank);
  fprintf(stderr, "cltrain: %s%s%s\n", rank, rank[0] ? ": " : "",
          msg[0] ? msg : clt_status_string(status));
  return clt_exit_code(status);
}

void clt_cli_warning(const char *message) {
  if (clt_mpi_rank() != 0) return; /* every rank would say the same */
  char text[4096];
  clt_cli_flag_names(message, text, sizeof text);
  fprintf(stderr, "cltrain: warning: %s\n", text);
}

void clt_cli_session_warning(const char *message, void *user) {
  (void)user;
  clt_cli_warning(message);
}

int clt_exit_status(clt_status status) {
  return status == CLT_OK ? CLT_EXIT_OK : clt_report_failure(status);
}
