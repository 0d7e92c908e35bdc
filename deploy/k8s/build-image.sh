#!/usr/bin/env bash
# The Kubernetes image (deploy/image, mvn -Pk8s-image): built by Jib to a tar without a Docker daemon, then checked.
#   deploy/k8s/build-image.sh [--from IMAGE] [--check-only] [-- MAVEN_ARGS...]
# --from IMAGE  Jib's base (jib.from.image). Default: the pom's, apache/spark:3.5.7-scala2.12-java17-ubuntu, pulled
#               from Docker Hub. "scratch" needs no registry (an image with Baton's layers only: enough to check
#               them, not to run); "tar:///path/base.tar" takes a saved image (docker save, skopeo copy ...
#               docker-archive:...).
# --check-only  no build: check deploy/image/target/baton-image.tar as it is.
# Builds common, trainer, coordinator and the distribution (tests skipped: they are mvn -B test's), then the image
# tar deploy/image/target/baton-image.tar. Checks, from the tar's manifest and layers (no daemon either):
#   - /opt/baton/app holds exactly the distribution's app/ jars (same names and sizes), baton-coordinator among them;
#   - no Spark, Scala, Hadoop or logging-backend jar in Baton's layers (a Spark base brings its own in its layers);
#   - /opt/baton/conf/jvm.properties and log4j2.properties; an executable /opt/baton/spark/gpu-discovery.sh;
#   - the base's entrypoint, user, working directory and SPARK_HOME kept (entrypoint INHERIT).
# Exit 0 with a summary, 1 when a check fails. Needs the Jib plugin (Maven Central, first run), jq, tar, gzip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
from=""
build=1
mvn_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:?--from needs an image}"; shift 2 ;;
    --check-only) build=0; shift ;;
    --) shift; mvn_args=("$@"); break ;;
    *) echo "build-image.sh: unknown option '$1' (--from IMAGE, --check-only, -- MAVEN_ARGS)" >&2; exit 2 ;;
  esac
done
command -v jq >/dev/null || { echo "build-image.sh: jq is needed to read the image's manifest" >&2; exit 2; }

image_tar="$root/deploy/image/target/baton-image.tar"
dist_app="$root/deploy/target/baton/app"
if [ "$build" = 1 ]; then
  from_arg=()
  if [ -n "$from" ]; then from_arg=("-Djib.from.image=$from"); fi
  (cd "$root" && mvn -B -Pk8s-image -pl deploy/image -am package -DskipTests -Djib.disableUpdateChecks=true \
    "${from_arg[@]}" "${mvn_args[@]}")
fi
[ -f "$image_tar" ] || { echo "build-image.sh: no image at $image_tar" >&2; exit 1; }
[ -d "$dist_app" ] || { echo "build-image.sh: no distribution at $dist_app" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xf "$image_tar" -C "$work" manifest.json
config="$(jq -r '.[0].Config' "$work/manifest.json")"
tar -xf "$image_tar" -C "$work" "$config"
mapfile -t layers < <(jq -r '.[0].Layers[]' "$work/manifest.json")
# Which layers Jib added: the config's history names the tool for each non-empty layer, oldest first.
mapfile -t creators < <(jq -r '.history[] | select(.empty_layer != true) | .created_by // ""' "$work/$config")
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

: > "$work/baton.files"
: > "$work/base.files"
: > "$work/baton.modes"
echo "image: $image_tar ($(du -h "$image_tar" | cut -f1))," \
  "tag $(jq -r '.[0].RepoTags | join(",")' "$work/manifest.json")"
for i in "${!layers[@]}"; do
  layer="${layers[$i]}"
  tar -xf "$image_tar" -C "$work" "$layer"
  # One line per file: mode, size, then the path without a leading ./ or /.
  tar --warning=no-unknown-keyword -tvzf "$work/$layer" \
    | awk '$1 !~ /^d/ { m = $1; size = $3; $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print m, size, $0 }' \
    | sed -E 's#^([^ ]+ [0-9]+) (\./|/)?#\1 #' > "$work/layer.modes"
  cut -d' ' -f2- "$work/layer.modes" > "$work/layer.files"
  creator="${creators[$i]:-}"
  case "$creator" in
    jib-maven-plugin*) cat "$work/layer.files" >> "$work/baton.files"; cat "$work/layer.modes" >> "$work/baton.modes"
                       owner="baton" ;;
    *) cat "$work/layer.files" >> "$work/base.files"; owner="base" ;;
  esac
  printf '  layer %d (%s, %s): %d files, %s\n' "$i" "$owner" "${creator:-base image}" "$(wc -l < "$work/layer.files")" \
    "$(du -h "$work/$layer" | cut -f1)"
  awk '{ print "    " $2 }' "$work/layer.files" | sed -n '1,3p'
  rm -f "$work/$layer"
done

# Baton's jars: exactly the distribution's app/.
(cd "$dist_app" && for f in *.jar; do echo "$(stat -c %s "$f") opt/baton/app/$f"; done) | sort > "$work/expected"
grep -E ' opt/baton/app/[^/]+\.jar$' "$work/baton.files" | sort > "$work/actual" || true
if ! diff -u "$work/expected" "$work/actual" > "$work/app.diff"; then
  fail "/opt/baton/app differs from $dist_app (expected -, image +):"; sed -n '3,40p' "$work/app.diff"
fi
grep -qE ' opt/baton/app/baton-coordinator-[^/]*\.jar$' "$work/baton.files" \
  || fail "no baton-coordinator jar in /opt/baton/app"
# What the cluster provides must not come from Baton's layers.
provided='(spark-[a-z-]+_2\.1[23]|scala-(library|reflect|compiler)|hadoop-[a-z-]+|log4j-(core|slf4j2?-impl))'
provided="$provided-[0-9][^/]*\.jar\$"
if grep -E "/$provided" "$work/baton.files" > "$work/provided"; then
  fail "Spark, Scala, Hadoop or logging jars in Baton's layers:"; sed 's/^/    /' "$work/provided"
fi
for f in opt/baton/conf/jvm.properties opt/baton/conf/log4j2.properties opt/baton/spark/gpu-discovery.sh; do
  grep -qE " $f\$" "$work/baton.files" || fail "missing /$f"
done
grep -qE '^-rwxr-xr-x [0-9]+ opt/baton/spark/gpu-discovery.sh$' "$work/baton.modes" \
  || fail "/opt/baton/spark/gpu-discovery.sh is not executable (mode 755)"
# Entry point and user: Spark's, inherited (none on a scratch base).
entrypoint="$(jq -c '.config.Entrypoint' "$work/$config")"
user="$(jq -r '.config.User // ""' "$work/$config")"
workdir="$(jq -r '.config.WorkingDir // ""' "$work/$config")"
spark_home="$(jq -r '(.config.Env // [])[] | select(startswith("SPARK_HOME="))' "$work/$config")"
base_files="$(wc -l < "$work/base.files")"
if [ "$base_files" -gt 0 ] && [ "$entrypoint" = "null" ]; then
  fail "the base image's entrypoint was not kept (entrypoint INHERIT)"
fi

echo "Baton's layers: $(wc -l < "$work/baton.files") files, $(wc -l < "$work/actual") jars in /opt/baton/app" \
  "($(awk '{ s += $1 } END { printf "%.0f MB", s / 1e6 }' "$work/actual"))," \
  "no Spark/Scala/Hadoop/logging jar among them: $([ -s "$work/provided" ] && echo no || echo yes)"
echo "base layers: $base_files files" \
  "($(grep -cE "/$provided" "$work/base.files" || true) Spark/Scala/Hadoop/logging jars)"
echo "config: entrypoint $entrypoint, user '${user}', workdir '${workdir}', ${spark_home:-no SPARK_HOME}"
if [ "$failures" -gt 0 ]; then echo "build-image.sh: $failures check(s) failed"; exit 1; fi
echo "build-image.sh: image checked"
