#!/usr/bin/env bash
# Benchmark: ResNet-152 full state (params + momentum, 2 x 60,344,232 floats = 482.8 MB) checkpointed to local disk:
# training stall per checkpoint (submit + snapshot fence) vs write time, synchronous vs deferred snapshot, with a
# step-like workload of each given length between submit and fence; write throughput vs dd to the same directory.
# Usage: bench/checkpoint/run.sh [dir=/tmp/baton-ckpt-bench] [checkpoints=5] [step-ms=0,300,1000]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dir="${1:-/tmp/baton-ckpt-bench}"
n="${2:-5}"
steps="${3:-0,300,1000}"
mvn -B -q -o -pl common test-compile
mvn -B -q -o -pl common dependency:build-classpath \
  -Dmdep.outputFile="$root/common/target/bench-cp.txt" -Dmdep.includeScope=test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GB RAM"
echo "disk: $(df -h "$(dirname "$dir")" | awk 'NR==2{print $1" ("$2")"}'), $(findmnt -n -o FSTYPE --target "$(dirname "$dir")")"
rm -rf "$dir" && mkdir -p "$dir"
dd_run() { # label, dd flags...
  local out
  out="$(dd if=/dev/zero of="$dir/dd.bin" bs=1M count=460 "$@" 2>&1 | tail -1)"
  rm -f "$dir/dd.bin"
  echo "dd $*: $out"
}
dd_run conv=fsync
dd_run oflag=direct
java -Xmx2g -XX:MaxDirectMemorySize=2g -cp "common/target/test-classes:common/target/classes:$(cat common/target/bench-cp.txt)" \
  io.baton.common.checkpoint.bench.CheckpointBench "$dir/run" "$n" 60344232 "$steps" 2>/dev/null
dd_run conv=fsync
dd_run oflag=direct
rm -rf "$dir"
