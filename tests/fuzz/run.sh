#!/bin/sh
# Runs one libFuzzer binary for SECONDS from the seed corpus; prints the executions reached,
# and on a finding the fuzzer's report, exiting non-zero. Usage: run.sh NAME SECONDS
name=$1; seconds=$2
bin=build/fuzz/fuzz_$name
mkdir -p "build/fuzz/corpus_$name" "build/fuzz/findings_$name"
"$bin" -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/findings_$name/" "build/fuzz/corpus_$name" "tests/fuzz/corpus/$name" \
    > "build/fuzz/$name.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
if [ $rc -ne 0 ]; then
    tail -n 40 "build/fuzz/$name.log"
    echo "fuzz $name: FOUND a problem after ${execs:-?} executions (inputs in build/fuzz/findings_$name/)"
    exit 1
fi
echo "fuzz $name: ${execs:-?} executions in $seconds s, nothing found"
