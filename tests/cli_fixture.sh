# Shared by the shell tests (sourced): the ganc binary, a private temporary directory, the
# check counters, a small fixed IDX data set and a tiny model with batch norm and dropout.
GANC=${GANC:-build/ganc}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
PY=/usr/bin/python3
# Bad input: the command exits non-zero with exactly one line on stderr holding the expected
# text (fixed string), and leaves no run directory $T/bad behind.
expect_error() { # name, expected text, command...
    name=$1; want=$2; shift 2
    rm -rf "$T/bad"
    if "$@" > "$T/out.txt" 2> "$T/err.txt"; then bad "$name: exit status 0"; return; fi
    if [ "$(wc -l < "$T/err.txt")" -ne 1 ]; then bad "$name: expected one line, got: $(cat "$T/err.txt")"; return; fi
    if ! grep -qF -- "$want" "$T/err.txt"; then bad "$name: message lacks '$want': $(cat "$T/err.txt")"; return; fi
    if [ -e "$T/bad" ]; then bad "$name: left a run directory behind"; return; fi
    ok
}
have_numpy() { [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; }

# --- a small data set: 256 random 28x28 images in IDX (raw), labels beside it ---------------
idx_header() { printf '\000\000\010\003\000\000\001\000\000\000\000\034\000\000\000\034'; }
# Pseudo-random but fixed pixels, so that every run of this test trains on the same data.
noise_bytes() { LC_ALL=C awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }'; }
{ idx_header; noise_bytes $((256 * 784)) 1; } > "$T/images-idx3-ubyte"
{ printf '\000\000\010\001\000\000\001\000'; head -c 256 /dev/zero; } > "$T/labels-idx1-ubyte"

# --- a tiny model with batch norm and dropout, so resume must restore their state too -------
cat > "$T/tiny.gan" <<'M'
[generator]
dense 32 bias=0
batchnorm
elu
dense $pixels
sigmoid
reshape $c $h $w
[discriminator]
conv 4 k=5 stride=2 pad=same bias=0
batchnorm
lrelu slope=0.2
dropout p=0.2
flatten
dense 1
[train]
z_dim = 8
batch = 16
lr_g = 1e-3
lr_d = 1e-3
ema = 0.9
M

# --- a learnable labelled set: 28x28 black-and-white images whose class is the quadrant that
# is mostly white (4 classes) ---------------------------------------------------------------
# quadrants MODE N SEED: MODE images (IDX), labels (IDX) or npy; the same seed, the same images.
quadrants() {
    LC_ALL=C awk -v mode="$1" -v n="$2" -v seed="$3" '
    function be32(x) { printf "%c%c%c%c", int(x / 16777216) % 256, int(x / 65536) % 256, int(x / 256) % 256, x % 256 }
    BEGIN {
        srand(seed)
        if (mode == "images") { printf "%c%c%c%c", 0, 0, 8, 3; be32(n); be32(28); be32(28) }
        if (mode == "labels") { printf "%c%c%c%c", 0, 0, 8, 1; be32(n) }
        if (mode == "npy") {
            h = sprintf("{\047descr\047: \047<f4\047, \047fortran_order\047: False, \047shape\047: (%d, 1, 28, 28), }", n)
            printf "%cNUMPY%c%c%c%c%-117s\n", 147, 1, 0, 118, 0, h
        }
        for (i = 0; i < n; i++) {
            q = int(rand() * 4)
            if (mode == "labels") printf "%c", q
            for (y = 0; y < 28; y++) for (x = 0; x < 28; x++) {
                inq = ((y < 14) == (q < 2)) && ((x < 14) == (q % 2 == 0))
                on = rand() < (inq ? 0.8 : 0.1) # drawn in every mode: the same sequence
                if (mode == "labels") continue
                if (mode == "images") printf "%c", on ? 255 : 0
                else if (on) printf "%c%c%c%c", 0, 0, 128, 63
                else printf "%c%c%c%c", 0, 0, 0, 0
            }
        }
    }'
}
# quadrant_set DIR: 600 training and 200 test quadrant images with their labels, as IDX files
# named as Fashion-MNIST's are (so the test split is found beside the training file).
quadrant_set() {
    mkdir -p "$1"
    quadrants images 600 1 > "$1/train-images-idx3-ubyte"
    quadrants labels 600 1 > "$1/train-labels-idx1-ubyte"
    quadrants images 200 2 > "$1/t10k-images-idx3-ubyte"
    quadrants labels 200 2 > "$1/t10k-labels-idx1-ubyte"
}
