#!/bin/sh
# ganc sample --interp and --walk end to end on a tiny run: the strip's size, its ends being
# the samples `ganc sample --seed A -n 1` and `--seed B` draw (decoded pixels, not bytes: the
# PNG encoder may differ), the GIF's frame count and frames (forth and back), the walk starting
# at `ganc sample --seed S`'s grid, InfoGAN codes held, the same bytes from the same command,
# and bad input answered by one clear line and a non-zero exit. Pictures are read by
# tests/image_probe.c (IMAGE_PROBE, built by make with the tests).
# Usage: GANC=path/to/ganc IMAGE_PROBE=path/to/image_probe tests/test_sample_interp.sh
. "$(dirname "$0")/cli_fixture.sh"
PROBE=${IMAGE_PROBE:-build/tests/image_probe}
if [ ! -x "$PROBE" ]; then
    bad "no $PROBE (make build/tests/image_probe, or set IMAGE_PROBE)"
    echo "sample_interp: $pass passed, $fail failed"
    exit 1
fi
COMMON="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 7 --log-every 5 --sample-every 0 --ckpt-every 10 --steps 10"
check "a tiny run" "$GANC train $COMMON --out $T/a 2>/dev/null"
if $GANC --version | grep -q ' gif'; then HAVE_GIF=1; else HAVE_GIF=0; fi
# a 28x28 sample is a cell of 28 + 2 pixels; a grid has a border of 2 more around it
CELL=30

# --- --interp: the strip ---------------------------------------------------------------------
check "--interp 3,5 --steps 7 writes a PNG strip" "$GANC sample $T/a --interp 3,5 --steps 7 -o $T/s.png 2>$T/s.err && grep -q 'wrote 7 frames (slerp from seed 3 to seed 5)' $T/s.err"
check "... of 7 columns of 28x28 samples in one row: 212 x 32 pixels" "[ \"\$($PROBE png $T/s.png)\" = '212 32 1' ]"
check "ganc sample --seed 3 -n 1 and --seed 5 -n 1" "$GANC sample $T/a --seed 3 -n 1 -o $T/a3.png 2>/dev/null && $GANC sample $T/a --seed 5 -n 1 -o $T/a5.png 2>/dev/null"
check "the first frame is --seed 3's sample, pixel for pixel" "$PROBE same $T/s.png $T/a3.png 0 0"
check "the last frame is --seed 5's sample, pixel for pixel" "$PROBE same $T/s.png $T/a5.png $((6 * CELL)) 0"
check "... and the frames between are neither (the comparison can fail)" \
    "! $PROBE same $T/s.png $T/a3.png $CELL 0 && ! $PROBE same $T/s.png $T/a5.png $((5 * CELL)) 0"
check "the default is 10 frames" "$GANC sample $T/a --interp 3,5 -o $T/s10.png 2>/dev/null && [ \"\$($PROBE png $T/s10.png)\" = '302 32 1' ]"
check "the same command twice gives the same bytes" "$GANC sample $T/a --interp 3,5 --steps 7 -o $T/s2.png 2>/dev/null && cmp -s $T/s.png $T/s2.png"
check "--truncation applies to the ends as it does to sampling" \
    "$GANC sample $T/a --interp 3,5 --steps 4 --truncation 0.5 -o $T/st.png 2>/dev/null && $GANC sample $T/a --seed 3 -n 1 --truncation 0.5 -o $T/a3t.png 2>/dev/null && $PROBE same $T/st.png $T/a3t.png 0 0 && ! $PROBE same $T/st.png $T/a3.png 0 0"

# --- a uniform z (the straight line) and InfoGAN codes (held) --------------------------------
check "a run with a uniform z" "$GANC train $COMMON --z-dist uniform --out $T/u 2>/dev/null"
check "--interp on a uniform z takes the straight line, from --seed 3's sample to --seed 5's" \
    "$GANC sample $T/u --interp 3,5 --steps 5 -o $T/u.png 2>$T/u.err && grep -q 'straight line from seed 3 to seed 5' $T/u.err && $GANC sample $T/u --seed 3 -n 1 -o $T/u3.png 2>/dev/null && $GANC sample $T/u --seed 5 -n 1 -o $T/u5.png 2>/dev/null && $PROBE same $T/u.png $T/u3.png 0 0 && $PROBE same $T/u.png $T/u5.png $((4 * CELL)) 0"
sed 's/^dense 1$/dense $dout/' $T/tiny.gan > $T/tiny-info.gan
check "a run with --info-codes 3" "$GANC train $COMMON --model $T/tiny-info.gan --info-codes 3 --z-dim 8 --out $T/if 2>/dev/null"
# with the code held, the last frame is B's noise under A's code: --code 1 fixes both ends' codes
check "--interp --code 1: the ends are --seed 3's and --seed 5's samples with code 1" \
    "$GANC sample $T/if --interp 3,5 --steps 4 --code 1 -o $T/if.png 2>/dev/null && $GANC sample $T/if --seed 3 -n 1 --code 1 -o $T/if3.png 2>/dev/null && $GANC sample $T/if --seed 5 -n 1 --code 1 -o $T/if5.png 2>/dev/null && $PROBE same $T/if.png $T/if3.png 0 0 && $PROBE same $T/if.png $T/if5.png $((3 * CELL)) 0"
# without --code each end draws its own code; the frames keep A's: the last frame is B's noise
# under A's code. Which code a seed drew shows as the --code C whose sample is the plain one
# (a fixed code draws nothing, so the noise is the same).
drawn_code() { # run seed: the code `ganc sample --seed S -n 1` drew
    $GANC sample "$1" --seed "$2" -n 1 -o "$T/dc.png" 2>/dev/null
    for c in 0 1 2; do
        $GANC sample "$1" --seed "$2" -n 1 --code $c -o "$T/dc$c.png" 2>/dev/null
        if $PROBE same "$T/dc.png" "$T/dc$c.png" 0 0; then echo $c; return; fi
    done
}
ca=$(drawn_code $T/if 3); cb=$(drawn_code $T/if 4)
check "seeds 3 and 4 draw different codes ($ca, $cb), so holding one shows" "[ -n '$ca' ] && [ -n '$cb' ] && [ '$ca' != '$cb' ]"
check "--interp 3,4 without --code: the first frame is seed 3's sample, the last seed 4's noise under seed 3's code" \
    "$GANC sample $T/if --interp 3,4 --steps 4 -o $T/ih.png 2>/dev/null && $GANC sample $T/if --seed 3 -n 1 -o $T/ih3.png 2>/dev/null && $GANC sample $T/if --seed 4 -n 1 --code ${ca:-0} -o $T/ih4.png 2>/dev/null && $PROBE same $T/ih.png $T/ih3.png 0 0 && $PROBE same $T/ih.png $T/ih4.png $((3 * CELL)) 0"
check "--interp --code 0 is another strip" "$GANC sample $T/if --interp 3,5 --steps 4 --code 0 -o $T/if0.png 2>/dev/null && ! cmp -s $T/if.png $T/if0.png"

# --- the GIFs ----------------------------------------------------------------------------------
if [ $HAVE_GIF = 1 ]; then
    check "--interp with --gif writes the strip and the GIF" "$GANC sample $T/a --interp 3,5 --steps 7 -o $T/g.png --gif $T/g.gif 2>$T/g.err && grep -q 'to $T/g.png and $T/g.gif' $T/g.err && cmp -s $T/s.png $T/g.png"
    check "... 32 x 32 frames, forth and back: 7 + 5 = 12 frames" "[ \"\$($PROBE gif $T/g.gif)\" = '32 32 12' ]"
    check "... frame k is the strip's cell k (k = 0, 3, 6), then back (frame 7 is cell 5, frame 11 cell 1)" \
        "$PROBE gif-frame $T/g.gif 0 $T/g.png 0 0 && $PROBE gif-frame $T/g.gif 3 $T/g.png $((3 * CELL)) 0 && $PROBE gif-frame $T/g.gif 6 $T/g.png $((6 * CELL)) 0 && $PROBE gif-frame $T/g.gif 7 $T/g.png $((5 * CELL)) 0 && $PROBE gif-frame $T/g.gif 11 $T/g.png $CELL 0"
    check "... and not another cell (the comparison can fail)" "! $PROBE gif-frame $T/g.gif 7 $T/g.png $((6 * CELL)) 0"
    check "-o FILE.gif alone writes only the GIF, the same bytes" "$GANC sample $T/a --interp 3,5 --steps 7 -o $T/o.gif 2>/dev/null && cmp -s $T/g.gif $T/o.gif"
    check "--steps 2: frames 0 and 1, 2 in the loop" "$GANC sample $T/a --interp 3,5 --steps 2 --gif $T/g2.gif 2>/dev/null && [ \"\$($PROBE gif $T/g2.gif)\" = '32 32 2' ]"
    check "--walk 12: a GIF of 12 frames of a 4 x 4 grid (122 x 122)" \
        "$GANC sample $T/a --walk 12 --gif $T/w.gif 2>$T/w.err && [ \"\$($PROBE gif $T/w.gif)\" = '122 122 12' ] && grep -q 'walk of 12 frames of 16 samples (slerp through 4 keypoints from seed 7)' $T/w.err"
    check "... whose first frame is the grid of ganc sample -n 16 (the run's seed)" \
        "$GANC sample $T/a -n 16 -o $T/g16.png 2>/dev/null && $PROBE gif-frame $T/w.gif 0 $T/g16.png 0 0 && ! $PROBE gif-frame $T/w.gif 1 $T/g16.png 0 0"
    check "--walk with -n 4 --seed 3 starts at ganc sample --seed 3 -n 4" \
        "$GANC sample $T/a --walk 6 -n 4 --seed 3 -o $T/w4.gif 2>/dev/null && [ \"\$($PROBE gif $T/w4.gif)\" = '62 62 6' ] && $GANC sample $T/a -n 4 --seed 3 -o $T/g4.png 2>/dev/null && $PROBE gif-frame $T/w4.gif 0 $T/g4.png 0 0"
    check "the same walk twice gives the same bytes" "$GANC sample $T/a --walk 12 --gif $T/w2.gif 2>/dev/null && cmp -s $T/w.gif $T/w2.gif"
    check "another seed, another walk" "$GANC sample $T/a --walk 12 --seed 8 --gif $T/w8.gif 2>/dev/null && ! cmp -s $T/w.gif $T/w8.gif"
else
    # a build without giflib says so, before drawing anything, and writes nothing
    expect_error "--interp -o FILE.gif without giflib" "cannot write GIF: this ganc was built without giflib" $GANC sample $T/a --interp 3,5 -o $T/x.gif
    expect_error "--interp --gif without giflib" "built without giflib" $GANC sample $T/a --interp 3,5 -o $T/x.png --gif $T/x.gif
    check "... and writes no strip either" "[ ! -e $T/x.png ] && [ ! -e $T/x.gif ]"
    expect_error "--walk without giflib" "built without giflib" $GANC sample $T/a --walk 4 --gif $T/x.gif
fi

# --- bad input: one line, non-zero exit ----------------------------------------------------------
expect_error "--interp with one seed" "sample: --interp needs two seeds A,B (non-negative integers), got '1'" $GANC sample $T/a --interp 1 -o $T/x.png
expect_error "--interp with words" "sample: --interp needs two seeds A,B (non-negative integers), got 'a,b'" $GANC sample $T/a --interp a,b -o $T/x.png
expect_error "--interp with a negative seed" "got '1,-2'" $GANC sample $T/a --interp 1,-2 -o $T/x.png
expect_error "--interp with three seeds" "got '1,2,3'" $GANC sample $T/a --interp 1,2,3 -o $T/x.png
expect_error "--steps 1" "sample: --steps needs an integer in [2, 1000], got '1'" $GANC sample $T/a --interp 1,2 --steps 1 -o $T/x.png
expect_error "--walk 0" "sample: --walk needs an integer in [2, 1000], got '0'" $GANC sample $T/a --walk 0 --gif $T/x.gif
expect_error "--interp with --by-code" "not with --by-code" $GANC sample $T/if --interp 1,2 --by-code -o $T/x.png
expect_error "--interp and --walk" "--interp, --interp-class and --walk: one at a time" $GANC sample $T/a --interp 1,2 --walk 4 -o $T/x.gif
expect_error "--interp with --reject" "not with --reject" $GANC sample $T/a --interp 1,2 --reject 1 -o $T/x.png
expect_error "--interp with -n" "not with -n" $GANC sample $T/a --interp 1,2 -n 4 -o $T/x.png
expect_error "--interp with --seed" "not with --seed" $GANC sample $T/a --interp 1,2 --seed 3 -o $T/x.png
expect_error "--interp to .npy" "--interp writes a PNG strip (FILE.png) or an animated GIF (FILE.gif)" $GANC sample $T/a --interp 1,2 -o $T/x.npy
expect_error "--interp without an output" "--interp needs -o FILE.png, -o FILE.gif or --gif FILE" $GANC sample $T/a --interp 1,2
expect_error "--walk to a PNG" "--walk writes an animated GIF" $GANC sample $T/a --walk 4 -o $T/x.png
expect_error "--walk with --steps" "--steps counts --interp's frames" $GANC sample $T/a --walk 4 --steps 3 --gif $T/x.gif
expect_error "--steps without --interp" "give --interp A,B too" $GANC sample $T/a --steps 3 -o $T/x.png
expect_error "--gif without --interp or --walk" "--gif FILE animates --interp or --walk" $GANC sample $T/a -n 4 -o $T/x.png --gif $T/x.gif
expect_error "-o FILE.gif without --interp or --walk" ".png or .npy (.gif: with --interp or --walk)" $GANC sample $T/a -n 4 -o $T/x.gif
expect_error "--interp --code beyond the run's codes" "codes are 0..2" $GANC sample $T/if --interp 1,2 --code 3 -o $T/x.png
check "no picture was left by the refusals" "[ ! -e $T/x.png ] && [ ! -e $T/x.gif ] && [ ! -e $T/x.npy ]"
check "a 2-D run" "$GANC train --model toy2d --data ring --steps 2 --batch 20 --sample-every 0 --out $T/ring 2>/dev/null"
expect_error "--interp on a 2-D run" "a 2-D run draws points" $GANC sample $T/ring --interp 1,2 -o $T/x.png

echo "sample_interp: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
