#!/usr/bin/env bash
# Sourced by the spark-submit templates and local-cluster.sh: locates the Baton distribution and reads its JVM flags.
#   BATON_HOME   the distribution (bin/, lib/, conf/, spark/); default: the folder above this script's folder
# Sets BATON_JVM_FLAGS (conf/jvm.properties, key baton.jvm.flags: the one list every Baton JVM needs), BATON_APP_JAR
# (baton-coordinator jar, spark-submit's primary resource), BATON_CLASS (the CLI main class) and SPARK_SUBMIT.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
baton_home_given="${BATON_HOME:-}"
BATON_HOME="${BATON_HOME:-$(cd "$here/.." && pwd)}"
if [ ! -f "$BATON_HOME/conf/jvm.properties" ] || [ ! -d "$BATON_HOME/lib" ]; then
  # From a source checkout: the distribution built by mvn package (only when BATON_HOME was not given).
  if [ -z "$baton_home_given" ] && [ -f "$here/../target/baton/conf/jvm.properties" ]; then
    BATON_HOME="$(cd "$here/../target/baton" && pwd)"
  else
    echo "baton: no distribution at $BATON_HOME (lib/ and conf/jvm.properties); build it with mvn package" >&2
    return 2 2>/dev/null || exit 2
  fi
fi
BATON_JVM_FLAGS="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' "$BATON_HOME/conf/jvm.properties" \
  | sed -e 's/^baton\.jvm\.flags=//' -e 's/\\$//' | tr '\n' ' ' | tr -s ' ')"
# The driver JVM (where local-mode replicas train) gets baton.native.env too; executors get it from the driver.
for kv in $(sed -n 's/^baton\.native\.env=//p' "$BATON_HOME/conf/jvm.properties"); do
  name="${kv%%=*}"
  [ -n "${!name:-}" ] || export "${kv?}"
done
BATON_APP_JAR="$( (ls "$BATON_HOME"/lib/baton-coordinator-*.jar 2>/dev/null || true) | sed -n 1p)" # empty, not a silent exit under pipefail
# The application for a cluster's own Spark: app/ holds Baton and its own dependencies, no Spark, Scala, Hadoop or
# logging (the cluster provides those). BATON_CLUSTER_JAR is spark-submit's primary resource, BATON_CLUSTER_JARS the
# rest as a comma list for --jars; Spark ships them to the driver (cluster mode) and every executor.
BATON_CLUSTER_JAR="$( (ls "$BATON_HOME"/app/baton-coordinator-*.jar 2>/dev/null || true) | sed -n 1p)"
BATON_CLUSTER_JARS="$( (ls "$BATON_HOME"/app/*.jar 2>/dev/null || true) | { grep -v '/baton-coordinator-' || true; } | paste -sd, -)"
BATON_CLASS="io.baton.coordinator.cli.BatonCli"
# The submit templates' spark-submit: Spark's when installed, else the distribution's own (spark/spark-submit.sh).
if [ -z "${SPARK_SUBMIT:-}" ]; then
  if command -v spark-submit >/dev/null 2>&1; then SPARK_SUBMIT=spark-submit; else SPARK_SUBMIT="$BATON_HOME/spark/spark-submit.sh"; fi
fi
export BATON_HOME BATON_JVM_FLAGS BATON_APP_JAR BATON_CLASS BATON_CLUSTER_JAR BATON_CLUSTER_JARS
