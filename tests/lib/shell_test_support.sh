# Shared by the shell tests (install, packaging). Source it after setting
# $tmp (a directory the test owns and that is removed on exit) and
# $daemon_log (where a started kerberusd writes its stderr). It gives:
# cleanup on exit (a daemon still running is killed, its log shown on
# failure), fail, step, quiet and wait_for_serving.

daemon_pid=

cleanup() {
    local rc=$?
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s $daemon_log ]]; then
        echo "---- kerberusd stderr ----" >&2
        cat "$daemon_log" >&2
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "== $*"; }

# Runs a command quietly; shows its output only if it fails.
quiet() {
    local log=$tmp/command.log
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "command failed: $*"
    fi
}

# Waits up to 20 s for the daemon started as $daemon_pid to log its
# "serving on" line; sets $port.
wait_for_serving() {
    port=
    for _ in $(seq 200); do
        port=$(grep -oE 'serving on http://127\.0\.0\.1:[0-9]+' "$daemon_log" | head -n 1 | sed 's/.*://') || true
        [[ -n $port ]] && return 0
        kill -0 "$daemon_pid" 2>/dev/null || fail "kerberusd exited before serving"
        sleep 0.1
    done
    fail "kerberusd did not report 'serving on http://127.0.0.1:<port>' within 20 s"
}
