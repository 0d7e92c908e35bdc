#!/usr/bin/env bash
# Issue 25, "a profile first": where one warm training step of Baton's replica goes, next to PyTorch's, same shapes
# and threads, same run. Baton: TrainingBench (SynchronousStep, SyncBatchNorm at world size 1, LargeBatchSgd, oneDNN
# build with DL4J's helpers) under async-profiler (cpu samples of every thread, native + Java frames, warm steps only).
# PyTorch: bench/profile/torch_step.py under torch.profiler (CPU op tree). classify.py maps both to the categories.
#   ResNet-20, 32x32, batch 64, 1 thread (the per-replica setting of the 2 x 64 comparison), pinned to core 0
#   ResNet-50, 128x128, batch 16, 2 threads (one process)
# Usage (repo root): bench/profile/profile-step.sh          Output: bench/profile/out/ (not committed).
# Env: ONLY=both|baton|torch CSTACK=dwarf (async-profiler native unwinder: libnd4jcpu has no frame pointers, so
#   the default fp walk stops at its first frame) R20_STEPS=20 R50_STEPS=8 WARMUP=3 INTERVAL_NS=1000000 EVENT=cpu LOCK=/tmp/baton-build.lock TOP=0 (heaviest
#   unclassified stacks); LOCK is held for the whole run (bench/lib/lock.sh: a caller already holding it is found);
#   PER_THREAD=1 also prints Baton's CPU per step by thread group (training thread, OpenMP workers, Baton's Java
#   compute threads, JVM) from async-profiler's `threads` option.
# Installs what it needs: Debian python3-torch python3-torchvision (apt-get), tools.profiler:async-profiler:3.0 (Maven).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/profile/out"
R20_STEPS="${R20_STEPS:-20}" R50_STEPS="${R50_STEPS:-8}" WARMUP="${WARMUP:-3}"
INTERVAL_NS="${INTERVAL_NS:-1000000}" EVENT="${EVENT:-cpu}" CSTACK="${CSTACK:-dwarf}" ONLY="${ONLY:-both}"
PY=/usr/bin/python3
THREADS_OPT="" && [ "${PER_THREAD:-0}" != 1 ] || THREADS_OPT=",threads"
mkdir -p "$OUT"
cd "$ROOT"

if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  apt-get install -y python3-torch python3-torchvision > "$OUT/apt.log"
fi
AP_VERSION=3.0
AP_JAR="$HOME/.m2/repository/tools/profiler/async-profiler/$AP_VERSION/async-profiler-$AP_VERSION.jar"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  bash -c "
    [ -f '$AP_JAR' ] || mvn -B -q dependency:get -Dartifact=tools.profiler:async-profiler:$AP_VERSION
    mvn -B -q -o -pl trainer -am test-compile -DskipTests
    mvn -B -q -o -pl trainer -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile='$OUT/classpath.deps' >/dev/null"
fi
rm -rf "$OUT/asprof" && mkdir -p "$OUT/asprof"
(cd "$OUT/asprof" && unzip -q -o "$AP_JAR")
AP_LIB="$(find "$OUT/asprof" -path '*linux-x64*' -name libasyncProfiler.so | head -1)"
[ -n "$AP_LIB" ] || { echo "no linux-x64 libasyncProfiler.so in $AP_JAR" >&2; exit 1; }

CP="trainer/target/test-classes:trainer/target/classes:common/target/classes:$AP_JAR:$(tr ':' '\n' \
  < "$OUT/classpath.deps" | grep -v '/baton-common/' | paste -sd:)"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
NATIVE_ENV="$(sed -n 's/^baton\.native\.env=//p' conf/jvm.properties)"
for kv in $NATIVE_ENV; do export "${kv?}"; done # what Baton's launcher gives training JVMs
MACHINE="machine: $(env -u OMP_NUM_THREADS nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | sed -n 1p), torch $("$PY" -c 'import torch; print(torch.__version__)'), async-profiler $AP_VERSION"

baton() { # tag threads cpus arch batch size steps
  local tag=$1 threads=$2 cpus=$3 arch=$4 batch=$5 size=$6 steps=$7
  [ "$ONLY" != torch ] || return 0
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$threads taskset -c "$cpus" java $FLAGS -Xmx3g -XX:+UseSerialGC -XX:ActiveProcessorCount="$threads" \
    -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -Dbench.profiler.lib="$AP_LIB" \
    -Dbench.profiler.start="start,event=$EVENT,interval=$INTERVAL_NS,cstack=$CSTACK$THREADS_OPT" \
    -Dbench.profiler.stop="stop,file=$OUT/$tag.baton.collapsed,collapsed,ann" \
    -cp "$CP" io.baton.trainer.bench.TrainingBench 0 1 - "$arch" "$batch" "$size" "$size" "$steps" "$WARMUP" \
    > "$OUT/$tag.baton.log" 2>&1
  grep -E '^(PROFILER|RESULT)' "$OUT/$tag.baton.log"
}
torch() { # tag threads cpus arch batch size steps
  local tag=$1 threads=$2 cpus=$3 arch=$4 batch=$5 size=$6 steps=$7
  [ "$ONLY" != baton ] || return 0
  OMP_NUM_THREADS=$threads taskset -c "$cpus" "$PY" bench/profile/torch_step.py "$arch" "$batch" "$size" "$threads" \
    "$WARMUP" "$steps" 3 "$OUT/$tag.torch.collapsed" > "$OUT/$tag.torch.log" 2>&1
  grep RESULT "$OUT/$tag.torch.log"
}

{
  echo "$MACHINE"
  echo "date: $(date -u '+%F %T UTC'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  baton r20 1 0 resnet20 64 32 "$R20_STEPS"
  torch r20 1 0 resnet20 64 32 "$R20_STEPS"
  baton r50 2 0,1 resnet50 16 128 "$R50_STEPS"
  torch r50 2 0,1 resnet50 16 128 "$R50_STEPS"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/summary.txt"

for tag in r20 r50; do
  b=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.baton.log" | cut -d= -f2)
  t=$(grep -o 'images_per_s=[0-9.]*' "$OUT/$tag.torch.log" | cut -d= -f2)
  echo "RATIO $tag baton_img_s=$b pytorch_img_s=$t baton/pytorch=$(awk -v b="$b" -v t="$t" 'BEGIN{printf "%.2f", b/t}')"
  echo "Baton $tag (async-profiler, warm steps):"
  steps="$R20_STEPS" && [ "$tag" = r20 ] || steps="$R50_STEPS"
  # shellcheck disable=SC2046
  "$PY" bench/profile/classify.py baton "$OUT/$tag.baton.collapsed" --top "${TOP:-0}" \
    $([ "${PER_THREAD:-0}" = 1 ] && echo --per-thread "$steps")
  echo "PyTorch $tag (torch.profiler, 3 warm steps):"
  "$PY" bench/profile/classify.py torch "$OUT/$tag.torch.collapsed" --top "${TOP:-0}"
done | tee -a "$OUT/summary.txt"
