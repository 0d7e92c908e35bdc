#!/usr/bin/env bash
# Sourced by the training benches (repo root as working directory, OUT set): builds the trainer's test classes and
# sets CP (class path), JAVA (one pinned single-core replica JVM: jvm.properties flags, SerialGC, plus
# BENCH_JAVA_OPTS), NATIVE_ENV (conf/jvm.properties baton.native.env, not exported here) and MACHINE; exports
# OMP_NUM_THREADS=1; defines apply_native_env.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
mkdir -p "$OUT"
mvn -B -q -o -pl trainer -am test-compile -DskipTests
mvn -B -q -o -pl trainer -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$OUT/classpath.deps" >/dev/null
CP="trainer/target/test-classes:trainer/target/classes:common/target/classes:$(tr ':' '\n' < "$OUT/classpath.deps" \
  | grep -v '/baton-common/' | paste -sd:)"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
# shellcheck disable=SC2206
JAVA=(java $FLAGS -Xmx3g -XX:+UseSerialGC -XX:ActiveProcessorCount=1 ${BENCH_JAVA_OPTS:-} -cp "$CP")
NATIVE_ENV="$(sed -n 's/^baton\.native\.env=//p' conf/jvm.properties)"
MACHINE="machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), java $(java -version 2>&1 | sed -n 1p)"
export OMP_NUM_THREADS=1
# Exports the environment Baton's launcher gives training JVMs (baton.native.env: glibc malloc settings), unless
# BENCH_NATIVE_ENV=0 (a before/after comparison); says which.
apply_native_env() {
  if [ "${BENCH_NATIVE_ENV:-1}" = 1 ]; then
    for kv in $NATIVE_ENV; do export "${kv?}"; done
    echo "native env: $NATIVE_ENV"
  else
    echo "native env: none (BENCH_NATIVE_ENV=0)"
  fi
}
