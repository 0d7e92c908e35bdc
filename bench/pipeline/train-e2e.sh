#!/usr/bin/env bash
# Benchmark (issue 5): end-to-end images/s of `baton train` (ResNet-20, 32x32, 2 replicas, local Spark) reading
# prepared JPEG shards through the image pipeline, vs the same trainer fed from memory (generated images, no
# decoding), same model, batch and steps, same run. Reports per-step medians from each run's metrics.jsonl.
# Usage: bench/pipeline/train-e2e.sh [work dir] [epochs]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/baton-e2e}"
epochs="${2:-2}"
baton="$root/deploy/bin/baton"
mkdir -p "$work"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# 1. the demo's images and shards (10 classes x 96 train + 24 val, 40x40 JPEG q90)
"$baton" demo --out "$work/demo" --set train.epochs=1 --set optim.decay-epochs=[] --set optim.warmup-epochs=0 > "$work/demo.log"
common=(-c "$root/conf/demo.conf" --set "train.epochs=$epochs" --set "optim.decay-epochs=[]" --set progress.interval=30s)
# 2. from shards through the pipeline
"$baton" train "${common[@]}" --data "$work/demo/prepared" --run-dir "$work/shards" > "$work/shards.log"
# 3. from memory: generated images of the same size and count, no decode
"$baton" train "${common[@]}" --set data.path=null --set data.synthetic-samples=960 --set data.synthetic-val-samples=240 \
  --run-dir "$work/memory" > "$work/memory.log"
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def stats(name):
    rows = [json.loads(l) for l in open(f"{work}/{name}/metrics.jsonl")][3:]   # skip warm-up steps
    return (statistics.median(r["images_per_sec"] for r in rows), statistics.median(r["step_ms"] for r in rows),
            statistics.median(r["data_wait_ms"] for r in rows), len(rows))
s, m = stats("shards"), stats("memory")
print("| input | steps | median images/s | median step ms | median data wait ms | data wait / step |")
print("|---|---|---|---|---|---|")
for name, (ips, step, wait, n) in (("prepared JPEG shards (pipeline)", s), ("generated, in memory", m)):
    print(f"| {name} | {n} | {ips:.1f} | {step:.1f} | {wait:.1f} | {100*wait/step:.1f}% |")
print(f"\npipeline cost: shards images/s = {s[0]/m[0]:.3f} x in-memory images/s; "
      f"data wait = {100*s[2]/s[1]:.1f}% of the step")
PY
