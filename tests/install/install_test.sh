#!/usr/bin/env bash
# Installs kerberus into a temporary prefix and proves that the installed
# package alone is enough: a plain C plugin builds with gcc + pkg-config, a
# C++ plugin builds with CMake find_package(Kerberus) and installs below its
# own --prefix (KERBERUS_PLUGIN_INSTALL_DIR, never the package's plugin
# directory), and the installed kerberusd serves both next to the installed
# bundled plugins. The
# documentation (README.md, docs/*.md, the plugins' READMEs, the licence)
# is installed, and so are the examples: copied out of the prefix, hello
# (C) and echo (C++ SDK) build against the installed package alone and the
# installed kerberusd serves them.
#
# usage: install_test.sh <build-dir> <source-dir>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <build-dir> <source-dir>" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
here=$src/tests/install

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

expect_installed_copy() {
    [[ -f $prefix/$1 ]] || fail "not installed: $1"
    cmp -s "$prefix/$1" "$2" || fail "$1 differs from ${2#"$src"/}"
}

# Starts the installed kerberusd on a configuration and waits until it
# serves; stop_daemon stops it and expects a clean exit.
start_daemon() {
    "$prefix/bin/kerberusd" --config "$1" 2>"$daemon_log" >/dev/null &
    daemon_pid=$!
    wait_for_serving
}

stop_daemon() {
    kill -TERM "$daemon_pid"
    # `wait` has no timeout; bash reaps the exited daemon, so kill -0 can poll.
    for _ in $(seq 150); do  # 15 s
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$daemon_pid" 2>/dev/null && fail "kerberusd did not exit within 15 s of SIGTERM"
    local rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=
    [[ $rc -eq 0 ]] || fail "kerberusd exited with status $rc after SIGTERM"
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

step "the installed kerberusd finds its own configuration"
# No --config: <prefix>/etc/kerberus/kerberus.yaml and local.yaml, whose
# plugin_directories name the prefix's own plugin directory (once), which
# exists: no warning, every bundled plugin checked.
defaults=$("$prefix/bin/kerberusd" --check 2>&1) ||
    fail "kerberusd --check with the installed configuration failed:"$'\n'"$defaults"
grep -q "^hello .* ok " <<<"$defaults" || fail "kerberusd --check did not load the installed hello:"$'\n'"$defaults"
grep -qi "warn" <<<"$defaults" && fail "kerberusd --check warned with the installed configuration:"$'\n'"$defaults"
[[ $(grep -c -- "- $prefix/lib/kerberus/plugins\$" "$prefix/etc/kerberus/kerberus.yaml") -eq 1 ]] ||
    fail "the installed configuration should name $prefix/lib/kerberus/plugins once:"$'\n'"$(cat "$prefix/etc/kerberus/kerberus.yaml")"
"$prefix/bin/kerberusd" --help | grep -q "Default: $prefix/etc/kerberus/kerberus.yaml" ||
    fail "kerberusd --help does not name the installed configuration"

step "documentation and examples"
docdir=share/doc/kerberus
expect_installed_copy "$docdir/README.md" "$src/README.md"
expect_installed_copy "$docdir/LICENSE" "$src/docs/LICENSE"
for guide in "$src"/docs/*.md; do
    expect_installed_copy "$docdir/${guide##*/}" "$guide"
done
[[ -f $prefix/$docdir/writing-plugins.md ]] || fail "not installed: $docdir/writing-plugins.md"
for readme in "$src"/plugins/*/README.md; do
    id=$(basename "$(dirname "$readme")")
    expect_installed_copy "$docdir/plugins/$id/README.md" "$readme"
done
examples=share/kerberus/examples
expect_installed_copy "$examples/hello/hello.c" "$src/plugins/hello/hello.c"
expect_installed_copy "$examples/echo/echo.cpp" "$src/plugins/echo/echo.cpp"
for example in hello echo; do
    [[ -f $prefix/$examples/$example/CMakeLists.txt ]] || fail "not installed: $examples/$example/CMakeLists.txt"
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
# KERBERUS_PLUGIN_INSTALL_DIR is relative: the default prefix gives the
# administrator's /usr/local/lib/kerberus/plugins, and --prefix counts.
# shellcheck disable=SC2016  # ${CMAKE_INSTALL_PREFIX} is cmake_install.cmake's text
if ! grep -qE '^ *set\(CMAKE_INSTALL_PREFIX "/usr/local"\)$' "$tmp/cxx-build/cmake_install.cmake" ||
    ! grep -qF 'file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/kerberus/plugins"' "$tmp/cxx-build/cmake_install.cmake"; then
    fail "cxxgreeter would not be installed into <prefix>/lib/kerberus/plugins, /usr/local's by default:"$'\n'"$(cat "$tmp/cxx-build/cmake_install.cmake")"
fi
bundled_before=$(ls "$plugindir")
quiet cmake --install "$tmp/cxx-build" --prefix "$tmp/author-prefix"
author_plugindir=$tmp/author-prefix/lib/kerberus/plugins
[[ -e $author_plugindir/cxxgreeter.so.0.1.0 ]] || fail "cxxgreeter not installed into $author_plugindir"
[[ $(ls "$plugindir") == "$bundled_before" ]] || fail "installing cxxgreeter changed the package's own $plugindir"

step "exported symbols"
for plugin in "$tmp/plugins-extra"/*.so.* "$plugindir"/*.so.* "$author_plugindir"/*.so.*; do
    expect_only_entry_symbol "$plugin"
done

step "kerberusd serves the plugins"
cat >"$tmp/kerberus.yaml" <<EOF
server: { listen: "127.0.0.1:0", workers: 2 }
admin: { listen: "127.0.0.1:0" }
auth: { dangerouslyDisableDefaultAuthPolicy: true }
logging: { level: info }
plugin_directories: [ "$tmp/plugins-extra", "$plugindir", "$author_plugindir" ]
plugins:
  greeter: { config: { } }
  cxxgreeter: { config: { text: "hello from C++" } }
  hello: { config: { greeting: "Howdy" } }
EOF
start_daemon "$tmp/kerberus.yaml"

base=http://127.0.0.1:$port/api
expect_body "$base/greeter/" "greetings"
expect_body "$base/cxxgreeter/" "hello from C++"
expect_body "$base/hello/" "Howdy, world!"
expect_body "$base/hello/kerberus" "Howdy, kerberus!"
echo_body=$(curl -fsS --max-time 5 "$base/echo/x?a=1") || fail "GET $base/echo/x failed"
[[ $echo_body == *'"path":"/x"'* ]] || fail "echo: unexpected body: $echo_body"

step "SIGTERM stops kerberusd cleanly"
stop_daemon

step "the examples, copied out of the prefix, build against the installed package alone"
# What a plugin author does: copy an example anywhere and build it with the
# CMakeLists.txt that comes with it. The package found must be the one
# installed above, and nothing may come from the source or build tree.
kerberus_dir=$(dirname "$(find "$prefix" -name KerberusConfig.cmake | head -n 1)")
mkdir -p "$tmp/author"
for example in hello echo; do
    cp -R "$prefix/$examples/$example" "$tmp/author/$example"
    quiet cmake -S "$tmp/author/$example" -B "$tmp/author/$example/build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    grep -qx "Kerberus_DIR:PATH=$kerberus_dir" "$tmp/author/$example/build/CMakeCache.txt" ||
        fail "the $example example did not use the installed package $kerberus_dir:"$'\n'"$(grep Kerberus_DIR "$tmp/author/$example/build/CMakeCache.txt")"
    quiet cmake --build "$tmp/author/$example/build" -j2
    ! grep -qF -e "$src/" -e "$build/" "$tmp/author/$example/build/compile_commands.json" ||
        fail "the $example example was compiled with paths into the source or build tree:"$'\n'"$(cat "$tmp/author/$example/build/compile_commands.json")"
    built=("$tmp/author/$example/build/$example".so.*)
    [[ -f ${built[0]} ]] || fail "the $example example built no $example.so.<version>"
    expect_only_entry_symbol "${built[0]}"
done

step "kerberusd loads and serves the examples"
cat >"$tmp/examples.yaml" <<EOF
server: { listen: "127.0.0.1:0", workers: 2 }
admin: { listen: "127.0.0.1:0" }
auth: { dangerouslyDisableDefaultAuthPolicy: true }
plugin_directories: [ "$tmp/author/hello/build", "$tmp/author/echo/build" ]
EOF
check=$("$prefix/bin/kerberusd" --config "$tmp/examples.yaml" --check 2>&1) ||
    fail "kerberusd --check on the examples failed:"$'\n'"$check"
for example in hello echo; do
    # The version in the file name is the descriptor's: the example's
    # CMakeLists.txt and its source agree.
    grep -qE "^$example +([0-9.]+) .* ok +(checked|none) +$tmp/author/$example/build/$example\.so\.\1( |\$)" <<<"$check" ||
        fail "kerberusd --check does not load the $example example as $example.so.<its version>:"$'\n'"$check"
done
start_daemon "$tmp/examples.yaml"
base=http://127.0.0.1:$port/api
expect_body "$base/hello/author" "Hello, author!"
echo_body=$(curl -fsS --max-time 5 "$base/echo/x") || fail "GET $base/echo/x failed"
[[ $echo_body == *'"path":"/x"'* ]] || fail "the echo example: unexpected body: $echo_body"
stop_daemon

step "PASS"
