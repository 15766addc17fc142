#!/bin/bash
# Runs a command under mpirun for CTest: run.sh NP COMMAND [ARGS...]
#   mpirun --oversubscribe -np NP with a time limit, PoCL at one thread per rank
#   (POCL_MAX_PTHREAD_COUNT=1: the ranks share the machine's cores), and as root the two
#   variables Open MPI asks for (CI runs as root; mpirun refuses root without them).
# Without mpirun (or a build without MPI: COMMAND "no-mpi") the test is skipped (77), except
# under CI (CI=true), where that is a failure: CI installs Open MPI (tools/setup.sh).
set -u
np=$1
shift
skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "mpi test: $* (under CI this is a failure: tools/setup.sh installs Open MPI)" >&2
    exit 1
  fi
  echo "mpi test: $*; skipped"
  exit 77
}
command -v mpirun >/dev/null || skip "mpirun not found (apt-get install openmpi-bin)"
[ "$1" = "no-mpi" ] && skip "cltrain was configured without MPI (apt-get install libopenmpi-dev, then reconfigure)"
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export POCL_MAX_PTHREAD_COUNT=1
# The sanitizer suite (tools/sanitize.sh sets ASAN_OPTIONS): Open MPI's one-time allocations
# are suppressed by module (tests/sanitizers/lsan.supp), which needs whole stacks (Open MPI's
# libraries have no frame pointers for the fast unwinder) and its components kept loaded.
if [ -n "${ASAN_OPTIONS:-}" ]; then
  export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
  export OMPI_MCA_mca_base_component_disable_dlclose=1
fi
exec mpirun --oversubscribe --timeout "${MPI_TEST_TIMEOUT:-300}" -np "$np" "$@"
