#!/bin/sh
# make install and make uninstall. Install copies the files below under DESTDIR (staged installs:
# the paths inside ganc.pc and the binaries leave it out) and records the directories it had to
# create in DATADIR/ganc/installed-dirs; uninstall removes exactly those files, then those
# directories where they are empty, so a prefix that was empty is empty again and a directory
# that held other files before keeps them.
# Usage: mk/install.sh install|uninstall, with the Makefile's variables in the environment:
#   DESTDIR PREFIX BINDIR LIBDIR INCLUDEDIR DATADIR MANDIR PKGCONFIGDIR (where)
#   GANC LIBA SHLIB SONAME MAN PC PRESETS HEADER (what)
set -eu
D=${DESTDIR:-}
SHARE=$DATADIR/ganc
MANIFEST=$SHARE/installed-dirs
shlib=$(basename "$SHLIB")
# destination paths (without DESTDIR), one a line
files() {
    echo "$BINDIR/ganc"
    echo "$LIBDIR/libganc.a"
    echo "$LIBDIR/$shlib"
    echo "$LIBDIR/$SONAME"
    echo "$LIBDIR/libganc.so"
    echo "$INCLUDEDIR/ganc.h"
    echo "$PKGCONFIGDIR/ganc.pc"
    echo "$MANDIR/man1/ganc.1"
    for p in $PRESETS; do echo "$SHARE/models/$(basename "$p")"; done
    echo "$MANIFEST"
}

created= # directories made by this install, outermost first
make_dir() {
    d=$1 missing=
    while [ ! -d "$D$d" ]; do
        missing="$d${missing:+
$missing}"
        d=$(dirname "$d")
    done
    mkdir -p "$D$1"
    [ -n "$missing" ] && created="$created${created:+
}$missing"
    return 0
}

case $1 in
install)
    for d in "$BINDIR" "$LIBDIR" "$INCLUDEDIR" "$PKGCONFIGDIR" "$MANDIR/man1" "$SHARE/models"; do make_dir "$d"; done
    cp "$GANC" "$D$BINDIR/ganc" && chmod 755 "$D$BINDIR/ganc"
    cp "$LIBA" "$D$LIBDIR/libganc.a" && chmod 644 "$D$LIBDIR/libganc.a"
    cp "$SHLIB" "$D$LIBDIR/$shlib" && chmod 755 "$D$LIBDIR/$shlib"
    ln -sf "$shlib" "$D$LIBDIR/$SONAME"
    ln -sf "$SONAME" "$D$LIBDIR/libganc.so"
    cp "$HEADER" "$D$INCLUDEDIR/ganc.h" && chmod 644 "$D$INCLUDEDIR/ganc.h"
    cp "$PC" "$D$PKGCONFIGDIR/ganc.pc" && chmod 644 "$D$PKGCONFIGDIR/ganc.pc"
    cp "$MAN" "$D$MANDIR/man1/ganc.1" && chmod 644 "$D$MANDIR/man1/ganc.1"
    for p in $PRESETS; do cp "$p" "$D$SHARE/models/" && chmod 644 "$D$SHARE/models/$(basename "$p")"; done
    # a second install keeps what the first created
    { [ -f "$D$MANIFEST" ] && cat "$D$MANIFEST"; [ -n "$created" ] && printf '%s\n' "$created"; } > "$D$MANIFEST.tmp" || true
    mv "$D$MANIFEST.tmp" "$D$MANIFEST"
    echo "installed ganc in $D$PREFIX"
    ;;
uninstall)
    dirs=
    [ -f "$D$MANIFEST" ] && dirs=$(cat "$D$MANIFEST")
    files | while IFS= read -r f; do rm -f "$D$f"; done
    # innermost first: each directory once its contents are gone
    printf '%s\n' "$dirs" | awk 'NF { a[n++] = $0 } END { while (n--) print a[n] }' |
        while IFS= read -r d; do rmdir "$D$d" 2>/dev/null || true; done
    echo "uninstalled ganc from $D$PREFIX"
    ;;
*)
    echo "usage: $0 install|uninstall" >&2
    exit 2
    ;;
esac
