# SPDX-License-Identifier: Apache-2.0
# Runs a plugin under a real kerberusd, for kerberus_add_plugin_test() and
# kerberus_add_plugin_run() (KerberusPluginHarness.cmake):
#
#   sh kerberus-plugin-harness.sh test WORKDIR KERBERUSD PLUGIN_DIR ID CONFIG COMMAND [ARG...]
#   sh kerberus-plugin-harness.sh run  WORKDIR KERBERUSD PLUGIN_DIR ID CONFIG
#
# The daemon listens on free ports of 127.0.0.1 (public and admin), loads
# the plugins in PLUGIN_DIR and requires ID to start. CONFIG is a
# kerberus.yaml layered under the harness's own settings (listeners, plugin
# directory, `required`), or "-" for none. WORKDIR holds the daemon's log
# and configuration while it runs, and is emptied first; "-" for a new
# directory in $TMPDIR. A test gives one in its build tree: a test killed
# at its timeout has no chance to remove it, and the next run reuses it.
#
# Routes answer without a token, as on a developer's machine
# (auth.dangerouslyDisableDefaultAuthPolicy), and one static token, made for
# the run, names its caller "harness": KERBERUS_TOKEN. CONFIG may turn the
# default policy back on (auth: { dangerouslyDisableDefaultAuthPolicy: false })
# to test what callers without a token get.
#
# test: once the daemon serves, runs COMMAND with KERBERUS_URL,
# KERBERUS_ADMIN_URL (http://127.0.0.1:PORT) and KERBERUS_TOKEN in its
# environment, then stops
# the daemon with SIGTERM. Fails when the daemon does not start, when
# COMMAND fails (with its status), or when the daemon does not exit 0 within
# 15 s; the daemon's log is printed then.
# run: serves in the foreground, its log on the terminal, until Ctrl-C.
#
# Whatever happens, the daemon does not outlive this script: it is killed on
# exit, on SIGINT/SIGTERM/SIGHUP, and (through setpriv's parent-death
# signal, where setpriv has one) when this script is killed outright.
# POSIX sh, so that it runs with dash as well as bash.

if [ $# -lt 6 ] || { [ "$1" = test ] && [ $# -lt 7 ]; } || { [ "$1" != test ] && [ "$1" != run ]; }; then
    echo "usage: sh $0 test WORKDIR KERBERUSD PLUGIN_DIR ID CONFIG COMMAND [ARG...]" >&2
    echo "       sh $0 run WORKDIR KERBERUSD PLUGIN_DIR ID CONFIG" >&2
    exit 2
fi
mode=$1
workdir=$2
kerberusd=$3
plugin_dir=$4
id=$5
config=$6
shift 6

say() { printf 'kerberus: %s\n' "$*" >&2; }

if [ "$workdir" = - ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-plugin.XXXXXX") || exit 1
else
    tmp=$workdir
    rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
fi
log=$tmp/kerberusd.log
: >"$log"
daemon_pid=
tail_pid=
show_log=false

cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    # tail ends by itself once the daemon has (--pid).
    [ -z "$tail_pid" ] || wait "$tail_pid" 2>/dev/null
    if $show_log; then
        echo "---- kerberusd log ($kerberusd) ----" >&2
        cat "$log" >&2
        echo "---- end of the kerberusd log ----" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# A signal ends the script, and the EXIT trap ends the daemon. In `run`
# mode SIGINT is Ctrl-C: the daemon got it too and is already draining.
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# In `run` mode the log is on the terminal already.
fail() {
    say "FAIL: $*"
    [ "$mode" = run ] || show_log=true
    exit 1
}

[ -x "$kerberusd" ] || fail "$kerberusd is not an executable kerberusd"
[ -d "$plugin_dir" ] || fail "the plugin directory $plugin_dir does not exist (is the plugin built?)"
if [ "$config" != - ] && [ ! -f "$config" ]; then
    fail "the configuration $config does not exist"
fi

KERBERUS_TOKEN=harness-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export KERBERUS_TOKEN

# Defaults CONFIG may change come first; the harness's own layer goes last,
# so the settings it relies on win. The plugin directory and the token come
# from the environment: they need no quoting there.
cat >"$tmp/harness-defaults.yaml" <<EOF
# Written by kerberus-plugin-harness.sh for this run only.
auth:
  dangerouslyDisableDefaultAuthPolicy: true
  externalAccess:
    - type: static
      options: { token: { \$env: KERBERUS_TOKEN }, subject: harness }
EOF
cat >"$tmp/harness.yaml" <<EOF
# Written by kerberus-plugin-harness.sh for this run only.
server:
  listen: "127.0.0.1:0"
admin:
  enabled: true
  listen: "127.0.0.1:0"
plugin_directories:
  - { \$env: KERBERUS_HARNESS_PLUGIN_DIR }
plugins:
  "$id":
    # A plugin that cannot start stops the daemon at once, with the reason
    # in the log, instead of answering 503 to the test.
    required: true
EOF

# The parent-death signal reaches the daemon even when this script is
# killed with SIGKILL (a ctest timeout kills the whole tree anyway).
launcher=
if command -v setpriv >/dev/null 2>&1 && setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
    launcher="setpriv --pdeathsig KILL"
fi

start_daemon() {
    (
        # Not a service here, whatever started the build: no readiness
        # notifications, no watchdog, no journal.
        unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID JOURNAL_STREAM
        KERBERUS_HARNESS_PLUGIN_DIR=$plugin_dir
        export KERBERUS_HARNESS_PLUGIN_DIR
        if [ "$config" = - ]; then
            exec $launcher "$kerberusd" --config "$tmp/harness-defaults.yaml" --config "$tmp/harness.yaml" \
                </dev/null >>"$log" 2>&1
        else
            exec $launcher "$kerberusd" --config "$tmp/harness-defaults.yaml" --config "$config" \
                --config "$tmp/harness.yaml" </dev/null >>"$log" 2>&1
        fi
    ) &
    daemon_pid=$!
}

# The URL a log line names: "serving on http://127.0.0.1:41234 (...)".
logged_url() {
    sed -n "s|.*$1 \\(http://[0-9.]*:[0-9]*\\).*|\\1|p" "$log" | head -n 1
}

# Waits up to 30 s for the daemon to serve; sets url and admin_url.
wait_until_serving() {
    i=0
    while :; do
        url=$(logged_url "serving on")
        if [ -n "$url" ]; then
            admin_url=$(logged_url "admin surface on")
            [ -n "$admin_url" ] || fail "kerberusd serves on $url but did not log its admin surface"
            return 0
        fi
        if ! kill -0 "$daemon_pid" 2>/dev/null; then
            status=0
            wait "$daemon_pid" || status=$?
            daemon_pid=
            fail "kerberusd exited with status $status before serving"
        fi
        i=$((i + 1))
        [ "$i" -le 300 ] || fail "kerberusd did not log 'serving on http://...' within 30 s"
        sleep 0.1
    done
}

# SIGTERM, then up to 15 s for the daemon to drain and exit (its default
# shutdown_timeout is 10 s); sets daemon_status, and daemon_killed when it
# had to be killed.
stop_daemon() {
    daemon_killed=false
    kill -TERM "$daemon_pid" 2>/dev/null
    i=0
    while kill -0 "$daemon_pid" 2>/dev/null && [ "$i" -lt 150 ]; do
        i=$((i + 1))
        sleep 0.1
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        daemon_pid=
        daemon_killed=true
        daemon_status=137
        return
    fi
    daemon_status=0
    wait "$daemon_pid" || daemon_status=$?
    daemon_pid=
}

on_signal() {
    if [ "$mode" = run ] && [ -n "$daemon_pid" ]; then
        stop_daemon
        [ "$daemon_status" -eq 0 ] && exit 0
        say "kerberusd exited with status $daemon_status"
    fi
    exit "$1"
}

start_daemon

if [ "$mode" = run ]; then
    # The log on the terminal as it is written, to the daemon's last line:
    # Ctrl-C reaches tail too, which ignores it and ends with the daemon.
    (
        trap '' INT TERM HUP
        exec tail -n +1 -f -s 0.2 --pid="$daemon_pid" "$log"
    ) &
    tail_pid=$!
    wait_until_serving
    say "$id is served at $url/api/$id/"
    say "admin surface (dashboard, /metrics, /v1/plugins): $admin_url/"
    if command -v curl >/dev/null 2>&1; then
        answer=$(curl -sS --max-time 5 -w ' (%{http_code})' "$url/api/$id/" 2>&1)
        say "GET /api/$id/ answers: $answer"
    fi
    say "Ctrl-C stops it"
    status=0
    wait "$daemon_pid" || status=$?
    daemon_pid=
    [ "$status" -eq 0 ] || say "kerberusd exited with status $status"
    exit "$status"
fi

wait_until_serving
status=0
KERBERUS_URL=$url KERBERUS_ADMIN_URL=$admin_url "$@" || status=$?
if ! kill -0 "$daemon_pid" 2>/dev/null; then
    daemon_status=0
    wait "$daemon_pid" || daemon_status=$?
    daemon_pid=
    fail "kerberusd exited (status $daemon_status) while the test ran"
fi
stop_daemon
if [ "$status" -ne 0 ]; then
    say "FAIL: $* exited with status $status"
    show_log=true
    exit "$status"
fi
if $daemon_killed; then
    fail "kerberusd did not exit within 15 s of SIGTERM"
fi
[ "$daemon_status" -eq 0 ] || fail "kerberusd exited with status $daemon_status after SIGTERM"
exit 0
