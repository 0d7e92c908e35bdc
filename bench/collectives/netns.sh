#!/usr/bin/env bash
# Emulated hosts for the collective benchmark (issue 24): each rank in its own Linux network namespace, joined by veth
# pairs to a bridge in a "switch" namespace; addresses (SUBNET.1..N, switch SUBNET.254) exist only inside those
# namespaces. Optional tc rate limit and added latency per host link. Per configuration it runs Baton's all-reduce
# (AllReduceBench, Aeron UDP, an embedded media driver per rank JVM) and Open MPI's MPI_Allreduce over TCP between the
# same namespaces with the same sizes, then prints the ratio per size and the bus bandwidth as a fraction of the link.
#
# Usage (repo root, as root; common's classes built by `mvn -o -pl common test-compile`; apt packages openmpi-bin
# libopenmpi-dev iproute2):
#   flock /tmp/baton-build.lock bench/collectives/netns.sh [sizesBytes]
# Environment:
#   CONFIGS   space-separated WORLD[:RATE[:DELAY]] runs, default "2 2:10gbit 2:25gbit 4"; RATE and DELAY are tc
#             units (10gbit, 25gbit; 50us, 1ms). Each configuration gets fresh namespaces.
#   LINK_MTU  MTU of every veth (default 9000, jumbo frames as on a 10-25 GbE cluster fabric).
#   BENCH_MTU collective.mtu of the Baton ranks (default: Baton's 65504, so datagrams are IP-fragmented on the link).
#   PREFIX    namespace name prefix (default btnb); namespaces PREFIX-sw, PREFIX-r0.. left by an earlier run are
#             deleted at start. SUBNET (default 10.77.0) is the private /24.
#   MPI=0 skips MPI; MPI_ARGS are added to mpirun; BENCH_JAVA_OPTS are added to the rank JVMs. LABEL is appended to
#   the output files' names (to keep runs with other settings apart).
# Writes bench/collectives/out/netns-*.txt (not committed). Namespaces, veths, bridge and every process in them are
# removed on exit, also when a rank dies (the other ranks are then killed and the script fails).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/collectives"
OUT="$HERE/out"
SIZES="${1:-1048576,16777216,67108864,240771232}"
CONFIGS="${CONFIGS:-2 2:10gbit 2:25gbit 4}"
LINK_MTU="${LINK_MTU:-9000}"
BENCH_MTU="${BENCH_MTU:-}"
PREFIX="${PREFIX:-btnb}"
SUBNET="${SUBNET:-10.77.0}"
MPI="${MPI:-1}"
BASE_PORT=40100 # each rank has its own namespace, so every rank can use the same fixed ports
SWITCH="$PREFIX-sw"

[ "$(id -u)" = 0 ] || { echo "netns.sh: needs root (ip netns, tc)" >&2; exit 2; }
mkdir -p "$OUT"
cd "$ROOT"

# --- topology -------------------------------------------------------------------------------------------------------

our_namespaces() { ip netns list | awk '{print $1}' | grep -E "^$PREFIX-(sw|r[0-9]+)\$" || true; }

# Kills whatever still runs in our namespaces (a rank, an orted), then deletes them; the veths and the bridge go with
# their namespaces. Safe to call twice and when nothing exists.
netns_down() {
  local ns
  for ns in $(our_namespaces); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for ns in $(our_namespaces); do
    ip netns del "$ns" 2>/dev/null || true
  done
}

# tc's rate units to Gbit/s; empty when there is no limit.
rate_gbit() {
  awk -v r="$1" 'BEGIN { if (r == "") exit; n = r + 0; u = tolower(substr(r, length(n "") + 1));
    f = u == "gbit" ? 1 : u == "mbit" ? 1e-3 : u == "kbit" ? 1e-6 : u == "bit" ? 1e-9 : -1;
    if (f < 0) { print "netns.sh: RATE " r ": use bit, kbit, mbit or gbit" > "/dev/stderr"; exit 1 } print n * f }'
}

# Shapes the egress of one end of a host link: tbf for the rate, netem before it for the delay. The token bucket
# holds 200 us of the rate (at least 64 KB, one GSO segment): a bigger bucket lets a whole small message through at
# memory speed (a first try with 4 MB let 1 MB all-reduces "exceed" a 10 Gbit/s link), a smaller one costs timer
# wake-ups.
shape() { # namespace device rate delay
  local ns=$1 dev=$2 rate=$3 delay=$4 burst
  [ -z "$rate" ] || burst="$(awk -v g="$(rate_gbit "$rate")" 'BEGIN { b = g * 1e9 * 200e-6 / 8;
    printf "%d", b < 65536 ? 65536 : b }')"
  if [ -n "$delay" ]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root handle 1: netem delay "$delay" limit 100000 || {
      echo "netns.sh: tc netem failed; DELAY needs the netem qdisc (kernel CONFIG_NET_SCH_NETEM, absent on some VMs)" >&2
      return 1; }
    [ -z "$rate" ] || ip netns exec "$ns" tc qdisc add dev "$dev" parent 1:1 handle 10: tbf rate "$rate" \
      burst "$burst" latency 50ms
  elif [ -n "$rate" ]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 50ms
  fi
}

netns_up() { # world rate delay
  local world=$1 rate=$2 delay=$3 r ns
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link set lo up
  ip -n "$SWITCH" link add br0 type bridge
  ip -n "$SWITCH" link set br0 mtu "$LINK_MTU" up
  # The switch namespace has an address only so that mpirun (run there) can reach its orted daemons.
  ip -n "$SWITCH" addr add "$SUBNET.254/24" dev br0
  for ((r = 0; r < world; r++)); do
    ns="$PREFIX-r$r"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Created straight into the two namespaces: nothing of it ever appears in the root namespace.
    ip link add eth0 netns "$ns" mtu "$LINK_MTU" type veth peer name "v$r" netns "$SWITCH" mtu "$LINK_MTU"
    ip -n "$SWITCH" link set "v$r" master br0 up
    ip -n "$ns" addr add "$SUBNET.$((r + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    shape "$ns" eth0 "$rate" "$delay"      # host -> switch
    shape "$SWITCH" "v$r" "$rate" "$delay" # switch -> host
  done
}

rank_pids=()
cleanup() {
  local p
  for p in "${rank_pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  netns_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_down # a stale prefix from an earlier run that was killed before its trap ran

# --- programs -------------------------------------------------------------------------------------------------------

if [ ! -f "$OUT/classpath" ]; then
  mvn -B -q -o -pl common dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$OUT/classpath.deps" >/dev/null
  echo "$ROOT/common/target/test-classes:$ROOT/common/target/classes:$(cat "$OUT/classpath.deps")" > "$OUT/classpath"
fi
CP="$(cat "$OUT/classpath")"
FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' "$ROOT/conf/jvm.properties" | sed 's/^baton.jvm.flags=//; s/\\$//' | tr '\n' ' ')"
# shellcheck disable=SC2206
JAVA=(java $FLAGS -Xmx2g -XX:+UseSerialGC ${BENCH_JAVA_OPTS:-} -cp "$CP")
[ -n "$BENCH_MTU" ] && JAVA+=("-Dbench.mtu=$BENCH_MTU")
if [ "$MPI" = 1 ]; then
  mpicc -O2 -o "$OUT/mpi_allreduce" "$HERE/mpi_allreduce.c"
  # Open MPI starts its orted daemons through an "rsh agent" given the host name: this one maps the address to the
  # rank's namespace instead of ssh-ing, and gives each namespace its own host name (a UTS namespace), so that Open
  # MPI sees N hosts rather than N daemons on one.
  cat > "$OUT/netns-rsh" <<EOF
#!/bin/sh
# Written by bench/collectives/netns.sh: "ssh" into emulated host \$1 (an address SUBNET.r+1) = run in its namespace.
host="\$1"; shift
ns="$PREFIX-r\$((\${host##*.} - 1))"
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$ns; \$*"
EOF
  chmod +x "$OUT/netns-rsh"
fi

# --- runs -----------------------------------------------------------------------------------------------------------

# Runs AllReduceBench rank r in namespace r; if any rank fails, kills the others (which would otherwise wait for the
# collective deadline) and fails.
run_aeron() { # world label
  local world=$1 label=$2 ports="" hosts="" r p failed=0
  for ((r = 0; r < world; r++)); do
    ports="${ports:+$ports,}$((BASE_PORT + r))"
    hosts="${hosts:+$hosts,}$SUBNET.$((r + 1))"
  done
  rank_pids=()
  for ((r = world - 1; r >= 0; r--)); do
    ip netns exec "$PREFIX-r$r" "${JAVA[@]}" -Dbench.hosts="$hosts" io.baton.common.collective.bench.AllReduceBench \
      "$r" "$ports" UDP - "$SIZES" > "$OUT/netns-aeron-$label.rank$r.txt" 2>&1 &
    rank_pids+=($!)
  done
  local running=("${rank_pids[@]}") finished
  while [ "${#running[@]}" -gt 0 ]; do
    if ! wait -n -p finished "${running[@]}"; then failed=1; break; fi
    for p in "${!running[@]}"; do [ "${running[$p]}" = "$finished" ] && unset "running[$p]"; done
    running=("${running[@]}")
  done
  if [ "$failed" = 1 ]; then
    echo "netns.sh: a rank failed ($label); killing the others. Logs: $OUT/netns-aeron-$label.rank*.txt" >&2
    for p in "${rank_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    tail -n 5 "$OUT"/netns-aeron-"$label".rank*.txt >&2
    return 1
  fi
  rank_pids=()
}

# -x MALLOC_*: MPI's per-call temporary buffers stay in the heap instead of being page-faulted in again on every call
# (glibc mmaps those of 32 MB and more; see run.sh, which measured ~7x at 241 MB on this VM).
run_mpi() { # world label
  local world=$1 label=$2 hosts="" r
  for ((r = 0; r < world; r++)); do hosts="${hosts:+$hosts,}$SUBNET.$((r + 1)):1"; done
  # mpirun in the switch namespace; one rank per emulated host; TCP only (no shared memory between "hosts").
  ip netns exec "$SWITCH" timeout 900 mpirun --allow-run-as-root -np "$world" --host "$hosts" \
    --mca plm_rsh_agent "$OUT/netns-rsh" --mca btl tcp,self --mca btl_tcp_if_include "$SUBNET.0/24" \
    --mca oob_tcp_if_include "$SUBNET.0/24" --bind-to none ${MPI_ARGS:-} \
    -x MALLOC_MMAP_THRESHOLD_=4294967296 -x MALLOC_TRIM_THRESHOLD_=4294967296 \
    "$OUT/mpi_allreduce" "$SIZES" > "$OUT/netns-mpi-$label.txt" 2>&1 ||
    { echo "netns.sh: mpirun failed ($label):" >&2; tail -n 20 "$OUT/netns-mpi-$label.txt" >&2; return 1; }
}

labels=()
for config in $CONFIGS; do
  IFS=: read -r world rate delay <<< "$config"
  rate="${rate:-}"; delay="${delay:-}"
  label="$world-${rate:-nolimit}${delay:+-$delay}${BENCH_MTU:+-mtu$BENCH_MTU}${LABEL:+-$LABEL}"
  labels+=("$label")
  echo "== $world ranks in $world namespaces, link ${rate:-unlimited}${delay:+, +$delay each way per hop}," \
    "veth MTU $LINK_MTU ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  netns_up "$world" "$rate" "$delay"
  run_aeron "$world" "$label"
  cat "$OUT/netns-aeron-$label.rank0.txt"
  if [ "$MPI" = 1 ]; then
    run_mpi "$world" "$label"
    cat "$OUT/netns-mpi-$label.txt"
  fi
  netns_down
done

echo "== Summary: median ms per size; Aeron UDP / MPI-TCP of the same run; busbw as a fraction of the link rate"
for config in $CONFIGS; do
  IFS=: read -r world rate delay <<< "$config"
  rate="${rate:-}"; delay="${delay:-}"
  label="$world-${rate:-nolimit}${delay:+-$delay}${BENCH_MTU:+-mtu$BENCH_MTU}${LABEL:+-$LABEL}"
  gbit="$(rate_gbit "$rate")"
  mpi_file="$OUT/netns-mpi-$label.txt"
  [ "$MPI" = 1 ] && [ -f "$mpi_file" ] || mpi_file=/dev/null
  awk -v label="$label" -v gbit="$gbit" -v mpifile="$mpi_file" \
    'FILENAME == mpifile { if ($1 == "allReduce") { mpi[$2] = $5; mpibus[$2] = $8 } next }
    $1 == "allReduce" {
      line = sprintf("%-16s %10d bytes  Aeron %9.1f ms", label, $2, $5 / 1000)
      if ($2 in mpi) line = line sprintf("  MPI-TCP %9.1f ms  ratio %.2f", mpi[$2] / 1000, $5 / mpi[$2])
      if (gbit != "") {
        line = line sprintf("  busbw/link Aeron %.2f", $8 * 8 / gbit)
        if ($2 in mpi) line = line sprintf(" MPI %.2f", mpibus[$2] * 8 / gbit)
      }
      print line
    }' "$mpi_file" "$OUT/netns-aeron-$label.rank0.txt"
done
