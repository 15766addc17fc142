/* cltrain under mpirun (cli/mpi_launch.h). The library never starts MPI nor reads the
 * environment; this file does both for the command. */
#include "cli/mpi_launch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/exit_codes.h"
#include "runtime/devices.h"

#ifdef CLT_HAVE_MPI
#include <mpi.h>
#endif

static struct {
  int active;
  int rank, size, local_rank, local_size;
  char host[320];
  const char *device;
  char stop_line[640]; /* written by the SIGTERM handler */
  size_t stop_length;
} launch;

int clt_mpi_launched(void) {
  /* Open MPI's mpirun, a PMIx launcher (Open MPI 5, Slurm), MPICH's hydra (PMI). */
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static int launched_size(void) {
  const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (getenv(names[i])) return atoi(getenv(names[i]));
  return 0; /* PMIx alone does not say */
}

int clt_mpi_active(void) {
  return launch.active;
}
int clt_mpi_rank(void) {
  return launch.active ? launch.rank : 0;
}
int clt_mpi_local_rank(void) {
  return launch.active ? launch.local_rank : 0;
}
void clt_mpi_set_device(const char *spec) {
  launch.device = spec;
}

void clt_mpi_session_config(clt_config *c) {
  if (!launch.active) return;
  c->distributed = 1;
  c->local_rank = launch.local_rank;
}

/* The device a rank runs on, by name, for the failure line: its --device, or with none the
 * session's choice under mpirun (device local rank modulo the machine's device count). */
static void device_name(char *buf, size_t size) {
  const char *spec = launch.device && launch.device[0] ? launch.device : NULL;
  snprintf(buf, size, "%s", spec ? spec : "?");
  clt_device_list list;
  if (clt_device_list_query(&list) != CLT_OK) return;
  int index = -1;
  if (!spec && list.device_count > 0)
    index = launch.local_rank % list.device_count;
  else if (spec && !strchr(spec, ',') && clt_device_select(&list, spec, &index) != CLT_OK)
    index = -1;
  if (index >= 0) snprintf(buf, size, "%s", list.devices[index].name);
  clt_device_list_free(&list);
}

void clt_mpi_rank_label(char *buf, size_t size) {
  if (!launch.active) {
    if (size) buf[0] = '\0';
    return;
  }
  char device[300];
  device_name(device, sizeof device);
  snprintf(buf, size, "rank %d on %s (device %s)", launch.rank, launch.host, device);
}

/* mpirun sends SIGTERM to the other ranks when one dies (kill -9, a crash, MPI_Abort) or
 * the run is interrupted: one line naming this rank, then CLT_EXIT_STOPPED. Only
 * async-signal-safe calls. */
static void on_sigterm(int sig) {
  (void)sig;
  ssize_t written = write(STDERR_FILENO, launch.stop_line, launch.stop_length);
  (void)written;
  _exit(CLT_EXIT_STOPPED);
}

#ifdef CLT_HAVE_MPI
/* PoCL's CPU device starts one thread per core in every process: ranks sharing a node
 * would run cores x ranks threads. Each rank gets its share unless the user set it. */
static void share_pocl_threads(void) {
  if (getenv("POCL_MAX_PTHREAD_COUNT") || launch.local_size <= 1) return;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  long share = cores / launch.local_size;
  char value[32];
  snprintf(value, sizeof value, "%ld", share < 1 ? 1 : share);
  setenv("POCL_MAX_PTHREAD_COUNT", value, 0);
}

static int start_mpi(void) {
  int provided = 0;
  /* SERIALIZED: the trainer may call MPI from another thread than main, one at a time. */
  if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "cltrain: MPI_Init_thread failed: start cltrain with mpirun from the same "
                    "Open MPI it was built with\n");
    return CLT_EXIT_INTERNAL;
  }
  launch.active = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &launch.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &launch.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, launch.rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &launch.local_rank);
  MPI_Comm_size(node, &launch.local_size);
  MPI_Comm_free(&node);
  char host[MPI_MAX_PROCESSOR_NAME + 1];
  int length = 0;
  MPI_Get_processor_name(host, &length);
  host[length < 0 ? 0 : length] = '\0';
  snprintf(launch.host, sizeof launch.host, "%s", host);
  share_pocl_threads();
  return 0;
}
#endif

int clt_mpi_begin(const char *command) {
  if (!clt_mpi_launched()) return 0;
  if (strcmp(command, "train") != 0 && strcmp(command, "bench") != 0) return 0;
#ifdef CLT_HAVE_MPI
  int rc = start_mpi();
  if (rc) return rc;
#else
  if (launched_size() == 1) return 0;
  fprintf(stderr, "cltrain: started by mpirun, but this cltrain was built without MPI: "
                  "install openmpi-bin and libopenmpi-dev and rebuild (tools/setup.sh)\n");
  return CLT_EXIT_USAGE;
#endif
  (void)launched_size;
  launch.stop_length = (size_t)snprintf(
      launch.stop_line, sizeof launch.stop_line,
      "cltrain: rank %d on %s: stopped by mpirun: another rank failed or the run was "
      "interrupted (exit %d)\n",
      launch.rank, launch.host, CLT_EXIT_STOPPED);
  if (launch.stop_length >= sizeof launch.stop_line)
    launch.stop_length = sizeof launch.stop_line - 1;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_sigterm;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  /* Rank 0 alone reports progress; the others speak on stderr only when they fail. */
  if (launch.rank != 0 && !freopen("/dev/null", "w", stdout)) {
    fprintf(stderr, "cltrain: rank %d: cannot silence its output (/dev/null)\n", launch.rank);
    return CLT_EXIT_IO;
  }
  return 0;
}

int clt_mpi_end(int exit_code) {
#ifdef CLT_HAVE_MPI
  if (!launch.active) return exit_code;
  fflush(stdout);
  fflush(stderr);
  if (exit_code != CLT_EXIT_OK) MPI_Abort(MPI_COMM_WORLD, exit_code); /* does not return */
  MPI_Finalize();
  launch.active = 0;
#endif
  return exit_code;
}
