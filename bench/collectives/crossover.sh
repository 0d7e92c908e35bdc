#!/usr/bin/env bash
# Small-message crossover at WORLD processes (default 3, oversubscribed on 2 cores): one-hop all-to-all
# (collective.small-threshold 1 MB) vs ring (16 B), UDP (embedded driver per JVM) and IPC (one external driver),
# same run. Usage (repo root): bench/collectives/crossover.sh   Output: bench/collectives/out/xover-*.txt
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"; cd "$ROOT"; OUT="$ROOT/bench/collectives/out"; mkdir -p "$OUT"
mvn -B -q -o -pl common test-compile
mvn -B -q -o -pl common dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/xover.deps" >/dev/null
CP="common/target/test-classes:common/target/classes:$(cat "$OUT/xover.deps")"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
WORLD="${WORLD:-3}"
SIZES=1024,2048,4096,8192,16384,65536
run() { # transport dir threshold
  local base=$((45000 + RANDOM % 2000)) ports="" r pids=()
  for ((r = 0; r < WORLD; r++)); do ports="${ports:+$ports,}$((base + r))"; done
  for ((r = WORLD - 1; r >= 0; r--)); do
    java $FLAGS -Xmx1g -XX:+UseSerialGC -Dbench.smallThreshold=$3 -cp "$CP" io.baton.common.collective.bench.AllReduceBench \
      "$r" "$ports" "$1" "$2" "$SIZES" > "$OUT/xover-$1-$3.rank$r.txt" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "== $1 threshold=$3"; cat "$OUT/xover-$1-$3.rank0.txt"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1048576 16; do run UDP - $t; done
DRIVER_DIR=/dev/shm/baton-xover-$$
java $FLAGS -Xmx256m -cp "$CP" -Daeron.dir="$DRIVER_DIR" -Daeron.threading.mode=SHARED \
  -Daeron.shared.idle.strategy=backoff -Daeron.dir.delete.on.shutdown=true -Daeron.dir.delete.on.start=true \
  -Daeron.ipc.mtu.length=65504 io.aeron.driver.MediaDriver > $OUT/xover-driver.txt 2>&1 &
drv=$!; sleep 2
for t in 1048576 16; do run IPC "$DRIVER_DIR" $t; done
kill $drv; wait $drv || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
