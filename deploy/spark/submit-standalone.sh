#!/usr/bin/env bash
# spark-submit template: Baton training on a Spark standalone cluster, one replica per task, optionally one GPU each.
#   MASTER=spark://host:7077 GPUS_PER_TASK=1 deploy/spark/submit-standalone.sh train -c job.conf [--set k=v ...]
# Every node must hold the distribution at the same BATON_HOME (class path lib/*); workers offering GPUs need
#   SPARK_WORKER_OPTS="-Dspark.worker.resource.gpu.amount=<n> -Dspark.worker.resource.gpu.discoveryScript=$BATON_HOME/spark/gpu-discovery.sh"
# Baton's driver creates the Spark context itself: cluster.master is set to MASTER so both agree.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
: "${MASTER:?set MASTER, e.g. spark://127.0.0.1:7077}"
GPUS_PER_TASK="${GPUS_PER_TASK:-0}"
gpu_conf=()
if [ "$GPUS_PER_TASK" != "0" ]; then
  gpu_conf=(--conf spark.executor.resource.gpu.amount="${GPUS_PER_EXECUTOR:-1}"
            --conf spark.task.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.discoveryScript="$BATON_HOME/spark/gpu-discovery.sh")
fi
exec "$SPARK_SUBMIT" \
  --master "$MASTER" \
  --deploy-mode client \
  --class "$BATON_CLASS" \
  --jars "$BATON_CLUSTER_JARS" \
  --driver-java-options "$BATON_JVM_FLAGS -Dbaton.home=$BATON_HOME" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-1}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-1}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-8g}" \
  "${gpu_conf[@]}" \
  "$BATON_CLUSTER_JAR" "$@" --set cluster.master="$MASTER" --set cluster.gpus-per-task="$GPUS_PER_TASK"
