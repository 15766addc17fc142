#!/bin/bash
# cltrain train under mpirun, end to end (docs/SCALING.md), on a small MLP and a subset of
# Fashion-MNIST. Usage: train.sh MODE CLTRAIN CKPT_COMPARE WORK_DIR
#   MODE train: the 2-rank run against the one-process run with the same global batch
#               (parameters within 1e-4 of the largest magnitude), a rerun of the 2-rank run
#               (bit-identical), one with 1 KiB gradient buckets (bit-identical), a 2-rank run stopped after epoch 1 and resumed with 2 ranks
#               (bit-identical to the uninterrupted 2-rank run), and by one process (it
#               goes on with a warning);
#   MODE fail:  a rank that fails (rank 1 alone with a device that does not exist; every rank
#               with a loss that turns NaN) stops the run with its exit code and one line
#               naming the rank, host and device; kill -9 of rank 1 mid-epoch: mpirun exits
#               non-zero within 30 s (a hang guard, not a speed test), rank 0 says it was
#               stopped, and the last checkpoint reads back and resumes.
# mpirun runs through run.sh (root, one PoCL thread per rank, skip outside CI only).
set -u
mode=$1
cltrain=$2
compare=$3
work=$4
here=$(dirname "$0")
data=${CLTRAIN_TEST_FASHION:-/usr/share/datasets/fashion-mnist}
fail() {
  echo "mpi $mode: $*" >&2
  exit 1
}
if [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
  [ "${CI:-}" = "true" ] && fail "no Fashion-MNIST in $data (tools/setup.sh installs dataset-fashion-mnist)"
  echo "mpi $mode: no Fashion-MNIST in $data; skipped"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
export CLTRAIN_GEMM=default POCL_MAX_PTHREAD_COUNT=1
device=${CLTRAIN_TEST_DEVICE:-pocl}
mpi() { # mpi NP ARGS...: cltrain ARGS on NP ranks
  local np=$1
  shift
  bash "$here/run.sh" "$np" "$cltrain" "$@" --device "$device"
}
cat >small.cfg <<'EOF'
[net]
input = 28x28x1
batch = 32
epochs = 2
optimizer = adam
learning_rate = 0.002
seed = 7
[dense]
units = 48
activation = relu
[dense]
units = 10
[softmax]
EOF
# A linear model under plain SGD: --lr 10 makes its loss overflow within 20 steps.
cat >linear.cfg <<'EOF'
[net]
input = 28x28x1
batch = 32
epochs = 10
optimizer = sgd
learning_rate = 0.01
seed = 5
[dense]
units = 32
[dense]
units = 10
[softmax]
EOF
common=(train small.cfg --data "$data" --subset 1600)

if [ "$mode" = "train" ]; then
  "$cltrain" "${common[@]}" --device "$device" --save one.ckpt >one.txt 2>&1 ||
    fail "the one-process run failed: $(tail -3 one.txt)"
  mpi 2 "${common[@]}" --save two.ckpt >two.txt 2>two.err || fail "the 2-rank run failed: $(cat two.err)"
  grep -q "Data parallel: 2 replicas.*2 processes" two.txt || fail "the 2-rank run did not run as 2 replicas: $(head -20 two.txt)"
  # Rank 0 alone prints: one line per epoch, not two.
  [ "$(grep -c '^Epoch 2/2' two.txt)" = 1 ] || fail "the epoch lines of the 2-rank run: $(grep -c '^Epoch' two.txt), not 2"
  "$compare" one.ckpt two.ckpt 1e-4 || fail "2 ranks against 1 process: parameters differ by more than 1e-4"
  mpi 2 "${common[@]}" --save again.ckpt >again.txt 2>&1 || fail "the rerun failed: $(tail -3 again.txt)"
  "$compare" two.ckpt again.ckpt || fail "two 2-rank runs are not bit-identical"
  # Gradient buckets of 1 KiB (3 instead of 2, the first summed over the ranks while layer 1's
  # backward runs): the same bits, the sum of each element does not depend on the boundaries.
  mpi 2 "${common[@]}" --bucket-kib 1 --save buckets.ckpt >buckets.txt 2>&1 || fail "the run with --bucket-kib 1 failed: $(tail -3 buckets.txt)"
  "$compare" two.ckpt buckets.ckpt || fail "--bucket-kib 1 is not bit-identical to the default buckets"
  mpi 2 "${common[@]}" --epochs 1 --save part.ckpt >part.txt 2>&1 || fail "epoch 1 alone failed: $(tail -3 part.txt)"
  # The same checkpoint resumed by one process: it goes on, with a warning.
  cp part.ckpt single.ckpt
  "$cltrain" train --resume single.ckpt --epochs 2 --device "$device" >single.txt 2>single.err ||
    fail "one process resuming a 2-rank checkpoint failed: $(cat single.err)"
  grep -q "warning: the checkpoint was written by a run of 2 replicas and this run has 1" single.err ||
    fail "no warning when one process resumes a 2-rank checkpoint: $(cat single.err)"
  mpi 2 train --resume part.ckpt --epochs 2 --save part.ckpt >resume.txt 2>&1 ||
    fail "the resumed 2-rank run failed: $(tail -3 resume.txt)"
  "$compare" two.ckpt part.ckpt || fail "the resumed 2-rank run is not bit-identical to the uninterrupted one"
  echo "mpi train: 2 ranks within 1e-4 of 1 process; reruns, 1 KiB buckets and resume bit-identical"
  exit 0
fi

[ "$mode" = "fail" ] || fail "unknown mode '$mode'"
# Rank 1 alone fails at once (a device spec that matches nothing: exit 69).
bash "$here/run.sh" 1 "$cltrain" "${common[@]}" --device "$device" : -np 1 "$cltrain" \
  "${common[@]}" --device nosuch >bad.txt 2>bad.err
rc=$?
[ "$rc" = 69 ] || fail "rank 1 with --device nosuch: mpirun exited $rc, not 69: $(cat bad.err)"
grep -q "^cltrain: rank 1 on .* (device nosuch): device 'nosuch' matches no device" bad.err ||
  fail "no line naming rank 1, its host and device: $(cat bad.err)"
# Every rank's loss turns NaN: exit 81, the line names a rank.
mpi 2 train linear.cfg --data "$data" --subset 1600 --lr 10 >nan.txt 2>nan.err
rc=$?
[ "$rc" = 81 ] || fail "--lr 10 on 2 ranks: mpirun exited $rc, not 81: $(cat nan.err)"
grep -q "^cltrain: rank [01] on .* (device .*): .*" nan.err || fail "no rank line: $(cat nan.err)"

# kill -9 of rank 1 mid-epoch, after a first checkpoint.
mpi 2 train small.cfg --data "$data" --subset 60000 --epochs 50 --save k.ckpt --save-every 40 \
  >kill.txt 2>kill.err &
launcher=$!
for _ in $(seq 600); do
  [ -e k.ckpt ] && break
  sleep 0.1
done
[ -e k.ckpt ] || fail "no checkpoint after 60 s: $(cat kill.err)"
sleep 0.3
rank1=
for p in $(pgrep -f -- "--save-every 40"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && rank1=$p
done
[ -n "$rank1" ] || fail "rank 1's process not found"
kill -9 "$rank1"
start=$SECONDS
while kill -0 "$launcher" 2>/dev/null && ((SECONDS - start < 60)); do sleep 0.2; done
if kill -0 "$launcher" 2>/dev/null; then
  pkill -9 -P "$launcher"
  fail "mpirun still runs 60 s after rank 1 was killed"
fi
wait "$launcher"
rc=$?
took=$((SECONDS - start))
[ "$rc" != 0 ] || fail "mpirun exited 0 after rank 1 was killed"
((took <= 30)) || fail "mpirun took $took s to stop after rank 1 was killed"
grep -q "^cltrain: rank 0 on .*: stopped by mpirun" kill.err || fail "no line from rank 0: $(cat kill.err)"
"$compare" k.ckpt k.ckpt >/dev/null || fail "the checkpoint left after the kill does not read back"
mpi 2 train --resume k.ckpt >resume.txt 2>&1 &
# Resuming is enough: the run's first steps prove it; stop it there.
resumed=$!
for _ in $(seq 300); do
  grep -q "Epoch" resume.txt 2>/dev/null && break
  kill -0 "$resumed" 2>/dev/null || break
  sleep 0.1
done
grep -q "^Resuming k.ckpt: .*step [1-9]" resume.txt || fail "the checkpoint left after the kill did not resume: $(tail -3 resume.txt)"
kill -TERM "$resumed" 2>/dev/null
wait "$resumed"
echo "mpi fail: exit codes 69 and 81 with the rank line; kill -9 of rank 1 stopped mpirun (exit $rc) in $took s; the checkpoint resumed"
exit 0
