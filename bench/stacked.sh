#!/bin/sh
# bench/stacked.sh (make bench-stacked): Stacked MNIST mode coverage (docs/design.md §5 and §6).
#
# Trains dcgan28 on stacked-mnist (three mnist-10k digits as RGB) in two configurations, plain
# (the preset's defaults) and stabilised (STABLE_FLAGS), for each seed in SEEDS, then scores each
# run with `ganc eval`: 26,000 samples, each channel labelled by an MNIST classifier (trained
# once, on the first 8,000 digits of mnist-10k, and kept in OUT/mnist10k.safetensors); a
# mode is the triple of labels. Prints a Markdown table of modes hit (of 1000) and the KL of
# the mode histogram from uniform per run, and the mean per configuration. Runs already in OUT
# are continued to the wanted length if shorter, then scored, not retrained.
#
# Environment: STEPS (3000: 7-11 minutes of one core per run), SEEDS ("1 2 3"),
# THREADS (1), STABLE_FLAGS ("--ema 0.999": samples from an average of G's weights, the best
# of our trials; "--pack 2" is the PacGAN paper's PacDCGAN2), STABLE_STEPS (6000: the EMA run
# is twice as long, still within 15 minutes of this machine with 2 threads),
# EVAL_N (26000: samples scored), OUT (runs/bench-stacked), GANC (build/ganc).
set -u
cd "$(dirname "$0")/.." || exit 1

STEPS=${STEPS:-3000}
SEEDS=${SEEDS:-1 2 3}
THREADS=${THREADS:-1}
STABLE_FLAGS=${STABLE_FLAGS:---ema 0.999}
STABLE_STEPS=${STABLE_STEPS:-6000}
EVAL_N=${EVAL_N:-26000}
OUT=${OUT:-runs/bench-stacked}
GANC=${GANC:-build/ganc}

make -s || { echo "bench-stacked: build failed" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
CLS=$OUT/mnist10k.safetensors
if [ ! -f "$CLS" ]; then
    "$GANC" classifier train --data mnist-10k --out "$CLS" --threads "$THREADS" || exit 1
fi

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "protocol: dcgan28 on stacked-mnist (mnist-10k digits), $STEPS iterations plain, $STABLE_STEPS stabilised, --threads $THREADS;" \
     "ganc eval with $EVAL_N samples and $CLS"
echo

json() { sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p" "$2"; }
rows=""
for cfg in plain stable; do
    flags="" steps=$STEPS
    [ "$cfg" = stable ] && flags=$STABLE_FLAGS steps=$STABLE_STEPS
    for s in $SEEDS; do
        run=$OUT/$cfg-seed$s
        if [ -d "$run/ckpt" ]; then
            # a run kept from before is continued to the wanted length (bit-identical to training
            # straight through); its flags are its own, so OUT must hold runs of these flags
            "$GANC" train --resume "$run" --steps "$steps" --threads "$THREADS" 2>>"$run.log" ||
                { echo "bench-stacked: resuming $run failed (see $run.log)" >&2; continue; }
        else
            t0=$(date +%s)
            # shellcheck disable=SC2086 # flags are words
            "$GANC" train --data stacked-mnist --steps "$steps" --seed "$s" --threads "$THREADS" $flags --out "$run" \
                2>"$run.log" || { echo "bench-stacked: training $run failed (see $run.log)" >&2; continue; }
            echo "trained $run in $(( $(date +%s) - t0 )) s" >&2
        fi
        "$GANC" eval "$run" --classifier "$CLS" --n "$EVAL_N" --threads "$THREADS" --json >"$run.json" 2>/dev/null ||
            { echo "bench-stacked: eval of $run failed" >&2; continue; }
        rows="$rows$cfg $s $(json modes "$run.json") $(json mode_kl "$run.json") $(json fid "$run.json")
"
    done
done

printf '| config | flags | seed | modes (of 1000) | KL | FID |\n|---|---|---|---|---|---|\n'
printf '%s' "$rows" | while read -r cfg s modes kl fid; do
    f="(preset defaults)"
    [ "$cfg" = stable ] && f="\`$STABLE_FLAGS --steps $STABLE_STEPS\`"
    printf '| %s | %s | %s | %s | %.3f | %.2f |\n' "$cfg" "$f" "$s" "$modes" "$kl" "$fid"
done
printf '%s' "$rows" | awk '{ m[$1] += $3; k[$1] += $4; n[$1]++ }
    END { for (c in n) printf "mean %s: %.1f modes, KL %.3f (%d seeds)\n", c, m[c] / n[c], k[c] / n[c], n[c] }' | sort
