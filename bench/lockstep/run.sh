#!/usr/bin/env bash
# The machine's own lock-step noise (issue 4), measured without Baton or DL4J: two MPI ranks pinned to one core each
# run identical fixed work and synchronise with MPI_Allreduce (1 KB) after each of K segments per step, or once per
# step, against the same work alone and unsynchronised. See lockstep_noise.c.
# Usage (repo root): bench/lockstep/run.sh [cycles [segments [segmentMs [memMbPerUnit]]]]  (defaults 40 38 29 2:
# ResNet-20's 38 SyncBN points in a ~1.1 s step; each work unit is a 96x96 matrix product and a pass over
# memMbPerUnit MB). Needs mpicc/mpirun (Debian: openmpi-bin libopenmpi-dev).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/bench/lockstep/out"
mkdir -p "$OUT"
mpicc -O3 -march=native -o "$OUT/lockstep_noise" "$ROOT/bench/lockstep/lockstep_noise.c"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(mpirun --version 2>&1 | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
mpirun --allow-run-as-root --oversubscribe -np 2 --bind-to core --map-by core --mca btl self,vader \
  "$OUT/lockstep_noise" "${1:-40}" "${2:-38}" "${3:-29}" "${4:-2}" | tee "$OUT/lockstep-$(date +%Y%m%d-%H%M%S).txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
