#!/bin/sh
# bench/run.sh (make bench): training speed of ganc against PyTorch on the same networks.
#
# For each model and batch size: `ganc bench` and bench/torch_gan.py (same G and D, same
# iteration: one D step + one G step, median of ITERS timed iterations after 3 warm-up ones,
# THREADS threads each). Prints one table; the last line is ratio_min=X.XX, the smallest
# ganc it/s / PyTorch it/s over the rows.
#
# Environment: ITERS (20), THREADS (2), MODELS ("dcgan28 mlp"), BATCHES ("64 256"),
# PYTHON (/usr/bin/python3: Debian's, which has torch), GANC (build/ganc).
set -u
cd "$(dirname "$0")/.." || exit 1

ITERS=${ITERS:-20}
THREADS=${THREADS:-2}
MODELS=${MODELS:-dcgan28 mlp}
BATCHES=${BATCHES:-64 256}
PYTHON=${PYTHON:-/usr/bin/python3}
GANC=${GANC:-build/ganc}
# One threading layer in PyTorch (its OpenMP pool); ganc keeps OpenBLAS single-threaded itself.
OPENBLAS_NUM_THREADS=1
export OPENBLAS_NUM_THREADS

make -s || { echo "bench: build failed" >&2; exit 1; }
[ -x "$GANC" ] || { echo "bench: $GANC missing" >&2; exit 1; }

if "$PYTHON" -c "import torch" >/dev/null 2>&1; then
    have_torch=1
    torch_version=$("$PYTHON" -c "import torch; print(torch.__version__)" 2>/dev/null)
else
    have_torch=0
    torch_version="not installed"
fi

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "protocol: threads $THREADS, median of $ITERS iterations after 3 warm-up (1 D step + 1 G step each)," \
     "OPENBLAS_NUM_THREADS=1, torch $torch_version"
echo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ganc-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

rows=""      # "model batch ganc_it torch_it gflops pct ganc_rss torch_rss" per line
failed=0
for m in $MODELS; do
    for b in $BATCHES; do
        g_it=- g_gf=- g_pct=- g_rss=- t_it=- t_rss=-
        if "$GANC" bench --model "$m" --batch "$b" --threads "$THREADS" --iters "$ITERS" >"$tmp/ganc" 2>&1; then
            # iter/s X  images/s Y  ms/iter Z (min W)  MFLOP/image F  GFLOP/s G  sgemm peak P GFLOP/s (Q%)  peak RSS R MB
            # shellcheck disable=SC2046 # word splitting wanted
            set -- $(awk '/^iter\/s / {
                it = gf = pct = rss = "-"
                for (i = 1; i <= NF; i++) {
                    if ($i == "iter/s") it = $(i + 1)
                    if ($i == "GFLOP/s" && gf == "-") gf = $(i + 1)
                    if ($i ~ /^\([0-9.]+%\)$/) { pct = $i; gsub(/[()%]/, "", pct) }
                    if ($i == "peak" && $(i + 1) == "RSS") rss = $(i + 2)
                }
                print it, gf, pct, rss; exit
            }' "$tmp/ganc")
            [ $# -eq 4 ] && { g_it=$1 g_gf=$2 g_pct=$3 g_rss=$4; }
        fi
        if [ "$g_it" = - ]; then
            failed=1
            echo "bench: ganc bench --model $m --batch $b failed:" >&2
            cat "$tmp/ganc" >&2
        fi
        if [ $have_torch = 1 ]; then
            if "$PYTHON" bench/torch_gan.py --model "$m" --batch "$b" --threads "$THREADS" --iters "$ITERS" \
                >"$tmp/torch" 2>&1; then
                # shellcheck disable=SC2046 # word splitting wanted
                set -- $(awk '/^torch / {
                    it = rss = "-"
                    for (i = 2; i <= NF; i++) {
                        split($i, kv, "=")
                        if (kv[1] == "it_s") it = kv[2]
                        if (kv[1] == "rss_mb") rss = kv[2]
                    }
                    print it, rss
                }' "$tmp/torch" | tail -n 1)
                [ $# -eq 2 ] && { t_it=$1 t_rss=$2; }
            fi
            if [ "$t_it" = - ]; then
                failed=1
                echo "bench: torch_gan.py --model $m --batch $b failed:" >&2
                cat "$tmp/torch" >&2
            fi
        fi
        rows="$rows$m $b $g_it $t_it $g_gf $g_pct $g_rss $t_rss
"
    done
done

printf '%s' "$rows" | awk -v have_torch=$have_torch '
    function cell(v, fmt) { return v == "-" ? "-" : sprintf(fmt, v) }
    BEGIN {
        fmt = "| %-8s | %5s | %9s | %10s | %6s | %12s | %6s | %11s | %12s |\n"
        printf fmt, "model", "batch", "ganc it/s", "torch it/s", "ratio", "ganc GFLOP/s", "% peak", "ganc RSS MB", "torch RSS MB"
        printf "|----------|-------|-----------|------------|--------|--------------|--------|-------------|--------------|\n"
        min = ""; missing = 0
    }
    NF == 8 {
        ratio = "-"
        if ($3 != "-" && $4 != "-" && $4 + 0 > 0) {
            r = $3 / $4
            ratio = sprintf("%.2f", r)
            if (min == "" || r < min) min = r
        } else missing = 1
        printf fmt, $1, $2, cell($3, "%.2f"), cell($4, "%.2f"), ratio, cell($5, "%.1f"), cell($6, "%.0f"),
            cell($7, "%.0f"), cell($8, "%.0f")
    }
    END {
        print ""
        if (!have_torch) print "ratio_min=n/a (python3-torch not installed)"
        else if (missing || min == "") print "ratio_min=n/a (a run failed)"
        else printf "ratio_min=%.2f\n", min
    }'
exit $failed
