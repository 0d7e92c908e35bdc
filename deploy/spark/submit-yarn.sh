#!/usr/bin/env bash
# spark-submit template: Baton training on YARN with the cluster's own Spark and Hadoop (app/ jars only).
#   DEPLOY_MODE=client|cluster GPUS_PER_TASK=1 REPLICAS=8 deploy/spark/submit-yarn.sh train -c job.conf [--set k=v ...]
# client (default): the Baton driver runs here and prints progress. cluster: the driver runs in a YARN container; the
# job configuration (-c) must then be a file the driver can read (ship it with --files, or give its keys with --set),
# and run.dir / data.path must be on a shared file system (hdfs://, s3a://). Baton adds its JVM flags to the
# executors' own options when it starts; the driver gets them here. GPU scheduling needs YARN 3.1+ (yarn.io/gpu).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
DEPLOY_MODE="${DEPLOY_MODE:-client}"
REPLICAS="${REPLICAS:-2}"
GPUS_PER_TASK="${GPUS_PER_TASK:-0}"
gpu_conf=()
if [ "$GPUS_PER_TASK" != "0" ]; then
  gpu_conf=(--conf spark.executor.resource.gpu.amount=1
            --conf spark.task.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.discoveryScript="$BATON_HOME/spark/gpu-discovery.sh")
fi
driver_conf=(--driver-java-options "$BATON_JVM_FLAGS")
if [ "$DEPLOY_MODE" = "cluster" ]; then
  driver_conf=(--conf spark.driver.extraJavaOptions="$BATON_JVM_FLAGS")
fi
exec "$SPARK_SUBMIT" \
  --master yarn \
  --deploy-mode "$DEPLOY_MODE" \
  --class "$BATON_CLASS" \
  --jars "$BATON_CLUSTER_JARS" \
  "${driver_conf[@]}" \
  --conf spark.executor.instances="$REPLICAS" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-4}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-4}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-16g}" \
  --conf spark.dynamicAllocation.enabled=false \
  "${gpu_conf[@]}" \
  "$BATON_CLUSTER_JAR" "$@" --set cluster.master=yarn --set train.replicas="$REPLICAS" \
  --set cluster.gpus-per-task="$GPUS_PER_TASK"
