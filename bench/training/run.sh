#!/usr/bin/env bash
# Benchmark for issue 4: synchronous replica training (SyncBatchNorm + flat-gradient all-reduce over Aeron UDP on
# 127.0.0.1 + Baton's SGD), per-step time breakdown and scaling efficiency on one core per replica.
# For each model: 1 replica pinned to core 0, then 2 replicas (2 JVMs) pinned to cores 0 and 1, same per-replica
# batch, same run. efficiency = images/s(2 replicas) / (2 x images/s(1 replica)).
# Usage (repo root): bench/training/run.sh [steps [warmup]]   Output: bench/training/out/*.txt (not committed).
# For the efficiency itself prefer bench/training/scaling.sh: it interleaves the configurations step by step in the
# same two JVMs, where this script's sequential launches meet different host speeds and JIT states (+-15 % per run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/training/out"
STEPS="${1:-10}"
WARMUP="${2:-3}"
cd "$ROOT"
# shellcheck source=bench/training/setup.sh
source bench/training/setup.sh
apply_native_env

pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# TRANSPORT=ipc: the two replicas share one external media driver (as executors on one host can) and talk over IPC;
# default udp: an embedded driver per JVM, UDP on 127.0.0.1.
if [ "${TRANSPORT:-udp}" = ipc ]; then
  DRIVER_DIR=/dev/shm/baton-training-bench-driver-$$
  java $FLAGS -Xmx256m -cp "$CP" -Daeron.dir="$DRIVER_DIR" -Daeron.threading.mode=SHARED \
    -Daeron.shared.idle.strategy=backoff -Daeron.dir.delete.on.shutdown=true -Daeron.dir.delete.on.start=true \
    -Daeron.ipc.mtu.length=65504 io.aeron.driver.MediaDriver > "$OUT/driver.txt" 2>&1 &
  pids+=($!)
  sleep 2
  JAVA+=(-Dbench.driverDir="$DRIVER_DIR")
  echo "transport: IPC through one external media driver ($DRIVER_DIR)"
else
  echo "transport: UDP on 127.0.0.1, embedded driver per JVM"
fi

echo "$MACHINE"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench() { # arch batch size
  local arch=$1 batch=$2 size=$3 tag="$1-$3-b$2" base=$((43000 + RANDOM % 2000))
  local ports="$base,$((base + 1))"
  taskset -c 0 "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 0 1 - "$arch" "$batch" "$size" "$size" \
    "$STEPS" "$WARMUP" > "$OUT/$tag.w1.txt" 2>&1
  taskset -c 1 "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 1 2 "$ports" "$arch" "$batch" "$size" "$size" \
    "$STEPS" "$WARMUP" > "$OUT/$tag.w2.rank1.txt" 2>&1 &
  local p1=$!; pids+=($p1)
  taskset -c 0 "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 0 2 "$ports" "$arch" "$batch" "$size" "$size" \
    "$STEPS" "$WARMUP" > "$OUT/$tag.w2.rank0.txt" 2>&1
  wait "$p1"
  # Control: two independent 1-replica JVMs at once (no communication), to separate the machine's own slowdown
  # with both cores busy from Baton's synchronisation cost.
  taskset -c 1 "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 0 1 - "$arch" "$batch" "$size" "$size" \
    "$STEPS" "$WARMUP" > "$OUT/$tag.solo-pair.core1.txt" 2>&1 &
  p1=$!; pids+=($p1)
  taskset -c 0 "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 0 1 - "$arch" "$batch" "$size" "$size" \
    "$STEPS" "$WARMUP" > "$OUT/$tag.solo-pair.core0.txt" 2>&1
  wait "$p1"
  local one two c0 c1
  grep RESULT "$OUT/$tag.w1.txt"
  grep RESULT "$OUT/$tag.w2.rank0.txt"
  grep RESULT "$OUT/$tag.w2.rank1.txt"
  one=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.w1.txt" | cut -d= -f2)
  two=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.w2.rank0.txt" | cut -d= -f2)
  c0=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.solo-pair.core0.txt" | cut -d= -f2)
  c1=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.solo-pair.core1.txt" | cut -d= -f2)
  awk -v a="$arch" -v s="$size" -v one="$one" -v two="$two" -v c0="$c0" -v c1="$c1" 'BEGIN {
    printf "SCALING arch=%s input=%s one_replica_img_s=%.2f two_replicas_img_s=%.2f efficiency=%.3f", a, s, one, two, two / (2 * one);
    printf " | control: two independent 1-replica JVMs %.2f + %.2f img/s, machine efficiency=%.3f, sync overhead factor=%.3f\n", c0, c1, (c0 + c1) / (2 * one), two / (c0 + c1) }'
}
# MODELS="arch:batch:size ..." picks the models (default both).
for model in ${MODELS:-resnet20:128:32 resnet50:16:64}; do
  IFS=: read -r arch batch size <<< "$model"
  bench "$arch" "$batch" "$size"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
