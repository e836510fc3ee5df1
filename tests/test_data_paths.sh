#!/bin/sh
# The data sets shipped in the repository are found from a fresh clone: `--data mnist-10k` from
# the repository root, from any other directory (the build compiles in where data/ is), and from
# $GANC_DATA_DIR when that is set; a missing set gives one clear line.
# Usage: GANC=path/to/ganc tests/test_data_paths.sh
. "$(dirname "$0")/cli_fixture.sh"
GANC_ABS=$(cd "$(dirname "$GANC")" && pwd)/$(basename "$GANC")
REPO=$(pwd)
RUN="--model mlp --steps 1 --batch 8 --sample-every 0 --log-every 1 --ckpt-every 1 --threads 1"
# A build without zlib cannot read the .gz files: there the path must still be resolved and named.
if $GANC_ABS train --help 2>&1 | grep -q . && ! (cd "$T" && $GANC_ABS train $RUN --data mnist-10k --out "$T/probe" >"$T/probe.out" 2>&1) &&
    grep -q "without zlib" "$T/probe.out"; then
    NOZLIB=1
else
    NOZLIB=0
fi
# trained, or (without zlib) refused naming the file it resolved to
ran() { [ "$NOZLIB" = 1 ] && grep -q "$2" "$1" || grep -q "$3" "$1"; }

check "the shipped digits match their SHA-256 sums" "(cd data/mnist-10k && sha256sum -c --quiet SHA256SUMS)"
check "--data mnist-10k from the repository root" \
    "$GANC_ABS train $RUN --data mnist-10k --out $T/root >$T/root.out 2>&1; grep -q '$REPO/data/mnist-10k/images-idx3-ubyte.gz' $T/root.out"
check "--data mnist-10k from another directory" \
    "(cd $T && $GANC_ABS train $RUN --data mnist-10k --out $T/elsewhere >$T/else.out 2>&1); ran $T/else.out '$REPO/data/mnist-10k' '10000 images'"

# GANC_DATA_DIR comes first: a folder whose mnist-10k/ holds the fixture's 256 noise images.
mkdir -p "$T/alt/mnist-10k" && gzip -c "$T/images-idx3-ubyte" > "$T/alt/mnist-10k/images-idx3-ubyte.gz"
check "GANC_DATA_DIR is looked in first" \
    "(cd $T && GANC_DATA_DIR=$T/alt $GANC_ABS train $RUN --data mnist-10k --out $T/alt-run >$T/alt.out 2>&1); ran $T/alt.out '$T/alt/mnist-10k' '256 images'"
# Without zlib the .gz cannot be read: the error must still name the file, whatever the build.
check "stacked-mnist resolves to the shipped digits" \
    "$GANC_ABS train $RUN --model dcgan28 --data stacked-mnist --out $T/stacked >$T/st.out 2>&1 || grep -q 'mnist-10k/images-idx3-ubyte.gz' $T/st.out"

echo "data_paths: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
