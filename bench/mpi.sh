#!/bin/sh
# bench/mpi.sh (make bench-mpi): ganc train over 2 MPI processes of one thread each against one
# process of two threads on the same machine, per preset: steps/s and images/s (the median of
# the per-step times that log.jsonl gives with --log-every 1, after the first WARM steps), the
# time process 0 spends in exchanges per step (the log's exchange_sec_per_step: the gradient
# sums, batch norm's with --sync-bn, and the waits for the other process, which include any
# imbalance between the two) and the bytes it sends per step (the run's last line).
#
# Environment: MODELS ("mlp dcgan28 dcgan32 dcgan64"), BATCH (64), STEPS (40), WARM (5),
# GANC (build/ganc), OUT (a temporary folder, removed at the end unless given), SYNC_BN (1:
# the batch-norm presets get --sync-bn over MPI, the mode that is one process's run; 0: each
# process normalises its share). The 28x28 presets train on data/mnist-10k; the colour presets
# on random pictures (no download: the speed does not depend on what the pictures show).
set -u
cd "$(dirname "$0")/.." || exit 1
GANC=${GANC:-build/ganc}
MODELS=${MODELS:-"mlp dcgan28 dcgan32 dcgan64"}
BATCH=${BATCH:-64}
STEPS=${STEPS:-40}
WARM=${WARM:-5}
SYNC_BN=${SYNC_BN:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
if ! "$GANC" --version | grep -q ' mpi'; then
    echo "bench-mpi: $GANC was built without MPI (Debian: libopenmpi-dev openmpi-bin)"; exit 1
fi
command -v mpirun >/dev/null 2>&1 || { echo "bench-mpi: no mpirun (Debian: openmpi-bin)"; exit 1; }
keep=1
if [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); keep=0; fi
mkdir -p "$OUT"
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# random colour pictures, N x 3 x S x S uint8, as an NPY file ganc reads
pictures() { # size
    f="$OUT/random$1.npy"
    [ -e "$f" ] || "$PYTHON" -c "import numpy as np; np.save('$f', np.random.default_rng(1).integers(0, 256, (512, 3, $1, $1), dtype=np.uint8))"
    echo "$f"
}
# the median of a field of log.jsonl's step lines after the first WARM
median() { # log field
    grep '"sec_per_step"' "$1" | tail -n +"$((WARM + 1))" | sed -n "s/.*\"$2\": \\([0-9.e+-]*\\).*/\\1/p" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "bench-mpi: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(mpirun --version | head -n 1)"
echo "batch $BATCH, median of steps $((WARM + 1))-$STEPS; 1x2: one process, 2 threads; 2x1: mpirun -np 2, 1 thread each"
echo
echo "| model | 1x2 it/s | 2x1 it/s | 2x1 / 1x2 | 1x2 images/s | 2x1 images/s | exchange ms/step | % of step | MB sent/step |"
echo "|-------|----------|----------|-----------|--------------|--------------|------------------|-----------|--------------|"
status=0
for p in $MODELS; do
    case $p in
    dcgan32) data=$(pictures 32) ;;
    dcgan64) data=$(pictures 64) ;;
    *) data=mnist-10k ;;
    esac
    sync=""
    [ "$SYNC_BN" = 1 ] && case $p in dcgan*) sync=--sync-bn ;; esac
    common="--model $p --data $data --batch $BATCH --steps $STEPS --log-every 1 --sample-every 1000000 --ckpt-every 1000000 --seed 1"
    # shellcheck disable=SC2086 # flags are words
    if ! "$GANC" train $common --threads 2 --out "$OUT/$p-1x2" > "$OUT/$p-1x2.txt" 2>&1; then
        echo "| $p | failed: see $OUT/$p-1x2.txt |"; status=1; keep=1; continue
    fi
    # shellcheck disable=SC2086
    if ! mpirun -np 2 "$GANC" train $common --threads 1 $sync --out "$OUT/$p-2x1" > "$OUT/$p-2x1.txt" 2>&1; then
        echo "| $p | failed: see $OUT/$p-2x1.txt |"; status=1; keep=1; continue
    fi
    one=$(median "$OUT/$p-1x2/log.jsonl" sec_per_step)
    two=$(median "$OUT/$p-2x1/log.jsonl" sec_per_step)
    ex=$(median "$OUT/$p-2x1/log.jsonl" exchange_sec_per_step)
    mb=$(sed -n 's/.* \([0-9.]*\) MB sent per step by process 0$/\1/p' "$OUT/$p-2x1.txt")
    awk -v p="$p$( [ -n "$sync" ] && echo ' (sync-bn)')" -v one="$one" -v two="$two" -v ex="$ex" -v mb="${mb:-nan}" -v b="$BATCH" 'BEGIN {
        printf "| %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.1f | %.0f | %s |\n", p, 1 / one, 1 / two, one / two, b / one, b / two,
            1e3 * ex, 100 * ex / two, mb }'
done
[ "$keep" = 0 ] && rm -rf "$OUT"
exit $status
