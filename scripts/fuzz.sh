#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (fuzzer + address sanitizer) and runs each for SECONDS
# on its committed seed corpus (Fuzz/Corpus/<target>) plus what earlier runs found
# (.fuzz/corpus/<target>). A finding (crash, trap, leak, out-of-bounds access, an allocation
# over 1 GiB, an input taking over 10 s) is saved in .fuzz/findings/<target>/ and makes the
# script fail. Prints executions per target at the end.
#   scripts/fuzz.sh [seconds per target, default 10] [target …]
# CI runs it for a few seconds per target so that a regression shows; docs/RELIABILITY.md has
# the long runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(ls Fuzz/Corpus))
fi

swift build --package-path Fuzz --scratch-path .build-fuzz -c release \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" || true
bin=$(swift build --package-path Fuzz --scratch-path .build-fuzz -c release --show-bin-path)

failed=0
summary=()
for target in "${targets[@]}"; do
    corpus=.fuzz/corpus/$target findings=.fuzz/findings/$target
    mkdir -p "$corpus" "$findings"
    log=.fuzz/$target.log
    status=0
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp "$bin/$target" "$corpus" "Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1 || status=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    found=$(ls "$findings" | wc -l)
    summary+=("$(printf '%-22s %12s executions  %s' "$target" "$runs" "$([ $status -eq 0 ] && [ "$found" -eq 0 ] && echo ok || echo "FOUND $found (see $log)")")")
    if [ $status -ne 0 ] || [ "$found" -ne 0 ]; then failed=1; fi
done
printf '%s\n' "${summary[@]}"
exit $failed
