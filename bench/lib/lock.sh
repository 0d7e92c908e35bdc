# Sourced by the bench scripts: the machine's one build and benchmark lock (docs/BENCHMARKS.md: never two Maven
# builds or two benchmarks at once on these 2 cores). After sourcing, this shell holds LOCK (default
# /tmp/baton-build.lock) until it exits, and every command it runs, Maven included, runs under it.
#
# A caller may already hold the lock, as the documented commands do (`flock /tmp/baton-build.lock bench/x/run.sh`):
# the flock process is then an ancestor of this shell, and taking the lock again on a new open file would wait for
# it forever. So the ancestors are looked up in /proc/locks first (the lock's holder is recorded by PID), and
# LOCK_HELD=1 says the same explicitly (e.g. a lock taken by a process that is not an ancestor, which we trust).
BATON_LOCK="${LOCK:-/tmp/baton-build.lock}"
baton_lock_held_by_ancestor() {
  local inode holders pid
  [ -e "$BATON_LOCK" ] || return 1
  inode="$(stat -c %i "$BATON_LOCK")"
  # /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF" (pid, then major:minor:inode)
  holders=" $(awk -v ino="$inode" '$2 == "FLOCK" { split($6, id, ":"); if (id[3] == ino) print $5 }' /proc/locks | tr '\n' ' ') "
  pid=$$
  while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
    [[ "$holders" == *" $pid "* ]] && return 0
    pid="$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)"
  done
  return 1
}
if [ "${LOCK_HELD:-0}" != 1 ] && ! baton_lock_held_by_ancestor; then
  exec 9>"$BATON_LOCK"
  if ! flock -n 9; then
    echo "waiting for $BATON_LOCK (held by another build or benchmark) ..." >&2
    flock 9
  fi
fi
export LOCK_HELD=1
