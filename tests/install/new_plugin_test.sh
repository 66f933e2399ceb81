#!/usr/bin/env bash
# A plugin author's first minutes, from a prefix install alone: for C, C++
# and Rust, kerberus-new-plugin writes a plugin folder, CMake builds it
# against the installed package (warning-free under -Werror), its generated
# test passes under ctest (kerberus_add_plugin_test: the installed kerberusd
# on free ports), the `run` target serves it and its routes answer, and
# `cmake --install --prefix` puts it below that prefix. The commands are the
# ones the generator prints:
#
#   kerberus-new-plugin --lang c greeter
#   cmake -S greeter -B greeter/build
#   cmake --build greeter/build --target run
#
# Also: the generator refuses bad input and writes nothing then; ids CMake or
# Cargo could not take as names build; a failing test, a plugin that cannot
# start and a test that times out all fail, print the daemon's log, and
# leave no daemon behind.
#
# usage: new_plugin_test.sh <build-dir> <source-dir>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <build-dir> <source-dir>" >&2
    exit 2
fi
# Everything comes from the build tree's install; the source tree is not read.
build=$(cd "$1" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-new-plugin-test.XXXXXX")
prefix=$tmp/prefix
# shellcheck disable=SC2034  # cleanup shows it; the daemons here are the harness's
daemon_log=$tmp/no-daemon-of-its-own
# shellcheck source=../lib/shell_test_support.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/shell_test_support.sh"

# A run target still serving (its process group) goes first; cleanup then
# sees the script's exit status as its $?.
run_pgid=
status_is() { return "$1"; }
on_exit() {
    local rc=$?
    if [[ -n $run_pgid ]]; then
        kill -KILL -- "-$run_pgid" 2>/dev/null || true
    fi
    if status_is "$rc"; then cleanup; else cleanup; fi
}
trap on_exit EXIT

# The cargo the tree was built with: this machine may have another first
# on PATH.
cargo=$(sed -n 's/^KERBERUS_CARGO:FILEPATH=//p' "$build/CMakeCache.txt")
[[ -x $cargo ]] || fail "no KERBERUS_CARGO in $build/CMakeCache.txt"

# No kerberusd of the prefix may outlive a test.
expect_no_daemon() {
    local left
    left=$(pgrep -f -- "^$prefix/bin/kerberusd " || true)
    [[ -z $left ]] || fail "$1: kerberusd still runs (pid $left)"
}

expect_only_entry_symbol() {
    local symbols
    symbols=$(nm -D --defined-only "$1" | awk '{ print $NF }')
    [[ $symbols == kerberus_plugin_v1 ]] || fail "$1 exports more than kerberus_plugin_v1:"$'\n'"$symbols"
}

step "cmake --install into $prefix"
quiet cmake --install "$build" --prefix "$prefix"
kerberus_dir=$(dirname "$(find "$prefix" -name KerberusConfig.cmake | head -n 1)")
for f in bin/kerberus-new-plugin share/kerberus/rust/kerberus-plugin/Cargo.toml \
    share/kerberus/rust/kerberus-plugin/cmake/KerberusRust.cmake share/kerberus/templates/c/CMakeLists.txt.in; do
    [[ -e $prefix/$f ]] || fail "not installed: $f"
done
for f in KerberusPluginHarness.cmake kerberus-plugin-harness.sh; do
    [[ -e $kerberus_dir/$f ]] || fail "not installed beside KerberusConfig.cmake: $f"
done
bundled=$(dirname "$(find "$prefix" -name 'hello.so.*' | head -n 1)")
# Where the harness must leave nothing, even after a test's timeout.
export TMPDIR=$tmp/tmpdir
mkdir "$TMPDIR"
bundled_before=$(ls "$bundled")
# The author's shell: the installed bin directory on PATH, which is also how
# CMake finds the package (<dir>/.. of each <dir>/bin on PATH).
export PATH=$prefix/bin:$PATH
author=$tmp/author
mkdir -p "$author"
cd "$author"

step "the generator refuses bad input and writes nothing"
refuse() {
    local expected=$1 out rc=0
    shift
    out=$(kerberus-new-plugin "$@" 2>&1) || rc=$?
    [[ $rc -ne 0 ]] || fail "kerberus-new-plugin $* succeeded"
    [[ $out == *"$expected"* ]] || fail "kerberus-new-plugin $*: expected '$expected' in:"$'\n'"$out"
}
refuse "not a plugin id" --lang c Greeter
refuse "not a plugin id" --lang c -- -greeter
refuse "not a plugin id" --lang c 'a b'
refuse "not a plugin id" --lang c "$(printf 'a%.0s' {1..65})"
refuse "which language" greeter
refuse "unknown language" --lang go greeter
refuse "no plugin id" --lang c
refuse "too many arguments" --lang c greeter dir extra
[[ -z $(ls -A "$author") ]] || fail "a refused kerberus-new-plugin wrote:"$'\n'"$(ls -A "$author")"
mkdir occupied && touch occupied/file
refuse "is not empty" --lang c greeter occupied
[[ $(ls -A occupied) == file ]] || fail "kerberus-new-plugin touched a directory that was not empty"
kerberus-new-plugin --help | grep -q -- '--lang c|cpp|rust' || fail "kerberus-new-plugin --help"

# GET /api/$id<path> from the daemon at $url answers 200 with a JSON body.
expect_answer() {
    local path=$1 expected=$2 body
    body=$(curl -fsS --max-time 5 -w '\n%{content_type}' "$url/api/$id$path") || fail "$lang: GET /api/$id$path failed"
    [[ $body == "$expected"$'\n'application/json ]] ||
        fail "$lang: GET /api/$id$path: expected '$expected' (application/json), got '$body'"
}

# The journey, per language: <lang> <id> <target>. The ids try the corners:
# `test` is a target name CMake reserves (the target is named apart), and
# a crate name may not start with a digit.
journeys=(
    "c greeter greeter"
    "cpp test test-plugin"
    "rust 9lives 9lives"
)
for journey in "${journeys[@]}"; do
    read -r lang id target <<<"$journey"
    step "$lang: kerberus-new-plugin --lang $lang $id"
    generated=$(kerberus-new-plugin --lang "$lang" "$id")
    echo "$generated"
    # What it prints is what the author types next, word for word.
    grep -qxF "  cmake -S $id -B $id/build" <<<"$generated" ||
        fail "kerberus-new-plugin did not print 'cmake -S $id -B $id/build'"
    grep -qxF "  cmake --build $id/build --target run" <<<"$generated" ||
        fail "kerberus-new-plugin did not print 'cmake --build $id/build --target run'"
    for f in CMakeLists.txt kerberus.yaml README.md tests/routes.sh .gitignore; do
        [[ -f $id/$f ]] || fail "$lang: $id/$f not written"
    done
    ! grep -rn '@[A-Z_]*@' "$id" || fail "$lang: a placeholder was left in $id"

    step "$lang: cmake -S $id -B $id/build"
    # -Werror: the generated code builds without a warning. The cargo is
    # this machine's choice, not the journey's.
    quiet cmake -S "$id" -B "$id/build" -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror \
        -DKERBERUS_CARGO="$cargo"
    grep -qx "Kerberus_DIR:PATH=$kerberus_dir" "$id/build/CMakeCache.txt" ||
        fail "$lang: not built against the installed package $kerberus_dir:"$'\n'"$(grep Kerberus_DIR "$id/build/CMakeCache.txt")"

    step "$lang: cmake --build $id/build"
    started=$SECONDS
    quiet cmake --build "$id/build" -j2
    file=$id/build/$target.so.0.1.0
    [[ -f $file ]] || fail "$lang: $file not built:"$'\n'"$(ls "$id/build")"
    expect_only_entry_symbol "$file"
    echo "built $file in $((SECONDS - started)) s"
    printf 'plugin_directories: [ "%s" ]\n' "$author/$id/build" >"$tmp/check.yaml"
    check=$(kerberusd --config "$tmp/check.yaml" --check 2>&1) || fail "$lang: kerberusd --check failed:"$'\n'"$check"
    grep -qE "^$id +0\.1\.0 +1\.[0-9]+ +ok +checked " <<<"$check" ||
        fail "$lang: kerberusd --check does not show $id 0.1.0 with its settings checked:"$'\n'"$check"

    step "$lang: ctest --test-dir $id/build"
    out=$(ctest --test-dir "$id/build" --output-on-failure 2>&1) || fail "$lang: the generated test failed:"$'\n'"$out"
    grep -q "100% tests passed, 0 tests failed out of 1" <<<"$out" || fail "$lang: ctest ran something else:"$'\n'"$out"
    expect_no_daemon "$lang: after ctest"

    step "$lang: cmake --build $id/build --target run, and its routes answer"
    # In a session of its own, as a terminal would run it; SIGTERM to the
    # whole group stands for Ctrl-C (a background job ignores SIGINT).
    # The log exists before the job starts: it is polled at once.
    : >"$tmp/run.log"
    setsid cmake --build "$id/build" --target run >"$tmp/run.log" 2>&1 &
    run_pgid=$!
    url=
    for _ in $(seq 300); do
        url=$(sed -n "s|^kerberus: $id is served at \(http://127\.0\.0\.1:[0-9]*\)/api/$id/\$|\1|p" "$tmp/run.log")
        [[ -n $url ]] && break
        kill -0 "$run_pgid" 2>/dev/null || fail "$lang: the run target ended:"$'\n'"$(cat "$tmp/run.log")"
        sleep 0.1
    done
    [[ -n $url ]] || fail "$lang: the run target did not serve within 30 s:"$'\n'"$(cat "$tmp/run.log")"
    # The harness prints the answer once its own request returns, just
    # after the "served at" line.
    answered=
    for _ in $(seq 100); do
        if grep -qF "kerberus: GET /api/$id/ answers: {\"message\":\"Howdy, world!\"} (200)" "$tmp/run.log"; then
            answered=yes
            break
        fi
        sleep 0.1
    done
    [[ -n $answered ]] ||
        fail "$lang: the run target did not show the answer to GET /api/$id/:"$'\n'"$(cat "$tmp/run.log")"
    expect_answer / '{"message":"Howdy, world!"}'
    expect_answer /Ann '{"message":"Howdy, Ann!"}'
    # JSON escaping, and the same answer in every language for text that
    # is not UTF-8 (U+FFFD) or is (kept as it is).
    expect_answer '/%22q%22' '{"message":"Howdy, \"q\"!"}'
    expect_answer '/%FFx%E2%82' $'{"message":"Howdy, \xef\xbf\xbdx\xef\xbf\xbd!"}'
    expect_answer '/%C3%A9t%C3%A9' '{"message":"Howdy, été!"}'
    kill -TERM -- "-$run_pgid"
    for _ in $(seq 150); do
        kill -0 -- "-$run_pgid" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 -- "-$run_pgid" 2>/dev/null || fail "$lang: the run target did not stop within 15 s of SIGTERM"
    wait "$run_pgid" || true
    run_pgid=
    grep -q '\[info\] stopped$' "$tmp/run.log" || fail "$lang: kerberusd did not stop cleanly:"$'\n'"$(cat "$tmp/run.log")"
    expect_no_daemon "$lang: after the run target"

    step "$lang: cmake --install $id/build --prefix <author prefix>"
    quiet cmake --install "$id/build" --prefix "$tmp/author-prefix"
    [[ -f $tmp/author-prefix/lib/kerberus/plugins/$target.so.0.1.0 ]] ||
        fail "$lang: not installed into <author prefix>/lib/kerberus/plugins:"$'\n'"$(find "$tmp/author-prefix")"
done
[[ $(ls "$bundled") == "$bundled_before" ]] || fail "the package's own plugin directory $bundled changed"

step "c: ids that are the harness's own target name, or end with '-'"
for id in run a-; do
    quiet kerberus-new-plugin --lang c "$id"
    quiet cmake -S "$id" -B "$id/build" -DCMAKE_C_FLAGS=-Werror
    quiet cmake --build "$id/build" -j2
    out=$(ctest --test-dir "$id/build" --output-on-failure 2>&1) || fail "c $id: the generated test failed:"$'\n'"$out"
done

step "the harness: a failing test fails, with the daemon's log, and no daemon is left"
sed -i 's/greeting: "Howdy"/greeting: "Hi"/' greeter/kerberus.yaml
rc=0
out=$(ctest --test-dir greeter/build --output-on-failure 2>&1) || rc=$?
[[ $rc -ne 0 ]] || fail "a test whose command fails passed:"$'\n'"$out"
[[ $out == *"FAIL: GET"* && $out == *"---- kerberusd log"* && $out == *"serving on http://127.0.0.1:"* ]] ||
    fail "a failing test did not say why, or print the daemon's log:"$'\n'"$out"
expect_no_daemon "after a failing test"

step "the harness: a plugin that cannot start fails the test, with the reason"
sed -i 's/greeting: "Hi"/greeting: ""/' greeter/kerberus.yaml
rc=0
out=$(ctest --test-dir greeter/build --output-on-failure 2>&1) || rc=$?
[[ $rc -ne 0 ]] || fail "a test whose plugin's settings are refused passed:"$'\n'"$out"
[[ $out == *"before serving"* && $out == *"greeting"* ]] ||
    fail "a refused setting did not fail the test with the daemon's reason:"$'\n'"$out"
expect_no_daemon "after a plugin that could not start"
sed -i 's/greeting: ""/greeting: "Howdy"/' greeter/kerberus.yaml

step "the harness: a test that times out leaves no daemon behind"
cat >>greeter/CMakeLists.txt <<'EOF'
kerberus_add_plugin_test(NAME hangs PLUGIN greeter TIMEOUT 3 COMMAND sleep 60)
EOF
quiet cmake -S greeter -B greeter/build
rc=0
out=$(ctest --test-dir greeter/build -R '^hangs$' --output-on-failure 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *Timeout* ]] || fail "a test over its TIMEOUT did not time out:"$'\n'"$out"
sleep 0.5
expect_no_daemon "after a test that timed out"
left=$(find "$TMPDIR" -maxdepth 1 -name 'kerberus-plugin.*')
[[ -z $left ]] || fail "the harness left its files in \$TMPDIR:"$'\n'"$left"

step "PASS"
