#!/usr/bin/env bash
# Installs kerberus into a temporary prefix and proves that the installed
# package alone is enough: a plain C plugin builds with gcc + pkg-config, a
# C++ plugin builds with CMake find_package(Kerberus), and the installed
# kerberusd serves both next to the installed bundled plugins.
#
# usage: install_test.sh <build-dir> <source-dir>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <build-dir> <source-dir>" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$2" && pwd)/tests/install

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-install-test.XXXXXX")
prefix=$tmp/prefix
daemon_log=$tmp/kerberusd.stderr
# shellcheck source=../lib/shell_test_support.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/shell_test_support.sh"

# A plugin must export its entry symbol and nothing else.
expect_only_entry_symbol() {
    local symbols
    symbols=$(nm -D --defined-only "$1" | awk '{ print $NF }')
    [[ $symbols == kerberus_plugin_v1 ]] || fail "$1 exports more than kerberus_plugin_v1:"$'\n'"$symbols"
}

expect_body() {
    local url=$1 expected=$2 body
    body=$(curl -fsS --max-time 5 "$url") || fail "GET $url failed"
    [[ $body == "$expected" ]] || fail "GET $url: expected '$expected', got '$body'"
}

step "cmake --install into $prefix"
quiet cmake --install "$build" --prefix "$prefix"
for f in include/kerberus/plugin.h include/kerberus/plugin.hpp bin/kerberusd; do
    [[ -e $prefix/$f ]] || fail "not installed: $f"
done

step "pkg-config"
pc=$(find "$prefix" -path '*/pkgconfig/kerberus.pc' | head -n 1)
[[ -n $pc ]] || fail "kerberus.pc not installed"
export PKG_CONFIG_PATH=${pc%/*}
read -r cflags < <(pkg-config --cflags kerberus)  # read trims pkg-config's trailing blank
[[ $cflags == "-I$prefix/include" ]] || fail "pkg-config --cflags kerberus: expected -I$prefix/include, got '$cflags'"
plugindir=$(pkg-config --variable=plugindir kerberus)
[[ -d $plugindir ]] || fail "plugindir '$plugindir' does not exist"
for id in hello echo; do
    compgen -G "$plugindir/$id.so.*" >/dev/null || fail "bundled plugin $id not installed in $plugindir"
done

step "plain C plugin with gcc"
mkdir -p "$tmp/plugins-extra"
# shellcheck disable=SC2086  # $cflags is a list of flags
quiet gcc -std=c99 -pedantic -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $cflags \
    -o "$tmp/plugins-extra/greeter.so.0.1.0" "$here/plain_c_plugin/greeter.c"

step "out-of-tree C++ plugin with find_package(Kerberus)"
quiet cmake -S "$here/cmake_plugin" -B "$tmp/cxx-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build "$tmp/cxx-build" -j2
quiet cmake --install "$tmp/cxx-build"
[[ -e $plugindir/cxxgreeter.so.0.1.0 ]] || fail "cxxgreeter not installed into $plugindir"

step "exported symbols"
for plugin in "$tmp/plugins-extra"/*.so.* "$plugindir"/*.so.*; do
    expect_only_entry_symbol "$plugin"
done

step "kerberusd serves the plugins"
cat >"$tmp/kerberus.yaml" <<EOF
server: { listen: "127.0.0.1:0", workers: 2 }
admin: { listen: "127.0.0.1:0" }
logging: { level: info }
plugin_directories: [ "$tmp/plugins-extra", "$plugindir" ]
plugins:
  greeter: { config: { } }
  cxxgreeter: { config: { text: "hello from C++" } }
  hello: { config: { greeting: "Howdy" } }
EOF
"$prefix/bin/kerberusd" --config "$tmp/kerberus.yaml" 2>"$daemon_log" >/dev/null &
daemon_pid=$!

wait_for_serving

base=http://127.0.0.1:$port/api
expect_body "$base/greeter/" "greetings"
expect_body "$base/cxxgreeter/" "hello from C++"
expect_body "$base/hello/" "Howdy, world!"
expect_body "$base/hello/kerberus" "Howdy, kerberus!"
echo_body=$(curl -fsS --max-time 5 "$base/echo/x?a=1") || fail "GET $base/echo/x failed"
[[ $echo_body == *'"path":"/x"'* ]] || fail "echo: unexpected body: $echo_body"

step "SIGTERM stops kerberusd cleanly"
kill -TERM "$daemon_pid"
# `wait` has no timeout; bash reaps the exited daemon, so kill -0 can poll.
for _ in $(seq 150); do  # 15 s
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$daemon_pid" 2>/dev/null && fail "kerberusd did not exit within 15 s of SIGTERM"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[[ $rc -eq 0 ]] || fail "kerberusd exited with status $rc after SIGTERM"

step "PASS"
