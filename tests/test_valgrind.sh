#!/bin/sh
# One short training run, its resume, a sample, an export, a classifier's training and an eval of
# the run, a conditional run sampled by class and scored, and the inference API's tests (GENERATOR_TEST: tests/test_generator.c's binary), under
# valgrind's memcheck: zero memory errors and zero leaks of any kind (only the OpenMP
# runtime's thread pool is suppressed, see tests/valgrind.supp). Run by `make valgrind` on a
# build without AVX-512 (valgrind cannot decode it) and with the portable GEMM (OpenBLAS picks
# AVX-512 kernels at run time); the AVX-512 GEMM's packing buffers are checked by the
# sanitizer build's leak check instead (tests/test_threads.c, `make sanitize`).
# Usage: GANC=path/to/ganc [GENERATOR_TEST=path/to/test_generator] tests/test_valgrind.sh
. "$(dirname "$0")/cli_fixture.sh"
VG="valgrind -q --suppressions=$(dirname "$0")/valgrind.supp --error-exitcode=9 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all"
if ! command -v valgrind >/dev/null; then echo "valgrind: not installed (apt-get install valgrind)"; exit 1; fi
under_valgrind() { # name, expected exit status, ganc arguments...
    name=$1; want=$2; shift 2
    $VG $GANC "$@" >/dev/null 2>"$T/vg.err"; rc=$?
    if [ $rc -eq "$want" ] && ! grep -q '^==[0-9]*==' "$T/vg.err"; then ok; else bad "$name (exit $rc): $(grep '^==' "$T/vg.err" | head -n 20)"; fi
}
RUN="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 3 --log-every 5 --sample-every 10 --ckpt-every 10 --threads 2"
under_valgrind "train 20 steps" 0 train $RUN --steps 20 --out "$T/v"
under_valgrind "resume to 30 steps" 0 train --resume "$T/v" --steps 30
under_valgrind "sample" 0 sample "$T/v" -n 8 -o "$T/v.npy"
under_valgrind "export" 0 export "$T/v" -o "$T/v.gen.safetensors"
# the inference API (ganc.h): tests/test_generator.c's draws, threads and every refusal (bad
# files, bad calls), with nothing left allocated after the handles are closed
if [ -n "${GENERATOR_TEST:-}" ]; then
    $VG "$GENERATOR_TEST" >"$T/vg.out" 2>"$T/vg.err"; rc=$?
    if [ $rc -eq 0 ] && ! grep -q '^==[0-9]*==' "$T/vg.err"; then ok; else bad "test_generator (exit $rc): $(grep -E '^==|FAIL' "$T/vg.err" | head -n 20)"; fi
fi
# a classifier (a small one: valgrind runs ~50x slower) on the fixture's images with labels 0..3
# in turn, testing on the last 64, then an eval of the run against those 64
mkdir -p "$T/cls"
cp "$T/images-idx3-ubyte" "$T/cls/train-images-idx3-ubyte"
{ printf '\000\000\010\001\000\000\001\000'; LC_ALL=C awk 'BEGIN { for (i = 0; i < 256; i++) printf "%c", i % 4 }'; } \
    > "$T/cls/train-labels-idx1-ubyte"
printf 'conv 4 k=5 stride=2 pad=same\nrelu\nflatten\ndense 16\nrelu\ndense 4\n' > "$T/cls/arch"
SPLIT="--data $T/cls/train-images-idx3-ubyte --split 192 --threads 2"
under_valgrind "classifier train" 0 classifier train $SPLIT --arch "$T/cls/arch" --epochs 1 --batch 32 --out "$T/c.st"
under_valgrind "eval" 0 eval "$T/v" $SPLIT --classifier "$T/c.st" --n 64
# a conditional run on those four classes (projection: conditional batch norm, the projection
# head) and its class-wise sampling and scoring
CRUN="--model $T/tiny.gan --data $T/cls/train-images-idx3-ubyte --seed 3 --log-every 5 --sample-every 5 --ckpt-every 5 --threads 2"
under_valgrind "conditional train" 0 train $CRUN --cond projection --steps 6 --out "$T/vc"
under_valgrind "conditional sample by class" 0 sample "$T/vc" --by-class -n 2 -o "$T/vc.npy"
under_valgrind "between classes" 0 sample "$T/vc" --interp-class 0,3 --steps 3 -o "$T/vc.png"
under_valgrind "conditional eval" 0 eval "$T/vc" $SPLIT --classifier "$T/c.st" --n 64
under_valgrind "a file that is no checkpoint is refused without leaks" 1 info "$T/images-idx3-ubyte"
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
