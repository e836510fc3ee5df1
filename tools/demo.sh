#!/bin/sh
# make demo: install what is missing (as root through apt, otherwise print the command),
# build, and train the dcgan28 preset on Fashion-MNIST for a few minutes.
set -e
need=""
for pkg in build-essential libopenblas-dev zlib1g-dev libstb-dev libgif-dev dataset-fashion-mnist; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "demo: installing$need"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "demo: missing packages; run:  sudo apt-get install -y$need"
        exit 1
    fi
fi
make -s
STEPS=${STEPS:-3000}
OUT=${OUT:-runs/demo}
rm -rf "$OUT"
build/ganc train --out "$OUT" --steps "$STEPS" --sample-every 250
echo "demo: samples in $OUT/samples/latest.png, curves in $OUT/loss.png"
echo "demo: more samples: build/ganc sample $OUT -n 64 -o grid.png"
