#!/usr/bin/env bash
# spark-submit from the distribution's own Spark jars, for machines without a Spark installation (for example a
# cluster started by local-cluster.sh). Same arguments as Spark's spark-submit. Client deploy mode only: the driver
# is this JVM, so the JVM flags come from conf/jvm.properties plus BATON_DRIVER_OPTS (e.g. -Xmx4g), and
# --driver-java-options / --driver-memory have no effect here.
# The submit-*.sh templates use it when no spark-submit is on PATH and SPARK_SUBMIT is not set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/baton-env.sh"
# Spark looks up SPARK_HOME/jars for class paths: the distribution's lib/ (as bin/baton does).
if [ -z "${SPARK_HOME:-}" ]; then
  SPARK_HOME="$BATON_HOME/spark-home"
  mkdir -p "$SPARK_HOME"
  [ -e "$SPARK_HOME/jars" ] || ln -s "$BATON_HOME/lib" "$SPARK_HOME/jars"
fi
export SPARK_HOME SPARK_SCALA_VERSION=2.12
java_cmd="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# shellcheck disable=SC2086
exec "$java_cmd" $BATON_JVM_FLAGS ${BATON_DRIVER_OPTS:-} -Dbaton.home="$BATON_HOME" -cp "$BATON_HOME/lib/*" \
  org.apache.spark.deploy.SparkSubmit "$@"
