#!/bin/sh
# Runs each test binary given, sums the "N passed, N failed" line each one prints, and ends
# with one such line for all of them. Exits non-zero if any binary failed or crashed.
passed=0; failed=0; status=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then
        echo "FAILED: $t (exit $rc)"; status=1
    fi
    p=$(printf '%s' "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/'); f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
done
echo "all: $passed passed, $failed failed"
[ $status -eq 0 ] && [ $failed -eq 0 ]
