#!/usr/bin/env bash
# The chaos runner (issue 23): an uninterrupted reference run of a short `baton train` (ResNet-20, 16x16 generated
# images, 24 steps, checkpoints every 3 steps) on local-cluster[2,1,1536] (each replica its own executor JVM), then
# TRIALS trials of the same run, each injecting faults drawn from Random(SEED * 1000003 + trial) at a random step and
# a random moment within the step (debug.fault-points), with a verdict per trial: final parameters and momentum
# byte-identical to the reference's. The shard trials train on `baton prepare`d shards of generated PNGs (their own
# reference run); the NameNode trials put the run directory on a MiniDFSCluster in its own JVM (MiniHdfs).
# Prints a markdown table; exits 1 unless every trial is identical.
# Usage (repo root): bench/chaos/run.sh TRIALS [SEED [FIRST_TRIAL|TRIAL,TRIAL... [FAULT,...]]]
#   FIRST_TRIAL: number of the first trial (to continue a seed's sequence in batches), or a list of trial numbers to
#   run just those (TRIALS is then ignored); FAULT: restrict the menu to
#   executor-kill, executor-stop, driver-kill, corrupt-checkpoint, full-disk, two-faults, during-recovery,
#   shard-byte-flip, namenode-restart (default: all of them).
# Env: CHAOS_WORK (default /tmp/baton-chaos-$SEED), SKIP_BUILD=1 to reuse the compiled classes.
# Needs root for the full-disk fault (mount -t tmpfs); on a shared machine wrap the whole run in the build lock.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
trials="${1:?usage: bench/chaos/run.sh TRIALS [SEED [FIRST_TRIAL [FAULT,...]]]}"
seed="${2:-1}"
first="${3:-1}"
faults="${4:-}"
work="${CHAOS_WORK:-/tmp/baton-chaos-$seed}"
cp_file="$root/coordinator/target/chaos-cp.txt"
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$cp_file" ]; then
  # One reactor invocation: the sibling modules resolve to their class directories, so nothing of Baton's has to be
  # installed in the local Maven repository (a fresh machine has none). Each module writes the file; coordinator's,
  # built last, is the one kept.
  mvn -B -o -q -pl coordinator -am test-compile dependency:build-classpath -Dmdep.outputFile="$cp_file" \
    -Dmdep.includeScope=test
fi
flags="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed -e 's/^baton\.jvm\.flags=//' -e 's/\\$//' | tr '\n' ' ')"
ext="$(sed -n 's:.*<nd4j.extension>\(.*\)</nd4j.extension>.*:\1:p' pom.xml | head -1)"
# Baton's own modules come from this tree's class directories, never from jars in the local Maven repository.
deps="$(tr ':' '\n' < "$cp_file" | grep -v '/io/baton/' | paste -sd: -)"
classes="$root/coordinator/target/test-classes:$root/coordinator/target/classes:$root/trainer/target/classes"
classes="$classes:$root/common/target/classes:$root/common/target/test-classes"
export SPARK_LOCAL_IP=127.0.0.1
echo "chaos: $(date -u +%FT%TZ), $(nproc) cores, $(uname -r), work $work"
# shellcheck disable=SC2086
exec java $flags -Xmx1g -Dorg.bytedeco.javacpp.platform.extension="$ext" \
  -Dorg.bytedeco.javacpp.cachedir="$HOME/.cache/baton/javacpp" -Dorg.eclipse.deeplearning4j.helpers.disable=false \
  -cp "$classes:$deps" \
  io.baton.coordinator.chaos.ChaosRunner "$work" "$trials" "$seed" "$first" ${faults:+"$faults"}
