#!/bin/sh
# ganc train over MPI processes (mpirun -np N, README "Several processes"): a run on 2 and on 3
# processes against one process at the same global batch, the same N twice, resuming across
# process counts, and the refusals. Skipped, with a line saying why, when this ganc was built
# without MPI or mpirun is missing.
# Tolerance: the processes' shares sum their gradients in another grouping than one process
# does, so the weights differ by float rounding (~1e-7 of their size per step). After 10
# steps the test asks for 1e-5 of the largest weight and 1e-4 of the largest Adam moment.
# Later on Adam amplifies such differences where a gradient is near 0 (m / sqrt(v) is of size 1
# whatever the gradient's), as it does between one process on 1 and on 2 threads: after 50
# steps both reach ~2e-2 of the weights on this model, so a longer comparison tests nothing.
# The model has no batch norm (each process normalises its own share: another computation).
# Then the same against one process with --sync-bn (batch norm on the global batch), dropout
# (each process draws its part of the global batch's masks), --pack, --info-codes, --cond and
# --eval-every, and the start-up refusal of processes given other options, model or data.
# Usage: GANC=path/to/ganc tests/test_mpi.sh
. "$(dirname "$0")/cli_fixture.sh"
if ! "$GANC" --version | grep -q ' mpi'; then
    echo "mpi: skipped: $GANC was built without MPI"; echo "mpi: 0 passed, 0 failed"; exit 0
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi: skipped: no mpirun (Debian: openmpi-bin)"; echo "mpi: 0 passed, 0 failed"; exit 0
fi
if ! have_numpy; then
    echo "mpi: skipped: $PY has no numpy (the checkpoints' comparison)"; echo "mpi: 0 passed, 0 failed"; exit 0
fi
# CI runs as root; 2 cores take 3 processes; OpenMPI's own allocations outlive MPI_Finalize
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0
mpi() { n=$1; shift; mpirun --oversubscribe -np "$n" "$@"; }
HERE=$(cd "$(dirname "$0")" && pwd)
compare() { "$PY" "$HERE/st_compare.py" "$@"; }
# within A B [WEIGHTS MOMENTS]: the checkpoints agree in everything but rounding (see the top;
# the relative tolerances 1e-5 and 1e-4 unless given)
within() {
    line=$(compare "$1" "$2") || { echo "$line" >&2; return 1; }
    echo "$line" | awk -v tw="${3:-1e-5}" -v tm="${4:-1e-4}" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
        exit !(v["weights_rel"] <= tw + 0 && v["moments_rel"] <= tm + 0) }' || { echo "  $line" >&2; return 1; }
}
cat > "$T/plain.gan" <<'M'
[generator]
dense 32
elu
dense $pixels
sigmoid
reshape $c $h $w
[discriminator]
conv 4 k=5 stride=2 pad=same
lrelu slope=0.2
flatten
dense 1
[train]
z_dim = 8
lr_g = 1e-3
lr_d = 1e-3
M
C="--model $T/plain.gan --data $T/images-idx3-ubyte --seed 3 --batch 24 --threads 1 --log-every 5 --sample-every 5 --ckpt-every 5"
ck=ckpt/step_000000010.safetensors
check "one process, 10 steps" "$GANC train $C --steps 10 --out $T/one 2>/dev/null"
check "2 processes, 10 steps" "mpi 2 $GANC train $C --steps 10 --out $T/two 2>$T/two.err"
check "3 processes, 10 steps" "mpi 3 $GANC train $C --steps 10 --out $T/three 2>/dev/null"
check "2 processes = one process up to rounding (same metadata: data position, streams, options)" "within $T/one/$ck $T/two/$ck"
check "3 processes = one process up to rounding" "within $T/one/$ck $T/three/$ck"
echo "  one vs 2: $(compare $T/one/$ck $T/two/$ck); one vs 3: $(compare $T/one/$ck $T/three/$ck)"
check "one writer: one start line, one done line" "[ \$(grep -c '^ganc: training' $T/two.err) -eq 1 ] && [ \$(grep -c '^ganc: done' $T/two.err) -eq 1 ]"
check "the run directory holds what a one-process run's does" "[ \"\$(cd $T/one && find . | sort)\" = \"\$(cd $T/two && find . | sort)\" ]"
check "2 processes again" "mpi 2 $GANC train $C --steps 10 --out $T/two2 2>/dev/null"
no_timing() { sed 's/"[a-z_]*sec_per_step": [^,}]*//g' "$@"; }
check "the same N twice: identical checkpoints, pictures and log" \
    "cmp -s $T/two/$ck $T/two2/$ck && cmp -s $T/two/samples/latest.png $T/two2/samples/latest.png && no_timing $T/two/log.jsonl > $T/l1 && no_timing $T/two2/log.jsonl > $T/l2 && cmp -s $T/l1 $T/l2"
# resume across process counts: 5 steps on 2, then to 10 on 1 (and the other way round)
check "5 steps on 2 processes, resumed to 10 in one" "mpi 2 $GANC train $C --steps 5 --out $T/r21 2>/dev/null && $GANC train --resume $T/r21 --steps 10 2>/dev/null && within $T/one/$ck $T/r21/$ck"
check "5 steps in one, resumed to 10 on 3 processes" "$GANC train $C --steps 5 --out $T/r13 2>/dev/null && mpi 3 $GANC train --resume $T/r13 --steps 10 2>/dev/null && within $T/one/$ck $T/r13/$ck"

# --sync-bn: the fixture's tiny.gan (batch norm in G after a dense layer, in D after a conv; its
# dropout taken out here, tested below) normalises by the global batch's statistics, so N
# processes are one process's run up to rounding, the running statistics (gen.*/disc.* tensors)
# included, with the same tolerance. Without it, each process normalises its share: not the same.
sed '/^dropout/d' "$T/tiny.gan" > "$T/bn.gan"
B="--model $T/bn.gan --data $T/images-idx3-ubyte --seed 3 --batch 24 --threads 1 --log-every 5 --sample-every 5 --ckpt-every 5 --sync-bn"
check "--sync-bn in one process (no effect), 10 steps" "$GANC train $B --steps 10 --out $T/bn1 2>/dev/null"
check "--sync-bn on 2 processes" "mpi 2 $GANC train $B --steps 10 --out $T/bn2 2>/dev/null"
check "--sync-bn on 3 processes" "mpi 3 $GANC train $B --steps 10 --out $T/bn3 2>/dev/null"
check "--sync-bn: 2 processes = one process up to rounding" "within $T/bn1/$ck $T/bn2/$ck"
check "--sync-bn: 3 processes = one process up to rounding" "within $T/bn1/$ck $T/bn3/$ck"
echo "  --sync-bn one vs 2: $(compare $T/bn1/$ck $T/bn2/$ck); one vs 3: $(compare $T/bn1/$ck $T/bn3/$ck)"
# (the checkpoints differ only in the note that keeps --sync-bn for a resume)
check "--sync-bn in one process changes nothing" "$GANC train $(echo $B | sed 's/ --sync-bn//') --steps 10 --out $T/bn1x 2>/dev/null && [ \"\$(compare $T/bn1/$ck $T/bn1x/$ck train.sync_bn)\" = 'weights_abs=0 weights_rel=0 moments_abs=0 moments_rel=0' ] && ! compare $T/bn1/$ck $T/bn1x/$ck >/dev/null"
check "without --sync-bn, 2 processes with batch norm are another computation" "mpi 2 $GANC train $(echo $B | sed 's/ --sync-bn//') --steps 10 --out $T/bn2x 2>/dev/null && ! within $T/bn1/$ck $T/bn2x/$ck 2>/dev/null"
check "--sync-bn on 2 processes again: identical checkpoint" "mpi 2 $GANC train $B --steps 10 --out $T/bn2b 2>/dev/null && cmp -s $T/bn2/$ck $T/bn2b/$ck"
check "--sync-bn: 5 steps on 3 processes, resumed to 10 on 2" "mpi 3 $GANC train $B --steps 5 --out $T/bnr 2>/dev/null && mpi 2 $GANC train --resume $T/bnr --steps 10 --sync-bn 2>/dev/null && within $T/bn1/$ck $T/bnr/$ck"
check "--sync-bn: kept by the checkpoint: 5 steps on 2 processes, resumed to 10 on 3 without the flag" "mpi 2 $GANC train $B --steps 5 --out $T/bnk 2>/dev/null && mpi 3 $GANC train --resume $T/bnk --steps 10 2>/dev/null && within $T/bn1/$ck $T/bnk/$ck"
check "--sync-bn: 5 steps on 2 processes, resumed to 10 in one" "mpi 2 $GANC train $B --steps 5 --out $T/bnr1 2>/dev/null && $GANC train --resume $T/bnr1 --steps 10 2>/dev/null && within $T/bn1/$ck $T/bnr1/$ck"

# Options shared out, each on 2 and 3 processes against one process (10 steps, the tolerance
# above): --pack (each process's share holds whole packs), --info-codes (codes drawn for the
# global batch, each process keeping its share), --cond (the generated classes likewise, and the
# real samples' labels follow their indices: acgan's class loss on real samples and projection's
# D see them; with --sync-bn as the model has batch norm, conditional in projection's G), and
# --eval-every (process 0 evaluates alone on noise of its own: the same modes in the log).
same_as_one() { # name, directory, options...
    name=$1; d=$2; shift 2
    check "$name: one process" "$GANC train $* --steps 10 --out $T/$d-1 2>/dev/null"
    for n in 2 3; do
        check "$name: $n processes = one process up to rounding" \
            "mpi $n $GANC train $* --steps 10 --out $T/$d-$n 2>$T/$d-$n.err && within $T/$d-1/$ck $T/$d-$n/$ck"
    done
    echo "  $name: one vs 2: $(compare $T/$d-1/$ck $T/$d-2/$ck); one vs 3: $(compare $T/$d-1/$ck $T/$d-3/$ck)"
}
O="--seed 3 --batch 24 --threads 1 --log-every 5 --sample-every 5 --ckpt-every 5"
same_as_one "--pack 2" pack $C --pack 2
# dropout in G (35 units: the processes' parts of the masks start inside a random block of 4
# values at batch 30 on 2 and 3 processes) and in D, alone, in packs, and with batch norm
sed -e 's/^dense 32$/dense 35/' -e 's/^elu$/elu\ndropout p=0.3/' -e 's/^lrelu slope=0.2$/lrelu slope=0.2\ndropout p=0.2/' \
    "$T/plain.gan" > "$T/drop.gan"
same_as_one "dropout in G and D" drop --model $T/drop.gan --data $T/images-idx3-ubyte $(echo $O | sed 's/--batch 24/--batch 30/')
same_as_one "dropout, --pack 2" droppack --model $T/drop.gan --data $T/images-idx3-ubyte $O --pack 2
# (seed 1: at seed 3 one weight of G's last layer, whose gradient is rounding alone, takes an
# Adam step at step 1 that differs by 7e-6 between one and two processes, 1e-3 by step 10)
same_as_one "batch norm and dropout (tiny.gan), --sync-bn" tiny --model $T/tiny.gan --data $T/images-idx3-ubyte \
    $(echo $O | sed 's/--seed 3/--seed 1/') --sync-bn
# the stabilisers that draw per sample (each process draws its part of the global batch's
# draw), and those that look across the batch (top-k: the global batch's k best, the scores
# gathered; the penalties' finite difference: its step from the global batch's largest values)
same_as_one "--inst-noise 0.2" inst $C --inst-noise 0.2
same_as_one "--diffaug color,translation,cutout" diffaug $C --diffaug color,translation,cutout
same_as_one "--top-k 0.3 (falling to 0.3 by step 10)" topk $C --top-k 0.3
# (the penalties on a D without a bias on its logit: the losses' gradient on it is 0 but for
# rounding, which Adam turns into steps of the learning rate's size. The penalty's finite
# difference (src/gan/penalty.c) turns rounding into larger differences when a step crosses a
# kink of leaky ReLU: between 1 and 3 threads in one process as between 1 and 3 processes, at
# the same steps; WGAN-GP's interpolates meet one by step 8 at this seed, so it is compared at
# step 2, with ten times the tolerance: the difference divides rounding by its step, 1e-3 of
# the inputs' scale.)
sed 's/^dense 1$/dense 1 bias=0/' "$T/plain.gan" > "$T/nobias.gan"
P=$(echo $C | sed "s|--model [^ ]*|--model $T/nobias.gan|")
same_as_one "--r1 1" r1 $P --r1 1
check "--loss wgan-gp: one process, 2 steps" "$GANC train $P --loss wgan-gp --ckpt-every 2 --steps 2 --out $T/gp-1 2>/dev/null"
for n in 2 3; do
    check "--loss wgan-gp: $n processes = one process up to rounding at step 2 (1e-4)" \
        "mpi $n $GANC train $P --loss wgan-gp --ckpt-every 2 --steps 2 --out $T/gp-$n 2>/dev/null && within $T/gp-1/ckpt/step_000000002.safetensors $T/gp-$n/ckpt/step_000000002.safetensors 1e-4 1e-3"
done
echo "  --loss wgan-gp (step 2): one vs 2: $(compare $T/gp-1/ckpt/step_000000002.safetensors $T/gp-2/ckpt/step_000000002.safetensors); one vs 3: $(compare $T/gp-1/ckpt/step_000000002.safetensors $T/gp-3/ckpt/step_000000002.safetensors)"
sed 's/^dense 1$/dense $dout/' "$T/plain.gan" > "$T/info.gan"
same_as_one "--info-codes 3" info --model $T/info.gan --data $T/images-idx3-ubyte $O --info-codes 3
quadrant_set "$T/q"
for c in acgan projection; do
    same_as_one "--cond $c --sync-bn" cond-$c --model $T/bn.gan --data $T/q/train-images-idx3-ubyte $O --cond $c --sync-bn
done
# (a 2-D model of its own: the preset's mbstd layer is refused, and its G's dense layers have
# biases before batch norm, whose gradient is 0 but for rounding, which Adam turns into steps of
# the learning rate's size, so that its weights differ between N far beyond rounding). At step
# 10 this G has found no mode yet: the evaluations compared are the same lines, with n = 500
# samples each (process 0 evaluates everything, alone), not yet telling numbers.
printf '[generator]\ndense 64\nrelu\ndense 2\n[discriminator]\ndense 64\nlrelu slope=0.2\ndense 1\n[train]\nz_dim = 2\n' > "$T/toy.gan"
same_as_one "--eval-every (2-D)" eval --model $T/toy.gan --data ring $O --eval-every 5 --eval-n 500
evals() { grep '"modes"' "$1/log.jsonl"; }
check "--eval-every: process 0's evaluations are one process's (step 10: $(evals $T/eval-1 | tail -n 1))" \
    "[ \$(evals $T/eval-1 | grep -c .) -eq 2 ] && [ \"\$(evals $T/eval-1)\" = \"\$(evals $T/eval-2)\" ] && [ \"\$(evals $T/eval-1)\" = \"\$(evals $T/eval-3)\" ] && [ -s $T/eval-2/metrics.png ]"

# refusals: one clear line from ganc (mpirun adds its own notice), a failed job, no directory
refused() { # name, expected text, mpi args...
    name=$1; want=$2; shift 2
    rm -rf "$T/bad"
    if mpi "$@" > "$T/out.txt" 2> "$T/err.txt"; then bad "$name: exit status 0"; return; fi
    if [ "$(grep -c '^ganc: ' "$T/err.txt")" -ne 1 ]; then bad "$name: expected one ganc line, got: $(cat "$T/err.txt")"; return; fi
    if ! grep -qF -- "$want" "$T/err.txt"; then bad "$name: message lacks '$want': $(cat "$T/err.txt")"; return; fi
    if [ -e "$T/bad" ]; then bad "$name: left a run directory behind"; return; fi
    ok
}
refused "a batch 2 processes do not divide" "train: --batch 25 does not divide among 2 processes" 2 $GANC train $C --batch 25 --out $T/bad
refused "a batch 3 processes do not divide" "train: --batch 16 does not divide among 3 processes" 3 $GANC train $C --batch 16 --out $T/bad
refused "--on-nan rollback refused" "train: --on-nan rollback is not supported over several processes yet; run it in one process" 2 $GANC train $C --on-nan rollback --out $T/bad
refused "--pack that does not divide a process's share" "train: --pack 3 does not divide each process's share of the batch (8 of --batch 24 over 3 processes)" 3 $GANC train $C --pack 3 --out $T/bad
refused "an mbstd layer refused (the toy2d preset's)" "train: an mbstd layer in D (--mbstd off turns it off) is not supported over several processes yet" 2 $GANC train --model toy2d --data ring --batch 24 --out $T/bad
refused "ganc eval under mpirun (each process would do all of it)" "ganc: eval: only ganc train shares its work over processes; started as 2 processes" 2 $GANC eval $T/one --out $T/bad
refused "ganc sample under mpirun" "ganc: sample: only ganc train shares its work over processes; started as 3 processes" 3 $GANC sample $T/one -o $T/bad
# processes started with other options, model or data (mpirun's A : B runs A as process 0 and B
# as process 1, ...): refused at start by a hash, one line naming the first other process. The
# model and the data are the same paths in two folders (-wdir), so that the options agree.
mkdir -p "$T/w1" "$T/w2"
cp "$T/plain.gan" "$T/w1/m.gan"; sed 's/^dense 32$/dense 33/' "$T/plain.gan" > "$T/w2/m.gan"
# (the same images but for the last pixel)
cp "$T/images-idx3-ubyte" "$T/w1/set"; cp "$T/images-idx3-ubyte" "$T/w2/set"
printf '\177' | dd of="$T/w2/set" bs=1 seek=$(($(wc -c < "$T/w2/set") - 1)) conv=notrunc 2>/dev/null
GA=$(cd "$(dirname "$GANC")" && pwd)/$(basename "$GANC") # (-wdir: an absolute path)
W="--model m.gan --data set $O --steps 2 --out $T/bad"
refused "another option on process 1" "train: process 1 of 2 was started with other options than process 0" \
    1 -wdir $T/w1 $GA train $W : -np 1 -wdir $T/w1 $GA train $W --lr-d 2e-3
refused "another model on process 2" "train: process 2 of 3 was started with other model or checkpoint than process 0" \
    2 -wdir $T/w1 $GA train $W --data $T/w1/set : -np 1 -wdir $T/w2 $GA train $W --data $T/w1/set
refused "other data on process 1" "train: process 1 of 3 was started with other data than process 0" \
    1 -wdir $T/w1 $GA train $W --model $T/w1/m.gan : -np 2 -wdir $T/w2 $GA train $W --model $T/w1/m.gan
refused "--sync-bn on one process only" "train: process 1 of 2 was started with other options than process 0" \
    1 -wdir $T/w1 $GA train $W : -np 1 -wdir $T/w1 $GA train $W --sync-bn
check "the same run from two folders with the same files is not refused" \
    "rm -rf $T/bad && cp $T/w1/m.gan $T/w1/set $T/w2/ && mpi 1 -wdir $T/w1 $GA train $W : -np 1 -wdir $T/w2 $GA train $W 2>/dev/null && rm -rf $T/bad"

# Faults: a process killed (SIGKILL, as the kernel's OOM killer does) ends the job within
# seconds with one line naming it (with, at times, a process still behind it in the exchanges:
# process 0 cannot tell a dead process from one that waits for the dead one) and the last checkpoint, which is intact (a run resumes from
# it); SIGUSR1 to mpirun (forwarded to every process at once) and Ctrl-C (SIGINT: mpirun's own
# kill, SIGTERM to the processes 1 s later) stop the run at the end of a step with a checkpoint.
# (the run's processes: rank of each from its environment)
rank_pid() { # out-dir rank
    for p in $(pgrep -f -- "--out $1\$"); do
        if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo $p; return; fi
    done
}
wait_ckpt() { i=0; while [ ! -e "$1/ckpt/step_000000050.safetensors" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; }
# wait_pid PID SECONDS: 0 when it ended within the time
wait_pid() { i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done; ! kill -0 "$1" 2>/dev/null; }
L="$C --steps 1000000 --ckpt-every 50 --log-every 1000 --sample-every 100000"
# (mpirun gives 1 s between its SIGTERM and its SIGKILL; a test machine loaded with other jobs
# may not run process 0 long enough in that second to say its line, so 3 s here: the SIGTERM
# then comes 3 s after the death and the SIGKILL 3 s later; ganc's grace is 0.3 of it)
mpirun --mca odls_base_sigkill_timeout 3 --oversubscribe -np 3 $GANC train $L --out $T/kill > /dev/null 2> $T/kill.err &
job=$!
wait_ckpt $T/kill
victim=$(rank_pid $T/kill 1)
if [ -n "$victim" ]; then kill -9 "$victim"; fi
check "a killed process (1 of 3): the job ends within 10 s" "[ -n '$victim' ] && wait_pid $job 10"
kill -9 $job 2>/dev/null; wait $job 2>/dev/null
last=$(ls $T/kill/ckpt | tail -n 1)
check "... with one line naming process 1 and the last checkpoint ($last)" \
    "[ \$(grep -c '^ganc: train: stopped at step' $T/kill.err) -eq 1 ] && grep -Eq 'waiting for process ([0-9]+, )*1(, [0-9]+)* of 3 .*the last checkpoint is $T/kill/ckpt/$last; continue with: ganc train --resume $T/kill' $T/kill.err"
check "... and that checkpoint is intact: one process resumes from it" \
    "$GANC train --resume $T/kill --steps \$(( \$(echo $last | sed 's/[^0-9]//g' | sed 's/^0*//') + 2 )) 2>/dev/null"
echo "  $(grep '^ganc: train: stopped' $T/kill.err)"
for sig in USR1 INT; do
    rm -rf $T/stop
    mpirun --oversubscribe -np 2 $GANC train $L --out $T/stop > /dev/null 2> $T/stop.err &
    job=$!
    wait_ckpt $T/stop
    kill -$sig $job
    check "SIG$sig to mpirun: the run stops within 10 s" "wait_pid $job 10"
    kill -9 $job 2>/dev/null; wait $job 2>/dev/null
    at=$(sed -n 's/^ganc: stopped at step \([0-9]*\); continue with: ganc train --resume .*/\1/p' $T/stop.err)
    check "SIG$sig to mpirun: a checkpoint at the step it stopped at (${at:-none}), resumed by one process" \
        "[ -n '$at' ] && [ -e $T/stop/ckpt/step_\$(printf %09d '$at').safetensors ] && $GANC train --resume $T/stop --steps \$(($at + 2)) 2>/dev/null"
done

echo "mpi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
