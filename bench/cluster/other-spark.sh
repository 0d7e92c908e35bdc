#!/usr/bin/env bash
# Baton's application jars (the distribution's app/: no Spark, Scala, Hadoop or logging) on ANOTHER Spark: a "cluster's
# own" installation of a different Spark 3.5.x patch release on Hadoop 3.3.x, assembled from Maven jars, with a
# standalone Master and two Workers on 127.0.0.1, the job submitted with that Spark's spark-submit through Baton's
# standalone template. Then the same job on Baton's own Spark (the distribution's lib/: Spark 3.5.7, Hadoop 3.4.2;
# spark/local-cluster.sh and the same template) and a comparison of the final parameters (summary.json's
# params_checksum, a 64-bit hash of the raw float bits). Too heavy for CI (~8 JVMs, two training runs).
#
#   bench/cluster/other-spark.sh            # prints PASS or FAIL last; exit 0 on PASS, 1 on FAIL, 2 on a setup error
#
# Environment:
#   OTHER_SPARK_VERSION   Spark of the "cluster" (3.5.1; Baton's own is 3.5.7)
#   OTHER_HADOOP_VERSION  its Hadoop client (3.3.6; Baton's own is 3.4.2)
#   WORK                  work folder (bench/cluster/target/other-spark): SPARK_HOME, logs, run directories
#   SKIP_BUILD=1          reuse deploy/target/baton instead of running mvn package
#   OTHER_SPARK_PORT, BATON_SPARK_PORT   the two masters' ports (7177, 7277)
#   BENCH_LOCK            a lock file: Maven and each cluster run are run under flock on it (for shared machines)
#   RUN_TIMEOUT           seconds one training run may take before it is killed (600): a hung driver must not
#                         keep the clusters (and BENCH_LOCK) forever
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/bench/cluster"
other_version="${OTHER_SPARK_VERSION:-3.5.1}"
other_hadoop="${OTHER_HADOOP_VERSION:-3.3.6}"
work="${WORK:-$here/target/other-spark}"
other_port="${OTHER_SPARK_PORT:-7177}"
baton_port="${BATON_SPARK_PORT:-7277}"
dist="$root/deploy/target/baton"
home="$work/spark-$other_version-hadoop-$other_hadoop"
java_cmd="${JAVA_HOME:+$JAVA_HOME/bin/}java"

say() { echo "other-spark: $*" >&2; }
die() { say "$*"; echo "FAIL: $*"; exit "${2:-2}"; }
locked() { if [ -n "${BENCH_LOCK:-}" ]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi; }

# ---- processes this script started: killed on any exit ------------------------------------------------------------
pids=()
cleanup() {
  local pid d
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  # Executors are the Workers' children and die with them; any left over (an executor's working directory is in
  # its Worker's work folder) too.
  for d in /proc/[0-9]*; do
    case "$(readlink "$d/cwd" 2>/dev/null)" in
      "$work"/other-cluster/work/*|"$work"/baton-cluster/work/*) kill -9 "${d#/proc/}" 2>/dev/null || true ;;
    esac
  done
  if [ -n "${BATON_CLUSTER_UP:-}" ]; then
    BATON_HOME="$dist" BATON_SPARK_STATE="$work/baton-cluster" BATON_SPARK_PORT="$baton_port" \
      "$dist/spark/local-cluster.sh" stop >&2 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_log() { # file pattern seconds
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  say "'$2' did not appear in $1 within $3 s; last lines:"
  tail -20 "$1" >&2 || true
  return 1
}

mkdir -p "$work"

# ---- 1. the cluster's Spark: SPARK_HOME with jars/, conf/, bin/spark-class and bin/spark-submit -----------------------
assemble() {
  local mvn_args=(-B -q -f "$here/other-spark/pom.xml" dependency:copy-dependencies -DincludeScope=runtime
                  -DoutputDirectory="$home/jars" -Dspark.version="$other_version" -Dhadoop.version="$other_hadoop")
  rm -rf "$home"
  mkdir -p "$home/jars" "$home/conf" "$home/bin"
  say "assembling Spark $other_version with Hadoop $other_hadoop in $home"
  if ! locked mvn -o "${mvn_args[@]}" >&2; then
    say "not all artifacts are in the local Maven repository; resolving online"
    locked mvn "${mvn_args[@]}" >&2 || die "could not resolve Spark $other_version / Hadoop $other_hadoop"
  fi
  echo "Spark $other_version (Scala 2.12, Hadoop $other_hadoop client) assembled from Maven jars by $0" > "$home/RELEASE"
  # Logging as a Spark distribution's conf/log4j2.properties (template) sets it: INFO to the console.
  cat > "$home/conf/log4j2.properties" <<'EOF'
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
logger.hadoopnative.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoopnative.level = error
EOF
  # Spark's bin/spark-class, reduced: its launcher (org.apache.spark.launcher.Main) builds the java command: class
  # path conf/ + jars/*, the Java 17 module options, --driver-java-options, spark-defaults.conf, memory settings.
  cat > "$home/bin/spark-class" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
SPARK_HOME="${SPARK_HOME:-$(cd "$(dirname "$0")/.." && pwd)}"
export SPARK_HOME SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.12}"
if [ -f "$SPARK_HOME/conf/spark-env.sh" ]; then . "$SPARK_HOME/conf/spark-env.sh"; fi
java_cmd="${JAVA_HOME:+$JAVA_HOME/bin/}java"
out="$(mktemp)"
if ! "$java_cmd" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@" > "$out"; then
  tr '\0' '\n' < "$out" >&2; rm -f "$out"; exit 1
fi
# Spark 3.5's launcher prints NUL and a newline, then the command, each argument ended by NUL.
skip=1
if [ "$(head -c 1 "$out" | tr '\0' 'N')" = N ]; then skip=3; fi
cmd=()
while IFS= read -r -d '' arg; do cmd+=("$arg"); done < <(tail -c +"$skip" "$out")
rm -f "$out"
exec "${cmd[@]}"
EOF
  printf '#!/usr/bin/env bash\nexec "$(dirname "$0")/spark-class" org.apache.spark.deploy.SparkSubmit "$@"\n' \
    > "$home/bin/spark-submit"
  chmod +x "$home/bin/spark-class" "$home/bin/spark-submit"

  # What was assembled: that Spark and Hadoop, log4j 2 as the only SLF4J binding, no Baton.
  [ -f "$home/jars/spark-core_2.12-$other_version.jar" ] || die "no spark-core_2.12-$other_version.jar in $home/jars"
  [ -f "$home/jars/hadoop-client-api-$other_hadoop.jar" ] || die "no hadoop-client-api-$other_hadoop.jar in $home/jars"
  local jar providers=()
  for jar in "$home"/jars/*.jar; do
    if unzip -l "$jar" 2>/dev/null | grep -q -E 'META-INF/services/org\.slf4j\.spi\.SLF4JServiceProvider|org/slf4j/impl/StaticLoggerBinder\.class'; then
      providers+=("$(basename "$jar")")
    fi
  done
  [ "${#providers[@]}" = 1 ] && [[ "${providers[0]}" == log4j-slf4j2-impl-* ]] \
    || die "expected one SLF4J binding (log4j-slf4j2-impl), found: ${providers[*]:-none}"
  ls "$home/jars" | grep -q -E '^(log4j-core|log4j-api|slf4j-api)-' || die "log4j-core/log4j-api/slf4j-api missing"
  ! ls "$home/jars" | grep -q '^baton-' || die "Baton jars in the cluster's Spark"
  say "$(ls "$home/jars" | wc -l) jars; SLF4J binding: ${providers[0]}"
}

# ---- 2. Baton's distribution; only app/ goes to the other Spark ----------------------------------------------------------
build() {
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "building Baton's distribution (mvn package -pl deploy -am)"
    (cd "$root" && locked mvn -B -q -o package -DskipTests -pl deploy -am >&2) \
      || (cd "$root" && locked mvn -B -q package -DskipTests -pl deploy -am >&2) || die "mvn package failed"
  fi
  [ -f "$dist/conf/jvm.properties" ] && ls "$dist"/app/baton-coordinator-*.jar >/dev/null 2>&1 \
    || die "no distribution with app/ at $dist (run without SKIP_BUILD=1)"
  local bad
  bad="$(ls "$dist/app" | grep -E '^(spark-|scala-|hadoop-|log4j-)' || true)"
  [ -z "$bad" ] || die "app/ holds what the cluster provides: $bad"
}

# ---- the job: a tiny ResNet-20 on generated data, 2 replicas, 32 steps (MultiJvmTrainTest's data, one thread each) ---
job=(--set model.arch=resnet20 --set data.image-size=16 --set data.synthetic-classes=4
     --set data.synthetic-samples=256 --set data.synthetic-val-samples=96
     --set train.global-batch=32 --set train.replicas=2 --set train.epochs=4 --set train.threads-per-replica=1
     --set optim.base-lr=0.05 --set optim.base-batch=32 --set optim.warmup-epochs=1 --set 'optim.decay-epochs=[3]'
     --set collective.host=127.0.0.1 --set collective.timeout=60s --set progress.interval=5s
     --set cluster.slot-wait=90s)

# ---- 3. the job on the other Spark's standalone cluster ------------------------------------------------------------------
other_daemon() { # name class args...
  local name="$1"; shift
  SPARK_HOME="$home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 \
    nohup "$home/bin/spark-class" "$@" > "$work/other-$name.log" 2>&1 &
  pids+=("$!")
}

run_other() {
  local state="$work/other-cluster" master="spark://127.0.0.1:$other_port" i
  port_free "$other_port" || die "port $other_port is in use (set OTHER_SPARK_PORT)"
  rm -rf "$state" "$work/run-other"
  mkdir -p "$state/work"
  say "starting Spark $other_version: master $master, 2 one-core workers"
  other_daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$other_port" --webui-port 0
  wait_for_log "$work/other-master.log" "I have been elected leader" 60 || die "the other Spark's master did not start"
  for i in 1 2; do
    other_daemon "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 2g \
      --webui-port 0 --work-dir "$state/work" "$master"
  done
  for i in 1 2; do
    wait_for_log "$work/other-worker-$i.log" "Successfully registered with master" 60 \
      || die "the other Spark's worker $i did not register"
  done
  say "submitting with $home/bin/spark-submit (application: $dist/app)"
  local rc=0
  BATON_HOME="$dist" SPARK_HOME="$home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1 \
    SPARK_SUBMIT="$home/bin/spark-submit" MASTER="$master" EXECUTOR_MEMORY=1500m \
    timeout -k 10 "${RUN_TIMEOUT:-600}" "$dist/spark/submit-standalone.sh" train --run-dir "file://$work/run-other" "${job[@]}" \
    > "$work/train-other.log" 2>&1 || rc=$?
  # Stop this cluster before the next one (2 cores).
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  pids=()
  return "$rc"
}

# ---- 4. the same job on Baton's own Spark (lib/: Spark 3.5.7, Hadoop 3.4.2), same layout -----------------------------
run_baton() {
  local rc=0
  port_free "$baton_port" || die "port $baton_port is in use (set BATON_SPARK_PORT)"
  rm -rf "$work/baton-cluster" "$work/run-baton"
  export BATON_CLUSTER_UP=1
  BATON_HOME="$dist" BATON_SPARK_STATE="$work/baton-cluster" BATON_SPARK_PORT="$baton_port" \
    "$dist/spark/local-cluster.sh" start 2 >&2 || die "Baton's own standalone cluster did not start"
  say "submitting with $dist/spark/spark-submit.sh (Baton's Spark)"
  BATON_HOME="$dist" SPARK_SUBMIT="$dist/spark/spark-submit.sh" MASTER="spark://127.0.0.1:$baton_port" \
    EXECUTOR_MEMORY=1500m SPARK_LOCAL_IP=127.0.0.1 \
    timeout -k 10 "${RUN_TIMEOUT:-600}" "$dist/spark/submit-standalone.sh" train --run-dir "file://$work/run-baton" "${job[@]}" \
    > "$work/train-baton.log" 2>&1 || rc=$?
  BATON_HOME="$dist" BATON_SPARK_STATE="$work/baton-cluster" BATON_SPARK_PORT="$baton_port" \
    "$dist/spark/local-cluster.sh" stop >&2 || true
  unset BATON_CLUSTER_UP
  return "$rc"
}

field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1"; }

compare() {
  local s_other="$work/run-other/summary.json" s_baton="$work/run-baton/summary.json"
  [ -f "$s_other" ] && [ -f "$s_baton" ] || die "summary.json missing ($s_other, $s_baton)" 1
  # The other run's driver really ran the other Spark, and logged through log4j (no NOP, no second binding).
  grep -q "Running Spark version $other_version" "$work/train-other.log" \
    || die "the other run's driver did not log 'Running Spark version $other_version' (wrong Spark or no logging)" 1
  if grep -q -E 'SLF4J: (No SLF4J providers|Defaulting to no-operation|Class path contains multiple)' \
       "$work/train-other.log" "$work"/other-*.log; then
    die "SLF4J binding problem in the other Spark's logs" 1
  fi
  local c_other c_baton l_other l_baton n_other n_baton
  c_other="$(field "$s_other" params_checksum)"; c_baton="$(field "$s_baton" params_checksum)"
  l_other="$(field "$s_other" last_loss)"; l_baton="$(field "$s_baton" last_loss)"
  n_other="$(field "$s_other" steps)"; n_baton="$(field "$s_baton" steps)"
  say "Spark $other_version + Hadoop $other_hadoop: steps $n_other, last loss $l_other, params $c_other"
  say "Baton's Spark 3.5.7 + Hadoop 3.4.2: steps $n_baton, last loss $l_baton, params $c_baton"
  if [ -n "$c_other" ] && [ "$c_other" = "$c_baton" ] && [ "$n_other" = "$n_baton" ]; then
    echo "PASS: Baton's app/ on Spark $other_version (Hadoop $other_hadoop) ended with the same parameters as on" \
      "Spark 3.5.7 (Hadoop 3.4.2): checksum $c_other after $n_other steps, last loss $l_other"
  else
    echo "FAIL: parameters differ: Spark $other_version checksum $c_other ($n_other steps, last loss $l_other)," \
      "Spark 3.5.7 checksum $c_baton ($n_baton steps, last loss $l_baton)"
    exit 1
  fi
}

# Phases (each also runs alone: assemble, build, run-other, run-baton, compare); the two runs each hold BENCH_LOCK.
case "${1:-all}" in
  assemble) assemble ;;
  build) build ;;
  run-other) run_other || die "the job on Spark $other_version failed; see $work/train-other.log" 1 ;;
  run-baton) run_baton || die "the job on Baton's Spark failed; see $work/train-baton.log" 1 ;;
  compare) compare ;;
  all)
    assemble
    build
    t=$SECONDS; locked "$0" run-other; say "run on Spark $other_version: $((SECONDS - t)) s"
    t=$SECONDS; locked "$0" run-baton; say "run on Baton's Spark: $((SECONDS - t)) s"
    compare ;;
  *) echo "usage: $0 [all|assemble|build|run-other|run-baton|compare]" >&2; exit 2 ;;
esac
