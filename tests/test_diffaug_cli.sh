#!/bin/sh
# --diffaug through the ganc command: a run with every transform stopped and resumed writes the
# straight run's checkpoint byte for byte (the draws are keyed by the seed and the step, and the
# option is restored from the checkpoint), the option changes what D is trained on, a model's
# [train] section may set it, and what it cannot do is refused in one line.
# Usage: GANC=path/to/ganc tests/test_diffaug_cli.sh
. "$(dirname "$0")/cli_fixture.sh"
AUG="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 7 --log-every 1 --sample-every 0 --ckpt-every 10 --d-steps 2 --diffaug color,translation,cutout"

check "--diffaug: 20 steps straight" "$GANC train $AUG --steps 20 --out $T/s 2>$T/s.err"
check "--diffaug: 10 steps, then resumed to 20 (the option from the checkpoint)" \
    "$GANC train $AUG --steps 10 --out $T/r 2>/dev/null && $GANC train --resume $T/r --steps 20 2>/dev/null"
check "--diffaug: the resumed run's checkpoint is the straight run's, byte for byte" \
    "[ -f $T/s/ckpt/step_000000020.safetensors ] && cmp -s $T/s/ckpt/step_000000020.safetensors $T/r/ckpt/step_000000020.safetensors"
check "--diffaug: the checkpoint keeps the option (ganc info)" \
    "$GANC info $T/r | grep -q '^ *diffaug  *color,translation,cutout\$'"
check "--diffaug: the losses stay finite" "grep -q '\"step\": 20,' $T/s/log.jsonl && ! grep -qi 'nan\|inf' $T/s/log.jsonl"
# D's first loss is on the first batches as they come: without the transforms it differs
check "--diffaug: D's loss at step 1 differs from the same run without it" \
    "$GANC train $(echo "$AUG" | sed 's/--diffaug [^ ]*//') --steps 1 --out $T/plain 2>/dev/null && [ \"\$(grep -o '\"d_loss\": [^,]*' $T/plain/log.jsonl | head -1)\" != \"\$(grep -o '\"d_loss\": [^,]*' $T/s/log.jsonl | head -1)\" ]"
check "--diffaug cannot be changed on resume" "! $GANC train --resume $T/s --steps 30 --diffaug none 2>$T/ch.err && grep -q diffaug $T/ch.err"

# a model's [train] section may set it
{ cat "$T/tiny.gan"; printf 'diffaug = cutout\n'; } > "$T/tiny-aug.gan"
check "diffaug = cutout in a model's [train] section" \
    "$GANC train --model $T/tiny-aug.gan --data $T/images-idx3-ubyte --steps 2 --sample-every 0 --out $T/m 2>/dev/null && $GANC info $T/m | grep -q '^ *diffaug  *cutout\$'"

# --- refused in one line, nothing created ------------------------------------------------------
expect_error "--diffaug on 2-D points" "--diffaug color: the transforms are for pictures, and --data ring is 2-D points" \
    $GANC train --model toy2d --data ring --steps 2 --diffaug color --out "$T/bad"
expect_error "--diffaug with an unknown transform" "--diffaug: unknown transform 'flip'" \
    $GANC train --model "$T/tiny.gan" --data "$T/images-idx3-ubyte" --diffaug color,flip --out "$T/bad"

echo "diffaug_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
