#!/bin/sh
# bench/device_bf16.sh: the bf16 checks that need a CPU with AVX512-BF16 or AMX-BF16, in one
# command for a borrowed machine (no network, perhaps none of the optional libraries):
#
#   1. which bf16 instructions the CPU and kernel offer (/proc/cpuinfo flags, the CPU's name);
#   2. a build with every optional library off (OpenMP and -march=native kept where the probes
#      find them), into build/device;
#   3. the bf16 unit tests (tests/test_bf16.c: each hardware path this CPU has against a
#      double-precision sum of the rounded inputs; tests/test_bf16_mock.c) and the convolution
#      tests, so that a speed figure is never quoted for kernels that compute wrongly;
#   4. `ganc bench` in fp32 and in bf16 for each model, alternated ROUNDS times, and the ratio of
#      the median rounds (the issue's target: bf16 >= 1.6x fp32 on the convolutional presets);
#   5. where python3 has torch: bench/torch_gan.py fp32 for the same rows (target: ganc bf16
#      >= 4x PyTorch fp32).
#
# Everything is also written under $OUT (the device runner's folder) when it is set.
# Environment: THREADS (all cores), ITERS (10), ROUNDS (2), MODELS ("dcgan28 mlp dcgan32 dcgan64"),
# BATCHES ("64 256"; the colour presets at 64), JOBS (make -j, all cores), PYTHON (/usr/bin/python3).
set -u
cd "$(dirname "$0")/.." || exit 1
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
THREADS=${THREADS:-$ncpu}
ITERS=${ITERS:-10}
ROUNDS=${ROUNDS:-2}
MODELS=${MODELS:-dcgan28 mlp dcgan32 dcgan64}
BATCHES=${BATCHES:-64 256}
JOBS=${JOBS:-$ncpu}
out=${OUT:-}
log() { echo "$*"; [ -n "$out" ] && echo "$*" >>"$out/device_bf16.txt"; return 0; }

log "== cpu"
log "$(grep -m1 'model name' /proc/cpuinfo)"
log "bf16 flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx512_bf16|amx_bf16|amx_tile|avx512f)$' | tr '\n' ' ')"
log "threads $THREADS, iters $ITERS, rounds $ROUNDS"

log "== build (optional libraries off)"
B=build/device
if ! make -j"$JOBS" BUILD=$B OPENBLAS=0 ZLIB=0 STB=0 GIF=0 MPI=0 MHD=0 $B/ganc $B/tests/test_bf16 \
    $B/tests/test_bf16_mock $B/tests/test_conv_chunks >$B.build.log 2>&1; then
    tail -20 $B.build.log
    log "build failed (the last lines are above)"
    exit 1
fi

log "== tests"
status=0
for t in test_bf16 test_bf16_mock test_conv_chunks; do
    line=$(OMP_NUM_THREADS=$THREADS $B/tests/$t 2>&1 | tail -1) || status=1
    log "$t: $line"
done
[ $status = 0 ] || log "a test failed: the figures below are not to be trusted"

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
shape_of() { case $1 in dcgan32) echo "3 32 32" ;; dcgan64) echo "3 64 64" ;; *) echo "1 28 28" ;; esac; }
batches_of() { case $1 in dcgan32 | dcgan64) echo 64 ;; *) echo "$BATCHES" ;; esac; }
ganc_its() { # model batch precision
    $B/ganc bench --model "$1" --batch "$2" --shape $(shape_of "$1") --threads "$THREADS" --iters "$ITERS" \
        --precision "$3" 2>&1 | tee -a $B.bench.log | sed -n 's/^iter\/s \([0-9.]*\).*/\1/p'
}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
has_torch=0
"$PYTHON" -c 'import torch' 2>/dev/null && has_torch=1

log "== speed (it/s, median of $ROUNDS rounds)"
log "model   batch  fp32     bf16     bf16/fp32  torch_fp32  bf16/torch  bf16 kernels"
for m in $MODELS; do
    for b in $(batches_of "$m"); do
        f=""; h=""
        for r in $(seq "$ROUNDS"); do
            f="$f $(ganc_its "$m" "$b" fp32)"
            h="$h $(ganc_its "$m" "$b" bf16)"
        done
        f=$(echo $f | tr ' ' '\n' | median); h=$(echo $h | tr ' ' '\n' | median)
        kern=$(grep '^precision' $B.bench.log | tail -1 | cut -c1-60)
        t="-"
        if [ $has_torch = 1 ]; then
            t=$(OPENBLAS_NUM_THREADS=1 "$PYTHON" bench/torch_gan.py --model "$m" --batch "$b" --shape $(shape_of "$m") \
                --threads "$THREADS" --iters "$ITERS" 2>/dev/null | sed -n 's/.* it_s=\([0-9.]*\).*/\1/p')
        fi
        ratio=$(awk -v a="${h:-0}" -v b="${f:-0}" 'BEGIN { print (b > 0 ? sprintf("%.2f", a / b) : "-") }')
        vs=$(awk -v a="${h:-0}" -v b="$t" 'BEGIN { print (b + 0 > 0 ? sprintf("%.2f", a / b) : "-") }')
        log "$(printf '%-7s %-6s %-8s %-8s %-10s %-11s %-11s %s' "$m" "$b" "$f" "$h" "$ratio" "${t:--}" "$vs" "$kern")"
    done
done
[ -n "$out" ] && cp $B.bench.log "$out/" 2>/dev/null
exit $status
