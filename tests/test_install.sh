#!/bin/sh
# ganc as a library, installed: `make install PREFIX=<an empty directory>` puts exactly the
# promised files there; the examples/ programs build from that prefix's pkg-config file alone,
# against the shared library and against the static one, and draw the PNGs that the installed
# `ganc sample` draws from the same run and seed, byte for byte (an exported generator and the
# checkpoint; a conditional run by class; several threads with a handle each); `make uninstall`
# leaves the prefix empty, and a staged install (DESTDIR) and a second install undo as cleanly.
# Runs make with the calling make's variables (MAKEFLAGS), so it installs the build under test.
# Usage: tests/test_install.sh   (needs pkg-config and a C compiler)
. "$(dirname "$0")/cli_fixture.sh"
MAKE=${MAKE:-make}
if ! command -v pkg-config >/dev/null; then echo "install: pkg-config is not installed (apt-get install pkg-config)"; exit 1; fi
CC=${CC:-cc}
P=$T/prefix
mkdir -p "$P"
version=$(sed -n 's/^#define GANC_VERSION_STRING "\(.*\)"$/\1/p' include/ganc.h)
major=$(sed -n 's/^#define GANC_VERSION_MAJOR \([0-9]*\)$/\1/p' include/ganc.h)
minor=$(sed -n 's/^#define GANC_VERSION_MINOR \([0-9]*\)$/\1/p' include/ganc.h)
if [ "$major" = 0 ]; then soname=libganc.so.0.$minor; else soname=libganc.so.$major; fi

check "make install PREFIX=$P" "$MAKE -s install PREFIX=$P > $T/install.log 2>&1 || { cat $T/install.log >&2; false; }"
# everything under the prefix, files and links (directories apart)
listing() { (cd "$1" && find . ! -type d | sed 's|^\./||' | sort); }
{
    echo bin/ganc
    echo include/ganc.h
    echo lib/libganc.a
    echo lib/libganc.so
    echo "lib/$soname"
    echo "lib/libganc.so.$version"
    echo lib/pkgconfig/ganc.pc
    echo share/ganc/installed-dirs
    for m in models/*.gan; do echo "share/ganc/$m"; done
    echo share/man/man1/ganc.1
} | sort > "$T/want.txt"
listing "$P" > "$T/got.txt"
check "exactly the promised files are installed ($(diff "$T/want.txt" "$T/got.txt" | grep '^[<>]' | tr '\n' ' '))" \
    "cmp -s $T/want.txt $T/got.txt"
check "libganc.so -> $soname -> libganc.so.$version, whose SONAME is $soname" \
    "[ \"\$(readlink $P/lib/libganc.so)\" = $soname ] && [ \"\$(readlink $P/lib/$soname)\" = libganc.so.$version ] && readelf -d $P/lib/libganc.so.$version | grep -q 'soname: \[$soname\]'"
check "the public header only, as in the tree" "cmp -s include/ganc.h $P/include/ganc.h && [ \$(ls $P/include | wc -l) -eq 1 ]"
check "the installed ganc runs and says its version" "$P/bin/ganc --version | grep -q '^ganc $version '"
check "the man page is installed" "grep -q '^\.SS \"ganc export\"' $P/share/man/man1/ganc.1"

# pkg-config from the prefix's file alone (the system's own modules stay visible: the private
# requirements, OpenBLAS and the like, are theirs)
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
check "pkg-config finds ganc $version" "[ \"\$(pkg-config --modversion ganc)\" = $version ]"
check "... with the prefix's include and lib directories" \
    "pkg-config --cflags ganc | grep -q -- '-I$P/include' && pkg-config --libs ganc | grep -q -- '-L$P/lib -lganc'"
# a static link needs every library the shared one names (readelf's NEEDED), each as -lNAME or
# as the module that brings it (OpenMP as -fopenmp)
for lib in $(readelf -d "$P/lib/libganc.so.$version" | sed -n 's/.*NEEDED.*\[lib\([a-z0-9_]*\)\.so.*\]/\1/p'); do
    case $lib in c | linux-x86-64 | pthread | dl | rt) continue ;; esac
    if [ "$lib" = asan ] || [ "$lib" = ubsan ]; then # a sanitizer build: every link needs its runtime
        check "lib$lib: pkg-config --libs ganc says -fsanitize" "pkg-config --libs ganc | grep -q -- -fsanitize="
        continue
    fi
    case $lib in openblas) m=openblas ;; z) m=zlib ;; stb) m=stb ;; gif) m=libgif ;; *) m=none ;; esac
    flag=-l$lib; [ "$lib" = gomp ] && flag=-fopenmp
    check "pkg-config --static --libs ganc brings lib$lib ($flag or module $m)" \
        "pkg-config --static --libs ganc | tr ' ' '\n' | grep -qx -- '$flag' || pkg-config --print-requires-private ganc | grep -qx '$m'"
done
check "... and a shared link needs none of them" "[ \"\$(pkg-config --libs ganc | tr ' ' '\n' | grep -c '^-l')\" -eq 1 ]"

# README shows examples/generate.c whole (after its comment): the two must not drift apart
awk '/\[examples\/generate.c\]\(examples\/generate.c\):$/ { on = 1; next } on && /^```c$/ { inb = 1; next } inb && /^```$/ { exit } inb' \
    README.md > "$T/readme_example.c"
check "README's library section shows examples/generate.c as it is" \
    "sed -n '/^#include <ganc.h>/,\$p' examples/generate.c | cmp -s - $T/readme_example.c"

# the examples, against the shared library (its NEEDED entry: the SONAME) and the static one
# (-l:libganc.a: the archive though the .so sits beside it)
CFLAGS_EX="-std=c11 -Wall -Wextra -Werror -O2"
static_libs=$(pkg-config --static --libs ganc | sed 's/-lganc\b/-l:libganc.a/')
for ex in generate generate_threads; do
    check "examples/$ex.c builds with the shared library" \
        "$CC $CFLAGS_EX -pthread examples/$ex.c \$(pkg-config --cflags --libs ganc) -o $T/${ex}_shared 2>$T/cc.err || { cat $T/cc.err >&2; false; }"
    check "examples/$ex.c builds with the static library" \
        "$CC $CFLAGS_EX -pthread examples/$ex.c \$(pkg-config --cflags ganc) $static_libs -o $T/${ex}_static 2>$T/cc.err || { cat $T/cc.err >&2; false; }"
done
check "the shared build needs $soname, the static one no libganc" \
    "readelf -d $T/generate_shared | grep -q 'NEEDED.*\[$soname\]' && ! readelf -d $T/generate_static | grep -q 'NEEDED.*libganc'"
check "... and runs with the prefix's library" "LD_LIBRARY_PATH=$P/lib ldd $T/generate_shared | grep -q '$soname => $P/lib/$soname'"

# a tiny run (the fixture's model: batch norm, dropout, EMA), exported, and conditional one
G="$P/bin/ganc"
check "a tiny run trains" "$G train --model $T/tiny.gan --data $T/images-idx3-ubyte --steps 4 --seed 7 --out $T/run 2>$T/train.err"
check "ganc export writes its generator" "$G export $T/run -o $T/gen.safetensors 2>$T/export.err && grep -q 'moving-average' $T/export.err"
ckpt=$(ls "$T"/run/ckpt/step_*.safetensors | tail -n 1)
check "the export is a fraction of the checkpoint" "[ \$(wc -c < $T/gen.safetensors) -lt \$(( \$(wc -c < $ckpt) / 3 )) ]"
export LD_LIBRARY_PATH="$P/lib"
for kind in shared static; do
    for src in gen.safetensors checkpoint; do
        file=$T/$src; [ "$src" = checkpoint ] && file=$ckpt
        for seed_n in "5 16" "123 7"; do
            set -- $seed_n
            rm -f "$T/want.png" "$T/got.png"
            check "$kind library, $src, seed $1, $2 samples: the PNG of ganc sample, byte for byte" \
                "$G sample $T/run --seed $1 -n $2 -o $T/want.png 2>/dev/null && $T/generate_$kind $file $T/got.png $1 $2 && cmp -s $T/want.png $T/got.png"
        done
    done
    rm -f "$T/want.png" "$T/got.png"
    check "$kind library: the run's own seed by default" \
        "$G sample $T/run -n 16 -o $T/want.png 2>/dev/null && $T/generate_$kind $T/gen.safetensors $T/got.png && cmp -s $T/want.png $T/got.png"
done
# ganc export's and the run commands' refusals: one line each
expect_error "export -o not .safetensors" "the file name must end in .safetensors" "$G" export "$T/run" -o "$T/gen.png"
expect_error "export over its own checkpoint" "is the checkpoint itself" "$G" export "$ckpt" -o "$ckpt"
check "... which is left as it was" "$G info $ckpt >/dev/null"
expect_error "export of no run" "no checkpoints" "$G" export "$T" -o "$T/x.safetensors"
expect_error "sample on an export names it" "a generator exported by ganc export, not a training checkpoint" \
    "$G" sample "$T/gen.safetensors" -n 4 -o "$T/x.png"
expect_error "info on an export names it" "a generator exported by ganc export" "$G" info "$T/gen.safetensors"
expect_error "an IDX file is no generator: the example says so" "$T/images-idx3-ubyte" "$T/generate_shared" "$T/images-idx3-ubyte" "$T/x.png"

quadrants images 256 9 > "$T/q-images-idx3-ubyte"
quadrants labels 256 9 > "$T/q-labels-idx1-ubyte"
check "a conditional run trains and exports" \
    "$G train --model $T/tiny.gan --data $T/q-images-idx3-ubyte --cond concat --steps 4 --seed 3 --out $T/crun 2>/dev/null && $G export $T/crun -o $T/cgen.safetensors 2>/dev/null"
for class in "" 2; do
    rm -f "$T/want.png" "$T/got.png"
    check "conditional, ${class:+class $class}${class:-classes drawn}: the PNG of ganc sample" \
        "$G sample $T/crun --seed 4 -n 12 ${class:+--class $class} -o $T/want.png 2>/dev/null && $T/generate_static $T/cgen.safetensors $T/got.png 4 12 $class && cmp -s $T/want.png $T/got.png"
done

# three threads, a handle each, seeds 0..5: each PNG as ganc sample's on one thread
for kind in shared static; do
    rm -f "$T"/th-*.png
    check "$kind library: 3 threads draw seeds 0..5" "$T/generate_threads_$kind $T/gen.safetensors $T/th 3 6 9"
    for s in 0 1 2 3 4 5; do
        rm -f "$T/want.png"
        check "$kind library, thread of seed $s: the PNG of ganc sample" \
            "$G sample $T/run --seed $s -n 9 --threads 1 -o $T/want.png 2>/dev/null && cmp -s $T/want.png $T/th-$s.png"
    done
done
unset LD_LIBRARY_PATH PKG_CONFIG_PATH

# uninstall: nothing left; what was there before stays
check "make uninstall PREFIX=$P" "$MAKE -s uninstall PREFIX=$P > $T/uninstall.log 2>&1"
check "the prefix is empty again ($(cd "$P" && find . -mindepth 1 | head -n 5 | tr '\n' ' '))" "[ -d $P ] && [ -z \"\$(ls -A $P)\" ]"
mkdir -p "$P/lib" && echo mine > "$P/lib/other.so"
check "install twice over a directory in use, uninstall once" \
    "$MAKE -s install PREFIX=$P >/dev/null 2>&1 && $MAKE -s install PREFIX=$P >/dev/null 2>&1 && $MAKE -s uninstall PREFIX=$P >/dev/null 2>&1"
check "... leaves only what was there" "[ \"\$(cd $P && find . -mindepth 1 | sort | tr '\n' ' ')\" = './lib ./lib/other.so ' ]"
rm -rf "$P" && mkdir -p "$T/stage"
check "a staged install (DESTDIR) writes under it only, with the final paths in ganc.pc" \
    "$MAKE -s install DESTDIR=$T/stage PREFIX=/opt/ganc >/dev/null 2>&1 && [ -x $T/stage/opt/ganc/bin/ganc ] && grep -qx 'libdir=/opt/ganc/lib' $T/stage/opt/ganc/lib/pkgconfig/ganc.pc && [ ! -e /opt/ganc/bin/ganc ]"
check "... and its uninstall empties it" \
    "$MAKE -s uninstall DESTDIR=$T/stage PREFIX=/opt/ganc >/dev/null 2>&1 && [ -z \"\$(ls -A $T/stage)\" ]"
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
