#!/bin/sh
# End-to-end checks of a folder of pictures as training data, the way a new user meets it: class
# sub-folders (one nested deeper), a broken picture, a file that is no picture, pictures of two
# sizes. `ganc train --data DIR` trains and names the broken file, the run keeps the class
# names, resumes bit-identically, samples colour pictures, and classifier train + eval work on
# the folder; the cache is reused and rebuilt when a file changes; bad folders get one line.
# The pictures are binary PPM (P6), written here with awk: any build with stb decodes them.
# Usage: GANC=path/to/ganc tests/test_data_folder.sh
. "$(dirname "$0")/cli_fixture.sh"
GANC_CACHE_DIR=$T/cache
export GANC_CACHE_DIR

if ! "$GANC" train --help | grep -q -- '--size'; then
    echo "test_data_folder: ganc train has no --size"; exit 1
fi
# ppm W H SEED R G B: a W x H picture around colour (R, G, B), noisy but fixed by SEED.
ppm() {
    LC_ALL=C awk -v w="$1" -v h="$2" -v seed="$3" -v r="$4" -v g="$5" -v b="$6" 'BEGIN {
        srand(seed); printf "P6\n%d %d\n255\n", w, h
        for (i = 0; i < w * h; i++) {
            v[0] = r; v[1] = g; v[2] = b
            for (k = 0; k < 3; k++) { x = v[k] + int(rand() * 60) - 30; if (x < 0) x = 0; if (x > 255) x = 255; printf "%c", x }
        }
    }'
}
F=$T/pictures
mkdir -p "$F/red/deeper" "$F/blue"
i=0
while [ $i -lt 24 ]; do
    ppm 12 10 $((i + 1)) 220 40 40 > "$F/red/r$i.ppm"
    ppm 12 10 $((i + 101)) 40 40 220 > "$F/blue/b$i.ppm"
    i=$((i + 1))
done
ppm 12 10 999 200 60 60 > "$F/red/deeper/nested.ppm"
printf '\211PNG\r\n\032\n this is not a picture' > "$F/red/broken.png"
echo "notes, not a picture" > "$F/notes.txt"

if ! GANC_CACHE_DIR=$T/probe-cache "$GANC" train --data "$F" --model "$T/tiny.gan" --size 8 --steps 1 --out "$T/probe" > "$T/probe.out" 2>&1 &&
   grep -q "stb\|decod" "$T/probe.out"; then
    echo "test_data_folder: skipped (this build decodes no pictures: $(head -n 1 "$T/probe.out"))"
    echo "test_data_folder: 0 passed, 0 failed"; exit 0
fi

# --- training: the broken picture named, the classes kept -----------------------------------
run() { "$GANC" train --data "$F" --model "$T/tiny.gan" --size 8 --batch 8 --ckpt-every 2 --sample-every 2 --seed 3 --threads 2 "$@"; }
check "a folder trains" "run --steps 4 --out '$T/straight' > '$T/straight.out' 2>&1"
check "the broken picture is named on screen" "grep -q 'broken.png' '$T/straight.out'"
check "with a count" "grep -q '1 broken picture skipped' '$T/straight.out'"
check "the file that is no picture is ignored, and said so" "grep -q '1 files that are not pictures ignored' '$T/straight.out'"
check "the run's data.txt lists the broken file" "grep -q 'broken.png' '$T/straight/data.txt'"
check "data.txt names the classes in order" "grep -q '^class 0: blue' '$T/straight/data.txt' && grep -q '^class 1: red' '$T/straight/data.txt'"
check "the training line counts 49 images in 2 classes at 8x8 RGB" \
    "grep -q '49 images in 2 classes, 8x8 RGB' '$T/straight.out'"
"$GANC" info "$T/straight" > "$T/info.out" 2>&1
check "ganc info shows the class names" "grep -q '^classes *2: blue, red' '$T/info.out'"
check "ganc info shows the colour shape" "grep -q 'data shape *3 x 8 x 8' '$T/info.out'"
check "the first run decoded into the cache" "grep -q 'decoded into the cache' '$T/straight.out'"

# --- resume: the same checkpoint bytes as the straight run ----------------------------------
run --steps 2 --out "$T/resumed" > "$T/r1.out" 2>&1
check "a second run reads the cache" "grep -q 'read from the cache' '$T/r1.out'"
check "... and still names the broken picture" "grep -q 'broken.png' '$T/r1.out' && grep -q 'broken.png' '$T/resumed/data.txt'"
"$GANC" train --resume "$T/resumed" --steps 4 > "$T/r2.out" 2>&1
check "the resumed run ends at step 4" "[ -f '$T/resumed/ckpt/step_000000004.safetensors' ]"
check "resume is bit-identical to a straight run" \
    "cmp -s '$T/straight/ckpt/step_000000004.safetensors' '$T/resumed/ckpt/step_000000004.safetensors'"

# --- sampling in colour ----------------------------------------------------------------------
"$GANC" sample "$T/straight" -n 8 -o "$T/s.png" > /dev/null 2>&1
# a PNG's colour type is byte 25 (offset from 0): 2 is RGB
check "ganc sample writes an RGB grid" "[ \"\$(od -An -tu1 -j25 -N1 '$T/s.png' | tr -d ' ')\" = 2 ]"
"$GANC" sample "$T/straight" -n 8 -o "$T/s.npy" > /dev/null 2>&1
# the header names the shape (8, 3, 8, 8)
check "ganc sample writes (N, 3, H, W) NPY" "head -c 128 '$T/s.npy' | grep -q \"(8, 3, 8, 8)\""

# --- options ---------------------------------------------------------------------------------
check "a conditional run on the folder's classes" "run --steps 2 --cond concat --out '$T/cond' > /dev/null 2>&1"
check "... samples the class named blue" "'$GANC' sample '$T/cond' --class blue -n 2 -o '$T/blue.npy' 2>/dev/null && '$GANC' sample '$T/cond' --class 0 -n 2 -o '$T/zero.npy' 2>/dev/null && cmp -s '$T/blue.npy' '$T/zero.npy'"
check "... and the class named red is another" "'$GANC' sample '$T/cond' --class red -n 2 -o '$T/red.npy' 2>/dev/null && ! cmp -s '$T/blue.npy' '$T/red.npy'"
check "--channels 1 trains grey" "run --steps 1 --channels 1 --out '$T/grey' > /dev/null 2>&1"
"$GANC" info "$T/grey" > "$T/grey.info" 2>&1
check "... and the run is 1 x 8 x 8" "grep -q 'data shape *1 x 8 x 8' '$T/grey.info'"
check "--xflip doubles the epoch" "run --steps 1 --xflip on --out '$T/flip' > '$T/flip.out' 2>&1 && grep -q 'mirrored too' '$T/flip.out'"
check "--size HxW with pad" "run --steps 1 --size 6x10 --crop pad --background 0,128,255 --out '$T/pad' > /dev/null 2>&1"
"$GANC" info "$T/pad" > "$T/pad.info" 2>&1
check "... gives 3 x 6 x 10" "grep -q 'data shape *3 x 6 x 10' '$T/pad.info'"

# --- the cache follows the files --------------------------------------------------------------
ppm 12 10 5555 240 20 20 > "$F/red/r0.ppm"
touch -d '2001-01-01' "$F/red/r0.ppm"
run --steps 1 --out "$T/changed" > "$T/changed.out" 2>&1
check "a changed file rebuilds the cache" "grep -q 'decoded into the cache' '$T/changed.out'"

# --- a set too large for the memory allowed is decoded through a mapped scratch file --------------
GANC_CACHE_DIR=$T/cache-ram run --steps 1 --out "$T/ram" > /dev/null 2>&1
GANC_CACHE_DIR=$T/cache-mapped GANC_DECODE_RAM_MAX=1 run --steps 1 --out "$T/mapped" > "$T/mapped.out" 2>&1
check "decoding through a scratch file caches the same bytes as in memory" \
    "cmp -s \"\$(ls '$T'/cache-ram/*.gancset)\" \"\$(ls '$T'/cache-mapped/*.gancset)\""
check "... and leaves no scratch file behind" "[ \"\$(ls '$T/cache-mapped' | wc -l)\" = 1 ]"
check "... and trains the same first step" \
    "cmp -s '$T/ram/ckpt/step_000000001.safetensors' '$T/mapped/ckpt/step_000000001.safetensors'"

# --- a classifier and eval on the folder -------------------------------------------------------
check "classifier train on a folder" \
    "'$GANC' classifier train --data '$F' --size 8 --epochs 2 --batch 8 --out '$T/cls.safetensors' > '$T/cls.out' 2>&1"
check "... tests on a random tenth" "grep -q 'drawn at random' '$T/cls.out'"
check "eval of a folder run" "'$GANC' eval '$T/straight' --classifier '$T/cls.safetensors' --n 20 --json > '$T/eval.json' 2> '$T/eval.err'"
check "... prints its FID" "grep -q '\"fid\"' '$T/eval.json'"

# --- bad input: one clear line, non-zero exit -----------------------------------------------------
fails() { # fails NAME PATTERN ARGS...: the command exits non-zero with one line matching PATTERN
    name=$1; pattern=$2; shift 2
    if "$GANC" "$@" > "$T/bad.out" 2>&1; then bad "$name: exited 0"; return; fi
    if grep -q -- "$pattern" "$T/bad.out"; then ok; else bad "$name: got: $(cat "$T/bad.out")"; fi
}
fails "--strict stops at the broken picture" "broken.png" train --data "$F" --model "$T/tiny.gan" --size 8 --strict on --steps 1 --out "$T/strict"
ppm 9 9 7 40 200 40 > "$F/blue/odd.ppm"
fails "pictures of two sizes ask for --size" "--size" train --data "$F" --model "$T/tiny.gan" --size 0 --steps 1 --out "$T/mixed"
mkdir -p "$T/empty" "$T/texts"
echo hello > "$T/texts/a.txt"
fails "an empty folder" "empty" train --data "$T/empty" --model "$T/tiny.gan" --steps 1 --out "$T/e1"
fails "a folder of no pictures" "no pictures" train --data "$T/texts" --model "$T/tiny.gan" --steps 1 --out "$T/e2"
fails "a bad --size" "--size needs" train --data "$F" --model "$T/tiny.gan" --size 0x5 --steps 1 --out "$T/e3"
fails "a bad --background" "--background needs" train --data "$F" --model "$T/tiny.gan" --size 8 --background 1,2 --steps 1 --out "$T/e4"
fails "--size on 2-D points" "2-D points" train --data ring --model toy2d --size 8 --steps 1 --out "$T/e5"

# --- any image source is fitted: IDX digits to another size -----------------------------------
check "an IDX set at --size 8" "'$GANC' train --data '$T/images-idx3-ubyte' --model '$T/tiny.gan' --size 8 --steps 1 --out '$T/idx8' > /dev/null 2>&1"
"$GANC" info "$T/idx8" > "$T/idx8.info" 2>&1
check "... is 1 x 8 x 8" "grep -q 'data shape *1 x 8 x 8' '$T/idx8.info'"

# --- an NPY array through the same interface: (N, H, W, C) uint8 with labels beside it ----------
npy_u8() { # npy_u8 DESCR SHAPE BYTES SEED: a v1.0 NPY file of BYTES pseudo-random bytes (or labels 0/1)
    LC_ALL=C awk -v descr="$1" -v shape="$2" -v n="$3" -v seed="$4" 'BEGIN {
        srand(seed); h = sprintf("{\047descr\047: \047%s\047, \047fortran_order\047: False, \047shape\047: %s, }", descr, shape)
        printf "%cNUMPY%c%c%c%c%-117s\n", 147, 1, 0, 118, 0, h
        for (i = 0; i < n; i++) printf "%c", descr == "|u1" && shape ~ /,\)$/ ? i % 2 : int(rand() * 256)
    }'
}
npy_u8 '|u1' '(16, 8, 8, 3)' $((16 * 8 * 8 * 3)) 5 > "$T/set.npy"
npy_u8 '|u1' '(16,)' 16 5 > "$T/set_labels.npy"
check "an NPY array trains" "'$GANC' train --data '$T/set.npy' --model '$T/tiny.gan' --steps 1 --batch 8 --out '$T/npy' > '$T/npy.out' 2>&1"
"$GANC" info "$T/npy" > "$T/npy.info" 2>&1
check "... as 3 x 8 x 8 with its 2 label classes" "grep -q 'data shape *3 x 8 x 8' '$T/npy.info' && grep -q '^classes *2: 0, 1' '$T/npy.info'"

echo "test_data_folder: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
