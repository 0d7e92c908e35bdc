#!/usr/bin/env bash
# Starts and stops a local Spark standalone cluster on 127.0.0.1 from the distribution's jars, for trying Baton's
# multi-JVM path (each replica in its own executor JVM) on one machine:
#   deploy/spark/local-cluster.sh start [WORKERS]   master on spark://127.0.0.1:$BATON_SPARK_PORT, WORKERS one-core workers
#   deploy/spark/local-cluster.sh status            prints the master URL and the live daemons
#   deploy/spark/local-cluster.sh stop              stops the daemons this script started (by their pid files)
# Then: bin/baton train -c conf/demo.conf --set cluster.master=spark://127.0.0.1:7077
# Environment: BATON_HOME (distribution), BATON_SPARK_STATE (pid/log folder, default /tmp/baton-spark-$USER),
#   BATON_SPARK_PORT (7077), BATON_WORKER_MEMORY (2g), BATON_FAKE_GPUS (offer fake GPUs to workers, e.g. "0" each).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"

state="${BATON_SPARK_STATE:-/tmp/baton-spark-${USER:-$(id -u)}}"
port="${BATON_SPARK_PORT:-7077}"
master_url="spark://127.0.0.1:$port"
java_cmd="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Spark daemons look up SPARK_HOME/jars for executor class paths: point it at the distribution's lib/.
spark_home="$state/spark-home"
setup_home() {
  mkdir -p "$spark_home" "$state/work"
  ln -sfn "$BATON_HOME/lib" "$spark_home/jars"
}

daemon() { # name class args...
  local name="$1"; shift
  # shellcheck disable=SC2086
  SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 \
    nohup "$java_cmd" $BATON_JVM_FLAGS -Xmx512m -cp "$BATON_HOME/lib/*" "$@" > "$state/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_log() { # file pattern seconds
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "local-cluster: '$2' did not appear in $1 within $3 s; last lines:" >&2
  tail -20 "$1" >&2 || true
  return 1
}

start() {
  local workers="${1:-2}" i
  if alive "$state/master.pid"; then
    echo "local-cluster: already running ($master_url, pid $(cat "$state/master.pid")); stop it first" >&2
    exit 1
  fi
  setup_home
  daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 0
  wait_for_log "$state/master.log" "I have been elected leader" 60 || { stop; exit 1; }
  for ((i = 1; i <= workers; i++)); do
    local gpu_opts=()
    if [ -n "${BATON_FAKE_GPUS+set}" ]; then
      gpu_opts=(-Dspark.worker.resource.gpu.amount=1
                -Dspark.worker.resource.gpu.discoveryScript="$BATON_HOME/spark/gpu-discovery.sh")
    fi
    daemon "worker-$i" "${gpu_opts[@]}" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
      --memory "${BATON_WORKER_MEMORY:-2g}" --webui-port 0 --work-dir "$state/work" "$master_url"
  done
  for ((i = 1; i <= workers; i++)); do
    wait_for_log "$state/worker-$i.log" "Successfully registered with master" 60 || { stop; exit 1; }
  done
  echo "local-cluster: $master_url with $workers worker(s); logs in $state"
}

stop() {
  local pidfile pid stopped=0
  for pidfile in "$state"/worker-*.pid "$state"/master.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
  done
  echo "local-cluster: stopped $stopped daemon(s)"
}

status() {
  local pidfile running=0
  for pidfile in "$state"/master.pid "$state"/worker-*.pid; do
    [ -f "$pidfile" ] || continue
    if alive "$pidfile"; then
      echo "$(basename "$pidfile" .pid) running (pid $(cat "$pidfile"))"
      running=$((running + 1))
    else
      echo "$(basename "$pidfile" .pid) dead (stale pid file)"
    fi
  done
  if alive "$state/master.pid"; then echo "master URL: $master_url"; else echo "no master running"; return 3; fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [WORKERS] | status | stop" >&2; exit 2 ;;
esac
