#!/bin/sh
# Run libFuzzer harnesses for a bounded time each.
#   scripts/fuzz.sh SECONDS build/fuzz/fuzz_NAME...
# Each harness starts from its seeds in tests/fuzz/corpus/NAME/ (read only)
# plus what earlier runs found in build/fuzz/work/NAME/ (new inputs go
# there, not into the repository). A crash, leak, sanitizer report or
# failed check stops the run with a non-zero status and leaves the input
# in build/fuzz/crash-NAME-*; replay it with `build/fuzz/fuzz_NAME FILE`.
set -e
secs=$1
shift
status=0
for bin in "$@"; do
    name=${bin##*/fuzz_}
    seeds=tests/fuzz/corpus/$name
    work=build/fuzz/work/$name
    mkdir -p "$work" "$seeds"
    log=build/fuzz/$name.log
    printf 'fuzz %-10s %3ss ... ' "$name" "$secs"
    if "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="build/fuzz/crash-$name-" \
            "$work" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "ok ($runs runs, $cov, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds)"
    else
        echo "FAILED"
        tail -40 "$log"
        status=1
    fi
done
exit $status
