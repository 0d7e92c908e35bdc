#!/usr/bin/env bash
# Benchmark: prepared shards read in random order from local files and from a MiniDFSCluster in the same run, the
# latter through the bounded block cache (data.cache-size) holding nothing, a quarter of the data, 90 % of it, and all.
# Usage: bench/data/remote-shards.sh [dir=/tmp/baton-shard-bench] [megabytes=200] [passes=2]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dir="${1:-/tmp/baton-shard-bench}"
mb="${2:-200}"
passes="${3:-2}"
mvn -B -q -o -pl trainer -am test-compile
mvn -B -q -o -pl trainer -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$root/trainer/target/bench-cp.txt" -Dmdep.includeScope=test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "disk: $(df -h "$(dirname "$dir")" | awk 'NR==2{print $1" ("$2")"}'), $(findmnt -n -o FSTYPE --target "$(dirname "$dir")")"
rm -rf "$dir" && mkdir -p "$dir"
java -Xmx1g -cp "trainer/target/test-classes:trainer/target/classes:common/target/classes:$(cat trainer/target/bench-cp.txt)" \
  io.baton.trainer.data.shard.ShardReadBench "$dir" "$mb" "$passes" 2>/dev/null
rm -rf "$dir"
