#!/usr/bin/env bash
# spark.serializer for Baton's task results: Spark's JavaSerializer vs KryoSerializer with Baton's registrator
# (registration required), same object, same JVM, 3 passes. Usage: bench/cluster/serialization.sh [ROUNDS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
mvn -B -q -pl coordinator -am test-compile
mvn -B -q -pl coordinator -am test-compile dependency:build-classpath -Dmdep.outputFile="$root/coordinator/target/bench-cp.txt" \
  -Dmdep.includeScope=test
flags="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed -e 's/^baton\.jvm\.flags=//' -e 's/\\$//' | tr '\n' ' ')"
# shellcheck disable=SC2086
java $flags -cp "coordinator/target/test-classes:coordinator/target/classes:trainer/target/classes:common/target/classes:$(cat coordinator/target/bench-cp.txt)" \
  io.baton.coordinator.spark.bench.TaskSerializationBench "${1:-200000}" 2>/dev/null
