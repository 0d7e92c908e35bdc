#!/usr/bin/env bash
# Regenerates README.md's configuration reference from the declared keys (ReadmeConfigReferenceTest checks it).
# Usage: tools/update-readme-config.sh   (from any checkout; builds the coordinator's classes first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mvn -B -q -pl coordinator -am compile
mvn -B -q -pl coordinator -am test-compile dependency:build-classpath -Dmdep.outputFile="$root/coordinator/target/cli-cp.txt"
flags="$(sed -n '/^baton\.jvm\.flags=/,/[^\\]$/p' conf/jvm.properties | sed -e 's/^baton\.jvm\.flags=//' -e 's/\\$//' | tr '\n' ' ')"
# shellcheck disable=SC2086
java $flags -cp "coordinator/target/classes:trainer/target/classes:common/target/classes:$(cat coordinator/target/cli-cp.txt)" \
  io.baton.coordinator.cli.BatonCli config --reference > coordinator/target/config-reference.md
python3 - "$root/README.md" "$root/coordinator/target/config-reference.md" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
s = open(readme).read()
b = '<!-- config-reference:begin (generated: baton config --reference) -->\n'
e = '<!-- config-reference:end -->'
i = s.index(b) + len(b); j = s.index(e)
open(readme, 'w').write(s[:i] + table + s[j:])
PY
echo "README.md configuration reference updated"
