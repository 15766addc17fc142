/* cltrain started by mpirun: MPI set up around the train and bench commands, one rank's
 * output, and how a failing or stopped rank ends the run (docs/SCALING.md). */
#ifndef CLT_CLI_MPI_LAUNCH_H
#define CLT_CLI_MPI_LAUNCH_H

#include "cltrain/cltrain.h"

/* 1 when the environment says mpirun (Open MPI, or a PMIx or PMI launcher) started this
 * process. */
int clt_mpi_launched(void);

/* Before the command runs, for `train` and `bench` when clt_mpi_launched(): MPI_Init_thread,
 * this rank's place (rank, node-local rank), PoCL limited to its share of the cores unless
 * POCL_MAX_PTHREAD_COUNT is set, stdout of ranks other than 0 to /dev/null, and the SIGTERM
 * line. Returns 0, or an exit code after printing why (pass it to clt_mpi_end, which stops
 * the run when MPI was started). */
int clt_mpi_begin(const char *command);

/* After the command: MPI_Finalize when exit_code is 0, else MPI_Abort(exit_code), which
 * stops every rank (mpirun exits with that code). Returns exit_code. No-op without MPI. */
int clt_mpi_end(int exit_code);

/* 1 between clt_mpi_begin and clt_mpi_end of a run under mpirun. */
int clt_mpi_active(void);
int clt_mpi_rank(void);       /* 0 when not active */
int clt_mpi_local_rank(void); /* rank among the ranks of this node; 0 when not active */

/* The device spec of this rank (NULL: the session's default), for the failure line. */
void clt_mpi_set_device(const char *spec);

/* "rank R on HOST (device NAME)" into buf ("" when not active). */
void clt_mpi_rank_label(char *buf, size_t size);

/* The session configuration of a distributed run (a no-op when not active). */
void clt_mpi_session_config(clt_config *c);

#endif
