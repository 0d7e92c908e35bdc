#!/usr/bin/env bash
# Benchmark: one LargeBatchSgd.apply step (momentum 0.9, wd 1e-4; with and without LARS and active clipping) on the
# real parameter layouts of ResNet-50 (10 classes, 23.6 M floats) and ResNet-152 (1000 classes, 60.3 M floats),
# against ReferenceSgd (the update before the chunked rewrite) in the same JVM, on one pinned core.
# Prints median/min ms per step of both, the ratio, and whether both ended bit-identical.
# Usage (repo root): bench/updater/run.sh [rounds=15 [warmup=5 [models="resnet50:10 resnet152:1000"]]]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-15}"
WARMUP="${2:-5}"
MODELS="${3:-resnet50:10 resnet152:1000}"
CPFILE="$ROOT/trainer/target/bench-cp.txt"
mvn -B -q -o -pl trainer -am test-compile -DskipTests
mvn -B -q -o -pl trainer -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$CPFILE" >/dev/null
CP="trainer/target/test-classes:trainer/target/classes:common/target/classes:$(tr ':' '\n' < "$CPFILE" \
  | grep -v '/baton-common/' | paste -sd:)"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), java $(java -version 2>&1 | sed -n 1p)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
export OMP_NUM_THREADS=1  # after the machine line: nproc honours it
# shellcheck disable=SC2086
taskset -c 0 java $FLAGS -Xmx3g -XX:+UseSerialGC -XX:ActiveProcessorCount=1 \
  -Dorg.bytedeco.javacpp.maxbytes=8g -Dorg.bytedeco.javacpp.maxphysicalbytes=12g ${BENCH_JAVA_OPTS:-} -cp "$CP" \
  io.baton.trainer.bench.UpdaterBench "$ROUNDS" "$WARMUP" $MODELS 2>/dev/null
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
