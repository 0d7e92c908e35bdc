#!/usr/bin/env bash
# Effect of collective.compression on a short synchronous training run: 2 replicas (TrainingBench, UDP on 127.0.0.1,
# one core each), the same model, seeds and data, once per setting in COMPRESSIONS (default "none none fp16 bf16":
# the repeated none measures run-to-run noise, the floor every other distance must be read against). Prints rank 0's
# loss after each step and the distance of each run's final parameters from the first run's.
# Usage (repo root): bench/training/compression.sh [steps [arch:batch:size]]   Output: bench/training/out/compression-*
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/training/out"
STEPS="${1:-30}"
MODEL="${2:-resnet20:32:32}"
COMPRESSIONS="${COMPRESSIONS:-none none fp16 bf16}"
IFS=: read -r ARCH BATCH SIZE <<< "$MODEL"
cd "$ROOT"
# shellcheck source=bench/training/setup.sh
source bench/training/setup.sh
apply_native_env
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
i=0
files=()
for compression in $COMPRESSIONS; do
  i=$((i + 1))
  base=$((43000 + RANDOM % 2000)); ports="$base,$((base + 1))"
  tag="compression-$i-$compression"
  for r in 1 0; do
    taskset -c "$r" "${JAVA[@]}" -Dbench.compression="${compression^^}" -Dbench.paramsOut="$OUT/$tag.params" \
      io.baton.trainer.bench.TrainingBench "$r" 2 "$ports" "$ARCH" "$BATCH" "$SIZE" "$SIZE" "$STEPS" 0 \
      > "$OUT/$tag.rank$r.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"; pids=()
  echo "$tag: $(grep -o 'LOSSES.*' "$OUT/$tag.rank0.txt")"
  files+=("$OUT/$tag.params")
done
python3 - "${files[@]}" <<'PY'
import array, math, sys
def load(path):
    a = array.array('f'); a.frombytes(open(path, 'rb').read()); return a
ref = load(sys.argv[1]); norm = math.sqrt(sum(v * v for v in ref))
print("parameters: %d, |p| of the first run %.6g" % (len(ref), norm))
for path in sys.argv[2:]:
    p = load(path)
    d = [a - b for a, b in zip(p, ref)]
    l2 = math.sqrt(sum(v * v for v in d))
    print("%-40s |p - p_first| = %.6g (relative %.3g), max |diff| = %.3g" % (path.rsplit('/', 1)[1], l2, l2 / norm,
          max(abs(v) for v in d)))
PY
