#!/bin/sh
# Writes ganc.pc to stdout: how to compile and link against the installed library. A shared link
# needs only -lganc (libganc.so names its own dependencies); a static one (pkg-config --static)
# also needs every library the build linked the objects with, which are exactly LDLIBS: each
# one that pkg-config knows as a module goes to Requires.private (so its own flags and
# dependencies come with it), the others to Libs.private, as the linker flag the build used.
# A sanitizer build (SAN=1) puts its -fsanitize flags in Libs: every program linking it needs
# the sanitizer runtime.
# Usage: mk/pc.sh VERSION PREFIX LIBDIR INCLUDEDIR "LDLIBS"
set -eu
version=$1 prefix=$2 libdir=$3 includedir=$4 ldlibs=$5
requires= libs= sanitize=
have_pkg_config() { command -v pkg-config >/dev/null 2>&1; }
for flag in $ldlibs; do
    case $flag in
    -lopenblas) module=openblas ;;
    -lz) module=zlib ;;
    -lstb) module=stb ;;
    -lgif) module=libgif ;;
    -l* | -fopenmp) module= ;;
    -fsanitize=*) # a sanitizer build: a program linking it needs the sanitizer's runtime, shared or static
        sanitize="$sanitize${sanitize:+ }$flag"
        continue ;;
    *) continue ;;
    esac
    if [ -n "$module" ] && have_pkg_config && pkg-config --exists "$module"; then
        requires="$requires${requires:+, }$module"
    else
        case " $libs " in *" $flag "*) ;; *) libs="$libs${libs:+ }$flag" ;; esac
    fi
done
cat <<PC
prefix=$prefix
libdir=$libdir
includedir=$includedir

Name: ganc
Description: Generative adversarial networks in C: train them, and draw from a trained generator
Version: $version
Requires.private: $requires
Libs: -L\${libdir} -lganc${sanitize:+ $sanitize}
Libs.private: $libs
Cflags: -I\${includedir}
PC
