#!/bin/sh
# End-to-end checks of `ganc classifier train` and `ganc eval` on a made-up labelled set: 28x28
# black-and-white images whose class is the quadrant that is mostly white. A classifier learns
# it in seconds, deterministically; eval prints sane JSON for a run, for the floor and for an
# .npy of samples; a set scored against itself gives FID ~ 0 and precision = recall = 1; the
# numbers do not depend on the feature batch; Stacked MNIST counts modes; bad input gives one
# clear line and a non-zero exit.
# Usage: GANC=path/to/ganc tests/test_eval.sh
. "$(dirname "$0")/cli_fixture.sh"
Q=$T/q
quadrant_set "$Q"

# --- the data: IDX images and labels, and the same test images as float32 .npy -----------------
quadrants npy 200 2 > "$Q/test.npy"
# npy_reshape IN OUT "SHAPE": the same data under another shape in the header (128 bytes)
npy_reshape() {
    { LC_ALL=C awk -v s="$3" 'BEGIN { printf "%cNUMPY%c%c%c%c%-117s\n", 147, 1, 0, 118, 0, "{\047descr\047: \047<f4\047, \047fortran_order\047: False, \047shape\047: (" s "), }" }'
      tail -c +129 "$1"; } > "$2"
}
TRAIN=$Q/train-images-idx3-ubyte
CLS="--epochs 2 --batch 32 --threads 1"

# json KEY FILE: the number under KEY in a one-line JSON object (empty when absent)
json() { sed -n "s/.*\"$1\": \([-0-9.eE+]*\).*/\1/p" "$2"; }
# within A B TOL: |A - B| <= TOL (awk arithmetic)
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x + 0 >= lo && x + 0 <= hi) }'; }

# --- classifier train --------------------------------------------------------------------------
check "classifier train" "$GANC classifier train --data $TRAIN --out $T/c.st $CLS 2>$T/c.err"
acc=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' "$T/c.err")
check "the test split is the t10k file beside the training file" "grep -q 'test: 200 (.*t10k-images-idx3-ubyte)' $T/c.err"
check "test accuracy on the quadrants >= 95% after 2 epochs (got ${acc:-none})" "between '$acc' 95 100"
check "the same seed writes the same file" "$GANC classifier train --data $TRAIN --out $T/c2.st $CLS 2>/dev/null && cmp -s $T/c.st $T/c2.st"
check "another seed writes another" "$GANC classifier train --data $TRAIN --out $T/c3.st $CLS --seed 2 2>/dev/null && ! cmp -s $T/c.st $T/c3.st"
check "--split N tests on the images after the first N" \
    "$GANC classifier train --data $TRAIN --split 500 --out $T/c4.st $CLS --epochs 1 2>$T/c4.err && grep -q 'on 500 images.*test: 100 (images 500..599 of' $T/c4.err"
check "--limit N trains on N images" "$GANC classifier train --data $TRAIN --limit 64 --out $T/c5.st $CLS --epochs 1 2>$T/c5.err && grep -q 'on 64 images' $T/c5.err"
if have_numpy; then
    # (the reader prints metadata keys and values in hex)
    check "the classifier file is safetensors with its architecture and accuracy" \
        "$PY tools/read_safetensors.py $T/c.st > $T/c.txt && grep -q 'cls.0.weight' $T/c.txt && grep -q \"\$(printf 'ganc-classifier-1' | od -An -tx1 | tr -d ' \\n')\" $T/c.txt && grep -q \"^meta\$(printf '\\t')\$(printf 'test_accuracy' | od -An -tx1 | tr -d ' \\n')\" $T/c.txt"
fi

# --- eval of a run -----------------------------------------------------------------------------
check "a short run on the quadrants" "$GANC train --model $T/tiny.gan --data $TRAIN --steps 30 --seed 3 --out $T/run --threads 1 2>/dev/null"
check "eval RUN --json" "$GANC eval $T/run --classifier $T/c.st --n 300 --json --threads 1 > $T/run.json 2>$T/run.err"
check "eval prints one line of JSON" "[ \$(wc -l < $T/run.json) -eq 1 ] && grep -q '^{.*}\$' $T/run.json"
for k in n fid kid precision recall density coverage class_kl confidence unsure; do
    check "JSON key $k" "[ -n \"\$(json $k $T/run.json)\" ]"
done
check "n is 300" "[ \"\$(json n $T/run.json)\" = 300 ]"
check "fid >= 0, kid finite" "between \"\$(json fid $T/run.json)\" 0 1e6 && between \"\$(json kid $T/run.json)\" -1 1e6"
for k in precision recall density coverage; do
    check "$k in [0, 1] ($k of a 30-step run)" "between \"\$(json $k $T/run.json)\" 0 \$([ $k = density ] && echo 100 || echo 1)"
done
check "class_kl >= 0, confidence in [1/4, 1]" "between \"\$(json class_kl $T/run.json)\" 0 100 && between \"\$(json confidence $T/run.json)\" 0.25 1"
check "no modes for a 1-channel run" "! grep -q modes $T/run.json"
check "the table names every number" \
    "$GANC eval $T/run --classifier $T/c.st --n 300 --threads 1 > $T/run.txt 2>/dev/null && for w in FID KID precision recall density coverage 'class KL' confidence unsure; do grep -q \"\$w\" $T/run.txt || exit 1; done"

# the same samples through an .npy: ganc sample --seed S writes what eval --seed S scores
check "sample the run to .npy" "$GANC sample $T/run -n 300 --seed 5 -o $T/s.npy 2>/dev/null"
$GANC eval $T/run --classifier $T/c.st --n 300 --seed 5 --json --threads 1 > $T/r5.json 2>/dev/null
$GANC eval --samples $T/s.npy --data $TRAIN --classifier $T/c.st --seed 5 --json --threads 1 > $T/s5.json 2>$T/s5.err
check "eval --samples: an npy of the same samples scores as the run" \
    "within \"\$(json fid $T/r5.json)\" \"\$(json fid $T/s5.json)\" 1e-3 && [ \"\$(json precision $T/r5.json)\" = \"\$(json precision $T/s5.json)\" ]"
# ... and with discriminator rejection: sample --reject and eval --reject draw the same kept samples
$GANC sample $T/run -n 300 --seed 5 --reject 1 -o $T/sr.npy 2>/dev/null
$GANC eval $T/run --classifier $T/c.st --n 300 --seed 5 --reject 1 --json --threads 1 > $T/rr5.json 2>/dev/null
$GANC eval --samples $T/sr.npy --data $TRAIN --classifier $T/c.st --seed 5 --json --threads 1 > $T/sr5.json 2>/dev/null
check "eval --reject 1 scores the samples sample --reject 1 writes (and not the plain ones)" \
    "within \"\$(json fid $T/rr5.json)\" \"\$(json fid $T/sr5.json)\" 1e-3 && [ \"\$(json precision $T/rr5.json)\" = \"\$(json precision $T/sr5.json)\" ] && ! cmp -s $T/s.npy $T/sr.npy"
npy_reshape "$T/s.npy" "$T/s3.npy" "300, 28, 28"
check "eval --samples takes (N, H, W) as well" \
    "$GANC eval --samples $T/s3.npy --data $TRAIN --classifier $T/c.st --seed 5 --json --threads 1 > $T/s3.json 2>/dev/null && [ \"\$(json fid $T/s3.json)\" = \"\$(json fid $T/s5.json)\" ]"

# numbers independent of the feature batch
for b in 1 7 1000; do
    $GANC eval $T/run --classifier $T/c.st --n 300 --json --threads 1 --feature-batch $b > $T/fb$b.json 2>/dev/null
done
for k in fid kid precision recall density coverage class_kl confidence; do
    check "$k does not depend on the feature batch (1, 7, 1000, 250)" \
        "within \"\$(json $k $T/fb1.json)\" \"\$(json $k $T/run.json)\" 1e-4 && within \"\$(json $k $T/fb7.json)\" \"\$(json $k $T/run.json)\" 1e-4 && within \"\$(json $k $T/fb1000.json)\" \"\$(json $k $T/run.json)\" 1e-4"
done

# --- the floor, and a set against itself -------------------------------------------------------
check "eval --data (real training images: the floor)" "$GANC eval --data $TRAIN --classifier $T/c.st --n 300 --json --threads 1 > $T/floor.json 2>/dev/null"
check "the floor scores better than a 30-step run" "awk -v f=\"\$(json fid $T/floor.json)\" -v r=\"\$(json fid $T/run.json)\" 'BEGIN { exit !(f + 0 < r + 0) }'"
check "the test images against themselves (npy)" "$GANC eval --samples $Q/test.npy --data $TRAIN --classifier $T/c.st --json --threads 1 > $T/self.json 2>/dev/null"
check "itself: FID ~ 0 (got $(json fid $T/self.json))" "within \"\$(json fid $T/self.json)\" 0 1e-3"
check "itself: precision = recall = coverage = 1" "[ \"\$(json precision $T/self.json)\" = 1 ] && [ \"\$(json recall $T/self.json)\" = 1 ] && [ \"\$(json coverage $T/self.json)\" = 1 ]"
check "itself: the confidence is the test images'" "[ \"\$(json confidence $T/self.json)\" = \"\$(json confidence_test $T/self.json)\" ]"
check "itself: the unsure share is the test images'" "[ \"\$(json unsure $T/self.json)\" = \"\$(json unsure_test $T/self.json)\" ]"
check "the training file against itself (--test, all 600 images)" \
    "$GANC eval --data $TRAIN --test $TRAIN --classifier $T/c.st --n 600 --json --threads 1 > $T/self2.json 2>/dev/null && within \"\$(json fid $T/self2.json)\" 0 1e-3 && [ \"\$(json precision $T/self2.json)\" = 1 ] && [ \"\$(json recall $T/self2.json)\" = 1 ]"

# --- Stacked MNIST: three quadrant images as channels, 64 modes --------------------------------
check "dcgan28 trains on stacked-mnist:IDX (3 channels)" \
    "$GANC train --data stacked-mnist:$TRAIN --steps 2 --batch 8 --out $T/st --threads 1 2>$T/st.err && grep -q '128000 images.*28x28 RGB' $T/st.err && $GANC info $T/st | grep -q 'data shape *3 x 28 x 28'"
check "eval of a stacked run with a 1-channel classifier" \
    "$GANC eval $T/st --classifier $T/c.st --n 400 --json --threads 1 > $T/st.json 2>/dev/null"
check "stacked: modes and mode_kl in the JSON" "between \"\$(json modes $T/st.json)\" 1 64 && between \"\$(json mode_kl $T/st.json)\" 0 10 && [ \"\$(json n_modes $T/st.json)\" = 64 ]"
check "stacked floor: real stacked images hit every mode" \
    "$GANC eval --data stacked-mnist:$TRAIN --classifier $T/c.st --n 2000 --json --threads 1 > $T/stf.json 2>/dev/null && [ \"\$(json modes $T/stf.json)\" = 64 ] && between \"\$(json mode_kl $T/stf.json)\" 0 0.1"

# --- bad input: one line, non-zero exit -------------------------------------------------------
# (expect_error: tests/cli_fixture.sh)
# a classifier for 14x14 images
LC_ALL=C awk 'BEGIN { printf "%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c", 0,0,8,3, 0,0,0,64, 0,0,0,14, 0,0,0,14; srand(4); for (i = 0; i < 64 * 196; i++) printf "%c", int(rand() * 256) }' > "$Q/small-images-idx3-ubyte"
LC_ALL=C awk 'BEGIN { printf "%c%c%c%c%c%c%c%c", 0,0,8,1, 0,0,0,64; for (i = 0; i < 64; i++) printf "%c", i % 2 }' > "$Q/small-labels-idx1-ubyte"
$GANC classifier train --data "$Q/small-images-idx3-ubyte" --split 48 --epochs 1 --batch 16 --out "$T/small.st" --threads 1 2>/dev/null
npy_reshape "$T/s.npy" "$T/s2.npy" "300, 2, 28, 14"
npy_reshape "$T/s.npy" "$T/flat.npy" "300, 784"
printf 'not a classifier' > "$T/junk.st"
cp "$TRAIN" "$Q/nolab-idx3-ubyte"
# the first 10 test images with one pixel set to 2.0
{ head -c 128 "$Q/test.npy" | sed 's/(200, /(10,  /'; tail -c +129 "$Q/test.npy" | head -c 31356; LC_ALL=C awk 'BEGIN { printf "%c%c%c%c", 0, 0, 0, 64 }'; } > "$T/big.npy"
expect_error "eval: missing classifier file" "nope.st" $GANC eval "$T/run" --classifier "$T/nope.st"
expect_error "eval: not a classifier" "junk.st" $GANC eval "$T/run" --classifier "$T/junk.st"
expect_error "eval: a GAN checkpoint as the classifier" "not a ganc classifier" $GANC eval "$T/run" --classifier "$T/run/ckpt/step_000000030.safetensors"
expect_error "eval: classifier for another image shape" "classifier takes 1x14x14" $GANC eval "$T/run" --classifier "$T/small.st" --n 50
expect_error "eval: npy of 2 channels" "2x28x14" $GANC eval --samples "$T/s2.npy" --data "$TRAIN" --classifier "$T/c.st"
expect_error "eval: npy of 2 dimensions" "flat.npy" $GANC eval --samples "$T/flat.npy" --data "$TRAIN" --classifier "$T/c.st"
expect_error "eval: npy values outside [0, 1]" "big.npy: value 2 at index 7839 is outside" $GANC eval --samples "$T/big.npy" --data "$TRAIN" --classifier "$T/c.st"
expect_error "eval: no classifier" "--classifier FILE is required" $GANC eval "$T/run"
expect_error "eval: nothing to score" "what to score" $GANC eval --classifier "$T/c.st"
expect_error "eval: run and samples" "not both" $GANC eval "$T/run" --samples "$T/s.npy" --classifier "$T/c.st"
expect_error "eval: not a run" "ganc" $GANC eval "$T/nothing" --classifier "$T/c.st"
expect_error "eval: no test split" "no test split" $GANC eval --data "$T/images-idx3-ubyte" --classifier "$T/c.st"
expect_error "eval: --n too small" "--n" $GANC eval "$T/run" --classifier "$T/c.st" --n 2
expect_error "eval: a short option" "unknown option '-n'" $GANC eval "$T/run" --classifier "$T/c.st" -n 20
expect_error "classifier train: no labels" "no labels" $GANC classifier train --data "$Q/nolab-idx3-ubyte" --test "$Q/t10k-images-idx3-ubyte" --out "$T/x.st"
expect_error "classifier train: no --out" "--out FILE" $GANC classifier train --data "$TRAIN"
expect_error "classifier train: unknown option" "unknown option" $GANC classifier train --data "$TRAIN" --out "$T/x.st" --speed 3
expect_error "classifier train: stacked data" "plain MNIST" $GANC classifier train --data "stacked-mnist:$TRAIN" --out "$T/x.st"
expect_error "classifier train: --split past the end" "--split 600" $GANC classifier train --data "$TRAIN" --split 600 --out "$T/x.st"
expect_error "classifier: unknown sub-command" "unknown sub-command" $GANC classifier fly

# --- --eval-every during training: metrics in log.jsonl and metrics.png, the run unchanged -------
EV="--model $T/tiny.gan --data $TRAIN --steps 30 --seed 3 --threads 1 --ckpt-every 10"
check "--eval-every appends the metrics to log.jsonl and draws metrics.png" \
    "$GANC train $EV --eval-every 10 --eval-n 100 --classifier $T/c.st --out $T/ev 2>/dev/null && [ \$(grep -c '\"fid\": ' $T/ev/log.jsonl) -eq 3 ] && grep -q '\"step\": 30, \"fid\": [0-9.e+-]*, \"kid\": .*\"precision\": .*\"coverage\": .*\"class_kl\": .*\"confidence\": .*\"n\": 100' $T/ev/log.jsonl && [ -s $T/ev/metrics.png ]"
# every tensor equal (the metadata differs: it records --eval-every and --classifier)
tensors() { $PY tools/read_safetensors.py "$1" --values | grep '^tensor'; }
if have_numpy; then
    check "the run with evaluations computes exactly what the run without them does" \
        "$GANC train $EV --out $T/noev 2>/dev/null && tensors $T/ev/ckpt/step_000000030.safetensors > $T/ev.t && tensors $T/noev/ckpt/step_000000030.safetensors > $T/noev.t && [ -s $T/ev.t ] && cmp -s $T/ev.t $T/noev.t"
fi
# A resumed run reads its metrics back from log.jsonl, whatever the length of the lines: the
# metrics line of step 10 made 3,000 bytes longer (a field in front of fid), the run resumed to
# 30 draws the metrics.png of the same run resumed without it (and of the straight run), and
# keeps the line whole.
pad=$(awk 'BEGIN { while (n++ < 3000) printf "x" }')
no_timing() { sed 's/"sec_per_step": [^,}]*//' "$@"; }
check "--eval-every: two runs of 10 steps" \
    "$GANC train $EV --steps 10 --eval-every 10 --eval-n 100 --classifier $T/c.st --out $T/evl1 2>/dev/null && cp -r $T/evl1 $T/evl2"
sed "s/^{\"step\": 10, \"fid\"/{\"step\": 10, \"note\": \"$pad\", \"fid\"/" "$T/evl1/log.jsonl" > "$T/evl1.tmp" && mv "$T/evl1.tmp" "$T/evl1/log.jsonl"
long_metrics() { grep -c '^{"step": 10, "note": "x\{3000\}", "fid": .*}$' "$1"; }
check "one has a metrics line of over 3,000 bytes" "[ \$(long_metrics $T/evl1/log.jsonl) -eq 1 ]"
check "both resume to 30" "$GANC train --resume $T/evl1 --steps 30 2>/dev/null && $GANC train --resume $T/evl2 --steps 30 2>/dev/null"
check "the resumed run reads the long line's metrics back: metrics.png as without it, and as the straight run's" \
    "[ -s $T/evl1/metrics.png ] && cmp -s $T/evl1/metrics.png $T/evl2/metrics.png && cmp -s $T/evl1/metrics.png $T/ev/metrics.png"
check "... keeps the line whole, and the rest of log.jsonl as the straight run writes it" \
    "[ \$(long_metrics $T/evl1/log.jsonl) -eq 1 ] && sed 's/\"note\": \"x*\", //' $T/evl1/log.jsonl | no_timing > $T/evl1.log && no_timing $T/ev/log.jsonl > $T/ev.log && [ \$(grep -c fid $T/ev.log) -eq 3 ] && cmp -s $T/evl1.log $T/ev.log"
expect_error "--eval-every without --classifier says how to make one" "ganc classifier train" \
    $GANC train $EV --eval-every 10 --out "$T/bad"

echo "eval: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
