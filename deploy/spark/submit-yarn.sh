#!/usr/bin/env bash
# spark-submit template: Baton training on YARN (client mode: the Baton driver prints progress and writes the run).
#   GPUS_PER_TASK=1 REPLICAS=8 deploy/spark/submit-yarn.sh train -c job.conf [--set k=v ...]
# The distribution is shipped as an archive (BATON_ARCHIVE, a .tgz of bin/ lib/ conf/ spark/) and unpacked as ./baton
# in every container. GPU scheduling needs YARN 3.1+ with the yarn.io/gpu resource type; Spark maps it to "gpu".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
: "${BATON_ARCHIVE:?set BATON_ARCHIVE to a .tgz of the distribution (tar czf baton.tgz -C \$BATON_HOME .)}"
REPLICAS="${REPLICAS:-2}"
GPUS_PER_TASK="${GPUS_PER_TASK:-0}"
gpu_conf=()
if [ "$GPUS_PER_TASK" != "0" ]; then
  gpu_conf=(--conf spark.executor.resource.gpu.amount=1
            --conf spark.task.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.discoveryScript=./baton/spark/gpu-discovery.sh)
fi
exec "$SPARK_SUBMIT" \
  --master yarn \
  --deploy-mode client \
  --class "$BATON_CLASS" \
  --archives "$BATON_ARCHIVE#baton" \
  --driver-java-options "$BATON_JVM_FLAGS -Dbaton.home=$BATON_HOME" \
  --conf spark.driver.extraClassPath="$BATON_HOME/lib/*" \
  --conf spark.executor.extraClassPath="./baton/lib/*" \
  --conf spark.executor.extraJavaOptions="$BATON_JVM_FLAGS" \
  --conf spark.executor.instances="$REPLICAS" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-4}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-4}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-16g}" \
  --conf spark.dynamicAllocation.enabled=false \
  "${gpu_conf[@]}" \
  "$BATON_APP_JAR" "$@" --set cluster.master=yarn --set train.replicas="$REPLICAS" \
  --set cluster.gpus-per-task="$GPUS_PER_TASK"
