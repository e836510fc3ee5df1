#!/bin/sh
# bench/toy.sh (make bench-toy): the 2-D mode-collapse benchmark (docs/design.md §5-§6). Trains the
# toy2d preset on ring and grid for SEEDS seeds each, plain (PLAIN: the PacGAN protocol's own
# optimiser and network, --loss ns, no stabiliser, as many iterations as the preset gives the
# data set) and stabilised (STAB, added to the preset's defaults, which are the best
# configuration of our trials, per data set), runs JOBS trainings at a time with THREADS
# threads each (by default one at a time on 2 threads: each run has the machine, as a user's
# would, and its time is the one the preset's 5-minute budget is about), evaluates every run on
# 2,500 samples (ganc eval) and prints mean ± std next to the published rows.
#
# Environment: DATA ("ring grid": the sets to train; the table shows every set with runs in
# OUT), SEEDS (5), STEPS (the preset's), JOBS (1), THREADS (2), PLAIN and STAB (see below),
# GANC (build/ganc), OUT (runs/bench-toy); EVAL_STAB: flags for evaluating the stabilised runs
# (e.g. --reject 0.999); RESCORE=1: evaluate the runs already in OUT again instead of training
# them (the table keeps their training times). A run whose evaluation failed is counted in the
# "scored" column, not in the means.
set -u
cd "$(dirname "$0")/.." || exit 1

# One run (called through xargs below): train, evaluate, and note the seconds it took.
if [ "${1:-}" = --one ]; then
    name=$2
    shift 2
    eval_flags=""
    case $name in *-stab-*) eval_flags=$EVAL_STAB ;; esac
    if [ "$RESCORE" = 1 ]; then # evaluate the finished run again; its training time stays
        rm -f "$OUT/$name.json"
        # shellcheck disable=SC2086 # flags are words
        "$GANC" eval "$OUT/$name" $eval_flags --threads "$THREADS" --json > "$OUT/$name.json" 2>>"$OUT/$name.log"
        exit 0
    fi
    rm -rf "${OUT:?}/$name"
    t0=$(date +%s)
    # shellcheck disable=SC2086 # flags are words
    "$GANC" train --model toy2d "$@" $STEPS_FLAG --threads "$THREADS" --sample-every 1000 --out "$OUT/$name" \
        > "$OUT/$name.log" 2>&1 && "$GANC" eval "$OUT/$name" $eval_flags --threads "$THREADS" --json > "$OUT/$name.json" 2>>"$OUT/$name.log"
    echo "$(( $(date +%s) - t0 ))" > "$OUT/$name.sec"
    exit 0
fi
DATA=${DATA:-ring grid}
SEEDS=${SEEDS:-5}
JOBS=${JOBS:-1}
THREADS=${THREADS:-2}
GANC=${GANC:-build/ganc}
OUT=${OUT:-runs/bench-toy}
# plain: the protocol's optimiser and network (the preset's mbstd feature off), G's own samples
PLAIN=${PLAIN:---loss ns --lr-g 1e-4 --lr-d 1e-4 --beta1 0.8 --lr-decay-from 0 --pack 1 --ema 0 --mbstd off --inst-noise 0 --reject 0}
STAB=${STAB:-}
EVAL_STAB=${EVAL_STAB:-}
RESCORE=${RESCORE:-0}
STEPS_FLAG=${STEPS:+--steps $STEPS}
make -s >/dev/null || { echo "bench-toy: build failed" >&2; exit 1; }
mkdir -p "$OUT"

# The runs, one line each: name and flags; then JOBS at a time.
list=$OUT/runs.txt
: > "$list"
for data in $DATA; do
    for s in $(seq 1 "$SEEDS"); do
        # no trailing blank: xargs -L would join the next line to such a line
        echo "$data-plain-$s --data $data --seed $s${PLAIN:+ $PLAIN}" >> "$list"
        echo "$data-stab-$s --data $data --seed $s${STAB:+ $STAB}" >> "$list"
    done
done
start=$(date +%s)
# JOBS runs at a time: xargs starts this script once per line (the --one branch at the top)
export GANC OUT STEPS_FLAG EVAL_STAB RESCORE THREADS
xargs -L 1 -P "$JOBS" sh bench/toy.sh --one < "$list"

# Table: mean ± std over seeds of modes, % high quality, reverse KL, and the slowest run's time.
printf '%-6s %-12s %7s %16s %16s %16s %10s\n' data config scored modes "high quality %" "reverse KL" "max s"
for data in ring grid; do
    for cfg in plain stab; do
        # this invocation's seeds only (OUT may hold runs of more seeds from before)
        files="" secs=""
        for s in $(seq 1 "$SEEDS"); do
            files="$files $OUT/$data-$cfg-$s.json"
            secs="$secs $(cat "$OUT/$data-$cfg-$s.sec" 2>/dev/null)"
        done
        # shellcheck disable=SC2086 # a list of files
        cat $files 2>/dev/null | awk -v d="$data" -v c="$cfg" -v seeds="$SEEDS" -v secs="$(echo $secs | tr ' ' '\n' | sort -n | tail -n 1)" 'BEGIN { n = 0 }
            { gsub(/[{},:"]/, " "); for (i = 1; i < NF; i++) { if ($i == "modes") m[n] = $(i+1); if ($i == "high_quality") h[n] = $(i+1); if ($i == "reverse_kl") k[n] = $(i+1) } n++ }
            function stat(a,   i, s, q) { s = 0; q = 0; for (i = 0; i < n; i++) s += a[i]; s /= n; for (i = 0; i < n; i++) q += (a[i] - s) ^ 2; return sprintf("%.2f ± %.2f", s, n > 1 ? sqrt(q / (n - 1)) : 0) }
            END { if (n) printf "%-6s %-12s %7s %16s %16s %16s %10s\n", d, c, n "/" seeds, stat(m), stat(h), stat(k), secs }'
    done
done
echo "published (PacGAN paper, docs/design.md §6):"
echo "ring   GAN          6.3 modes, 98.2% high quality, rev. KL 0.45;  PacGAN2 7.9, 95.6%, 0.07"
echo "grid   GAN          17.3 modes, 94.8% high quality, rev. KL 0.70; PacGAN4 24.8, 93.6%, 0.04"
echo "runs: $(wc -l < "$list"), $(( $(date +%s) - start )) s wall, $JOBS at a time on $THREADS threads; plain: $PLAIN; stabilised: the preset's defaults $STAB${EVAL_STAB:+, evaluated with $EVAL_STAB}"
