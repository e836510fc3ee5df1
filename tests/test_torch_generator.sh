#!/bin/sh
# tools/torch_generator.py: a ganc generator loaded into PyTorch under ganc's module names draws
# the samples `ganc sample --seed S -o X.npy` draws, within float rounding (1e-5): a tiny run
# with batch norm and EMA, from its export and from its checkpoint (the average kept flat);
# dcgan28 (transposed convolutions, 'valid' and 'same'); mlp (an InfoGAN code, its truncation of
# 1.25, EMA), by default and with --code and --truncation. Each comparison is also made against
# another seed's samples, which must differ, so that a wrong stream cannot pass. Skipped where
# Debian's python3 lacks torch or numpy (apt-get install python3-torch).
# Usage: GANC=path/to/ganc tests/test_torch_generator.sh
. "$(dirname "$0")/cli_fixture.sh"
if ! [ -x "$PY" ] || ! "$PY" -c 'import numpy, torch' 2>/dev/null; then
    echo "torch_generator: skipped ($PY cannot import numpy and torch: apt-get install python3-torch)"
    echo "torch_generator: 0 passed, 0 failed"
    exit 0
fi
TOOL="$PY $(dirname "$0")/../tools/torch_generator.py"
DATA="--data $T/images-idx3-ubyte --seed 2 --batch 16"
check "a tiny run" "$GANC train --model $T/tiny.gan $DATA --steps 4 --out $T/tiny 2>/dev/null && $GANC export $T/tiny -o $T/tiny.gen.safetensors 2>/dev/null"
check "dcgan28" "$GANC train --model dcgan28 $DATA --steps 2 --out $T/dcgan28 2>/dev/null && $GANC export $T/dcgan28 -o $T/dcgan28.gen.safetensors 2>/dev/null"
check "mlp" "$GANC train --model mlp $DATA --steps 2 --out $T/mlp 2>/dev/null && $GANC export $T/mlp -o $T/mlp.gen.safetensors 2>/dev/null"
# compare NAME FILE "ganc sample's flags" "the tool's flags": both draw seed 9 (and the tool seed
# 10 too); the pairs are compared in one Python run at the end
: > "$T/pairs.txt"
compare() {
    name=$1 file=$2 flags=$3
    i=$(wc -l < "$T/pairs.txt")
    check "$name: ganc sample and the tool draw" \
        "$GANC sample $T/${file%%.*} --seed 9 -n 8 $flags -o $T/c$i.npy 2>/dev/null && $TOOL $T/$file --seed 9 -n 8 $flags -o $T/t$i.npy && $TOOL $T/$file --seed 10 -n 8 $flags -o $T/o$i.npy"
    echo "$name|$T/c$i.npy|$T/t$i.npy|$T/o$i.npy" >> "$T/pairs.txt"
}
compare "tiny, export" tiny.gen.safetensors ""
cp "$(ls "$T"/tiny/ckpt/step_*.safetensors | tail -n 1)" "$T/tiny.ckpt.safetensors"
compare "tiny, checkpoint (EMA flat)" tiny.ckpt.safetensors ""
compare "dcgan28, export" dcgan28.gen.safetensors ""
compare "mlp, export (code drawn, truncation 1.25)" mlp.gen.safetensors ""
compare "mlp, --code 3 --truncation 0.7" mlp.gen.safetensors "--code 3 --truncation 0.7"
"$PY" - "$T/pairs.txt" > "$T/verdicts.txt" <<'PYEOF'
import sys
import numpy as np
for line in open(sys.argv[1]):
    name, ganc, tool, other = line.strip().split("|")
    try:
        a, b, o = np.load(ganc), np.load(tool), np.load(other)
        err, apart = float(np.abs(a - b).max()), float(np.abs(a - o).max())
        ok = a.shape == b.shape and err <= 1e-5 and apart > 1e-3
        print(f"{'ok' if ok else 'bad'}|{name}: max difference {err:.3g} (another seed's: {apart:.3g}), shapes {a.shape} {b.shape}")
    except Exception as e:  # a missing file: the draw's check has failed already
        print(f"bad|{name}: {e}")
PYEOF
while IFS='|' read -r verdict what; do
    if [ "$verdict" = ok ]; then ok; else bad "$what"; fi
done < "$T/verdicts.txt"
check "five comparisons made" "[ \$(wc -l < $T/verdicts.txt) -eq 5 ]"
quadrants images 64 3 > "$T/q-images-idx3-ubyte"
quadrants labels 64 3 > "$T/q-labels-idx1-ubyte"
expect_error "a conditional run is refused with a message" "conditional runs (--cond) are not covered here" \
    sh -c "$GANC train --model $T/tiny.gan --data $T/q-images-idx3-ubyte --cond concat --steps 1 --out $T/cond >/dev/null 2>&1; $TOOL $T/cond/ckpt/step_000000001.safetensors -o $T/x.npy"
echo "torch_generator: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
