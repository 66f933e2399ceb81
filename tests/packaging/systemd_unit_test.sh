#!/usr/bin/env bash
# Checks systemd/kerberusd.service as shipped, without a running systemd:
#   - `systemd-analyze verify` reports nothing, run under --root on a tree
#     holding the unit byte for byte and the daemon at its ExecStart path
#     (verify checks that ExecStart/ExecReload exist, so this is the real
#     content, not a copy with rewritten paths);
#   - `systemd-analyze security --offline=true` rates the exposure at most
#     2.0;
#   - the settings the daemon depends on are present, and TimeoutStopSec
#     and WatchdogSec leave room for the default server.shutdown_timeout;
#   - the sysusers.d file parses.
# Skips (77) only when systemd-analyze is missing.
#
# usage: systemd_unit_test.sh <kerberusd> <source-dir>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <kerberusd> <source-dir>" >&2
    exit 2
fi
kerberusd=$1
src=$(cd "$2" && pwd)
unit=$src/systemd/kerberusd.service
sysusers=$src/systemd/kerberus.sysusers
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not found (Debian package 'systemd'; .ci/install-deps installs it)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-unit-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "== $*"; }

# The value of the last `Key=` line of the [Service] section.
service_value() {
    awk -v key="$1" '
        /^\[/ { in_service = ($0 == "[Service]") }
        in_service && index($0, key "=") == 1 { value = substr($0, length(key) + 2) }
        END { print value }' "$unit"
}

# A systemd time span in microseconds.
usec() {
    systemd-analyze timespan "$1" | awk '$1 == "μs:" { print $2 }'
}

step "systemd-analyze verify (under --root, unit as shipped)"
root=$tmp/root
exec_start=$(service_value ExecStart)
daemon_path=${exec_start%% *}
reload_path=$(service_value ExecReload)
reload_path=${reload_path%% *}
[[ $daemon_path == /* ]] || fail "ExecStart does not start with an absolute path: $exec_start"
[[ $reload_path == /* ]] || fail "ExecReload does not start with an absolute path"
mkdir -p "$root/lib/systemd/system" "$root$(dirname "$daemon_path")" "$root$(dirname "$reload_path")"
cp "$unit" "$root/lib/systemd/system/kerberusd.service"
cp "$kerberusd" "$root$daemon_path"
if [[ -x $reload_path ]]; then
    cp "$reload_path" "$root$reload_path"
else
    # Only its existence is checked; a host without procps still tests
    # everything else.
    printf '#!/bin/sh\n' >"$root$reload_path"
    chmod +x "$root$reload_path"
fi
# The targets the unit orders itself against, as empty units: verify then
# depends on nothing from this host's systemd installation.
for target in sysinit.target basic.target shutdown.target network.target multi-user.target; do
    printf '[Unit]\nDescription=%s\n' "$target" >"$root/lib/systemd/system/$target"
done
verify() { SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$root" kerberusd.service 2>&1; }
if ! out=$(verify); then
    fail "systemd-analyze verify failed:"$'\n'"$out"
fi
[[ -z $out ]] || fail "systemd-analyze verify is not clean:"$'\n'"$out"

# The check above must be able to fail: without the daemon it has to.
mv "$root$daemon_path" "$root$daemon_path.moved"
if out=$(verify) && [[ -z $out ]]; then
    fail "systemd-analyze verify did not notice a missing $daemon_path; the check above proves nothing"
fi
mv "$root$daemon_path.moved" "$root$daemon_path"

step "systemd-analyze security --offline=true"
out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --no-pager "$unit" 2>&1) ||
    fail "systemd-analyze security failed:"$'\n'"$out"
exposure=$(sed -n 's/.*Overall exposure level for kerberusd\.service: \([0-9][0-9.]*\).*/\1/p' <<<"$out")
[[ -n $exposure ]] || fail "no exposure level in the output of systemd-analyze security:"$'\n'"$out"
echo "exposure: $exposure (at most $max_exposure)"
awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e <= max) }' ||
    fail "exposure $exposure is above $max_exposure:"$'\n'"$(grep '✗' <<<"$out")"

step "settings the daemon relies on"
expect() {
    local key=$1 expected=$2 actual
    actual=$(service_value "$key")
    [[ $actual == "$expected" ]] || fail "$key: expected '$expected', got '$actual'"
}
expect Type notify
expect NotifyAccess main
expect User kerberus
expect Group kerberus
expect ConfigurationDirectory kerberus
expect ExecReload '/bin/kill -HUP $MAINPID'
expect Restart on-failure
[[ $exec_start == "/usr/bin/kerberusd --config /etc/kerberus/kerberus.yaml"* ]] ||
    fail "ExecStart does not run /usr/bin/kerberusd on /etc/kerberus/kerberus.yaml: $exec_start"
# AF_UNIX carries sd_notify and the journal; the listener needs AF_INET(6).
families=" $(service_value RestrictAddressFamilies) "
for family in AF_UNIX AF_INET AF_INET6; do
    [[ $families == *" $family "* ]] || fail "RestrictAddressFamilies lacks $family"
done
shutdown_timeout=$(sed -n 's/^ *shutdown_timeout: *\([^ #]*\).*/\1/p' "$src/config/kerberus.installed.yaml.in")
[[ -n $shutdown_timeout ]] || fail "no server.shutdown_timeout in config/kerberus.installed.yaml.in"
# Stopping drains for up to shutdown_timeout, and so does a reload that
# replaces plugins, without pinging the watchdog meanwhile.
for key in TimeoutStopSec WatchdogSec; do
    value=$(service_value "$key")
    [[ -n $value ]] || fail "$key is not set"
    (($(usec "$value") > $(usec "$shutdown_timeout"))) ||
        fail "$key=$value does not exceed server.shutdown_timeout ($shutdown_timeout)"
done

step "sysusers.d entry"
if command -v systemd-sysusers >/dev/null 2>&1; then
    out=$(systemd-sysusers --root="$tmp/sysusers-root" --dry-run "$sysusers" 2>&1) ||
        fail "systemd-sysusers rejects $sysusers:"$'\n'"$out"
    grep -q "user 'kerberus'" <<<"$out" || fail "systemd-sysusers would not create the user kerberus:"$'\n'"$out"
else
    echo "systemd-sysusers not found; entry not parsed"
fi

step "PASS"
