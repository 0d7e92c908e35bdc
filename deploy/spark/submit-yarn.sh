#!/usr/bin/env bash
# spark-submit template: Baton training on YARN with the cluster's own Spark and Hadoop (app/ jars only).
#   DEPLOY_MODE=client|cluster GPUS_PER_TASK=1 REPLICAS=8 deploy/spark/submit-yarn.sh train -c job.conf [--set k=v ...]
# client (default): the Baton driver runs here and prints progress. cluster: the driver runs in the ApplicationMaster's
# container and its output is that container's log (yarn logs -applicationId ...); a local -c FILE is shipped with
# --files and read there, and run.dir / data.path must be on a shared file system (hdfs://, s3a://). Baton adds its
# JVM flags to the executors' own options when it starts; the driver (cluster) or the ApplicationMaster (client) gets
# them here. One ApplicationMaster attempt: Baton restarts failed stages itself, and a second driver attempt would
# find the run locked by the first. GPU scheduling needs YARN 3.1+ (yarn.io/gpu).
# Optional: QUEUE (spark.yarn.queue), EXECUTOR_CORES (4), EXECUTOR_MEMORY (16g), DRIVER_MEMORY (4g, cluster mode).
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
queue_conf=()
if [ -n "${QUEUE:-}" ]; then queue_conf=(--queue "$QUEUE"); fi
args=("$@")
mode_conf=(--driver-java-options "$BATON_JVM_FLAGS" --conf spark.yarn.am.extraJavaOptions="$BATON_JVM_FLAGS")
if [ "$DEPLOY_MODE" = "cluster" ]; then
  mode_conf=(--conf spark.driver.extraJavaOptions="$BATON_JVM_FLAGS"
             --conf spark.driver.memory="${DRIVER_MEMORY:-4g}"
             --conf spark.yarn.maxAppAttempts=1)
  # A job configuration on this machine: ship it into the driver's container and name it there.
  for i in "${!args[@]}"; do
    if { [ "${args[$i]}" = "-c" ] || [ "${args[$i]}" = "--config" ]; } && [ $((i + 1)) -lt ${#args[@]} ] \
       && [ -f "${args[$((i + 1))]}" ]; then
      mode_conf+=(--files "${args[$((i + 1))]}")
      args[$((i + 1))]="$(basename "${args[$((i + 1))]}")"
    fi
  done
fi
exec "$SPARK_SUBMIT" \
  --master yarn \
  --deploy-mode "$DEPLOY_MODE" \
  --class "$BATON_CLASS" \
  --jars "$BATON_CLUSTER_JARS" \
  "${queue_conf[@]}" \
  "${mode_conf[@]}" \
  --conf spark.executor.instances="$REPLICAS" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-4}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-4}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-16g}" \
  --conf spark.dynamicAllocation.enabled=false \
  "${gpu_conf[@]}" \
  "$BATON_CLUSTER_JAR" "${args[@]}" --set cluster.master=yarn --set train.replicas="$REPLICAS" \
  --set cluster.gpus-per-task="$GPUS_PER_TASK"
