#!/usr/bin/env bash
# Collective benchmark for issue 3: Baton's AeronCommunicator (UDP with per-JVM embedded drivers, IPC through one
# external driver) against OpenMPI MPI_Allreduce (TCP loopback and shared memory), 2 and 3 processes.
# Usage: bench/collectives/run.sh [sizesBytes]   (from the repo root; needs `mvn -pl common install` done and
# apt packages openmpi-bin libopenmpi-dev). Writes bench/collectives/out/*.txt (not committed).
# Environment: WORLDS (default "2 3"), TRANSPORTS (Aeron transports, default "UDP IPC"), COMPRESSIONS
# (collective.compression values the Aeron runs repeat with, default "none"; e.g. "none fp16 bf16"), MPI_SHM=0 skips
# MPI over shared memory. With more than one compression, a summary of every size compares each Aeron run with
# MPI over TCP of the same run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/collectives"
OUT="$HERE/out"
mkdir -p "$OUT"
SIZES="${1:-4096,16384,65536,262144,1048576,4194304,16777216,67108864,268435456,240771232}"
WORLDS="${WORLDS:-2 3}"
TRANSPORTS="${TRANSPORTS:-UDP IPC}"
COMPRESSIONS="${COMPRESSIONS:-none}"
MPI_SHM="${MPI_SHM:-1}"

cd "$ROOT"
if [ ! -f "$OUT/classpath" ]; then
  mvn -B -q -o -pl common dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$OUT/classpath.deps" >/dev/null
  echo "$ROOT/common/target/test-classes:$ROOT/common/target/classes:$(cat "$OUT/classpath.deps")" > "$OUT/classpath"
fi
CP="$(cat "$OUT/classpath")"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' "$ROOT/conf/jvm.properties" | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
JAVA=(java $FLAGS -Xmx2g -XX:+UseSerialGC ${BENCH_JAVA_OPTS:-} -cp "$CP")
mpicc -O2 -o "$OUT/mpi_allreduce" "$HERE/mpi_allreduce.c"
# Open MPI's reductions allocate message-sized temporary buffers per call. glibc serves those of 32 MB and more with a
# fresh mmap and returns them at free, so every call page-faults them in again; on this VM a fault costs so much that
# MPI's 241 MB all-reduce took ~7x as long (0.93 s against 0.12 s over TCP on loopback, 2026-12-07). A training
# process reuses its buffers (and a real host faults far faster), so the MPI ranks keep freed memory in the heap.
MPI_MALLOC=(-x MALLOC_MMAP_THRESHOLD_=4294967296 -x MALLOC_TRIM_THRESHOLD_=4294967296)

pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run_aeron() { # world transport driverDir compression
  local world=$1 transport=$2 dir=$3 compression=$4 base=$((41000 + RANDOM % 2000)) ports="" r
  for ((r = 0; r < world; r++)); do ports="${ports:+$ports,}$((base + r))"; done
  local rank_pids=()
  for ((r = world - 1; r >= 0; r--)); do
    "${JAVA[@]}" -Dbench.compression="${compression^^}" io.baton.common.collective.bench.AllReduceBench \
      "$r" "$ports" "$transport" "$dir" "$SIZES" > "$OUT/aeron-$transport-$world-$compression.rank$r.txt" 2>&1 &
    rank_pids+=($!); pids+=($!)
  done
  for p in "${rank_pids[@]}"; do wait "$p"; done
}

for world in $WORLDS; do
  for compression in $COMPRESSIONS; do
    if [[ " $TRANSPORTS " == *" UDP "* ]]; then
      echo "== Aeron UDP, $world processes (embedded driver per JVM), collective.compression=$compression"
      run_aeron "$world" UDP - "$compression" && cat "$OUT/aeron-UDP-$world-$compression.rank0.txt"
    fi
    if [[ " $TRANSPORTS " == *" IPC "* ]]; then
      echo "== Aeron IPC, $world processes (one external driver), collective.compression=$compression"
      DRIVER_DIR=/dev/shm/baton-bench-driver-$$
      java $FLAGS -Xmx256m -cp "$CP" -Daeron.dir="$DRIVER_DIR" -Daeron.threading.mode=SHARED \
        -Daeron.shared.idle.strategy=backoff -Daeron.dir.delete.on.shutdown=true -Daeron.dir.delete.on.start=true \
        -Daeron.ipc.mtu.length=65504 -Daeron.term.buffer.sparse.file=true io.aeron.driver.MediaDriver \
        > "$OUT/driver-$world.txt" 2>&1 &
      driver=$!; pids+=($driver)
      sleep 2
      run_aeron "$world" IPC "$DRIVER_DIR" "$compression" && cat "$OUT/aeron-IPC-$world-$compression.rank0.txt"
      kill "$driver"; wait "$driver" || true; rm -rf "$DRIVER_DIR"
    fi
  done
  echo "== OpenMPI TCP loopback, $world processes"
  mpirun --allow-run-as-root --oversubscribe -np "$world" "${MPI_MALLOC[@]}" --mca btl tcp,self --mca btl_tcp_if_include lo \
    "$OUT/mpi_allreduce" "$SIZES" | tee "$OUT/mpi-tcp-$world.txt"
  if [ "$MPI_SHM" = 1 ]; then
    echo "== OpenMPI shared memory (default btl), $world processes"
    mpirun --allow-run-as-root --oversubscribe -np "$world" "${MPI_MALLOC[@]}" "$OUT/mpi_allreduce" "$SIZES" | tee "$OUT/mpi-shm-$world.txt"
  fi
  echo "== Summary, $world processes: median ms, and the ratio to MPI over TCP of this run"
  for file in "$OUT"/aeron-*-"$world"-*.rank0.txt; do
    for compression in $COMPRESSIONS; do
      case "$file" in *"-$world-$compression.rank0.txt") ;; *) continue ;; esac
      label="$(basename "$file" .rank0.txt)"
      awk -v label="$label" 'NR == FNR { if ($1 == "allReduce") mpi[$2] = $5; next }
        $1 == "allReduce" && ($2 in mpi) { printf "%-22s %11d bytes  %9.1f ms  MPI-TCP %9.1f ms  ratio %.2f\n",
          label, $2, $5 / 1000, mpi[$2] / 1000, $5 / mpi[$2] }' "$OUT/mpi-tcp-$world.txt" "$file"
    done
  done
done
