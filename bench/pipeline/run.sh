#!/usr/bin/env bash
# Benchmark: decode and decode + train augmentation images/s on one thread (per core) of ImageNet-like JPEGs
# (500x375, q90), javax.imageio's JDK reader vs TwelveMonkeys, same JVM, alternating rounds.
# Usage: bench/pipeline/run.sh [images seconds rounds]   (default 64 4 3)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mvn -B -q -pl trainer -am test-compile -DskipTests
mvn -B -q -pl trainer dependency:build-classpath -Dmdep.outputFile="$root/trainer/target/bench-cp.txt" -Dmdep.includeScope=test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | sed -n 1p)"
java -Xmx2g -cp "trainer/target/test-classes:trainer/target/classes:common/target/classes:$(cat trainer/target/bench-cp.txt)" \
  io.baton.trainer.bench.PipelineBench "$@" 2>/dev/null | grep -E "images:|RESULT"
