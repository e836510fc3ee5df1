#!/bin/sh
# --precision end to end (issue 23): a bf16 run is deterministic and resumes bit-identically,
# differs from the fp32 run (its products were rounded), keeps fp32 checkpoints that sample in
# either precision, auto falls back to fp32 for a model not shown to train as well, and bad
# values are answered by one clear line.
# Usage: GANC=path/to/ganc tests/test_bf16_cli.sh
. "$(dirname "$0")/cli_fixture.sh"
COMMON="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 10 --ckpt-every 10"
ck20=ckpt/step_000000020.safetensors

# --- determinism and resume ------------------------------------------------------------------
check "bf16: 20 steps" "$GANC train $COMMON --precision bf16 --steps 20 --out $T/a 2>$T/a.err"
check "bf16: the same 20 steps again" "$GANC train $COMMON --precision bf16 --steps 20 --out $T/a2 2>/dev/null"
check "bf16: the same seed gives the same checkpoint, byte for byte" "cmp -s $T/a/$ck20 $T/a2/$ck20"
check "bf16: 10 steps, then --resume to 20" \
    "$GANC train $COMMON --precision bf16 --steps 10 --out $T/b 2>/dev/null && $GANC train --resume $T/b --steps 20 2>/dev/null"
check "bf16: the resumed run is bit-identical to the straight one" "cmp -s $T/a/$ck20 $T/b/$ck20"
check "bf16: resumed on 2 threads after 1 (the split of sums follows --threads)" \
    "$GANC train $COMMON --precision bf16 --threads 2 --steps 10 --out $T/c 2>/dev/null && $GANC train --resume $T/c --steps 20 2>/dev/null && $GANC train $COMMON --precision bf16 --threads 2 --steps 20 --out $T/c2 2>/dev/null && cmp -s $T/c/$ck20 $T/c2/$ck20"
check "fp32: 20 steps" "$GANC train $COMMON --steps 20 --out $T/f 2>/dev/null"
check "bf16 and fp32 runs differ (the products were rounded)" "! cmp -s $T/a/$ck20 $T/f/$ck20"
check "auto with a model not shown to train as well in bf16 runs fp32, bit for bit" \
    "$GANC train $COMMON --precision auto --steps 20 --out $T/au 2>/dev/null && cmp -s $T/au/$ck20 $T/f/$ck20"

# --- the checkpoint stays fp32 and records what ran ---------------------------------------------
check "ganc info: precision bf16" "$GANC info $T/a | grep -q '^  precision *bf16$'"
check "ganc info of the auto run: precision fp32 (resolved when it started)" "$GANC info $T/au | grep -q '^  precision *fp32$'"
# every tensor of the safetensors header is F32
dtypes() { LC_ALL=C head -c 200000 "$1" | grep -ao '"dtype":"[A-Z0-9]*"' | sort -u | tr '\n' ' '; }
check "the bf16 checkpoint holds F32 tensors only" "[ \"\$(dtypes $T/a/$ck20)\" = '\"dtype\":\"F32\" ' ]"
check "sample a bf16 run in bf16 (its own) and fp32" \
    "$GANC sample $T/a -n 8 -o $T/s-bf.npy 2>/dev/null && $GANC sample $T/a -n 8 --precision fp32 -o $T/s-fp.npy 2>/dev/null && $GANC sample $T/a -n 8 --precision bf16 -o $T/s-bf2.npy 2>/dev/null"
check "sampling a bf16 run: --precision bf16 is its own precision" "cmp -s $T/s-bf.npy $T/s-bf2.npy"
check "sampling a bf16 run: fp32 and bf16 samples differ" "! cmp -s $T/s-bf.npy $T/s-fp.npy"
check "sample an fp32 run in bf16" "$GANC sample $T/f -n 8 --precision bf16 -o $T/f-bf.npy 2>/dev/null && $GANC sample $T/f -n 8 -o $T/f-fp.npy 2>/dev/null && ! cmp -s $T/f-bf.npy $T/f-fp.npy"
if have_numpy; then
    check "bf16 and fp32 samples of one checkpoint agree within 0.05" \
        "$PY -c 'import numpy as n,sys; a=n.load(sys.argv[1]); b=n.load(sys.argv[2]); sys.exit(not (a.shape==b.shape and 0 < abs(a-b).max() < 0.05))' $T/f-bf.npy $T/f-fp.npy"
fi

# --- bench ----------------------------------------------------------------------------------------
check "bench --precision bf16 names the kernels" \
    "$GANC bench --model $T/tiny.gan --iters 1 --warmup 0 --precision bf16 > $T/bench.txt 2>&1 && grep -Eq '^precision bf16: (AMX-BF16|AVX512-BF16|emulated) kernels' $T/bench.txt"
# auto on dcgan28 (shown to train as well in bf16): bf16 on a hardware path, else fp32, saying why
check "bench --precision auto on dcgan28: bf16 only on a hardware path" \
    "$GANC bench --model dcgan28 --batch 4 --iters 1 --warmup 0 --precision auto > $T/auto.txt 2>&1 && grep -Eq '^precision (bf16: (AMX-BF16|AVX512-BF16) kernels|fp32 \\(auto: no bf16 in hardware here)' $T/auto.txt"
check "bench without --precision: fp32" "$GANC bench --model $T/tiny.gan --iters 1 --warmup 0 | grep -q '^precision fp32$'"

# --- bad input --------------------------------------------------------------------------------
expect_error "train --precision fp16" "--precision needs one of: fp32 bf16 auto, got 'fp16'" \
    $GANC train $COMMON --precision fp16 --steps 2 --out $T/bad
expect_error "train --precision without a value" "--precision" $GANC train $COMMON --steps 2 --out $T/bad --precision
expect_error "resume with another precision" "train: --precision cannot change when resuming" \
    $GANC train --resume $T/b --steps 30 --precision fp32
expect_error "sample --precision BF16" "sample: --precision needs one of: fp32 bf16 auto, got 'BF16'" \
    $GANC sample $T/a -n 4 -o $T/x.npy --precision BF16
expect_error "bench --precision 16" "bench: --precision needs one of: fp32 bf16 auto, got '16'" \
    $GANC bench --precision 16
expect_error "eval --precision half" "eval: --precision needs one of: fp32 bf16 auto, got 'half'" \
    $GANC eval $T/a --classifier $T/none.safetensors --precision half

echo "bf16_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
