#!/usr/bin/env bash
# Benchmark: decode, and decode + train augmentation to 224 and 128, images/s on one thread (per core) of ImageNet-like
# JPEGs (400x350, q97, ~116 kB, or a folder's JPEGs), the JDK reader vs Leptonica's libjpeg-turbo 1.5.3 vs the host's
# libjpeg-turbo 2 (TurboJPEG, Debian's libturbojpeg-java) vs that with DCT-domain scaling, same JVM, alternating rounds;
# prints the pixel difference from the JDK reader first.
# Usage: [BATON_BENCH_QUALITY=97] bench/pipeline/run.sh [images seconds rounds [folder of JPEGs]]   (default 64 2 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mvn -B -q -pl trainer -am test-compile -DskipTests
mvn -B -q -pl trainer -am test-compile dependency:build-classpath -Dmdep.outputFile="$root/trainer/target/bench-cp.txt" -Dmdep.includeScope=test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | sed -n 1p)"
java -Xmx2g -Dbaton.bench.quality="${BATON_BENCH_QUALITY:-97}" -cp "trainer/target/test-classes:trainer/target/classes:common/target/classes:$(cat trainer/target/bench-cp.txt)" \
  io.baton.trainer.bench.PipelineBench "$@" 2>/dev/null | grep -E "images:|pixels:|decoder:|RESULT"
