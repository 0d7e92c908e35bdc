#!/usr/bin/env bash
# Spark GPU discovery script (spark.driver/executor.resource.gpu.discoveryScript, spark.worker.resource.gpu.discoveryScript).
# Prints the JSON Spark expects, e.g. {"name":"gpu","addresses":["0","1"]}, for the GPUs nvidia-smi lists.
# BATON_FAKE_GPUS overrides detection with a comma-separated index list ("" = no GPUs): for tests and CPU hosts.
set -euo pipefail

if [ -n "${BATON_FAKE_GPUS+set}" ]; then
  ids="$BATON_FAKE_GPUS"
else
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "gpu-discovery: nvidia-smi not found; install the NVIDIA driver or set BATON_FAKE_GPUS" >&2
    exit 1
  fi
  ids="$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' \r' | paste -sd, -)"
fi

addresses=""
IFS=',' read -ra list <<< "$ids"
for id in "${list[@]}"; do
  [ -z "$id" ] && continue
  if ! [[ "$id" =~ ^[0-9]+$ ]]; then
    echo "gpu-discovery: GPU index '$id' is not a non-negative integer (from '${ids}')" >&2
    exit 1
  fi
  addresses+="${addresses:+,}\"$id\""
done
printf '{"name":"gpu","addresses":[%s]}\n' "$addresses"
