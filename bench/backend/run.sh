#!/usr/bin/env bash
# Benchmark: forward+backward time of ResNet-20 (32x32, batch 64) on each ND4J CPU native variant, one JVM each,
# same machine, same run. Usage: bench/backend/run.sh [arch batch [H W C]]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mvn -B -q -pl trainer -am test-compile -DskipTests
mvn -B -q -pl trainer -am test-compile dependency:build-classpath -Dmdep.outputFile="$root/trainer/target/bench-cp.txt" -Dmdep.includeScope=test
repo="$HOME/.m2/repository/org/nd4j/nd4j-native/1.0.0-M2.1"
variants=("" "-avx512" "-onednn" "-onednn-avx2" "-onednn-avx512")
for v in "${variants[@]}"; do
  [ -z "$v" ] || [ -f "$repo/nd4j-native-1.0.0-M2.1-linux-x86_64$v.jar" ] || \
    mvn -B -q dependency:get -Dartifact="org.nd4j:nd4j-native:1.0.0-M2.1:jar:linux-x86_64$v" -Dtransitive=false
done
flags="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed -e 's/^baton\.jvm\.flags=//' -e 's/\\$//' | tr '\n' ' ')"
# The base class path without any platform-specific nd4j-native jar; each run adds exactly one.
base="$(tr ':' '\n' < trainer/target/bench-cp.txt | grep -v 'nd4j-native-1.0.0-M2.1-linux-x86_64' | paste -sd:)"
base="trainer/target/test-classes:trainer/target/classes:common/target/classes:$base"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
run() { # extension helpers-disable
  local v="$1" off="$2" jar="$repo/nd4j-native-1.0.0-M2.1-linux-x86_64$1.jar"
  # shellcheck disable=SC2086
  java $flags -Xmx6g -cp "$base:$jar" -Dorg.bytedeco.javacpp.platform.extension="$v" \
    -Dorg.eclipse.deeplearning4j.helpers.disable="$off" \
    io.baton.trainer.bench.BackendBench "${@:3}" 2>/dev/null | grep RESULT
}
args=("${@:-resnet20 64}")
# shellcheck disable=SC2206
args=(${args[*]})
run "" true "${args[@]}"
run "-avx512" true "${args[@]}"
run "-onednn-avx512" true "${args[@]}"
for v in "-onednn" "-onednn-avx2" "-onednn-avx512"; do run "$v" false "${args[@]}"; done
