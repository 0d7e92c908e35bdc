#!/usr/bin/env bash
# Issue 8: Baton next to DL4J's own Spark training masters on the same model, data, batches, initial weights and
# Spark. Systems: reference (one process, DL4J fit() on each combined global batch), baton (its CLI, in its own JVM and
# classpath), batontm (issue 20: the peers' SparkComputationGraph program with BatonTrainingMaster as its training
# master, bench/peers/batontm, on Baton's classpath), paramavg (ParameterAveragingTrainingMaster), shared
# (SharedTrainingMaster).
# Usage (repo root): bench/peers/run.sh [systems]   e.g. bench/peers/run.sh "reference baton batontm paramavg shared"
# Env: OUT=bench/peers/out TRAIN=1024 VAL=256 BATCH=64 EPOCHS=3 LR=0.1 SEED=7. Output: bench/peers/out/ (not committed).
#   Ends with each system's images/s over all epochs and batontm's and baton's ratios to shared and paramavg
#   (OUT/summary.txt; issue 20's target is batontm/shared).
#   CLUSTER=local (default): every system on local[2] in its own JVM.
#   CLUSTER=standalone: each Spark system on its own standalone Master + 2 one-core Workers on 127.0.0.1, started
#     with deploy/spark/local-cluster.sh before the system and stopped after it (also on exit): Baton's from the built
#     distribution (deploy/target/baton, port 7177), the peers' from a SPARK_HOME whose jars are the peers' classpath
#     (OUT/peers-home, port 7178) - the two classpaths (Aeron 1.51 vs 1.32) never share a JVM. EXECUTOR_MEMORY=2g.
#   SHARED_PORT=40123: SharedTrainingMaster's VoidConfiguration unicast port.
# Baton's per-epoch parameters and eval come from its epoch-end checkpoints (checkpoint.keep-last raised so all stay).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-$ROOT/bench/peers/out}"
SYSTEMS="${1:-reference baton paramavg shared}"
TRAIN="${TRAIN:-1024}" VAL="${VAL:-256}" BATCH="${BATCH:-64}" EPOCHS="${EPOCHS:-3}" LR="${LR:-0.1}" SEED="${SEED:-7}"
CLUSTER="${CLUSTER:-local}" EXECUTOR_MEMORY="${EXECUTOR_MEMORY:-2g}" SHARED_PORT="${SHARED_PORT:-40123}"
case "$CLUSTER" in local|standalone) ;; *) echo "CLUSTER must be local or standalone" >&2; exit 2 ;; esac
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"

# Two separate classpaths: Baton's (Aeron 1.51) and the peers' (dl4j-spark-parameterserver M2 -> Aeron 1.32).
if [ "$CLUSTER" = standalone ]; then # the workers' executor class path is the distribution's lib/
  mvn -B -q -o -pl deploy -am package -DskipTests
fi
# -am test-compile in the same invocation: Baton's own modules (and the test-jars coordinator's test scope lists)
# resolve from the reactor's target/ folders, so this works without any baton-* artifact installed in ~/.m2 (each
# module writes the file; coordinator's, the last, stays). Test classes are filtered out of BATON_CP below.
mvn -B -q -o -pl coordinator -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$OUT/baton.cp" > "$OUT/mvn-baton.log" || { cat "$OUT/mvn-baton.log"; exit 1; }
mvn -B -q -o -f bench/peers/pom.xml package -DskipTests
mvn -B -q -o -f bench/peers/pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$OUT/peers.cp" > "$OUT/mvn-peers.log" || { cat "$OUT/mvn-peers.log"; exit 1; }
# Baton's own modules come from this tree's target/classes only: the baton-* SNAPSHOT jars in ~/.m2 that
# build-classpath lists are whatever was last installed (by anyone), and their baton-reference.conf would be merged in.
BATON_CP="coordinator/target/classes:trainer/target/classes:common/target/classes:$(tr ':' '\n' < "$OUT/baton.cp" |
  grep -v '/io/baton/baton-' | grep -v '/target/test-classes$' | paste -sd: -)"
PEERS_CP="bench/peers/target/baton-bench-peers-0.1.0-SNAPSHOT.jar:$(cat "$OUT/peers.cp")"
# batontm: BatonTmBench plus the harness's shared PeerCommon, compiled against Baton's classpath (no parameterserver).
if [[ " $SYSTEMS " == *" batontm "* ]]; then
  rm -rf "$OUT/batontm-classes"
  javac --release 17 -nowarn -d "$OUT/batontm-classes" -cp "$BATON_CP" \
    bench/peers/src/main/java/io/baton/bench/peers/PeerCommon.java \
    bench/peers/batontm/src/main/java/io/baton/bench/peers/BatonTmBench.java
fi
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
ND4J="-Dorg.bytedeco.javacpp.platform.extension=-onednn-avx512 -Dorg.eclipse.deeplearning4j.helpers.disable=false"
ND4J="$ND4J -Dorg.bytedeco.javacpp.cachedir=$HOME/.cache/baton/javacpp"
export SPARK_LOCAL_IP=127.0.0.1
# nproc itself honours OMP_NUM_THREADS, so count the cores without it and report the variable separately.
MACHINE="machine: $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) cores, OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | sed -n 1p)"

BATON_SETS=(--set model.arch=resnet20 --set data.image-size=32 --set data.synthetic-classes=10
  --set data.synthetic-samples="$TRAIN" --set data.synthetic-val-samples="$VAL" --set train.global-batch="$BATCH"
  --set train.epochs="$EPOCHS" --set train.seed="$SEED" --set train.replicas=2 --set model.syncbn=true
  --set model.zero-init-last-bn-gamma=false --set optim.base-lr="$LR" --set optim.base-batch="$BATCH"
  --set optim.momentum=0 --set optim.nesterov=false --set optim.weight-decay=0 --set optim.warmup-epochs=0
  --set optim.schedule=constant --set optim.label-smoothing=0 --set optim.max-grad-norm=0 --set optim.lars=false
  --set health.every=0)
INIT_KEYS=()
for ((i = 1; i < ${#BATON_SETS[@]}; i += 2)); do INIT_KEYS+=("${BATON_SETS[$i]}"); done

# shellcheck disable=SC2086
java $FLAGS $ND4J -cp "$BATON_CP" bench/peers/BatonParams.java init "$OUT/baton.init.bin" conf/demo.conf \
  "${INIT_KEYS[@]}" 2>&1 | grep BatonParams

echo "$MACHINE" | tee "$OUT/machine.txt"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
echo "cluster: $CLUSTER" | tee -a "$OUT/machine.txt"
CLUSTER_UP=""
cluster() { # start|stop name [home port]
  if [ "$1" = start ]; then
    CLUSTER_UP="$2"
    BATON_HOME="$3" BATON_SPARK_STATE="$OUT/cluster-$2" BATON_SPARK_PORT="$4" BATON_WORKER_MEMORY=3g \
      deploy/spark/local-cluster.sh start 2 9>&- # daemons must not inherit the lock
  elif [ -n "$CLUSTER_UP" ]; then
    BATON_SPARK_STATE="$OUT/cluster-$CLUSTER_UP" BATON_HOME="$ROOT/deploy/target/baton" deploy/spark/local-cluster.sh stop 9>&-
    CLUSTER_UP=""
  fi
}
trap 'cluster stop' EXIT
peers_home() { # SPARK_HOME-style folder for the peers' cluster: lib/ = every jar of the peers' classpath
  rm -rf "$OUT/peers-home"
  mkdir -p "$OUT/peers-home/lib" "$OUT/peers-home/conf"
  cp conf/jvm.properties "$OUT/peers-home/conf/"
  local jar
  for jar in $(tr ':' ' ' < "$OUT/peers.cp") "$ROOT/bench/peers/target/baton-bench-peers-0.1.0-SNAPSHOT.jar"; do
    ln -sfn "$jar" "$OUT/peers-home/lib/$(basename "$jar")"
  done
}
peer() { # system [extra JVM flags...]
  local system=$1; shift
  local master='local[2]' spark=()
  if [ "$CLUSTER" = standalone ]; then
    peers_home
    cluster start peers "$OUT/peers-home" 7178
    master=spark://127.0.0.1:7178
    # Executors: same JVM/ND4J flags as the driver, one ND4J thread each (one core per worker), the harness jar shipped.
    spark=("-Dspark.jars=$ROOT/bench/peers/target/baton-bench-peers-0.1.0-SNAPSHOT.jar"
      "-Dspark.executor.memory=$EXECUTOR_MEMORY" -Dspark.executorEnv.OMP_NUM_THREADS=1
      "-Dspark.executor.extraJavaOptions=$FLAGS $ND4J $*")
  fi
  # shellcheck disable=SC2086
  timeout 900 java $FLAGS $ND4J -Xmx4g "$@" "${spark[@]}" -Dpeers.shared.port="$SHARED_PORT" -cp "$PEERS_CP" \
    io.baton.bench.peers.PeerBench "$system" "$OUT" "$master" "$TRAIN" "$VAL" "$BATCH" "$EPOCHS" "$LR" "$SEED" \
    "$OUT/baton.init.bin" > "$OUT/$system.log" 2>&1 || echo "$system exited with $?" | tee -a "$OUT/$system.log"
  grep -E '^(INIT|EPOCH)' "$OUT/$system.log" || tail -30 "$OUT/$system.log"
  if [ "$CLUSTER" = standalone ]; then
    cp -r "$OUT/cluster-peers/work" "$OUT/$system.executors" 2>/dev/null || true
    cluster stop
  fi
}
for system in $SYSTEMS; do
  case "$system" in
    reference) peer reference ;;
    paramavg) OMP_NUM_THREADS=1 peer paramavg ;;
    shared) OMP_NUM_THREADS=1 peer shared -Daeron.publication.unblock.timeout=60000000000 ;;
    baton)
      rm -rf "$OUT/baton-run"
      master=()
      if [ "$CLUSTER" = standalone ]; then
        cluster start baton "$ROOT/deploy/target/baton" 7177
        master=(--master spark://127.0.0.1:7177)
      fi
      start=$(date +%s.%N)
      # shellcheck disable=SC2086
      timeout 900 java $FLAGS $ND4J -Xmx4g -Dspark.executor.memory="$EXECUTOR_MEMORY" -cp "$BATON_CP" \
        io.baton.coordinator.cli.BatonCli train -c conf/demo.conf "${BATON_SETS[@]}" --set checkpoint.keep-last=1000 \
        "${master[@]}" --run-dir "$OUT/baton-run" > "$OUT/baton.log" 2>&1 || echo "baton exited with $?"
      echo "baton wall seconds (JVM start to exit): $(echo "$(date +%s.%N) - $start" | bc)"
      if [ "$CLUSTER" = standalone ]; then
        cp -r "$OUT/cluster-baton/work" "$OUT/baton.executors" 2>/dev/null || true
        cluster stop
      fi
      # shellcheck disable=SC2086
      java $FLAGS $ND4J -cp "$BATON_CP" bench/peers/BatonParams.java zip "$OUT/baton-run/model.zip" \
        "$OUT/baton.final.bin" 2>&1 | grep BatonParams
      # Parameters and eval after each epoch: the checkpoint Baton writes at every epoch end (ckpt-<steps so far>).
      for ((e = 1; e <= EPOCHS; e++)); do
        # shellcheck disable=SC2086
        java $FLAGS $ND4J -cp "$BATON_CP" bench/peers/BatonParams.java ckpt \
          "$OUT/baton-run/checkpoints/ckpt-$((e * (TRAIN / BATCH)))" "$OUT/baton.e$e.bin" "$TRAIN" "$VAL" "$SEED" \
          2>&1 | grep BatonParams | tee "$OUT/baton.e$e.eval"
      done
      python3 - "$OUT" "$EPOCHS" "$BATCH" > "$OUT/baton.epochs" <<'PY'
import json, re, struct, sys, math
out, epochs, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [json.loads(l) for l in open(out + "/baton-run/metrics.jsonl") if l.strip()]
steps = [r for r in rows if "loss" in r]
per = len(steps) // epochs
summary = json.load(open(out + "/baton-run/summary.json"))
def params(p):
    b = open(p, "rb").read(); n = struct.unpack(">i", b[:4])[0]
    return struct.unpack(">%df" % n, b[4:4 + 4 * n])
for e in range(epochs):
    chunk = steps[e * per:(e + 1) * per]
    ms = sum(r.get("step_ms", 0) for r in chunk)
    line = "EPOCH system=baton epoch=%d images_per_sec=%.1f train_loss=%.4f" % (
        e + 1, len(chunk) * batch / (ms / 1000.0), sum(r["loss"] for r in chunk) / len(chunk))
    ev = re.search(r"eval_top1=\S+ eval_loss=\S+", open(out + "/baton.e%d.eval" % (e + 1)).read())
    line += " " + (ev.group(0) if ev else "eval=n/a")
    try:
        a, r = params(out + "/baton.e%d.bin" % (e + 1)), params(out + "/reference.e%d.bin" % (e + 1))
        line += " param_rel_l2_vs_reference=%.3e" % math.sqrt(
            sum((x - y) ** 2 for x, y in zip(a, r)) / sum(y * y for y in r))
    except FileNotFoundError:
        line += " param_rel_l2_vs_reference=n/a"
    if e + 1 == epochs:
        f, a = params(out + "/baton.final.bin"), params(out + "/baton.e%d.bin" % epochs)
        line += " max_abs_diff_model_zip_vs_last_checkpoint=%.3g summary=%s" % (
            max(abs(x - y) for x, y in zip(f, a)), json.dumps(summary, sort_keys=True))
    print(line)
PY
      cat "$OUT/baton.epochs"
      ;;
    batontm)
      rm -rf "$OUT/batontm-run"
      master='local[2]'
      if [ "$CLUSTER" = standalone ]; then
        cluster start batontm "$ROOT/deploy/target/baton" 7177
        master=spark://127.0.0.1:7177
      fi
      # shellcheck disable=SC2086
      timeout 900 java $FLAGS $ND4J -Xmx4g -Dspark.executor.memory="$EXECUTOR_MEMORY" \
        -cp "$OUT/batontm-classes:$BATON_CP" io.baton.bench.peers.BatonTmBench batontm "$OUT" "$master" "$TRAIN" \
        "$VAL" "$BATCH" "$EPOCHS" "$LR" "$SEED" "$OUT/baton.init.bin" > "$OUT/batontm.log" 2>&1 ||
        echo "batontm exited with $?" | tee -a "$OUT/batontm.log"
      grep -E '^(INIT|EPOCH|DL4J-EVALUATE)' "$OUT/batontm.log" || tail -30 "$OUT/batontm.log"
      if [ "$CLUSTER" = standalone ]; then
        cp -r "$OUT/cluster-batontm/work" "$OUT/batontm.executors" 2>/dev/null || true
        cluster stop
      fi
      ;;
    *) echo "unknown system $system" >&2; exit 2 ;;
  esac
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
# Over all epochs: every epoch has TRAIN images, so a system's rate is EPOCHS over the sum of 1 / (its epoch rates),
# i.e. all its images over its summed epoch times (fit wall time for the Spark systems, step time for the baton CLI).
python3 - "$OUT" $SYSTEMS <<'PY' | tee "$OUT/summary.txt"
import re, sys
out, systems = sys.argv[1], sys.argv[2:]
rate = {}
for s in systems:
    try:
        text = open("%s/%s" % (out, "baton.epochs" if s == "baton" else s + ".log")).read()
    except FileNotFoundError:
        continue
    ips = [float(x) for x in re.findall(r"^EPOCH system=%s epoch=\d+ images_per_sec=([\d.]+)" % s, text, re.M)]
    if ips:
        rate[s] = len(ips) / sum(1 / x for x in ips)
        print("OVERALL system=%s epochs=%d images_per_sec=%.1f" % (s, len(ips), rate[s]))
for a in ("batontm", "baton"):
    for b in ("shared", "paramavg"):
        if a in rate and b in rate:
            print("RATIO %s/%s over all epochs = %.2fx" % (a, b, rate[a] / rate[b]))
PY
