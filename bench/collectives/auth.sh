#!/usr/bin/env bash
# What the stage key costs the collectives (issue 26, docs/BENCHMARKS.md "Authenticated collectives"): AllReduceBench,
# 2 processes on 127.0.0.1, once over UDP (an embedded driver per JVM) and once over IPC (one external MediaDriver
# shared by both), the same java command lines as bench/collectives/run.sh.
#
# Usage: bench/collectives/auth.sh [CLASSDIR [LABEL]]   (from anywhere)
#   CLASSDIR  the target directory of the common module built at the commit to measure (it must hold classes/ and
#             test-classes/), default this checkout's common/target; build it with
#             `flock /tmp/baton-build.lock mvn -B -o -q -pl common test-compile`. For a before/after pair, build the
#             other commit in a worktree of its own (git worktree add /tmp/before 540d613) and pass
#             /tmp/before/common/target.
#   LABEL     names the output files, default "after".
#   SIZES     (environment) the bulk sizes in bytes, default 1048576,240771232 (1 MB and ResNet-50's 241 MB gradient);
#             AllReduceBench adds the 1 KB latencies itself.
# Writes bench/collectives/out/auth-LABEL-{UDP,IPC}.rank{0,1}.txt (not committed) and prints rank 0's medians.
# For a before/after pair run both labels back to back, in both orders.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/collectives/out"
CLASSDIR="${1:-$ROOT/common/target}"
LABEL="${2:-after}"
SIZES="${SIZES:-1048576,240771232}"
mkdir -p "$OUT"
for d in classes test-classes; do
  [ -d "$CLASSDIR/$d" ] || { echo "no $CLASSDIR/$d: build the common module's tests there first" >&2; exit 2; }
done
# The dependencies' class path is the same before and after (the auth work added none); computed once.
if [ ! -f "$OUT/auth-classpath.deps" ]; then
  (cd "$ROOT" && mvn -B -q -o -pl common dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/auth-classpath.deps" >/dev/null)
fi
CP="$CLASSDIR/test-classes:$CLASSDIR/classes:$(cat "$OUT/auth-classpath.deps")"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' "$ROOT/conf/jvm.properties" | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"

pids=()
DRIVER_DIR=/dev/shm/baton-auth-bench-$$
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DRIVER_DIR"; }
trap cleanup EXIT

run() { # transport driverDir
  local base=$((43000 + RANDOM % 2000)) rank_pids=() r
  local ports="$base,$((base + 1))"
  for r in 1 0; do
    java $FLAGS -Xmx2g -XX:+UseSerialGC ${BENCH_JAVA_OPTS:-} -cp "$CP" io.baton.common.collective.bench.AllReduceBench \
      "$r" "$ports" "$1" "$2" "$SIZES" > "$OUT/auth-$LABEL-$1.rank$r.txt" 2>&1 &
    rank_pids+=($!); pids+=($!)
  done
  for p in "${rank_pids[@]}"; do wait "$p"; done
  echo "== $LABEL $1"
  grep -v "^#" "$OUT/auth-$LABEL-$1.rank0.txt"
}

run UDP -
java $FLAGS -Xmx256m -cp "$CP" -Daeron.dir="$DRIVER_DIR" -Daeron.threading.mode=SHARED \
  -Daeron.shared.idle.strategy=backoff -Daeron.dir.delete.on.shutdown=true -Daeron.dir.delete.on.start=true \
  -Daeron.ipc.mtu.length=65504 -Daeron.term.buffer.sparse.file=true io.aeron.driver.MediaDriver \
  > "$OUT/auth-driver-$LABEL.txt" 2>&1 &
driver=$!; pids+=($driver)
sleep 2
run IPC "$DRIVER_DIR"
kill "$driver"; wait "$driver" 2>/dev/null || true
