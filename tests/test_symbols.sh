#!/bin/sh
# The shared library exports its public API and nothing else: the functions include/ganc.h
# declares with GANC_API, all of them, each defined; no internal function (the GEMM kernels,
# im2col, the checkpoint reader: present in libganc.a, hidden in the .so), so a program cannot
# link to one; and it carries the SONAME of the version in ganc.h.
# Usage: SHLIB=build/libganc.so.X.Y.Z tests/test_symbols.sh
. "$(dirname "$0")/cli_fixture.sh"
SHLIB=${SHLIB:-build/libganc.so.$(sed -n 's/^#define GANC_VERSION_STRING "\(.*\)"$/\1/p' include/ganc.h)}
LIBA=$(dirname "$SHLIB")/libganc.a
if ! command -v nm >/dev/null || ! command -v readelf >/dev/null; then echo "symbols: nm and readelf (binutils) are needed"; exit 1; fi

# every symbol the library defines in its dynamic table, and the header's GANC_API functions
nm -D --defined-only "$SHLIB" | awk '{ print $NF }' | sort > "$T/exported"
sed -n 's/^GANC_API [^(]*[ *]\(ganc_[a-z0-9_]*\)(.*/\1/p' include/ganc.h | sort > "$T/declared"
check "the header declares the API (over 60 functions)" "[ \$(wc -l < $T/declared) -gt 60 ]"
# a prototype in ganc.h without GANC_API would be public in the header but hidden in the library
grep -E '^[a-z].*[ *]ganc_[a-z0-9_]*\(' include/ganc.h | grep -vE '^(GANC_API|static|typedef)' > "$T/unmarked" || true
check "every function ganc.h declares is marked GANC_API (not: $(head -n 3 "$T/unmarked" | tr '\n' ' '))" "[ ! -s $T/unmarked ]"
check "every exported symbol is a GANC_API function of ganc.h (extra: $(comm -23 "$T/exported" "$T/declared" | head -n 5 | tr '\n' ' '))" \
    "[ -z \"\$(comm -23 $T/exported $T/declared)\" ]"
check "every GANC_API function of ganc.h is exported (missing: $(comm -13 "$T/exported" "$T/declared" | head -n 5 | tr '\n' ' '))" \
    "[ -z \"\$(comm -13 $T/exported $T/declared)\" ]"
check "every exported symbol starts with ganc_" "! grep -qv '^ganc_' $T/exported"
for f in ganc_im2col ganc_sgemm_serial ganc_checkpoint_load ganc_game_draw ganc_latent_draw; do
    check "$f: in libganc.a, not exported by the shared library" \
        "nm $LIBA 2>/dev/null | grep -q ' T $f\$' && ! grep -qx $f $T/exported"
done
# the AVX2 kernels, where this build has them
if nm "$LIBA" 2>/dev/null | grep -q ' T ganc_sgemm_avx2$'; then
    check "ganc_sgemm_avx2: in libganc.a, not exported" "! grep -qx ganc_sgemm_avx2 $T/exported"
fi

# a program that calls an internal function links with the static library, not the shared one
cat > "$T/internal.c" <<'C'
#include <ganc.h>
void ganc_game_free(void *game);
int main(void) { ganc_game_free(0); return ganc_version() > 0 ? 0 : 1; }
C
dir=$(dirname "$SHLIB")
# (a sanitizer build's library needs its runtime in the program too)
san=; readelf -d "$SHLIB" | grep -q 'NEEDED.*libasan' && san=-fsanitize=address,undefined
check "a program using only the API links with the shared library" \
    "printf '#include <ganc.h>\nint main(void) { return ganc_version() == GANC_VERSION_NUMBER ? 0 : 1; }\n' > $T/api.c && cc $san -Iinclude $T/api.c -L$dir -lganc -o $T/api 2>$T/cc.err && LD_LIBRARY_PATH=$dir $T/api"
check "a program calling an internal function does not link with the shared library" \
    "! cc $san -Iinclude $T/internal.c -L$dir -lganc -o $T/internal 2>$T/cc.err && grep -q 'undefined reference to .ganc_game_free' $T/cc.err"

major=$(sed -n 's/^#define GANC_VERSION_MAJOR \([0-9]*\)$/\1/p' include/ganc.h)
minor=$(sed -n 's/^#define GANC_VERSION_MINOR \([0-9]*\)$/\1/p' include/ganc.h)
if [ "$major" = 0 ]; then soname=libganc.so.0.$minor; else soname=libganc.so.$major; fi
check "SONAME $soname (readelf: $(readelf -d "$SHLIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'))" \
    "readelf -d $SHLIB | grep -q 'Library soname: \[$soname\]'"
check "the file's name carries the whole version" \
    "[ \"\$(basename $SHLIB)\" = libganc.so.$(sed -n 's/^#define GANC_VERSION_STRING "\(.*\)"$/\1/p' include/ganc.h) ]"
echo "symbols: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
