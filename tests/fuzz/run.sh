#!/usr/bin/env bash
# The `fuzz` test: builds the libFuzzer targets with clang in a build of
# their own and runs each one, single worker, on a scratch copy of its seed
# corpus (the tree is never written) for a bounded time. Any crash,
# sanitizer report, leak, timeout or out-of-memory fails the test, which
# then prints the reproducer's path and the input in hex.
#
#   run.sh BUILD_DIR SOURCE_DIR [TARGET...]
#
# KERBERUS_FUZZ_SECONDS  time per target (default 30)
# KERBERUS_FUZZ_KEEP     set: keep the grown scratch corpora (their paths are printed)
# Reproduce a finding by hand: BUILD_DIR/tests/fuzz/TARGET ARTIFACT (docs/fuzzing.md).
set -euo pipefail

build=${1:?build directory}
source=$(cd "${2:?source directory}" && pwd)
shift 2
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_request_parser fuzz_request_parser_differential fuzz_config_loader fuzz_request_path fuzz_route_table
    fuzz_version fuzz_response_parser fuzz_proxy_path fuzz_request_body fuzz_jwt fuzz_auth_header fuzz_tls_handshake)
seconds=${KERBERUS_FUZZ_SECONDS:-30}
fuzz_dir=$source/tests/fuzz

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

command -v clang++ >/dev/null || fail "clang++ not found (Debian: clang, libclang-rt-14-dev; .ci/install-deps installs them)"
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || fail "KERBERUS_FUZZ_SECONDS must be a positive number of seconds"

start=$SECONDS
echo "== building the fuzz targets with clang in $build"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S "$source" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DKERBERUS_FUZZ=ON &&
       cmake --build "$build" -j2 --target "${targets[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    fail "could not build the fuzz targets"
fi
echo "   built in $((SECONDS - start)) s"

# Per-input limits: a request or a config file takes microseconds, so 10 s
# on one input is a hang; 2 GiB is far past anything a bounded parser needs.
per_input_timeout=10
rss_limit_mb=2048

status=0
for target in "${targets[@]}"; do
    binary=$build/tests/fuzz/$target
    artifacts=$build/fuzz-artifacts/$target
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-$target.XXXXXX")
    cp -R "$fuzz_dir/corpus/$target/." "$scratch/"
    out=$artifacts/fuzzer.log
    echo "== $target: ${seconds} s on $(find "$scratch" -type f | wc -l) seeds"
    rc=0
    "$binary" "$scratch" -dict="$fuzz_dir/$target.dict" -max_total_time="$seconds" \
        -timeout="$per_input_timeout" -rss_limit_mb="$rss_limit_mb" -malloc_limit_mb="$rss_limit_mb" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$out" 2>&1 || rc=$?
    stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$out" | tail -n 1 || true)
    if [[ $rc -eq 0 ]]; then
        echo "   ok: ${stats:-no stats}"
    else
        status=1
        echo "   FAILED (exit $rc): ${stats:-no stats}"
        echo "---- $target: what the fuzzer reported ----"
        # The finding's own message, or the sanitizer's report, and the top of its stack.
        grep -E -A12 '==== FINDING|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$out" |
            head -n 60 || tail -n 40 "$out"
        for artifact in "$artifacts"/{crash,leak,timeout,oom,slow-unit}-*; do
            [[ -f $artifact ]] || continue
            size=$(stat -c %s "$artifact")
            echo "---- reproducer: $artifact ($size bytes)"
            echo "     rerun: $binary $artifact"
            od -A d -t x1z -v "$artifact" | head -n 64
            [[ $size -le 1024 ]] || echo "     ... (first 1024 bytes shown)"
        done
        echo "---- full log: $out"
    fi
    if [[ -n ${KERBERUS_FUZZ_KEEP:-} ]]; then
        echo "   corpus kept in $scratch"
    else
        rm -rf "$scratch"
    fi
done
echo "== fuzz stage took $((SECONDS - start)) s"
exit $status
