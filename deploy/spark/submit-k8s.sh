#!/usr/bin/env bash
# spark-submit template: Baton training on Kubernetes (client mode from a pod or host that executors can reach).
#   K8S_MASTER=k8s://https://api:6443 IMAGE=registry/baton:0.1 GPUS_PER_TASK=1 REPLICAS=8 \
#     deploy/spark/submit-k8s.sh train -c job.conf [--set k=v ...]
# IMAGE is a Spark 3.5 image with the distribution at /opt/baton (app/*, conf/, spark/gpu-discovery.sh; its own Spark under SPARK_HOME); GPU nodes
# need the NVIDIA device plugin (resource nvidia.com/gpu).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
: "${K8S_MASTER:?set K8S_MASTER, e.g. k8s://https://kubernetes.default.svc}"
: "${IMAGE:?set IMAGE to a Spark 3.5 image holding the Baton distribution at /opt/baton}"
REPLICAS="${REPLICAS:-2}"
GPUS_PER_TASK="${GPUS_PER_TASK:-0}"
gpu_conf=()
if [ "$GPUS_PER_TASK" != "0" ]; then
  gpu_conf=(--conf spark.executor.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.vendor=nvidia.com
            --conf spark.task.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.discoveryScript=/opt/baton/spark/gpu-discovery.sh)
fi
exec "$SPARK_SUBMIT" \
  --master "$K8S_MASTER" \
  --deploy-mode client \
  --class "$BATON_CLASS" \
  --conf spark.driver.extraClassPath="$BATON_HOME/app/*" \
  --driver-java-options "$BATON_JVM_FLAGS -Dbaton.home=$BATON_HOME" \
  --conf spark.kubernetes.container.image="$IMAGE" \
  --conf spark.kubernetes.namespace="${NAMESPACE:-default}" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName="${SERVICE_ACCOUNT:-spark}" \
  --conf spark.executor.extraClassPath="/opt/baton/app/*" \
  --conf spark.executor.instances="$REPLICAS" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-4}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-4}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-16g}" \
  --conf spark.dynamicAllocation.enabled=false \
  "${gpu_conf[@]}" \
  "$BATON_CLUSTER_JAR" "$@" --set cluster.master="$K8S_MASTER" --set train.replicas="$REPLICAS" \
  --set cluster.gpus-per-task="$GPUS_PER_TASK"
