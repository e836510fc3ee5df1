#!/bin/sh
# One short training run, its resume and a sample under valgrind's memcheck: zero memory errors
# and zero leaks of any kind (only the OpenMP runtime's thread pool is suppressed, see
# tests/valgrind.supp). Run by `make valgrind` on a build without AVX-512 (valgrind cannot
# decode it) and with the portable GEMM (OpenBLAS picks AVX-512 kernels at run time).
# Usage: GANC=path/to/ganc tests/test_valgrind.sh
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
under_valgrind "a file that is no checkpoint is refused without leaks" 1 info "$T/images-idx3-ubyte"
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
