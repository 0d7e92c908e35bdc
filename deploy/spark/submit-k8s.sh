#!/usr/bin/env bash
# spark-submit template: Baton training on Kubernetes in cluster mode, with the image built by deploy/image
# (deploy/k8s/build-image.sh: the official Spark image plus the distribution's app/ and conf/ at /opt/baton).
#   K8S_MASTER=k8s://https://api:6443 IMAGE=registry/baton:0.1 GPUS_PER_TASK=1 REPLICAS=8 \
#     deploy/spark/submit-k8s.sh train -c job.conf [--set k=v ...]
# The driver runs in a pod (its output: kubectl logs <driver pod>); one driver attempt, the pod is not restarted.
# run.dir and data.path must be on a shared file system that the driver and every executor pod reach (hdfs://,
# s3a://, or a ReadWriteMany volume mounted at the same path in every pod: SHARED_PVC, SHARED_MOUNT). A local -c
# FILE is uploaded through UPLOAD_DIR (spark.kubernetes.file.upload.path, shared storage too) and read in the
# driver's working directory. The jars are the image's (local:///opt/baton/app/...), named from this distribution's
# app/, so the image and this distribution must come from the same build. Baton's JVM flags go to the driver here;
# Baton's driver appends them to the executors' own options. GPU nodes need the NVIDIA device plugin
# (resource nvidia.com/gpu).
# Optional: NAMESPACE (default), SERVICE_ACCOUNT (spark: may create pods), EXECUTOR_CORES (4), EXECUTOR_MEMORY (16g),
# DRIVER_MEMORY (4g), UPLOAD_DIR, SHARED_PVC and SHARED_MOUNT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
: "${K8S_MASTER:?set K8S_MASTER, e.g. k8s://https://kubernetes.default.svc}"
: "${IMAGE:?set IMAGE to the image built by deploy/k8s/build-image.sh and pushed to your registry}"
REPLICAS="${REPLICAS:-2}"
GPUS_PER_TASK="${GPUS_PER_TASK:-0}"
image_app=/opt/baton/app
if [ -z "$BATON_CLUSTER_JAR" ]; then
  echo "submit-k8s.sh: no baton-coordinator jar in $BATON_HOME/app; build the distribution (mvn package)" >&2
  exit 2
fi
app_jar="local://$image_app/$(basename "$BATON_CLUSTER_JAR")"
jars="$(printf '%s\n' "${BATON_CLUSTER_JARS//,/$'\n'}" | sed -n 's#^.*/#local://'"$image_app"'/#p' | paste -sd, -)"
jars_conf=()
if [ -n "$jars" ]; then jars_conf=(--jars "$jars"); fi
gpu_conf=()
if [ "$GPUS_PER_TASK" != "0" ]; then
  gpu_conf=(--conf spark.executor.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.vendor=nvidia.com
            --conf spark.task.resource.gpu.amount=1
            --conf spark.executor.resource.gpu.discoveryScript=/opt/baton/spark/gpu-discovery.sh)
fi
# The driver's native settings, malloc and OpenMP (baton-env.sh exported them unless already set); executors get them from the driver.
env_conf=()
for kv in $(sed -n 's/^baton\.native\.env=//p' "$BATON_HOME/conf/jvm.properties"); do
  name="${kv%%=*}"
  env_conf+=(--conf "spark.kubernetes.driverEnv.$name=${!name}")
done
volume_conf=()
if [ -n "${SHARED_PVC:-}" ]; then
  : "${SHARED_MOUNT:?set SHARED_MOUNT, the path where SHARED_PVC is mounted in every pod}"
  for role in driver executor; do
    volume_conf+=(--conf "spark.kubernetes.$role.volumes.persistentVolumeClaim.baton-shared.options.claimName=$SHARED_PVC"
                  --conf "spark.kubernetes.$role.volumes.persistentVolumeClaim.baton-shared.mount.path=$SHARED_MOUNT")
  done
fi
args=("$@")
file_conf=()
# A job configuration on this machine: upload it and name it in the driver's working directory.
for i in "${!args[@]}"; do
  if { [ "${args[$i]}" = "-c" ] || [ "${args[$i]}" = "--config" ]; } && [ $((i + 1)) -lt ${#args[@]} ] \
     && [ -f "${args[$((i + 1))]}" ]; then
    if [ -z "${UPLOAD_DIR:-}" ]; then
      echo "submit-k8s.sh: ${args[$((i + 1))]} is a local file the driver pod cannot read; set UPLOAD_DIR to shared" \
        "storage (e.g. s3a://bucket/spark-uploads) to upload it, or give -c a path every pod reaches" >&2
      exit 2
    fi
    file_conf=(--files "${args[$((i + 1))]}" --conf spark.kubernetes.file.upload.path="$UPLOAD_DIR")
    args[$((i + 1))]="$(basename "${args[$((i + 1))]}")"
  fi
done
exec "$SPARK_SUBMIT" \
  --master "$K8S_MASTER" \
  --deploy-mode cluster \
  --class "$BATON_CLASS" \
  "${jars_conf[@]}" \
  "${file_conf[@]}" \
  --conf spark.kubernetes.container.image="$IMAGE" \
  --conf spark.kubernetes.namespace="${NAMESPACE:-default}" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName="${SERVICE_ACCOUNT:-spark}" \
  --conf spark.driver.extraJavaOptions="$BATON_JVM_FLAGS" \
  --conf spark.driver.memory="${DRIVER_MEMORY:-4g}" \
  "${env_conf[@]}" \
  "${volume_conf[@]}" \
  --conf spark.executor.instances="$REPLICAS" \
  --conf spark.executor.cores="${EXECUTOR_CORES:-4}" \
  --conf spark.task.cpus="${EXECUTOR_CORES:-4}" \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-16g}" \
  --conf spark.dynamicAllocation.enabled=false \
  "${gpu_conf[@]}" \
  "$app_jar" "${args[@]}" --set cluster.master="$K8S_MASTER" --set train.replicas="$REPLICAS" \
  --set cluster.gpus-per-task="$GPUS_PER_TASK"
