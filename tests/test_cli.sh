#!/bin/sh
# End-to-end checks of the ganc command: a run, exact resume, sampling to PNG and NPY (read
# back by numpy when it is installed), the checkpoint read by an independent safetensors
# reader, and bad input answered by one clear line, a non-zero exit and no run directory.
# Usage: GANC=path/to/ganc tests/test_cli.sh
. "$(dirname "$0")/cli_fixture.sh"
COMMON="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 10 --ckpt-every 10"

# --- exact resume: 20 steps straight == 10 steps, then --resume to 20 --------------------------
check "straight run" "$GANC train $COMMON --steps 20 --out $T/a 2>$T/a.err"
check "first half" "$GANC train $COMMON --steps 10 --out $T/b 2>$T/b.err"
check "resume" "$GANC train --resume $T/b --steps 20 2>$T/b2.err"
check "checkpoint at step 20 exists" "[ -f $T/a/ckpt/step_000000020.safetensors ] && [ -f $T/b/ckpt/step_000000020.safetensors ]"
check "resumed run is bit-identical (weights, moments, RNG, data position)" \
    "cmp -s $T/a/ckpt/step_000000020.safetensors $T/b/ckpt/step_000000020.safetensors"
# the thread count decides how sums are split: a resumed run must split them as the straight
# one did, whatever OMP_NUM_THREADS says and whether --threads exceeds the cores
for env_threads in "OMP_NUM_THREADS=1" "OMP_NUM_THREADS=1 --threads 3"; do
    e=${env_threads%% *} tf=${env_threads#"$e"}
    check "resume is bit-identical under $e${tf:+ with$tf}" \
        "env $e $GANC train $COMMON$tf --steps 20 --out $T/t1a 2>/dev/null && env $e $GANC train $COMMON$tf --steps 10 --out $T/t1b 2>/dev/null && env $e $GANC train --resume $T/t1b --steps 20 2>/dev/null && cmp -s $T/t1a/ckpt/step_000000020.safetensors $T/t1b/ckpt/step_000000020.safetensors"
    rm -rf "$T/t1a" "$T/t1b"
done
check "log of resumed run has the same steps" "[ \"\$(grep -o '\"step\": [0-9]*' $T/a/log.jsonl)\" = \"\$(grep -o '\"step\": [0-9]*' $T/b/log.jsonl)\" ]"
# log.jsonl lines without their one timing; with a file, or stdin
no_timing() { sed 's/"sec_per_step": [^,}]*//' "$@"; }
check "the resumed run's log.jsonl is the straight run's, byte for byte but sec_per_step" \
    "no_timing $T/a/log.jsonl > $T/a.log && no_timing $T/b/log.jsonl > $T/b.log && [ \$(wc -l < $T/a.log) -eq 4 ] && cmp -s $T/a.log $T/b.log"

# --- log.jsonl read back on resume: lines of any length ---------------------------------------
# A line of over 1,024 bytes before the checkpoint (a 3,000-byte field in front of the losses,
# as a long warning or many metrics would make one): the resumed run keeps it whole, writes the
# rest as the straight run does, and draws loss.png with the points of a run without it (and of
# the straight run: the plot does not see the text's rounding).
pad=$(awk 'BEGIN { while (n++ < 3000) printf "x" }')
drop_note() { sed 's/"note": "x*", //' "$@"; }
check "two runs of 10 steps" "$GANC train $COMMON --steps 10 --out $T/lg1 2>/dev/null && cp -r $T/lg1 $T/lg2"
sed "s/^{\"step\": 5, /{\"step\": 5, \"note\": \"$pad\", /" "$T/lg1/log.jsonl" > "$T/lg1.tmp" && mv "$T/lg1.tmp" "$T/lg1/log.jsonl"
check "one has a line of over 3,000 bytes at step 5" "[ \$(grep -c '^{\"step\": 5, \"note\": \"x\{3000\}\", \"epoch\"' $T/lg1/log.jsonl) -eq 1 ]"
check "both resume to 20" "$GANC train --resume $T/lg1 --steps 20 2>$T/lg1.err && $GANC train --resume $T/lg2 --steps 20 2>/dev/null"
check "the resumed run keeps the long line whole" "[ \$(grep -c '^{\"step\": 5, \"note\": \"x\{3000\}\", \"epoch\": .*}\$' $T/lg1/log.jsonl) -eq 1 ]"
check "... and the rest of log.jsonl as the straight run writes it" "drop_note $T/lg1/log.jsonl | no_timing > $T/lg1.log && cmp -s $T/lg1.log $T/a.log"
check "... and reads its losses back: loss.png as without the long line, and as the straight run's" \
    "[ -s $T/lg1/loss.png ] && cmp -s $T/lg1/loss.png $T/lg2/loss.png && cmp -s $T/lg1/loss.png $T/a/loss.png"
check "... without a word about it" "! grep -q warning $T/lg1.err"
# A line that is not JSON is dropped with a warning naming file and line; a last line cut off by
# a killed run (no newline) is dropped without one.
check "a run of 10 steps" "$GANC train $COMMON --steps 10 --out $T/lg3 2>/dev/null"
{ head -n 1 "$T/lg3/log.jsonl"; echo 'not JSON'; tail -n +2 "$T/lg3/log.jsonl"; printf '{"step": 11, "d_lo'; } > "$T/lg3.tmp" && mv "$T/lg3.tmp" "$T/lg3/log.jsonl"
check "resumed over a damaged log: one warning, for line 2" \
    "$GANC train --resume $T/lg3 --steps 20 2>$T/lg3.err && [ \$(grep -c warning $T/lg3.err) -eq 1 ] && grep -q 'warning: $T/lg3/log.jsonl:2: not a log line (JSON: .*); dropped' $T/lg3.err"
check "... and the log is the straight run's" "no_timing $T/lg3/log.jsonl | cmp -s - $T/a.log"
check "run left samples, plot, log" "[ -s $T/a/samples/latest.png ] && [ -s $T/a/samples/step_000020.png ] && [ -s $T/a/loss.png ] && [ -s $T/a/log.jsonl ]"
check "keep: old checkpoints pruned to 3" "[ \$(ls $T/a/ckpt | wc -l) -le 3 ]"
check "resume past the end is a no-op" "$GANC train --resume $T/a --steps 20 2>/dev/null"
check "resume refuses a changed hyper-parameter" "! $GANC train --resume $T/a --lr-g 0.1 2>/dev/null"

# --- the loss family and the stabilisers: each trains with finite losses and resumes exactly --
for loss in minimax wgan wgan-gp lsgan hinge; do
    check "--loss $loss trains with finite losses" \
        "$GANC train $COMMON --loss $loss --steps 6 --out $T/loss-$loss 2>/dev/null && grep -q '\"step\": 5,' $T/loss-$loss/log.jsonl && ! grep -qi 'nan\|inf' $T/loss-$loss/log.jsonl"
done
check "the losses differ (wgan and hinge runs end with different weights)" \
    "! cmp -s $T/loss-wgan/ckpt/step_000000006.safetensors $T/loss-hinge/ckpt/step_000000006.safetensors"
check "--g-loss is still accepted (as --loss)" "$GANC train $COMMON --g-loss minimax --steps 6 --out $T/gl 2>/dev/null && $GANC info $T/gl | grep -q 'loss *minimax'"
if have_numpy; then
    check "wgan clips every parameter of D to [-clip, clip]" \
        "$PY tools/read_safetensors.py $T/loss-wgan/ckpt/step_000000006.safetensors --values | awk -F'\t' '\$1 == \"tensor\" && \$2 ~ /^disc\\..*(weight|bias)\$/ { n++; split(\$6, v, \" \"); for (i in v) if (v[i] + 0 > 0.01 || v[i] + 0 < -0.01) bad++ } END { exit !(n > 0 && bad == 0) }'"
fi
STAB="$COMMON --loss wgan-gp --gp 5 --r1 1 --pack 2 --inst-noise 0.1 --d-steps 2 --lr-decay-from 5 --lr-decay-to 20"
check "stabilised run (gp, r1, pack 2, instance noise, 2 D steps, lr decay): 20 steps" "$GANC train $STAB --steps 20 --out $T/st1 2>/dev/null"
check "stabilised run: 10 steps, then resumed to 20" "$GANC train $STAB --steps 10 --out $T/st2 2>/dev/null && $GANC train --resume $T/st2 --steps 20 2>/dev/null"
check "stabilised run resumes bit-identically" "cmp -s $T/st1/ckpt/step_000000020.safetensors $T/st2/ckpt/step_000000020.safetensors"
# InfoGAN codes: D's last layer gives $dout = 1 + K outputs; the run resumes exactly, logs the
# code's cross-entropy, and `ganc sample --code C` fixes the code
sed 's/^dense 1$/dense $dout/' $T/tiny.gan > $T/tiny-info.gan
INFO="--model $T/tiny-info.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 10 --ckpt-every 10 --info-codes 3 --z-dim 8"
check "--info-codes 3: 20 steps straight, and 10 resumed to 20, bit-identical" \
    "$GANC train $INFO --steps 20 --out $T/if1 2>/dev/null && $GANC train $INFO --steps 10 --out $T/if2 2>/dev/null && $GANC train --resume $T/if2 --steps 20 2>/dev/null && cmp -s $T/if1/ckpt/step_000000020.safetensors $T/if2/ckpt/step_000000020.safetensors"
check "--info-codes: log.jsonl has the code's cross-entropy" "grep -q '\"step\": 20,.*\"info_loss\": [0-9.e+-]*}' $T/if1/log.jsonl"
check "--info-codes: the model without codes trains as before (\$dout is 1)" "$GANC train --model $T/tiny-info.gan --data $T/images-idx3-ubyte --steps 2 --sample-every 0 --out $T/if0 2>/dev/null && ! grep -q info_loss $T/if0/log.jsonl"
check "sample --code 2 differs from --code 0 on the same noise" \
    "$GANC sample $T/if1 -n 8 -o $T/c0.npy --code 0 2>/dev/null && $GANC sample $T/if1 -n 8 -o $T/c2.npy --code 2 2>/dev/null && ! cmp -s $T/c0.npy $T/c2.npy"
check "sample --by-code writes a grid of 3 rows of 5" "$GANC sample $T/if1 -n 5 -o $T/bc.png --by-code 2>$T/bc.err && [ -s $T/bc.png ] && grep -q 'wrote 15 samples.*one row per code' $T/bc.err"
if have_numpy; then
    check "sample --by-code: row c is --code c's samples (the same noise in each row)" \
        "$GANC sample $T/if1 -n 8 -o $T/bc.npy --by-code 2>/dev/null && $PY -c \"import numpy as np; a = np.load('$T/bc.npy'); b = np.load('$T/c2.npy'); c = np.load('$T/c0.npy'); assert a.shape[0] == 24 and np.array_equal(a[16:24], b) and np.array_equal(a[0:8], c)\""
fi

# the minibatch-stddev fade (--mbstd-until): a pure function of the step, so resume stays exact
sed 's/^flatten$/mbstd\nflatten/' $T/tiny.gan > $T/tiny-mbstd.gan
MB="--model $T/tiny-mbstd.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 10 --ckpt-every 10 --mbstd-until 12"
check "--mbstd-until 12: 20 steps straight, and 10 resumed to 20, bit-identical" \
    "$GANC train $MB --steps 20 --out $T/mb1 2>/dev/null && $GANC train $MB --steps 10 --out $T/mb2 2>/dev/null && $GANC train --resume $T/mb2 --steps 20 2>/dev/null && cmp -s $T/mb1/ckpt/step_000000020.safetensors $T/mb2/ckpt/step_000000020.safetensors"
if have_numpy; then # weights only: the metadata differs anyway (the option is stored)
    check "--mbstd-until changes D's training (against the same model without it)" \
        "$GANC train --model $T/tiny-mbstd.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 10 --ckpt-every 10 --steps 20 --out $T/mb0 2>/dev/null && $PY tools/read_safetensors.py $T/mb0/ckpt/step_000000020.safetensors --values | grep '^tensor.disc\.' > $T/mb0.txt && $PY tools/read_safetensors.py $T/mb1/ckpt/step_000000020.safetensors --values | grep '^tensor.disc\.' > $T/mb1.txt && [ -s $T/mb0.txt ] && ! cmp -s $T/mb0.txt $T/mb1.txt"
    check "--mbstd off changes D's training too, and differs from the fade" \
        "$GANC train --model $T/tiny-mbstd.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 0 --steps 20 --mbstd off --out $T/mboff 2>/dev/null && $GANC info $T/mboff | grep -q 'mbstd  *off' && $PY tools/read_safetensors.py $T/mboff/ckpt/step_000000020.safetensors --values | grep '^tensor.disc\.' > $T/mboff.txt && [ -s $T/mboff.txt ] && ! cmp -s $T/mb0.txt $T/mboff.txt && ! cmp -s $T/mb1.txt $T/mboff.txt"
fi
if have_numpy; then
    # G's weights only: the checkpoints' metadata differ anyway (the option is stored)
    gen_values() { $PY tools/read_safetensors.py "$1" --values | awk -F'\t' '$1 == "tensor" && $2 ~ /^gen\./'; }
    check "--lr-decay-from 5 trains G differently from constant rates" \
        "$GANC train $COMMON --steps 20 --lr-decay-from 5 --out $T/decay 2>/dev/null && gen_values $T/a/ckpt/step_000000020.safetensors >$T/g-const && gen_values $T/decay/ckpt/step_000000020.safetensors >$T/g-decay && [ -s $T/g-const ] && ! cmp -s $T/g-const $T/g-decay"
    check "EMA averages G's batch-norm statistics too (one step with --ema 0.5, against the closed form)" \
        "$GANC train $COMMON --steps 1 --ema 0.5 --out $T/emast 2>/dev/null && $PY tools/check_ema_state.py $T/emast/ckpt/step_000000001.safetensors 1 >/dev/null"
    # a run from before the statistics were averaged: its checkpoint lacks ema.gen_state
    check "a checkpoint without ema.gen_state (older ganc) still samples, and resumes (recreating samples/)" \
        "mkdir -p $T/oldema/ckpt && $PY tools/drop_tensor.py $T/emast/ckpt/step_000000001.safetensors $T/oldema/ckpt/step_000000001.safetensors ema.gen_state && $GANC sample $T/oldema -n 4 -o $T/oldema.npy 2>/dev/null && $GANC train --resume $T/oldema --steps 2 2>/dev/null && [ -f $T/oldema/ckpt/step_000000002.safetensors ]"
    check "--lr-decay-to before --lr-decay-from is refused in one line" \
        "! $GANC train $COMMON --steps 5 --lr-decay-from 10 --lr-decay-to 8 --out $T/badecay 2>$T/badecay.err && grep -q 'lr-decay-to 8 must come after --lr-decay-from 10' $T/badecay.err && [ \$(wc -l < $T/badecay.err) -eq 1 ] && [ ! -e $T/badecay ]"
    check "--lr-decay-from 20 of 20 steps is constant rates" \
        "$GANC train $COMMON --steps 20 --lr-decay-from 20 --out $T/decay20 2>/dev/null && gen_values $T/decay20/ckpt/step_000000020.safetensors >$T/g-decay20 && cmp -s $T/g-const $T/g-decay20"
fi

# --- diagnostics: a frozen G against a fast D is told that D has won ---------------------------
check "a run where D wins warns on screen and in log.jsonl, naming cures" \
    "$GANC train $COMMON --lr-g 0 --lr-d 1e-2 --steps 100 --out $T/won 2>$T/won.err && grep -q 'warning: step [0-9]*: D has won.*--label-smooth' $T/won.err && grep -q '\"warning\": \"step [0-9]*: D has won' $T/won/log.jsonl"
check "a healthy run gives no warning" "! grep -q warning $T/a.err && ! grep -q warning $T/a/log.jsonl"

# --- 2-D runs: ring data, pictures with D's map, (N, 2) samples, mode metrics -------------------
TOY="--model toy2d --data ring --seed 3 --steps 40 --sample-every 20 --log-every 10 --ckpt-every 20 --batch 20"
check "toy2d trains on ring" "$GANC train $TOY --out $T/ring 2>/dev/null && [ -s $T/ring/samples/step_000040.png ] && [ -s $T/ring/samples/latest.png ]"
if $GANC --version | grep -q ' gif'; then
    check "toy2d leaves an animated GIF" "[ \"\$(head -c 6 $T/ring/samples/run.gif)\" = GIF89a ]"
fi
check "toy2d resumes bit-identically" "$GANC train $TOY --steps 20 --out $T/ring2 2>/dev/null && $GANC train --resume $T/ring2 --steps 40 2>/dev/null && cmp -s $T/ring/ckpt/step_000000040.safetensors $T/ring2/ckpt/step_000000040.safetensors"
check "eval of a 2-D run prints JSON with the protocol's keys" \
    "$GANC eval $T/ring --json > $T/ring.json && grep -q '\"modes\": [0-9]*, \"modes_total\": 8, \"high_quality\": [0-9.]*, \"reverse_kl\": ' $T/ring.json && grep -q '\"n\": 2500' $T/ring.json"
check "--eval-every on a 2-D run logs modes and high quality and draws metrics.png" \
    "$GANC train $TOY --eval-every 20 --eval-n 500 --out $T/ring3 2>/dev/null && [ \$(grep -c '\"modes\": [0-9]*, \"modes_total\": 8, \"high_quality\"' $T/ring3/log.jsonl) -eq 2 ] && [ -s $T/ring3/metrics.png ]"
check "eval of a 2-D run takes --threads and gives the same numbers" \
    "$GANC eval $T/ring --json --threads 1 > $T/ring-t1.json && cmp -s $T/ring.json $T/ring-t1.json"
check "eval of a missing run names it, not a missing --classifier" \
    "! $GANC eval $T/no-such-run --json 2>$T/nr.err && grep -q 'no-such-run: No such file' $T/nr.err && [ \$(wc -l < $T/nr.err) -eq 1 ]"
check "eval of an image run without --classifier is refused" "! $GANC eval $T/a 2>/dev/null"
if have_numpy; then
    check "sample of a 2-D run is an (N, 2) float32 array" \
        "$GANC sample $T/ring -n 100 -o $T/ring.npy 2>/dev/null && $PY -c 'import numpy as n,sys; a=n.load(sys.argv[1]); assert a.shape==(100,2) and a.dtype==n.float32 and n.isfinite(a).all()' $T/ring.npy"
fi

# --- the truncation trick (--truncation) --------------------------------------------------------
check "--truncation changes only the sampling draws: a run trained with it samples as sample --truncation does" \
    "$GANC train $COMMON --steps 20 --truncation 0.5 --out $T/tr 2>/dev/null && $GANC sample $T/tr -n 16 -o $T/tr0.npy 2>/dev/null && $GANC sample $T/a --truncation 0.5 -n 16 -o $T/tr1.npy 2>/dev/null && $GANC sample $T/a -n 16 -o $T/tr2.npy 2>/dev/null && cmp -s $T/tr0.npy $T/tr1.npy && ! cmp -s $T/tr1.npy $T/tr2.npy"
check "sample --truncation 0 is a plain draw of a truncated run" \
    "$GANC sample $T/tr --truncation 0 -n 16 -o $T/tr3.npy 2>/dev/null && cmp -s $T/tr2.npy $T/tr3.npy"

# --- discriminator rejection sampling (--reject) ------------------------------------------------
check "the toy2d preset draws by rejection (reject = 0.999), and says how many it scored" \
    "$GANC info $T/ring | grep -q 'reject  *0.999$' && $GANC eval $T/ring > $T/r1.txt && grep -q 'by D rejection sampling (kept 2500 of [0-9]*' $T/r1.txt && grep -q '^modes  *[0-9]* of 8' $T/r1.txt"
check "--reject 0.999 is the run's own setting (and --reject 1 another draw)" \
    "$GANC eval $T/ring --reject 0.999 --json > $T/r1.json && cmp -s $T/ring.json $T/r1.json && $GANC sample $T/ring -n 100 -o $T/q0.npy 2>/dev/null && $GANC sample $T/ring --reject 0.999 -n 100 -o $T/q1.npy 2>/dev/null && $GANC sample $T/ring --reject 1 -n 100 -o $T/q2.npy 2>/dev/null && cmp -s $T/q0.npy $T/q1.npy && ! cmp -s $T/q1.npy $T/q2.npy"
check "a run trained with --reject 0 draws plainly (same weights: the points of sample --reject 0)" \
    "$GANC train $TOY --reject 0 --sample-every 0 --out $T/ringr0 2>/dev/null && $GANC info $T/ringr0 | grep -q 'reject  *0$' && $GANC sample $T/ringr0 -n 100 -o $T/pr0.npy 2>/dev/null && $GANC sample $T/ring --reject 0 -n 100 -o $T/p0.npy 2>/dev/null && $GANC sample $T/ring -n 100 -o $T/p1.npy 2>/dev/null && cmp -s $T/pr0.npy $T/p0.npy && ! cmp -s $T/p0.npy $T/p1.npy && ! $GANC eval $T/ringr0 | grep -q rejection"
check "sample --reject on an image run writes a grid" "$GANC sample $T/a --reject 1 -n 16 -o $T/rej.png 2>$T/rej.err && [ -s $T/rej.png ] && grep -q 'kept 16 of' $T/rej.err"
check "sample --reject out of range: one line naming the flag" \
    "! $GANC sample $T/ring --reject 2 -n 4 -o $T/x.npy 2>$T/rb.err && grep -q -- 'sample: --reject needs a number in \[0, 1\], got .2.' $T/rb.err && [ \$(wc -l < $T/rb.err) -eq 1 ] && [ ! -e $T/x.npy ]"
check "--reject with a packed D is refused, naming --pack" \
    "$GANC train $TOY --pack 2 --reject 0 --steps 2 --sample-every 0 --out $T/ringp 2>/dev/null && ! $GANC sample $T/ringp --reject 1 -n 4 -o $T/x.png 2>$T/rp.err && grep -q -- '--reject needs --pack 1' $T/rp.err && [ ! -e $T/x.png ]"
check "--reject with a Wasserstein D is refused, naming --loss" \
    "! $GANC sample $T/st1 --reject 1 -n 4 -o $T/x.png 2>$T/rw.err && grep -q -- '--reject needs --loss' $T/rw.err && [ ! -e $T/x.png ]"
check "train --reject with the hinge loss is refused before anything is written" \
    "! $GANC train $TOY --loss hinge --reject 1 --out $T/rh 2>$T/rh.err && grep -q -- '--reject needs --loss ns or minimax' $T/rh.err && [ ! -e $T/rh ]"
if have_numpy; then
    check "sample --reject of a 2-D run is an (N, 2) float32 array" \
        "$GANC sample $T/ring --reject 1 -n 100 -o $T/ringr.npy 2>/dev/null && $PY -c 'import numpy as n,sys; a=n.load(sys.argv[1]); assert a.shape==(100,2) and a.dtype==n.float32 and n.isfinite(a).all()' $T/ringr.npy"
fi

check "--out creates missing parent directories" "$GANC train $COMMON --steps 1 --out $T/deep/er/run 2>/dev/null && [ -d $T/deep/er/run/ckpt ]"

# --- Ctrl-C: a checkpoint, exit status 130 within 2 seconds, and the run resumes from it -------
$GANC train $COMMON --steps 1000000 --ckpt-every 1000000 --out $T/int 2>/dev/null &
pid=$!
sleep 2
kill -INT $pid
t0=$(date +%s)
wait $pid; rc=$?
t1=$(date +%s)
check "SIGINT exits with 130" "[ $rc -eq 130 ]"
check "SIGINT exits within 2 seconds" "[ $((t1 - t0)) -le 2 ]"
check "SIGINT leaves a checkpoint" "ls $T/int/ckpt/step_*.safetensors >/dev/null 2>&1"
stopped=$($GANC info $T/int 2>/dev/null | sed -n 's/^step *\([0-9]*\).*/\1/p')
check "the interrupted run resumes to a later step" \
    "[ -n \"$stopped\" ] && $GANC train --resume $T/int --steps $((${stopped:-0} + 3)) 2>/dev/null && $GANC info $T/int | grep -q \"^step *$((${stopped:-0} + 3)) \""

# --- non-finite losses: stop by default, or roll back with halved learning rates ---------------
DIVERGE="--model $T/tiny.gan --data $T/images-idx3-ubyte --optim sgd --lr-d 10 --lr-g 10 --steps 200 --ckpt-every 5"
check "a diverging run stops with a message naming the step and the player" \
    "! $GANC train $DIVERGE --out $T/nan1 2>$T/nan1.err && grep -q 'step [0-9]*: the .*\(generator\|discriminator\).* not finite' $T/nan1.err"
check "it keeps its last good checkpoint" "$GANC info $T/nan1 >/dev/null 2>&1"
$GANC train $DIVERGE --on-nan rollback --out $T/nan2 2>$T/nan2.err; rc=$?
check "--on-nan rollback reloads the checkpoint with halved learning rates" "grep -q 'rolled back to step [0-9]* with learning rates halved (G 5, D 5), 1 of 3' $T/nan2.err && grep -q '(G 2.5, D 2.5), 2 of 3' $T/nan2.err"
check "--on-nan rollback gives up after 3 tries" "[ $rc -ne 0 ] && [ \$(grep -c 'rolled back' $T/nan2.err) -eq 3 ] && grep -q 'after 3 rollbacks' $T/nan2.err"
# the log is rewritten at each rollback (its lines after the checkpoint go) and goes on in the
# new file: it ends at the step before the one that stopped the run
$GANC train $DIVERGE --on-nan rollback --log-every 1 --out $T/nan3 2>$T/nan3.err
stop=$(sed -n 's/^ganc: step \([0-9]*\): .*stopping.*/\1/p' $T/nan3.err)
check "--on-nan rollback: log.jsonl goes on after each rollback, to step $((${stop:-1} - 1))" \
    "[ -n \"$stop\" ] && [ \"\$(grep -o '^{\"step\": [0-9]*' $T/nan3/log.jsonl | tail -n 1)\" = '{\"step\": $((${stop:-1} - 1))' ]"

# --- sample and info --------------------------------------------------------------------------
check "sample png" "$GANC sample $T/a -n 10 -o $T/s.png 2>/dev/null && [ -s $T/s.png ]"
check "sample npy" "$GANC sample $T/a -n 12 -o $T/s.npy --seed 3 2>/dev/null && [ -s $T/s.npy ]"
check "sample is deterministic" "$GANC sample $T/a -n 12 -o $T/s2.npy --seed 3 2>/dev/null && cmp -s $T/s.npy $T/s2.npy"
check "info" "$GANC info $T/a > $T/info.txt && grep -q 'step *20' $T/info.txt && grep -q 'generator' $T/info.txt"
if have_numpy; then
    check "npy read by numpy: shape (12,1,28,28), float32 in [0,1]" \
        "$PY -c 'import numpy as n,sys; a=n.load(sys.argv[1]); assert a.shape==(12,1,28,28) and a.dtype==n.float32 and a.min()>=0 and a.max()<=1 and a.std()>0' $T/s.npy"
    check "checkpoint read by an independent safetensors reader" \
        "$PY tools/read_safetensors.py $T/a/ckpt/step_000000020.safetensors > $T/st.txt && grep -q 'gen.1.running_var' $T/st.txt && grep -q 'optim.disc.v' $T/st.txt && grep -q 'ema.gen' $T/st.txt"
    # one dcgan28 step (convolutions, deconvolutions, batch norm, dense) split over 1, 2 and 3
    # threads: Adam's moments (its first step's gradients) and batch norm's statistics agree up
    # to float rounding. Weights are left out: Adam's first step is lr * sign(gradient), which
    # rounding may flip where a gradient is ~0.
    for th in 1 2 3; do
        $GANC train --model dcgan28 --data $T/images-idx3-ubyte --steps 1 --threads $th --sample-every 0 --out $T/th$th 2>/dev/null
    done
    for th in 2 3; do
        check "dcgan28 step with --threads $th matches --threads 1 up to rounding (gradients, BN statistics)" \
            "$PY tools/compare_checkpoints.py $T/th1/ckpt/step_000000001.safetensors $T/th$th/ckpt/step_000000001.safetensors '^optim\.|running_' --tol 1e-4 >/dev/null"
    done
else
    echo "note: numpy not installed; NPY and safetensors reads by Python skipped"
fi

# --- bad input: one line, non-zero exit, nothing created ----------------------------------------
expect_error "sample --truncation below 0.05" "--truncation 0.01: below 0.05" $GANC sample $T/a --truncation 0.01 -n 4 -o $T/bad.npy
expect_error "train --truncation with a uniform z" "--truncation 0.5: truncates a normal z" $GANC train $COMMON --z-dist uniform --truncation 0.5 --out $T/bad
expect_error "eval --truncation without a run" "--truncation draws a run's samples" $GANC eval --data $T/images-idx3-ubyte --classifier $T/x --truncation 1
printf 'garbage!garbage!garbage!' > "$T/wrongmagic-idx3-ubyte"
{ idx_header; noise_bytes 1000 2; } > "$T/short-idx3-ubyte"
printf '[generator]\ndense 32\nconv 8\n[discriminator]\ndense 1\n' > "$T/broken.gan"
printf '[generator]\ndense 10\nsigmoid\n[discriminator]\ndense 1\n' > "$T/mismatch.gan"
expect_error "missing IDX" "nope-idx3-ubyte" $GANC train --out "$T/bad" --data "$T/nope-idx3-ubyte"
expect_error "wrong magic" "wrongmagic" $GANC train --out "$T/bad" --data "$T/wrongmagic-idx3-ubyte"
expect_error "truncated IDX" "short-idx3-ubyte" $GANC train --out "$T/bad" --data "$T/short-idx3-ubyte"
expect_error "unknown preset" "unknown model 'dcgan99'" $GANC train --out "$T/bad" --model dcgan99 --data "$T/images-idx3-ubyte"
expect_error "malformed model file names file and line" "broken.gan:3:" $GANC train --out "$T/bad" --model "$T/broken.gan" --data "$T/images-idx3-ubyte"
expect_error "model that does not fit the data" "mismatch.gan" $GANC train --out "$T/bad" --model "$T/mismatch.gan" --data "$T/images-idx3-ubyte"
expect_error "flag out of range" "--batch" $GANC train --out "$T/bad" --batch 0
expect_error "flag not a number" "--lr-g" $GANC train --out "$T/bad" --lr-g fast
expect_error "unknown flag" "unknown option" $GANC train --out "$T/bad" --learning-rate 1
expect_error "unknown enum value" "--g-loss" $GANC train --out "$T/bad" --g-loss wasserstein
expect_error "batch not a multiple of --pack" "multiple of --pack 3" $GANC train --out "$T/bad" --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --pack 3
expect_error "unwritable --out" "cannot" $GANC train --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --out /proc/ganc-cannot-write-here
expect_error "bench: flag out of range" "bench: --batch needs an integer in [1, 65536], got '0'" $GANC bench --batch 0
expect_error "bench: --shape with a zero size" "--shape H" $GANC bench --shape 1 0 28
expect_error "bench: unknown flag" "unknown option '--fast'" $GANC bench --fast 1
# Without --shape, bench takes the size a model's generator makes (3 channels when they follow
# the data's); the parameter counts are PyTorch's for the same networks (bench/torch_gan.py
# --verbose), which also match the layers' sums by hand (dcgan32's G: 100*256*16 + 256*128*16 +
# 128*64*16 + 64*3*16 weights, 2*(256+128+64) batch-norm affines).
bench_head() { $GANC bench --model "$1" --batch 2 --threads 1 --iters 1 --warmup 0 2>&1 | head -n 2 | tr '\n' ' '; }
check "bench: dcgan28 on 1x28x28 as before" "bench_head dcgan28 | grep -q 'shape 1x28x28 .*parameters G 404705 D 258401'"
check "bench: dcgan32 on 3x32x32 without --shape" "bench_head dcgan32 | grep -q 'shape 3x32x32 .*parameters G 1068928 D 663296'"
check "bench: dcgan64 on 3x64x64 without --shape" "bench_head dcgan64 | grep -q 'shape 3x64x64 .*parameters G 3576704 D 2765568'"
check "bench: --shape still wins" "$GANC bench --model dcgan32 --shape 1 32 32 --batch 2 --threads 1 --iters 1 --warmup 0 | grep -q 'shape 1x32x32'"
expect_error "--mbstd off without an mbstd layer" "--mbstd off: the model's discriminator has no mbstd layer" $GANC train --out "$T/bad" --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --mbstd off
expect_error "--mbstd-until without an mbstd layer" "no mbstd layer" $GANC train --out "$T/bad" --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --mbstd-until 10
expect_error "--info-codes with a D of one output" "must output 4 values per sample" $GANC train --out "$T/bad" --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --info-codes 3 --z-dim 8
expect_error "--info-codes as large as z" "--info-codes 8 needs --z-dim above 8" $GANC train --out "$T/bad" --model "$T/tiny-info.gan" --data "$T/images-idx3-ubyte" --info-codes 8 --z-dim 8
expect_error "sample --code beyond the run's codes" "codes are 0..2" $GANC sample $T/if1 -n 8 -o $T/c9.png --code 3
expect_error "sample --code on a run without codes" "no InfoGAN code" $GANC sample $T/a -n 8 -o $T/c9.png --code 0
expect_error "sample --by-code on a run without codes" "no InfoGAN code" $GANC sample $T/a -n 8 -o $T/c9.png --by-code
expect_error "sample --by-code with --code" "not with --code" $GANC sample $T/if1 -n 8 -o $T/c9.png --by-code --code 1
# --- flags: one parser, one wording for every command, and --help from the same table ----------
expect_error "train: an integer out of range" "train: --batch needs an integer in [1, 65536], got '0'" $GANC train --out "$T/bad" --batch 0
expect_error "sample: an integer out of range" "sample: -n needs an integer in [1, 1000000], got '0'" $GANC sample $T/a -n 0 -o "$T/bad.png"
expect_error "eval: an integer out of range" "eval: --n needs an integer in [4, 1000000], got '2'" $GANC eval $T/a --classifier "$T/x" --n 2
expect_error "eval of a 2-D run: an integer out of range" "eval: --n needs an integer in [1, 10000000], got '0'" $GANC eval $T/ring --n 0
expect_error "classifier train: an integer out of range" "classifier train: --epochs needs an integer in [1, 10000], got 'x'" $GANC classifier train --data "$T/x" --out "$T/bad" --epochs x
expect_error "bench: --shape out of range" "bench: --shape H needs an integer in [1, 1024], got '0'" $GANC bench --shape 1 0 28
expect_error "train: a number" "train: --lr-g needs a number in [0, 10], got 'fast'" $GANC train --out "$T/bad" --lr-g fast
expect_error "sample: a number" "sample: --truncation needs a number in [0, 100], got 'nan'" $GANC sample $T/a --truncation nan -n 4 -o "$T/bad.png"
expect_error "classifier train: a number in an open range" "classifier train: --lr needs a number in (0, 1), got '1'" $GANC classifier train --data "$T/x" --out "$T/bad" --lr 1
expect_error "train: a seed" "train: --seed needs a non-negative integer, got '-1'" $GANC train --out "$T/bad" --seed -1
expect_error "sample: a seed" "sample: --seed needs a non-negative integer, got '-1'" $GANC sample $T/a --seed -1 -n 4 -o "$T/bad.png"
expect_error "train: a choice" "train: --loss needs one of: ns minimax" $GANC train --out "$T/bad" --loss wasserstein
expect_error "train: a missing value" "train: --lr-g needs a value" $GANC train --out "$T/bad" --lr-g
expect_error "sample: a missing value" "sample: --seed needs a value" $GANC sample $T/a -n 4 -o "$T/bad.png" --seed
expect_error "eval: an empty value" "eval: --classifier needs a value" $GANC eval $T/a --classifier=
expect_error "bench: too few values" "bench: --shape needs 3 values: --shape C H W" $GANC bench --shape 1 28
expect_error "a switch with a value" "eval: --json takes no value" $GANC eval $T/a --classifier "$T/x" --json=1
expect_error "train: an unknown flag" "train: unknown option '--learning-rate' (see ganc train --help)" $GANC train --out "$T/bad" --learning-rate=1
expect_error "info: an unknown flag" "info: unknown option '-v' (see ganc info --help)" $GANC info $T/a -v
expect_error "train: a stray argument" "train: unexpected argument 'fast' (see ganc train --help)" $GANC train --out "$T/bad" fast
expect_error "sample: two runs" "sample: unexpected argument '$T/b' (one run at a time)" $GANC sample $T/a $T/b -n 4 -o "$T/bad.png"
expect_error "info: no run" "info: which run? usage: ganc info DIR|CHECKPOINT" $GANC info
expect_error "sample: a required flag" "sample: -o FILE.png|FILE.npy|FILE.gif is required" $GANC sample $T/a -n 4
check "--name=value is --name value" "$GANC sample $T/a -n 4 --seed=3 -o $T/eq.npy 2>/dev/null && $GANC sample $T/a -n 4 --seed 3 -o $T/sp.npy 2>/dev/null && cmp -s $T/eq.npy $T/sp.npy"
# help_rows CMD...: the flag rows of the command's --help, a row's wrapped lines joined
help_rows() {
    "$@" --help | awk '/^  [^ ]/ { if (row != "") print row; row = $0; next }
        /^    / && row != "" { sub(/^ +/, " "); row = row $0; next }
        { if (row != "") print row; row = "" } END { if (row != "") print row }'
}
for cmd in train sample eval "classifier train" bench info serve report; do
    help_rows $GANC $cmd > "$T/rows.txt"
    check "$cmd --help: every flag's row ends with its default (or says it is required)" \
        "[ \$(grep -c '^  -' $T/rows.txt) -gt 0 ] && ! grep '^  -' $T/rows.txt | grep -v '^  --help ' | grep -v '(default .*)\$' | grep -qv '(required)\$'"
    # each flag listed is one the parser takes: after it (and its value), the error is about
    # the next flag, made up, or about its own value
    unknown=
    for f in $(sed -n 's/^  \(-[^ ]*\).*/\1/p' "$T/rows.txt" | grep -v '^--help$'); do
        if $GANC $cmd $f --no-such-flag --no-such-flag >/dev/null 2>"$T/flag.err" || grep -qF -- "unknown option '$f'" "$T/flag.err"; then
            unknown="$unknown $f"
        fi
    done
    check "$cmd: every flag its --help lists is taken (not:$unknown)" "[ -z '$unknown' ]"
done
n_options() { $GANC info "$1" | sed -n '/^hyper-parameters:/,$p' | wc -l; } # with the heading: one more
check "train --help lists every option of the config table (and --out, --resume, --sync-bn, --serve, --host, --help)" \
    "[ \$(help_rows $GANC train | grep -c '^  --') -eq \$((\$(n_options $T/a) + 5)) ]"

# [train DATA] sections: a model's defaults for one data set, over [train], under the flags
{ sed -n '/^\[generator\]/,/^dense 1$/p' models/toy2d.gan; printf '[train]\nlr_g = 3e-4\nsteps = 2\n[train ring]\nlr_g = 7e-4\nbeta1 = 0.7\n[ train ]\n'; } > "$T/ds.gan" 2>/dev/null
sed '/^\[ train \]$/d' "$T/ds.gan" > "$T/ds-ok.gan"
check "[train ring] applies to --data ring" "$GANC train --model $T/ds-ok.gan --data ring --sample-every 0 --out $T/ds1 2>/dev/null && $GANC info $T/ds1 | grep -q 'lr_g  *0.0007' && $GANC info $T/ds1 | grep -q 'beta1  *0.7'"
check "[train ring] does not apply to --data grid" "$GANC train --model $T/ds-ok.gan --data grid --sample-every 0 --out $T/ds2 2>/dev/null && $GANC info $T/ds2 | grep -q 'lr_g  *0.0003' && $GANC info $T/ds2 | grep -q 'beta1  *0.5'"
check "a flag beats [train ring]" "$GANC train --model $T/ds-ok.gan --data ring --lr-g 1e-5 --sample-every 0 --out $T/ds3 2>/dev/null && $GANC info $T/ds3 | grep -q 'lr_g  *1e-05' && $GANC info $T/ds3 | grep -q 'beta1  *0.7'"
expect_error "a malformed section header names file and line" "ds.gan:$(grep -n '^\[ train \]$' "$T/ds.gan" | cut -d: -f1): unknown section [ train ]" $GANC train --model "$T/ds.gan" --data ring --out "$T/bad"
{ cat "$T/ds-ok.gan"; printf '[train ring]\nlr_d = 1e-3\n'; } > "$T/ds-twice.gan"
expect_error "a [train NAME] section twice" "section [train ring] appears twice" $GANC train --model "$T/ds-twice.gan" --data ring --out "$T/bad"
{ cat "$T/ds-ok.gan"; printf '[train grid]\ndata = ring\n'; } > "$T/ds-data.gan"
expect_error "'data' inside [train NAME]" "'data' belongs in [train]" $GANC train --model "$T/ds-data.gan" --data grid --out "$T/bad"
expect_error "--out is not empty" "not empty" $GANC train --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --out "$T/a"
expect_error "resume from nothing" "no checkpoints" $GANC train --resume "$T"
expect_error "sample from a non-run" "ganc" $GANC sample "$T/images-idx3-ubyte" -n 4 -o "$T/x.png"
expect_error "sample to an unknown format" ".png or .npy" $GANC sample "$T/a" -n 4 -o "$T/x.jpg"
expect_error "unknown command" "unknown command" $GANC fly

# --- fewer threads than asked: OpenMP may run a layer's parts on fewer threads than --threads
# (OMP_THREAD_LIMIT, OMP_DYNAMIC); every part must still be computed, and computed the same way
check "--threads 2 run" "$GANC train $COMMON --threads 2 --steps 10 --out $T/thr2 2>/dev/null"
for env_limit in OMP_THREAD_LIMIT=1 OMP_DYNAMIC=true; do
    check "--threads 2 under $env_limit writes the same checkpoint as without" \
        "env $env_limit $GANC train $COMMON --threads 2 --steps 10 --out $T/thr-lim 2>/dev/null && cmp -s $T/thr2/ckpt/step_000000010.safetensors $T/thr-lim/ckpt/step_000000010.safetensors"
    rm -rf "$T/thr-lim"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
