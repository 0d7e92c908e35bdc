#!/usr/bin/env bash
# Issue 25: Baton's replica compute against PyTorch's on the same CPU, both frameworks in one run, interleaved round by
# round so that both meet the same host speed. Three settings (issue 25's table):
#   r20x2  CIFAR ResNet-20, 32x32, 2 replicas x 64, one thread each, pinned to cores 0 and 1: Baton (2 JVMs,
#          TrainingBench: SyncBatchNorm over Aeron UDP, flat-gradient all-reduce, Baton's SGD) vs PyTorch DDP (gloo)
#   r50    ResNet-50, 128x128, batch 16, one process with 2 threads (cores 0-1): TrainingBench vs torch_step.py
#   r152   ResNet-152, 224x224, batch 8, one process with 2 threads, a few steps (only with R152=1: ~minutes)
# Baton runs as the replica does (TrainingRecipe's layers: model.fast-layers; BENCH_LAYERS=dl4j for DL4J's own).
# AB=1 also runs Baton with DL4J's own layers (model.fast-layers = false) in every round: Baton's layers' gain, same run;
#   AB_LAYERS=replica-dl4j makes that variant Baton's layers with DL4J's convolution helper (model.conv-engine = dl4j);
#   AB_LAYERS=replica-unfused Baton's layers without the ReLUs folded into SyncBatchNorm and the residual adds;
#   AB_LAYERS=replica with AB_ROOT=<checkout> runs that variant from another checkout's built classes (e.g. a git worktree
#   at an earlier commit, after `mvn -o -q -pl trainer -am test-compile` there): before/after a change in one run.
# AB_ENV="K=V ..." also runs Baton with that environment added (e.g. glibc malloc or OpenMP settings), same rounds.
# Usage (repo root): bench/compute/run.sh [rounds]      Output: bench/compute/out/ (not committed).
# Env: R20_STEPS=40 R20_WARMUP=200 R50_STEPS=8 R50_WARMUP=30 R152=0 R152_STEPS=3 R152_WARMUP=10 LOCK=/tmp/baton-build.lock (held for the whole run, bench/lib/lock.sh)
#   Both frameworks get the same warm-up steps. Baton's JVM is still compiling its code after tens of steps (at 40
#   ResNet-20 steps its JIT took ~22 ms of CPU per step on the replica's one core), so the defaults measure the steady
#   state a training run spends its time in (docs/BENCHMARKS.md, "Warm-up and the JIT").
# Installs what it needs: Debian python3-torch python3-torchvision (apt-get) if missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/compute/out"
ROUNDS="${1:-3}"
R20_STEPS="${R20_STEPS:-40}" R20_WARMUP="${R20_WARMUP:-200}" R50_STEPS="${R50_STEPS:-8}" R50_WARMUP="${R50_WARMUP:-30}"
R152_STEPS="${R152_STEPS:-3}" R152_WARMUP="${R152_WARMUP:-10}"
PY=/usr/bin/python3
mkdir -p "$OUT"
cd "$ROOT"
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  apt-get install -y python3-torch python3-torchvision > "$OUT/apt.log"
fi
bash -c "mvn -B -q -o -pl trainer -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile='$OUT/classpath.deps' >/dev/null"
DEPS="$(tr ':' '\n' < "$OUT/classpath.deps" | grep -v '/baton-common/' | paste -sd:)"
CP="trainer/target/test-classes:trainer/target/classes:common/target/classes:$DEPS"
AB_CP="$CP"
if [ -n "${AB_ROOT:-}" ]; then
  AB_CP="$AB_ROOT/trainer/target/test-classes:$AB_ROOT/trainer/target/classes:$AB_ROOT/common/target/classes:$DEPS"
  MACHINE_AB=", A/B variant from $AB_ROOT at commit $(git -C "$AB_ROOT" rev-parse --short HEAD)"
fi
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
for kv in $(sed -n 's/^baton\.native\.env=//p' conf/jvm.properties); do export "${kv?}"; done
MACHINE="machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | sed -n 1p), torch $("$PY" -c 'import torch; print(torch.__version__)'), commit $(git rev-parse --short HEAD)"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

baton() { # log threads cpus rank world ports arch batch size steps warmup
  local log=$1 threads=$2 cpus=$3 layers=${LAYERS:-${BENCH_LAYERS:-replica}} cp=${USE_CP:-$CP}; shift 3
  # shellcheck disable=SC2086
  env ${EXTRA_ENV:-} OMP_NUM_THREADS=$threads taskset -c "$cpus" java $FLAGS -Xmx3g -XX:+UseSerialGC -XX:ActiveProcessorCount="$threads" \
    -Dbench.layers="$layers" -cp "$cp" io.baton.trainer.bench.TrainingBench "$1" "$2" "$3" "$4" "$5" "$6" \
    "$6" "$7" "$8" > "$log" 2>&1
}
rate() { grep -o 'images_per_s=[0-9.]*' "$1" | cut -d= -f2; }

r20x2() { # round
  local base p1 variant LAYERS EXTRA_ENV USE_CP
  for variant in baton ${AB:+dl4j} ${AB_ENV:+env}; do
    base=$((43000 + RANDOM % 2000))
    [ "$variant" = dl4j ] && LAYERS=${AB_LAYERS:-dl4j} || LAYERS=
    [ "$variant" = dl4j ] && USE_CP=$AB_CP || USE_CP=$CP
    [ "$variant" = env ] && EXTRA_ENV=$AB_ENV || EXTRA_ENV=
    USE_CP=$USE_CP LAYERS=$LAYERS EXTRA_ENV=$EXTRA_ENV baton "$OUT/r20x2.$1.$variant.rank1.log" 1 1 1 2 "$base,$((base + 1))" \
      resnet20 64 32 "$R20_STEPS" "$R20_WARMUP" &
    p1=$!; pids+=($p1)
    USE_CP=$USE_CP LAYERS=$LAYERS EXTRA_ENV=$EXTRA_ENV baton "$OUT/r20x2.$1.$variant.log" 1 0 0 2 "$base,$((base + 1))" \
      resnet20 64 32 "$R20_STEPS" "$R20_WARMUP"
    wait "$p1"
  done
  local port=$((45000 + RANDOM % 2000))
  OMP_NUM_THREADS=1 taskset -c 1 "$PY" bench/compute/torch_ddp.py 1 2 "$port" resnet20 64 32 1 "$R20_WARMUP" \
    "$R20_STEPS" > "$OUT/r20x2.$1.torch.rank1.log" 2>&1 &
  p1=$!; pids+=($p1)
  OMP_NUM_THREADS=1 taskset -c 0 "$PY" bench/compute/torch_ddp.py 0 2 "$port" resnet20 64 32 1 "$R20_WARMUP" \
    "$R20_STEPS" > "$OUT/r20x2.$1.torch.log" 2>&1
  wait "$p1"
}
single() { # tag round arch batch size steps warmup
  local tag=$1 round=$2 arch=$3 batch=$4 size=$5 steps=$6 warmup=$7
  LAYERS= EXTRA_ENV= baton "$OUT/$tag.$round.baton.log" 2 0,1 0 1 - "$arch" "$batch" "$size" "$steps" "$warmup"
  if [ -n "${AB:-}" ]; then
    USE_CP=$AB_CP LAYERS=${AB_LAYERS:-dl4j} baton "$OUT/$tag.$round.dl4j.log" 2 0,1 0 1 - "$arch" "$batch" "$size" "$steps" "$warmup"
  fi
  if [ -n "${AB_ENV:-}" ]; then
    EXTRA_ENV=$AB_ENV baton "$OUT/$tag.$round.env.log" 2 0,1 0 1 - "$arch" "$batch" "$size" "$steps" "$warmup"
  fi
  OMP_NUM_THREADS=2 taskset -c 0,1 "$PY" bench/profile/torch_step.py "$arch" "$batch" "$size" 2 "$warmup" "$steps" 0 \
    /dev/null > "$OUT/$tag.$round.torch.log" 2>&1
}
report() { # tag round
  local b t
  b=$(rate "$OUT/$1.$2.baton.log"); t=$(rate "$OUT/$1.$2.torch.log")
  echo "$1 round $2: baton_img_s=$b pytorch_img_s=$t baton/pytorch=$(awk -v b="$b" -v t="$t" 'BEGIN{printf "%.2f", b/t}')"
  if [ -n "${AB:-}" ]; then
    local d; d=$(rate "$OUT/$1.$2.dl4j.log")
    echo "$1 round $2: baton_with_dl4j_layers_img_s=$d baton/that=$(awk -v b="$b" -v d="$d" 'BEGIN{printf "%.2f", b/d}') that/pytorch=$(awk -v d="$d" -v t="$t" 'BEGIN{printf "%.2f", d/t}')"
  fi
  if [ -n "${AB_ENV:-}" ]; then
    local e; e=$(rate "$OUT/$1.$2.env.log")
    echo "$1 round $2: baton_with_env_img_s=$e that/baton=$(awk -v b="$b" -v e="$e" 'BEGIN{printf "%.2f", e/b}') that/pytorch=$(awk -v e="$e" -v t="$t" 'BEGIN{printf "%.2f", e/t}') env: $AB_ENV"
  fi
}

{
  echo "$MACHINE${MACHINE_AB:-}"
  echo "date: $(date -u '+%F %T UTC'), load before: $(cut -d' ' -f1-3 /proc/loadavg), baton layers: ${BENCH_LAYERS:-replica}, R20_WARMUP=$R20_WARMUP R20_STEPS=$R20_STEPS R50_WARMUP=$R50_WARMUP R50_STEPS=$R50_STEPS$([ "${R152:-0}" != 1 ] || echo " R152_WARMUP=$R152_WARMUP R152_STEPS=$R152_STEPS")"
  for round in $(seq 1 "$ROUNDS"); do
    r20x2 "$round"; report r20x2 "$round"
    single r50 "$round" resnet50 16 128 "$R50_STEPS" "$R50_WARMUP"; report r50 "$round"
    if [ "${R152:-0}" = 1 ]; then
      single r152 "$round" resnet152 8 224 "$R152_STEPS" "$R152_WARMUP"; report r152 "$round"
    fi
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/summary.txt"
