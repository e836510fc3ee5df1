#!/bin/sh
# End-to-end checks of class-conditional runs (--cond) on a labelled set of four classes (the
# quadrant images of cli_fixture.sh): each family trains; a run stopped and resumed is the
# straight run bit for bit; the same seed gives the same files; ganc info names the classes and
# the family; ganc sample draws one class (by number or name) and a row per class, with the
# classes beside an .npy; ganc eval adds class agreement and intra-class FID; bad input (data
# without labels, one class, a class out of range or not in the run, --classes below the data's,
# a labels file of the wrong length, ...) gets one clear line and a non-zero exit.
# Usage: GANC=path/to/ganc tests/test_cond_cli.sh
. "$(dirname "$0")/cli_fixture.sh"
Q=$T/q
quadrant_set "$Q"
TRAIN=$Q/train-images-idx3-ubyte
RUN="--data $TRAIN --model $T/tiny.gan --threads 1 --log-every 5 --sample-every 10 --ckpt-every 10"
json() { sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p" "$2"; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x + 0 >= lo && x + 0 <= hi) }'; }

# --- each family trains, and resumes exactly -------------------------------------------------------
for c in concat projection acgan; do
    check "--cond $c trains" "$GANC train $RUN --cond $c --steps 20 --out $T/$c 2>$T/$c.err"
    check "--cond $c: stopped at 10 and resumed to 20 is the straight run, bit for bit" \
        "$GANC train $RUN --cond $c --steps 10 --out $T/$c-b 2>/dev/null && $GANC train --resume $T/$c-b --steps 20 2>/dev/null && cmp -s $T/$c/ckpt/step_000000020.safetensors $T/$c-b/ckpt/step_000000020.safetensors"
done
check "the same seed writes the same checkpoint" \
    "$GANC train $RUN --cond projection --steps 20 --out $T/again 2>/dev/null && cmp -s $T/projection/ckpt/step_000000020.safetensors $T/again/ckpt/step_000000020.safetensors"
check "another seed another" \
    "$GANC train $RUN --cond projection --steps 20 --seed 2 --out $T/seed2 2>/dev/null && ! cmp -s $T/projection/ckpt/step_000000020.safetensors $T/seed2/ckpt/step_000000020.safetensors"
check "acgan logs D's class cross-entropy on real and generated samples" \
    "grep -q '\"class_real\": ' $T/acgan/log.jsonl && grep -q '\"class_fake\": ' $T/acgan/log.jsonl"
check "ganc info: the family and the four classes" \
    "$GANC info $T/projection > $T/info.txt && grep -q '^classes  *4: 0, 1, 2, 3' $T/info.txt && grep -q '^  cond  *projection' $T/info.txt && grep -q '^  classes  *4' $T/info.txt"

# --- the classes drawn follow the training set's: one class in ten -----------------------------
mkdir -p "$T/skew"
cp "$TRAIN" "$T/skew/train-images-idx3-ubyte"
{ head -c 8 "$Q/train-labels-idx1-ubyte"; LC_ALL=C awk 'BEGIN { for (i = 0; i < 600; i++) printf "%c", i % 10 == 0 }'; } > "$T/skew/train-labels-idx1-ubyte"
check "a conditional run on a set of 540 and 60 keeps the counts in its checkpoint" \
    "$GANC train --data $T/skew/train-images-idx3-ubyte --model $T/tiny.gan --cond concat --steps 2 --threads 1 --out $T/skew/run 2>/dev/null && grep -qa 'data.class_counts.\{3\}540 60' $T/skew/run/ckpt/step_000000002.safetensors"
if have_numpy; then
    check "... and samples class 1 as often (1000 samples: 100 +- 5 sd)" \
        "$GANC sample $T/skew/run -n 1000 -o $T/skew/s.npy 2>/dev/null && $PY -c 'import numpy as n; c = int((n.load(\"$T/skew/s.labels.npy\") == 1).sum()); assert 55 <= c <= 145, c'"
fi

# --- sampling -------------------------------------------------------------------------------------
check "sample --by-class: a row per class" \
    "$GANC sample $T/projection --by-class -n 3 -o $T/rows.png 2>$T/rows.err && grep -q '12 samples.*one row per class' $T/rows.err && [ -s $T/rows.png ]"
check "sample --class 2 -o .npy writes the classes beside it" \
    "$GANC sample $T/acgan --class 2 -n 5 -o $T/c2.npy 2>/dev/null && [ -s $T/c2.npy ] && [ -s $T/c2.labels.npy ]"
if have_numpy; then
    check "the labels beside the .npy: five 2s" \
        "[ \"\$($PY -c 'import numpy as n; print(list(n.load(\"$T/c2.labels.npy\")))')\" = '[2, 2, 2, 2, 2]' ]"
    check "without --class the classes drawn are in the labels file, one per sample" \
        "$GANC sample $T/concat -n 40 -o $T/mix.npy 2>/dev/null && $PY -c 'import numpy as n; l = n.load(\"$T/mix.labels.npy\"); assert l.shape == (40,) and set(l) <= {0, 1, 2, 3} and len(set(l)) > 1'"
fi

# --- between classes, and --interp with a class held -------------------------------------------
PROBE=${IMAGE_PROBE:-build/tests/image_probe}
if [ -x "$PROBE" ]; then
    check "--interp-class 0,3: a strip of 5 frames" "$GANC sample $T/projection --interp-class 0,3 --steps 5 --seed 4 -o $T/ic.png 2>$T/ic.err && grep -q 'wrote 5 frames (class 0 to class 3' $T/ic.err && [ \"\$($PROBE png $T/ic.png)\" = '152 32 1' ]"
    check "... its first frame is class 0's sample of that seed, its last class 3's" \
        "$GANC sample $T/projection --class 0 --seed 4 -n 1 -o $T/k0.png 2>/dev/null && $GANC sample $T/projection --class 3 --seed 4 -n 1 -o $T/k3.png 2>/dev/null && $PROBE same $T/ic.png $T/k0.png 0 0 && $PROBE same $T/ic.png $T/k3.png 120 0 && ! $PROBE same $T/ic.png $T/k0.png 120 0"
    check "--interp with --class holds the class: the first frame is that class's sample of seed A" \
        "$GANC sample $T/projection --interp 3,5 --class 2 --steps 4 -o $T/ih.png 2>/dev/null && $GANC sample $T/projection --class 2 --seed 3 -n 1 -o $T/h3.png 2>/dev/null && $PROBE same $T/ih.png $T/h3.png 0 0"
fi

# --- eval -----------------------------------------------------------------------------------------
check "classifier train" "$GANC classifier train --data $TRAIN --out $T/c.st --epochs 2 --batch 32 --threads 1 2>/dev/null"
check "eval of a conditional run: class agreement and intra-class FID in the JSON" \
    "$GANC eval $T/projection --classifier $T/c.st --n 200 --json --threads 1 > $T/e.json 2>/dev/null && between \"\$(json class_agreement $T/e.json)\" 0 1 && between \"\$(json intra_fid $T/e.json)\" 0 1e9 && grep -q '\"agreement_by_class\": \[[^],]*,[^],]*,[^],]*,[^],]*\]' $T/e.json"
check "... and in the table, a line per class" \
    "$GANC eval $T/projection --classifier $T/c.st --n 200 --threads 1 > $T/e.txt 2>/dev/null && grep -q 'class agreement' $T/e.txt && [ \$(grep -c 'agreement .* FID' $T/e.txt) -eq 4 ]"
check "--eval-every logs class agreement and intra-class FID" \
    "$GANC train $RUN --cond concat --steps 10 --eval-every 5 --eval-n 100 --classifier $T/c.st --out $T/ev 2>/dev/null && [ \$(grep -c '\"class_agreement\": .*\"intra_fid\": ' $T/ev/log.jsonl) -eq 2 ]"
check "eval --reject draws the classes in turn" \
    "$GANC eval $T/projection --classifier $T/c.st --n 200 --reject 1 --json --threads 1 > $T/er.json 2>/dev/null && between \"\$(json class_agreement $T/er.json)\" 0 1"

# --- bad input ------------------------------------------------------------------------------------
expect_error "--cond on data without labels" "--cond projection: --data ring has no labels" \
    $GANC train --data ring --cond projection --out "$T/bad"
expect_error "--cond on one class" "needs labelled data with at least 2 classes" \
    $GANC train --data "$T/images-idx3-ubyte" --model "$T/tiny.gan" --cond concat --out "$T/bad"
expect_error "--classes below the data's" "--classes 2: --data $TRAIN has labels up to 3" \
    $GANC train $RUN --cond concat --classes 2 --out "$T/bad"
expect_error "--cond with --pack" "--cond acgan: D judges one sample of one class, not with --pack 2" \
    $GANC train $RUN --cond acgan --pack 2 --out "$T/bad"
expect_error "acgan with R1" "--cond acgan: the R1 penalty" $GANC train $RUN --cond acgan --r1 1 --out "$T/bad"
expect_error "--cond projection with an InfoGAN code" "only --cond concat goes with an InfoGAN code" \
    $GANC train $RUN --cond projection --info-codes 2 --out "$T/bad"
expect_error "--cond of no family" "--cond needs one of" $GANC train $RUN --cond yes --out "$T/bad"
expect_error "--class out of range" "sample: --class 9: this run's classes are 0..3" \
    $GANC sample "$T/projection" --class 9 -o "$T/x.png"
expect_error "--class not a class of the run" "sample: --class Sneaker: no class of that name in this run" \
    $GANC sample "$T/projection" --class Sneaker -o "$T/x.png"
check "unconditional run for the errors below" "$GANC train $RUN --steps 2 --out $T/plain 2>/dev/null"
expect_error "--class on an unconditional run" "sample: --class 1: this run is not conditional" \
    $GANC sample "$T/plain" --class 1 -o "$T/x.png"
expect_error "--by-class on an unconditional run" "sample: --by-class: this run is not conditional" \
    $GANC sample "$T/plain" --by-class -o "$T/x.png"
expect_error "--interp-class on an unconditional run" "sample: --interp-class 0: this run is not conditional" \
    $GANC sample "$T/plain" --interp-class 0,1 -o "$T/x.png"
expect_error "--interp-class with a class not in the run" "sample: --interp-class Bag: no class of that name" \
    $GANC sample "$T/projection" --interp-class 0,Bag -o "$T/x.png"
expect_error "--interp-class of one class" "sample: --interp-class needs two classes A,B" \
    $GANC sample "$T/projection" --interp-class 1 -o "$T/x.png"
expect_error "--by-class with --class" "sample: --by-class draws every class; not with --class" \
    $GANC sample "$T/projection" --by-class --class 1 -o "$T/x.png"
# the quadrants as two classes (labels 2, 3 -> 0, 1; the header's bytes kept)
mkdir -p "$T/two"
cp "$TRAIN" "$T/two/train-images-idx3-ubyte"
{ head -c 8 "$Q/train-labels-idx1-ubyte"; tail -c +9 "$Q/train-labels-idx1-ubyte" | tr '\002\003' '\000\001'; } > "$T/two/train-labels-idx1-ubyte"
check "a classifier of two classes" "$GANC classifier train --data $T/two/train-images-idx3-ubyte --split 500 --out $T/c2c.st --epochs 1 --threads 1 2>/dev/null"
expect_error "eval with a classifier of another number of classes" "the run is conditional on 4 classes and the classifier knows 2" \
    $GANC eval "$T/projection" --classifier "$T/c2c.st" --n 50 --threads 1
if have_numpy; then
    # 8 images with 7 labels beside them
    $PY -c "import numpy as n; n.save('$T/few.npy', n.zeros((8, 1, 28, 28), n.uint8)); n.save('$T/few.labels.npy', n.arange(7) % 2)"
    expect_error "a labels file of the wrong length" "labels" $GANC train --data "$T/few.npy" --model "$T/tiny.gan" --cond concat --out "$T/bad"
fi

echo "test_cond_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
