#!/usr/bin/env bash
# Benchmark for issue 4, scaling efficiency with the configurations interleaved step by step: two replica JVMs
# (pinned to cores 0 and 1, one core each) stay up and every cycle runs, in alternating order, one step of rank 0
# training alone (rank 1 idle), one of both training a synchronised world-2 replica pair (SyncBatchNorm + gradient
# all-reduce over Aeron UDP on 127.0.0.1) and one of both training independently (the machine's own two-core
# throughput). See ScalingBench's Javadoc.
# Usage (repo root): bench/training/scaling.sh [cycles [warmupCycles]]
#   MODELS="arch:batch:size ..." (default resnet20:128:32 resnet50:16:64); TRANSPORT=ipc, BENCH_JAVA_OPTS,
#   BENCH_NATIVE_ENV=0 as in run.sh; SHARED_DRIVER_CPUS=0-1 (with TRANSPORT=ipc) unpins the shared driver
#   process; BENCH_JAVA_OPTS=-Dbench.idleB=KIND[:spins:yields:minParkNs:maxParkNs] adds a second synchronised pair
#   that waits with that idle strategy, stepped in the same cycles (A/B); -Dbench.overlapB=BYTES a second pair whose
#   gradient all-reduce overlaps backward in buckets of BYTES (train.overlap-allreduce). Output: bench/training/out/scaling-*.txt
#   (not committed); the SCALING lines are the result (and VARIANT_B with idleB), CYCLE lines the step times of
#   each cycle.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/training/out"
CYCLES="${1:-20}"
WARMUP="${2:-3}"
cd "$ROOT"
# shellcheck source=bench/training/setup.sh
source bench/training/setup.sh
apply_native_env

pids=()
SHARED_DIR=/dev/shm/baton-scaling-bench-$$
# Pids of the shared driver processes started in SHARED_DIR (from its log; none yet: nothing).
shared_driver_pids() { sed -n 's/.*(pid \([0-9]*\)): started in.*/\1/p' "$SHARED_DIR.log" 2>/dev/null || true; }
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  # The shared driver (TRANSPORT=ipc) would exit 30 s after the ranks; stop it now and remove its lock and log.
  if [ -f "$SHARED_DIR.log" ]; then
    for p in $(shared_driver_pids); do kill "$p" 2>/dev/null || true; done
    sleep 1
    rm -rf "$SHARED_DIR" "$SHARED_DIR.lock" "$SHARED_DIR.log"
  fi
}
trap cleanup EXIT

# TRANSPORT=ipc: the two replicas use the host-shared media driver (collective.driver=shared: the first one starts it,
# both attach, as executors on one host can) and talk over IPC; default udp: an embedded driver per JVM, UDP on
# 127.0.0.1.
if [ "${TRANSPORT:-udp}" = ipc ]; then
  JAVA+=(-Dbench.sharedDriverDir="$SHARED_DIR")
  echo "transport: IPC through the host-shared media driver ($SHARED_DIR)"
else
  echo "transport: UDP on 127.0.0.1, embedded driver per JVM"
fi
echo "$MACHINE"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for model in ${MODELS:-resnet20:128:32 resnet50:16:64}; do
  IFS=: read -r arch batch size <<< "$model"
  tag="scaling-$arch-$size-b$batch"
  control=$((41000 + RANDOM % 1000))
  aeron=$((44000 + RANDOM % 1000 * 2))
  taskset -c 1 "${JAVA[@]}" io.baton.trainer.bench.ScalingBench 1 "$control" "$aeron" "$arch" "$batch" "$size" \
    "$CYCLES" "$WARMUP" > "$OUT/$tag.rank1.txt" 2>&1 &
  p1=$!; pids+=($p1)
  if [ -n "${SHARED_DRIVER_CPUS:-}" ] && [ "${TRANSPORT:-udp}" = ipc ]; then
    # The driver process inherits the pinned core of the rank that started it; SHARED_DRIVER_CPUS=0-1 lets it run on
    # either core, as it would beside unpinned executors.
    ( for _ in $(seq 600); do
        p=$(shared_driver_pids | tail -1)
        if [ -n "$p" ]; then taskset -a -p -c "$SHARED_DRIVER_CPUS" "$p" > /dev/null; break; fi
        sleep 0.1
      done ) &
  fi
  taskset -c 0 "${JAVA[@]}" io.baton.trainer.bench.ScalingBench 0 "$control" "$aeron" "$arch" "$batch" "$size" \
    "$CYCLES" "$WARMUP" > "$OUT/$tag.rank0.txt" 2>&1
  wait "$p1"
  grep -E '^(SCALING|VARIANT_B)' "$OUT/$tag.rank0.txt"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
