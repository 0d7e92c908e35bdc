#!/usr/bin/env bash
# Benchmark for baton.native.env (conf/jvm.properties): one ResNet-20 replica (32x32, batch 128) alone on core 0,
# without (A) and with (B) the glibc malloc settings, alternating A B B A ROUNDS times so that drift of a shared VM
# cancels. Prints each run's median step time and the medians of A and B.
# Usage (repo root): bench/training/malloc-ab.sh [rounds [steps [warmup]]]   Output: bench/training/out/malloc-*.txt
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/training/out"
ROUNDS="${1:-3}"
STEPS="${2:-14}"
WARMUP="${3:-3}"
cd "$ROOT"
# shellcheck source=bench/training/setup.sh
source bench/training/setup.sh
echo "$MACHINE; B = $NATIVE_ENV"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # A|B index
  local env=(env) kv
  for kv in $NATIVE_ENV; do env+=(-u "${kv%%=*}"); done
  # shellcheck disable=SC2206
  [ "$1" = B ] && env+=($NATIVE_ENV)
  taskset -c 0 "${env[@]}" "${JAVA[@]}" io.baton.trainer.bench.TrainingBench 0 1 - resnet20 128 32 32 "$STEPS" \
    "$WARMUP" > "$OUT/malloc-$1-$2.txt" 2>&1
  echo "$1 $(grep -o 'step_ms=[0-9.]*' "$OUT/malloc-$1-$2.txt" | cut -d= -f2)"
}
results=()
for i in $(seq "$ROUNDS"); do
  for cfg in A B B A; do
    line="$(run "$cfg" "$i$RANDOM")"
    echo "$line"
    results+=("$line")
  done
done
for cfg in A B; do
  printf '%s\n' "${results[@]}" | awk -v c="$cfg" '$1 == c {print $2}' | sort -n | awk -v c="$cfg" '
    {a[NR] = $1} END {printf "median %s step_ms=%.1f (n=%d)\n", c, (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), NR}'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
